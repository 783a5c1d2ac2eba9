"""A machine-dependent choice, measured once per machine and kept in the cache.

``coursekit.models.layout`` (NCHW or channels-last) and ``coursekit.models.precision`` (float32 or
a bfloat16 start) answer "what is fastest here?" by timing, because no fixed default wins on every
CPU. Both keep their answers in ``cache_root()/<name>.json`` under a key naming the machine
(``layout.machine_key``), and both can be forced by an environment variable.
"""

from __future__ import annotations

import json
import os
from typing import Callable, Sequence

from ..cache import cache_root

__all__ = ["forced_choice", "cached_choice"]


def forced_choice(variable: str, options: Sequence[str], what: str) -> str | None:
    """The option the environment variable ``variable`` forces, None when it is unset."""
    forced = os.environ.get(variable, "").strip().lower()
    if forced and forced not in options:
        raise ValueError(f"{variable}={forced!r} is not a {what}; use one of {tuple(options)} or unset it")
    return forced or None


def cached_choice(name: str, key: str, options: Sequence[str], measure: Callable[[], dict[str, float]],
                  choose: Callable[[dict[str, float]], str], refresh: bool = False) -> str:
    """The cached answer for ``key`` in ``cache_root()/<name>.json``, else ``choose(measure())``,
    written back with its measurements (milliseconds). A broken cache is measured again; a
    read-only home measures again next time."""
    path = cache_root() / f"{name}.json"
    try:
        known = json.loads(path.read_text())
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    entry = known.get(key)
    if not refresh and isinstance(entry, dict) and entry.get("fastest") in options:
        return entry["fastest"]
    ms = measure()
    fastest = choose(ms)
    known[key] = {"fastest": fastest, "ms": {k: round(v, 2) for k, v in ms.items()}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known, indent=1))
        tmp.replace(path)
    except OSError:
        pass
    return fastest
