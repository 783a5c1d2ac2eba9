"""Answers to the understanding questions of lessons 06 and 07, as functions of the question's parameter.

``generator_gradient_ratio(p)``: at D(G(z)) = σ(l) = p, the non-saturating loss -log σ(l) has slope
-(1 - p) in the logit l and the minimax loss log(1 - σ(l)) has slope -p; their ratio is (1 - p)/p,
99 at p = 0.01 (lesson 06, section 4).

``linear_path_norm_ratio(t)``: for independent z0, z1 ~ N(0, I_d), E|(1 - t) z0 + t z1|² =
((1 - t)² + t²) d, so the straight line's root-mean-square norm is sqrt((1 - t)² + t²) times that of
a draw, 1/√2 at the midpoint (lesson 07, section 6).
"""

from __future__ import annotations

import math

__all__ = ["generator_gradient_ratio", "linear_path_norm_ratio"]


def generator_gradient_ratio(p: float) -> float:
    """|∂L_NS/∂l| / |∂L_minimax/∂l| at D(G(z)) = p in (0, 1): (1 - p) / p."""
    return (1 - p) / p


def linear_path_norm_ratio(t: float) -> float:
    """RMS norm of (1 - t) z0 + t z1 over that of z0, for independent z0, z1 ~ N(0, I): sqrt((1-t)² + t²)."""
    return math.sqrt((1 - t) ** 2 + t ** 2)
