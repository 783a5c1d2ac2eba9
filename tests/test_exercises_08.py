"""Lesson 08's builder exercise and question: the driver turns a module into plain data, the
reference matches the package's make_layers, and each catalogued mistake gets its own hint."""

import pytest
import torch
from torch import nn

from coursekit.grading.runner import run_exercise
from coursekit.models.exercises import EXERCISES, _features_driver, make_vgg_features, stacked_3x3_saving
from coursekit.models.vgg import cfgs, make_layers


def learner_builder(cfg, in_channels=3, batch_norm=False):
    """Written as a learner would: MaxPool2d's default stride, an in-place ReLU, its own init."""
    layers, c = [], in_channels
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            conv = nn.Conv2d(c, v, 3, padding=1)
            nn.init.zeros_(conv.weight)
            layers += [conv, *([nn.BatchNorm2d(v)] if batch_norm else []), nn.ReLU(inplace=True)]
            c = v
    return nn.Sequential(*layers)


def test_reference_is_the_package_builder_for_rgb():
    for batch_norm in (False, True):
        ours, package = make_vgg_features(cfgs["D"], 3, batch_norm), make_layers(cfgs["D"], batch_norm)
        assert [type(m) for m in ours] == [type(m) for m in package]
        shapes = lambda module: {k: v.shape for k, v in module.state_dict().items()}
        assert shapes(ours) == shapes(package)
    assert make_vgg_features([8, "M", 16], in_channels=1)[0].in_channels == 1
    assert make_vgg_features(["M", 8], in_channels=5)[1].in_channels == 5


def test_driver_returns_plain_data():
    layers = _features_driver(make_vgg_features, [8, "M"], 1, True, view="layers")
    assert layers == ("Conv2d(1 -> 8, kernel 3, stride 1, padding 1)", "BatchNorm2d(8)", "ReLU",
                      "MaxPool2d(kernel 2, stride 2, padding 0)")
    params = _features_driver(make_vgg_features, [8, "M"], 1, True, view="parameters")
    assert params == ("0.weight (8, 1, 3, 3)", "0.bias (8,)", "1.weight (8,)", "1.bias (8,)")
    out = _features_driver(make_vgg_features, [8, "M", 16, "M"], 3, True, view="output", size=16)
    assert out.dtype == torch.float64 and out.shape == (2, 16, 4, 4) and out.min() >= 0 and out.max() > 0
    again = _features_driver(make_vgg_features, [8, "M", 16, "M"], 3, True, view="output", size=16)
    assert torch.equal(out, again)


def test_a_learner_builder_passes_whatever_its_init():
    ex = EXERCISES["make_vgg_features"]
    assert run_exercise(ex, learner_builder).passed
    for case in ex.hidden:
        args, kwargs = case.make()
        got, expected = ex.run(learner_builder, args, kwargs), ex.run(ex.reference, args, kwargs)
        assert (case.compare(got, expected) if case.compare else (torch.allclose(got, expected), ""))[0]


@pytest.mark.parametrize("name", ["make_vgg_features", "stacked_3x3_saving"])
def test_each_mistake_gets_its_own_hint(name):
    ex = EXERCISES[name]
    assert run_exercise(ex, ex.reference).passed
    for mistake in ex.mistakes:
        res = run_exercise(ex, mistake.fn)
        assert not res.passed and res.hints == [mistake.hint], mistake.fn.__name__


def test_hidden_failures_do_not_give_the_expected_layer_away():
    hidden = EXERCISES["make_vgg_features"].hidden[0]
    ok, reason = hidden.compare(("ReLU",), ("Conv2d(3 -> 64, kernel 3, stride 1, padding 1)",))
    assert not ok and "Conv2d" not in reason


def test_the_question_on_hand_computed_numbers():
    assert stacked_3x3_saving(3) == 0
    assert stacked_3x3_saving(5) == pytest.approx(1 - 18 / 25)
    assert stacked_3x3_saving(7) == pytest.approx(1 - 27 / 49)
    with pytest.raises(ValueError):
        stacked_3x3_saving(4)
