"""GAN Lab-style pictures (Kahng et al. 2018, poloclub/ganlab) of a 2-D GAN's state.

``decision_surface`` draws D(x) as a heatmap under real (green) and generated (purple) samples,
the generator's image of a grid of z (its "manifold", dark grey lines), and optionally the arrows -∇_x of the
generator loss at the generated samples (where G is pushing them).
For images (lesson 07): ``sample_grid`` draws a batch of G's samples, ``discriminator_curves`` the
per-iteration D(x) and D(G(z)) with moving averages.
"""

from __future__ import annotations

import math

import torch
from matplotlib.axes import Axes
from torch import Tensor, nn

from ..plots import axes_or_new, moving_average  # noqa: F401  (lesson 06 imports it from here)
from .losses import generator_loss

__all__ = ["decision_surface", "sample_grid", "moving_average", "discriminator_curves"]

REAL, FAKE = "#2ca02c", "#9467bd"


def decision_surface(D: nn.Module, G: nn.Module, x_real: Tensor, z: Tensor, *, lim: float = 3.0,
                     ax: Axes | None = None, resolution: int = 80, manifold: bool = True,
                     arrows: bool = False, g_loss: str = "non_saturating", title: str | None = None,
                     colorbar: bool = True) -> dict:
    """Draw D's decision surface, samples and G's manifold for 2-D data and 2-D noise z (n, 2).

    The heatmap is D(x) (colour bar on the right when ``colorbar``; purple 0 = "fake", green 1 = "real");
    G's image of a grid of z is drawn in dark grey so it shows on both colours.
    Returns {"surface": AxesImage, "real", "fake": PathCollections, "D(G(z))": mean on z}.
    """
    ax = axes_or_new(ax, (4, 4))
    ticks = torch.linspace(-lim, lim, resolution)
    yy, xx = torch.meshgrid(ticks, ticks, indexing="ij")
    with torch.no_grad():
        surface = torch.sigmoid(D(torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1))).reshape(resolution, resolution)
        fake = G(z)
    im = ax.imshow(surface.numpy(), origin="lower", extent=(-lim, lim, -lim, lim), cmap="PRGn", vmin=0, vmax=1)
    if manifold and z.shape[1] == 2:
        # G's image of the square [-2, 2]^2 of z, as grid lines
        t = torch.linspace(-2, 2, 11)
        s = torch.linspace(-2, 2, 41)
        with torch.no_grad():
            for a in t:
                for line in (torch.stack([a.expand(41), s], 1), torch.stack([s, a.expand(41)], 1)):
                    xy = G(line)
                    ax.plot(xy[:, 0], xy[:, 1], color="0.2", lw=0.6, alpha=0.6)
    real = ax.scatter(x_real[:, 0], x_real[:, 1], s=6, c=REAL, label="real x")
    fk = ax.scatter(fake[:, 0], fake[:, 1], s=6, c=FAKE, label="G(z)")
    if arrows:
        x = fake.clone().requires_grad_(True)
        generator_loss(D(x), g_loss).backward()
        step = -x.grad * len(x)  # per-sample direction G is pushed in
        ax.quiver(x[:, 0].detach(), x[:, 1].detach(), step[:, 0], step[:, 1], color=FAKE, alpha=0.6,
                  angles="xy", scale_units="xy", scale=4, width=0.003)
        for p in D.parameters():
            p.grad = None
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="D(x)", fraction=0.046, pad=0.04)
    ax.legend(loc="upper right", fontsize=7)
    if title:
        ax.set_title(title)
    with torch.no_grad():
        d_fake = torch.sigmoid(D(fake)).mean().item()
    return {"surface": im, "real": real, "fake": fk, "D(G(z))": d_fake}


def sample_grid(images: Tensor, *, nrow: int = 8, ax: Axes | None = None, title: str | None = None,
                padding: int = 1):
    """Draw a batch of images (n, C, H, W) with values in [-1, 1] (G's tanh range) as one grid,
    ``nrow`` images per row, black = -1, white = +1 (fixed scale, not rescaled per grid).
    Returns the ``AxesImage``."""
    from torchvision.utils import make_grid

    if images.dim() != 4:
        raise ValueError(f"expected images of shape (n, C, H, W), got {tuple(images.shape)}")
    ax = axes_or_new(ax, (4, 4 * math.ceil(len(images) / nrow) / nrow))
    grid = make_grid(images.detach().cpu().float().clamp(-1, 1), nrow=nrow, padding=padding, pad_value=-1)
    grid = (grid[0] + 1) / 2  # (H', W') in [0, 1]; make_grid repeats one channel three times
    im = ax.imshow(grid.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return im


def discriminator_curves(history: dict, *, ax: Axes | None = None, window: int = 20,
                         title: str | None = None, per_epoch: int | None = None) -> list:
    """D(x) and D(G(z)) per iteration (faint) and their moving averages over ``window`` iterations,
    with the equilibrium D = 1/2 dashed. ``per_epoch`` labels the x axis in epochs. Returns the lines."""
    ax = axes_or_new(ax, (6, 3))
    lines = []
    scale = 1.0 / per_epoch if per_epoch else 1.0
    for key, colour in (("D(x)", REAL), ("D(G(z))", FAKE)):
        v = torch.as_tensor(history[key], dtype=torch.float64)
        steps = torch.arange(1, len(v) + 1) * scale
        ax.plot(steps, v, color=colour, alpha=0.25, lw=0.7)
        smooth = moving_average(v, window)
        lines += ax.plot(steps[len(v) - len(smooth):], smooth, color=colour, lw=1.8, label=key)
    ax.axhline(0.5, color="0.5", ls="--", lw=0.8)
    ax.set_ylim(0, 1)
    ax.set_xlabel("epoch" if per_epoch else "iteration")
    ax.set_ylabel("mean D output")
    ax.legend(loc="center right", fontsize=8)
    if title:
        ax.set_title(title)
    return lines
