"""Lesson 01's exercises: the Gram (style) matrix, the Pearson correlation matrix it is often
mistaken for, and a question on how each reacts when the activations are scaled."""

from __future__ import annotations

import torch

from ...exercise import (Case, Exercise, Mistake, Property, batch_independent, gradient_flows, keeps_dtype,
                         not_mutating, symmetric, zero_when_equal)
from ...exercise.spec import NotImplementedYet, outputs_match
from .. import correlations, costs
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


# ---- channel_correlation ---------------------------------------------------------------------
def _with_dead(a, dead=(0,)):
    """Seeded activations with the listed channels dead (0 at every position) in every image."""
    a = a.clone()
    a[:, list(dead)] = 0.0
    return a


def _offset(a, c):
    """Activations with a large constant c added: channels that are 'a lot on everywhere'."""
    return a + c


def _normalise(m, scale):
    # m / (scale_k scale_k'), 0 wherever a scale is 0: the lesson's convention for a dead channel.
    outer = scale[:, :, None] * scale[:, None, :]
    return torch.where(outer > 0, m / torch.where(outer > 0, outer, torch.ones_like(outer)), torch.zeros_like(m))


def _corr_uncentred(a):
    # No mean subtracted: G_kk' / sqrt(G_kk G_k'k'), the cosine of two channels, which is G normalised.
    g = costs.gram_matrix(a)
    return _normalise(g, g.diagonal(dim1=1, dim2=2).sqrt())


def _corr_batch_pooled(a):
    # Means and standard deviations over all images of the batch together.
    b, c = a.shape[:2]
    f = a.transpose(0, 1).reshape(c, -1)
    f = f - f.mean(dim=1, keepdim=True)
    cov = f @ f.T / f.shape[1]
    r = _normalise(cov[None], cov.diagonal().sqrt()[None])
    return r.expand(b, c, c).clone()


def _corr_sample_std(a):
    # Cov divided by nH nW, but sigma_k from the sample standard deviation (divided by nH nW - 1).
    b, c = a.shape[:2]
    sigma = a.reshape(b, c, -1).std(dim=2, unbiased=True)
    return _normalise(correlations.covariance_matrix(a), sigma)


def _corr_covariance(a):
    return correlations.covariance_matrix(a)


def _corr_dead_diagonal_one(a):
    r = correlations.correlation_matrix(a)
    eye = torch.eye(a.shape[1], dtype=torch.bool, device=a.device)
    return torch.where(eye, torch.ones_like(r), r)


CORRELATION = Exercise(
    name="channel_correlation",
    lesson="01_channel_correlations",
    kind="code",
    groups={"value": 2, "batch independence": 1, "dead channels": 1, "numerical stability": 1},
    reference=correlations.correlation_matrix,
    cases=[
        Case("a (1, 3, 4, 5) input", lambda: ((activations((1, 3, 4, 5), 20),), {})),
        Case("a (1, 6, 5, 5) input", lambda: ((activations((1, 6, 5, 5), 21),), {})),
        Case("a batch of 2 images (2, 4, 3, 5)", lambda: ((activations((2, 4, 3, 5), 22),), {}),
             group="batch independence"),
        Case("a (1, 4, 4, 4) input whose channel 0 is dead (0 at every position)",
             lambda: ((_with_dead(activations((1, 4, 4, 4), 23)),), {}), group="dead channels"),
        Case("a (1, 3, 6, 6) input with 10^6 added to every activation (means of about 10^6)",
             lambda: ((_offset(activations((1, 3, 6, 6), 24), 1e6),), {}), group="numerical stability"),
    ],
    hidden=[
        Case("hidden", lambda: ((activations((1, 7, 3, 4), 121),), {})),
        Case("hidden", lambda: ((activations((1, 2, 9, 9), 122),), {})),
        Case("hidden", lambda: ((activations((3, 5, 4, 2), 123),), {}), group="batch independence"),
        Case("hidden", lambda: ((_with_dead(activations((2, 5, 3, 3), 124), (1, 4)),), {}), group="dead channels"),
        Case("hidden", lambda: ((_offset(activations((2, 4, 5, 5), 125), 3e6),), {}), group="numerical stability"),
    ],
    properties=[
        symmetric(lambda: (activations((1, 5, 4, 4), 25),)),
        not_mutating(lambda: (activations((2, 3, 4, 4), 26),)),
        batch_independent(lambda k: (activations((1, 3, 4, 5), 30 + k),)),
        keeps_dtype(lambda: (activations((1, 3, 2, 2), 27),)),
    ],
    mistakes=[
        Mistake(_corr_uncentred, "the means were not subtracted: that is G with each entry divided by the "
                "lengths of its two channels (G normalised), not r. Centre each channel first, "
                "a_ijk − μ_k with μ_k its mean over the nH·nW positions."),
        Mistake(_corr_batch_pooled, "the images of the batch are mixed: μ_k, σ_k and the covariance of each image "
                "come from its own nH·nW positions only; the batch dimension is never averaged over."),
        Mistake(_corr_sample_std, "the covariance and the standard deviations use different divisors (nH·nW "
                "against nH·nW − 1), so r_kk is not 1. Use σ_k = √Cov_kk, the same divisor everywhere."),
        Mistake(_corr_covariance, "that is the covariance Cov_kk'. The correlation coefficient divides it by "
                "σ_k σ_k', so that r lies between −1 and 1."),
        Mistake(_corr_dead_diagonal_one, "a dead channel (σ_k = 0) has no defined r, not even with itself: "
                "the lesson's convention puts 0 in its whole row and column, the diagonal included."),
    ],
    generic_hint="r_kk' = Cov_kk' / (σ_k σ_k') for each image: centre each channel over its nH·nW positions "
                 "first (subtracting μ_k μ_k' from the mean product afterwards loses digits when the means are "
                 "large), σ_k = √Cov_kk, and 0 in the row and column of a channel with σ_k = 0.",
)


# ---- scaled_factors (question) -------------------------------------------------------------------
def scaled_factors(s: float) -> tuple[float, float]:
    """Every activation of a layer is multiplied by s (s != 0). Returns (the factor by which each
    entry G_kk' changes, the factor by which each r_kk' of live channels changes)."""
    return s * s, 1.0


def _pair_match(got, expected):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return False, f"returned {type(got).__name__}, expected a pair of numbers (factor for G, factor for r)"
    for what, g, e in zip(("G", "r"), got, expected):
        ok, why = outputs_match(g, float(e))
        if not ok:
            return False, f"the factor for {what} is wrong"
    return True, ""


def _answers_a_pair(fn, ref):
    try:
        got = fn(2.0)
    except NotImplementedError as exc:
        raise NotImplementedYet() from exc
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"return two numbers, (factor for G, factor for r); got {got!r}"
    try:
        [float(x) for x in got]
    except (TypeError, ValueError):
        return f"return two numbers, (factor for G, factor for r); got {got!r}"
    return None


SCALED = Exercise(
    name="scaled_factors",
    lesson="01_channel_correlations",
    kind="question",
    groups={"value": 1},
    reference=scaled_factors,
    cases=[Case("s = -2", lambda: ((-2.0,), {}), compare=_pair_match)],
    properties=[Property("answers with two numbers", _answers_a_pair)],
    hidden=[
        Case("hidden", lambda: ((3.0,), {}), compare=_pair_match),
        Case("hidden", lambda: ((0.5,), {}), compare=_pair_match),
        Case("hidden", lambda: ((-1.5,), {}), compare=_pair_match),
    ],
    mistakes=[
        Mistake(lambda s: (float(s), 1.0), "each product a_ijk a_ijk' holds two activations, and each was "
                "multiplied by s."),
        Mistake(lambda s: (s * s, s * s), "r divides the covariance by σ_k σ_k', and the σ's are scaled too: "
                "r does not change at all."),
        Mistake(lambda s: (s * s, 1.0 if s > 0 else -1.0), "with s < 0 both channels flip: their deviations from "
                "their means change sign together, so r keeps its sign."),
        Mistake(lambda s: (abs(s), 1.0), "G_kk' is a sum of products of two scaled activations."),
    ],
    generic_hint="Write G_kk' and r_kk' of the scaled activations s·a with the formulas of sections 3 and 2 "
                 "and pull s out of every sum.",
)


EXERCISES: dict[str, Exercise] = {ex.name: ex for ex in (GRAM, CORRELATION, SCALED)}
