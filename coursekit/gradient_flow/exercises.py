"""Public checks of lesson 09's exercises: ``init_std`` (the Xavier/Glorot and He scales) and
``clip_factor`` (clipping by global norm).

Listed in ``coursekit.grading.EXERCISE_MODULES``. ``init_std`` cases mix square and very unequal
fans so that each catalogued mistake (variance for std, fan_out for fan_in, the missing factor 2,
the uniform bound, the two kinds swapped) shows on some case and not on the others. ``clip_factor``
cases hold several tensors of different shapes, norms above and below the threshold.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..exercise import Case, Exercise, Mistake
from .analysis import clip_factor
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
    groups={"value": 2},
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



# ---- clip_factor ---------------------------------------------------------------------------
def _grads(shapes: list[tuple[int, ...]], seed: int, scale: float = 1.0) -> list[Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [scale * torch.randn(shape, generator=g, dtype=torch.float64) for shape in shapes]


def _close(got, expected) -> tuple[bool, str]:
    """rtol 1e-5: the 1e-6 in the denominator is torch's detail, not the idea; leaving it out passes."""
    try:
        value = float(got)
    except (TypeError, ValueError, RuntimeError):
        return False, f"returned {type(got).__name__}, expected a number"
    ok = math.isfinite(value) and abs(value - expected) <= 1e-5 * abs(expected) + 1e-12
    return ok, "" if ok else f"returned {value:.6g}, expected {expected:.6g}"


def _clip_case(label: str, shapes, seed: int, scale: float, max_norm: float) -> Case:
    return Case(label, lambda: ((_grads(shapes, seed, scale), max_norm), {}), compare=_close)


def _norm(grads) -> float:
    return math.sqrt(sum(float((g ** 2).sum()) for g in grads))


def _no_min(grads, max_norm):
    return max_norm / (_norm(grads) + 1e-6)


def _sum_of_norms(grads, max_norm):
    return min(1.0, max_norm / (sum(float(g.norm()) for g in grads) + 1e-6))


def _no_sqrt(grads, max_norm):
    return min(1.0, max_norm / (_norm(grads) ** 2 + 1e-6))


def _largest_tensor(grads, max_norm):
    return min(1.0, max_norm / (max(float(g.norm()) for g in grads) + 1e-6))


def _inverted(grads, max_norm):
    return min(1.0, (_norm(grads) + 1e-6) / max_norm)


CLIP_FACTOR = Exercise(
    name="clip_factor",
    reference=clip_factor,
    lesson="09_vanishing_exploding_gradients",
    groups={"value": 2},
    # Every ||g|| is at least ~100, so the 1e-6 changes the factor by less than the 1e-7 that
    # identifies a catalogued mistake: hints work whether or not the learner adds it.
    cases=[
        _clip_case("two tensors (3, 4) and (5,), ||g|| about 80, c = 10", [(3, 4), (5,)], 0, 20.0, 10.0),
        _clip_case("two tensors, ||g|| below c = 1000: nothing to clip", [(3, 4), (5,)], 1, 20.0, 1000.0),
        _clip_case("three tensors (4, 3), (3,), (2, 2, 2), c = 5", [(4, 3), (3,), (2, 2, 2)], 2, 50.0, 5.0),
        _clip_case("one tensor (10,), c = 20", [(10,)], 3, 40.0, 20.0),
    ],
    hidden=[
        _clip_case("one scalar tensor", [()], 4, 500.0, 1.0),
        _clip_case("a huge gradient, ||g|| about 6e7", [(6, 6), (6,)], 5, 1e7, 1.0),
        _clip_case("many small tensors", [(2,)] * 12, 6, 30.0, 25.0),
        Case("all gradients zero", lambda: (([torch.zeros(3, 3, dtype=torch.float64),
                                              torch.zeros(3, dtype=torch.float64)], 1.0), {}), compare=_close),
        _clip_case("large threshold on a large gradient", [(8, 8)], 7, 20.0, 100.0),
    ],
    mistakes=[
        Mistake(_no_min, "when ||g|| is already below c the factor must be 1 (clipping never scales a gradient "
                "UP): take min(1, c / ||g||)."),
        Mistake(_inverted, "the ratio is upside down: the factor is c / ||g||, so a larger gradient gets a smaller factor."),
        Mistake(_no_sqrt, "||g|| is the square ROOT of the sum of squares: sqrt(sum_i ||g_i||^2)."),
        Mistake(_sum_of_norms, "adding the tensors' norms is not the global norm: square each tensor's entries, "
                "add everything, then take one square root, as if all gradients were one long vector."),
        Mistake(_largest_tensor, "use every tensor, not the largest one: ||g|| = sqrt(sum over ALL tensors of "
                "their squared entries)."),
    ],
    generic_hint="norm = math.sqrt(sum(float((g ** 2).sum()) for g in grads)); return min(1.0, max_norm / (norm + 1e-6)).",
)

EXERCISES: dict[str, Exercise] = {e.name: e for e in (INIT_STD, CLIP_FACTOR)}
