"""Algorithm 1 of Goodfellow et al. (2014) as plain functions that receive every collaborator.

``discriminator_step`` ascends V(D, G) in D's parameters only (G's output is detached);
``generator_step`` descends the generator loss in G's parameters only (D is frozen for the step
and its ``requires_grad`` flags are restored). ``train_gan`` repeats: k D steps, each on fresh m
noise and m data samples, then one G step on fresh m noise; its settings are one ``GANTrainConfig``
and it is handed the optimisers (``make_optimizers``) like every other collaborator.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import Tensor, nn

from .data import Sampler
from .losses import GENERATOR_LOSSES, discriminator_loss, generator_loss

__all__ = ["discriminator_step", "generator_step", "make_optimizers", "GANTrainConfig", "train_gan",
           "train_discriminator"]


def _snapshot(module: nn.Module) -> dict[str, Tensor]:
    return {name: t.detach().clone() for name, t in module.state_dict().items()}


def discriminator_step(D: nn.Module, G: nn.Module, x_real: Tensor, z: Tensor,
                       loss: Callable[[Tensor, Tensor], Tensor], opt_D: torch.optim.Optimizer) -> dict[str, float]:
    """One update of D: minimise ``loss(D(x), D(G(z)))`` (L_D = -V) with ``opt_D``.

    G(z) is computed without a graph, so G's parameters get neither gradients nor updates.
    Returns {"loss_D", "D(x)", "D(G(z))"} (means over the minibatch, before the update).
    """
    with torch.no_grad():
        x_fake = G(z)
    opt_D.zero_grad(set_to_none=True)
    real_logits, fake_logits = D(x_real), D(x_fake)
    value = loss(real_logits, fake_logits)
    value.backward()
    opt_D.step()
    return {"loss_D": value.item(), "D(x)": torch.sigmoid(real_logits).mean().item(),
            "D(G(z))": torch.sigmoid(fake_logits).mean().item()}


def generator_step(D: nn.Module, G: nn.Module, z: Tensor,
                   loss: Callable[[Tensor], Tensor], opt_G: torch.optim.Optimizer) -> dict[str, float]:
    """One update of G: minimise ``loss(D(G(z)))`` with ``opt_G``.

    D's parameters are frozen during the step (their ``requires_grad`` is restored afterwards), so
    no gradient accumulates in D and D is not changed. Returns {"loss_G", "D(G(z))"}.
    """
    flags = [p.requires_grad for p in D.parameters()]
    try:
        for p in D.parameters():
            p.requires_grad_(False)
        opt_G.zero_grad(set_to_none=True)
        fake_logits = D(G(z))
        value = loss(fake_logits)
        value.backward()
        opt_G.step()
    finally:
        for p, flag in zip(D.parameters(), flags):
            p.requires_grad_(flag)
    return {"loss_G": value.item(), "D(G(z))": torch.sigmoid(fake_logits).mean().item()}


def make_optimizers(D: nn.Module, G: nn.Module, opt: str = "adam", *, lr_D: float = 1e-3, lr_G: float = 1e-3,
                    momentum: float = 0.5, betas: tuple[float, float] = (0.5, 0.999)):
    """(opt_D, opt_G): "sgd" with ``momentum`` (the paper used momentum, starting at 0.5) or
    "adam" with ``betas`` (beta1 = 0.5 as in DCGAN, Radford et al. 2016)."""
    if opt == "sgd":
        make = partial(torch.optim.SGD, momentum=momentum)
    elif opt == "adam":
        make = partial(torch.optim.Adam, betas=betas)
    else:
        raise ValueError(f"unknown optimiser {opt!r}; choose 'sgd' or 'adam'")
    return make(D.parameters(), lr=lr_D), make(G.parameters(), lr=lr_G)


@dataclass(frozen=True)
class GANTrainConfig:
    """How ``train_gan`` runs Algorithm 1 (the optimisers, with their learning rates, are passed separately).

    ``steps`` iterations, each ``k`` D steps and one G step on minibatches of ``m`` samples;
    ``g_loss`` "non_saturating" (-mean log D(G(z))) or "minimax" (mean log(1 - D(G(z)))); one
    ``torch.Generator`` seeded with ``seed`` draws all data and noise (the global RNG is not used);
    ``metrics`` is evaluated every ``metrics_every`` iterations; ``progress`` shows a tqdm bar.
    """

    steps: int
    k: int = 1
    m: int = 64
    g_loss: str = "non_saturating"
    seed: int = 0
    metrics_every: int = 100
    progress: bool = False

    def __post_init__(self) -> None:
        if self.k < 1 or self.m < 1 or self.steps < 0 or self.metrics_every < 1:
            raise ValueError(f"need k >= 1, m >= 1, steps >= 0 and metrics_every >= 1, got k={self.k}, "
                             f"m={self.m}, steps={self.steps}, metrics_every={self.metrics_every}")
        if self.g_loss not in GENERATOR_LOSSES:
            raise ValueError(f"unknown generator loss kind {self.g_loss!r}; choose one of {GENERATOR_LOSSES}")


def train_gan(
    D: nn.Module,
    G: nn.Module,
    data_sampler: Sampler,
    noise_sampler: Sampler,
    opt_D: torch.optim.Optimizer,
    opt_G: torch.optim.Optimizer,
    config: GANTrainConfig,
    *,
    metrics: Callable[[nn.Module], dict[str, float]] | None = None,
    callback: Callable[[int, dict], bool | None] | None = None,
) -> dict:
    """Algorithm 1: for each of ``config.steps`` iterations, k times {sample m noise and m data,
    update D with ``opt_D``}, then sample m noise and update G with ``opt_G``. D and G are trained
    in place; the optimisers keep their state, so a second call continues training.

    Args:
        data_sampler, noise_sampler: ``sample(m, generator) -> (m, d)`` (see ``coursekit.gan.data``).
        opt_D, opt_G: optimisers over D's and G's parameters (``make_optimizers`` builds the usual ones).
        config: k, m, steps, generator loss, seed, metrics cadence (``GANTrainConfig``).
        metrics: what to measure, ``metrics(G) -> {name: value}``; evaluated every
            ``config.metrics_every`` iterations and at the end (e.g. ``coursekit.gan.metrics.toy_metrics``).
        callback: ``callback(iteration, history)`` after each iteration; returning True ends training.

    Returns the history: "loss_D" (mean over the k D steps), "loss_G", "D(x)", "D(G(z))" (from the
    D steps), one value per iteration; "metrics" {"step": [...], name: [...]}; "message" (why
    training ended early, or ""). A non-finite loss ends training, restores the weights of the
    last good iteration and warns.
    """
    g_loss_fn = partial(generator_loss, kind=config.g_loss)
    k, m = config.k, config.m
    rng = torch.Generator().manual_seed(config.seed)
    history: dict = {"loss_D": [], "loss_G": [], "D(x)": [], "D(G(z))": [], "metrics": {"step": []}, "message": ""}

    def record_metrics(step: int) -> None:
        if metrics is None:
            return
        history["metrics"]["step"].append(step)
        for name, value in metrics(G).items():
            history["metrics"].setdefault(name, []).append(float(value))

    iterator = range(config.steps)
    if config.progress:
        from tqdm.auto import tqdm
        iterator = tqdm(iterator, desc="GAN training")
    last_good = (_snapshot(D), _snapshot(G))
    done = 0
    for it in iterator:
        if metrics is not None and it % config.metrics_every == 0:
            record_metrics(it)
        d_out = [discriminator_step(D, G, data_sampler(m, rng), noise_sampler(m, rng), discriminator_loss, opt_D)
                 for _ in range(k)]
        g_out = generator_step(D, G, noise_sampler(m, rng), g_loss_fn, opt_G)
        loss_D = sum(o["loss_D"] for o in d_out) / k
        if not (math.isfinite(loss_D) and math.isfinite(g_out["loss_G"])):
            D.load_state_dict(last_good[0])
            G.load_state_dict(last_good[1])
            history["message"] = (f"training stopped at iteration {it}: a loss became NaN or infinite "
                                  f"(loss_D={loss_D}, loss_G={g_out['loss_G']}); the weights of the last "
                                  "good iteration were restored. Try a smaller learning rate.")
            warnings.warn(history["message"], RuntimeWarning, stacklevel=2)
            break
        history["loss_D"].append(loss_D)
        history["loss_G"].append(g_out["loss_G"])
        history["D(x)"].append(sum(o["D(x)"] for o in d_out) / k)
        history["D(G(z))"].append(sum(o["D(G(z))"] for o in d_out) / k)
        last_good = (_snapshot(D), _snapshot(G))
        done = it + 1
        if callback is not None and callback(it, history):
            if done < config.steps:
                history["message"] = f"stopped after {done} iterations"
            break
    if metrics is not None and (not history["metrics"]["step"] or history["metrics"]["step"][-1] != done):
        record_metrics(done)
    return history


def train_discriminator(D: nn.Module, G: nn.Module, data_sampler: Sampler, noise_sampler: Sampler, *,
                        steps: int, m: int = 64, opt_D: torch.optim.Optimizer | None = None, lr: float = 1e-3,
                        seed: int = 0) -> dict:
    """The inner maximisation alone: ``steps`` updates of D against a FIXED G (Adam, ``lr``, unless
    ``opt_D`` is given). With enough steps D approaches D* = p_data / (p_data + p_g) (Prop. 1).
    Returns {"loss_D", "D(x)", "D(G(z))"} per step."""
    opt_D = opt_D or torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"loss_D": [], "D(x)": [], "D(G(z))": []}
    for _ in range(steps):
        out = discriminator_step(D, G, data_sampler(m, rng), noise_sampler(m, rng), discriminator_loss, opt_D)
        for name, value in out.items():
            history[name].append(value)
    return history
