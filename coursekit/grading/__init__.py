"""Exercise checks. ``check(name, fn)`` is the public check a lesson runs after an exercise.

Public checks run in the learner's kernel on seeded float64 inputs and say "public checks
passed", never "all tests passed": the grader runs hidden tests as well.
"""

from __future__ import annotations

from typing import Callable

from .runner import CheckResult, Exercise, run_exercise

__all__ = ["check", "reference", "exercise_names", "registry", "CheckResult"]


# Each topic declares its exercises beside its code, in a module with an ``EXERCISES`` dict.
EXERCISE_MODULES = (
    "coursekit.grading.exercises",  # lessons 00-04: style matrices and costs
    "coursekit.grading.cost_gradient_exercises",  # lesson 05: the costs' gradients by hand
    "coursekit.gan.exercises",  # lesson 06: GAN losses
    "coursekit.models.exercises",  # lesson 08: convolution arithmetic
    "coursekit.gradient_flow.exercises",  # lesson 09: Xavier and He scales
)


def registry() -> dict[str, Exercise]:
    """Every exercise with a public check, by name, from the modules in ``EXERCISE_MODULES``.
    They are imported when asked for, so that those modules may import ``grading.runner`` freely."""
    import importlib

    exercises: dict[str, Exercise] = {}
    for module in EXERCISE_MODULES:
        exercises.update(importlib.import_module(module).EXERCISES)
    return exercises


def exercise_names() -> list[str]:
    """Names of the exercises that have a public check."""
    return sorted(registry())


def _exercise(name: str) -> Exercise:
    exercises = registry()
    if name not in exercises:
        raise ValueError(f"no exercise called {name!r}; the exercises are {sorted(exercises)}")
    return exercises[name]


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
