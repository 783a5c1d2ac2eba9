"""Empirical effective receptive field: how strongly each input pixel reaches one unit (Luo et al. 2016).

Luo, Li, Urtasun & Zemel 2016, "Understanding the effective receptive field in deep convolutional
neural networks" (NeurIPS): set the gradient of the centre unit of a layer to 1 and propagate it
back to the input. For a layer ``upto`` of ``features`` and an input of ``input_size`` pixels, the
map is

    ERF(u, v) = mean over images b of  sum over input channels c of |d y(b) / d x(b, c, u, v)|,

normalised to sum 1, where y(b) is the sum over channels of the layer's output at the centre
position (H_out // 2, W_out // 2). Images are seeded standard normal noise, as in the paper. The
gradient is exactly zero outside the theoretical receptive field (the recursion of
:mod:`coursekit.models.arithmetic`); inside it, the ERF concentrates near the centre, because
more paths through the stack reach central pixels than border ones.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["effective_receptive_field", "ErfStats", "erf_stats", "show_erf"]


def effective_receptive_field(
    features: nn.Sequential, upto: int, input_size: int, n_images: int = 4, seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """The (input_size, input_size) ERF map of the centre unit of ``features[upto]`` (see module docstring).

    ``features`` is not changed: a copy of ``features[: upto + 1]`` in ``dtype`` (float64 by default,
    so the map is the same on any CPU) runs in eval mode. ``features`` must read 3-channel images.
    """
    if not 0 <= upto < len(features):
        raise ValueError(f"upto={upto} is not a layer index of features (0..{len(features) - 1})")
    first = next(m for m in features if isinstance(m, nn.Conv2d))
    net = copy.deepcopy(features[: upto + 1]).to(dtype=dtype).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n_images, first.in_channels, input_size, input_size, generator=generator, dtype=dtype)
    x.requires_grad_(True)
    y = net(x)  # (B, C, H_out, W_out)
    centre = y[:, :, y.shape[2] // 2, y.shape[3] // 2].sum()
    (grad,) = torch.autograd.grad(centre, x)
    erf = grad.abs().sum(dim=1).mean(dim=0)  # (H, W)
    return erf / erf.sum()


@dataclass(frozen=True)
class ErfStats:
    """``support``: side of the box of pixels with a nonzero gradient; ``side``: of the centred square
    holding ``fraction`` of the map; ``centre``: (row, col) of the support box's centre."""

    support: int
    side: int
    fraction: float
    centre: tuple[float, float]


def erf_stats(erf: torch.Tensor, fraction: float = 0.9) -> ErfStats:
    """Support side and the side of the smallest square centred on the support that holds ``fraction`` of ``erf``.

    Squares are measured in the Chebyshev distance d = max(|u - u_c|, |v - v_c|) from the support's
    centre; the side is 2 d + 1 for the smallest d whose square reaches ``fraction`` of the total.
    """
    if erf.ndim != 2:
        raise ValueError(f"erf must be a 2-D map (H, W); got shape {tuple(erf.shape)}")
    rows = torch.nonzero(erf.abs().sum(dim=1)).flatten()
    cols = torch.nonzero(erf.abs().sum(dim=0)).flatten()
    if len(rows) == 0:
        raise ValueError("erf is zero everywhere: no input pixel reaches the unit")
    support = int(max(rows[-1] - rows[0], cols[-1] - cols[0])) + 1
    cu, cv = (rows[0] + rows[-1]).item() / 2, (cols[0] + cols[-1]).item() / 2
    u = torch.arange(erf.shape[0], dtype=torch.float64)[:, None]
    v = torch.arange(erf.shape[1], dtype=torch.float64)[None, :]
    dist = torch.maximum((u - cu).abs(), (v - cv).abs()).flatten()
    mass = erf.abs().to(torch.float64).flatten()
    order = torch.argsort(dist, stable=True)
    cumulative = torch.cumsum(mass[order], 0) / mass.sum()
    d = dist[order][int(torch.searchsorted(cumulative, torch.tensor([fraction], dtype=torch.float64)))].item()
    return ErfStats(support=support, side=int(round(2 * d + 1)), fraction=fraction, centre=(cu, cv))


def show_erf(erf: torch.Tensor, theoretical: int, fraction: float = 0.9, ax=None, title: str | None = None):
    """Draw ``erf`` (grey scale, dark = strong) with two centred squares: the theoretical receptive field
    (blue, dashed, side ``theoretical``) and the square holding ``fraction`` of the map (red). Returns the image."""
    from matplotlib.patches import Rectangle

    from coursekit.plots import axes_or_new

    ax = axes_or_new(ax, (4, 4))
    stats = erf_stats(erf, fraction)
    drawn = ax.imshow(erf.detach().cpu().numpy(), cmap="Greys", interpolation="nearest")
    cu, cv = stats.centre
    for side, colour, style, label in [(theoretical, "tab:blue", "--", f"theoretical field {theoretical} px"),
                                       (stats.side, "tab:red", "-", f"{fraction:.0%} of the gradient: {stats.side} px")]:
        ax.add_patch(Rectangle((cv - side / 2, cu - side / 2), side, side, fill=False, edgecolor=colour,
                               linestyle=style, linewidth=1.5, label=label))
    ax.set_xlabel("input column (pixel)")
    ax.set_ylabel("input row (pixel)")
    if title is not None:
        ax.set_title(title, fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.24), fontsize=8, frameon=False)
    return drawn
