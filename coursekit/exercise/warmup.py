"""Lesson 00's toy exercise: a ReLU, to show how a check reads a learner's function.

It is graded like every other exercise (one point), so lesson 00 also shows what the grader does.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .properties import keeps_dtype, not_mutating
from .spec import Case, Exercise, Mistake

__all__ = ["EXERCISES"]


def relu(x: Tensor) -> Tensor:
    """ReLU(x) = max(0, x) elementwise, a new tensor of x's shape and dtype."""
    return x.clamp_min(0)


def _values(shape: tuple[int, ...], seed: int) -> Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _absolute(x):
    return x.abs()


def _min_not_max(x):
    return x.clamp_max(0)


def _leaky(x):
    return torch.nn.functional.leaky_relu(x, 0.01)


RELU = Exercise(
    name="relu",
    lesson="00_setup_check",
    reference=relu,
    groups={"value": 1},
    cases=[
        Case("five numbers around 0", lambda: ((torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=torch.float64),), {})),
        Case("a (2, 3, 4, 4) batch of activations", lambda: ((_values((2, 3, 4, 4), 0),), {})),
    ],
    hidden=[
        Case("hidden", lambda: ((_values((7,), 1),), {})),
        Case("hidden", lambda: ((-_values((3, 3), 2).abs(),), {})),
        Case("hidden", lambda: ((_values((1, 64, 2, 2), 3),), {})),
    ],
    properties=[not_mutating(lambda: (_values((2, 5), 4),)), keeps_dtype(lambda: (_values((3,), 5),))],
    mistakes=[
        Mistake(_absolute, "negative inputs became positive: ReLU sets them to 0, it does not flip their sign."),
        Mistake(_min_not_max, "that keeps the negative part: ReLU keeps max(0, x), the positive part."),
        Mistake(_leaky, "that is the leaky ReLU (a small slope for x < 0); the plain ReLU is exactly 0 there."),
    ],
    generic_hint="ReLU(x) = max(0, x) for every entry: negative entries become 0, the others stay as they are.",
)

EXERCISES: dict[str, Exercise] = {RELU.name: RELU}
