"""coursekit.gan: losses on hand-computed values, D/G steps touch only their player, Algorithm 1's k,
NaN handling, metrics, and the ring acceptance (under SGD + momentum the minimax generator's gradient
vanishes and the non-saturating one covers the modes first)."""

import copy
import math

import pytest
import torch

from coursekit.gan import (GANTrainConfig, discriminator_loss, discriminator_step, generator_loss, generator_step,
                           make_gan, make_optimizers, noise_sampler, toy_data, train_gan)
from coursekit.gan.metrics import (generator_objective_at_optimum, jsd, jsd_estimate, mode_coverage,
                                   optimal_discriminator, toy_metrics)
from coursekit.gan.dynamics import GANProbe
from coursekit.gan.train import train_discriminator

logit = lambda p: torch.logit(torch.tensor([p], dtype=torch.float64))  # noqa: E731


def test_discriminator_loss_hand_values():
    # D(x) = 0.8, D(G(z)) = 0.3: -log 0.8 - log 0.7
    got = discriminator_loss(logit(0.8), logit(0.3))
    assert got.item() == pytest.approx(-math.log(0.8) - math.log(0.7), rel=1e-12)
    # mean over the batch: two real samples 0.8 and 0.5
    got = discriminator_loss(torch.cat([logit(0.8), logit(0.5)]), logit(0.3))
    assert got.item() == pytest.approx(-(math.log(0.8) + math.log(0.5)) / 2 - math.log(0.7), rel=1e-12)


def test_generator_losses_hand_values():
    assert generator_loss(logit(0.2), "non_saturating").item() == pytest.approx(-math.log(0.2), rel=1e-12)
    assert generator_loss(logit(0.2), "minimax").item() == pytest.approx(math.log(0.8), rel=1e-12)
    with pytest.raises(ValueError, match="non_saturating"):
        generator_loss(logit(0.2), "wasserstein")


def test_losses_stable_for_extreme_logits():
    big = torch.tensor([100.0, -100.0])
    for value in (discriminator_loss(big, big), generator_loss(big, "minimax"), generator_loss(big, "non_saturating")):
        assert torch.isfinite(value)
    # D(x) -> 1 and D(G(z)) -> 0 costs nothing; the opposite costs about 100 per term
    assert discriminator_loss(torch.tensor([100.0]), torch.tensor([-100.0])).item() == pytest.approx(0, abs=1e-30)
    assert discriminator_loss(torch.tensor([-100.0]), torch.tensor([100.0])).item() == pytest.approx(200, rel=1e-6)
    # gradients stay finite too
    x = big.clone().requires_grad_(True)
    generator_loss(x, "minimax").backward()
    assert torch.isfinite(x.grad).all()


def test_saturation_gradient_magnitudes():
    # d/dl of the minimax loss is -D(G(z)); of the non-saturating loss -(1 - D(G(z)))
    l = logit(0.01).requires_grad_(True)
    generator_loss(l, "minimax").backward()
    assert l.grad.item() == pytest.approx(-0.01, rel=1e-9)
    l = logit(0.01).requires_grad_(True)
    generator_loss(l, "non_saturating").backward()
    assert l.grad.item() == pytest.approx(-0.99, rel=1e-9)


def _setup(seed=0):
    D, G = make_gan(2, 2, hidden=16, seed=seed)
    g = torch.Generator().manual_seed(seed)
    return D, G, toy_data("ring").sample(32, g), noise_sampler(2)(32, g)


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_discriminator_step_changes_only_D():
    D, G, x, z = _setup()
    opt_D, _ = make_optimizers(D, G, "sgd", lr_D=0.1)
    d0, g0 = _params(D), _params(G)
    out = discriminator_step(D, G, x, z, discriminator_loss, opt_D)
    assert not _same(d0, _params(D))
    assert _same(g0, _params(G))
    assert all(p.grad is None for p in G.parameters())
    assert set(out) == {"loss_D", "D(x)", "D(G(z))"} and 0 < out["D(x)"] < 1


def test_generator_step_changes_only_G_and_leaves_D_grads_alone():
    D, G, x, z = _setup()
    _, opt_G = make_optimizers(D, G, "sgd", lr_G=0.1)
    d0, g0 = _params(D), _params(G)
    out = generator_step(D, G, z, lambda l: generator_loss(l, "non_saturating"), opt_G)
    assert _same(d0, _params(D))
    assert not _same(g0, _params(G))
    assert all(p.grad is None for p in D.parameters())
    assert all(p.requires_grad for p in D.parameters())  # the freeze is undone
    assert set(out) == {"loss_G", "D(G(z))"}


def test_models_seeded_without_global_rng():
    state = torch.random.get_rng_state()
    D1, G1 = make_gan(seed=3)
    assert torch.equal(state, torch.random.get_rng_state())
    D2, G2 = make_gan(seed=3)
    assert _same(_params(G1), _params(G2)) and _same(_params(D1), _params(D2))
    assert D1(torch.zeros(5, 2)).shape == (5,) and G1(torch.zeros(5, 2)).shape == (5, 2)


@pytest.mark.parametrize("k", [1, 3])
def test_train_gan_k_discriminator_steps_per_generator_step(k):
    D, G, _, _ = _setup()
    opt_D, opt_G = make_optimizers(D, G, "sgd", lr_D=0.01, lr_G=0.01)
    calls = []
    opt_D.register_step_post_hook(lambda *a: calls.append("D"))
    opt_G.register_step_post_hook(lambda *a: calls.append("G"))
    data = toy_data("ring")
    history = train_gan(D, G, data.sample, noise_sampler(2), opt_D, opt_G, GANTrainConfig(steps=4, k=k, m=16))
    assert calls == (["D"] * k + ["G"]) * 4
    assert len(history["loss_D"]) == len(history["loss_G"]) == len(history["D(G(z))"]) == 4


def test_train_gan_is_deterministic_and_leaves_global_rng():
    data = toy_data("gaussian_1d")
    results = []
    for _ in range(2):
        D, G = make_gan(1, 1, hidden=8, seed=0)
        state = torch.random.get_rng_state()
        h = train_gan(D, G, data.sample, noise_sampler(1, "uniform"), *make_optimizers(D, G),
                      GANTrainConfig(steps=5, m=8, seed=4))
        assert torch.equal(state, torch.random.get_rng_state())
        results.append(h["loss_D"])
    assert results[0] == results[1]


def test_nan_stops_training_and_restores_last_good_weights():
    D, G, _, _ = _setup()
    data = toy_data("ring")
    snapshots = []

    def poison(it, history):
        snapshots.append(copy.deepcopy(G.state_dict()))
        if it == 2:
            with torch.no_grad():
                next(D.parameters()).fill_(float("nan"))

    with pytest.warns(RuntimeWarning, match="NaN"):
        h = train_gan(D, G, data.sample, noise_sampler(2), *make_optimizers(D, G), GANTrainConfig(steps=10, m=16),
                      callback=poison)
    assert len(h["loss_D"]) == 3 and "iteration 3" in h["message"]
    assert all(torch.isfinite(p).all() for p in D.parameters())
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), snapshots[-1].values()))


def test_callback_returning_true_ends_training():
    D, G, _, _ = _setup()
    h = train_gan(D, G, toy_data("ring").sample, noise_sampler(2), *make_optimizers(D, G), GANTrainConfig(steps=50, m=8),
                  callback=lambda it, hist: it == 1)
    assert len(h["loss_D"]) == 2 and h["message"] == "stopped after 2 iterations"


def test_train_config_rejects_bad_settings():
    for bad in (dict(k=0), dict(m=0), dict(steps=-1), dict(metrics_every=0)):
        with pytest.raises(ValueError, match="need k >= 1"):
            GANTrainConfig(**{"steps": 1, **bad})
    with pytest.raises(ValueError, match="minimax"):
        GANTrainConfig(steps=1, g_loss="wasserstein")


def test_toy_data_seeded_and_shaped():
    for name in ("gaussian_1d", "ring", "grid", "spiral"):
        data = toy_data(name)
        a = data.sample(100, torch.Generator().manual_seed(1))
        b = data.sample(100, torch.Generator().manual_seed(1))
        assert a.shape == (100, data.dim) and torch.equal(a, b)
    assert len(toy_data("grid").centres) == 25 and len(toy_data("ring").centres) == 8
    with pytest.raises(ValueError, match="ring"):
        toy_data("moons")


def test_optimal_discriminator_and_jsd():
    p_data = torch.tensor([0.0, 1.0, 3.0, 0.0])
    p_g = torch.tensor([0.0, 1.0, 1.0, 2.0])
    assert torch.equal(optimal_discriminator(p_data, p_g), torch.tensor([0.5, 0.5, 0.75, 0.0]))
    p = torch.tensor([1.0, 0.0], dtype=torch.float64)
    assert jsd(p, p).item() == pytest.approx(0.0)
    assert jsd(p, p.flip(0)).item() == pytest.approx(math.log(2))
    assert generator_objective_at_optimum(0.0) == pytest.approx(-math.log(4))
    assert generator_objective_at_optimum(math.log(2)) == pytest.approx(0.0, abs=1e-12)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 2, generator=g)
    assert jsd_estimate(x, torch.randn(4000, 2, generator=g)) < 0.1 < jsd_estimate(x, x + 3)


def test_mode_coverage():
    ring = toy_data("ring")
    g = torch.Generator().manual_seed(0)
    full = mode_coverage(ring.sample(2000, g), ring.centres, ring.std)
    assert full.covered == 8 and full.high_quality > 0.95
    collapsed = ring.centres[0] + ring.std * torch.randn(1000, 2, generator=g)
    one = mode_coverage(collapsed, ring.centres, ring.std)
    assert one.covered == 1 and one.counts[0] > 950
    assert mode_coverage(torch.zeros(10, 2), ring.centres, ring.std).high_quality == 0.0


def test_discriminator_approaches_optimum_in_1d():
    # G fixed: D trained alone approaches D* = p_data / (p_data + p_g) where both have mass.
    data = toy_data("gaussian_1d")
    D, _ = make_gan(1, 1, hidden=32, seed=0)
    G = torch.nn.Identity()  # G(z) = z: p_g = N(0, 1)
    train_discriminator(D, G, data.sample, noise_sampler(1), steps=600, m=256, lr=3e-3, seed=0)
    from coursekit.gan.data import gaussian_pdf
    x = torch.linspace(0.0, 2.5, 11)
    d_star = optimal_discriminator(gaussian_pdf(x, 2.0, 0.5), gaussian_pdf(x, 0.0, 1.0))
    with torch.no_grad():
        got = torch.sigmoid(D(x[:, None]))
    assert (got - d_star).abs().max() < 0.1


RING_OPTIMIZERS = dict(opt="sgd", lr_D=0.02, lr_G=0.02)  # the paper's optimiser (momentum 0.5, the default)
RING_CONFIG = dict(steps=1000, k=1, m=128, metrics_every=250)


def test_ring_minimax_saturates_under_sgd_and_non_saturating_does_not():
    """The lesson's experiment (seed 0): D gets a 300-step head start, so it rejects fakes
    confidently (D(G(z)) ≈ 0) as early in real training; then both losses train from that start with
    SGD + momentum. The minimax generator's output gradient starts about 500x smaller and it stays
    stuck for over 100 iterations; the non-saturating one covers most modes by iteration 500."""
    ring, noise = toy_data("ring"), noise_sampler(2)
    D0, G0 = make_gan(2, 2, hidden=64, seed=0)
    warm = train_discriminator(D0, G0, ring.sample, noise, steps=300, m=128, seed=100)
    assert warm["D(G(z))"][-1] < 0.01
    z = noise(1000, torch.Generator().manual_seed(7))
    runs, probes = {}, {}
    for kind in ("non_saturating", "minimax"):
        D, G = copy.deepcopy(D0), copy.deepcopy(G0)
        opt_D, opt_G = make_optimizers(D, G, **RING_OPTIMIZERS)
        probes[kind] = GANProbe(D, G, z, kind, every=20)
        runs[kind] = train_gan(D, G, ring.sample, noise, opt_D, opt_G, GANTrainConfig(g_loss=kind, seed=0, **RING_CONFIG),
                               metrics=toy_metrics(ring, noise), callback=probes[kind])["metrics"]
    ns, mm = runs["non_saturating"], runs["minimax"]
    assert ns["step"] == [0, 250, 500, 750, 1000]
    g_ns, g_mm = probes["non_saturating"].record, probes["minimax"].record
    assert g_mm["grad"][0] < 0.01 < 1 < g_ns["grad"][0]
    assert max(g_mm["D(G(z))"][:6]) < 0.01  # iterations 0-100: still rejected
    assert g_ns["D(G(z))"][5] > 0.1  # iteration 100: fooling D a good part of the time
    assert ns["modes"][2] >= 6 and mm["modes"][2] <= 2
    assert ns["modes"][-1] >= 7
