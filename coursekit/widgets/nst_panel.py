"""Lesson 04's panel: alpha, beta and lambda^[l] sliders driving ``StyleTransfer`` with a live preview.

Every change of a slider (when "re-run on change" is ticked) stops the running optimisation and
starts a new one that continues from the last result, so a learner sees the effect of alpha, beta
or a lambda within seconds: the targets are cached in the engine, only the weights change.
"""

from __future__ import annotations

import io
import time
from dataclasses import replace
from typing import Callable, Mapping

import ipywidgets as w
from torch import Tensor

from ..images import load_image, to_pil
from ..plots import loss_curves
from ..nst.costs import PAPER_STYLE_LAYERS
from ..nst.optimize import METHODS
from ..nst.transfer import COLOR_MODES, START_IMAGES, StyleTransfer, TransferResult, TransferSettings
from .background import BackgroundJob
from .render import figure_png, new_figure

__all__ = ["StyleTransferPanel", "style_transfer_panel", "image_png"]

UPLOAD = "(uploaded)"


def image_png(image: Tensor, display_size: int = 256) -> bytes:
    """PNG bytes of a (1, 3, H, W) image, enlarged (nearest) so small results stay visible."""
    pil = to_pil(image)
    scale = max(1, display_size // max(pil.size))
    if scale > 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), resample=0)
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


class StyleTransferPanel:
    """Controls + preview for ``StyleTransfer``. Display it with ``display(panel)`` or as a cell's value.

    Args:
        extractor: a FeatureExtractor (``coursekit.nst.transfer.default_extractor()``).
        contents, styles: named images offered in the dropdowns (uploads are added as "(uploaded)").
        settings: the starting settings (size, steps, alpha, beta, lambda^[l] ...).
        cost_fns: a learner's own functions passed to ``StyleTransfer`` (content_cost_fn=...).
        threaded: run in a background thread (False runs in the caller's thread: for tests).
        preview_every: seconds between preview refreshes while running (the first is immediate).
    """

    def __init__(self, extractor, contents: Mapping[str, Tensor], styles: Mapping[str, Tensor], *,
                 settings: TransferSettings | None = None, cost_fns: Mapping[str, Callable] | None = None,
                 threaded: bool = True, preview_every: float = 0.5) -> None:
        self.extractor = extractor
        self.images = {"content": dict(contents), "style": dict(styles)}
        self.cost_fns = dict(cost_fns or {})
        self.preview_every = preview_every
        self.base = settings or TransferSettings(size=128, steps=60)
        self.job = BackgroundJob(threaded=threaded, on_error=self._show_error)
        self._engines: dict[tuple[str, str], StyleTransfer] = {}
        self.result: TransferResult | None = None
        self.timings: dict[str, float] = {}
        s = self.base
        layers = list(extractor.layers)

        self.content = w.Dropdown(options=list(contents), description="content")
        self.style = w.Dropdown(options=list(styles), description="style")
        self.upload_content = w.FileUpload(accept="image/*", description="upload content")
        self.upload_style = w.FileUpload(accept="image/*", description="upload style")
        log = dict(continuous_update=False, readout_format=".1e", base=10)
        self.alpha = w.FloatLogSlider(value=s.alpha, min=-3, max=3, description="α (content)", **log)
        self.beta = w.FloatLogSlider(value=s.beta, min=0, max=8, description="β (style)", **log)
        self.lambdas = {name: w.FloatSlider(value=float(s.style_weights.get(name, 0.0)), min=0, max=1, step=0.05,
                                            description=f"λ {name}", continuous_update=False)
                        for name in list(PAPER_STYLE_LAYERS) if name in layers}
        self.content_layer = w.Dropdown(options=layers, value=s.content_layer, description="content layer")
        self.size = w.Dropdown(options=[64, 96, 128, 192, 256, 384], value=s.size, description="size (px)")
        self.steps = w.IntSlider(value=s.steps, min=5, max=500, step=5, description="steps", continuous_update=False)
        self.init = w.Dropdown(options=list(START_IMAGES), value=s.init, description="start from")
        self.method = w.Dropdown(options=list(METHODS), value=s.method, description="optimiser")
        self.precision = w.Dropdown(options=[("float32", "float32"), ("bfloat16 start", "bfloat16"),
                                             ("auto: as measured here", "auto")], value=s.precision,
                                    description="precision")
        # ipywidgets 8 reads a value of None as "nothing selected": "no" stands for None here.
        self.preserve_color = w.Dropdown(options=[("no", "no"), ("luminance only", "luminance"),
                                                  ("match colours", "match")], value=s.preserve_color or "no",
                                         description="keep colours")
        self.warm = w.Checkbox(value=True, description="continue from the last result")
        self.auto = w.Checkbox(value=True, description="re-run when a slider changes")
        self.run_button = w.Button(description="Run", button_style="success", icon="play")
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop")
        self.preview = w.Image(format="png", layout=w.Layout(width="256px"))
        self.curves = w.Image(format="png", layout=w.Layout(width="420px"))
        self.status = w.HTML("Press Run, or move a slider.")

        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        for control in [self.alpha, self.beta, *self.lambdas.values(), self.content_layer]:
            control.observe(self._changed, names="value")
        self.upload_content.observe(lambda c: self._uploaded("content", self.upload_content, self.content), names="value")
        self.upload_style.observe(lambda c: self._uploaded("style", self.upload_style, self.style), names="value")
        sliders = w.VBox([self.alpha, self.beta, *self.lambdas.values()])
        options = w.VBox([self.content, self.upload_content, self.style, self.upload_style, self.content_layer,
                          self.size, self.steps, self.init, self.method, self.precision, self.preserve_color,
                          self.warm, self.auto])
        self.widget = w.VBox([w.HBox([sliders, options]), w.HBox([self.run_button, self.stop_button]),
                              self.status, w.HBox([self.preview, self.curves])])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # ---- wiring ------------------------------------------------------------------------------
    def settings(self) -> TransferSettings:
        """The settings the controls describe now."""
        return replace(self.base, alpha=self.alpha.value, beta=self.beta.value,
                       style_weights={name: s.value for name, s in self.lambdas.items()},
                       content_layer=self.content_layer.value, size=self.size.value, steps=self.steps.value,
                       init=self.init.value, method=self.method.value, precision=self.precision.value,
                       preserve_color=None if self.preserve_color.value == "no" else self.preserve_color.value)

    def engine(self) -> StyleTransfer:
        key = (self.content.value, self.style.value)
        if key not in self._engines:
            self._engines[key] = StyleTransfer(self.images["content"][key[0]], self.images["style"][key[1]],
                                               self.extractor, **self.cost_fns)
        return self._engines[key]

    def _changed(self, change) -> None:
        if self.auto.value:
            self.timings["changed"] = time.perf_counter()
            self.run()

    def _uploaded(self, kind: str, upload: w.FileUpload, dropdown: w.Dropdown) -> None:
        if not upload.value:
            return
        item = upload.value[-1]
        try:
            image = load_image(bytes(item["content"]))
        except ValueError as exc:
            self.status.value = f"<b>Could not use {item.get('name', 'the upload')}:</b> {exc}"
            return
        self.images[kind][UPLOAD] = image
        self._engines = {k: v for k, v in self._engines.items() if UPLOAD not in k}
        dropdown.options = list(self.images[kind])
        dropdown.value = UPLOAD

    def _show_error(self, exc: BaseException) -> None:
        self.status.value = f"<b>Error:</b> {type(exc).__name__}: {exc}"

    # ---- running -----------------------------------------------------------------------------
    def run(self) -> None:
        """Stop a running optimisation, then start one with the current settings."""
        settings = self.settings()
        try:
            engine = self.engine()
            engine.output_shape(settings.size)
        except ValueError as exc:
            self.status.value = f"<b>Cannot run:</b> {exc}"
            return
        warm = self.warm.value and engine.last_result is not None
        self.job.start(lambda stop: self._work(engine, replace(settings, warm_start=warm), stop))

    def stop(self) -> None:
        self.job.stop(wait=False)

    def _work(self, engine: StyleTransfer, settings: TransferSettings, stop) -> None:
        started = time.perf_counter()
        self.timings.setdefault("changed", started)
        last = [0.0]
        self.status.value = "running..."

        def callback(i: int, loss: float, image: Tensor) -> None:
            now = time.perf_counter()
            if i == 1 or now - last[0] >= self.preview_every:
                self.preview.value = image_png(image)
                last[0] = now
                if i == 1:
                    self.timings["first_preview"] = now - self.timings.pop("changed", started)
            self.status.value = f"running: evaluation {i} of {settings.steps}, J = {loss:.4g}"

        try:
            result = engine.run(settings, callback=callback, stop=stop)
        except ValueError as exc:
            self.status.value = f"<b>Cannot run:</b> {exc}"
            return
        self.result = result
        self.preview.value = image_png(result.image)
        self.curves.value = self._curves_png(result)
        features = "" if self.extractor.pretrained else " (random features)"
        self.status.value = f"{result.message}{features}; best J = {result.best_loss:.4g} in {result.seconds:.1f} s"

    def _curves_png(self, result: TransferResult) -> bytes:
        fig = new_figure((6, 3.2))
        ax = fig.subplots()
        parts = {k: v for k, v in result.history.items() if k.startswith("style/") or k == "content"}
        loss_curves(parts, ax=ax, title="unweighted costs per evaluation")
        if result.low_precision:  # the costs before this line are the bfloat16 network's
            ax.axvline(result.low_precision - 0.5, color="0.4", linestyle=":", label="float32 from here")
            ax.legend(fontsize="small")
        return figure_png(fig)


def style_transfer_panel(extractor, contents: Mapping[str, Tensor], styles: Mapping[str, Tensor],
                         **kwargs) -> StyleTransferPanel:
    """Build (and return) the panel; see ``StyleTransferPanel``."""
    return StyleTransferPanel(extractor, contents, styles, **kwargs)
