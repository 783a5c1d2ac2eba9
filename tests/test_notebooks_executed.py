"""Every committed notebook is stored executed: no code cell without an execution count, counts in order.

A lesson whose stored copy was never run shows a learner nothing and gives nbval nothing to compare
(it happened once to the learners' lesson 03); this test makes such a notebook fail CI.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))


def unexecuted_cells(nb) -> list[int]:
    """Indices of non-empty code cells that have no execution count."""
    return [i for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and cell.source.strip() and cell.get("execution_count") is None]


def test_unexecuted_cells_are_found():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", execution_count=1),
                                         nbformat.v4.new_markdown_cell("text"),
                                         nbformat.v4.new_code_cell("2 + 2"),
                                         nbformat.v4.new_code_cell("   ")])
    assert unexecuted_cells(nb) == [2]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_every_code_cell_was_executed_in_order(path):
    nb = nbformat.read(path, as_version=4)
    missing = unexecuted_cells(nb)
    assert not missing, (f"{path.relative_to(ROOT)}: code cells {missing} have no execution count; "
                         "re-execute it (make notebooks, or python -m coursekit exercises NN)")
    counts = [cell.execution_count for cell in nb.cells if cell.cell_type == "code" and cell.source.strip()]
    assert counts == sorted(counts) and len(set(counts)) == len(counts), (
        f"{path.relative_to(ROOT)}: execution counts {counts} are not one top-to-bottom run")
