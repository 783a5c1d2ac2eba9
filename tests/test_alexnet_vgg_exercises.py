"""Lesson 08's public checks: references pass (hidden cases too), realistic mistakes get their hint."""

import pytest

from coursekit.grading import registry
from coursekit.grading.runner import run_exercise
from coursekit.models.arithmetic import conv_output_size, receptive_field, vgg_param_count
from coursekit.models.exercises import EXERCISES

NAMES = ["make_vgg_features", "conv_output_size", "vgg_param_count", "receptive_field", "stacked_3x3_saving"]
ARITHMETIC = ["conv_output_size", "vgg_param_count", "receptive_field"]


def test_registered_for_the_lesson():
    assert sorted(EXERCISES) == sorted(NAMES)
    for name in NAMES:
        ex = registry()[name]
        assert ex.lesson == "08_alexnet_vgg" and ex.points >= 2 and len(ex.hidden) >= 3


@pytest.mark.parametrize("name", ARITHMETIC)
def test_references_pass_and_hidden_cases_run(name):
    ex = EXERCISES[name]
    assert run_exercise(ex, ex.reference).passed
    public = [c.make() for c in ex.cases]
    for case in ex.hidden:
        args, kwargs = case.make()
        assert (args, kwargs) not in public
        assert isinstance(ex.reference(*args, **kwargs), int)


def test_references_on_hand_computed_numbers():
    assert conv_output_size(227, 11, 4) == 55 and conv_output_size(32, 5, 2, 1) == 15
    assert vgg_param_count([64]) == 1792 and vgg_param_count([]) == 0
    assert vgg_param_count([8, "M", 16, "M"], 1, True, 10) == (
        80 + (72 + 1) * 16 + (16 * 49 + 1) * 4096 + 4097 * 4096 + 4097 * 10)
    assert receptive_field([(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]) == 195


def test_a_learner_solution_passes():
    def mine(layers):
        r, j = 1, 1
        for k, s in layers:
            r, j = r + (k - 1) * j, j * s
        return r

    assert run_exercise(EXERCISES["receptive_field"], mine).passed


def test_mistakes_get_their_hints():
    def one_sided(n, kernel, stride=1, padding=0):
        return (n + padding - kernel) // stride + 1

    def true_division(n, kernel, stride=1, padding=0):
        return (n + 2 * padding - kernel) / stride + 1

    res = run_exercise(EXERCISES["conv_output_size"], one_sided)
    assert not res.passed and "n + 2p" in res.hints[0]
    res = run_exercise(EXERCISES["conv_output_size"], true_division)
    assert not res.passed and "floor" in res.hints[0] and any("returns an int" in f for f in res.failures)

    def rounded(n, kernel, stride=1, padding=0):
        return round((n + 2 * padding - kernel) / stride) + 1

    res = run_exercise(EXERCISES["conv_output_size"], rounded)
    assert not res.passed and "nearest" in res.hints[0]

    def no_conv_bias(cfg, in_channels=3, classifier=False, num_classes=1000):
        total, c = 0, in_channels
        for v in cfg:
            if v != "M":
                total, c = total + 9 * c * v, v
        return total + ((c * 49 + 1) * 4096 + 4097 * 4096 + 4097 * num_classes if classifier else 0)

    res = run_exercise(EXERCISES["vgg_param_count"], no_conv_bias)
    assert not res.passed and "bias per output channel" in res.hints[0]

    def stride_not_jump(layers):
        return 1 + sum((k - 1) * s for k, s in layers)

    res = run_exercise(EXERCISES["receptive_field"], stride_not_jump)
    assert not res.passed and "jump" in res.hints[0]
