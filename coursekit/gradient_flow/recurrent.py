"""A small tanh recurrent network: where vanishing and exploding gradients and clipping come from.

Elman's recurrence, in the notation of Pascanu, Mikolov & Bengio (2013), "On the difficulty of
training recurrent neural networks":

    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b),   h_0 = 0,   logits = V h_T + c

The gradient of a loss at the last step with respect to an earlier state is a product of the SAME
kind of Jacobian at every step (their eq. 3-5):

    dL/dh_t = (dh_T/dh_t)^T dL/dh_T,   dh_T/dh_t = prod_{k=t+1}^{T} diag(1 - h_k^2) W_hh

so ||dL/dh_t|| <= ||W_hh||_2^{T-t} ||dL/dh_T|| (tanh' <= 1): it vanishes geometrically when the
spectral norm ||W_hh||_2 < 1 (their sufficient condition, with gamma = 1 for tanh); only when it is
> 1 can it explode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .analysis import clip_grad_norm_, global_norm, single_thread

__all__ = ["RNNConfig", "TanhRNN", "make_rnn", "memory_task", "state_gradients", "RNNHistory", "train_rnn"]


@dataclass(frozen=True)
class RNNConfig:
    """``hidden`` units, ``inputs`` input features, ``classes`` outputs; W_hh = ``rho`` * Q with Q a
    random orthogonal matrix, so that every singular value of W_hh, and its spectral norm, is exactly
    ``rho``; W_xh ~ N(0, 1/inputs), V ~ N(0, 1/hidden), biases 0; float64."""

    hidden: int = 32
    inputs: int = 8
    classes: int = 4
    rho: float = 1.0
    seed: int = 0
    dtype: torch.dtype = torch.float64


class TanhRNN(nn.Module):
    """h_t = tanh(W_hh h_{t-1} + W_xh x_t + b); logits = V h_T + c. ``forward`` returns (logits, states)."""

    def __init__(self, config: RNNConfig) -> None:
        super().__init__()
        self.config = c = config
        self.w_hh = nn.Parameter(torch.zeros(c.hidden, c.hidden, dtype=c.dtype))
        self.w_xh = nn.Parameter(torch.zeros(c.hidden, c.inputs, dtype=c.dtype))
        self.b = nn.Parameter(torch.zeros(c.hidden, dtype=c.dtype))
        self.readout = nn.Linear(c.hidden, c.classes, dtype=c.dtype)

    def forward(self, xs: Tensor) -> tuple[Tensor, list[Tensor]]:
        """xs (T, B, inputs) -> logits (B, classes) and the states [h_1 .. h_T], each (B, hidden)."""
        h = xs.new_zeros(xs.shape[1], self.config.hidden)
        states = []
        for x in xs:
            h = torch.tanh(h @ self.w_hh.T + x @ self.w_xh.T + self.b)  # (B, hidden)
            states.append(h)
        return self.readout(h), states


def make_rnn(config: RNNConfig) -> TanhRNN:
    """The network of ``config``, seeded by ``config.seed`` through a private generator."""
    model = TanhRNN(config)
    c, g = config, torch.Generator().manual_seed(config.seed)
    with torch.no_grad():
        q, r = torch.linalg.qr(torch.randn(c.hidden, c.hidden, generator=g, dtype=c.dtype))
        q = q * torch.sign(torch.diagonal(r))  # a uniformly random orthogonal matrix
        model.w_hh.copy_(c.rho * q)
        model.w_xh.copy_(torch.randn(c.hidden, c.inputs, generator=g, dtype=c.dtype) / math.sqrt(c.inputs))
        model.readout.weight.copy_(torch.randn(c.classes, c.hidden, generator=g, dtype=c.dtype) / math.sqrt(c.hidden))
        model.readout.bias.zero_()
    return model


def memory_task(n: int, steps: int, config: RNNConfig, seed: int = 0, noise: float = 1.0) -> tuple[Tensor, Tensor]:
    """A task that needs memory: the class y (n,) in 0..classes-1 is written into the first input as
    one-hot features (features 0..classes-1 of x_1), every input carries N(0, noise^2) noise, and the
    network must output y after ``steps`` steps. Returns xs (steps, n, inputs), y (n,)."""
    if config.inputs < config.classes:
        raise ValueError(f"the class is written as one-hot input features: need inputs >= classes, got {config}")
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, config.classes, (n,), generator=g)
    xs = noise * torch.randn(steps, n, config.inputs, generator=g, dtype=config.dtype)
    xs[0, :, :config.classes] += 3.0 * F.one_hot(y, config.classes).to(config.dtype)
    return xs, y


def state_gradients(model: TanhRNN, xs: Tensor, y: Tensor) -> list[float]:
    """||dL/dh_t|| for t = 1..T (the norm over the whole batch) of the cross-entropy L at the last
    step: how much of the loss's gradient reaches each earlier state through the Jacobian product."""
    logits, states = model(xs)
    grads = torch.autograd.grad(F.cross_entropy(logits, y), states)
    return [float(g.norm()) for g in grads]


@dataclass
class RNNHistory:
    """Per SGD step: ``loss``, ``grad_norm`` (global ||g||, before clipping), ``clipped`` (||g|| > c)."""

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    clipped: list[bool] = field(default_factory=list)
    accuracy: float = float("nan")


def train_rnn(config: RNNConfig, *, steps: int = 200, seq_len: int = 20, lr: float = 0.1, batch_size: int = 32,
              clip: float | None = None, seed: int = 0) -> RNNHistory:
    """Plain SGD on ``memory_task`` (fresh minibatches drawn by ``seed``), clipping the global norm
    at ``clip`` when given (``clip_grad_norm_``), on one thread. Stops when the loss is not finite.
    ``accuracy`` is measured at the end on 512 new sequences."""
    model = make_rnn(config)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    hist = RNNHistory()
    with single_thread():
        for step in range(steps):
            xs, y = memory_task(batch_size, seq_len, config, seed=seed * 100_003 + step)
            loss = F.cross_entropy(model(xs)[0], y)
            opt.zero_grad()
            loss.backward()
            hist.loss.append(loss.item())
            if not math.isfinite(hist.loss[-1]):
                break
            params = list(model.parameters())
            norm = clip_grad_norm_(params, clip) if clip is not None else float(global_norm([p.grad for p in params]))
            hist.grad_norm.append(norm)
            hist.clipped.append(clip is not None and norm > clip)
            opt.step()
        xs, y = memory_task(512, seq_len, config, seed=seed * 100_003 + 99_999_989)
        with torch.no_grad():
            hist.accuracy = float((model(xs)[0].argmax(1) == y).to(torch.float64).mean())
    return hist
