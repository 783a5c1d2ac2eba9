"""Public checks of lesson 06's exercises (``discriminator_loss``, ``generator_loss``) and lesson 07's
(``conv_transpose_output_size``).

Listed in ``coursekit.grading.EXERCISE_MODULES``.
Cases use float64 logits, including extreme ones (±60) where a naive log(sigmoid(.)) breaks.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..exercise import Case, Exercise, Mistake, Property
from .dcgan import conv_transpose_output_size
from .losses import discriminator_loss, generator_loss

__all__ = ["EXERCISES"]


def _logits(n: int, seed: int, scale: float = 2.0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, generator=g, dtype=torch.float64)


def _stable(fn, *args) -> str | None:
    out = fn(*args)
    if not isinstance(out, Tensor) or not torch.isfinite(out).all():
        return ("returned inf or NaN for logits of ±100; compute -log D as softplus(-l) and "
                "-log(1 - D) as softplus(l) (torch.nn.functional.softplus) instead of log(sigmoid(l))")
    return None


# ---- discriminator_loss --------------------------------------------------------------------
def _d_sum(r, f):
    return discriminator_loss(r, f) * len(r)


def _d_sign(r, f):
    return -discriminator_loss(r, f)


def _d_swapped(r, f):
    return discriminator_loss(f, r)


def _d_real_only(r, f):
    return torch.nn.functional.softplus(-r).mean()


DISCRIMINATOR_LOSS = Exercise(
    name="discriminator_loss",
    lesson="06_gan_fundamentals",
    groups={"value": 1, "numerical stability": 1},
    hidden=[
        Case("hidden", lambda: ((_logits(16, 201, 4.0), _logits(16, 202, 4.0)), {})),
        Case("hidden", lambda: ((_logits(1, 203), _logits(7, 204)), {})),
        Case("hidden", lambda: ((torch.tensor([100.0, -100.0], dtype=torch.float64),
                                 torch.tensor([-100.0, 100.0], dtype=torch.float64)), {}), group="numerical stability"),
    ],
    reference=discriminator_loss,
    cases=[
        Case("D(x) = 0.8, D(G(z)) = 0.3 (one sample each)",
             lambda: ((torch.logit(torch.tensor([0.8], dtype=torch.float64)),
                       torch.logit(torch.tensor([0.3], dtype=torch.float64))), {})),
        Case("a minibatch of 8 real and 8 fake logits", lambda: ((_logits(8, 0), _logits(8, 1)), {})),
        Case("a minibatch of 5 real and 3 fake logits", lambda: ((_logits(5, 2), _logits(3, 3)), {})),
        Case("confident logits (±60)", lambda: ((torch.tensor([60.0, -60.0], dtype=torch.float64),
                                                   torch.tensor([-60.0, 60.0], dtype=torch.float64)), {}),
             group="numerical stability"),
    ],
    properties=[
        Property("finite for logits ±100", lambda fn, ref: _stable(
            fn, torch.tensor([100.0, -100.0], dtype=torch.float64), torch.tensor([-100.0, 100.0], dtype=torch.float64))),
    ],
    mistakes=[
        Mistake(_d_sum, "you summed over the minibatch; take the mean (1/m) Σ_i, as the docstring says."),
        Mistake(_d_sign, "the sign is flipped: L_D = -V(D, G) = -mean log D(x) - mean log(1 - D(G(z)))."),
        Mistake(_d_swapped, "real and fake are swapped: D should say 1 on real x and 0 on G(z)."),
        Mistake(_d_real_only, "the term for the generated samples, -mean log(1 - D(G(z))), is missing."),
    ],
    generic_hint="L_D = mean(softplus(-d_real_logits)) + mean(softplus(d_fake_logits)): "
                 "-log sigmoid(l) = softplus(-l) and -log(1 - sigmoid(l)) = softplus(l).",
)


# ---- generator_loss ------------------------------------------------------------------------
def _g_swapped(f, kind="non_saturating"):
    return generator_loss(f, "minimax" if kind == "non_saturating" else "non_saturating")


def _g_sign(f, kind="non_saturating"):
    return -generator_loss(f, kind)


def _g_sum(f, kind="non_saturating"):
    return generator_loss(f, kind) * len(f)


def _g_minimax_positive(f, kind="non_saturating"):
    # -log(1 - D) instead of log(1 - D) for the minimax form
    return -generator_loss(f, kind) if kind == "minimax" else generator_loss(f, kind)


GENERATOR_LOSS = Exercise(
    name="generator_loss",
    lesson="06_gan_fundamentals",
    groups={"value": 1, "numerical stability": 1},
    hidden=[
        Case("hidden", lambda: ((_logits(12, 211, 4.0),), {"kind": "minimax"})),
        Case("hidden", lambda: ((_logits(5, 212, 4.0),), {"kind": "non_saturating"})),
        Case("hidden", lambda: ((torch.tensor([100.0, -100.0], dtype=torch.float64),), {"kind": "non_saturating"}),
             group="numerical stability"),
        Case("hidden", lambda: ((torch.tensor([100.0, -100.0], dtype=torch.float64),), {"kind": "minimax"}),
             group="numerical stability"),
    ],
    reference=generator_loss,
    cases=[
        Case("D(G(z)) = 0.2, non-saturating",
             lambda: ((torch.logit(torch.tensor([0.2], dtype=torch.float64)),), {"kind": "non_saturating"})),
        Case("D(G(z)) = 0.2, minimax",
             lambda: ((torch.logit(torch.tensor([0.2], dtype=torch.float64)),), {"kind": "minimax"})),
        Case("8 logits, non-saturating", lambda: ((_logits(8, 4),), {"kind": "non_saturating"})),
        Case("8 logits, minimax", lambda: ((_logits(8, 5),), {"kind": "minimax"})),
        Case("8 logits, default kind (non-saturating)", lambda: ((_logits(8, 6),), {})),
        Case("confident logits (±60), minimax",
             lambda: ((torch.tensor([60.0, -60.0], dtype=torch.float64),), {"kind": "minimax"}),
             group="numerical stability"),
    ],
    properties=[
        Property("finite for logits ±100 (non-saturating)", lambda fn, ref: _stable(
            lambda l: fn(l, kind="non_saturating"), torch.tensor([100.0, -100.0], dtype=torch.float64))),
        Property("finite for logits ±100 (minimax)", lambda fn, ref: _stable(
            lambda l: fn(l, kind="minimax"), torch.tensor([100.0, -100.0], dtype=torch.float64))),
    ],
    mistakes=[
        Mistake(_g_swapped, "the two forms are swapped: minimax is mean log(1 - D(G(z))), non-saturating "
                "is -mean log D(G(z))."),
        Mistake(_g_minimax_positive, "the minimax loss is +mean log(1 - D(G(z))) (G minimises it), "
                "i.e. -mean(softplus(l)); you have its negative."),
        Mistake(_g_sign, "the sign is flipped: the generator MINIMISES its loss; non-saturating is "
                "-mean log D(G(z)) = mean(softplus(-l))."),
        Mistake(_g_sum, "you summed over the minibatch; take the mean."),
    ],
    generic_hint="non-saturating: mean(softplus(-l)); minimax: -mean(softplus(l)) (= mean log(1 - sigmoid(l))).",
)


# ---- conv_transpose_output_size (lesson 07) -------------------------------------------------
def _sizes(*args):
    return lambda: (args, {})


def _t_conv_formula(n, k, s, p, op=0):
    return (n + 2 * p - k) // s + 1


def _t_no_minus_one(n, k, s, p, op=0):
    return n * s - 2 * p + k + op


def _t_padding_once(n, k, s, p, op=0):
    return (n - 1) * s - p + k + op


def _t_padding_added(n, k, s, p, op=0):
    return (n - 1) * s + 2 * p + k + op


def _t_no_output_padding(n, k, s, p, op=0):
    return (n - 1) * s - 2 * p + k


def _t_torch_agrees(fn, ref) -> str | None:
    layer = torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)
    torch_side = layer(torch.zeros(1, 1, 5, 5)).shape[-1]
    got = fn(5, 3, 2, 1, 1)
    return None if got == torch_side else (f"nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1) "
                                           f"turns 5x5 into {torch_side}x{torch_side}; you said {got}")


def _t_int(fn, ref) -> str | None:
    got = fn(4, 4, 2, 1)
    return None if isinstance(got, int) else (f"returned {type(got).__name__}; a size is a whole number of "
                                              "pixels: return an int (no '/' division is needed)")


CONV_TRANSPOSE_OUTPUT_SIZE = Exercise(
    name="conv_transpose_output_size",
    reference=conv_transpose_output_size,
    lesson="07_dcgan",
    groups={"value": 2},
    cases=[
        Case("G's middle layer at 16 px: n_in 4, k 4, s 2, p 1", _sizes(4, 4, 2, 1)),
        Case("G's first layer at 16 px: n_in 1, k 4, s 1, p 0", _sizes(1, 4, 1, 0)),
        Case("G's middle layer at 28 px: n_in 7, k 4, s 2, p 1", _sizes(7, 4, 2, 1)),
        Case("n_in 5, k 5, s 3, p 2", _sizes(5, 5, 3, 2)),
        Case("with output_padding: n_in 3, k 3, s 2, p 1, output_padding 1", _sizes(3, 3, 2, 1, 1)),
    ],
    properties=[
        Property("agrees with nn.ConvTranspose2d", _t_torch_agrees),
        Property("returns an int", _t_int),
    ],
    mistakes=[
        Mistake(_t_conv_formula, "that is the output size of an ordinary (strided) convolution, which shrinks; "
                "the transposed convolution enlarges: (n_in - 1)·s - 2p + k + output_padding."),
        Mistake(_t_no_minus_one, "n_in pixels placed s apart span (n_in - 1)·s, not n_in·s: the last patch "
                "starts at (n_in - 1)·s."),
        Mistake(_t_padding_once, "padding p is cropped from BOTH borders: subtract 2p."),
        Mistake(_t_padding_added, "in a transposed convolution padding REMOVES p pixels from each border "
                "(it undoes the padding of the convolution it transposes): subtract 2p."),
        Mistake(_t_no_output_padding, "output_padding adds that many pixels to one side: add it at the end."),
    ],
    generic_hint="n_out = (n_in - 1)·stride - 2·padding + kernel + output_padding.",
    hidden=[
        Case("n_in 2, k 4, s 2, p 1", _sizes(2, 4, 2, 1)),
        Case("n_in 14, k 4, s 2, p 1", _sizes(14, 4, 2, 1)),
        Case("28 px first layer: n_in 1, k 7, s 1, p 0", _sizes(1, 7, 1, 0)),
        Case("n_in 6, k 5, s 3, p 2, output_padding 2", _sizes(6, 5, 3, 2, 2)),
        Case("1x1 kernel, stride 1: n_in 10", _sizes(10, 1, 1, 0)),
    ],
)

EXERCISES: dict[str, Exercise] = {e.name: e for e in (DISCRIMINATOR_LOSS, GENERATOR_LOSS,
                                                      CONV_TRANSPOSE_OUTPUT_SIZE)}
