"""Neural style transfer: minimise J(G) = alpha J_content(C, G) + beta J_style(S, G) over G's pixels.

Gatys, Ecker & Bethge 2015 ("A Neural Algorithm of Artistic Style"), in the lecture's notation:

    J(G) = alpha J_content(C, G) + beta sum_l lambda^[l] J_style^[l](S, G) + w_TV TV(G)

with J_content = 1/2 sum (a^[l](C) - a^[l](G))^2 at the content layer (paper: relu4_2, the rectified
response the paper calls conv4_2) and J_style^[l] = 1/(2 nH nW nC)^2 sum (G^[l](S) - G^[l](G))^2
(paper: relu1_1..relu5_1, lambda = 1/5).
TV(G) = sum |G_{i+1,j} - G_{i,j}| + |G_{i,j+1} - G_{i,j}| (anisotropic total variation) smooths noise.

Read ``stylize`` first: the whole algorithm in one screen (targets, objective, start, optimiser).
``StyleTransfer``, the engine behind lesson 04's panel and the command line, calls ``stylize``
with targets it has cached per image size (and colour mode), so a re-run with a new alpha, beta,
lambda^[l], optimiser or number of steps starts at once. Around it, the engine adds a coarse-to-fine
schedule, warm starts from the previous result and colour preservation (``coursekit.nst.color``).
Runs end with the best image so far on Stop, interrupt or divergence.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..images import resize_image, target_size
from ..models.features import FeatureExtractor
from ..models.precision import fastest_precision
from ..models.zoo import get_model
from ..models.layers import layer_names
from . import color
from .costs import PAPER_CONTENT_LAYER, PAPER_STYLE_LAYERS, content_cost, gram_target_cost, total_cost, weighted_style_sum
from .optimize import METHODS, LBFGSMemory, OptimResult, initial_image, optimize_image
from .precision import low_precision_copy, still_falling
from .targets import gram_targets

__all__ = ["TransferSettings", "TransferResult", "CostFunctions", "Targets", "stylize", "compute_targets",
           "style_targets", "transfer_objective", "StyleTransfer", "default_extractor", "total_variation", "VGG19_CONV_LAYERS",
           "VGG19_LAYERS",
           "COLOR_MODES", "START_IMAGES", "PRECISION_MODES", "resolve_precision"]

VGG19_CONV_LAYERS = tuple(name for name in layer_names("vgg19") if name.startswith("conv"))
# every convolution's output and its rectified response: the paper's relu layers and the pre-ReLU variants
VGG19_LAYERS = tuple(name for name in layer_names("vgg19") if name.startswith(("conv", "relu")))
COLOR_MODES = (None, "luminance", "match")
START_IMAGES = ("content", "style", "noise")
PRECISION_MODES = ("float32", "bfloat16", "auto")


@dataclass(frozen=True)
class TransferSettings:
    """Everything a run can change; ``replace(settings, beta=1e4)`` makes a variant.

    alpha, beta: weights of J_content and J_style (paper convention by default: with it, Gatys'
        alpha/beta ratio of 1e-3 to 1e-4 is the useful range).
    style_weights: lambda^[l] by layer name.  content_layer: the layer of J_content.
    init: "content", "style" or "noise" (seeded by ``seed``).  warm_start: continue from the
        previous result instead (resized if needed).
    method: "projected_lbfgs" (bounded L-BFGS in torch: the same losses per evaluation as
        L-BFGS-B, each evaluation about a third cheaper), "lbfgs" (SciPy's L-BFGS-B), both storing
        ``history`` curvature pairs, or "adam" (learning rate ``lr``).
    steps: loss evaluations at each scale.  size: longer side of the result (None: the content
        image's size).
    schedule: coarser sizes (longer side) to run first, e.g. (64, 128), each result upsampled as
        the next start.  tv_weight: weight of TV(G).
    preserve_color: None, "luminance" (transfer luminance only) or "match" (match the style's
        colours to the content's first).  style_blend: one weight per style image.
    convention: normalisation of the costs, a key of ``coursekit.nst.conventions.CONVENTIONS``.
    precision: "float32" (every evaluation), "bfloat16" (a bfloat16 start: the network in bfloat16
        while the loss falls fast, then float32; ``coursekit.nst.precision``) or "auto" (bfloat16
        where ``coursekit.models.precision`` measured it 1.5 times faster, as on CPUs with AMX).
    """

    alpha: float = 1.0
    beta: float = 1e4
    style_weights: Mapping[str, float] = field(default_factory=lambda: dict(PAPER_STYLE_LAYERS))
    content_layer: str = PAPER_CONTENT_LAYER
    init: str = "content"
    warm_start: bool = False
    method: str = "projected_lbfgs"
    lr: float = 0.02
    history: int = 20
    steps: int = 100
    size: int | None = 128
    schedule: tuple[int, ...] = ()
    tv_weight: float = 0.0
    preserve_color: str | None = None
    style_blend: tuple[float, ...] | None = None
    convention: str = "paper"
    seed: int = 0
    precision: str = "float32"


@dataclass
class TransferResult(OptimResult):
    """``OptimResult`` plus the settings that made it and the wall time (with a schedule,
    ``low_precision`` counts the bfloat16 evaluations of every scale)."""

    settings: TransferSettings | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class CostFunctions:
    """The costs J(G) is made of. None means coursekit's (``coursekit.nst.costs``) in the settings'
    convention; a learner's own functions have the signatures ``content(a_C, a_G) -> (B,)``,
    ``layer_style(a_S, a_G) -> (B,)`` and ``total(J_content, J_style, alpha, beta)``."""

    content: Callable[[Tensor, Tensor], Tensor] | None = None
    layer_style: Callable[[Tensor, Tensor], Tensor] | None = None
    total: Callable[..., Tensor] | None = None

    @property
    def reads_activations(self) -> bool:
        """True when a learner's own function receives activations (content or layer cost)."""
        return self.content is not None or self.layer_style is not None


@dataclass(frozen=True)
class Targets:
    """What G is compared with, computed once: P = a^[content](C), and per style layer the target
    Gram G^[l](S) (or the style activations a^[l](S) when a learner's layer cost compares them)."""

    content: Tensor
    style: dict[str, Tensor]


def default_extractor(weights: str | None = "imagenet", pooling: str = "avg", seed: int = 0,
                      rescale: bool | str | None = None, channels_last: bool | str = "auto",
                      device: torch.device | str = "cpu") -> FeatureExtractor:
    """VGG19 reading every convolution and its ReLU (a run stops at the deepest layer it needs), set up
    as Gatys et al.: average pooling and rescaled filters; the memory layout measured fastest on
    ``device`` (``coursekit.models.layout``), where the extractor is returned.

    ``rescale=None`` picks by weights: "filter" (the paper: every filter's mean activation over sample
    photos is 1) for ImageNet weights, "layer" (one factor per layer) for the random-weight fallback,
    where per-filter factors blow rarely-firing random filters up by orders of magnitude.
    """
    model = get_model("vgg19", weights=weights, seed=seed)
    if rescale is None:
        rescale = "filter" if model.pretrained else "layer"
    return FeatureExtractor(model, VGG19_LAYERS, pooling=pooling, arch="vgg19", rescale=rescale,
                            channels_last=channels_last, device=device)


def total_variation(x: Tensor) -> Tensor:
    """TV(x) = sum |x_{i+1,j} - x_{i,j}| + sum |x_{i,j+1} - x_{i,j}| per image, shape (B,)."""
    dh = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().sum(dim=(1, 2, 3))
    dw = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().sum(dim=(1, 2, 3))
    return dh + dw


def _validate(s: TransferSettings, layers: Sequence[str], n_styles: int) -> None:
    """Refuse settings that cannot run, naming the setting and what to use instead."""
    if s.content_layer not in layers:
        raise ValueError(f"content_layer {s.content_layer!r} is not read by the extractor; use one of {list(layers)}")
    unknown = [name for name in s.style_weights if name not in layers]
    if unknown:
        raise ValueError(f"style layers {unknown} are not read by the extractor; use some of {list(layers)}")
    if not any(w != 0 for w in s.style_weights.values()) and s.beta != 0:
        raise ValueError("every style weight lambda^[l] is 0: give at least one layer a weight, or set beta=0")
    if s.method not in METHODS:
        raise ValueError(f"method {s.method!r} is not known; use one of {METHODS}")
    if s.precision not in PRECISION_MODES:
        raise ValueError(f"precision {s.precision!r} is not known; use one of {PRECISION_MODES}")
    if s.init not in START_IMAGES:
        raise ValueError(f"init {s.init!r} is not known; use one of {START_IMAGES}")
    if s.preserve_color not in COLOR_MODES:
        raise ValueError(f"preserve_color {s.preserve_color!r} is not known; use one of {COLOR_MODES}")
    if s.style_blend is not None and len(s.style_blend) != n_styles:
        raise ValueError(f"style_blend has {len(s.style_blend)} weights for {n_styles} style images")
    for name in ("alpha", "beta", "tv_weight"):
        if getattr(s, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(s, name)}")


def _check_images(content: Tensor, styles: Sequence[Tensor]) -> None:
    for i, image in enumerate([content, *styles]):
        if not isinstance(image, Tensor) or image.dim() != 4 or image.shape[:2] != (1, 3):
            what = "content" if i == 0 else f"style image {i - 1}"
            raise ValueError(f"{what} must be a (1, 3, H, W) tensor in [0, 1]; use coursekit.images.load_image")


def style_targets(extractor: FeatureExtractor, styles: Sequence[Tensor], layers: Sequence[str],
                  shape: tuple[int, ...], s: TransferSettings, costs: CostFunctions = CostFunctions()) -> dict[str, Tensor]:
    """Each style layer's target for results of ``shape``: G^[l](S) (blended by ``s.style_blend``),
    or a^[l](S) when a learner's layer cost compares activations of equal size."""
    if not layers:
        return {}
    if costs.layer_style is not None:
        with torch.no_grad():
            return extractor(styles[0], list(layers))
    return gram_targets(extractor, styles, list(layers), tuple(shape), s.style_blend)


def compute_targets(extractor: FeatureExtractor, content: Tensor, styles: Sequence[Tensor],
                    s: TransferSettings, costs: CostFunctions = CostFunctions()) -> Targets:
    """P at ``s.content_layer`` and each style layer's target for a result of ``content``'s size."""
    with torch.no_grad():
        P = extractor(content, [s.content_layer])[s.content_layer]
    layers = [name for name, lam in s.style_weights.items() if lam != 0]
    return Targets(P, style_targets(extractor, styles, layers, tuple(content.shape), s, costs))


def transfer_objective(extractor: FeatureExtractor, targets: Targets, s: TransferSettings,
                       costs: CostFunctions = CostFunctions()) -> Callable[[Tensor], dict[str, Tensor]]:
    """x -> {"total": J, "content": J_content, "style": J_style, "style/<layer>": J^[l], "tv": TV}, each (B,)."""
    layers = list(targets.style)
    needed = [s.content_layer] + [name for name in layers if name != s.content_layer]

    def J(x: Tensor) -> dict[str, Tensor]:
        a_G = extractor(x, needed)  # one forward pass to the deepest layer needed
        if costs.content is not None:
            J_content = costs.content(targets.content, a_G[s.content_layer])
        else:
            J_content = content_cost(targets.content, a_G[s.content_layer], s.convention)
        per_layer = {
            name: costs.layer_style(targets.style[name], a_G[name]) if costs.layer_style is not None
            else gram_target_cost(targets.style[name], a_G[name], s.convention)
            for name in layers
        }
        J_style = weighted_style_sum(s.style_weights, per_layer) if per_layer else torch.zeros_like(J_content)
        total = (costs.total or total_cost)(J_content, J_style, s.alpha, s.beta)
        parts = {"content": J_content, **{f"style/{name}": v for name, v in per_layer.items()}, "style": J_style}
        if s.tv_weight:
            parts["tv"] = total_variation(x)
            total = total + s.tv_weight * parts["tv"]
        return {"total": total, **parts}

    return J


def stylize(
    extractor: FeatureExtractor,
    content: Tensor,
    style: Tensor | Sequence[Tensor],
    settings: TransferSettings | None = None,
    callback: Callable[[int, float, Tensor], None] | None = None,
    *,
    init: Tensor | None = None,
    targets: Targets | None = None,
    costs: CostFunctions = CostFunctions(),
    stop: threading.Event | None = None,
) -> TransferResult:
    """Gatys et al.'s style transfer of ``content`` (1, 3, H, W) in the style of ``style``, in four steps.

    ``settings.size`` (the longer side; None keeps the content's size) sets the result's size.
    ``callback(evaluation, loss, image)`` sees every evaluation. ``init``, ``targets`` and ``stop``
    let a caller (``StyleTransfer``) start from its own image, reuse cached targets and stop a run.
    Colour preservation and coarse-to-fine schedules are the engine's (``StyleTransfer.run``).
    """
    s = settings or TransferSettings()
    styles = [style] if isinstance(style, Tensor) else list(style)
    _check_images(content, styles)
    _validate(s, extractor.layers, len(styles))
    started = time.perf_counter()
    content = resize_image(content, target_size(s.size, *content.shape[-2:]))
    # Style images keep their aspect ratio at the content's longer side (a learner's layer cost
    # compares activations position by position, so then they take the content's exact size).
    style_size = max(content.shape[-2:]) if costs.layer_style is None else tuple(content.shape[-2:])
    styles = [resize_image(image, style_size) for image in styles]
    # 1. The targets, computed once: P = a^[content](C) and the Grams G^[l](S) (without gradients).
    if targets is None:
        targets = compute_targets(extractor, content, styles, s, costs)
    # 2. The objective J(G) = alpha J_content + beta sum_l lambda^[l] J_style^[l] (+ w_TV TV).
    J = transfer_objective(extractor, targets, s, costs)
    # 3. The start: the content image, a style image or seeded noise (or the caller's image).
    if init is None:
        init = resize_image(styles[0], tuple(content.shape[-2:])) if s.init == "style" else \
            initial_image(s.init, content, s.seed)
    # 4. Optimise the pixels within [0, 1] (bounded L-BFGS, projected or SciPy's L-BFGS-B, or Adam),
    #    keeping the best image; on machines that gain from it, with a bfloat16 start.
    if resolve_precision(s.precision, extractor, costs) == "bfloat16":
        low = transfer_objective(_low_precision_features(extractor, costs), targets, s, costs)
        result = _bfloat16_start(J, low, init, s, callback, stop)
    else:
        result = optimize_image(J, init, steps=s.steps, method=s.method, lr=s.lr, callback=callback, stop=stop,
                                history=s.history)
    return TransferResult(**vars(result), settings=s, seconds=time.perf_counter() - started)


def resolve_precision(precision: str, extractor: FeatureExtractor, costs: CostFunctions = CostFunctions()) -> str:
    """"float32" or "bfloat16" for a run's ``precision`` setting. "auto" is what
    ``coursekit.models.precision.fastest_precision`` measured on the extractor's device, except with
    a learner's own content or layer cost: a learner checking their function gets float32 maths."""
    if precision != "auto":
        return precision
    if costs.reads_activations:
        return "float32"
    return fastest_precision(device=next(extractor.parameters()).device)


def _low_precision_features(extractor: FeatureExtractor, costs: CostFunctions) -> Callable[..., dict[str, Tensor]]:
    """The bfloat16 copy of ``extractor``; a learner's own cost functions still receive float32
    activations (their code need not know about bfloat16), coursekit's costs take bfloat16 ones."""
    low = low_precision_copy(extractor)
    if not costs.reads_activations:
        return low
    return lambda x, layers=None: {name: a.float() for name, a in low(x, layers).items()}


def _bfloat16_start(J, low, init: Tensor, s: TransferSettings, callback, stop) -> OptimResult:
    """``low`` (J with the network in bfloat16) while its loss still falls (``still_falling``, at
    most half of ``s.steps``), then J in float32 from the best image for the rest of the budget,
    projected L-BFGS keeping its curvature pairs across the switch. The returned loss and image
    come from float32 evaluations; the history holds both phases."""
    switch, losses = threading.Event(), []

    def watch(i: int, value: float, x: Tensor) -> None:
        losses.append(value)
        if callback is not None:
            callback(i, value, x)
        if (stop is not None and stop.is_set()) or not still_falling(losses):
            switch.set()

    memory = LBFGSMemory()  # projected L-BFGS goes on with the curvature it learnt in bfloat16
    first = optimize_image(low, init, steps=max(1, s.steps // 2), method=s.method, lr=s.lr, callback=watch,
                           stop=switch, history=s.history, memory=memory)
    done = first.evaluations
    user_stopped = stop is not None and stop.is_set()
    if done < s.steps and not user_stopped and first.stopped not in ("interrupted", "diverged"):
        counted = None if callback is None else (lambda i, v, x: callback(done + i, v, x))
        second = optimize_image(J, first.image, steps=s.steps - done, method=s.method, lr=s.lr, callback=counted,
                                stop=stop, history=s.history, memory=memory)
    else:  # no float32 phase: the best bfloat16 image, its loss evaluated once in float32
        with torch.no_grad():
            value = float(J(first.image)["total"].sum())
        second = OptimResult(first.image, value, 0, {}, first.stopped, first.message)
    history = {key: first.history.get(key, []) + second.history.get(key, [])
               for key in {**first.history, **second.history}}
    message = (f"the first {done} evaluations in bfloat16, then float32; {second.message}" if second.evaluations
               else f"{done} evaluations in bfloat16, the best image's J then evaluated in float32; {first.message}")
    return OptimResult(second.image, second.best_loss, done + second.evaluations, history, second.stopped, message,
                       low_precision=done)


class StyleTransfer:
    """Style transfer of ``content`` in the style of ``styles``: ``stylize`` with cached targets.

    Args:
        content: (1, 3, H, W) image in [0, 1].
        styles: one style image or a list of them (any sizes).
        extractor: a FeatureExtractor reading the layers runs may use (default: ``default_extractor()``).
        content_cost_fn, layer_style_cost_fn, total_cost_fn: a learner's own functions with the
            signatures of ``coursekit.nst.costs.content_cost(a_C, a_G)``,
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
        _check_images(content, self.styles)
        if layer_style_cost_fn is not None and len(self.styles) > 1:
            raise ValueError("a learner's layer_style_cost compares one style image's activations: give one style image")
        self.costs = CostFunctions(content_cost_fn, layer_style_cost_fn, total_cost_fn)
        self._cache: dict[tuple, object] = {}
        self.last_result: TransferResult | None = None

    # ---- targets (cached) --------------------------------------------------------------------
    def _images(self, shape: tuple[int, ...], mode: str | None) -> tuple[Tensor, list[Tensor]]:
        """Content at ``shape`` and style images at the same longer side, in colour mode ``mode``."""
        key = ("images", shape, mode)
        if key not in self._cache:
            content = resize_image(self.content, tuple(shape[-2:]))
            size = tuple(shape[-2:]) if self.costs.layer_style is not None else max(shape[-2:])
            styles = [resize_image(s, size) for s in self.styles]
            if mode == "luminance":
                lum_c = color.luminance(content)
                styles = [color.gray3(color.match_luminance(color.luminance(s), lum_c)) for s in styles]
                content = color.gray3(lum_c)
            elif mode == "match":
                styles = [color.match_color(s, content) for s in styles]
            self._cache[key] = (content, styles)
        return self._cache[key]

    def targets(self, s: TransferSettings, shape: tuple[int, ...]) -> Targets:
        """The targets of ``compute_targets``, each layer's kept until the size, colour mode or blend change."""
        content, styles = self._images(shape, s.preserve_color)
        c_key = ("content", shape, s.preserve_color, s.content_layer)
        if c_key not in self._cache:
            with torch.no_grad():
                self._cache[c_key] = self.extractor(content, [s.content_layer])[s.content_layer]
        targets = {}
        for name in [name for name, lam in s.style_weights.items() if lam != 0]:
            s_key = ("style", shape, s.preserve_color, s.style_blend, name)
            if s_key not in self._cache:
                self._cache[s_key] = style_targets(self.extractor, styles, [name], shape, s, self.costs)[name]
            targets[name] = self._cache[s_key]
        return Targets(self._cache[c_key], targets)

    def objective(self, s: TransferSettings, shape: tuple[int, ...]) -> Callable[[Tensor], dict[str, Tensor]]:
        """``transfer_objective`` on the cached targets for results of ``shape``."""
        return transfer_objective(self.extractor, self.targets(s, shape), s, self.costs)

    # ---- running -----------------------------------------------------------------------------
    def output_shape(self, size: int | None) -> tuple[int, int, int, int]:
        h, w = target_size(size, *self.content.shape[-2:])
        return (1, 3, h, w)

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
        done, low, result, init = 0, 0, None, None
        for shape in shapes:
            content, styles = self._images(shape, s.preserve_color)
            if result is not None:  # coarse-to-fine: the previous scale's result, upsampled
                init = F.interpolate(result.image, size=shape[-2:], mode="bilinear", align_corners=False).clamp(0, 1)
            elif s.warm_start and self.last_result is not None:
                previous = self.last_result.image
                init = previous.clone() if previous.shape == torch.Size(shape) else F.interpolate(
                    previous, size=shape[-2:], mode="bilinear", align_corners=False).clamp(0, 1)
            counted = None if preview is None else (lambda i, v, x, base=done: preview(base + i, v, x))
            result = stylize(self.extractor, content, styles, replace(s, size=None), counted, init=init,
                             targets=self.targets(s, shape), costs=self.costs, stop=stop)
            done, low = done + result.evaluations, low + result.low_precision
            for key, values in result.history.items():
                history.setdefault(key, []).extend(values)
            if result.stopped in ("stopped", "interrupted", "diverged"):
                break
        out = TransferResult(self._finish(result.image, s), result.best_loss, done, history,
                             result.stopped, result.message, low_precision=low, settings=s,
                             seconds=time.perf_counter() - start_time)
        # Warm starts continue from the optimised image (grey in luminance mode), not the recoloured one.
        self.last_result = replace(out, image=result.image)
        return out
