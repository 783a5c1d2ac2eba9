"""Exercise notebooks are generated from the solution notebooks, committed, and kept in sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coursekit.grading import registry
from coursekit.grading.generate import BEGIN, SOLUTION_TAG, exercise_version, out_of_sync, strip_solutions
from coursekit.grading.grader import lessons
from coursekit.grading.submission import defined_functions

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"
LESSONS = sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_strip_solutions_keeps_indentation_and_the_rest_of_the_cell():
    source = "def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION\n\nz = 3"
    assert strip_solutions(source) == (
        "def f(x):\n    \"\"\"Doc.\"\"\"\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nz = 3")


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "without a matching"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
])
def test_unbalanced_markers_are_reported_with_the_place(source, message):
    with pytest.raises(ValueError, match=message) as info:
        strip_solutions(source, "02_style_cost, cell 7")
    assert "02_style_cost, cell 7" in str(info.value)


def test_committed_exercise_notebooks_are_in_sync_with_the_solutions():
    problems = out_of_sync(SOLUTIONS, ROOT / "notebooks")
    assert problems == [], "\n".join(problems) + "\nrun `make exercises` and commit the result"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_exercise_version_hides_every_solution_and_keeps_the_check(path):
    exercise = ROOT / "notebooks" / path.name
    sources = [_src(c) for c in _cells(exercise) if c["cell_type"] == "code"]
    assert not any(BEGIN in s or "END SOLUTION" in s for s in sources)
    solution_cells = [_src(c) for c in _cells(path) if c["cell_type"] == "code" and BEGIN in _src(c)]
    stubs = [s for s in sources if "# YOUR CODE HERE" in s]
    assert len(stubs) == len(solution_cells)
    assert all("raise NotImplementedError()" in s for s in stubs)
    meta = json.loads(exercise.read_text(encoding="utf-8"))["metadata"]["coursekit"]
    assert meta == {"lesson": path.stem, "version": "exercise"}


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_graded_lessons_say_which_version_the_reader_has(path):
    cells = _cells(path)
    if not any(BEGIN in _src(c) for c in cells if c["cell_type"] == "code"):
        return
    notes = [c for c in cells if SOLUTION_TAG in c.get("metadata", {}).get("tags", [])]
    assert len(notes) == 1 and "Solution version" in _src(notes[0]) and f"../{path.name}" in _src(notes[0])
    exercise_cells = _cells(ROOT / "notebooks" / path.name)
    assert any("Exercise version" in _src(c) for c in exercise_cells if c["cell_type"] == "markdown")
    # The learner's copy does not hand over the worked solution; the README says where it is.
    assert not any("solutions/" in _src(c) for c in exercise_cells), f"{path.name} links to its solution"


def test_every_graded_function_in_a_solution_notebook_is_a_registered_exercise_of_that_lesson():
    # Lesson 00 demonstrates a check on its toy exercise (relu) in full: nothing there is set.
    table = {lesson: {e.name for e in exs} for lesson, exs in lessons().items() if lesson != "00_setup_check"}
    found = {}
    for path in LESSONS:
        names = set()
        for cell in _cells(path):
            if cell["cell_type"] == "code" and BEGIN in _src(cell):
                names |= defined_functions(_src(cell))
        if names:
            found[path.stem] = names
    assert found == table


def test_every_exercise_has_points_and_hidden_tests():
    for name, exercise in registry().items():
        assert exercise.points >= 1, name
        assert len(exercise.hidden) >= 3, f"{name} needs at least 3 hidden cases"
        public = [repr(c.make()) for c in exercise.cases]
        assert not any(repr(c.make()) in public for c in exercise.hidden), f"{name}: a hidden case repeats a public one"


def test_generation_clears_outputs_and_records_the_lesson():
    nb = json.loads((SOLUTIONS / "01_channel_correlations.ipynb").read_text(encoding="utf-8"))
    assert any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    out = exercise_version(nb, "01_channel_correlations")
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in out["cells"] if c["cell_type"] == "code")
    assert out["metadata"]["coursekit"]["lesson"] == "01_channel_correlations"
    assert not any(SOLUTION_TAG in c.get("metadata", {}).get("tags", []) for c in out["cells"])


def test_generate_writes_only_the_lessons_asked_for(tmp_path):
    from coursekit.grading.generate import generate_exercise_notebooks

    written = generate_exercise_notebooks(SOLUTIONS, tmp_path, ["01", "03_content_cost"])
    assert [p.name for p in written] == ["01_channel_correlations.ipynb", "03_content_cost.ipynb"]
    with pytest.raises(ValueError, match="no solution notebook for \\['99'\\]"):
        generate_exercise_notebooks(SOLUTIONS, tmp_path, ["99"])
