"""Texture synthesis and reconstruction on a tiny random VGG: they lower their costs and keep shapes."""

import pytest
import torch

from coursekit.nst import costs
from coursekit.models import FeatureExtractor, vgg11
from coursekit.samples import sample_image
from coursekit.nst.optimize import initial_image, noise_like
from coursekit.nst.reconstruction import reconstruct
from coursekit.nst.texture import synthesize_texture


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(vgg11(seed=0), ["conv1_1", "conv2_1", "conv3_1"])


def test_extractor_reads_a_subset_and_stops_early(fx):
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    full = fx(x)
    sub = fx(x, ["conv1_1"])
    assert list(sub) == ["conv1_1"] and torch.equal(sub["conv1_1"], full["conv1_1"])
    with pytest.raises(ValueError, match="not read"):
        fx(x, ["conv5_1"])


def test_texture_synthesis_lowers_the_style_cost(fx):
    s = sample_image("stripes_orange", size=32)
    weights = {"conv1_1": 0.5, "conv2_1": 0.5, "conv3_1": 0.0}
    res = synthesize_texture(fx, s, weights, steps=15)
    assert res.image.shape == s.shape
    assert res.best_loss < 0.5 * res.history["total"][0]
    assert set(res.history) == {"total", "style/conv1_1", "style/conv2_1"}
    # The recorded total is the weighted sum of the unweighted per-layer costs.
    recomputed = 0.5 * res.history["style/conv1_1"][3] + 0.5 * res.history["style/conv2_1"][3]
    assert res.history["total"][3] == pytest.approx(recomputed, rel=1e-6)


def test_texture_at_another_size_compares_grams_per_position(fx):
    s = sample_image("stripes_orange", size=32)
    res = synthesize_texture(fx, s, {"conv1_1": 1.0}, size=(16, 24), steps=10)
    assert res.image.shape == (1, 3, 16, 24)
    # Scaled targets: a 2x2 tiling of the style image has (almost) the style's own per-position Gram.
    big = s.repeat(1, 1, 2, 2)
    a_s, a_b = fx(s, ["conv1_1"])["conv1_1"], fx(big, ["conv1_1"])["conv1_1"]
    g_s, g_b = costs.gram_matrix(a_s) / a_s[0, 0].numel(), costs.gram_matrix(a_b) / a_b[0, 0].numel()
    assert (g_s - g_b).norm() < 0.1 * g_s.norm()


def test_learner_layer_cost_is_used(fx):
    calls = []

    def mine(a_S, a_G):
        calls.append(1)
        return costs.layer_style_cost(a_S, a_G)

    s = sample_image("checkerboard", size=16)
    synthesize_texture(fx, s, {"conv1_1": 1.0}, steps=3, layer_cost=mine)
    assert len(calls) >= 3
    with pytest.raises(ValueError, match="size=None"):
        synthesize_texture(fx, s, {"conv1_1": 1.0}, size=(8, 8), steps=3, layer_cost=mine)


def test_zero_weights_refused(fx):
    with pytest.raises(ValueError, match="weight above 0"):
        synthesize_texture(fx, sample_image("noise", size=16), {"conv1_1": 0.0})


def test_reconstruction_from_a_low_layer_recovers_the_image(fx):
    c = sample_image("astronaut", size=24)
    res = reconstruct(fx, c, "conv1_1", steps=40)
    start = (noise_like(c) - c).abs().mean()
    assert (res.image - c).abs().mean() < 0.5 * start
    assert res.history["total"][-1] < res.history["total"][0]


def test_initial_image_choices():
    ref = torch.zeros(1, 3, 4, 4)
    assert torch.equal(initial_image("content", ref), ref)
    assert torch.equal(initial_image("noise", ref, seed=3), initial_image("noise", ref, seed=3))
    with pytest.raises(ValueError, match="shape"):
        initial_image(torch.zeros(1, 3, 2, 2), ref)
    with pytest.raises(ValueError, match="noise"):
        initial_image("random", ref)
