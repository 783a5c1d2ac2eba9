"""Lessons 01 and 03's new exercises: the references are right, the drivers are deterministic and the
questions' answers are what the lessons' own computations give."""

import numpy as np
import pytest
import torch

from coursekit.models.layers import layer_index
from coursekit.models.vgg import cfgs, make_layers
from coursekit.nst import correlations, costs, inversion
from coursekit.nst.exercises import content, correlation
from coursekit.nst.exercises.inputs import activations


def test_channel_correlation_reference_is_numpys_corrcoef_with_dead_channels_zero():
    a = activations((2, 5, 4, 6), 0)
    a[1, 2] = 0.0  # dead in image 1 only
    r = correlations.correlation_matrix(a)
    assert r.shape == (2, 5, 5)
    np.testing.assert_allclose(r[0].numpy(), np.corrcoef(a[0].reshape(5, -1).numpy()), rtol=1e-12, atol=1e-12)
    live = [0, 1, 3, 4]
    expected = np.corrcoef(a[1, live].reshape(4, -1).numpy())
    np.testing.assert_allclose(r[1][live][:, live].numpy(), expected, rtol=1e-12, atol=1e-12)
    assert torch.equal(r[1, 2], torch.zeros(5, dtype=a.dtype)) and torch.equal(r[1, :, 2], torch.zeros(5, dtype=a.dtype))


def test_centring_first_is_what_the_stability_case_tests():
    a = activations((1, 3, 6, 6), 24)
    shifted = correlations.correlation_matrix(a + 1e6)
    assert torch.allclose(shifted, correlations.correlation_matrix(a), rtol=1e-7, atol=1e-9)
    # Cov from G (G / nH nW - mu mu^T) loses digits there: the case tells the two apart.
    f = (a + 1e6).reshape(1, 3, -1)
    mu = f.mean(2)
    cov = f @ f.transpose(1, 2) / f.shape[2] - mu[:, :, None] * mu[:, None, :]
    s = cov.diagonal(dim1=1, dim2=2).clamp_min(0).sqrt()
    assert not torch.allclose(cov / (s[:, :, None] * s[:, None, :]), shifted, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("s", [-2.0, 3.0, 0.5, -1.5])
def test_scaled_factors_are_what_gram_and_r_do(s):
    a = activations((1, 4, 5, 5), 7)
    f_G, f_r = correlation.scaled_factors(s)
    assert torch.allclose(costs.gram_matrix(s * a), f_G * costs.gram_matrix(a))
    assert torch.allclose(correlations.correlation_matrix(s * a), f_r * correlations.correlation_matrix(a))


def test_reconstruct_image_reference_lowers_the_cost_keeps_pixels_and_the_start():
    C, G0 = content._images(3, 6, 1.0)
    start = G0.clone()
    features = content.TinyFeatures(4)
    G, losses = inversion.reconstruct_image(C, G0, features, costs.content_cost, 8, 0.05)
    assert torch.equal(G0, start)
    assert G.shape == C.shape and not G.requires_grad
    assert float(G.min()) >= 0.0 and float(G.max()) <= 1.0
    assert len(losses) == 8 and losses[-1] < losses[0]
    with torch.no_grad():  # each loss is J before its step: the first is the cost of G0
        assert losses[0] == pytest.approx(float(costs.content_cost(features(C), features(G0)).sum()), rel=1e-12)


def test_reconstruction_driver_is_deterministic_and_refuses_a_changed_start():
    args = (0, 6, 3, 0.01, 0.4)
    one = content.drive_reconstruction(inversion.reconstruct_image, *args)
    two = content.drive_reconstruction(inversion.reconstruct_image, *args)
    assert torch.equal(one["G"], two["G"]) and torch.equal(one["losses"], two["losses"])
    assert one["G"].shape == (1, 3, 6, 6) and one["losses"].shape == (3,)

    def in_place(C, G0, features, cost, steps, lr):  # optimises the caller's G0 itself
        G = G0.detach().requires_grad_(True)  # detach shares G0's memory: no copy
        opt = torch.optim.Adam([G], lr=lr)
        a_C = features(C)
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            J = cost(a_C, features(G)).sum()
            J.backward()
            opt.step()
            losses.append(float(J.detach()))
        return G.detach(), losses

    with pytest.raises(ValueError, match="G0"):
        content.drive_reconstruction(in_place, *args)


def test_clamping_matters_in_the_pixels_group_only():
    for case in [*content.RECONSTRUCT.cases, *content.RECONSTRUCT.hidden]:
        args, _ = case.make()
        same = torch.equal(content.drive_reconstruction(content._no_clamp, *args)["G"],
                           content.drive_reconstruction(inversion.reconstruct_image, *args)["G"])
        assert same == (case.group == "value"), case.label


def test_numbers_per_value_counts_vgg19s_volumes():
    features = make_layers(cfgs["E"])  # weights do not matter: only the shapes are counted
    x = torch.zeros(1, 3, 32, 48)
    with torch.no_grad():
        for layer in ("relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2"):
            volume = features[: layer_index("vgg19", layer) + 1](x).numel()
            assert content.numbers_per_value(layer) == pytest.approx(volume / x.numel()), layer
