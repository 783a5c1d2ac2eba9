"""Public exercise checks: verdicts, targeted hints, robustness against broken submissions."""

import sys

import pytest
import torch

from coursekit.nst import costs
from coursekit.grading import check, exercise_names, reference, registry


@pytest.mark.parametrize("name", exercise_names())
def test_reference_passes_and_verdict_is_honest(name, capsys):
    result = check(name, reference(name))
    out = capsys.readouterr().out
    assert result.passed and result.status == "passed"
    assert result.passed_count == result.total > 0
    assert "public checks passed" in out
    assert "all tests passed" not in out.lower()


@pytest.mark.parametrize("name", exercise_names())
def test_not_implemented_is_reported_without_traceback(name, capsys):
    def todo(*args, **kwargs):
        raise NotImplementedError()

    result = check(name, todo)
    out = capsys.readouterr().out
    assert result.status == "not_implemented"
    assert "not implemented yet" in out and "Traceback" not in out


@pytest.mark.parametrize("name", exercise_names())
def test_every_catalogued_mistake_fails_with_its_own_hint(name):
    exercise = registry()[name]
    assert exercise.mistakes, f"{name} needs at least one targeted hint"
    for mistake in exercise.mistakes:
        result = check(name, mistake.fn, quiet=True)
        assert not result.passed, mistake.hint
        assert result.hints == [mistake.hint]


def test_realistic_gram_mistakes_get_targeted_hints():
    def tutorial_view(a):  # the PyTorch tutorial's view(a*b, c*d): mixes images in a batch
        b, c, h, w = a.shape
        f = a.view(b * c, h * w)
        return f @ f.T

    def transposed(a):  # F^T F: positions x positions
        f = a.reshape(a.shape[0], a.shape[1], -1)
        return f.transpose(1, 2) @ f

    for fn in (tutorial_view, transposed):
        result = check("gram_matrix", fn, quiet=True)
        assert not result.passed
        assert any("(B, nC, nC)" in h for h in result.hints)
        assert any("returned shape" in f for f in result.failures)


def test_failure_verdict_lists_failures_and_hint(capsys):
    check("content_cost", lambda a_C, a_G: ((a_C - a_G) ** 2).mean(dim=(1, 2, 3)))
    out = capsys.readouterr().out
    assert "public checks failed (0 of 3 cases, 4 of 4 properties)." in out
    assert "Hint: you took the mean" in out


@pytest.mark.parametrize("bad", [
    lambda *a: 1 / 0,
    lambda *a: sys.exit(3),
    lambda *a: None,
    lambda *a: "a string",
    lambda *a: torch.tensor(float("nan")),
])
def test_broken_submissions_never_crash_the_check(bad):
    for name in exercise_names():
        result = check(name, bad, quiet=True)
        assert result.status in {"failed", "error"}
        assert not result.passed and result.failures


def test_not_a_function():
    result = check("gram_matrix", 42, quiet=True)
    assert result.status == "error" and not result.passed


def test_mutating_submission_is_caught():
    def mutating(a):
        a -= 0  # in place on the caller's tensor; harmless value-wise but
        a.mul_(2)
        return costs.gram_matrix(a) / 4

    result = check("gram_matrix", mutating, quiet=True)
    assert not result.passed
    assert any("inputs not mutated" in f for f in result.failures)


def test_detached_submission_is_caught():
    result = check("content_cost", lambda a_C, a_G: costs.content_cost(a_C, a_G).detach(), quiet=True)
    assert any("gradients flow" in f for f in result.failures)


def test_use_or_reference(capsys):
    mine = check("total_cost", lambda jc, js, alpha=10.0, beta=40.0: alpha * jc + beta * js, quiet=True)
    assert mine.use_or_reference() is mine.function
    broken = check("total_cost", lambda *a, **k: 0.0, quiet=True)
    assert broken.use_or_reference() is costs.total_cost
    assert "reference total_cost" in capsys.readouterr().out


def test_unknown_exercise_is_a_clear_error():
    with pytest.raises(ValueError, match="gram_matrix"):
        check("gram_matrx", costs.gram_matrix)
