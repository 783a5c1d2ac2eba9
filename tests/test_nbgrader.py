"""Instructors with nbgrader take the notebooks as they are: the real nbgrader, round trip.

A temporary nbgrader course gets the solution notebooks as the source of one assignment
(``python -m coursekit nbgrader --course``). nbgrader's ``generate_assignment`` must give the same
learner notebooks as coursekit's generator, with no solution or hidden test left. Three students
then submit every graded lesson: the solutions, the unmodified release, and a wrong answer to every
exercise. ``nbgrader autograde`` scores them, and each exercise's score must equal
``coursekit grade``'s on the same files (a wrong answer earns 0 or, where it is right in some
property, that property's points, the same from both).

To keep ``make test`` short, the submitted notebooks leave out the lessons' experiments (a student
may delete cells; nbgrader only requires its grade cells): each keeps the solution and autograder
test cells, and, in a new cell before each of them, the defining statements (imports, functions,
constants, check(...) bindings) of the cells it leaves out, which is also exactly what
``coursekit grade`` runs of a submission. A fourth student submits one lesson whole.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coursekit.grading import registry
from coursekit.grading.generate import _cells, strip_solutions
from coursekit.grading.grader import grade_many
from coursekit.grading.nbgrader_format import ASSIGNMENT, nbgrader_problems
from coursekit.grading.submission import definitions
from test_grader import landlock_available

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"
LESSONS = sorted(p.stem for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
STUDENTS = ("solutions", "unmodified", "wrong")
WHOLE = "01_channel_correlations"  # submitted whole, experiments included, by a fourth student
# Two more students answer gram_matrix (2 points: value 1, batch independence 1) of lesson 01 only:
SPECIAL = {
    # right for one image, wrong for batches: the value group's point only
    "partial": ("def gram_matrix(a):\n    F = a[0].reshape(a.shape[1], -1)\n"
                "    return (F @ F.T).unsqueeze(0).expand(a.shape[0], -1, -1)\n", 1),
    # coursekit's own reference: switched off while the learner's function is graded
    "reference": ("def gram_matrix(a):\n    from coursekit.grading import reference\n\n"
                  "    return reference(\"gram_matrix\")(a)\n", 0),
}

PERTURB = '''def _perturbed(out, again):
    """A wrong answer made from a right one: every number off by one, every module's output too,
    and a step that returns nothing is taken twice."""
    import torch

    if out is None:
        again()
        return None
    if isinstance(out, torch.nn.Module):
        out.register_forward_hook(lambda module, inputs, output: output + 1)
        return out
    if isinstance(out, torch.Tensor) or (isinstance(out, (int, float)) and not isinstance(out, bool)):
        return out + 1
    if isinstance(out, bool):
        return not out
    if isinstance(out, str):
        return out + " (changed)"
    if isinstance(out, (tuple, list)):
        return type(out)(_perturbed(o, again) for o in out)
    if isinstance(out, dict):
        return {k: _perturbed(v, again) for k, v in out.items()}
    return out'''


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _graded(lesson: str) -> list[str]:
    nb = json.loads((SOLUTIONS / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    return [_nbgrader(c)["grade_id"] for c in nb["cells"] if _nbgrader(c).get("solution")]


GRADED = [lesson for lesson in LESSONS if _graded(lesson)]


def run_nbgrader(course: Path, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    bin_dir = Path(sys.executable).parent  # nbgrader calls alembic from PATH
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "COURSEKIT_OFFLINE": "1"}
    return subprocess.run([str(bin_dir / "nbgrader"), *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=timeout)


def trimmed(nb: dict, wrong: bool = False) -> dict:
    """The submission a student who deleted the experiments would hand in (see the module's note);
    with ``wrong``, every exercise's function is replaced by one whose outputs are off."""
    cells, pending, out = nb["cells"], [], []
    if wrong:
        pending.append(PERTURB)
    for cell in cells:
        meta = _nbgrader(cell)
        if cell["cell_type"] != "code":
            continue
        if not (meta.get("solution") or meta.get("grade")):
            pending += definitions(_source(cell))
            continue
        if pending:
            out.append({"cell_type": "code", "execution_count": None, "id": f"kept-{len(out)}", "metadata": {},
                        "outputs": [], "source": "\n".join(pending)})
            pending = []
        cell = json.loads(json.dumps(cell))
        if wrong and meta.get("solution"):
            name = meta["grade_id"]
            source = re.sub(rf"^def {name}\(", f"def _right_{name}(", _source(cell), count=1, flags=re.M)
            cell["source"] = (source + f"\n\n\ndef {name}(*args, **kwargs):\n"
                              f"    return _perturbed(_right_{name}(*args, **kwargs), "
                              f"lambda: _right_{name}(*args, **kwargs))\n")
        cell["id"] = cell.get("id") or f"cell-{len(out)}"
        out.append(cell)
    return {**nb, "cells": out, "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("nbgrader-course")
    made = subprocess.run([sys.executable, "-m", "coursekit", "nbgrader", "--course", str(root), *LESSONS],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "COURSEKIT_OFFLINE": "1"})
    assert made.returncode == 0, made.stderr
    generated = run_nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    assert generated.returncode == 0, generated.stdout[-3000:] + generated.stderr[-3000:]
    return root


def test_solution_notebooks_carry_nbgrader_cell_metadata():
    problems = [p for lesson in LESSONS
                for p in nbgrader_problems(json.loads((SOLUTIONS / f"{lesson}.ipynb").read_text()), lesson)]
    assert not problems, "\n".join(problems)
    exercises = registry()
    for lesson in GRADED:
        nb = json.loads((SOLUTIONS / f"{lesson}.ipynb").read_text())
        tests = {_nbgrader(c)["grade_id"]: _nbgrader(c)["points"] for c in nb["cells"] if _nbgrader(c).get("grade")}
        assert tests == {f"test_{n}": exercises[n].points for n in _graded(lesson)}
        locked = [c for c in nb["cells"] if not _nbgrader(c).get("solution")
                  and "solution-only" not in c["metadata"].get("tags", [])]
        assert all(_nbgrader(c)["locked"] for c in locked)


def test_generate_assignment_gives_coursekit_learner_notebooks(course):
    for lesson in LESSONS:
        release = json.loads((course / "release" / ASSIGNMENT / f"{lesson}.ipynb").read_text())
        committed = json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text())
        assert _cells(release) == _cells(committed), f"{lesson}: nbgrader's release differs from coursekit's"
        assert release["metadata"]["coursekit"] == committed["metadata"]["coursekit"]
        text = "\n".join(_source(c) for c in release["cells"])
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "add_hidden_cases" not in text
        solution = json.loads((SOLUTIONS / f"{lesson}.ipynb").read_text())
        # Lines of a solution that the lesson's other code does not also contain must not reach learners.
        elsewhere = "\n".join(strip_solutions(_source(c)) for c in solution["cells"] if c["cell_type"] == "code")
        for cell in solution["cells"]:
            if _nbgrader(cell).get("solution"):
                body = _source(cell).split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
                lines = {ln.strip() for ln in body.splitlines() if len(ln.strip()) > 12 and not ln.strip().startswith("#")}
                leaked = [ln for ln in lines if ln in text and ln not in elsewhere]
                assert not leaked, f"{lesson}: solution text left in the release: {leaked}"


def _submit(course: Path) -> None:
    for student in STUDENTS:
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for lesson in GRADED:
            source = (course / "release" / ASSIGNMENT if student == "unmodified" else SOLUTIONS) / f"{lesson}.ipynb"
            nb = trimmed(json.loads(source.read_text()), wrong=student == "wrong")
            (folder / f"{lesson}.ipynb").write_text(json.dumps(nb, indent=1))
    whole = course / "submitted" / "whole" / ASSIGNMENT
    whole.mkdir(parents=True)
    (whole / f"{WHOLE}.ipynb").write_bytes((SOLUTIONS / f"{WHOLE}.ipynb").read_bytes())
    for student, (code, _points) in SPECIAL.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nb = trimmed(json.loads((SOLUTIONS / f"{WHOLE}.ipynb").read_text()))
        for cell in nb["cells"]:
            if _nbgrader(cell).get("grade_id") == "gram_matrix":
                cell["source"] = code
        (folder / f"{WHOLE}.ipynb").write_text(json.dumps(nb, indent=1))


def test_nbgrader_autograde_scores_equal_coursekit_grade(course):
    from nbgrader.api import Gradebook

    _submit(course)
    graded = run_nbgrader(course, "autograde", ASSIGNMENT, "--force")
    assert graded.returncode == 0, graded.stderr[-3000:]
    assert "ERROR" not in graded.stderr, graded.stderr[-3000:]
    reports = grade_many([course / "submitted"], progress=None, jobs=2)
    ours = {(Path(r.submission).parts[-3], r.lesson): {e.name: e.points for e in r.exercises} for r in reports}
    exercises = registry()
    rows = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in STUDENTS:
            for lesson in GRADED:
                for name in _graded(lesson):
                    theirs = gradebook.find_grade(f"test_{name}", lesson, ASSIGNMENT, student).score
                    rows.append((student, lesson, name, theirs, ours[student, lesson][name], exercises[name].points))
        for name in _graded(WHOLE):
            theirs = gradebook.find_grade(f"test_{name}", WHOLE, ASSIGNMENT, "whole").score
            rows.append(("solutions", WHOLE, name, theirs, ours["whole", WHOLE][name], exercises[name].points))
        for student, (_code, points) in SPECIAL.items():
            theirs = gradebook.find_grade("test_gram_matrix", WHOLE, ASSIGNMENT, student).score
            assert theirs == points == ours[student, WHOLE]["gram_matrix"], (student, theirs, ours[student, WHOLE])
    table = "\n".join(f"{s:10} {n:28} nbgrader {a:g} coursekit {b:g} of {m}" for s, _, n, a, b, m in rows)
    assert all(a == b for *_, a, b, _m in rows), "nbgrader and coursekit disagree:\n" + table
    assert all(a == m for s, *_, a, _b, m in rows if s == "solutions"), table
    for report in reports:  # where the kernel offers Landlock, every sandbox applied it
        if Path(report.submission).parts[-3] in ("solutions", "whole"):
            assert all(e.protections.get("landlock_abi", 0) == landlock_available() for e in report.exercises)
            assert all(e.protections.get("reference_disabled") is True for e in report.exercises)
    assert all(a == 0 for s, *_, a, _b, _m in rows if s == "unmodified"), table
    # A wrong answer never earns full marks. Most earn 0; a step whose returned loss is off but whose
    # parameter update is right, or a module whose layers are right but whose output is off, earns the
    # groups that check what it got right (the grading's promise), and nbgrader gives the same.
    assert all(a < m for s, *_, a, _b, m in rows if s == "wrong"), table
    assert sum(a == 0 for s, *_, a, _b, _m in rows if s == "wrong") >= 0.8 * sum(s == "wrong" for s, *_ in rows), table
