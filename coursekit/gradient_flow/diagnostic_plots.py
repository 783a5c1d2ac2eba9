"""Figures for lesson 09's training diagnostics (Karpathy's four views, clipping's histogram).

Each function takes ``ax=None`` (a new figure) and returns what it drew.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.axes import Axes

from ..plots import axes_or_new, moving_average  # noqa: F401  (lesson 09 imports it from here)
from .diagnostics import TANH_SATURATION, Diagnostics

__all__ = ["moving_average", "layer_colours", "tanh_histograms", "gradient_histograms", "grad_data_profile", "update_data_curves",
           "clipping_histograms"]


def layer_colours(count: int) -> list:
    """``count`` colours from dark (first layer) to yellow (last), viridis."""
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(0.9 * i / max(1, count - 1)) for i in range(count)]


def tanh_histograms(diag: Diagnostics, ax: Axes | None = None, bins: int = 40) -> list:
    """Density histograms of the tanh outputs a^[l] of every hidden layer, each labelled with its
    saturated share (|a| > 0.97, shaded). Returns the Line2D list."""
    ax = axes_or_new(ax, (5, 3))
    edges = np.linspace(-1, 1, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    drawn = []
    colours = layer_colours(len(diag.activations))
    for l, (a, sat, colour) in enumerate(zip(diag.activations, diag.saturated, colours), 1):
        density, _ = np.histogram(a.reshape(-1).numpy(), bins=edges, density=True)
        drawn += ax.plot(centres, density, color=colour, lw=1.3, label=f"layer {l}: {100 * sat:.0f}% saturated")
    for side in (-1, 1):
        ax.axvspan(side * TANH_SATURATION, side * 1.0, color="0.85", zorder=0)
    ax.set(xlabel="tanh output a$^{[l]}$ (grey: |a| > 0.97)", ylabel="density")
    ax.legend(fontsize=7)
    return drawn


def gradient_histograms(diag: Diagnostics, ax: Axes | None = None, bins: int = 40) -> list:
    """Density histograms of dL/da^[l] for every hidden layer, each labelled with its std (a common
    x range: the 1st to 99th percentile of all of them). Returns the Line2D list."""
    ax = axes_or_new(ax, (5, 3))
    values = [g.reshape(-1).numpy() for g in diag.activation_grads]
    lo, hi = np.percentile(np.concatenate(values), [1, 99])
    edges = np.linspace(lo, hi, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    drawn = []
    for l, (v, colour) in enumerate(zip(values, layer_colours(len(values))), 1):
        density, _ = np.histogram(v, bins=edges, density=True)
        drawn += ax.plot(centres, density, color=colour, lw=1.3, label=f"layer {l}: std {v.std():.1e}")
    ax.set(xlabel="gradient dL/da$^{[l]}$", ylabel="density")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
    ax.legend(fontsize=7)
    return drawn


def grad_data_profile(diags: Sequence[Diagnostics], ax: Axes | None = None,
                      labels: Sequence[str] | None = None) -> list:
    """std(dL/dW^[l]) / std(W^[l]) against the layer l, one line per network. Returns the Line2D list."""
    ax = axes_or_new(ax, (5, 3))
    drawn = []
    for i, d in enumerate(diags):
        label = labels[i] if labels is not None else f"gain {d.gain:.3g}"
        drawn += ax.plot(range(1, len(d.grad_data) + 1), d.grad_data, "o-", ms=3, label=label)
    ax.set(yscale="log", xlabel="layer l", ylabel="std(dL/dW) / std(W)")
    ax.set_xticks(range(1, len(diags[0].grad_data) + 1))
    ax.legend(fontsize=7)
    return drawn


def update_data_curves(diag: Diagnostics, ax: Axes | None = None, *, mean_only: bool = False,
                       label: str | None = None, guide: float = -3.0, smooth: int = 1, **kwargs) -> list:
    """log10(std(lr dL/dW^[l]) / std(W^[l])) against the training step, one line per layer (or their
    mean over layers with ``mean_only``, then averaged over a sliding window of ``smooth`` steps,
    drawn at the window's last step), and Karpathy's guide line at ``guide`` (-3). Returns the lines."""
    ax = axes_or_new(ax, (5, 3))
    ud = np.asarray(diag.update_data)  # (steps, L)
    if mean_only:
        mean = moving_average(ud.mean(axis=1), smooth)
        drawn = ax.plot(np.arange(smooth - 1, ud.shape[0]), mean, lw=1.3, label=label, **kwargs)
    else:
        drawn = []
        for l, colour in enumerate(layer_colours(ud.shape[1]), 1):
            drawn += ax.plot(ud[:, l - 1], color=colour, lw=1.1, label=f"layer {l}")
    if not any(line.get_label() == f"guide: 1e{guide:g}" for line in ax.lines):  # once per Axes
        ax.axhline(guide, color="k", ls="--", lw=1, label=f"guide: 1e{guide:g}")
    ax.set(xlabel="training step", ylabel="log$_{10}$ std(lr·dL/dW) / std(W)")
    ax.legend(fontsize=7)
    return drawn


def clipping_histograms(grad_norms: Sequence[float], max_norm: float, ax: Axes | None = None, bins: int = 30) -> list:
    """Histograms of the global gradient norm ||g|| of every training step before clipping and of
    min(||g||, c) after, on log-spaced bins, with the threshold c marked. Returns the patches."""
    ax = axes_or_new(ax, (5, 3))
    before = np.asarray(grad_norms, dtype=float)
    after = np.minimum(before, max_norm)
    edges = np.logspace(np.log10(before.min()) - 0.05, np.log10(before.max()) + 0.05, bins + 1)
    share = float(np.mean(before > max_norm))
    _, _, p1 = ax.hist(before, bins=edges, alpha=0.6, color="tab:red", label="before clipping")
    _, _, p2 = ax.hist(after, bins=edges, histtype="step", lw=1.6, color="tab:blue", label="after clipping")
    ax.axvline(max_norm, color="k", ls="--", lw=1, label=f"c = {max_norm:g} ({100 * share:.0f}% of steps clipped)")
    ax.set(xscale="log", xlabel="global gradient norm ‖g‖ per step", ylabel="number of steps")
    ax.legend(fontsize=7)
    return list(p1) + list(p2)
