"""Texture synthesis (lesson 02): an image from noise whose Gram matrices match a style image's.

Gatys, Ecker & Bethge 2015 ("Texture synthesis using convolutional neural networks") minimise the
style cost alone, J_style(S, G) = sum_l lambda^[l] J_style^[l](S, G), over the pixels of G. What
survives shows what each layer's Gram matrices capture: low layers colour and edges, higher
layers larger structures.

- ``synthesize_texture``: the synthesis, from seeded noise. (Under the paper's normalisation
  1/(4 N^2 M^2) the gradient is tiny, about 1e-10 per pixel for relu5_1 of a 64 px image;
  ``coursekit.nst.optimize`` scales the objective by its first gradient so that L-BFGS-B's first
  step is not lost in float32.)
- ``single_layer_weights`` / ``cumulative_weights``: the lambda^[l] of "one layer alone" and of
  "relu1_1, then relu1_1 + relu2_1, ..." (Gatys et al. 2015, Fig. 1); ``layer_study`` runs both
  series and ``plot_layer_study`` draws them as two rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..models.features import FeatureExtractor
from ..plots import show_image
from .costs import gram_target_cost, weighted_style_sum
from .optimize import OptimResult, noise_like, optimize_image
from .targets import gram_targets

__all__ = [
    "synthesize_texture",
    "single_layer_weights",
    "cumulative_weights",
    "LayerStudy",
    "layer_study",
    "plot_layer_study",
]


def synthesize_texture(
    extractor: FeatureExtractor,
    style_image: Tensor,
    style_weights: Mapping[str, float],
    *,
    size: tuple[int, int] | None = None,
    steps: int = 50,
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
                parts[f"style/{name}"] = gram_target_cost(grams_S[name], a_G[name], convention)
        total = weighted_style_sum(style_weights, {name: parts[f"style/{name}"] for name in layers})
        return {"total": total, **parts}

    init = noise_like(torch.empty(shape, dtype=style_image.dtype, device=style_image.device), seed)
    return optimize_image(loss, init, steps=steps, method=method, callback=callback, stop=stop)


def single_layer_weights(layers: Sequence[str], lam: float = 1.0) -> list[dict[str, float]]:
    """One weight dict per layer, that layer alone: [{"relu1_1": 1}, {"relu2_1": 1}, ...]."""
    return [{name: lam} for name in layers]


def cumulative_weights(layers: Sequence[str]) -> list[dict[str, float]]:
    """The first 1, 2, ..., L layers with equal weights 1/k (Gatys et al. 2015, Fig. 1).

    [{"relu1_1": 1}, {"relu1_1": 0.5, "relu2_1": 0.5}, ...]; the last one is the paper's
    lambda^[l] = 1/5 on relu1_1..relu5_1.
    """
    return [{name: 1.0 / k for name in layers[:k]} for k in range(1, len(layers) + 1)]


@dataclass
class LayerStudy:
    """Textures of one style image: each layer alone, and the first 1, 2, ..., L layers together."""

    style_image: Tensor
    layers: list[str]
    alone: list[OptimResult]  # each layer alone (only the first one for a study made with alone=False)
    up_to: list[OptimResult]
    seconds: float


def layer_study(
    extractor: FeatureExtractor,
    style_image: Tensor,
    layers: Sequence[str],
    *,
    steps: int = 50,
    seed: int = 0,
    layer_cost: Callable[[Tensor, Tensor], Tensor] | None = None,
    alone: bool = True,
) -> LayerStudy:
    """Synthesise from the same noise with ``single_layer_weights`` and ``cumulative_weights``.

    "relu1_1 alone" and "up to relu1_1" are the same problem, so it is solved once (2L - 1 runs).
    ``alone=False`` runs only the cumulative series (L runs): ``LayerStudy.alone`` then holds just
    the first layer's texture, and ``plot_layer_study`` draws one row.
    """
    layers = list(layers)
    started = time.perf_counter()

    def run(weights: Mapping[str, float]) -> OptimResult:
        return synthesize_texture(extractor, style_image, weights, steps=steps, seed=seed, layer_cost=layer_cost)

    series = single_layer_weights(layers) if alone else single_layer_weights(layers[:1])
    singles = [run(weights) for weights in series]
    up_to = singles[:1] + [run(weights) for weights in cumulative_weights(layers)[1:]]
    return LayerStudy(style_image, layers, singles, up_to, time.perf_counter() - started)


def plot_layer_study(study: LayerStudy, title: str | None = None, axes: Any = None,
                     cell: float = 1.9) -> Any:
    """Two rows: each layer alone (top) and the layers up to it together (bottom).

    The first column shows the style image and the noise every run starts from. A study made with
    ``alone=False`` gets one row: the style image, then the layers up to each one together.
    ``axes`` is a (rows, L + 1) array of Axes (default: a new figure, ``cell`` inches per image).
    Returns the axes.
    """
    import matplotlib.pyplot as plt

    n = len(study.layers)
    both = len(study.alone) == n
    rows = 2 if both else 1
    if axes is None:
        _, axes = plt.subplots(rows, n + 1, figsize=(cell * (n + 1), cell * rows + 0.6), squeeze=False)
    show_image(study.style_image, ax=axes[0][0], title="style image S")
    if both:
        show_image(noise_like(study.style_image), ax=axes[1][0], title="start: noise")
    for i, name in enumerate(study.layers):
        if both:
            show_image(study.alone[i].image, ax=axes[0][i + 1], title=f"{name} alone")
        joined = name if i == 0 else f"+ {name}"
        show_image(study.up_to[i].image, ax=axes[rows - 1][i + 1], title=joined)
    if title is not None:
        axes[0][0].figure.suptitle(title)
    return axes
