"""Exercise notebooks for learners, generated from the solution notebooks (the source).

Solution notebooks live in ``notebooks/solutions/`` and mark each solution with nbgrader's
``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines. ``exercise_version`` replaces each marked
region by ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` (same indentation), removes the
hidden tests (``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``, as nbgrader does), drops cells
tagged ``solution-only`` and nbgrader's cell metadata, adds a short "exercise version" note after the title, records the lesson
in the notebook metadata (``metadata.coursekit.lesson``, which the grader reads) and clears every
output. ``python -m coursekit exercises`` writes them to ``notebooks/`` and then executes them, so
their stored outputs are real ("not implemented yet", then the reference's results).

``out_of_sync`` is what CI checks: regenerating gives the committed exercise notebooks' cells.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

__all__ = ["exercise_version", "strip_solutions", "strip_hidden_tests", "learner_cells", "lesson_metadata", "generate_exercise_notebooks", "out_of_sync", "EXERCISE_NOTE", "SOLUTION_TAG", "add_solution_note"]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SOLUTION_TAG = "solution-only"
EXERCISE_NOTE = (
    "> **Exercise version.** Where a cell says `# YOUR CODE HERE`, replace `raise NotImplementedError()` "
    "with your code, run the cell, then run the check below it. Until your function passes, the lesson goes "
    "on with coursekit's reference and says so. The grader reruns the public cases and adds hidden ones; "
    "each check says how the points are split."
)

SOLUTION_NOTE = (
    "> **Solution version**, for instructors and for checking your work after you have tried. Learners "
    "start from the exercise version, [`../{name}`](../{name}), where the solutions are replaced by "
    "`# YOUR CODE HERE`."
)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _replace_regions(source: str, begin: str, end: str, stub: tuple[str, ...], what: str, where: str) -> str:
    """Replace every ``begin``/``end`` region (markers included) by the ``stub`` lines, indented
    like the ``begin`` marker; a marker out of place is a ValueError naming ``where``."""
    out: list[str] = []
    inside = False
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise ValueError(f"{where}: '{begin}' inside another {what} region; close it with '{end}'")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}{s}" for s in stub]
        elif stripped == end:
            if not inside:
                raise ValueError(f"{where}: '{end}' without a matching '{begin}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: '{begin}' is never closed; add '{end}' after the {what}")
    return "\n".join(out)


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every BEGIN/END SOLUTION region (markers included) by the exercise stub."""
    return _replace_regions(source, BEGIN, END, ("# YOUR CODE HERE", "raise NotImplementedError()"), "solution", where)


def strip_hidden_tests(source: str, where: str = "cell") -> str:
    """Remove every BEGIN/END HIDDEN TESTS region (markers included), as nbgrader does."""
    return _replace_regions(source, BEGIN_HIDDEN, END_HIDDEN, (), "hidden-tests", where)


def learner_cells(cells: list, lesson: str, graded: bool, make_cell=dict) -> list:
    """The cells a learner gets, before solutions are stripped: those tagged solution-only
    dropped, and the exercise note after the title when the lesson has exercises (``graded``).
    Shared by ``exercise_version`` and nbgrader's release (``nbgrader_release.CoursekitRelease``)."""
    kept = [c for c in cells if SOLUTION_TAG not in c.get("metadata", {}).get("tags", [])]
    if graded:
        note = make_cell({"cell_type": "markdown", "metadata": {"tags": ["exercise-note"]},
                          "source": EXERCISE_NOTE.format(name=f"{lesson}.ipynb")})
        kept.insert(1 if kept and kept[0].get("cell_type") == "markdown" else 0, note)
    return kept


def lesson_metadata(lesson: str) -> dict[str, str]:
    """``metadata.coursekit`` of a learner notebook: the grader reads the lesson from it."""
    return {"lesson": lesson, "version": "exercise"}


def exercise_version(solution: dict[str, Any], lesson: str) -> dict[str, Any]:
    """The learners' version of a solution notebook (nbformat 4 JSON as a dict)."""
    nb = copy.deepcopy(solution)
    graded = any(c.get("cell_type") == "code" and BEGIN in _source(c) for c in nb.get("cells", []))
    cells = learner_cells(nb.get("cells", []), lesson, graded)
    for i, cell in enumerate(cells):
        cell.pop("id", None)
        cell.get("metadata", {}).pop("nbgrader", None)  # nbgrader's users hand out nbgrader's own release
        if cell.get("cell_type") == "code":
            where = f"{lesson}, cell {i}"
            cell["source"] = strip_hidden_tests(strip_solutions(_source(cell), where), where)
            cell["outputs"] = []
            cell["execution_count"] = None
    nb["cells"] = cells
    nb.setdefault("metadata", {})["coursekit"] = lesson_metadata(lesson)
    nb["nbformat"], nb["nbformat_minor"] = 4, 4  # no cell ids (4.5) keeps regenerated files stable
    return nb


def add_solution_note(nb: dict[str, Any], lesson: str) -> bool:
    """Give a solution notebook its 'solution version' note (tagged solution-only, so the
    exercise version drops it) after the title; False if it already has one."""
    cells = nb.setdefault("cells", [])
    if any(SOLUTION_TAG in c.get("metadata", {}).get("tags", []) for c in cells):
        return False
    note = {"cell_type": "markdown", "metadata": {"tags": [SOLUTION_TAG]}, "source": SOLUTION_NOTE.format(name=f"{lesson}.ipynb")}
    if nb.get("nbformat_minor", 0) >= 5:
        note["id"] = f"solution-note-{lesson[:2]}"
    cells.insert(1 if cells and cells[0].get("cell_type") == "markdown" else 0, note)
    return True


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(nb: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _lessons(solutions: Path) -> list[Path]:
    return sorted(p for p in solutions.glob("*.ipynb") if re.match(r"\d\d_", p.name))


def generate_exercise_notebooks(solutions: str | Path, out: str | Path, only: list[str] | None = None) -> list[Path]:
    """Write the exercise version of every ``solutions/NN_*.ipynb`` (or of the lessons named in
    ``only``, by stem or by NN prefix) to ``out/``, outputs cleared."""
    solutions, out = Path(solutions), Path(out)
    lessons = _lessons(solutions)
    if only:
        unknown = [o for o in only if not any(p.stem == o or p.stem.startswith(f"{o}_") for p in lessons)]
        if unknown:
            raise ValueError(f"no solution notebook for {unknown} in {solutions}; "
                             f"the lessons are {[p.stem for p in lessons]}")
        lessons = [p for p in lessons if any(p.stem == o or p.stem.startswith(f"{o}_") for o in only)]
    written = []
    for path in lessons:
        target = out / path.name
        _write(exercise_version(_read(path), path.stem), target)
        written.append(target)
    return written


def _cells(nb: dict[str, Any]) -> list[tuple[str, str, list]]:
    return [(c.get("cell_type", ""), _source(c), c.get("metadata", {}).get("tags", [])) for c in nb.get("cells", [])]


def out_of_sync(solutions: str | Path, out: str | Path) -> list[str]:
    """Why the committed exercise notebooks differ from freshly generated ones (empty: in sync).
    Outputs are not compared: they come from executing the exercise notebooks."""
    solutions, out = Path(solutions), Path(out)
    problems = []
    expected_names = set()
    for path in _lessons(solutions):
        expected_names.add(path.name)
        target = out / path.name
        if not target.exists():
            problems.append(f"{target} is missing")
            continue
        want, have = exercise_version(_read(path), path.stem), _read(target)
        if _cells(want) != _cells(have):
            problems.append(f"{target}: its cells differ from the exercise version of {path}")
        elif want["metadata"].get("coursekit") != have.get("metadata", {}).get("coursekit"):
            problems.append(f"{target}: metadata.coursekit differs")
    for extra in sorted(p.name for p in out.glob("[0-9][0-9]_*.ipynb")):
        if extra not in expected_names:
            problems.append(f"{out / extra} has no solution notebook in {solutions}")
    return problems
