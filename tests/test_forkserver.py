"""The warm sandbox: one fork server per batch, a fresh confined child per exercise, nothing left behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from coursekit.grading.grader import Limits, grade_notebook
from coursekit.grading.sandboxes import Sandboxes

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "notebooks" / "solutions" / "01_channel_correlations.ipynb"
GRAM_OK = "def gram_matrix(a):\n    F = a.reshape(a.shape[0], a.shape[1], -1)\n    return F @ F.transpose(1, 2)\n"


def notebook(path: Path, *cells: str) -> Path:
    import json

    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c} for c in cells]}))
    return path


def descendants(pid: int) -> list[str]:
    """Command lines of every process below ``pid`` (bubblewrap and the server itself left out)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, frontier = [], {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier}
        found += frontier
    lines = []
    for p in found:
        try:
            lines.append((Path("/proc") / str(p) / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return [c for c in lines if "bwrap" not in c and "coursekit.grading.forkserver" not in c]


def gone_within(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def sandboxes():
    with Sandboxes() as sandboxes:
        assert sandboxes.server is not None and sandboxes.server.alive()
        yield sandboxes


@pytest.fixture
def server(sandboxes):
    return sandboxes.server


def test_a_batch_through_the_server_scores_like_single_sandboxes(sandboxes, server):
    report = grade_notebook(SOLUTION, sandboxes=sandboxes)
    assert report.points == report.max_points == 8
    assert all(e.protections.get("reference_disabled") for e in report.exercises)
    with Sandboxes(fork_server=False) as single:  # one process per exercise
        alone = grade_notebook(SOLUTION, sandboxes=single)
    assert [(e.name, e.points, e.status, e.protections) for e in alone.exercises] == \
        [(e.name, e.points, e.status, e.protections) for e in report.exercises]
    assert server.alive() and descendants(server.process.pid) == []  # every child reaped


def test_closing_ends_the_server_and_removes_the_batch_folder():
    sandboxes = Sandboxes()
    server, root = sandboxes.server, sandboxes.root
    assert root.is_dir()
    sandboxes.close()
    assert not server.alive() and not root.exists()


def test_a_dead_server_means_one_process_per_exercise_not_lost_points(sandboxes, server, tmp_path):
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()
    report = grade_notebook(notebook(tmp_path / "01_x.ipynb", GRAM_OK), sandboxes=sandboxes)
    assert report.exercises[0].points == 2 and report.exercises[0].protections


def test_a_child_over_time_is_killed_with_its_session_and_the_server_goes_on(sandboxes, server, tmp_path):
    busy = "import threading\nthreading.Thread(target=lambda: [0 for _ in iter(int, 1)]).start()\n" \
           "def gram_matrix(a):\n    while True:\n        pass\n"
    start = time.monotonic()
    score = grade_notebook(notebook(tmp_path / "01_x.ipynb", busy), sandboxes=sandboxes,
                           limits=Limits(timeout=3, cpu_seconds=60)).exercises[0]
    assert score.status == "timeout" and score.points == 0 and time.monotonic() - start < 60
    # The kill reaches the child's session at once; its namespace's reaper and worker follow it
    # (PR_SET_PDEATHSIG) a moment later.
    assert gone_within(lambda: descendants(server.process.pid) == [], seconds=10)
    again = grade_notebook(notebook(tmp_path / "01_y.ipynb", GRAM_OK), sandboxes=sandboxes).exercises[0]
    assert again.points == 2


def test_a_child_cannot_reach_the_servers_pipes(sandboxes, server, tmp_path):
    # Forged "exited" lines on every descriptor the child might have inherited: there are none
    # beyond its own 0, 1, 2 (its log), so the grader still times the child and scores its outputs.
    forge = ("import os\nfor fd in range(3, 256):\n    try:\n        os.write(fd, b'exited 1 0\\nstarted 1 /\\n')\n"
             "    except OSError:\n        pass\n" + GRAM_OK)
    score = grade_notebook(notebook(tmp_path / "01_x.ipynb", forge), sandboxes=sandboxes).exercises[0]
    assert score.points == 2 and score.status == "passed"
    assert server.alive()
    assert 1 not in server._exited and "/" not in server._started  # no forged line reached the grader


def test_without_namespaces_the_report_says_so_and_grading_goes_on(tmp_path):
    with Sandboxes(fork_server=False, isolate=False) as plain:
        report = grade_notebook(notebook(tmp_path / "01_x.ipynb", GRAM_OK), sandboxes=plain)
    assert report.protections["isolation"].startswith("no kernel namespaces")
    score = report.exercises[0]
    assert score.points == 2 and "namespaces" not in score.protections and score.protections["landlock_abi"] >= 0


def test_the_view_holds_the_interpreter_and_the_package_but_not_the_repository(tmp_path):
    import sys

    from coursekit.grading import bubblewrap

    args = bubblewrap.command(tmp_path, [sys.executable, "-c", "pass"])
    bound = {args[i + 1] for i, a in enumerate(args) if a in ("--ro-bind", "--bind")}
    package = bubblewrap.package_folder()
    assert str(package) in bound and str(package.parent) not in bound  # coursekit, not the repository
    assert not any(p.startswith(("/home", "/etc/shadow", "/run", "/var")) for p in bound)
    assert str(tmp_path) in bound and args[args.index(str(tmp_path)) + 1] == "/grade"
    if os.geteuid() == 0:  # root builds the view, then the sandbox leaves root before Python starts
        at = args.index("/usr/bin/setpriv")
        assert f"--reuid={bubblewrap.SANDBOX_UID}" in args[at:] and args.index(sys.executable) > at
    else:
        assert "--unshare-user" in args


def test_a_server_that_fails_after_being_told_a_folder_is_retired_and_the_exercise_runs_again_elsewhere(
        sandboxes, server, tmp_path, monkeypatch):
    # The server forks a child for the folder, but the grader gives up on it first (as when the
    # "started" answer comes too late). Running the exercise again in that same folder would put two
    # writers in it: the late child's np.save truncates the .npy files the grader reads (an honest
    # submission once lost a point that way). The server is shut down, children included, and the
    # exercise is graded in a fresh folder as a process of its own.
    from coursekit.grading.forkserver import ServerGone

    told, folders = [], []
    new_folder = sandboxes.new_folder

    def recording_new_folder():
        folders.append(new_folder())
        return folders[-1]

    def late(key, directory, wait_ready, timeout):
        server._send(key)  # the server forks a child for this folder...
        told.append(directory)
        raise ServerGone("the fork server did not fork")  # ...but the grader has given up on it

    monkeypatch.setattr(sandboxes, "new_folder", recording_new_folder)
    monkeypatch.setattr(server, "launch", late)
    report = grade_notebook(notebook(tmp_path / "01_x.ipynb", GRAM_OK), sandboxes=sandboxes)
    score = report.exercises[0]
    assert score.points == score.max_points == 2, score.summary()
    assert sandboxes.server is None and not server.alive()
    assert len(told) == 1 and len(folders) == 2 and folders[0] == told[0] != folders[1]
    assert not any(f.exists() for f in folders)
    assert descendants(server.process.pid) == []


def test_a_server_that_dies_while_an_exercise_runs_costs_the_learner_nothing(sandboxes, server, tmp_path):
    # The exercise's results may be half written when its server goes: they are not read; the
    # exercise runs again in a fresh folder and earns its points.
    import threading

    slow = "import time\ntime.sleep(3)\n" + GRAM_OK
    killed = []

    def kill_once_running():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any((folder / "ready").exists() for folder in sandboxes.root.iterdir()):
                time.sleep(0.5)  # inside the learner's three seconds
                os.killpg(server.process.pid, signal.SIGKILL)
                killed.append(True)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_once_running)
    killer.start()
    report = grade_notebook(notebook(tmp_path / "01_x.ipynb", slow), sandboxes=sandboxes)
    killer.join()
    assert killed
    score = report.exercises[0]
    assert score.points == score.max_points == 2, score.summary()
    assert sandboxes.server is None and not server.alive()
