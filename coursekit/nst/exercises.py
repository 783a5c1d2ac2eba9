"""Lessons 01-05's exercises: public and hidden checks, with the mistakes learners make.

Lessons 01-04: ``gram_matrix``, ``layer_style_cost``, ``style_cost``, ``content_cost``,
``total_cost`` (references in ``coursekit.nst.costs``). Each exercise lists realistic mistakes
(normalised Gram, transposed reshape, mean subtracted, mixed batch, ...) whose outputs the checks
recognise, so a hint can name the mistake.

Lesson 05: ``content_cost_gradient`` and ``style_layer_gradient`` (references in
``coursekit.nst.gradients``). Inputs are seeded float64 features: rectified ones (about half the
entries exactly 0, so the ReLU mask matters) for ``relu=True``, signed ones for ``relu=False``. The
catalogued mistakes are the ones a derivation by hand tends to make: no mask, the mask read off the
wrong tensor, a lost constant (1/2, 4, 2, 1/(N^2 M^2)), a flipped sign, F^T (G - A) reshaped
without its transpose.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..exercise import (Case, Exercise, Mistake, batch_independent, gradient_flows, keeps_dtype, not_mutating,
                        outputs_match, symmetric, zero_when_equal)
from . import costs, gradients

__all__ = ["EXERCISES", "activations", "features"]


def activations(shape: tuple[int, ...], seed: int) -> Tensor:
    """Seeded float64 activations, mostly non-negative like features after a ReLU, a few negative."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).relu() + 0.1 * torch.randn(
        shape, generator=g, dtype=torch.float64)


def _pair(shape, seed, target_batch=None):
    a_G = activations(shape, seed)
    a_T = activations(((target_batch or shape[0]),) + tuple(shape[1:]), seed + 1000)
    return a_T, a_G


def outputs_match_float32(got, expected):
    """For float32 inputs: a relative tolerance float32 can meet (sums of many products)."""
    if isinstance(got, Tensor) and isinstance(expected, Tensor) and got.shape == expected.shape:
        scale = expected.abs().max().clamp_min(1e-12)
        if got.dtype != expected.dtype:
            return False, f"returned {got.dtype}, expected {expected.dtype} (keep the input's dtype)"
        if torch.isfinite(got).all() and ((got - expected).abs().max() / scale) < 1e-5:
            return True, ""
        return False, "values differ from the reference"
    return outputs_match(got, expected)


# ---- gram_matrix ---------------------------------------------------------------------------
def _gram_normalised(a):
    b, c, h, w = a.shape
    return costs.gram_matrix(a) / (c * h * w)


def _gram_per_position(a):
    b, c, h, w = a.shape
    return costs.gram_matrix(a) / (h * w)


def _gram_transposed_reshape(a):
    # Reading (B, nC, nH, nW) memory as if it were (B, nH*nW, nC): positions and channels scrambled.
    b, c = a.shape[:2]
    f = a.reshape(b, -1, c)
    return f.transpose(1, 2) @ f


def _gram_mean_subtracted(a):
    b, c = a.shape[:2]
    f = a.reshape(b, c, -1)
    f = f - f.mean(dim=2, keepdim=True)
    return f @ f.transpose(1, 2)


def _gram_batch_mixed(a):
    # One Gram for the whole batch (positions of all images pooled), repeated per image.
    b, c = a.shape[:2]
    f = a.transpose(0, 1).reshape(c, -1)
    return (f @ f.T).expand(b, c, c)


GRAM = Exercise(
    name="gram_matrix",
    lesson="01_channel_correlations",
    points=2,
    hidden=[
        Case("hidden", lambda: ((activations((3, 5, 2, 7), 101),), {})),
        Case("hidden", lambda: ((activations((1, 16, 1, 1), 102),), {})),
        Case("hidden", lambda: ((activations((2, 2, 9, 4), 103),), {})),
        Case("hidden", lambda: ((activations((1, 64, 8, 8), 104).to(torch.float32),), {}),
             compare=lambda got, exp: outputs_match_float32(got, exp)),
    ],
    reference=costs.gram_matrix,
    cases=[
        Case("a (1, 3, 4, 5) input", lambda: ((activations((1, 3, 4, 5), 0),), {})),
        Case("a (1, 8, 6, 6) input", lambda: ((activations((1, 8, 6, 6), 1),), {})),
        Case("a batch of 2 images (2, 4, 3, 5)", lambda: ((activations((2, 4, 3, 5), 2),), {})),
        Case("a (1, 1, 2, 2) input", lambda: ((activations((1, 1, 2, 2), 3),), {})),
    ],
    properties=[
        symmetric(lambda: (activations((1, 5, 4, 4), 4),)),
        not_mutating(lambda: (activations((2, 3, 4, 4), 5),)),
        gradient_flows(lambda: (activations((1, 3, 4, 4), 6),)),
        batch_independent(lambda k: (activations((1, 3, 4, 5), 10 + k),)),
        keeps_dtype(lambda: (activations((1, 3, 2, 2), 7),)),
    ],
    mistakes=[
        Mistake(_gram_normalised, "you divided by nC*nH*nW. The lecture's style matrix is the plain sum "
                "over positions, G_kk' = sum_ij a_ijk a_ijk'; the normalisation belongs to the style cost."),
        Mistake(_gram_per_position, "you divided by nH*nW. G is the plain sum over positions, not the average."),
        Mistake(_gram_transposed_reshape, "the channels and positions are scrambled: unroll with "
                "a.reshape(B, nC, nH*nW) (channels first, as the tensor is stored), then compute F F^T."),
        Mistake(_gram_mean_subtracted, "you subtracted the mean. The style matrix is the uncentred "
                "second-moment (Gram) matrix: sum the raw products a_ijk a_ijk', no mean subtracted."),
        Mistake(_gram_batch_mixed, "the images of the batch are mixed: compute one Gram per image "
                "(reshape to (B, nC, nH*nW) and use torch.bmm or @ with the batch dimension first)."),
    ],
    generic_hint="G has shape (B, nC, nC): reshape a to F of shape (B, nC, nH*nW) and compute F F^T "
                 "per image, e.g. F @ F.transpose(1, 2).",
)


# ---- layer_style_cost ----------------------------------------------------------------------
def _sum_sq_gram_diff(a_S, a_G):
    return (costs.gram_matrix(a_S) - costs.gram_matrix(a_G)).pow(2).sum(dim=(1, 2))


def _nm(a):
    _, c, h, w = a.shape
    return c, h * w


def _style_no_norm(a_S, a_G):
    return _sum_sq_gram_diff(a_S, a_G)


def _style_not_squared_const(a_S, a_G):
    n, m = _nm(a_G)
    return _sum_sq_gram_diff(a_S, a_G) / (2 * n * m)


def _style_missing_four(a_S, a_G):
    n, m = _nm(a_G)
    return _sum_sq_gram_diff(a_S, a_G) / (n * m) ** 2


def _style_mse_convention(a_S, a_G):
    return costs.layer_style_cost(a_S, a_G, convention="pytorch_tutorial")


def _style_frobenius_not_squared(a_S, a_G):
    n, m = _nm(a_G)
    return _sum_sq_gram_diff(a_S, a_G).sqrt() / (4 * n**2 * m**2)


def _style_summed_batch(a_S, a_G):
    return costs.layer_style_cost(a_S, a_G).sum()


STYLE_MISTAKES = [
    Mistake(_style_no_norm, "multiply the sum of squares by the normalisation constant 1/(2 nH nW nC)^2."),
    Mistake(_style_not_squared_const, "the constant is squared: 1/(2 nH nW nC)^2, not 1/(2 nH nW nC)."),
    Mistake(_style_missing_four, "the constant is 1/(2 nH nW nC)^2 = 1/(4 nC^2 (nH nW)^2): the factor 2 is inside the square."),
    Mistake(_style_mse_convention, "that is the PyTorch tutorial's convention (normalised Grams, then the mean). "
            "This course uses the lecture's: plain Grams and 1/(2 nH nW nC)^2 times the sum."),
    Mistake(_style_frobenius_not_squared, "use the squared Frobenius norm: sum the squared differences, no square root."),
    Mistake(_style_summed_batch, "return one cost per image, shape (B,): sum over k and k' only, not over the batch."),
]

LAYER_STYLE = Exercise(
    name="layer_style_cost",
    lesson="02_style_cost",
    points=3,
    hidden=[
        Case("hidden", lambda: (_pair((1, 7, 2, 9), 121), {})),
        Case("hidden", lambda: (_pair((3, 5, 4, 4), 122, 1), {})),
        Case("hidden", lambda: (_pair((1, 1, 1, 1), 123), {})),
        Case("hidden", lambda: (_pair((1, 32, 6, 5), 124), {})),
    ],
    reference=costs.layer_style_cost,
    cases=[
        Case("a_S, a_G of shape (1, 3, 4, 4)", lambda: (_pair((1, 3, 4, 4), 20), {})),
        Case("a_S, a_G of shape (1, 6, 3, 5)", lambda: (_pair((1, 6, 3, 5), 21), {})),
        Case("a batch of 2 generated images, one style image", lambda: (_pair((2, 4, 3, 3), 22, 1), {})),
    ],
    properties=[
        zero_when_equal(lambda: _pair((1, 3, 4, 4), 23)),
        not_mutating(lambda: _pair((1, 3, 4, 4), 24)),
        gradient_flows(lambda: _pair((1, 3, 4, 4), 25)),
        batch_independent(lambda k: (activations((1, 3, 4, 4), 30), activations((1, 3, 4, 4), 30 + k))),
    ],
    mistakes=STYLE_MISTAKES,
    generic_hint="J_style^[l] = 1/(2 nH nW nC)^2 * sum over k, k' of (G(S)_kk' - G(G)_kk')^2, one value per image.",
)


# ---- style_cost ----------------------------------------------------------------------------
LAYERS = ("relu1_1", "relu2_1", "relu3_1")


def _feature_dicts(seed: int, batch: int = 1):
    shapes = {"relu1_1": (3, 6, 6), "relu2_1": (5, 3, 3), "relu3_1": (8, 2, 2)}
    a_S = {k: activations((1,) + s, seed + i) for i, (k, s) in enumerate(shapes.items())}
    a_G = {k: activations((batch,) + s, seed + 50 + i) for i, (k, s) in enumerate(shapes.items())}
    return a_S, a_G


def _style_case(seed, weights, batch=1):
    a_S, a_G = _feature_dicts(seed, batch)
    return (a_S, a_G, dict(weights)), {}


def _style_unweighted(a_S, a_G, weights):
    return sum(costs.layer_style_cost(a_S[k], a_G[k]) for k in weights)


def _style_mean_of_layers(a_S, a_G, weights):
    return sum(w * costs.layer_style_cost(a_S[k], a_G[k]) for k, w in weights.items()) / len(weights)


STYLE = Exercise(
    name="style_cost",
    lesson="02_style_cost",
    points=2,
    hidden=[
        Case("hidden", lambda: _style_case(141, {"relu3_1": 0.7, "relu1_1": 0.3})),
        Case("hidden", lambda: _style_case(142, dict(zip(LAYERS, (0.0, 0.0, 0.0))))),
        Case("hidden", lambda: _style_case(143, dict(zip(LAYERS, (0.5, 0.25, 0.25))), batch=3)),
    ],
    reference=costs.style_cost,
    cases=[
        Case("three layers with lambda = 0.2, 0.3, 0.5", lambda: _style_case(40, dict(zip(LAYERS, (0.2, 0.3, 0.5))))),
        Case("only relu2_1 (lambda = 1)", lambda: _style_case(41, {"relu2_1": 1.0})),
        Case("a batch of 2 generated images", lambda: _style_case(42, dict(zip(LAYERS, (1.0, 0.0, 2.0))), batch=2)),
    ],
    properties=[not_mutating(lambda: _style_case(43, dict(zip(LAYERS, (0.2, 0.3, 0.5))))[0])],
    mistakes=[
        Mistake(_style_unweighted, "multiply each layer's cost by its weight lambda^[l] before adding."),
        Mistake(_style_mean_of_layers, "J_style is the weighted sum over layers, not an average: do not divide by the number of layers."),
    ],
    generic_hint="J_style = sum over the layers in style_weights of lambda^[l] * layer_style_cost(a_S[l], a_G[l]).",
)


# ---- content_cost --------------------------------------------------------------------------
def _content_mean(a_C, a_G):
    return costs.content_cost(a_C, a_G, convention="pytorch_tutorial")


def _content_lecture(a_C, a_G):
    return costs.content_cost(a_C, a_G, convention="lecture")


def _content_no_half(a_C, a_G):
    return 2 * costs.content_cost(a_C, a_G)


def _content_not_squared(a_C, a_G):
    return 0.5 * (a_C - a_G).abs().sum(dim=(1, 2, 3))


CONTENT = Exercise(
    name="content_cost",
    lesson="03_content_cost",
    points=2,
    hidden=[
        Case("hidden", lambda: (_pair((1, 9, 2, 3), 161), {})),
        Case("hidden", lambda: (_pair((4, 3, 5, 2), 162, 1), {})),
        Case("hidden", lambda: (_pair((2, 6, 3, 3), 163), {})),
    ],
    reference=costs.content_cost,
    cases=[
        Case("a_C, a_G of shape (1, 4, 5, 5)", lambda: (_pair((1, 4, 5, 5), 60), {})),
        Case("a_C, a_G of shape (1, 2, 3, 7)", lambda: (_pair((1, 2, 3, 7), 61), {})),
        Case("a batch of 2 generated images, one content image", lambda: (_pair((2, 3, 4, 4), 62, 1), {})),
    ],
    properties=[
        zero_when_equal(lambda: _pair((1, 3, 4, 4), 63)),
        not_mutating(lambda: _pair((1, 3, 4, 4), 64)),
        gradient_flows(lambda: _pair((1, 3, 4, 4), 65)),
        batch_independent(lambda k: (activations((1, 3, 4, 4), 70), activations((1, 3, 4, 4), 70 + k))),
    ],
    mistakes=[
        Mistake(_content_mean, "you took the mean (the tutorials' MSE). The paper's content cost is 1/2 times the sum of squares."),
        Mistake(_content_lecture, "that is the lecture's normalised variant 1/(4 nH nW nC); this exercise asks for the paper's 1/2 sum (F - P)^2."),
        Mistake(_content_no_half, "do not forget the factor 1/2."),
        Mistake(_content_not_squared, "square the differences."),
        Mistake(lambda a_C, a_G: costs.content_cost(a_C, a_G).sum(),
                "return one cost per image, shape (B,): sum over channels and positions only."),
    ],
    generic_hint="J_content = 1/2 * sum over i, j, k of (a_C - a_G)^2, one value per image (sum over dims 1, 2, 3).",
)


# ---- total_cost ----------------------------------------------------------------------------
def _totals(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, generator=g, dtype=torch.float64), torch.rand(2, generator=g, dtype=torch.float64)


TOTAL = Exercise(
    name="total_cost",
    lesson="04_neural_style_transfer",
    points=1,
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
        Mistake(lambda jc, js, alpha=10.0, beta=40.0: beta * jc + alpha * js,
                "alpha weighs the content cost and beta the style cost, not the other way round."),
        Mistake(lambda jc, js, alpha=10.0, beta=40.0: jc + beta * js, "multiply J_content by alpha."),
    ],
    generic_hint="J(G) = alpha * J_content + beta * J_style.",
)


# ---- lesson 05: the gradients by hand ------------------------------------------------------------
GRADIENT_LESSON = "05_gradients_by_hand"


def features(shape: tuple[int, ...], seed: int, rectified: bool = True) -> Tensor:
    """Seeded float64 features: ReLU(X) with X ~ N(0, 1) (rectified) or X itself."""
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return x.relu() if rectified else x


def _feature_pair(shape, seed, target_batch=None, rectified=True):
    target = features(((target_batch or shape[0]),) + tuple(shape[1:]), seed + 1000, rectified=True)
    return target, features(shape, seed, rectified)


def _gradient_case(label, shape, seed, target_batch=None, relu=True):
    kwargs = {} if relu is None else {"relu": relu}
    rectified = relu is None or relu
    return Case(label, lambda: (_feature_pair(shape, seed, target_batch, rectified), kwargs))


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
    points=2,
    cases=[
        _gradient_case("rectified a_G of shape (1, 3, 4, 4), relu=True (the default)", (1, 3, 4, 4), 0, relu=None),
        _gradient_case("signed a_G of shape (1, 2, 3, 5), relu=False", (1, 2, 3, 5), 1, relu=False),
        _gradient_case("a batch of 2 generated images, one content image, relu=True", (2, 3, 3, 3), 2, 1, relu=True),
    ],
    hidden=[
        _gradient_case("one channel, two positions (1, 1, 1, 2), relu=True", (1, 1, 1, 2), 10, relu=True),
        _gradient_case("a batch of 3 with 3 content images (3, 4, 2, 3), relu=True", (3, 4, 2, 3), 11, relu=True),
        Case("every unit off (a_G all zero), relu=True",
             lambda: ((features((1, 3, 2, 2), 12), torch.zeros(1, 3, 2, 2, dtype=torch.float64)), {"relu": True})),
        _gradient_case("signed a_G, batch 2 against one target (2, 5, 1, 7), relu=False", (2, 5, 1, 7), 13, 1, relu=False),
    ],
    properties=[
        zero_when_equal(lambda: _feature_pair((1, 3, 4, 4), 3)),
        not_mutating(lambda: _feature_pair((2, 3, 4, 4), 4)),
        keeps_dtype(lambda: _feature_pair((1, 2, 3, 3), 5)),
        batch_independent(lambda k: (features((1, 3, 4, 4), 6), features((1, 3, 4, 4), 6 + k))),
    ],
    mistakes=[
        Mistake(_content_grad_no_mask, "the ReLU mask is missing: with relu=True the gradient is (F - P)_ij only where "
                "F_ij > 0 and 0 where the unit is off (F_ij = 0), e.g. multiply by (a_G > 0)."),
        Mistake(_content_grad_always_masked, "with relu=False there is no rectifier to differentiate through: "
                "return a_G - a_C without the mask."),
        Mistake(_content_grad_mask_of_target, "the mask comes from the generated image's features F = a_G "
                "(the units whose output you differentiate), not from the content image's P = a_C."),
        Mistake(_content_grad_sign, "the sign is flipped: d/dF of 1/2 (F - P)^2 is F - P, i.e. a_G - a_C."),
        Mistake(_content_grad_half, "the 1/2 in front of the cost cancels the 2 from differentiating the square: "
                "the gradient is (F - P), not 1/2 (F - P)."),
        Mistake(_content_grad_two, "the cost has 1/2 in front, which cancels the 2 from the square: the gradient is (F - P)."),
    ],
    generic_hint="dL/dF = a_G - a_C (shape (B, nC, nH, nW)); with relu=True multiply by the mask (a_G > 0).",
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
    points=3,
    cases=[
        _gradient_case("rectified a_G of shape (1, 3, 4, 4), relu=True (the default)", (1, 3, 4, 4), 20, relu=None),
        _gradient_case("signed a_G of shape (1, 4, 2, 3), relu=False", (1, 4, 2, 3), 21, relu=False),
        _gradient_case("a batch of 2 generated images, one style image (2, 5, 3, 2), relu=True", (2, 5, 3, 2), 22, 1, relu=True),
    ],
    hidden=[
        _gradient_case("one channel, two positions (1, 1, 1, 2), relu=True", (1, 1, 1, 2), 30, relu=True),
        _gradient_case("more channels than positions (1, 8, 1, 3), relu=True", (1, 8, 1, 3), 31, relu=True),
        _gradient_case("a batch of 3 with 3 style images (3, 2, 4, 5), relu=False", (3, 2, 4, 5), 32, relu=False),
        Case("generated image with the style image's Gram matrix (G = A): zero gradient",
             lambda: ((features((1, 3, 3, 3), 33), features((1, 3, 3, 3), 33).flip(-1)), {"relu": True})),
    ],
    properties=[
        zero_when_equal(lambda: _feature_pair((1, 3, 4, 4), 23)),
        not_mutating(lambda: _feature_pair((2, 3, 4, 4), 24)),
        keeps_dtype(lambda: _feature_pair((1, 2, 3, 3), 25)),
        batch_independent(lambda k: (features((1, 3, 4, 4), 26), features((1, 3, 4, 4), 26 + k))),
    ],
    mistakes=[
        Mistake(_style_grad_no_mask, "the ReLU mask is missing: with relu=True keep the gradient only where "
                "a_G > 0. Unlike the content gradient, ((G - A) F)_ij is not 0 where F_ij = 0, so the mask matters."),
        Mistake(_style_grad_always_masked, "with relu=False there is no rectifier: return the unmasked gradient."),
        Mistake(_style_grad_mask_of_target, "the mask comes from the generated image's features a_G, not the style image's a_S."),
        Mistake(_style_grad_scaled(lambda n, m: 1.0), "the factor 1/(N^2 M^2) is missing, with N = nC and M = nH*nW."),
        Mistake(_style_grad_scaled(lambda n, m: 1.0 / (4 * n**2 * m**2)), "the factor 4 from the derivative is "
                "missing: d/dF of sum (F F^T - A)^2 is 4 (G - A) F, which cancels the 4 in 1/(4 N^2 M^2)."),
        Mistake(_style_grad_scaled(lambda n, m: 1.0 / (2 * n**2 * m**2)), "half of the derivative is missing: "
                "F appears twice in G = F F^T, so the square's 2(G - A) is counted twice more (4 in all), "
                "which gives 1/(N^2 M^2) (G - A) F."),
        Mistake(_style_grad_scaled(lambda n, m: 4.0 / (n**4 * m**2)),
                "that is the gradient of the PyTorch tutorial's normalisation (Gram / (N M), then the mean); "
                "this exercise uses the paper's E_l = 1/(4 N^2 M^2) sum (G - A)^2."),
        Mistake(_style_grad_sign, "the sign is flipped: the gradient is 1/(N^2 M^2) (G - A) F with G the generated "
                "image's Gram matrix and A the style image's."),
        Mistake(_style_grad_transposed, "F^T (G - A) has shape (M, N): the paper's ((F^l)^T (G - A))_ji is its "
                "transpose, (G - A) F of shape (N, M). Transpose before reshaping to (B, nC, nH, nW)."),
    ],
    generic_hint="Unroll a_G to F of shape (B, N, M) (N = nC, M = nH*nW), G = F F^T, A = the style Gram; "
                 "the gradient is (G - A) @ F / (N^2 M^2), reshaped to a_G's shape and, with relu=True, times (a_G > 0).",
)


EXERCISES: dict[str, Exercise] = {
    ex.name: ex for ex in (GRAM, LAYER_STYLE, STYLE, CONTENT, TOTAL, CONTENT_GRADIENT, STYLE_GRADIENT)
}
