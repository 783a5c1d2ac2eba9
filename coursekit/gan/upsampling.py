"""Checkerboard artefacts of transposed convolutions, and the resize-then-convolve fix
(Odena, Dumoulin & Olah, "Deconvolution and checkerboard artifacts", Distill 2016).

A transposed convolution with kernel k, stride s and padding p stamps a k x k copy of its kernel,
scaled by each input pixel, every s output pixels (lesson 07's n_out = (n_in - 1)·s - 2p + k).

- ``overlap_counts``: how many stamps land on each output pixel. When k is not divisible by s the
  counts alternate (k = 3, s = 2: 1, 2, 1, 2, ...), so even an all-ones kernel paints a grid.
- When k IS divisible by s (DCGAN's k = 4, s = 2) the counts are even away from the border, but output
  pixel j is still computed by the taps of ONE phase, j + p ≡ r (mod s): a different sub-kernel for
  each of the s² phases. A constant input c gives c·(sum of that phase's taps), and unless the
  learnt sub-kernels happen to sum to the same value the output repeats a pattern of period s.
- ``resize_conv``: nearest-neighbour upsampling by s, then a stride-1 convolution (k = 3, p = 1). Every
  output pixel sees the full kernel, so a constant input gives a constant output: no built-in pattern.
- ``checkerboard_share``: the share of an image's variance that is a pattern of period 2, to measure it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["overlap_counts", "phase_means", "checkerboard_share", "resize_conv"]


def overlap_counts(n_in: int, kernel: int, stride: int, padding: int = 0) -> Tensor:
    """Stamps per output pixel of a 1-D transposed convolution: (n_out,) int64, n_out = (n_in - 1)s - 2p + k.

    count[j] = #{i in 0..n_in-1 : 0 <= j + p - i·s <= k - 1}. The 2-D counts are the outer product of
    the counts along each axis (``overlap_counts(...)[:, None] * overlap_counts(...)[None, :]``).
    """
    if n_in < 1 or kernel < 1 or stride < 1 or padding < 0:
        raise ValueError(f"need n_in, kernel, stride >= 1 and padding >= 0, "
                         f"got {n_in}, {kernel}, {stride}, {padding}")
    n_out = (n_in - 1) * stride - 2 * padding + kernel
    if n_out < 1:
        raise ValueError(f"padding {padding} crops the whole output ({n_out} pixels)")
    tap = torch.arange(n_out)[:, None] + padding - stride * torch.arange(n_in)[None, :]  # (n_out, n_in)
    return ((tap >= 0) & (tap < kernel)).sum(dim=1)


def phase_means(images: Tensor, period: int = 2) -> Tensor:
    """Mean of each phase: m[..., r, c] = mean of x[..., r::period, c::period]. (B, C, H, W) -> (B, C, period, period)."""
    if images.shape[-1] % period or images.shape[-2] % period:
        raise ValueError(f"image sides {tuple(images.shape[-2:])} must be multiples of the period {period}")
    rows = [torch.stack([images[..., r::period, c::period].mean(dim=(-2, -1)) for c in range(period)], dim=-1)
            for r in range(period)]
    return torch.stack(rows, dim=-2)


def checkerboard_share(images: Tensor) -> Tensor:
    """Share of each image's variance in patterns of period 2: (B, C, H, W) -> (B,), in [0, 1].

    The period-2 part of x is x̃[i, j] = m[i mod 2, j mod 2] (``phase_means``), the projection of x onto
    the Fourier components at frequencies (0, 0), (H/2, 0), (0, W/2) and (H/2, W/2). Its share is

        share = (H·W / 4) · Σ_{c, r, q} (m_{c,r,q} - m̄_c)² / Σ_{c, i, j} (x_{c,i,j} - x̄_c)²,

    0 for a pattern-free image, 1 for a pure 2x2 checkerboard, 3 / (H·W - 1) on average for white noise.
    An image with zero variance gets 0.
    """
    h, w = images.shape[-2:]
    m = phase_means(images).flatten(-2)  # (B, C, 4)
    pattern = h * w / 4 * (m - m.mean(dim=-1, keepdim=True)).pow(2).sum(dim=(-2, -1))
    total = (images - images.mean(dim=(-2, -1), keepdim=True)).pow(2).sum(dim=(-3, -2, -1))
    return torch.where(total > 0, pattern / total.clamp_min(torch.finfo(images.dtype).tiny), torch.zeros_like(total))


def resize_conv(in_channels: int, out_channels: int, *, scale: int = 2, kernel: int = 3,
                bias: bool = True) -> list[tuple[str, nn.Module]]:
    """Odena et al.'s fix as named layers [("up", Upsample(nearest, x scale)), ("conv", Conv2d k, s 1, p k//2)]:
    (B, in, n, n) -> (B, out, scale·n, scale·n), the same size change as ConvTranspose2d(k=4, s=2, p=1)."""
    if kernel % 2 == 0:
        raise ValueError(f"use an odd kernel so that padding kernel // 2 keeps the size, got {kernel}")
    return [("up", nn.Upsample(scale_factor=scale, mode="nearest")),
            ("conv", nn.Conv2d(in_channels, out_channels, kernel, 1, kernel // 2, bias=bias))]
