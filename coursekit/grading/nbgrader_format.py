"""nbgrader's cell format in the solution notebooks, so instructors with nbgrader take them as they are.

nbgrader (schema version 3) reads ``cell.metadata.nbgrader``: ``solution`` (the learner writes
here), ``grade`` with ``points`` (an autograder test cell), ``locked`` (restored from the source
when grading), ``grade_id`` (unique), ``task`` and ``schema_version``. ``nbgrader_format(nb, lesson)``
gives a solution notebook that format:

* each exercise's cell (the one with ``### BEGIN SOLUTION``) is a solution cell whose grade_id is
  the exercise's name;
* after its public check comes one autograder test cell, grade_id ``test_<name>`` with the
  exercise's points, whose hidden section (``### BEGIN HIDDEN TESTS``) adds the hidden cases
  (``coursekit.grading.autograder``); nbgrader's ``generate_assignment`` strips that section from
  the learners' copies, as coursekit's own generator does;
* every other cell is locked (grade_id ``cell-<cell id>``): nbgrader puts it back as written if a
  learner changed it, and marks it read-only in its release; cells tagged ``solution-only`` (the
  "solution version" note) carry no nbgrader metadata, as they never reach learners.

``python -m coursekit nbgrader --write`` applies it to ``notebooks/solutions/``; ``nbgrader_problems``
is what the tests check. ``course_folder`` lays out an nbgrader course with the lessons as one
assignment and coursekit's ``nbgrader_config.py`` (``CoursekitRelease``: the same learner notebooks as
``python -m coursekit exercises``).
"""

from __future__ import annotations

import ast
import copy
import re
import shutil
from pathlib import Path
from typing import Any

from .generate import SOLUTION_TAG

__all__ = ["SCHEMA_VERSION", "nbgrader_format", "nbgrader_problems", "test_cell_source", "course_folder",
           "ASSIGNMENT", "NBGRADER_CONFIG"]

SCHEMA_VERSION = 3
ASSIGNMENT = "lessons"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
TEST_HEAD = "# nbgrader's autograder test"

NBGRADER_CONFIG = '''\
"""nbgrader configuration for coursekit's lessons (written by `python -m coursekit nbgrader --course`)."""
from nbgrader.converters import Autograde, GenerateAssignment
from nbgrader.preprocessors import Execute

c = get_config()  # noqa: F821  (nbgrader provides it)
# Learner notebooks equal to `python -m coursekit exercises`: the solution-only note dropped, the
# exercise note added, the lesson recorded for `coursekit grade`.
c.GenerateAssignment.preprocessors = ["coursekit.grading.nbgrader_release.CoursekitRelease",
                                      *GenerateAssignment.class_traits()["preprocessors"].default()]
# Lessons train small networks: a cell may take minutes on a laptop (nbgrader's default is 30 s).
c.Execute.timeout = 600
# nbgrader's Execute, waiting for each cell's reply in one-second polls: a single long poll can miss
# the reply after a widget cell and wait out the whole timeout (jupyter/nbclient#312).
c.Autograde.autograde_preprocessors = [
    "coursekit.grading.nbgrader_execute.Execute" if p is Execute else p
    for p in Autograde.class_traits()["autograde_preprocessors"].default()]
'''


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def test_cell_source(name: str, points: int) -> str:
    """The autograder test cell of exercise ``name``."""
    return "\n".join([
        f"{TEST_HEAD} of {name} ({points} point{'s' * (points != 1)}; the same cases as `coursekit grade`)",
        "# NBVAL_CHECK_OUTPUT",
        "from coursekit.grading.autograder import Autograder",
        "",
        f'_autograde = Autograder("{name}", {name})',
        BEGIN_HIDDEN,
        "_autograde.add_hidden_cases()",
        END_HIDDEN,
        "_autograde.points()",
    ])


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
          points: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked}
    if points is not None:
        meta["points"] = points
    meta.update(schema_version=SCHEMA_VERSION, solution=solution, task=False)
    return meta


def _defined(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _exercise_cells(cells: list[dict], names: set[str], lesson: str) -> dict[str, int]:
    """Exercise name -> index of its solution cell (the last one defining it)."""
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code" or "### BEGIN SOLUTION" not in _source(cell):
            continue
        mine = [n for n in _defined(_source(cell)) if n in names]
        if len(mine) != 1:
            raise ValueError(f"{lesson}, cell {i}: a solution cell must define exactly one of the lesson's "
                             f"exercises {sorted(names)}; it defines {mine or 'none'}")
        found[mine[0]] = i
    return found


def _cell_id(cell: dict, i: int) -> str:
    return str(cell.get("id") or f"at-{i}")


def nbgrader_format(solution: dict[str, Any], lesson: str) -> dict[str, Any]:
    """The solution notebook with nbgrader's metadata and one autograder test cell per exercise
    (a new notebook dict; outputs of existing cells kept, new test cells unexecuted)."""
    from . import registry

    exercises = {e.name: e for e in registry().values() if e.lesson == lesson}
    nb = copy.deepcopy(solution)
    tests = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c for c in nb.get("cells", [])
             if _source(c).startswith(TEST_HEAD)}
    cells = [c for c in nb.get("cells", []) if not _source(c).startswith(TEST_HEAD)]
    where = _exercise_cells(cells, set(exercises), lesson)
    missing = sorted(set(exercises) - set(where))
    if missing and where:  # (lesson 00 shows its toy exercise solved: no solution cell, no test)
        raise ValueError(f"{lesson}: no solution cell (### BEGIN SOLUTION) defines the exercises {missing}")
    inserts: dict[int, list[dict]] = {}
    for name, i in where.items():
        check = re.compile(rf"\bcheck\(\s*['\"]{re.escape(name)}['\"]")
        after = next((j for j in range(i + 1, len(cells)) if cells[j].get("cell_type") == "code"
                      and check.search(_source(cells[j]))), i)
        test = tests.get(f"test_{name}") or {"cell_type": "code", "execution_count": None, "metadata": {},
                                              "outputs": [], "id": f"nbgrader-test-{name}"[:64]}
        points = exercises[name].points
        test["source"] = test_cell_source(name, points)
        test.setdefault("metadata", {})["nbgrader"] = _meta(f"test_{name}", grade=True, locked=True, points=points)
        inserts.setdefault(after, []).append(test)
    out = []
    solution_at = {i: name for name, i in where.items()}
    for i, cell in enumerate(cells):
        meta = cell.setdefault("metadata", {})
        if i in solution_at:
            meta["nbgrader"] = _meta(solution_at[i], solution=True)
        elif SOLUTION_TAG in meta.get("tags", []):
            meta.pop("nbgrader", None)  # not in the learners' notebooks, so not in nbgrader's gradebook
        else:
            meta["nbgrader"] = _meta(f"cell-{_cell_id(cell, i)}", locked=True)
        out.append(cell)
        out += inserts.get(i, [])
    nb["cells"] = out
    return nb


def nbgrader_problems(solution: dict[str, Any], lesson: str) -> list[str]:
    """Why a solution notebook is not in nbgrader's format (empty: it is)."""
    try:
        want = nbgrader_format(solution, lesson)
    except ValueError as exc:
        return [str(exc)]
    have = solution.get("cells", [])
    if len(have) != len(want["cells"]):
        return [f"{lesson}: {len(want['cells']) - len(have)} autograder test cell(s) missing or extra; "
                "run `python -m coursekit nbgrader --write`, then execute the notebook"]
    sources = [i for i, (h, w) in enumerate(zip(have, want["cells"])) if _source(h) != _source(w)]
    metadata = [i for i, (h, w) in enumerate(zip(have, want["cells"]))
                if h.get("metadata", {}).get("nbgrader") != w["metadata"].get("nbgrader")]
    problems = []
    if sources:
        problems.append(f"{lesson}: the autograder test cells {sources} differ from the generated ones")
    if metadata:
        problems.append(f"{lesson}: {len(metadata)} cells' nbgrader metadata differ from the generated "
                        f"(cells {metadata[:5]}{'...' if len(metadata) > 5 else ''})")
    return problems


def course_folder(root: str | Path, solutions: str | Path, lessons: list[str] | None = None) -> Path:
    """An nbgrader course at ``root``: ``nbgrader_config.py`` and the solution notebooks as the
    source of one assignment, ``source/lessons/``. Returns ``root``."""
    root, solutions = Path(root), Path(solutions)
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    for path in sorted(solutions.glob("[0-9][0-9]_*.ipynb")):
        if lessons is None or any(path.stem == o or path.stem.startswith(f"{o}_") for o in lessons):
            shutil.copyfile(path, source / path.name)
    return root
