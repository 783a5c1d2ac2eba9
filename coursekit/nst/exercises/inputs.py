"""Seeded inputs the style-transfer exercises share: activations and features in float64."""

from __future__ import annotations

import torch
from torch import Tensor

from ...exercise import outputs_match

__all__ = ["activations", "pair", "features", "feature_pair", "outputs_match_float32"]


def activations(shape: tuple[int, ...], seed: int) -> Tensor:
    """Seeded float64 activations, mostly non-negative like features after a ReLU, a few negative."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).relu() + 0.1 * torch.randn(
        shape, generator=g, dtype=torch.float64)


def pair(shape, seed, target_batch=None):
    a_G = activations(shape, seed)
    a_T = activations(((target_batch or shape[0]),) + tuple(shape[1:]), seed + 1000)
    return a_T, a_G


def outputs_match_float32(got, expected):
    """For float32 inputs: a relative tolerance float32 can meet (sums of many products)."""
    if isinstance(got, Tensor) and isinstance(expected, Tensor) and got.shape == expected.shape:
        scale = expected.abs().max().clamp_min(1e-12)
        if got.dtype != expected.dtype:
            return False, f"returned {got.dtype}, expected {expected.dtype} (keep the input's dtype)"
        if torch.isfinite(got).all() and ((got - expected).abs().max() / scale) < 1e-5:
            return True, ""
        return False, "values differ from the reference"
    return outputs_match(got, expected)


def features(shape: tuple[int, ...], seed: int, rectified: bool = True) -> Tensor:
    """Seeded float64 features: ReLU(X) with X ~ N(0, 1) (rectified) or X itself."""
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return x.relu() if rectified else x


def feature_pair(shape, seed, target_batch=None, rectified=True):
    target = features(((target_batch or shape[0]),) + tuple(shape[1:]), seed + 1000, rectified=True)
    return target, features(shape, seed, rectified)

