"""How the scale of a residual stream grows with depth, with and without batch norm in the branch.

A stack of residual blocks x_{l+1} = x_l + F(x_l) with the pre-activation branch F(x) = W relu(x)
(no bias), W ~ N(0, 2/n) (He's scale, n = width). We follow the second moment E[x^2] (the variance
of a unit over random weights: flipping W's sign shows x_l is symmetric, of mean 0). W has mean 0
and is drawn independently of x_l, so E[x_l F(x_l)] = 0 and

    E[F(x_l)^2] = n * (2/n) * E[relu(x_l)^2] = 2 * (1/2) E[x_l^2] = E[x_l^2]     (x_l symmetric)

hence E[x_{l+1}^2] = E[x_l^2] + E[F(x_l)^2] = 2 E[x_l^2]: the variance DOUBLES per block,
E[x_L^2] = 2^L E[x_0^2] (Prince, Understanding Deep Learning, section 11.4). With batch norm at the
end of the branch, F(x) = BN(W relu(x)) has mean 0 and variance 1 per unit over the batch, so
E[x_{l+1}^2] = E[x_l^2] + 1: LINEAR growth, E[x_L^2] = E[x_0^2] + L.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["residual_mean_squares"]


def residual_mean_squares(depth: int, *, width: int = 64, batch: int = 512, batch_norm: bool = False, seed: int = 0,
                       dtype: torch.dtype = torch.float64) -> list[float]:
    """E[x_l^2] for l = 0..depth (the mean of x_l^2 over the batch and the units) of
    ``depth`` blocks x_{l+1} = x_l + F(x_l), F(x) = W relu(x) (or BN(W relu(x)) with ``batch_norm``:
    training-mode normalisation with the biased variance, gamma = 1, beta = 0), W ~ N(0, 2/width),
    starting from x_0 ~ N(0, 1) of shape (batch, width)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, generator=g, dtype=dtype)  # (B, n)
    mean_squares = [float(x.pow(2).mean())]
    for _ in range(depth):
        w = torch.randn(width, width, generator=g, dtype=dtype) * math.sqrt(2.0 / width)  # He
        branch = torch.relu(x) @ w.T  # (B, n)
        if batch_norm:  # per unit over the batch: mean 0, biased variance 1
            branch = (branch - branch.mean(dim=0)) / branch.std(dim=0, unbiased=False)
        x = x + branch
        mean_squares.append(float(x.pow(2).mean()))
    return mean_squares
