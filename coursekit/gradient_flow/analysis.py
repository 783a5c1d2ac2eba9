"""Measuring gradient flow: one seeded forward/backward pass, the Jacobian-product view,
gradient clipping by global norm and a short training run.

The chain rule through L layers (lesson 09's notation, see ``coursekit.gradient_flow.mlp``):

    dL/da^[l-1] = (J^[l])^T dL/da^[l],   J^[l] = da^[l]/da^[l-1] = diag(g'(z^[l])) W^[l]  (+ I if residual)

so the gradient reaching layer l is a product of L - l Jacobians applied to dL/da^[L], and
dL/dW^[l] = (dL/dz^[l])^T a^[l-1] inherits its size. Products of many factors of norm < 1 shrink
geometrically (vanishing), of norm > 1 grow geometrically (exploding).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..digits import sklearn_digits
from .mlp import LEAKY_SLOPE, DeepMLP, MLPConfig, make_mlp

__all__ = ["digits_data", "sample_batch", "GradientReport", "gradient_report", "JacobianView", "jacobian_view",
           "global_norm", "clip_factor", "clip_by_global_norm", "clip_grad_norm_", "single_thread", "train_mlp"]


def digits_data(dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor]:
    """scikit-learn's 1,797 digits (offline): x (1797, 64) standardised per pixel (pixels that are
    constant stay 0), labels y (1797,) in 0..9."""
    images, labels = sklearn_digits()
    x = images.reshape(len(images), 64).to(dtype) * 16.0  # the grey levels 0..16 (exact)
    std = x.std(dim=0)
    x = (x - x.mean(dim=0)) / torch.where(std > 0, std, torch.ones_like(std))
    return x, labels


def sample_batch(n: int = 256, seed: int = 0, kind: str = "digits", dtype: torch.dtype = torch.float64,
                 in_dim: int = 64, classes: int = 10) -> tuple[Tensor, Tensor]:
    """A seeded batch (x (n, in_dim), y (n,)): ``"digits"`` draws n of the standardised digits
    (in_dim must be 64), ``"gaussian"`` draws x ~ N(0, I) with random labels."""
    g = torch.Generator().manual_seed(seed)
    if kind == "digits":
        if in_dim != 64:
            raise ValueError(f"the digits have 64 pixels; got in_dim={in_dim} (use kind='gaussian')")
        x, y = digits_data(dtype)
        idx = torch.randperm(len(x), generator=g)[:n]
        return x[idx], y[idx]
    if kind == "gaussian":
        return (torch.randn(n, in_dim, generator=g, dtype=dtype),
                torch.randint(0, classes, (n,), generator=g))
    raise ValueError(f"unknown batch kind {kind!r}; choose 'digits' or 'gaussian'")


def _g_prime(name: str, z: Tensor) -> Tensor:
    """g'(z) elementwise."""
    if name == "sigmoid":
        s = torch.sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - torch.tanh(z) ** 2
    if name == "leaky_relu":
        return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, LEAKY_SLOPE))
    return (z > 0).to(z.dtype)


@dataclass
class GradientReport:
    """What one forward/backward pass shows, per layer. Lists over hidden layers l = 1..L unless said.

    ``global_grad_norm``: ||g|| over every parameter (what clipping looks at);
    ``weight_grad_norms``: ||dL/dW^[l]||_F for l = 1..L+1 (the last is the output layer);
    ``activation_grad_norms``: ||dL/da^[l]||_F over the batch; ``activation_mean``/``activation_std``:
    of a^[l] over batch and units; ``saturated``: fraction of units with g'(z^[l]) < 1% of g''s
    maximum (flat sigmoid/tanh, inactive ReLU); ``activations``: a^[l] detached, (B, width) each.
    """

    config: MLPConfig
    loss: float
    global_grad_norm: float
    weight_grad_norms: list[float]
    activation_grad_norms: list[float]
    activation_mean: list[float]
    activation_std: list[float]
    saturated: list[float]
    activations: list[Tensor] = field(repr=False)

    @property
    def depth(self) -> int:
        return len(self.activations)

    @property
    def ratio_first_last(self) -> float:
        """||dL/dW^[1]|| / ||dL/dW^[L]||: << 1 vanishing, >> 1 exploding (towards the input)."""
        return self.weight_grad_norms[0] / self.weight_grad_norms[self.depth - 1]


def gradient_report(model: DeepMLP, x: Tensor, y: Tensor) -> GradientReport:
    """One forward/backward pass of the cross-entropy loss on (x (B, in_dim), y (B,)).

    Gradients come from ``torch.autograd.grad``, so the model's ``.grad`` fields are left alone;
    the model runs in training mode (batch norm uses batch statistics and updates its running
    averages, as any training step would).
    """
    model.train()
    logits, zs, acts = model.forward_with_activations(x)
    loss = F.cross_entropy(logits, y)
    params = list(model.parameters())
    grads = torch.autograd.grad(loss, params + acts)
    p_grads, a_grads = grads[:len(params)], grads[len(params):]
    by_param = {id(p): g for p, g in zip(params, p_grads)}
    w_grads = [by_param[id(linear.weight)] for linear in model.linears()]
    name = model.config.activation
    g_max = 0.25 if name == "sigmoid" else 1.0
    with torch.no_grad():
        return GradientReport(
            config=model.config,
            loss=float(loss),
            global_grad_norm=float(global_norm(p_grads)),
            weight_grad_norms=[float(g.norm()) for g in w_grads],
            activation_grad_norms=[float(g.norm()) for g in a_grads],
            activation_mean=[float(a.mean()) for a in acts],
            activation_std=[float(a.std()) for a in acts],
            saturated=[float((_g_prime(name, z) < 0.01 * g_max).to(z.dtype).mean()) for z in zs],
            activations=[a.detach() for a in acts],
        )


@dataclass
class JacobianView:
    """The chain rule as a product of Jacobians, for one input x.

    ``jacobians[l-1]`` is J^[l] = da^[l]/da^[l-1], shape (width, fan_in); ``singular_values[l-1]``
    its singular values (descending); ``layer_norms[l-1]`` = ||J^[l]||_2 (the largest);
    ``product_norms[l]`` = ||da^[L]/da^[l]||_2 = ||J^[L] ... J^[l+1]||_2 for l = 0..L
    (``product_norms[L]`` = 1: the identity), how much the gradient reaching a^[l] can be scaled.
    """

    jacobians: list[Tensor] = field(repr=False)
    singular_values: list[Tensor] = field(repr=False)
    layer_norms: list[float]
    product_norms: list[float]


def jacobian_view(model: DeepMLP, x: Tensor) -> JacobianView:
    """Per-layer Jacobians at one input ``x`` (in_dim,) or (1, in_dim) and their products.

    Batch norm couples the examples of a batch (a^[l] of one example depends on all the others),
    so a per-example Jacobian is not defined for it: build the model without ``batch_norm``.
    """
    if model.config.batch_norm:
        raise ValueError("the Jacobian view needs a model without batch norm: with it, each example's "
                         "activations depend on the whole batch. Build one with batch_norm=False.")
    a = x.detach().reshape(-1).to(model.config.dtype)
    jacobians: list[Tensor] = []
    for block in model.blocks:
        jacobians.append(torch.autograd.functional.jacobian(lambda v: block(v[None])[0], a))  # (width, fan_in)
        with torch.no_grad():
            a = block(a[None])[0]
    svals = [torch.linalg.svdvals(j) for j in jacobians]
    product = torch.eye(jacobians[-1].shape[0], dtype=jacobians[-1].dtype)
    product_norms = [1.0]
    for j in reversed(jacobians):  # da^[L]/da^[l-1] = (da^[L]/da^[l]) J^[l]
        product = product @ j
        product_norms.append(float(torch.linalg.matrix_norm(product, ord=2)))
    return JacobianView(jacobians, svals, [float(s[0]) for s in svals], product_norms[::-1])


# ---- clipping ------------------------------------------------------------------------------
def global_norm(grads: Iterable[Tensor]) -> Tensor:
    """||g|| = sqrt(sum_i ||g_i||_F^2) over every tensor: the norm of all gradients as one vector."""
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def _factor(total: Tensor, max_norm: float, eps: float) -> Tensor:
    return torch.clamp(max_norm / (total + eps), max=1.0)  # as torch computes it, in the gradients' dtype


def clip_factor(grads: Sequence[Tensor], max_norm: float, eps: float = 1e-6) -> float:
    """The number clipping by global norm multiplies every gradient by:

        min(1, max_norm / (||g|| + eps)),   ||g|| = sqrt(sum_i ||g_i||_F^2) over all tensors of ``grads``

    1 when ||g|| <= max_norm (nothing changes), max_norm / ||g|| otherwise. Lesson 09's exercise.
    """
    return float(_factor(global_norm(grads), max_norm, eps))


def clip_by_global_norm(grads: Sequence[Tensor], max_norm: float, eps: float = 1e-6) -> tuple[list[Tensor], float]:
    """Rescale all gradients together when their global norm exceeds ``max_norm``:

        g_i <- g_i * min(1, max_norm / (||g|| + eps)),   ||g|| = sqrt(sum_i ||g_i||^2)

    (Pascanu et al. 2013). The direction of the step is kept; only its length is capped. ``eps``
    is torch's 1e-6, so this equals ``torch.nn.utils.clip_grad_norm_``. Returns new tensors (the
    inputs are not changed) and ||g|| before clipping.
    """
    total = global_norm(grads)
    factor = _factor(total, max_norm, eps)
    return [g * factor.to(g.dtype) for g in grads], float(total)


def clip_grad_norm_(parameters: Iterable[nn.Parameter], max_norm: float) -> float:
    """In place on each ``p.grad``, like ``torch.nn.utils.clip_grad_norm_``; returns ||g|| before."""
    params = [p for p in parameters if p.grad is not None]
    clipped, total = clip_by_global_norm([p.grad for p in params], max_norm)
    with torch.no_grad():
        for p, g in zip(params, clipped):
            p.grad.copy_(g)
    return total


# ---- training ------------------------------------------------------------------------------
@contextmanager
def single_thread() -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(1)``, then restore the caller's count: a fixed
    thread count fixes how matrix products split their sums, so their rounding does not depend on
    the number of cores (and tiny networks run fastest on one thread anyway)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_mlp(config: MLPConfig, *, steps: int = 300, lr: float = 0.1, batch_size: int = 128,
              clip: float | None = None, seed: int = 0, data: tuple[Tensor, Tensor] | None = None,
              dtype: torch.dtype | None = None) -> dict[str, list[float]]:
    """Train ``make_mlp(config)`` in ``dtype`` (None keeps the config's, float64 by default) with plain
    SGD (no momentum, no Adam: they rescale gradients and would hide what we measure) on the digits
    (or ``data``), with minibatches drawn by ``seed``, on one CPU thread (``single_thread``).

    float64 and one thread make a run that is not chaotic give the same digits on any CPU: in float32
    the kernels of different CPUs (AVX2, AVX-512) round differently, and 300 steps turn those
    last-bit differences into different accuracies. A chaotic run (lr far too large) still differs.

    Returns a history: "loss" per step, "grad_norm" (global, before clipping), "first_layer" and
    "last_layer" (||dL/dW^[1]||, ||dL/dW^[L]||) and "accuracy" on all of ``data`` every 25 steps
    ("accuracy_step" says when). Stops early, keeping the history, when the loss is not finite.
    """
    if dtype is not None:
        config = replace(config, dtype=dtype)
    x_all, y_all = data if data is not None else digits_data(config.dtype)
    x_all = x_all.to(config.dtype)
    model = make_mlp(config)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    hist: dict[str, list[float]] = {k: [] for k in ("loss", "grad_norm", "first_layer", "last_layer",
                                                    "accuracy", "accuracy_step")}

    def accuracy() -> float:
        model.eval()
        with torch.no_grad():
            acc = float((model(x_all).argmax(1) == y_all).to(torch.float64).mean())
        model.train()
        return acc

    model.train()
    with single_thread():
        for step in range(steps):
            idx = torch.randint(0, len(x_all), (batch_size,), generator=g)
            loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
            opt.zero_grad()
            loss.backward()
            hist["loss"].append(loss.item())
            if not math.isfinite(hist["loss"][-1]):
                break
            linears = model.linears()
            hist["first_layer"].append(float(linears[0].weight.grad.norm()))
            hist["last_layer"].append(float(linears[-2].weight.grad.norm()))
            params = list(model.parameters())
            hist["grad_norm"].append(clip_grad_norm_(params, clip) if clip is not None
                                     else float(global_norm([p.grad for p in params])))
            opt.step()
            if step % 25 == 0 or step == steps - 1:
                hist["accuracy"].append(accuracy())
                hist["accuracy_step"].append(step)
    return hist
