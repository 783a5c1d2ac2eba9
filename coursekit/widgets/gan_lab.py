"""Lesson 06's GAN Lab-style panel: watch D's decision surface and G's samples while training.

Thin wiring over ``coursekit.gan``: "Step D" runs one ``discriminator_step``, "Step G" one
``generator_step``, "Run" repeats Algorithm 1 (k D steps, 1 G step) in a ``BackgroundJob`` until
"Stop", "Reset" re-initialises D and G from the seed. The picture (``coursekit.gan.plots.
decision_surface``) and the curves of loss_D, loss_G, D(x), D(G(z)) are one PNG in ``image``.
"""

from __future__ import annotations

import threading
from functools import partial

import ipywidgets as w
import torch

from ..gan.data import noise_sampler, toy_data
from ..gan.losses import discriminator_loss, generator_loss
from ..gan.models import make_gan
from ..gan.plots import decision_surface
from ..gan.train import discriminator_step, generator_step, make_optimizers
from .background import BackgroundJob
from .render import figure_png, new_figure

__all__ = ["GanLabPanel", "gan_lab"]

LAB_DATASETS = ("ring", "grid", "spiral")  # the 2-D data sets of coursekit.gan.data.DATASETS


class GanLabPanel:
    """Controls: ``dataset``, ``k``, ``lr_D``, ``lr_G`` (log sliders), ``momentum``, ``optimizer``,
    ``loss`` ("non_saturating"/"minimax"), ``arrows``; buttons ``step_d_button``, ``step_g_button``,
    ``run_button``, ``stop_button``, ``reset_button``; output ``image`` (PNG), ``numbers`` (HTML) and
    ``step_effect`` (HTML: mean D(x) and D(G(z)) on the fixed view samples before and after the last D
    step and the last G step, in ``last_d_step`` / ``last_g_step``).
    ``D``, ``G``, ``history`` hold the state. ``threaded=False`` runs Run in the caller's thread
    for ``max_steps`` iterations (headless tests)."""

    def __init__(self, *, dataset: str = "ring", k: int = 1, lr: float = 1e-3, optimizer: str = "adam",
                 m: int = 128, hidden: int = 64, seed: int = 0, redraw_every: int = 50,
                 max_steps: int = 2000, threaded: bool = True) -> None:
        self.m, self.hidden, self.seed = m, hidden, seed
        self.redraw_every, self.max_steps = redraw_every, max_steps
        style = {"description_width": "160px"}
        self.dataset = w.Dropdown(options=LAB_DATASETS, value=dataset, description="data set", style=style)
        self.k = w.IntSlider(value=k, min=1, max=10, description="k (D steps per G step)", style=style)
        self.lr_D = w.FloatLogSlider(value=lr, base=10, min=-4, max=0, description="learning rate D", style=style)
        self.lr_G = w.FloatLogSlider(value=lr, base=10, min=-4, max=0, description="learning rate G", style=style)
        self.momentum = w.FloatSlider(value=0.5, min=0.0, max=0.95, step=0.05, description="momentum (SGD)", style=style)
        self.optimizer = w.Dropdown(options=("adam", "sgd"), value=optimizer, description="optimiser", style=style)
        self.loss = w.Dropdown(options=(("non-saturating", "non_saturating"), ("minimax", "minimax")),
                               value="non_saturating", description="generator loss", style=style)
        self.arrows = w.Checkbox(value=False, description="gradient arrows")
        self.step_d_button = w.Button(description="Step D")
        self.step_g_button = w.Button(description="Step G")
        self.run_button = w.Button(description="Run", button_style="success")
        self.stop_button = w.Button(description="Stop", button_style="danger")
        self.reset_button = w.Button(description="Reset")
        self.image = w.Image(format="png", layout=w.Layout(align_self="flex-start"))  # not stretched by the VBox
        self.numbers = w.HTML()
        self.step_effect = w.HTML()
        self.job = BackgroundJob(threaded=threaded, on_error=self._show_error)
        self._lock = threading.Lock()

        self.step_d_button.on_click(lambda _: self._do(self.step_d))
        self.step_g_button.on_click(lambda _: self._do(self.step_g))
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.job.stop(wait=False))
        self.reset_button.on_click(lambda _: self.reset())
        self.dataset.observe(lambda _: self.reset(), "value")
        for control in (self.lr_D, self.lr_G, self.momentum, self.optimizer):
            control.observe(lambda _: self._new_optimizers(), "value")
        self.arrows.observe(lambda _: self.redraw(), "value")
        buttons = w.HBox([self.step_d_button, self.step_g_button, self.run_button, self.stop_button, self.reset_button])
        self.widget = w.VBox([
            w.HBox([w.VBox([self.dataset, self.k, self.loss, self.arrows]),
                    w.VBox([self.optimizer, self.lr_D, self.lr_G, self.momentum])]),
            buttons, self.numbers, self.step_effect, self.image])
        self.reset()

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)

    # ---- state ---------------------------------------------------------------------------
    def reset(self) -> None:
        self.job.stop(wait=True)
        self.data = toy_data(self.dataset.value)
        self.noise = noise_sampler(2)
        self.D, self.G = make_gan(2, 2, hidden=self.hidden, seed=self.seed)
        self.rng = torch.Generator().manual_seed(self.seed)
        view = torch.Generator().manual_seed(self.seed + 1)
        self.x_view, self.z_view = self.data.sample(300, view), self.noise(300, view)
        self.history = {"loss_D": [], "loss_G": [], "D(x)": [], "D(G(z))": []}
        self.iterations = 0
        self.last_d_step: tuple[tuple[float, float], tuple[float, float]] | None = None
        self.last_g_step: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._new_optimizers()
        self.redraw()

    def _new_optimizers(self) -> None:
        self.opt_D, self.opt_G = make_optimizers(self.D, self.G, self.optimizer.value, lr_D=self.lr_D.value,
                                                 lr_G=self.lr_G.value, momentum=self.momentum.value)

    def view_outputs(self) -> tuple[float, float]:
        """(mean D(x), mean D(G(z))) on the fixed view samples drawn in the picture."""
        with torch.no_grad():
            return (torch.sigmoid(self.D(self.x_view)).mean().item(),
                    torch.sigmoid(self.D(self.G(self.z_view))).mean().item())

    def step_d(self) -> None:
        before = self.view_outputs()
        out = discriminator_step(self.D, self.G, self.data.sample(self.m, self.rng), self.noise(self.m, self.rng),
                                 discriminator_loss, self.opt_D)
        self.last_d_step = (before, self.view_outputs())
        for name in ("loss_D", "D(x)", "D(G(z))"):
            self.history[name].append(out[name])

    def step_g(self) -> None:
        before = self.view_outputs()
        out = generator_step(self.D, self.G, self.noise(self.m, self.rng),
                             partial(generator_loss, kind=self.loss.value), self.opt_G)
        self.last_g_step = (before, self.view_outputs())
        self.history["loss_G"].append(out["loss_G"])
        self.iterations += 1

    def iteration(self) -> None:
        """Algorithm 1 once: k D steps, then one G step."""
        for _ in range(self.k.value):
            self.step_d()
        self.step_g()

    def _do(self, action) -> None:
        if self.job.running:
            return  # buttons do nothing while Run trains
        with self._lock:
            action()
        self.redraw()

    def run(self) -> None:
        def work(stop: threading.Event) -> None:
            for i in range(self.max_steps):
                if stop.is_set():
                    break
                with self._lock:
                    self.iteration()
                if (i + 1) % self.redraw_every == 0:
                    self.redraw()
            self.redraw()

        self.job.start(work)

    def _show_error(self, exc: BaseException) -> None:
        self.numbers.value = f"<b style='color:#b00'>training stopped: {type(exc).__name__}: {exc}</b>"

    # ---- picture -------------------------------------------------------------------------
    def redraw(self) -> None:
        fig = new_figure((9, 4))
        ax_s, ax_c = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        drawn = decision_surface(self.D, self.G, self.x_view, self.z_view, lim=self.data.lim, ax=ax_s,
                                 arrows=self.arrows.value, g_loss=self.loss.value, resolution=60,
                                 title=f"D(x) (green: real, purple: generated), iteration {self.iterations}")
        for name, values in self.history.items():
            if values:
                ax_c.plot(values, label=name, lw=1)
        ax_c.set_xlabel("update")
        ax_c.set_title("losses and D outputs")
        if any(self.history.values()):
            ax_c.legend(fontsize=7)
        self.image.value = figure_png(fig)
        h = self.history
        last = lambda name: f"{h[name][-1]:.3f}" if h[name] else "–"  # noqa: E731
        self.numbers.value = (f"iteration {self.iterations} · D updates {len(h['loss_D'])} · "
                              f"loss_D {last('loss_D')} · loss_G {last('loss_G')} · D(x) {last('D(x)')} · "
                              f"D(G(z)) on the view {drawn['D(G(z))']:.3f}")
        parts = []
        for name, change in (("last D step", self.last_d_step), ("last G step", self.last_g_step)):
            if change is not None:
                (dx0, dg0), (dx1, dg1) = change
                parts.append(f"{name}: D(x) {dx0:.3f} → {dx1:.3f}, D(G(z)) {dg0:.3f} → {dg1:.3f}")
        self.step_effect.value = ("on the view samples · " + " · ".join(parts)) if parts else \
            "on the view samples · press Step D or Step G to see D(x) and D(G(z)) before → after the step"


def gan_lab(**kwargs) -> GanLabPanel:
    """Build the panel (see ``GanLabPanel``); display it as a cell's value."""
    return GanLabPanel(**kwargs)
