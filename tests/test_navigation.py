"""The learner's path through the course (issue 14): every lesson 01-08 starts with a link
back (to the previous lesson and to the course map, lesson 00) and ends with a "What's
next" cell that links the next lesson; every link to a lesson notebook, in any notebook,
names a file that exists, and its text carries that lesson's number."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(p.name for p in NOTEBOOKS.glob("0[1-8]-*.ipynb"))
#: A Markdown link to a lesson notebook: [text](NN-name.ipynb) or with an #anchor.
LINK = re.compile(r"\[([^\]]*)\]\((\d\d-[A-Za-z0-9_-]+\.ipynb)(#[^)]*)?\)")


def _cells(name: str) -> list[nbformat.NotebookNode]:
    return nbformat.read(NOTEBOOKS / name, as_version=4).cells


def _lesson_file(number: int) -> str:
    [path] = NOTEBOOKS.glob(f"{number:02d}-*.ipynb")
    return path.name


def _links(text: str) -> list[str]:
    return [m.group(2) for m in LINK.finditer(text)]


def test_the_lessons_are_01_to_08():
    assert [name[:2] for name in LESSONS] == [f"{n:02d}" for n in range(1, 9)]


@pytest.mark.parametrize("name", LESSONS)
def test_a_lesson_starts_with_a_link_back(name):
    first = _cells(name)[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {name[:2]} ·")
    links = _links(first.source)
    assert _lesson_file(int(name[:2]) - 1) in links, links  # the previous lesson
    assert "00-start-here.ipynb" in links  # the map of the course


@pytest.mark.parametrize("name", LESSONS)
def test_a_lesson_ends_with_whats_next_linking_the_next_lesson(name):
    last = _cells(name)[-1]
    assert last.cell_type == "markdown" and last.source.startswith("## What's next")
    following = f"{int(name[:2]) + 1:02d}-"
    nexts = [link for link in _links(last.source) if link.startswith(following)]
    assert nexts, last.source
    assert all((NOTEBOOKS / link).is_file() for link in nexts)


def test_lesson_08_leads_to_the_capstone():
    assert "09-capstone.ipynb" in _links(_cells("08-networking-tools.ipynb")[-1].source)


def test_no_lesson_is_announced_for_a_later_release():
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        for cell in _cells(path.name):
            assert "next release" not in cell.source.lower(), path.name


def test_every_link_to_a_lesson_resolves_and_its_number_matches():
    seen = 0
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        for cell in _cells(path.name):
            if cell.cell_type != "markdown":
                continue
            for m in LINK.finditer(cell.source):
                text, target = m.group(1), m.group(2)
                seen += 1
                assert (NOTEBOOKS / target).is_file(), f"{path.name}: {target} does not exist"
                number = re.match(r"(?i)(?:lesson )?(\d\d)\b", text)
                if number:  # "[03 · Services](...)" or "[lesson 05, Ingress](...)"
                    assert number.group(1) == target[:2], f"{path.name}: [{text}]({target})"
    assert seen > 50
