"""ImageNet-scale costs per layer: parameters, activation memory and multiply-adds (CS231n's table, summed honestly).

The rows come from :func:`coursekit.models.summary.summarize` (pure arithmetic, no forward pass),
applied to torchvision's own architectures built without weights (:func:`torchvision_skeleton`),
so the parameter counts are torchvision's: VGG-16 138,357,544, AlexNet 61,100,840.

What is counted, for one 3 x 224 x 224 image:

- **activation values**: the numbers in the input and in the output of every convolution (its ReLU
  works in place, so it adds no second copy), pooling and fully connected layer, the rows of
  CS231n's VGG-16 table ("CS231n Convolutional Neural Networks for Visual Recognition", notes on
  ConvNet architectures). The adaptive average pool, an identity at 224 pixels (pool5 is already
  7 x 7, or 6 x 6 for AlexNet), is left out, as there. Bytes = values x 4 at float32 (MB = 10^6 bytes), for the forward
  pass; training keeps about as much again for the backward pass;
- **parameters** and **multiply-adds** as in ``summarize``: (k^2 C_in / groups + 1) C_out and
  C_out H_out W_out C_in k^2 / groups per convolution, (a + 1) b and a b per Linear(a, b).

CS231n's notes quote "TOTAL memory: 24M" for VGG-16, but the rows of their own table sum to about
15.2 M values (:func:`activation_values` gives 15,237,608); 138 M parameters is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torchvision
from torch import nn

from coursekit.models.summary import Summary, format_count, summarize
from coursekit.plots import axes_or_new

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CostRow", "torchvision_skeleton", "imagenet_summary", "cost_rows", "activation_values",
           "cost_table", "part_shares", "plot_part_shares"]


def torchvision_skeleton(arch: str) -> nn.Module:
    """``torchvision.models.<arch>(weights=None)`` built on the meta device: no download, no memory, instant."""
    if not hasattr(torchvision.models, arch):
        raise ValueError(f"torchvision.models has no architecture {arch!r} (try 'alexnet' or 'vgg16')")
    with torch.random.fork_rng(devices=[]), torch.device("meta"):
        return getattr(torchvision.models, arch)(weights=None)


def imagenet_summary(arch: str, input_size: int = 224) -> Summary:
    """:func:`summarize` of torchvision's ``arch`` (e.g. "vgg16", "alexnet") for a 3 x ``input_size``^2 image."""
    summary = summarize(torchvision_skeleton(arch), input_size)
    return Summary(arch, summary.input_shape, summary.rows)


@dataclass(frozen=True)
class CostRow:
    """One row of the cost table: ``values`` is the number of activations the layer's output holds."""

    name: str
    shape: tuple[int, ...]
    params: int
    values: int
    macs: int
    part: str  # "input", "features" (conv and pool) or "classifier" (fc)


def _numel(shape: tuple[int, ...]) -> int:
    total = 1
    for n in shape:
        total *= n
    return total


def cost_rows(summary: Summary) -> list[CostRow]:
    """The input, then every conv, pool and fc row of ``summary`` (no identity avgpool, no ReLU/dropout)."""
    rows = [CostRow("input", summary.input_shape, 0, _numel(summary.input_shape), 0, "input")]
    previous = summary.input_shape
    for r in summary:
        if r.kind == "avgpool" and r.shape == previous:
            continue  # an identity at this input size: nothing new is stored
        if r.kind in ("conv", "pool", "avgpool", "fc", "bn", "lrn"):
            rows.append(CostRow(r.name, r.shape, r.params, r.activations, r.macs, r.part))
        previous = r.shape
    return rows


def activation_values(summary: Summary) -> int:
    """Activation values one image stores in a forward pass: the sum of :func:`cost_rows`'s ``values``."""
    return sum(r.values for r in cost_rows(summary))


def cost_table(summary: Summary) -> str:
    """Per-layer table (output shape, values, parameters, multiply-adds), then the honest totals."""
    head = f"{'layer':<8}{'output':>13}{'values':>11}{'params':>13}{'MACs':>10}"
    lines = [head, "-" * len(head)]
    rows = cost_rows(summary)
    for r in rows:
        lines.append(f"{r.name:<8}{'x'.join(map(str, r.shape)):>13}{r.values:>11,}{r.params:>13,}"
                     f"{format_count(r.macs):>10}")
    values = sum(r.values for r in rows)
    lines += ["-" * len(head),
              f"total   {values:>24,}{summary.params:>13,}{format_count(summary.macs):>10}",
              f"{summary.arch}: {values / 1e6:.2f} M activation values = {4 * values / 1e6:.0f} MB per image at float32 "
              f"(forward only); {summary.params / 1e6:.1f} M parameters = {4 * summary.params / 1e6:.0f} MB; "
              f"{summary.macs / 1e9:.2f} G multiply-adds"]
    return "\n".join(lines)


def part_shares(summary: Summary) -> dict[str, float]:
    """Fractions of the parameters and of the multiply-adds in the convolutional part (``features``).

    The fully connected part (``classifier``) holds the rest: 1 - share.
    """
    return {"parameters": summary.conv_params / summary.params, "multiply-adds": summary.conv_macs / summary.macs}


def plot_part_shares(summaries: list[Summary], ax: Axes | None = None) -> Axes:
    """Horizontal 100 % bars, one per network and quantity: convolutional share (blue) and fc share (orange).

    Each bar's tick label gives the total and both shares. Returns ``ax``.
    """
    ax = axes_or_new(ax, (7, 0.6 + 0.55 * 2 * len(summaries)))
    labels, conv = [], []
    for s in summaries:
        for what, share in part_shares(s).items():
            total = format_count(s.params if what == "parameters" else s.macs)
            labels.append(f"{s.arch}: {what} ({total})\nconv {100 * share:.1f} % | fc {100 - 100 * share:.1f} %")
            conv.append(100 * share)
    y = list(range(len(labels)))[::-1]
    ax.barh(y, conv, color="#9ecae1", edgecolor="k", label="convolutions (features)")
    ax.barh(y, [100 - c for c in conv], left=conv, color="#fdae6b", edgecolor="k",
            label="fully connected (classifier)")
    for yi, c in zip(y, conv):  # in-bar labels only where they fit; the tick labels carry every number
        for centre, width in ((c / 2, c), (c + (100 - c) / 2, 100 - c)):
            if width >= 12:
                ax.text(centre, yi, f"{width:.1f} %", ha="center", va="center", color="k", fontsize=9)
    ax.set_yticks(y, labels, fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of the network's total (%)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25 if len(summaries) < 3 else -0.15), ncol=2,
              fontsize=9, frameon=False)
    return ax
