"""The grader: full marks for the solutions, nothing for hostile or unfinished submissions, and a
batch that always finishes. Every test here starts real sandbox processes (a few seconds each)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from coursekit.cli import main as cli_main
from coursekit.grading.grader import Limits, grade_many, grade_notebook, lessons, write_gradebook

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"
FAST = Limits(timeout=20, cpu_seconds=20, memory_mb=4096)

pytestmark = pytest.mark.slow

GRAM_OK = "def gram_matrix(a):\n    F = a.reshape(a.shape[0], a.shape[1], -1)\n    return F @ F.transpose(1, 2)\n"


def landlock_available() -> int:
    from coursekit.grading import confine

    try:
        return confine._abi(confine._libc())
    except OSError:
        return 0


def notebook(path: Path, *cells: str, lesson: str | None = None) -> Path:
    nb = {"nbformat": 4, "nbformat_minor": 4, "metadata": {},
          "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c}
                    for c in cells]}
    if lesson:
        nb["metadata"]["coursekit"] = {"lesson": lesson}
    path.write_text(json.dumps(nb))
    return path


# The solutions' full marks (with Landlock applied and the reference switched off in every
# sandbox) are checked in tests/test_nbgrader.py, beside nbgrader's scores of the same notebooks.


def test_unmodified_exercise_notebook_scores_zero_and_says_not_implemented():
    report = grade_notebook(ROOT / "notebooks" / "02_style_cost.ipynb", limits=FAST)
    assert report.lesson == "02_style_cost" and report.points == 0 and report.max_points == 6
    assert {s.status for s in report.exercises} == {"not_implemented"}
    assert "not implemented" in report.exercises[0].feedback[0]
    assert all(s.protections == {} for s in report.exercises)  # the stub as generated: no sandbox started


def test_a_stub_with_anything_else_in_its_cell_is_run_in_the_sandbox(tmp_path):
    stub = "def gram_matrix(a):\n    raise NotImplementedError()\n"
    cheat = stub + "gram_matrix = lambda a: a.flatten(2) @ a.flatten(2).transpose(1, 2)\n"
    report = grade_notebook(notebook(tmp_path / "01_x.ipynb", cheat), limits=FAST)
    score = report.exercises[0]
    assert score.protections and score.points == score.max_points == 2  # run, and right


def test_feedback_names_public_cases_but_never_hidden_inputs(tmp_path):
    wrong = "def gram_matrix(a):\n    F = a.reshape(a.shape[0], a.shape[1], -1)\n    return F @ F.transpose(1, 2) / F.shape[-1]\n"
    report = grade_notebook(notebook(tmp_path / "01_channel_correlations.ipynb", "import torch", wrong), limits=FAST)
    score = report.exercises[0]
    assert score.status == "partial" and score.points == 0  # right only when nH*nW = 1: no group whole
    hidden = [f for f in score.feedback if f.startswith("hidden test")]
    assert hidden and all(f.endswith(": returned wrong values") for f in hidden)
    assert any(f.startswith("a (1, 3, 4, 5) input") for f in score.feedback)
    assert score.hints and "nH·nW" in score.hints[0]  # the catalogued mistake is recognised


def test_points_come_by_group_each_all_or_nothing(tmp_path):
    # Right for one image, wrong for batches: the value group's point, none of the batch group's.
    partial = "def gram_matrix(a):\n    F = a[0].reshape(a.shape[1], -1)\n    return (F @ F.T).unsqueeze(0).expand(a.shape[0], -1, -1)\n"
    score = grade_notebook(notebook(tmp_path / "01_x.ipynb", partial), limits=FAST).exercises[0]
    assert score.status == "partial" and score.points == 1 and score.max_points == 2
    assert score.groups["value"] == {"points": 1, "max": 1, "passed": True}
    assert score.groups["batch independence"] == {"points": 0, "max": 1, "passed": False}
    assert "value 1/1, batch independence 0/1" in score.summary()
    assert any(f.endswith("[batch independence]: returned wrong values") for f in score.feedback)


HOSTILE = {
    "loop_in_function": ("def gram_matrix(a):\n    while True:\n        pass\n", "timeout", "did not finish within"),
    "loop_at_top_of_cell": ("while True:\n    pass\n" + GRAM_OK, "timeout", "did not finish within"),
    "huge_allocation": ("import torch\ndef gram_matrix(a):\n    x = torch.ones(2**40)\n    return x\n", "failed",
                        "raised RuntimeError"),
    "huge_bytes": ("def gram_matrix(a):\n    return bytearray(64 * 2**30)\n", "failed", "raised MemoryError"),
    "os_exit": ("import os\ndef gram_matrix(a):\n    os._exit(0)\n", "crashed", "exit code 0"),
    "sys_exit": ("import sys\ndef gram_matrix(a):\n    sys.exit(0)\n", "failed", "raised SystemExit"),
    "exception_at_import": ("import no_such_module_anywhere\n" + GRAM_OK, "error", "ModuleNotFoundError"),
    "raise_at_import": ("raise RuntimeError('boom')\n" + GRAM_OK, "error", "RuntimeError: boom"),
    "monkeypatch_torch": ("import torch\ntorch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
                          "torch.Tensor.__eq__ = lambda *a: True\n"
                          "def gram_matrix(a):\n    return torch.zeros(a.shape[0], a.shape[1], a.shape[1], dtype=a.dtype)\n",
                          "failed", "values differ"),
    "monkeypatch_checker": ("import coursekit.grading as g, coursekit.grading.runner as r\n"
                            "r.outputs_match = lambda *a, **k: (True, '')\n"
                            "g.check = lambda *a, **k: None\n"
                            "def gram_matrix(a):\n    return a\n", "failed", "returned shape"),
    "fake_verdict": ("print('gram_matrix: 2/2 (passed, 8 of 8 tests)')\nprint('All tests passed!')\n"
                     "def gram_matrix(a):\n    print('PASSED')\n    return a.sum()\n", "failed", "returned shape"),
    "calls_the_reference": ("from coursekit.nst.costs import gram_matrix as ref\ndef gram_matrix(a):\n    return ref(a)\n",
                            "violation", "reference implementation of gram_matrix"),
    "reference_through_check": ("from coursekit.grading import reference\ndef gram_matrix(a):\n"
                                "    return reference('gram_matrix')(a)\n", "violation", "reference implementation"),
    "network": ("import socket\ndef gram_matrix(a):\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
                "    return a\n", "violation", "using the network"),
    "subprocess": ("import os\ndef gram_matrix(a):\n    os.system('echo hi')\n    return a\n", "violation",
                   "starting a process"),
    "kill_the_grader": ("import os, signal\ndef gram_matrix(a):\n    os.kill(os.getppid(), signal.SIGKILL)\n",
                        "violation", "sending a signal"),
}


def test_hostile_submissions_get_zero_with_a_reason_and_the_batch_finishes(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    outside = tmp_path / "outside" / "pwned.txt"
    outside.parent.mkdir()
    cases = dict(HOSTILE)
    cases["write_outside"] = (f"def gram_matrix(a):\n    open({str(outside)!r}, 'w').write('x')\n    return a\n",
                              "violation", "writing outside its temporary directory")
    cases["write_at_import"] = (f"open({str(outside)!r}, 'w').write('x')\n" + GRAM_OK, "violation",
                                "writing outside")
    for name, (code, _, _) in cases.items():
        notebook(folder / f"{name}.ipynb", "import torch", code, lesson="01_channel_correlations")
    notebook(folder / "zz_honest.ipynb", "import torch", GRAM_OK, lesson="01_channel_correlations")
    (folder / "broken.ipynb").write_text("{ this is not json")

    reports = {Path(r.submission).stem: r for r in grade_many([folder], limits=Limits(timeout=10, cpu_seconds=60),
                                                               progress=None, jobs=2)}
    assert set(reports) == set(cases) | {"zz_honest", "broken"}
    for name, (_, status, reason) in cases.items():
        score = reports[name].exercises[0]
        assert score.points == 0, f"{name}: {score.summary()}"
        assert score.status == status, f"{name}: {score.summary()}"
        assert any(reason in line for line in score.feedback), f"{name}: {score.summary()}"
    assert not outside.exists()
    honest = {e.name: e for e in reports["zz_honest"].exercises}["gram_matrix"]
    assert honest.points == honest.max_points == 2
    assert reports["broken"].error and "not a readable notebook" in reports["broken"].error

    gradebook = tmp_path / "gradebook.csv"
    write_gradebook(list(reports.values()), gradebook)
    rows = {Path(r["submission"]).stem: r for r in csv.DictReader(gradebook.open())}
    assert rows["zz_honest"]["gram_matrix"] == "2.0" and rows["os_exit"]["gram_matrix"] == "0.0"
    assert rows["broken"]["error"].startswith("not a readable notebook")


def test_one_hostile_exercise_does_not_cost_the_others(tmp_path):
    # Lesson 02: layer_style_cost hangs; style_cost is right and uses the reference for it.
    cells = [
        "import torch\nfrom coursekit.grading import check\nfrom coursekit.nst.costs import gram_matrix",
        "def layer_style_cost(a_S, a_G):\n    while True:\n        pass\n",
        "J_style_layer = check('layer_style_cost', layer_style_cost).use_or_reference()",
        "def style_cost(a_S, a_G, style_weights):\n    J = 0.0\n    for layer, lam in style_weights.items():\n"
        "        J = J + lam * J_style_layer(a_S[layer], a_G[layer])\n    return J\n",
    ]
    report = grade_notebook(notebook(tmp_path / "02_style_cost.ipynb", *cells), limits=Limits(timeout=10, cpu_seconds=60))
    scores = {s.name: s for s in report.exercises}
    assert scores["layer_style_cost"].status == "timeout" and scores["layer_style_cost"].points == 0
    assert scores["style_cost"].status == "passed" and scores["style_cost"].points == 2


def test_the_cpu_time_limit_stops_a_busy_loop_before_the_wall_clock(tmp_path):
    busy = "def gram_matrix(a):\n    while True:\n        pass\n"
    score = grade_notebook(notebook(tmp_path / "01_x.ipynb", busy), limits=Limits(timeout=120, cpu_seconds=3)).exercises[0]
    assert score.status == "timeout" and score.points == 0
    assert any("more than 3 s of CPU time" in f for f in score.feedback), score.summary()


def test_cli_writes_json_and_csv(tmp_path):
    sub = notebook(tmp_path / "01_channel_correlations.ipynb", "import torch", GRAM_OK)
    out, book = tmp_path / "report.json", tmp_path / "book.csv"
    assert cli_main(["grade", str(sub), "--json", str(out), "--csv", str(book), "--quiet"]) == 0
    data = json.loads(out.read_text())
    assert data[0]["points"] == 2 and data[0]["exercises"][0]["status"] == "passed"
    assert "gram_matrix" in book.read_text().splitlines()[0]


def test_unknown_lesson_is_an_error_not_a_crash(tmp_path):
    report = grade_notebook(notebook(tmp_path / "homework.ipynb", GRAM_OK))
    assert report.error and "--lesson" in report.error and report.points == 0
    later = grade_notebook(notebook(tmp_path / "10_next_course.ipynb", GRAM_OK))
    assert later.lesson == "10_next_course" and "has no graded exercises" in later.error and later.max_points == 0
    setup = grade_notebook(ROOT / "notebooks" / "00_setup_check.ipynb")  # the toy relu, shown solved
    assert setup.lesson == "00_setup_check" and setup.points == setup.max_points == 1, setup.summary()


# ---- the grader's own robustness against what a submission leaves or names (issue #19) ----------
def test_a_hidden_case_never_reports_text_the_submission_controls(tmp_path):
    # The exception's class name carries the hidden input's shape out; the grader names only built-ins.
    leak = ("def gram_matrix(a):\n    if a.shape[0] > 1:\n"
            "        raise type('Shape_' + '_'.join(map(str, a.shape)), (Exception,), {})('secret ' + str(a.sum()))\n"
            "    F = a.reshape(a.shape[0], a.shape[1], -1)\n    return F @ F.transpose(1, 2)\n")
    score = grade_notebook(notebook(tmp_path / "01_x.ipynb", leak), limits=FAST).exercises[0]
    hidden = [f for f in score.feedback if f.startswith("hidden test")]
    assert hidden and all("Shape_" not in f and "secret" not in f for f in hidden)
    assert any(f.endswith("raised an exception") for f in hidden)


def test_a_notebook_whose_metadata_names_another_lesson_is_an_error(tmp_path):
    path = notebook(tmp_path / "01_channel_correlations.ipynb", GRAM_OK, lesson="02_style_cost")
    report = grade_notebook(path, limits=FAST)
    assert report.exercises == [] and "metadata says lesson '02_style_cost'" in report.error
    assert grade_notebook(path, lesson="01_channel_correlations", limits=FAST).exercises  # --lesson decides


def test_a_huge_cell_is_refused_before_it_is_parsed(tmp_path):
    report = grade_notebook(notebook(tmp_path / "01_x.ipynb", "x = 1\n" * 50_000 + GRAM_OK), limits=FAST)
    assert report.exercises == [] and "over the grader's limit" in report.error


def test_a_file_name_that_is_not_utf8_does_not_break_the_batch(tmp_path):
    import os

    folder = tmp_path / "class"
    folder.mkdir()
    name = os.fsdecode(b"01_\xff\xfe.ipynb")
    notebook(folder / name, GRAM_OK)
    lines = []
    reports = grade_many([folder], limits=FAST, progress=lines.append)
    assert len(reports) == 1 and reports[0].exercises[0].points == 2
    assert "\\xff" in reports[0].submission and lines and lines[0].encode("utf-8")


def test_an_output_file_that_is_a_fifo_or_a_link_is_refused_without_waiting(tmp_path):
    import os

    from coursekit.grading import channel

    os.mkfifo(tmp_path / "case_0.json")
    (tmp_path / "case_1.json").symlink_to("/etc/passwd")
    assert channel.read(tmp_path, "case_0")["kind"] == "error"  # returns at once: no reader blocks on it
    assert channel.read(tmp_path, "case_1")["kind"] == "error"
    assert channel.read(tmp_path, "missing") is None


def test_the_results_channel_carries_plain_data_and_nothing_else(tmp_path):
    import pickle

    import numpy as np
    import torch

    from coursekit.grading import channel

    value = {"kind": "value", "value": (torch.arange(6.0).reshape(2, 3), [1, 2.5, None, "x"], {"a": torch.tensor([True])}),
             "violations": []}
    channel.write(value, tmp_path, "case_0")
    back = channel.read(tmp_path, "case_0")
    assert back["kind"] == "value" and isinstance(back["value"], tuple)
    assert torch.equal(back["value"][0], value["value"][0]) and back["value"][1] == [1, 2.5, None, "x"]
    assert torch.equal(back["value"][2]["a"], torch.tensor([True]))
    # What a hostile sandbox could plant instead: a pickled object array, an array from another
    # folder, a shape that lies, JSON nested a million deep, a file over the cap.
    np.save(tmp_path / "case_1_0.npy", np.array([object()], dtype=object), allow_pickle=True)
    (tmp_path / "case_1.json").write_text('{"__array__": "case_1_0.npy", "dtype": "float64", "shape": [1]}')
    (tmp_path / "case_2.json").write_text('{"__array__": "../secret_0.npy", "dtype": "float64", "shape": [1]}')
    np.save(tmp_path / "case_3_0.npy", np.zeros(4))
    (tmp_path / "case_3.json").write_text('{"__array__": "case_3_0.npy", "dtype": "float64", "shape": [2]}')
    (tmp_path / "case_4.json").write_text("[" * 1_000_000 + "]" * 1_000_000)
    (tmp_path / "case_5.json").write_bytes(b" " * (channel.MAX_JSON_BYTES + 1))
    (tmp_path / "case_6.json").write_bytes(pickle.dumps({"kind": "value"}))
    for stem in ("case_1", "case_2", "case_3", "case_4", "case_5", "case_6"):
        got = channel.read(tmp_path, stem)
        assert isinstance(got, dict) and got["kind"] == "error", (stem, got)
    # One exercise's results share a budget: the same 32 KB array read back by many cases runs it out.
    np.save(tmp_path / "case_7_0.npy", np.zeros(4096))
    (tmp_path / "case_7.json").write_text('{"__array__": "case_7_0.npy", "dtype": "float64", "shape": [4096]}')
    budget = [100_000]
    first, second, third, fourth = (channel.read(tmp_path, "case_7", budget) for _ in range(4))
    assert all(isinstance(r, torch.Tensor) for r in (first, second, third))
    assert isinstance(fourth, dict) and "limit" in fourth["message"]


def test_a_folder_tree_of_any_depth_is_removed(tmp_path):
    import os

    from coursekit.grading.sandboxes import remove_tree

    top = tmp_path / "sandbox"
    top.mkdir()
    here = os.getcwd()  # the tests' working directory must come back: later tests use relative paths
    os.chdir(top)
    try:
        for _ in range(3000):  # deeper than Python's recursion limit
            os.mkdir("d")
            os.chdir("d")
        os.chmod(".", 0)
    finally:
        os.chdir(here)
    remove_tree(top)
    assert not top.exists()


def test_sharded_grading_merges_into_the_same_gradebook_as_one_batch(tmp_path):
    import os
    import subprocess
    import sys

    folder = tmp_path / "class"
    folder.mkdir()
    answers = [GRAM_OK, "def gram_matrix(a):\n    return a\n", "def gram_matrix(a):\n    raise NotImplementedError()\n",
               "def gram_matrix(a):\n    F = a[0].reshape(a.shape[1], -1)\n"
               "    return (F @ F.T).unsqueeze(0).expand(a.shape[0], -1, -1)\n", GRAM_OK]
    for i, answer in enumerate(answers):
        (folder / f"student{i}").mkdir()
        notebook(folder / f"student{i}" / "01_channel_correlations.ipynb", answer)
    env = {**os.environ, "COURSEKIT_OFFLINE": "1"}
    grade = [sys.executable, "-m", "coursekit", "grade", str(folder), "--quiet", "--timeout", "20"]
    whole = subprocess.run([*grade, "--csv", str(tmp_path / "one.csv")], capture_output=True, text=True, env=env)
    assert whole.returncode == 0, whole.stderr
    shards = [subprocess.Popen([*grade, "--shard", f"{k}/3", "--json", str(tmp_path / f"part{k}.json")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env) for k in (1, 2, 3)]
    assert all(p.wait(timeout=600) == 0 for p in shards), [p.stderr.read() for p in shards]
    sizes = [len(json.loads((tmp_path / f"part{k}.json").read_text())) for k in (1, 2, 3)]
    assert sorted(sizes) == [1, 2, 2]  # every submission in exactly one slice
    merged = subprocess.run([sys.executable, "-m", "coursekit", "grade", "--merge",
                             *[str(tmp_path / f"part{k}.json") for k in (1, 2, 3)], "--csv", str(tmp_path / "merged.csv")],
                            capture_output=True, text=True, env=env)
    assert merged.returncode == 0, merged.stderr
    assert (tmp_path / "merged.csv").read_text() == (tmp_path / "one.csv").read_text()
    rows = list(csv.reader((tmp_path / "one.csv").open()))
    assert rows[0][-3] == "points" and [row[-3] for row in rows[1:]] == ["2.0", "0.0", "0.0", "1.0", "2.0"]


def test_a_shard_is_checked_before_anything_is_graded():
    from coursekit.grading.grader import shard_of

    paths = [Path(f"s{i}.ipynb") for i in range(7)]
    assert [len(shard_of(paths, f"{k}/3")) for k in (1, 2, 3)] == [3, 2, 2]
    assert sorted(p for k in (1, 2, 3) for p in shard_of(paths, f"{k}/3")) == paths
    for wrong in ("0/3", "4/3", "3", "a/b"):
        with pytest.raises(ValueError, match="K/N"):
            shard_of(paths, wrong)
