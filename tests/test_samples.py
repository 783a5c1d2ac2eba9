"""Tests of the painterly style images of coursekit.samples: brush_strokes, swirls and mosaic.

The general contract of every sample (float32 (1, 3, H, W) in [0, 1], a source and a licence) is
tested for all samples in test_images.py; here: determinism, any size, speed, and that each image has
a painted texture of its own.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
import torch

from coursekit.samples import list_samples, sample_image

PAINTERLY = ("brush_strokes", "swirls", "mosaic")


def texture_energy(x: torch.Tensor) -> float:
    """(1, 3, H, W) -> mean absolute difference of horizontal plus of vertical neighbours, over channels."""
    return float(x.diff(dim=3).abs().mean() + x.diff(dim=2).abs().mean())


@pytest.mark.parametrize("name", PAINTERLY)
def test_painterly_image_is_deterministic_and_leaves_global_rng_alone(name):
    np_state, torch_state = np.random.get_state()[1].copy(), torch.random.get_rng_state()
    first, second = sample_image(name, size=96), sample_image(name, size=96)
    assert torch.equal(first, second)
    assert np.array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.random.get_rng_state(), torch_state)


@pytest.mark.parametrize("name", PAINTERLY)
@pytest.mark.parametrize("size", [(72, 200), (150, 40), (1, 1), (3, 5), None])
def test_painterly_image_any_size(name, size):
    x = sample_image(name, size=size)
    assert x.dtype == torch.float32 and x.shape[:2] == (1, 3)
    assert tuple(x.shape[2:]) == (size or (256, 256))
    assert torch.isfinite(x).all() and float(x.min()) >= 0.0 and float(x.max()) <= 1.0


@pytest.mark.parametrize("name", PAINTERLY)
def test_painterly_image_is_listed_with_origin_and_licence(name):
    description = list_samples()[name]
    assert description.startswith("Generated") and "coursekit" in description
    assert "procedural" in description and "CC0" in description


@pytest.mark.parametrize("name", PAINTERLY)
def test_painterly_image_is_fast_at_256px(name):
    seconds = []
    for _ in range(3):  # the fastest of three, so a busy machine does not fail the test
        start = time.perf_counter()
        sample_image(name, size=256)
        seconds.append(time.perf_counter() - start)
    assert min(seconds) < 0.5, seconds


@pytest.mark.parametrize("size", [128, 256])
def test_painterly_images_have_texture_energy(size):
    # A smooth image of full contrast (the "gradient" sample) changes by 1/size per pixel: 0.008 at
    # 128 px. Painted strokes, panes and lead lines change colour by 0.1-0.8 every few pixels, which
    # gives 0.045-0.14 here; 0.03 asks for texture everywhere, at both lesson sizes.
    smooth = texture_energy(sample_image("gradient", size=size))
    for name in PAINTERLY:
        energy = texture_energy(sample_image(name, size=size))
        assert energy > 0.03 > 3 * smooth, (name, energy, smooth)


def test_painterly_images_differ_in_colour():
    means = {name: sample_image(name, size=128).mean(dim=(0, 2, 3)) for name in PAINTERLY}  # (3,) RGB
    for a, b in itertools.combinations(PAINTERLY, 2):
        assert float((means[a] - means[b]).norm()) > 0.15, (a, b, means[a], means[b])
    r, g, b = sample_image("swirls", size=128)[0]
    assert float(b.mean()) > float(r.mean()) + 0.2  # a blue night sky...
    assert float(((r > b + 0.3) & (g > b + 0.2)).float().mean()) > 0.02  # ...with yellow stars
    dark = sample_image("mosaic", size=128)[0].max(dim=0).values < 0.15
    assert 0.05 < float(dark.float().mean()) < 0.4  # lead lines between the panes
