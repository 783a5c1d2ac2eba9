"""Gatys et al.'s network normalisation: every filter's mean activation is 1.

Gatys, Ecker & Bethge (2015, 2016) "normalized the network by scaling the weights such that the
mean activation of each convolutional filter over images and positions is equal to one. Such
re-scaling can be done for the VGG network with rectifying linear activation functions without
changing its output" (up to a per-filter factor, since ReLU(c x) = c ReLU(x) for c > 0).

Why it matters here: the style cost 1/(4 N^2 M^2) sum (G - A)^2 grows with the fourth power of the
activations' scale, so without it some layers dominate J_style by orders of magnitude and the
lambda^[l] = 1/5 of the paper no longer weigh them equally. It matters most for the random-weight
fallback, whose activations shrink layer by layer (average pooling halves their spread each time).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["rescale_to_unit_mean", "calibration_images"]


def calibration_images(size: int = 128) -> Tensor:
    """Offline photos (shipped with installed packages) to measure mean activations on, (4, 3, size, size)."""
    from coursekit.samples import sample_image

    names = ("astronaut", "chelsea", "coffee", "rocket")
    return torch.cat([sample_image(name, size=(size, size)) for name in names])


def rescale_to_unit_mean(net: nn.Sequential, images: Tensor, per: str = "layer") -> list[float]:
    """Scale, in place, each filter feeding a ReLU so its mean activation over ``images`` is 1.

    ``net`` is a (copied) ``features`` stack and ``images`` are already normalised network inputs.
    The filter scaled is the Conv2d, or the BatchNorm2d after it in ``_bn`` variants (scaling a
    conv before BatchNorm would be undone by it). Filters that never fire are left alone.
    ``per="filter"`` is Gatys' rule: one factor per filter. ``per="layer"`` (the default) uses one
    factor per layer, making the layer's mean activation 1 while keeping its filters' relative
    sizes: with random weights, per-filter factors multiply rarely-firing filters by orders of
    magnitude, and those then dominate the deeper layers.
    Returns the mean scale factor of each rescaled layer, for reporting.
    """
    if per not in ("layer", "filter"):
        raise ValueError(f"per must be 'layer' or 'filter', got {per!r}")
    factors = []
    scalable: nn.Module | None = None
    h = images
    with torch.no_grad():
        for module in net:
            h = module(h)
            if isinstance(module, (nn.Conv2d, nn.BatchNorm2d)):
                scalable = module
            elif isinstance(module, nn.ReLU) and scalable is not None:
                mean = h.mean(dim=(0, 2, 3))  # per channel, over images and positions
                if per == "layer":
                    mean = mean.mean().expand_as(mean)
                scale = torch.where(mean > 0, 1.0 / mean.clamp_min(1e-12), torch.ones_like(mean))
                weight = scalable.weight
                scalable.weight.copy_(weight * scale.view(-1, *([1] * (weight.dim() - 1))))
                if scalable.bias is not None:
                    scalable.bias.copy_(scalable.bias * scale)
                h = h * scale.view(1, -1, 1, 1)
                factors.append(float(scale.mean()))
                scalable = None
    return factors
