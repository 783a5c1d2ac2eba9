"""Instructor commands: ``python -m coursekit exercises`` and ``python -m coursekit grade``.

    python -m coursekit exercises            # regenerate notebooks/NN_*.ipynb from notebooks/solutions/, execute them
    python -m coursekit exercises 02 05      # only lessons 02 and 05
    python -m coursekit exercises --check    # exit 1 if the committed exercise notebooks are out of sync
    python -m coursekit grade SUB.ipynb [SUB2.ipynb | FOLDER ...] --json report.json --csv gradebook.csv
    python -m coursekit grade FOLDER --shard 2/8 --json part2.json   # the 2nd of 8 slices (array jobs)
    python -m coursekit grade --merge part*.json --csv gradebook.csv --json report.json
    python -m coursekit nbgrader --write     # give the solution notebooks nbgrader's cell metadata and test cells
    python -m coursekit nbgrader --check     # exit 1 if a solution notebook is not in nbgrader's format
    python -m coursekit nbgrader --course DIR  # an nbgrader course folder: config + the lessons as one assignment
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_commands", "exercises", "grade", "nbgrader"]


def add_commands(sub) -> None:
    p = sub.add_parser("exercises", help="generate the learners' exercise notebooks from the solution notebooks",
                       description="Write notebooks/NN_*.ipynb (solutions replaced by stubs), then execute them "
                                   "so their stored outputs are real.")
    p.add_argument("lessons", nargs="*", help="only these lessons (stems such as 02_style_cost, or 02); default all")
    p.add_argument("--solutions", type=Path, default=Path("notebooks/solutions"))
    p.add_argument("--out", type=Path, default=Path("notebooks"))
    p.add_argument("--check", action="store_true", help="only check that the committed ones are in sync")
    p.add_argument("--no-execute", action="store_true", help="write them without executing (outputs empty)")

    g = sub.add_parser("grade", help="grade submitted notebooks in a sandbox",
                       description="Each exercise runs in its own confined process: its own namespaces under "
                                   "bubblewrap as an unprivileged uid (each report says which isolation was in "
                                   "force), time, CPU, memory, file and process limits, no network, writes only to "
                                   "its own folder; outputs are compared with coursekit's reference in the "
                                   "grader's process.")
    g.add_argument("submissions", nargs="+", help="notebooks, or folders searched for *.ipynb (with --merge: "
                   "the JSON reports of the shards)")
    g.add_argument("--lesson", help="lesson stem such as 02_style_cost (default: from the notebook)")
    g.add_argument("--json", type=Path, help="write the full report (scores, reasons, hints) as JSON")
    g.add_argument("--csv", type=Path, help="write a gradebook: one row per submission")
    g.add_argument("--timeout", type=float, default=60.0, help="seconds of wall clock per exercise (default 60)")
    g.add_argument("--cpu", type=int, default=60, help="seconds of CPU time per exercise (default 60)")
    g.add_argument("--memory", type=int, default=4096, help="MiB of address space per exercise (default 4096)")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1; up to the CPU count)")
    g.add_argument("--quiet", action="store_true", help="print only the totals")
    g.add_argument("--shard", metavar="K/N", help="grade only the K-th of N slices of the class (K from 1), e.g. in "
                   "a Slurm job array or a Kubernetes Indexed Job; merge the slices' --json reports with --merge")
    g.add_argument("--merge", action="store_true", help="read the shards' JSON reports (the SUBMISSIONS arguments) "
                   "and write one gradebook (--csv) and one report (--json), as one batch would")

    n = sub.add_parser("nbgrader", help="nbgrader's cell format in the solution notebooks, and an nbgrader course",
                       description="Solution cells, locked cells and one autograder test cell per exercise "
                                   "(hidden cases between nbgrader's HIDDEN TESTS markers), as nbgrader reads them.")
    n.add_argument("lessons", nargs="*", help="only these lessons (stems such as 02_style_cost, or 02); default all")
    n.add_argument("--solutions", type=Path, default=Path("notebooks/solutions"))
    action = n.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="write the format into the solution notebooks "
                        "(then execute the ones that gained test cells: python -m coursekit.notebooks PATH)")
    action.add_argument("--check", action="store_true", help="exit 1 if a solution notebook is not in the format")
    action.add_argument("--course", type=Path, metavar="DIR",
                        help="create an nbgrader course in DIR: nbgrader_config.py and source/lessons/")


def exercises(args: argparse.Namespace) -> int:
    from .generate import generate_exercise_notebooks, out_of_sync

    if args.check:
        problems = out_of_sync(args.solutions, args.out)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run `python -m coursekit exercises` (make exercises) and commit the result", file=sys.stderr)
            return 1
        print("exercise notebooks are in sync with the solutions")
        return 0
    written = generate_exercise_notebooks(args.solutions, args.out, args.lessons)
    for path in written:
        if args.no_execute:
            print(f"wrote {path}")
            continue
        from ..notebooks import execute

        print(f"wrote and executed {path} in {execute(path):.1f} s")
    return 0


def grade(args: argparse.Namespace) -> int:
    from .grader import Limits, grade_many, write_gradebook

    from .grader import read_reports, shard_of, submissions_in

    if args.merge:
        reports = read_reports(args.submissions)
    else:
        limits = Limits(timeout=args.timeout, cpu_seconds=args.cpu, memory_mb=args.memory)
        progress = None if args.quiet else print
        paths = submissions_in(args.submissions)
        if args.shard:
            paths = shard_of(paths, args.shard)
        reports = grade_many(paths, lesson=args.lesson, limits=limits, progress=progress, jobs=args.jobs)
        if args.shard and not reports:
            print(f"shard {args.shard} has no submissions (the class is smaller than N)")
            reports = []
    if not reports and not args.shard:
        print("no notebooks found in " + ", ".join(args.submissions), file=sys.stderr)
        return 2
    for report in reports if args.quiet else ():
        print(f"{report.submission}: {report.points:g}/{report.max_points}")
    if args.json:
        args.json.write_text(json.dumps([r.to_dict() for r in reports], indent=1) + "\n", encoding="utf-8")
    if args.csv:
        write_gradebook(reports, args.csv)
    return 0


def nbgrader(args: argparse.Namespace) -> int:
    from .generate import _lessons, _read, _write
    from .nbgrader_format import ASSIGNMENT, course_folder, nbgrader_format, nbgrader_problems

    paths = [p for p in _lessons(args.solutions)
             if not args.lessons or any(p.stem == o or p.stem.startswith(f"{o}_") for o in args.lessons)]
    if not paths:
        raise ValueError(f"no solution notebooks for {args.lessons or 'any lesson'} in {args.solutions}")
    if args.course:
        course_folder(args.course, args.solutions, args.lessons or None)
        print(f"nbgrader course in {args.course}: nbgrader_config.py and source/{ASSIGNMENT}/ "
              f"({len(paths)} lessons). Next: cd {args.course} && nbgrader generate_assignment {ASSIGNMENT}")
        return 0
    problems = []
    for path in paths:
        nb = _read(path)
        if args.check:
            problems += nbgrader_problems(nb, path.stem)
            continue
        formatted = nbgrader_format(nb, path.stem)
        if formatted != nb:
            _write(formatted, path)
            print(f"wrote nbgrader's format into {path}")
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print("run `python -m coursekit nbgrader --write`, execute the notebooks that changed, and commit them",
              file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(paths)} solution notebooks are in nbgrader's format")
    return 0
