"""The content and style costs differentiated by hand, and the tools to check such derivatives (lesson 05).

Gatys, Ecker & Bethge (2015), "A Neural Algorithm of Artistic Style", eqs. 2 and 6. For layer l,
F^l is the generated image's feature matrix of shape (N_l, M_l): N_l = nC channels (rows),
M_l = nH*nW positions (columns); the course's activation a^[l](G) of shape (nC, nH, nW) unrolled.
P^l is the content image's, A^l = F_S F_S^T the style image's Gram matrix, G^l = F^l (F^l)^T.

- content  L = 1/2 sum_ij (F - P)_ij^2              dL/dF_ij = (F - P)_ij
- style    E = 1/(4 N^2 M^2) sum_ij (G - A)_ij^2    dE/dF_ij = 1/(N^2 M^2) ((F^T (G - A))_ji
                                                             = 1/(N^2 M^2) ((G - A) F)_ij   (G - A is symmetric)

**The ReLU mask.** Gatys' features are rectified responses, F = ReLU(X) with X the convolution's
output (the pre-activation; coursekit calls it ``conv4_2``, and F is ``relu4_2``, the layer the
engine of lesson 04 reads by default: ``PAPER_CONTENT_LAYER``). The paper writes
the derivatives with "if F_ij > 0, else 0": that is the derivative with respect to X, taken through
the rectifier, since dF/dX = 1 where X > 0 and 0 where X < 0, and F > 0 exactly where X > 0. At
X = 0 we use 0, as PyTorch's ReLU does. So in this module

    relu=True  (default): ``a_G`` must be F = ReLU(X) (no negative entries); the result is dL/dX,
                          the derivative above times the mask [F > 0];
    relu=False          : ``a_G`` is any feature map; the result is dL/dF, unmasked.

Batch semantics as in ``coursekit.nst.costs``: activations are (B, nC, nH, nW), the target has batch 1
(broadcast) or B, and the result has a_G's shape: image b's gradient of its own cost (equivalently,
the gradient of the sum of the B costs). Nothing here changes its inputs or their dtype; gradient
checks need float64 (float32 round-off swamps finite differences, see ``finite_difference_errors``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from ..plots import axes_or_new
from . import costs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "relu_mask",
    "content_cost_gradient",
    "style_layer_gradient",
    "GradientComparison",
    "compare_gradients",
    "autograd_gradient",
    "finite_difference_gradient",
    "check_against_autograd",
    "check_finite_differences",
    "finite_difference_errors",
    "gradient_to_pixels",
    "gradient_image",
    "plot_fd_errors",
    "plot_relu_mask",
]


def _check_rectified(a_G: Tensor) -> None:
    if bool((a_G < 0).any()):
        raise ValueError(
            "a_G has negative entries, so it is not the output of a ReLU. With relu=True pass the rectified "
            "features F = ReLU(X) (e.g. 'relu4_2', or conv_output.relu()); for features without a ReLU pass relu=False."
        )


def relu_mask(a: Tensor) -> Tensor:
    """[F > 0] as a tensor of a's dtype: dReLU(X)/dX read off F = ReLU(X) (0 at X = 0, as in PyTorch)."""
    return (a > 0).to(a.dtype)


def content_cost_gradient(a_C: Tensor, a_G: Tensor, relu: bool = True) -> Tensor:
    """Gradient of the content cost L = 1/2 sum (F - P)^2 (Gatys et al. 2015, eqs. 1 and 2).

        dL/dF_ij = (F - P)_ij                       (relu=False)
        dL/dX_ij = (F - P)_ij if F_ij > 0 else 0    (relu=True, F = ReLU(X))

    Args:
        a_C: content-image features P, shape (1 or B, nC, nH, nW).
        a_G: generated-image features F, shape (B, nC, nH, nW); with relu=True, rectified (>= 0).
        relu: take the derivative through the rectifier (see the module docstring).
    Returns:
        (B, nC, nH, nW): each image's gradient of its own cost.
    """
    costs._check_pair(a_C, a_G, ("a_C", "a_G"))
    grad = a_G - a_C  # (B, nC, nH, nW); a_C with B = 1 broadcasts
    if relu:
        _check_rectified(a_G)
        grad = grad * relu_mask(a_G)
    return grad


def style_layer_gradient(a_S: Tensor, a_G: Tensor, relu: bool = True) -> Tensor:
    """Gradient of the layer style cost E_l = 1/(4 N^2 M^2) sum (G - A)^2 (Gatys et al. 2015, eqs. 4 and 6).

        dE/dF_ij = 1/(N^2 M^2) ((F^T (G - A))_ji = 1/(N^2 M^2) ((G - A) F)_ij    (relu=False)
        dE/dX_ij = the same if F_ij > 0 else 0                                   (relu=True)

    with F = a_G unrolled to (N, M) = (nC, nH*nW), G = F F^T and A the style image's Gram matrix.
    E_l is ``coursekit.nst.costs.layer_style_cost`` (= the lecture's 1/(2 nH nW nC)^2 sum (G(S) - G(G))^2).

    Args:
        a_S: style-image features, shape (1 or B, nC, nH, nW).
        a_G: generated-image features F, shape (B, nC, nH, nW); with relu=True, rectified (>= 0).
        relu: take the derivative through the rectifier (see the module docstring).
    Returns:
        (B, nC, nH, nW): each image's gradient of its own cost.
    """
    costs._check_pair(a_S, a_G, ("a_S", "a_G"))
    b, n, h, w = a_G.shape
    m = h * w
    F = a_G.reshape(b, n, m)  # (B, N, M)
    D = costs.gram_matrix(a_G) - costs.gram_matrix(a_S)  # (B, N, N), G - A, symmetric
    grad = (torch.bmm(D, F) / (n**2 * m**2)).reshape(b, n, h, w)  # ((G - A) F)_ij = (F^T (G - A))_ji
    if relu:
        _check_rectified(a_G)
        grad = grad * relu_mask(a_G)
    return grad


# ---- checking a gradient ---------------------------------------------------------------------
@dataclass(frozen=True)
class GradientComparison:
    """How far a gradient is from a reference: the largest absolute difference, and that divided by
    the largest reference entry (so 1e-12 reads "equal to 12 digits" whatever the scale)."""

    max_abs_error: float
    relative_error: float
    checked: int  # number of entries compared

    def __str__(self) -> str:
        return f"max |difference| = {self.max_abs_error:.1e}, relative = {self.relative_error:.1e} ({self.checked} entries)"


def compare_gradients(got: Tensor, expected: Tensor) -> GradientComparison:
    """Compare two gradients of the same shape (in float64): see ``GradientComparison``."""
    if tuple(got.shape) != tuple(expected.shape):
        raise ValueError(f"cannot compare gradients of shapes {tuple(got.shape)} and {tuple(expected.shape)}")
    got, expected = got.detach().double(), expected.detach().double()
    err = (got - expected).abs().max().item() if got.numel() else 0.0
    scale = expected.abs().max().item() if expected.numel() else 0.0
    return GradientComparison(err, err / scale if scale > 0 else err, got.numel())


CostFn = Callable[[Tensor, Tensor], Tensor]


def _rectify(x: Tensor, relu: bool) -> Tensor:
    return torch.relu(x) if relu else x


def autograd_gradient(cost: CostFn, target: Tensor, x: Tensor, relu: bool = True) -> Tensor:
    """d sum_b cost(target, F)_b / dx by autograd, with F = ReLU(x) (relu=True: x is the
    pre-activation X) or F = x (relu=False). ``cost`` is e.g. ``costs.content_cost``."""
    x = x.detach().clone().requires_grad_(True)
    cost(target, _rectify(x, relu)).sum().backward()
    return x.grad


def finite_difference_gradient(
    fn: Callable[[Tensor], Tensor], x: Tensor, h: float = 1e-6, indices: Sequence[int] | Tensor | None = None
) -> Tensor:
    """Central differences (f(x + h e_i) - f(x - h e_i)) / (2h) for the scalar f = fn(x).sum().

    Costs 2 evaluations of ``fn`` per entry, so for large x pass ``indices`` (flat positions into x);
    the result then holds those entries only (1-D), otherwise it has x's shape. The error is
    O(h^2) (truncation) plus O(eps |f| / h) (round-off, eps = 2.2e-16 in float64, 1.2e-7 in float32):
    use float64 and h near eps^(1/3), about 1e-5 to 1e-6. x is not changed.
    """
    if not x.is_floating_point():
        raise ValueError(f"x must be a floating-point tensor (float64 for a trustworthy check); got {x.dtype}")
    flat_x = x.detach().reshape(-1)
    idx = range(flat_x.numel()) if indices is None else [int(i) for i in torch.as_tensor(indices).reshape(-1)]
    out = []
    with torch.no_grad():
        for i in idx:
            xp, xm = flat_x.clone(), flat_x.clone()
            xp[i] += h
            xm[i] -= h
            fp, fm = fn(xp.view_as(x)).sum(), fn(xm.view_as(x)).sum()
            out.append((fp - fm) / (2 * h))
    grad = torch.stack(out) if out else flat_x.new_zeros(0)
    return grad.view_as(x) if indices is None else grad


def _sample_indices(x: Tensor, n: int | None, seed: int, away_from_kink: bool, h: float) -> Tensor | None:
    """Up to n flat indices of x, seeded; with away_from_kink, only where |x| > 10 h (a central
    difference across the ReLU's kink at 0 measures neither slope)."""
    allowed = torch.arange(x.numel())
    if away_from_kink:
        allowed = allowed[x.detach().reshape(-1).abs() > 10 * h]
    if n is None or n >= allowed.numel():
        return allowed
    g = torch.Generator().manual_seed(seed)
    return allowed[torch.randperm(allowed.numel(), generator=g)[:n]].sort().values


def check_against_autograd(
    gradient_fn: Callable[..., Tensor], cost: CostFn, target: Tensor, x: Tensor, relu: bool = True
) -> GradientComparison:
    """Compare ``gradient_fn(target, F, relu=relu)`` with autograd's gradient of ``cost(target, F)``.

    x is the pre-activation X (F = ReLU(X)) when relu=True, the features F themselves otherwise.
    E.g. ``check_against_autograd(style_layer_gradient, costs.layer_style_cost, a_S, X)``.
    """
    analytic = gradient_fn(target, _rectify(x.detach(), relu), relu=relu)
    return compare_gradients(analytic, autograd_gradient(cost, target, x, relu))


def check_finite_differences(
    gradient_fn: Callable[..., Tensor],
    cost: CostFn,
    target: Tensor,
    x: Tensor,
    relu: bool = True,
    h: float = 1e-6,
    n: int | None = 50,
    seed: int = 0,
) -> GradientComparison:
    """Compare ``gradient_fn(target, F, relu=relu)`` with central differences of ``cost(target, F)``
    at ``n`` seeded entries of x (all entries if n is None); x as in ``check_against_autograd``.
    Entries within 10 h of the ReLU's kink are skipped when relu=True."""
    analytic = gradient_fn(target, _rectify(x.detach(), relu), relu=relu).reshape(-1)
    idx = _sample_indices(x, n, seed, relu, h)
    numeric = finite_difference_gradient(lambda z: cost(target, _rectify(z, relu)), x, h, idx)
    return compare_gradients(numeric, analytic[idx])


def finite_difference_errors(
    fn: Callable[[Tensor], Tensor], x: Tensor, grad: Tensor, hs: Sequence[float], indices: Sequence[int] | Tensor | None = None
) -> list[float]:
    """Relative error max|FD_h - grad| / max|grad| of central differences for each step h in ``hs``.

    Evaluated in x's dtype: the U-shaped curve against h shows truncation error (slope 2 on a log-log
    plot, large h) and round-off error (slope -1, small h). ``grad`` is the exact gradient (x's shape).
    """
    exact = grad.detach().reshape(-1) if indices is None else grad.detach().reshape(-1)[torch.as_tensor(indices)]
    out = []
    for h in hs:
        numeric = finite_difference_gradient(fn, x, float(h), indices).reshape(-1)
        out.append(compare_gradients(numeric, exact).relative_error)
    return out


def plot_fd_errors(
    hs: Sequence[float], errors: Mapping[str, Sequence[float]], h_mark: float | None = None, ax: Axes | None = None
) -> list:
    """Log-log plot of ``finite_difference_errors`` curves ({label: errors}); a vertical line at h_mark.
    Returns the drawn lines."""
    ax = axes_or_new(ax, (6, 4))
    lines = []
    for label, errs in errors.items():
        lines += ax.loglog(list(hs), [max(e, 1e-17) for e in errs], marker="o", ms=3, label=label)
    if h_mark is not None:
        lines.append(ax.axvline(h_mark, color="grey", ls="--", lw=1))
    ax.set_xlabel("step h")
    ax.set_ylabel("relative error of the central difference")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return lines


def plot_relu_mask(x: Tensor, target: Tensor, axes: Sequence[Axes] | None = None) -> list:
    """The ReLU mask on one row of units: content cost L = 1/2 sum (ReLU(x) - target)^2.

    Left: pre-activations x, outputs F = ReLU(x) and targets P. Right: dL/dF = F - P (what the cost
    asks of F) against dL/dx = (F - P) [F > 0] (what reaches x through the rectifier); grey bands
    mark the units that are off. x and target are 1-D. Returns the two axes.
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    x, target = x.detach().double().reshape(-1), target.detach().double().reshape(-1)
    F = x.relu()
    dF = F - target  # dL/dF
    dX = content_cost_gradient(target.view(1, 1, 1, -1), F.view(1, 1, 1, -1)).reshape(-1)  # dL/dx
    pos = torch.arange(len(x)).numpy()
    for ax in axes:
        for i in pos[(F == 0).numpy()]:
            ax.axvspan(i - 0.5, i + 0.5, color="0.88", lw=0)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(pos)
        ax.set_xlabel("unit $j$ (grey: off, $F_j = 0$)")
    axes[0].bar(pos - 0.2, x.numpy(), 0.4, color="tab:blue", alpha=0.5, label="pre-activation $X_j$")
    axes[0].plot(pos, F.numpy(), "o", color="tab:blue", label="$F_j = \\max(0, X_j)$")
    axes[0].plot(pos, target.numpy(), "x", color="tab:red", ms=8, label="target $P_j$")
    axes[0].set_title("features and target")
    axes[1].bar(pos - 0.2, dF.numpy(), 0.4, color="tab:orange", label="$\\partial L/\\partial F_j = F_j - P_j$")
    axes[1].bar(pos + 0.2, dX.numpy(), 0.4, color="tab:green", label="$\\partial L/\\partial X_j$ (masked)")
    axes[1].set_title("the gradient before and after the rectifier")
    for ax in axes:  # room above the data for a legend that covers nothing
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.45 * (hi - lo))
        ax.legend(fontsize=8, loc="upper left", ncol=3)
    return list(axes)


def gradient_image(grad: Tensor) -> Tensor:
    """A signed pixel gradient (1, 3, H, W) shown as an image in [0, 1]: 0.5 is zero, each colour
    channel's sign and size scaled by the largest |entry| (so only the pattern, not the scale, shows)."""
    g = grad.detach()
    scale = g.abs().max()
    return (0.5 + 0.5 * g / scale).clamp(0, 1) if scale > 0 else torch.full_like(g, 0.5)


# ---- from a layer back to the pixels ---------------------------------------------------------
def gradient_to_pixels(
    extractor: Callable[[Tensor], Mapping[str, Tensor]],
    image: Tensor,
    upstream: Callable[[Mapping[str, Tensor]], Mapping[str, Tensor]],
) -> Tensor:
    """The pixel gradient dL/d(image) from hand-made gradients at some layers.

    ``extractor(image)`` gives the layers' outputs X^l (e.g. coursekit's pre-ReLU ``conv4_2``);
    ``upstream(X)`` receives them detached and returns dL/dX^l for some of them (e.g. from
    ``content_cost_gradient(a_C, X.relu())``). Autograd then does the rest of the chain rule: one
    vector-Jacobian product through the network, sum_l (dL/dX^l) (dX^l/d image). Returns image's shape.
    """
    x = image.detach().clone().requires_grad_(True)
    outputs = extractor(x)
    grads = upstream({name: out.detach() for name, out in outputs.items()})
    if not grads:
        raise ValueError("upstream returned no gradients; return {layer name: dL/dX for that layer}")
    unknown = sorted(set(grads) - set(outputs))
    if unknown:
        raise KeyError(f"upstream returned gradients for {unknown}, which the extractor did not compute ({sorted(outputs)})")
    names = list(grads)
    torch.autograd.backward([outputs[k] for k in names], [grads[k].to(outputs[k].dtype) for k in names])
    return x.grad
