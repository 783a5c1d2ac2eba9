"""Lesson 09's package code: initialisation scales, gradient flow through deep MLPs, the Jacobian
view, clipping against torch, training, and the init_std exercise's check."""

import math

import pytest
import torch
import torch.nn.functional as F

from coursekit.gradient_flow import (MLPConfig, clip_by_global_norm, clip_grad_norm_, global_norm, gradient_report,
                                     init_std, jacobian_view, make_mlp, sample_batch, train_mlp)
from coursekit.gradient_flow.exercises import EXERCISES
from coursekit.grading.runner import run_exercise


@pytest.fixture
def one_thread():
    """Tiny networks: one thread is fastest, and two threads thrash on a loaded 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def xy():
    return sample_batch(128, seed=0)


def report(xy, **kw):
    return gradient_report(make_mlp(MLPConfig(**kw)), *xy)


# ---- initialisation --------------------------------------------------------------------------
def test_init_std_formulas_on_numbers():
    assert init_std(64, 64, "xavier") == pytest.approx(0.125)  # sqrt(2/128)
    assert init_std(100, 300, "xavier") == pytest.approx(math.sqrt(0.005))  # sqrt(2/400)
    assert init_std(50, 10, "he") == pytest.approx(0.2)  # sqrt(2/50)
    assert init_std(8, 1000, "he") == pytest.approx(0.5)  # fan_out plays no part
    assert init_std(3, 7, "too_small") == 0.01 and init_std(3, 7, "too_large") == 1.0
    with pytest.raises(ValueError, match="choose one of"):
        init_std(3, 3, "lecun")


def test_make_mlp_draws_weights_with_that_std_and_is_seeded():
    model = make_mlp(MLPConfig(depth=3, width=256, in_dim=64, activation="relu", init="he"))
    w = model.blocks[1].linear.weight.detach()
    assert w.shape == (256, 256) and w.dtype == torch.float64
    assert float(w.std()) == pytest.approx(init_std(256, 256, "he"), rel=0.02)
    assert float(model.blocks[0].linear.weight.detach().std()) == pytest.approx(init_std(64, 256, "he"), rel=0.03)
    assert all(float(b.linear.bias.detach().abs().max()) == 0.0 for b in model.blocks)
    again = make_mlp(MLPConfig(depth=3, width=256, in_dim=64, activation="relu", init="he"))
    assert torch.equal(w, again.blocks[1].linear.weight)
    other = make_mlp(MLPConfig(depth=3, width=256, in_dim=64, activation="relu", init="he", seed=1))
    assert not torch.equal(w, other.blocks[1].linear.weight)


def test_parameter_count_is_pinned():
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    # 3 hidden layers 64 -> 64 (weights and biases), then 64 -> 10
    assert count(make_mlp(MLPConfig(depth=3))) == 3 * (64 * 64 + 64) + (64 * 10 + 10) == 13130
    assert count(make_mlp(MLPConfig(depth=3, batch_norm=True))) == 13130 + 3 * 2 * 64  # gamma and beta
    model = make_mlp(MLPConfig(depth=3, width=32, residual=True))  # 64 -> 32: the first block cannot be residual
    assert [b.residual for b in model.blocks] == [False, True, True]


def test_config_rejects_unknown_names():
    with pytest.raises(ValueError, match="activation"):
        MLPConfig(activation="gelu")
    with pytest.raises(ValueError, match="initialisation"):
        MLPConfig(init="orthogonal")


# ---- activations through depth ---------------------------------------------------------------
def test_he_keeps_relu_activation_scale_while_too_small_shrinks_it_geometrically(xy):
    he = report(xy, depth=30, width=128, activation="relu", init="he")
    rms = [float(a.pow(2).mean().sqrt()) for a in he.activations]
    assert 0.33 < rms[-1] / rms[0] < 3.0  # E[a^2] preserved: no trend over 30 layers
    small = report(xy, depth=30, width=128, activation="relu", init="too_small")
    rms_s = [float(a.pow(2).mean().sqrt()) for a in small.activations]
    # each layer multiplies the rms by about sqrt(width/2) * 0.01 = 0.08: a straight line in log scale
    factors = [b / a for a, b in zip(rms_s[1:], rms_s[2:])]
    expected = math.sqrt(128 / 2) * 0.01
    assert all(0.5 * expected < f < 2 * expected for f in factors)
    assert rms_s[-1] / rms_s[0] < 1e-25


def test_too_large_init_explodes(xy):
    r = report(xy, depth=20, activation="relu", init="too_large")
    assert r.activation_std[-1] / r.activation_std[0] > 1e10
    assert min(r.weight_grad_norms) > 1e10 and r.loss > 1e10


# ---- gradients through depth -----------------------------------------------------------------
def test_sigmoid_gradients_vanish_and_more_so_with_depth(xy):
    r10 = report(xy, depth=10, activation="sigmoid", init="xavier")
    r20 = report(xy, depth=20, activation="sigmoid", init="xavier")
    assert r20.weight_grad_norms[0] < 1e-6 * r20.weight_grad_norms[19]
    assert r20.ratio_first_last < 1e-4 * r10.ratio_first_last
    # ||dL/da^[l]|| shrinks layer after layer towards the input
    g = r20.activation_grad_norms
    assert all(a < b for a, b in zip(g[:-1], g[1:]))


def test_batch_norm_and_residual_fix_the_vanishing_sigmoid(xy):
    plain = report(xy, depth=20, activation="sigmoid", init="xavier")
    bn = report(xy, depth=20, activation="sigmoid", init="xavier", batch_norm=True)
    res = report(xy, depth=20, activation="sigmoid", init="xavier", residual=True)
    assert plain.ratio_first_last < 1e-8
    assert bn.ratio_first_last > 1e-1 and res.ratio_first_last > 1e-2


def test_report_does_not_touch_grad_fields_and_counts_saturation(xy):
    model = make_mlp(MLPConfig(depth=4, activation="relu", init="he"))
    r = gradient_report(model, *xy)
    assert all(p.grad is None for p in model.parameters())
    assert len(r.weight_grad_norms) == 5 and len(r.activation_grad_norms) == 4 and r.depth == 4
    assert all(0.3 < s < 0.7 for s in r.saturated)  # about half of the ReLUs are off
    flat = report(xy, depth=4, activation="sigmoid", init="too_large")
    assert flat.saturated[-1] > 0.1 > report(xy, depth=4, activation="sigmoid", init="xavier").saturated[-1]


def test_weight_grad_norms_equal_backward(xy):
    model = make_mlp(MLPConfig(depth=5, activation="tanh", batch_norm=True, residual=True))
    r = gradient_report(model, *xy)
    F.cross_entropy(model(xy[0]), xy[1]).backward()
    norms = [float(lin.weight.grad.norm()) for lin in model.linears()]
    assert norms == pytest.approx(r.weight_grad_norms, rel=1e-12)
    assert r.global_grad_norm == pytest.approx(float(global_norm([p.grad for p in model.parameters()])), rel=1e-12)


# ---- Jacobians ---------------------------------------------------------------------------------
def test_jacobians_are_diag_gprime_times_w_and_products_shrink_geometrically(xy):
    model = make_mlp(MLPConfig(depth=12, activation="sigmoid", init="xavier"))
    x = xy[0][0]
    view = jacobian_view(model, x)
    a = x[None]
    for block, J in zip(model.blocks, view.jacobians):  # J^[l] = diag(sigma'(z^[l])) W^[l]
        z = block.linear(a)
        s = torch.sigmoid(z)[0]
        assert torch.allclose(J, torch.diag(s * (1 - s)) @ block.linear.weight, rtol=1e-12, atol=1e-15)
        a = block(a)
    # the full Jacobian da^[L]/dx from autograd has the norm of the product
    full = torch.autograd.functional.jacobian(lambda v: torch.nn.Sequential(*model.blocks)(v[None])[0], x)
    assert view.product_norms[0] == pytest.approx(float(torch.linalg.matrix_norm(full, ord=2)), rel=1e-10)
    assert view.product_norms[-1] == 1.0 and max(view.layer_norms) < 1.0
    logs = [math.log10(p) for p in view.product_norms]
    assert all(b > a for a, b in zip(logs[:-1], logs[1:]))  # shrinks every layer towards the input
    assert logs[0] < -5


def test_jacobian_view_refuses_batch_norm(xy):
    with pytest.raises(ValueError, match="batch_norm=False"):
        jacobian_view(make_mlp(MLPConfig(depth=3, batch_norm=True)), xy[0][0])


def test_residual_jacobian_is_identity_plus():
    model = make_mlp(MLPConfig(depth=3, width=64, activation="sigmoid", init="too_small", residual=True))
    view = jacobian_view(model, torch.randn(64, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    for J in view.jacobians:
        assert torch.allclose(J, torch.eye(64, dtype=torch.float64), atol=0.02)


# ---- clipping ----------------------------------------------------------------------------------
@pytest.mark.parametrize("max_norm", [0.05, 1.0, 1e6])
def test_clip_equals_torch_clip_grad_norm_(max_norm):
    g = torch.Generator().manual_seed(0)
    grads = [torch.randn(5, 3, generator=g, dtype=torch.float64), 3 * torch.randn(7, generator=g, dtype=torch.float64)]
    before = [t.clone() for t in grads]
    clipped, total = clip_by_global_norm(grads, max_norm)
    assert all(torch.equal(a, b) for a, b in zip(before, grads))  # inputs untouched
    params = [torch.nn.Parameter(torch.zeros_like(t)) for t in grads]
    for p, t in zip(params, grads):
        p.grad = t.clone()
    torch_total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    assert total == pytest.approx(float(torch_total), rel=1e-12)
    assert all(torch.allclose(c, p.grad, rtol=1e-12, atol=0) for c, p in zip(clipped, params))
    assert float(global_norm(clipped)) == pytest.approx(min(total, max_norm), rel=1e-5)
    # and the in-place form does what torch's does
    mine = [torch.nn.Parameter(torch.zeros_like(t)) for t in grads]
    for p, t in zip(mine, grads):
        p.grad = t.clone()
    assert clip_grad_norm_(mine, max_norm) == pytest.approx(total)
    assert all(torch.allclose(a.grad, b.grad, rtol=1e-12, atol=0) for a, b in zip(mine, params))


# ---- training ----------------------------------------------------------------------------------
def test_training_vanishing_stalls_he_relu_learns_and_clipping_rescues_a_large_step(one_thread):
    stuck = train_mlp(MLPConfig(depth=12, activation="sigmoid", init="xavier"), steps=60, lr=0.1)
    learns = train_mlp(MLPConfig(depth=6, activation="relu", init="he"), steps=60, lr=0.1)
    assert stuck["loss"][-1] > 2.2 and stuck["first_layer"][0] < 1e-5
    assert learns["loss"][-1] < 1.0 and learns["accuracy"][-1] > 0.7
    cfg = MLPConfig(depth=20, activation="relu", init="he")
    diverges = train_mlp(cfg, steps=40, lr=1.0)  # float64: overflows at step 3 (float32 would sooner)
    clipped = train_mlp(cfg, steps=40, lr=1.0, clip=1.0)
    assert not math.isfinite(diverges["loss"][-1]) and len(diverges["loss"]) < 40
    assert len(clipped["loss"]) == 40 and clipped["loss"][-1] < clipped["loss"][0]


# ---- the exercise ------------------------------------------------------------------------------
def test_init_std_exercise_reference_passes_and_has_hidden_cases():
    ex = EXERCISES["init_std"]
    assert run_exercise(ex, ex.reference).passed
    assert ex.lesson == "09_vanishing_exploding_gradients" and ex.points >= 1 and len(ex.hidden) >= 3
    public = {c.label for c in ex.cases}
    assert not public & {c.label for c in ex.hidden}


def test_init_std_mistakes_get_their_hints():
    ex = EXERCISES["init_std"]

    def variance(fi, fo, kind):
        return 2 / fi if kind == "he" else 2 / (fi + fo)

    def fan_out(fi, fo, kind):
        return math.sqrt(2 / fo) if kind == "he" else math.sqrt(2 / (fi + fo))

    def no_two(fi, fo, kind):
        return math.sqrt(1 / fi) if kind == "he" else math.sqrt(1 / (fi + fo))

    for fn, word in [(variance, "variance"), (fan_out, "fan_in"), (no_two, "factor 2")]:
        res = run_exercise(ex, fn)
        assert not res.passed and word in res.hints[0], (fn.__name__, res.hints)


# ---- the clip_factor exercise ------------------------------------------------------------------
def test_clip_factor_on_hand_computed_numbers():
    from coursekit.gradient_flow import clip_factor

    grads = [torch.tensor([3.0, 0.0], dtype=torch.float64), torch.tensor([[4.0]], dtype=torch.float64)]  # ||g|| = 5
    assert clip_factor(grads, 1.0) == pytest.approx(1.0 / 5.0)
    assert clip_factor(grads, 2.5) == pytest.approx(0.5)
    assert clip_factor(grads, 5.0) == pytest.approx(1.0, abs=1e-6) and clip_factor(grads, 7.0) == 1.0
    assert clip_factor([torch.zeros(3, dtype=torch.float64)], 1.0) == 1.0


def test_clip_factor_exercise_needs_eps_only_when_every_gradient_is_zero_and_names_mistakes():
    ex = EXERCISES["clip_factor"]
    assert run_exercise(ex, ex.reference).passed
    assert ex.lesson == "09_vanishing_exploding_gradients" and len(ex.hidden) >= 3

    def norm(grads):
        return math.sqrt(sum(float((g ** 2).sum()) for g in grads))

    no_eps = run_exercise(ex, lambda grads, c: min(1.0, c / norm(grads)))  # right wherever ||g|| > 0
    assert not no_eps.passed and len(no_eps.failures) == 1 and "every gradient" in no_eps.failures[0]
    assert "ε" in no_eps.hints[0], no_eps.hints

    def sum_of_norms(grads, c):
        return min(1.0, c / sum(float(g.norm()) for g in grads))

    def scales_up(grads, c):
        return c / norm(grads)

    for fn, word in [(sum_of_norms, "adding the tensors' norms"), (scales_up, "never scales")]:
        res = run_exercise(ex, fn)
        assert not res.passed and word in res.hints[0], res.hints
