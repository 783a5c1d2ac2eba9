"""Lesson 06's measurements of the GAN game while it is played.

``output_gradient``: how hard each generator loss pushes G's samples, ||∂ℓ_i/∂x_i|| at x_i = G(z_i).
``GANProbe``: a ``train_gan`` callback that records that gradient, D(G(z)) and mode coverage on a fixed
z, and keeps G's samples at chosen iterations (the same runs give every curve and scatter).
``step_table``: D(x) and D(G(z)) on one fixed minibatch before D's step, after it and after G's step.
``bilinear_game``: the toy game min_x max_y x·y stepped simultaneously or alternately.
``figure1_run``: a 1-D GAN (affine G, so p_g is an exact Gaussian) whose snapshots redraw Figure 1
of Goodfellow et al. (2014): p_data, p_g and D(x) as training proceeds towards D = 1/2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import torch
from torch import Tensor, nn

from .data import gaussian_pdf, noise_sampler, toy_data
from .losses import discriminator_loss, generator_loss, value_function
from .metrics import mode_coverage
from .models import make_gan
from .train import GANTrainConfig, discriminator_step, generator_step, make_optimizers, train_gan

__all__ = ["output_gradient", "GANProbe", "step_table", "bilinear_game", "Figure1Snapshot", "figure1_run",
           "figure1_densities"]


def output_gradient(D: nn.Module, G: nn.Module, z: Tensor, kind: str) -> dict[str, float]:
    """Mean D(G(z)) and mean per-sample gradient norm ||∂ℓ_i/∂x_i|| of the generator loss at x_i = G(z_i).

    ℓ_i is sample i's term of ``generator_loss(kind)`` (not divided by m). By the chain rule
    ∂ℓ_i/∂x_i = (∂ℓ_i/∂l_i) ∇_x l(x_i), with ∂ℓ/∂l = -D(G(z)) for the minimax loss log(1 - D) and
    -(1 - D(G(z))) for the non-saturating loss -log D: the first vanishes as D(G(z)) -> 0.
    This is the signal G's parameters receive (times ∂G/∂θ_g). D's gradients are left untouched.
    Returns {"D(G(z))", "grad"}.
    """
    with torch.no_grad():
        x = G(z)
    x.requires_grad_(True)
    flags = [p.requires_grad for p in D.parameters()]
    try:
        for p in D.parameters():
            p.requires_grad_(False)
        logits = D(x)
        (grad,) = torch.autograd.grad(generator_loss(logits, kind) * len(x), x)
    finally:
        for p, flag in zip(D.parameters(), flags):
            p.requires_grad_(flag)
    return {"D(G(z))": torch.sigmoid(logits).mean().item(), "grad": grad.norm(dim=1).mean().item()}


@dataclass
class GANProbe:
    """A ``train_gan`` callback: every ``every`` iterations (and once at creation, iteration 0) record on
    the fixed noise ``z``: "D(G(z))" and "grad" (``output_gradient``), and for a Gaussian mixture
    ``data`` "modes" covered and "high_quality" (``mode_coverage``) and "spread" (mean std of the
    samples per axis; a fully collapsed G has ≈ 0). G's samples are kept at the iterations in
    ``keep_samples`` (in ``samples``). Iterations are counted after the update: 1 = after the first.
    """

    D: nn.Module
    G: nn.Module
    z: Tensor
    kind: str
    every: int = 10
    data: object = None
    keep_samples: tuple[int, ...] = ()
    record: dict = field(default_factory=dict)
    samples: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._measure(0)

    def _measure(self, step: int) -> None:
        out = {"step": step, **output_gradient(self.D, self.G, self.z, self.kind)}
        with torch.no_grad():
            x = self.G(self.z)
        if self.data is not None and getattr(self.data, "centres", None) is not None:
            mc = mode_coverage(x, self.data.centres, self.data.std)
            out.update(modes=mc.covered, high_quality=mc.high_quality)
        out["spread"] = x.std(dim=0).mean().item()
        for name, value in out.items():
            self.record.setdefault(name, []).append(value)
        if step in self.keep_samples:
            self.samples[step] = x.clone()

    def __call__(self, iteration: int, history: dict) -> None:
        step = iteration + 1
        if step % self.every == 0 or step in self.keep_samples:
            self._measure(step)


def step_table(D: nn.Module, G: nn.Module, x_real: Tensor, z: Tensor, opt_D, opt_G, *,
               kind: str = "non_saturating", k: int = 1, d_step=discriminator_step, g_step=generator_step,
               ) -> list[dict]:
    """Rows {"when", "D(x)", "D(G(z))", "V"} measured on the SAME real minibatch ``x_real`` and noise ``z``:
    before anything, after each of ``k`` D steps (``discriminator_step`` on x_real, z) and after one G step
    (``generator_step`` on z). V = mean log D(x) + mean log(1 - D(G(z))) on that batch (``value_function``).
    A small D step ascends V (typically D(x) rises and D(G(z)) falls, though one of the two means can move
    the other way while V still rises); the G step leaves D(x) exactly as it was (D is frozen) and, being
    a descent step on -log D(G(z)) or log(1 - D(G(z))), raises D(G(z)) when it is small enough.
    ``d_step`` and ``g_step`` (same signatures as ``discriminator_step`` and ``generator_step``) make the steps."""

    def measure(when: str) -> dict:
        with torch.no_grad():
            real, fake = D(x_real), D(G(z))
            return {"when": when, "D(x)": torch.sigmoid(real).mean().item(),
                    "D(G(z))": torch.sigmoid(fake).mean().item(), "V": value_function(real, fake).item()}

    rows = [measure("before")]
    for i in range(k):
        d_step(D, G, x_real, z, discriminator_loss, opt_D)
        rows.append(measure(f"after D step {i + 1}"))
    g_step(D, G, z, partial(generator_loss, kind=kind), opt_G)
    rows.append(measure("after G step"))
    return rows


def bilinear_game(x0: float = 1.0, y0: float = 1.0, *, lr: float = 0.1, steps: int = 100,
                  order: str = "simultaneous") -> Tensor:
    """Gradient play on min_x max_y f(x, y) = x·y from (x0, y0): x descends ∂f/∂x = y, y ascends ∂f/∂y = x.

    "simultaneous": x' = x - lr·y, y' = y + lr·x (both from the old point); the radius grows by exactly
    sqrt(1 + lr²) per step: the orbit spirals out. "alternating": x' = x - lr·y, then y' = y + lr·x' (y
    sees the new x); x² + y² - lr·x·y is conserved, so the orbit stays on an ellipse and cycles (with
    lr = 1 from (1, 1) it has period 6). Neither reaches the equilibrium (0, 0).
    Returns the points (steps + 1, 2) in float64, the start included.
    """
    if order not in ("simultaneous", "alternating"):
        raise ValueError(f"unknown order {order!r}; choose 'simultaneous' or 'alternating'")
    x, y = float(x0), float(y0)
    points = [(x, y)]
    for _ in range(steps):
        if order == "simultaneous":
            x, y = x - lr * y, y + lr * x
        else:
            x = x - lr * y
            y = y + lr * x
        points.append((x, y))
    return torch.tensor(points, dtype=torch.float64)


@dataclass(frozen=True)
class Figure1Snapshot:
    """One frame of Figure 1: the iteration, p_g = N(mean, std²) (G is affine) and D(x) on the grid."""

    step: int
    mean: float
    std: float
    d: Tensor


def figure1_run(*, steps: int = 600, snapshot_every: int = 25, lr: float = 0.01, hidden: int = 16,
                m: int = 128, seed: int = 0, grid: Tensor | None = None) -> tuple[Tensor, list[Figure1Snapshot]]:
    """Train a 1-D GAN on p_data = N(2, 0.5²) (``toy_data("gaussian_1d")``) with z ~ N(0, 1) and an affine
    G(z) = a·z + b, started at a = 1, b = 0 (p_g = N(0, 1)), so p_g = N(b, a²) exactly; D is a small MLP.
    Non-saturating loss, Adam (lr, beta1 = 0.5), k = 1, float64. Returns (grid, snapshots), a snapshot
    before training and every ``snapshot_every`` iterations: p_g's mean b and std |a|, and D(x) on ``grid``
    (default 300 points on [-3, 5])."""
    grid = torch.linspace(-3, 5, 300, dtype=torch.float64) if grid is None else grid
    D, _ = make_gan(1, 1, hidden=hidden, seed=seed)
    D = D.double()
    G = nn.Linear(1, 1).double()
    with torch.no_grad():
        G.weight.fill_(1.0)
        G.bias.fill_(0.0)
    data, noise = toy_data("gaussian_1d"), noise_sampler(1)
    data64 = lambda n, g: data.sample(n, g).double()  # noqa: E731
    noise64 = lambda n, g: noise(n, g).double()  # noqa: E731
    snaps: list[Figure1Snapshot] = []

    def snap(step: int) -> None:
        with torch.no_grad():
            d = torch.sigmoid(D(grid[:, None]))
        snaps.append(Figure1Snapshot(step, G.bias.item(), abs(G.weight.item()), d))

    def callback(it: int, history: dict) -> None:
        if (it + 1) % snapshot_every == 0:
            snap(it + 1)

    snap(0)
    opt_D, opt_G = make_optimizers(D, G, "adam", lr_D=lr, lr_G=lr)
    train_gan(D, G, data64, noise64, opt_D, opt_G, GANTrainConfig(steps=steps, m=m, seed=seed), callback=callback)
    return grid, snaps


def figure1_densities(grid: Tensor, snap: Figure1Snapshot) -> tuple[Tensor, Tensor]:
    """(p_data, p_g) on ``grid`` for a snapshot: N(2, 0.5²) and N(mean, std²)."""
    return gaussian_pdf(grid, 2.0, 0.5), gaussian_pdf(grid, snap.mean, max(snap.std, 1e-6))

