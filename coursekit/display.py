"""Small rich-display helpers shared by the lessons (banners, notices)."""

from __future__ import annotations

from html import escape

__all__ = ["weights_banner"]


class _Banner:
    """Shows as a coloured box in Jupyter and as one plain line elsewhere (and under nbval)."""

    def __init__(self, text: str, colour: str):
        self.text, self.colour = text, colour

    def _repr_html_(self) -> str:
        return (f'<div style="border-left:6px solid {self.colour};padding:6px 10px;'
                f'background:{self.colour}22;margin:4px 0">{escape(self.text)}</div>')

    def __repr__(self) -> str:
        return self.text


def weights_banner(model) -> _Banner:
    """A visible banner saying whether ``model`` has ImageNet features or random ones."""
    source = getattr(model, "weights_source", "unknown")
    if getattr(model, "pretrained", False):
        return _Banner(f"Features from trained weights: {source}.", "#2e7d32")
    return _Banner(
        "RANDOM FEATURES: ImageNet weights are not available here, so this lesson uses a seeded, "
        f"randomly initialised network ({source}). Results show what random features do "
        "(colours and coarse texture survive); with trained weights they look better. "
        "Lesson 00 says how to get the weights.", "#e65100")
