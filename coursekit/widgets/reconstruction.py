"""Lesson 03's panel: reconstruct an image from one layer's activations, with Run and Stop.

Thin wiring over ``coursekit.nst.reconstruction.reconstruct`` (the optimisation) and
``draw_progress`` (the figure): pick an image, a layer and a budget of loss
evaluations, press Run; the preview shows the best reconstruction so far next to the original
and the loss curve, and Stop ends the run keeping the best image. ``run(sync=True)`` runs in the
caller's thread, which is what headless tests use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from html import escape

import ipywidgets as w
from torch import Tensor

from ..models.features import FeatureExtractor
from ..nst.optimize import OptimResult
from ..nst.reconstruction import draw_progress, pixel_error, reconstruct
from ..samples import sample_image
from .background import BackgroundJob, RunStopPanel
from .render import figure_png, new_figure

__all__ = ["ReconstructionPanel", "reconstruction_panel"]


class ReconstructionPanel(RunStopPanel):
    """Image, layer and steps controls, Run/Stop, and a preview. Display it as a cell's value.

    Attributes for tests: ``image_choice``, ``layer``, ``steps`` (controls), ``run_button``,
    ``stop_button``, ``image`` (``ipywidgets.Image`` holding the figure as PNG), ``numbers``
    (HTML with the key numbers), ``result`` (the last ``OptimResult``), ``widget`` (the VBox).

    Args:
        extractor: reads every layer offered.
        images: {name: (1, 3, H, W) image}.
        layers: layer names offered in the dropdown (default: all the extractor reads).
        steps: the starting budget of loss evaluations; ``max_steps`` the slider's end.
        cost: J_content(a_C, a_G) -> (B,) (a learner's function); default the paper's.
        seed: the starting noise.
        preview_every: evaluations between preview refreshes while running.
        threaded: Run works in a background thread (False: in the caller's thread, for tests).
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        images: Mapping[str, Tensor],
        layers: Sequence[str] | None = None,
        *,
        steps: int = 50,
        max_steps: int = 500,
        cost: Callable[[Tensor, Tensor], Tensor] | None = None,
        seed: int = 0,
        preview_every: int = 10,
        threaded: bool = True,
    ) -> None:
        layers = list(layers or extractor.layers)
        unknown = [name for name in layers if name not in extractor.layers]
        if unknown:
            raise ValueError(f"layers {unknown} are not read by the extractor (it reads {list(extractor.layers)}); "
                             "build it with those layers")
        if not images:
            raise ValueError("images is empty: pass {name: image tensor} or sample names")
        self.extractor, self.images, self.cost, self.seed = extractor, dict(images), cost, seed
        self.preview_every = max(1, int(preview_every))
        self.suffix = "" if extractor.pretrained else " (random features)"
        self.result: OptimResult | None = None
        self.threaded = threaded
        self.job = BackgroundJob(threaded=threaded, on_error=self._show_error)

        self.image_choice = w.Dropdown(options=list(self.images), description="Image")
        self.layer = w.Dropdown(options=layers, value=layers[-1], description="Layer")
        self.steps = w.IntSlider(value=steps, min=10, max=max(max_steps, steps), step=10,
                                 description="Steps", continuous_update=False)
        self.run_button = w.Button(description="Run", button_style="success", icon="play")
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.image = w.Image(format="png", layout=w.Layout(width="640px"))
        self.numbers = w.HTML("Choose an image and a layer, then press Run.")

        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.image_choice.observe(lambda _: self._reset(), names="value")
        self.layer.observe(lambda _: self._reset(), names="value")
        self.widget = w.VBox([
            w.HBox([self.image_choice, self.layer, self.steps]),
            w.HBox([self.run_button, self.stop_button]),
            self.numbers,
            self.image,
        ])
        self._reset()

    @property
    def original(self) -> Tensor:
        return self.images[self.image_choice.value]

    # ---- drawing -------------------------------------------------------------------------------
    def _draw(self, original: Tensor, layer: str, image: Tensor | None, history: Sequence[float], title: str) -> None:
        fig = new_figure((8, 2.8))
        draw_progress(fig, original, image, history, title=title)
        fig.suptitle(f"Reconstruction from {layer}{self.suffix}", fontsize=10)
        self.image.value = figure_png(fig)

    def _reset(self) -> None:
        """A new image or layer: show the original and an empty reconstruction."""
        if not self.running:
            self.result = None
            self._draw(self.original, self.layer.value, None, [], f"{self.layer.value}: press Run")

    def _show_error(self, exc: BaseException) -> None:
        self.numbers.value = f"<b>Error:</b> {escape(type(exc).__name__)}: {escape(str(exc))}"
        self._buttons(running=False)

    # ---- running -------------------------------------------------------------------------------
    def run(self, sync: bool | None = None) -> OptimResult | None:
        """Reconstruct from the chosen layer. ``sync=True`` works in this thread and returns the
        result; otherwise (default when ``threaded``) it starts a background thread and returns None."""
        return self._start(sync)

    def _work(self, stop) -> None:
        original, layer, steps = self.original, self.layer.value, self.steps.value
        best = {"loss": float("inf"), "image": None}
        history: list[float] = []
        started = time.perf_counter()
        self.numbers.value = f"running: {escape(layer)}, 0 of {steps} evaluations"

        def callback(i: int, loss: float, x: Tensor) -> None:
            history.append(loss)
            if loss < best["loss"]:
                best["loss"], best["image"] = loss, x.clamp(0, 1).clone()
            if i == 1 or i % self.preview_every == 0:
                self._draw(original, layer, best["image"], history, f"{layer}, evaluation {i}")
                self.numbers.value = f"running: {escape(layer)}, {i} of {steps} evaluations, J_content = {loss:.4g}"

        try:
            result = reconstruct(self.extractor, original, layer, steps=steps, seed=self.seed,
                                 cost=self.cost, callback=callback, stop=stop)
        finally:
            self._buttons(running=False)
        self.result = result
        seconds = time.perf_counter() - started
        total = result.history["total"]
        self._draw(original, layer, result.image, total, f"{layer}, best of {result.evaluations}")
        left = result.best_loss / total[0] if total and total[0] > 0 else float("nan")
        self.numbers.value = (
            f"<b>{escape(layer)}</b>{escape(self.suffix)}: {escape(result.message)} in {seconds:.1f} s. "
            f"J_content {total[0]:.4g} &rarr; {result.best_loss:.4g} ({100 * left:.2g}% left); "
            f"pixel error {pixel_error(result.image, original):.3f}"
        )


def reconstruction_panel(
    extractor: FeatureExtractor,
    images: Mapping[str, Tensor] | Sequence[str] = ("astronaut", "chelsea", "coffee"),
    layers: Sequence[str] | None = None,
    *,
    size: int = 64,
    **kwargs,
) -> ReconstructionPanel:
    """Build the panel. ``images`` is {name: tensor} or sample names (loaded at ``size`` px)."""
    if not isinstance(images, Mapping):
        images = {name: sample_image(name, size=size) for name in images}
    return ReconstructionPanel(extractor, images, layers, **kwargs)
