"""Lesson 09's figures: per-layer gradient norms on a log scale and activation histograms by depth.

Both take ``ax=None`` (a new figure) and return what they drew, so the panel and tests use them headless.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from ..plots import axes_or_new
from .analysis import GradientReport

__all__ = ["grad_norm_profile", "activation_histograms", "select_layers"]


def grad_norm_profile(report: GradientReport, ax: Axes | None = None, *, which: str = "weights",
                      label: str | None = None, scale: float = 1.0, **plot_kwargs) -> list:
    """Plot ||dL/dW^[l]||_F (``which="weights"``, l = 1..L+1, the output layer last) or ||dL/da^[l]||
    (``"activations"``, l = 1..L) against l on a log axis; ``scale`` multiplies every value (a
    clipping factor). Zeros (underflow) are masked. Returns the Line2D list."""
    ax = axes_or_new(ax, (6, 3.5))
    values = {"weights": report.weight_grad_norms, "activations": report.activation_grad_norms}.get(which)
    if values is None:
        raise ValueError(f"which must be 'weights' or 'activations', got {which!r}")
    ys = np.asarray(values, dtype=float) * scale
    lines = ax.plot(np.arange(1, len(ys) + 1), ys, marker="o", ms=3, label=label, **plot_kwargs)
    ax.set_yscale("log", nonpositive="mask")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer l (input side → output side)" + (", L+1 = output layer" if which == "weights" else ""))
    ax.set_ylabel("‖dL/dW$^{[l]}$‖" if which == "weights" else "‖dL/da$^{[l]}$‖")
    return lines


def select_layers(depth: int, count: int = 5) -> list[int]:
    """``count`` layer numbers (1-based) spread evenly from 1 to ``depth``, both ends included."""
    return sorted({int(round(v)) for v in np.linspace(1, depth, min(count, depth))})


def activation_histograms(report: GradientReport, ax: Axes | None = None, *, layers: Sequence[int] | None = None,
                          bins: int = 50, value_range: tuple[float, float] | None = None) -> list:
    """Overlaid step histograms (densities) of a^[l] for some layers (1-based; default five spread
    through the depth), coloured from dark (first) to yellow (last).

    The x range is g's range (sigmoid (0, 1), tanh (-1, 1)) unless residual connections or ReLU make
    it open; then it runs from the 0.5th to the 99.5th percentile of the values shown. For a plain
    ReLU net only the positive values are drawn (the exact zeros, about half, would dwarf them);
    each legend entry says what fraction is zero. Returns the histogram patches.
    """
    ax = axes_or_new(ax, (6, 3.5))
    layers = list(layers) if layers is not None else select_layers(report.depth)
    bad = [l for l in layers if not 1 <= l <= report.depth]
    if bad:
        raise ValueError(f"layers {bad} do not exist; the network has layers 1..{report.depth}")
    cfg = report.config
    relu_only_positive = cfg.activation == "relu" and not cfg.residual
    samples = {l: report.activations[l - 1].reshape(-1).numpy() for l in layers}
    if value_range is None:
        if not cfg.residual and cfg.activation == "sigmoid":
            value_range = (0.0, 1.0)
        elif not cfg.residual and cfg.activation == "tanh":
            value_range = (-1.0, 1.0)
        else:
            values = np.concatenate(list(samples.values()))
            if relu_only_positive:
                values = values[values > 0]
            lo, hi = np.percentile(values, [0.5, 99.5]) if values.size else (0.0, 1.0)
            lo = 0.0 if relu_only_positive else float(lo)
            value_range = (lo, float(hi)) if hi > lo else (lo - 1.0, lo + 1.0)
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    drawn = []
    for i, l in enumerate(layers):
        a = samples[l]
        label = f"layer {l} (std {report.activation_std[l - 1]:.2g})"
        if relu_only_positive:
            label = f"layer {l} (std {report.activation_std[l - 1]:.2g}, {100 * np.mean(a == 0):.0f}% zero)"
            a = a[a > 0]
        colour = cmap(i / max(1, len(layers) - 1))
        _, _, patches = ax.hist(a, bins=bins, range=value_range, density=True, histtype="step", lw=1.4,
                                color=colour, label=label)
        drawn.extend(patches)
    ax.set_xlabel("activation value a$^{[l]}$" + (" (positive values)" if relu_only_positive else ""))
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    return drawn
