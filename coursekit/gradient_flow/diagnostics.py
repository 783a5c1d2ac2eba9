"""Training diagnostics for deep MLPs: symmetric initialisation, dead ReLUs, Karpathy's four
statistics (makemore part 3) and Glorot & Bengio's saturating top layer.

Every study trains with ``sgd_steps`` (plain SGD, seeded minibatches, one CPU thread) in the
model's dtype (float64), so that its printed numbers are the same on any CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..accuracy import accuracy  # noqa: F401  (re-exported: lesson 09 imports it from here)
from .analysis import single_thread
from .mlp import DeepMLP, MLPConfig, make_mlp

__all__ = ["sgd_steps", "accuracy", "fill_weights_", "distinct_units", "dead_fraction", "gain_mlp",
           "TANH_SATURATION", "saturated_share", "grad_data_ratio", "update_data_ratio", "Diagnostics",
           "karpathy_diagnostics", "uniform_standard_init_", "layer_means_during_training"]

TANH_SATURATION = 0.97  # Karpathy's threshold: |tanh| > 0.97 means tanh' = 1 - t^2 < 0.06


def sgd_steps(model: DeepMLP, x: Tensor, y: Tensor, *, steps: int, lr: float, batch_size: int = 64, seed: int = 0,
              callback: Callable[[int, float], None] | None = None) -> list[float]:
    """``steps`` steps of plain SGD on the cross-entropy of minibatches of (x (N, in_dim), y (N,))
    drawn with replacement by ``seed``, in training mode, on one thread. ``callback(step, loss)``
    runs after the backward pass and before the update (the gradients are in ``p.grad``).
    Returns the loss of each step."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    with single_thread():
        for step in range(steps):
            idx = torch.randint(0, len(x), (batch_size,), generator=g)
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            losses.append(loss.item())
            if callback is not None:
                callback(step, losses[-1])
            opt.step()
    return losses


# ---- symmetry ------------------------------------------------------------------------------
def fill_weights_(model: DeepMLP, value: float) -> DeepMLP:
    """Set every weight of every Linear (hidden and output) to ``value`` and every bias to 0, in
    place: the symmetric initialisation. Returns the model."""
    with torch.no_grad():
        for linear in model.linears():
            linear.weight.fill_(value)
            linear.bias.zero_()
    return model


def distinct_units(weight: Tensor, tol: float = 1e-9) -> int:
    """How many different units a layer has: the number of distinct rows of W (fan_out, fan_in),
    two rows being the same when they differ by at most ``tol`` times the largest |W| (+ tol)."""
    weight = weight.detach()
    scale = tol * (float(weight.abs().max()) + 1.0)
    reps: list[Tensor] = []
    for row in weight:
        if not any(float((row - r).abs().max()) <= scale for r in reps):
            reps.append(row)
    return len(reps)


# ---- dead ReLUs ----------------------------------------------------------------------------
def dead_fraction(model: DeepMLP, x: Tensor) -> list[float]:
    """Per hidden layer, the fraction of units that are never active on the batch ``x``: z^[l]_j <= 0
    for every example, so a ReLU unit outputs 0 and passes no gradient for any of them."""
    with torch.no_grad():
        _, zs, _ = model.forward_with_activations(x)
    return [float((z <= 0).all(dim=0).to(torch.float64).mean()) for z in zs]


# ---- Karpathy's diagnostics (makemore part 3) --------------------------------------------------
def gain_mlp(depth: int, gain: float, batch_norm: bool = False, width: int = 64, seed: int = 0) -> DeepMLP:
    """A tanh MLP whose hidden weights are N(0, (gain / sqrt(fan_in))^2), torch's kaiming_normal_ with
    that gain (5/3 is torch's recommended gain for tanh); the output layer keeps Xavier's scale and
    biases start at 0. With ``batch_norm``, z^[l] is batch-normalised before tanh."""
    model = make_mlp(MLPConfig(depth=depth, width=width, activation="tanh", init="xavier", batch_norm=batch_norm,
                               seed=seed))
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for block in model.blocks:
            w = block.linear.weight  # (fan_out, fan_in)
            w.copy_(torch.randn(w.shape, generator=g, dtype=w.dtype) * gain / math.sqrt(w.shape[1]))
    return model


def saturated_share(a: Tensor, threshold: float = TANH_SATURATION) -> float:
    """Fraction of the entries of a tanh output with |a| > ``threshold`` (there tanh' = 1 - a^2 < 0.06)."""
    return float((a.abs() > threshold).to(torch.float64).mean())


def grad_data_ratio(weight: Tensor, grad: Tensor) -> float:
    """std(dL/dW) / std(W): how large the gradient is against the weights it will change."""
    return float(grad.std() / weight.std())


def update_data_ratio(weight: Tensor, grad: Tensor, lr: float) -> float:
    """log10(std(lr * dL/dW) / std(W)): the size of one SGD update against the weights' own spread.
    Karpathy's rule of thumb: about -3 (each step changes the weights by about a thousandth)."""
    return math.log10(float((lr * grad).std() / weight.std()))


@dataclass
class Diagnostics:
    """Karpathy's four views of one network. At initialisation, one forward/backward pass on a
    batch: ``activations`` a^[l] and ``activation_grads`` dL/da^[l] (B, width) per hidden layer,
    ``saturated`` (share |a^[l]| > 0.97), ``grad_data`` (std(dL/dW^[l]) / std(W^[l])). Over
    training: ``update_data[t][l]`` = log10(std(lr dL/dW^[l]) / std(W^[l])) at step t, and the
    ``losses``; ``accuracy`` at the end on the whole data."""

    gain: float
    batch_norm: bool
    saturated: list[float]
    grad_data: list[float]
    update_data: list[list[float]] = field(repr=False)
    losses: list[float] = field(repr=False)
    accuracy: float
    activations: list[Tensor] = field(repr=False)
    activation_grads: list[Tensor] = field(repr=False)


def karpathy_diagnostics(model: DeepMLP, x: Tensor, y: Tensor, *, steps: int = 100, lr: float = 0.1,
                         batch_size: int = 64, seed: int = 0, gain: float = float("nan")) -> Diagnostics:
    """The statistics of ``Diagnostics`` for ``model`` (hidden layers l = 1..L) on (x, y): first one
    pass on the first ``batch_size`` examples at initialisation, then ``steps`` SGD steps (``sgd_steps``)
    recording the update:data ratio of every hidden weight matrix."""
    weights = [block.linear.weight for block in model.blocks]
    model.train()
    with single_thread():
        logits, _, acts = model.forward_with_activations(x[:batch_size])
        for a in acts:
            a.retain_grad()
        model.zero_grad()
        F.cross_entropy(logits, y[:batch_size]).backward()
    act_grads = [a.grad.detach().clone() for a in acts]
    grad_data = [grad_data_ratio(w.detach(), w.grad) for w in weights]
    model.zero_grad()
    update_data: list[list[float]] = []

    def record(step: int, loss: float) -> None:
        update_data.append([update_data_ratio(w.detach(), w.grad, lr) for w in weights])

    losses = sgd_steps(model, x, y, steps=steps, lr=lr, batch_size=batch_size, seed=seed, callback=record)
    acts = [a.detach() for a in acts]
    return Diagnostics(gain=gain, batch_norm=model.config.batch_norm, saturated=[saturated_share(a) for a in acts],
                       grad_data=grad_data, update_data=update_data, losses=losses,
                       accuracy=accuracy(model, x, y), activations=acts, activation_grads=act_grads)


# ---- Glorot & Bengio (2010): the top sigmoid layer saturates first ------------------------------
def uniform_standard_init_(model: DeepMLP, seed: int = 0) -> DeepMLP:
    """The "standard" initialisation Glorot & Bengio (2010, eq. 1) start from:
    W_ij ~ U[-1/sqrt(n), 1/sqrt(n)] with n = fan_in, biases 0, for every Linear. In place; returns the model."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for linear in model.linears():
            w = linear.weight
            bound = 1.0 / math.sqrt(w.shape[1])
            w.copy_((2 * torch.rand(w.shape, generator=g, dtype=w.dtype) - 1) * bound)
            linear.bias.zero_()
    return model


def layer_means_during_training(model: DeepMLP, x: Tensor, y: Tensor, probe: Tensor, *, steps: int, lr: float,
                                batch_size: int = 10, every: int = 10, seed: int = 0) -> tuple[list[int], Tensor]:
    """Glorot & Bengio's figure 2: the mean activation of each hidden layer on the fixed ``probe``
    batch, before the first step and every ``every`` SGD steps. Returns (steps, means (T, L))."""
    when, means = [], []

    def probe_means(step: int) -> None:
        with torch.no_grad():
            _, _, acts = model.forward_with_activations(probe)
        when.append(step)
        means.append(torch.stack([a.mean() for a in acts]))

    probe_means(0)
    sgd_steps(model, x, y, steps=steps, lr=lr, batch_size=batch_size, seed=seed,
              callback=lambda step, loss: probe_means(step) if step % every == 0 and step > 0 else None)
    return when, torch.stack(means)
