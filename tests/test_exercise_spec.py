"""The exercise machinery itself: groups and their points, drivers for steps and modules,
comparisons of structured outputs, numbers printed so that different values look different, and
hidden-case feedback that never reveals an expected value."""

import pytest
import torch

from coursekit.exercise import Case, Exercise, Mistake, number, outputs_match
from coursekit.exercise.answers import choice, within
from coursekit.grading.grader import _coarse
from coursekit.grading.runner import run_exercise


def _square(x):
    return x * x


def test_groups_need_points_and_cases():
    with pytest.raises(ValueError, match="no points"):
        Exercise("f", _square, [Case("c", lambda: ((1.0,), {}), group="stability")])
    with pytest.raises(ValueError, match="have no case"):
        Exercise("f", _square, [Case("c", lambda: ((1.0,), {}))], groups={"value": 1, "batch independence": 1})
    with pytest.raises(ValueError, match="kind"):
        Exercise("f", _square, [Case("c", lambda: ((1.0,), {}))], kind="essay")
    ex = Exercise("f", _square, [Case("c", lambda: ((1.0,), {}))], groups={"value": 2},
                  hidden=[Case("h", lambda: ((3.0,), {}))])
    assert ex.points == 2


def _run_twice(step, x):
    """A driver: applies a learner's step twice and returns the states it went through."""
    first = step(x)
    return [first, step(first)]


def test_a_driver_runs_a_step_for_the_check_and_names_the_mistake():
    ex = Exercise("halve_step", lambda x: x / 2, [Case("from 8", lambda: ((torch.tensor(8.0),), {}))],
                  driver=_run_twice, kind="step",
                  mistakes=[Mistake(lambda x: x - 2, "you subtracted instead of halving"),
                            Mistake(lambda x: x / 4, "you halved twice")])
    assert run_exercise(ex, lambda x: x / 2).passed
    wrong = run_exercise(ex, lambda x: x - 2)  # 8 -> 6 -> 4: the second state differs from 8 -> 4 -> 2
    assert not wrong.passed and wrong.hints == ["you subtracted instead of halving"]
    assert wrong.failures[0].startswith("from 8: item 0: values differ from the reference")


def test_structured_outputs_are_compared_item_by_item():
    t = torch.arange(3.0)
    assert outputs_match((t, 2), (t.clone(), 2)) == (True, "")
    assert outputs_match({"mean": t, "var": t}, {"mean": t, "var": t + 1})[1].startswith("var: values differ")
    assert outputs_match([t], (t, t))[1] == "returned list of 1 items, expected 2 items"
    assert outputs_match("b", "a") == (False, "returned 'b', expected a different value")


def test_numbers_are_printed_so_that_different_values_look_different():
    assert number(20038912.0) == "20038912"
    assert outputs_match(20038912.5, 20038912)[0] is False  # a count is whole: within rtol is not enough
    assert number(1.0000001, 1.0000002) != number(1.0000002, 1.0000001)
    assert outputs_match(7, 6)[1] == "returned 7, expected 6"


def test_hidden_feedback_never_carries_an_expected_value():
    assert _coarse("item 1: returned 2, expected 1") == "item 1: returned a wrong number"
    assert _coarse("var: values differ from the reference (largest error 1, values up to 2)") == "var: returned wrong values"
    assert _coarse("returned 'b', expected a different value") == "returned wrong values"
    assert _coarse("returned list, expected a torch.Tensor") == "returned list, expected a torch.Tensor"
    assert _coarse("a: returned shape (2,), expected (3,)") == "a: returned the wrong shape"


def test_question_helpers():
    close = within(0.05)
    assert close(1.04, 1.0)[0] and not close(1.06, 1.0)[0] and not close(float("nan"), 1.0)[0]
    prop = choice(("a", "b"))
    assert prop.test(lambda: "b", None) is None
    assert "one of 'a', 'b'" in prop.test(lambda: "c", None)


def test_a_question_checked_by_its_form_only_reads_not_implemented_until_answered():
    ex = Exercise("pick", lambda: "b", [], properties=[choice(("a", "b"))], kind="question",
                  hidden=[Case("hidden", lambda: ((), {}))])

    def todo():
        raise NotImplementedError()

    assert run_exercise(ex, todo).status == "not_implemented"
    assert run_exercise(ex, lambda: "a").passed  # the form is right; only the grader knows the answer
    assert "answer with one of" in run_exercise(ex, lambda: "z").failures[0]
