"""The results channel from a sandbox to the grader: plain data, no pickle.

The sandbox writes each result (``write``) as one JSON file, ``STEM.json``, in which every tensor
is replaced by ``{"__array__": "STEM_K.npy", "dtype": ..., "shape": [...]}`` and saved beside it
with ``numpy.save(allow_pickle=False)``. The grader reads it back (``read``) without running any
code the sandbox could have planted:

* every file is opened without following links and without blocking, and must be a regular file
  (a FIFO, a device or a link in its place is refused at once);
* the JSON file and each array have a size cap, and so do all of one result's arrays together, and
  all the results of one graded exercise;
* an array's name must be ``STEM_K.npy`` (no other folder), it is read with
  ``numpy.load(allow_pickle=False)``, and its dtype and shape must be the ones the JSON declares;
* nesting deeper than a result can have is refused.

Anything wrong becomes ``{"kind": "error", "message": ...}`` in the grader's own words.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

__all__ = ["write", "read", "MAX_JSON_BYTES", "MAX_ARRAY_BYTES", "MAX_EXERCISE_BYTES"]

MAX_JSON_BYTES = 8 << 20
MAX_ARRAY_BYTES = 256 << 20  # all arrays of one result together
MAX_EXERCISE_BYTES = 512 << 20  # all arrays of all the results of one graded exercise
MAX_DEPTH = 12
DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64", "complex128")


def write(obj: Any, directory: Path, stem: str) -> None:
    """Save ``obj`` (tensors, numbers, strings, None, lists, tuples and str-keyed dicts, as
    ``sandbox.plain`` gives) as ``directory/STEM.json`` plus one ``.npy`` file per tensor. The JSON
    file is written last, under its final name only when complete."""
    import numpy as np
    import torch

    arrays: list[Any] = []

    def encode(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            dtype = str(value.dtype).removeprefix("torch.")
            if dtype not in DTYPES:
                return {"__unsupported__": f"a {dtype} tensor"}
            name = f"{stem}_{len(arrays)}.npy"
            arrays.append((name, value.detach().cpu().numpy()))
            return {"__array__": name, "dtype": dtype, "shape": list(value.shape)}
        if isinstance(value, tuple):
            return {"__tuple__": [encode(v) for v in value]}
        if isinstance(value, list):
            return [encode(v) for v in value]
        if isinstance(value, dict):
            return {"__dict__": {k: encode(v) for k, v in value.items()}}
        return value  # None, bool, int, float, str

    tree = encode(obj)
    for name, array in arrays:
        np.save(directory / name, array, allow_pickle=False)
    tmp = directory / f"{stem}.json.tmp"
    tmp.write_text(json.dumps(tree), encoding="utf-8")
    os.replace(tmp, directory / f"{stem}.json")


def _error(message: str) -> dict[str, str]:
    return {"kind": "error", "message": f"the grader could not read this output ({message})"}


def _regular(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file at most ``limit`` long; None if it is missing. Raises
    ValueError for a link (the file or its folder: a submission could swap ``results`` for a link),
    a FIFO, a device or an over-long file."""
    try:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError:
        raise ValueError("the results folder is not a folder") from None
    try:
        fd = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError:
        raise ValueError("not a regular file") from None
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > limit:
            raise ValueError(f"over the grader's limit of {limit:,} bytes")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"over the grader's limit of {limit:,} bytes")
    return data


def read(directory: Path, stem: str, budget: list[int] | None = None) -> Any:
    """What ``write`` saved as ``STEM``: None if the sandbox never wrote it, an error dict if it is
    not what ``write`` writes. ``budget`` (a one-item list, shared by the results of one exercise)
    is the number of array bytes all of them may still read; each result also has its own cap."""
    import numpy as np
    import torch

    try:
        raw = _regular(directory / f"{stem}.json", MAX_JSON_BYTES)
        if raw is None:
            return None
        tree = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return _error(str(exc)[:120] if isinstance(exc, ValueError) else "nested too deeply")
    shared = budget if budget is not None else [MAX_ARRAY_BYTES]
    budget = [min(MAX_ARRAY_BYTES, shared[0])]
    pattern = re.compile(rf"{re.escape(stem)}_\d+\.npy")

    def decode(value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError("nested too deeply")
        if isinstance(value, list):
            return [decode(v, depth + 1) for v in value]
        if not isinstance(value, dict):
            return value
        if "__tuple__" in value:
            return tuple(decode(v, depth + 1) for v in value["__tuple__"])
        if "__dict__" in value:
            return {str(k): decode(v, depth + 1) for k, v in value["__dict__"].items()}
        if "__unsupported__" in value:
            return {"__unsupported__": str(value["__unsupported__"])[:100]}
        name, dtype, shape = value.get("__array__"), value.get("dtype"), value.get("shape")
        if not (isinstance(name, str) and pattern.fullmatch(name) and dtype in DTYPES and isinstance(shape, list)):
            raise ValueError("an array entry is malformed")
        data = _regular(directory / name, budget[0])
        if data is None:
            raise ValueError("an array is missing")
        budget[0] -= len(data)
        shared[0] -= len(data)
        array = np.load(io.BytesIO(data), allow_pickle=False)
        if str(array.dtype) != dtype or list(array.shape) != shape:
            raise ValueError("an array is not what its entry declares")
        return torch.from_numpy(array.copy())

    try:
        return decode(tree, 0)
    except ValueError as exc:
        return _error(str(exc)[:120])
    except Exception as exc:  # noqa: BLE001  an empty or forged .npy (EOFError, MemoryError...): never the grader's crash
        return _error(f"not what the sandbox writes: {type(exc).__name__}")  # numpy's class, never the file's text
