"""The style-transfer lessons' exercises (01-05), one module per lesson, beside their topic.

``correlation`` (01: ``gram_matrix``), ``style`` (02: ``layer_style_cost``, ``style_cost``),
``content`` (03: ``content_cost``), ``transfer`` (04: ``total_cost``), ``gradients`` (05:
``content_cost_gradient``, ``style_layer_gradient``); references in ``coursekit.nst.costs`` and
``coursekit.nst.gradients``. Each exercise lists realistic mistakes whose outputs the checks
recognise, so a hint can name the mistake; ``inputs`` holds the seeded inputs they share.
"""

from __future__ import annotations

from ...exercise import Exercise
from . import content, correlation, gradients, style, transfer
from .inputs import activations, features

__all__ = ["EXERCISES", "activations", "features"]

EXERCISES: dict[str, Exercise] = {
    **correlation.EXERCISES, **style.EXERCISES, **content.EXERCISES, **transfer.EXERCISES, **gradients.EXERCISES,
}
