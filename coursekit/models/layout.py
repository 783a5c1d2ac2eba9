"""Which memory layout runs a VGG's convolutions faster on this machine, measured once and cached.

oneDNN computes a convolution in NCHW or in channels-last (NHWC), and which is faster depends on
the CPU, the torch build and the thread count: on one 2-core machine channels-last ran the shallow
VGG19 convolutions 15 % faster, on another 13 % slower (issue #22). A fixed default loses on one of
them, so ``fastest_layout()`` times the work that dominates style transfer (3x3 convolutions of
VGG19's first two blocks, forward plus the gradient with respect to their input, in both layouts,
interleaved) and keeps the answer in ``cache_root()/layout.json`` under a key naming the CPU, torch
and the thread count (on a GPU: the card and torch). ``COURSEKIT_LAYOUT=channels_last`` or ``=nchw``
skips the measurement.
The two layouts give the same results up to float rounding.
"""

from __future__ import annotations

import platform
import statistics
import time

import torch

from .measured import cached_choice, forced_choice

__all__ = ["LAYOUTS", "fastest_layout", "measure_layouts", "machine_key"]

LAYOUTS = ("nchw", "channels_last")
# (in channels, out channels, side): conv1_2, conv2_2 and conv3_2 of VGG19 at a 128-pixel image.
_WORK = ((64, 64, 128), (128, 128, 64), (256, 256, 32))


def machine_key(device: torch.device | str = "cpu") -> str:
    """What the answer depends on: the CPU model, torch's version and its thread count; on a GPU
    the card's name and torch's version."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} | torch {torch.__version__} | cuda"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu} | torch {torch.__version__} | {torch.get_num_threads()} threads"


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_layouts(rounds: int = 5, device: torch.device | str = "cpu",
                    dtype: torch.dtype = torch.float32) -> dict[str, float]:
    """Milliseconds per pass over ``_WORK`` (forward + input gradient) in each layout on ``device``
    in ``dtype``, median of ``rounds`` interleaved rounds after one warm-up."""
    device = torch.device(device)
    work = []
    with torch.random.fork_rng(devices=[]):  # the caller's random stream is left as it was
        torch.manual_seed(0)
        for c_in, c_out, side in _WORK:
            conv = torch.nn.Conv2d(c_in, c_out, 3, padding=1).requires_grad_(False).to(device, dtype)
            work.append((conv, torch.randn(1, c_in, side, side).to(device, dtype)))
    formats = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}
    prepared = {name: [(conv.to(memory_format=fmt) if name == "channels_last" else conv,
                        x.contiguous(memory_format=fmt)) for conv, x in work] for name, fmt in formats.items()}
    times: dict[str, list[float]] = {name: [] for name in formats}
    for r in range(rounds + 1):
        for name, layers in prepared.items():
            _synchronize(device)
            start = time.perf_counter()
            for conv, x in layers:
                x = x.detach().requires_grad_(True)
                y = conv(x)
                y.backward(torch.ones_like(y))
            _synchronize(device)
            if r:  # the first round warms up
                times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(t) for name, t in times.items()}


def fastest_layout(refresh: bool = False, device: torch.device | str = "cpu") -> str:
    """"channels_last" or "nchw" on ``device``: ``COURSEKIT_LAYOUT`` if set, else the cached
    measurement for this machine (or card), else a new measurement (about half a second), cached."""
    forced = forced_choice("COURSEKIT_LAYOUT", LAYOUTS, "layout")
    if forced:
        return forced
    return cached_choice("layout", machine_key(device), LAYOUTS, lambda: measure_layouts(device=device),
                         lambda ms: min(ms, key=ms.get), refresh)
