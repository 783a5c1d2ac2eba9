"""The ring test in tests/test_gan.py verifies lesson 06's experiment, and lesson 07 promises the DCGAN
paper's settings: these check that the solution notebooks still run exactly those (same head start, loss,
optimiser, budget)."""

import ast
import json
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"


def _calls(notebook: str, name: str, inside_loop_over: str | None = None) -> list[dict]:
    """Keyword arguments (literals, else their source) of every call to ``*.name(...)`` or ``name(...)`` in
    the notebook, with the positional ones under 0, 1, ...; only inside ``for`` loops whose iterable's
    source contains ``inside_loop_over`` when it is given."""
    cells = json.loads((SOLUTIONS / notebook).read_text())["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    roots = [ast.parse(source)]
    if inside_loop_over is not None:
        roots = [n for n in ast.walk(roots[0]) if isinstance(n, ast.For) and inside_loop_over in ast.unparse(n.iter)]
    found = []
    for node in (n for root in roots for n in ast.walk(root)):
        if isinstance(node, ast.Call):
            fn = node.func
            called = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
            if called == name:
                kwargs = {}
                for key, value in [*enumerate(node.args), *((kw.arg, kw.value) for kw in node.keywords)]:
                    try:
                        kwargs[key] = ast.literal_eval(value)
                    except ValueError:
                        kwargs[key] = ast.unparse(value)
                found.append(kwargs)
    return found


def test_lesson_06_ring_experiment_matches_the_acceptance_test():
    from test_gan import RING_CONFIG, RING_OPTIMIZERS

    lesson = "06_gan_fundamentals.ipynb"
    configs = [kw for kw in _calls(lesson, "GANTrainConfig") if kw.get("g_loss") == "kind"]
    assert len(configs) == 1, "lesson 06 should train the ring once per generator loss, in one loop"
    for key, value in RING_CONFIG.items():
        if key != "metrics_every":  # measuring more often does not change training
            assert configs[0][key] == value, key
    assert configs[0]["seed"] == 0
    [optimizers] = _calls(lesson, "make_optimizers", inside_loop_over="minimax")
    assert {"opt": optimizers[2], "lr_D": optimizers["lr_D"], "lr_G": optimizers["lr_G"]} == RING_OPTIMIZERS
    assert len(_calls(lesson, "train_gan", inside_loop_over="minimax")) == 1
    warm = [kw for kw in _calls(lesson, "train_discriminator") if kw.get("seed") == 100]
    assert [{k: v for k, v in kw.items() if isinstance(k, str)} for kw in warm] == [dict(steps=300, m=128, seed=100)]


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
    optimizers = _calls("07_dcgan.ipynb", "make_optimizers")
    assert {key: optimizers[0][key] for key in (2, "lr_D", "lr_G", "betas")} == {
        2: "adam", "lr_D": "LR", "lr_G": "LR", "betas": (0.5, 0.999)}
    assert _calls("07_dcgan.ipynb", "train_dcgan")[0]["m"] == "M"
    assert any(kw.get("lr_D") == "10 * LR" and kw.get("lr_G") == "LR" for kw in optimizers)  # the deliberately failing run
