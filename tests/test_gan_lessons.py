"""Issue 5's acceptance ties the ring test (tests/test_gan.py) to lesson 06's own settings: this checks
that the lesson still runs the experiment that test verifies (same head start, loss, optimiser, budget)."""

import ast
import json
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"


def _calls(notebook: str, name: str) -> list[dict]:
    """Keyword arguments (literals only) of every call to ``*.name(...)`` or ``name(...)`` in the notebook."""
    cells = json.loads((SOLUTIONS / notebook).read_text())["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            fn = node.func
            called = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
            if called == name:
                kwargs = {}
                for kw in node.keywords:
                    try:
                        kwargs[kw.arg] = ast.literal_eval(kw.value)
                    except ValueError:
                        kwargs[kw.arg] = ast.unparse(kw.value)
                found.append(kwargs)
    return found


def test_lesson_06_ring_experiment_matches_the_acceptance_test():
    from test_gan import RING_DEFAULTS

    ring_runs = [kw for kw in _calls("06_gan_fundamentals.ipynb", "train_gan") if kw.get("g_loss") == "kind"]
    assert len(ring_runs) == 1, "lesson 06 should train the ring once per generator loss, in one loop"
    run = ring_runs[0]
    for key, value in RING_DEFAULTS.items():
        if key != "metrics_every":  # measuring more often does not change training
            assert run[key] == value, key
    assert run["seed"] == 0
    warm = [kw for kw in _calls("06_gan_fundamentals.ipynb", "train_discriminator") if kw.get("seed") == 100]
    assert warm == [dict(steps=300, m=128, seed=100)]


def _constants(notebook: str) -> dict:
    """Top-level NAME = literal (and NAME, NAME = literal, literal) assignments of the notebook's code."""
    cells = json.loads((SOLUTIONS / notebook).read_text())["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            targets = target.elts if isinstance(target, ast.Tuple) else [target]
            names = [getattr(t, "id", None) for t in targets]
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            values = value if isinstance(target, ast.Tuple) else [value]
            found.update(zip(names, values))
    return found


def test_lesson_07_trains_with_the_dcgan_paper_settings():
    constants = _constants("07_dcgan.ipynb")
    assert constants["LR"] == 2e-4 and constants["M"] == 64 and constants["SIZE"] == 16
    runs = _calls("07_dcgan.ipynb", "train_dcgan")
    assert runs[0]["lr"] == "LR" and runs[0]["betas"] == (0.5, 0.999) and runs[0]["m"] == "M"
    assert any(kw.get("lr_D") == "10 * LR" for kw in runs)  # the deliberately failing run
