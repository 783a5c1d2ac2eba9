"""Whether a VGG's convolutions run much faster in bfloat16 than in float32 here, measured once and cached.

CPUs with AMX (Intel Xeon from Sapphire Rapids on) run oneDNN's bfloat16 convolutions many times
faster than float32 ones: on the 2-core development machine a 64 -> 64 3x3 convolution at 256 px,
forward plus input gradient, took 6.6 ms in bfloat16 (channels-last) against 44-80 ms in float32.
CPUs without it (most laptops) run bfloat16 slower than float32. ``fastest_precision()`` times the
work of ``coursekit.models.layout`` in float32 (its faster layout) and in bfloat16 (channels-last,
the layout oneDNN's bfloat16 kernels use) and answers "bfloat16" only when that is at least
``SPEEDUP_NEEDED`` times faster: a bfloat16 start costs float32 evaluations afterwards (see
``coursekit.nst.precision``), so a small gain does not pay. ``COURSEKIT_PRECISION=float32`` or
``=bfloat16`` skips the measurement.
"""

from __future__ import annotations

import torch

from .layout import machine_key, measure_layouts
from .measured import cached_choice, forced_choice

__all__ = ["PRECISIONS", "SPEEDUP_NEEDED", "fastest_precision", "measure_precisions", "choose_precision"]

PRECISIONS = ("float32", "bfloat16")
SPEEDUP_NEEDED = 1.5


def measure_precisions(device: torch.device | str = "cpu") -> dict[str, float]:
    """Milliseconds per pass over the layout module's convolutions: float32 in its faster layout,
    bfloat16 in channels-last (infinite where the device cannot run bfloat16 convolutions)."""
    float32 = min(measure_layouts(device=device).values())
    try:
        bfloat16 = measure_layouts(device=device, dtype=torch.bfloat16)["channels_last"]
    except RuntimeError:  # e.g. a GPU without bfloat16 convolutions
        bfloat16 = float("inf")
    return {"float32": float32, "bfloat16": bfloat16}


def choose_precision(ms: dict[str, float]) -> str:
    """"bfloat16" when it is at least ``SPEEDUP_NEEDED`` times faster than float32, else "float32"."""
    return "bfloat16" if ms["bfloat16"] * SPEEDUP_NEEDED <= ms["float32"] else "float32"


def fastest_precision(refresh: bool = False, device: torch.device | str = "cpu") -> str:
    """"bfloat16" or "float32" on ``device``: ``COURSEKIT_PRECISION`` if set, else the cached
    measurement for this machine (or card), else a new measurement (about a second), cached."""
    forced = forced_choice("COURSEKIT_PRECISION", PRECISIONS, "precision")
    if forced:
        return forced
    return cached_choice("precision", machine_key(device), PRECISIONS, lambda: measure_precisions(device),
                         choose_precision, refresh)
