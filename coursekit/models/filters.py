"""First-layer filters as pictures: each k x k x 3 kernel shown as a small RGB tile.

Krizhevsky et al. (2012, Fig. 3) and Zeiler & Fergus (2014) show trained first-layer filters:
oriented edges and gratings (Gabor-like), colour blobs and colour-opponent edges. Random
filters look like coloured noise; the plot is the same, the labels must say which it is.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..plots import axes_or_new

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.image import AxesImage

__all__ = ["filter_tiles", "show_filters"]


def filter_tiles(weight: torch.Tensor, ncols: int = 8, pad: int = 1) -> np.ndarray:
    """Conv weights (C_out, C_in, k, k), C_in 3 (RGB) or 1 (grey), -> one mosaic (H, W, 3) in [0, 1].

    Each filter is scaled by its own min and max (so the tiles show patterns, not magnitudes), tiles
    are ``ncols`` per row with ``pad`` white pixels between them.
    """
    w = weight.detach().to("cpu", torch.float32)
    if w.ndim != 4 or w.shape[1] not in (1, 3):
        raise ValueError(f"expected first-layer conv weights (C_out, 3 or 1, k, k); got shape {tuple(w.shape)}")
    if w.shape[1] == 1:
        w = w.expand(-1, 3, -1, -1)
    lo = w.amin(dim=(1, 2, 3), keepdim=True)
    hi = w.amax(dim=(1, 2, 3), keepdim=True)
    w = (w - lo) / (hi - lo).clamp_min(1e-12)
    n, _, kh, kw = w.shape
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    mosaic = np.ones((nrows * (kh + pad) - pad, ncols * (kw + pad) - pad, 3), dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        mosaic[r * (kh + pad):r * (kh + pad) + kh, c * (kw + pad):c * (kw + pad) + kw] = w[i].permute(1, 2, 0).numpy()
    return mosaic


def show_filters(
    weight: torch.Tensor, ax: Axes | None = None, ncols: int = 8, title: str | None = None
) -> AxesImage:
    """Draw :func:`filter_tiles` of ``weight`` (nearest-neighbour, no ticks); returns the ``AxesImage``."""
    ax = axes_or_new(ax, (5, 5))
    drawn = ax.imshow(filter_tiles(weight, ncols), interpolation="nearest")
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    return drawn
