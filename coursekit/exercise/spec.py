"""What an exercise is: a reference, seeded cases, property checks and realistic mistakes.

Each topic declares its exercises beside its code (``coursekit.nst.exercises``,
``coursekit.gan.exercises``, ...) with these types; ``coursekit.grading`` runs them, in the
learner's kernel (public checks) and in the grader's sandbox (public and hidden cases). This module
imports nothing of coursekit, so topics and grading both depend on it and never on each other.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import Tensor

__all__ = ["Case", "Mistake", "Property", "Exercise", "NotImplementedYet", "call_on_copies", "outputs_match",
           "matching_mistakes"]

RTOL, ATOL = 1e-7, 1e-10


@dataclass(frozen=True)
class Case:
    """One seeded input: ``make()`` returns (args, kwargs); ``label`` describes it to the learner.

    ``compare(got, expected)`` returns (ok, reason); the default is ``outputs_match`` (float64,
    rtol 1e-7). Give one when a case needs a looser or a different comparison.
    """

    label: str
    make: Callable[[], tuple[tuple, dict]]
    compare: Callable[[Any, Any], tuple[bool, str]] | None = None


@dataclass(frozen=True)
class Mistake:
    """A realistic wrong answer and the hint to give when the learner's output equals it."""

    fn: Callable[..., Any]
    hint: str


@dataclass(frozen=True)
class Property:
    """A check that needs no expected value. ``test(fn, reference)`` returns a failure or None."""

    name: str
    test: Callable[[Callable, Callable], str | None]


@dataclass(frozen=True)
class Exercise:
    """One graded function.

    ``name`` is also the function's name in the lesson; ``lesson`` is the lesson's file stem
    (``"01_channel_correlations"``). ``cases`` and ``properties`` are the public checks run in the
    learner's kernel. ``hidden`` cases are run only by the grader (``coursekit.grading.grader``),
    which reports pass/fail per hidden case without its inputs or expected values; ``points`` is
    the exercise's weight in the gradebook. Properties call the learner's function themselves, so
    the grader, which never runs learner code in its own process, scores cases only.
    """

    name: str
    reference: Callable[..., Any]
    cases: Sequence[Case]
    properties: Sequence[Property] = ()
    mistakes: Sequence[Mistake] = ()
    generic_hint: str = ""
    lesson: str = ""
    points: int = 1
    hidden: Sequence[Case] = ()


class NotImplementedYet(Exception):
    """Raised inside a property when the learner's function raises NotImplementedError."""


def call_on_copies(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Call fn on deep copies so the learner cannot change the inputs we compare with."""
    try:
        return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except NotImplementedError as exc:
        raise NotImplementedYet() from exc


def outputs_match(got: Any, expected: Any) -> tuple[bool, str]:
    """Compare outputs (tensors, numbers, tuples); the reason says what differs."""
    if isinstance(expected, Tensor):
        if isinstance(got, (int, float)) and expected.numel() == 1:
            got = torch.tensor(float(got), dtype=expected.dtype)
        if not isinstance(got, Tensor):
            return False, f"returned {type(got).__name__}, expected a torch.Tensor"
        if tuple(got.shape) != tuple(expected.shape):
            return False, f"returned shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
        got_d = got.detach().to(torch.float64)
        exp_d = expected.detach().to(torch.float64)
        if not torch.isfinite(got_d).all():
            return False, "returned NaN or infinite values"
        if not torch.allclose(got_d, exp_d, rtol=RTOL, atol=ATOL):
            err = (got_d - exp_d).abs().max().item()
            scale = exp_d.abs().max().item()
            return False, f"values differ from the reference (largest error {err:.2g}, values up to {scale:.2g})"
        return True, ""
    if isinstance(expected, (int, float)):
        try:
            value = float(got)
        except (TypeError, ValueError, RuntimeError):
            return False, f"returned {type(got).__name__}, expected a number"
        ok = abs(value - expected) <= ATOL + RTOL * abs(expected)
        return ok, "" if ok else f"returned {value:.6g}, expected {expected:.6g}"
    return got == expected, "" if got == expected else "returned a different value"


def matching_mistakes(exercise: Exercise, got: Any, args: tuple, kwargs: dict) -> list[int]:
    """Indices of the catalogued mistakes whose output equals the learner's on this input."""
    found = []
    for i, mistake in enumerate(exercise.mistakes):
        try:
            wrong = call_on_copies(mistake.fn, args, kwargs)
        except Exception:  # a catalogued mistake that does not apply to this input
            continue
        if outputs_match(got, wrong)[0]:
            found.append(i)
    return found


