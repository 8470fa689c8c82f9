"""Every exercise cell of lessons 01-08 can run again and again (issue 14).

For each lesson the notebook runs top to bottom in one kernel, as a learner's *Run All*
does. Then every exercise cell (a code cell that calls ``kl.exercise(`` or ``.check(``)
runs a second time, in the same kernel: no error, and the same feedback as the first
time. Last, each exercise's own solution is put in its answer cell in place of
``answer = None`` and the cell runs twice: both runs are correct, so the solution works
when typed into the cell, and an answer cell that builds objects (a pod, a Service, a
route) does not trip over what its first run created.

Figures are drawn with Agg (no inline PNG rendering), which keeps the eight lessons to
well under a minute.
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import kubenet_lab as kl

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(p.name for p in NOTEBOOKS.glob("0[1-8]-*.ipynb"))
_KEY = re.compile(r"""kl\.exercise\(["']([0-9]+\.[0-9]+)["']\)\.check\(""")


def _text(cell: nbformat.NotebookNode) -> str:
    """What a cell showed, as text; raises if it showed an error."""
    out = []
    for o in cell.outputs:
        assert o.output_type != "error", f"{o.ename}: {o.evalue}"
        out.append(o.get("text") or o.get("data", {}).get("text/plain", ""))
    return "".join(out)


def _exercise_cells(nb: nbformat.NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and ("kl.exercise(" in c.source or ".check(" in c.source)]


def _solved(source: str, key: str) -> str | None:
    """The answer cell with the exercise's solution in place of ``answer = None``, or None
    when the solution is prose."""
    solution = kl.exercise(key).solution
    try:
        ast.parse(solution)
    except SyntaxError:
        return None
    assert "answer = None" in source, source
    return source.replace("answer = None", solution)


def test_every_lesson_has_exercise_cells():
    assert len(LESSONS) == 8
    for name in LESSONS:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        keys = [m.group(1) for i in _exercise_cells(nb)
                for m in _KEY.finditer(nb.cells[i].source)]
        lesson = int(name[:2])
        assert keys == [e.key for e in kl.exercise_list(lesson=lesson)], name  # in order


@pytest.mark.parametrize("name", LESSONS)
def test_exercise_cells_run_again_and_solutions_run_twice(name, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, i)
                _text(cell)
        for i in _exercise_cells(nb):
            first = _text(nb.cells[i])
            again = copy.deepcopy(nb.cells[i])
            client.execute_cell(again, i)
            assert _text(again) == first, f"cell {i} of {name} changed on a second run"
        for i in _exercise_cells(nb):
            source = nb.cells[i].source
            key = _KEY.search(source).group(1)
            solved = _solved(source, key)
            if solved is None:
                continue
            for run in (1, 2):
                cell = nbformat.v4.new_code_cell(solved)
                client.execute_cell(cell, i)
                assert f"✓ Exercise {key}: correct" in _text(cell), (key, run, _text(cell))
