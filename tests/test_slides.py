"""Every lesson is also a talk: RISE slide metadata on every cell, speaker notes per section.

jupyterlab-rise reads ``metadata.slideshow.slide_type`` of each cell (``slide``,
``subslide``, ``fragment``, ``skip``, ``notes``, ``-``). The lessons follow one plan, so
"Render as slideshow" gives a talk a person can give:

- the title cell and every ``## `` section start a slide, ``### `` a subslide;
- cells that only import are ``skip``;
- each numbered section and the exercises have one speaker-notes cell: a markdown cell of
  type ``notes`` tagged ``speaker-notes``, starting "**For the instructor** (about N
  minutes)", saying what to say, a question for the room and the misconception to expect.
  RISE shows it only in the speaker view; in the notebook it reads as a short aside.
- the notes' minutes add up to the time the lesson states (within a quarter).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

LESSONS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]-*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
NOTES = re.compile(r"^\*\*For the instructor\*\* \(about (\d+) minutes?\)")
NUMBERED = re.compile(r"^## (\d+ · |Exercises)")


def _type(cell) -> str | None:
    return cell.metadata.get("slideshow", {}).get("slide_type")


@pytest.fixture(params=LESSONS, ids=lambda p: p.stem)
def lesson(request):
    return nbformat.read(request.param, as_version=4)


def test_every_cell_has_a_slide_type_and_sections_start_slides(lesson):
    for i, cell in enumerate(lesson.cells):
        kind = _type(cell)
        assert kind in SLIDE_TYPES, f"cell {i} has slide_type {kind!r}: {cell.source[:60]!r}"
        first = cell.source.lstrip("-\n ").splitlines()[0] if cell.source.strip() else ""
        if cell.cell_type == "markdown" and (first.startswith(("# ", "## ")) or i == 0):
            assert kind == "slide", f"cell {i} starts a section, so a slide: {first!r}"
        elif cell.cell_type == "markdown" and first.startswith("### "):
            assert kind in {"slide", "subslide"}, f"cell {i}: {first!r}"
        if cell.cell_type == "code" and cell.source.strip() and all(
                line.startswith(("import ", "from ")) for line in cell.source.splitlines()
                if line.strip()):
            assert kind == "skip", f"cell {i} only imports: skipped in the slides"


def test_notes_cells_are_tagged_and_each_section_has_one(lesson):
    section, notes = None, {}
    for i, cell in enumerate(lesson.cells):
        text = cell.source.lstrip("-\n ")
        if cell.cell_type == "markdown" and text.startswith("## "):
            section = text.splitlines()[0] if NUMBERED.match(text) else None
            if section:
                notes[section] = []
        is_note = _type(cell) == "notes"
        if is_note or NOTES.match(text):
            assert is_note and cell.cell_type == "markdown", f"cell {i}: notes are markdown"
            assert "speaker-notes" in cell.metadata.get("tags", []), f"cell {i} is not tagged"
            found = NOTES.match(text)
            assert found, f"cell {i} does not start '**For the instructor** (about N minutes)'"
            assert section is not None, f"cell {i}: notes outside a numbered section"
            notes[section].append(int(found.group(1)))
    if not notes:  # lesson 00: no numbered sections, no notes needed
        return
    missing = [s for s, minutes in notes.items() if len(minutes) != 1]
    assert not missing, f"sections without exactly one speaker-notes cell: {missing}"


def test_the_notes_add_up_to_the_time_the_lesson_states(lesson):
    text = "\n".join(c.source for c in lesson.cells[:4] if c.cell_type == "markdown")
    stated = re.search(r"\bTime:?\**:?\s*(?:about\s+)?(\d+)\s*min", text)
    minutes = [int(m.group(1)) for c in lesson.cells
               if (m := NOTES.match(c.source.lstrip("-\n ")))]
    if not minutes:
        return
    assert stated, "a lesson with speaker notes states its time ('**Time:** N minutes.')"
    assert abs(sum(minutes) - int(stated.group(1))) <= int(stated.group(1)) / 4, (
        f"notes add up to {sum(minutes)} minutes, the lesson says {stated.group(1)}")
