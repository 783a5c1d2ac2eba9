"""Lesson 02's texture helpers: rescaled synthesis finds what the raw costs hide; weights; shapes; tables."""

import pytest
import torch

from coursekit.nst import conventions, costs, targets, texture
from coursekit import tables
from coursekit.models import FeatureExtractor, vgg11
from coursekit.samples import sample_image
from coursekit.nst.optimize import noise_like

LAYERS = ["conv1_1", "conv2_1", "conv3_1"]


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(vgg11(seed=0), LAYERS, pooling="avg")


def test_history_is_the_unscaled_style_cost(fx):
    s = sample_image("stripes_orange", size=32)
    weights = {"conv1_1": 0.3, "conv2_1": 0.7}
    res = texture.synthesize_texture(fx, s, weights, steps=8)
    with torch.no_grad():
        a_S, a_N = fx(s, list(weights)), fx(noise_like(s), list(weights))
        expected = costs.style_cost(a_S, a_N, weights)
    # Evaluation 1 is the starting noise; the history holds J_style itself, not the scaled cost.
    assert res.history["total"][0] == pytest.approx(float(expected), rel=1e-5)
    for i in range(len(res.history["total"])):
        parts = sum(lam * res.history[f"style/{name}"][i] for name, lam in weights.items())
        assert res.history["total"][i] == pytest.approx(parts, rel=1e-5)
    assert res.best_loss == pytest.approx(min(res.history["total"]), rel=1e-6)


def test_a_deep_layer_alone_is_optimised(fx):
    # conv3_1's paper-normalised cost is tiny; rescaled, L-BFGS-B still lowers it a lot.
    s = sample_image("stripes_orange", size=32)
    res = texture.synthesize_texture(fx, s, {"conv3_1": 1.0}, steps=25)
    assert res.evaluations == 25
    assert res.best_loss < 0.2 * res.history["total"][0]


def test_learner_layer_cost_is_used_and_zero_weights_refused(fx):
    calls = []

    def mine(a_S, a_G):
        calls.append(a_G.shape[1])
        return costs.layer_style_cost(a_S, a_G)

    s = sample_image("checkerboard", size=16)
    res = texture.synthesize_texture(fx, s, {"conv1_1": 1.0, "conv2_1": 0.0}, steps=4, layer_cost=mine)
    assert set(calls) == {64} and len(calls) >= 4  # every evaluation
    assert set(res.history) == {"total", "style/conv1_1"}
    with pytest.raises(ValueError, match="weight above 0"):
        texture.synthesize_texture(fx, s, {"conv1_1": 0.0})


def test_single_and_cumulative_weights():
    assert texture.single_layer_weights(["a", "b"]) == [{"a": 1.0}, {"b": 1.0}]
    cum = texture.cumulative_weights(list(costs.PAPER_STYLE_LAYERS))
    assert [list(w) for w in cum][1] == ["relu1_1", "relu2_1"]
    assert cum[1] == {"relu1_1": 0.5, "relu2_1": 0.5}
    assert cum[-1] == pytest.approx(costs.PAPER_STYLE_LAYERS)  # the paper's 1/5 each


def test_layer_shapes(fx):
    shapes = targets.activation_shapes(fx, 32)
    assert shapes == {"conv1_1": (64, 32, 32), "conv2_1": (128, 16, 16), "conv3_1": (256, 8, 8)}
    assert targets.activation_shapes(fx, (16, 24), ["conv2_1"]) == {"conv2_1": (128, 8, 12)}


def test_format_table_rounds_and_aligns():
    text = tables.format_table(["layer", "N", "lambda"], [["conv1_1", 64, 0.0066666], ["conv5_1", 512, 123456.7]])
    assert text.splitlines() == [
        "layer      N     lambda",
        "-------  ---  ---------",
        "conv1_1   64   0.006667",
        "conv5_1  512  1.235e+05",
    ]
    with pytest.raises(ValueError, match="3 cells"):
        tables.format_table(["a", "b", "c"], [[1, 2]])


def test_layer_study_and_its_plot(fx):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = sample_image("stripes_orange", size=16)
    study = texture.layer_study(fx, s, ["conv1_1", "conv2_1"], steps=3)
    assert len(study.alone) == len(study.up_to) == 2
    assert study.up_to[0] is study.alone[0]  # the same problem is solved once
    assert set(study.up_to[1].history) == {"total", "style/conv1_1", "style/conv2_1"}
    axes = texture.plot_layer_study(study, title="t")
    assert [ax.get_title() for ax in axes[1]] == ["start: noise", "conv1_1", "+ conv2_1"]
    assert axes[0][2].get_title() == "conv2_1 alone"
    plt.close("all")


def test_layer_study_without_the_single_layer_row(fx):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = sample_image("stripes_orange", size=16)
    full = texture.layer_study(fx, s, LAYERS, steps=3)
    short = texture.layer_study(fx, s, LAYERS, steps=3, alone=False)
    assert len(short.alone) == 1 and len(short.up_to) == 3  # L runs instead of 2L - 1
    assert short.up_to[0] is short.alone[0]
    # same noise, same weights: the cumulative series is the same with or without the other row
    for a, b in zip(full.up_to, short.up_to):
        assert torch.equal(a.image, b.image)
    axes = texture.plot_layer_study(short, title="t")
    assert axes.shape == (1, 4)
    assert [ax.get_title() for ax in axes[0]] == ["style image S", "conv1_1", "+ conv2_1", "+ conv3_1"]
    plt.close("all")


def test_conversion_table_lecture_to_tutorial():
    # VGG19 shapes at 64 px; the lecture's beta = 40, lambda = 0.2 is the tutorials' beta ~ 1.2e6.
    shapes = {"relu1_1": (64, 64, 64), "relu2_1": (128, 32, 32), "relu3_1": (256, 16, 16),
              "relu4_1": (512, 8, 8), "relu5_1": (512, 4, 4)}
    text = conventions.conversion_table(10, 40, costs.PAPER_STYLE_LAYERS, shapes=shapes, content_shape=(512, 8, 8),
                                    source="lecture", target="pytorch_tutorial")
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "n_C", "n_H*n_W", "λ", "lecture", "λ", "pytorch_tutorial",
                                "βλ", "lecture", "βλ", "pytorch_tutorial"]
    assert lines[2].split()[:3] == ["relu1_1", "64", "4,096"]
    assert lines[2].split()[-1] == "8192"  # 40 * 0.2 * 64^2 / 4
    assert lines[-2] == "α: 10 (lecture)  ->  2.5 (pytorch_tutorial)"
    assert lines[-1] == "β: 40 (lecture)  ->  1.221e+06 (pytorch_tutorial)"


def test_conversion_table_labels_name_where_the_numbers_come_from():
    # The course's programming assignment (alpha = 10, beta = 40) uses the "lecture" normalisation.
    shapes = {"relu1_1": (64, 64, 64), "relu5_1": (512, 4, 4)}
    weights = {"relu1_1": 0.5, "relu5_1": 0.5}
    kwargs = dict(shapes=shapes, content_shape=(512, 8, 8), source="lecture", target="pytorch_tutorial")
    plain = conventions.conversion_table(10, 40, weights, **kwargs)
    named = conventions.conversion_table(10, 40, weights, labels=("assignment", "PyTorch tutorial"), **kwargs)
    assert named.splitlines()[0].split() == ["layer", "n_C", "n_H*n_W", "λ", "assignment", "λ", "PyTorch",
                                             "tutorial", "βλ", "assignment", "βλ", "PyTorch", "tutorial"]
    assert named.splitlines()[-1] == "β: 40 (assignment)  ->  " + plain.splitlines()[-1].split("->  ")[1].replace(
        "(pytorch_tutorial)", "(PyTorch tutorial)")
    # only the names change, never the numbers
    numbers = lambda text: [line.split()[1:] for line in text.splitlines()[2:-2]]  # noqa: E731
    assert numbers(named) == numbers(plain)
    with pytest.raises(ValueError, match="two non-empty names"):
        conventions.conversion_table(10, 40, weights, labels=("assignment",), **kwargs)
