"""Toy data sets and noise priors for GANs, sampled with a caller's ``torch.Generator``.

A sampler is a function ``sample(m, generator) -> (m, d)`` float32 tensor. Nothing here touches
the global RNG: pass ``torch.Generator().manual_seed(s)`` (``train_gan`` does, from its seed).
Mixtures (ring, grid) expose their centres and std so ``metrics.mode_coverage`` can score them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

__all__ = ["ToyData", "toy_data", "DATASETS", "noise_sampler", "gaussian_pdf"]

Sampler = Callable[[int, torch.Generator], Tensor]


@dataclass(frozen=True)
class ToyData:
    """A toy distribution p_data: ``sample(m, generator)`` gives (m, dim) samples.

    ``centres`` (K, dim) and ``std`` describe a Gaussian mixture with equal weights (None for
    the spiral); ``lim`` is a square (or interval) that holds nearly all the mass, for plots.
    """

    name: str
    dim: int
    centres: Tensor | None
    std: float
    lim: float

    def sample(self, m: int, generator: torch.Generator | None = None) -> Tensor:
        if self.name == "spiral":
            return _spiral(m, generator, self.std)
        idx = torch.randint(len(self.centres), (m,), generator=generator)
        noise = torch.randn(m, self.dim, generator=generator)
        return self.centres[idx] + self.std * noise

    __call__ = sample


def _ring(n: int = 8, radius: float = 2.0) -> Tensor:
    angles = torch.arange(n, dtype=torch.float32) * (2 * math.pi / n)
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)  # (n, 2)


def _grid(n: int = 5, spacing: float = 1.0) -> Tensor:
    ticks = (torch.arange(n, dtype=torch.float32) - (n - 1) / 2) * spacing
    return torch.cartesian_prod(ticks, ticks)  # (n*n, 2)


def _spiral(m: int, generator: torch.Generator | None, std: float) -> Tensor:
    t = torch.rand(m, generator=generator) * 3 * math.pi + 0.5 * math.pi  # 1.5 turns
    r = t / (1.75 * math.pi)
    x = torch.stack([r * t.cos(), r * t.sin()], dim=1)
    return x + std * torch.randn(m, 2, generator=generator)


DATASETS = {
    "gaussian_1d": lambda: ToyData("gaussian_1d", 1, torch.tensor([[2.0]]), 0.5, 4.0),
    "ring": lambda: ToyData("ring", 2, _ring(8, 2.0), 0.1, 3.0),
    "grid": lambda: ToyData("grid", 2, _grid(5, 1.0), 0.05, 3.0),
    "spiral": lambda: ToyData("spiral", 2, None, 0.05, 3.0),
}


def toy_data(name: str) -> ToyData:
    """The toy distribution ``name``: "gaussian_1d" (N(2, 0.5²)), "ring" (8 Gaussians, radius 2,
    std 0.1), "grid" (5x5 Gaussians, spacing 1, std 0.05) or "spiral" (1.5 turns, noise 0.05)."""
    if name not in DATASETS:
        raise ValueError(f"unknown toy data set {name!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[name]()


def noise_sampler(dim: int, kind: str = "normal") -> Sampler:
    """The prior p_z: ``sample(m, generator)`` gives (m, dim) noise, N(0, I) or U(-1, 1)^dim."""
    if kind == "normal":
        return lambda m, generator=None: torch.randn(m, dim, generator=generator)
    if kind == "uniform":
        return lambda m, generator=None: 2 * torch.rand(m, dim, generator=generator) - 1
    raise ValueError(f"unknown noise prior {kind!r}; choose 'normal' or 'uniform'")


def gaussian_pdf(x: Tensor, mean: float, std: float) -> Tensor:
    """Density of N(mean, std²) at x (any shape)."""
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
