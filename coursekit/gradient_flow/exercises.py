"""Public checks of lesson 09's exercise: ``init_std``, the Xavier/Glorot and He scales.

Listed in ``coursekit.grading.EXERCISE_MODULES``. Cases mix square and very unequal fans so that
each catalogued mistake (variance for std, fan_out for fan_in, the missing factor 2, the uniform
bound, the two kinds swapped) shows on some case and not on the others.
"""

from __future__ import annotations

import math

from ..grading.runner import Case, Exercise, Mistake
from .mlp import init_std

__all__ = ["EXERCISES"]


def _case(fan_in: int, fan_out: int, kind: str) -> Case:
    return Case(f"fan_in={fan_in}, fan_out={fan_out}, kind={kind!r}", lambda: ((fan_in, fan_out, kind), {}))


def _variance(fan_in, fan_out, kind):
    return init_std(fan_in, fan_out, kind) ** 2


def _fans_swapped(fan_in, fan_out, kind):
    return init_std(fan_out, fan_in, kind)


def _no_factor_2(fan_in, fan_out, kind):
    return init_std(fan_in, fan_out, kind) / math.sqrt(2.0)


def _uniform_bound(fan_in, fan_out, kind):
    return init_std(fan_in, fan_out, kind) * math.sqrt(3.0)


def _kinds_swapped(fan_in, fan_out, kind):
    return init_std(fan_in, fan_out, {"xavier": "he", "he": "xavier"}[kind])


INIT_STD = Exercise(
    name="init_std",
    reference=init_std,
    lesson="09_vanishing_exploding_gradients",
    points=2,
    cases=[
        _case(64, 64, "xavier"),
        _case(64, 10, "he"),
        _case(784, 256, "xavier"),
        _case(100, 400, "he"),
        _case(512, 2, "xavier"),
    ],
    hidden=[
        _case(1, 1, "he"),
        _case(3, 1000, "xavier"),
        _case(4096, 4096, "he"),
        _case(27, 64, "xavier"),
        _case(10, 1, "he"),
    ],
    mistakes=[
        Mistake(_variance, "you returned the variance; the weights are drawn with std = sqrt(Var(W)), "
                "so take the square root."),
        Mistake(_fans_swapped, "He's variance divides by fan_in (the number of inputs of each unit, "
                "W.shape[1]), not by fan_out."),
        Mistake(_no_factor_2, "a factor 2 is missing: Xavier is Var(W) = 2/(fan_in + fan_out) and He is "
                "Var(W) = 2/fan_in (the 2 makes up for ReLU zeroing half of its inputs)."),
        Mistake(_uniform_bound, "sqrt(6/(fan_in + fan_out)) is the LIMIT a of Xavier's uniform U(-a, a); "
                "we draw from a normal distribution, whose std is sqrt(2/(fan_in + fan_out))."),
        Mistake(_kinds_swapped, "the two kinds are swapped: 'xavier' uses fan_in + fan_out, 'he' uses fan_in only."),
    ],
    generic_hint="xavier: math.sqrt(2 / (fan_in + fan_out)); he: math.sqrt(2 / fan_in). Return a float.",
)

EXERCISES: dict[str, Exercise] = {INIT_STD.name: INIT_STD}
