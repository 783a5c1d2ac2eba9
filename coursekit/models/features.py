"""Read named intermediate feature maps of AlexNet/VGG, as used for style transfer.

``FeatureExtractor(model, ["conv1_1", "conv4_2"])(x)`` returns
``{"conv1_1": (B, 64, H, W), "conv4_2": (B, 512, H/8, W/8)}`` for vgg19. It

- keeps a deep copy of ``model.features[: deepest + 1]`` only (no classifier; the
  network runs only as deep as needed) and never changes the model passed in;
- replaces every ReLU by ``nn.ReLU(inplace=False)``, so a "conv" feature is the conv
  output, not silently overwritten by the ReLU after it (torchvision uses in-place ReLU);
- optionally swaps MaxPool2d for AvgPool2d with the same kernel/stride/padding
  (Gatys, Ecker & Bethge 2015: "replacing the max-pooling operation by average pooling
  improves the gradient flow and one obtains slightly more appealing results");
- normalises x in [0, 1] with the ImageNet statistics the weights were trained with,
  x_hat = (x - mean) / std per channel, without touching x;
- is frozen (requires_grad False) and always in eval mode, while gradients still flow
  to the input x (what style transfer optimises).
"""

import copy
from collections.abc import Sequence

import torch
from torch import nn

from coursekit.models.layers import infer_arch, layer_index, layer_names
from coursekit.models.rescale import calibration_images, rescale_to_unit_mean
from coursekit.models.weights import WeightsSpec
from coursekit.models.zoo import get_model

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "FeatureExtractor", "feature_extractor"]

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


def _as_name_list(layers: str | Sequence[str]) -> list[str]:
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ValueError("layers is empty; name at least one layer, e.g. layers=['conv1_1', 'conv4_2']")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"layers lists {duplicates} more than once; name each layer once")
    return names


class FeatureExtractor(nn.Module):
    """Frozen truncated copy of ``model.features`` returning ``{layer name: feature map}``.

    Args:
        model: a coursekit or torchvision AlexNet/VGG (anything with ``.features``).
        layers: layer names such as ``["conv1_1", "relu2_1", "conv4_2"]`` (see ``layer_names(arch)``).
        pooling: "max" keeps the network's pools, "avg" uses AvgPool2d of the same geometry.
        normalize: apply ImageNet mean/std normalisation to the input inside ``forward``.
        channels_last: run the convolutions in channels-last memory layout (NHWC); "auto" picks
            the layout measured fastest on this machine (``coursekit.models.layout``). Results are
            the same up to float rounding.
        rescale: False, or how to scale the filters so mean activations over offline sample photos
            are 1 (see ``coursekit.models.rescale``), which balances the layers' style costs:
            "filter" is Gatys et al.'s rule (each filter's mean is 1), "layer" one factor per layer
            (each layer's mean is 1), True means "layer".
        arch: architecture name; by default ``model.arch`` or inferred from ``model.features``.
        device: where the extractor runs (default: where ``model`` is). The filters are rescaled
            where the model is, then moved; "auto" measures the layout on this device.
    """

    def __init__(
        self,
        model: nn.Module,
        layers: str | Sequence[str],
        *,
        pooling: str = "max",
        normalize: bool = True,
        arch: str | None = None,
        channels_last: bool | str = False,
        rescale: bool | str = False,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        features = getattr(model, "features", None)
        if not isinstance(features, nn.Sequential):
            raise ValueError(
                f"model must have a .features nn.Sequential (an AlexNet or VGG); got {type(model).__name__}"
            )
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg'; got {pooling!r}")
        inferred = infer_arch(features)
        arch = arch or getattr(model, "arch", None) or inferred
        if arch != inferred:
            raise ValueError(f"model.features is laid out like {inferred}, not {arch!r}; pass arch={inferred!r}")
        names = _as_name_list(layers)
        indices = [layer_index(arch, name) for name in names]

        net = copy.deepcopy(features[: max(indices) + 1])  # the caller's model stays untouched
        for i, module in enumerate(net):
            if isinstance(module, nn.ReLU):
                net[i] = nn.ReLU(inplace=False)
            elif pooling == "avg" and isinstance(module, nn.MaxPool2d):
                if module.dilation not in (1, (1, 1)):
                    raise ValueError(f"cannot swap dilated MaxPool2d at {layer_names(arch)[i]} for average pooling")
                net[i] = nn.AvgPool2d(
                    module.kernel_size,
                    module.stride,
                    module.padding,
                    ceil_mode=module.ceil_mode,
                    count_include_pad=False,  # like max-pool's -inf padding: padding never enters the result
                )
        net.requires_grad_(False)
        per = {False: None, True: "layer", "layer": "layer", "filter": "filter"}.get(rescale, "?")
        if per == "?":
            raise ValueError(f"rescale must be False, True, 'layer' or 'filter'; got {rescale!r}")
        self.rescale = per or False
        if per:
            images = calibration_images()
            mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
            rescale_to_unit_mean(net.eval(), (images - mean) / std, per=per)
        if channels_last == "auto":
            from .layout import fastest_layout

            runs_on = torch.device(device) if device is not None else next(net.parameters()).device
            channels_last = fastest_layout(device=runs_on) == "channels_last"
        if channels_last not in (True, False):
            raise ValueError(f"channels_last must be True, False or 'auto'; got {channels_last!r}")
        if channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.net = net
        self.channels_last = channels_last

        self.arch = arch
        self.layers: tuple[str, ...] = tuple(names)
        self.pooling = pooling
        self.normalize = normalize
        self.weights_source: str = getattr(model, "weights_source", "unknown (model given without weights_source)")
        self.pretrained: bool = bool(getattr(model, "pretrained", False))
        self._index_to_name = dict(zip(indices, names))
        # (1, 3, 1, 1) so they broadcast over (B, 3, H, W); not persistent: state_dict holds weights only.
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.eval()
        if device is not None:
            self.to(device)

    def train(self, mode: bool = True) -> "FeatureExtractor":
        """Stay in eval mode whatever ``mode`` says: a fixed feature network (BatchNorm uses running stats)."""
        return super().train(False)

    def forward(self, x: torch.Tensor, layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """(B, 3, H, W) images in [0, 1] -> ``{name: (B, C_name, H_name, W_name)}`` in ``self.layers`` order.

        ``layers`` (a subset of ``self.layers``) reads only those and stops after the deepest one.
        """
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected images of shape (B, 3, H, W); got {tuple(x.shape)}")
        wanted = self.layers if layers is None else tuple(layers)
        unknown = [name for name in wanted if name not in self.layers]
        if unknown:
            raise ValueError(f"layers {unknown} are not read by this extractor; it reads {list(self.layers)}")
        stop = max(i for i, name in self._index_to_name.items() if name in wanted)
        h = (x - self.mean.to(x)) / self.std.to(x) if self.normalize else x  # new tensor; x untouched
        if self.channels_last:
            h = h.contiguous(memory_format=torch.channels_last)
        found: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(self.net[: stop + 1]):
            h = layer(h)
            if i in self._index_to_name:
                found[self._index_to_name[i]] = h
        return {name: found[name] for name in wanted}

    def extra_repr(self) -> str:
        return (f"arch={self.arch!r}, layers={list(self.layers)}, pooling={self.pooling!r}, "
                f"normalize={self.normalize}, rescale={self.rescale}")


def feature_extractor(
    arch: str = "vgg19",
    layers: str | Sequence[str] | None = None,
    *,
    weights: WeightsSpec = "imagenet",
    pooling: str = "max",
    normalize: bool = True,
    rescale: bool | str = False,
    channels_last: bool | str = False,
    seed: int = 0,
    progress: bool = True,
) -> FeatureExtractor:
    """Build ``arch`` (see :func:`coursekit.models.get_model`) and wrap it in a :class:`FeatureExtractor`.

    Layer names are checked before any weights are loaded, so a typo fails fast.
    """
    if layers is None:
        raise ValueError(f"name the layers to read, e.g. layers=['conv1_1', 'conv4_2']; {arch} has: "
                         f"{', '.join(layer_names(arch))}")
    names = _as_name_list(layers)
    for name in names:
        layer_index(arch, name)
    model = get_model(arch, weights=weights, seed=seed, progress=progress)
    return FeatureExtractor(model, names, pooling=pooling, normalize=normalize, arch=arch, rescale=rescale,
                            channels_last=channels_last)
