"""Lesson 06's small MLP generator and discriminator for 1-D and 2-D toy data (a config plus one builder).

``ToyGenerator`` maps z (B, z_dim) to x (B, data_dim); ``ToyDiscriminator`` maps x (B, data_dim) to
LOGITS (B,) — D(x) = sigmoid(logit), and the losses in ``coursekit.gan.losses`` take logits.
Both are ``make_toy_net(in_dim, out_dim, ToyNetConfig(...))`` inside; lesson 07's image networks are
in ``coursekit.gan.dcgan``, lesson 09's deep MLP in ``coursekit.gradient_flow.mlp``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["ToyNetConfig", "make_toy_net", "ToyGenerator", "ToyDiscriminator", "make_gan"]

TOY_ACTIVATIONS = {"relu": lambda: nn.ReLU(), "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": lambda: nn.Tanh()}


@dataclass(frozen=True)
class ToyNetConfig:
    """Hidden width, number of hidden layers and activation ("relu", "leaky_relu", "tanh")."""

    hidden: int = 64
    layers: int = 2
    activation: str = "relu"


def make_toy_net(in_dim: int, out_dim: int, cfg: ToyNetConfig) -> nn.Sequential:
    """Linear -> act repeated ``cfg.layers`` times, then a final Linear (no output activation)."""
    if cfg.activation not in TOY_ACTIVATIONS:
        raise ValueError(f"unknown activation {cfg.activation!r}; choose one of {sorted(TOY_ACTIVATIONS)}")
    mods: list[nn.Module] = []
    width = in_dim
    for _ in range(cfg.layers):
        mods += [nn.Linear(width, cfg.hidden), TOY_ACTIVATIONS[cfg.activation]()]
        width = cfg.hidden
    mods.append(nn.Linear(width, out_dim))
    return nn.Sequential(*mods)


class ToyGenerator(nn.Module):
    """G: z (B, z_dim) -> x (B, data_dim)."""

    def __init__(self, z_dim: int = 2, data_dim: int = 2, cfg: ToyNetConfig = ToyNetConfig()) -> None:
        super().__init__()
        self.z_dim, self.data_dim = z_dim, data_dim
        self.net = make_toy_net(z_dim, data_dim, cfg)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class ToyDiscriminator(nn.Module):
    """D: x (B, data_dim) -> logits (B,); D(x) = sigmoid(logits) is the probability x is real."""

    def __init__(self, data_dim: int = 2, cfg: ToyNetConfig = ToyNetConfig(activation="leaky_relu")) -> None:
        super().__init__()
        self.data_dim = data_dim
        self.net = make_toy_net(data_dim, 1, cfg)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(-1)


def make_gan(
    data_dim: int = 2,
    z_dim: int = 2,
    *,
    hidden: int = 64,
    layers: int = 2,
    g_activation: str = "relu",
    d_activation: str = "leaky_relu",
    seed: int = 0,
) -> tuple[ToyDiscriminator, ToyGenerator]:
    """(D, G) initialised from ``seed`` without touching the global RNG (it is forked and restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        D = ToyDiscriminator(data_dim, ToyNetConfig(hidden, layers, d_activation))
        G = ToyGenerator(z_dim, data_dim, ToyNetConfig(hidden, layers, g_activation))
    return D, G
