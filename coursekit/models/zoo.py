"""Named constructors ``alexnet``, ``vgg11`` ... ``vgg19_bn`` and ``get_model(name)``.

Every constructor goes through :func:`build`:

1. :func:`coursekit.models.weights.resolve_weights` decides where weights come from;
2. the architecture is built on the meta device (no memory, no RNG use; milliseconds);
3. it is materialised on the CPU and either loaded from the state_dict (checked first,
   so a wrong file gives a readable ValueError) or initialised from ``seed``.

Torch's global RNG is never consumed, and the model carries ``arch``,
``weights_source`` and ``pretrained`` for a lesson's banner.
"""

import difflib
from collections.abc import Mapping

import torch
from torch import nn
from torchvision.models import WeightsEnum

from coursekit.models.alexnet import AlexNet
from coursekit.models.vgg import VGG, build_vgg, vgg_archs
from coursekit.models.weights import WeightsSpec, init_weights_, resolve_weights, state_dict_problems

__all__ = [
    "model_names",
    "skeleton",
    "build",
    "get_model",
    "alexnet",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
]


def model_names() -> list[str]:
    """Names accepted by :func:`get_model`: ``["alexnet", "vgg11", "vgg11_bn", ..., "vgg19_bn"]``."""
    return ["alexnet", *vgg_archs]


def _check_name(name: str) -> None:
    if name not in model_names():
        hint = difflib.get_close_matches(str(name).lower(), model_names(), n=1)
        did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(f"unknown model {name!r}.{did_you_mean} Choose one of {model_names()}.")


def skeleton(arch: str, *, num_classes: int = 1000) -> nn.Module:
    """The architecture ``arch`` on the meta device: names and shapes, no memory, no weights.

    Handy for printing a network or counting parameters instantly
    (``sum(p.numel() for p in skeleton("vgg19").parameters())``).
    """
    _check_name(arch)
    with torch.random.fork_rng(devices=[]), torch.device("meta"):
        return AlexNet(num_classes) if arch == "alexnet" else build_vgg(arch, num_classes)


def _guess_arch(state_dict: Mapping[str, torch.Tensor]) -> str | None:
    """``"arch (num_classes=N)"`` for the architecture whose keys and shapes ``state_dict`` fits exactly, if any."""
    head = state_dict.get("classifier.6.weight")  # last Linear in both AlexNet and VGG: (num_classes, 4096)
    num_classes = head.shape[0] if isinstance(head, torch.Tensor) and head.ndim == 2 else 1000
    for name in model_names():
        if not state_dict_problems(skeleton(name, num_classes=num_classes), state_dict):
            return f"{name} (num_classes={num_classes})"
    return None


def build(
    arch: str, *, weights: WeightsSpec = None, progress: bool = True, seed: int = 0, num_classes: int = 1000
) -> nn.Module:
    """Build ``arch`` with weights from ``weights`` (see :func:`resolve_weights`) or seeded random init."""
    _check_name(arch)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int; got {seed!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int; got {num_classes!r}")
    wants_imagenet = (isinstance(weights, str) and weights.lower() == "imagenet") or isinstance(weights, WeightsEnum)
    if wants_imagenet and num_classes != 1000:
        raise ValueError(
            f"num_classes={num_classes} does not fit ImageNet weights (1000 classes); build with "
            f"num_classes=1000 and then replace model.classifier[-1] with nn.Linear(4096, {num_classes})"
        )
    state_dict, source = resolve_weights(arch, weights, progress=progress, seed=seed)
    model = skeleton(arch, num_classes=num_classes)
    if state_dict is not None:
        problems = state_dict_problems(model, state_dict)
        if problems:
            guess = _guess_arch(state_dict)
            looks_like = f" It looks like a checkpoint of {guess}." if guess else ""
            raise ValueError(
                f"weights from {source} do not fit {arch} (num_classes={num_classes}): "
                f"{'; '.join(problems)}.{looks_like} Pass a state_dict of coursekit.models.{arch}() "
                f"or torchvision.models.{arch}()."
            )
    model = model.to_empty(device="cpu")
    if state_dict is None:
        init_weights_(model, seed)
    else:
        model.load_state_dict(state_dict, strict=True)
    model.arch = arch
    model.weights_source = source
    model.pretrained = state_dict is not None
    return model


def get_model(name: str, **kwargs) -> nn.Module:
    """Build a model by name, e.g. ``get_model("vgg19", weights="imagenet")``; kwargs as for :func:`build`."""
    return build(name, **kwargs)


def alexnet(*, weights: WeightsSpec = None, progress: bool = True, seed: int = 0, num_classes: int = 1000) -> AlexNet:
    """AlexNet (torchvision's one-weird-trick variant). ``weights``: None, "imagenet", a .pth path or enum."""
    return build("alexnet", weights=weights, progress=progress, seed=seed, num_classes=num_classes)


def vgg11(*, weights: WeightsSpec = None, progress: bool = True, seed: int = 0, num_classes: int = 1000) -> VGG:
    """VGG11 (config "A"). ``weights``: None, "imagenet", a .pth path or a torchvision enum member."""
    return build("vgg11", weights=weights, progress=progress, seed=seed, num_classes=num_classes)


def vgg11_bn(*, weights: WeightsSpec = None, progress: bool = True, seed: int = 0, num_classes: int = 1000) -> VGG:
    """VGG11 with BatchNorm after every conv."""
    return build("vgg11_bn", weights=weights, progress=progress, seed=seed, num_classes=num_classes)


def vgg13(*, weights: WeightsSpec = None, progress: bool = True, seed: int = 0, num_classes: int = 1000) -> VGG:
    """VGG13 (config "B")."""
    return build("vgg13", weights=weights, progress=progress, seed=seed, num_classes=num_classes)


def vgg13_bn(*, weights: WeightsSpec = None, progress: bool = True, seed: int = 0, num_classes: int = 1000) -> VGG:
    """VGG13 with BatchNorm after every conv."""
    return build("vgg13_bn", weights=weights, progress=progress, seed=seed, num_classes=num_classes)


def vgg16(*, weights: WeightsSpec = None, progress: bool = True, seed: int = 0, num_classes: int = 1000) -> VGG:
    """VGG16 (config "D")."""
    return build("vgg16", weights=weights, progress=progress, seed=seed, num_classes=num_classes)


def vgg16_bn(*, weights: WeightsSpec = None, progress: bool = True, seed: int = 0, num_classes: int = 1000) -> VGG:
    """VGG16 with BatchNorm after every conv."""
    return build("vgg16_bn", weights=weights, progress=progress, seed=seed, num_classes=num_classes)


def vgg19(*, weights: WeightsSpec = None, progress: bool = True, seed: int = 0, num_classes: int = 1000) -> VGG:
    """VGG19 (config "E"), the network of Gatys et al. (2015) style transfer."""
    return build("vgg19", weights=weights, progress=progress, seed=seed, num_classes=num_classes)


def vgg19_bn(*, weights: WeightsSpec = None, progress: bool = True, seed: int = 0, num_classes: int = 1000) -> VGG:
    """VGG19 with BatchNorm after every conv."""
    return build("vgg19_bn", weights=weights, progress=progress, seed=seed, num_classes=num_classes)

