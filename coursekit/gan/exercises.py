"""Public checks of lesson 06's exercises (``discriminator_loss``, ``generator_loss``,
``discriminator_step``, ``generator_step``, the question ``generator_gradient_ratio``) and lesson 07's
(``conv_transpose_output_size``, ``slerp``, the question ``linear_path_norm_ratio``).

Listed in ``coursekit.grading.EXERCISE_MODULES``.
Loss cases use float64 logits, including ±1000, where float64 sigmoid rounds to exactly 0 or 1 and a
loss computed from probabilities (log of sigmoid) becomes infinite. The steps are graded by drivers
that run them a few times on tiny seeded float64 toy networks (``coursekit.gan.models.make_gan``) with
the lesson's optimisers (``coursekit.gan.train.make_optimizers``) and return losses, parameters and
gradients as one flat tensor.
"""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor

from ..exercise import Case, Exercise, Mistake, Property
from ..exercise.answers import within
from .dcgan import conv_transpose_output_size
from .dcgan_train import slerp
from .questions import generator_gradient_ratio, linear_path_norm_ratio
from .losses import discriminator_loss, generator_loss
from .models import make_gan
from .train import discriminator_step, generator_step, make_optimizers

__all__ = ["EXERCISES", "drive_discriminator_step", "drive_generator_step"]

CONFIDENT = (1000.0, -1000.0)  # logits where float64 sigmoid is exactly 1 and 0


def _logits(n: int, seed: int, scale: float = 2.0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, generator=g, dtype=torch.float64)


def _t(*values: float) -> Tensor:
    return torch.tensor(values, dtype=torch.float64)


def _stable(fn, *args) -> str | None:
    out = fn(*args)
    if not isinstance(out, Tensor) or not torch.isfinite(out).all():
        return ("returned inf or NaN for logits of ±1000: there σ(l) is exactly 0 or 1 in float64 and its log "
                "is -∞. Write -log σ(l) and -log(1 - σ(l)) directly in terms of the logit l (softplus of -l "
                "and of l), never through the probability.")
    return None


# ---- discriminator_loss --------------------------------------------------------------------
def _d_sum(r, f):
    return discriminator_loss(r, f) * len(r)


def _d_sign(r, f):
    return -discriminator_loss(r, f)


def _d_swapped(r, f):
    return discriminator_loss(f, r)


def _d_real_only(r, f):
    return F.softplus(-r).mean()


def _d_clipped(r, f):
    # cross-entropy on probabilities: torch clips log 0 at -100, so confident logits give 100, not 1000
    return (F.binary_cross_entropy(torch.sigmoid(r), torch.ones_like(r))
            + F.binary_cross_entropy(torch.sigmoid(f), torch.zeros_like(f)))


DISCRIMINATOR_LOSS = Exercise(
    name="discriminator_loss",
    lesson="06_gan_fundamentals",
    kind="formula",
    groups={"value": 1, "numerical stability": 1},
    hidden=[
        Case("hidden", lambda: ((_logits(16, 201, 4.0), _logits(16, 202, 4.0)), {})),
        Case("hidden", lambda: ((_logits(1, 203), _logits(7, 204)), {})),
        Case("hidden", lambda: ((_t(-1000.0, 40.0), _t(1000.0, -40.0, 3.0)), {}), group="numerical stability"),
        Case("hidden", lambda: ((_t(800.0), _t(-900.0, 900.0)), {}), group="numerical stability"),
    ],
    reference=discriminator_loss,
    cases=[
        Case("D(x) = 0.8, D(G(z)) = 0.3 (one sample each)",
             lambda: ((torch.logit(_t(0.8)), torch.logit(_t(0.3))), {})),
        Case("a minibatch of 8 real and 8 fake logits", lambda: ((_logits(8, 0), _logits(8, 1)), {})),
        Case("a minibatch of 5 real and 3 fake logits", lambda: ((_logits(5, 2), _logits(3, 3)), {})),
        Case("confident logits (±1000, where σ(l) is exactly 0 or 1)",
             lambda: ((_t(*CONFIDENT), _t(*reversed(CONFIDENT))), {}), group="numerical stability"),
    ],
    properties=[
        Property("finite for logits ±1000", lambda fn, ref: _stable(fn, _t(*CONFIDENT), _t(*reversed(CONFIDENT)))),
    ],
    mistakes=[
        Mistake(_d_sum, "you summed over the minibatch; L_D averages each term over the m samples, (1/m) Σ_i."),
        Mistake(_d_sign, "the sign is flipped: L_D = -V(D, G), so both log terms come with a minus sign; D "
                "minimises L_D in order to ascend V."),
        Mistake(_d_swapped, "real and generated are swapped: D should say 1 on real x (the term -log D(x)) and 0 "
                "on G(z) (the term -log(1 - D(G(z))))."),
        Mistake(_d_real_only, "the term for the generated samples, -(1/m) Σ_i log(1 - D(G(z_i))), is missing."),
        Mistake(_d_clipped, "the loss stops at 100 for confident logits: a cross-entropy computed on probabilities "
                "clips log 0 at -100. Stay with the logit l: -log σ(l) is the softplus of -l and "
                "-log(1 - σ(l)) the softplus of l, exact for any l."),
    ],
    generic_hint="L_D is the mean of -log σ(l) over the real logits plus the mean of -log(1 - σ(l)) over the "
                 "generated ones; write each term as a softplus of the logit (of -l for the first, of l for the "
                 "second) so that σ(l) never rounds to 0 or 1.",
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


def _g_clipped(f, kind="non_saturating"):
    # seed 004's trick (fakes labelled 1) applied to probabilities: log 0 is clipped at -100
    if kind == "non_saturating":
        return F.binary_cross_entropy(torch.sigmoid(f), torch.ones_like(f))
    return generator_loss(f, kind)


GENERATOR_LOSS = Exercise(
    name="generator_loss",
    lesson="06_gan_fundamentals",
    kind="formula",
    groups={"value": 1, "numerical stability": 1},
    hidden=[
        Case("hidden", lambda: ((_logits(12, 211, 4.0),), {"kind": "minimax"})),
        Case("hidden", lambda: ((_logits(5, 212, 4.0),), {"kind": "non_saturating"})),
        Case("hidden", lambda: ((_t(-1000.0, 3.0, -800.0),), {"kind": "non_saturating"}), group="numerical stability"),
        Case("hidden", lambda: ((_t(1000.0, -2.0, 900.0),), {"kind": "minimax"}), group="numerical stability"),
    ],
    reference=generator_loss,
    cases=[
        Case("D(G(z)) = 0.2, non-saturating", lambda: ((torch.logit(_t(0.2)),), {"kind": "non_saturating"})),
        Case("D(G(z)) = 0.2, minimax", lambda: ((torch.logit(_t(0.2)),), {"kind": "minimax"})),
        Case("8 logits, non-saturating", lambda: ((_logits(8, 4),), {"kind": "non_saturating"})),
        Case("8 logits, minimax", lambda: ((_logits(8, 5),), {"kind": "minimax"})),
        Case("8 logits, default kind (non-saturating)", lambda: ((_logits(8, 6),), {})),
        Case("confident logits (±1000), non-saturating", lambda: ((_t(*CONFIDENT),), {"kind": "non_saturating"}),
             group="numerical stability"),
        Case("confident logits (±1000), minimax", lambda: ((_t(*CONFIDENT),), {"kind": "minimax"}),
             group="numerical stability"),
    ],
    properties=[
        Property("finite for logits ±1000 (non-saturating)",
                 lambda fn, ref: _stable(lambda l: fn(l, kind="non_saturating"), _t(*CONFIDENT))),
        Property("finite for logits ±1000 (minimax)",
                 lambda fn, ref: _stable(lambda l: fn(l, kind="minimax"), _t(*CONFIDENT))),
    ],
    mistakes=[
        Mistake(_g_swapped, "the two forms are swapped: minimax is (1/m) Σ_i log(1 - D(G(z_i))), non-saturating "
                "is -(1/m) Σ_i log D(G(z_i))."),
        Mistake(_g_minimax_positive, "the minimax loss is +(1/m) Σ_i log(1 - D(G(z_i))), a negative number that "
                "G minimises; you have its negative."),
        Mistake(_g_sign, "the sign is flipped: G MINIMISES its loss; the non-saturating loss "
                "-(1/m) Σ_i log D(G(z_i)) is positive."),
        Mistake(_g_sum, "you summed over the minibatch; take the mean (1/m) Σ_i."),
        Mistake(_g_clipped, "the non-saturating loss stops at 100 when D is confident: a cross-entropy computed "
                "on probabilities clips log 0 at -100. Labelling the fakes 1 is right, but apply the "
                "cross-entropy to the logit l (-log σ(l) is the softplus of -l)."),
    ],
    generic_hint="non-saturating: the mean of -log σ(l), which is the softplus of -l; minimax: the mean of "
                 "log(1 - σ(l)), which is minus the softplus of l. Work on the logits, never through σ(l).",
)


# ---- discriminator_step and generator_step: drivers on toy networks ---------------------------
D_KEYS, G_KEYS = ("loss_D", "D(x)", "D(G(z))"), ("loss_G", "D(G(z))")


def _toy(seed: int, opt: str):
    """Tiny float64 (D, G) on 2-D points and the lesson's optimisers over them."""
    D, G = make_gan(2, 2, hidden=8, seed=seed)
    D, G = D.double(), G.double()
    lr = 0.1 if opt == "sgd" else 0.01
    return D, G, *make_optimizers(D, G, opt, lr_D=lr, lr_G=lr)


def _flat(tensors) -> Tensor:
    return torch.cat([t.detach().reshape(-1).to(torch.float64) for t in tensors])


def _grads(module) -> list[Tensor]:
    return [torch.zeros_like(p) if p.grad is None else p.grad for p in module.parameters()]


def _returned(out, keys: tuple[str, ...], name: str) -> list[float]:
    if not isinstance(out, dict) or not set(keys) <= set(out):
        raise TypeError(f"{name} must return a dict with the keys {', '.join(map(repr, keys))}; "
                        f"it returned {out!r:.80}")
    return [float(out[k]) for k in keys]


def drive_discriminator_step(step, seed: int = 0, opt: str = "sgd", k: int = 3, m: int = 8,
                             report: str = "D") -> Tensor:
    """``k`` calls of ``step(D, G, x, z, discriminator_loss, opt_D)`` on fresh seeded minibatches of ``m``.

    report="D": the k returned (loss_D, D(x), D(G(z))) then D's parameters; report="G": G's parameters
    then G's gradients (zeros where there are none), which D's update must leave as they were.
    """
    D, G, opt_D, _ = _toy(seed, opt)
    rng = torch.Generator().manual_seed(seed + 100)
    stats: list[float] = []
    for _ in range(k):
        x = torch.randn(m, 2, generator=rng, dtype=torch.float64) + 1.5
        z = torch.randn(m, 2, generator=rng, dtype=torch.float64)
        stats += _returned(step(D, G, x, z, discriminator_loss, opt_D), D_KEYS, "discriminator_step")
    if report == "D":
        return torch.cat([torch.tensor(stats, dtype=torch.float64), _flat(D.parameters())])
    return torch.cat([_flat(G.parameters()), _flat(_grads(G))])


def drive_generator_step(step, seed: int = 0, opt: str = "sgd", k: int = 3, m: int = 8,
                         kind: str = "non_saturating", report: str = "G") -> Tensor:
    """``k`` calls of ``step(D, G, z, loss, opt_G)`` (``loss`` = ``generator_loss`` of ``kind``).

    report="G": the k returned (loss_G, D(G(z))) then G's parameters; report="D": D's parameters, D's
    gradients (zeros where there are none) and whether each still requires a gradient (1 or 0).
    """
    D, G, _, opt_G = _toy(seed, opt)
    rng = torch.Generator().manual_seed(seed + 200)
    loss = partial(generator_loss, kind=kind)
    stats: list[float] = []
    for _ in range(k):
        z = torch.randn(m, 2, generator=rng, dtype=torch.float64)
        stats += _returned(step(D, G, z, loss, opt_G), G_KEYS, "generator_step")
    if report == "G":
        return torch.cat([torch.tensor(stats, dtype=torch.float64), _flat(G.parameters())])
    flags = torch.tensor([float(p.requires_grad) for p in D.parameters()], dtype=torch.float64)
    return torch.cat([_flat(D.parameters()), _flat(_grads(D)), flags])


def _steps(**kwargs):
    return lambda: ((), kwargs)


def _d_report(value, real, fake):
    """What discriminator_step returns: its loss, D(x) and D(G(z)) as numbers."""
    return {"loss_D": value.item(), "D(x)": torch.sigmoid(real).mean().item(),
            "D(G(z))": torch.sigmoid(fake).mean().item()}


def _g_report(value, logits):
    """What generator_step returns: its loss and D(G(z)) as numbers."""
    return {"loss_G": value.item(), "D(G(z))": torch.sigmoid(logits).mean().item()}


def _ds_no_detach(D, G, x_real, z, loss, opt_D):
    x_fake = G(z)  # keeps G's graph: D's backward pass also fills G's gradients
    opt_D.zero_grad()
    real, fake = D(x_real), D(x_fake)
    value = loss(real, fake)
    value.backward()
    opt_D.step()
    return _d_report(value, real, fake)


def _ds_no_zero_grad(D, G, x_real, z, loss, opt_D):
    x_fake = G(z).detach()
    real, fake = D(x_real), D(x_fake)
    value = loss(real, fake)
    value.backward()
    opt_D.step()
    return _d_report(value, real, fake)


def _ds_swapped(D, G, x_real, z, loss, opt_D):
    x_fake = G(z).detach()
    opt_D.zero_grad()
    real, fake = D(x_real), D(x_fake)
    value = loss(fake, real)
    value.backward()
    opt_D.step()
    return _d_report(value, real, fake)


def _ds_step_first(D, G, x_real, z, loss, opt_D):
    x_fake = G(z).detach()
    opt_D.zero_grad()
    opt_D.step()  # before backward: there is no gradient to apply yet
    real, fake = D(x_real), D(x_fake)
    value = loss(real, fake)
    value.backward()
    return _d_report(value, real, fake)


DISCRIMINATOR_STEP = Exercise(
    name="discriminator_step",
    lesson="06_gan_fundamentals",
    kind="step",
    reference=discriminator_step,
    driver=drive_discriminator_step,
    groups={"updates D": 2, "leaves G alone": 1},
    cases=[
        Case("3 SGD steps (momentum 0.5): the returned losses, D(x), D(G(z)) and D's parameters",
             _steps(seed=0, opt="sgd"), group="updates D"),
        Case("2 Adam steps on minibatches of 5: the returned values and D's parameters",
             _steps(seed=1, opt="adam", k=2, m=5), group="updates D"),
        Case("3 SGD steps: G's parameters and gradients afterwards", _steps(seed=0, opt="sgd", report="G"),
             group="leaves G alone"),
    ],
    hidden=[
        Case("hidden", _steps(seed=7, opt="sgd", k=4), group="updates D"),
        Case("hidden", _steps(seed=8, opt="adam", k=3, m=16), group="updates D"),
        Case("hidden", _steps(seed=9, opt="adam", k=2, report="G"), group="leaves G alone"),
    ],
    mistakes=[
        Mistake(_ds_no_detach, "G's parameters received gradients during D's update: compute G(z) outside the "
                "graph (detached), so that only θ_d gets the gradient of L_D; otherwise the backward pass runs "
                "through G for nothing and leaves its gradients behind."),
        Mistake(_ds_no_zero_grad, "D moved too far from the second step on: gradients add up across backward "
                "passes unless you clear D's gradients (through its optimiser) before each one."),
        Mistake(_ds_swapped, "real and generated logits are swapped in the loss: it takes D's logits on the real "
                "x first and on G(z) second."),
        Mistake(_ds_step_first, "D never changes: the optimiser stepped before the backward pass had filled the "
                "gradients. The order is: clear the gradients, forward, backward, then the optimiser's step."),
    ],
    generic_hint="one update of D: G(z) outside the graph, clear D's gradients, L_D from D's logits on the real "
                 "and the generated samples, backward, then the step of opt_D; give back the loss, the mean D(x) "
                 "and the mean D(G(z)), all measured before the update.",
)


def _gs_no_zero_grad(D, G, z, loss, opt_G):
    flags = [p.requires_grad_(False) for p in D.parameters()]
    logits = D(G(z))
    value = loss(logits)
    value.backward()
    opt_G.step()
    for p in flags:
        p.requires_grad_(True)
    return _g_report(value, logits)


def _gs_ascends(D, G, z, loss, opt_G):
    for p in D.parameters():
        p.requires_grad_(False)
    opt_G.zero_grad()
    logits = D(G(z))
    value = loss(logits)
    (-value).backward()  # gradient ASCENT on G's loss
    opt_G.step()
    for p in D.parameters():
        p.requires_grad_(True)
    return _g_report(value, logits)


def _gs_d_in_graph(D, G, z, loss, opt_G):
    opt_G.zero_grad()
    logits = D(G(z))  # D's parameters still track gradients: its .grad fills up
    value = loss(logits)
    value.backward()
    opt_G.step()
    return _g_report(value, logits)


def _gs_detached(D, G, z, loss, opt_G):
    opt_G.zero_grad()
    logits = D(G(z).detach())  # copied from D's step: no gradient reaches G
    value = loss(logits)
    value.backward()
    opt_G.step()
    return _g_report(value, logits)


def _gs_not_restored(D, G, z, loss, opt_G):
    for p in D.parameters():
        p.requires_grad_(False)  # and never switched back on
    opt_G.zero_grad()
    logits = D(G(z))
    value = loss(logits)
    value.backward()
    opt_G.step()
    return _g_report(value, logits)


GENERATOR_STEP = Exercise(
    name="generator_step",
    lesson="06_gan_fundamentals",
    kind="step",
    reference=generator_step,
    driver=drive_generator_step,
    groups={"updates G": 2, "leaves D alone": 1},
    cases=[
        Case("3 SGD steps (momentum 0.5), non-saturating loss: the returned values and G's parameters",
             _steps(seed=0, opt="sgd"), group="updates G"),
        Case("2 Adam steps, minimax loss, minibatches of 5", _steps(seed=1, opt="adam", k=2, m=5, kind="minimax"),
             group="updates G"),
        Case("3 SGD steps: D's parameters, gradients and trainability afterwards",
             _steps(seed=0, opt="sgd", report="D"), group="leaves D alone"),
    ],
    hidden=[
        Case("hidden", _steps(seed=11, opt="sgd", k=4, kind="minimax"), group="updates G"),
        Case("hidden", _steps(seed=12, opt="adam", k=3, m=16), group="updates G"),
        Case("hidden", _steps(seed=13, opt="adam", k=2, report="D"), group="leaves D alone"),
    ],
    mistakes=[
        Mistake(_gs_no_zero_grad, "G moved too far from the second step on: gradients add up across backward "
                "passes unless you clear G's gradients (through its optimiser) before each one."),
        Mistake(_gs_ascends, "G moved the wrong way: G DESCENDS its loss; ascending belongs to D, on V."),
        Mistake(_gs_d_in_graph, "the backward pass left gradients in D's parameters: G's step must leave D "
                "untouched, so switch off gradient tracking for D's parameters during the step (and back on "
                "after it)."),
        Mistake(_gs_detached, "G never changes: G(z) was cut from the graph, so no gradient reaches θ_g. Detaching "
                "belongs to D's step; here the gradient must flow back through D into G."),
        Mistake(_gs_not_restored, "D's parameters were left frozen after the step, so D could not learn at its next "
                "update: switch their gradient tracking back on at the end (even when something fails in "
                "between)."),
    ],
    generic_hint="one update of G: clear G's gradients, score G(z) with D while D's parameters track no "
                 "gradient, apply the given loss to those logits, backward, the step of opt_G, then make D's "
                 "parameters trainable again; give back the loss and the mean D(G(z)) before the update.",
)


# ---- the question of lesson 06 -------------------------------------------------------------
def _ratio_inverted(p):
    return p / (1 - p)


def _ratio_of_losses(p):
    return math.log(p) / math.log(1 - p)


def _ratio_ns_as_one(p):
    return 1 / p


GENERATOR_GRADIENT_RATIO = Exercise(
    name="generator_gradient_ratio",
    lesson="06_gan_fundamentals",
    kind="question",
    reference=generator_gradient_ratio,
    groups={"value": 1},
    cases=[Case("D(G(z)) = 0.2", lambda: ((0.2,), {}), compare=within(0.01))],
    hidden=[Case("hidden", lambda: ((p,), {}), compare=within(0.01)) for p in (0.01, 0.5, 0.9, 0.001)],
    mistakes=[
        Mistake(_ratio_inverted, "the ratio is upside down: the non-saturating slope goes on top (it is the large "
                "one when D rejects the fakes, p small)."),
        Mistake(_ratio_of_losses, "that is the ratio of the losses themselves; the question asks for their slopes "
                "with respect to the logit l (the right-hand plot)."),
        Mistake(_ratio_ns_as_one, "the non-saturating slope is -(1 - p): close to -1 only when p is small; keep "
                "its exact value."),
    ],
    generic_hint="differentiate each loss with respect to the logit l, using dσ/dl = σ(1 - σ), evaluate at "
                 "σ(l) = p and divide the non-saturating slope by the minimax one.",
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
                                              "pixels: return an int (no true division is needed)")


CONV_TRANSPOSE_OUTPUT_SIZE = Exercise(
    name="conv_transpose_output_size",
    reference=conv_transpose_output_size,
    lesson="07_dcgan",
    kind="formula",
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
        Mistake(_t_conv_formula, "that is the output size of an ordinary (strided) convolution, which shrinks the "
                "image; the transposed convolution goes the other way and enlarges it."),
        Mistake(_t_no_minus_one, "n_in stamps placed s pixels apart start at 0, s, ..., (n_in - 1)·s: the last "
                "one starts (n_in - 1) strides in, not n_in strides."),
        Mistake(_t_padding_once, "padding p is cropped from BOTH borders of the output."),
        Mistake(_t_padding_added, "in a transposed convolution padding REMOVES p pixels from each border (it "
                "undoes the padding of the convolution it transposes)."),
        Mistake(_t_no_output_padding, "output_padding adds that many pixels on one side of the output; it is "
                "missing."),
    ],
    generic_hint="count pixels: the n_in input pixels stamp a k-pixel kernel every s pixels, the stamps together "
                 "cover the span from the first stamp's start to the last stamp's end; then p pixels are cropped "
                 "from each border and output_padding pixels are added on one side.",
    hidden=[
        Case("n_in 2, k 4, s 2, p 1", _sizes(2, 4, 2, 1)),
        Case("n_in 14, k 4, s 2, p 1", _sizes(14, 4, 2, 1)),
        Case("28 px first layer: n_in 1, k 7, s 1, p 0", _sizes(1, 7, 1, 0)),
        Case("n_in 6, k 5, s 3, p 2, output_padding 2", _sizes(6, 5, 3, 2, 2)),
        Case("1x1 kernel, stride 1: n_in 10", _sizes(10, 1, 1, 0)),
    ],
)


# ---- slerp (lesson 07) ----------------------------------------------------------------------
def _normal(d: int, seed: int, scale: float = 1.0) -> Tensor:
    return scale * torch.randn(d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _path(z0: Tensor, z1: Tensor, t: Tensor):
    return lambda: ((z0, z1, t), {})


def _s_linear(z0, z1, t):
    t = t[:, None]
    return (1 - t) * z0 + t * z1


def _s_backwards(z0, z1, t):
    return slerp(z0, z1, 1 - t)


def _s_no_division(z0, z1, t):
    omega = torch.arccos((torch.dot(z0, z1) / (z0.norm() * z1.norm())).clamp(-1, 1))
    if torch.sin(omega).abs() < 1e-6:
        return _s_linear(z0, z1, t)
    t = t[:, None]
    return torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1


def _s_directions(z0, z1, t):
    return slerp(z0 / z0.norm(), z1 / z1.norm(), t)


def _s_finite_when_parallel(fn, ref) -> str | None:
    z0 = _t(3.0, 4.0)
    out = fn(z0, 2 * z0, _t(0.0, 0.5, 1.0))
    if not isinstance(out, Tensor) or not torch.isfinite(out).all():
        return ("returned NaN or inf for parallel z0 and z1: there Ω = 0 and sin Ω = 0, so the weights are 0/0. "
                "When sin Ω is (nearly) 0, fall back to the straight line.")
    return None


QUARTERS = _t(0.0, 0.25, 0.5, 0.75, 1.0)

SLERP = Exercise(
    name="slerp",
    lesson="07_dcgan",
    kind="code",
    reference=slerp,
    groups={"value": 2, "parallel vectors": 1},
    cases=[
        Case("orthogonal unit vectors in 2-D, t = 0, 1/4, 1/2, 3/4, 1", _path(_t(1.0, 0.0), _t(0.0, 1.0), QUARTERS)),
        Case("two draws of N(0, I) in 8-D, t = 0, 1/4, 1/2, 3/4, 1", _path(_normal(8, 0), _normal(8, 1), QUARTERS)),
        Case("a draw and a 3x longer one in 6-D, 3 values of t",
             _path(_normal(6, 2), _normal(6, 3, 3.0), _t(0.1, 0.6, 0.9))),
        Case("parallel: z1 = 2 z0 = (2, 4, 4), t = 0, 1/2, 1", _path(_t(1.0, 2.0, 2.0), _t(2.0, 4.0, 4.0),
                                                                   _t(0.0, 0.5, 1.0)), group="parallel vectors"),
    ],
    properties=[Property("finite for parallel vectors", _s_finite_when_parallel)],
    hidden=[
        Case("hidden", _path(_normal(32, 10), _normal(32, 11), torch.linspace(0, 1, 7, dtype=torch.float64))),
        Case("hidden", _path(_normal(16, 12, 0.5), _normal(16, 13, 2.0), _t(0.3, 0.05, 0.95, 0.5))),
        Case("hidden", _path(_t(1.0, 2.0, 2.0), _t(-2.0, -4.0, -4.0), QUARTERS), group="parallel vectors"),
        Case("hidden", _path(_t(0.0, 3.0, 4.0), _t(0.0, 3.0, 4.0), _t(0.2, 0.7)), group="parallel vectors"),
    ],
    mistakes=[
        Mistake(_s_linear, "that is the straight line between z0 and z1, whose middle dips inside the sphere; slerp "
                "follows the arc, each end weighted by the sine of its share of the angle Ω, divided by sin Ω."),
        Mistake(_s_backwards, "the path runs backwards: at t = 0 it must be at z0, so z0's weight has (1 - t)Ω in "
                "its sine and z1's has tΩ."),
        Mistake(_s_no_division, "the weights are not divided by sin Ω: then the path's ends are z0 and z1 only when "
                "Ω is a right angle."),
        Mistake(_s_directions, "you interpolated the directions z0/|z0| and z1/|z1|: the path must start at z0 and "
                "end at z1 themselves; the norms enter only through the angle Ω."),
    ],
    generic_hint="cos Ω is the dot product of z0 and z1 over the product of their norms; z0's weight is "
                 "sin((1 - t)Ω)/sin Ω and z1's is sin(tΩ)/sin Ω; when sin Ω is (nearly) 0 take the straight "
                 "line; one row of the result per value of t.",
)


# ---- the question of lesson 07 -------------------------------------------------------------
def _norm_kept(t):
    return 1.0


def _norm_squared(t):
    return (1 - t) ** 2 + t ** 2


LINEAR_PATH_NORM_RATIO = Exercise(
    name="linear_path_norm_ratio",
    lesson="07_dcgan",
    kind="question",
    reference=linear_path_norm_ratio,
    groups={"value": 1},
    cases=[Case("t = 0.25", lambda: ((0.25,), {}), compare=within(0.02))],
    hidden=[Case("hidden", lambda: ((t,), {}), compare=within(0.02)) for t in (0.5, 0.1, 0.8, 0.0)],
    mistakes=[
        Mistake(_norm_kept, "the straight line does not keep the norm: for independent draws in high dimension z0 "
                "and z1 are nearly orthogonal, and the chord between two points of a sphere passes inside it."),
        Mistake(_norm_squared, "that is the ratio of the SQUARED norms; take its square root."),
    ],
    generic_hint="expand |(1 - t) z0 + t z1|²: the cross term z0·z1 averages to 0 for independent draws and each "
                 "|z|² averages to d; compare the result with d, then take the square root.",
)

EXERCISES: dict[str, Exercise] = {e.name: e for e in (
    DISCRIMINATOR_LOSS, GENERATOR_LOSS, DISCRIMINATOR_STEP, GENERATOR_STEP, GENERATOR_GRADIENT_RATIO,
    CONV_TRANSPOSE_OUTPUT_SIZE, SLERP, LINEAR_PATH_NORM_RATIO)}
