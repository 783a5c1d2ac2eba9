"""Batch normalisation by hand, for (m, n) inputs: lesson 09's exercise, equal to ``torch.nn.BatchNorm1d``.

Ioffe & Szegedy (2015), in the lesson's notation, for a batch z (m examples, n units):

    training:  mu_B = (1/m) sum_i z_i,   sigma_B^2 = (1/m) sum_i (z_i - mu_B)^2     (biased)
               y = gamma * (z - mu_B) / sqrt(sigma_B^2 + eps) + beta
               mu_run  <- (1 - momentum) * mu_run  + momentum * mu_B
               var_run <- (1 - momentum) * var_run + momentum * m / (m - 1) * sigma_B^2   (unbiased)
    eval:      y = gamma * (z - mu_run) / sqrt(var_run + eps) + beta,  running statistics unchanged

The batch is normalised with the biased variance (it is the batch's own spread), while the running
estimate, meant for the whole population, averages the unbiased one: both as PyTorch does.
"""

from __future__ import annotations

from torch import Tensor

__all__ = ["batch_norm"]


def batch_norm(x: Tensor, gamma: Tensor, beta: Tensor, running_mean: Tensor, running_var: Tensor, training: bool,
               momentum: float = 0.1, eps: float = 1e-5) -> tuple[Tensor, Tensor, Tensor]:
    """Batch norm of ``x`` (m, n) with scale ``gamma`` and shift ``beta`` (n,) and running statistics (n,).

    Returns (y (m, n), new running mean (n,), new running variance (n,)); in eval mode
    (``training=False``) the running statistics normalise and come back unchanged (as copies). The
    caller's tensors are never changed. Training mode needs m >= 2 (the unbiased variance divides by m - 1).
    """
    if x.dim() != 2:
        raise ValueError(f"batch_norm expects x of shape (m, n), got {tuple(x.shape)}")
    if not training:
        y = gamma * (x - running_mean) / (running_var + eps).sqrt() + beta
        return y, running_mean.clone(), running_var.clone()
    m = x.shape[0]
    if m < 2:
        raise ValueError(f"training mode needs at least 2 examples in the batch to estimate a variance, got {m}")
    mu = x.mean(dim=0)  # (n,)
    var = (x - mu).pow(2).mean(dim=0)  # (n,), biased: divides by m
    y = gamma * (x - mu) / (var + eps).sqrt() + beta  # (m, n)
    new_mean = (1 - momentum) * running_mean + momentum * mu
    new_var = (1 - momentum) * running_var + momentum * var * (m / (m - 1))
    return y, new_mean.detach(), new_var.detach()
