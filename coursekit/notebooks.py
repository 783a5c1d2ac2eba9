"""Executing the lessons in place, so their stored outputs are real results.

``python -m coursekit.notebooks notebooks/*.ipynb`` (what ``make notebooks`` runs) executes each
notebook top to bottom in the project's kernel and writes it back with its outputs. Outputs are
never edited by hand.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["execute", "kernel_name", "main"]

KERNEL = "coursekit"


def kernel_name() -> str:
    """The project's named kernel when it is registered (``make env`` does), else python3."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KERNEL if KERNEL in KernelSpecManager().find_kernel_specs() else "python3"


def execute(path: str | Path, *, timeout: int = 600) -> float:
    """Run the notebook at ``path`` top to bottom and save it with its outputs; returns seconds."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=kernel_name(), record_timing=False,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    start = time.perf_counter()
    client.execute()
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks to execute in place")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = parser.parse_args(argv)
    for path in args.paths:
        seconds = execute(path, timeout=args.timeout)
        print(f"executed {path} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
