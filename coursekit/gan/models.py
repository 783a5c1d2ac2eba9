"""Small MLP generator and discriminator for toy data (a config plus one builder).

``Generator`` maps z (B, z_dim) to x (B, data_dim); ``Discriminator`` maps x (B, data_dim) to
LOGITS (B,) — D(x) = sigmoid(logit), and the losses in ``coursekit.gan.losses`` take logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["MLPConfig", "make_mlp", "Generator", "Discriminator", "make_gan"]

ACTIVATIONS = {"relu": lambda: nn.ReLU(), "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": lambda: nn.Tanh()}


@dataclass(frozen=True)
class MLPConfig:
    """Hidden width, number of hidden layers and activation ("relu", "leaky_relu", "tanh")."""

    hidden: int = 64
    layers: int = 2
    activation: str = "relu"


def make_mlp(in_dim: int, out_dim: int, cfg: MLPConfig) -> nn.Sequential:
    """Linear -> act repeated ``cfg.layers`` times, then a final Linear (no output activation)."""
    if cfg.activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {cfg.activation!r}; choose one of {sorted(ACTIVATIONS)}")
    mods: list[nn.Module] = []
    width = in_dim
    for _ in range(cfg.layers):
        mods += [nn.Linear(width, cfg.hidden), ACTIVATIONS[cfg.activation]()]
        width = cfg.hidden
    mods.append(nn.Linear(width, out_dim))
    return nn.Sequential(*mods)


class Generator(nn.Module):
    """G: z (B, z_dim) -> x (B, data_dim)."""

    def __init__(self, z_dim: int = 2, data_dim: int = 2, cfg: MLPConfig = MLPConfig()) -> None:
        super().__init__()
        self.z_dim, self.data_dim = z_dim, data_dim
        self.net = make_mlp(z_dim, data_dim, cfg)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """D: x (B, data_dim) -> logits (B,); D(x) = sigmoid(logits) is the probability x is real."""

    def __init__(self, data_dim: int = 2, cfg: MLPConfig = MLPConfig(activation="leaky_relu")) -> None:
        super().__init__()
        self.data_dim = data_dim
        self.net = make_mlp(data_dim, 1, cfg)

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
) -> tuple[Discriminator, Generator]:
    """(D, G) initialised from ``seed`` without touching the global RNG (it is forked and restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        D = Discriminator(data_dim, MLPConfig(hidden, layers, d_activation))
        G = Generator(z_dim, data_dim, MLPConfig(hidden, layers, g_activation))
    return D, G
