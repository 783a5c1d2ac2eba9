"""GAN losses of Goodfellow et al. (2014), written on the discriminator's logits.

D(x) = sigmoid(l(x)) where l is the discriminator's logit. Working on logits keeps the losses
finite for any logit: -log D = softplus(-l) and -log(1 - D) = softplus(l), with no log(0).

Batch semantics: every loss here is a MEAN over the minibatch of m samples. The paper's
Algorithm 1 writes sums scaled by 1/m (i.e. means); a plain sum Σ over the minibatch is m times
the mean and only rescales the learning rate.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["discriminator_loss", "generator_loss", "value_function", "GENERATOR_LOSSES"]

GENERATOR_LOSSES = ("non_saturating", "minimax")


def discriminator_loss(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    """L_D = -(1/m) Σ_i log D(x_i) - (1/m) Σ_i log(1 - D(G(z_i))), a scalar tensor.

    Args:
        d_real_logits: (m,) logits of D on real samples x_i.
        d_fake_logits: (m',) logits of D on generated samples G(z_i).

    L_D = -V(D, G) on the minibatch: minimising it is the discriminator's gradient ASCENT on V in
    Algorithm 1. Means over each minibatch (Σ = m · mean). Computed as
    mean(softplus(-l_real)) + mean(softplus(l_fake)), finite for any logits.
    """
    return F.softplus(-d_real_logits).mean() + F.softplus(d_fake_logits).mean()


def generator_loss(d_fake_logits: Tensor, kind: str = "non_saturating") -> Tensor:
    """The generator's loss on the logits of D on G(z_i), shape (m,) -> scalar; G minimises it.

    kind="minimax": (1/m) Σ_i log(1 - D(G(z_i))) = -mean(softplus(l)), the paper's objective.
        Its gradient w.r.t. the logit is -D(G(z)): it vanishes when D rejects fakes confidently
        (D(G(z)) ≈ 0, early in training), so G learns slowly.
    kind="non_saturating": -(1/m) Σ_i log D(G(z_i)) = mean(softplus(-l)), the paper's practical
        alternative (Section 3). Same fixed point, gradient -(1 - D(G(z))): strong when D rejects.
    Means over the minibatch (Σ = m · mean).
    """
    if kind == "non_saturating":
        return F.softplus(-d_fake_logits).mean()
    if kind == "minimax":
        return -F.softplus(d_fake_logits).mean()
    raise ValueError(f"unknown generator loss kind {kind!r}; choose one of {GENERATOR_LOSSES}")


def value_function(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    """V(D, G) = mean log D(x) + mean log(1 - D(G(z))) on a minibatch (= -discriminator_loss)."""
    return -discriminator_loss(d_real_logits, d_fake_logits)
