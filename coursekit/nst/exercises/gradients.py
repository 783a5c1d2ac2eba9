"""Lesson 05's exercises: the gradients of the content and style costs, by hand, and a descent step.

``content_cost_gradient`` and ``style_layer_gradient`` (formulas; references in
``coursekit.nst.gradients``): inputs are seeded float64 features, rectified ones (about half the
entries exactly 0, so the ReLU mask matters) for ``relu=True``, signed ones for ``relu=False``. The
catalogued mistakes are the ones a derivation by hand tends to make: no mask, the mask read off the
wrong tensor, a lost constant (1/2, 4, 2, 1/(N^2 M^2)), a flipped sign, F^T (G - A) reshaped
without its transpose.

``style_gradient_factor`` (a question): by what factor each entry of dE_l/dF^l changes when the
features are scaled by s and their positions repeated k times (answer s^3 / k).

``pixel_descent_step`` (a step; reference in ``coursekit.nst.descent``): the driver builds a tiny
seeded float64 network (three 3x3 convolutions, ReLU, one average pooling) on 8x8 images, hands
the learner's step coursekit's gradient functions and takes a few steps; the images after them are
compared. Cases with small steps test the descent, cases with large ones the clamping to [0, 1],
and one reads a layer in both costs.
"""

from __future__ import annotations

import torch

from ...exercise import (Case, Exercise, Mistake, NotImplementedYet, Property, batch_independent, keeps_dtype,
                         not_mutating, zero_when_equal)
from .. import costs, descent, gradients
from .inputs import feature_pair, features

__all__ = ["EXERCISES"]


GRADIENT_LESSON = "05_gradients_by_hand"


def _gradient_case(label, shape, seed, target_batch=None, relu=True, group="value"):
    kwargs = {} if relu is None else {"relu": relu}
    rectified = relu is None or relu
    return Case(label, lambda: (feature_pair(shape, seed, target_batch, rectified), kwargs), group=group)


def _mask(a_G, relu):
    return (a_G > 0).to(a_G.dtype) if relu else torch.ones_like(a_G)


# ---- content_cost_gradient -----------------------------------------------------------------
def _content_grad_no_mask(a_C, a_G, relu=True):
    return a_G - a_C


def _content_grad_always_masked(a_C, a_G, relu=True):
    return (a_G - a_C) * _mask(a_G, True)


def _content_grad_sign(a_C, a_G, relu=True):
    return (a_C - a_G) * _mask(a_G, relu)


def _content_grad_mask_of_target(a_C, a_G, relu=True):
    return (a_G - a_C) * _mask(a_C, relu)


def _content_grad_half(a_C, a_G, relu=True):
    return 0.5 * (a_G - a_C) * _mask(a_G, relu)


def _content_grad_two(a_C, a_G, relu=True):
    return 2 * (a_G - a_C) * _mask(a_G, relu)


CONTENT_GRADIENT = Exercise(
    name="content_cost_gradient",
    reference=gradients.content_cost_gradient,
    lesson=GRADIENT_LESSON,
    groups={"value": 1, "batch independence": 1},
    cases=[
        _gradient_case("rectified a_G of shape (1, 3, 4, 4), relu=True (the default)", (1, 3, 4, 4), 0, relu=None),
        _gradient_case("signed a_G of shape (1, 2, 3, 5), relu=False", (1, 2, 3, 5), 1, relu=False),
        _gradient_case("a batch of 2 generated images, one content image, relu=True", (2, 3, 3, 3), 2, 1, relu=True,
                       group="batch independence"),
    ],
    hidden=[
        _gradient_case("one channel, two positions (1, 1, 1, 2), relu=True", (1, 1, 1, 2), 10, relu=True),
        _gradient_case("a batch of 3 with 3 content images (3, 4, 2, 3), relu=True", (3, 4, 2, 3), 11, relu=True,
                       group="batch independence"),
        Case("every unit off (a_G all zero), relu=True",
             lambda: ((features((1, 3, 2, 2), 12), torch.zeros(1, 3, 2, 2, dtype=torch.float64)), {"relu": True})),
        _gradient_case("signed a_G, batch 2 against one target (2, 5, 1, 7), relu=False", (2, 5, 1, 7), 13, 1,
                       relu=False, group="batch independence"),
    ],
    properties=[
        zero_when_equal(lambda: feature_pair((1, 3, 4, 4), 3)),
        not_mutating(lambda: feature_pair((2, 3, 4, 4), 4)),
        keeps_dtype(lambda: feature_pair((1, 2, 3, 3), 5)),
        batch_independent(lambda k: (features((1, 3, 4, 4), 6), features((1, 3, 4, 4), 6 + k))),
    ],
    mistakes=[
        Mistake(_content_grad_no_mask, "the ReLU mask is missing: with relu=True the gradient is (F − P)_ij only "
                "where F_ij > 0, and 0 where the unit is off (F_ij = 0)."),
        Mistake(_content_grad_always_masked, "with relu=False there is no rectifier to differentiate through: "
                "no mask."),
        Mistake(_content_grad_mask_of_target, "the mask comes from the generated image's features F = a^[l](G) "
                "(the units whose output you differentiate), not from the content image's P = a^[l](C)."),
        Mistake(_content_grad_sign, "the sign is flipped: ∂/∂F of 1/2 (F − P)² is F − P."),
        Mistake(_content_grad_half, "the 1/2 in front of the cost cancels the 2 from differentiating the square: "
                "the gradient is (F − P), not 1/2 (F − P)."),
        Mistake(_content_grad_two, "the cost has 1/2 in front, which cancels the 2 from the square: the gradient "
                "is (F − P), not 2 (F − P)."),
    ],
    kind="formula",
    generic_hint="∂J_content/∂F_ij = (F − P)_ij, shape (B, nC, nH, nW); with relu=True it is 0 wherever F_ij = 0.",
)


# ---- style_layer_gradient ------------------------------------------------------------------
def _style_grad_parts(a_S, a_G):
    b, n, h, w = a_G.shape
    F = a_G.reshape(b, n, h * w)
    D = costs.gram_matrix(a_G) - costs.gram_matrix(a_S)  # G - A
    return F, D, n, h * w


def _style_grad_scaled(coef_fn):
    def wrong(a_S, a_G, relu=True):
        F, D, n, m = _style_grad_parts(a_S, a_G)
        return (coef_fn(n, m) * torch.bmm(D, F)).reshape(a_G.shape) * _mask(a_G, relu)

    return wrong


def _style_grad_no_mask(a_S, a_G, relu=True):
    return gradients.style_layer_gradient(a_S, a_G, relu=False)


def _style_grad_always_masked(a_S, a_G, relu=True):
    return gradients.style_layer_gradient(a_S, a_G, relu=False) * _mask(a_G, True)


def _style_grad_mask_of_target(a_S, a_G, relu=True):
    return gradients.style_layer_gradient(a_S, a_G, relu=False) * _mask(a_S, relu)


def _style_grad_sign(a_S, a_G, relu=True):
    return -gradients.style_layer_gradient(a_S, a_G, relu=relu)


def _style_grad_transposed(a_S, a_G, relu=True):
    # F^T (G - A) is (M, N); reshaping it to (nC, nH, nW) without the transpose scrambles the entries.
    F, D, n, m = _style_grad_parts(a_S, a_G)
    return (torch.bmm(F.transpose(1, 2), D) / (n**2 * m**2)).reshape(a_G.shape) * _mask(a_G, relu)


STYLE_GRADIENT = Exercise(
    name="style_layer_gradient",
    reference=gradients.style_layer_gradient,
    lesson=GRADIENT_LESSON,
    groups={"value": 2, "batch independence": 1},
    cases=[
        _gradient_case("rectified a_G of shape (1, 3, 4, 4), relu=True (the default)", (1, 3, 4, 4), 20, relu=None),
        _gradient_case("signed a_G of shape (1, 4, 2, 3), relu=False", (1, 4, 2, 3), 21, relu=False),
        _gradient_case("a batch of 2 generated images, one style image (2, 5, 3, 2), relu=True", (2, 5, 3, 2), 22, 1,
                       relu=True, group="batch independence"),
    ],
    hidden=[
        _gradient_case("one channel, two positions (1, 1, 1, 2), relu=True", (1, 1, 1, 2), 30, relu=True),
        _gradient_case("more channels than positions (1, 8, 1, 3), relu=True", (1, 8, 1, 3), 31, relu=True),
        _gradient_case("a batch of 3 with 3 style images (3, 2, 4, 5), relu=False", (3, 2, 4, 5), 32, relu=False,
                       group="batch independence"),
        Case("generated image with the style image's Gram matrix (G = A): zero gradient",
             lambda: ((features((1, 3, 3, 3), 33), features((1, 3, 3, 3), 33).flip(-1)), {"relu": True})),
    ],
    properties=[
        zero_when_equal(lambda: feature_pair((1, 3, 4, 4), 23)),
        not_mutating(lambda: feature_pair((2, 3, 4, 4), 24)),
        keeps_dtype(lambda: feature_pair((1, 2, 3, 3), 25)),
        batch_independent(lambda k: (features((1, 3, 4, 4), 26), features((1, 3, 4, 4), 26 + k))),
    ],
    mistakes=[
        Mistake(_style_grad_no_mask, "the ReLU mask is missing: with relu=True the gradient is 0 wherever F_ij = 0. "
                "Unlike the content gradient, ((G − A) F)_ij is not 0 there by itself, so the mask matters."),
        Mistake(_style_grad_always_masked, "with relu=False there is no rectifier: no mask."),
        Mistake(_style_grad_mask_of_target, "the mask comes from the generated image's features F, not the style "
                "image's."),
        Mistake(_style_grad_scaled(lambda n, m: 1.0), "the factor 1/(N² M²) is missing, with N = nC and M = nH·nW."),
        Mistake(_style_grad_scaled(lambda n, m: 1.0 / (4 * n**2 * m**2)), "the factor 4 from the derivative is "
                "missing: ∂/∂F of Σ (F Fᵀ − A)² is 4 (G − A) F, which cancels the 4 in 1/(4 N² M²)."),
        Mistake(_style_grad_scaled(lambda n, m: 1.0 / (2 * n**2 * m**2)), "half of the derivative is missing: "
                "F appears twice in G = F Fᵀ, so the square's 2 (G − A) is counted twice (4 in all)."),
        Mistake(_style_grad_scaled(lambda n, m: 4.0 / (n**4 * m**2)),
                "that is the gradient of the PyTorch tutorial's normalisation (Gram / (N M), then the mean); "
                "this exercise uses the paper's E_l = 1/(4 N² M²) Σ (G − A)²."),
        Mistake(_style_grad_sign, "the sign is flipped: the gradient points from A towards G, with G the generated "
                "image's Gram matrix and A the style image's."),
        Mistake(_style_grad_transposed, "Fᵀ (G − A) has shape (M, N): the paper's ((F^l)ᵀ (G − A))_ji is its "
                "transpose, (G − A) F of shape (N, M). Transpose before going back to (B, nC, nH, nW)."),
    ],
    kind="formula",
    generic_hint="With F the unrolled features (N = nC rows, M = nH·nW columns), G = F Fᵀ and A the style Gram, "
                 "∂E_l/∂F = 1/(N² M²) (G − A) F, back in a_G's shape and, with relu=True, 0 wherever F_ij = 0.",
)


# ---- style_gradient_factor (a question) ----------------------------------------------------
def style_gradient_factor(s: float, k: int) -> float:
    """Each entry of dE_l/dF^l = 1/(N^2 M^2) (G - A) F, when both images' features are multiplied by
    s and their M positions repeated k times: (G - A) grows by s^2 k, F by s, 1/M^2 shrinks by k^2."""
    return float(s) ** 3 / k


def _factor_case(label, s, k):
    return Case(label, lambda: ((s, k), {}))


FACTOR_QUESTION = Exercise(
    name="style_gradient_factor",
    reference=style_gradient_factor,
    lesson=GRADIENT_LESSON,
    kind="question",
    groups={"value": 2},
    cases=[_factor_case("s = 3, k = 2", 3.0, 2)],
    hidden=[_factor_case("hidden", 2.0, 4), _factor_case("hidden", 0.5, 3), _factor_case("hidden", 10.0, 3),
            _factor_case("hidden", 1.5, 5)],
    mistakes=[
        Mistake(lambda s, k: float(s) ** 3, "the scale s is right (s² from G − A, s from F), but the size counts "
                "too: repeating the positions makes G and A k times larger, and 1/M² k² times smaller."),
        Mistake(lambda s, k: float(s) ** 3 / k**2, "1/M² shrinks by k², but G = F Fᵀ sums over the M positions, "
                "so G − A grows by k: the two do not cancel entirely."),
        Mistake(lambda s, k: float(s) ** 4 / k, "s⁴ is how the cost E_l itself grows (it is a square of G − A, "
                "which grows by s²); its derivative has one factor of F fewer."),
        Mistake(lambda s, k: float(s) ** 4, "that is how the cost E_l changes (s⁴, and no change with k): the "
                "question asks for its gradient, an entry of (G − A) F over N² M²."),
        Mistake(lambda s, k: float(s) ** 2 / k, "G − A grows by s², but the gradient multiplies it by F, which "
                "grows by s once more."),
        Mistake(lambda s, k: float(s) ** 3 * k, "the normalisation 1/(N² M²) changes too: M grows k-fold, so "
                "1/M² shrinks by k²."),
    ],
    generic_hint="Follow each factor of ∂E_l/∂F = 1/(N² M²) (G − A) F: how F, the Gram matrices G = F Fᵀ and A "
                 "(sums over the M positions) and 1/M² change when every feature is s times larger and M is "
                 "k times larger.",
)


# ---- pixel_descent_step (a step, through a driver) -----------------------------------------
DESCENT_ALPHA, DESCENT_BETA = 1.0, 1e3  # a tiny network's content and style gradients of one size


def tiny_network(seed: int):
    """x -> {"conv1", "conv2", "conv3": pre-activations}: 3x3 convolutions (3 -> 4 -> 5 -> 6 channels,
    padding 1) with ReLU between and one 2x2 average pooling after conv1; seeded float64 weights."""
    g = torch.Generator().manual_seed(seed)

    def conv(c_in, c_out):
        return (torch.randn(c_out, c_in, 3, 3, generator=g, dtype=torch.float64) / (3 * c_in**0.5),
                0.1 * torch.randn(c_out, generator=g, dtype=torch.float64))

    p1, p2, p3 = conv(3, 4), conv(4, 5), conv(5, 6)

    def extractor(x):
        X1 = torch.nn.functional.conv2d(x, *p1, padding=1)  # (B, 4, H, W)
        X2 = torch.nn.functional.conv2d(torch.nn.functional.avg_pool2d(X1.relu(), 2), *p2, padding=1)  # (B, 5, H/2, W/2)
        X3 = torch.nn.functional.conv2d(X2.relu(), *p3, padding=1)  # (B, 6, H/2, W/2)
        return {"conv1": X1, "conv2": X2, "conv3": X3}

    return extractor


def descent_problem(seed: int, batch: int = 1, size: int = 8, content=("conv2",), style=("conv1", "conv3"),
                    start: str = "middle"):
    """A seeded style-transfer problem on ``tiny_network``: (x, extractor, content_targets, style_targets).
    start="middle": x in [0.25, 0.75] (small steps never reach 0 or 1); "full": x in [0, 1]."""
    extractor = tiny_network(seed)
    g = torch.Generator().manual_seed(seed + 500)
    C, S = (torch.rand(1, 3, size, size, generator=g, dtype=torch.float64) for _ in range(2))
    x = torch.rand(batch, 3, size, size, generator=g, dtype=torch.float64)
    x = 0.25 + 0.5 * x if start == "middle" else x
    with torch.no_grad():
        X_C, X_S = extractor(C), extractor(S)
    content_targets = {layer: (DESCENT_ALPHA, X_C[layer].relu()) for layer in content}
    style_targets = {layer: (DESCENT_BETA / len(style), X_S[layer].relu()) for layer in style}
    return x, extractor, content_targets, style_targets


def _descent_driver(step, seed, lr, steps=3, **problem):
    """The images after ``steps`` calls of step(x, extractor, content_targets, style_targets, lr,
    content_gradient, style_gradient), with coursekit's gradient functions."""
    x, extractor, content_targets, style_targets = descent_problem(seed, **problem)
    for _ in range(steps):
        x = step(x, extractor, content_targets, style_targets, lr,
                 gradients.content_cost_gradient, gradients.style_layer_gradient)
    return x


def _step_variant(sign=-1.0, clamp=True, relu=True, rectify=True, swap=False, weighted=True, accumulate=True,
                  normalise=False):
    """A descent step with one thing done differently (the catalogued mistakes)."""

    def step(x, extractor, content_targets, style_targets, lr, content_gradient, style_gradient):
        image = x.detach().requires_grad_(True)
        X = extractor(image)
        upstream = {}
        for targets, gradient_fn in ((content_targets, content_gradient), (style_targets, style_gradient)):
            for layer, (weight, target) in targets.items():
                F = X[layer].detach().relu() if rectify else X[layer].detach()
                g = gradient_fn(F, target, relu=relu) if swap else gradient_fn(target, F, relu=relu)
                g = weight * g if weighted else g
                upstream[layer] = upstream[layer] + g if accumulate and layer in upstream else g
        layers = list(upstream)
        (grad,) = torch.autograd.grad([X[k] for k in layers], image, grad_outputs=[upstream[k] for k in layers])
        grad = grad / grad.abs().max() if normalise else grad
        new = image.detach() + sign * lr * grad
        return new.clamp(0.0, 1.0) if clamp else new

    return step


def _descent_case(label, seed, lr, group="descent", **problem):
    return Case(label, lambda: ((seed, lr), problem), group=group)


def _step_leaves_x_alone():
    def test(fn, ref):
        x, extractor, content_targets, style_targets = descent_problem(7, batch=2)
        before = x.clone()
        try:
            new = fn(x, extractor, content_targets, style_targets, 0.5,
                     gradients.content_cost_gradient, gradients.style_layer_gradient)
        except NotImplementedError as exc:
            raise NotImplementedYet() from exc
        if not torch.equal(x, before) or x.requires_grad:
            return "changed the caller's image x (in place, or made it require gradients); work on a detached copy"
        if not isinstance(new, torch.Tensor) or new.shape != x.shape:
            return f"return the new images as a tensor of x's shape {tuple(x.shape)}"
        if new.requires_grad:
            return "the new images still carry autograd history; return them detached, ready for the next step"
        return None

    return Property("x unchanged, new images detached", test)


DESCENT_STEP = Exercise(
    name="pixel_descent_step",
    reference=descent.pixel_descent_step,
    lesson=GRADIENT_LESSON,
    kind="step",
    driver=_descent_driver,
    groups={"descent": 2, "clamping to [0, 1]": 1, "a layer in both costs": 1},
    cases=[
        _descent_case("3 small steps (lr 0.5), one 8x8 image, content conv2, style conv1 and conv3", 0, 0.5),
        _descent_case("3 small steps (lr 0.5), a batch of 2 images", 1, 0.5, batch=2),
        _descent_case("3 large steps (lr 20) from pixels anywhere in [0, 1]", 2, 20.0, start="full",
                      group="clamping to [0, 1]"),
        _descent_case("3 small steps, conv2 read by the content and the style cost", 3, 0.5,
                      style=("conv1", "conv2", "conv3"), group="a layer in both costs"),
    ],
    hidden=[
        _descent_case("hidden", 10, 0.3, steps=4, batch=3),
        _descent_case("hidden", 11, 0.5, steps=2, size=12, content=("conv3",), style=("conv1", "conv2")),
        _descent_case("hidden", 12, 30.0, start="full", batch=2, group="clamping to [0, 1]"),
        _descent_case("hidden", 13, 0.6, start="full", steps=4, content=("conv1",), style=("conv2", "conv3"),
                      group="clamping to [0, 1]"),
        _descent_case("hidden", 14, 0.4, content=("conv1", "conv2"), style=("conv2",),
                      group="a layer in both costs"),
    ],
    properties=[_step_leaves_x_alone()],
    mistakes=[
        Mistake(_step_variant(sign=1.0), "the step goes uphill: ∂J/∂x points to where J grows, so descent moves "
                "x by −lr ∂J/∂x."),
        Mistake(_step_variant(clamp=False), "pixels left [0, 1]: after the step, clip every value back into "
                "[0, 1], the range of an image (the box constraint lesson 04's L-BFGS-B keeps)."),
        Mistake(_step_variant(relu=False), "the ReLU mask is missing: the extractor gives the pre-activations X^l, "
                "so pass back ∂J/∂X^l, the gradient through the rectifier (relu=True), not ∂J/∂F^l."),
        Mistake(_step_variant(relu=False, rectify=False), "the features are the rectified F^l = max(0, X^l), not "
                "the pre-activations X^l: compare F^l with the target and take the gradient through the rectifier."),
        Mistake(_step_variant(swap=True), "the gradient is evaluated at the target's features instead of the "
                "generated image's: the target (P^l, or the style image's features) comes first, then "
                "F^l of the current x."),
        Mistake(_step_variant(weighted=False), "the weights are missing: each layer's gradient is multiplied by "
                "its weight (α for the content layer, β λ^[l] for a style layer) before it goes back."),
        Mistake(_step_variant(accumulate=False), "a layer read by both costs keeps only one of its two gradients: "
                "J is a sum, so ∂J/∂X^l at that layer is the sum of the content and the style terms."),
        Mistake(_step_variant(normalise=True), "the step is lr times the gradient itself, not the gradient divided "
                "by its largest entry (section 7 normalised it only to look at one small step)."),
    ],
    generic_hint="Make a detached copy of x that requires gradients, run the extractor on it, compute ∂J/∂X^l by "
                 "hand at every target layer (weight times your gradient of the rectified features), carry them "
                 "back to the pixels in one vector-Jacobian product, step against the result and keep the pixels "
                 "in [0, 1].",
)


EXERCISES: dict[str, Exercise] = {
    ex.name: ex for ex in (CONTENT_GRADIENT, STYLE_GRADIENT, FACTOR_QUESTION, DESCENT_STEP)
}

