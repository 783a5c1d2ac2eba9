"""Lesson 09's new exercises: batch_norm against torch.nn.BatchNorm1d, the catalogued mistakes of
batch_norm and of the sigmoid_gain_bound question, and clip_factor's epsilon."""

import math

import pytest
import torch

from coursekit.exercise import outputs_match
from coursekit.gradient_flow.batchnorm import batch_norm
from coursekit.gradient_flow.exercises import EXERCISES, sigmoid_gain_bound
from coursekit.grading.runner import run_exercise


def _torch_bn(n, momentum, eps, seed):
    bn = torch.nn.BatchNorm1d(n, momentum=momentum, eps=eps, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        bn.weight.copy_(1 + torch.randn(n, generator=g, dtype=torch.float64))
        bn.bias.copy_(torch.randn(n, generator=g, dtype=torch.float64))
    return bn, g


@pytest.mark.parametrize("m, n, momentum, eps", [(8, 5, 0.1, 1e-5), (2, 3, 0.3, 0.1), (30, 4, 0.05, 1e-3)])
def test_batch_norm_equals_batchnorm1d_in_training_then_eval(m, n, momentum, eps):
    bn, g = _torch_bn(n, momentum, eps, seed=m)
    gamma, beta = bn.weight.detach().clone(), bn.bias.detach().clone()
    mean, var = bn.running_mean.clone(), bn.running_var.clone()
    bn.train()
    for _ in range(4):
        x = 3 + 2 * torch.randn(m, n, generator=g, dtype=torch.float64)
        given = (x, mean, var)
        copies = [t.clone() for t in given]
        y, mean, var = batch_norm(x, gamma, beta, mean, var, True, momentum, eps)
        assert torch.allclose(y, bn(x), rtol=1e-12, atol=1e-12)
        assert torch.allclose(mean, bn.running_mean, rtol=1e-12) and torch.allclose(var, bn.running_var, rtol=1e-12)
        assert all(torch.equal(a, b) for a, b in zip(copies, given))  # the caller's tensors are untouched
    bn.eval()
    x = torch.randn(5, n, generator=g, dtype=torch.float64)
    y, mean2, var2 = batch_norm(x, gamma, beta, mean, var, False, momentum, eps)
    assert torch.allclose(y, bn(x), rtol=1e-12, atol=1e-12)
    assert torch.equal(mean2, mean) and torch.equal(var2, var)


def test_batch_norm_normalises_with_the_biased_variance_and_tracks_the_unbiased_one():
    x = torch.tensor([[0.0], [2.0]], dtype=torch.float64)  # mu_B = 1, biased var 1, unbiased var 2
    one, zero = torch.ones(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    y, mean, var = batch_norm(x, one, zero, zero, one, True, momentum=0.5, eps=0.0)
    assert y.flatten().tolist() == [-1.0, 1.0]
    assert mean.item() == 0.5 and var.item() == 1.5  # 0.5 * 1 + 0.5 * 2
    with pytest.raises(ValueError, match="at least 2 examples"):
        batch_norm(x[:1], one, zero, zero, one, True)


def test_batch_norm_exercise_passes_and_each_mistake_gets_its_hint():
    ex = EXERCISES["batch_norm"]
    assert run_exercise(ex, batch_norm).passed and ex.kind == "module"
    assert ex.groups == {"training value": 2, "eval value": 1, "running statistics": 2}
    for mistake in ex.mistakes:
        res = run_exercise(ex, mistake.fn)
        assert not res.passed and res.hints == [mistake.hint], (mistake.hint, res.verdict())


def test_batch_norm_mistakes_fail_the_groups_they_belong_to():
    ex = EXERCISES["batch_norm"]

    def failed_groups(fn):
        groups = set()
        for case in (*ex.cases, *ex.hidden):
            args, kwargs = case.make()
            ok, _ = (case.compare or outputs_match)(ex.run(fn, args, kwargs), ex.run(ex.reference, args, kwargs))
            if not ok:
                groups.add(case.group)
        return groups

    assert [failed_groups(m.fn) for m in ex.mistakes] == [
        {"training value"}, {"running statistics"}, {"running statistics"}, {"training value", "eval value"},
        {"eval value"}, {"training value"}]


def test_sigmoid_gain_bound_question():
    ex = EXERCISES["sigmoid_gain_bound"]
    assert ex.kind == "question" and sigmoid_gain_bound(20, 2.0) == pytest.approx(0.5 ** 20)
    assert sigmoid_gain_bound(3, 8.0) == pytest.approx(8.0)  # weights large enough to explode
    assert run_exercise(ex, sigmoid_gain_bound).passed
    res = run_exercise(ex, lambda L, w: 0.5 ** L * w ** L)  # sigma(0) taken for its slope
    assert not res.passed and "σ'(0)" in res.hints[0]


def test_clip_factor_without_eps_loses_only_the_stability_group_with_a_hint():
    ex = EXERCISES["clip_factor"]

    def norm(grads):
        return math.sqrt(sum(float((g ** 2).sum()) for g in grads))

    def largest_without_eps(grads, c):
        return min(1.0, c / max(float(g.norm()) for g in grads))

    res = run_exercise(ex, lambda grads, c: min(1.0, c / norm(grads)))
    assert [c.group for c in ex.cases if c.label in res.failures[0]] == ["numerical stability"]
    assert "ε" in res.hints[0]
    res = run_exercise(ex, largest_without_eps)  # two mistakes at once: the formula's hint still shows
    assert "not the largest one" in res.hints[0], res.hints
