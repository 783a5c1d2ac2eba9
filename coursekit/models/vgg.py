"""VGG as a config table plus one builder.

Simonyan & Zisserman (2015), "Very Deep Convolutional Networks for Large-Scale Image
Recognition", Table 1: every column (A, B, D, E) is a list of 3x3 convolutions
(the number is the output channel count) and 2x2 max-pools ("M").

The layout follows torchvision's ``models/vgg.py`` exactly, so the attribute names
``features``, ``avgpool`` and ``classifier`` (a contract) give the same
``state_dict`` keys and torchvision's weights load with ``strict=True``. Two
deliberate differences:

- ``nn.ReLU(inplace=False)`` everywhere: an in-place ReLU overwrites the conv output
  it follows, so a feature read at ``conv4_2`` would silently be ``relu4_2``.
- ``VGG.__init__`` does not initialise weights; :func:`coursekit.models.weights.init_weights_`
  does it from a seeded local generator (reproducible, global RNG untouched).

Named, seeded constructors (``vgg19(weights="imagenet")``) live in
:mod:`coursekit.models.zoo`.
"""

import torch
from torch import nn

__all__ = ["cfgs", "vgg_archs", "make_layers", "VGG", "build_vgg"]

# Paper Table 1 columns. int = 3x3 conv (padding 1) with that many output channels, "M" = 2x2 max-pool.
cfgs: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}

# arch name -> (column of cfgs, batch norm after every conv?)
vgg_archs: dict[str, tuple[str, bool]] = {
    "vgg11": ("A", False),
    "vgg11_bn": ("A", True),
    "vgg13": ("B", False),
    "vgg13_bn": ("B", True),
    "vgg16": ("D", False),
    "vgg16_bn": ("D", True),
    "vgg19": ("E", False),
    "vgg19_bn": ("E", True),
}


def make_layers(cfg: list[int | str], batch_norm: bool = False) -> nn.Sequential:
    """Build ``features``: conv3x3 (+ BatchNorm) + ReLU per number, MaxPool2d(2, 2) per "M".

    Each conv keeps H and W (kernel 3, padding 1); each pool halves them, so a
    (B, 3, 224, 224) input leaves the five-pool networks as (B, 512, 7, 7).
    """
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        if not isinstance(v, int):
            raise ValueError(f"VGG config entries must be channel counts (int) or 'M'; got {v!r}")
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=False))
        in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG: ``features`` -> ``avgpool`` to 7x7 -> 3-layer MLP ``classifier``.

    Shapes: (B, 3, H, W) -> features (B, 512, H/32, W/32) -> avgpool (B, 512, 7, 7)
    -> flatten (B, 25088) -> classifier (B, num_classes). The adaptive pool lets
    inputs smaller or larger than 224x224 through (min 32x32).
    """

    def __init__(self, features: nn.Sequential, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=False),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=False),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (B, 512, h, w)
        x = self.avgpool(x)  # (B, 512, 7, 7)
        x = torch.flatten(x, 1)  # (B, 25088)
        return self.classifier(x)  # (B, num_classes)


def build_vgg(arch: str, num_classes: int = 1000) -> VGG:
    """The bare architecture ``arch`` (e.g. "vgg19_bn") on the current default device, weights uninitialised."""
    if arch not in vgg_archs:
        raise ValueError(f"unknown VGG architecture {arch!r}; choose one of {sorted(vgg_archs)}")
    cfg, batch_norm = vgg_archs[arch]
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), num_classes=num_classes)
