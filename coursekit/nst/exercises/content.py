"""Lesson 03's exercises: the content cost, the loop that reconstructs an image from one layer, and a
question on how many numbers a layer holds per number of the image."""

from __future__ import annotations

import torch

import torch.nn.functional as F
from torch import Tensor, nn

from ...exercise import (Case, Exercise, Mistake, batch_independent, gradient_flows, not_mutating, zero_when_equal)
from ...exercise.answers import within
from .. import costs, inversion
from .inputs import activations, pair

__all__ = ['EXERCISES']


def _content_mean(a_C, a_G):
    return costs.content_cost(a_C, a_G, convention="pytorch_tutorial")


def _content_lecture(a_C, a_G):
    return costs.content_cost(a_C, a_G, convention="lecture")


def _content_no_half(a_C, a_G):
    return 2 * costs.content_cost(a_C, a_G)


def _content_not_squared(a_C, a_G):
    return 0.5 * (a_C - a_G).abs().sum(dim=(1, 2, 3))



def _content_summed_batch(a_C, a_G):
    return costs.content_cost(a_C, a_G).sum()


CONTENT = Exercise(
    name="content_cost",
    lesson="03_content_cost",
    groups={"value": 1, "batch independence": 1},
    hidden=[
        Case("hidden", lambda: (pair((1, 9, 2, 3), 161), {})),
        Case("hidden", lambda: (pair((4, 3, 5, 2), 162, 1), {}), group="batch independence"),
        Case("hidden", lambda: (pair((2, 6, 3, 3), 163), {}), group="batch independence"),
    ],
    reference=costs.content_cost,
    cases=[
        Case("a_C, a_G of shape (1, 4, 5, 5)", lambda: (pair((1, 4, 5, 5), 60), {})),
        Case("a_C, a_G of shape (1, 2, 3, 7)", lambda: (pair((1, 2, 3, 7), 61), {})),
        Case("a batch of 2 generated images, one content image", lambda: (pair((2, 3, 4, 4), 62, 1), {}),
             group="batch independence"),
    ],
    properties=[
        zero_when_equal(lambda: pair((1, 3, 4, 4), 63)),
        not_mutating(lambda: pair((1, 3, 4, 4), 64)),
        gradient_flows(lambda: pair((1, 3, 4, 4), 65)),
        batch_independent(lambda k: (activations((1, 3, 4, 4), 70), activations((1, 3, 4, 4), 70 + k))),
    ],
    mistakes=[
        Mistake(_content_mean, "you took the mean (the tutorials' MSE). The paper's content cost is 1/2 times the "
                "sum of squares."),
        Mistake(_content_lecture, "that is the lecture's normalised variant 1/(4 nH nW nC); this exercise asks for "
                "the paper's 1/2 Σ (F − P)²."),
        Mistake(_content_no_half, "the factor 1/2 in front of the sum is missing."),
        Mistake(_content_not_squared, "the differences are squared: (a^[l](C) − a^[l](G))², not their size."),
        Mistake(_content_summed_batch, "one cost per generated image, shape (B,): sum over channels and positions "
                "only, never over the batch."),
    ],
    generic_hint="J_content(C,G) = 1/2 Σ_i Σ_j Σ_k (a^[l](C)_ijk − a^[l](G)_ijk)², one value per generated image.",
)


# ---- reconstruct_image ----------------------------------------------------------------------------
class TinyFeatures(nn.Module):
    """A frozen, seeded float64 stand-in for one VGG layer: conv 3x3, ReLU, conv 3x3 stride 2, ReLU.

    Small enough that a few optimisation steps on an 8 x 8 image take milliseconds in the grader's
    one-thread sandbox; frozen like coursekit's feature extractor (gradients reach the image only).
    """

    def __init__(self, seed: int, channels: int = 4) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("w1", torch.randn(channels, 3, 3, 3, generator=g, dtype=torch.float64) / 3)
        self.register_buffer("w2", torch.randn(channels, channels, 3, 3, generator=g, dtype=torch.float64) / 3)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(F.conv2d(x, self.w1, padding=1).relu(), self.w2, padding=1, stride=2).relu()


def _images(seed: int, size: int, spread: float) -> tuple[Tensor, Tensor]:
    """A content image C in [0, 1] and a starting noise G0 in [0.5 - spread/2, 0.5 + spread/2]."""
    g = torch.Generator().manual_seed(seed)
    C = torch.rand(1, 3, size, size, generator=g, dtype=torch.float64)
    G0 = 0.5 + spread * (torch.rand(1, 3, size, size, generator=g, dtype=torch.float64) - 0.5)
    return C, G0


def drive_reconstruction(fn, seed: int, size: int, steps: int, lr: float, spread: float) -> dict[str, Tensor]:
    """Run ``fn(C, G0, features, content_cost, steps, lr)`` on seeded tiny inputs; return the final
    image and the recorded losses, {"G": (1, 3, size, size), "losses": (steps,)}, in float64."""
    C, G0 = _images(seed, size, spread)
    start = G0.clone()
    out = fn(C, G0, TinyFeatures(seed + 1), costs.content_cost, steps, lr)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"return a pair (G, losses); got {type(out).__name__}")
    G, losses = out
    if not isinstance(G, Tensor) or tuple(G.shape) != tuple(C.shape):
        raise ValueError(f"G must be a tensor of the image's shape {tuple(C.shape)}; got "
                         f"{tuple(G.shape) if isinstance(G, Tensor) else type(G).__name__}")
    if len(losses) != steps:
        raise ValueError(f"losses has {len(losses)} values; expected one per step ({steps})")
    if not torch.equal(G0, start):
        raise ValueError("G0, the caller's starting image, was changed: optimise a copy of it")
    values = torch.tensor([float(v) for v in losses], dtype=torch.float64)
    return {"G": G.detach().to(torch.float64), "losses": values}


def _adam_loop(C, G0, features, cost, steps, lr, *, zero_grad=True, clamp="after", start=None, target=None,
               optimizer=torch.optim.Adam):
    with torch.no_grad():
        a_C = features(C if target is None else target)
    G = (G0 if start is None else start).detach().clone().requires_grad_(True)
    opt = optimizer([G], lr=lr)
    losses = []
    for _ in range(steps):
        if clamp == "before":
            with torch.no_grad():
                G.clamp_(0.0, 1.0)
        if zero_grad:
            opt.zero_grad()
        J = cost(a_C, features(G)).sum()
        J.backward()
        opt.step()
        if clamp == "after":
            with torch.no_grad():
                G.clamp_(0.0, 1.0)
        losses.append(float(J.detach()))
    return G.detach(), losses


def _no_zero_grad(C, G0, features, cost, steps, lr):
    return _adam_loop(C, G0, features, cost, steps, lr, zero_grad=False)


def _no_clamp(C, G0, features, cost, steps, lr):
    return _adam_loop(C, G0, features, cost, steps, lr, clamp=None)


def _clamp_before_step(C, G0, features, cost, steps, lr):
    return _adam_loop(C, G0, features, cost, steps, lr, clamp="before")


def _starts_from_content(C, G0, features, cost, steps, lr):
    return _adam_loop(C, G0, features, cost, steps, lr, start=C)


def _target_from_start(C, G0, features, cost, steps, lr):
    return _adam_loop(C, G0, features, cost, steps, lr, target=G0)


def _plain_sgd(C, G0, features, cost, steps, lr):
    return _adam_loop(C, G0, features, cost, steps, lr, optimizer=torch.optim.SGD)


def _case(seed, size, steps, lr, spread):
    return lambda: ((seed, size, steps, lr, spread), {})


RECONSTRUCT = Exercise(
    name="reconstruct_image",
    lesson="03_content_cost",
    kind="step",
    driver=drive_reconstruction,
    groups={"value": 2, "pixels in [0, 1]": 1},
    reference=inversion.reconstruct_image,
    cases=[
        Case("3 steps, lr 0.01, from noise in [0.3, 0.7] (no pixel reaches 0 or 1)", _case(0, 6, 3, 0.01, 0.4)),
        Case("4 steps, lr 0.2, from noise in [0, 1] (many pixels pushed past 0 or 1)", _case(1, 6, 4, 0.2, 1.0),
             group="pixels in [0, 1]"),
    ],
    hidden=[
        Case("hidden", _case(10, 8, 5, 0.005, 0.5)),
        Case("hidden", _case(11, 5, 2, 0.02, 0.3)),
        Case("hidden", _case(12, 8, 6, 0.3, 1.0), group="pixels in [0, 1]"),
        Case("hidden", _case(13, 7, 3, 0.5, 0.9), group="pixels in [0, 1]"),
    ],
    mistakes=[
        Mistake(_no_zero_grad, "the gradients of all steps add up: autograd accumulates into G's gradient, so "
                "each step must start by clearing it (the optimiser's zero_grad), or step t follows the sum of "
                "the gradients of steps 1..t instead of ∂J_content/∂G at the current G."),
        Mistake(_no_clamp, "pixels left [0, 1]: after every optimiser step put G back into [0, 1], in place on the "
                "tensor the optimiser holds (a clamp that makes a new tensor leaves the optimiser's G unchanged)."),
        Mistake(_clamp_before_step, "you clamp before the step, so the image the optimiser just moved (the final "
                "image) can lie outside [0, 1]: clamp after each step."),
        Mistake(_starts_from_content, "you started from the content image C, where J_content is already 0 and "
                "nothing moves: start from a copy of the noise G0."),
        Mistake(_target_from_start, "the target activations come from the wrong image: the target is a^[l](C), "
                "of the content image, computed once; G starts from the noise G0."),
        Mistake(_plain_sgd, "that is plain gradient descent; the exercise asks for Adam with learning rate lr "
                "(its other settings the defaults)."),
    ],
    generic_hint="Compute the target a^[l](C) once, without a graph; optimise a copy of G0 that requires a "
                 "gradient, with Adam; in each step clear the gradient, compute J_content(C, G), backpropagate, "
                 "step, then clamp G to [0, 1] in place; record J of each step before its update.",
)


# ---- numbers_per_value (question) ---------------------------------------------------------------
BLOCK_CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}  # n_C of VGG19's blocks


def numbers_per_value(layer: str) -> float:
    """How many numbers layer ``layer`` (relu1_2 ... relu5_2) holds per number of the image it reads:
    n_H n_W n_C / (3 H W), for an H x W colour image (H and W multiples of 16)."""
    block = int(layer[4])
    return BLOCK_CHANNELS[block] / 4 ** (block - 1) / 3


def _block(layer):
    return int(layer[4])


def _per_pixel(layer):
    return 3 * numbers_per_value(layer)


def _no_pooling(layer):
    return BLOCK_CHANNELS[_block(layer)] / 3


def _inverted(layer):
    return 1 / numbers_per_value(layer)


def _pooled_once_too_often(layer):
    return numbers_per_value(layer) / 4


def _layer_case(layer):
    return lambda: ((layer,), {})


NUMBERS = Exercise(
    name="numbers_per_value",
    lesson="03_content_cost",
    kind="question",
    groups={"value": 1},
    reference=numbers_per_value,
    cases=[Case("relu5_2", _layer_case("relu5_2"), compare=within(0.005))],
    hidden=[Case("hidden", _layer_case(layer), compare=within(0.005)) for layer in ("relu1_2", "relu3_2", "relu4_2")],
    mistakes=[
        Mistake(_per_pixel, "that counts per pixel; the image holds 3 numbers per pixel (red, green, blue), so "
                "divide by 3 H W."),
        Mistake(_no_pooling, "n_H and n_W shrink: each pooling between two blocks halves both, so block b has "
                "1/4 of the positions of block b − 1."),
        Mistake(_pooled_once_too_often, "block 1 reads the image at full size; the first pooling comes after it, "
                "so block b has been pooled b − 1 times."),
        Mistake(_inverted, "that is the image's numbers per activation; the question asks for the layer's numbers "
                "per number of the image."),
    ],
    generic_hint="Divide the volume n_H n_W n_C of the layer by the 3 H W numbers of the image; the table of "
                 "section 1 gives both for a 64 x 64 image.",
)


EXERCISES: dict[str, Exercise] = {ex.name: ex for ex in (CONTENT, RECONSTRUCT, NUMBERS)}
