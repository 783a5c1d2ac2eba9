"""Lesson 01's exercises: the Gram (style) matrix."""

from __future__ import annotations

import torch

from ...exercise import (Case, Exercise, Mistake, batch_independent, gradient_flows, keeps_dtype, not_mutating,
                         symmetric, zero_when_equal)
from .. import costs
from .inputs import activations, pair, outputs_match_float32

__all__ = ['EXERCISES']


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
    groups={"value": 1, "batch independence": 1},
    hidden=[
        Case("hidden", lambda: ((activations((3, 5, 2, 7), 101),), {}), group="batch independence"),
        Case("hidden", lambda: ((activations((1, 16, 1, 1), 102),), {})),
        Case("hidden", lambda: ((activations((2, 2, 9, 4), 103),), {}), group="batch independence"),
        Case("hidden", lambda: ((activations((1, 64, 8, 8), 104).to(torch.float32),), {}),
             compare=lambda got, exp: outputs_match_float32(got, exp)),
    ],
    reference=costs.gram_matrix,
    cases=[
        Case("a (1, 3, 4, 5) input", lambda: ((activations((1, 3, 4, 5), 0),), {})),
        Case("a (1, 8, 6, 6) input", lambda: ((activations((1, 8, 6, 6), 1),), {})),
        Case("a batch of 2 images (2, 4, 3, 5)", lambda: ((activations((2, 4, 3, 5), 2),), {}),
             group="batch independence"),
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
        Mistake(_gram_normalised, "you divided by nC·nH·nW. The lecture's style matrix is the plain sum over "
                "positions, G_kk' = Σ_i Σ_j a_ijk a_ijk'; any normalisation belongs to the style cost."),
        Mistake(_gram_per_position, "you divided by nH·nW: G is the plain sum over positions, not the average."),
        Mistake(_gram_transposed_reshape, "channels and positions are scrambled: when you unroll a, each row of the "
                "unrolled matrix must hold one channel's nH·nW values, read in the order the tensor stores them "
                "(channel first, then position)."),
        Mistake(_gram_mean_subtracted, "you subtracted the mean. The style matrix is the uncentred Gram matrix: "
                "raw products a_ijk a_ijk', no mean removed (that would be a covariance)."),
        Mistake(_gram_batch_mixed, "the images of the batch are mixed: each image gets its own G, computed from "
                "its own activations only; the batch dimension must never be summed over."),
    ],
    generic_hint="G has shape (B, nC, nC): for each image, entry (k, k') is Σ over the nH·nW positions of "
                 "a_ijk a_ijk'. Check the shape first, then one entry by hand on the (1, 1, 2, 2) case.",
)


EXERCISES: dict[str, Exercise] = {ex.name: ex for ex in (GRAM,)}
