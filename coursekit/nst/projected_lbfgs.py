"""Projected L-BFGS: minimise f(x) subject to lo <= x <= hi, every step a few torch vector operations.

The method (Bertsekas 1982's projected quasi-Newton step with L-BFGS's memory; Kim, Sra & Dhillon 2010):

1. **Free variables.** Variable i is *held* when it sits on a bound and the gradient g pushes it
   outward (x_i <= lo and g_i > 0, or x_i >= hi and g_i < 0); the others are free. q = g on the
   free variables, 0 on the held ones.
2. **Direction.** d = -H q, with H L-BFGS's inverse-Hessian estimate from the last m pairs
   (s_j, y_j), s_j = x_{j+1} - x_j, y_j = g_{j+1} - g_j, computed by the two-loop recursion
   (Nocedal & Wright 2006, Algorithm 7.4) with H_0 = gamma I, gamma = s^T y / y^T y of the newest
   pair; then d_i = 0 on the held variables. If d is not a descent direction (g^T d >= 0) the
   memory is dropped and d = -q.
3. **Step along the projected path** x(t) = P(x + t d), P the clamp to [lo, hi]. t = 1 (the
   quasi-Newton step; the first step after an empty memory is t = min(1, 1 / ||d||), as in
   L-BFGS-B), accepted when Armijo's condition holds:

       f(x(t)) <= f(x) + c1 g^T (x(t) - x),   c1 = 1e-4;

   otherwise t shrinks by safeguarded quadratic interpolation (to between 0.1 t and 0.5 t).
4. **Memory.** The pair (s, y) is kept only when s^T y > eps y^T y, so H stays positive definite.

SciPy's L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995) reaches the same losses in the same number of
evaluations on style transfer, but its generalised Cauchy point and subspace minimisation run
single-threaded in compiled code at about 57 ms per iteration on a 256 x 256 image (196,608
variables, m = 20): a third of the time of one network evaluation. Here an iteration costs O(m n)
vectorised operations, a few milliseconds.

``fg(x)`` returns (f, g) for a flat tensor x (float32 or float64); it may raise to end the search
(the caller's budget or stop request). ``minimize_box`` returns the last accepted x when the
projected gradient vanishes or no step lowers f.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

import torch
from torch import Tensor

__all__ = ["minimize_box"]

ARMIJO_C1 = 1e-4
SMALLEST_STEP = 1e-12


def _held(x: Tensor, g: Tensor, lo: float, hi: float) -> Tensor:
    """True where x_i is on a bound and -g_i points out of the box."""
    return ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0))


def _two_loop(q: Tensor, pairs: deque) -> Tensor:
    """H q by L-BFGS's two-loop recursion over the stored (s, y, 1 / s^T y) pairs, oldest first."""
    q = q.clone()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * float(torch.dot(s, q))
        alphas.append(a)
        q.add_(y, alpha=-a)
    s, y, _ = pairs[-1]
    q.mul_(float(torch.dot(s, y)) / float(torch.dot(y, y)))  # H_0 = gamma I
    for (s, y, rho), a in zip(pairs, reversed(alphas)):
        q.add_(s, alpha=a - rho * float(torch.dot(y, q)))
    return q


def _direction(g: Tensor, held: Tensor, pairs: deque) -> tuple[Tensor, bool]:
    """(d, fresh): the projected quasi-Newton direction, or steepest descent (fresh) without memory."""
    q = g.masked_fill(held, 0.0)
    if pairs:
        d = _two_loop(q, pairs).neg_().masked_fill_(held, 0.0)
        if torch.dot(g, d) < 0:
            return d, False
        pairs.clear()  # not a descent direction: start the memory again
    return q.neg(), True


def minimize_box(fg: Callable[[Tensor], tuple[float, Tensor]], x0: Tensor, *, history: int = 20,
                 lo: float = 0.0, hi: float = 1.0, max_iterations: int = 1_000_000,
                 pairs: deque | None = None) -> Tensor:
    """Minimise f over lo <= x <= hi from x0 (flat, clamped into the box first; the search runs in
    x0's dtype and on its device).

    Args:
        fg: x -> (f(x), gradient), the gradient flat in x's dtype; may raise to stop the search.
        x0: the starting point; not modified.
        history: m, the number of curvature pairs kept.
        pairs: a deque of curvature pairs to start from and to keep updating (a warm start: a
            search that continues an earlier one on a close objective); its own maxlen applies.
    Returns:
        The last accepted point: where the projected gradient is zero or no step lowered f.
    """
    x = x0.clamp(lo, hi)
    f, g = fg(x)
    pairs = deque(maxlen=history) if pairs is None else pairs
    for _ in range(max_iterations):
        held = _held(x, g, lo, hi)
        d, fresh = _direction(g, held, pairs)
        dnorm = float(d.norm())
        if dnorm == 0.0:
            return x  # the projected gradient vanishes: a stationary point of the box problem
        t = min(1.0, 1.0 / dnorm) if fresh else 1.0
        accepted = False
        while True:
            x_new = (x + t * d).clamp_(lo, hi)
            decrease = float(torch.dot(g, x_new - x))  # g^T (x(t) - x) < 0 along the projected path
            if decrease < 0.0:
                f_new, g_new = fg(x_new)
                if f_new <= f + ARMIJO_C1 * decrease:
                    accepted = True
                    break
            if decrease >= 0.0 or t < SMALLEST_STEP:  # the box cut the step to nothing, or no step helps
                if fresh:
                    return x  # even along -g: a stationary point of the box problem
                pairs.clear()  # the quasi-Newton direction failed: steepest descent from the same x next
                break
            # minimiser of the quadratic through f, the slope decrease / t and f_new, kept in [0.1 t, 0.5 t]
            slope = decrease / t
            t_quad = -slope * t * t / (2.0 * (f_new - f - slope * t)) if f_new - f - slope * t > 0 else 0.5 * t
            t = min(max(t_quad, 0.1 * t), 0.5 * t)
        if not accepted:
            continue
        s, y = x_new - x, g_new - g
        sy = float(torch.dot(s, y))
        if sy > 1e-10 * float(torch.dot(y, y)):
            pairs.append((s, y, 1.0 / sy))
        x, f, g = x_new, f_new, g_new
    return x
