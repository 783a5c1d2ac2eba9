"""Reading a submitted notebook: the code the grader needs to define one exercise's function.

The grader never runs a whole submission (lessons train networks and draw widgets). For the
exercise ``name`` it takes:

* the **target cell**: the last code cell with a top-level ``def name``. It runs in full, so an
  exception or an endless loop at the top of that cell costs this exercise its points;
* the **prelude**: from every code cell before it, only the statements that define things:
  imports, ``def``/``class``, assignments of literal constants, and names bound from an earlier
  ``check(...)`` or ``reference(...)``. Anything else (training, plots, widgets, prints, a
  hostile loop in another exercise's cell) is left out, so it cannot affect this exercise.

IPython magics and shell escapes (``%matplotlib``, ``!pip``) are dropped.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Program", "SubmissionError", "code_cells", "program_for", "read_submission", "defined_functions",
           "is_unchanged_stub", "definitions"]


MAX_CELL_CHARS = 200_000  # one code cell; the longest in the lessons is a few thousand
MAX_NOTEBOOK_BYTES = 64 << 20  # a whole submitted notebook, outputs and figures included


class SubmissionError(ValueError):
    """The submission cannot be read as a notebook."""


@dataclass(frozen=True)
class Program:
    """What the sandbox executes for one exercise: prelude statements (each run on its own,
    failures ignored) and the target cell (run whole; a failure fails the exercise)."""

    name: str
    prelude: tuple[str, ...]
    target: str | None  # None: no cell defines the function


def read_submission(path: str | Path) -> list[str]:
    """Source of each code cell of the notebook at ``path``; SubmissionError if unreadable."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SubmissionError(f"submission {str(path)!r} is not a readable notebook: {exc}") from None
    return code_cells(nb, str(path))


def code_cells(nb: object, label: str = "submission") -> list[str]:
    """Code-cell sources of a notebook given as parsed JSON (nbformat 4)."""
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise SubmissionError(f"{label!r} has no list of cells; is it a Jupyter notebook (.ipynb)?")
    sources = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if isinstance(source, str):
            if len(source) > MAX_CELL_CHARS:  # parsing it would cost the grader gigabytes
                raise SubmissionError(f"a code cell of {len(source):,} characters is over the grader's limit of "
                                      f"{MAX_CELL_CHARS:,}; move data out of the notebook")
            sources.append(_strip_magics(source))
    return sources


def _strip_magics(source: str) -> str:
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def defined_functions(source: str) -> set[str]:
    """Names of the top-level functions a cell defines (empty if it does not parse)."""
    tree = _parse(source)
    if tree is None:
        return set()
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _defines(source: str, name: str) -> bool:
    if name in defined_functions(source):
        return True
    # A cell that does not parse but visibly tries to define the function is still the target,
    # so the learner hears about the syntax error instead of "function not found".
    return _parse(source) is None and f"def {name}(" in source


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _calls_check(node: ast.AST) -> bool:
    """True for ``check(...)...`` or ``reference(...)`` chains such as
    ``check("gram_matrix", gram_matrix).use_or_reference()``."""
    while True:
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("check", "reference"):
                return True
            if isinstance(func, ast.Attribute) and func.attr in ("check", "reference") and not isinstance(func.value, ast.Call):
                return True
            node = func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return False


# ipywidgets' decorators that draw a panel when the function is defined: a slider callback is an
# experiment, never something an exercise calls, and executing one headless (nbgrader's autograde,
# nbclient) can hang the executor (jupyter/nbclient#312, jupyter/nbconvert#2029).
_WIDGET_DECORATORS = frozenset({"interact", "interact_manual", "interactive"})


def _draws_a_widget(node: ast.stmt) -> bool:
    for decorator in getattr(node, "decorator_list", ()):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name in _WIDGET_DECORATORS:
            return True
    return False


def _keeps(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.ClassDef)):
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return not _draws_a_widget(node)
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        simple = all(isinstance(t, (ast.Name, ast.Tuple)) for t in targets)
        return simple and (_is_literal(node.value) or _calls_check(node.value))
    return False


def definitions(source: str) -> list[str]:
    """The statements of a cell that the grader keeps when the cell is not the target (the prelude):
    imports, function and class definitions (not a slider callback under ``@interact``), literal
    constants and ``check(...)`` results."""
    tree = _parse(source)
    if tree is None:
        return []
    return [ast.unparse(node) for node in tree.body if _keeps(node)]  # unparse keeps decorators


def program_for(cells: list[str], name: str) -> Program:
    """The prelude and target cell that define exercise ``name`` in a submission's code cells."""
    cells = [_strip_magics(c) for c in cells]
    index = next((i for i in range(len(cells) - 1, -1, -1) if _defines(cells[i], name)), None)
    if index is None:
        return Program(name, (), None)
    prelude = tuple(stmt for cell in cells[:index] for stmt in definitions(cell))
    return Program(name, prelude, cells[index])


def _raises_not_implemented(node: ast.stmt) -> bool:
    if not isinstance(node, ast.Raise) or node.cause is not None:
        return False
    exc = node.exc.func if isinstance(node.exc, ast.Call) and not node.exc.args and not node.exc.keywords else node.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def is_unchanged_stub(target: str, name: str) -> bool:
    """True when the target cell is nothing but the exercise's stub: ``def name(...)`` whose body
    is an optional docstring and ``raise NotImplementedError()``, with no decorator, no default
    argument and no other statement in the cell. Such a submission earns nothing whatever runs it,
    so the grader scores it "not implemented" without starting a sandbox."""
    tree = _parse(target)
    if tree is None or len(tree.body) != 1:
        return False
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef) or node.name != name or node.decorator_list:
        return False
    if node.args.defaults or any(d is not None for d in node.args.kw_defaults):
        return False
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return len(body) == 1 and _raises_not_implemented(body[0])
