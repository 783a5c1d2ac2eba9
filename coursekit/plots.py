"""Plot helpers: images, image grids, heatmaps (Gram matrices), feature maps and loss curves.

Each function takes ``ax=None`` (or ``axes=None``), creates a figure when none is given, and returns
what it drew, so notebooks and headless tests can both inspect the result. Nothing here changes
matplotlib's global settings; ``matplotlib.pyplot`` is imported only when a function is called.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .images import ImageSource, to_numpy_image

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D

__all__ = ["axes_or_new", "show_image", "show_images", "heatmap", "feature_maps", "loss_curves", "moving_average"]


def axes_or_new(ax: Axes | None, figsize: tuple[float, float] | None = None) -> Axes:
    """The ``ax=None`` pattern in one place: ``ax`` itself, or the Axes of a new figure of ``figsize``."""
    return ax if ax is not None else _new_axes(1, 1, figsize)[0]


def _new_axes(nrows: int, ncols: int, figsize: tuple[float, float] | None) -> np.ndarray:
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    return axes.ravel()


def show_image(image: ImageSource, ax: Axes | None = None, title: str | None = None) -> AxesImage:
    """Draw one image (tensor ``(1, 3, H, W)``/``(3, H, W)``, numpy array or PIL image) without axis ticks.

    Values are shown on the fixed scale ``[0, 1]`` (see :func:`coursekit.images.to_numpy_image`).
    Returns the ``AxesImage``.
    """
    ax = axes_or_new(ax)
    drawn = ax.imshow(to_numpy_image(image), vmin=0.0, vmax=1.0)
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    return drawn


def show_images(
    images: Sequence[ImageSource] | Mapping[str, ImageSource] | torch.Tensor,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    axes: Sequence[Axes] | None = None,
    figsize: tuple[float, float] | None = None,
) -> np.ndarray:
    """Draw images in a grid, ``ncols`` per row (default: all in one row, at most 4).

    ``images`` is a sequence of images, a batch tensor ``(N, 3, H, W)``, or a mapping
    ``{title: image}``. Grid cells left over are hidden. Returns a 1-D array with one ``Axes`` per image,
    in order.
    """
    if isinstance(images, torch.Tensor) and images.ndim == 4:
        images = list(images.detach().unbind(0))  # (N, 3, H, W) -> N views of (3, H, W)
    if isinstance(images, Mapping):
        titles = list(images.keys()) if titles is None else titles
        images = list(images.values())
    images = list(images)
    if not images:
        raise ValueError("show_images got no images: pass a non-empty list of images.")
    if titles is not None and len(titles) != len(images):
        raise ValueError(
            f"show_images got {len(images)} images but {len(titles)} titles: pass one title per image."
        )
    if ncols is not None and ncols < 1:
        raise ValueError(f"ncols={ncols} is not valid: use a positive number of columns, or None.")
    if axes is None:
        ncols = ncols or min(len(images), 4)
        nrows = math.ceil(len(images) / ncols)
        grid = _new_axes(nrows, ncols, figsize or (3.0 * ncols, 3.0 * nrows))
    else:
        grid = np.asarray(axes, dtype=object).ravel()
        if len(grid) < len(images):
            raise ValueError(
                f"show_images got {len(images)} images but only {len(grid)} axes: pass more axes."
            )
    for i, (ax, image) in enumerate(zip(grid, images)):
        show_image(image, ax=ax, title=None if titles is None else titles[i])
    for ax in grid[len(images) :]:
        ax.set_visible(False)
    return grid[: len(images)]


def heatmap(
    matrix: np.ndarray | torch.Tensor,
    ax: Axes | None = None,
    title: str | None = None,
    mark: tuple[int, int] | None = None,
    cmap: str = "viridis",
    colorbar: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> AxesImage:
    """Draw a 2-D matrix (e.g. a Gram matrix ``(C, C)``) as a heatmap, row ``i`` at the top.

    ``mark=(k, k2)`` outlines cell ``matrix[k, k2]`` with a red square (its ``gid`` is ``"mark"``),
    e.g. the Gram entry of channels k and k'. Returns the ``AxesImage``; its data is the matrix.
    """
    values = _as_2d(matrix, "heatmap matrix")
    ax = axes_or_new(ax)
    drawn = ax.imshow(values, cmap=cmap, interpolation="nearest")  # square cells: rows and columns alike
    if mark is not None:
        from matplotlib.patches import Rectangle

        k, k2 = (int(m) for m in mark)
        if not (0 <= k < values.shape[0] and 0 <= k2 < values.shape[1]):
            raise ValueError(
                f"mark={tuple(mark)} is outside the matrix of shape {values.shape}: use 0 <= k < rows."
            )
        ax.add_patch(
            Rectangle(
                (k2 - 0.5, k - 0.5),
                1,
                1,
                fill=False,
                edgecolor="red",
                linewidth=2.0,
                gid="mark",
                label=f"({k}, {k2})",
            )
        )
    if colorbar:
        ax.figure.colorbar(drawn, ax=ax)
    for setter, text in ((ax.set_title, title), (ax.set_xlabel, xlabel), (ax.set_ylabel, ylabel)):
        if text is not None:
            setter(text)
    return drawn


def feature_maps(
    activations: torch.Tensor,
    channels: int | Sequence[int],
    axes: Sequence[Axes] | None = None,
    cmap: str = "gray",
    figsize: tuple[float, float] | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> np.ndarray:
    """Draw some channels of an activation ``(1, C, H, W)`` (or ``(C, H, W)``) as a row of grayscale images.

    Each map is titled ``"channel k"`` and scaled to its own min and max, unless ``vmin`` and ``vmax``
    give one colour scale for all of them (then one colour bar, ``fig.colorbar(axes[0].images[0])``,
    explains every map). Returns a 1-D array with one ``Axes`` per channel.
    """
    maps = (
        activations.detach().cpu() if isinstance(activations, torch.Tensor) else torch.as_tensor(activations)
    )
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(
            f"activations have shape {tuple(maps.shape)}: expected (1, C, H, W) or (C, H, W), one image."
        )
    chosen = [channels] if isinstance(channels, int) else [int(c) for c in channels]
    bad = [c for c in chosen if not 0 <= c < maps.shape[0]]
    if bad or not chosen:
        raise ValueError(
            f"channels {bad or chosen} are not valid for {maps.shape[0]} channels: "
            f"use 0..{maps.shape[0] - 1}."
        )
    if axes is None:
        grid = _new_axes(1, len(chosen), figsize or (2.5 * len(chosen), 2.8))
    else:
        grid = np.asarray(axes, dtype=object).ravel()
        if len(grid) < len(chosen):
            raise ValueError(
                f"feature_maps got {len(chosen)} channels but only {len(grid)} axes: pass more axes."
            )
    for ax, c in zip(grid, chosen):
        ax.imshow(maps[c].to(torch.float32).numpy(), cmap=cmap, interpolation="nearest", vmin=vmin, vmax=vmax)
        ax.set_title(f"channel {c}")
        ax.set_axis_off()
    return grid[: len(chosen)]


def loss_curves(
    history: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    logy: bool = True,
    title: str | None = None,
) -> list[Line2D]:
    """Plot each named series of ``history`` (e.g. ``{"style": [...], "content": [...]}``) against step.

    ``logy=True`` uses a log y-axis when no value is negative and some are positive; zeros (a content
    cost that starts at 0, say) are left out of the log plot rather than forcing a linear axis on
    which small costs vanish. Any negative value keeps the axis linear. Returns one ``Line2D`` per series.
    """
    if not isinstance(history, Mapping):
        raise ValueError(f"history must be a dict name -> list of values, got a {type(history).__name__}.")
    ax = axes_or_new(ax)
    lines = []
    any_positive, any_negative = False, False
    for name, values in history.items():
        ys = np.array([float(v) for v in values], dtype=float)
        finite = ys[np.isfinite(ys)]
        any_positive |= bool(np.any(finite > 0))
        any_negative |= bool(np.any(finite < 0))
        lines.extend(ax.plot(np.arange(len(ys)), ys, label=str(name)))
    if logy and any_positive and not any_negative:
        ax.set_yscale("log", nonpositive="mask")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if lines:
        ax.legend()
    if title is not None:
        ax.set_title(title)
    return lines


def _as_2d(matrix: Any, what: str) -> np.ndarray:
    values = (
        matrix.detach().cpu().to(torch.float32).numpy()
        if isinstance(matrix, torch.Tensor)
        else np.asarray(matrix)
    )
    if values.ndim == 3 and values.shape[0] == 1:
        values = values[0]  # a batch of one Gram matrix, (1, C, C)
    if values.ndim != 2 or 0 in values.shape:
        raise ValueError(f"{what} has shape {values.shape}: expected a non-empty 2-D matrix (rows, cols).")
    return values


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Means of ``window`` consecutive values, out[i] = mean(values[i : i + window]): the 'valid'
    part, len(values) - window + 1 of them. A window longer than the series is shortened to it
    (one value, the mean of all); an empty series gives an empty array."""
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    v = np.asarray(values, dtype=np.float64)
    if not len(v):
        return v
    window = min(window, len(v))
    return np.convolve(v, np.ones(window) / window, mode="valid")
