"""Training a DCGAN on images with Algorithm 1's steps, sampling from fixed noise, walking the latent space.

``train_dcgan`` is ``coursekit.gan.train.train_gan`` (the same D and G steps, the same NaN guard
that restores the last good weights) with k = 1, counted in epochs, plus a grid of samples from one
FIXED batch of noise at chosen epochs, so that the grids show G changing, not z. It is handed the
optimisers; the DCGAN paper's (Radford et al. 2016, Section 4) are Adam with lr 2e-4 and beta1 0.5
(the paper's minibatch was 128, ours defaults to 64).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn

from .data import noise_sampler
from .train import GANTrainConfig, train_gan

__all__ = ["train_dcgan", "epoch_summary", "generate", "interpolate_latents", "slerp"]

_SUMMARY_KEYS = ("D(x)", "D(G(z))", "loss_D", "loss_G")


def epoch_summary(history: dict, epoch: int, per_epoch: int) -> str:
    """One line: the means over iterations (epoch - 1)·per_epoch .. epoch·per_epoch - 1 of D(x), D(G(z)),
    L_D and L_G in ``history``, e.g. 'epoch  5: D(x) 0.81  D(G(z)) 0.19  L_D 0.62  L_G 2.31'.

    What ``train_dcgan(report_every=...)`` prints: plain text, so a stored notebook keeps it (a tqdm
    widget is stored as its first frame, 0/N, which reads as if training never ran).
    """
    if epoch < 1 or per_epoch < 1 or len(history["loss_D"]) < epoch * per_epoch:
        raise ValueError(f"epoch {epoch} of {per_epoch} iterations is not in a history of "
                         f"{len(history['loss_D'])} iterations")
    window = slice((epoch - 1) * per_epoch, epoch * per_epoch)
    means = {key: sum(history[key][window]) / per_epoch for key in _SUMMARY_KEYS}
    return (f"epoch {epoch:2d}: D(x) {means['D(x)']:.2f}  D(G(z)) {means['D(G(z))']:.2f}  "
            f"L_D {means['loss_D']:.2f}  L_G {means['loss_G']:.2f}")


def generate(G: nn.Module, z: Tensor, *, batch_norm: str = "batch") -> Tensor:
    """G(z) without a graph, G's mode restored: (n, C, S, S) in [-1, 1].

    ``batch_norm="batch"`` normalises with the statistics of this batch of z, as during training
    (PyTorch's DCGAN example samples its fixed noise this way), leaving the running averages untouched;
    ``"running"`` uses the running averages (eval mode), so each sample is independent of the others.
    """
    if batch_norm not in ("batch", "running"):
        raise ValueError(f"batch_norm must be 'batch' or 'running', got {batch_norm!r}")
    was_training = G.training
    norms = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    tracking = [m.track_running_stats for m in norms]
    if batch_norm == "batch":
        for m in norms:  # train-mode BatchNorm that neither reads nor updates the running statistics
            m.track_running_stats = False
    G.train(batch_norm == "batch")
    try:
        with torch.no_grad():
            return G(z)
    finally:
        G.train(was_training)
        for m, flag in zip(norms, tracking):
            m.track_running_stats = flag


def train_dcgan(
    D: nn.Module,
    G: nn.Module,
    data,
    opt_D: torch.optim.Optimizer,
    opt_G: torch.optim.Optimizer,
    *,
    epochs: int,
    m: int = 64,
    g_loss: str = "non_saturating",
    seed: int = 0,
    fixed_noise: Tensor | None = None,
    grid_epochs: Iterable[int] | None = None,
    progress: bool = False,
    report_every: int = 0,
    callback: Callable[[int, dict], bool | None] | None = None,
) -> dict:
    """Train D and G in place for ``epochs`` epochs of ceil(N / m) iterations (one D step, one G step each).

    Args:
        data: ``sample(m, generator) -> (m, C, S, S)`` with ``len(data) = N`` (``DigitImages``).
        opt_D, opt_G: the optimisers; the DCGAN paper's are
            ``make_optimizers(D, G, "adam", lr_D=2e-4, lr_G=2e-4, betas=(0.5, 0.999))``.
        m, g_loss, seed, progress: as in ``GANTrainConfig`` (k is 1, as in the paper); ``progress``
            shows a tqdm bar, which a saved notebook stores in its first state.
        report_every: when > 0, print ``epoch_summary`` after every ``report_every`` epochs and after
            the last: plain text that a saved notebook keeps as it was.
        fixed_noise: (n, z_dim) noise for the sample grids; default 64 draws from N(0, I) seeded with
            ``seed + 1`` (independent of the training noise).
        grid_epochs: epochs after which G(fixed_noise) is stored (default: every epoch); epoch 0 (the
            untrained G) and the last completed iteration are always stored.
        callback: passed to ``train_gan`` (``callback(iteration, history)``; True ends training).

    Returns ``train_gan``'s history (per iteration "loss_D", "loss_G", "D(x)", "D(G(z))"; "message")
    plus "grids" {epoch: (n, C, S, S)}, "fixed_noise", "iterations_per_epoch" and "epochs" (completed,
    fractional if training stopped early).
    """
    if epochs < 0 or m < 1 or report_every < 0:
        raise ValueError(f"need epochs >= 0, m >= 1 and report_every >= 0, got epochs={epochs}, m={m}, "
                         f"report_every={report_every}")
    z_dim = G.cfg.z_dim
    noise = noise_sampler(z_dim)
    if fixed_noise is None:
        fixed_noise = noise(64, torch.Generator().manual_seed(seed + 1))
    per_epoch = math.ceil(len(data) / m)
    wanted = set(range(1, epochs + 1) if grid_epochs is None else grid_epochs)
    grids: dict[float, Tensor] = {0: generate(G, fixed_noise)}

    def on_iteration(it: int, history: dict) -> bool | None:
        epoch = (it + 1) // per_epoch
        if (it + 1) % per_epoch == 0 and epoch in wanted:
            grids[epoch] = generate(G, fixed_noise)
        if report_every > 0 and (it + 1) % per_epoch == 0 and (epoch % report_every == 0 or epoch == epochs):
            print(epoch_summary(history, epoch, per_epoch), flush=True)
        return callback(it, history) if callback is not None else None

    config = GANTrainConfig(steps=epochs * per_epoch, k=1, m=m, g_loss=g_loss, seed=seed, progress=progress)
    history = train_gan(D, G, data.sample, noise, opt_D, opt_G, config, callback=on_iteration)
    done = len(history["loss_D"])
    last = done // per_epoch if done % per_epoch == 0 else round(done / per_epoch, 2)
    if last not in grids:
        grids[last] = generate(G, fixed_noise)  # where training ended (restored weights after a NaN)
    history.update(grids=grids, fixed_noise=fixed_noise, iterations_per_epoch=per_epoch, epochs=done / per_epoch)
    return history


def slerp(z0: Tensor, z1: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016 for GAN latents) of z0, z1 (d,) at t (n,):

    slerp(z0, z1; t) = sin((1 - t)Ω) / sin Ω · z0 + sin(tΩ) / sin Ω · z1,  cos Ω = z0·z1 / (|z0| |z1|).

    Falls back to the straight line when z0 and z1 are (anti)parallel (sin Ω ≈ 0). Returns (n, d).
    """
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm()).clamp_min(torch.finfo(z0.dtype).tiny)
    omega = torch.arccos(cos.clamp(-1, 1))
    t = t[:, None]
    if torch.sin(omega).abs() < 1e-6:
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def interpolate_latents(z0: Tensor, z1: Tensor, steps: int | Tensor = 8, method: str = "slerp") -> Tensor:
    """Points on a path from z0 to z1 (both (d,)): ``steps`` evenly spaced ones, ends included, or
    the positions t in [0, 1] given as a tensor (n,). Returns (n, d).

    method="linear": (1 - t) z0 + t z1. Its midpoints are shorter than typical draws of N(0, I)
    in high dimension (|z| concentrates near sqrt(d)), so G sees atypical inputs there;
    method="slerp" keeps the norm on the arc between them (see ``slerp``).
    """
    z0, z1 = z0.reshape(-1), z1.reshape(-1)
    if isinstance(steps, Tensor):
        t = steps.to(dtype=z0.dtype, device=z0.device).reshape(-1)
    else:
        if steps < 2:
            raise ValueError(f"steps must be at least 2 (the two ends), got {steps}")
        t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)
    if method == "linear":
        return (1 - t[:, None]) * z0 + t[:, None] * z1
    if method == "slerp":
        return slerp(z0, z1, t)
    raise ValueError(f"unknown interpolation {method!r}; choose 'linear' or 'slerp'")
