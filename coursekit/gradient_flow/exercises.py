"""Public checks of lesson 09's exercises: ``init_std`` (the Xavier/Glorot and He scales),
``sigmoid_gain_bound`` (a question: how much L sigmoid layers can scale a gradient at best),
``clip_factor`` (clipping by global norm) and ``batch_norm`` (batch normalisation by hand, both modes).

Listed in ``coursekit.grading.catalogue``. ``init_std`` cases mix square and very unequal fans so that
each catalogued mistake (variance for std, fan_out for fan_in, the missing factor 2, the uniform
bound, the two kinds swapped) shows on some case and not on the others. ``clip_factor`` cases hold
several tensors of different shapes, norms above and below the threshold, and all-zero gradients
(where the epsilon matters). ``batch_norm`` runs through a driver that feeds it batches as a
BatchNorm1d layer sees them; its groups (training value, eval value, running statistics) each show
different catalogued mistakes.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..exercise import Case, Exercise, Mistake
from .analysis import clip_factor
from .batchnorm import batch_norm
from .mlp import init_std

__all__ = ["EXERCISES"]


def _case(fan_in: int, fan_out: int, kind: str) -> Case:
    return Case(f"fan_in={fan_in}, fan_out={fan_out}, kind={kind!r}", lambda: ((fan_in, fan_out, kind), {}))


def _variance(fan_in, fan_out, kind):
    return init_std(fan_in, fan_out, kind) ** 2


def _fans_swapped(fan_in, fan_out, kind):
    return init_std(fan_out, fan_in, kind)


def _no_factor_2(fan_in, fan_out, kind):
    return init_std(fan_in, fan_out, kind) / math.sqrt(2.0)


def _uniform_bound(fan_in, fan_out, kind):
    return init_std(fan_in, fan_out, kind) * math.sqrt(3.0)


def _kinds_swapped(fan_in, fan_out, kind):
    return init_std(fan_in, fan_out, {"xavier": "he", "he": "xavier"}[kind])


INIT_STD = Exercise(
    name="init_std",
    reference=init_std,
    lesson="09_vanishing_exploding_gradients",
    kind="formula",
    groups={"value": 2},
    cases=[
        _case(64, 64, "xavier"),
        _case(64, 10, "he"),
        _case(784, 256, "xavier"),
        _case(100, 400, "he"),
        _case(512, 2, "xavier"),
    ],
    hidden=[
        _case(1, 1, "he"),
        _case(3, 1000, "xavier"),
        _case(4096, 4096, "he"),
        _case(27, 64, "xavier"),
        _case(10, 1, "he"),
    ],
    mistakes=[
        Mistake(_variance, "you returned the variance Var(W); the weights are drawn from N(0, std²), and the "
                "standard deviation is the square root of the variance."),
        Mistake(_fans_swapped, "He's variance divides by fan_in, the number of inputs n_in of each unit (the second "
                "dimension of W), not by fan_out."),
        Mistake(_no_factor_2, "a factor 2 is missing in Var(W): Xavier's compromise averages n_in and n_out, "
                "so 2 over their sum; He's 2 over n_in makes up for ReLU zeroing half of its inputs."),
        Mistake(_uniform_bound, "that is the LIMIT a of Xavier's uniform U(-a, a), whose variance is a²/3; "
                "we draw from a normal distribution, whose std comes straight from Var(W)."),
        Mistake(_kinds_swapped, "the two kinds are swapped: 'xavier' uses n_in + n_out, 'he' uses n_in only."),
    ],
    generic_hint="revisit the variance argument of section 3: Var(W) = 2/(n_in + n_out) for Xavier, 2/n_in for He, "
                 "and the std is its square root, as a float.",
)


# ---- clip_factor ---------------------------------------------------------------------------
DIVIDED_BY_ZERO = "ZeroDivisionError"


def _factor_of(fn, grads, max_norm):
    """The factor ``fn`` returns, or DIVIDED_BY_ZERO when it divided by ||g|| = 0 in plain Python numbers:
    an output like any other, so the catalogue can name the missing epsilon instead of a bare traceback."""
    try:
        return fn(grads, max_norm)
    except ZeroDivisionError:
        return DIVIDED_BY_ZERO


def _grads(shapes: list[tuple[int, ...]], seed: int, scale: float = 1.0) -> list[Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [scale * torch.randn(shape, generator=g, dtype=torch.float64) for shape in shapes]


def _close(got, expected) -> tuple[bool, str]:
    """rtol 1e-5: the 1e-6 in the denominator is torch's detail, not the idea; leaving it out passes
    wherever ||g|| is not 0."""
    if got == DIVIDED_BY_ZERO:
        return False, "raised ZeroDivisionError: every gradient is 0 here, so ||g|| = 0"
    try:
        value = float(got)
    except (TypeError, ValueError, RuntimeError):
        return False, f"returned {type(got).__name__}, expected a number"
    ok = math.isfinite(value) and abs(value - expected) <= 1e-5 * abs(expected) + 1e-12
    return ok, "" if ok else f"returned {value:.6g}, expected {expected:.6g}"


def _clip_case(label: str, shapes, seed: int, scale: float, max_norm: float) -> Case:
    return Case(label, lambda: ((_grads(shapes, seed, scale), max_norm), {}), compare=_close)


def _zero_case(label: str, shapes, max_norm: float) -> Case:
    return Case(label, lambda: (([torch.zeros(s, dtype=torch.float64) for s in shapes], max_norm), {}),
                compare=_close, group="numerical stability")


def _norm(grads) -> float:
    return math.sqrt(sum(float((g ** 2).sum()) for g in grads))


# Each wrong formula comes with and without the epsilon (eps = 0 divides by zero on all-zero gradients,
# in plain Python numbers), so that a learner who made it AND left out the epsilon still gets its hint.
def _no_eps(eps):
    return lambda grads, max_norm: min(1.0, max_norm / (_norm(grads) + eps))


def _no_min(eps):
    return lambda grads, max_norm: max_norm / (_norm(grads) + eps)


def _sum_of_norms(eps):
    return lambda grads, max_norm: min(1.0, max_norm / (sum(float(g.norm()) for g in grads) + eps))


def _no_sqrt(eps):
    return lambda grads, max_norm: min(1.0, max_norm / (_norm(grads) ** 2 + eps))


def _largest_tensor(eps):
    return lambda grads, max_norm: min(1.0, max_norm / (max(float(g.norm()) for g in grads) + eps))


def _inverted(eps):
    return lambda grads, max_norm: min(1.0, (_norm(grads) + eps) / max_norm)


def _with_and_without_eps(wrong, hint: str) -> list[Mistake]:
    return [Mistake(wrong(1e-6), hint), Mistake(wrong(0.0), hint)]


CLIP_FACTOR = Exercise(
    name="clip_factor",
    reference=clip_factor,
    lesson="09_vanishing_exploding_gradients",
    kind="formula",
    driver=_factor_of,
    groups={"value": 2, "numerical stability": 1},
    # Every ||g|| is at least ~100 in the value group, so the 1e-6 changes the factor by less than the
    # 1e-7 that identifies a catalogued mistake: hints work whether or not the learner adds it. Only
    # ||g|| = 0 (the stability group) needs it.
    cases=[
        _clip_case("two tensors (3, 4) and (5,), ||g|| about 80, c = 10", [(3, 4), (5,)], 0, 20.0, 10.0),
        _clip_case("two tensors, ||g|| below c = 1000: nothing to clip", [(3, 4), (5,)], 1, 20.0, 1000.0),
        _clip_case("three tensors (4, 3), (3,), (2, 2, 2), c = 5", [(4, 3), (3,), (2, 2, 2)], 2, 50.0, 5.0),
        _clip_case("one tensor (10,), c = 20", [(10,)], 3, 40.0, 20.0),
        _zero_case("every gradient 0 (a layer that does not learn yet), c = 1", [(3, 3), (3,)], 1.0),
    ],
    hidden=[
        _clip_case("one scalar tensor", [()], 4, 500.0, 1.0),
        _clip_case("a huge gradient, ||g|| about 6e7", [(6, 6), (6,)], 5, 1e7, 1.0),
        _clip_case("many small tensors", [(2,)] * 12, 6, 30.0, 25.0),
        _clip_case("large threshold on a large gradient", [(8, 8)], 7, 20.0, 100.0),
        _zero_case("all gradients zero", [(4,), (2, 5)], 0.5),
        _zero_case("one zero scalar gradient", [()], 3.0),
    ],
    mistakes=[
        Mistake(_no_eps(0.0), "||g|| is 0 when every gradient is 0, and c / ||g|| divides by zero: that is what the ε "
                "in the denominator c / (||g|| + ε) is for (the factor is then 1: nothing to clip)."),
        *_with_and_without_eps(_no_min, "when ||g|| is already below c the factor must be 1: clipping never scales a "
                               "gradient UP, so the factor is the smaller of 1 and c / ||g||."),
        *_with_and_without_eps(_inverted, "the ratio is upside down: the factor is c over ||g||, so a larger gradient "
                               "gets a smaller factor."),
        *_with_and_without_eps(_no_sqrt, "||g|| is the square ROOT of the sum of all squared entries (a Euclidean "
                               "length), not the sum itself."),
        *_with_and_without_eps(_sum_of_norms, "adding the tensors' norms is not the global norm: square every entry "
                               "of every tensor, add them all, then take one square root, as if all gradients were "
                               "one long vector."),
        *_with_and_without_eps(_largest_tensor, "use every tensor, not the largest one: ||g|| runs over ALL the g_i "
                               "together."),
    ],
    generic_hint="revisit the formula of section 8: one global norm ||g|| over all tensors as one long vector, the "
                 "factor c / (||g|| + ε), capped at 1.",
)


# ---- batch_norm ------------------------------------------------------------------------------
def _batches(shapes: list[tuple[int, int]], seed: int, scale: float = 1.0, shift: float = 0.0) -> list[Tensor]:
    """Seeded (m, n) batches with a mean and a spread of their own per unit, as pre-activations z^[l] have."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for m, n in shapes:
        offset = shift * torch.randn(n, generator=g, dtype=torch.float64)
        spread = scale * (0.5 + torch.rand(n, generator=g, dtype=torch.float64))
        out.append(offset + spread * torch.randn(m, n, generator=g, dtype=torch.float64))
    return out


def _bn_params(n: int, seed: int, default: bool) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """gamma, beta, running mean, running var: BatchNorm1d's starting values (1, 0, 0, 1) or seeded ones."""
    if default:
        return (torch.ones(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64),
                torch.zeros(n, dtype=torch.float64), torch.ones(n, dtype=torch.float64))
    g = torch.Generator().manual_seed(1000 + seed)
    draw = lambda: torch.randn(n, generator=g, dtype=torch.float64)  # noqa: E731
    return 1 + 0.5 * draw(), draw(), draw(), 0.2 + 2 * torch.rand(n, generator=g, dtype=torch.float64)


def _bn_driver(fn, batches, gamma, beta, running_mean, running_var, training, momentum, eps, returns):
    """Feed the batches to ``fn`` one after another, as a BatchNorm1d layer sees them (each call's running
    statistics go into the next); return the last output y (m, n), or the final running mean and
    variance stacked, (2, n)."""
    for x in batches:
        y, running_mean, running_var = fn(x, gamma, beta, running_mean, running_var, training, momentum, eps)
    return y if returns == "output" else torch.stack([torch.as_tensor(running_mean), torch.as_tensor(running_var)])


def _bn_case(label: str, group: str, shapes, seed: int, *, training: bool, default: bool = True,
             momentum: float = 0.1, eps: float = 1e-5, scale: float = 1.0, shift: float = 0.0) -> Case:
    returns = "running" if group == "running statistics" else "output"

    def make():
        params = _bn_params(shapes[0][1], seed, default)
        return (_batches(shapes, seed, scale, shift), *params, training, momentum, eps, returns), {}

    return Case(label, make, group=group)


def _constant_unit_case() -> Case:
    def make():
        (x,) = _batches([(6, 4)], 11, 1.0, 2.0)
        x[:, 2] = 0.7  # a unit whose pre-activation is the same for every example: sigma_B^2 = 0
        return ([x], *_bn_params(4, 11, False), True, 0.1, 1e-5, "output"), {}

    return Case("hidden", make, group="training value")


def _bn_mistake(*, normalise_unbiased=False, running_biased=False, momentum_reversed=False, eps_outside=False,
                eval_batch_stats=False, units_axis=False):
    """batch_norm with one catalogued mistake switched on."""

    def fn(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
        m = x.shape[0]
        dim = 1 if units_axis else 0
        mu, var = x.mean(dim=dim, keepdim=True), x.var(dim=dim, unbiased=False, keepdim=True)
        if training or eval_batch_stats:
            centre, spread = mu, (var * m / (m - 1) if normalise_unbiased else var)
        else:
            centre, spread = running_mean, running_var
        scale = spread.sqrt() + eps if eps_outside else (spread + eps).sqrt()
        y = gamma * (x - centre) / scale + beta
        if not training:
            return y, running_mean.clone(), running_var.clone()
        mu0, var0 = x.mean(dim=0), x.var(dim=0, unbiased=not running_biased)
        keep, new = (momentum, 1 - momentum) if momentum_reversed else (1 - momentum, momentum)
        return y, keep * running_mean + new * mu0, keep * running_var + new * var0

    return fn


BATCH_NORM = Exercise(
    name="batch_norm",
    reference=batch_norm,
    lesson="09_vanishing_exploding_gradients",
    kind="module",
    driver=_bn_driver,
    groups={"training value": 2, "eval value": 1, "running statistics": 2},
    cases=[
        _bn_case("training mode: one batch (m=8, n=5), gamma = 1, beta = 0", "training value", [(8, 5)], 0,
                 training=True, scale=2.0, shift=3.0),
        _bn_case("training mode: a batch of m=4, other gamma and beta, eps = 0.1", "training value", [(4, 3)], 1,
                 training=True, default=False, eps=0.1),
        _bn_case("eval mode: two batches (6, 3) with given running statistics", "eval value", [(6, 3)] * 2, 2,
                 training=False, default=False, shift=1.0),
        _bn_case("running statistics after 3 training batches (5, 4), momentum 0.1", "running statistics",
                 [(5, 4)] * 3, 3, training=True, scale=3.0, shift=2.0),
    ],
    hidden=[
        _bn_case("hidden", "training value", [(2, 6)], 4, training=True, default=False),
        _bn_case("hidden", "training value", [(32, 8)], 5, training=True, scale=0.01, shift=5.0, eps=1e-3),
        _constant_unit_case(),
        _bn_case("hidden", "eval value", [(3, 4)] * 3, 6, training=False, default=False, eps=0.3),
        _bn_case("hidden", "eval value", [(10, 2)], 7, training=False, default=False, scale=4.0),
        _bn_case("hidden", "running statistics", [(3, 5)] * 5, 8, training=True, default=False, momentum=0.3),
        _bn_case("hidden", "running statistics", [(2, 3)] * 2, 9, training=True, momentum=0.05, shift=4.0),
    ],
    mistakes=[
        Mistake(_bn_mistake(normalise_unbiased=True), "the batch is normalised with its BIASED variance σ_B² "
                "(divided by m, the batch's own spread); the unbiased one (divided by m - 1) only feeds the running "
                "estimate."),
        Mistake(_bn_mistake(running_biased=True), "the running variance averages the UNBIASED batch variance, "
                "m/(m - 1) times σ_B²: it estimates the population's variance, not this batch's spread."),
        Mistake(_bn_mistake(momentum_reversed=True), "momentum is the weight of the NEW batch statistic: the running "
                "estimate keeps (1 - momentum) of its old value and takes momentum of the batch's."),
        Mistake(_bn_mistake(eps_outside=True), "ε goes INSIDE the square root, added to the variance: "
                "the denominator is √(σ² + ε), not √σ² + ε."),
        Mistake(_bn_mistake(eval_batch_stats=True), "in eval mode the batch's own statistics are not used: normalise "
                "with the running mean and variance (so one example's output does not depend on the others), and "
                "leave them unchanged."),
        Mistake(_bn_mistake(units_axis=True), "μ_B and σ_B² are taken over the batch (the m examples, axis 0), one "
                "pair per unit, not over the units of each example."),
    ],
    generic_hint="revisit the two modes of section 6's exercise: training normalises with the batch's μ_B and biased "
                 "σ_B² and moves the running estimates towards μ_B and the unbiased variance by momentum; eval "
                 "normalises with the running estimates.",
)


# ---- the question: how much can L sigmoid layers scale a gradient? ----------------------------
def sigmoid_gain_bound(L: int, w_norm: float) -> float:
    """The largest factor by which L sigmoid layers can scale a gradient when every ||W^[l]||_2 = w_norm:
    each Jacobian diag(sigma'(z)) W has norm at most sigma'(0) w_norm = w_norm / 4, and the norm of a
    product is at most the product of the norms, (w_norm / 4)^L."""
    return (w_norm / 4.0) ** L


def _sigma_of_0(L, w_norm):
    return (w_norm / 2.0) ** L


def _derivative_once(L, w_norm):
    return w_norm ** L / 4.0


def _no_weights(L, w_norm):
    return 0.25 ** L


def _added(L, w_norm):
    return L * w_norm / 4.0


def _one_layer_short(L, w_norm):
    return (w_norm / 4.0) ** (L - 1)


def _question_case(L: int, w_norm: float, label: str = "hidden") -> Case:
    return Case(label, lambda: ((L, w_norm), {}))


SIGMOID_GAIN_BOUND = Exercise(
    name="sigmoid_gain_bound",
    reference=sigmoid_gain_bound,
    lesson="09_vanishing_exploding_gradients",
    kind="question",
    groups={"value": 1},
    cases=[_question_case(20, 2.0, "L = 20 layers, ||W||_2 = 2 (a Xavier matrix of width 64)")],
    hidden=[_question_case(5, 1.0), _question_case(10, 3.0), _question_case(3, 8.0), _question_case(1, 2.5)],
    mistakes=[
        Mistake(_sigma_of_0, "σ(0) = 1/2 is the sigmoid's value; its SLOPE at 0, σ'(0) = σ(0)(1 - σ(0)), is 1/4."),
        Mistake(_derivative_once, "σ' appears in every layer's Jacobian diag(σ') W, so the 1/4 is a factor L times, "
                "not once."),
        Mistake(_no_weights, "each Jacobian is diag(σ') W: its norm is at most 1/4 times ||W||_2, not 1/4 alone."),
        Mistake(_added, "the chain rule MULTIPLIES the layers' Jacobians, so their bounds multiply: L equal factors "
                "make a power, not a sum."),
        Mistake(_one_layer_short, "count the Jacobians: L layers contribute L factors J^[1] ... J^[L]."),
    ],
    generic_hint="revisit section 2: one sigmoid layer's Jacobian has norm at most σ'(0) ||W||_2, and the norm of a "
                 "product of L Jacobians is at most the product of their norms.",
)

EXERCISES: dict[str, Exercise] = {e.name: e for e in (INIT_STD, SIGMOID_GAIN_BOUND, CLIP_FACTOR, BATCH_NORM)}
