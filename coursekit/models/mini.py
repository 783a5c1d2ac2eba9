"""Miniature AlexNet-style and VGG-style networks for 16x16 digits, from config tables.

They keep each design's signature at a size a laptop CPU trains in seconds (lesson 08):

- ``mini_alexnet``: one large 5x5 first kernel, overlapping 3x3 pools of stride 2, then three
  3x3 convs; dropout in the head. ``mini_alexnet_lrn`` adds the 2012 paper's local response
  normalisation after the first two convs (torchvision's AlexNet, like coursekit's, has none).
- ``mini_vgg``: only 3x3 convolutions (padding 1) stacked in pairs, 2x2 pools of stride 2; the
  same dropout head.

Both have torchvision's layout, ``features`` -> ``avgpool`` -> ``classifier``, so
:func:`coursekit.models.summary.summarize` reads them like the big ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["MiniConfig", "mini_cfgs", "make_mini_layers", "MiniNet", "build_mini"]

# Feature entries: int c = 3x3 conv (padding 1) to c channels; (c, k, s, p) = k x k conv, stride s,
# padding p; "M2" = MaxPool2d(2, 2); "M3" = MaxPool2d(3, 2) (overlapping, AlexNet §3.4);
# "LRN" = LocalResponseNorm with AlexNet's n=5, alpha=1e-4, beta=0.75, k=2 (§3.3): PyTorch divides its alpha by
# n and the paper does not, so the paper's alpha is alpha=5e-4 here. Each conv has a ReLU.
LayerSpec = int | tuple[int, int, int, int] | str


@dataclass(frozen=True)
class MiniConfig:
    """A mini network: ``features`` table, ``pooled`` side after the adaptive pool, ``hidden`` width of the head."""

    features: tuple[LayerSpec, ...]
    pooled: int
    hidden: int = 128
    dropout: float = 0.5


mini_cfgs: dict[str, MiniConfig] = {
    # AlexNet's pool5 is left out: on 16 pixels a third overlapping pool would leave 1x1.
    "mini_alexnet": MiniConfig(
        ((24, 5, 1, 2), "M3", (48, 3, 1, 1), "M3", (64, 3, 1, 1), (64, 3, 1, 1), (48, 3, 1, 1)), pooled=3
    ),
    # The same with the 2012 paper's local response normalisation after conv1 and conv2.
    "mini_alexnet_lrn": MiniConfig(
        ((24, 5, 1, 2), "LRN", "M3", (48, 3, 1, 1), "LRN", "M3", (64, 3, 1, 1), (64, 3, 1, 1), (48, 3, 1, 1)),
        pooled=3,
    ),
    "mini_vgg": MiniConfig((16, 16, "M2", 32, 32, "M2", 64, 64, "M2"), pooled=2),
}


def make_mini_layers(cfg: tuple[LayerSpec, ...], in_channels: int = 1) -> tuple[nn.Sequential, int]:
    """``(features, out_channels)`` built from a table of :data:`LayerSpec` entries."""
    layers: list[nn.Module] = []
    c = in_channels
    for v in cfg:
        if v == "M2":
            layers.append(nn.MaxPool2d(2, 2))
        elif v == "M3":
            layers.append(nn.MaxPool2d(3, 2))
        elif v == "LRN":
            layers.append(nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0))
        elif isinstance(v, int) and not isinstance(v, bool):
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
            c = v
        elif isinstance(v, tuple) and len(v) == 4:
            out, k, s, p = v
            layers += [nn.Conv2d(c, out, k, stride=s, padding=p), nn.ReLU()]
            c = out
        else:
            raise ValueError(
                f"unknown layer spec {v!r}: use an int, (out, kernel, stride, padding), 'M2', 'M3' or 'LRN'"
            )
    return nn.Sequential(*layers), c


class MiniNet(nn.Module):
    """(B, C, H, W) -> features -> avgpool (B, c, pooled, pooled) -> dropout MLP -> (B, num_classes) logits."""

    def __init__(self, cfg: MiniConfig, in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        self.features, c = make_mini_layers(cfg.features, in_channels)
        self.avgpool = nn.AdaptiveAvgPool2d((cfg.pooled, cfg.pooled))
        self.classifier = nn.Sequential(
            nn.Dropout(cfg.dropout),
            nn.Linear(c * cfg.pooled * cfg.pooled, cfg.hidden),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))  # (B, c, pooled, pooled)
        return self.classifier(torch.flatten(x, 1))  # (B, num_classes)


def build_mini(name: str, *, seed: int = 0, in_channels: int = 1, num_classes: int = 10) -> MiniNet:
    """A network of :data:`mini_cfgs` (``mini_alexnet``, ``mini_alexnet_lrn``, ``mini_vgg``).

    PyTorch's default init, drawn from ``seed``; torch's global RNG is left as it was.
    """
    if name not in mini_cfgs:
        raise ValueError(f"unknown mini network {name!r}; choose one of {sorted(mini_cfgs)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MiniNet(mini_cfgs[name], in_channels, num_classes)
    model.arch = name
    return model
