"""Style and content costs against an independent, loop-based implementation of the formulas."""

import itertools

import numpy as np
import pytest
import torch

from coursekit.nst import conventions, costs

TOL = 1e-10


def acts(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# Independent implementations: explicit sums over positions and channels, in numpy.
def gram_loops(a):  # a: (nC, nH, nW) numpy
    n_c, n_h, n_w = a.shape
    g = np.zeros((n_c, n_c))
    for k, k2 in itertools.product(range(n_c), repeat=2):
        g[k, k2] = sum(a[k, i, j] * a[k2, i, j] for i in range(n_h) for j in range(n_w))
    return g


def layer_style_loops(a_s, a_g):
    n_c, n_h, n_w = a_g.shape
    diff = gram_loops(a_s) - gram_loops(a_g)
    return float((diff**2).sum()) / (2 * n_h * n_w * n_c) ** 2


def content_loops(a_c, a_g):
    return 0.5 * float(((a_c - a_g) ** 2).sum())


@pytest.mark.parametrize("batch", [1, 2])
def test_gram_matches_loops_per_image(batch):
    a = acts((batch, 3, 4, 5), 0)
    G = costs.gram_matrix(a)
    assert G.shape == (batch, 3, 3)
    for b in range(batch):
        np.testing.assert_allclose(G[b].numpy(), gram_loops(a[b].numpy()), rtol=0, atol=TOL)


def test_gram_of_a_batch_is_two_independent_grams():
    x, y = acts((1, 4, 3, 3), 1), acts((1, 4, 3, 3), 2)
    both = costs.gram_matrix(torch.cat([x, y]))
    assert torch.equal(both[0], costs.gram_matrix(x)[0])
    assert torch.equal(both[1], costs.gram_matrix(y)[0])


def test_gram_subtracts_no_mean():
    a = torch.ones(1, 2, 3, 3, dtype=torch.float64)
    assert torch.equal(costs.gram_matrix(a), torch.full((1, 2, 2), 9.0, dtype=torch.float64))


@pytest.mark.parametrize("batch", [1, 2])
def test_layer_style_cost_matches_formula(batch):
    a_s, a_g = acts((batch, 3, 4, 4), 3), acts((batch, 3, 4, 4), 4)
    j = costs.layer_style_cost(a_s, a_g)
    assert j.shape == (batch,)
    for b in range(batch):
        assert abs(j[b].item() - layer_style_loops(a_s[b].numpy(), a_g[b].numpy())) < TOL


def test_lecture_constant_equals_gatys_constant():
    for n_c, n_h, n_w in [(3, 4, 5), (64, 32, 32), (512, 16, 16)]:
        n, m = n_c, n_h * n_w
        assert (2 * n_h * n_w * n_c) ** 2 == 4 * n**2 * m**2
        assert conventions.CONVENTIONS["paper"].style_coef(n, m) == conventions.CONVENTIONS["lecture"].style_coef(n, m)


def test_style_target_with_batch_one_broadcasts():
    a_s, a_g = acts((1, 3, 4, 4), 5), acts((2, 3, 4, 4), 6)
    j = costs.layer_style_cost(a_s, a_g)
    for b in range(2):
        assert abs(j[b].item() - layer_style_loops(a_s[0].numpy(), a_g[b].numpy())) < TOL


@pytest.mark.parametrize("batch", [1, 2])
def test_style_cost_is_weighted_sum(batch):
    shapes = {"conv1_1": (3, 5, 5), "conv2_1": (4, 3, 3), "conv3_1": (6, 2, 2)}
    lam = {"conv1_1": 0.2, "conv2_1": 0.5, "conv3_1": 0.3}
    a_s = {k: acts((batch,) + s, i) for i, (k, s) in enumerate(shapes.items())}
    a_g = {k: acts((batch,) + s, 10 + i) for i, (k, s) in enumerate(shapes.items())}
    j = costs.style_cost(a_s, a_g, lam)
    for b in range(batch):
        expected = sum(lam[k] * layer_style_loops(a_s[k][b].numpy(), a_g[k][b].numpy()) for k in lam)
        assert abs(j[b].item() - expected) < TOL


def test_style_cost_accepts_a_learners_layer_cost():
    a_s = {"conv1_1": acts((1, 2, 3, 3), 0)}
    a_g = {"conv1_1": acts((1, 2, 3, 3), 1)}
    calls = []

    def mine(x, y):
        calls.append(1)
        return costs.layer_style_cost(x, y)

    j = costs.style_cost(a_s, a_g, {"conv1_1": 2.0}, layer_cost=mine)
    assert calls == [1]
    assert torch.allclose(j, 2 * costs.layer_style_cost(a_s["conv1_1"], a_g["conv1_1"]))


def test_style_cost_names_a_missing_layer():
    with pytest.raises(KeyError, match="conv9_9"):
        costs.style_cost({"conv1_1": acts((1, 2, 2, 2), 0)}, {"conv1_1": acts((1, 2, 2, 2), 1)}, {"conv9_9": 1.0})


@pytest.mark.parametrize("batch", [1, 2])
def test_content_cost_matches_formula_and_lecture_variant(batch):
    a_c, a_g = acts((batch, 4, 3, 5), 7), acts((batch, 4, 3, 5), 8)
    j = costs.content_cost(a_c, a_g)
    j_lecture = costs.content_cost(a_c, a_g, convention="lecture")
    for b in range(batch):
        ssq = float(((a_c[b] - a_g[b]) ** 2).sum())
        assert abs(j[b].item() - content_loops(a_c[b].numpy(), a_g[b].numpy())) < TOL
        assert abs(j_lecture[b].item() - ssq / (4 * 3 * 5 * 4)) < TOL


def test_total_cost():
    assert costs.total_cost(2.0, 3.0) == 10 * 2 + 40 * 3
    assert costs.total_cost(2.0, 3.0, alpha=1, beta=1e3) == 3002.0


def test_tutorial_convention_matches_the_tutorials_code():
    # The PyTorch tutorial: G = F F^T / (a*b*c*d); loss = mse(G, A); content = mse(F, P).
    a_s, a_g = acts((1, 3, 4, 4), 9), acts((1, 3, 4, 4), 10)
    f_s, f_g = a_s.view(3, 16), a_g.view(3, 16)
    g_s, g_g = f_s @ f_s.T / 48, f_g @ f_g.T / 48
    tut_style = torch.nn.functional.mse_loss(g_g, g_s)
    tut_content = torch.nn.functional.mse_loss(a_g, a_s)
    assert abs(costs.layer_style_cost(a_s, a_g, "pytorch_tutorial").item() - tut_style.item()) < TOL
    assert abs(costs.content_cost(a_s, a_g, "pytorch_tutorial").item() - tut_content.item()) < TOL


SHAPES = {"relu1_1": (64, 64, 64), "relu2_1": (128, 32, 32), "relu3_1": (256, 16, 16),
          "relu4_1": (512, 8, 8), "relu5_1": (512, 4, 4)}
CONTENT_SHAPE = (512, 8, 8)


@pytest.mark.parametrize("target", ["lecture", "pytorch_tutorial", "d2l", "neural_style"])
def test_convert_weights_round_trips(target):
    lam = costs.PAPER_STYLE_LAYERS
    there = conventions.convert_weights(10.0, 40.0, lam, style_shapes=SHAPES, content_shape=CONTENT_SHAPE,
                                  source="paper", target=target)
    back = conventions.convert_weights(there.alpha, there.beta, there.style_weights, style_shapes=SHAPES,
                                 content_shape=CONTENT_SHAPE, source=target, target="paper")
    assert back.alpha == pytest.approx(10.0, rel=1e-12)
    assert back.beta == pytest.approx(40.0, rel=1e-12)
    for k in lam:
        assert back.style_weights[k] == pytest.approx(lam[k], rel=1e-12)
    assert sum(there.style_weights.values()) == pytest.approx(sum(lam.values()), rel=1e-12)


def test_converted_weights_give_the_same_objective():
    shapes = {"conv1_1": (3, 6, 6), "conv2_1": (8, 3, 3)}
    a_s = {k: acts((1,) + s, i) for i, (k, s) in enumerate(shapes.items())}
    a_g = {k: acts((1,) + s, 5 + i) for i, (k, s) in enumerate(shapes.items())}
    a_c, a_gc = acts((1, 8, 3, 3), 20), acts((1, 8, 3, 3), 21)
    w = conventions.convert_weights(1.0, 1e6, {"conv1_1": 1.0, "conv2_1": 1.0}, style_shapes=shapes,
                              content_shape=(8, 3, 3), source="pytorch_tutorial", target="paper")

    def objective(alpha, beta, lam, conv):
        return costs.total_cost(costs.content_cost(a_c, a_gc, conv), costs.style_cost(a_s, a_g, lam, conv), alpha, beta)

    tutorial = objective(1.0, 1e6, {"conv1_1": 1.0, "conv2_1": 1.0}, "pytorch_tutorial")
    ours = objective(w.alpha, w.beta, w.style_weights, "paper")
    assert torch.allclose(tutorial, ours, rtol=1e-12, atol=0)
    # The factor between conventions is 4/N^2 per layer: the high layers weigh differently.
    assert w.style_weights["conv2_1"] / w.style_weights["conv1_1"] == pytest.approx((3 / 8) ** 2)


def test_bad_inputs_say_what_to_do():
    with pytest.raises(ValueError, match="unsqueeze"):
        costs.gram_matrix(torch.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="same layer"):
        costs.layer_style_cost(torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 4, 4))
    with pytest.raises(ValueError, match="convention"):
        costs.content_cost(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), convention="nope")
    with pytest.raises(ValueError, match="style_shapes"):
        conventions.convert_weights(1, 1, {"conv1_1": 1}, style_shapes={}, content_shape=(1, 1, 1),
                              source="paper", target="d2l")


def test_costs_do_not_mutate_and_are_differentiable():
    a_s, a_g = acts((1, 3, 4, 4), 30), acts((1, 3, 4, 4), 31).requires_grad_(True)
    before = a_s.clone()
    (costs.layer_style_cost(a_s, a_g) + costs.content_cost(a_s, a_g)).sum().backward()
    assert torch.equal(a_s, before)
    assert a_g.grad is not None and torch.isfinite(a_g.grad).all()


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("batch", [1, 2])
def test_gram_target_cost_value_and_analytic_gradient_match_autograd(channels_last, batch):
    a_s = acts((1, 5, 4, 6), 40)
    a_g = acts((batch, 5, 4, 6), 41)
    if channels_last:
        a_g = a_g.contiguous(memory_format=torch.channels_last)
    G_S = costs.gram_matrix(a_s)
    x1 = a_g.clone().requires_grad_(True)
    x2 = a_g.clone().requires_grad_(True)
    fast = costs.gram_target_cost(G_S, x1)
    slow = costs.style_cost_from_grams(G_S, costs.gram_matrix(x2), 5, 24)
    assert torch.allclose(fast, slow, rtol=1e-12, atol=0)
    weights = torch.arange(1, batch + 1, dtype=torch.float64)  # a non-trivial upstream gradient
    (fast * weights).sum().backward()
    (slow * weights).sum().backward()
    assert torch.allclose(x1.grad, x2.grad, rtol=1e-10, atol=1e-14)
    assert torch.autograd.gradcheck(lambda x: costs.gram_target_cost(G_S, x), (a_g.clone().requires_grad_(True),))


@pytest.mark.parametrize("channels_last", [False, True])
def test_gram_target_cost_takes_low_precision_activations(channels_last):
    # A network run in bfloat16 (or float16 on a GPU) hands the cost bfloat16 activations while the
    # target Gram stays float32; the analytic backward used to fail there ("expected scalar type
    # Float but found BFloat16"). Its gradient must match float64 maths on the same rounded values.
    a_g = acts((1, 6, 5, 7), 42).to(torch.bfloat16)
    if channels_last:
        a_g = a_g.contiguous(memory_format=torch.channels_last)
    G_S = costs.gram_matrix(acts((1, 6, 5, 7), 43)).float()
    x = a_g.clone().requires_grad_(True)
    value = costs.gram_target_cost(G_S, x)
    value.sum().backward()
    assert x.grad.dtype == torch.bfloat16 and x.grad.shape == x.shape
    exact = a_g.double().requires_grad_(True)
    reference = costs.style_cost_from_grams(G_S.double(), costs.gram_matrix(exact), 6, 35)
    reference.sum().backward()
    assert torch.allclose(value.double(), reference.detach(), rtol=2e-2)
    assert torch.allclose(x.grad.double(), exact.grad, rtol=3e-2, atol=3e-2 * exact.grad.abs().max().item())


def test_weighted_style_sum_is_the_lambda_weighted_sum_over_layers():
    per_layer = {"conv1_1": torch.tensor([1.0, 2.0]), "conv2_1": torch.tensor([10.0, 20.0])}
    total = costs.weighted_style_sum({"conv1_1": 0.5, "conv2_1": 0.1}, per_layer)
    assert torch.allclose(total, torch.tensor([0.5 * 1 + 0.1 * 10, 0.5 * 2 + 0.1 * 20]))
    # a layer with lambda = 0 may be absent; a weighted layer may not
    assert torch.allclose(costs.weighted_style_sum({"conv1_1": 1.0, "conv5_1": 0.0}, per_layer), per_layer["conv1_1"])
    with pytest.raises(KeyError):
        costs.weighted_style_sum({"conv3_1": 1.0}, per_layer)
