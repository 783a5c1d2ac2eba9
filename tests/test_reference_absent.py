"""No public coursekit function hands a submission the graded exercise's answer.

In the grader's sandbox the graded exercise's reference is switched off (its body replaced, so
every alias and every coursekit function that calls it raise), so are the functions of the
modules that declare exercises (mistakes and their shared helpers), and coursekit's source is
hidden (tests/test_grader_attacks.py tries reloading, loading by path, reading the source, the
solutions and the garbage collector). What remains is a second function that computes the same
thing on its own. This test looks for one: with each exercise's reference and helpers switched off
as the sandbox does it, it calls every function of every coursekit module outside grading, private
ones included, on the exercise's public cases, the way the grader calls the learner's, and fails if
any reproduces all of them. (It found ``_adam_loop``, the shared core of lesson 03's mistakes, which
with its defaults is the reconstruction loop.)
"""

from __future__ import annotations

import copy
import importlib
import inspect
import pkgutil
import signal
import sys
import warnings

import pytest

import coursekit
from coursekit.exercise import outputs_match
from coursekit.grading.catalogue import all_exercises
from coursekit.grading.namespaces import NOT_PRELOADED
from coursekit.grading.sandbox import Guard, _disable_reference, _exercise_modules, disable_grading_helpers

pytestmark = pytest.mark.slow
SECONDS_PER_CALL = 2.0


def all_functions() -> dict[str, object]:
    found = {}
    for info in pkgutil.walk_packages(coursekit.__path__, "coursekit."):
        if info.name.startswith(NOT_PRELOADED) or info.name.startswith("coursekit.grading"):
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception:  # noqa: BLE001  an optional module the sandbox would not have either
            continue
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and obj.__module__.startswith("coursekit.") \
                    and not obj.__module__.startswith("coursekit.grading"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


class _Slow(Exception):
    pass


def _alarm(*_):
    raise _Slow()


def test_no_function_computes_a_graded_exercise_once_its_reference_and_helpers_are_off(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)  # anything a function writes lands here
    candidates = all_functions()
    assert len(candidates) > 300  # the search is real
    _exercise_modules()  # every exercise module loaded, so the snapshot below holds them all
    helpers = {}  # every coursekit function's code (module-level and in classes), to put back
    for key, module in list(sys.modules.items()):
        if key.startswith("coursekit."):
            for value in vars(module).values():
                for fn in [value, *vars(value).values()] if isinstance(value, type) else [value]:
                    fn = getattr(fn, "__func__", fn)
                    if inspect.isfunction(fn) and fn.__module__.startswith("coursekit."):
                        helpers[fn] = fn.__code__
    previous = signal.signal(signal.SIGALRM, _alarm)
    found = {}
    try:
        for name, exercise in all_exercises().items():
            reference = exercise.reference
            # The inputs and expected outputs, made before anything is switched off (the grader
            # makes them in its own process).
            inputs = [case.make() for case in exercise.cases]
            expected_cases = [exercise.run(reference, *copy.deepcopy(i)) for i in inputs]
            saved = reference.__code__
            guard = Guard(tmp_path)
            assert _disable_reference(reference, name, guard), f"{name}: the reference cannot be switched off"
            assert disable_grading_helpers(exercise, guard) > 50
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    hits = [c for c, fn in candidates.items()
                            if fn is not reference and _matches(exercise, fn, inputs, expected_cases)]
            finally:
                reference.__code__ = saved
                for fn, code in helpers.items():
                    fn.__code__ = code
                plt.close("all")
            if hits:
                found[name] = hits
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert found == {}, f"functions that compute a graded exercise without its reference: {found}"


def _matches(exercise, fn, inputs, expected_cases) -> bool:
    for case, made, expected in zip(exercise.cases, inputs, expected_cases):
        args, kwargs = copy.deepcopy(made)
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
