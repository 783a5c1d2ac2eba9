"""Lesson 05's step and question: pixel_descent_step (through its driver on a tiny seeded network)
and style_gradient_factor, against independent computations; their mistakes get their hints."""

import pytest
import torch

from coursekit.exercise import outputs_match
from coursekit.grading.runner import run_exercise
from coursekit.nst import costs
from coursekit.nst import gradients as cg
from coursekit.nst.descent import pixel_descent_step
from coursekit.nst.exercises import EXERCISES
from coursekit.nst.exercises.gradients import descent_problem

STEP = EXERCISES["pixel_descent_step"]
FACTOR = EXERCISES["style_gradient_factor"]


def _autograd_step(x, extractor, content_targets, style_targets, lr):
    """The same step with autograd differentiating the costs themselves (no hand-made gradient)."""
    image = x.detach().clone().requires_grad_(True)
    X = extractor(image)
    J = sum(w * costs.content_cost(P, X[layer].relu()) for layer, (w, P) in content_targets.items())
    J = J + sum(w * costs.layer_style_cost(a_S, X[layer].relu()) for layer, (w, a_S) in style_targets.items())
    J.sum().backward()
    return (image.detach() - lr * image.grad).clamp(0, 1)


@pytest.mark.parametrize("problem", [{}, {"batch": 2}, {"style": ("conv1", "conv2", "conv3")},
                                     {"content": ("conv1", "conv2"), "style": ("conv2",), "start": "full"}])
def test_reference_step_equals_autograd_of_the_costs(problem):
    x, extractor, content_targets, style_targets = descent_problem(5, **problem)
    lr = 20.0 if problem.get("start") == "full" else 0.5
    ours = pixel_descent_step(x, extractor, content_targets, style_targets, lr)
    theirs = _autograd_step(x, extractor, content_targets, style_targets, lr)
    assert torch.allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    assert not ours.requires_grad and ours.min() >= 0 and ours.max() <= 1


def test_small_steps_lower_the_cost_and_large_ones_need_the_clip():
    x, extractor, content_targets, style_targets = descent_problem(0)

    def J(image):
        X = extractor(image)
        return (sum(w * costs.content_cost(P, X[k].relu()) for k, (w, P) in content_targets.items())
                + sum(w * costs.layer_style_cost(a, X[k].relu()) for k, (w, a) in style_targets.items())).item()

    with torch.no_grad():
        before = J(x)
    after = J(pixel_descent_step(x, extractor, content_targets, style_targets, 0.5))
    assert after < before
    clamp_case = next(c for c in STEP.cases if c.group == "clamping to [0, 1]")
    args, kwargs = clamp_case.make()
    unclipped = STEP.run(STEP.mistakes[1].fn, args, kwargs)  # the mistake that skips the clip
    assert unclipped.min() < 0 or unclipped.max() > 1


def _independent_step(x, extractor, content_targets, style_targets, lr, content_gradient, style_gradient):
    """A learner's correct step written another way: backward(gradient=...) per layer, x.grad accumulates."""
    leaf = x.clone().detach()
    leaf.requires_grad = True
    X = extractor(leaf)
    for layer, (w, P) in content_targets.items():
        X[layer].backward(w * content_gradient(P, X[layer].detach().clamp_min(0)), retain_graph=True)
    for layer, (w, a_S) in style_targets.items():
        X[layer].backward(w * style_gradient(a_S, X[layer].detach().clamp_min(0)), retain_graph=True)
    with torch.no_grad():
        return torch.clamp(leaf - lr * leaf.grad, min=0.0, max=1.0)


def test_independent_step_passes_public_and_hidden_cases():
    assert run_exercise(STEP, _independent_step).passed
    for case in STEP.hidden:
        args, kwargs = case.make()
        assert outputs_match(STEP.run(_independent_step, args, kwargs), STEP.run(STEP.reference, args, kwargs))[0]


def _unclipped(x, extractor, content_targets, style_targets, lr, content_gradient, style_gradient):
    leaf = x.detach().clone().requires_grad_(True)
    X = extractor(leaf)
    upstream = {k: w * content_gradient(P, X[k].detach().relu()) for k, (w, P) in content_targets.items()}
    for k, (w, a_S) in style_targets.items():
        upstream[k] = upstream.get(k, 0) + w * style_gradient(a_S, X[k].detach().relu())
    torch.autograd.backward([X[k] for k in upstream], list(upstream.values()))
    return (leaf - lr * leaf.grad).detach()


def _overwriting(x, extractor, content_targets, style_targets, lr, content_gradient, style_gradient):
    leaf = x.detach().clone().requires_grad_(True)
    X = extractor(leaf)
    upstream = {k: w * content_gradient(P, X[k].detach().relu()) for k, (w, P) in content_targets.items()}
    upstream.update({k: w * style_gradient(a_S, X[k].detach().relu()) for k, (w, a_S) in style_targets.items()})
    torch.autograd.backward([X[k] for k in upstream], list(upstream.values()))
    return (leaf - lr * leaf.grad).detach().clamp(0, 1)


def _uphill(x, *rest):
    return (2 * x - _unclipped(x, *rest)).clamp(0, 1)  # x + lr dJ/dx


def _no_mask(x, extractor, content_targets, style_targets, lr, content_gradient, style_gradient):
    return _independent_step(x, extractor, content_targets, style_targets, lr,
                             lambda t, a, relu=True: content_gradient(t, a, relu=False),
                             lambda t, a, relu=True: style_gradient(t, a, relu=False))


def _per_group(fn):
    """{group: every case of that group passes} over the public and hidden cases."""
    verdict = {}
    for case in [*STEP.cases, *STEP.hidden]:
        args, kwargs = case.make()
        ok = outputs_match(STEP.run(fn, args, kwargs), STEP.run(STEP.reference, args, kwargs))[0]
        verdict[case.group] = verdict.get(case.group, True) and ok
    return verdict


def test_groups_separate_the_properties():
    assert _per_group(_unclipped) == {"descent": True, "clamping to [0, 1]": False, "a layer in both costs": True}
    assert _per_group(_overwriting) == {"descent": True, "clamping to [0, 1]": True, "a layer in both costs": False}
    assert not any(_per_group(_uphill).values())


@pytest.mark.parametrize("wrong, words", [
    (_uphill, "goes uphill"),
    (_unclipped, "pixels left [0, 1]"),
    (_overwriting, "keeps only one of its two gradients"),
    (_no_mask, "ReLU mask is missing"),
])
def test_step_mistakes_get_their_hint(wrong, words):
    result = run_exercise(STEP, wrong)
    assert not result.passed and result.hints and words in result.hints[0], result.verdict()


def test_changing_the_callers_image_or_keeping_history_is_caught():
    def in_place(x, *rest):
        x.copy_(_independent_step(x, *rest))
        return x

    def with_history(x, extractor, content_targets, style_targets, lr, content_gradient, style_gradient):
        x.requires_grad_(True)
        X = extractor(x)
        grads = [w * content_gradient(P, X[k].detach().relu()) for k, (w, P) in content_targets.items()]
        grads += [w * style_gradient(a, X[k].detach().relu()) for k, (w, a) in style_targets.items()]
        layers = [*content_targets, *style_targets]
        (g,) = torch.autograd.grad([X[k] for k in layers], x, grads)
        return (x - lr * g).clamp(0, 1)

    for wrong, words in ((in_place, "changed the caller's image"), (with_history, "changed the caller's image")):
        result = run_exercise(STEP, wrong)
        assert not result.passed and any(words in f for f in result.failures), result.verdict()


# ---- style_gradient_factor -----------------------------------------------------------------------
@pytest.mark.parametrize("s, k", [(2.0, 3), (0.5, 2), (3.0, 1)])
def test_factor_is_what_the_gradient_does(s, k):
    g = torch.Generator().manual_seed(1)
    a_S = torch.randn(1, 4, 3, 2, dtype=torch.float64, generator=g).relu()
    a_G = torch.randn(1, 4, 3, 2, dtype=torch.float64, generator=g).relu()

    def grow(a):
        return s * torch.cat([a] * k, dim=-1)

    before = cg.style_layer_gradient(a_S, a_G)
    after = cg.style_layer_gradient(grow(a_S), grow(a_G))
    for copy in range(k):  # every copy of every entry changed by the predicted factor
        part = after[..., copy * 2:(copy + 1) * 2]
        assert torch.allclose(part, FACTOR.reference(s, k) * before, rtol=1e-12, atol=1e-15)
    # and the cost itself grows by s^4, whatever k
    assert costs.layer_style_cost(grow(a_S), grow(a_G)).item() == pytest.approx(
        s**4 * costs.layer_style_cost(a_S, a_G).item(), rel=1e-12)


@pytest.mark.parametrize("answer, words", [
    (lambda s, k: s**3, "the size counts too"),
    (lambda s, k: s**3 / k**2, "do not cancel entirely"),
    (lambda s, k: s**4 / k, "one factor of F fewer"),
    (lambda s, k: s**3 * k, "1/M² shrinks by k²"),
])
def test_factor_mistakes_get_their_hint(answer, words):
    result = run_exercise(FACTOR, answer)
    assert not result.passed and words in result.hints[0], result.verdict()


def test_factor_hidden_cases_tell_every_catalogued_mistake_from_the_answer():
    for mistake in FACTOR.mistakes:
        assert any(not outputs_match(mistake.fn(*c.make()[0]), FACTOR.reference(*c.make()[0]))[0]
                   for c in FACTOR.hidden)
    assert run_exercise(FACTOR, lambda s, k: s * s * s / k).passed
