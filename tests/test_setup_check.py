"""Lesson 00's set-up report: every check runs offline and says what to do."""

import torch

from coursekit import setup_check
from coursekit.models.weights import cached_weights_path, imagenet_weights


def test_checks_run_offline_and_summary_is_ok_here(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    findings = setup_check.run_checks()
    topics = {f.topic: f for f in findings}
    assert {"python", "torch", "device", "widgets", "sample images"} <= set(topics)
    weights = topics["vgg19 weights"]
    assert weights.status == setup_check.WARN and "RANDOM" in weights.detail
    assert "vgg19-dcbb9e9d.pth" in weights.advice
    assert setup_check.summary(findings) == "Set-up OK: every lesson can run."
    text = setup_check.report(findings)
    assert "What to do:" in text and "[warn]" in text


def test_cached_weights_are_reported(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    path = cached_weights_path(imagenet_weights("vgg19"))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"stand-in")
    finding = setup_check.check_weights("vgg19")
    assert finding.status == setup_check.OK and str(path) in finding.detail


def test_a_crashing_check_becomes_a_problem(monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(setup_check, "CHECKS", (setup_check.check_python, broken))
    findings = setup_check.run_checks()
    assert findings[-1].status == setup_check.FAIL and "boom" in findings[-1].detail
    assert setup_check.summary(findings).startswith("Set-up has problems: broken")
