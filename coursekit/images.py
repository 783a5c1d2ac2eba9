"""Loading images robustly, and saving them.

Every image in the course goes through :func:`load_image`, which turns whatever the learner has
(a path, an http(s) URL, a PIL image, a numpy array or a torch tensor) into one shape:
a float32 tensor ``(1, 3, H, W)`` with values in ``[0, 1]``.

Anything that cannot become such an image is refused with :class:`ImageLoadError` (a ``ValueError``)
whose message names the input, says what is wrong and what to do, never a bare traceback from deep
inside PIL. Offline sample images live in :mod:`coursekit.samples`, which builds on this module.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import stat
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path
from typing import Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "ImageLoadError",
    "ImageSource",
    "load_image",
    "save_image",
    "to_pil",
    "to_numpy_image",
    "image_cache_dir",
    "target_size",
    "resize_image",
]

ImageSource = Union[str, "os.PathLike[str]", bytes, Image.Image, np.ndarray, torch.Tensor]
Size = Union[int, "tuple[int, int]", None]

DEFAULT_MAX_PIXELS = 50_000_000  # 50 megapixels: ~600 MB as float32 RGB, more than any lesson needs
DEFAULT_MAX_BYTES = 200 * 2**20  # no sane image file for this course is larger than 200 MiB
# Float inputs within this range are clipped to [0, 1] (optimisers overshoot a little); beyond it the
# scale is wrong (0-255 data, or a mean/std-normalised tensor) and clipping would hide the mistake.
_FLOAT_RANGE = (-1.0, 2.0)
# Raster formats we let Pillow open. Others are refused: EPS would run Ghostscript on the file, and
# exotic decoders add risk without helping a lesson.
_FORMATS = (
    "PNG",
    "JPEG",
    "GIF",
    "BMP",
    "DIB",
    "TIFF",
    "WEBP",
    "AVIF",
    "PPM",
    "TGA",
    "ICO",
    "QOI",
    "JPEG2000",
)


class ImageLoadError(ValueError):
    """An input could not be turned into a ``(1, 3, H, W)`` image; the message says why and what to do."""


def image_cache_dir() -> Path:
    """Folder of cached downloads: ``$COURSEKIT_CACHE/images``, else ``~/.cache/coursekit/images``."""
    from .cache import cache_root

    return cache_root() / "images"


def load_image(
    source: ImageSource,
    size: Size = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = 10.0,
) -> torch.Tensor:
    """Load an image as a float32 tensor of shape ``(1, 3, H, W)`` with values in ``[0, 1]``.

    ``source`` may be a file path, an ``http(s)://`` URL (downloaded once, then read from
    :func:`image_cache_dir`), the bytes of an image file (e.g. from an ``ipywidgets.FileUpload``),
    a PIL image, a numpy array ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` (uint8 /255,
    uint16 /65535, bool, or float in ``[0, 1]``; floats within ``[-1, 2]`` are clipped, others refused
    as a wrong scale), or a tensor ``(H, W)``, ``(1|3, H, W)`` or ``(1, 1|3, H, W)`` (detached, copied).

    ``size=None`` keeps the size; ``size=int`` resizes so that the LONGER side equals ``size`` and
    the aspect ratio is kept; ``size=(H, W)`` resizes to exactly that. Resizing is bicubic with
    antialiasing, and the result is clamped to ``[0, 1]``.

    Files: grayscale and 1-bit become gray RGB; transparency (RGBA, LA, PA, palette with
    transparency) is composited on white; 16-bit and 32-bit-integer images are divided by 65535;
    32-bit float images are clipped to ``[0, 1]``; CMYK is converted; EXIF orientation is applied;
    the format is read from the content, not the extension; an animated image gives its first frame.
    Images with more than ``max_pixels`` pixels (checked from the header, before decoding) and files
    larger than ``max_bytes`` are refused; so is anything Pillow's own decompression-bomb limit rejects.

    Raises:
        ImageLoadError: the input is missing, empty, truncated, not an image, too large, of a shape
            or type that is not an image, or contains NaN/inf. Never another exception type.
    """
    target_size(size, 1, 1)  # a bad size fails now, before any download
    if isinstance(source, torch.Tensor):
        image = _tensor_to_image(source, "tensor input")
    elif isinstance(source, np.ndarray):
        image = _array_to_image(source, "array input")
    elif isinstance(source, Image.Image):
        image = _pil_to_image(source, "PIL image input", max_pixels)
    elif isinstance(source, str) and source.lower().startswith(("http://", "https://")):
        image = _load_url(source, max_pixels, max_bytes, timeout)
    elif isinstance(source, (str, os.PathLike)):
        image = _load_path(Path(source).expanduser(), max_pixels, max_bytes)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        image = _decode_bytes(bytes(source), "bytes input", max_pixels, max_bytes)
    else:
        raise ImageLoadError(
            f"cannot load an image from a {type(source).__name__}: pass a file path, an http(s) URL, "
            "the bytes of an image file, a PIL image, a numpy array (H, W[, 3|4]) or a torch tensor "
            "(1, 3, H, W)."
        )
    return resize_image(image, size)


def target_size(size: Size, height: int, width: int) -> tuple[int, int]:
    """The (H, W) an image of ``height x width`` gets for ``size`` (see :func:`load_image`).

    ``None`` keeps ``(height, width)``; an int sets the longer side and keeps the aspect ratio;
    ``(H, W)`` is taken as is.
    """
    if size is None:
        return height, width
    if isinstance(size, int) and not isinstance(size, bool) and size > 0:
        scale = size / max(height, width)
        return max(1, round(height * scale)), max(1, round(width * scale))
    if (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)
    ):
        return int(size[0]), int(size[1])
    raise ValueError(
        f"size={size!r} is not valid: use None (keep), a positive int (longer side) or a tuple (H, W)."
    )


def resize_image(image: torch.Tensor, size: Size) -> torch.Tensor:
    """Resize (B, 3, H, W) images to :func:`target_size`; bicubic with antialiasing, clamped. Never in place."""
    _, _, h, w = image.shape
    target = target_size(size, h, w)
    if target == (h, w):
        return image
    resized = F.interpolate(image, size=target, mode="bicubic", align_corners=False, antialias=True)
    return resized.clamp_(0.0, 1.0)  # in place on a fresh tensor: bicubic overshoots slightly


def _load_path(path: Path, max_pixels: int, max_bytes: int) -> torch.Tensor:
    label = f"image file '{path}'"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageLoadError(
            f"{label} does not exist: check the path (relative paths start at {Path.cwd()})."
        ) from None
    except OSError as err:
        raise ImageLoadError(
            f"{label} cannot be accessed ({err}): check the path and its permissions."
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageLoadError(
            f"{label} is a directory, not an image: pass the path of one image file inside it."
        )
    if not stat.S_ISREG(info.st_mode):
        # FIFOs and devices (e.g. /dev/zero) would block or never end: refuse before opening them.
        raise ImageLoadError(f"{label} is not a regular file (a pipe, socket or device): pass an image file.")
    if info.st_size == 0:
        raise ImageLoadError(
            f"{label} is empty (0 bytes): the download or copy probably failed; get the file again."
        )
    if info.st_size > max_bytes:
        raise ImageLoadError(
            f"{label} is {info.st_size} bytes, more than max_bytes={max_bytes}: use a smaller image "
            "or pass a larger max_bytes."
        )
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)  # capped even if the file grows while we read
    except OSError as err:
        raise ImageLoadError(f"{label} could not be read ({err}): check its permissions.") from None
    return _decode_bytes(data, label, max_pixels, max_bytes)


def _load_url(url: str, max_pixels: int, max_bytes: int, timeout: float) -> torch.Tensor:
    label = f"image URL '{url}'"
    suffix = Path(urllib.parse.urlsplit(url).path).suffix.lower()
    suffix = suffix if suffix.isascii() and 1 < len(suffix) <= 6 and suffix[1:].isalnum() else ""
    cached = image_cache_dir() / (hashlib.sha256(url.encode("utf-8")).hexdigest()[:32] + suffix)
    if cached.is_file():
        try:
            return _decode_bytes(cached.read_bytes()[: max_bytes + 1], label, max_pixels, max_bytes)
        except (ImageLoadError, OSError):
            cached.unlink(missing_ok=True)  # a corrupt cache entry: fetch it again below
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "coursekit"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as err:
        raise ImageLoadError(
            f"{label} could not be downloaded: HTTP {err.code} {err.reason}. Check the address, "
            "or download the image yourself and pass its path."
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise ImageLoadError(
            f"{label} could not be downloaded ({reason}). Are you offline? Download the image "
            "yourself and pass its path, or use coursekit.samples.sample_image()."
        ) from None
    image = _decode_bytes(data, label, max_pixels, max_bytes)
    try:  # cache only what decoded; write then rename so a crash never leaves half a file
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(cached.name + f".{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, cached)
    except OSError:
        pass  # a read-only home only costs a second download
    return image


def _decode_bytes(data: bytes, label: str, max_pixels: int, max_bytes: int) -> torch.Tensor:
    if len(data) == 0:
        raise ImageLoadError(f"{label} is empty (0 bytes): get the file again.")
    if len(data) > max_bytes:
        raise ImageLoadError(
            f"{label} is larger than max_bytes={max_bytes}: use a smaller image or raise max_bytes."
        )
    with warnings.catch_warnings():
        # Pillow warns (and over 2x its limit raises) on decompression bombs; we refuse both,
        # without touching Pillow's global Image.MAX_IMAGE_PIXELS.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            Image.init()  # registers every plugin, so the list below can be checked against it
            img = Image.open(io.BytesIO(data), formats=[f for f in _FORMATS if f in Image.OPEN])
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as err:
            raise ImageLoadError(
                f"{label} is refused as a decompression bomb ({err}): use a smaller image."
            ) from None
        except UnidentifiedImageError:
            raise ImageLoadError(
                f"{label} is not in an image format coursekit reads (it starts with {data[:16]!r}). Is it "
                "really a PNG, JPEG, GIF, BMP, TIFF or WebP image? A web page saved by mistake starts "
                "with b'<'; download the image again, or convert it to PNG."
            ) from None
        except Exception as err:  # Pillow raises many types for garbage: one clear message instead
            raise ImageLoadError(
                f"{label} could not be decoded as an image ({type(err).__name__}: {err}). Is it really "
                "an image (PNG, JPEG, ...)? Open it in an image viewer, or download it again."
            ) from None
        return _pil_to_image(img, label, max_pixels)


def _pil_to_image(img: Image.Image, label: str, max_pixels: int) -> torch.Tensor:
    w, h = img.size  # from the header: nothing is decoded yet
    if w == 0 or h == 0:
        raise ImageLoadError(f"{label} has zero size ({w}x{h}): it holds no pixels; use another image.")
    if w * h > max_pixels:
        raise ImageLoadError(
            f"{label} is {w}x{h} = {w * h} pixels, more than max_pixels={max_pixels} (a possible "
            "decompression bomb): use a smaller image, or pass a larger max_pixels if you trust it."
        )
    try:
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)  # animated GIF/PNG/WebP: the first frame
        img.load()  # decodes; a truncated file raises here (LOAD_TRUNCATED_IMAGES is left alone)
    except Exception as err:
        raise ImageLoadError(
            f"{label} could not be decoded ({type(err).__name__}: {err}). The file is probably "
            "truncated or corrupt: download or copy it again."
        ) from None
    try:
        img = ImageOps.exif_transpose(img) or img
    except Exception:
        pass  # malformed EXIF: keep the pixels as stored rather than refuse the image
    try:
        array = _pil_to_array(img)
    except Exception as err:
        raise ImageLoadError(
            f"{label} has an image mode Pillow cannot convert to RGB ({img.mode}: {err}): "
            "convert it to RGB in an image editor first."
        ) from None
    return _array_to_image(array, label)


def _pil_to_array(img: Image.Image) -> np.ndarray:
    """A decoded PIL image as an (H, W) or (H, W, 3|4) array; alpha kept for compositing on white."""
    mode = img.mode
    if mode.startswith("I;16") or mode == "I":
        # 16-bit (and 32-bit integer) images: full scale is 65535.
        return np.clip(np.asarray(img).astype(np.float64) / 65535.0, 0.0, 1.0).astype(np.float32)
    if mode == "F":
        return np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)  # NaN survives clip: refused downstream
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        return np.asarray(img.convert("RGBA"))
    if mode == "L":
        return np.asarray(img)
    return np.asarray(img.convert("RGB"))  # 1, P, CMYK, YCbCr, RGBX, ...


def _array_to_image(array: np.ndarray, label: str) -> torch.Tensor:
    if array.dtype == np.uint8:
        values = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        values = (array.astype(np.float64) / 65535.0).astype(np.float32)
    elif array.dtype == np.bool_:
        values = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        values = _checked_floats(array.astype(np.float32), label)
    else:
        raise ImageLoadError(
            f"{label} has dtype {array.dtype}, which is not an image type: use uint8 (0-255), "
            "uint16 (0-65535), bool, or float in [0, 1] (e.g. array.astype(np.uint8) or array / 255)."
        )
    if values.ndim == 3 and values.shape[-1] == 1:
        values = values[..., 0]
    if values.ndim == 3 and values.shape[-1] not in (3, 4) and values.shape[0] in (1, 3, 4):
        raise ImageLoadError(
            f"{label} has shape {array.shape}, which looks channels-first: numpy images are (H, W, C); "
            "use array.transpose(1, 2, 0)."
        )
    if values.ndim == 2:
        values = np.repeat(values[..., None], 3, axis=-1)
    elif values.ndim != 3 or values.shape[-1] not in (3, 4):
        raise ImageLoadError(
            f"{label} has shape {array.shape}: an image array is (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)."
        )
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ImageLoadError(f"{label} has zero size {array.shape}: it holds no pixels.")
    if values.shape[-1] == 4:  # composite on white: out = a * rgb + (1 - a) * 1
        alpha = values[..., 3:]
        values = values[..., :3] * alpha + (1.0 - alpha)
    image = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32)).permute(2, 0, 1)  # (3, H, W)
    return image.unsqueeze(0).clamp(0.0, 1.0).contiguous()  # (1, 3, H, W), a fresh tensor


def _checked_floats(values: np.ndarray, label: str) -> np.ndarray:
    if not np.isfinite(values).all():
        raise ImageLoadError(f"{label} contains NaN or inf values: fix the computation that produced it.")
    if values.size and (values.min() < _FLOAT_RANGE[0] or values.max() > _FLOAT_RANGE[1]):
        raise ImageLoadError(
            f"{label} has float values in [{values.min():.3g}, {values.max():.3g}], but float images are in "
            "[0, 1]: divide 0-255 data by 255, or undo a mean/std normalisation first."
        )
    return np.clip(values, 0.0, 1.0)


def _tensor_to_image(tensor: torch.Tensor, label: str) -> torch.Tensor:
    t = tensor.detach().to("cpu")
    if t.is_complex():
        raise ImageLoadError(
            f"{label} is complex ({t.dtype}): an image tensor is real, e.g. float32 in [0, 1]."
        )
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ImageLoadError(
                f"{label} has shape {tuple(t.shape)}: a batch of {t.shape[0]} images; pass one, e.g. x[0:1]."
            )
        t = t[0]
    if t.ndim == 3 and t.shape[0] in (1, 3):
        t = t.permute(1, 2, 0)  # (H, W, C) like a numpy image
    elif t.ndim != 2:
        raise ImageLoadError(
            f"{label} has shape {tuple(t.shape)}: an image tensor is (H, W), (1|3, H, W) or (1, 1|3, H, W)."
        )
    array = t.to(torch.float32).numpy() if t.is_floating_point() else t.numpy()
    return _array_to_image(array, label)  # always copies: the caller's tensor is never shared


def save_image(image: ImageSource, path: str | os.PathLike[str]) -> Path:
    """Save an image (a ``(1, 3, H, W)`` or ``(3, H, W)`` tensor in ``[0, 1]``, or anything
    :func:`load_image` accepts in memory) as PNG or JPEG, chosen by the extension of ``path``.

    Values are clamped to ``[0, 1]``; the input is not modified. Parent folders are created.
    Returns the path written.
    """
    path = Path(path).expanduser()
    formats = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
    fmt = formats.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot save '{path}': the extension must be .png, .jpg or .jpeg.")
    pil = to_pil(image)
    path.parent.mkdir(parents=True, exist_ok=True)
    pil.save(path, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return path


def to_numpy_image(image: ImageSource) -> np.ndarray:
    """An image as a float32 numpy array ``(H, W, 3)`` in ``[0, 1]``, ready for ``plt.imshow``."""
    return load_image(image)[0].permute(1, 2, 0).numpy()


def to_pil(image: ImageSource) -> Image.Image:
    """An image (tensor ``(1, 3, H, W)``/``(3, H, W)``, array, PIL, path) as an 8-bit RGB PIL image."""
    array = np.round(to_numpy_image(image) * 255.0).astype(np.uint8)
    return Image.fromarray(array)  # (H, W, 3) uint8 is RGB
