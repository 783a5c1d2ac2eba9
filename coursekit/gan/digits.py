"""Handwritten digits for lesson 07's DCGAN, as (N, 1, S, S) float32 images scaled to [-1, 1].

- ``source="digits"`` (the default, always offline): scikit-learn's ``load_digits``, 1,797 digits
  of 8x8 pixels with 17 grey levels (UCI optdigits, shipped inside scikit-learn, loaded by
  ``coursekit.digits``), resized to S.
- ``source="mnist"``: torchvision's MNIST training set (60,000 digits, 28x28) from ``root``
  when it is there; otherwise, unless ``COURSEKIT_OFFLINE=1``, after a 2 s reachability probe, it is
  downloaded there. Any failure prints ONE line saying why and falls back to the digits above.

Images are scaled to [-1, 1] to match the generator's tanh output, then resized with
``coursekit.digits.resize_digits``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ..digits import resize_digits, sklearn_digits
from ..models.weights import _one_line, _reachable, is_offline

__all__ = ["DigitImages", "load_digit_images", "to_unit_range", "default_mnist_root"]

SOURCES = ("digits", "mnist")


@dataclass(frozen=True)
class DigitImages:
    """``images`` (N, 1, S, S) float32 in [-1, 1], ``labels`` (N,) int64, ``source`` (what they are,
    for figure captions) and ``notice`` ("" or why the requested source could not be used)."""

    images: Tensor
    labels: Tensor
    source: str
    notice: str = ""

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    def sample(self, m: int, generator: torch.Generator | None = None) -> Tensor:
        """m images drawn uniformly WITH replacement using ``generator``: (m, 1, S, S).
        The data sampler for ``coursekit.gan.train.train_gan``."""
        return self.images[torch.randint(len(self.images), (m,), generator=generator)]

    __call__ = sample


def to_unit_range(images: Tensor, max_value: float) -> Tensor:
    """Pixel values in [0, max_value] -> float32 in [-1, 1] (x / max_value · 2 - 1)."""
    return (images.to(torch.float32) / max_value * 2 - 1).clamp(-1, 1)


def _sklearn_digit_images(size: int) -> DigitImages:
    unit, labels = sklearn_digits()  # (1797, 1, 8, 8) in [0, 1]
    images = resize_digits(to_unit_range(unit, 1.0), size).clamp(-1, 1)
    return DigitImages(images, labels,
                       f"scikit-learn digits ({len(images):,} images of 8x8 px, offline) resized to {size}x{size}")


def default_mnist_root() -> Path:
    """Where MNIST is looked for and downloaded: ``$COURSEKIT_DATA`` or ``~/.cache/coursekit/data``."""
    return Path(os.environ.get("COURSEKIT_DATA", Path.home() / ".cache" / "coursekit" / "data"))


def _mnist_files_present(root: Path) -> bool:
    raw = root / "MNIST" / "raw"
    return all((raw / name).is_file() for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))


def _mnist(size: int, root: Path) -> tuple[DigitImages | None, str]:
    """(MNIST images, "") or (None, why not)."""
    from torchvision.datasets import MNIST

    cached = _mnist_files_present(root)
    if not cached:
        if is_offline():
            return None, f"COURSEKIT_OFFLINE=1 and no copy in {root}"
        url = MNIST.mirrors[0]
        if not _reachable(url):
            return None, f"{url} is not reachable (offline?)"
    try:
        ds = MNIST(str(root), train=True, download=not cached)
    except Exception as error:  # a broken download or cache: say so, fall back
        return None, f"MNIST could not be {'read' if cached else 'downloaded'}: {_one_line(error)}"
    images = resize_digits(to_unit_range(ds.data[:, None], 255.0), size)
    return DigitImages(images, ds.targets.clone(), f"MNIST training set ({len(images):,} images of 28x28 px) "
                       f"resized to {size}x{size}"), ""


def load_digit_images(size: int = 16, source: str = "digits", root: str | os.PathLike | None = None) -> DigitImages:
    """Digits as (N, 1, size, size) images in [-1, 1]; see the module docstring for the sources.

    ``source="mnist"`` never fails: without MNIST it prints one line and returns the scikit-learn
    digits, with the reason in ``.notice``.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown digit source {source!r}; choose one of {SOURCES}")
    if not 4 <= size <= 128:
        raise ValueError(f"size must be between 4 and 128 pixels, got {size}")
    if source == "digits":
        return _sklearn_digit_images(size)
    root = Path(root) if root is not None else default_mnist_root()
    found, reason = _mnist(size, root)
    if found is not None:
        return found
    notice = (f"coursekit: MNIST is not available ({reason}); using scikit-learn's 8x8 digits instead. "
              f"To use MNIST: run once with internet access (without COURSEKIT_OFFLINE=1), or put "
              f"torchvision's MNIST/raw files in {root}/")
    print(notice, file=sys.stderr, flush=True)
    fallback = _sklearn_digit_images(size)
    return DigitImages(fallback.images, fallback.labels, fallback.source, notice)
