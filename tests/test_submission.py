"""What the grader takes from a submission: the defining cell whole, only definitions elsewhere."""

from __future__ import annotations

import json

import pytest

from coursekit.grading.submission import SubmissionError, code_cells, is_unchanged_stub, program_for, read_submission


def test_target_is_the_last_cell_defining_the_function_and_runs_whole():
    cells = ["import torch", "def gram_matrix(a):\n    return 1", "x = 2\ndef gram_matrix(a):\n    return a\nprint('hi')"]
    program = program_for(cells, "gram_matrix")
    assert program.target == cells[2]
    assert program.prelude == ("import torch", "def gram_matrix(a):\n    return 1")


def test_prelude_keeps_definitions_and_drops_everything_that_does_work():
    cells = [
        "%matplotlib inline\nimport torch\nfrom coursekit.grading import check\n!pip install x",
        "ALPHA = 10\nnames = ('a', 'b')\nmodel = build()\nwhile True:\n    pass\nprint(ALPHA)",
        "@decorator\ndef helper(x):\n    return x\nclass Net:\n    pass",
        "gram = check('gram_matrix', gram_matrix).use_or_reference()\ntrain(model)\nimport os; os.system('x')",
        "def layer_style_cost(a_S, a_G):\n    return gram(a_S)",
    ]
    program = program_for(cells, "layer_style_cost")
    assert program.prelude == (
        "import torch", "from coursekit.grading import check", "ALPHA = 10", "names = ('a', 'b')",
        "@decorator\ndef helper(x):\n    return x", "class Net:\n    pass",
        "gram = check('gram_matrix', gram_matrix).use_or_reference()", "import os")


def test_a_slider_callback_is_an_experiment_and_stays_out_of_the_prelude():
    # Lesson 01's "@interact(c=FloatSlider(...)) def shifted(c)" draws a panel when defined: the
    # grader never needs it, and a headless executor can hang on it (jupyter/nbclient#312).
    cells = [
        "from ipywidgets import FloatSlider, interact\nimport ipywidgets as widgets\n"
        "@interact(c=FloatSlider(value=0.0))\ndef shifted(c=0.0):\n    print(c)\n"
        "@widgets.interact_manual\ndef later(x=1):\n    return x\n"
        "@functools.lru_cache(maxsize=None)\ndef cached(x):\n    return x",
        "def gram_matrix(a):\n    return a",
    ]
    program = program_for(cells, "gram_matrix")
    assert program.prelude == ("from ipywidgets import FloatSlider, interact", "import ipywidgets as widgets",
                               "@functools.lru_cache(maxsize=None)\ndef cached(x):\n    return x")


def test_a_cell_with_a_syntax_error_is_still_the_target_so_the_learner_hears_why():
    cells = ["def gram_matrix(a):\n    return a +", "y = (1"]
    program = program_for(cells, "gram_matrix")
    assert program.target == cells[0] and program.prelude == ()


def test_missing_function_gives_no_target():
    assert program_for(["x = 1"], "gram_matrix").target is None


def test_unreadable_notebooks_raise_a_submission_error_naming_the_file(tmp_path):
    bad = tmp_path / "alice.ipynb"
    bad.write_text("{not json")
    with pytest.raises(SubmissionError, match="alice.ipynb"):
        read_submission(bad)
    with pytest.raises(SubmissionError, match="cells"):
        code_cells({"cells": "nope"}, "bob.ipynb")


def test_code_cells_accepts_list_sources_and_skips_markdown(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "source": "# t"},
                    {"cell_type": "code", "source": ["a = 1\n", "b = 2"]}]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    assert read_submission(path) == ["a = 1\nb = 2"]


@pytest.mark.parametrize("cell,stub", [
    ('def f(a, b):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n', True),
    ("def f(a):\n    raise NotImplementedError\n", True),
    ("def f(a):\n    raise NotImplementedError()\nf = g\n", False),  # rebound after the def
    ("@dec\ndef f(a):\n    raise NotImplementedError()\n", False),  # a decorator may return anything
    ("def f(a, x=g()):\n    raise NotImplementedError()\n", False),  # a default runs code
    ("def f(a):\n    raise NotImplementedError(print(1))\n", False),
    ("import torch\ndef f(a):\n    raise NotImplementedError()\n", False),
    ("def f(a):\n    return a\n", False),
    ("def f(a):\n    raise NotImplementedError() from None\n", False),
    ("def f(a", False),
])
def test_only_the_stub_as_generated_counts_as_unchanged(cell, stub):
    assert is_unchanged_stub(cell, "f") is stub
