"""Projected L-BFGS (coursekit.nst.projected_lbfgs): the box problem's solution, against SciPy's L-BFGS-B
and by the optimality conditions, on convex, badly scaled and non-convex functions; and through
optimize_image on style transfer's own objective."""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from coursekit.nst.projected_lbfgs import minimize_box


def counted(f):
    """fg for minimize_box from a torch function of x, recording every point and value it saw."""
    seen = []

    def fg(x):
        x = x.clone().requires_grad_(True)
        value = f(x)
        (g,) = torch.autograd.grad(value, x)
        seen.append((x.detach().clone(), float(value.detach())))
        return float(value.detach()), g

    return fg, seen


def projected_gradient(g, x, lo=0.0, hi=1.0):
    """The optimality measure of a box problem: zero exactly at a KKT point."""
    return (x - (x - g).clamp(lo, hi)).abs().max()


def test_separable_quadratic_ends_at_the_clipped_target_and_never_leaves_the_box():
    # f = sum d_i (x_i - t_i)^2 with targets in [-0.5, 1.5]: the box optimum is clip(t, 0, 1).
    gen = torch.Generator().manual_seed(0)
    t = torch.rand(500, generator=gen, dtype=torch.float64) * 2 - 0.5
    d = torch.logspace(0, 2, 500, dtype=torch.float64)
    fg, seen = counted(lambda x: (d * (x - t) ** 2).sum())
    x = minimize_box(fg, torch.full((500,), 0.5, dtype=torch.float64))
    assert torch.allclose(x, t.clamp(0, 1), atol=1e-8)
    assert all(float(p.min()) >= 0.0 and float(p.max()) <= 1.0 for p, _ in seen)


def test_coupled_quadratic_matches_scipy_lbfgsb_and_satisfies_kkt():
    # f = 1/2 x^T A x - b^T x with A symmetric positive definite: one optimum in the box, found by both.
    gen = torch.Generator().manual_seed(1)
    M = torch.randn(60, 60, generator=gen, dtype=torch.float64)
    A = M @ M.T / 60 + 0.05 * torch.eye(60, dtype=torch.float64)
    b = torch.randn(60, generator=gen, dtype=torch.float64)
    f = lambda x: 0.5 * x @ A @ x - b @ x  # noqa: E731
    fg, _ = counted(f)
    ours = minimize_box(fg, torch.zeros(60, dtype=torch.float64))
    ref = minimize(lambda x: (0.5 * x @ A.numpy() @ x - b.numpy() @ x, A.numpy() @ x - b.numpy()),
                   np.zeros(60), jac=True, method="L-BFGS-B", bounds=[(0, 1)] * 60,
                   options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10000})
    assert float(f(ours)) == pytest.approx(ref.fun, rel=1e-9)
    assert torch.allclose(ours, torch.from_numpy(ref.x), atol=1e-5)
    assert projected_gradient(A @ ours - b, ours) < 1e-7
    assert 0 < int((ours == 0).sum() + (ours == 1).sum()) < 60  # some bounds active, some not


def test_rosenbrock_in_the_box_reaches_its_corner_minimum():
    # Non-convex, curved valley; in [0, 1]^2 the minimum f = 0 lies on the corner (1, 1).
    fg, seen = counted(lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)
    x = minimize_box(fg, torch.tensor([0.1, 0.9], dtype=torch.float64))
    assert torch.allclose(x, torch.ones(2, dtype=torch.float64), atol=1e-6)
    assert len(seen) < 200


def test_every_accepted_step_lowers_f_so_the_answer_is_the_best_point_seen():
    # Armijo's condition accepts only decreases and rejected trial points are worse than the current
    # point, so the point returned is the lowest of all the points evaluated.
    gen = torch.Generator().manual_seed(2)
    w = torch.randn(200, generator=gen, dtype=torch.float64)
    fg, seen = counted(lambda x: torch.cos(3 * x).mul(w).sum() + (x - 0.3).pow(2).sum())
    x = minimize_box(fg, torch.rand(200, generator=gen, dtype=torch.float64), history=5)
    f_end = min(v for p, v in seen if torch.equal(p, x))
    assert f_end == min(v for _, v in seen)


def test_a_start_at_the_solution_costs_one_evaluation_and_the_caller_can_stop_it():
    fg, seen = counted(lambda x: ((x - 2.0) ** 2).sum())  # box optimum: every x_i on the upper bound
    x = minimize_box(fg, torch.ones(10, dtype=torch.float64))
    assert torch.equal(x, torch.ones(10, dtype=torch.float64)) and len(seen) == 1

    class Budget(Exception):
        pass

    d = torch.logspace(0, 3, 10, dtype=torch.float64)  # badly scaled: not solved in 3 evaluations
    calls = []

    def limited(x):
        calls.append(1)
        if len(calls) > 3:
            raise Budget
        return float((d * (x - 0.7) ** 2).sum()), 2 * d * (x - 0.7)

    with pytest.raises(Budget):
        minimize_box(limited, torch.zeros(10, dtype=torch.float64))


def test_x0_is_not_modified():
    x0 = torch.full((5,), 3.0, dtype=torch.float64)
    fg, _ = counted(lambda x: ((x - 0.5) ** 2).sum())
    minimize_box(fg, x0)
    assert torch.equal(x0, torch.full((5,), 3.0, dtype=torch.float64))


def test_a_quasi_newton_direction_that_does_not_descend_falls_back_to_steepest_descent():
    # A memory whose H sends x_0 out of the box at its bound while -g points inward: g^T d > 0, so
    # the memory is dropped and -g is taken; the method still reaches the box optimum.
    from collections import deque

    from coursekit.nst import projected_lbfgs as P

    x = torch.tensor([0.0, 0.5], dtype=torch.float64)
    g = torch.tensor([-1.0, 0.0], dtype=torch.float64)  # -g moves x_0 up, into the box
    s, y = torch.tensor([1.0, 0.0], dtype=torch.float64), torch.tensor([-1.0, 0.0], dtype=torch.float64)
    pairs = deque([(s, y, -1.0)])  # a pair with s^T y < 0 flips H: d points below 0
    d, fresh = P._direction(g, P._held(x, g, 0.0, 1.0), pairs)
    assert fresh and float(d[0]) > 0 and not pairs  # not a descent direction: memory dropped, -g used
    fg, seen = counted(lambda v: (v[0] - 0.8) ** 2 + (v[1] - 0.5) ** 2)
    end = minimize_box(fg, x)
    assert torch.allclose(end, torch.tensor([0.8, 0.5], dtype=torch.float64), atol=1e-8)
