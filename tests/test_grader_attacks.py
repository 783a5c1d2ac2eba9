"""The grader as a trust boundary: a corpus of hostile submissions, graded in one batch among 300
honest ones, each attack class at least three ways.

Every attack must earn 0 points with a reason, and leave nothing behind outside its sandbox: no
file written or changed on the host, no process alive after grading, no connection to a socket
the host listens on, no honest neighbour harmed. The classes follow issue #19: getting the
reference back, reaching the enforcement, neighbours, leaving things behind, breaking the grader,
leaks, identity. The audit hook is switched off (through the garbage collector) in several
attacks on purpose: the kernel's namespaces must hold without it.

Needs bubblewrap (``make env`` installs it); skipped without it unless COURSEKIT_REQUIRE_SANDBOX=1
(set by ``.ci/run``), which makes it fail instead.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import sys
import tempfile
from pathlib import Path

import pytest

from coursekit.grading import bubblewrap
from coursekit.grading.grader import Limits, grade_many

pytestmark = pytest.mark.slow

LESSON = "01_channel_correlations"
HONEST = 300
GRAM_OK = "def gram_matrix(a):\n    F = a.reshape(a.shape[0], a.shape[1], -1)\n    return F @ F.transpose(1, 2)\n"
# Switches the audit hook off and forgets what it saw: what is left is the kernel's isolation.
GUARD_OFF = ("import gc\nfor _g in gc.get_objects():\n    if type(_g).__module__ == 'coursekit.grading.sandbox' and type(_g).__name__ == 'Guard':\n"
             "        _g.active = False\n        _g.violations.clear()\n")
MARKER = 987650  # processes the attacks start carry MARKER + k in their command line


def _attacks(outside: Path, tcp_port: int, unix_path: Path, abstract: str) -> dict[str, tuple[str, str, str]]:
    """name -> (the cell defining gram_matrix, the class, a reason expected in the feedback)."""
    python = os.path.realpath(sys.executable)
    return {
        # ---- getting the reference back --------------------------------------------------------
        "reference_reload": ("import importlib, coursekit.nst.costs as c\ndef gram_matrix(a):\n"
                             "    return importlib.reload(c).gram_matrix(a)\n", "reference", "raised ModuleNotFoundError"),
        "reference_by_path": ("import importlib.util, coursekit.nst.costs as c\ndef gram_matrix(a):\n"
                              "    spec = importlib.util.spec_from_file_location('fresh', c.__file__)\n"
                              "    m = importlib.util.module_from_spec(spec)\n    spec.loader.exec_module(m)\n"
                              "    return m.gram_matrix(a)\n", "reference", "raised FileNotFoundError"),
        "reference_source": ("import inspect, coursekit.nst.costs as c\ndef gram_matrix(a):\n    ns = {}\n"
                             "    exec(inspect.getsource(c), ns)\n    return ns['gram_matrix'](a)\n", "reference",
                             "raised OSError"),
        "reference_from_solutions": ("import json, pathlib, coursekit\ndef gram_matrix(a):\n"
                                     "    root = pathlib.Path(coursekit.__file__).parents[1]\n"
                                     "    nb = json.loads((root / 'notebooks/solutions/01_channel_correlations.ipynb').read_text())\n"
                                     "    ns = {}\n    for c in nb['cells']:\n        if 'def gram_matrix' in ''.join(c['source']):\n"
                                     "            exec(''.join(c['source']), ns)\n    return ns['gram_matrix'](a)\n",
                                     "reference", "raised FileNotFoundError"),
        "reference_from_gc": (GUARD_OFF + "import types\ndef gram_matrix(a):\n"
                              "    for f in gc.get_objects():\n"
                              "        if isinstance(f, types.FunctionType) and f.__name__ == 'gram_matrix' and f is not gram_matrix:\n"
                              "            return f(a)\n", "reference", "switched off"),
        "reference_in_autograd": ("import torch\nfrom coursekit.nst import costs\ndef gram_matrix(a):\n"
                                  "    out = costs._GramTargetCost.apply(a.detach().requires_grad_(True), torch.zeros(1, dtype=a.dtype), 1.0)\n"
                                  "    f, D = out.grad_fn.saved_tensors\n    return D.detach().to(a.dtype)\n",
                                  "reference", "reference implementation of gram_matrix"),
        # ---- reaching the enforcement ----------------------------------------------------------
        "guard_off_then_reference": (GUARD_OFF + "from coursekit.nst.costs import gram_matrix as ref\n"
                                     "def gram_matrix(a):\n    return ref(a)\n", "enforcement", "switched off"),
        "blocked_events_cleared": ("import subprocess, coursekit.grading.sandbox as s\ndef gram_matrix(a):\n"
                                   "    try:\n        s.BLOCKED_EVENTS.clear()\n    except AttributeError:\n        pass\n"
                                   f"    subprocess.Popen(['sleep', '{MARKER + 1}'])\n    return a\n", "enforcement",
                                   "starting a process"),
        "fake_import_frame": ("import subprocess\ndef gram_matrix(a):\n"
                              f"    code = compile(\"subprocess.Popen(['sleep', '{MARKER + 2}'])\", '<frozen importlib._bootstrap>', 'exec')\n"
                              "    exec(code, {'subprocess': subprocess})\n    return a\n", "enforcement",
                              "starting a process"),
        "unmount_the_hiding": (GUARD_OFF + "import ctypes, os, coursekit.nst.costs as c\ndef gram_matrix(a):\n"
                               "    libc = ctypes.CDLL(None, use_errno=True)\n"
                               "    libc.unshare(0x10000000 | 0x00020000)\n"
                               "    libc.umount2(os.path.dirname(os.path.dirname(c.__file__)).encode(), 2)\n"
                               "    ns = {}\n    exec(open(c.__file__).read(), ns)\n    return ns['gram_matrix'](a)\n",
                               "enforcement", "raised FileNotFoundError"),
        # ---- neighbours ------------------------------------------------------------------------
        "peer_results": ("import glob, numpy, torch\ndef gram_matrix(a):\n"
                         "    for p in glob.glob('/grade/*/results/*.npy') + glob.glob('/tmp/**/*.npy', recursive=True):\n"
                         "        t = torch.from_numpy(numpy.load(p))\n"
                         "        if t.shape == (a.shape[0], a.shape[1], a.shape[1]):\n            return t\n",
                         "neighbours", "returned NoneType"),
        "peer_processes": (GUARD_OFF + "import os, signal\ndef gram_matrix(a):\n"
                           "    seen = [p for p in os.listdir('/proc') if p.isdigit()]\n"
                           "    os.kill(-1, signal.SIGKILL)\n    return len(seen)\n", "neighbours", "raised ProcessLookupError"),
        "drop_reader": ("import glob, torch\ndef gram_matrix(a):\n"
                        "    for p in glob.glob('/tmp/drop_*.pt') + glob.glob('/dev/shm/drop_*.pt') + glob.glob('/grade/*/drop_*.pt'):\n"
                        "        t = torch.load(p)\n        if t.shape == (a.shape[0], a.shape[1], a.shape[1]):\n"
                        "            return t\n", "neighbours", "returned NoneType"),
        # ---- leaving things behind -------------------------------------------------------------
        "daemon": (GUARD_OFF + "import os\ndef gram_matrix(a):\n    if os.fork() == 0:\n        os.setsid()\n"
                   "        if os.fork() == 0:\n"
                   f"            os.execv('/usr/bin/sleep', ['sleep', '{MARKER + 3}'])\n        os._exit(0)\n"
                   "    return a\n", "behind", "returned shape"),
        "fork_bomb": (GUARD_OFF + "import os\ndef gram_matrix(a):\n    for _ in range(500):\n        try:\n"
                      "            if os.fork() == 0:\n"
                      f"                os.execv('/usr/bin/sleep', ['sleep', '{MARKER + 4}'])\n"
                      "        except OSError:\n            break\n    return a\n", "behind", "returned shape"),
        "fchmod_outside": (GUARD_OFF + "import os\ndef gram_matrix(a):\n"
                           f"    for path in ({python!r}, {str(outside)!r}):\n        try:\n"
                           "            fd = os.open(path, os.O_RDONLY)\n            os.fchmod(fd, 0o777)\n"
                           "            os.fchown(fd, os.getuid(), os.getgid())\n"
                           "            os.setxattr(fd, 'user.pwned', b'1')\n        except OSError:\n            pass\n"
                           "    return a\n", "behind", "returned shape"),
        "write_outside": (GUARD_OFF + "import os\ndef gram_matrix(a):\n"
                          f"    for path in ({str(outside / 'pwned')!r}, '/grade/../pwned', '/work/pwned'):\n"
                          "        try:\n            open(path, 'w').write('x')\n        except OSError:\n            pass\n"
                          "    return a\n", "behind", "returned shape"),
        "host_sockets": (GUARD_OFF + "import socket\ndef gram_matrix(a):\n"
                         f"    for family, address in ((socket.AF_UNIX, {str(unix_path)!r}), (socket.AF_UNIX, {abstract!r}),\n"
                         f"                            (socket.AF_INET, ('127.0.0.1', {tcp_port}))):\n"
                         "        try:\n            socket.socket(family).connect(address)\n        except OSError:\n"
                         "            pass\n    return a\n", "behind", "returned shape"),
        # ---- breaking the grader ---------------------------------------------------------------
        "fifo_results": ("import os\ndef gram_matrix(a):\n    for i in range(8):\n        for ext in ('json', 'npy'):\n"
                         "            try:\n                os.mkfifo(f'results/case_{i}.{ext}')\n            except OSError:\n"
                         "                pass\n    return a\n", "breaking", "returned shape"),
        "huge_message": ("def gram_matrix(a):\n    raise ValueError('x' * 16_000_000)\n", "breaking", "raised ValueError"),
        "deep_tree": (GUARD_OFF + "import os\ndef gram_matrix(a):\n    here = os.getcwd()\n    for _ in range(3000):\n"
                      "        os.mkdir('d')\n        os.chdir('d')\n    os.chmod('.', 0)\n    os.chdir(here)\n    return a\n",
                      "breaking", "returned shape"),
        "huge_output": ("import torch\ndef gram_matrix(a):\n    return torch.zeros(200_000_000, dtype=torch.uint8)\n",
                        "breaking", "could not be saved"),  # the file-size limit
        "forged_empty_npy": ("import json, os\ndef gram_matrix(a):\n    for i in range(8):\n"
                             "        open(f'results/case_{i}_0.npy', 'wb').close()\n"
                             "        entry = {'__array__': f'case_{i}_0.npy', 'dtype': 'float64', 'shape': [1]}\n"
                             "        json.dump({'__dict__': {'kind': 'value', 'value': entry, 'violations': []}},\n"
                             "                  open(f'results/case_{i}.json', 'w'))\n    os._exit(0)\n",
                             "breaking", "not what the sandbox writes: EOFError"),
        "results_folder_link": ("import os\ndef gram_matrix(a):\n    os.rename('results', 'elsewhere')\n"
                                "    os.symlink('/', 'results')\n    os._exit(0)\n", "breaking", "did not finish"),
        # ---- leaks -----------------------------------------------------------------------------
        "leak_in_message": ("def gram_matrix(a):\n    raise ValueError('INPUT=' + repr(a.flatten().tolist()))\n", "leaks",
                            "raised ValueError"),
        "leak_in_type_name": ("def gram_matrix(a):\n    name = 'Leak_' + '_'.join(str(int(v * 1000)) for v in a.flatten()[:4])\n"
                              "    raise type(name, (Exception,), {})()\n", "leaks", "raised"),
        "leak_shadow": ("def gram_matrix(a):\n    raise ValueError(open('/etc/shadow').read())\n", "leaks",
                        "raised FileNotFoundError"),  # not in the view at all
        "leak_through_violations": ("import gc\n_g = [o for o in gc.get_objects() if type(o).__name__ == 'Guard'\n"
                                    "      and type(o).__module__ == 'coursekit.grading.sandbox'][0]\n_g.active = False\n"
                                    "def gram_matrix(a):\n"
                                    "    for o in gc.get_objects():\n"
                                    "        if isinstance(o, dict) and 'cases' in o and 'target' in o:\n"
                                    "            text = 'LEAK ' + repr([c[0][0].flatten().tolist()[:6] for c in o['cases'][4:]])\n"
                                    "            _g.violations.append(\"the grader's sandbox does not allow \" + text)\n"
                                    "            _g.violations.append(text)\n"
                                    "    F = a.reshape(a.shape[0], a.shape[1], -1)\n    return F @ F.transpose(1, 2)\n",
                                    "leaks", "the sandbox recorded an operation it refuses"),
        "leak_through_protections": ("import json\ndef gram_matrix(a):\n"
                                     "    forged = {'namespaces': 'LEAK ' + repr(a.flatten().tolist()[:6]), 'LEAK': 1}\n"
                                     "    json.dump({'__dict__': {'protections': {'__dict__': forged}}}, open('results/protections.json', 'w'))\n"
                                     "    return a\n", "leaks", "returned shape"),
        "leak_environment": ("import os\ndef gram_matrix(a):\n    found = dict(os.environ)\n"
                             "    for p in os.listdir('/proc'):\n        try:\n"
                             "            found[p] = open(f'/proc/{p}/environ').read()\n        except OSError:\n            pass\n"
                             "    raise ValueError(repr(found))\n", "leaks", "raised ValueError"),
    }


# Honest, but leaves its answers where a neighbour might look (Landlock lets it write only in its
# own folder; the others' views do not contain that folder, nor this /tmp or /dev/shm).
DROP_WRITER = ("import torch, os\ndef gram_matrix(a):\n    F = a.reshape(a.shape[0], a.shape[1], -1)\n"
               "    G = F @ F.transpose(1, 2)\n    for d in ('/tmp', '/dev/shm', '.'):\n        try:\n"
               "            torch.save(G, f'{d}/drop_{G.numel()}.pt')\n        except Exception:\n            pass\n"
               "    return G\n")


def _notebook(path: Path, *cells: str, lesson: object = LESSON) -> None:
    nb = {"nbformat": 4, "nbformat_minor": 4, "metadata": {"coursekit": {"lesson": lesson}},
          "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c}
                    for c in cells]}
    path.write_text(json.dumps(nb))


def _processes_with(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            if marker in line:
                found.append(f"{entry.name}: {line}")
    return found


def _pending(listener: socket.socket) -> bool:
    listener.setblocking(False)
    try:
        listener.accept()[0].close()
        return True
    except BlockingIOError:
        return False


def _require_isolation() -> None:
    """Skip without bubblewrap, or fail where COURSEKIT_REQUIRE_SANDBOX=1 says it must be there."""
    usable, why = bubblewrap.available()
    if not usable:
        if os.environ.get("COURSEKIT_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"the grader's isolation is required here: {why}", pytrace=False)
        pytest.skip(why)


def _graded_alone(path: Path, *cells: str, lesson: str) -> dict:
    """Grade one notebook of ``cells`` on its own: its scores by exercise name."""
    from coursekit.grading.grader import grade_notebook

    _require_isolation()
    _notebook(path, "import torch", *cells, lesson=lesson)
    return {e.name: e for e in grade_notebook(path, limits=Limits(timeout=60)).exercises}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    _require_isolation()
    base = tmp_path_factory.mktemp("attacks")
    folder, outside, scratch = base / "submissions", base / "outside", base / "grader-tmp"
    for d in (folder, outside, scratch):
        d.mkdir()
    target = outside / "target.txt"
    target.write_text("the host's file")
    os.chmod(outside, 0o755)  # readable by anyone on the host, as a course folder would be
    os.chmod(target, 0o644)
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    unix_path = base / "host.sock"
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(unix_path))
    os.chmod(unix_path, 0o777)
    unix.listen(8)
    abstract_name = f"\0coursekit-attack-{os.getpid()}"
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(abstract_name)
    abstract.listen(8)
    attacks = _attacks(target, tcp.getsockname()[1], unix_path, abstract_name)
    for name, (code, _, _) in attacks.items():
        _notebook(folder / f"{name}.ipynb", "import torch", code)
    _notebook(folder / "drop_writer.ipynb", "import torch", DROP_WRITER)
    for i in range(HONEST):
        _notebook(folder / f"honest_{i:03d}.ipynb", "import torch", GRAM_OK)
    # Identity: what the notebook says it is, and what it is.
    _notebook(folder / "01_identity_mismatch.ipynb", "import torch", GRAM_OK, lesson="02_style_cost")
    _notebook(folder / "identity_traversal.ipynb", "import torch", GRAM_OK, lesson="../../../etc/passwd")
    (folder / "identity_link.ipynb").symlink_to(Path(__file__).resolve().parents[1] / "notebooks" / "solutions"
                                                / "01_channel_correlations.ipynb")
    (folder / "identity_fifo.ipynb").touch()
    os.unlink(folder / "identity_fifo.ipynb")
    os.mkfifo(folder / "identity_fifo.ipynb")
    _notebook(folder / os.fsdecode(b"name_\xff\xfe.ipynb"), "import torch", GRAM_OK)
    before = os.stat(target), os.stat(os.path.realpath(sys.executable))
    limits = Limits(timeout=15, cpu_seconds=30, memory_mb=4096)
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = str(scratch)  # the grader's own folders: all must be gone afterwards
    try:
        reports = grade_many([folder], lesson=None, limits=limits, progress=None, jobs=2)
    finally:
        tempfile.tempdir = saved_tempdir
    result = {
        "reports": {Path(r.submission).stem: r for r in reports},
        "attacks": attacks, "limits": limits, "scratch": scratch, "outside": outside, "target": target,
        "before": before, "sockets": {"tcp": _pending(tcp), "unix": _pending(unix), "abstract": _pending(abstract)},
        "processes": _processes_with(str(MARKER)[:5]),
    }
    for s in (tcp, unix, abstract):
        s.close()
    return result


def _text(report) -> str:
    return json.dumps(report.to_dict() if hasattr(report, "to_dict") else vars(report), default=str)


ATTACK_NAMES = list(_attacks(Path("/x"), 1, Path("/x"), "x"))


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_each_attack_earns_nothing_and_says_why(batch, name):
    report = batch["reports"][name]
    score = {e.name: e for e in report.exercises}["gram_matrix"]
    _, _, reason = batch["attacks"][name]
    assert score.points == 0, f"{name}: {score.summary()}"
    assert score.status != "passed" and score.feedback, f"{name}: {score.summary()}"
    assert any(reason in line for line in score.feedback), f"{name}: expected {reason!r}\n{score.summary()}"
    assert report.points == 0


def test_every_class_has_at_least_three_attacks(batch):
    classes: dict[str, int] = {}
    for _, kind, _ in batch["attacks"].values():
        classes[kind] = classes.get(kind, 0) + 1
    identity = [k for k in batch["reports"] if k.startswith(("01_identity", "identity"))]
    classes["identity"] = len(identity)
    assert set(classes) == {"reference", "enforcement", "neighbours", "behind", "breaking", "leaks", "identity"}
    assert min(classes.values()) >= 3, classes


def test_honest_neighbours_get_full_marks_and_every_sandbox_was_isolated(batch):
    honest = [r for k, r in batch["reports"].items() if k.startswith("honest_") or k == "drop_writer"]
    assert len(honest) == HONEST + 1
    for report in honest:
        score = {e.name: e for e in report.exercises}["gram_matrix"]
        assert score.points == score.max_points == 2, f"{Path(report.submission).name}: {score.summary()}"
        assert score.protections.get("namespaces") and score.protections.get("source_hidden")
        assert report.protections["isolation"].startswith("bubblewrap")


def test_no_grading_took_longer_than_its_limits(batch):
    limits = batch["limits"]
    for report in batch["reports"].values():
        for score in report.exercises:
            assert score.seconds <= limits.timeout + 15, f"{report.submission}: {score.name} took {score.seconds} s"


def test_nothing_is_left_outside_the_sandboxes(batch):
    assert batch["processes"] == [], "processes started by submissions outlived grading"
    assert batch["sockets"] == {"tcp": False, "unix": False, "abstract": False}, "a sandbox reached a host socket"
    assert sorted(p.name for p in batch["outside"].iterdir()) == ["target.txt"], "a file appeared outside"
    target_before, python_before = batch["before"]
    for path, before in ((batch["target"], target_before), (Path(os.path.realpath(sys.executable)), python_before)):
        after = os.stat(path)
        assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == \
            (stat.S_IMODE(before.st_mode), before.st_uid, before.st_gid), f"{path} was changed"
        assert os.listxattr(path) == [], f"{path} got extended attributes"
    left = [p.name for p in batch["scratch"].iterdir() if p.name.startswith("coursekit-")]
    assert left == [], "the grader left sandbox folders behind"


def test_identity_problems_are_errors_for_that_submission(batch):
    reports = batch["reports"]
    assert "says lesson '02_style_cost' but its file name says" in reports["01_identity_mismatch"].error
    assert "has no graded exercises" in reports["identity_traversal"].error
    assert "symbolic link" in reports["identity_link"].error
    assert "not a readable notebook" in reports["identity_fifo"].error
    for key in ("01_identity_mismatch", "identity_traversal", "identity_link", "identity_fifo"):
        assert reports[key].points == 0 and reports[key].exercises == []
    odd = [k for k in reports if k.startswith("name_")]
    assert len(odd) == 1 and reports[odd[0]].points == 2  # an undecodable name is graded, and printable


def test_nothing_the_submission_controls_reaches_a_hidden_case_or_the_report(batch):
    assert "LEAK" not in _text(batch["reports"]["leak_through_violations"])
    assert "LEAK" not in _text(batch["reports"]["leak_through_protections"])
    for name in ("leak_in_message", "leak_in_type_name", "leak_environment", "huge_message", "leak_shadow"):
        report = batch["reports"][name]
        score = report.exercises[0]
        hidden = [f for f in score.feedback if f.startswith("hidden test")]
        assert hidden and all(re.fullmatch(r"hidden test \d+ of \d+ \[[\w ]+\]: raised (an exception|[A-Z]\w+)", f)
                              for f in hidden), hidden
        assert all(len(f) <= 500 for f in score.feedback)
        text = _text(report)  # public cases may quote the learner's own exception: the inputs were shown
        assert "root:" not in text and "PYTEST" not in text and "/root/" not in text


def test_the_library_around_a_reference_cannot_stand_in_for_it(tmp_path):
    # Lesson 02: coursekit's gram_matrix (another exercise's reference) may be used, but the
    # library function that turns two Grams into the layer cost is the exercise itself.
    layer = ("from coursekit.nst import costs\ndef layer_style_cost(a_S, a_G):\n"
             "    return costs.style_cost_from_grams(costs.gram_matrix(a_S), costs.gram_matrix(a_G), a_G.shape[1],\n"
             "                                       a_G.shape[2] * a_G.shape[3])\n")
    total = ("def style_cost(a_S, a_G, style_weights):\n"
             "    return costs.weighted_style_sum(style_weights, {k: costs.layer_style_cost(a_S[k], a_G[k]) for k in style_weights})\n")
    scores = _graded_alone(tmp_path / "02_style_cost.ipynb", layer, total, lesson="02_style_cost")
    for name in ("layer_style_cost", "style_cost"):
        assert scores[name].points == 0 and scores[name].status == "violation", scores[name].summary()


def test_a_helper_of_the_exercises_modules_cannot_stand_in_for_the_reference(tmp_path):
    # The mistakes of lesson 03 share a loop that, with its defaults, is the reconstruction itself.
    cell = ("from coursekit.nst.exercises.content import _adam_loop\n"
            "def reconstruct_image(C, G0, features, cost, steps, lr):\n"
            "    return _adam_loop(C, G0, features, cost, steps, lr)\n")
    score = _graded_alone(tmp_path / "03_content_cost.ipynb", cell, lesson="03_content_cost")["reconstruct_image"]
    assert score.points == 0 and score.status == "violation", score.summary()
    assert any("reference implementation of reconstruct_image" in f for f in score.feedback)
    assert score.protections["helpers_disabled"] > 50
