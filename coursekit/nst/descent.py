"""Gradient descent on the pixels with hand-made feature gradients (lesson 05, section 8).

One step of plain gradient descent on the generated image x for

    J(x) = sum_l w_l L_content(P^l, F^l) + sum_l w_l E_l(a^l(S), F^l),   F^l = ReLU(X^l(x)),

where the feature gradients dJ/dX^l come from hand-derived functions (``coursekit.nst.gradients``
or a learner's) and back-propagation through the network is one vector-Jacobian product:
x <- clamp(x - lr dJ/dx, 0, 1). Lesson 04's engine (``coursekit.nst.optimize``) does the same
descent with autograd's gradient and L-BFGS or Adam; this module is the by-hand version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import Tensor

from . import gradients

__all__ = ["pixel_descent_step"]

GradientFn = Callable[..., Tensor]


def pixel_descent_step(
    x: Tensor,
    extractor: Callable[[Tensor], Mapping[str, Tensor]],
    content_targets: Mapping[str, tuple[float, Tensor]],
    style_targets: Mapping[str, tuple[float, Tensor]],
    lr: float,
    content_gradient: GradientFn = gradients.content_cost_gradient,
    style_gradient: GradientFn = gradients.style_layer_gradient,
) -> Tensor:
    """One gradient-descent step on the pixels, x - lr dJ/dx, clamped to [0, 1].

    Args:
        x: generated images, (B, 3, H, W), values in [0, 1]; not changed.
        extractor: x -> {layer: X^l}, the pre-activations (B, nC, nH, nW) of the layers it reads.
        content_targets: {layer: (weight, P^l)}, P^l = ReLU(X^l(C)) of shape (1 or B, nC, nH, nW);
            the weight is alpha.
        style_targets: {layer: (weight, a^l(S))}, the style image's rectified features; the weight is
            beta lambda^[l].
        lr: the step size.
        content_gradient, style_gradient: (target, F, relu=True) -> dL/dX^l (lesson 05's exercises).
    Returns:
        The new images, (B, 3, H, W), in [0, 1], without autograd history. A layer in both target
        dicts gets the sum of its two gradients.
    """
    image = x.detach().requires_grad_(True)
    X = extractor(image)  # {layer: (B, nC, nH, nW)}, connected to image
    upstream: dict[str, Tensor] = {}  # dJ/dX^l, by hand
    for targets, gradient_fn in ((content_targets, content_gradient), (style_targets, style_gradient)):
        for layer, (weight, target) in targets.items():
            g = weight * gradient_fn(target, X[layer].detach().relu(), relu=True)
            upstream[layer] = upstream[layer] + g if layer in upstream else g
    layers = list(upstream)
    (pixel_grad,) = torch.autograd.grad([X[k] for k in layers], image, grad_outputs=[upstream[k] for k in layers])
    return (image.detach() - lr * pixel_grad).clamp(0.0, 1.0)
