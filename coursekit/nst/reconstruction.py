"""What a layer remembers of an image: content reconstructions, made, measured and drawn (lesson 03).

Gatys, Ecker & Bethge 2015 (Fig. 1) and Mahendran & Vedaldi 2015 look at a layer's content
representation by inverting it: start from noise and minimise J_content(C, G) at that layer
(``reconstruct``). From low layers the image comes back pixel for pixel; from
deep layers many different images have (almost) the same activations, so only what the layer keeps
survives. This module puts numbers and pictures on that:

- ``pixel_error``: mean |G - C| over pixels and channels (images in [0, 1]), optionally after
  averaging block x block squares (the coarse layout).
- ``remaining_costs``: J_content of each reconstruction at each layer, as a fraction of the cost of
  the starting noise there. Row "relu5_2", column "relu1_2" asks: once relu5_2 is matched, how
  much of the relu1_2 mismatch is left?
- ``plot_reconstructions``: the original, one reconstruction per layer, and their loss curves.
- ``draw_progress``: original | current reconstruction | loss curve, on a given figure (the panel).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..images import to_numpy_image
from ..models.features import FeatureExtractor
from .costs import content_cost
from .optimize import OptimResult, noise_like, optimize_image

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FIG1_LAYERS", "reconstruct", "pixel_error", "remaining_costs", "plot_reconstructions", "draw_progress"]

# The layers of Gatys et al. 2016, Fig. 1 (content reconstructions a-e, "conv1_2" ... "conv5_2" in the
# paper, whose network rectified in place: the responses are relu1_2 ... relu5_2).
FIG1_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2")

CostFn = Callable[[Tensor, Tensor], Tensor]


def reconstruct(
    extractor: FeatureExtractor,
    image: Tensor,
    layer: str,
    *,
    steps: int = 100,
    seed: int = 0,
    method: str = "lbfgs",
    convention: str = "paper",
    cost: Callable[[Tensor, Tensor], Tensor] | None = None,
    callback: Callable[[int, float, Tensor], None] | None = None,
    stop: threading.Event | None = None,
) -> OptimResult:
    """An image whose activations at ``layer`` match ``image``'s, found from seeded noise.

    Minimises J_content(C, G) = 1/2 sum (a^[l](C) - a^[l](G))^2 (or ``cost(a_C, a_G)``).
    """
    with torch.no_grad():
        a_C = extractor(image, [layer])[layer]

    def loss(x: Tensor) -> Tensor:
        a_G = extractor(x, [layer])[layer]
        return cost(a_C, a_G) if cost is not None else content_cost(a_C, a_G, convention)

    return optimize_image(loss, noise_like(image, seed), steps=steps, method=method, callback=callback, stop=stop)


def pixel_error(image: Tensor, reference: Tensor, block: int = 1) -> float:
    """Mean absolute difference (1/(3HW)) sum |image - reference| of two (1, 3, H, W) images in [0, 1].

    0 means identical; uniform noise against a photo gives about 0.3. ``block`` > 1 first averages
    both images over block x block squares (the coarse layout: where it is light or dark, warm or
    cool), so pixel noise that a layer cannot see averages out.
    """
    if image.shape != reference.shape:
        raise ValueError(f"image has shape {tuple(image.shape)} but reference has {tuple(reference.shape)}: "
                         "compare images of the same size")
    if block < 1:
        raise ValueError(f"block must be 1 (pixels) or more, got {block}")
    image, reference = image.detach(), reference.detach()
    if block > 1:
        image, reference = F.avg_pool2d(image, block, ceil_mode=True), F.avg_pool2d(reference, block, ceil_mode=True)
    return float((image - reference).abs().mean())


def remaining_costs(
    extractor: FeatureExtractor,
    content: Tensor,
    images: Mapping[str, Tensor],
    layers: Sequence[str],
    *,
    cost: CostFn | None = None,
    seed: int = 0,
) -> np.ndarray:
    """R[r, l] = J_content^[l](C, images[r]) / J_content^[l](C, noise): the fraction of the content cost left.

    Args:
        extractor: reads every layer in ``layers``.
        content: the original image C, (1, 3, H, W).
        images: reconstructions (or any images of C's shape) by name; one row each, in order.
        layers: the columns.
        cost: J_content(a_C, a_G) -> (B,); default the paper's ``content_cost``.
        seed: the noise the reconstructions started from (``noise_like(content, seed)``), the
            denominator: 1 means "no better than the starting noise", 0 "matched exactly".
    Returns:
        (len(images), len(layers)) float array.
    """
    cost = cost or content_cost
    names = list(layers)
    with torch.no_grad():
        a_C = extractor(content, names)
        a_N = extractor(noise_like(content, seed), names)
        start = {name: float(cost(a_C[name], a_N[name]).sum()) for name in names}
        rows = []
        for key, image in images.items():
            if image.shape != content.shape:
                raise ValueError(f"image {key!r} has shape {tuple(image.shape)}; it must match the content "
                                 f"image's {tuple(content.shape)}")
            a_G = extractor(image, names)
            rows.append([float(cost(a_C[name], a_G[name]).sum()) / start[name] for name in names])
    return np.array(rows, dtype=float).reshape(len(rows), len(names))


def plot_reconstructions(
    original: Tensor,
    results: Mapping[str, OptimResult],
    *,
    suffix: str = "",
    fig: Figure | None = None,
) -> dict[str, Axes]:
    """Top row: the original and one reconstruction per layer (titled with its pixel error);
    bottom: every loss curve as a fraction of its starting value, on one log axis.

    ``suffix`` is appended to the figure title, e.g. " (random features)". Returns the axes by
    name: "original", each layer name, and "loss".
    """
    if not results:
        raise ValueError("results is empty: pass {layer name: OptimResult} for at least one layer")
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(2.2 * (len(results) + 1), 5.2))
    n = len(results) + 1
    grid = fig.add_gridspec(2, n, height_ratios=(1.0, 0.85))
    axes: dict[str, Axes] = {}
    panels = [("original", original, "original")]
    panels += [(name, r.image, f"{name}\nerror {pixel_error(r.image, original):.3f}") for name, r in results.items()]
    for col, (key, image, title) in enumerate(panels):
        ax = fig.add_subplot(grid[0, col])
        ax.imshow(to_numpy_image(image), vmin=0.0, vmax=1.0)
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
        axes[key] = ax
    ax = fig.add_subplot(grid[1, :])
    for name, r in results.items():
        curve = np.minimum.accumulate(np.asarray(r.history["total"], dtype=float))  # best so far
        ax.plot(np.arange(1, len(curve) + 1), curve / curve[0], label=name)
    ax.set_yscale("log")
    ax.set_xlabel("loss evaluation")
    ax.set_ylabel("J_content / J_content(noise)")
    ax.legend(fontsize=8, ncol=min(len(results), 5))
    ax.grid(True, which="major", alpha=0.3)
    axes["loss"] = ax
    fig.suptitle(f"Reconstructions from one layer each{suffix}")
    return axes


def draw_progress(
    fig: Figure,
    original: Tensor,
    image: Tensor | None,
    history: Sequence[float],
    *,
    title: str = "",
) -> list[Axes]:
    """Draw original | reconstruction (or an empty frame when ``image`` is None) | best loss so far.

    Used by the reconstruction panel on a figure from ``widgets.render.new_figure``. Returns the
    three axes.
    """
    fig.clear()
    ax_o, ax_r, ax_l = fig.subplots(1, 3, gridspec_kw={"width_ratios": (1, 1, 1.4)})
    ax_o.imshow(to_numpy_image(original), vmin=0.0, vmax=1.0)
    ax_o.set_title("original", fontsize=9)
    if image is not None:
        ax_r.imshow(to_numpy_image(image), vmin=0.0, vmax=1.0)
    ax_r.set_title(title or "reconstruction", fontsize=9)
    for ax in (ax_o, ax_r):
        ax.set_xticks([])
        ax.set_yticks([])
    if len(history):
        best = np.minimum.accumulate(np.asarray(history, dtype=float))
        ax_l.plot(np.arange(1, len(best) + 1), best)
        if np.all(best > 0):
            ax_l.set_yscale("log")
    ax_l.set_xlabel("loss evaluation")
    ax_l.set_ylabel("J_content (best so far)", fontsize=9)
    fig.subplots_adjust(top=0.8, wspace=0.45)  # room for the caller's suptitle
    return [ax_o, ax_r, ax_l]
