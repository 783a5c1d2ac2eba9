"""coursekit.gan.dynamics (lesson 06): the generator's output gradient, the probe, the D/G step table,
the bilinear game and the 1-D Figure 1 run, on numbers."""

import math

import pytest
import torch
from torch import nn

from coursekit.gan import make_optimizers, noise_sampler, toy_data
from coursekit.gan.dynamics import GANProbe, bilinear_game, figure1_densities, figure1_run, output_gradient, step_table
from coursekit.gan.models import make_gan


class _AffineD(nn.Module):
    """logit l(x) = w·x + c: ∇_x l = w, so ||∂ℓ/∂x|| = |∂ℓ/∂l| · ||w||."""

    def __init__(self, w, c):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=torch.float64))
        self.c = nn.Parameter(torch.tensor(c, dtype=torch.float64))

    def forward(self, x):
        return x @ self.w + self.c


def test_output_gradient_follows_the_chain_rule():
    D = _AffineD([3.0, 4.0], -5.0)  # ||w|| = 5
    G = nn.Identity()
    z = torch.zeros(4, 2, dtype=torch.float64)  # every logit -5
    p = 1 / (1 + math.exp(5))
    mm = output_gradient(D, G, z, "minimax")
    ns = output_gradient(D, G, z, "non_saturating")
    assert mm["D(G(z))"] == pytest.approx(p) and ns["D(G(z))"] == pytest.approx(p)
    assert mm["grad"] == pytest.approx(5 * p)  # |∂ log(1 - σ(l)) / ∂l| = σ(l)
    assert ns["grad"] == pytest.approx(5 * (1 - p))  # |∂ -log σ(l) / ∂l| = 1 - σ(l)
    assert all(q.grad is None and q.requires_grad for q in D.parameters())


def test_probe_records_at_start_and_every_n_and_keeps_samples():
    ring, noise = toy_data("ring"), noise_sampler(2)
    D, G = make_gan(2, 2, hidden=8, seed=0)
    z = noise(50, torch.Generator().manual_seed(0))
    probe = GANProbe(D, G, z, "minimax", every=5, data=ring, keep_samples=(0, 3))
    for it in range(10):
        probe(it, {})
    assert probe.record["step"] == [0, 3, 5, 10]
    assert set(probe.samples) == {0, 3} and probe.samples[0].shape == (50, 2)
    assert {"D(G(z))", "grad", "modes", "high_quality", "spread"} <= set(probe.record)
    with torch.no_grad():
        assert probe.record["spread"][0] == pytest.approx(G(z).std(dim=0).mean().item())


def test_step_table_d_step_separates_and_g_step_fools():
    ring, noise = toy_data("ring"), noise_sampler(2)
    D, G = make_gan(2, 2, hidden=16, seed=0)
    g = torch.Generator().manual_seed(0)
    x, z = ring.sample(128, g), noise(128, g)
    opt_D, opt_G = make_optimizers(D, G, "sgd", lr_D=0.05, lr_G=0.05, momentum=0.0)
    rows = step_table(D, G, x, z, opt_D, opt_G, k=2)
    assert [r["when"] for r in rows] == ["before", "after D step 1", "after D step 2", "after G step"]
    for a, b in zip(rows[:2], rows[1:3]):  # each D step (plain gradient ascent on V) on this batch
        assert b["V"] > a["V"]
    with torch.no_grad():
        real, fake = torch.sigmoid(D(x)), torch.sigmoid(D(G(z)))
    assert rows[3]["V"] == pytest.approx((real.log().mean() + (1 - fake).log().mean()).item(), rel=1e-6)
    assert rows[3]["D(G(z))"] > rows[2]["D(G(z))"]
    assert rows[3]["D(x)"] == rows[2]["D(x)"]  # D frozen during G's step


def test_bilinear_game_orbits():
    alt = bilinear_game(1, 1, lr=1.0, steps=6, order="alternating")
    assert alt.tolist() == [[1, 1], [0, 1], [-1, 0], [-1, -1], [0, -1], [1, 0], [1, 1]]  # period 6
    sim = bilinear_game(1, 1, lr=0.1, steps=50, order="simultaneous")
    r = sim.norm(dim=1)
    assert torch.allclose(r[1:] / r[:-1], torch.full((50,), math.sqrt(1.01), dtype=torch.float64))
    alt = bilinear_game(1, 1, lr=0.1, steps=500, order="alternating")
    conserved = alt[:, 0] ** 2 + alt[:, 1] ** 2 - 0.1 * alt[:, 0] * alt[:, 1]
    assert torch.allclose(conserved, torch.full_like(conserved, 1.9))
    with pytest.raises(ValueError, match="alternating"):
        bilinear_game(order="both")


def test_figure1_run_starts_at_n01_and_approaches_the_data():
    grid, snaps = figure1_run(steps=400, snapshot_every=100)
    assert [s.step for s in snaps] == [0, 100, 200, 300, 400]
    assert (snaps[0].mean, snaps[0].std) == (0.0, 1.0)
    last = snaps[-1]
    assert abs(last.mean - 2.0) < 0.1 and abs(last.std - 0.5) < 0.1
    p_data, p_g = figure1_densities(grid, last)
    assert float(((p_data - p_g).abs()).sum() * (grid[1] - grid[0])) < 0.2  # total variation x 2
    near = (grid - 2).abs() < 0.5  # where the data is, D is close to 1/2
    assert (last.d[near] - 0.5).abs().max() < 0.15
