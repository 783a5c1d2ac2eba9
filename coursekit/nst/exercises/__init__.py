"""The style-transfer lessons' exercises (01-05), one module per lesson, beside their topic.

``correlation`` (01: ``gram_matrix``, ``channel_correlation``, question ``scaled_factors``),
``style`` (02: ``layer_style_cost``, ``style_cost``, question ``style_matrix_entries``), ``content``
(03: ``content_cost``, ``reconstruct_image``, question ``numbers_per_value``), ``transfer`` (04:
``total_cost``, ``transfer_step``, question ``grid_corner_with_content``), ``gradients`` (05:
``content_cost_gradient``, ``style_layer_gradient``, ``pixel_descent_step``, question
``style_gradient_factor``); references in ``coursekit.nst`` (costs, gradients, correlations,
inversion, step, descent). Each exercise lists realistic mistakes whose outputs the checks
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
