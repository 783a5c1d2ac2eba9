"""Lesson 04's exercises: the total cost, one optimisation step of style transfer, and a question
on the alpha/beta grid."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ...exercise import Case, Exercise, Mistake, number
from .. import costs
from ..step import transfer_step

__all__ = ['EXERCISES', 'tiny_extractor', 'run_steps']


def _totals(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, generator=g, dtype=torch.float64), torch.rand(2, generator=g, dtype=torch.float64)



def _total_swapped(jc, js, alpha=10.0, beta=40.0):
    return beta * jc + alpha * js


def _total_no_alpha(jc, js, alpha=10.0, beta=40.0):
    return jc + beta * js


TOTAL = Exercise(
    name="total_cost",
    lesson="04_neural_style_transfer",
    groups={"value": 1},
    hidden=[
        Case("hidden", lambda: ((1.5, 0.25, 3.0, 2.0), {})),
        Case("hidden", lambda: ((4.0, 1.0), {})),
        Case("hidden", lambda: (_totals(181), {"alpha": 0.5, "beta": 1e4})),
    ],
    reference=costs.total_cost,
    cases=[
        Case("J_content=2, J_style=3, alpha=10, beta=40", lambda: ((2.0, 3.0, 10.0, 40.0), {})),
        Case("J_content=0.5, J_style=7, alpha=1, beta=1000", lambda: ((0.5, 7.0), {"alpha": 1.0, "beta": 1000.0})),
        Case("per-image costs (tensors of shape (2,))", lambda: (_totals(80) + (3.0, 0.25), {})),
    ],
    mistakes=[
        Mistake(_total_swapped, "α weighs the content cost and β the style cost, not the other way round."),
        Mistake(_total_no_alpha, "J_content is weighted by α too."),
    ],
    generic_hint="J(G) = α J_content(C,G) + β J_style(S,G), with the defaults α = 10, β = 40.",
)


# ---- transfer_step: graded through a driver on a tiny seeded float64 network ----------------
SIDE = 10  # pixels: the tiny images are (1, 3, 10, 10)
CONTENT_LAYER = "relu2_2"


def tiny_extractor(seed: int):
    """A seeded float64 stand-in for VGG: conv-relu (relu1_1), average pooling, conv-relu (relu2_1),
    conv-relu (relu2_2). Called as ``extractor(image, layers=None)`` -> {layer: activations}, like
    coursekit's FeatureExtractor, in a few milliseconds on one CPU thread."""
    g = torch.Generator().manual_seed(seed)
    w1 = 0.6 * torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64)
    w2 = 0.4 * torch.randn(6, 4, 3, 3, generator=g, dtype=torch.float64)
    w3 = 0.4 * torch.randn(6, 6, 3, 3, generator=g, dtype=torch.float64)

    def extractor(image: Tensor, layers=None) -> dict[str, Tensor]:
        out = {"relu1_1": F.conv2d(image, w1, padding=1).relu()}
        out["relu2_1"] = F.conv2d(F.avg_pool2d(out["relu1_1"], 2), w2, padding=1).relu()
        out[CONTENT_LAYER] = F.conv2d(out["relu2_1"], w3, padding=1).relu()
        return out if layers is None else {name: out[name] for name in layers}

    return extractor


def run_steps(step, seed: int, steps: int = 3, optimizer: str = "adam", lr: float = 0.05, alpha: float = 10.0,
              beta: float = 40.0, style_weights: dict | None = None, start: str = "content") -> Tensor:
    """The driver: ``steps`` calls of ``step`` on a tiny seeded problem. Returns one float64 tensor,
    the pixels of G after the last step (flattened) followed by the ``steps`` costs returned."""
    g = torch.Generator().manual_seed(seed)
    C = torch.rand(1, 3, SIDE, SIDE, generator=g, dtype=torch.float64)
    S = torch.rand(1, 3, SIDE, SIDE, generator=g, dtype=torch.float64)
    extractor = tiny_extractor(seed + 1)
    weights = dict(style_weights or {"relu1_1": 0.5, "relu2_1": 0.5})
    with torch.no_grad():
        a_C = {CONTENT_LAYER: extractor(C, [CONTENT_LAYER])[CONTENT_LAYER]}
        a_S = extractor(S, list(weights))
    G = C.clone() if start == "content" else torch.rand(C.shape, generator=g, dtype=torch.float64)
    G.requires_grad_(True)
    opt = torch.optim.Adam([G], lr=lr) if optimizer == "adam" else torch.optim.SGD([G], lr=lr, momentum=0.9)
    try:
        J = [_number(step(G, opt, extractor, a_C, a_S, weights, alpha, beta)) for _ in range(steps)]
    except RuntimeError as exc:
        if "does not require grad" not in str(exc):
            raise
        return _no_gradient(steps)  # J had no path back to G: the same output for every such step
    return torch.cat([G.detach().flatten(), torch.tensor(J, dtype=torch.float64)])


def _no_gradient(steps: int) -> Tensor:
    """The driver's output when backpropagation found no path from J to G (no pixel can be -1)."""
    return torch.full((3 * SIDE * SIDE + steps,), -1.0, dtype=torch.float64)


def _number(x: Any) -> float:
    if isinstance(x, Tensor) and x.numel() == 1:
        return x.detach().item()
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    raise TypeError(f"transfer_step returned {type(x).__name__}; it should return J before the step, one number")


def _same_run(got: Any, expected: Tensor) -> tuple[bool, str]:
    """The image and the costs of a run, compared separately so the reason says which differs."""
    if not isinstance(got, Tensor) or got.shape != expected.shape:
        return False, f"returned {type(got).__name__}, expected G's pixels and the costs of the run"
    n = 3 * SIDE * SIDE
    image, J = got[:n].to(torch.float64), got[n:].to(torch.float64)
    image_ref, J_ref = expected[:n], expected[n:]
    if torch.equal(got.to(torch.float64), _no_gradient(len(got) - 3 * SIDE * SIDE)):
        return False, "backpropagation found no path from J back to the pixels of G"
    if not torch.isfinite(got).all():
        return False, "NaN or infinite values in G or in J"
    if not torch.allclose(J, J_ref, rtol=1e-6, atol=1e-9):
        got_J = ", ".join(number(a, b) for a, b in zip(J.tolist(), J_ref.tolist()))
        ref_J = ", ".join(number(b, a) for a, b in zip(J.tolist(), J_ref.tolist()))
        return False, f"the costs returned, step by step, differ from the reference's: {got_J} instead of {ref_J}"
    if not torch.allclose(image, image_ref, rtol=1e-6, atol=1e-9):
        err = (image - image_ref).abs().max().item()
        outside = int(((image < 0) | (image > 1)).sum())
        return False, (f"G after the last step differs from the reference's (largest pixel error {err:.2g}; "
                       f"{outside} pixels outside [0, 1])")
    return True, ""


def _step_case(label, seed, group, **kw):
    return Case(label, lambda: ((seed,), dict(kw)), compare=_same_run, group=group)


def _features_cost(G, extractor, a_C, a_S, style_weights, alpha, beta, detach_style=False, swap=False):
    (layer,) = a_C
    a_G = extractor(G, [layer, *style_weights])
    a_style = {k: v.detach() for k, v in a_G.items()} if detach_style else a_G
    J_content = costs.content_cost(a_C[layer], a_G[layer])
    J_style = costs.style_cost(a_S, a_style, style_weights)
    if swap:
        alpha, beta = beta, alpha
    return (alpha * J_content + beta * J_style).sum()


def _step_no_zero_grad(G, optimizer, extractor, a_C, a_S, style_weights, alpha=10.0, beta=40.0):
    J = _features_cost(G, extractor, a_C, a_S, style_weights, alpha, beta)
    J.backward()
    optimizer.step()
    with torch.no_grad():
        G.clamp_(0, 1)
    return J.detach().item()


def _step_no_clamp(G, optimizer, extractor, a_C, a_S, style_weights, alpha=10.0, beta=40.0):
    optimizer.zero_grad()
    J = _features_cost(G, extractor, a_C, a_S, style_weights, alpha, beta)
    J.backward()
    optimizer.step()
    return J.detach().item()


def _step_before_backward(G, optimizer, extractor, a_C, a_S, style_weights, alpha=10.0, beta=40.0):
    optimizer.zero_grad()
    J = _features_cost(G, extractor, a_C, a_S, style_weights, alpha, beta)
    optimizer.step()
    J.backward()
    with torch.no_grad():
        G.clamp_(0, 1)
    return J.detach().item()


def _step_style_detached(G, optimizer, extractor, a_C, a_S, style_weights, alpha=10.0, beta=40.0):
    optimizer.zero_grad()
    J = _features_cost(G, extractor, a_C, a_S, style_weights, alpha, beta, detach_style=True)
    J.backward()
    optimizer.step()
    with torch.no_grad():
        G.clamp_(0, 1)
    return J.detach().item()


def _step_features_detached(G, optimizer, extractor, a_C, a_S, style_weights, alpha=10.0, beta=40.0):
    optimizer.zero_grad()
    J = _features_cost(G.detach(), extractor, a_C, a_S, style_weights, alpha, beta)
    J.backward()
    optimizer.step()
    return J.detach().item()


def _step_swapped(G, optimizer, extractor, a_C, a_S, style_weights, alpha=10.0, beta=40.0):
    optimizer.zero_grad()
    J = _features_cost(G, extractor, a_C, a_S, style_weights, alpha, beta, swap=True)
    J.backward()
    optimizer.step()
    with torch.no_grad():
        G.clamp_(0, 1)
    return J.detach().item()


def _step_cost_after(G, optimizer, extractor, a_C, a_S, style_weights, alpha=10.0, beta=40.0):
    reference_J = transfer_step(G, optimizer, extractor, a_C, a_S, style_weights, alpha, beta)
    with torch.no_grad():
        return _features_cost(G, extractor, a_C, a_S, style_weights, alpha, beta).detach().item() + 0 * reference_J


STEP = Exercise(
    name="transfer_step",
    lesson="04_neural_style_transfer",
    kind="step",
    reference=transfer_step,
    driver=run_steps,
    groups={"one step": 1, "several steps": 2, "another optimiser": 1},
    cases=[
        _step_case("1 Adam step from G = C (alpha=10, beta=40)", 1, "one step", steps=1),
        _step_case("4 Adam steps from G = C (alpha=1, beta=1000)", 2, "several steps", steps=4, alpha=1.0,
                   beta=1000.0),
        _step_case("3 SGD steps (momentum 0.9) from noise", 3, "another optimiser", steps=3, optimizer="sgd",
                   lr=0.002, start="noise"),
    ],
    hidden=[
        _step_case("hidden", 11, "one step", steps=1, start="noise", alpha=2.0, beta=500.0),
        _step_case("hidden", 12, "several steps", steps=5, lr=0.03, style_weights={"relu2_1": 1.0}),
        _step_case("hidden", 13, "several steps", steps=3, start="noise", alpha=5.0, beta=200.0,
                   style_weights={"relu1_1": 0.2, "relu2_1": 0.8}),
        _step_case("hidden", 14, "another optimiser", steps=4, optimizer="sgd", lr=0.003, alpha=3.0, beta=100.0,
                   start="noise"),
    ],
    mistakes=[
        Mistake(_step_no_zero_grad, "the gradients add up from one step to the next: PyTorch accumulates them, "
                "so each step must start from zero gradients, or step t moves G along the sum of all gradients "
                "so far instead of ∂J/∂G at the current G."),
        Mistake(_step_before_backward, "the optimiser stepped before the gradient of J was computed: "
                "first ∂J/∂G (backpropagation), then the step that uses it."),
        Mistake(_step_no_clamp, "some pixels leave [0, 1]: after the step, put every pixel of G back into "
                "[0, 1], changing G itself (the optimiser holds that very tensor) and outside the graph."),
        Mistake(_step_style_detached, "no gradient of J_style reaches the pixels: G's activations were cut off "
                "from the graph before the style cost, so only α J_content moves G."),
        Mistake(_step_features_detached, "no gradient reaches the pixels: G's activations were computed "
                "outside the graph (detached from G, or without gradient tracking), so J has no path back to G."),
        Mistake(_step_swapped, "α weighs J_content and β weighs J_style, not the other way round."),
        Mistake(_step_cost_after, "the cost to give back is J at the G the step started from (the cost whose "
                "gradient the step used), not J at the G after the step."),
    ],
    generic_hint="One step: zero gradients, the activations of G, J(G) = α J_content(C,G) + β J_style(S,G), "
                 "its gradient ∂J/∂G, the optimiser's step, then every pixel back into [0, 1]; "
                 "the cost given back is J before the step.",
)


# ---- question: the alpha/beta grid of section 6 ----------------------------------------------
CORNERS = ("top left", "top right", "bottom left", "bottom right")
GRID = ([1.0, 10.0, 100.0], [1e4, 1e5, 1e6])  # section 6: rows alpha (top to bottom), columns beta


def _corner(row: int, col: int) -> str:
    return f"{('top', 'bottom')[row]} {('left', 'right')[col]}"


def _corners(alphas, betas):
    """{corner: (alpha, beta)} of a grid with rows ``alphas`` and columns ``betas``."""
    return {_corner(r, c): (alphas[-r], betas[-c]) for r in (0, 1) for c in (0, 1)}


def grid_corner_with_content(alphas: list[float], betas: list[float]) -> str:
    """The corner of a grid like section 6's (row i runs alpha = alphas[i], column j beta = betas[j])
    whose image keeps the most of the content: the one with the largest alpha/beta."""
    corners = _corners(alphas, betas)
    return max(corners, key=lambda name: corners[name][0] / corners[name][1])


def _most_style(alphas, betas):
    corners = _corners(alphas, betas)
    return min(corners, key=lambda name: corners[name][0] / corners[name][1])


def _largest_weights(alphas, betas):
    corners = _corners(alphas, betas)
    return max(corners, key=lambda name: corners[name][0] + corners[name][1])


def _smallest_weights(alphas, betas):
    corners = _corners(alphas, betas)
    return min(corners, key=lambda name: corners[name][0] + corners[name][1])


def _same_choice(got: Any, expected: str) -> tuple[bool, str]:
    if not isinstance(got, str) or got.strip().lower() not in CORNERS:
        return False, f"answer with one of {', '.join(repr(c) for c in CORNERS)} (a string); got {got!r}"
    ok = got.strip().lower() == expected
    return ok, "" if ok else f"returned {got!r}, which is not the corner that keeps the most content"


def _grid_case(label, alphas, betas):
    return Case(label, lambda: ((list(alphas), list(betas)), {}), compare=_same_choice)


CORNER = Exercise(
    name="grid_corner_with_content",
    lesson="04_neural_style_transfer",
    kind="question",
    reference=grid_corner_with_content,
    groups={"value": 1},
    cases=[_grid_case("section 6's grid: alpha = 1, 10, 100 (rows), beta = 1e4, 1e5, 1e6 (columns)", *GRID)],
    hidden=[
        _grid_case("hidden", [100.0, 10.0, 1.0], [1e4, 1e5, 1e6]),
        _grid_case("hidden", [1.0, 10.0, 100.0], [1e6, 1e5, 1e4]),
        _grid_case("hidden", [50.0, 5.0, 0.5], [3e5, 3e4, 3e3]),
    ],
    mistakes=[
        Mistake(_most_style, "that corner has the smallest α/β: there the style takes over. The content "
                "survives where α, its weight, is largest against β."),
        Mistake(_largest_weights, "that corner has the largest α but also the largest β. Multiplying J by a "
                "constant changes nothing, so only α/β matters: compare the ratio of the corners."),
        Mistake(_smallest_weights, "that corner has the smallest β but also the smallest α; only α/β matters, "
                "and there it equals that of the opposite corner."),
    ],
    generic_hint="Only α/β matters: compute it for the four corners (rows α, columns β) and find the largest.",
)


EXERCISES: dict[str, Exercise] = {ex.name: ex for ex in (TOTAL, STEP, CORNER)}
