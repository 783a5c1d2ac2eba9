"""A deep MLP to watch gradients vanish or explode: one config dataclass and one builder.

Notation of lesson 09: a^[0] = x; for l = 1..L (``depth`` hidden layers)

    z^[l] = W^[l] a^[l-1] + b^[l]        (then batch norm of z^[l] when ``batch_norm``)
    a^[l] = g(z^[l])                     (a^[l] = a^[l-1] + g(z^[l]) when ``residual``)

with g one of sigmoid, tanh, ReLU max(0, z) or leaky ReLU max(LEAKY_SLOPE * z, z) (Maas et al. 2013),

and the output layer gives logits = W^[L+1] a^[L] + b^[L+1]. Every weight matrix is drawn from
N(0, std^2) with ``std = init_std(fan_in, fan_out, config.init)``; biases start at 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["ACTIVATIONS", "LEAKY_SLOPE", "INITS", "TOO_SMALL_STD", "TOO_LARGE_STD", "init_std", "MLPConfig", "Block",
           "DeepMLP", "make_mlp"]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
LEAKY_SLOPE = 0.01  # leaky ReLU's slope for z < 0 (torch's default): a unit with z < 0 still passes 1% of the gradient
INITS = ("too_small", "too_large", "xavier", "he")
TOO_SMALL_STD = 0.01  # the "W = 0.01 * randn" of many tutorials: fine for 2 layers, fatal for 20
TOO_LARGE_STD = 1.0  # "W = randn": 8x the Xavier std of a 64-wide layer


def init_std(fan_in: int, fan_out: int, kind: str) -> float:
    """Standard deviation of the N(0, std^2) weights of a Linear layer with ``fan_in`` inputs and
    ``fan_out`` outputs (W has shape (fan_out, fan_in)).

    - ``"xavier"`` (Glorot & Bengio 2010, normal form): Var(W) = 2 / (fan_in + fan_out), so
      std = sqrt(2 / (fan_in + fan_out)); keeps the variance of activations and of gradients
      roughly constant through layers whose g'(0) = 1 (tanh).
    - ``"he"`` (He et al. 2015): Var(W) = 2 / fan_in, std = sqrt(2 / fan_in); the 2 makes up for
      ReLU zeroing half of its inputs, so E[(a^[l])^2] stays constant through a ReLU net.
    - ``"too_small"``: std = 0.01 whatever the fan; ``"too_large"``: std = 1.0.
    """
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"fan_in and fan_out must be positive, got fan_in={fan_in}, fan_out={fan_out}")
    if kind == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if kind == "he":
        return math.sqrt(2.0 / fan_in)
    if kind == "too_small":
        return TOO_SMALL_STD
    if kind == "too_large":
        return TOO_LARGE_STD
    raise ValueError(f"unknown initialisation {kind!r}; choose one of {INITS}")


@dataclass(frozen=True)
class MLPConfig:
    """Everything that defines the network; ``make_mlp(config)`` builds it.

    ``depth`` hidden layers of ``width`` units after an input of ``in_dim`` (64: the 8x8 digits),
    ``out_dim`` logits; ``activation`` in ACTIVATIONS, ``init`` in INITS; ``batch_norm`` normalises
    z^[l] over the batch before g; ``residual`` adds a^[l-1] to g(z^[l]) in every layer whose input
    width equals ``width`` (all but the first when in_dim != width). ``dtype`` float64 by default,
    so that gradients of 1e-40 or 1e+40 are numbers, not 0 and inf as in float32.
    """

    depth: int = 20
    width: int = 64
    activation: str = "sigmoid"
    init: str = "xavier"
    batch_norm: bool = False
    residual: bool = False
    in_dim: int = 64
    out_dim: int = 10
    seed: int = 0
    dtype: torch.dtype = torch.float64

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {ACTIVATIONS}")
        if self.init not in INITS:
            raise ValueError(f"unknown initialisation {self.init!r}; choose one of {INITS}")
        if self.depth < 1 or self.width < 1 or self.in_dim < 1 or self.out_dim < 1:
            raise ValueError(f"depth, width, in_dim and out_dim must be positive, got {self}")


def activation_fn(name: str):
    """g as a function (not in place): torch.sigmoid, torch.tanh, torch.relu or leaky ReLU (slope LEAKY_SLOPE)."""
    if name == "leaky_relu":
        return lambda z: torch.nn.functional.leaky_relu(z, LEAKY_SLOPE)
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[name]


class Block(nn.Module):
    """One hidden layer: a^[l] = g(BN(W a^[l-1] + b)) (+ a^[l-1] when residual)."""

    def __init__(self, fan_in: int, width: int, activation: str, batch_norm: bool, residual: bool) -> None:
        super().__init__()
        if residual and fan_in != width:
            raise ValueError(f"a residual block needs fan_in == width, got {fan_in} and {width}")
        self.linear = nn.Linear(fan_in, width)
        self.norm = nn.BatchNorm1d(width) if batch_norm else None
        self.activation, self.residual = activation, residual

    def pre_activation(self, a: Tensor) -> Tensor:
        """z^[l] (after batch norm when there is one), (B, width)."""
        z = self.linear(a)
        return self.norm(z) if self.norm is not None else z

    def parts(self, a: Tensor) -> tuple[Tensor, Tensor]:
        """(z^[l], a^[l]) for a^[l-1] = ``a`` (B, fan_in); both (B, width)."""
        z = self.pre_activation(a)
        out = activation_fn(self.activation)(z)
        return z, (a + out if self.residual else out)

    def forward(self, a: Tensor) -> Tensor:  # (B, fan_in) -> (B, width)
        return self.parts(a)[1]


class DeepMLP(nn.Module):
    """``blocks`` (L hidden layers) then ``head`` (the output Linear); ``config`` is kept."""

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.config = c = config
        self.blocks = nn.ModuleList(
            Block(c.in_dim if l == 0 else c.width, c.width, c.activation, c.batch_norm,
                  c.residual and (l > 0 or c.in_dim == c.width))
            for l in range(c.depth))
        self.head = nn.Linear(c.width, c.out_dim)

    def forward(self, x: Tensor) -> Tensor:  # (B, in_dim) -> logits (B, out_dim)
        return self.forward_with_activations(x)[0]

    def forward_with_activations(self, x: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """logits (B, out_dim), [z^[1] .. z^[L]] and [a^[1] .. a^[L]], each (B, width), in the graph."""
        zs, acts, a = [], [], x
        for block in self.blocks:
            z, a = block.parts(a)
            zs.append(z)
            acts.append(a)
        return self.head(a), zs, acts

    def linears(self) -> list[nn.Linear]:
        """W^[1] .. W^[L+1]: the hidden layers' Linear modules, then the head."""
        return [block.linear for block in self.blocks] + [self.head]


def make_mlp(config: MLPConfig) -> DeepMLP:
    """Build the network of ``config`` with its initialisation, seeded by ``config.seed``
    (a private generator: the global torch seed is neither read nor changed)."""
    model = DeepMLP(config).to(config.dtype)
    g = torch.Generator().manual_seed(config.seed)
    with torch.no_grad():
        for linear in model.linears():
            fan_out, fan_in = linear.weight.shape
            std = init_std(fan_in, fan_out, config.init)
            linear.weight.copy_(torch.randn(linear.weight.shape, generator=g, dtype=config.dtype) * std)
            linear.bias.zero_()
    return model
