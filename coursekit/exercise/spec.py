"""What an exercise is: a reference, seeded cases, property checks and realistic mistakes.

Each topic declares its exercises beside its code (``coursekit.nst.exercises``,
``coursekit.gan.exercises``, ...) with these types; ``coursekit.grading`` runs them, in the
learner's kernel (public checks) and in the grader's sandbox (public and hidden cases). This module
imports nothing of coursekit, so topics and grading both depend on it and never on each other.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import Tensor

__all__ = ["Case", "Mistake", "Property", "Exercise", "NotImplementedYet", "call_on_copies", "outputs_match",
           "matching_mistakes", "number"]

RTOL, ATOL = 1e-7, 1e-10
VALUE = "value"  # the group a case belongs to unless it says otherwise
# What an exercise asks the learner to write: a formula in code, real code (a loop, an algorithm),
# an optimisation or training step, a module built from a description, or an answer to a question.
KINDS = {"formula": "a formula", "code": "code with a loop or an algorithm", "step": "a training or optimisation step",
         "module": "a module built from its description", "question": "an answer to a question"}


@dataclass(frozen=True)
class Case:
    """One seeded input: ``make()`` returns (args, kwargs); ``label`` describes it to the learner.

    ``compare(got, expected)`` returns (ok, reason); the default is ``outputs_match`` (float64,
    rtol 1e-7). Give one when a case needs a looser or a different comparison. ``group`` names the
    property the case tests (``"value"``, ``"batch independence"``, ``"numerical stability"``...):
    the grader scores each group all or nothing.
    """

    label: str
    make: Callable[[], tuple[tuple, dict]]
    compare: Callable[[Any, Any], tuple[bool, str]] | None = None
    group: str = VALUE


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
    """One graded function, step or module.

    ``name`` is also the function's name in the lesson; ``lesson`` is the lesson's file stem
    (``"01_channel_correlations"``). ``cases`` and ``properties`` are the public checks run in the
    learner's kernel. ``hidden`` cases are run only by the grader (``coursekit.grading.grader``),
    which reports pass/fail per hidden case without its inputs or expected values.

    ``groups`` gives the points of each group of cases (public and hidden together): the grader
    awards a group's points only when every case in it passes, so a Gram matrix right on single
    images but mixing a batch loses the batch group whole. ``points`` is their sum. Properties call
    the learner's function themselves, so the grader, which never runs learner code in its own
    process, scores cases only; each property a lesson teaches has cases in a group of its own.

    ``kind`` says what the learner writes (one of ``KINDS``). ``driver`` turns a step or a module
    into plain outputs: ``driver(fn, *args, **kwargs)`` calls
    the learner's function as the lesson would (a few optimisation steps, the module applied to
    seeded inputs) and returns tensors and numbers. The grader runs it on the learner's function
    in the sandbox and on the reference in its own process, and compares what comes back.
    """

    name: str
    reference: Callable[..., Any]
    cases: Sequence[Case]
    properties: Sequence[Property] = ()
    mistakes: Sequence[Mistake] = ()
    generic_hint: str = ""
    lesson: str = ""
    groups: Mapping[str, int] = field(default_factory=lambda: {VALUE: 1})
    hidden: Sequence[Case] = ()
    driver: Callable[..., Any] | None = None
    kind: str = "formula"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"exercise {self.name}: kind {self.kind!r} is not one of {sorted(KINDS)}")
        used = {case.group for case in (*self.cases, *self.hidden)}
        unknown, empty = sorted(used - set(self.groups)), sorted(set(self.groups) - used)
        if unknown or empty:
            raise ValueError(f"exercise {self.name}: cases name groups {unknown} that have no points, "
                             f"and groups {empty} have no case; every group needs points and a case")
        if any(not isinstance(p, int) or p < 1 for p in self.groups.values()):
            raise ValueError(f"exercise {self.name}: each group's points must be a whole number >= 1")

    @property
    def points(self) -> int:
        """The exercise's weight in the gradebook: the sum of its groups' points."""
        return sum(self.groups.values())

    def run(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        """``fn`` (the learner's, the reference or a mistake) on copies of one case's inputs,
        through the driver when the exercise has one."""
        if self.driver is None:
            return call_on_copies(fn, args, kwargs)
        return call_on_copies(self.driver, (fn, *args), kwargs)


class NotImplementedYet(Exception):
    """Raised inside a property when the learner's function raises NotImplementedError."""


def call_on_copies(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Call fn on deep copies so the learner cannot change the inputs we compare with."""
    try:
        return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except NotImplementedError as exc:
        raise NotImplementedYet() from exc


def outputs_match(got: Any, expected: Any) -> tuple[bool, str]:
    """Compare outputs (tensors, numbers, strings, and tuples, lists and dicts of them, item by
    item); the reason says what differs."""
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
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            value = float(got)
        except (TypeError, ValueError, RuntimeError, OverflowError):
            return False, f"returned {type(got).__name__}, expected a number"
        ok = abs(value - expected) <= ATOL + RTOL * abs(expected)
        if isinstance(expected, int) and ok and not float(value).is_integer():
            ok = False  # a count, a size: 4.5 is not 4 or 5
        return ok, "" if ok else f"returned {number(got, expected)}, expected {number(expected, got)}"
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            size = len(got) if isinstance(got, (tuple, list)) else None
            return False, (f"returned {type(got).__name__}" + (f" of {size} items" if size is not None else "")
                           + f", expected {len(expected)} items")
        for i, (g, e) in enumerate(zip(got, expected)):
            ok, reason = outputs_match(g, e)
            if not ok:
                return False, f"item {i}: {reason}"
        return True, ""
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            return False, f"returned {keys}, expected the keys {sorted(expected)}"
        for key in expected:
            ok, reason = outputs_match(got[key], expected[key])
            if not ok:
                return False, f"{key}: {reason}"
        return True, ""
    try:
        same = bool(got == expected)
    except (RuntimeError, TypeError, ValueError):
        same = False
    return same, "" if same else f"returned {_short(got)}, expected a different value"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def number(x: Any, other: Any = None) -> str:
    """``x`` printed so that it reads differently from ``other``: whole numbers as integers
    (20038912, not 2.00389e+07), others with as many digits as it takes (at most 17)."""
    try:
        value = float(x)
    except (TypeError, ValueError, OverflowError):
        return _short(x)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    try:
        rival = float(other) if other is not None else None
    except (TypeError, ValueError, OverflowError):
        rival = None
    for digits in range(6, 18):
        text = f"{value:.{digits}g}"
        if rival is None or rival == value or f"{rival:.{digits}g}" != text:
            return text
    return repr(value)


def matching_mistakes(exercise: Exercise, got: Any, args: tuple, kwargs: dict) -> list[int]:
    """Indices of the catalogued mistakes whose output equals the learner's on this input."""
    found = []
    for i, mistake in enumerate(exercise.mistakes):
        try:
            wrong = exercise.run(mistake.fn, args, kwargs)
        except Exception:  # a catalogued mistake that does not apply to this input
            continue
        if outputs_match(got, wrong)[0]:
            found.append(i)
    return found


