"""DCGAN generator and discriminator (Radford et al. 2016) for small single-channel images.

The paper's architecture guidelines (Section 3), as followed here:

- no pooling: D downsamples with strided convolutions, G upsamples with transposed convolutions;
- BatchNorm in both networks, except at G's output layer and D's input layer;
- no fully connected hidden layers;
- ReLU in G, tanh on G's output (images live in [-1, 1]); LeakyReLU(0.2) in D;
- every weight drawn from N(0, 0.02) (BatchNorm scales from N(1, 0.02), as in the authors' code).

For an image of S = 4·b pixels (b = 4 for 16 px, b = 7 for 28 px), with widths f = ``g_width``:

    G: z (B, z_dim) -> (z_dim, 1, 1) -ConvT k=b s=1 p=0-> (2f, b, b) -BN, ReLU-
                    -ConvT k=4 s=2 p=1-> (f, 2b, 2b) -BN, ReLU- -ConvT k=4 s=2 p=1-> (C, S, S) -tanh-
    D: (C, S, S) -Conv k=4 s=2 p=1-> (f, 2b, 2b) -LeakyReLU- -Conv k=4 s=2 p=1-> (2f, b, b) -BN, LeakyReLU-
                 -Conv k=b s=1 p=0-> (1, 1, 1) = logit

``upsampling="resize"`` replaces G's two stride-2 transposed convolutions by nearest-neighbour
upsampling x2 followed by a 3x3 convolution (layers ``upN``, ``convN``): Odena et al.'s fix for
checkerboard artefacts (``coursekit.gan.upsampling``), everything else unchanged.

D returns LOGITS (B,), like ``coursekit.gan.models.ToyDiscriminator``, so ``coursekit.gan.losses`` and
``coursekit.gan.train`` work unchanged. The output size of a transposed convolution is
``conv_transpose_output_size`` (the exercise of lesson 07); that of D's convolutions is
``coursekit.models.arithmetic.conv_output_size``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .upsampling import resize_conv

__all__ = ["DCGANConfig", "DCGANGenerator", "DCGANDiscriminator", "make_dcgan", "dcgan_init_",
           "conv_transpose_output_size", "describe_layer", "layer_shapes"]


@dataclass(frozen=True)
class DCGANConfig:
    """Image size S (a multiple of 4, 8 to 64: 16 and 28 are the lessons'), channels C, noise size,
    the widths of G's and D's hidden layers (the inner layer has twice as many channels) and
    whether to use BatchNorm (``batch_norm=False`` is the ablation lesson 07 shows failing), and how G
    doubles its size: ``"transposed"`` (ConvTranspose2d k 4, s 2, p 1, the paper's) or ``"resize"``
    (nearest-neighbour x2, then Conv2d k 3, s 1, p 1; Odena et al. 2016)."""

    image_size: int = 16
    channels: int = 1
    z_dim: int = 32
    g_width: int = 32
    d_width: int = 32
    batch_norm: bool = True
    upsampling: str = "transposed"

    def __post_init__(self) -> None:
        if self.upsampling not in ("transposed", "resize"):
            raise ValueError(f"upsampling must be 'transposed' or 'resize', got {self.upsampling!r}")
        if self.image_size % 4 or not 8 <= self.image_size <= 64:
            raise ValueError(f"image_size must be a multiple of 4 between 8 and 64 (16 or 28, say), "
                             f"got {self.image_size}")
        if min(self.channels, self.z_dim, self.g_width, self.d_width) < 1:
            raise ValueError(f"channels, z_dim, g_width and d_width must be positive, got {self}")

    @property
    def base(self) -> int:
        """b = S / 4: the side of G's first feature map and of D's last one."""
        return self.image_size // 4


def conv_transpose_output_size(n_in: int, kernel: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0) -> int:
    """Side of a ConvTranspose2d output: n_out = (n_in - 1)·s - 2p + k + output_padding.

    (Dilation 1.) The transposed convolution spreads each input pixel over a k x k patch placed
    every s pixels, giving (n_in - 1)·s + k pixels, then crops p from each border.
    """
    return (n_in - 1) * stride - 2 * padding + kernel + output_padding


def _norm(cfg: DCGANConfig, channels: int) -> list[tuple[str, nn.Module]]:
    return [("bn", nn.BatchNorm2d(channels))] if cfg.batch_norm else []


def _double(cfg: DCGANConfig, index: str, c_in: int, c_out: int, bias: bool) -> list[tuple[str, nn.Module]]:
    """Layers that double the side: ("convtN", ConvTranspose2d k 4 s 2 p 1) or ("upN", ...), ("convN", ...)."""
    if cfg.upsampling == "resize":
        return [(name + index, m) for name, m in resize_conv(c_in, c_out, bias=bias)]
    return [("convt" + index, nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias))]


class DCGANGenerator(nn.Module):
    """G: z (B, z_dim) or (B, z_dim, 1, 1) -> images (B, C, S, S) in [-1, 1] (tanh)."""

    def __init__(self, cfg: DCGANConfig = DCGANConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        f, b = cfg.g_width, cfg.base
        bias = not cfg.batch_norm  # BatchNorm's shift makes a conv bias redundant
        layers = [("convt1", nn.ConvTranspose2d(cfg.z_dim, 2 * f, b, 1, 0, bias=bias))]  # (2f, b, b)
        layers += [(n + "1", m) for n, m in _norm(cfg, 2 * f)] + [("relu1", nn.ReLU())]
        layers += _double(cfg, "2", 2 * f, f, bias)  # (f, 2b, 2b)
        layers += [(n + "2", m) for n, m in _norm(cfg, f)] + [("relu2", nn.ReLU())]
        layers += _double(cfg, "3", f, cfg.channels, True) + [("tanh", nn.Tanh())]  # (C, 4b, 4b); no BatchNorm
        self.net = nn.Sequential(OrderedDict(layers))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.reshape(z.shape[0], self.cfg.z_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """D: images (B, C, S, S) -> logits (B,); D(x) = sigmoid(logit)."""

    def __init__(self, cfg: DCGANConfig = DCGANConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        f, b = cfg.d_width, cfg.base
        layers = [("conv1", nn.Conv2d(cfg.channels, f, 4, 2, 1)),  # (f, 2b, 2b); no BatchNorm at the input
                  ("lrelu1", nn.LeakyReLU(0.2)),
                  ("conv2", nn.Conv2d(f, 2 * f, 4, 2, 1, bias=not cfg.batch_norm))]  # (2f, b, b)
        layers += [(n + "2", m) for n, m in _norm(cfg, 2 * f)] + [("lrelu2", nn.LeakyReLU(0.2))]
        layers += [("conv3", nn.Conv2d(2 * f, 1, b, 1, 0))]  # (1, 1, 1)
        self.net = nn.Sequential(OrderedDict(layers))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).reshape(x.shape[0])


def dcgan_init_(module: nn.Module, generator: torch.Generator | None = None, std: float = 0.02) -> nn.Module:
    """In place: conv weights ~ N(0, std), BatchNorm scales ~ N(1, std), biases 0 (Radford et al.)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std, generator=generator)
            nn.init.zeros_(m.bias)
    return module


def make_dcgan(cfg: DCGANConfig = DCGANConfig(), seed: int = 0) -> tuple[DCGANDiscriminator, DCGANGenerator]:
    """(D, G) built from ``cfg`` and initialised from ``seed`` (the global RNG is not used)."""
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # the layers' own default init draws from the global RNG
        D = dcgan_init_(DCGANDiscriminator(cfg), g)
        G = dcgan_init_(DCGANGenerator(cfg), g)
    return D, G


def describe_layer(layer: nn.Module) -> str:
    """Short text for a DCGAN layer: 'ConvTranspose2d 64->32, k 4, s 2, p 1', 'BatchNorm2d(32)', 'LeakyReLU(0.2)'."""
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        return (f"{type(layer).__name__} {layer.in_channels}->{layer.out_channels}, k {layer.kernel_size[0]}, "
                f"s {layer.stride[0]}, p {layer.padding[0]}")
    if isinstance(layer, nn.Upsample):
        return f"Upsample x{layer.scale_factor:g} ({layer.mode})"
    if isinstance(layer, nn.BatchNorm2d):
        return f"BatchNorm2d({layer.num_features})"
    if isinstance(layer, nn.LeakyReLU):
        return f"LeakyReLU({layer.negative_slope})"
    return f"{type(layer).__name__}()"


def layer_shapes(model: nn.Module, x: Tensor) -> list[tuple[str, str, tuple[int, ...]]]:
    """[(layer name, ``describe_layer`` text, output shape)] for each layer of ``model.net`` on input x.

    Runs in eval mode under no_grad (BatchNorm statistics are not touched), then restores the mode.
    """
    was_training = model.training
    model.eval()
    rows = []
    try:
        with torch.no_grad():
            if isinstance(model, DCGANGenerator):
                x = x.reshape(x.shape[0], model.cfg.z_dim, 1, 1)
            rows.append(("input", "", tuple(x.shape)))
            for name, layer in model.net.named_children():
                x = layer(x)
                rows.append((name, describe_layer(layer), tuple(x.shape)))
    finally:
        model.train(was_training)
    return rows
