"""Measuring a GAN on toy data: optimal discriminator, Jensen-Shannon divergence, mode coverage.

``sample_diversity`` (lesson 07) tells a collapsed image generator from a healthy one.

Theory (Goodfellow et al. 2014, Prop. 1 and Thm. 1): for a fixed G the best discriminator is
D*(x) = p_data(x) / (p_data(x) + p_g(x)), and at D* the generator's objective is
C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g), minimal (-log 4) iff p_g = p_data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["optimal_discriminator", "jsd", "histogram", "jsd_estimate", "generator_objective_at_optimum",
           "ModeCoverage", "mode_coverage", "toy_metrics", "sample_diversity"]


def optimal_discriminator(p_data: Tensor, p_g: Tensor) -> Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) from densities on a grid (same shape); 1/2 where both are 0."""
    total = p_data + p_g
    return torch.where(total > 0, p_data / total.clamp_min(torch.finfo(total.dtype).tiny), torch.full_like(total, 0.5))


def jsd(p: Tensor, q: Tensor) -> Tensor:
    """JSD(p || q) = ½ KL(p || M) + ½ KL(q || M), M = (p + q)/2, in nats, for two histograms
    (non-negative, same shape; each normalised to sum 1 here). Between 0 and log 2; log 2 when
    either histogram is empty (no overlap can be shown)."""
    if p.sum() <= 0 or q.sum() <= 0:
        return torch.tensor(math.log(2), dtype=p.dtype)
    p = p / p.sum()
    q = q / q.sum()
    mid = (p + q) / 2

    def kl(a: Tensor) -> Tensor:
        ratio = torch.where(a > 0, a / mid.clamp_min(torch.finfo(mid.dtype).tiny), torch.ones_like(a))
        return (a * ratio.log()).sum()

    return 0.5 * kl(p) + 0.5 * kl(q)


def histogram(x: Tensor, bins: int, lim: float) -> Tensor:
    """Counts of samples x (n, d), d in {1, 2}, in ``bins`` equal bins per axis on [-lim, lim]^d."""
    x = x.detach().to(torch.float64)
    if x.dim() != 2 or x.shape[1] not in (1, 2):
        raise ValueError(f"expected samples of shape (n, 1) or (n, 2), got {tuple(x.shape)}")
    return torch.histogramdd(x.cpu(), bins=[bins] * x.shape[1], range=[-lim, lim] * x.shape[1]).hist


def jsd_estimate(x_data: Tensor, x_gen: Tensor, *, bins: int = 30, lim: float = 3.0) -> float:
    """Histogram estimate of JSD(p_data || p_g) from samples (n, 1) or (n, 2), in nats.

    Biased upwards for small samples (empty bins); compare estimates made with the same n and bins.
    Samples outside [-lim, lim]^d are ignored.
    """
    return float(jsd(histogram(x_data, bins, lim), histogram(x_gen, bins, lim)))


def generator_objective_at_optimum(jsd_value: float) -> float:
    """C(G) = -log 4 + 2 JSD(p_data || p_g): the value of V(D*, G) (Theorem 1)."""
    return -math.log(4) + 2 * jsd_value


@dataclass(frozen=True)
class ModeCoverage:
    """``covered`` modes of ``n_modes``; ``high_quality``: the fraction of samples within n_std std
    of some centre; ``counts[j]``: the samples nearest to centre j and within n_std std of it."""

    covered: int
    n_modes: int
    high_quality: float
    counts: tuple[int, ...]


def mode_coverage(samples: Tensor, centres: Tensor, std: float, *, n_std: float = 3.0,
                  min_fraction: float | None = None) -> ModeCoverage:
    """Mode coverage of a Gaussian mixture with ``centres`` (K, d) and ``std`` by ``samples`` (n, d).

    A sample is "high quality" if it lies within ``n_std`` std of its nearest centre. A mode is
    covered if at least ``min_fraction`` of all samples are high-quality samples of that mode
    (default: a quarter of its fair share, 1/(4K)). Follows the 2-D mixture protocol of
    Srivastava et al. (VEEGAN, 2017).
    """
    n_modes = len(centres)
    min_fraction = 0.25 / n_modes if min_fraction is None else min_fraction
    dist = torch.cdist(samples.detach().to(centres.dtype), centres)  # (n, K)
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist <= n_std * std
    counts = torch.bincount(nearest[good], minlength=n_modes)
    covered = int((counts >= min_fraction * len(samples)).sum())
    return ModeCoverage(covered, n_modes, float(good.float().mean()), tuple(int(c) for c in counts))


def toy_metrics(data, noise_sampler, *, n: int = 2000, seed: int = 123, bins: int = 30):
    """A ``metrics(G)`` for ``train_gan`` on toy data ``data`` (a ``ToyData``): "jsd" (histogram
    estimate on fixed seeded samples), and for mixtures "modes" covered and "high_quality"."""
    rng = torch.Generator().manual_seed(seed)
    z = noise_sampler(n, rng)
    x_data = data.sample(n, rng)

    def metrics(G) -> dict[str, float]:
        with torch.no_grad():
            x = G(z)
        out = {"jsd": jsd_estimate(x_data, x, bins=bins, lim=data.lim)}
        if data.centres is not None and data.name != "gaussian_1d":
            mc = mode_coverage(x, data.centres, data.std)
            out.update(modes=mc.covered, high_quality=mc.high_quality)
        return out

    return metrics


def sample_diversity(images: Tensor) -> float:
    """Per-pixel standard deviation across a batch of images (n, C, H, W), averaged over pixels.

    A collapsed generator (every z gives nearly the same image) scores near 0; compare with the
    same number for as many real images. A crude check, blind to which modes are covered.
    """
    if images.dim() != 4 or len(images) < 2:
        raise ValueError(f"expected at least two images of shape (n, C, H, W), got {tuple(images.shape)}")
    return images.detach().to(torch.float64).std(dim=0).mean().item()
