"""Sample images that work offline: photos shipped with installed packages, and generated images.

``sample_image(name)`` returns a float32 tensor ``(1, 3, H, W)`` in ``[0, 1]``, like
:func:`coursekit.images.load_image`; ``list_samples()`` says where each one comes from and its licence.

The generated images are deterministic (no global random state). ``"stripes_orange"`` is the lecture's
style image in which "vertical texture" and "orange" co-occur: vertical stripes appear exactly inside
orange patches, on a plain bluish-grey background, so a vertical-edge channel and an orange channel of
a network are active at the same places and their Gram-matrix entry is large. ``"stripes_only"`` and
``"orange_only"`` have the same layout with one of the two properties removed, for contrast.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .images import load_image, target_size

__all__ = ["sample_image", "list_samples", "DEFAULT_GENERATED_SIZE"]

DEFAULT_GENERATED_SIZE = (256, 256)  # (H, W) of generated images when size is None

_SKIMAGE_CC0 = "Creative Commons CC0"


@dataclass(frozen=True)
class _Sample:
    name: str
    description: str
    load: Callable[[tuple[int, int] | None], np.ndarray | str]  # (size to draw at) -> array or path
    generated: bool = False


def _skimage(name: str) -> Callable[[object], np.ndarray]:
    def load(_size: object) -> np.ndarray:
        import skimage.data  # lazily: importing scikit-image takes a while

        return getattr(skimage.data, name)()

    return load


def _sklearn(filename: str) -> Callable[[object], np.ndarray]:
    def load(_size: object) -> np.ndarray:
        from sklearn.datasets import load_sample_image

        return load_sample_image(filename)

    return load


def _grace_hopper(_size: object) -> str:
    from matplotlib import cbook

    return str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


# ---------------------------------------------------------------- generated images, (H, W, 3) float
_BACKGROUND = np.array([0.55, 0.62, 0.72])  # plain bluish grey: blue > red, so nowhere orange
_ORANGE_LIGHT = np.array([1.00, 0.60, 0.10])
_ORANGE_DARK = np.array([0.60, 0.30, 0.04])  # still orange (red >> blue), just darker
_GREY_LIGHT = np.array([0.85, 0.85, 0.85])
_GREY_DARK = np.array([0.20, 0.20, 0.20])
_STRIPE_PERIOD = 6  # pixels: 3 dark columns, 3 light columns
# Patches as fractions (top, left, bottom, right) of the image; they do not overlap.
_PATCHES = (
    (0.08, 0.08, 0.42, 0.45),
    (0.55, 0.55, 0.92, 0.92),
    (0.58, 0.10, 0.88, 0.38),
    (0.12, 0.60, 0.38, 0.88),
)


def _patch_mask(h: int, w: int) -> np.ndarray:
    """(H, W) bool: True inside the patches shared by the three stripes/orange images."""
    rows, cols = np.arange(h)[:, None], np.arange(w)[None, :]
    mask = np.zeros((h, w), dtype=bool)
    for top, left, bottom, right in _PATCHES:
        mask |= (
            (rows >= round(top * h))
            & (rows < round(bottom * h))
            & (cols >= round(left * w))
            & (cols < round(right * w))
        )
    return mask


def _stripes(h: int, w: int) -> np.ndarray:
    """(H, W) bool: True on the dark columns of vertical stripes."""
    dark = (np.arange(w) % _STRIPE_PERIOD) < _STRIPE_PERIOD // 2
    return np.broadcast_to(dark[None, :], (h, w))


def _compose(size: tuple[int, int], light: np.ndarray, dark: np.ndarray) -> np.ndarray:
    h, w = size
    image = np.broadcast_to(_BACKGROUND, (h, w, 3)).copy()
    mask = _patch_mask(h, w)
    image[mask] = np.where(_stripes(h, w)[mask][:, None], dark, light)
    return image


def _stripes_orange(size: tuple[int, int]) -> np.ndarray:
    return _compose(size, _ORANGE_LIGHT, _ORANGE_DARK)


def _stripes_only(size: tuple[int, int]) -> np.ndarray:
    return _compose(size, _GREY_LIGHT, _GREY_DARK)


def _orange_only(size: tuple[int, int]) -> np.ndarray:
    return _compose(size, _ORANGE_LIGHT, _ORANGE_LIGHT)


def _checkerboard(size: tuple[int, int]) -> np.ndarray:
    h, w = size
    square = max(1, min(h, w) // 8)  # 8 squares along the shorter side
    cells = (np.arange(h)[:, None] // square + np.arange(w)[None, :] // square) % 2
    return np.repeat(cells[..., None].astype(float), 3, axis=-1)


def _gradient(size: tuple[int, int]) -> np.ndarray:
    h, w = size
    x = np.broadcast_to(np.linspace(0.0, 1.0, w)[None, :], (h, w))
    y = np.broadcast_to(np.linspace(0.0, 1.0, h)[:, None], (h, w))
    return np.stack([x, y, 1.0 - x], axis=-1)  # red left->right, green top->bottom, blue right->left


def _noise(size: tuple[int, int]) -> np.ndarray:
    return np.random.default_rng(0).random((*size, 3))  # local generator: no global seed is touched


def _generated(
    make: Callable[[tuple[int, int]], np.ndarray],
) -> Callable[[tuple[int, int] | None], np.ndarray]:
    def load(size: tuple[int, int] | None) -> np.ndarray:
        return make(size or DEFAULT_GENERATED_SIZE).astype(np.float32)

    return load


_SAMPLES = (
    _Sample(
        "astronaut",
        "Eileen Collins, NASA astronaut (512x512). Source: NASA Great Images via scikit-image "
        "(skimage.data.astronaut). Public domain (no known copyright restrictions).",
        _skimage("astronaut"),
    ),
    _Sample(
        "chelsea",
        "Chelsea the cat (300x451). Source: scikit-image (skimage.data.chelsea), photo by "
        f"Stefan van der Walt. {_SKIMAGE_CC0}.",
        _skimage("chelsea"),
    ),
    _Sample(
        "coffee",
        "Coffee cup, courtesy of Pikolo Espresso Bar (400x600). Source: scikit-image "
        f"(skimage.data.coffee), photo by Rachel Michetti. {_SKIMAGE_CC0}.",
        _skimage("coffee"),
    ),
    _Sample(
        "rocket",
        "Launch of DSCOVR on a Falcon 9 (427x640). Source: SpaceX Photos on Flickr via scikit-image "
        "(skimage.data.rocket). Public domain (released by SpaceX).",
        _skimage("rocket"),
    ),
    _Sample(
        "brick",
        "Brick wall texture, grayscale made 3-channel (512x512). Source: CC0Textures Bricks25 via "
        f"scikit-image (skimage.data.brick). {_SKIMAGE_CC0}.",
        _skimage("brick"),
    ),
    _Sample(
        "grass",
        "Grass texture, grayscale made 3-channel (512x512). Source: DeviantArt (linolafett) via "
        f"scikit-image (skimage.data.grass). {_SKIMAGE_CC0}.",
        _skimage("grass"),
    ),
    _Sample(
        "gravel",
        "Gravel texture, grayscale made 3-channel (512x512). Source: CC0Textures Gravel04 via "
        f"scikit-image (skimage.data.gravel). {_SKIMAGE_CC0}.",
        _skimage("gravel"),
    ),
    _Sample(
        "immunohistochemistry",
        "Colonic glands, IHC staining (512x512). Source: Center for Microscopy And "
        "Molecular Imaging via scikit-image (skimage.data.immunohistochemistry). No known copyright "
        "restrictions.",
        _skimage("immunohistochemistry"),
    ),
    _Sample(
        "hubble_deep_field",
        "Hubble eXtreme Deep Field (872x1000). Source: NASA HubbleSite via scikit-image "
        "(skimage.data.hubble_deep_field). Public domain (NASA).",
        _skimage("hubble_deep_field"),
    ),
    _Sample(
        "retina",
        "Fundus photograph of a human retina (1411x1411). Source: Wikimedia Commons (Mikael "
        "Haggstrom) via scikit-image (skimage.data.retina). CC0 1.0.",
        _skimage("retina"),
    ),
    _Sample(
        "china",
        "Tower of Buddhist Incense, Summer Palace, Beijing (427x640). Source: Flickr user "
        "danielbuechele via scikit-learn (sklearn.datasets.load_sample_image). CC BY 2.0: credit the "
        "photographer.",
        _sklearn("china.jpg"),
    ),
    _Sample(
        "flower",
        "A dahlia flower (427x640). Source: Flickr user vultilion via scikit-learn "
        "(sklearn.datasets.load_sample_image). CC BY 2.0: credit the photographer.",
        _sklearn("flower.jpg"),
    ),
    _Sample(
        "grace_hopper",
        "Grace Hopper, official U.S. Navy portrait (600x512). Source: matplotlib sample data "
        "(grace_hopper.jpg). Public domain (U.S. government work).",
        _grace_hopper,
    ),
    _Sample(
        "stripes_orange",
        "Generated (256x256 by default): vertical dark/light stripes exactly inside orange "
        "patches on a plain bluish-grey background, so 'vertical texture' and 'orange' co-occur. "
        "Made by coursekit; public domain.",
        _generated(_stripes_orange),
        generated=True,
    ),
    _Sample(
        "stripes_only",
        "Generated: the same patches with grey vertical stripes and no orange (contrast "
        "for stripes_orange). Made by coursekit; public domain.",
        _generated(_stripes_only),
        generated=True,
    ),
    _Sample(
        "orange_only",
        "Generated: the same patches in flat orange with no stripes (contrast for "
        "stripes_orange). Made by coursekit; public domain.",
        _generated(_orange_only),
        generated=True,
    ),
    _Sample(
        "checkerboard",
        "Generated: black and white checkerboard, 8 squares along the shorter side. Made by "
        "coursekit; public domain.",
        _generated(_checkerboard),
        generated=True,
    ),
    _Sample(
        "gradient",
        "Generated: smooth colour gradient (red left to right, green top to bottom). Made by "
        "coursekit; public domain.",
        _generated(_gradient),
        generated=True,
    ),
    _Sample(
        "noise",
        "Generated: uniform RGB noise from numpy's default_rng(0), the same for a given size. Made "
        "by coursekit; public domain.",
        _generated(_noise),
        generated=True,
    ),
)


def list_samples() -> dict[str, str]:
    """Names of the sample images, each with a description, its source and its licence."""
    return {sample.name: sample.description for sample in _SAMPLES}


def sample_image(name: str, size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """A sample image as a float32 tensor ``(1, 3, H, W)`` in ``[0, 1]``; works offline.

    ``size`` follows :func:`coursekit.images.load_image`: ``None`` keeps the natural size (256x256 for
    generated images), an int sets the longer side keeping the aspect ratio, ``(H, W)`` is exact.
    Generated images are drawn directly at the requested size, so their stripes stay sharp.
    See :func:`list_samples` for the names.
    """
    by_name = {sample.name: sample for sample in _SAMPLES}
    if name not in by_name:
        close = difflib.get_close_matches(str(name), by_name, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown sample image {name!r}.{hint} Available: {', '.join(sorted(by_name))}.")
    sample = by_name[name]
    if sample.generated and size is not None:
        target = target_size(size, *DEFAULT_GENERATED_SIZE)
        return load_image(sample.load(target), size=target)
    return load_image(sample.load(None), size=size)
