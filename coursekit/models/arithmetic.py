"""Convolution arithmetic: output sizes, parameter counts and receptive fields, as plain functions.

The formulas of lesson 08 (and of Dumoulin & Visin 2016, "A guide to convolution arithmetic";
Araujo et al. 2019, "Computing receptive fields of convolutional neural networks"):

- output size of a convolution or pooling along one axis: n_out = floor((n + 2p - k) / s) + 1;
- parameters of a convolution: (C_in * k * k / groups + 1) * C_out (the +1 is the bias);
- receptive field, layer after layer, from r_0 = 1, j_0 = 1, start_0 = 0 (pixel i has centre i):
  r_out = r_in + (k - 1) * j_in,  j_out = j_in * s,  start_out = start_in + ((k - 1) / 2 - p) * j_in.

``r`` is the side of the square of input pixels one unit sees, ``j`` (the "jump") the distance in
input pixels between neighbouring units, ``start`` the centre of the first unit's field.
:func:`coursekit.models.summary.summarize` applies them to every layer of AlexNet and VGG.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "conv_output_size",
    "conv_output_exact",
    "conv_params",
    "vgg_param_count",
    "Field",
    "receptive_field_step",
    "receptive_fields",
    "receptive_field",
]


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return value


def conv_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """n_out = floor((n + 2 * padding - kernel) / stride) + 1, for one spatial axis.

    Holds for convolutions and pooling alike (PyTorch's default ``ceil_mode=False``). E.g.
    AlexNet's conv1 on 224 pixels: floor((224 + 4 - 11) / 4) + 1 = 55; a 2x2 pool of stride 2
    halves an even size. ValueError if the kernel does not fit in the padded input.
    """
    for name, value, minimum in (("n", n, 1), ("kernel", kernel, 1), ("stride", stride, 1), ("padding", padding, 0)):
        _check_int(name, value, minimum)
    if n + 2 * padding < kernel:
        raise ValueError(f"a kernel of {kernel} does not fit into {n} pixels padded by {padding} on each side")
    return (n + 2 * padding - kernel) // stride + 1


def conv_output_exact(n: int, kernel: int, stride: int = 1, padding: int = 0) -> Fraction:
    """(n + 2 * padding - kernel) / stride + 1 as an exact fraction, before the floor of :func:`conv_output_size`.

    An integer result means the windows tile the padded input exactly. AlexNet's conv1 (k = 11,
    s = 4, no padding): 227 pixels give (227 - 11) / 4 + 1 = 55 exactly; the 224 the 2012 paper
    states give 217/4 = 54.25 (no whole number of windows); torchvision pads 224 by 2 on each side:
    (224 + 4 - 11) / 4 + 1 = 221/4 = 55.25, floored to 55 windows, which span (55 - 1) * 4 + 11 = 227
    of the 228 padded pixels (the last padding column is never read).
    """
    return Fraction(n + 2 * padding - kernel, stride) + 1


def conv_params(in_channels: int, out_channels: int, kernel: int, *, bias: bool = True, groups: int = 1) -> int:
    """Parameters of a k x k ``Conv2d``: C_out * (C_in / groups) * k * k weights + C_out biases."""
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")
    return out_channels * (in_channels // groups) * kernel * kernel + (out_channels if bias else 0)


def vgg_param_count(
    cfg: Sequence[int | str], in_channels: int = 3, classifier: bool = False, num_classes: int = 1000
) -> int:
    """Parameters of a VGG built from a config list such as ``[64, "M", 128, "M", 256, 256, "M"]``.

    Every int c is a 3x3 convolution (padding 1) from the previous channel count to c, with a
    bias: (9 * C_in + 1) * c parameters; the first one reads ``in_channels``. ``"M"`` (a 2x2 max
    pool) has none. With ``classifier=False`` the result is the convolutional part only
    (``model.features``); with ``classifier=True`` it adds torchvision's head, fed by the last
    conv's C_last channels average-pooled to 7x7: Linear(C_last * 7 * 7, 4096), Linear(4096, 4096)
    and Linear(4096, num_classes), each with a bias. No batch norm. VGG16 ("D", 3 channels,
    1000 classes): 14,714,688 conv + 123,642,856 head = 138,357,544.
    """
    total, c_in = 0, in_channels
    for v in cfg:
        if v == "M":
            continue
        total += conv_params(c_in, int(v), 3)
        c_in = int(v)
    if classifier:
        total += (c_in * 7 * 7 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * num_classes
    return total


@dataclass(frozen=True)
class Field:
    """Receptive field of a unit: side ``r`` in input pixels, ``jump`` between units, ``start`` (first centre)."""

    r: int
    jump: int
    start: float


def receptive_field_step(field: Field, kernel: int, stride: int = 1, padding: int = 0) -> Field:
    """One layer of the recursion: r + (k - 1) j, j * s, start + ((k - 1) / 2 - p) j."""
    return Field(
        r=field.r + (kernel - 1) * field.jump,
        jump=field.jump * stride,
        start=field.start + ((kernel - 1) / 2 - padding) * field.jump,
    )


def receptive_fields(layers: Sequence[Sequence[int]]) -> list[Field]:
    """The field after each layer of ``layers``, a list of (kernel, stride) or (kernel, stride, padding)."""
    field, out = Field(1, 1, 0.0), []
    for layer in layers:
        field = receptive_field_step(field, *layer)
        out.append(field)
    return out


def receptive_field(layers: Sequence[Sequence[int]]) -> int:
    """Receptive field r (in input pixels) of one unit after a stack of (kernel, stride) layers.

    r_0 = 1, j_0 = 1; for each layer r <- r + (k - 1) * j, then j <- j * s. E.g. two 3x3 convs:
    [(3, 1), (3, 1)] -> 5; VGG's block 1 with its pool, [(3, 1), (3, 1), (2, 2)] -> 6. An empty
    list gives 1 (a pixel sees itself).
    """
    r, j = 1, 1
    for kernel, stride, *_ in layers:
        r += (kernel - 1) * j
        j *= stride
    return r
