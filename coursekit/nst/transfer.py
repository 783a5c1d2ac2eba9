"""Neural style transfer: minimise J(G) = alpha J_content(C, G) + beta J_style(S, G) over G's pixels.

Gatys, Ecker & Bethge 2015 ("A Neural Algorithm of Artistic Style"), in the lecture's notation:

    J(G) = alpha J_content(C, G) + beta sum_l lambda^[l] J_style^[l](S, G) + w_TV TV(G)

with J_content = 1/2 sum (a^[l](C) - a^[l](G))^2 at the content layer (paper: conv4_2) and
J_style^[l] = 1/(2 nH nW nC)^2 sum (G^[l](S) - G^[l](G))^2 (paper: conv1_1..conv5_1, lambda = 1/5).
TV(G) = sum |G_{i+1,j} - G_{i,j}| + |G_{i,j+1} - G_{i,j}| (anisotropic total variation) smooths noise.

``StyleTransfer`` computes targets once per image size (and colour mode) and caches them, so a
re-run with a new alpha, beta, lambda^[l], content layer, optimiser or number of steps starts at
once; ``warm_start`` continues from the previous result. Extras: a coarse-to-fine schedule,
colour preservation (``coursekit.color``), several style images with blend weights, and learners'
own cost functions. Runs end with the best image so far on Stop, interrupt or divergence.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from . import color, style
from .data import resize_image, target_size
from .models.features import FeatureExtractor, feature_extractor
from .models.layers import layer_names
from .optimize import OptimResult, optimize_image
from .synthesis import gram_targets, initial_image

__all__ = ["TransferSettings", "TransferResult", "StyleTransfer", "default_extractor", "total_variation",
           "VGG19_CONV_LAYERS", "COLOR_MODES", "INITS"]

VGG19_CONV_LAYERS = tuple(name for name in layer_names("vgg19") if name.startswith("conv"))
COLOR_MODES = (None, "luminance", "match")
INITS = ("content", "style", "noise")


@dataclass(frozen=True)
class TransferSettings:
    """Everything a run can change; ``replace(settings, beta=1e4)`` makes a variant.

    alpha, beta: weights of J_content and J_style (paper convention by default: with it, Gatys'
        alpha/beta ratio of 1e-3 to 1e-4 is the useful range).
    style_weights: lambda^[l] by layer name.  content_layer: the layer of J_content.
    init: "content", "style" or "noise" (seeded by ``seed``).  warm_start: continue from the
        previous result instead (resized if needed).
    method: "lbfgs" (bounded L-BFGS-B) or "adam" (learning rate ``lr``).  steps: loss evaluations
        at each scale.  size: longer side of the result (None: the content image's size).
    schedule: coarser sizes (longer side) to run first, e.g. (64, 128), each result upsampled as
        the next start.  tv_weight: weight of TV(G).
    preserve_color: None, "luminance" (transfer luminance only) or "match" (match the style's
        colours to the content's first).  style_blend: one weight per style image.
    convention: normalisation of the costs, a key of ``coursekit.style.CONVENTIONS``.
    """

    alpha: float = 1.0
    beta: float = 1e4
    style_weights: Mapping[str, float] = field(default_factory=lambda: dict(style.PAPER_STYLE_LAYERS))
    content_layer: str = style.PAPER_CONTENT_LAYER
    init: str = "content"
    warm_start: bool = False
    method: str = "lbfgs"
    lr: float = 0.02
    steps: int = 100
    size: int | None = 128
    schedule: tuple[int, ...] = ()
    tv_weight: float = 0.0
    preserve_color: str | None = None
    style_blend: tuple[float, ...] | None = None
    convention: str = "paper"
    seed: int = 0


@dataclass
class TransferResult(OptimResult):
    """``OptimResult`` plus the settings that made it and the wall time."""

    settings: TransferSettings | None = None
    seconds: float = 0.0


def default_extractor(weights: str | None = "imagenet", pooling: str = "avg", seed: int = 0,
                      rescale: bool = True, channels_last: bool = True) -> FeatureExtractor:
    """VGG19 reading every conv layer (a run stops at the deepest one it needs), set up as Gatys et al.:
    average pooling and filters rescaled to mean activation 1; channels-last for CPU speed."""
    return feature_extractor("vgg19", VGG19_CONV_LAYERS, weights=weights, pooling=pooling, seed=seed,
                             rescale=rescale, channels_last=channels_last)


def total_variation(x: Tensor) -> Tensor:
    """TV(x) = sum |x_{i+1,j} - x_{i,j}| + sum |x_{i,j+1} - x_{i,j}| per image, shape (B,)."""
    dh = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().sum(dim=(1, 2, 3))
    dw = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().sum(dim=(1, 2, 3))
    return dh + dw


def _validate(s: TransferSettings, layers: Sequence[str], n_styles: int) -> None:
    if s.content_layer not in layers:
        raise ValueError(f"content_layer {s.content_layer!r} is not read by the extractor; use one of {list(layers)}")
    unknown = [name for name in s.style_weights if name not in layers]
    if unknown:
        raise ValueError(f"style layers {unknown} are not read by the extractor; use some of {list(layers)}")
    if not any(w != 0 for w in s.style_weights.values()) and s.beta != 0:
        raise ValueError("every style weight lambda^[l] is 0: give at least one layer a weight, or set beta=0")
    if s.init not in INITS:
        raise ValueError(f"init {s.init!r} is not known; use one of {INITS}")
    if s.preserve_color not in COLOR_MODES:
        raise ValueError(f"preserve_color {s.preserve_color!r} is not known; use one of {COLOR_MODES}")
    if s.style_blend is not None and len(s.style_blend) != n_styles:
        raise ValueError(f"style_blend has {len(s.style_blend)} weights for {n_styles} style images")
    for name in ("alpha", "beta", "tv_weight"):
        if getattr(s, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(s, name)}")


class StyleTransfer:
    """Style transfer of ``content`` in the style of ``styles``, with cached targets.

    Args:
        content: (1, 3, H, W) image in [0, 1].
        styles: one style image or a list of them (any sizes).
        extractor: a FeatureExtractor reading the layers runs may use (default: ``default_extractor()``).
        content_cost_fn, layer_style_cost_fn, total_cost_fn: a learner's own functions with the
            signatures of ``coursekit.style.content_cost(a_C, a_G)``,
            ``layer_style_cost(a_S, a_G)`` and ``total_cost(J_content, J_style, alpha, beta)``.
    """

    def __init__(
        self,
        content: Tensor,
        styles: Tensor | Sequence[Tensor],
        extractor: FeatureExtractor | None = None,
        *,
        content_cost_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
        layer_style_cost_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
        total_cost_fn: Callable[..., Tensor] | None = None,
    ) -> None:
        self.extractor = extractor if extractor is not None else default_extractor()
        self.content = content
        self.styles = [styles] if isinstance(styles, Tensor) else list(styles)
        for i, image in enumerate([content] + self.styles):
            if not isinstance(image, Tensor) or image.dim() != 4 or image.shape[:2] != (1, 3):
                what = "content" if i == 0 else f"style image {i - 1}"
                raise ValueError(f"{what} must be a (1, 3, H, W) tensor in [0, 1]; use coursekit.data.load_image")
        if layer_style_cost_fn is not None and len(self.styles) > 1:
            raise ValueError("a learner's layer_style_cost compares one style image's activations: give one style image")
        self.content_cost_fn, self.layer_style_cost_fn, self.total_cost_fn = (
            content_cost_fn, layer_style_cost_fn, total_cost_fn)
        self._cache: dict[tuple, object] = {}
        self.last_result: TransferResult | None = None

    # ---- targets (cached) --------------------------------------------------------------------
    def _images(self, shape: tuple[int, ...], mode: str | None) -> tuple[Tensor, list[Tensor]]:
        """Content at ``shape`` and style images at the same longer side, in colour mode ``mode``."""
        key = ("images", shape, mode)
        if key not in self._cache:
            content = resize_image(self.content, tuple(shape[-2:]))
            longer = max(shape[-2:])
            styles = [resize_image(s, longer) for s in self.styles]
            if self.layer_style_cost_fn is not None:  # a learner's cost needs equal-size activations
                styles = [resize_image(s, tuple(shape[-2:])) for s in self.styles]
            if mode == "luminance":
                lum_c = color.luminance(content)
                styles = [color.gray3(color.match_luminance(color.luminance(s), lum_c)) for s in styles]
                content = color.gray3(lum_c)
            elif mode == "match":
                styles = [color.match_color(s, content) for s in styles]
            self._cache[key] = (content, styles)
        return self._cache[key]

    def _targets(self, s: TransferSettings, shape: tuple[int, ...]) -> tuple[Tensor, dict[str, Tensor]]:
        content, styles = self._images(shape, s.preserve_color)
        c_key = ("content", shape, s.preserve_color, s.content_layer)
        if c_key not in self._cache:
            with torch.no_grad():
                self._cache[c_key] = self.extractor(content, [s.content_layer])[s.content_layer]
        layers = [name for name, w in s.style_weights.items() if w != 0]
        targets = {}
        for name in layers:
            s_key = ("style", shape, s.preserve_color, s.style_blend, name)
            if s_key not in self._cache:
                if self.layer_style_cost_fn is not None:
                    with torch.no_grad():
                        self._cache[s_key] = self.extractor(styles[0], [name])[name]
                else:
                    self._cache[s_key] = gram_targets(self.extractor, styles, [name], shape, s.style_blend)[name]
            targets[name] = self._cache[s_key]
        return self._cache[c_key], targets

    # ---- the objective -----------------------------------------------------------------------
    def objective(self, s: TransferSettings, shape: tuple[int, ...]) -> Callable[[Tensor], dict[str, Tensor]]:
        """x -> {"total": J, "content": J_content, "style": J_style, "style/<layer>": J^[l], "tv": TV}."""
        P, style_targets = self._targets(s, shape)
        layers = list(style_targets)
        needed = [s.content_layer] + [name for name in layers if name != s.content_layer]

        def loss(x: Tensor) -> dict[str, Tensor]:
            feats = self.extractor(x, needed)
            a_G = feats[s.content_layer]
            J_content = (self.content_cost_fn(P, a_G) if self.content_cost_fn
                         else style.content_cost(P, a_G, s.convention))
            parts: dict[str, Tensor] = {"content": J_content}
            J_style = torch.zeros_like(J_content)
            for name in layers:
                a = feats[name]
                if self.layer_style_cost_fn is not None:
                    J_l = self.layer_style_cost_fn(style_targets[name], a)
                else:
                    J_l = style.gram_target_cost(style_targets[name], a, s.convention)
                parts[f"style/{name}"] = J_l
                J_style = J_style + s.style_weights[name] * J_l
            parts["style"] = J_style
            total_fn = self.total_cost_fn or style.total_cost
            total = total_fn(J_content, J_style, s.alpha, s.beta)
            if s.tv_weight:
                parts["tv"] = total_variation(x)
                total = total + s.tv_weight * parts["tv"]
            return {"total": total, **parts}

        return loss

    # ---- running -----------------------------------------------------------------------------
    def output_shape(self, size: int | None) -> tuple[int, int, int, int]:
        h, w = target_size(size, *self.content.shape[-2:])
        return (1, 3, h, w)

    def _start(self, s: TransferSettings, shape: tuple[int, ...]) -> Tensor:
        if s.warm_start and self.last_result is not None:
            previous = self.last_result.image
            return F.interpolate(previous, size=shape[-2:], mode="bilinear", align_corners=False).clamp(0, 1) \
                if previous.shape != torch.Size(shape) else previous.clone()
        content, styles = self._images(shape, s.preserve_color)
        if s.init == "style":
            return resize_image(styles[0], tuple(shape[-2:]))
        return initial_image("noise" if s.init == "noise" else content, content, s.seed)

    def _finish(self, image: Tensor, s: TransferSettings) -> Tensor:
        if s.preserve_color == "luminance":
            return color.combine_luminance(image, resize_image(self.content, tuple(image.shape[-2:])))
        return image

    def run(
        self,
        settings: TransferSettings | None = None,
        *,
        callback: Callable[[int, float, Tensor], None] | None = None,
        stop: threading.Event | None = None,
        **overrides,
    ) -> TransferResult:
        """Run with ``settings`` (default ``TransferSettings()``), changed by keyword ``overrides``.

        ``callback(evaluation, loss, image)`` sees each evaluation (the image in RGB, ready to
        preview). Returns the best image, the history (per-layer costs included) and why it ended.
        """
        s = replace(settings or TransferSettings(), **overrides)
        _validate(s, self.extractor.layers, len(self.styles))
        final = self.output_shape(s.size)
        shapes = [self.output_shape(size) for size in s.schedule if size < max(final[-2:])] + [final]
        start_time = time.perf_counter()
        preview = None if callback is None else (lambda i, v, x: callback(i, v, self._finish(x, s)))
        history: dict[str, list[float]] = {}
        done, result, init = 0, None, None
        for shape in shapes:
            if init is None:
                init = self._start(s, shape)
            else:  # coarse-to-fine: the previous scale's result, upsampled
                init = F.interpolate(result.image, size=shape[-2:], mode="bilinear", align_corners=False).clamp(0, 1)
            counted = None if preview is None else (lambda i, v, x, base=done: preview(base + i, v, x))
            result = optimize_image(self.objective(s, shape), init, steps=s.steps, method=s.method, lr=s.lr,
                                    callback=counted, stop=stop)
            done += result.evaluations
            for key, values in result.history.items():
                history.setdefault(key, []).extend(values)
            if result.stopped in ("stopped", "interrupted", "diverged"):
                break
        out = TransferResult(self._finish(result.image, s), result.best_loss, done, history,
                             result.stopped, result.message, settings=s,
                             seconds=time.perf_counter() - start_time)
        # Warm starts continue from the optimised image (grey in luminance mode), not the recoloured one.
        self.last_result = replace(out, image=result.image)
        return out
