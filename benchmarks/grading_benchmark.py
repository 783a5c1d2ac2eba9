"""Grading throughput: `coursekit grade` against `nbgrader autograde` on the same submissions.

    python benchmarks/grading_benchmark.py                       # lessons 01 and 05, 20 submissions
    python benchmarks/grading_benchmark.py --lessons 01 02 05 --copies 100 --nbgrader-copies 4

A temporary nbgrader course gets the solution notebooks (`python -m coursekit nbgrader --course`)
and nbgrader's own release. The class: `--copies` students, every other one handing in the
solutions whole (experiments included, as a student would) and the others the unmodified release.
coursekit grades all of them, with 1 job and with one job per core. nbgrader, which executes each
notebook top to bottom in a kernel, one after another, autogrades the first `--nbgrader-copies`
students (it costs minutes per student); its seconds per submission are extrapolated to the class.
Prints seconds per submission and per exercise for both, the ratio at equal cores, and the median
grading time per exercise of the solutions. Run it on a quiet machine; COURSEKIT_OFFLINE=1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coursekit.grading.grader import grade_many  # noqa: E402
from coursekit.grading.nbgrader_format import ASSIGNMENT, course_folder  # noqa: E402


def nbgrader(course: Path, *args: str) -> None:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "COURSEKIT_OFFLINE": "1"}
    done = subprocess.run([str(bin_dir / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lessons", nargs="+", default=["01", "05"])
    parser.add_argument("--copies", type=int, default=20, help="students in the class (default 20)")
    parser.add_argument("--nbgrader-copies", type=int, default=2, help="students nbgrader autogrades (default 2)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="coursekit-grading-benchmark-"))
    try:
        course = course_folder(root / "course", ROOT / "notebooks" / "solutions", args.lessons)
        nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
        lessons = sorted(p.name for p in (course / "source" / ASSIGNMENT).glob("*.ipynb"))
        for i in range(args.copies):
            folder = course / "submitted" / f"student{i:03d}" / ASSIGNMENT
            folder.mkdir(parents=True)
            source = course / ("source" if i % 2 == 0 else "release") / ASSIGNMENT
            for name in lessons:
                shutil.copyfile(source / name, folder / name)
        submissions = args.copies * len(lessons)

        rows = []
        for jobs in sorted({1, args.jobs}):
            start = time.perf_counter()
            reports = grade_many([course / "submitted"], progress=None, jobs=jobs)
            seconds = time.perf_counter() - start
            assert len(reports) == submissions
            exercises = sum(len(r.exercises) for r in reports)
            rows.append((f"coursekit grade, {jobs} job{'s' * (jobs > 1)}", seconds, submissions, exercises))
            solved = [e.seconds for r in reports if r.points == r.max_points for e in r.exercises]
        graded = min(args.nbgrader_copies, args.copies)
        start = time.perf_counter()
        for i in range(graded):
            nbgrader(course, "autograde", ASSIGNMENT, "--student", f"student{i:03d}", "--force")
        seconds = time.perf_counter() - start
        per_exercise = exercises / submissions
        rows.append(("nbgrader autograde, 1 process", seconds, graded * len(lessons), graded * len(lessons) * per_exercise))

        print(f"lessons {', '.join(args.lessons)}; {args.copies} students, half the solutions whole, half the "
              f"unmodified release; {os.cpu_count()} cores")
        print(f"{'':34} {'s per submission':>17} {'s per exercise':>15}")
        for label, seconds, subs, exs in rows:
            print(f"{label:34} {seconds / subs:17.2f} {seconds / exs:15.3f}")
        coursekit_one = rows[0][1] / rows[0][2]
        nbgrader_one = rows[-1][1] / rows[-1][2]
        print(f"throughput at equal cores (1): coursekit {nbgrader_one / coursekit_one:.1f}x nbgrader's")
        print(f"median grading time per exercise of the solutions: {statistics.median(solved):.2f} s "
              f"({len(solved)} exercises)")
        print(json.dumps({"rows": rows}))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
