"""Reconstructing an image from one layer by gradient descent on its pixels (lesson 03's exercise).

``reconstruction.reconstruct`` hands the same problem to L-BFGS-B; this is the loop written out,
the one the lesson asks the learner for: compute the target activations a^[l](C) once, then
repeat zero_grad, J_content(C, G), backward, an Adam step on G, and put G back into [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["reconstruct_image"]


def reconstruct_image(
    C: Tensor,
    G0: Tensor,
    features: Callable[[Tensor], Tensor],
    cost: Callable[[Tensor, Tensor], Tensor],
    steps: int,
    lr: float,
) -> tuple[Tensor, list[float]]:
    """Minimise J_content(C, G) over the pixels of G with Adam, starting from G0.

    Args:
        C: the content image, (1, 3, H, W) in [0, 1].
        G0: the starting image (noise), (1, 3, H, W) in [0, 1]; never changed.
        features: image (B, 3, H, W) -> activations a^[l] of one layer, (B, nC, nH, nW).
        cost: J_content(a_C, a_G) -> (B,).
        steps: number of Adam steps; lr: Adam's learning rate (its other settings the defaults).
    Returns:
        (G, losses): the image after ``steps`` steps, detached, (1, 3, H, W) in [0, 1]; and the
        ``steps`` values of J_content, each computed before its step.
    """
    with torch.no_grad():
        a_C = features(C)                      # the target: a constant, no graph
    G = G0.detach().clone().requires_grad_(True)  # a copy: the caller's G0 stays as it was
    optimizer = torch.optim.Adam([G], lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        J = cost(a_C, features(G)).sum()
        J.backward()
        optimizer.step()
        with torch.no_grad():
            G.clamp_(0.0, 1.0)                 # pixels stay in [0, 1]
        losses.append(float(J.detach()))
    return G.detach(), losses
