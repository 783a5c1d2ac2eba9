"""GAN Lab-style pictures (Kahng et al. 2018, poloclub/ganlab) of a 2-D GAN's state.

``decision_surface`` draws D(x) as a heatmap under real (green) and generated (purple) samples,
the generator's image of a grid of z (its "manifold"), and optionally the arrows -∇_x of the
generator loss at the generated samples (where G is pushing them).
"""

from __future__ import annotations

import torch
from matplotlib.axes import Axes
from torch import Tensor, nn

from .losses import generator_loss

__all__ = ["decision_surface"]

REAL, FAKE = "#2ca02c", "#9467bd"


def decision_surface(D: nn.Module, G: nn.Module, x_real: Tensor, z: Tensor, *, lim: float = 3.0,
                     ax: Axes | None = None, resolution: int = 80, manifold: bool = True,
                     arrows: bool = False, g_loss: str = "non_saturating", title: str | None = None) -> dict:
    """Draw D's decision surface, samples and G's manifold for 2-D data and 2-D noise z (n, 2).

    Returns {"surface": AxesImage, "real", "fake": PathCollections, "D(G(z))": mean on z}.
    """
    if ax is None:
        import matplotlib.pyplot as plt
        ax = plt.subplots(figsize=(4, 4))[1]
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
                    ax.plot(xy[:, 0], xy[:, 1], color=FAKE, lw=0.5, alpha=0.35)
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
    ax.legend(loc="upper right", fontsize=7)
    if title:
        ax.set_title(title)
    with torch.no_grad():
        d_fake = torch.sigmoid(D(fake)).mean().item()
    return {"surface": im, "real": real, "fake": fk, "D(G(z))": d_fake}
