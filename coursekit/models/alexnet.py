"""AlexNet as a config table plus one builder, state_dict-compatible with torchvision.

This is torchvision's variant: the single-GPU network of Krizhevsky (2014), "One weird
trick for parallelizing convolutional neural networks" (64/192/384/256/256 channels),
not the two-tower network of Krizhevsky, Sutskever & Hinton (2012) with 96 first-layer
filters. The pools overlap (kernel 3, stride 2; 2012 paper §3.4).

As in :mod:`coursekit.models.vgg`, every ReLU is ``inplace=False`` and weights are
initialised elsewhere (:func:`coursekit.models.weights.init_weights_`).
"""

import torch
from torch import nn

__all__ = ["alexnet_cfg", "make_alexnet_layers", "AlexNet"]

# (out_channels, kernel, stride, padding) per conv (each followed by ReLU); "M" = MaxPool2d(3, stride=2).
alexnet_cfg: list[tuple[int, int, int, int] | str] = [
    (64, 11, 4, 2),
    "M",
    (192, 5, 1, 2),
    "M",
    (384, 3, 1, 1),
    (256, 3, 1, 1),
    (256, 3, 1, 1),
    "M",
]


def make_alexnet_layers(cfg: list[tuple[int, int, int, int] | str] = alexnet_cfg) -> nn.Sequential:
    """Build ``features`` from ``cfg``: Conv2d + ReLU per tuple, overlapping MaxPool2d(3, 2) per "M".

    Output size per conv: floor((H + 2*padding - kernel) / stride) + 1; a (B, 3, 224, 224)
    input leaves as (B, 256, 6, 6).
    """
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=3, stride=2))
            continue
        out_channels, kernel, stride, padding = v
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=kernel, stride=stride, padding=padding))
        layers.append(nn.ReLU(inplace=False))
        in_channels = out_channels
    return nn.Sequential(*layers)


class AlexNet(nn.Module):
    """AlexNet: ``features`` -> ``avgpool`` to 6x6 -> dropout MLP ``classifier``.

    Shapes: (B, 3, H, W) -> features (B, 256, h, w) -> avgpool (B, 256, 6, 6)
    -> flatten (B, 9216) -> classifier (B, num_classes). Needs H, W >= 63.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = make_alexnet_layers(alexnet_cfg)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=False),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=False),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (B, 256, h, w)
        x = self.avgpool(x)  # (B, 256, 6, 6)
        x = torch.flatten(x, 1)  # (B, 9216)
        return self.classifier(x)  # (B, num_classes)
