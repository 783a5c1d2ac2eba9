"""Images made from one kind of cost: texture synthesis (style only) and reconstruction (content only).

- ``synthesize_texture``: start from noise and minimise J_style(S, G) = sum_l lambda^[l] J_style^[l]
  only (Gatys, Ecker & Bethge 2015, "Texture synthesis using convolutional neural networks"). What
  survives shows what each layer's Gram matrices capture: low layers colour and edges, higher
  layers larger structures.
- ``reconstruct``: start from noise and minimise J_content(C, G) at one layer (Mahendran & Vedaldi
  2015; Gatys et al. 2015, Fig. 1): from low layers the image comes back almost exactly, from deep
  layers only its arrangement ("content") survives.

Targets are computed once; each call then optimises pixels with ``coursekit.optimize``. A learner's
own cost function can be plugged in (``layer_cost`` / ``cost``).
"""

from __future__ import annotations

import threading
from typing import Callable, Mapping, Sequence

import torch
from torch import Tensor

from . import style
from .models.features import FeatureExtractor
from .optimize import OptimResult, optimize_image

__all__ = ["noise_like", "initial_image", "gram_targets", "synthesize_texture", "reconstruct"]


def noise_like(image: Tensor, seed: int = 0) -> Tensor:
    """Uniform noise in [0, 1] of ``image``'s shape, from a local generator (global RNG untouched)."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(image.shape, generator=g, dtype=image.dtype).to(image.device)


def initial_image(kind: str | Tensor, reference: Tensor, seed: int = 0) -> Tensor:
    """The starting image: "noise" (seeded), "content"/"reference" (a copy), or a given tensor."""
    if isinstance(kind, Tensor):
        if kind.shape != reference.shape:
            raise ValueError(f"init has shape {tuple(kind.shape)}; it must match {tuple(reference.shape)}")
        return kind.detach().clone()
    if kind == "noise":
        return noise_like(reference, seed)
    if kind in ("content", "reference"):
        return reference.detach().clone()
    raise ValueError(f"init {kind!r} is not known; use 'noise', 'content' or an image tensor")


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
                g = style.gram_matrix(a_S[name]) * (ratio * w / total)
                targets[name] = g if name not in targets else targets[name] + g
    return targets


def synthesize_texture(
    extractor: FeatureExtractor,
    style_image: Tensor,
    style_weights: Mapping[str, float],
    *,
    size: tuple[int, int] | None = None,
    steps: int = 100,
    seed: int = 0,
    method: str = "lbfgs",
    convention: str = "paper",
    layer_cost: Callable[[Tensor, Tensor], Tensor] | None = None,
    callback: Callable[[int, float, Tensor], None] | None = None,
    stop: threading.Event | None = None,
) -> OptimResult:
    """A new image whose Gram matrices match ``style_image``'s at the weighted layers.

    Minimises J_style(S, G) = sum_l lambda^[l] J_style^[l](S, G) over G from seeded noise.
    ``size`` (H, W) of the synthesised image defaults to the style image's. A Gram matrix is a sum
    over positions, so when the sizes differ the style Grams are scaled by M_G / M_S (the ratio of
    positions) to compare like with like. Layers with weight 0 are skipped. ``history`` holds
    "total" and "style/<layer>" (the unweighted J_style^[l]).
    """
    layers = [name for name, lam in style_weights.items() if lam != 0]
    if not layers:
        raise ValueError("every style weight is 0: give at least one layer a weight above 0")
    shape = (1, 3) + tuple(size or style_image.shape[-2:])
    if layer_cost is not None and tuple(shape[-2:]) != tuple(style_image.shape[-2:]):
        raise ValueError("layer_cost compares activations of equal size: leave size=None to "
                         "synthesise at the style image's size")
    grams_S = gram_targets(extractor, [style_image], layers, shape)
    if layer_cost is not None:
        with torch.no_grad():
            a_S = extractor(style_image, layers)

    def loss(x: Tensor) -> dict[str, Tensor]:
        a_G = extractor(x, layers)
        parts = {}
        for name in layers:
            if layer_cost is not None:
                parts[f"style/{name}"] = layer_cost(a_S[name], a_G[name])
            else:
                parts[f"style/{name}"] = style.gram_target_cost(grams_S[name], a_G[name], convention)
        total = sum(style_weights[name] * parts[f"style/{name}"] for name in layers)
        return {"total": total, **parts}

    init = noise_like(torch.empty(shape, dtype=style_image.dtype, device=style_image.device), seed)
    return optimize_image(loss, init, steps=steps, method=method, callback=callback, stop=stop)


def reconstruct(
    extractor: FeatureExtractor,
    image: Tensor,
    layer: str,
    *,
    steps: int = 100,
    seed: int = 0,
    method: str = "lbfgs",
    convention: str = "paper",
    cost: Callable[[Tensor, Tensor], Tensor] | None = None,
    callback: Callable[[int, float, Tensor], None] | None = None,
    stop: threading.Event | None = None,
) -> OptimResult:
    """An image whose activations at ``layer`` match ``image``'s, found from seeded noise.

    Minimises J_content(C, G) = 1/2 sum (a^[l](C) - a^[l](G))^2 (or ``cost(a_C, a_G)``).
    """
    with torch.no_grad():
        a_C = extractor(image, [layer])[layer]

    def loss(x: Tensor) -> Tensor:
        a_G = extractor(x, [layer])[layer]
        return cost(a_C, a_G) if cost is not None else style.content_cost(a_C, a_G, convention)

    return optimize_image(loss, noise_like(image, seed), steps=steps, method=method, callback=callback, stop=stop)
