"""Grading submissions: each exercise in its own confined process, every comparison in this one.

``grade_notebook(path)`` finds the lesson, and for each of its exercises (in notebook order):

1. takes the code that defines the learner's function (``coursekit.grading.submission``);
2. builds the inputs of the public and the hidden cases here, and runs the sandbox
   (``coursekit.grading.sandbox``, forked from a warm server by ``coursekit.grading.sandboxes``) in
   namespaces of its own as an unprivileged uid, with a wall clock, CPU-time, memory, file-size
   and process limits, no network, and writes only to its own folder;
3. reads back only the outputs as plain data (``coursekit.grading.channel``: JSON and numpy arrays
   read without pickle, from regular files, size-capped: tensors, numbers, strings) and
   compares them with coursekit's reference here, so monkeypatching torch or the checks, or printing
   a fake verdict, inside the submission changes nothing;
4. awards each group of cases (the value, batch independence, numerical stability...) its points
   when every case in it passed, unless the sandbox recorded a violation (then 0).

Feedback names public cases (the learner saw them in the lesson) but says only "hidden test k" and a
coarse reason for hidden ones: never their inputs or expected values.
"""

from __future__ import annotations

import os
import re
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import registry
from . import channel
from .catalogue import all_exercises, topic_of
from .sandboxes import FolderAbandoned, Sandboxes, remove_tree
from ..exercise import Case, Exercise, matching_mistakes, outputs_match
from .submission import MAX_NOTEBOOK_BYTES, SubmissionError, code_cells, is_unchanged_stub, program_for

__all__ = ["Limits", "ExerciseScore", "score_cases", "run_in_sandbox", "SubmissionReport", "grade_notebook", "grade_cells", "grade_many", "write_gradebook",
           "lesson_exercises", "lessons", "shard_of", "read_reports", "submissions_in"]


@dataclass(frozen=True)
class Limits:
    """Per-exercise limits. ``timeout`` and ``cpu_seconds`` count only the learner's code (the
    sandbox first loads torch and coursekit within ``startup`` seconds, which is not theirs)."""

    timeout: float = 60.0
    cpu_seconds: int = 60
    memory_mb: int = 4096
    file_mb: int = 64
    startup: float = 300.0
    processes: int = 32  # processes and threads of one exercise (RLIMIT_NPROC in its namespace)


@dataclass
class ExerciseScore:
    name: str
    lesson: str
    points: float
    max_points: int
    status: str  # passed, partial, failed, not_implemented, missing, error, timeout, crashed, violation
    passed: int = 0
    total: int = 0
    feedback: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    seconds: float = 0.0
    protections: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # {group: {"points", "max", "passed"}}

    def summary(self) -> str:
        head = f"{self.name}: {self.points:g}/{self.max_points} ({self.status}, {self.passed} of {self.total} tests)"
        if self.groups:
            head += "; " + ", ".join(f"{g} {r['points']}/{r['max']}" for g, r in self.groups.items())
        return "\n".join([head] + [f"  - {f}" for f in self.feedback] + [f"  Hint: {h}" for h in self.hints])


@dataclass
class SubmissionReport:
    submission: str
    lesson: str | None
    exercises: list[ExerciseScore] = field(default_factory=list)
    error: str | None = None
    protections: dict[str, Any] = field(default_factory=dict)

    @property
    def points(self) -> float:
        return round(sum(e.points for e in self.exercises), 2)

    @property
    def max_points(self) -> int:
        return sum(e.max_points for e in self.exercises)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(points=self.points, max_points=self.max_points)
        return out

    def summary(self) -> str:
        head = f"{self.submission}: {self.points:g}/{self.max_points} (lesson {self.lesson or '?'})"
        if self.error:
            return f"{head}\n  {self.error}"
        return "\n".join([head] + ["  " + line for e in self.exercises for line in e.summary().splitlines()])


# ---- which exercises ---------------------------------------------------------------------------
def lessons() -> dict[str, list[Exercise]]:
    """Graded exercises by lesson stem (``"02_style_cost"``), from the exercise registry."""
    out: dict[str, list[Exercise]] = {}
    for exercise in registry().values():
        if exercise.lesson:
            out.setdefault(exercise.lesson, []).append(exercise)
    return out


def lesson_exercises(lesson: str) -> list[Exercise]:
    table = lessons()
    if lesson not in table:
        raise ValueError(f"no graded lesson {lesson!r}; graded lessons are {sorted(table)}")
    return table[lesson]


def _lesson_of(path: Path, nb: dict, known: list[str]) -> str | None:
    """The lesson from the notebook's metadata (set when exercise notebooks are generated), else
    from the two-digit prefix of the file name."""
    meta = nb.get("metadata", {}).get("coursekit", {}) if isinstance(nb.get("metadata"), dict) else {}
    if isinstance(meta, dict) and isinstance(meta.get("lesson"), str):
        return meta["lesson"]
    match = re.match(r"(\d\d)", path.name)
    if match:
        found = [k for k in known if k.startswith(match.group(1) + "_")]
        return found[0] if len(found) == 1 else path.stem  # e.g. lesson 00, which has no exercises
    return None


# ---- the sandbox process -----------------------------------------------------------------------
def _is_timeout(stopped: str | None) -> bool:
    """Whether ``_death``'s reason is a time limit (wall clock or CPU seconds), not a crash."""
    return bool(stopped) and ("did not finish within" in stopped or "s of CPU time" in stopped)


def _death(code: int | None, timed_out: str | None, limits: Limits) -> str:
    if timed_out:
        return timed_out
    if code is not None and code < 0:
        sig = -code
        if sig == signal.SIGXCPU:
            return f"it used more than {limits.cpu_seconds} s of CPU time"
        if sig == signal.SIGKILL:
            return "the process was killed (SIGKILL: over its CPU-time or memory limit, or by the system)"
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"the process was killed by {name}"
    return f"the process exited (exit code {code}) before finishing"


def run_in_sandbox(request: dict[str, Any], sandboxes: Sandboxes, limits: Limits) -> tuple[dict, list, str | None, dict]:
    """Run a sandbox on ``request`` in a fresh folder of ``sandboxes``; returns (load status,
    per-case outcomes, why it stopped early or None, the protections the sandbox reports having
    applied). If the fork server fails on the way, the exercise runs again in a fresh folder."""
    for _ in range(2):
        directory = sandboxes.new_folder()
        try:
            return _run_in(directory, request, sandboxes, limits)
        except FolderAbandoned:
            continue  # the server is gone now, so the second try is a process of its own
        finally:
            remove_tree(directory)
    # (not reached: after the first failure there is no server to fail) never the grader's crash
    return {}, [None] * len(request["cases"]), "the grader's sandbox failed twice; grade this submission again", {}


def _run_in(directory: Path, request: dict[str, Any], sandboxes: Sandboxes,
            limits: Limits) -> tuple[dict, list, str | None, dict]:
    torch.save({**request, "memory_bytes": limits.memory_mb << 20, "cpu_seconds": limits.cpu_seconds,
                "file_bytes": limits.file_mb << 20, "max_processes": limits.processes}, directory / "request.pt")
    code, timed_out = sandboxes.launch(directory, limits)
    results = directory / "results"
    saved = channel.read(results, "protections")
    protections = _known_protections(saved.get("protections", {}) if isinstance(saved, dict) else {})
    load = channel.read(results, "load")
    load = load if isinstance(load, dict) else {}
    budget = [channel.MAX_EXERCISE_BYTES]  # all the cases' outputs together
    outcomes = [channel.read(results, f"case_{i}", budget) for i in range(len(request["cases"]))]
    stopped = None
    if not load or any(o is None for o in outcomes):
        stopped = _death(code, timed_out, limits)
        if timed_out and "did not start" in timed_out:
            tail = (directory / "output.log").read_bytes()[-500:].decode("utf-8", "replace").strip()
            stopped = f"{timed_out}; the sandbox printed: {tail}"
    return load, outcomes, stopped, protections


# ---- scoring -----------------------------------------------------------------------------------
def _coarse(reason: str) -> str:
    """A hidden test's failure without the expected values: what kind of thing was wrong, and
    where in a tuple or dict of outputs (``item 1: ``), never a value the reference returned."""
    where = ""
    while not reason.startswith(("returned", "values")) and re.match(r"(item \d+|[A-Za-z_][\w ]*): ", reason):
        head, reason = reason.split(": ", 1)
        where += head + ": "
    if reason.startswith("returned shape"):
        return where + "returned the wrong shape"
    if "NaN" in reason:
        return where + "returned NaN or infinite values"
    if re.match(r"returned -?[\d.]", reason) and "within" not in reason:
        return where + "returned a wrong number"
    # Type and size messages reveal no values ("returned list, expected a torch.Tensor").
    if re.fullmatch(r"returned [\w.]+( of \d+ items)?, expected (a torch\.Tensor|a number|\d+ items)"
                    r"|returned torch\.\w+, expected torch\.\w+ \(keep the input's dtype\)"
                    r"|returned -?[\d.e+-]+, which is not within \d+% of the answer", reason):
        return where + reason
    return where + "returned wrong values"


MAX_FEEDBACK = 400  # characters of one feedback line: a submission's exception text can be huge


def _hidden_error(message: str) -> str:
    """What a hidden case raised, as the grader words it: the name of a built-in exception or
    "an exception", never text the submission controls (a message, a made-up class name)."""
    import builtins

    name = message.removeprefix("raised ").split(":")[0].split(" (at line")[0].strip()
    known = getattr(builtins, name, None)
    if isinstance(known, type) and issubclass(known, BaseException):
        return f"raised {name}"
    return "raised an exception"


# What the sandbox reports having applied, and the values each may take. The file lies in the
# submission's folder, which it can rewrite: anything else is dropped, never copied to a report.
_PROTECTIONS = {"namespaces": ("user, mount, pid, network, ipc",), "source_hidden": (True,),
                "landlock_abi": tuple(range(16)), "capabilities_dropped": (True, False),
                "reference_disabled": (True, False), "helpers_disabled": tuple(range(10_000))}


def _known_protections(saved: Any) -> dict[str, Any]:
    if not isinstance(saved, dict):
        return {}
    return {key: saved[key] for key, allowed in _PROTECTIONS.items()
            if key in saved and type(saved[key]) in (bool, int, str) and saved[key] in allowed}


def _known_violation(text: Any) -> str:
    """A recorded violation as one of the phrases the sandbox uses (its detail dropped), or a
    generic one: the text itself never reaches the report."""
    from .sandbox import BLOCKED_EVENTS, PATH_REFUSALS

    phrases = {*BLOCKED_EVENTS.values(), *PATH_REFUSALS, "reloading coursekit"}
    if isinstance(text, str):
        prefix = "the grader's sandbox does not allow "
        for phrase in sorted(phrases, key=len, reverse=True):
            if text.startswith(prefix + phrase):
                return prefix + phrase
        prefix = "called coursekit's reference implementation of "
        if text.startswith(prefix) and text[len(prefix):] in all_exercises():
            return text
    return "the sandbox recorded an operation it refuses"


def _violations(load: dict, outcomes: list[Any]) -> list[str]:
    """The sandbox's recorded violations, reworded by the grader: the submission can append to that
    list, so only the kind of each (a known phrase) is kept, never its text, and at most five."""
    seen: list[str] = []
    for item in [load, *outcomes]:
        for v in (item or {}).get("violations", []) if isinstance(item, dict) else []:
            what = _known_violation(v)
            if what not in seen and len(seen) < 5:
                seen.append(what)
    return seen


def score_cases(exercise: Exercise, cases: list[Case], inputs: list, outcomes: list, n_public: int,
                 stopped: str | None, score: ExerciseScore) -> None:
    """Compare each outcome (the sandbox's or the kernel's, ``sandbox.case_outcome``) with the
    reference, and fill in ``score``: feedback (coarse for hidden cases), a hint, each group's
    points (all or nothing), the status and the total points. ``cases[n_public:]`` are hidden."""
    suspects: set[int] | None = None
    not_implemented = 0
    hidden_total = len(cases) - n_public
    failed_groups: set[str] = set()
    for i, (case, (args, kwargs), outcome) in enumerate(zip(cases, inputs, outcomes)):
        hidden = i >= n_public
        label = f"hidden test {i - n_public + 1} of {hidden_total}" if hidden else case.label
        label = f"{label} [{case.group}]"
        if not _case_passed(exercise, case, args, kwargs, outcome, label, hidden, stopped, score):
            failed_groups.add(case.group)
            if isinstance(outcome, dict) and outcome.get("kind") == "not_implemented":
                not_implemented += 1
            elif isinstance(outcome, dict) and outcome.get("kind") == "value":
                got = outcome.get("value")
                if not (isinstance(got, dict) and "__unsupported__" in got):
                    found = set(matching_mistakes(exercise, got, args, kwargs))
                    suspects = found if suspects is None else suspects & found
    for group, points in exercise.groups.items():
        ok = group not in failed_groups
        score.groups[group] = {"points": points if ok else 0, "max": points, "passed": ok}
    if suspects:
        score.hints.append(exercise.mistakes[min(suspects)].hint)
    elif suspects is not None and exercise.generic_hint:  # some output was compared and was wrong
        score.hints.append(exercise.generic_hint)
    if not_implemented == score.total:
        score.status = "not_implemented"
        score.feedback = [f"{exercise.name} is not implemented yet (it raises NotImplementedError)"]
        score.hints = []
    else:
        score.status = "passed" if score.passed == score.total else "partial" if score.passed else "failed"
    score.points = float(sum(g["points"] for g in score.groups.values()))


def _case_passed(exercise: Exercise, case: Case, args: tuple, kwargs: dict, outcome: Any, label: str,
                 hidden: bool, stopped: str | None, score: ExerciseScore) -> bool:
    """Compare one outcome with the reference's; feedback for a failure goes to ``score``."""
    if outcome is None:
        score.feedback.append(f"{label}: not run, because {stopped}")
        return False
    kind = outcome.get("kind") if isinstance(outcome, dict) else None
    if kind == "not_implemented":
        score.feedback.append(f"{label}: raised NotImplementedError")
        return False
    if kind != "value":
        message = str(outcome.get("message", "failed")) if isinstance(outcome, dict) else "failed"
        if hidden:
            message = _hidden_error(message)
        score.feedback.append(f"{label}: {message[:MAX_FEEDBACK]}")
        return False
    got = outcome.get("value")
    if isinstance(got, dict) and "__unsupported__" in got:
        score.feedback.append(f"{label}: returned {got['__unsupported__']}, which is not a tensor or a number")
        return False
    expected = exercise.run(exercise.reference, args, kwargs)
    try:
        ok, reason = (case.compare or outputs_match)(got, expected)
    except Exception as exc:  # noqa: BLE001  an output no comparison expected (a many-element tensor for a number)
        ok, reason = False, f"returned something that could not be compared ({type(exc).__name__})"
    if ok:
        score.passed += 1
        return True
    score.feedback.append(f"{label}: {_coarse(reason) if hidden else reason}")
    return False


def grade_exercise(exercise: Exercise, cells: list[str], passed: set[str], sandboxes: Sandboxes,
                   limits: Limits) -> ExerciseScore:
    """Score one exercise of a submission (its code cells) in one of ``sandboxes``."""
    start = time.perf_counter()
    cases = [*exercise.cases, *exercise.hidden]
    score = ExerciseScore(exercise.name, exercise.lesson, 0.0, exercise.points, "failed", total=len(cases))
    program = program_for(cells, exercise.name)
    if program.target is None:
        score.status = "missing"
        score.feedback.append(f"no code cell defines a function called {exercise.name}")
        return score
    if is_unchanged_stub(program.target, exercise.name):  # nothing to run: the stub as generated
        score.status = "not_implemented"
        score.feedback.append(f"{exercise.name} is not implemented yet (it raises NotImplementedError)")
        score.groups = {g: {"points": 0, "max": p, "passed": False} for g, p in exercise.groups.items()}
        score.seconds = round(time.perf_counter() - start, 2)
        return score
    inputs = [case.make() for case in cases]
    request = {"name": exercise.name, "topic": topic_of(exercise.name), "prelude": list(program.prelude), "target": program.target,
               "cases": inputs, "passed": sorted(passed)}
    load, outcomes, stopped, protections = run_in_sandbox(request, sandboxes, limits)
    score.protections = protections
    status = load.get("status", {}) if isinstance(load.get("status"), dict) else {}
    violations = _violations(load, outcomes)
    if not status:
        score.status = "timeout" if _is_timeout(stopped) else "crashed"
        score.feedback.append(f"the cell defining {exercise.name} did not finish: {stopped}")
    elif status.get("kind") != "ok":
        score.status = "error"
        score.feedback.append(str(status.get("message", "the cell failed"))[:400])
    else:
        score_cases(exercise, cases, inputs, outcomes, len(exercise.cases), stopped, score)
        if stopped and score.status != "not_implemented":
            score.status = "timeout" if _is_timeout(stopped) else "crashed"
    if violations:
        score.status, score.points = "violation", 0.0
        score.feedback = [f"0 points: {v}" for v in violations] + score.feedback
    score.seconds = round(time.perf_counter() - start, 2)
    return score


def grade_cells(cells: list[str], lesson: str, *, limits: Limits = Limits(), label: str = "submission",
                sandboxes: Sandboxes | None = None) -> SubmissionReport:
    """Grade the code cells of one submission against ``lesson``'s exercises, in ``sandboxes`` (a
    batch's) or in its own, whose fork server starts when a second exercise needs a sandbox."""
    if sandboxes is None:
        with Sandboxes(fork_server="lazy") as own:
            return _grade_cells(cells, lesson, limits, label, own)
    return _grade_cells(cells, lesson, limits, label, sandboxes)


def _grade_cells(cells: list[str], lesson: str, limits: Limits, label: str, sandboxes: Sandboxes) -> SubmissionReport:
    report = SubmissionReport(label, lesson, protections={"isolation": sandboxes.isolation})
    exercises = lesson_exercises(lesson)

    def position(ex: Exercise) -> int:
        program = program_for(cells, ex.name)
        return cells.index(program.target) if program.target is not None else len(cells)

    passed: set[str] = set()
    for exercise in sorted(exercises, key=position):
        score = grade_exercise(exercise, cells, passed, sandboxes, limits)
        if score.status == "passed":
            passed.add(exercise.name)  # later exercises may use it, as the lesson's cells do
        report.exercises.append(score)
    return report


def grade_notebook(path: str | Path, *, lesson: str | None = None, limits: Limits = Limits(),
                   sandboxes: Sandboxes | None = None) -> SubmissionReport:
    """Grade one submitted notebook. Never raises because of the submission: problems with it
    become ``report.error`` or per-exercise feedback."""
    import json

    path = Path(path)
    report = SubmissionReport(_printable(str(path)), lesson)
    try:
        if path.is_symlink():  # a link can point at anything the grader may read: another's work, the solutions
            raise SubmissionError("the submission is a symbolic link, not a file; submit the notebook itself")
        if not path.is_file():  # a FIFO would block the read below for ever, a device never end
            raise SubmissionError("the submission is not a regular file")
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise SubmissionError(f"the file is over the grader's {MAX_NOTEBOOK_BYTES >> 20} MB limit")
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = code_cells(nb, str(path))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, SubmissionError) as exc:
        report.error = f"not a readable notebook: {str(exc)[:300]}"
        return report
    known = sorted(lessons())
    if lesson is None:
        named, noted = _lesson_of(path, {}, known), _lesson_of(path, nb, known)
        if re.match(r"\d\d_", path.name) and named in known and noted != named:
            report.error = (f"the notebook's metadata says lesson {noted!r} but its file name says {named!r}; "
                            f"rename the file or pass --lesson to say which lesson it is")
            return report
    lesson = lesson or _lesson_of(path, nb, known)
    if lesson is None:
        report.error = (f"cannot tell which lesson this is (no coursekit metadata, no known NN_ prefix); "
                        f"pass --lesson, one of {known}")
        return report
    if lesson not in known:
        report.lesson = lesson
        report.error = f"lesson {lesson!r} has no graded exercises; the graded lessons are {known}"
        return report
    return grade_cells(cells, lesson, limits=limits, label=report.submission, sandboxes=sandboxes)


def _printable(text: str) -> str:
    """A file name as text that any terminal and JSON file take (bytes that are not UTF-8 escaped)."""
    try:
        raw = os.fsencode(text)  # the file name's own bytes (undecodable ones were kept as surrogates)
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")


# ---- batches -----------------------------------------------------------------------------------
def submissions_in(paths: list[str | Path]) -> list[Path]:
    """Notebook files named directly or found under folders (checkpoints skipped), sorted."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        else:
            found.append(p)
    return found


def grade_many(paths: list[str | Path], *, lesson: str | None = None, limits: Limits = Limits(),
               progress=print, jobs: int = 1) -> list[SubmissionReport]:
    """Grade every submission, ``jobs`` at a time; one that breaks the grader itself is reported,
    never fatal. Reports come back in the order of the paths."""
    from concurrent.futures import ThreadPoolExecutor

    paths = submissions_in(paths)
    sandboxes = Sandboxes(fork_server=bool(paths))  # torch and coursekit loaded once for the batch

    def one(path: Path) -> SubmissionReport:
        try:
            report = grade_notebook(path, lesson=lesson, limits=limits, sandboxes=sandboxes)
        except Exception as exc:  # noqa: BLE001  a grader bug must not stop the batch
            report = SubmissionReport(_printable(str(path)), lesson,
                                      error=_printable(f"grader error: {type(exc).__name__}: {exc}"[:400]))
        report.protections.setdefault("isolation", sandboxes.isolation)
        if progress:
            progress(report.summary())
        return report

    # Threads only wait on sandbox processes, so they overlap well despite the GIL.
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, paths))
    finally:
        sandboxes.close()


def shard_of(paths: list[Path], shard: str) -> list[Path]:
    """The K-th of N slices (``"K/N"``, K from 1) of a class's sorted submissions: every N-th one
    from the K-th, so the slices are equal in size to within one and together hold each once."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", shard or "")
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"--shard {shard!r}: write K/N with 1 <= K <= N, e.g. 2/8 (Slurm: "
                         "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=1-N)")
    k, n = int(match.group(1)), int(match.group(2))
    return sorted(paths)[k - 1::n]


def read_reports(paths: list[str | Path]) -> list[SubmissionReport]:
    """The reports in the JSON files that ``coursekit grade --json`` wrote (for example one per
    shard), as one batch sorted by submission; a submission in two files is an error."""
    import json

    reports: dict[str, SubmissionReport] = {}
    for path in map(Path, paths):
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a report written by `coursekit grade --json` ({exc})") from None
        for item in items if isinstance(items, list) else []:
            fields = {k: v for k, v in item.items() if k not in ("points", "max_points", "exercises")}
            report = SubmissionReport(**fields, exercises=[ExerciseScore(**e) for e in item.get("exercises", [])])
            if report.submission in reports:
                raise ValueError(f"{report.submission} is in two reports; did two shards share a slice?")
            reports[report.submission] = report
    return [reports[k] for k in sorted(reports)]


def write_gradebook(reports: list[SubmissionReport], path: str | Path) -> None:
    """CSV: one row per submission, one column per exercise, total, maximum and any error."""
    import csv

    names: list[str] = []
    for report in reports:
        names += [e.name for e in report.exercises if e.name not in names]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "lesson", *names, "points", "max_points", "error"])
        for report in reports:
            scores = {e.name: e.points for e in report.exercises}
            writer.writerow([report.submission, report.lesson or "", *[scores.get(n, "") for n in names],
                             report.points, report.max_points, report.error or ""])
