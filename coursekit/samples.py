"""Sample images that work offline: photos shipped with installed packages, and generated images.

``sample_image(name)`` returns a float32 tensor ``(1, 3, H, W)`` in ``[0, 1]``, like
:func:`coursekit.images.load_image`; ``list_samples()`` says where each one comes from and its licence.

The generated images are deterministic (no global random state). ``"stripes_orange"`` is the lecture's
style image in which "vertical texture" and "orange" co-occur: vertical stripes appear exactly inside
orange patches, on a plain bluish-grey background, so a vertical-edge channel and an orange channel of
a network are active at the same places and their Gram-matrix entry is large. ``"stripes_only"`` and
``"orange_only"`` have the same layout with one of the two properties removed, for contrast.
``"brush_strokes"``, ``"swirls"`` and ``"mosaic"`` are painterly style images for neural style transfer,
drawn procedurally (strokes in coats, strokes along a vortex flow, stained-glass cells) at any size.
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


# ---------------------------------------------------------------- painterly style images, (H, W, 3) float
# Lengths are in units of the shorter side, so an image looks the same at 64, 128 or 512 px and any
# aspect ratio. Each image draws from its own seeded numpy Generator.
_TAU = 2.0 * np.pi


def _smooth_field(rng: np.random.Generator, waves: int, frequency: float) -> Callable[..., np.ndarray]:
    """A smooth random function f(y, x), about in [-1.5, 1.5], of coordinates in shorter-side units.

    A sum of ``waves`` plane waves of about ``frequency`` cycles per shorter side, so it can be
    evaluated on the pixel grid and at scattered stroke centres alike.
    """
    angle = rng.uniform(0.0, _TAU, waves)
    freq = frequency * rng.uniform(0.6, 1.4, waves)
    phase = rng.uniform(0.0, _TAU, waves)
    ky, kx = _TAU * freq * np.sin(angle), _TAU * freq * np.cos(angle)

    def field(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        y, x = np.asarray(y, dtype=float)[..., None], np.asarray(x, dtype=float)[..., None]
        return np.sin(ky * y + kx * x + phase).sum(axis=-1) * np.sqrt(2.0 / waves)

    return field


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) and (H, W) pixel-centre coordinates y, x in shorter-side units."""
    side = float(min(h, w))
    y, x = (np.arange(h)[:, None] + 0.5) / side, (np.arange(w)[None, :] + 0.5) / side
    return np.broadcast_arrays(y, x)


def _scatter(
    rng: np.random.Generator, size: tuple[int, int], coverage: float, area: float
) -> tuple[np.ndarray, np.ndarray]:
    """Centres (y, x) of enough strokes of ``area`` (shorter side = 1) to cover the canvas ``coverage`` times."""
    h, w = size
    side = min(h, w)
    n = max(1, int(coverage * (h / side) * (w / side) / area))
    return rng.uniform(0, h / side, n), rng.uniform(0, w / side, n)


def _palette(colours: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Colours (..., 3) at positions ``t`` in [0, 1] along a piecewise-linear palette (K, 3)."""
    pos = np.clip(t, 0.0, 1.0) * (len(colours) - 1)
    lo = np.minimum(pos.astype(int), len(colours) - 2)
    frac = (pos - lo)[..., None]
    return colours[lo] * (1 - frac) + colours[lo + 1] * frac


def _paint_strokes(
    canvas: np.ndarray, strokes: dict[str, np.ndarray], rng: np.random.Generator, coats: int = 6
) -> np.ndarray:
    """Paint slightly curved, tapered brush strokes over ``canvas`` (H, W, 3), in ``coats`` coats.

    ``strokes`` holds arrays of length N in shorter-side units: ``y``, ``x`` (centre), ``length``,
    ``width``, ``bend`` (the stroke follows v = bend * u**2 across its axis u); ``angle`` in radians and
    ``colour`` (N, 3). Every stroke is drawn as one (P, P) patch, all at once; where wet strokes of one
    coat overlap they mix (alpha-weighted mean), and each coat covers the coats before it.
    """
    h, w, _ = canvas.shape
    side = float(min(h, w))
    f32 = np.float32  # (N, P, P) patches of thousands of strokes: single precision halves the time
    y, x = (strokes["y"] * side - 0.5).astype(f32), (strokes["x"] * side - 0.5).astype(f32)
    half_l = (strokes["length"] * side / 2).astype(f32)[:, None, None]  # (N, 1, 1) pixels
    half_w = (np.maximum(strokes["width"] * side, 1.0) / 2).astype(f32)[:, None, None]
    bend = (strokes["bend"] / side).astype(f32)[:, None, None]
    reach = int(np.ceil((half_l + half_w + np.abs(bend) * half_l**2).max())) + 1
    offset = np.arange(-reach, reach + 1, dtype=f32)
    py = np.round(y)[:, None, None] + offset[None, :, None]  # (N, P, 1) rows of each stroke's patch
    px = np.round(x)[:, None, None] + offset[None, None, :]  # (N, 1, P) columns
    dy, dx = py - y[:, None, None], px - x[:, None, None]
    angle = strokes["angle"].astype(f32)[:, None, None]
    cos, sin = np.cos(angle), np.sin(angle)
    u = dx * cos + dy * sin  # (N, P, P): along the stroke
    v = np.abs(dy * cos - dx * sin - bend * u**2)  # across the curved stroke
    t = np.minimum(np.abs(u) / half_l, 1.0)
    alpha = np.clip(0.5 + half_w * np.sqrt(np.sqrt(1.0 - t**4)) - v, 0.0, 1.0)  # rounded ends
    alpha *= np.clip(0.5 + half_l - np.abs(u), 0.0, 1.0)
    # Bristle streaks along the stroke (at least 3 px apart, so they do not alias), and paint running
    # out towards the stroke's end (u = +L/2).
    phase = rng.uniform(0, _TAU, len(y)).astype(f32)[:, None, None]
    bristle = np.sin(f32(_TAU) * v / np.maximum(0.7 * half_w, 3.0) + phase)
    fade = 1.0 - 0.5 * ((np.clip(u / half_l, -1.0, 1.0) + 1.0) / 2.0) ** 3
    alpha *= (0.8 + 0.2 * bristle) * fade * ((py >= 0) & (py < h) & (px >= 0) & (px < w))
    index = np.broadcast_to(np.clip(py, 0, h - 1) * w + np.clip(px, 0, w - 1), alpha.shape)
    index = index.astype(np.int64)
    colour = strokes["colour"].astype(f32)[:, None, None, :]
    paint = alpha[..., None] * (1.0 + 0.1 * bristle[..., None]) * colour  # (N, P, P, 3)
    flat = canvas.reshape(h * w, 3)
    for coat in np.array_split(np.arange(len(y)), coats):
        idx = index[coat].ravel()
        cover = np.bincount(idx, alpha[coat].ravel(), h * w)  # (H*W,) summed alpha of this coat
        mixed = np.stack([np.bincount(idx, paint[coat, ..., c].ravel(), h * w) for c in range(3)], axis=1)
        opacity = np.minimum(cover, 1.0)[:, None]
        flat = flat * (1.0 - opacity) + mixed / np.maximum(cover, 1e-9)[:, None] * opacity
    return np.clip(flat.reshape(h, w, 3), 0.0, 1.0)


# Sky blues to meadow greens and ochre, with accents of poppy red, sun yellow, white and violet.
_MEADOW = np.array(
    [(0.16, 0.30, 0.45), (0.30, 0.52, 0.68), (0.55, 0.72, 0.80), (0.45, 0.62, 0.30), (0.25, 0.42, 0.18),
     (0.70, 0.66, 0.30)]
)  # fmt: skip
_ACCENTS = np.array([(0.90, 0.35, 0.30), (0.95, 0.80, 0.35), (0.95, 0.93, 0.85), (0.75, 0.45, 0.70)])


def _brush_strokes(size: tuple[int, int]) -> np.ndarray:
    """Impressionist canvas: short, oriented, coloured strokes in coats over an underpainting."""
    rng = np.random.default_rng(1872)
    gy, gx = _grid(*size)
    hue, turn = _smooth_field(rng, 6, 1.2), _smooth_field(rng, 5, 0.8)
    canvas = _palette(_MEADOW, 0.5 + 0.3 * hue(gy, gx))  # (H, W, 3) underpainting
    y, x = _scatter(rng, size, coverage=3.0, area=0.09 * 0.025)
    n = len(y)
    colour = _palette(_MEADOW, 0.5 + 0.3 * hue(y, x) + rng.normal(0, 0.12, n))  # (N, 3)
    accent = rng.random(n) < 0.12
    colour[accent] = _ACCENTS[rng.integers(0, len(_ACCENTS), accent.sum())]
    strokes = {
        "y": y,
        "x": x,
        "colour": colour * rng.uniform(0.85, 1.15, (n, 1)),
        "angle": 0.6 + 1.2 * turn(y, x) + rng.normal(0, 0.25, n),  # locally aligned, as a painter's hand
        "length": rng.uniform(0.05, 0.11, n),
        "width": rng.uniform(0.015, 0.035, n),
        "bend": rng.normal(0, 3.0, n),
    }
    return _paint_strokes(canvas, strokes, rng)


_NIGHT = np.array(
    [(0.05, 0.10, 0.30), (0.10, 0.22, 0.52), (0.22, 0.40, 0.70), (0.45, 0.62, 0.82), (0.80, 0.82, 0.70)]
)
_STAR = np.array([0.98, 0.85, 0.30])


def _swirls(size: tuple[int, int]) -> np.ndarray:
    """Van-Gogh-like night sky: strokes that follow the flow around a few vortices, blue and yellow."""
    h, w = size
    side = min(h, w)
    rng = np.random.default_rng(1889)
    nv = max(3, round(5 * h * w / side**2))  # about 5 vortices per square of the shorter side
    vy, vx = rng.uniform(0, h / side, nv), rng.uniform(0, w / side, nv)
    radius = rng.uniform(0.10, 0.22, nv)
    spin = rng.choice([-1.0, 1.0], nv) * rng.uniform(0.6, 1.0, nv)
    wind = 0.25  # a gentle left-to-right drift between the vortices

    def flow(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stream function psi of Gaussian vortices plus the wind, and its velocity (dpsi/dy, -dpsi/dx)."""
        ry, rx = y[..., None] - vy, x[..., None] - vx  # (..., nv)
        g = spin * radius * np.exp(-(ry**2 + rx**2) / (2 * radius**2))
        psi = g.sum(-1) + wind * y
        return psi, (-g * ry / radius**2).sum(-1) + wind, (g * rx / radius**2).sum(-1)

    def star(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """(...) in [0, 1]: 1 in the bright core of a vortex."""
        d2 = (y[..., None] - vy) ** 2 + (x[..., None] - vx) ** 2
        return np.exp(-d2 / (2 * (0.35 * radius) ** 2)).max(-1)

    gy, gx = _grid(h, w)
    core = star(gy, gx)[..., None]
    canvas = _palette(_NIGHT, 0.3 + 0.15 * np.sin(30 * flow(gy, gx)[0])) * (1 - core) + _STAR * core
    y, x = _scatter(rng, size, coverage=3.0, area=0.07 * 0.018)
    n = len(y)
    psi, vx_, vy_ = flow(y, x)
    angle = np.arctan2(vy_, vx_)
    # Bend each stroke like its streamline: the turn of the flow direction a small step ahead.
    step = 0.01
    _, vx2, vy2 = flow(y + step * np.sin(angle), x + step * np.cos(angle))
    curvature = np.angle(np.exp(1j * (np.arctan2(vy2, vx2) - angle))) / step
    bands = 0.5 + 0.5 * np.sin(30 * psi + rng.normal(0, 0.6, n))  # light and dark rings along streamlines
    colour = _palette(_NIGHT, 0.1 + 0.75 * bands * rng.uniform(0.6, 1.0, n))
    core = star(y, x)[:, None]
    strokes = {
        "y": y,
        "x": x,
        "colour": colour * (1 - core) + _STAR * rng.uniform(0.85, 1.05, (n, 1)) * core,
        "angle": angle,
        "length": rng.uniform(0.05, 0.09, n),
        "width": rng.uniform(0.012, 0.024, n),
        "bend": np.clip(curvature / 2, -12, 12),  # a circle of curvature k is v = k u**2 / 2 near u = 0
    }
    return _paint_strokes(canvas, strokes, rng, coats=5)


_GLASS = np.array(
    [(0.75, 0.12, 0.12), (0.10, 0.30, 0.65), (0.95, 0.70, 0.15), (0.15, 0.50, 0.30), (0.45, 0.20, 0.55),
     (0.90, 0.45, 0.15), (0.35, 0.65, 0.80)]
)  # fmt: skip
_LEAD = 0.08  # grey level of the lead lines


def _mosaic(size: tuple[int, int]) -> np.ndarray:
    """Stained glass: large jewel-coloured Voronoi panes, mottled and lit in the middle, between lead lines."""
    h, w = size
    side = min(h, w)
    rng = np.random.default_rng(1248)
    cell = 0.12  # seed spacing in shorter-side units: a coarser texture than the brush strokes
    rows, cols = int(np.ceil(h / side / cell)) + 4, int(np.ceil(w / side / cell)) + 4
    grid = np.stack(np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij"), -1) - 1.5  # 2 cells margin
    seeds = (grid + rng.uniform(-0.4, 0.4, (rows, cols, 2))) * cell  # (rows, cols, 2) jittered grid
    colour = _GLASS[rng.integers(0, len(_GLASS), (rows, cols))] * rng.uniform(0.75, 1.1, (rows, cols, 1))
    gy, gx = _grid(h, w)
    # Candidate seeds: the 5 x 5 grid cells around each pixel; keep the nearest two.
    ny = np.clip((gy / cell).astype(int) + 2 + np.repeat(np.arange(-2, 3), 5)[:, None, None], 0, rows - 1)
    nx = np.clip((gx / cell).astype(int) + 2 + np.tile(np.arange(-2, 3), 5)[:, None, None], 0, cols - 1)
    s = seeds[ny, nx]  # (25, H, W, 2)
    d2 = (s[..., 0] - gy) ** 2 + (s[..., 1] - gx) ** 2  # (25, H, W)
    near = np.argsort(d2, axis=0)[:2]  # (2, H, W)
    (s0, s1), (d0, d1) = np.take_along_axis(s, near[..., None], 0), np.take_along_axis(d2, near, 0)
    border = (d1 - d0) / (2 * np.linalg.norm(s1 - s0, axis=-1))  # distance to the bisector of s0, s1
    pane = colour[np.take_along_axis(ny, near[:1], 0)[0], np.take_along_axis(nx, near[:1], 0)[0]]
    light = 1.0 + 0.10 * _smooth_field(rng, 8, 9.0)(gy, gx) - 0.6 * np.sqrt(d0)  # mottled glass
    glass = np.clip(border * side - 0.012 * side, 0.0, 1.0)[..., None]  # 0 on the lead, antialiased
    return np.clip(pane * light[..., None] * glass + _LEAD * (1 - glass), 0.0, 1.0)


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
    _Sample(
        "brush_strokes",
        "Generated (256x256 by default): an impressionist canvas of short, oriented, slightly curved "
        "brush strokes of varying width and colour (sky blues, meadow greens, poppy and sun accents) "
        "in coats over an underpainting. Made by coursekit, procedural; CC0 / public domain.",
        _generated(_brush_strokes),
        generated=True,
    ),
    _Sample(
        "swirls",
        "Generated (256x256 by default): a Van-Gogh-like night sky of blue strokes that follow the "
        "flow around a few vortices with yellow cores. Made by coursekit, procedural; CC0 / public "
        "domain.",
        _generated(_swirls),
        generated=True,
    ),
    _Sample(
        "mosaic",
        "Generated (256x256 by default): stained glass, large jewel-coloured mottled panes between "
        "dark lead lines, a coarser texture than the brush strokes. Made by coursekit, procedural; "
        "CC0 / public domain.",
        _generated(_mosaic),
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
