"""Author lessons as readable scripts: convert between .ipynb and the percent format.

    python tools/nbpercent.py to-script   notebooks/01_x.ipynb  /tmp/01_x.py
    python tools/nbpercent.py to-notebook /tmp/01_x.py          notebooks/01_x.ipynb

Cells start with ``# %%`` (code) or ``# %% [markdown]`` (markdown lines prefixed with ``# ``).
Converting to a notebook drops outputs: run ``make notebooks`` afterwards so the stored outputs
are real results (outputs are never edited by hand). Cell ids are stable (cell-00, cell-01, ...).
"""

from __future__ import annotations

import re
import sys

import nbformat

KERNELSPEC = {"name": "coursekit", "display_name": "Python (coursekit)", "language": "python"}


def to_notebook(text: str) -> nbformat.NotebookNode:
    parts = re.split(r"^# %%(.*)$", text, flags=re.M)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for header, body in zip(parts[1::2], parts[2::2]):
        body = body.strip("\n")
        if "[markdown]" in header:
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines()]
            nb.cells.append(nbformat.v4.new_markdown_cell("\n".join(lines)))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(body))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


def to_script(nb: nbformat.NotebookNode) -> str:
    chunks = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = ["#" if not line else f"# {line}" for line in cell.source.splitlines()]
            chunks.append("# %% [markdown]\n" + "\n".join(lines))
        elif cell.cell_type == "code":
            chunks.append("# %%\n" + cell.source)
    return "\n\n".join(chunks) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in {"to-script", "to-notebook"}:
        print(__doc__)
        return 2
    command, src, dst = argv
    if command == "to-notebook":
        with open(src) as f:
            nbformat.write(to_notebook(f.read()), dst)
    else:
        with open(dst, "w") as f:
            f.write(to_script(nbformat.read(src, as_version=4)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
