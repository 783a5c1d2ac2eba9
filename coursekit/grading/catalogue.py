"""Every graded exercise of the course, from the topics that own them.

Each topic declares its exercises beside its code, in an ``exercises`` module with an
``EXERCISES`` dict built from ``coursekit.exercise`` types. Those modules import nothing of
``coursekit.grading``, so the imports here run one way: grading -> topics -> exercise.
``topic_of(name)`` names the module that owns an exercise, so the grader's sandbox can load that
topic alone (torchvision and the other topics cost it a second or two per exercise).
"""

from __future__ import annotations

import importlib

from ..exercise import Exercise

__all__ = ["TOPIC_MODULES", "all_exercises", "topic_exercises", "topic_of"]

TOPIC_MODULES: tuple[str, ...] = (
    "coursekit.exercise.warmup",  # lesson 00's toy exercise
    "coursekit.nst.exercises",  # lessons 01-05
    "coursekit.gan.exercises",  # lessons 06-07
    "coursekit.models.exercises",  # lesson 08
    "coursekit.gradient_flow.exercises",  # lesson 09
)


def topic_exercises(module: str) -> dict[str, Exercise]:
    """The ``EXERCISES`` of one topic module (one of TOPIC_MODULES)."""
    if module not in TOPIC_MODULES:
        raise ValueError(f"{module!r} is not a topic's exercise module; they are {list(TOPIC_MODULES)}")
    return importlib.import_module(module).EXERCISES


def all_exercises() -> dict[str, Exercise]:
    """Every exercise with a public check, by name (a new dict each call)."""
    exercises: dict[str, Exercise] = {}
    for module in TOPIC_MODULES:
        topic = topic_exercises(module)
        clash = sorted(set(exercises) & set(topic))
        if clash:
            raise RuntimeError(f"exercise names {clash} are declared by two topics; rename one")
        exercises.update(topic)
    return exercises


def topic_of(name: str) -> str:
    """The topic module that declares exercise ``name``."""
    for module in TOPIC_MODULES:
        if name in topic_exercises(module):
            return module
    raise ValueError(f"no exercise called {name!r}")
