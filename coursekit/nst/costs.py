"""Style (Gram) matrices, the style cost and the content cost.

Notation follows the deeplearning.ai lecture and Gatys et al. 2015 ("A Neural Algorithm of
Artistic Style"). For one layer l an activation volume has shape (nC, nH, nW). Unrolled, it is the
matrix F of shape (N, M) with N = nC channels and M = nH*nW positions.

- Style matrix (Gram matrix):   G_kk' = sum_{i,j} a_ijk a_ijk'        i.e.  G = F F^T  (N x N)
  the uncentred second moments of the channels (no mean is subtracted, so it is not a covariance:
  G = nH nW (Cov + mu mu^T) with mu the channel means).
- Layer style cost (paper = lecture):
      J_style^[l](S,G) = 1/(2 nH nW nC)^2 * sum_{k,k'} (G^[l](S)_kk' - G^[l](G)_kk')^2
                       = 1/(4 N^2 M^2)    * sum (G - A)^2                (Gatys, E_l)
- Style cost:      J_style(S,G) = sum_l lambda^[l] J_style^[l](S,G)
- Content cost (paper): J_content(C,G) = 1/2 sum (F - P)^2
  (lecture variant:     1/(4 nH nW nC) sum (a^(C) - a^(G))^2)
- Total cost:      J(G) = alpha J_content(C,G) + beta J_style(S,G)

Batch semantics: activations are (B, nC, nH, nW). Every cost returns a tensor of shape (B,): one
independent cost per image, never a sum that mixes images. A target with B = 1 is broadcast
against a batch of generated images.

Popular implementations normalise differently: they are all the same objective up to per-layer
constants (``coursekit.nst.conventions``), and every cost here takes a ``convention``.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch import Tensor

from .conventions import Convention, get_convention

__all__ = [
    "gram_matrix",
    "style_cost_from_grams",
    "gram_target_cost",
    "layer_style_cost",
    "weighted_style_sum",
    "style_cost",
    "content_cost",
    "total_cost",
    "PAPER_STYLE_LAYERS",
    "PAPER_CONTENT_LAYER",
    "PRE_RELU_STYLE_LAYERS",
    "PRE_RELU_CONTENT_LAYER",
    "TUTORIAL_STYLE_LAYERS",
    "TUTORIAL_CONTENT_LAYER",
]

# Gatys et al. 2015: content "conv4_2", style "conv1_1".."conv5_1" with w_l = 1/5. Their Caffe network
# applied each ReLU in place, so the responses the paper reads are rectified (Gatys' code reads r11 ..
# r51 and r42; the paper's gradients carry the mask "0 if F_ij < 0"): here relu1_1 .. relu5_1, relu4_2.
PAPER_STYLE_LAYERS = {"relu1_1": 0.2, "relu2_1": 0.2, "relu3_1": 0.2, "relu4_1": 0.2, "relu5_1": 0.2}
PAPER_CONTENT_LAYER = "relu4_2"
# A variant, not the paper: the same layers read before their ReLU (raw convolution outputs, signed).
PRE_RELU_STYLE_LAYERS = {"conv1_1": 0.2, "conv2_1": 0.2, "conv3_1": 0.2, "conv4_1": 0.2, "conv5_1": 0.2}
PRE_RELU_CONTENT_LAYER = "conv4_2"
# The PyTorch NST tutorial: its conv_1..conv_5 are conv1_1, conv1_2, conv2_1, conv2_2, conv3_1 and
# its content layer "conv_4" is conv2_2 (pytorch/tutorials#3732). It inserts its losses right after the
# convolutions and makes the ReLUs non-in-place, so it reads pre-ReLU (signed) responses.
TUTORIAL_STYLE_LAYERS = {"conv1_1": 1.0, "conv1_2": 1.0, "conv2_1": 1.0, "conv2_2": 1.0, "conv3_1": 1.0}
TUTORIAL_CONTENT_LAYER = "conv2_2"


def _check_activation(a: Tensor, what: str) -> Tensor:
    if not isinstance(a, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor of shape (B, nC, nH, nW), got {type(a).__name__}")
    if a.dim() == 3:
        raise ValueError(
            f"{what} has shape {tuple(a.shape)}; expected (B, nC, nH, nW). "
            "Add the batch dimension with a.unsqueeze(0)."
        )
    if a.dim() != 4:
        raise ValueError(f"{what} has shape {tuple(a.shape)}; expected 4 dimensions (B, nC, nH, nW)")
    return a


def _check_pair(a_target: Tensor, a_G: Tensor, names: tuple[str, str]) -> None:
    _check_activation(a_target, names[0])
    _check_activation(a_G, names[1])
    if a_target.shape[1:] != a_G.shape[1:]:
        raise ValueError(
            f"{names[0]} has shape {tuple(a_target.shape)} but {names[1]} has {tuple(a_G.shape)}: "
            "both must come from the same layer and image size (nC, nH, nW)"
        )
    if a_target.shape[0] not in (1, a_G.shape[0]):
        raise ValueError(
            f"{names[0]} has batch size {a_target.shape[0]} and {names[1]} {a_G.shape[0]}: "
            "use one target image (B=1) or one per generated image"
        )


def gram_matrix(a: Tensor) -> Tensor:
    """Style matrix G_kk' = sum_{i,j} a_ijk a_ijk' of each image in a batch.

    Args:
        a: activations, shape (B, nC, nH, nW).
    Returns:
        (B, nC, nC): one un-normalised Gram matrix F F^T per image (F = a[b] unrolled to
        (nC, nH*nW)): the uncentred second moments of the channels. No mean is subtracted, so it is
        not a covariance; G = nH nW (Cov + mu mu^T) with mu the channel means.
    """
    _check_activation(a, "a")
    b, c = a.shape[:2]
    f = a.reshape(b, c, -1)  # (B, nC, nH*nW)
    return torch.bmm(f, f.transpose(1, 2))  # (B, nC, nC)


def style_cost_from_grams(
    G_S: Tensor, G_G: Tensor, n_C: int, n_HW: int, convention: str | Convention = "paper"
) -> Tensor:
    """Layer style cost from un-normalised Grams: coef(N, M) * sum_{k,k'} (G_S - G_G)^2.

    For the paper/lecture convention coef = 1/(4 N^2 M^2) = 1/(2 nH nW nC)^2.
    G_S is (1 or B, nC, nC), G_G is (B, nC, nC); returns (B,).
    """
    coef = get_convention(convention).style_coef(n_C, n_HW)
    return coef * (G_S - G_G).pow(2).sum(dim=(1, 2))


class _GramTargetCost(torch.autograd.Function):
    """c * sum (F F^T - G_S)^2 per image, with the analytic gradient 4 c (F F^T - G_S) F.

    Gatys et al. (2015) give dE_l/dF = 1/(N^2 M^2) (G - A) F for E_l = 1/(4 N^2 M^2) sum (G - A)^2:
    one matrix product in the backward pass where autograd through F F^T takes two. Works on the
    activation's memory layout as it is (channels-last activations are read without a copy).
    """

    @staticmethod
    def forward(ctx, a: Tensor, G_S: Tensor, coef: float) -> Tensor:
        b, c = a.shape[:2]
        channels_last = a.is_contiguous(memory_format=torch.channels_last) and not a.is_contiguous()
        if channels_last:
            f = a.permute(0, 2, 3, 1).reshape(b, -1, c)  # (B, M, N): a free view of NHWC memory
            G = torch.bmm(f.transpose(1, 2), f)
        else:
            f = a.reshape(b, c, -1)  # (B, N, M)
            G = torch.bmm(f, f.transpose(1, 2))
        D = G - G_S  # (B, N, N), symmetric
        ctx.save_for_backward(f, D)
        ctx.coef, ctx.channels_last, ctx.shape = coef, channels_last, a.shape
        return coef * D.square().sum(dim=(1, 2))

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        f, D = ctx.saved_tensors
        # The scalar 4c (times the incoming gradient) scales the small (N, N) matrix, not the
        # (N, M) product: one pass over nC^2 numbers instead of nC nH nW (the same maths). D is
        # float32 when the activations are bfloat16/float16 (the target Gram is float32); the
        # product runs in the activations' precision, as the network's own backward does.
        scaled = (D * ((4.0 * ctx.coef) * grad_out.view(-1, 1, 1))).to(f.dtype)
        b, c, h, w = ctx.shape
        if ctx.channels_last:
            grad = torch.bmm(f, scaled).reshape(b, h, w, c).permute(0, 3, 1, 2)
        else:
            grad = torch.bmm(scaled, f).reshape(b, c, h, w)
        return grad, None, None


def gram_target_cost(G_S: Tensor, a_G: Tensor, convention: str | Convention = "paper") -> Tensor:
    """J_style^[l] against a fixed target Gram G_S: the value of ``style_cost_from_grams(G_S,
    gram_matrix(a_G), ...)`` with Gatys' analytic gradient (one matrix product fewer per layer).

    G_S: (1 or B, nC, nC), a constant (no gradient flows to it); a_G: (B, nC, nH, nW) -> (B,).
    """
    _check_activation(a_G, "a_G")
    _, n_C, n_H, n_W = a_G.shape
    coef = get_convention(convention).style_coef(n_C, n_H * n_W)
    return _GramTargetCost.apply(a_G, G_S.detach(), coef)


def layer_style_cost(a_S: Tensor, a_G: Tensor, convention: str | Convention = "paper") -> Tensor:
    """J_style^[l](S,G) = 1/(2 nH nW nC)^2 * sum_{k,k'} (G^[l](S)_kk' - G^[l](G)_kk')^2.

    Equal to Gatys' E_l = 1/(4 N_l^2 M_l^2) sum (G - A)^2 since (2 nH nW nC)^2 = 4 N^2 M^2.

    Args:
        a_S: style-image activations at layer l, (1 or B, nC, nH, nW).
        a_G: generated-image activations at the same layer, (B, nC, nH, nW).
        convention: a key of ``CONVENTIONS`` (default the paper's).
    Returns:
        (B,): the cost of each generated image.
    """
    _check_pair(a_S, a_G, ("a_S", "a_G"))
    _, n_C, n_H, n_W = a_G.shape
    return style_cost_from_grams(gram_matrix(a_S), gram_matrix(a_G), n_C, n_H * n_W, convention)


def weighted_style_sum(style_weights: Mapping[str, float], layer_costs: Mapping[str, Tensor]) -> Tensor:
    """J_style = sum_l lambda^[l] J_style^[l]: the one sum over layers that every path uses.

    ``layer_costs`` maps each layer of ``style_weights`` to its J_style^[l], shape (B,) (or a
    number); layers with lambda^[l] = 0 may be left out. Returns (B,).
    """
    missing = [name for name, lam in style_weights.items() if lam != 0 and name not in layer_costs]
    if missing:
        raise KeyError(f"layers {missing} have a style weight but no cost in layer_costs (has {sorted(layer_costs)})")
    terms = [lam * layer_costs[name] for name, lam in style_weights.items() if name in layer_costs]
    if not terms:
        raise ValueError("every style weight lambda^[l] is 0: give at least one layer a weight above 0")
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def style_cost(
    a_S: Mapping[str, Tensor],
    a_G: Mapping[str, Tensor],
    style_weights: Mapping[str, float],
    convention: str | Convention = "paper",
    layer_cost: Callable[..., Tensor] | None = None,
) -> Tensor:
    """J_style(S,G) = sum_l lambda^[l] J_style^[l](S,G).

    Args:
        a_S, a_G: activations by layer name (each (1 or B, nC, nH, nW) / (B, nC, nH, nW)).
        style_weights: lambda^[l] by layer name; only these layers are used.
        convention: normalisation, see ``CONVENTIONS``.
        layer_cost: optional replacement for ``layer_style_cost`` (a learner's own function,
            called as ``layer_cost(a_S[l], a_G[l])``).
    Returns:
        (B,).
    """
    if not style_weights:
        raise ValueError("style_weights is empty: give at least one layer, e.g. {'relu1_1': 1.0}")
    for name in style_weights:
        for label, acts in (("a_S", a_S), ("a_G", a_G)):
            if name not in acts:
                raise KeyError(f"layer {name!r} is in style_weights but not in {label} (has {sorted(acts)})")
    per_layer = {
        name: layer_cost(a_S[name], a_G[name]) if layer_cost else layer_style_cost(a_S[name], a_G[name], convention)
        for name in style_weights
    }
    return weighted_style_sum(style_weights, per_layer)


def content_cost(a_C: Tensor, a_G: Tensor, convention: str | Convention = "paper") -> Tensor:
    """J_content(C,G) = 1/2 sum_{i,j,k} (a^(C)_ijk - a^(G)_ijk)^2   (Gatys et al. 2015, eq. 1).

    With ``convention="lecture"`` the factor is 1/(4 nH nW nC) instead; the tutorials use the
    mean, 1/(nH nW nC). Shapes: a_C (1 or B, nC, nH, nW), a_G (B, nC, nH, nW) -> (B,).
    """
    _check_pair(a_C, a_G, ("a_C", "a_G"))
    _, n_C, n_H, n_W = a_G.shape
    coef = get_convention(convention).content_coef(n_C, n_H * n_W)
    return coef * (a_C - a_G).pow(2).sum(dim=(1, 2, 3))


def total_cost(J_content: Tensor | float, J_style: Tensor | float, alpha: float = 10.0, beta: float = 40.0) -> Tensor | float:
    """J(G) = alpha J_content(C,G) + beta J_style(S,G); defaults are the lecture's alpha=10, beta=40."""
    return alpha * J_content + beta * J_style
