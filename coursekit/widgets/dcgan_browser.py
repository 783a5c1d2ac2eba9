"""Lesson 07's panel: slide over the epochs of a DCGAN run, and along a path in its latent space.

Thin wiring over ``coursekit.gan``: the epoch slider shows the stored grid of G(fixed noise)
(``train_dcgan``'s ``history["grids"]``, drawn by ``plots.sample_grid``); the t slider shows
G(z_t) for z_t on the straight line or the great-circle arc (``interpolate_latents``) from z0 to z1,
with |z_t| printed, because the norm is what differs between the two paths.
"""

from __future__ import annotations

import ipywidgets as w
import torch
from torch import Tensor, nn

from ..gan.dcgan_train import generate, interpolate_latents
from ..gan.plots import sample_grid
from .render import figure_png, new_figure

__all__ = ["DCGANBrowser", "dcgan_browser"]


class DCGANBrowser:
    """Controls: ``epoch`` (SelectionSlider over the stored grids); when G is given, ``t``
    (FloatSlider 0..1) and ``method`` ("slerp"/"linear"). Outputs: ``grid_image`` and
    ``latent_image`` (PNG) and ``latent_text`` (HTML)."""

    def __init__(self, grids: dict, G: nn.Module | None = None, z0: Tensor | None = None,
                 z1: Tensor | None = None, *, steps: int = 11) -> None:
        if not grids:
            raise ValueError("no sample grids to show: train with train_dcgan first (history['grids'])")
        self.grids, self.G, self.steps = grids, G, steps
        epochs = sorted(grids)
        self.epoch = w.SelectionSlider(options=epochs, value=epochs[-1], description="epoch",
                                       continuous_update=True, style={"description_width": "60px"})
        # flex-start: shown at its own size; a VBox would stretch the small grid to the output's width
        self.grid_image = w.Image(format="png", layout=w.Layout(align_self="flex-start"))
        self.epoch.observe(lambda _: self.draw_grid(), "value")
        boxes: list[w.Widget] = [self.epoch, self.grid_image]
        if G is not None:
            if z0 is None or z1 is None:
                raise ValueError("give the two ends z0 and z1 of the latent path along with G")
            self.z0, self.z1 = z0.reshape(-1), z1.reshape(-1)
            self.t = w.FloatSlider(value=0.5, min=0.0, max=1.0, step=1.0 / (steps - 1), description="t",
                                   style={"description_width": "60px"})
            self.method = w.Dropdown(options=("slerp", "linear"), value="slerp", description="path",
                                     style={"description_width": "60px"})
            self.latent_image = w.Image(format="png")
            self.latent_text = w.HTML()
            self.t.observe(lambda _: self.draw_latent(), "value")
            self.method.observe(lambda _: self.draw_latent(), "value")
            boxes += [w.HBox([self.t, self.method]), w.HBox([self.latent_image, self.latent_text])]
            self.draw_latent()
        self.widget = w.VBox(boxes)
        self.draw_grid()

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)

    def draw_grid(self) -> None:
        fig = new_figure((4, 4))
        caption = f"G(fixed noise) after epoch {self.epoch.value}"
        sample_grid(self.grids[self.epoch.value], ax=fig.subplots(), title=caption)
        self.grid_image.value = figure_png(fig)

    def draw_latent(self) -> None:
        path = interpolate_latents(self.z0, self.z1, self.steps, self.method.value)  # (steps, z_dim), for context
        z_t = interpolate_latents(self.z0, self.z1, torch.tensor([self.t.value]), self.method.value)  # (1, z_dim)
        images = generate(self.G, torch.cat([path, z_t]), batch_norm="running")
        fig = new_figure((6, 1.6))
        ax_path, ax_t = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=[11, 2.2]))
        sample_grid(images[:-1], nrow=len(path), ax=ax_path, title=f"{self.method.value} path from z0 to z1")
        sample_grid(images[-1:], nrow=1, ax=ax_t, title=f"t = {self.t.value:.1f}")
        self.latent_image.value = figure_png(fig)
        self.latent_text.value = (f"|z_t| = {z_t.norm():.2f}<br>|z0| = {self.z0.norm():.2f}, "
                                  f"|z1| = {self.z1.norm():.2f}")


def dcgan_browser(history: dict, G: nn.Module | None = None, *, z0: Tensor | None = None,
                  z1: Tensor | None = None) -> DCGANBrowser:
    """The panel for a ``train_dcgan`` history; with G, also a latent path from z0 to z1
    (default: the first two rows of ``history["fixed_noise"]``)."""
    if G is not None:
        z0 = history["fixed_noise"][0] if z0 is None else z0
        z1 = history["fixed_noise"][1] if z1 is None else z1
    return DCGANBrowser(history["grids"], G, z0, z1)
