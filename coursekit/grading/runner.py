"""Running a public check: call the learner's function safely, compare, diagnose, report.

An exercise is described by an ``Exercise`` (reference, seeded cases, property checks and a
catalogue of realistic mistakes). ``run_exercise`` never raises because of the learner's code:
every failure becomes a line in the ``CheckResult``. It prints nothing; ``check`` in
``coursekit.grading`` prints the verdict.
"""

from __future__ import annotations

import copy
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch
from torch import Tensor

__all__ = ["Case", "Mistake", "Property", "Exercise", "CheckResult", "run_exercise", "NotImplementedYet"]

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


@dataclass
class CheckResult:
    """The outcome of a public check. ``status`` is passed, failed, not_implemented or error."""

    name: str
    status: str
    passed_count: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    function: Callable | None = field(default=None, repr=False)
    reference: Callable | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def verdict(self) -> str:
        """Short, deterministic text (nbval compares it). Never claims hidden tests passed."""
        if self.status == "not_implemented":
            return (f"{self.name}: not implemented yet. Replace `raise NotImplementedError()` with your "
                    "code, run the cell, then run this check again.")
        if self.status == "passed":
            return (f"{self.name}: public checks passed ({self.passed_count} of {self.total}). "
                    "The grader also runs hidden tests.")
        lines = [f"{self.name}: {self.passed_count} of {self.total} public checks passed."]
        lines += [f"  - {f}" for f in self.failures]
        lines += [f"  Hint: {h}" for h in self.hints]
        return "\n".join(lines)

    def use_or_reference(self) -> Callable:
        """The learner's function once it passes; until then coursekit's reference, with a notice."""
        if self.passed and self.function is not None:
            return self.function
        print(f"Using coursekit's reference {self.name} until yours passes its check.")
        return self.reference


def _call(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Call fn on deep copies so the learner cannot change the inputs we compare with."""
    try:
        return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except NotImplementedError as exc:
        raise NotImplementedYet() from exc


def describe_exception(exc: BaseException) -> str:
    """'TypeError: msg (line 3 of your function)' without a full traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        code = (last.line or "").strip()
        where = f" (at line {last.lineno}: `{code}`)" if code else f" (at line {last.lineno})"
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}{where}"


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


def _matching_mistakes(exercise: Exercise, got: Any, args: tuple, kwargs: dict) -> list[int]:
    """Indices of the catalogued mistakes whose output equals the learner's on this input."""
    found = []
    for i, mistake in enumerate(exercise.mistakes):
        try:
            wrong = _call(mistake.fn, args, kwargs)
        except Exception:  # a catalogued mistake that does not apply to this input
            continue
        if outputs_match(got, wrong)[0]:
            found.append(i)
    return found


def run_exercise(exercise: Exercise, fn: Callable) -> CheckResult:
    """Run every case and property of ``exercise`` on ``fn``; never raises for learner errors."""
    result = CheckResult(exercise.name, "failed", function=fn, reference=exercise.reference)
    if not callable(fn):
        result.status = "error"
        result.total = 1
        result.failures.append(f"expected a function, got {type(fn).__name__}")
        return result

    # The hint names the mistake that explains every failed case it applies to.
    suspects: set[int] | None = None
    unexplained = False
    for case in exercise.cases:
        result.total += 1
        args, kwargs = case.make()
        try:
            got = _call(fn, args, kwargs)
        except NotImplementedYet:
            return CheckResult(exercise.name, "not_implemented", 0, result.total, function=fn,
                               reference=exercise.reference)
        except (Exception, SystemExit) as exc:  # the learner's code failed: report, don't crash
            result.failures.append(f"{case.label}: raised {describe_exception(exc)}")
            continue
        ok, reason = (case.compare or outputs_match)(got, _call(exercise.reference, args, kwargs))
        if ok:
            result.passed_count += 1
        else:
            result.failures.append(f"{case.label}: {reason}")
            found = set(_matching_mistakes(exercise, got, args, kwargs))
            suspects = found if suspects is None else suspects & found
            unexplained = unexplained or not found
    if suspects:
        result.hints.append(exercise.mistakes[min(suspects)].hint)
    elif (unexplained or suspects is not None) and exercise.generic_hint:
        result.hints.append(exercise.generic_hint)
    for prop in exercise.properties:
        result.total += 1
        try:
            failure = prop.test(fn, exercise.reference)
        except NotImplementedYet:
            failure = "raised NotImplementedError"
        except (Exception, SystemExit) as exc:
            failure = f"raised {describe_exception(exc)}"
        if failure is None:
            result.passed_count += 1
        else:
            result.failures.append(f"{prop.name}: {failure}")
    if result.passed_count == result.total:
        result.status = "passed"
    return result
