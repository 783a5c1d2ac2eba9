"""nbgrader's test cell for one exercise, run in the learner's own kernel.

Each exercise of a solution notebook is followed by a cell that nbgrader grades (``grade: true``,
the exercise's points; see ``coursekit.grading.nbgrader_format``)::

    from coursekit.grading.autograder import Autograder
    _test = Autograder("gram_matrix", gram_matrix)
    ### BEGIN HIDDEN TESTS
    _test.add_hidden_cases()
    ### END HIDDEN TESTS
    _test.points()

It scores the same cases and groups as ``coursekit grade`` (``grader.score_cases``, each group all
or nothing), so the two agree on every submission that the sandbox does not refuse.

* Under nbgrader (``NBGRADER_EXECUTION`` is ``autograde`` or ``validate``), ``points()`` raises an
  AssertionError when the exercise earns nothing (nbgrader: 0 points) and otherwise returns the
  points as the cell's value, which nbgrader reads as (partial) credit. Under ``autograde`` the
  hidden cases always count, even if the hidden section was removed from the cell.
* In a learner's session it prints one line and never raises, so "Run All" goes on past an
  exercise that is not done yet; the public check above it is the learner's feedback.

nbgrader runs the learner's code with no sandbox. What this cell does add: coursekit's reference
for the exercise is switched off while the learner's function runs (calling it earns 0, as in the
sandbox), warnings are silenced (nbgrader gives 0 to a test cell that writes to stderr), and the
feedback for hidden cases is the grader's coarse text, never their inputs or expected values.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from typing import Any, Callable

__all__ = ["Autograder", "under_nbgrader"]


def under_nbgrader() -> str | None:
    """'autograde' or 'validate' when nbgrader runs this kernel, else None."""
    mode = os.environ.get("NBGRADER_EXECUTION", "")
    return mode if mode in ("autograde", "validate") else None


class _Blocked:
    def __init__(self) -> None:
        self.violations: list[str] = []


@contextlib.contextmanager
def _reference_switched_off(reference: Callable, name: str):
    """The reference raises (and records it) while the learner's function runs; restored after."""
    from .sandbox import _blocked_body

    code = getattr(reference, "__code__", None)
    blocked = _Blocked()
    if code is None or code.co_freevars:
        yield blocked
        return
    reference.__globals__["__coursekit_blocked__"] = (blocked, name)
    reference.__code__ = _blocked_body.__code__
    try:
        yield blocked
    finally:
        reference.__code__ = code


class Autograder:
    """The cases of exercise ``name`` run on the learner's ``fn`` in this kernel."""

    def __init__(self, name: str, fn: Any):
        from . import _exercise

        self.exercise = _exercise(name)
        self.fn = fn
        self.hidden = False

    def add_hidden_cases(self) -> None:
        """Count the hidden cases too (the notebook's hidden-tests section calls this)."""
        self.hidden = True

    def score(self):
        """An ``ExerciseScore`` of the public cases, and of the hidden ones if added."""
        from .grader import ExerciseScore, score_cases
        from .sandbox import case_outcome

        exercise = self.exercise
        hidden = self.hidden or under_nbgrader() == "autograde"
        cases = [*exercise.cases, *(exercise.hidden if hidden else [])]
        score = ExerciseScore(exercise.name, exercise.lesson, 0.0, exercise.points, "failed", total=len(cases))
        if not callable(self.fn):
            score.feedback.append(f"{exercise.name} is not a function (it is {type(self.fn).__name__})")
            return score
        inputs = [case.make() for case in cases]
        with _reference_switched_off(exercise.reference, exercise.name) as blocked, warnings.catch_warnings(), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            outcomes = [case_outcome(exercise, self.fn, args, kwargs) for args, kwargs in inputs]
        if blocked.violations:
            score.status = "violation"
            score.feedback.append(f"0 points: {blocked.violations[0]}")
            return score
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score_cases(exercise, cases, inputs, outcomes, len(exercise.cases), None, score)
        return score

    def points(self) -> float | None:
        """Under nbgrader: the points earned (raises AssertionError when there are none).
        In a learner's session: prints one line, returns None."""
        score = self.score()
        mode = under_nbgrader()
        if mode is None:
            print(self._line(score))
            return None
        if score.points <= 0:
            raise AssertionError(score.summary())
        print(score.summary())
        return score.points

    def _line(self, score) -> str:
        name, top = score.name, score.max_points
        if score.status == "not_implemented":
            return f"nbgrader's test of {name}: not implemented yet (0 of {top} points when graded)."
        if score.status == "violation":
            return f"nbgrader's test of {name}: {score.feedback[0]} (0 of {top} points when graded)."
        if self.hidden:
            return (f"nbgrader's test of {name}: {score.points:g} of {top} points "
                    f"({score.passed} of {score.total} cases passed, hidden ones included).")
        extra = len(self.exercise.hidden)
        return (f"nbgrader's test of {name}: {score.passed} of {score.total} public cases passed; "
                f"when it grades, nbgrader adds {extra} hidden cases and awards up to {top} points.")
