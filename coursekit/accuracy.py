"""Classification accuracy, shared by the topics that train classifiers (lessons 08 and 09)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["accuracy"]


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> float:
    """Fraction of the inputs ``x`` (N, ...) that ``model`` classifies as ``y`` (N,): the argmax of its
    output over dimension 1, in eval mode (batch norm's running statistics); the model is put back
    in the mode it was in."""
    was_training = model.training
    model.eval()
    correct = sum(int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
                  for i in range(0, len(y), batch_size))
    model.train(was_training)
    return correct / max(len(y), 1)
