"""Lesson 09's panel: how gradients and activations change through a deep MLP as you change it.

Thin wiring over ``coursekit.gradient_flow``: every control builds ``make_mlp(MLPConfig(...))``,
runs ``gradient_report`` on one seeded batch of digits and redraws two plots into ``image``: the
per-layer gradient norms ||dL/dW^[l]|| and ||dL/da^[l]|| on a log axis (with the norms after
clipping by global norm, when clipping is on) and histograms of a^[l] for five layers.
One pass takes a fraction of a second, so there is no Run button.
"""

from __future__ import annotations

from html import escape

import ipywidgets as w

from ..gradient_flow import ACTIVATIONS, INITS, MLPConfig, gradient_report, make_mlp, sample_batch
from ..gradient_flow.analysis import GradientReport
from ..gradient_flow.plots import activation_histograms, grad_norm_profile
from .render import figure_png, new_figure

__all__ = ["GradientFlowPanel", "gradient_flow_panel"]

INIT_LABELS = (("too small (std 0.01)", "too_small"), ("too large (std 1)", "too_large"),
               ("Xavier/Glorot", "xavier"), ("He", "he"))


class GradientFlowPanel:
    """Controls: ``depth``, ``activation``, ``init``, ``batch_norm``, ``residual``, ``clip`` (on/off)
    and ``max_norm`` (the clipping threshold c); outputs ``image`` (PNG) and ``numbers`` (HTML).
    ``report`` is the last ``GradientReport``, ``clip_factor`` the factor min(1, c / ||g||) applied
    to every gradient (1 when clipping is off). Display it as a cell's value.
    """

    def __init__(self, *, depth: int = 20, activation: str = "sigmoid", init: str = "xavier",
                 batch_norm: bool = False, residual: bool = False, clip: bool = False, max_norm: float = 1.0,
                 width: int = 64, batch_size: int = 256, max_depth: int = 60, seed: int = 0) -> None:
        MLPConfig(depth=depth, width=width, activation=activation, init=init)  # bad values fail here, clearly
        self.width, self.seed = width, seed
        self.x, self.y = sample_batch(batch_size, seed=seed)
        style = {"description_width": "130px"}
        self.depth = w.IntSlider(value=depth, min=2, max=max(max_depth, depth), description="depth L",
                                 continuous_update=False, style=style)
        self.activation = w.Dropdown(options=ACTIVATIONS, value=activation, description="activation g", style=style)
        self.init = w.Dropdown(options=[o for o in INIT_LABELS if o[1] in INITS], value=init,
                               description="initialisation", style=style)
        self.batch_norm = w.Checkbox(value=batch_norm, description="batch norm")
        self.residual = w.Checkbox(value=residual, description="residual connections")
        self.clip = w.Checkbox(value=clip, description="clip by global norm")
        self.max_norm = w.FloatLogSlider(value=max_norm, base=10, min=-2, max=2, description="threshold c",
                                         continuous_update=False, style=style)
        self.image = w.Image(format="png", layout=w.Layout(width="900px"))
        self.numbers = w.HTML()
        self.report: GradientReport | None = None
        self.clip_factor = 1.0
        for control in (self.depth, self.activation, self.init, self.batch_norm, self.residual, self.clip,
                        self.max_norm):
            control.observe(lambda _: self.update(), names="value")
        self.widget = w.VBox([
            w.HBox([w.VBox([self.depth, self.activation, self.init]),
                    w.VBox([self.batch_norm, self.residual, self.clip, self.max_norm])]),
            self.numbers, self.image])
        self.update()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def config(self) -> MLPConfig:
        """The network the controls describe."""
        return MLPConfig(depth=self.depth.value, width=self.width, activation=self.activation.value,
                         init=self.init.value, batch_norm=self.batch_norm.value, residual=self.residual.value,
                         seed=self.seed)

    def update(self) -> GradientReport:
        """Rebuild the network, run one forward/backward pass, redraw; returns the report."""
        r = self.report = gradient_report(make_mlp(self.config), self.x, self.y)
        c = self.max_norm.value
        self.clip_factor = min(1.0, c / (r.global_grad_norm + 1e-6)) if self.clip.value else 1.0
        self._draw(r)
        return r

    def _draw(self, r: GradientReport) -> None:
        cfg = r.config
        fig = new_figure((11, 3.8))
        ax_g, ax_h = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        grad_norm_profile(r, ax_g, which="weights", label="‖dL/dW$^{[l]}$‖", color="tab:blue")
        grad_norm_profile(r, ax_g, which="activations", label="‖dL/da$^{[l]}$‖", color="tab:orange", ls="--")
        if self.clip.value and self.clip_factor < 1.0:
            grad_norm_profile(r, ax_g, which="weights", scale=self.clip_factor, color="tab:green",
                              label=f"‖dL/dW$^{{[l]}}$‖ after clipping (×{self.clip_factor:.2g})")
        ax_g.set_ylabel("gradient norm (log scale)")
        ax_g.legend(fontsize=7)
        extras = " + BN" * cfg.batch_norm + " + residual" * cfg.residual
        ax_g.set_title(f"{cfg.activation}, {cfg.init} init{extras}, L = {cfg.depth}", fontsize=10)
        activation_histograms(r, ax_h)
        ax_h.set_title("activations a$^{[l]}$ (one batch of 256 digits)", fontsize=10)
        self.image.value = figure_png(fig)
        g = r.weight_grad_norms
        clip_text = (f" · clipped to c = {self.max_norm.value:.3g}: every gradient × {self.clip_factor:.3g}"
                     if self.clip.value else "")
        self.numbers.value = escape(
            f"loss {r.loss:.3g} · ‖dL/dW[1]‖ = {g[0]:.2e}, ‖dL/dW[L]‖ = {g[r.depth - 1]:.2e}, "
            f"ratio {r.ratio_first_last:.2e} · global norm ‖g‖ = {r.global_grad_norm:.2e} · "
            f"saturated units in layer L: {100 * r.saturated[-1]:.0f}%{clip_text}")


def gradient_flow_panel(**kwargs) -> GradientFlowPanel:
    """Build the panel (see ``GradientFlowPanel``); display it as a cell's value."""
    return GradientFlowPanel(**kwargs)
