"""Where a model's weights come from: seeded random, torchvision's ImageNet weights, or a file.

One function, :func:`resolve_weights`, turns the ``weights=`` argument of every
constructor into ``(state_dict or None, human-readable source)``:

- ``None`` / ``"random"``: no state_dict; the caller runs :func:`init_weights_` with ``seed``.
- ``"imagenet"`` or a torchvision enum member (``torchvision.models.VGG19_Weights.IMAGENET1K_V1``):
  torchvision's file from torch.hub's cache ``torch.hub.get_dir()/checkpoints/<file>``
  if it is there (no network); else, unless ``COURSEKIT_OFFLINE=1``, a 2 s reachability
  probe of the host and then ``weights.get_state_dict()`` (which fills that cache).
  Any failure falls back to seeded random weights and prints exactly one line saying so
  and how to get the real weights. A lesson must run offline; it must also never pass
  random features off as trained ones, hence ``model.weights_source`` / ``model.pretrained``.
- a path (``str`` or ``pathlib.Path``) to a ``.pth`` state_dict: loaded with
  ``weights_only=True``; problems raise ``ValueError`` naming the file.
"""

import difflib
import os
import socket
import sys
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Union

import torch
import torchvision.models
from torch import nn
from torchvision.models import WeightsEnum

__all__ = [
    "WeightsSpec",
    "IMAGENET_WEIGHTS",
    "imagenet_weights",
    "cached_weights_path",
    "is_offline",
    "resolve_weights",
    "load_weights_file",
    "state_dict_problems",
    "init_weights_",
]

WeightsSpec = Union[None, str, os.PathLike, WeightsEnum]

# arch -> name of torchvision's weights enum in torchvision.models (member IMAGENET1K_V1).
IMAGENET_WEIGHTS: dict[str, str] = {
    "alexnet": "AlexNet_Weights",
    "vgg11": "VGG11_Weights",
    "vgg11_bn": "VGG11_BN_Weights",
    "vgg13": "VGG13_Weights",
    "vgg13_bn": "VGG13_BN_Weights",
    "vgg16": "VGG16_Weights",
    "vgg16_bn": "VGG16_BN_Weights",
    "vgg19": "VGG19_Weights",
    "vgg19_bn": "VGG19_BN_Weights",
}

_PATH_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt", ".tar")
_OPTIONS = (
    "None or 'random' (seeded random init), 'imagenet' (torchvision's ImageNet weights), "
    "a path to a .pth state_dict file, or a torchvision enum member such as "
    "torchvision.models.VGG19_Weights.IMAGENET1K_V1"
)


def imagenet_weights(arch: str) -> WeightsEnum:
    """torchvision's ImageNet weights enum member for ``arch``, e.g. ``VGG19_Weights.IMAGENET1K_V1``."""
    if arch not in IMAGENET_WEIGHTS:
        raise ValueError(f"no ImageNet weights known for {arch!r}; choose one of {sorted(IMAGENET_WEIGHTS)}")
    return getattr(torchvision.models, IMAGENET_WEIGHTS[arch]).IMAGENET1K_V1


def cached_weights_path(weights: WeightsEnum) -> Path:
    """Where torch.hub caches ``weights``: ``torch.hub.get_dir()/checkpoints/<basename of weights.url>``."""
    filename = os.path.basename(urllib.parse.urlparse(weights.url).path)
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def is_offline() -> bool:
    """True when the environment variable ``COURSEKIT_OFFLINE`` is 1/true/yes: never touch the network."""
    return os.environ.get("COURSEKIT_OFFLINE", "").strip().lower() in {"1", "true", "yes"}


def _reachable(url: str, timeout: float = 2.0) -> bool:
    """Can we open a TCP connection to ``url``'s host within ``timeout`` seconds?"""
    parsed = urllib.parse.urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=timeout).close()
        return True
    except Exception:  # DNS failure, refused, timeout, sandbox: all mean "not now"
        return False


def _one_line(error: BaseException, limit: int = 200) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _load_imagenet(arch: str, weights: WeightsEnum, progress: bool, seed: int) -> tuple[dict | None, str]:
    cached = cached_weights_path(weights)
    label = f"{type(weights).__name__}.{weights.name}"
    if cached.is_file():
        try:
            state_dict = torch.load(cached, map_location="cpu", weights_only=True)
            return state_dict, f"ImageNet (torchvision {label}, cached at {cached})"
        except Exception as error:
            reason = f"the cached file {cached} could not be read ({_one_line(error)}); delete it"
    elif is_offline():
        reason = "COURSEKIT_OFFLINE=1 and no cached copy"
    elif not _reachable(weights.url):
        reason = f"{urllib.parse.urlparse(weights.url).hostname} is not reachable (offline?)"
    else:
        try:
            state_dict = weights.get_state_dict(progress=progress, check_hash=True)
            return state_dict, f"ImageNet (torchvision {label}, downloaded to {cached})"
        except Exception as error:
            reason = f"download failed: {_one_line(error)}"
    print(
        f"coursekit: ImageNet weights for {arch} are not available ({reason}); "
        f"using seeded RANDOM weights (seed {seed}). Results show what random features do, "
        f"not trained ones. To use real weights: run once with internet access "
        f"(without COURSEKIT_OFFLINE=1), or copy {cached.name} into {cached.parent}/",
        file=sys.stderr,
        flush=True,
    )
    return None, f"random (seed {seed}); ImageNet weights unavailable: {reason}"


def load_weights_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a state_dict saved with ``torch.save(model.state_dict(), path)``; ValueError if it is not one."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ValueError(
            f"weights file '{path}' does not exist; give the path to a .pth file saved with "
            f"torch.save(model.state_dict(), path), or weights='imagenet'"
        )
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(
            f"weights file '{path}' could not be read as a PyTorch state_dict ({_one_line(error)}); "
            f"save one with torch.save(model.state_dict(), path)"
        ) from error
    if not isinstance(obj, Mapping):
        raise ValueError(f"weights file '{path}' holds a {type(obj).__name__}, not a state_dict (a dict of tensors)")
    not_tensors = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise ValueError(
            f"weights file '{path}' is not a plain state_dict: entries {not_tensors[:5]} are not tensors. "
            f"If it is a training checkpoint, save just its model part: "
            f"torch.save(checkpoint['state_dict'], 'weights.pth')"
        )
    return dict(obj)


def resolve_weights(
    arch: str, weights: WeightsSpec = None, *, progress: bool = True, seed: int = 0
) -> tuple[dict[str, torch.Tensor] | None, str]:
    """Turn a ``weights=`` argument into ``(state_dict or None, source)`` for architecture ``arch``.

    ``None`` as state_dict means "initialise randomly with ``seed``" (also the ImageNet
    fallback); ``source`` is a human-readable line for a lesson's banner.
    """
    if weights is None or (isinstance(weights, str) and weights.lower() == "random"):
        return None, f"random (seed {seed})"
    if isinstance(weights, WeightsEnum):
        expected = IMAGENET_WEIGHTS.get(arch)
        if type(weights).__name__ != expected:
            raise ValueError(f"{weights!r} are weights for another network; {arch} takes torchvision.models.{expected}")
        return _load_imagenet(arch, weights, progress, seed)
    if isinstance(weights, str) and weights.lower() == "imagenet":
        return _load_imagenet(arch, imagenet_weights(arch), progress, seed)
    if isinstance(weights, os.PathLike) or (
        isinstance(weights, str) and ("/" in weights or os.sep in weights or weights.endswith(_PATH_SUFFIXES)
                                      or os.path.exists(weights))
    ):
        path = Path(weights).expanduser()
        return load_weights_file(path), f"file {path}"
    hint = difflib.get_close_matches(str(weights).lower(), ["imagenet", "random"], n=1)
    did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
    raise ValueError(f"weights={weights!r} is not understood.{did_you_mean} Use {_OPTIONS}.")


def state_dict_problems(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> list[str]:
    """What stops ``model.load_state_dict(state_dict, strict=True)``, one phrase per kind; [] if nothing.

    Works on a model on the meta device (only shapes are compared). A missing
    ``num_batches_tracked`` is fine: BatchNorm fills it in for old checkpoints.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state_dict if k not in expected]
    wrong_shape = [
        f"{k}: file {tuple(state_dict[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in expected
        if k in state_dict and state_dict[k].shape != expected[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing keys (expected keys like {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys (like {', '.join(unexpected[:3])})")
        if all(k.startswith("module.") for k in unexpected):
            problems.append("the 'module.' prefix comes from nn.DataParallel; strip it before saving")
    if wrong_shape:
        problems.append(f"{len(wrong_shape)} shape mismatches ({'; '.join(wrong_shape[:3])})")
    return problems


@torch.no_grad()
def init_weights_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Initialise ``model`` in place with torchvision's VGG scheme, from a local generator seeded with ``seed``.

    Conv2d: W ~ N(0, 2 / fan_out), fan_out = C_out * k_h * k_w (He et al. 2015, "fan_out"
    mode, ReLU gain sqrt(2)), bias 0. BatchNorm2d: gamma 1, beta 0, running stats reset.
    Linear: W ~ N(0, 0.01^2), bias 0. Same seed -> identical weights; torch's global RNG
    is not used. (torchvision's AlexNet keeps PyTorch's default init; we use this scheme
    for both networks.) Returns ``model``.
    """
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
            m.reset_running_stats()
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01, generator=generator)
            nn.init.zeros_(m.bias)
    return model
