"""Test order for parallel runs: the longest files first.

``make test`` runs pytest-xdist with ``--dist loadfile --no-loadscope-reorder``: every file (a
notebook's cells, a test module) stays on one worker, in the order collected here. Handing out the
longest files first keeps the workers busy until the end instead of leaving one of them with the
browser tests while the other idles. The order changes no result; measured with
``pytest --durations=40`` (see the README). Below: which cells of the learners' copies nbval skips.
"""

from __future__ import annotations

import re

import pytest

# Longest first; each entry matches the start of a test's node id (relative to the repository root).
LONGEST_FIRST = (
    "tests/test_browser.py",
    "tests/test_nbgrader.py",
    "notebooks/solutions/04_", "notebooks/04_",
    "notebooks/solutions/02_", "notebooks/02_",
    "tests/test_grader.py",
    "notebooks/solutions/07_", "notebooks/07_",
    "notebooks/solutions/03_", "notebooks/03_",
    "notebooks/solutions/06_", "notebooks/06_",
    "notebooks/solutions/08_", "notebooks/08_",
)


def _rank(nodeid: str) -> int:
    return next((i for i, prefix in enumerate(LONGEST_FIRST) if nodeid.startswith(prefix)), len(LONGEST_FIRST))


# In the learners' copies (notebooks/NN_*.ipynb), nbval leaves out the cells tagged
# ``not-in-browser-test``: slow experiments that no later cell needs (the browser test already runs
# every lesson without them). Their code is the solution copy's, which nbval runs in full, and
# ``coursekit exercises --check`` keeps the two copies' cells equal.
LEARNER_COPY = re.compile(r"notebooks/\d\d_[^/]*\.ipynb::")
SLOW_CELL_TAG = "not-in-browser-test"


def _slow_cell_of_learner_copy(item) -> bool:
    cell = getattr(item, "cell", None)
    tags = cell.get("metadata", {}).get("tags", []) if cell is not None else []
    return bool(LEARNER_COPY.match(item.nodeid)) and SLOW_CELL_TAG in tags


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: _rank(item.nodeid))  # stable: a file's own order is kept
    for item in items:
        if _slow_cell_of_learner_copy(item):
            item.add_marker(pytest.mark.skip(reason="slow experiment: nbval runs it in the solution copy"))
