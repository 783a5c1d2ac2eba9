"""Texture synthesis experiments of lesson 02: which layers, which weights, what the numbers mean.

- ``synthesize``: ``synthesis.synthesize_texture`` with the cost rescaled so that its gradient at
  the starting noise is at most 1 per pixel. SciPy's L-BFGS-B starts with no curvature
  information and takes -g as its first step, so the size of g sets how far the pixels move.
  Under the paper's normalisation 1/(4 N^2 M^2) the gradient is tiny (about 1e-10 per pixel for
  conv5_1 of a 64 px image, 1e-6 for conv1_1): the first steps change the image by less than
  float32 can resolve, the line search fails and the image stays noise (deep layers), or it
  crawls (conv1_1 of some photos). A positive factor on J_style moves no minimum, so the result
  is the same objective, now optimised.
- ``single_layer_weights`` / ``cumulative_weights``: the lambda^[l] of "one layer alone" and of
  "conv1_1, then conv1_1 + conv2_1, ..." (Gatys, Ecker & Bethge 2015, Fig. 1).
- ``layer_shapes``: (nC, nH, nW) of each layer for an image size, for ``style.convert_weights``.
- ``format_table``: a plain-text table with numbers to a few significant digits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import torch
from torch import Tensor

from . import style
from .models.features import FeatureExtractor
from .optimize import OptimResult
from .synthesis import noise_like, synthesize_texture

__all__ = ["synthesize", "single_layer_weights", "cumulative_weights", "layer_shapes", "format_table"]


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

    The same as ``synthesize_texture(extractor, style_image, style_weights, ...)`` at the style
    image's size, except that every lambda^[l] is multiplied by c = 1 / max |dJ_style/dG| at the
    starting noise (see the module docstring). The returned ``best_loss`` and
    ``history["total"]`` are divided by c again: they are the unscaled J_style. ``history`` also
    holds "style/<layer>", the unweighted J_style^[l]. ``callback`` sees the scaled cost.
    """
    layers = [name for name, lam in style_weights.items() if lam != 0]
    if not layers:
        raise ValueError("every style weight is 0: give at least one layer a weight above 0")
    cost = layer_cost or style.layer_style_cost
    with torch.no_grad():
        a_S = extractor(style_image, layers)
    x = noise_like(style_image, seed).requires_grad_(True)  # the noise the synthesis starts from
    a_N = extractor(x, layers)
    start = sum(style_weights[name] * cost(a_S[name], a_N[name]).sum() for name in layers)
    (grad,) = torch.autograd.grad(start, x)
    steepest = float(grad.abs().max())
    scale = 1.0 / steepest if steepest > 0 else 1.0
    scaled = {name: style_weights[name] * scale for name in layers}
    result = synthesize_texture(extractor, style_image, scaled, steps=steps, seed=seed,
                                layer_cost=layer_cost, callback=callback, stop=stop)
    history = dict(result.history)
    history["total"] = [value / scale for value in history["total"]]
    return replace(result, best_loss=result.best_loss / scale, history=history)


def single_layer_weights(layers: Sequence[str], lam: float = 1.0) -> list[dict[str, float]]:
    """One weight dict per layer, that layer alone: [{"conv1_1": 1}, {"conv2_1": 1}, ...]."""
    return [{name: lam} for name in layers]


def cumulative_weights(layers: Sequence[str]) -> list[dict[str, float]]:
    """The first 1, 2, ..., L layers with equal weights 1/k (Gatys et al. 2015, Fig. 1).

    [{"conv1_1": 1}, {"conv1_1": 0.5, "conv2_1": 0.5}, ...]; the last one is the paper's
    lambda^[l] = 1/5 on conv1_1..conv5_1.
    """
    return [{name: 1.0 / k for name in layers[:k]} for k in range(1, len(layers) + 1)]


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
