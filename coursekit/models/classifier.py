"""Training a small image classifier: scikit-learn's 1,797 8x8 digits (offline) and an Adam loop.

Lesson 08 trains :mod:`coursekit.models.mini` networks on them: ``load_digits_data(size=16)``
takes the [0, 1] digits of :mod:`coursekit.digits`, upsamples each 8x8 image bilinearly to 16x16
(``resize_digits``) and splits them seeded into train and test sets; ``train_classifier`` runs Adam with cross-entropy for a few epochs and
returns a history; ``accuracy`` scores a model on a split.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..accuracy import accuracy
from ..digits import resize_digits, sklearn_digits

__all__ = ["Digits", "load_digits_data", "shift_batch", "accuracy", "train_classifier"]


class Digits(NamedTuple):
    """Images (N, 1, size, size) float32 in [0, 1] and labels (N,) int64, for train and test."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_digits_data(size: int = 16, test_fraction: float = 0.2, seed: int = 0) -> Digits:
    """scikit-learn's ``load_digits`` (no download) as tensors, upsampled from 8x8 to ``size`` x ``size``."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1; got {test_fraction}")
    if size < 8:
        raise ValueError(f"size must be at least 8 (the digits are 8x8); got {size}")
    x, y = sklearn_digits()  # (1797, 1, 8, 8) in [0, 1]
    x = resize_digits(x, size).clamp(0.0, 1.0)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    n_test = round(len(y) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return Digits(x[train], y[train], x[test], y[test])


def shift_batch(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by a random whole-pixel offset in [-max_shift, max_shift]^2, zeros shifted in.

    The cheap version of AlexNet's translation augmentation (random crops). Returns a new tensor.
    """
    if max_shift <= 0:
        return x
    b, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    offsets = torch.randint(0, 2 * max_shift + 1, (b, 2), generator=generator)
    return torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offsets.tolist())])


def train_classifier(
    model: nn.Module,
    data: Digits,
    *,
    epochs: int = 8,
    batch_size: int = 64,
    lr: float = 2e-3,
    weight_decay: float = 0.0,
    max_shift: int = 0,
    seed: int = 0,
    callback: Callable[[dict], None] | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` in place with Adam on cross-entropy; returns the history, one entry per epoch.

    History keys: ``epoch``, ``loss`` (mean training loss), ``train_acc``, ``test_acc`` and
    ``seconds`` (cumulative training time, evaluation excluded). Shuffling, augmentation
    (``max_shift``, see :func:`shift_batch`) and dropout draw from ``seed``; torch's global RNG is
    restored afterwards. ``callback(row)`` is called after each epoch with that epoch's numbers.
    """
    history: dict[str, list[float]] = {k: [] for k in ("epoch", "loss", "train_acc", "test_acc", "seconds")}
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    elapsed = 0.0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout masks
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            model.train()
            order = torch.randperm(len(data.y_train), generator=generator)
            total, count = 0.0, 0
            for i in range(0, len(order), batch_size):
                idx = order[i:i + batch_size]
                x, y = shift_batch(data.x_train[idx], max_shift, generator), data.y_train[idx]
                loss = F.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total, count = total + float(loss.detach()) * len(idx), count + len(idx)
            elapsed += time.perf_counter() - start
            row = {"epoch": epoch, "loss": total / count, "train_acc": accuracy(model, data.x_train, data.y_train),
                   "test_acc": accuracy(model, data.x_test, data.y_test), "seconds": elapsed}
            for key, value in row.items():
                history[key].append(value)
            if callback is not None:
                callback(row)
    model.eval()
    return history
