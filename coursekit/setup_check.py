"""What lesson 00 reports about the learner's set-up, and what to do about each problem.

``run_checks()`` returns a list of ``Finding``; ``report(findings)`` formats them as a table.
Nothing here downloads: the ImageNet check only looks in torchvision's cache.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Callable

__all__ = ["Finding", "run_checks", "report", "summary"]

OK, WARN, FAIL = "ok", "warning", "problem"
MARKS = {OK: "[ok]  ", WARN: "[warn]", FAIL: "[FAIL]"}


@dataclass(frozen=True)
class Finding:
    topic: str
    status: str  # ok, warning (lessons still run) or problem (a lesson will fail)
    detail: str
    advice: str = ""


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _major(version: str) -> int:
    return int(version.split(".")[0])


def check_python() -> Finding:
    v = sys.version_info
    detail = f"Python {v.major}.{v.minor}.{v.micro} at {sys.executable}"
    if v < (3, 10):
        return Finding("python", FAIL, detail, "coursekit needs Python 3.10 or newer: run `make lab`, which builds .venv.")
    return Finding("python", OK, detail)


def check_torch() -> Finding:
    try:
        import torch
        import torchvision
        from torchvision.ops import nms

        nms(torch.zeros(1, 4), torch.zeros(1), 0.5)  # fails when torch and torchvision do not match
    except Exception as exc:  # report any import or ABI problem, never crash the set-up check
        return Finding("torch", FAIL, f"{type(exc).__name__}: {exc}",
                       "Install matching torch and torchvision builds: `make clean-env && make lab`.")
    return Finding("torch", OK, f"torch {torch.__version__}, torchvision {torchvision.__version__}")


def check_device() -> Finding:
    import torch

    if torch.cuda.is_available():
        return Finding("device", OK, f"GPU: {torch.cuda.get_device_name(0)} (lessons use the CPU unless told otherwise)")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return Finding("device", OK, "Apple GPU (MPS) available; lessons default to the CPU")
    return Finding("device", OK, f"CPU only, {torch.get_num_threads()} threads: every lesson is sized for this")


def check_weights(arch: str = "vgg19") -> Finding:
    from .models.weights import cached_weights_path, imagenet_weights, is_offline

    offline = is_offline()
    path = cached_weights_path(imagenet_weights(arch))
    if path.is_file():
        return Finding(f"{arch} weights", OK, f"ImageNet weights found in the torchvision cache: {path}")
    how = ("COURSEKIT_OFFLINE=1 is set, so nothing is downloaded. " if offline else "")
    return Finding(
        f"{arch} weights", WARN,
        how + "ImageNet weights are not in the torchvision cache; lessons fall back to seeded RANDOM "
        "weights and label their results as such.",
        "For real features: run once online (`python -c \"import coursekit.models as m; "
        f"m.{arch}(weights='imagenet')\"`), or copy {path.name} into {path.parent}.",
    )


def check_widgets() -> Finding:
    ipyw, lab_widgets = _version("ipywidgets"), _version("jupyterlab_widgets")
    if ipyw is None or _major(ipyw) < 8:
        return Finding("widgets", FAIL, f"ipywidgets {ipyw or 'not installed'}",
                       "Sliders need ipywidgets 8: run the lessons from `make lab`.")
    if lab_widgets is None:
        return Finding("widgets", FAIL, f"ipywidgets {ipyw} but no jupyterlab_widgets (the browser side)",
                       "Install jupyterlab_widgets in the environment JupyterLab runs from, then reload the page.")
    return Finding("widgets", OK, f"ipywidgets {ipyw}, jupyterlab_widgets {lab_widgets}")


def check_jupyterlab() -> Finding:
    lab = _version("jupyterlab")
    if lab is None:
        return Finding("jupyterlab", WARN, "JupyterLab is not installed in this kernel's environment",
                       "Fine if JupyterLab runs elsewhere; otherwise use `make lab`.")
    if _major(lab) < 4:
        return Finding("jupyterlab", WARN, f"JupyterLab {lab}", "The lessons are tested with JupyterLab 4: `make lab`.")
    return Finding("jupyterlab", OK, f"JupyterLab {lab}")


def check_samples() -> Finding:
    from .samples import list_samples, sample_image

    names = list(list_samples())
    try:
        for name in names:
            sample_image(name, size=32)
    except Exception as exc:
        return Finding("sample images", FAIL, f"{name}: {exc}", "Reinstall scikit-image, scikit-learn and matplotlib.")
    return Finding("sample images", OK, f"{len(names)} sample images load offline")


CHECKS: tuple[Callable[[], Finding], ...] = (
    check_python, check_torch, check_device, check_weights, check_widgets, check_jupyterlab, check_samples,
)


def run_checks() -> list[Finding]:
    """Run every check; a check that crashes becomes a problem finding instead of an exception."""
    findings = []
    for chk in CHECKS:
        try:
            findings.append(chk())
        except Exception as exc:
            topic = chk.__name__.removeprefix("check_")
            findings.append(Finding(topic, FAIL, f"the check itself failed: {type(exc).__name__}: {exc}",
                                    "Run `make test` and report the output."))
    return findings


def report(findings: list[Finding]) -> str:
    """One line per finding, then what to do for each warning or problem."""
    width = max(len(f.topic) for f in findings)
    lines = [f"{MARKS[f.status]} {f.topic:<{width}}  {f.detail}" for f in findings]
    todo = [f for f in findings if f.status != OK and f.advice]
    if todo:
        lines += ["", "What to do:"] + [f"- {f.topic}: {f.advice}" for f in todo]
    return "\n".join(lines)


def summary(findings: list[Finding]) -> str:
    """A deterministic one-line verdict for the notebook (compared by nbval)."""
    problems = [f.topic for f in findings if f.status == FAIL]
    if problems:
        return f"Set-up has problems: {', '.join(problems)}. See 'What to do' above."
    return "Set-up OK: every lesson can run."
