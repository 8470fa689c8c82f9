"""docs/teaching.md, the instructor's guide: its generated parts (the plans, the lesson
table, the solutions) are what ``python -m kubenet_lab teaching-solutions`` writes today,
so they cannot drift from the notebooks and the ``kl.exercise`` objects; and what they
say is checked against those sources directly.
"""

from __future__ import annotations

import ast
import difflib
import re
from pathlib import Path

import nbformat
import pytest

import kubenet_lab as kl
from kubenet_lab.__main__ import main
from kubenet_lab.site import hint_texts, teaching_sections, update_teaching

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "teaching.md"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
COMMAND = "python -m kubenet_lab teaching-solutions"


def _text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def _plain(markdown: str) -> str:
    """The guide's text with markdown's escapes undone."""
    return re.sub(r"\\([\\*<])", r"\1", markdown)


def _intro(path: Path) -> str:
    """A lesson's markdown before its first code cell."""
    out = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            break
        out.append(cell.source)
    return "\n\n".join(out)


def test_the_generated_parts_are_up_to_date():
    if update_teaching(GUIDE, write=False):
        text = _text()
        wanted = text
        for name, body in teaching_sections().items():
            wanted = re.sub(rf"(<!-- BEGIN GENERATED: {name} .*?-->\n).*?(\n<!-- END GENERATED: "
                            rf"{name} -->)", lambda m, b=body: m.group(1) + b + m.group(2),
                            wanted, flags=re.DOTALL)
        diff = "\n".join(difflib.unified_diff(text.splitlines(), wanted.splitlines(),
                                              "docs/teaching.md", "generated", lineterm=""))
        pytest.fail(f"docs/teaching.md is out of date: run `{COMMAND}`\n{diff[:3000]}")


def test_every_exercise_has_its_task_solution_why_and_hints():
    text = _plain(_text())
    exercises = kl.exercise_list()
    assert len(exercises) >= 20
    for ex in exercises:
        section = text.split(f"#### Exercise {ex.key}\n", 1)
        assert len(section) == 2, f"no section for exercise {ex.key}"
        body = section[1].split("\n#### ", 1)[0].split("\n### ", 1)[0]
        assert ex.task in body, ex.key
        assert ex.solution.rstrip() in body, ex.key
        assert ex.explanation in body, ex.key
        for check in ex.checks:
            if isinstance(check.hint, str):
                assert check.hint in body, (ex.key, check.hint)


def test_every_lesson_has_a_row_with_its_minutes_and_objectives():
    rows = {line.split("](../notebooks/", 1)[1].split(")", 1)[0]: line
            for line in _text().splitlines()
            if line.startswith("| [") and line.count(" | ") >= 3}
    assert set(rows) == {p.name for p in LESSONS}
    for path in LESSONS:
        intro = _intro(path)
        cells = rows[path.name].split(" | ")
        stated = re.search(r"Time:\**\s*(?:about\s+)?(\d+)\s*min", intro)
        assert cells[1] == (stated.group(1) if stated else "not stated"), path.name
        objectives = intro.split("## Learning objectives", 1)
        if len(objectives) == 2:
            items = re.findall(r"^\d+\.\s", objectives[1].split("\n## ", 1)[0], re.MULTILINE)
            assert cells[3].count("<br>") + 1 == len(items), path.name
            assert cells[3].startswith("1. "), path.name


def test_the_plans_add_up_and_cover_the_lessons():
    plans = _text().split("<!-- BEGIN GENERATED: plans", 1)[1].split("<!-- END GENERATED", 1)[0]
    tables = re.findall(r"\*\*(Half day|Full day)\*\*: 9:00 to (\d+):(\d\d)(.*?)\| \d+:\d\d \| "
                        r"\| end \|", plans, re.DOTALL)
    assert [t[0] for t in tables] == ["Half day", "Full day"]
    for name, hours, minutes, table in tables:
        spent = sum(int(m) for m in re.findall(r"^\| \d+:\d\d \| (\d+) \|", table, re.MULTILINE))
        assert 9 * 60 + spent == int(hours) * 60 + int(minutes), name
        taught = re.findall(r"\(\.\./notebooks/(\d\d)-", table)
        assert taught == sorted(taught), name
        if name == "Half day":
            assert spent <= 4 * 60 and {"01", "02", "03"} <= set(taught)
        else:
            assert {p.name[:2] for p in LESSONS if "01" <= p.name[:2] <= "08"} <= set(taught)


def test_every_link_of_the_guide_resolves():
    for target in re.findall(r"\]\(([^)\s]+)\)", _text()):
        if not re.match(r"[a-z]+:", target) and not target.startswith("#"):
            assert (GUIDE.parent / target.split("#")[0]).exists(), target


def _answers():
    return ["", "x", "10.0.0.1", ("a", "b"), 0, "done", ["a"], {"a": 1}]


def _template_matches(template: str, hint: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in template.split("…"))
    return re.fullmatch(pattern, hint, re.DOTALL) is not None


def test_the_hints_listed_are_the_hints_the_checks_give():
    """Each hint function, called on odd answers, says one of the texts the guide lists
    for it; where the guide names the answer that brings a hint, that answer brings it."""
    contexts = [None, kl.Cluster(workers=2)]
    compared = 0
    for ex in kl.exercise_list():
        for check in ex.checks:
            if isinstance(check.hint, str):
                continue
            texts = hint_texts(check)
            for answer in _answers():
                for context in contexts:
                    try:
                        hint = check.hint(answer, context)
                    except Exception:  # noqa: BLE001 - a hint that needs the lesson's state
                        continue
                    if texts and isinstance(hint, str) and hint:
                        assert any(_template_matches(t, hint) for _, t in texts), \
                            (ex.key, hint, texts)
                        compared += 1
            for condition, text in texts:
                said = re.fullmatch(r"the answer is `(.*)`", condition or "")
                if said:
                    answer = ast.literal_eval(said.group(1))
                    for context in contexts:
                        try:
                            hint = check.hint(answer, context)
                        except Exception:  # noqa: BLE001
                            continue
                        assert _template_matches(text, hint), (ex.key, answer, hint)
                        compared += 1
    assert compared >= 20, compared


# ---------------------------------------------------------------- the command line
def test_the_command_checks_and_updates_a_guide(tmp_path, capsys):
    assert main(["teaching-solutions", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    stale = tmp_path / "teaching.md"
    text = _text()
    begin = text.index("<!-- BEGIN GENERATED: solutions")
    stale.write_text(text[:text.index("\n", begin) + 1] + text[text.index(
        "<!-- END GENERATED: solutions"):], encoding="utf-8")
    before = stale.read_text()
    assert main(["teaching-solutions", "--check", "--file", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().out and stale.read_text() == before
    assert main(["teaching-solutions", "--file", str(stale)]) == 0
    assert "updated" in capsys.readouterr().out
    assert stale.read_text() == text


def test_the_command_refuses_a_guide_without_markers_or_no_guide(tmp_path, capsys):
    bare = tmp_path / "teaching.md"
    bare.write_text("# Teaching\n")
    assert main(["teaching-solutions", "--file", str(bare)]) == 2
    err = capsys.readouterr().err
    assert "has no markers for the generated part" in err and "Traceback" not in err
    assert main(["teaching-solutions", "--file", str(tmp_path / "none.md")]) == 2
    assert "cannot be read" in capsys.readouterr().err
