"""Lesson 03's exercises: the content cost."""

from __future__ import annotations

import torch

from ...exercise import (Case, Exercise, Mistake, batch_independent, gradient_flows, not_mutating, zero_when_equal)
from .. import costs
from .inputs import activations, pair

__all__ = ['EXERCISES']


def _content_mean(a_C, a_G):
    return costs.content_cost(a_C, a_G, convention="pytorch_tutorial")


def _content_lecture(a_C, a_G):
    return costs.content_cost(a_C, a_G, convention="lecture")


def _content_no_half(a_C, a_G):
    return 2 * costs.content_cost(a_C, a_G)


def _content_not_squared(a_C, a_G):
    return 0.5 * (a_C - a_G).abs().sum(dim=(1, 2, 3))



def _content_summed_batch(a_C, a_G):
    return costs.content_cost(a_C, a_G).sum()


CONTENT = Exercise(
    name="content_cost",
    lesson="03_content_cost",
    groups={"value": 1, "batch independence": 1},
    hidden=[
        Case("hidden", lambda: (pair((1, 9, 2, 3), 161), {})),
        Case("hidden", lambda: (pair((4, 3, 5, 2), 162, 1), {}), group="batch independence"),
        Case("hidden", lambda: (pair((2, 6, 3, 3), 163), {}), group="batch independence"),
    ],
    reference=costs.content_cost,
    cases=[
        Case("a_C, a_G of shape (1, 4, 5, 5)", lambda: (pair((1, 4, 5, 5), 60), {})),
        Case("a_C, a_G of shape (1, 2, 3, 7)", lambda: (pair((1, 2, 3, 7), 61), {})),
        Case("a batch of 2 generated images, one content image", lambda: (pair((2, 3, 4, 4), 62, 1), {}),
             group="batch independence"),
    ],
    properties=[
        zero_when_equal(lambda: pair((1, 3, 4, 4), 63)),
        not_mutating(lambda: pair((1, 3, 4, 4), 64)),
        gradient_flows(lambda: pair((1, 3, 4, 4), 65)),
        batch_independent(lambda k: (activations((1, 3, 4, 4), 70), activations((1, 3, 4, 4), 70 + k))),
    ],
    mistakes=[
        Mistake(_content_mean, "you took the mean (the tutorials' MSE). The paper's content cost is 1/2 times the "
                "sum of squares."),
        Mistake(_content_lecture, "that is the lecture's normalised variant 1/(4 nH nW nC); this exercise asks for "
                "the paper's 1/2 Σ (F − P)²."),
        Mistake(_content_no_half, "the factor 1/2 in front of the sum is missing."),
        Mistake(_content_not_squared, "the differences are squared: (a^[l](C) − a^[l](G))², not their size."),
        Mistake(_content_summed_batch, "one cost per generated image, shape (B,): sum over channels and positions "
                "only, never over the batch."),
    ],
    generic_hint="J_content(C,G) = 1/2 Σ_i Σ_j Σ_k (a^[l](C)_ijk − a^[l](G)_ijk)², one value per generated image.",
)


EXERCISES: dict[str, Exercise] = {ex.name: ex for ex in (CONTENT,)}
