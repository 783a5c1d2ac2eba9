"""Every graded exercise of the course, from the topics that own them.

Each topic declares its exercises beside its code, in an ``exercises`` module with an
``EXERCISES`` dict built from ``coursekit.exercise`` types. Those modules import nothing of
``coursekit.grading``, so the imports here run one way: grading -> topics -> exercise.
"""

from __future__ import annotations

from ..exercise import Exercise
from ..gan.exercises import EXERCISES as GAN_EXERCISES  # lessons 06-07
from ..gradient_flow.exercises import EXERCISES as GRADIENT_FLOW_EXERCISES  # lesson 09
from ..models.exercises import EXERCISES as MODELS_EXERCISES  # lesson 08
from ..nst.exercises import EXERCISES as NST_EXERCISES  # lessons 00-05

__all__ = ["all_exercises"]

TOPICS: tuple[dict[str, Exercise], ...] = (NST_EXERCISES, GAN_EXERCISES, MODELS_EXERCISES, GRADIENT_FLOW_EXERCISES)


def all_exercises() -> dict[str, Exercise]:
    """Every exercise with a public check, by name (a new dict each call)."""
    exercises: dict[str, Exercise] = {}
    for topic in TOPICS:
        clash = sorted(set(exercises) & set(topic))
        if clash:
            raise RuntimeError(f"exercise names {clash} are declared by two topics; rename one")
        exercises.update(topic)
    return exercises
