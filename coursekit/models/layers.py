"""Layer names <-> indices in ``model.features``: the one place this mapping lives.

Names follow the VGG paper / Caffe convention used by Gatys et al. (2015):
``conv{block}_{i}``, ``bn{block}_{i}`` (``_bn`` variants only), ``relu{block}_{i}`` and
``pool{block}``, generated from the config tables in :mod:`coursekit.models.vgg`, so
vgg19 reads conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ... and vgg11 reads
conv1_1, relu1_1, pool1, conv2_1, relu2_1, pool2, conv3_1, ...

AlexNet has no blocks: conv1, relu1, pool1, conv2, relu2, pool2, conv3, relu3, conv4,
relu4, conv5, relu5, pool5 (a pool is numbered after the conv before it).

Careful readers of old code: Caffe's ReLU is in place, so a "conv4_2" feature read from
a Caffe (or torchvision ``inplace=True``) VGG is really relu4_2. Here names mean what
they say.
"""

import difflib
import re

from torch import nn

from coursekit.models.alexnet import alexnet_cfg
from coursekit.models.vgg import cfgs, vgg_archs

__all__ = ["architectures", "layer_names", "layer_index", "layer_kind", "infer_arch"]


def architectures() -> list[str]:
    """All architecture names with a layer table: ``["alexnet", "vgg11", "vgg11_bn", ...]``."""
    return ["alexnet", *vgg_archs]


def _check_arch(arch: str) -> None:
    if arch not in architectures():
        hint = difflib.get_close_matches(str(arch), architectures(), n=1)
        did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(f"unknown architecture {arch!r}; choose one of {architectures()}.{did_you_mean}")


def layer_names(arch: str) -> list[str]:
    """Names of ``model.features[i]`` for i = 0, 1, ..., in order, for architecture ``arch``."""
    _check_arch(arch)
    names: list[str] = []
    if arch == "alexnet":
        conv = 0
        for v in alexnet_cfg:
            if v == "M":
                names.append(f"pool{conv}")
            else:
                conv += 1
                names += [f"conv{conv}", f"relu{conv}"]
        return names
    cfg, batch_norm = vgg_archs[arch]
    block, i = 1, 0
    for v in cfgs[cfg]:
        if v == "M":
            names.append(f"pool{block}")
            block, i = block + 1, 0
        else:
            i += 1
            names += [f"conv{block}_{i}", *([f"bn{block}_{i}"] if batch_norm else []), f"relu{block}_{i}"]
    return names


def layer_index(arch: str, name: str) -> int:
    """Index in ``model.features`` of the layer called ``name`` (e.g. vgg19 "conv4_2" -> 21)."""
    names = layer_names(arch)
    if name not in names:
        hint = difflib.get_close_matches(str(name), names, n=1)
        did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(f"{arch} has no layer {name!r}.{did_you_mean} Valid names: {', '.join(names)}")
    return names.index(name)


def layer_kind(name: str) -> str:
    """The kind of a layer from its name: "conv", "bn", "relu" or "pool"."""
    match = re.match(r"(conv|bn|relu|pool)\d", name)
    if match is None:
        raise ValueError(f"{name!r} is not a layer name like 'conv4_2', 'relu1', 'bn2_1' or 'pool5'")
    return match.group(1)


_MODULE_KINDS: dict[type, str] = {
    nn.Conv2d: "conv",
    nn.BatchNorm2d: "bn",
    nn.ReLU: "relu",
    nn.MaxPool2d: "pool",
    nn.AvgPool2d: "pool",
}


def infer_arch(features: nn.Sequential) -> str:
    """The architecture whose layer table matches ``features`` module by module.

    Works for torchvision's models too (they carry no ``arch`` attribute). The sequence
    of layer kinds identifies the architecture: the ten tables all differ in length.
    """
    kinds = [_MODULE_KINDS.get(type(m), type(m).__name__) for m in features]
    for arch in architectures():
        if kinds == [layer_kind(n) for n in layer_names(arch)]:
            return arch
    raise ValueError(
        f"these features ({len(kinds)} modules: {', '.join(kinds[:6])}, ...) match none of "
        f"{architectures()}; pass a coursekit or torchvision AlexNet/VGG model"
    )
