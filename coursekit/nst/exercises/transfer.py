"""Lesson 04's exercises: the total cost."""

from __future__ import annotations

import torch

from ...exercise import (Case, Exercise, Mistake)
from .. import costs

__all__ = ['EXERCISES']


def _totals(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, generator=g, dtype=torch.float64), torch.rand(2, generator=g, dtype=torch.float64)



def _total_swapped(jc, js, alpha=10.0, beta=40.0):
    return beta * jc + alpha * js


def _total_no_alpha(jc, js, alpha=10.0, beta=40.0):
    return jc + beta * js


TOTAL = Exercise(
    name="total_cost",
    lesson="04_neural_style_transfer",
    groups={"value": 1},
    hidden=[
        Case("hidden", lambda: ((1.5, 0.25, 3.0, 2.0), {})),
        Case("hidden", lambda: ((4.0, 1.0), {})),
        Case("hidden", lambda: (_totals(181), {"alpha": 0.5, "beta": 1e4})),
    ],
    reference=costs.total_cost,
    cases=[
        Case("J_content=2, J_style=3, alpha=10, beta=40", lambda: ((2.0, 3.0, 10.0, 40.0), {})),
        Case("J_content=0.5, J_style=7, alpha=1, beta=1000", lambda: ((0.5, 7.0), {"alpha": 1.0, "beta": 1000.0})),
        Case("per-image costs (tensors of shape (2,))", lambda: (_totals(80) + (3.0, 0.25), {})),
    ],
    mistakes=[
        Mistake(_total_swapped, "α weighs the content cost and β the style cost, not the other way round."),
        Mistake(_total_no_alpha, "J_content is weighted by α too."),
    ],
    generic_hint="J(G) = α J_content(C,G) + β J_style(S,G), with the defaults α = 10, β = 40.",
)


EXERCISES: dict[str, Exercise] = {ex.name: ex for ex in (TOTAL,)}
