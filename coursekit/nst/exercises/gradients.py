"""Lesson 05's exercises: the gradients of the content and style costs, by hand.

``content_cost_gradient`` and ``style_layer_gradient`` (references in ``coursekit.nst.gradients``).
Inputs are seeded float64 features: rectified ones (about half the entries exactly 0, so the ReLU
mask matters) for ``relu=True``, signed ones for ``relu=False``. The catalogued mistakes are the
ones a derivation by hand tends to make: no mask, the mask read off the wrong tensor, a lost
constant (1/2, 4, 2, 1/(N^2 M^2)), a flipped sign, F^T (G - A) reshaped without its transpose.
"""

from __future__ import annotations

import torch

from ...exercise import Case, Exercise, Mistake, batch_independent, keeps_dtype, not_mutating, zero_when_equal
from .. import costs, gradients
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
    generic_hint="With F the unrolled features (N = nC rows, M = nH·nW columns), G = F Fᵀ and A the style Gram, "
                 "∂E_l/∂F = 1/(N² M²) (G − A) F, back in a_G's shape and, with relu=True, 0 wherever F_ij = 0.",
)


EXERCISES: dict[str, Exercise] = {ex.name: ex for ex in (CONTENT_GRADIENT, STYLE_GRADIENT)}

