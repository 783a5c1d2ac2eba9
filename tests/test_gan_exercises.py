"""Lesson 06's public checks: realistic mistakes get their hint (tests/test_grading.py runs every reference,
every catalogued mistake and the not-implemented case of every registered exercise)."""

import torch
import torch.nn.functional as F

from coursekit.gan.exercises import EXERCISES as GAN_EXERCISES
from coursekit.grading.runner import run_exercise


def test_naive_log_sigmoid_fails_stability():
    naive = lambda r, f: -(torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean())  # noqa: E731
    res = run_exercise(GAN_EXERCISES["discriminator_loss"], naive)
    assert not res.passed and any("softplus" in f for f in res.failures)


def test_mistake_hints():
    summed = lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum()  # noqa: E731
    res = run_exercise(GAN_EXERCISES["discriminator_loss"], summed)
    assert not res.passed and "mean" in res.hints[0]

    def swapped(l, kind="non_saturating"):
        return F.softplus(-l).mean() if kind == "minimax" else -F.softplus(l).mean()

    res = run_exercise(GAN_EXERCISES["generator_loss"], swapped)
    assert not res.passed and "swapped" in res.hints[0]
