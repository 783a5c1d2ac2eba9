"""Lesson 02's panel: texture synthesis with a slider per lambda^[l], Run and Stop.

Thin wiring over ``coursekit.nst.texture.synthesize_texture`` (style cost only, from seeded noise): set the
lambda^[l] of relu1_1 ... relu5_1, the size and the budget of loss evaluations, press Run. The
preview shows the style image, the best texture so far and the cost; at the end the curves are
the unweighted per-layer costs J_style^[l] ("style/<layer>" in the history). Stop ends the run
keeping the best image. ``run(sync=True)`` works in the caller's thread (headless tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from html import escape

import ipywidgets as w
from torch import Tensor

from ..images import load_image
from ..models.features import FeatureExtractor
from ..nst.optimize import OptimResult
from ..plots import loss_curves, show_image
from ..samples import sample_image
from ..nst.costs import PAPER_STYLE_LAYERS
from ..nst.texture import synthesize_texture
from .background import BackgroundJob, RunStopPanel
from .render import figure_png, new_figure

__all__ = ["StyleWeightsPanel", "style_weights_panel"]


class StyleWeightsPanel(RunStopPanel):
    """A lambda slider per layer, size and steps, Run/Stop, and a preview. Display it as a cell's value.

    Attributes for tests: ``sliders`` ({layer: FloatSlider labelled "λ <layer>"}), ``size``,
    ``steps``, ``seed`` (controls), ``run_button``, ``stop_button``, ``image``
    (``ipywidgets.Image`` with the figure as PNG), ``numbers`` (HTML with the key numbers),
    ``result`` (the last ``OptimResult``), ``widget`` (the VBox).

    Args:
        extractor: reads every layer offered.
        style_image: a sample name (redrawn at each size, so generated images stay sharp) or an
            image tensor (1, 3, H, W) (resized so its longer side is ``size``).
        layers: the layers with a slider (default: the paper's relu1_1..relu5_1 the extractor reads).
        weights: starting lambda^[l] (default 0.2 each, the paper's).
        size, max_size: starting and largest longer side in pixels.
        steps, max_steps: starting and largest budget of loss evaluations.
        layer_cost: J_style^[l](a_S, a_G) -> (B,) (a learner's function); default coursekit's.
        seed: the starting noise.
        preview_every: evaluations between preview refreshes while running.
        threaded: Run works in a background thread (False: in the caller's thread, for tests).
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        style_image: str | Tensor,
        layers: Sequence[str] | None = None,
        *,
        weights: Mapping[str, float] | None = None,
        size: int = 64,
        max_size: int = 256,
        steps: int = 50,
        max_steps: int = 500,
        layer_cost: Callable[[Tensor, Tensor], Tensor] | None = None,
        seed: int = 0,
        preview_every: int = 10,
        threaded: bool = True,
    ) -> None:
        if layers is None:
            layers = [name for name in PAPER_STYLE_LAYERS if name in extractor.layers] or list(extractor.layers)
        layers = list(layers)
        unknown = [name for name in layers if name not in extractor.layers]
        if unknown:
            raise ValueError(f"layers {unknown} are not read by the extractor (it reads {list(extractor.layers)}); "
                             "build it with those layers")
        weights = dict(weights) if weights is not None else {name: 0.2 for name in layers}
        extra = [name for name in weights if name not in layers]
        if extra:
            raise ValueError(f"weights name layers {extra} that have no slider; the sliders are {layers}")
        if isinstance(style_image, str):
            sample_image(style_image, size=16)  # an unknown name fails now, with the list of names
        self.extractor, self.source, self.layer_cost = extractor, style_image, layer_cost
        self.preview_every = max(1, int(preview_every))
        self.suffix = "" if extractor.pretrained else " (random features)"
        self.result: OptimResult | None = None
        self.threaded = threaded
        self.job = BackgroundJob(threaded=threaded, on_error=self._show_error)
        self._styles: dict[int, Tensor] = {}

        self.sliders = {
            name: w.FloatSlider(value=float(weights.get(name, 0.0)), min=0.0, max=1.0, step=0.05,
                                description=f"λ {name}", continuous_update=False, readout_format=".2f")
            for name in layers
        }
        self.size = w.IntSlider(value=size, min=32, max=max(max_size, size), step=16,
                                description="Size (px)", continuous_update=False)
        self.steps = w.IntSlider(value=steps, min=10, max=max(max_steps, steps), step=10,
                                 description="Steps", continuous_update=False)
        self.seed = w.BoundedIntText(value=seed, min=0, max=10_000, description="Noise seed")
        self.run_button = w.Button(description="Run", button_style="success", icon="play")
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.image = w.Image(format="png", layout=w.Layout(width="720px"))
        self.numbers = w.HTML("Set the λ<sup>[l]</sup>, then press Run.")

        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.size.observe(lambda _: self._reset(), names="value")
        self.widget = w.VBox([
            w.HBox([w.VBox(list(self.sliders.values())), w.VBox([self.size, self.steps, self.seed])]),
            w.HBox([self.run_button, self.stop_button]),
            self.numbers,
            self.image,
        ])
        self._reset()

    @property
    def weights(self) -> dict[str, float]:
        """The lambda^[l] the sliders show, {layer: value}."""
        return {name: float(slider.value) for name, slider in self.sliders.items()}

    def style_image(self) -> Tensor:
        """The style image at the chosen size, (1, 3, H, W)."""
        size = int(self.size.value)
        if size not in self._styles:
            self._styles[size] = (sample_image(self.source, size=size) if isinstance(self.source, str)
                                  else load_image(self.source, size=size))
        return self._styles[size]

    # ---- drawing -------------------------------------------------------------------------------
    def _draw(self, image: Tensor | None, curves: Mapping[str, Sequence[float]], title: str,
              ylabel: str = "$J^{[l]}_{style}$ (unweighted)") -> None:
        fig = new_figure((10, 3.2))
        fig.set_layout_engine("constrained")
        grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 1.6])
        ax_s, ax_g, ax_c = (fig.add_subplot(grid[0, i]) for i in range(3))
        show_image(self.style_image(), ax=ax_s, title="style image S")
        if image is None:
            ax_g.set_axis_off()
            ax_g.text(0.5, 0.5, "press Run", ha="center", va="center", transform=ax_g.transAxes)
        else:
            show_image(image, ax=ax_g, title=title)
        if any(len(values) for values in curves.values()):
            loss_curves(curves, ax=ax_c)
            ax_c.set_xlabel("evaluation")
            ax_c.set_ylabel(ylabel)
            if ax_c.get_legend() is not None:
                ax_c.legend(fontsize=7)
        else:
            ax_c.set_axis_off()
        fig.suptitle(f"Texture from style costs only{self.suffix}", fontsize=10)
        self.image.value = figure_png(fig)

    def _reset(self) -> None:
        """A new size: show the style image and an empty texture."""
        if not self.running:
            self.result = None
            self._draw(None, {}, "")

    def _show_error(self, exc: BaseException) -> None:
        self.numbers.value = f"<b>Error:</b> {escape(type(exc).__name__)}: {escape(str(exc))}"
        self._buttons(running=False)

    # ---- running -------------------------------------------------------------------------------
    def run(self, sync: bool | None = None) -> OptimResult | None:
        """Synthesise with the sliders' weights. ``sync=True`` works in this thread and returns the
        result; otherwise (default when ``threaded``) it starts a background thread and returns None.
        All weights 0: a message in ``numbers``, nothing runs, returns None."""
        if not any(value > 0 for value in self.weights.values()):
            self.numbers.value = ("<b>All λ<sup>[l]</sup> are 0</b>, so J<sub>style</sub> = 0 for every image "
                                  "and there is nothing to match: set at least one slider above 0.")
            return None
        self.result = None
        return self._start(sync)

    def _work(self, stop) -> None:
        weights = {name: lam for name, lam in self.weights.items() if lam > 0}
        style, steps, seed = self.style_image(), int(self.steps.value), int(self.seed.value)
        label = ", ".join(f"{name} {lam:.2f}" for name, lam in weights.items())
        best = {"loss": float("inf"), "image": None}
        relative: list[float] = []
        start: list[float] = []
        started = time.perf_counter()
        self.numbers.value = f"running: λ = {escape(label)}; 0 of {steps} evaluations"

        def callback(i: int, loss: float, x: Tensor) -> None:
            if not relative:
                start.append(loss if loss > 0 else 1.0)
            relative.append(loss / start[0])
            if loss < best["loss"]:
                best["loss"], best["image"] = loss, x.clamp(0, 1).clone()
            if i == 1 or i % self.preview_every == 0:
                self._draw(best["image"], {"J_style": relative}, f"evaluation {i}",
                           ylabel="$J_{style}$ / its start")
                self.numbers.value = f"running: λ = {escape(label)}; {i} of {steps} evaluations"

        try:
            result = synthesize_texture(self.extractor, style, weights, steps=steps, seed=seed,
                                        layer_cost=self.layer_cost, callback=callback, stop=stop)
        finally:
            self._buttons(running=False)
        self.result = result
        seconds = time.perf_counter() - started
        curves = {name: result.history[f"style/{name}"] for name in weights}
        self._draw(result.image, curves, f"best of {result.evaluations}")
        total = result.history["total"]
        ends = ", ".join(f"{escape(name)} {values[-1]:.3g}" for name, values in curves.items())
        self.numbers.value = (
            f"<b>λ = {escape(label)}</b>{escape(self.suffix)}: {escape(result.message)} in {seconds:.1f} s. "
            f"J_style {total[0]:.4g} &rarr; {result.best_loss:.4g}; last J_style<sup>[l]</sup>: {ends}"
        )


def style_weights_panel(
    extractor: FeatureExtractor,
    style_image: str | Tensor = "stripes_orange",
    layers: Sequence[str] | None = None,
    **kwargs,
) -> StyleWeightsPanel:
    """Build the lambda panel for ``style_image`` (a sample name or a tensor); see ``StyleWeightsPanel``."""
    return StyleWeightsPanel(extractor, style_image, layers, **kwargs)
