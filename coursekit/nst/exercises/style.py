"""Lesson 02's exercises: the style cost of one layer and over several layers, and a question on the
size of a style matrix."""

from __future__ import annotations

import torch

from ...exercise import (Case, Exercise, Mistake, batch_independent, gradient_flows, not_mutating, zero_when_equal)
from .. import costs
from .inputs import activations, pair

__all__ = ['EXERCISES']


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
    Mistake(_style_no_norm, "the normalisation constant is missing: multiply the sum of squares by 1/(2 nH nW nC)²."),
    Mistake(_style_not_squared_const, "the constant is squared: 1/(2 nH nW nC)², not 1/(2 nH nW nC)."),
    Mistake(_style_missing_four, "the factor 2 is inside the square: 1/(2 nH nW nC)² = 1/(4 nC² (nH nW)²)."),
    Mistake(_style_mse_convention, "that is the PyTorch tutorial's convention (normalised Grams, then the mean). "
            "This course uses the lecture's: plain Grams and 1/(2 nH nW nC)² times the sum."),
    Mistake(_style_frobenius_not_squared, "the norm is squared: ‖G(S) − G(G)‖²_F sums the squared differences, "
            "with no square root."),
    Mistake(_style_summed_batch, "one cost per generated image, shape (B,): sum over k and k' only, never over "
            "the batch."),
]

LAYER_STYLE = Exercise(
    name="layer_style_cost",
    lesson="02_style_cost",
    kind="formula",
    groups={"value": 2, "batch independence": 1},
    hidden=[
        Case("hidden", lambda: (pair((1, 7, 2, 9), 121), {})),
        Case("hidden", lambda: (pair((3, 5, 4, 4), 122, 1), {}), group="batch independence"),
        Case("hidden", lambda: (pair((1, 1, 1, 1), 123), {})),
        Case("hidden", lambda: (pair((1, 32, 6, 5), 124), {})),
    ],
    reference=costs.layer_style_cost,
    cases=[
        Case("a_S, a_G of shape (1, 3, 4, 4)", lambda: (pair((1, 3, 4, 4), 20), {})),
        Case("a_S, a_G of shape (1, 6, 3, 5)", lambda: (pair((1, 6, 3, 5), 21), {})),
        Case("a batch of 2 generated images, one style image", lambda: (pair((2, 4, 3, 3), 22, 1), {}),
             group="batch independence"),
    ],
    properties=[
        zero_when_equal(lambda: pair((1, 3, 4, 4), 23)),
        not_mutating(lambda: pair((1, 3, 4, 4), 24)),
        gradient_flows(lambda: pair((1, 3, 4, 4), 25)),
        batch_independent(lambda k: (activations((1, 3, 4, 4), 30), activations((1, 3, 4, 4), 30 + k))),
    ],
    mistakes=STYLE_MISTAKES,
    generic_hint="J_style^[l](S,G) = 1/(2 nH nW nC)² Σ_k Σ_k' (G^[l](S)_kk' − G^[l](G)_kk')², one value per "
                 "generated image; check the shape (B,) first, then the constant.",
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
    kind="code",  # a loop over the layers of a dictionary
    groups={"value": 1, "batch independence": 1},
    hidden=[
        Case("hidden", lambda: _style_case(141, {"relu3_1": 0.7, "relu1_1": 0.3})),
        Case("hidden", lambda: _style_case(142, dict(zip(LAYERS, (0.0, 0.0, 0.0))))),
        Case("hidden", lambda: _style_case(143, dict(zip(LAYERS, (0.5, 0.25, 0.25))), batch=3),
             group="batch independence"),
    ],
    reference=costs.style_cost,
    cases=[
        Case("three layers with lambda = 0.2, 0.3, 0.5", lambda: _style_case(40, dict(zip(LAYERS, (0.2, 0.3, 0.5))))),
        Case("only relu2_1 (lambda = 1)", lambda: _style_case(41, {"relu2_1": 1.0})),
        Case("a batch of 2 generated images", lambda: _style_case(42, dict(zip(LAYERS, (1.0, 0.0, 2.0))), batch=2),
             group="batch independence"),
    ],
    properties=[not_mutating(lambda: _style_case(43, dict(zip(LAYERS, (0.2, 0.3, 0.5))))[0])],
    mistakes=[
        Mistake(_style_unweighted, "each layer's cost J_style^[l] is weighted by its λ^[l] before the sum."),
        Mistake(_style_mean_of_layers, "J_style is the λ-weighted sum over layers, not an average: the λ^[l] "
                "already set each layer's share."),
    ],
    generic_hint="J_style(S,G) = Σ_l λ^[l] J_style^[l](S,G) over the layers named in style_weights, one value "
                 "per generated image.",
)


# ---- question: how many entries has G^[l]? -------------------------------------------------
# VGG19's style layers: n_C, and how many 2 x 2 poolings come before the layer (n_H = size / 2^p).
VGG19_STYLE = {"relu1_1": (64, 0), "relu2_1": (128, 1), "relu3_1": (256, 2), "relu4_1": (512, 3), "relu5_1": (512, 4)}


def style_matrix_entries(layer: str, size: int) -> int:
    """Entries of G^[l] of one image at VGG19's ``layer`` for a ``size`` x ``size`` image: n_C^2,
    whatever the image size (the sum over the n_H n_W positions is inside each entry)."""
    n_C, _ = VGG19_STYLE[layer]
    return n_C * n_C


def _positions(layer, size):
    n_C, pools = VGG19_STYLE[layer]
    return n_C, (size // 2**pools) ** 2


def _entries_activations(layer, size):
    n_C, nHnW = _positions(layer, size)
    return n_C * nHnW


def _entries_positions(layer, size):
    return _positions(layer, size)[1] ** 2


def _entries_channels(layer, size):
    return _positions(layer, size)[0]


def _entries_distinct(layer, size):
    n_C = _positions(layer, size)[0]
    return n_C * (n_C + 1) // 2


ENTRIES = Exercise(
    name="style_matrix_entries",
    lesson="02_style_cost",
    kind="question",
    reference=style_matrix_entries,
    groups={"value": 1},
    cases=[Case("relu2_1, a 128 x 128 image", lambda: (("relu2_1", 128), {}))],
    hidden=[
        Case("hidden", lambda: (("relu4_1", 256), {})),
        Case("hidden", lambda: (("relu1_1", 64), {})),
        Case("hidden", lambda: (("relu5_1", 512), {})),
    ],
    mistakes=[
        Mistake(_entries_activations, "that is the number of activations a^[l] (n_H n_W n_C). G^[l] has one entry "
                "per pair of channels (k, k'); the positions are summed over inside each entry."),
        Mistake(_entries_positions, "G^[l] compares channels, not positions: its rows and columns are indexed by "
                "k and k', with n_C values each."),
        Mistake(_entries_channels, "n_C is the number of rows; G^[l] is an n_C × n_C matrix."),
        Mistake(_entries_distinct, "G^[l] is symmetric, but it holds every entry (k, k'), and the cost sums "
                "over all of them: count rows times columns."),
    ],
    generic_hint="G^[l] has one entry per pair of channels (k, k'); read n_C of the layer off section 1's "
                 "figure or the shapes printed above, and ask whether the image size enters at all.",
)


EXERCISES: dict[str, Exercise] = {ex.name: ex for ex in (LAYER_STYLE, STYLE, ENTRIES)}
