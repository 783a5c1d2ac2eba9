"""One optimisation step of style transfer, written out: the loop body a first-order optimiser
(Adam, SGD) repeats. Lesson 04's exercise ``transfer_step``; ``stylize`` runs a bounded L-BFGS instead."""

from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch import Tensor

from .costs import content_cost, style_cost, total_cost

__all__ = ["transfer_step"]


def transfer_step(
    G: Tensor,
    optimizer: torch.optim.Optimizer,
    extractor: Callable[..., Mapping[str, Tensor]],
    a_C: Mapping[str, Tensor],
    a_S: Mapping[str, Tensor],
    style_weights: Mapping[str, float],
    alpha: float = 10.0,
    beta: float = 40.0,
) -> float:
    """One step on the pixels of ``G`` (1, 3, H, W), the optimiser's only parameter.

    ``extractor(image, layers)`` returns {layer: activations (1, nC, nH, nW)}; ``a_C`` holds the
    content image's activations at the one content layer, ``a_S`` the style image's at the style
    layers. Computes J(G) = alpha J_content(C, G) + beta sum_l lambda^[l] J_style^[l](S, G) (Gatys
    et al. 2015), its gradient with respect to the pixels, one optimiser step, then puts every pixel
    back into [0, 1]. Returns J before the step, as a number.
    """
    optimizer.zero_grad()  # gradients of the previous step must not add up with this one's
    (content_layer,) = a_C
    a_G = extractor(G, [content_layer, *style_weights])
    J_content = content_cost(a_C[content_layer], a_G[content_layer])  # (1,)
    J_style = style_cost(a_S, a_G, style_weights)  # (1,)
    J = total_cost(J_content, J_style, alpha, beta).sum()
    J.backward()
    optimizer.step()
    with torch.no_grad():
        G.clamp_(0.0, 1.0)  # in place: the optimiser holds this very tensor
    return J.detach().item()
