"""Optimising the pixels of an image: the loop behind texture synthesis, reconstruction and NST.

``noise_like`` and ``initial_image`` give the starting image; ``optimize_image(loss_fn, init, ...)`` minimises ``loss_fn(x)`` over images x in [0, 1]:

- ``method="lbfgs"``: SciPy's L-BFGS-B with the box constraint 0 <= x <= 1. The PyTorch tutorial
  instead clamps inside torch's L-BFGS closure, which breaks L-BFGS's curvature pairs and makes the
  loss explode after a few hundred evaluations (pytorch/tutorials#143); a bounded
  quasi-Newton method is the principled fix. Its default gtol/ftol stop far too early because the
  gradients are tiny, so both are 0 here and the budget is the number of evaluations. For the same
  reason the objective is multiplied by c = 1 / max|dJ/dx| at the start (the minimiser does not
  change; histories and losses are reported unscaled): L-BFGS-B's first step is the size of the
  gradient, and a step of 1e-10 per pixel is lost in float32 features. SciPy's BLAS runs on one
  thread meanwhile, so that its idle threads do not compete with torch's for the cores.
- ``method="projected_lbfgs"``: projected L-BFGS in torch (``coursekit.nst.projected_lbfgs``),
  with the same scaling, history m and box. On style transfer it reaches the same losses in the
  same number of evaluations as L-BFGS-B, without L-BFGS-B's single-threaded Cauchy-point search
  (about 57 ms per iteration at 256 x 256 px), so each evaluation costs about a third less.
- ``method="adam"``: Adam on the pixels, clamped to [0, 1] after each step.

It never loses work: the best image seen so far is returned when the budget is spent, when the
learner presses Stop (``stop`` event), on KeyboardInterrupt, and when the loss turns NaN/inf or
blows up (``diverge_factor`` times the best loss).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import torch
from torch import Tensor

from .projected_lbfgs import minimize_box

__all__ = ["OptimResult", "LBFGSMemory", "optimize_image", "METHODS", "noise_like", "initial_image"]

METHODS = ("lbfgs", "projected_lbfgs", "adam")
LossOutput = Tensor | Mapping[str, Tensor]


@dataclass
class OptimResult:
    """The best image and what happened on the way.

    ``history`` maps "total" (and any other parts ``loss_fn`` returned, e.g. per-layer costs) to
    one float per evaluation. ``stopped`` says why the loop ended: "budget", "converged",
    "stopped", "interrupted" or "diverged"; ``message`` says it in words. ``low_precision``: how
    many of the first evaluations ran with the network in bfloat16 (their losses in the history
    approximate J; ``best_loss`` and ``image`` never come from them).
    """

    image: Tensor
    best_loss: float
    evaluations: int
    history: dict[str, list[float]] = field(default_factory=dict)
    stopped: str = "budget"
    message: str = ""
    low_precision: int = 0


@dataclass
class LBFGSMemory:
    """What projected L-BFGS carries from one ``optimize_image`` call to the next on a close
    objective (a bfloat16 start, then float32): its curvature pairs and the objective's scale c."""

    pairs: deque = field(default_factory=deque)
    scale: list[float] = field(default_factory=list)


class _Halt(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def _split(out: LossOutput) -> tuple[Tensor, dict[str, Tensor]]:
    if isinstance(out, Tensor):
        return out.sum(), {}
    if "total" not in out:
        raise ValueError("loss_fn returned a dict without a 'total' entry; return {'total': J, ...}")
    return out["total"].sum(), {k: v for k, v in out.items() if k != "total"}


class _Tracker:
    """Counts evaluations, records history, keeps the best image, decides when to halt."""

    def __init__(self, loss_fn, steps, callback, stop, diverge_factor):
        self.loss_fn, self.steps, self.callback, self.stop = loss_fn, steps, callback, stop
        self.diverge_factor = diverge_factor
        self.evaluations, self.best_loss, self.best_image = 0, float("inf"), None
        self.history: dict[str, list[float]] = {"total": []}

    def evaluate(self, x: Tensor) -> Tensor:
        if self.stop is not None and self.stop.is_set():
            raise _Halt("stopped", "stopped on request; returning the best image so far")
        if self.evaluations >= self.steps:
            raise _Halt("budget", f"finished {self.steps} evaluations")
        total, parts = _split(self.loss_fn(x))
        value = float(total.detach())
        self.evaluations += 1
        self.history["total"].append(value)
        for name, part in parts.items():
            self.history.setdefault(name, []).append(float(part.detach().sum()))
        if not np.isfinite(value):
            raise _Halt("diverged", f"the loss became {value} at evaluation {self.evaluations}; "
                                    "returning the best image so far (try a smaller learning rate or beta)")
        if self.best_image is not None and value > self.diverge_factor * max(self.best_loss, 1e-30):
            raise _Halt("diverged", f"the loss blew up to {value:.3g} (best {self.best_loss:.3g}) at evaluation "
                                    f"{self.evaluations}; returning the best image so far")
        if value < self.best_loss:
            self.best_loss, self.best_image = value, x.detach().clamp(0, 1).clone()
        if self.callback is not None:
            self.callback(self.evaluations, value, x.detach())
        return total


def _scaled(tracker: _Tracker, like: Tensor, home: torch.device | str = "cpu",
            scale: list[float] | None = None) -> Callable[[Tensor], tuple[float, Tensor]]:
    """x (flat) -> (c J(x), c dJ/dx) with c = 1 / max|dJ/dx| fixed at the first evaluation (or the
    c already in ``scale``); the gradient is returned in x's dtype on ``home``, the optimiser's device."""
    shape, dtype, device = like.shape, like.dtype, like.device
    scale = [] if scale is None else scale

    def fg(flat: Tensor) -> tuple[float, Tensor]:
        x = flat.reshape(shape).to(device=device, dtype=dtype).requires_grad_(True)
        total = tracker.evaluate(x)
        (grad,) = torch.autograd.grad(total, x)
        if not scale:
            steepest = float(grad.abs().max())
            scale.append(1.0 / steepest if np.isfinite(steepest) and steepest > 0 else 1.0)
        return float(total.detach()) * scale[0], grad.detach().reshape(-1).to(home, flat.dtype) * scale[0]

    return fg


def _run_lbfgs(tracker: _Tracker, init: Tensor, history: int) -> str:
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    fg = _scaled(tracker, init)

    def fun(flat: np.ndarray):
        value, grad = fg(torch.from_numpy(flat))
        return value, grad.numpy()

    x0 = init.detach().cpu().double().clamp(0, 1).numpy().ravel()
    with threadpool_limits(limits=1, user_api="blas"):
        minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * x0.size,
                 options={"maxfun": tracker.steps + 1, "maxiter": 10 * tracker.steps,
                          "gtol": 0.0, "ftol": 0.0, "maxcor": history})
    return "budget" if tracker.evaluations >= tracker.steps else "converged"


def _run_projected(tracker: _Tracker, init: Tensor, history: int, memory: LBFGSMemory | None) -> str:
    # The optimiser's vectors stay on the image's device (a GPU run never copies them to the host)
    # and in its dtype: J is computed in float32 anyway, and float32 vectors make an iteration cost
    # 1.3 ms at 256 x 256 px against 6.0 ms in float64 (twenty pairs no longer fit the caches).
    memory = memory if memory is not None else LBFGSMemory()
    if memory.pairs.maxlen != history:
        memory.pairs = deque(memory.pairs, maxlen=history)
    fg = _scaled(tracker, init, home=init.device, scale=memory.scale)
    minimize_box(fg, init.detach().reshape(-1), history=history, pairs=memory.pairs)
    return "budget" if tracker.evaluations >= tracker.steps else "converged"


def _run_adam(tracker: _Tracker, init: Tensor, lr: float) -> str:
    x = init.detach().clone().clamp(0, 1).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    while True:
        opt.zero_grad()
        tracker.evaluate(x).backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)


def optimize_image(
    loss_fn: Callable[[Tensor], LossOutput],
    init: Tensor,
    *,
    steps: int = 100,
    method: str = "lbfgs",
    lr: float = 0.02,
    callback: Callable[[int, float, Tensor], None] | None = None,
    stop: threading.Event | None = None,
    diverge_factor: float = 1e3,
    history: int = 20,
    memory: LBFGSMemory | None = None,
) -> OptimResult:
    """Minimise ``loss_fn(x)`` over images x of ``init``'s shape with 0 <= x <= 1.

    Args:
        loss_fn: image (B, 3, H, W) -> scalar loss (or per-image losses, summed), or a dict with
            "total" and other named parts to record in the history.
        init: the starting image; not modified.
        steps: budget in loss evaluations (one forward and backward pass each).
        method: "lbfgs" (SciPy's bounded L-BFGS-B), "projected_lbfgs" (the same box, projected
            L-BFGS in torch, faster per evaluation) or "adam" (clamped).
        lr: Adam's learning rate (pixels live in [0, 1]).
        callback: called after every evaluation as callback(evaluation, loss, image).
        stop: a threading.Event; when set, the loop ends and returns the best image so far.
        diverge_factor: a loss this many times the best one counts as divergence.
        history: the number of stored curvature pairs m of either L-BFGS (SciPy's ``maxcor``).
        memory: projected L-BFGS only: an ``LBFGSMemory`` to start from and leave updated, so a
            later call continues this one's curvature estimate (ignored by the other methods).
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not known; use one of {METHODS}")
    if not isinstance(init, Tensor) or init.dim() != 4 or init.shape[1] != 3:
        shape = tuple(init.shape) if isinstance(init, Tensor) else type(init).__name__
        raise ValueError(f"init must be an image tensor of shape (B, 3, H, W), got {shape}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if not isinstance(history, int) or history < 1:
        raise ValueError(f"history (L-BFGS's stored pairs) must be a positive integer, got {history!r}")
    tracker = _Tracker(loss_fn, steps, callback, stop, diverge_factor)
    stopped, message = "budget", f"finished {steps} evaluations"
    try:
        if method == "projected_lbfgs":
            stopped = _run_projected(tracker, init, history, memory)
        elif method == "lbfgs":
            stopped = _run_lbfgs(tracker, init, history)
        else:
            stopped = _run_adam(tracker, init, lr)
        if stopped == "converged":
            message = f"converged after {tracker.evaluations} evaluations"
    except _Halt as halt:
        stopped, message = halt.reason, halt.message
    except KeyboardInterrupt:
        stopped, message = "interrupted", "interrupted; returning the best image so far"
    image = tracker.best_image if tracker.best_image is not None else init.detach().clamp(0, 1).clone()
    return OptimResult(image, tracker.best_loss, tracker.evaluations, tracker.history, stopped, message)


def noise_like(image: Tensor, seed: int = 0) -> Tensor:
    """Uniform noise in [0, 1] of ``image``'s shape, from a local generator (global RNG untouched)."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(image.shape, generator=g, dtype=image.dtype).to(image.device)


def initial_image(kind: str | Tensor, reference: Tensor, seed: int = 0) -> Tensor:
    """The starting image: "noise" (seeded), "content"/"reference" (a copy), or a given tensor."""
    if isinstance(kind, Tensor):
        if kind.shape != reference.shape:
            raise ValueError(f"init has shape {tuple(kind.shape)}; it must match {tuple(reference.shape)}")
        return kind.detach().clone()
    if kind == "noise":
        return noise_like(reference, seed)
    if kind in ("content", "reference"):
        return reference.detach().clone()
    raise ValueError(f"init {kind!r} is not known; use 'noise', 'content' or an image tensor")
