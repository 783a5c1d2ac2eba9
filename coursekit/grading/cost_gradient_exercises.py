"""Public and hidden checks of lesson 05's exercises: ``content_cost_gradient`` and ``style_layer_gradient``.

Listed in ``coursekit.grading.EXERCISE_MODULES``; the references live in ``coursekit.cost_gradients``.
Inputs are seeded float64 features: rectified ones (about half the entries exactly 0, so the ReLU
mask matters) for ``relu=True``, signed ones for ``relu=False``. The catalogued mistakes are the
ones a derivation by hand tends to make: no mask, the mask read off the wrong tensor, a lost
constant (1/2, 4, 2, 1/(N^2 M^2)), a flipped sign, F^T (G - A) reshaped without its transpose.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import cost_gradients as cg
from .. import style
from .properties import batch_independent, keeps_dtype, not_mutating, zero_when_equal
from .runner import Case, Exercise, Mistake

__all__ = ["EXERCISES", "features"]

LESSON = "05_gradients_by_hand"


def features(shape: tuple[int, ...], seed: int, rectified: bool = True) -> Tensor:
    """Seeded float64 features: ReLU(X) with X ~ N(0, 1) (rectified) or X itself."""
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return x.relu() if rectified else x


def _pair(shape, seed, target_batch=None, rectified=True):
    target = features(((target_batch or shape[0]),) + tuple(shape[1:]), seed + 1000, rectified=True)
    return target, features(shape, seed, rectified)


def _case(label, shape, seed, target_batch=None, relu=True):
    kwargs = {} if relu is None else {"relu": relu}
    rectified = relu is None or relu
    return Case(label, lambda: (_pair(shape, seed, target_batch, rectified), kwargs))


def _mask(a_G, relu):
    return (a_G > 0).to(a_G.dtype) if relu else torch.ones_like(a_G)


# ---- content_cost_gradient -----------------------------------------------------------------
def _content_no_mask(a_C, a_G, relu=True):
    return a_G - a_C


def _content_always_masked(a_C, a_G, relu=True):
    return (a_G - a_C) * _mask(a_G, True)


def _content_sign(a_C, a_G, relu=True):
    return (a_C - a_G) * _mask(a_G, relu)


def _content_mask_of_target(a_C, a_G, relu=True):
    return (a_G - a_C) * _mask(a_C, relu)


def _content_half(a_C, a_G, relu=True):
    return 0.5 * (a_G - a_C) * _mask(a_G, relu)


def _content_two(a_C, a_G, relu=True):
    return 2 * (a_G - a_C) * _mask(a_G, relu)


CONTENT_GRADIENT = Exercise(
    name="content_cost_gradient",
    reference=cg.content_cost_gradient,
    lesson=LESSON,
    points=2,
    cases=[
        _case("rectified a_G of shape (1, 3, 4, 4), relu=True (the default)", (1, 3, 4, 4), 0, relu=None),
        _case("signed a_G of shape (1, 2, 3, 5), relu=False", (1, 2, 3, 5), 1, relu=False),
        _case("a batch of 2 generated images, one content image, relu=True", (2, 3, 3, 3), 2, 1, relu=True),
    ],
    hidden=[
        _case("one channel, two positions (1, 1, 1, 2), relu=True", (1, 1, 1, 2), 10, relu=True),
        _case("a batch of 3 with 3 content images (3, 4, 2, 3), relu=True", (3, 4, 2, 3), 11, relu=True),
        Case("every unit off (a_G all zero), relu=True",
             lambda: ((features((1, 3, 2, 2), 12), torch.zeros(1, 3, 2, 2, dtype=torch.float64)), {"relu": True})),
        _case("signed a_G, batch 2 against one target (2, 5, 1, 7), relu=False", (2, 5, 1, 7), 13, 1, relu=False),
    ],
    properties=[
        zero_when_equal(lambda: _pair((1, 3, 4, 4), 3)),
        not_mutating(lambda: _pair((2, 3, 4, 4), 4)),
        keeps_dtype(lambda: _pair((1, 2, 3, 3), 5)),
        batch_independent(lambda k: (features((1, 3, 4, 4), 6), features((1, 3, 4, 4), 6 + k))),
    ],
    mistakes=[
        Mistake(_content_no_mask, "the ReLU mask is missing: with relu=True the gradient is (F - P)_ij only where "
                "F_ij > 0 and 0 where the unit is off (F_ij = 0), e.g. multiply by (a_G > 0)."),
        Mistake(_content_always_masked, "with relu=False there is no rectifier to differentiate through: "
                "return a_G - a_C without the mask."),
        Mistake(_content_mask_of_target, "the mask comes from the generated image's features F = a_G "
                "(the units whose output you differentiate), not from the content image's P = a_C."),
        Mistake(_content_sign, "the sign is flipped: d/dF of 1/2 (F - P)^2 is F - P, i.e. a_G - a_C."),
        Mistake(_content_half, "the 1/2 in front of the cost cancels the 2 from differentiating the square: "
                "the gradient is (F - P), not 1/2 (F - P)."),
        Mistake(_content_two, "the cost has 1/2 in front, which cancels the 2 from the square: the gradient is (F - P)."),
    ],
    generic_hint="dL/dF = a_G - a_C (shape (B, nC, nH, nW)); with relu=True multiply by the mask (a_G > 0).",
)


# ---- style_layer_gradient ------------------------------------------------------------------
def _style_parts(a_S, a_G):
    b, n, h, w = a_G.shape
    F = a_G.reshape(b, n, h * w)
    D = style.gram_matrix(a_G) - style.gram_matrix(a_S)  # G - A
    return F, D, n, h * w


def _style_scaled(coef_fn):
    def wrong(a_S, a_G, relu=True):
        F, D, n, m = _style_parts(a_S, a_G)
        return (coef_fn(n, m) * torch.bmm(D, F)).reshape(a_G.shape) * _mask(a_G, relu)

    return wrong


def _style_no_mask(a_S, a_G, relu=True):
    return cg.style_layer_gradient(a_S, a_G, relu=False)


def _style_always_masked(a_S, a_G, relu=True):
    return cg.style_layer_gradient(a_S, a_G, relu=False) * _mask(a_G, True)


def _style_mask_of_target(a_S, a_G, relu=True):
    return cg.style_layer_gradient(a_S, a_G, relu=False) * _mask(a_S, relu)


def _style_sign(a_S, a_G, relu=True):
    return -cg.style_layer_gradient(a_S, a_G, relu=relu)


def _style_transposed(a_S, a_G, relu=True):
    # F^T (G - A) is (M, N); reshaping it to (nC, nH, nW) without the transpose scrambles the entries.
    F, D, n, m = _style_parts(a_S, a_G)
    return (torch.bmm(F.transpose(1, 2), D) / (n**2 * m**2)).reshape(a_G.shape) * _mask(a_G, relu)


STYLE_GRADIENT = Exercise(
    name="style_layer_gradient",
    reference=cg.style_layer_gradient,
    lesson=LESSON,
    points=3,
    cases=[
        _case("rectified a_G of shape (1, 3, 4, 4), relu=True (the default)", (1, 3, 4, 4), 20, relu=None),
        _case("signed a_G of shape (1, 4, 2, 3), relu=False", (1, 4, 2, 3), 21, relu=False),
        _case("a batch of 2 generated images, one style image (2, 5, 3, 2), relu=True", (2, 5, 3, 2), 22, 1, relu=True),
    ],
    hidden=[
        _case("one channel, two positions (1, 1, 1, 2), relu=True", (1, 1, 1, 2), 30, relu=True),
        _case("more channels than positions (1, 8, 1, 3), relu=True", (1, 8, 1, 3), 31, relu=True),
        _case("a batch of 3 with 3 style images (3, 2, 4, 5), relu=False", (3, 2, 4, 5), 32, relu=False),
        Case("generated image with the style image's Gram matrix (G = A): zero gradient",
             lambda: ((features((1, 3, 3, 3), 33), features((1, 3, 3, 3), 33).flip(-1)), {"relu": True})),
    ],
    properties=[
        zero_when_equal(lambda: _pair((1, 3, 4, 4), 23)),
        not_mutating(lambda: _pair((2, 3, 4, 4), 24)),
        keeps_dtype(lambda: _pair((1, 2, 3, 3), 25)),
        batch_independent(lambda k: (features((1, 3, 4, 4), 26), features((1, 3, 4, 4), 26 + k))),
    ],
    mistakes=[
        Mistake(_style_no_mask, "the ReLU mask is missing: with relu=True keep the gradient only where "
                "a_G > 0. Unlike the content gradient, ((G - A) F)_ij is not 0 where F_ij = 0, so the mask matters."),
        Mistake(_style_always_masked, "with relu=False there is no rectifier: return the unmasked gradient."),
        Mistake(_style_mask_of_target, "the mask comes from the generated image's features a_G, not the style image's a_S."),
        Mistake(_style_scaled(lambda n, m: 1.0), "the factor 1/(N^2 M^2) is missing, with N = nC and M = nH*nW."),
        Mistake(_style_scaled(lambda n, m: 1.0 / (4 * n**2 * m**2)), "the factor 4 from the derivative is "
                "missing: d/dF of sum (F F^T - A)^2 is 4 (G - A) F, which cancels the 4 in 1/(4 N^2 M^2)."),
        Mistake(_style_scaled(lambda n, m: 1.0 / (2 * n**2 * m**2)), "half of the derivative is missing: "
                "F appears twice in G = F F^T, so the square's 2(G - A) is counted twice more (4 in all), "
                "which gives 1/(N^2 M^2) (G - A) F."),
        Mistake(_style_scaled(lambda n, m: 4.0 / (n**4 * m**2)),
                "that is the gradient of the PyTorch tutorial's normalisation (Gram / (N M), then the mean); "
                "this exercise uses the paper's E_l = 1/(4 N^2 M^2) sum (G - A)^2."),
        Mistake(_style_sign, "the sign is flipped: the gradient is 1/(N^2 M^2) (G - A) F with G the generated "
                "image's Gram matrix and A the style image's."),
        Mistake(_style_transposed, "F^T (G - A) has shape (M, N): the paper's ((F^l)^T (G - A))_ji is its "
                "transpose, (G - A) F of shape (N, M). Transpose before reshaping to (B, nC, nH, nW)."),
    ],
    generic_hint="Unroll a_G to F of shape (B, N, M) (N = nC, M = nH*nW), G = F F^T, A = the style Gram; "
                 "the gradient is (G - A) @ F / (N^2 M^2), reshaped to a_G's shape and, with relu=True, times (a_G > 0).",
)

EXERCISES: dict[str, Exercise] = {e.name: e for e in (CONTENT_GRADIENT, STYLE_GRADIENT)}
