"""No public coursekit function hands a submission the graded exercise's answer.

In the grader's sandbox the graded exercise's reference is switched off (its body replaced, so
every alias and every coursekit function that calls it raise) and coursekit's source is hidden
(tests/test_grader_attacks.py tries reloading, loading by path, reading the source, the solutions
and the garbage collector). What remains is a second public function that computes the same
thing on its own. This test looks for one: with each reference switched off as the sandbox does
it, it calls every public function of every coursekit topic on the exercise's public cases, the
way the grader calls the learner's, and fails if any reproduces all of them.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import signal
import warnings

import pytest

import coursekit
from coursekit.exercise import outputs_match
from coursekit.grading.catalogue import all_exercises
from coursekit.grading.namespaces import NOT_PRELOADED
from coursekit.grading.sandbox import Guard, _disable_reference

pytestmark = pytest.mark.slow
SECONDS_PER_CALL = 2.0


def public_functions() -> dict[str, object]:
    found = {}
    for info in pkgutil.walk_packages(coursekit.__path__, "coursekit."):
        if info.name.startswith(NOT_PRELOADED) or info.name.startswith("coursekit.grading"):
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception:  # noqa: BLE001  an optional module the sandbox would not have either
            continue
        for name, obj in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__.startswith("coursekit.") \
                    and not obj.__module__.startswith("coursekit.grading"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


class _Slow(Exception):
    pass


def _alarm(*_):
    raise _Slow()


def test_no_public_function_computes_a_graded_exercise_once_its_reference_is_off(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)  # anything a function writes lands here
    candidates = public_functions()
    assert len(candidates) > 100  # the search is real
    previous = signal.signal(signal.SIGALRM, _alarm)
    found = {}
    try:
        for name, exercise in all_exercises().items():
            reference = exercise.reference
            # The expected outputs, computed before the reference is switched off.
            expected_cases = []
            for case in exercise.cases:
                args, kwargs = case.make()
                expected_cases.append(exercise.run(reference, args, kwargs))
            saved = reference.__code__
            assert _disable_reference(reference, name, Guard(tmp_path)), f"{name}: the reference cannot be switched off"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    hits = [c for c, fn in candidates.items() if fn is not reference and _matches(exercise, fn, expected_cases)]
            finally:
                reference.__code__ = saved
                plt.close("all")
            if hits:
                found[name] = hits
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert found == {}, f"public functions that compute a graded exercise without its reference: {found}"


def _matches(exercise, fn, expected_cases) -> bool:
    for case, expected in zip(exercise.cases, expected_cases):
        args, kwargs = case.make()
        signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_CALL)
        try:
            got = exercise.run(fn, args, kwargs)
        except BaseException:  # noqa: BLE001  any failure, including our alarm, means "no"
            return False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            if not (case.compare or outputs_match)(got, expected)[0]:
                return False
        except Exception:  # noqa: BLE001
            return False
    return True
