"""Lesson 09's training diagnostics: symmetric initialisation, dead and leaky ReLUs, Karpathy's
ratios, Glorot & Bengio's standard initialisation, residual variance growth and the tanh RNN."""

import math

import matplotlib

matplotlib.use("Agg")

import pytest
import torch

from coursekit.gradient_flow import MLPConfig, make_mlp, sample_batch, train_mlp
from coursekit.gradient_flow.analysis import single_thread
from coursekit.gradient_flow.diagnostic_plots import (clipping_histograms, grad_data_profile, gradient_histograms,
                                                      moving_average, tanh_histograms, update_data_curves)
from coursekit.gradient_flow.diagnostics import (accuracy, dead_fraction, distinct_units, fill_weights_, gain_mlp,
                                                 grad_data_ratio, karpathy_diagnostics, layer_means_during_training,
                                                 saturated_share, sgd_steps, uniform_standard_init_,
                                                 update_data_ratio)
from coursekit.gradient_flow.recurrent import RNNConfig, make_rnn, memory_task, state_gradients, train_rnn
from coursekit.gradient_flow.residual import residual_mean_squares

F64 = torch.float64


@pytest.fixture(scope="module")
def xy():
    return sample_batch(200, seed=3)


# ---- symmetry --------------------------------------------------------------------------------
def test_constant_weights_keep_every_unit_of_a_layer_identical_and_zero_weights_never_move(xy):
    x, y = xy
    const = fill_weights_(make_mlp(MLPConfig(depth=3, width=8, activation="tanh")), 0.1)
    sgd_steps(const, x, y, steps=20, lr=0.5, batch_size=32)
    assert [distinct_units(b.linear.weight) for b in const.blocks] == [1, 1, 1]
    assert float((const.blocks[0].linear.weight.detach() - 0.1).abs().max()) > 1e-3  # it did train
    zero = fill_weights_(make_mlp(MLPConfig(depth=3, width=8, activation="tanh")), 0.0)
    sgd_steps(zero, x, y, steps=20, lr=0.5, batch_size=32)
    assert all(float(lin.weight.detach().abs().max()) == 0.0 for lin in zero.linears())
    assert float(zero.head.bias.detach().abs().max()) > 0  # only the output bias learns
    rand = make_mlp(MLPConfig(depth=3, width=8, activation="tanh"))
    assert [distinct_units(b.linear.weight) for b in rand.blocks] == [8, 8, 8]


def test_distinct_units_counts_rows_up_to_the_tolerance():
    w = torch.tensor([[1.0, 2.0], [1.0, 2.0 + 1e-13], [1.0, 2.1], [0.0, 0.0]], dtype=F64)
    assert distinct_units(w) == 3


# ---- dead and leaky ReLUs ----------------------------------------------------------------------
def test_dead_fraction_counts_units_inactive_for_every_example_and_leaky_relu_is_max_of_slope_z_and_z():
    model = make_mlp(MLPConfig(depth=1, width=4, in_dim=2, activation="relu"))
    with torch.no_grad():
        lin = model.blocks[0].linear
        lin.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [-1.0, 0.0]], dtype=F64))
        lin.bias.copy_(torch.tensor([0.0, 0.0, -1.0, 0.0], dtype=F64))
    x = torch.tensor([[1.0, -1.0], [2.0, 1.0]], dtype=F64)  # unit 2: z = -1 always; unit 3: z = -x1 < 0 always
    assert dead_fraction(model, x) == [0.5]
    leaky = make_mlp(MLPConfig(depth=1, width=4, in_dim=2, activation="leaky_relu"))
    z = leaky.blocks[0].linear(x)
    assert torch.allclose(leaky.blocks[0](x), torch.maximum(0.01 * z, z), rtol=0, atol=1e-15)


# ---- Karpathy's ratios --------------------------------------------------------------------------
def test_ratios_and_saturated_share_on_numbers():
    a = torch.tensor([0.0, 0.98, -0.99, 0.5], dtype=F64)
    assert saturated_share(a) == 0.5
    w = torch.tensor([1.0, -1.0, 3.0, -3.0], dtype=F64)  # std = 2*sqrt(10/3) (unbiased, as torch.std)
    g = 0.01 * w
    assert grad_data_ratio(w, g) == pytest.approx(0.01)
    assert update_data_ratio(w, g, lr=0.1) == pytest.approx(-3.0)


def test_gain_mlp_draws_std_gain_over_sqrt_fan_in_and_batch_norm_divides_the_gain_out(xy):
    x, y = xy
    model = gain_mlp(4, 5 / 3, width=256)
    for block in model.blocks[1:]:
        assert float(block.linear.weight.detach().std()) == pytest.approx(5 / 3 / 16, rel=0.02)
    small, large = gain_mlp(3, 0.5, batch_norm=True), gain_mlp(3, 3.0, batch_norm=True)
    acts_small, acts_large = small.forward_with_activations(x)[2], large.forward_with_activations(x)[2]
    assert all(torch.allclose(a, b, atol=1e-3) for a, b in zip(acts_small, acts_large))  # up to eps
    d_small = karpathy_diagnostics(small, x, y, steps=3, lr=0.1, batch_size=64, gain=0.5)
    d_large = karpathy_diagnostics(large, x, y, steps=3, lr=0.1, batch_size=64, gain=3.0)
    # std(W) scales with the gain and dL/dW with 1/gain: grad:data scales with 1/gain^2 = 1/36
    for a, b in zip(d_small.grad_data, d_large.grad_data):
        assert a / b == pytest.approx(36.0, rel=1e-3)
    assert len(d_small.update_data) == 3 and len(d_small.update_data[0]) == 3
    assert d_small.saturated == pytest.approx(d_large.saturated, abs=1e-3)


def test_large_gain_saturates_tanh_and_small_gain_does_not(xy):
    x, y = xy
    big = karpathy_diagnostics(gain_mlp(5, 3.0), x, y, steps=1)
    small = karpathy_diagnostics(gain_mlp(5, 0.5), x, y, steps=1)
    assert min(big.saturated) > 0.2 and max(small.saturated) < 0.01


# ---- Glorot & Bengio -----------------------------------------------------------------------------
def test_standard_init_is_uniform_within_one_over_sqrt_fan_in_and_means_are_traced(xy):
    x, y = xy
    model = uniform_standard_init_(make_mlp(MLPConfig(depth=2, width=100, activation="sigmoid")))
    w = model.blocks[1].linear.weight.detach()
    assert float(w.abs().max()) <= 0.1 and float(w.std()) == pytest.approx(0.1 / math.sqrt(3), rel=0.03)
    with torch.no_grad():
        start = [float(a.mean()) for a in model.forward_with_activations(x[:50])[2]]
    steps, means = layer_means_during_training(model, x, y, x[:50], steps=30, lr=0.5, every=10)
    assert steps == [0, 10, 20] and means.shape == (3, 2)
    assert means[0].tolist() == pytest.approx(start, rel=1e-12)


# ---- residual variance ---------------------------------------------------------------------------
def test_residual_mean_square_doubles_per_block_and_grows_by_one_with_batch_norm():
    plain = residual_mean_squares(10, width=512, batch=1024)
    assert (plain[10] / plain[0]) ** 0.1 == pytest.approx(2.0, rel=0.05)
    bn = residual_mean_squares(10, width=256, batch=1024, batch_norm=True)
    steps = [b - a for a, b in zip(bn, bn[1:])]
    assert all(s == pytest.approx(1.0, abs=0.15) for s in steps)
    assert bn[10] - bn[0] == pytest.approx(10.0, rel=0.05)


# ---- the recurrent network ------------------------------------------------------------------------
def test_rnn_w_hh_has_every_singular_value_rho_and_the_task_writes_the_class_into_x1():
    cfg = RNNConfig(hidden=16, rho=1.5)
    s = torch.linalg.svdvals(make_rnn(cfg).w_hh.detach())
    assert torch.allclose(s, torch.full_like(s, 1.5), atol=1e-12)
    xs, y = memory_task(500, 5, cfg, seed=0, noise=0.0)
    assert xs.shape == (5, 500, cfg.inputs) and float(xs[1:].abs().max()) == 0.0
    assert torch.equal(xs[0, :, :cfg.classes].argmax(1), y)


def test_state_gradients_are_the_product_of_the_step_jacobians_and_bounded_by_rho_power():
    cfg = RNNConfig(hidden=6, inputs=4, classes=3, rho=0.8)
    model = make_rnn(cfg)
    xs, y = memory_task(1, 6, cfg, seed=2)
    norms = state_gradients(model, xs, y)
    logits, states = model(xs)
    (g_T,) = torch.autograd.grad(torch.nn.functional.cross_entropy(logits, y), states[-1])
    g = g_T[0].detach()
    w = model.w_hh.detach()
    for t in range(len(states) - 1, 0, -1):  # dL/dh_{t-1} = W_hh^T diag(1 - h_t^2) dL/dh_t (0-based t)
        g = w.T @ ((1 - states[t][0].detach() ** 2) * g)
        assert float(g.norm()) == pytest.approx(norms[t - 1], rel=1e-10)
        assert norms[t - 1] <= 0.8 ** (len(states) - t) * norms[-1] * (1 + 1e-12)


def test_train_rnn_records_clipping_and_clipped_steps_have_norm_above_c():
    hist = train_rnn(RNNConfig(hidden=8, rho=2.0), steps=20, seq_len=8, lr=0.1, clip=0.5)
    assert len(hist.loss) == len(hist.grad_norm) == len(hist.clipped) == 20
    assert hist.clipped == [n > 0.5 for n in hist.grad_norm] and 0.0 <= hist.accuracy <= 1.0


# ---- determinism ---------------------------------------------------------------------------------
def test_train_mlp_runs_in_float64_on_one_thread_and_restores_the_thread_count():
    before = torch.get_num_threads()
    with single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    a = train_mlp(MLPConfig(depth=3, width=16, activation="tanh"), steps=5, lr=0.1)
    b = train_mlp(MLPConfig(depth=3, width=16, activation="tanh"), steps=5, lr=0.1)
    assert a["loss"] == b["loss"] and torch.get_num_threads() == before


# ---- plots ---------------------------------------------------------------------------------------
def test_diagnostic_plots_draw_headless(xy):
    import matplotlib.pyplot as plt

    x, y = xy
    d = karpathy_diagnostics(gain_mlp(3, 5 / 3), x, y, steps=4)
    fig, axes = plt.subplots(1, 5)
    assert len(tanh_histograms(d, axes[0])) == 3 and len(gradient_histograms(d, axes[1])) == 3
    assert len(grad_data_profile([d], axes[2])) == 1 and len(update_data_curves(d, axes[3])) == 3
    update_data_curves(d, axes[3], mean_only=True, label="again")
    assert sum(line.get_label() == "guide: 1e-3" for line in axes[3].lines) == 1  # one guide line
    assert axes[0].get_legend().get_texts()[0].get_text() == f"layer 1: {100 * d.saturated[0]:.0f}% saturated"
    patches = clipping_histograms([0.5, 1.0, 3.0, 10.0], 2.0, axes[4])
    assert len(patches) > 0 and any("50% of steps clipped" in t.get_text() for t in axes[4].get_legend().get_texts())
    plt.close(fig)
    assert accuracy(make_mlp(MLPConfig(depth=2, width=8)), x, y) <= 1.0


def test_moving_average_on_numbers():
    assert moving_average([1.0, 2.0, 3.0, 6.0], 2).tolist() == [1.5, 2.5, 4.5]
    with pytest.raises(ValueError, match="window"):
        moving_average([1.0], 0)
