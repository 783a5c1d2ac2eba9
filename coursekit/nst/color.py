"""Colour preservation for style transfer (Gatys, Bethge, Hertzmann & Shechtman 2016,
"Preserving color in neural artistic style transfer").

Two ways to keep the content image's colours:

- **luminance-only transfer**: run style transfer on the luminance channel Y only (YIQ colour
  space), after matching the style's luminance mean and standard deviation to the content's:
  L_S' = sigma_C / sigma_S (L_S - mu_S) + mu_C. The result's Y is then combined with the content's
  I and Q channels.
- **colour matching** (histogram matching of first and second moments): transform the style image
  linearly, x' = A x + b, so that its colour mean and covariance equal the content's:
  A = Sigma_C^{1/2} Sigma_S^{-1/2} (symmetric square roots, the "image analogies" variant) and
  b = mu_C - A mu_S.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["rgb_to_yiq", "yiq_to_rgb", "luminance", "gray3", "match_luminance", "match_color", "combine_luminance"]

# NTSC YIQ (FCC 1953 coefficients), rows map (R, G, B) -> (Y, I, Q).
_RGB_TO_YIQ = ((0.299, 0.587, 0.114), (0.595716, -0.274453, -0.321263), (0.211456, -0.522591, 0.311135))


def _matrix(image: Tensor) -> Tensor:
    return torch.tensor(_RGB_TO_YIQ, dtype=image.dtype, device=image.device)


def rgb_to_yiq(image: Tensor) -> Tensor:
    """(B, 3, H, W) RGB -> YIQ with the NTSC matrix; Y is the luminance in [0, 1]."""
    return torch.einsum("ij,bjhw->bihw", _matrix(image), image)


def yiq_to_rgb(image: Tensor) -> Tensor:
    """Inverse of ``rgb_to_yiq``."""
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_matrix(image)), image)


def luminance(image: Tensor) -> Tensor:
    """Y = 0.299 R + 0.587 G + 0.114 B, shape (B, 1, H, W)."""
    return rgb_to_yiq(image)[:, :1]


def gray3(lum: Tensor) -> Tensor:
    """A (B, 1, H, W) luminance as a 3-channel grey image the network can read."""
    return lum.expand(-1, 3, -1, -1).clone()


def match_luminance(style_lum: Tensor, content_lum: Tensor) -> Tensor:
    """L_S' = sigma_C / sigma_S (L_S - mu_S) + mu_C, clamped to [0, 1]."""
    mu_s, sd_s = style_lum.mean(), style_lum.std().clamp_min(1e-8)
    mu_c, sd_c = content_lum.mean(), content_lum.std()
    return ((style_lum - mu_s) * (sd_c / sd_s) + mu_c).clamp(0, 1)


def _sqrtm(cov: Tensor, inverse: bool = False) -> Tensor:
    vals, vecs = torch.linalg.eigh(cov)
    vals = vals.clamp_min(1e-8)
    power = -0.5 if inverse else 0.5
    return vecs @ torch.diag(vals**power) @ vecs.T


def match_color(style_image: Tensor, content_image: Tensor) -> Tensor:
    """The style image with the content image's colour mean and covariance (clamped to [0, 1])."""
    def stats(img):
        pixels = img[0].reshape(3, -1).double()
        mu = pixels.mean(dim=1, keepdim=True)
        centred = pixels - mu
        return mu, centred @ centred.T / pixels.shape[1], pixels

    mu_s, cov_s, pixels_s = stats(style_image)
    mu_c, cov_c, _ = stats(content_image)
    A = _sqrtm(cov_c) @ _sqrtm(cov_s + 1e-5 * torch.eye(3, dtype=cov_s.dtype), inverse=True)
    out = A @ (pixels_s - mu_s) + mu_c
    return out.reshape(style_image.shape).to(style_image.dtype).clamp(0, 1)


def combine_luminance(result_gray: Tensor, content_image: Tensor) -> Tensor:
    """Y from the (grey) transfer result, I and Q from the content image, back to RGB."""
    yiq = rgb_to_yiq(content_image).clone()
    yiq[:, :1] = luminance(result_gray)
    return yiq_to_rgb(yiq).clamp(0, 1)
