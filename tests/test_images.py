"""Tests of coursekit.images and coursekit.samples: an odd and broken image corpus made in tmp_path.

The contract: load_image gives a float32 (1, 3, H, W) tensor in [0, 1], or an ImageLoadError (a
ValueError) that names the input. Never another exception type, never a hang. No downloads: URLs are
served from 127.0.0.1.
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import struct
import subprocess
import sys
import threading
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from coursekit import images, samples
from coursekit.images import ImageLoadError, load_image, save_image, to_numpy_image, to_pil
from coursekit.samples import list_samples, sample_image


def assert_image(x: torch.Tensor, shape: tuple[int, int] | None = None) -> None:
    assert isinstance(x, torch.Tensor)
    assert x.dtype == torch.float32
    assert x.ndim == 4 and x.shape[:2] == (1, 3)
    assert torch.isfinite(x).all()
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    if shape is not None:
        assert tuple(x.shape[2:]) == shape


def check_contract(source, name: str) -> torch.Tensor | None:
    """Either a valid image or an ImageLoadError naming `name`; any other exception fails the test."""
    try:
        x = load_image(source)
    except ImageLoadError as err:
        assert type(err) is ImageLoadError and isinstance(err, ValueError)
        assert name in str(err)
        return None
    assert_image(x)
    return x


def run_with_deadline(fn, seconds: float = 10.0):
    """Run fn in a thread; fail (instead of hanging the suite) if it does not finish in time."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as err:  # re-raised in the test's thread below
            result["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "load_image hung"
    if "error" in result:
        raise result["error"]
    return result["value"]


def png_bytes(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **params)
    return buffer.getvalue()


def crafted_png(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims width x height 1-bit gray pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def noisy_rgb(h: int = 48, w: int = 64, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


# ------------------------------------------------------------------ odd but valid files
def _exif_rotated(path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation 6: rotate 90 degrees clockwise to display
    noisy_rgb(10, 20).save(path, format="JPEG", exif=exif)


def _animated_gif(path: Path) -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _palette_transparent(path: Path) -> None:
    img = Image.new("P", (4, 4), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.save(path, transparency=1)  # palette index 1 (red) is fully transparent -> white


GOOD = {  # file name -> (writer, expected (H, W))
    "gray.png": (lambda p: Image.new("L", (5, 3), 128).save(p), (3, 5)),
    "bilevel.png": (lambda p: Image.new("1", (5, 3), 1).save(p), (3, 5)),
    "rgba.png": (lambda p: Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(p), (4, 4)),
    "la.png": (lambda p: Image.new("LA", (4, 4), (0, 0)).save(p), (4, 4)),
    "palette.png": (lambda p: Image.new("RGB", (6, 4), (10, 200, 30)).convert("P").save(p), (4, 6)),
    "palette_transparent.png": (_palette_transparent, (4, 4)),
    "palette_transparent.gif": (_palette_transparent, (4, 4)),
    "mode_i.tif": (lambda p: Image.fromarray(np.full((3, 4), 65535, np.int32)).save(p), (3, 4)),
    "float.tif": (
        lambda p: Image.fromarray(np.array([[-0.5, 0.25], [0.75, 1.5]], np.float32)).save(p),
        (2, 2),
    ),
    "cmyk.jpg": (lambda p: Image.new("CMYK", (8, 6), (0, 0, 0, 0)).save(p), (6, 8)),
    "rotated.jpg": (_exif_rotated, (20, 10)),  # stored 10 high x 20 wide, displayed 20 high
    "png_named.jpg": (lambda p: noisy_rgb(7, 9).save(p, format="PNG"), (7, 9)),
    "animated.gif": (_animated_gif, (8, 8)),
    "tiny.png": (lambda p: Image.new("RGB", (1, 1), (1, 2, 3)).save(p), (1, 1)),
    "wide.png": (lambda p: Image.new("RGB", (4000, 1), (9, 9, 9)).save(p), (1, 4000)),
    "photo.jpg": (lambda p: noisy_rgb().save(p, quality=90), (48, 64)),
    "photo.webp": (lambda p: noisy_rgb().save(p), (48, 64)),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_odd_but_valid_files_load(tmp_path, name):
    write, shape = GOOD[name]
    path = tmp_path / name
    write(path)
    x = load_image(path)
    assert_image(x, shape)
    assert_image(load_image(str(path)), shape)  # str and PathLike alike


def test_odd_files_have_the_right_values(tmp_path):
    for name in ("rgba.png", "la.png", "palette_transparent.png", "palette_transparent.gif", "cmyk.jpg"):
        GOOD[name][0](tmp_path / name)
        assert torch.allclose(load_image(tmp_path / name), torch.ones(1)), (
            name
        )  # transparent / blank -> white
    GOOD["gray.png"][0](tmp_path / "gray.png")
    assert torch.allclose(load_image(tmp_path / "gray.png"), torch.tensor(128 / 255))
    GOOD["mode_i.tif"][0](tmp_path / "mode_i.tif")
    assert torch.allclose(load_image(tmp_path / "mode_i.tif"), torch.ones(1))
    GOOD["float.tif"][0](tmp_path / "float.tif")
    assert load_image(tmp_path / "float.tif")[0, 0].tolist() == [[0.0, 0.25], [0.75, 1.0]]  # clipped
    GOOD["animated.gif"][0](tmp_path / "animated.gif")
    first = load_image(tmp_path / "animated.gif")[0, :, 0, 0]
    assert first[0] > 0.9 and first[1] < 0.1  # red, the first frame


def test_sixteen_bit_png_scales_by_65535(tmp_path):
    values = np.array([[0, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")  # a 16-bit grayscale PNG
    x = load_image(tmp_path / "deep.png")
    assert_image(x, (1, 3))
    assert torch.allclose(x[0, 0, 0], torch.tensor([0.0, 32768 / 65535, 1.0]), atol=1e-6)
    for raw in ("I;16", "I;16B"):  # PIL images in the other 16-bit modes
        img = Image.frombytes(raw, (3, 1), values.astype("<u2" if raw == "I;16" else ">u2").tobytes())
        assert torch.allclose(load_image(img)[0, 1, 0], torch.tensor([0.0, 32768 / 65535, 1.0]), atol=1e-6)


# ------------------------------------------------------------------ broken inputs
BROKEN = {
    "empty.png": lambda p: p.write_bytes(b""),
    "text.png": lambda p: p.write_text("<!DOCTYPE html>\n<p>this is not an image</p>\n" * 20),
    "random.jpg": lambda p: p.write_bytes(
        np.random.default_rng(1).integers(0, 256, 5000, np.uint8).tobytes()
    ),
    "truncated.png": lambda p: p.write_bytes(png_bytes(noisy_rgb())[:2000]),
    "truncated.jpg": lambda p: (noisy_rgb().save(p, quality=95), p.write_bytes(p.read_bytes()[:1500])),
    "bomb_pil_error.png": lambda p: p.write_bytes(crafted_png(30000, 30000)),  # 900 Mpx: over 2x PIL's limit
    "bomb_pil_warning.png": lambda p: p.write_bytes(crafted_png(12000, 12000)),  # 144 Mpx: PIL only warns
    "bomb_ours.png": lambda p: p.write_bytes(crafted_png(8000, 8000)),  # 64 Mpx: over our 50 Mpx
    "zero_width.png": lambda p: p.write_bytes(crafted_png(0, 10)),
    "directory.png": lambda p: p.mkdir(),
    "postscript.eps": lambda p: p.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"),
    "pipe.png": lambda p: os.mkfifo(p),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_files_are_refused_with_their_name(tmp_path, name):
    if name == "pipe.png" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    path = tmp_path / name
    BROKEN[name](path)
    state = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters))
    with pytest.raises(ImageLoadError) as info:
        run_with_deadline(lambda: load_image(path))
    assert type(info.value) is ImageLoadError and isinstance(info.value, ValueError)
    assert name in str(info.value)
    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters)) == state


def test_missing_path_device_and_pixel_limit(tmp_path):
    with pytest.raises(ImageLoadError, match="nowhere.png.*does not exist"):
        load_image(tmp_path / "nowhere.png")
    if Path("/dev/zero").exists():
        with pytest.raises(ImageLoadError, match="/dev/zero.*not a regular file"):
            run_with_deadline(lambda: load_image("/dev/zero"))
    noisy_rgb(100, 100).save(tmp_path / "fine.png")
    with pytest.raises(ImageLoadError, match="fine.png.*max_pixels"):
        load_image(tmp_path / "fine.png", max_pixels=1000)
    with pytest.raises(ImageLoadError, match="fine.png.*max_bytes"):
        load_image(tmp_path / "fine.png", max_bytes=100)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_randomly_corrupted_files_keep_the_contract(tmp_path, fmt):
    buffer = io.BytesIO()
    noisy_rgb(32, 40).save(buffer, format=fmt)
    good = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
    rng = np.random.default_rng(1234)
    outcomes = {"loaded": 0, "refused": 0}
    for i in range(120):
        corrupt = good.copy()
        flips = rng.integers(0, len(corrupt), size=rng.integers(1, 8))
        corrupt[flips] = rng.integers(0, 256, size=len(flips), dtype=np.uint8)
        if rng.random() < 0.4:
            corrupt = corrupt[: rng.integers(1, len(corrupt))]
        path = tmp_path / f"fuzz_{i}.{fmt.lower()}"
        path.write_bytes(corrupt.tobytes())
        x = run_with_deadline(functools.partial(check_contract, path, path.name))
        outcomes["loaded" if x is not None else "refused"] += 1
    assert outcomes["refused"] > 0  # the corruption really does break some files


# ------------------------------------------------------------------ URLs, from a loopback server
@pytest.fixture()
def local_server(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    served = tmp_path / "served"
    served.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(served))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_is_downloaded_then_cached(local_server, tmp_path):
    server, served, base = local_server
    noisy_rgb(12, 16).save(served / "cat.png")
    (served / "notes.png").write_text("not an image")
    x = load_image(f"{base}/cat.png")
    assert_image(x, (12, 16))
    assert len(list(images.image_cache_dir().iterdir())) == 1
    assert images.image_cache_dir() == tmp_path / "cache" / "images"
    with pytest.raises(ImageLoadError, match=f"{base}/missing.png.*404"):
        load_image(f"{base}/missing.png", timeout=5)
    with pytest.raises(ImageLoadError, match=f"{base}/notes.png"):
        load_image(f"{base}/notes.png", timeout=5)
    assert len(list(images.image_cache_dir().iterdir())) == 1  # what did not decode is not cached
    server.shutdown()
    server.server_close()
    assert torch.equal(load_image(f"{base}/cat.png", size=8), load_image(x, size=8))  # from the cache
    with pytest.raises(ImageLoadError, match=f"{base}/other.png"):
        load_image(f"{base}/other.png", timeout=2)  # server gone, nothing cached


# ------------------------------------------------------------------ sizes and in-memory inputs
def test_size_int_sets_the_longer_side_and_tuple_is_exact():
    tall = np.zeros((100, 50, 3), np.uint8)
    assert_image(load_image(tall, size=40), (40, 20))
    assert_image(load_image(tall.transpose(1, 0, 2), size=40), (20, 40))
    assert_image(load_image(tall, size=(30, 70)), (30, 70))
    assert_image(load_image(tall, size=400), (400, 200))
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (64, 1))
    assert_image(load_image(ramp, size=17))  # resampling overshoot is clamped
    for bad in (0, -3, 2.5, (10,), (10, 0), "big", True):
        with pytest.raises(ValueError, match="size"):
            load_image(tall, size=bad)


def test_arrays_of_each_kind():
    rgb = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    assert torch.allclose(load_image(rgb)[0].permute(1, 2, 0), torch.from_numpy(rgb / 255).float())
    assert torch.allclose(load_image(np.full((2, 2), 65535, np.uint16)), torch.ones(1))
    assert torch.equal(load_image(np.eye(3, dtype=bool))[0, 2], torch.eye(3))
    assert torch.allclose(load_image(np.full((2, 2, 1), 0.5, np.float64)), torch.tensor(0.5))
    rgba = np.zeros((2, 2, 4), np.uint8)  # black, fully transparent -> white
    assert torch.allclose(load_image(rgba), torch.ones(1))
    assert torch.allclose(
        load_image(np.full((2, 2), 1.2, np.float32)), torch.ones(1)
    )  # slight overshoot clipped


@pytest.mark.parametrize(
    "array, match",
    [
        (np.full((4, 4, 3), np.nan, np.float32), "NaN"),
        (np.full((4, 4), np.inf), "NaN or inf"),
        (np.full((4, 4, 3), 255.0), "divide"),
        (np.zeros((3, 8, 8), np.uint8), "channels-first"),
        (np.zeros((2, 4, 4, 3), np.uint8), "shape"),
        (np.zeros((4,), np.uint8), "shape"),
        (np.zeros((0, 4, 3), np.uint8), "zero size"),
        (np.zeros((4, 4), np.int64), "dtype"),
        (np.array([["a"]]), "dtype"),
    ],
)
def test_bad_arrays_are_refused(array, match):
    with pytest.raises(ImageLoadError, match=match) as info:
        load_image(array)
    assert "array input" in str(info.value)


def test_tensors_pil_and_unsupported_types():
    rgb = torch.rand(3, 5, 7)
    original = rgb.clone()
    out = load_image(rgb)
    assert torch.equal(out[0], rgb)
    out.fill_(0.0)  # the result never shares memory with the input
    assert torch.equal(rgb, original)
    assert torch.equal(load_image(rgb[None]), original[None])
    assert torch.equal(load_image(rgb[0])[0, 2], original[0])  # (H, W)
    assert_image(load_image(torch.rand(1, 3, 4, 4, requires_grad=True)), (4, 4))
    assert_image(load_image(torch.full((1, 1, 3, 3), 255, dtype=torch.uint8)), (3, 3))
    for bad, match in (
        (torch.rand(2, 3, 4, 4), "batch"),
        (torch.rand(5, 4, 4), "shape"),
        (torch.full((3, 2, 2), 9.0), "divide"),
    ):
        with pytest.raises(ImageLoadError, match=match):
            load_image(bad)
    with pytest.raises(ImageLoadError, match="PIL image input has zero size"):
        load_image(Image.new("RGB", (0, 5)))
    pil = Image.new("RGBA", (3, 2), (255, 0, 0, 255))
    assert torch.allclose(load_image(pil)[0, :, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    assert pil.mode == "RGBA" and pil.size == (3, 2)
    for bad in (None, [1, 2, 3], 3.5, {"a": 1}):
        with pytest.raises(ImageLoadError, match=type(bad).__name__):
            load_image(bad)


def test_bytes_of_an_image_file():
    encoded = png_bytes(noisy_rgb(5, 6))
    assert torch.equal(load_image(encoded), load_image(memoryview(encoded)))
    assert_image(load_image(bytearray(encoded)), (5, 6))
    for bad, match in ((b"", "empty"), (b"<html>", "starts with b'<html>'"), (encoded[:60], "decoded")):
        with pytest.raises(ImageLoadError, match=match) as info:
            load_image(bad)
        assert "bytes input" in str(info.value)


def test_numpy_input_is_not_mutated():
    rgba = np.random.default_rng(2).integers(0, 256, (4, 4, 4), dtype=np.uint8)
    before = rgba.copy()
    load_image(rgba, size=8)
    assert np.array_equal(rgba, before)


def test_save_image_round_trip(tmp_path):
    image = torch.rand(1, 3, 9, 11)
    image[0, 0, 0, 0] = 1.5  # out of range: clamped when saved, not in the caller's tensor
    before = image.clone()
    path = save_image(image, tmp_path / "new" / "dir" / "out.png")
    assert path == tmp_path / "new" / "dir" / "out.png" and path.is_file()
    assert torch.equal(image, before)
    back = load_image(path)
    assert torch.allclose(back, image.clamp(0, 1), atol=0.5 / 255 + 1e-6)
    jpeg = save_image(image[0], tmp_path / "out.jpg")
    assert_image(load_image(jpeg), (9, 11))
    assert abs(float(load_image(jpeg).mean() - image.clamp(0, 1).mean())) < 0.05
    with pytest.raises(ValueError, match="out.bmpx"):
        save_image(image, tmp_path / "out.bmpx")
    assert to_pil(image).size == (11, 9) and to_numpy_image(image).shape == (9, 11, 3)


# ------------------------------------------------------------------ samples
@pytest.mark.parametrize("name", sorted(list_samples()))
def test_every_sample_loads_offline(name):
    x = sample_image(name)
    assert_image(x)
    assert_image(sample_image(name, size=32))
    assert max(sample_image(name, size=32).shape[2:]) == 32
    description = list_samples()[name]
    assert "Source" in description or "Generated" in description
    assert any(
        word in description for word in ("public domain", "Public domain", "CC0", "CC BY", "copyright")
    )


def _orange_and_stripes(name: str, size=None):
    x = sample_image(name, size=size)[0].numpy()  # (3, H, W)
    r, g, b = x
    orange = (r - b > 0.3) & (r > g)
    dx = np.abs(np.diff(x, axis=2)).sum(axis=0)  # (H, W-1): vertical stripes give horizontal changes
    dy = np.abs(np.diff(x, axis=1)).sum(axis=0)  # (H-1, W)
    both_orange = orange[:, 1:] & orange[:, :-1]
    both_plain = ~orange[:, 1:] & ~orange[:, :-1]
    return orange, dx, dy, both_orange, both_plain


@pytest.mark.parametrize("size", [None, 100, (64, 160)])
def test_stripes_orange_has_stripes_exactly_where_it_is_orange(size):
    orange, dx, dy, both_orange, both_plain = _orange_and_stripes("stripes_orange", size)
    assert 0.1 < orange.mean() < 0.6
    assert dx[both_orange].mean() > 0.2  # striped inside orange: a 0.76 step every 3 columns
    assert dx[both_plain].max() == 0.0  # plain, unstriped background
    assert dy[orange[1:] & orange[:-1]].mean() < 0.01  # the stripes are vertical


def test_contrast_images_have_one_property_each():
    orange, dx, _, _, both_plain = _orange_and_stripes("stripes_only")
    assert not orange.any() and dx[both_plain].mean() > 0.05  # stripes, no orange
    orange, dx, _, both_orange, _ = _orange_and_stripes("orange_only")
    assert orange.mean() > 0.1 and dx[both_orange].max() == 0.0  # orange, no stripes


def test_generated_samples_are_deterministic_and_sized():
    np_state, torch_state = np.random.get_state()[1].copy(), torch.random.get_rng_state()
    assert torch.equal(sample_image("noise"), sample_image("noise"))
    assert np.array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert_image(sample_image("stripes_orange"), samples.DEFAULT_GENERATED_SIZE)
    assert_image(sample_image("checkerboard", size=(40, 90)), (40, 90))
    assert_image(sample_image("gradient", size=50), (50, 50))
    assert_image(sample_image("astronaut", size=(20, 30)), (20, 30))


def test_unknown_sample_suggests_names():
    with pytest.raises(ValueError, match="Did you mean 'astronaut'") as info:
        sample_image("astronot")
    assert "stripes_orange" in str(info.value)
    with pytest.raises(ValueError, match="Available"):
        sample_image("zzzz")


def test_no_work_at_import():
    code = (
        "import sys, coursekit.images, coursekit.samples, coursekit.plots\n"
        "heavy = [m for m in ('matplotlib.pyplot', 'skimage', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
