"""A bfloat16 start: the first evaluations of J(G) with the network in bfloat16, the rest in float32.

On CPUs with AMX a bfloat16 evaluation of style transfer's objective costs about a third of a
float32 one (68 against 196 ms at 256 px on the development machine), but bfloat16 keeps 8 bits of
mantissa: near the minimum its loss can no longer resolve the progress L-BFGS makes (2^-8 is
0.4 %). So the start runs in bfloat16 while the loss still falls by ``DROP`` per ``WINDOW``
evaluations (and for at most half the budget), then optimisation goes on in float32 from the best
image so far. The objective is the same (float32 targets, float32 costs of the bfloat16 features);
every loss the run reports at its end, and the image it returns, come from float32 evaluations.
``coursekit.models.precision`` measures whether this machine gains enough to use it.
"""

from __future__ import annotations

import copy
from typing import Sequence

import torch
from torch import Tensor, nn

from ..models.features import FeatureExtractor

__all__ = ["LowPrecision", "low_precision_copy", "still_falling", "WINDOW", "DROP"]

WINDOW, DROP = 10, 0.01
_COPIES = "_low_precision_copies"  # where an extractor keeps its copies (an attribute, not a module)


class LowPrecision(nn.Module):
    """``extractor``'s network in ``dtype`` and channels-last (a copy): images are rounded to
    ``dtype`` on the way in and the features come out in it, so the convolutions, ReLUs, pools and
    the Gram products run in that precision. ``layers`` are the extractor's."""

    def __init__(self, extractor: FeatureExtractor, dtype: torch.dtype = torch.bfloat16) -> None:
        super().__init__()
        cache = extractor.__dict__.get(_COPIES)
        inner = copy.deepcopy(extractor, {} if cache is None else {id(cache): {}})  # not the copies it keeps
        inner.net = inner.net.to(dtype=dtype, memory_format=torch.channels_last)
        inner.channels_last = True  # oneDNN's bfloat16 kernels work in NHWC
        self.inner, self.dtype, self.layers = inner, dtype, extractor.layers

    def forward(self, x: Tensor, layers: Sequence[str] | None = None) -> dict[str, Tensor]:
        return self.inner(x.to(self.dtype), layers)


def low_precision_copy(extractor: FeatureExtractor, dtype: torch.dtype = torch.bfloat16) -> LowPrecision:
    """``LowPrecision(extractor, dtype)``, made once per extractor and kept on it (outside its
    modules, so its state_dict and ``.to()`` are unchanged)."""
    key = (dtype, next(extractor.parameters()).device)  # a stale copy never survives a move
    copies = extractor.__dict__.get(_COPIES, {})
    if key not in copies:
        low = LowPrecision(extractor, dtype)
        copies = extractor.__dict__.setdefault(_COPIES, {})
        copies[key] = low
    return copies[key]


def still_falling(losses: Sequence[float], window: int = WINDOW, drop: float = DROP) -> bool:
    """True while the best loss of the last ``window`` evaluations is at least ``drop`` (relative)
    below the best before them, or fewer than ``window + 1`` evaluations have run."""
    if len(losses) <= window:
        return True
    before = min(losses[:-window])
    return min(losses[-window:]) <= (1.0 - drop) * before
