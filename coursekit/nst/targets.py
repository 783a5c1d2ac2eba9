"""What the generated image is compared with: Gram targets for any image size, activation shapes.

A Gram matrix G^[l] = F F^T is a sum over the M = nH*nW positions of layer l, so a style image of
another size than the generated image has Grams on another scale. ``gram_targets`` rescales each
style image's Gram by M_G / M_S and blends several style images; ``activation_shapes`` gives each
layer's (nC, nH, nW) for an image size (for ``conventions.convert_weights``).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from ..models.features import FeatureExtractor
from .costs import gram_matrix

__all__ = ["gram_targets", "activation_shapes"]


def gram_targets(
    extractor: FeatureExtractor,
    style_images: Sequence[Tensor],
    layers: Sequence[str],
    shape: tuple[int, ...],
    blend: Sequence[float] | None = None,
) -> dict[str, Tensor]:
    """Target style matrices sum_i w_i G^[l](S_i) for generated images of ``shape`` (B, 3, H, W).

    A Gram matrix is a sum over positions, so each style image's Gram is scaled by M_G / M_S (the
    ratio of positions at that layer) when its size differs from the generated image's. ``blend``
    (default equal weights) is normalised to sum to 1.
    """
    if not style_images:
        raise ValueError("give at least one style image")
    weights = [1.0] * len(style_images) if blend is None else [float(w) for w in blend]
    if len(weights) != len(style_images) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"blend {list(weights)} must give one non-negative weight per style image "
                         f"({len(style_images)}), not all 0")
    total = sum(weights)
    with torch.no_grad():
        probe = extractor(torch.zeros((1,) + tuple(shape[1:]), dtype=style_images[0].dtype,
                                      device=style_images[0].device), layers)
        targets: dict[str, Tensor] = {}
        for image, w in zip(style_images, weights):
            if w == 0:
                continue
            a_S = extractor(image, layers)
            for name in layers:
                ratio = probe[name][0, 0].numel() / a_S[name][0, 0].numel()
                g = gram_matrix(a_S[name]) * (ratio * w / total)
                targets[name] = g if name not in targets else targets[name] + g
    return targets


def activation_shapes(
    extractor: FeatureExtractor, size: int | tuple[int, int], layers: Sequence[str] | None = None
) -> dict[str, tuple[int, int, int]]:
    """(nC, nH, nW) of each layer for an image of ``size`` (an int is a square image).

    Shapes depend on the architecture and the size only, not on the weights.
    """
    h, w = (size, size) if isinstance(size, int) else size
    probe = torch.zeros(1, 3, h, w, dtype=extractor.mean.dtype, device=extractor.mean.device)
    with torch.no_grad():
        acts = extractor(probe, layers)
    return {name: tuple(a.shape[1:]) for name, a in acts.items()}
