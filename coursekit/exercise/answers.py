"""Comparisons and checks for understanding questions: a prediction or a number the learner works out.

A question is an exercise like the others: the learner writes a function that returns the answer
(taking the question's parameters where it has any, so that hidden cases can vary them), the public
check tests only the form of the answer where the answer itself would give the game away, and the
grader compares the value. ``within(rtol)`` compares numbers read off a figure or an experiment;
``choice(options)`` checks that a multiple-choice answer is one of the options.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from .spec import NotImplementedYet, Property, number

__all__ = ["within", "choice"]


def within(rtol: float) -> Callable[[Any, Any], tuple[bool, str]]:
    """A ``Case.compare`` that accepts a number within ``rtol`` (relative) of the expected one."""

    def compare(got: Any, expected: Any) -> tuple[bool, str]:
        try:
            value, target = float(got), float(expected)
        except (TypeError, ValueError, OverflowError):
            return False, f"returned {type(got).__name__}, expected a number"
        if not math.isfinite(value):
            return False, "returned NaN or an infinite number"
        ok = abs(value - target) <= rtol * abs(target)
        return ok, "" if ok else f"returned {number(value, target)}, which is not within {rtol:.0%} of the answer"

    return compare


def choice(options: Sequence[str]) -> Property:
    """The answer is one of ``options`` (a public property: it says nothing about which is right)."""

    def test(fn, ref) -> str | None:
        try:
            got = fn()
        except NotImplementedError as exc:
            raise NotImplementedYet() from exc
        if not isinstance(got, str) or got.strip().lower() not in options:
            return f"answer with one of {', '.join(repr(o) for o in options)} (a string); got {got!r}"
        return None

    return Property("answers with one of the options", test)
