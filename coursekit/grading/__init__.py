"""Exercise checks. ``check(name, fn)`` is the public check a lesson runs after an exercise.

Public checks run in the learner's kernel on seeded float64 inputs and say "public checks
passed", never "all tests passed": the grader runs hidden tests as well.
"""

from __future__ import annotations

from typing import Callable

from ..exercise import Exercise
from .runner import CheckResult, run_exercise

__all__ = ["check", "reference", "exercise_names", "registry", "CheckResult"]


def registry() -> dict[str, Exercise]:
    """Every exercise with a public check, by name (``coursekit.grading.catalogue``)."""
    from .catalogue import all_exercises  # the topics' exercises load torch and the topics' code

    return all_exercises()


def exercise_names() -> list[str]:
    """Names of the exercises that have a public check."""
    return sorted(registry())


def _exercise(name: str) -> Exercise:
    """The exercise ``name``, importing the topics one at a time until one declares it (a lesson's
    check then loads its own topic and those before it, not torchvision's for lesson 01)."""
    from .catalogue import topic_exercises, topic_of

    try:
        return topic_exercises(topic_of(name))[name]
    except ValueError:
        raise ValueError(f"no exercise called {name!r}; the exercises are {sorted(registry())}") from None


def reference(name: str) -> Callable:
    """coursekit's reference implementation of an exercise."""
    return _exercise(name).reference


def check(name: str, fn: Callable, *, quiet: bool = False) -> CheckResult:
    """Run the public check of exercise ``name`` on the learner's ``fn`` and print the verdict.

    Never raises because of ``fn``: a NotImplementedError reads "not implemented yet", any other
    exception becomes a failure line with a hint. Returns a ``CheckResult``; its
    ``use_or_reference()`` gives the function later cells should use.
    """
    result = run_exercise(_exercise(name), fn)
    if not quiet:
        print(result.verdict())
    return result
