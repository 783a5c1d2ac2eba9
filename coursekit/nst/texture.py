"""Texture synthesis experiments of lesson 02: which layers, which weights, what the numbers mean.

- ``synthesize``: ``synthesis.synthesize_texture`` at the style image's size, the lesson's entry
  point. (Under the paper's normalisation 1/(4 N^2 M^2) the gradient is tiny, about 1e-10 per
  pixel for conv5_1 of a 64 px image; ``coursekit.optimize`` scales the objective by its first
  gradient so that L-BFGS-B's first step is not lost in float32.)
- ``single_layer_weights`` / ``cumulative_weights``: the lambda^[l] of "one layer alone" and of
  "conv1_1, then conv1_1 + conv2_1, ..." (Gatys, Ecker & Bethge 2015, Fig. 1); ``layer_study``
  runs both series and ``plot_layer_study`` draws them as two rows.
- ``layer_shapes``: (nC, nH, nW) of each layer for an image size, for ``style.convert_weights``.
- ``format_table`` / ``conversion_table``: plain-text tables (no pandas needed), e.g. the lecture's
  alpha, beta, lambda^[l] translated into another implementation's convention.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from . import style
from .models.features import FeatureExtractor
from .optimize import OptimResult
from .plots import show_image
from .synthesis import noise_like, synthesize_texture

__all__ = [
    "synthesize",
    "single_layer_weights",
    "cumulative_weights",
    "LayerStudy",
    "layer_study",
    "plot_layer_study",
    "layer_shapes",
    "format_table",
    "conversion_table",
]


def synthesize(
    extractor: FeatureExtractor,
    style_image: Tensor,
    style_weights: Mapping[str, float],
    *,
    steps: int = 50,
    seed: int = 0,
    layer_cost: Callable[[Tensor, Tensor], Tensor] | None = None,
    callback: Callable[[int, float, Tensor], None] | None = None,
    stop: threading.Event | None = None,
) -> OptimResult:
    """Texture from seeded noise minimising J_style(S, G) = sum_l lambda^[l] J_style^[l](S, G).

    ``synthesize_texture(extractor, style_image, style_weights, ...)`` at the style image's size;
    ``history`` holds "total" and "style/<layer>" (the unweighted J_style^[l]).
    """
    return synthesize_texture(extractor, style_image, style_weights, steps=steps, seed=seed,
                              layer_cost=layer_cost, callback=callback, stop=stop)


def single_layer_weights(layers: Sequence[str], lam: float = 1.0) -> list[dict[str, float]]:
    """One weight dict per layer, that layer alone: [{"conv1_1": 1}, {"conv2_1": 1}, ...]."""
    return [{name: lam} for name in layers]


def cumulative_weights(layers: Sequence[str]) -> list[dict[str, float]]:
    """The first 1, 2, ..., L layers with equal weights 1/k (Gatys et al. 2015, Fig. 1).

    [{"conv1_1": 1}, {"conv1_1": 0.5, "conv2_1": 0.5}, ...]; the last one is the paper's
    lambda^[l] = 1/5 on conv1_1..conv5_1.
    """
    return [{name: 1.0 / k for name in layers[:k]} for k in range(1, len(layers) + 1)]


@dataclass
class LayerStudy:
    """Textures of one style image: each layer alone, and the first 1, 2, ..., L layers together."""

    style_image: Tensor
    layers: list[str]
    alone: list[OptimResult]
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
) -> LayerStudy:
    """Synthesise from the same noise with ``single_layer_weights`` and ``cumulative_weights``.

    "conv1_1 alone" and "up to conv1_1" are the same problem, so it is solved once (2L - 1 runs).
    """
    layers = list(layers)
    started = time.perf_counter()

    def run(weights: Mapping[str, float]) -> OptimResult:
        return synthesize(extractor, style_image, weights, steps=steps, seed=seed, layer_cost=layer_cost)

    alone = [run(weights) for weights in single_layer_weights(layers)]
    up_to = alone[:1] + [run(weights) for weights in cumulative_weights(layers)[1:]]
    return LayerStudy(style_image, layers, alone, up_to, time.perf_counter() - started)


def plot_layer_study(study: LayerStudy, title: str | None = None, axes: Any = None,
                     cell: float = 1.9) -> Any:
    """Two rows: each layer alone (top) and the layers up to it together (bottom).

    The first column shows the style image and the noise every run starts from. ``axes`` is a
    (2, L + 1) array of Axes (default: a new figure, ``cell`` inches per image). Returns the axes.
    """
    import matplotlib.pyplot as plt

    n = len(study.layers)
    if axes is None:
        _, axes = plt.subplots(2, n + 1, figsize=(cell * (n + 1), cell * 2 + 0.6), squeeze=False)
    show_image(study.style_image, ax=axes[0][0], title="style image S")
    show_image(noise_like(study.style_image), ax=axes[1][0], title="start: noise")
    for i, name in enumerate(study.layers):
        show_image(study.alone[i].image, ax=axes[0][i + 1], title=f"{name} alone")
        joined = name if i == 0 else f"+ {name}"
        show_image(study.up_to[i].image, ax=axes[1][i + 1], title=joined)
    if title is not None:
        axes[0][0].figure.suptitle(title)
    return axes


def layer_shapes(
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


def _cell(value: object, digits: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}g}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], digits: int = 4) -> str:
    """A plain-text table; floats rounded to ``digits`` significant digits, numbers right-aligned."""
    if any(len(row) != len(headers) for row in rows):
        raise ValueError(f"every row needs {len(headers)} cells, one per header")
    cells = [[_cell(v, digits) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for row in rows)
               for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line([str(h) for h in headers]), rule, *(line(r) for r in cells)])


def conversion_table(
    alpha: float,
    beta: float,
    style_weights: Mapping[str, float],
    *,
    shapes: Mapping[str, tuple[int, ...]],
    content_shape: tuple[int, ...],
    source: str,
    target: str,
    digits: int = 4,
) -> str:
    """``style.convert_weights`` as a table: per layer lambda^[l] and beta lambda^[l] in both conventions.

    The last lines give alpha and beta before and after. Same objective, other numbers: for every
    layer beta' lambda'^[l] c_target(l) = beta lambda^[l] c_source(l).
    """
    new = style.convert_weights(alpha, beta, style_weights, style_shapes=shapes,
                                content_shape=content_shape, source=source, target=target)
    headers = ["layer", "n_C", "n_H*n_W", f"λ {source}", f"λ {target}", f"βλ {source}", f"βλ {target}"]
    rows = []
    for name, lam in style_weights.items():
        n_C, n_H, n_W = shapes[name][-3:]
        rows.append([name, n_C, n_H * n_W, float(lam), new.style_weights[name],
                     float(beta * lam), new.beta * new.style_weights[name]])
    table = format_table(headers, rows, digits)
    return (f"{table}\n"
            f"α: {alpha:.{digits}g} ({source})  ->  {new.alpha:.{digits}g} ({target})\n"
            f"β: {beta:.{digits}g} ({source})  ->  {new.beta:.{digits}g} ({target})")
