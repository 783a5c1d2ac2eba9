"""Latent vector arithmetic (Radford et al. 2016, Section 6.3) on a trained generator.

Radford et al. averaged the z of a few samples that show a concept ("smiling woman") and added and
subtracted such means. Here a concept is a score measured on G's own samples (e.g. ``ink``, the
stroke thickness); its direction in z-space is

    v = mean{z_i : score(G(z_i)) in the top q} - mean{z_i : score(G(z_i)) in the bottom q},

and G(z + α v) should show more (α > 0) or less (α < 0) of the concept. Whether the rest of the image
(the digit's identity, say) stays put is the test of a disentangled direction: ``nearest_template``
names the digit by the nearest class-mean image, crudely but without a trained classifier.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["ink", "attribute_direction", "class_templates", "nearest_template"]


def ink(images: Tensor) -> Tensor:
    """Mean brightness in [0, 1] of images in [-1, 1]: mean of (x + 1) / 2 over (C, H, W). (B, C, H, W) -> (B,)."""
    return ((images + 1) / 2).mean(dim=(1, 2, 3))


def attribute_direction(z: Tensor, scores: Tensor, fraction: float = 0.2) -> Tensor:
    """v = mean z of the top ``fraction`` of ``scores`` - mean z of the bottom ``fraction``.

    z (n, d), scores (n,) -> (d,); ``fraction`` · n (rounded down) samples at each end.
    """
    if z.ndim != 2 or scores.shape != (z.shape[0],):
        raise ValueError(f"need z (n, d) and scores (n,), got {tuple(z.shape)} and {tuple(scores.shape)}")
    q = int(fraction * len(z))
    if not 0 < fraction <= 0.5 or q < 1:
        raise ValueError(f"fraction must be in (0, 0.5] and keep at least one sample of {len(z)}, got {fraction}")
    order = scores.argsort()
    return z[order[-q:]].mean(dim=0) - z[order[:q]].mean(dim=0)


def class_templates(images: Tensor, labels: Tensor, n_classes: int | None = None) -> Tensor:
    """The mean image of each class: images (N, C, H, W), labels (N,) -> (n_classes, C, H, W)."""
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    missing = [c for c in range(n_classes) if not (labels == c).any()]
    if missing:
        raise ValueError(f"no images of class(es) {missing}: every class needs at least one")
    return torch.stack([images[labels == c].mean(dim=0) for c in range(n_classes)])


def nearest_template(images: Tensor, templates: Tensor) -> Tensor:
    """Index of the template nearest in Euclidean distance to each image: (B, C, H, W), (K, C, H, W) -> (B,) int64."""
    return torch.cdist(images.flatten(1).to(templates.dtype), templates.flatten(1)).argmin(dim=1)
