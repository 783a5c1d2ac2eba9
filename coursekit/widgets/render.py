"""Figures to PNG bytes for ``ipywidgets.Image``: the one way panels show plots."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["new_figure", "figure_png"]


def new_figure(figsize: tuple[float, float] = (8, 4), dpi: int = 80) -> Figure:
    """A figure that is not registered with pyplot (no global state, nothing shown twice)."""
    return Figure(figsize=figsize, dpi=dpi)


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig``; deterministic for the same drawing (no timestamp metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()
