"""kl.progress(): the exercises a learner solved, kept in a JSON file between sessions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import kubenet_lab as kl
from kubenet_lab.exercises.progress import LESSON_TITLES, progress_file

ROOT = Path(__file__).resolve().parents[1]


def _exercise_1_1():
    """An exercise with a course key (1.1) and a known right answer (8)."""
    return kl.Exercise("1.1", "task", checks=[kl.Check(lambda a, ctx: a == 8, "hint")],
                       explanation="why")


def test_a_passed_check_is_recorded_and_survives_a_new_session(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    monkeypatch.setenv("KUBENET_LAB_PROGRESS", str(path))
    ex = _exercise_1_1()
    assert not ex.check(None) and not ex.check(7)
    assert not path.exists()  # no answer, or a wrong one, records nothing
    assert ex.check(8)
    assert json.loads(path.read_text()) == {"solved": ["1.1"]}
    assert ex.check(8) and json.loads(path.read_text()) == {"solved": ["1.1"]}  # once
    p = kl.progress()
    first = p.lessons[0]
    assert first.lesson == 1 and first.solved == ("1.1",)
    assert first.exercises == tuple(e.key for e in kl.exercise_list(1))
    assert p.solved == 1 and p.total == len(kl.exercise_list())
    text = str(p).splitlines()
    assert text[0].split() == ["LESSON", "SOLVED"]
    assert text[1].startswith("01 · Pod-level networking")
    assert text[1].endswith(f"1 of {len(kl.exercise_list(1))}")
    assert text[-1].split() == ["course", "1", "of", str(len(kl.exercise_list()))]
    page = p._repr_html_()
    assert page.startswith("<table>") and "01 · Pod-level networking" in page


def test_the_table_lists_every_lesson_with_exercises_and_their_count(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBENET_LAB_PROGRESS", str(tmp_path / "p.json"))
    p = kl.progress()
    lessons = sorted({int(e.key.split(".")[0]) for e in kl.exercise_list()})
    assert [row.lesson for row in p.lessons] == lessons
    for row in p.lessons:
        assert len(row.exercises) == len(kl.exercise_list(row.lesson)) and row.solved == ()
    assert len(str(p).splitlines()) == len(lessons) + 2  # the heading and the course line


def test_each_title_is_the_heading_of_its_lesson_notebook():
    for number, title in LESSON_TITLES.items():
        notebooks = list((ROOT / "notebooks").glob(f"{number:02d}-*.ipynb"))
        if not notebooks:
            continue
        heading = json.loads(notebooks[0].read_text())["cells"][0]["source"][0]
        assert heading.startswith(f"# {number:02d} · {title}"), (heading, title)


def test_reset_forgets_everything(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    monkeypatch.setenv("KUBENET_LAB_PROGRESS", str(path))
    _exercise_1_1().check(8)
    kl.reset_progress()
    assert kl.progress().solved == 0 and not path.exists()
    kl.reset_progress()  # twice is fine
    _exercise_1_1().check(8)
    assert kl.progress(reset=True).solved == 0 and not path.exists()


@pytest.mark.parametrize("content", ["{not json", '["1.1"]', '{"solved": [1]}', "[" * 100000,
                                     b"\xff\xfe"])
def test_a_file_that_is_not_the_labs_names_itself_and_the_fix(tmp_path, monkeypatch, content):
    path = tmp_path / "p.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    monkeypatch.setenv("KUBENET_LAB_PROGRESS", str(path))
    with pytest.raises(kl.ProgressFileError, match="delete the file") as err:
        kl.progress()
    assert isinstance(err.value, kl.KubenetLabError) and str(path) in str(err.value)
    # a check still gives its feedback; the file is left for the learner to look at
    assert _exercise_1_1().check(8)
    assert path.read_bytes() == (content if isinstance(content, bytes) else content.encode())
    assert kl.progress(reset=True).solved == 0  # the fix the message gives


def test_a_directory_in_place_of_the_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBENET_LAB_PROGRESS", str(tmp_path))
    with pytest.raises(kl.ProgressFileError, match="cannot be read"):
        kl.progress()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into a read-only directory")
def test_a_read_only_directory_keeps_the_session_and_says_so(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    monkeypatch.setenv("KUBENET_LAB_PROGRESS", str(ro / "p.json"))
    _exercise_1_1().check(8)
    p = kl.progress()
    assert p.solved == 1 and str(p).count("cannot be written") == 1


def test_a_file_that_cannot_be_written_keeps_the_session_and_says_so_once(tmp_path,
                                                                          monkeypatch):
    """The data directory's place is taken by a file, so nothing can be written there
    (the read-only case, as root can also meet it)."""
    blocked = tmp_path / "file"
    blocked.write_text("")
    path = blocked / "p.json"
    monkeypatch.setenv("KUBENET_LAB_PROGRESS", str(path))
    assert _exercise_1_1().check(8)
    assert kl.Exercise("2.1", "t").check(1)  # no checks: any answer passes
    p = kl.progress()
    assert p.solved == 2 and p.unsaved == str(path)
    assert str(p).count("cannot be written") == 1 and str(path) in str(p).splitlines()[-1]
    assert "cannot be written" in p._repr_html_()
    kl.reset_progress()
    assert kl.progress().solved == 0 and kl.progress().unsaved is None


def test_the_default_file_is_in_the_jupyter_data_directory(monkeypatch):
    """jupyter_core.paths.jupyter_data_dir(): where Jupyter keeps a user's data."""
    from jupyter_core.paths import jupyter_data_dir

    monkeypatch.delenv("KUBENET_LAB_PROGRESS")
    assert progress_file() == Path(jupyter_data_dir()) / "kubenet-lab" / "progress.json"


def test_the_test_session_never_touches_the_learners_record(tmp_path):
    """tests/conftest.py points each test at a record of its own (and the notebooks'
    kernels at a temporary one)."""
    assert progress_file() == tmp_path / "progress.json"
