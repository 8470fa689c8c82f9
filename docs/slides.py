"""Set the RISE slide type of every cell of the lessons, by the plan tests/test_slides.py checks.

Usage: ``.venv/bin/python docs/slides.py [notebooks/NN-x.ipynb ...]`` (default: every lesson).
It only writes cell metadata and the notebook's ``rise`` settings, so stored outputs stay
as they are; running it twice changes nothing.

- title cell, ``# `` and ``## `` sections: ``slide``; ``### ``: ``subslide``;
- speaker notes ("**For the instructor** (about N minutes) ..."): ``notes``, tagged
  ``speaker-notes``;
- code that only imports: ``skip``;
- a code cell whose output is a picture: ``fragment`` (it appears on the next key press,
  so the explanation comes first and the picture builds up);
- everything else: ``-`` (on the slide before it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTES = re.compile(r"^\*\*For the instructor\*\* \(about \d+ minutes?\)")


def slide_type(index: int, cell) -> str:
    text = cell.source.lstrip("-\n ")
    if cell.cell_type == "markdown":
        if NOTES.match(text):
            return "notes"
        if index == 0 or text.startswith(("# ", "## ")):
            return "slide"
        if text.startswith("### "):
            return "subslide"
        return "-"
    lines = [line for line in cell.source.splitlines() if line.strip()]
    if lines and all(line.startswith(("import ", "from ")) for line in lines):
        return "skip"
    if any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])):
        return "fragment"
    return "-"


def apply(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        kind = slide_type(i, cell)
        cell.metadata["slideshow"] = {"slide_type": kind}
        tags = [t for t in cell.metadata.get("tags", []) if t != "speaker-notes"]
        if kind == "notes":
            tags.append("speaker-notes")
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
    # Long tables and pictures scroll inside their slide. The theme bundles no web font:
    # RISE's default ("simple") @imports Google Fonts, which an offline room cannot load,
    # and "white" upper-cases headings, which would change Kubernetes names in them.
    nb.metadata["rise"] = {"scroll": True, "transition": "none", "theme": "serif"}
    nbformat.write(nb, path)


if __name__ == "__main__":
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    for p in [Path(a) for a in sys.argv[1:]] or lessons:
        apply(p)
        sys.stdout.write(f"slides: {p}\n")
