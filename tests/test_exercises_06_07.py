"""Lessons 06-07's new exercises: losses from probabilities fail the stability group at ±1000, the step
drivers tell the catalogued mistakes apart, slerp's parallel edge case, the two questions."""

import math

import torch
import torch.nn.functional as F

from coursekit.gan.exercises import EXERCISES, drive_discriminator_step, drive_generator_step
from coursekit.gan.losses import generator_loss
from coursekit.gan.questions import generator_gradient_ratio, linear_path_norm_ratio
from coursekit.gan.train import discriminator_step, generator_step
from coursekit.grading.runner import run_exercise

CONFIDENT = torch.tensor([1000.0, -1000.0], dtype=torch.float64)


def naive_generator_loss(l, kind="non_saturating"):
    """The losses computed from probabilities, as the formulas read."""
    p = torch.sigmoid(l)
    return -torch.log(p).mean() if kind == "non_saturating" else torch.log(1 - p).mean()


def test_naive_forms_are_infinite_at_1000_and_the_stable_ones_are_not():
    assert torch.sigmoid(CONFIDENT).tolist() == [1.0, 0.0]  # float64 rounds to exactly 1 and 0
    for kind in ("non_saturating", "minimax"):
        assert not torch.isfinite(naive_generator_loss(CONFIDENT, kind))
        assert torch.isfinite(generator_loss(CONFIDENT, kind))
    assert naive_generator_loss(CONFIDENT.new_tensor([-60.0])).isfinite()  # why ±60 did not catch it


def test_naive_non_saturating_loss_fails_the_stability_group():
    res = run_exercise(EXERCISES["generator_loss"], naive_generator_loss)
    assert not res.passed
    assert any("confident logits (±1000), non-saturating" in f for f in res.failures)
    assert any("finite for logits ±1000 (non-saturating)" in f for f in res.failures)
    assert res.hints == [EXERCISES["generator_loss"].generic_hint]


def test_cross_entropy_with_fakes_labelled_one_is_the_non_saturating_loss():
    l = torch.randn(16, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 3
    bce = F.binary_cross_entropy_with_logits(l, torch.ones_like(l))
    assert torch.allclose(bce, generator_loss(l, "non_saturating"))
    assert torch.allclose(bce, -torch.log(torch.sigmoid(l)).mean())


def test_step_drivers_are_deterministic_and_see_what_matters():
    a = drive_discriminator_step(discriminator_step, seed=3, opt="adam")
    assert torch.equal(a, drive_discriminator_step(discriminator_step, seed=3, opt="adam"))
    g_before = drive_discriminator_step(lambda *args: {"loss_D": 0, "D(x)": 0, "D(G(z))": 0}, report="G")
    assert torch.equal(g_before, drive_discriminator_step(discriminator_step, report="G"))  # G untouched
    d_report = drive_generator_step(generator_step, report="D")
    d_before = drive_generator_step(lambda *args: {"loss_G": 0, "D(G(z))": 0}, report="D")
    assert torch.equal(d_report, d_before)  # D untouched, no gradient, still trainable


def test_a_step_returning_a_number_gets_a_clear_message():
    res = run_exercise(EXERCISES["discriminator_step"], lambda D, G, x, z, loss, opt: 0.0)
    assert not res.passed and any("must return a dict" in f for f in res.failures)


def test_slerp_without_the_parallel_fallback_fails_only_that_group():
    def no_fallback(z0, z1, t):
        omega = torch.arccos((z0 @ z1 / (z0.norm() * z1.norm())).clamp(-1, 1))
        t = t[:, None]
        return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)

    res = run_exercise(EXERCISES["slerp"], no_fallback)
    assert not res.passed
    assert all("parallel" in f for f in res.failures) and res.failures


def test_question_answers():
    assert math.isclose(generator_gradient_ratio(0.01), 99)
    assert math.isclose(linear_path_norm_ratio(0.5), 2 ** -0.5)
    z = torch.randn(2, 20000, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for t in (0.25, 0.5):
        rms = ((1 - t) * z[0] + t * z[1]).pow(2).sum(1).mean().sqrt() / z[0].pow(2).sum(1).mean().sqrt()
        assert math.isclose(float(rms), linear_path_norm_ratio(t), rel_tol=0.01)
    l = torch.logit(torch.tensor([0.2], dtype=torch.float64)).requires_grad_(True)
    ns = torch.autograd.grad(generator_loss(l, "non_saturating"), l)[0]
    mm = torch.autograd.grad(generator_loss(l, "minimax"), l)[0]
    assert math.isclose(float(ns / mm), generator_gradient_ratio(0.2))
