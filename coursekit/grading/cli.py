"""Instructor commands: ``python -m coursekit exercises`` and ``python -m coursekit grade``.

    python -m coursekit exercises            # regenerate notebooks/NN_*.ipynb from notebooks/solutions/, execute them
    python -m coursekit exercises 02 05      # only lessons 02 and 05
    python -m coursekit exercises --check    # exit 1 if the committed exercise notebooks are out of sync
    python -m coursekit grade SUB.ipynb [SUB2.ipynb | FOLDER ...] --json report.json --csv gradebook.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_commands", "exercises", "grade"]


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
                       description="Each exercise runs in its own confined process (time, CPU, memory and file "
                                   "limits, no network, writes only to a temporary folder); outputs are compared "
                                   "with coursekit's reference in the grader's process.")
    g.add_argument("submissions", nargs="+", help="notebooks, or folders searched for *.ipynb")
    g.add_argument("--lesson", help="lesson stem such as 02_style_cost (default: from the notebook)")
    g.add_argument("--json", type=Path, help="write the full report (scores, reasons, hints) as JSON")
    g.add_argument("--csv", type=Path, help="write a gradebook: one row per submission")
    g.add_argument("--timeout", type=float, default=60.0, help="seconds of wall clock per exercise (default 60)")
    g.add_argument("--cpu", type=int, default=60, help="seconds of CPU time per exercise (default 60)")
    g.add_argument("--memory", type=int, default=4096, help="MiB of address space per exercise (default 4096)")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1; up to the CPU count)")
    g.add_argument("--quiet", action="store_true", help="print only the totals")


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

    limits = Limits(timeout=args.timeout, cpu_seconds=args.cpu, memory_mb=args.memory)
    progress = None if args.quiet else print
    reports = grade_many(args.submissions, lesson=args.lesson, limits=limits, progress=progress, jobs=args.jobs)
    if not reports:
        print("no notebooks found in " + ", ".join(args.submissions), file=sys.stderr)
        return 2
    for report in reports if args.quiet else ():
        print(f"{report.submission}: {report.points:g}/{report.max_points}")
    if args.json:
        args.json.write_text(json.dumps([r.to_dict() for r in reports], indent=1) + "\n", encoding="utf-8")
    if args.csv:
        write_gradebook(reports, args.csv)
    return 0
