"""Channel correlations: what the style matrix measures, pair by pair.

Ng's "What is style?" (deeplearning.ai, Convolutional Neural Networks, week 4): the style of an image
is the correlation between the channels of one layer. Take the activation volume a^[l] of one image,
shape (nC, nH, nW), and two channels k and k'. At each of the nH*nW positions (i, j) they give a pair
(a_ijk, a_ijk'); the style matrix adds up the products of these pairs,

    G_kk' = sum_i sum_j a_ijk a_ijk'                                      (``coursekit.nst.costs.gram_matrix``)

the Gram matrix of the channels: an uncentred second moment (nH nW times the mean of the products
a_ijk a_ijk'), not a covariance, because no mean is subtracted. It is large when both channels are
large at the same places, and also when both are simply large everywhere. Writing
mu_k = mean_ij a_ijk and Cov_kk' = mean_ij (a_ijk - mu_k)(a_ijk' - mu_k') (the covariance, which
does subtract the means), exactly

    G_kk' = nH nW (Cov_kk' + mu_k mu_k')

while the Pearson correlation coefficient r_kk' = Cov_kk' / (sigma_k sigma_k') removes both the means
and the scales. This module computes the pairs, the correlation and covariance matrices, finds dead
channels (never > 0 on an image), ranks channel pairs by either measure, finds channels that respond
to a property of an image (e.g. "orange", "vertical stripes" in ``sample_image("stripes_orange")``),
and draws them.

The paper's layers are rectified responses (relu2_1 and so on; Gatys' Caffe network applied each
ReLU in place), so a_ijk >= 0 there; conv2_1 and the other pre-ReLU layers are signed.

Shapes: activations are (B, nC, nH, nW), as everywhere in coursekit; matrices are (B, nC, nC).
Functions that look at one image take ``image=0`` (an index into the batch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from ..plots import axes_or_new
from .costs import gram_matrix

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "channel_pairs",
    "channel_means",
    "covariance_matrix",
    "correlation_matrix",
    "constant_channels",
    "active_fraction",
    "dead_channels",
    "ranked_pairs",
    "resize_mask",
    "orange_mask",
    "region_means",
    "channel_scores",
    "find_channel",
    "CHANNEL_COLORS",
    "channel_colormap",
    "plot_channel_map",
    "plot_channel_stack",
    "plot_pair_scatter",
]

# A region of one activation map: the activations (B, nC, nH, nW), or (activations, mask) with a
# boolean mask (H, W) at any resolution (it is resized to nH x nW).
Region = Union[Tensor, "tuple[Tensor, Tensor]"]


def _check(a: Tensor, what: str = "a") -> Tensor:
    if not isinstance(a, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor of shape (B, nC, nH, nW), got {type(a).__name__}")
    if a.dim() != 4:
        hint = " Add the batch dimension with a.unsqueeze(0)." if a.dim() == 3 else ""
        raise ValueError(f"{what} has shape {tuple(a.shape)}; expected (B, nC, nH, nW).{hint}")
    return a


def _one_image(a: Tensor, image: int) -> Tensor:
    """(B, nC, nH, nW) -> (nC, nH*nW) of image ``image``, detached."""
    _check(a)
    if not -a.shape[0] <= image < a.shape[0]:
        raise ValueError(f"image={image} is not in the batch of {a.shape[0]}; use 0..{a.shape[0] - 1}")
    return a[image].detach().reshape(a.shape[1], -1)


def _select(a: Tensor, image: int) -> Tensor:
    """(B, nC, nH, nW) -> (1, nC, nH, nW): image ``image`` of the batch, detached."""
    _one_image(a, image)  # checks the shape and the index
    return a.detach()[image].unsqueeze(0)


def _check_channel(k: int, n_c: int, name: str) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < n_c:
        raise ValueError(f"{name}={k!r} is not a channel of this layer; use an int in 0..{n_c - 1}")
    return k


def channel_pairs(a: Tensor, k: int, k2: int, image: int = 0) -> tuple[Tensor, Tensor]:
    """The nH*nW activation pairs (a_ijk, a_ijk') of channels k and k' of one image.

    Returns two 1-D tensors x, y of length nH*nW (positions in row-major order, detached copies), so
    that ``(x * y).sum()`` is the style-matrix entry G_kk' = sum_i sum_j a_ijk a_ijk'.
    """
    f = _one_image(a, image)
    _check_channel(k, f.shape[0], "k")
    _check_channel(k2, f.shape[0], "k2")
    return f[k].clone(), f[k2].clone()


def channel_means(a: Tensor) -> Tensor:
    """mu_k = 1/(nH nW) sum_ij a_ijk for every image and channel: (B, nC, nH, nW) -> (B, nC)."""
    return _check(a).mean(dim=(2, 3))


def covariance_matrix(a: Tensor) -> Tensor:
    """Cov_kk' = 1/(nH nW) sum_ij (a_ijk - mu_k)(a_ijk' - mu_k') per image: (B, nC, nC).

    The population covariance (divided by nH nW, not nH nW - 1), so that exactly
    ``gram_matrix(a) = nH nW (Cov + mu mu^T)``: the style matrix is the covariance plus the product
    of the means, times the number of positions.
    """
    b, c = _check(a).shape[:2]
    f = a.reshape(b, c, -1)  # (B, nC, M)
    f = f - f.mean(dim=2, keepdim=True)
    return torch.bmm(f, f.transpose(1, 2)) / f.shape[2]


def constant_channels(a: Tensor) -> Tensor:
    """(B, nC) bool: True where a channel has the same value at every position (e.g. a dead ReLU)."""
    b, c = _check(a).shape[:2]
    f = a.detach().reshape(b, c, -1)
    return f.amax(dim=2) == f.amin(dim=2)


def active_fraction(a: Tensor) -> Tensor:
    """(B, nC): the fraction of the nH*nW positions where each channel is on (a_ijk > 0)."""
    b, c = _check(a).shape[:2]
    return (a.detach().reshape(b, c, -1) > 0).float().mean(dim=2)


def dead_channels(a: Tensor) -> Tensor:
    """(B, nC) bool: True where a channel is never on in that image (a_ijk <= 0 at every position).

    In a rectified layer (relu*) such a channel is 0 everywhere: its map is empty, its row and
    column of G are 0 and its r is undefined. Which channels are dead depends on the image. In a
    pre-ReLU layer (conv*) the same channels still carry signed, varying values; they are the
    channels that the ReLU after it will zero.
    """
    b, c = _check(a).shape[:2]
    return a.detach().reshape(b, c, -1).amax(dim=2) <= 0


def correlation_matrix(a: Tensor) -> Tensor:
    """Pearson correlation coefficients r_kk' = Cov_kk' / (sigma_k sigma_k') per image: (B, nC, nC).

    sigma_k = sqrt(Cov_kk). The means are subtracted and the scales divided out, so r lies in
    [-1, 1] and does not change when a channel is shifted or scaled (by a positive factor). A channel
    that is constant over the positions has no defined r; it is set to 0 there (also on the diagonal),
    never NaN. Otherwise r_kk = 1.
    """
    cov = covariance_matrix(a)
    sigma = cov.diagonal(dim1=1, dim2=2).clamp_min(0).sqrt()  # (B, nC)
    const = constant_channels(a)
    undefined = const[:, :, None] | const[:, None, :]  # (B, nC, nC)
    denom = torch.where(undefined, torch.ones_like(cov), sigma[:, :, None] * sigma[:, None, :])
    r = torch.where(undefined, torch.zeros_like(cov), cov / denom)
    return r.clamp(-1.0, 1.0)


def ranked_pairs(
    a: Tensor,
    by: str = "gram",
    order: str = "most",
    n: int = 5,
    *,
    exclude_diagonal: bool = True,
    skip_constant: bool = True,
    min_active: float = 0.0,
    image: int = 0,
) -> list[tuple[int, int, float]]:
    """The n channel pairs (k, k', value) of one image with the largest or smallest G_kk' or r_kk'.

    Args:
        a: activations (B, nC, nH, nW).
        by: "gram" ranks by G_kk' = sum_ij a_ijk a_ijk', "correlation" by r_kk'.
        order: "most" gives the largest values first (signed: strong positive co-occurrence);
            "least" gives the values closest to zero first (|value| smallest: the pairs that
            co-occur least, e.g. r ~ 0 "uncorrelated").
        n: how many pairs.
        exclude_diagonal: leave out k = k' (G_kk is just the channel's energy, r_kk = 1).
        skip_constant: leave out pairs with a constant channel (r is undefined there, G trivial;
            in a rectified layer this is every dead channel).
        min_active: leave out channels that are on (> 0) at fewer than this fraction of the
            positions (:func:`active_fraction`). 0 keeps them all; e.g. 0.1 also leaves out nearly
            dead channels, on at a handful of positions, whose r of 1.0 says little.
        image: which image of the batch.
    Returns:
        A list of (k, k', value) with k <= k' (each unordered pair once), ties broken by (k, k');
        shorter than n (possibly empty) when fewer pairs are left.
    """
    if by not in ("gram", "correlation"):
        raise ValueError(f"by={by!r} is not known; use 'gram' or 'correlation'")
    if order not in ("most", "least"):
        raise ValueError(f"order={order!r} is not known; use 'most' or 'least'")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n={n!r} must be a positive int (how many pairs to return)")
    if not 0.0 <= min_active <= 1.0:
        raise ValueError(f"min_active={min_active!r} is a fraction of the positions: use 0 <= min_active <= 1")
    one = _select(a, image)
    matrix = (gram_matrix(one) if by == "gram" else correlation_matrix(one))[0].to(torch.float64)
    c = matrix.shape[0]
    rows, cols = torch.triu_indices(c, c, offset=1 if exclude_diagonal else 0)
    if skip_constant:
        const = constant_channels(one)[0]
        keep = ~(const[rows] | const[cols])
        rows, cols = rows[keep], cols[keep]
    if min_active > 0:
        active = active_fraction(one)[0] >= min_active
        keep = active[rows] & active[cols]
        rows, cols = rows[keep], cols[keep]
    values = matrix[rows, cols]
    key = -values if order == "most" else values.abs()
    # Sort by key, then by (k, k') so that equal values come out in a fixed order.
    ranked = sorted(zip(key.tolist(), rows.tolist(), cols.tolist(), values.tolist()))
    return [(k, k2, value) for _, k, k2, value in ranked[:n]]


# ---------------------------------------------------------------- channels that respond to a property
def resize_mask(mask: Tensor, size: tuple[int, int]) -> Tensor:
    """A boolean mask (H, W) (or (1, H, W), (1, 1, H, W)) at another resolution (nH, nW), as bool.

    Each output cell is True when at least half of the image area it covers is True (area
    averaging), which is how a feature map at a coarser layer "sees" the region.
    """
    m = torch.as_tensor(mask)
    while m.dim() > 2 and m.shape[0] == 1:
        m = m[0]
    if m.dim() != 2:
        raise ValueError(f"mask has shape {tuple(torch.as_tensor(mask).shape)}; expected (H, W)")
    if tuple(m.shape) == tuple(size):
        return m.bool()
    area = F.adaptive_avg_pool2d(m.float()[None, None], tuple(size))[0, 0]
    return area >= 0.5


def orange_mask(image: Tensor, threshold: float = 0.25) -> Tensor:
    """(H, W) bool: pixels that are orange-ish, i.e. red minus blue above ``threshold``.

    ``image`` is (1, 3, H, W) or (3, H, W) in [0, 1]. In ``sample_image("stripes_orange")`` this is
    exactly the patches (light and dark orange stripes both pass; the bluish-grey background does not).
    """
    x = image[0] if image.dim() == 4 else image
    if x.dim() != 3 or x.shape[0] != 3:
        raise ValueError(f"image has shape {tuple(image.shape)}; expected (1, 3, H, W) or (3, H, W)")
    return (x[0] - x[2]) > threshold


def _as_region(region: Region) -> tuple[Tensor, Tensor | None]:
    if isinstance(region, Tensor):
        return _check(region, "activations"), None
    if isinstance(region, (tuple, list)) and len(region) == 2:
        return _check(region[0], "activations"), torch.as_tensor(region[1])
    raise TypeError("a region is activations (B, nC, nH, nW) or a pair (activations, mask (H, W))")


def region_means(a: Tensor, mask: Tensor | None = None, image: int = 0) -> Tensor:
    """(nC,): each channel's mean activation inside ``mask`` (all positions when None), one image."""
    f = _one_image(a, image)  # (nC, nH*nW)
    if mask is None:
        return f.mean(dim=1)
    m = resize_mask(mask, tuple(a.shape[2:])).reshape(-1)
    if not m.any():
        raise ValueError("the mask covers no position of this layer: use a larger region")
    return f[:, m].mean(dim=1)


def channel_scores(on: Sequence[Region], off: Sequence[Region], image: int = 0) -> Tensor:
    """How selectively each channel responds to a property: (nC,) scores, larger is more selective.

    ``on`` lists regions that have the property, ``off`` regions that lack it (each region is the
    activations of one layer, optionally with a mask). With m_k(R) the mean activation of channel k
    in region R and s_k the standard deviation of channel k over all positions of all regions,

        score_k = (min_{R in on} m_k(R) - max_{R in off} m_k(R)) / s_k

    It is positive only when channel k is more active, on average, in EVERY "on" region than in ANY
    "off" region: e.g. "vertical stripes" = on: the striped patches of two images of different
    colours; off: flat orange patches and the plain background.
    """
    if not on or not off:
        raise ValueError("give at least one 'on' region and one 'off' region")
    regions = [_as_region(r) for r in on] + [_as_region(r) for r in off]
    n_c = {acts.shape[1] for acts, _ in regions}
    if len(n_c) != 1:
        raise ValueError(f"the regions come from layers with different numbers of channels {sorted(n_c)}")
    means = torch.stack([region_means(acts, mask, image) for acts, mask in regions])  # (R, nC)
    everything = torch.cat([_one_image(acts, image) for acts, _ in regions], dim=1)  # (nC, sum M)
    spread = everything.std(dim=1)
    spread = torch.where(spread > 0, spread, torch.ones_like(spread))
    return (means[: len(on)].amin(dim=0) - means[len(on) :].amax(dim=0)) / spread


def find_channel(on: Sequence[Region], off: Sequence[Region], exclude: Sequence[int] = (), image: int = 0) -> int:
    """The channel with the largest :func:`channel_scores` (channels in ``exclude`` are skipped)."""
    scores = channel_scores(on, off, image).clone()
    for k in exclude:
        scores[int(k)] = float("-inf")
    return int(scores.argmax())


# ---------------------------------------------------------------- figures
# One colour per drawn channel (matplotlib's tab10, as hex so nothing is imported here).
CHANNEL_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def channel_colormap(color: str):
    """A colormap from white (no activation) to ``color`` (the channel's largest activation)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list(f"white_to_{color}", ["#ffffff", color])


def plot_channel_map(
    a: Tensor, k: int, ax: Axes | None = None, color: str = CHANNEL_COLORS[0], image: int = 0,
    title: str | None = None, vmax: float | None = None,
):
    """Draw the (nH, nW) map of channel k in its own colour, white = 0. Returns the AxesImage.

    A rectified map (no negative value) runs from white at 0 to the colour at ``vmax`` (default
    its maximum), so that maps of the same channel on different images can share one scale; a
    dead channel (0 everywhere) is all white. A signed map (a pre-ReLU layer) draws negative values
    in grey, on a scale symmetric about 0: dark grey at -v, white at 0, the colour at +v.
    """
    f = _one_image(a, image)
    _check_channel(k, f.shape[0], "k")
    values = f[k].reshape(a.shape[2:]).float().cpu().numpy()
    ax = axes_or_new(ax, (3, 3))
    low, high = float(values.min()), float(values.max())
    if low < 0:  # signed: grey below 0, the channel's colour above
        from matplotlib.colors import LinearSegmentedColormap

        cmap = LinearSegmentedColormap.from_list(f"grey_white_{color}", ["0.25", "#ffffff", color])
        lim = max(-low, high, 0.0 if vmax is None else float(vmax))
        drawn = ax.imshow(values, cmap=cmap, interpolation="nearest", vmin=-lim, vmax=lim)
    else:
        drawn = ax.imshow(values, cmap=channel_colormap(color), interpolation="nearest", vmin=0.0, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor(color)
        spine.set_linewidth(2)
    ax.set_title(f"channel {k}" if title is None else title, color=color)
    return drawn


def plot_channel_stack(
    a: Tensor, channels: Sequence[int], ax: Axes | None = None, image: int = 0, title: str | None = None,
):
    """Draw some channels of one image as slices of the (nH, nW, nC) volume pulled apart along nC.

    Each slice is an (nH, nW) map in its own colour, drawn in perspective; the labels give k and
    the volume's size. Returns the list of AxesImages, one per channel, in order.
    """
    from matplotlib.patches import Polygon
    from matplotlib.transforms import Affine2D

    f = _one_image(a, image)
    n_c, (n_h, n_w) = f.shape[0], a.shape[2:]
    chosen = [_check_channel(int(k), n_c, "channel") for k in channels]
    ax = axes_or_new(ax, (1.6 * len(chosen) + 1, 3.2))
    depth, rise, step = 0.7, 0.28, 0.95  # the W axis drawn receding: x += depth*u, y += rise*u
    aspect = n_h / n_w
    drawn = []
    for i, k in enumerate(chosen):
        x0 = i * step
        # (u, v) in the unit square -> (x0 + depth*u, aspect*v + rise*u): a sheared slice.
        skew = Affine2D.from_values(depth, rise, 0.0, aspect, x0, 0.0)
        color = CHANNEL_COLORS[i % len(CHANNEL_COLORS)]
        values = f[k].reshape(n_h, n_w).float().cpu().numpy()
        img = ax.imshow(values, cmap=channel_colormap(color), extent=(0, 1, 0, 1), origin="upper",
                        interpolation="nearest", transform=skew + ax.transData,
                        vmin=min(float(values.min()), 0.0))
        corners = [(0, 0), (1, 0), (1, 1), (0, 1)]
        ax.add_patch(Polygon([skew.transform(c) for c in corners], closed=True, fill=False,
                             edgecolor=color, linewidth=1.5))
        ax.text(x0 + depth / 2, -0.05, f"k = {k}", ha="center", va="top", color=color, fontsize=9)
        drawn.append(img)
    right = (len(chosen) - 1) * step + depth
    top = aspect + rise
    grey = "0.3"
    ax.annotate("", xy=(right + 0.1, -0.25), xytext=(0, -0.25), arrowprops=dict(arrowstyle="->", color=grey))
    ax.text(right / 2, -0.29, f"channels k (n_C = {n_c}; {len(chosen)} drawn)", ha="center", va="top",
            fontsize=9, color=grey)
    ax.text(-0.05, aspect / 2, f"n_H = {n_h}", rotation=90, ha="right", va="center", fontsize=9, color=grey)
    slant = math.degrees(math.atan2(rise, depth))  # the top edge of a slice
    ax.text(depth / 2 - 0.04, aspect + rise / 2 + 0.04, f"n_W = {n_w}", rotation=slant,
            ha="center", va="bottom", fontsize=9, color=grey, rotation_mode="anchor")
    ax.set_xlim(-0.25, right + 0.2)
    ax.set_ylim(-0.45, top + 0.2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    return drawn


def plot_pair_scatter(
    a: Tensor, k: int, k2: int, ax: Axes | None = None, image: int = 0,
    colors: tuple[str, str] = (CHANNEL_COLORS[0], CHANNEL_COLORS[1]), title: str | None = None,
    max_points: int = 6000,
):
    """Scatter the nH*nW pairs (a_ijk, a_ijk') of one image, with G_kk' and r_kk' in the legend.

    Dotted lines mark the means mu_k, mu_k' (what r subtracts); the origin (what G measures from)
    is where the solid axes cross. Pairs that occur at several positions are drawn once, with an
    area proportional to the square root of their count. At most ``max_points`` distinct pairs are
    drawn (an even subsample); G and r always use all of them. Returns the PathCollection.
    """
    x, y = channel_pairs(a, k, k2, image)
    g = float((x.double() * y.double()).sum())
    r = float(correlation_matrix(_select(a, image))[0, k, k2])
    # Identical pairs (common in flat regions, e.g. both channels off) are drawn once, with an
    # area that grows with how many positions share them.
    pairs, counts = torch.unique(torch.stack([x, y], dim=1).float().cpu(), dim=0, return_counts=True)
    stride = max(1, -(-len(pairs) // max_points))
    pairs, counts = pairs[::stride].numpy(), counts[::stride].float().numpy()
    ax = axes_or_new(ax, (3.5, 3.5))
    points = ax.scatter(pairs[:, 0], pairs[:, 1], s=4 * counts**0.5, alpha=0.35, color="0.2", linewidths=0,
                        rasterized=True, label=f"G = {g:.4g}\nr = {r:.3f}")
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.axvline(0, color="0.6", linewidth=0.8)
    ax.axvline(float(x.mean()), color=colors[0], linestyle=":", linewidth=1.2)
    ax.axhline(float(y.mean()), color=colors[1], linestyle=":", linewidth=1.2)
    ax.set_xlabel(f"channel k = {k}", color=colors[0])
    ax.set_ylabel(f"channel k' = {k2}", color=colors[1])
    ax.legend(loc="upper left", fontsize=8, handlelength=0, handletextpad=0, markerscale=0, frameon=True)
    if title is not None:
        ax.set_title(title)
    return points
