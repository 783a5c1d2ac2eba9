"""Running a public check: call the learner's function safely, compare, diagnose, report.

An exercise is described by a ``coursekit.exercise.Exercise``. ``run_exercise`` never raises
because of the learner's code: every failure becomes a line in the ``CheckResult``. It prints
nothing; ``check`` in ``coursekit.grading`` prints the verdict.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Callable

from ..exercise import Exercise, NotImplementedYet, matching_mistakes, outputs_match

__all__ = ["CheckResult", "run_exercise", "describe_exception", "grading_note"]


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
    cases_passed: int = 0
    cases: int = 0
    properties: int = 0
    grading: str = ""  # what the grader adds: hidden cases and the points of each group

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def verdict(self) -> str:
        """Short, deterministic text (nbval compares it). Never claims hidden tests passed."""
        if self.status == "not_implemented":
            return (f"{self.name}: not implemented yet. Replace `raise NotImplementedError()` with your "
                    "code, run the cell, then run this check again.")
        if self.status == "passed":
            return f"{self.name}: public checks passed ({self._counts()}).{self.grading}"
        lines = [f"{self.name}: public checks failed ({self._counts(failed=True)})."]
        lines += [f"  - {f}" for f in self.failures]
        lines += [f"  Hint: {h}" for h in self.hints]
        return "\n".join(lines)

    def _counts(self, failed: bool = False) -> str:
        props = self.total - self.cases
        plural = lambda n, word: f"{n} {word}" + ("" if n == 1 else "s" if word == "case" else "")
        cases = f"{self.cases_passed} of {plural(self.cases, 'case')}" if failed else plural(self.cases, "case")
        noun = "property" if props == 1 else "properties"
        if not props:
            return cases
        passed = self.passed_count - self.cases_passed
        return f"{cases}, {passed} of {props} {noun}" if failed else f"{cases}, {props} {noun}"

    def use_or_reference(self) -> Callable:
        """The learner's function once it passes; until then coursekit's reference, with a notice."""
        if self.passed and self.function is not None:
            return self.function
        print(f"Using coursekit's reference {self.name} until yours passes its check.")
        return self.reference


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


def grading_note(exercise: Exercise) -> str:
    """What the grader does beyond the public check, in one sentence (printed with a pass)."""
    hidden = len(exercise.hidden)
    groups = ", ".join(f"{name} {points}" for name, points in exercise.groups.items())
    added = f"adds {hidden} hidden one{'s' * (hidden != 1)}" if hidden else "adds none"
    public = len(exercise.cases)
    reruns = {0: "has no public case to rerun", 1: "reruns the public case"}.get(public, f"reruns the {public} cases")
    return f" The grader {reruns} and {added}; points: {groups} (each group all or nothing)."


def run_exercise(exercise: Exercise, fn: Callable) -> CheckResult:
    """Run every case and property of ``exercise`` on ``fn``; never raises for learner errors."""
    result = CheckResult(exercise.name, "failed", function=fn, reference=exercise.reference,
                         cases=len(exercise.cases), properties=len(exercise.properties),
                         grading=grading_note(exercise))
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
            got = exercise.run(fn, args, kwargs)
        except NotImplementedYet:
            return CheckResult(exercise.name, "not_implemented", 0, result.total, function=fn,
                               reference=exercise.reference, cases=len(exercise.cases))
        except (Exception, SystemExit) as exc:  # the learner's code failed: report, don't crash
            result.failures.append(f"{case.label}: raised {describe_exception(exc)}")
            continue
        ok, reason = (case.compare or outputs_match)(got, exercise.run(exercise.reference, args, kwargs))
        if ok:
            result.passed_count += 1
            result.cases_passed += 1
        else:
            result.failures.append(f"{case.label}: {reason}")
            found = set(matching_mistakes(exercise, got, args, kwargs))
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
            if result.passed_count == 0:  # nothing ran yet (a question checks its form only)
                return CheckResult(exercise.name, "not_implemented", 0, result.total, function=fn,
                                   reference=exercise.reference, cases=len(exercise.cases))
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
