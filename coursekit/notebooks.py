"""Executing the lessons in place, so their stored outputs are real results, and storing them light.

``python -m coursekit.notebooks notebooks/*.ipynb`` (what ``make notebooks`` runs) executes each
notebook top to bottom in the project's kernel and writes it back with its outputs. Outputs are
never edited by hand. Before writing, ``lighten`` drops what a reader cannot use and re-encodes
figures compactly:

- the widget state that execution records in the notebook's metadata (hundreds of KB per lesson,
  base64 images of panels included): a panel needs its kernel anyway, and re-running its cell
  draws it again;
- each PNG figure becomes an 8-bit PNG with an adaptive 256-colour palette when that is at least a
  fifth smaller: plots keep every colour they use, photos and textures lose little, and the
  lessons weigh about a third of what full-colour PNGs weigh.

``--lighten-only`` applies ``lighten`` to stored notebooks without running them again.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["execute", "kernel_name", "lighten", "compact_png", "main"]

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
    lighten(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def compact_png(data: bytes, min_saving: float = 0.2) -> bytes:
    """``data`` (a PNG) as a palette PNG of at most 256 colours, if that saves ``min_saving`` of the bytes.

    Only opaque images are converted (a figure with transparency keeps its full-colour PNG).
    """
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(data))
    if image.mode not in ("RGB", "RGBA") or (image.mode == "RGBA" and image.getextrema()[3][0] < 255):
        return data
    out = io.BytesIO()
    image.convert("RGB").quantize(256).save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() <= (1 - min_saving) * len(data) else data


def lighten(nb) -> None:
    """Drop the notebook's stored widget state and store its PNG figures compactly (in place)."""
    import base64

    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                raw = base64.b64decode(png)
                small = compact_png(raw)
                if small is not raw:
                    output["data"]["image/png"] = base64.b64encode(small).decode("ascii")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks to execute in place")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    parser.add_argument("--lighten-only", action="store_true",
                        help="do not run the notebooks: drop widget state and compact the stored figures")
    args = parser.parse_args(argv)
    for path in args.paths:
        if args.lighten_only:
            import nbformat

            nb = nbformat.read(path, as_version=4)
            before = path.stat().st_size
            lighten(nb)
            nbformat.write(nb, path)
            print(f"lightened {path}: {before / 1024:.0f} KB -> {path.stat().st_size / 1024:.0f} KB")
            continue
        seconds = execute(path, timeout=args.timeout)
        print(f"executed {path} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
