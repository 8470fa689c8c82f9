"""The learner's progress: which exercises are solved, kept between sessions.

Each ``Exercise.check`` that passes records the exercise in a small JSON file,
``progress.json`` in the learner's Jupyter data directory (``jupyter --data-dir``, that
is ``jupyter_core.paths.jupyter_data_dir()``, then ``kubenet-lab/``), where Jupyter keeps
per-user data that outlives a kernel. The environment variable ``KUBENET_LAB_PROGRESS``
names another file; the test suite points it at a temporary one, so nbval and CI never
see a learner's record. The file holds only the solved exercises' keys::

    {"solved": ["1.1", "1.2", "3.1"]}

It is written whole to a temporary file that then replaces it (``os.replace``), so a
second kernel never reads half of it. Where it cannot be written (a read-only home, say)
the exercises solved are kept for the session and the table says so, once, under it; a
file that is not the lab's JSON is a ``ProgressFileError`` naming the file and the fix
(delete it: ``kl.reset_progress()`` does), never a foreign exception, and a check that
passes meanwhile still gives its feedback.

Examples
--------
>>> kl.reset_progress()
>>> print(kl.progress())  # doctest: +ELLIPSIS
LESSON                                       SOLVED
01 · Pod-level networking                    0 of 4
...
course                                       0 of ...
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from kubenet_lab.exceptions import ProgressFileError
from kubenet_lab.model.arguments import checked

__all__ = ["Progress", "progress", "reset_progress"]

#: The environment variable that names the progress file.
ENVIRONMENT_VARIABLE = "KUBENET_LAB_PROGRESS"
#: Lesson number to its title (the lesson notebook's heading, as short as it stays clear).
LESSON_TITLES = {
    1: "Pod-level networking",
    2: "Cluster-level networking",
    3: "Services, kube-proxy and DNS",
    4: "Egress",
    5: "Ingress",
    6: "Gateway API",
    7: "Network policies",
    8: "Networking tools and troubleshooting",
    9: "Capstone",
}
_FIX = "delete the file (kl.reset_progress() does) to start the record anew"

# Exercises solved in this session that could not be written to the file.
_unsaved: set[str] = set()


def progress_file() -> Path:
    """The JSON file the progress is kept in: ``$KUBENET_LAB_PROGRESS``, or
    ``progress.json`` in ``kubenet-lab/`` of the Jupyter data directory."""
    named = os.environ.get(ENVIRONMENT_VARIABLE)
    if named:
        return Path(named)
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "kubenet-lab" / "progress.json"


def _bad_file(path: Path, problem: str, fix: str = _FIX) -> ProgressFileError:
    return ProgressFileError("Progress file", None, str(path), problem, fix=fix)


def _read(path: Path) -> set[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):  # no file there (yet)
        return set()
    except (OSError, UnicodeDecodeError) as err:
        raise _bad_file(path, f"cannot be read ({type(err).__name__})") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise _bad_file(path, "is not JSON") from None
    keys = data.get("solved") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise _bad_file(path, 'is not {"solved": [exercise keys]}')
    return set(keys)


def solved() -> set[str]:
    """The keys of the exercises solved so far: the file's and this session's unsaved
    ones. Raises ``ProgressFileError`` when the file is not the lab's."""
    return _read(progress_file()) | _unsaved


def _order(key: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in key.split("."))


def _write(path: Path, keys: set[str]) -> bool:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"solved": sorted(keys, key=_order)}) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        return False
    return True


def record_solved(key: str) -> None:
    """Add the exercise ``key`` to the record. Where the file cannot be written, or is
    not the lab's (left as it is for ``kl.progress()`` to report), the key is kept for
    the session: the check that called this still gives its feedback."""
    path = progress_file()
    try:
        keys = _read(path)
    except ProgressFileError:
        _unsaved.add(key)
        return
    keys |= _unsaved
    if key in keys and not _unsaved:
        return
    if _write(path, keys | {key}):
        _unsaved.clear()
    else:
        _unsaved.add(key)


@checked
def reset_progress() -> None:
    """Forget every solved exercise: the file is deleted (for an instructor preparing a
    machine, or a learner starting again). A missing file is fine."""
    _unsaved.clear()
    path = progress_file()
    try:
        path.unlink()
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as err:
        raise _bad_file(path, f"cannot be deleted ({type(err).__name__})",
                        fix="delete it by hand, or point KUBENET_LAB_PROGRESS at "
                            "another file") from None


class LessonProgress(NamedTuple):
    """One row of the table: a lesson, its exercises and those solved (keys)."""

    lesson: int
    title: str
    solved: tuple[str, ...]
    exercises: tuple[str, ...]


@dataclass(frozen=True)
class Progress:
    """Exercises solved per lesson and for the course (``kl.progress()`` builds it).

    ``lessons`` holds one ``LessonProgress`` per lesson that has exercises, in course
    order; ``unsaved`` names the file when this session's answers could not be written
    to it (None when all is saved).
    """

    lessons: tuple[LessonProgress, ...]
    unsaved: str | None = None

    @classmethod
    def of(cls, exercises: Iterable[str], done: Iterable[str],
           unsaved: str | None = None) -> Progress:
        """The table of the exercise keys ``exercises`` of which ``done`` are solved."""
        done = set(done)
        by_lesson: dict[int, list[str]] = {}
        for key in sorted(set(exercises), key=_order):
            by_lesson.setdefault(_order(key)[0], []).append(key)
        return cls(tuple(
            LessonProgress(n, LESSON_TITLES.get(n, f"Lesson {n}"),
                           tuple(k for k in keys if k in done), tuple(keys))
            for n, keys in sorted(by_lesson.items())), unsaved)

    @property
    def solved(self) -> int:
        """Exercises solved in the whole course."""
        return sum(len(row.solved) for row in self.lessons)

    @property
    def total(self) -> int:
        """Exercises in the whole course."""
        return sum(len(row.exercises) for row in self.lessons)

    def _rows(self) -> list[tuple[str, str]]:
        rows = [(f"{row.lesson:02d} · {row.title}", f"{len(row.solved)} of {len(row.exercises)}")
                for row in self.lessons]
        return [*rows, ("course", f"{self.solved} of {self.total}")]

    def _note(self) -> str:
        if self.unsaved is None:
            return ""
        return (f"The progress file {self.unsaved} cannot be written: the exercises solved "
                "in this session are counted until the kernel stops.")

    def __str__(self) -> str:
        rows = self._rows()
        width = max(len(name) for name, _ in rows) + 4
        lines = [f"{'LESSON':<{width}}SOLVED", *(f"{name:<{width}}{count}" for name, count in rows)]
        if self.unsaved is not None:
            lines.append(self._note())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        cell = "style='text-align:left;padding:0 1em 0 0'"
        body = "".join(
            f"<tr><td {cell}>{html.escape(name)}</td><td {cell}>{html.escape(count)}</td></tr>"
            for name, count in self._rows()[:-1])
        name, count = self._rows()[-1]
        foot = f"<tr><th {cell}>{name}</th><th {cell}>{count}</th></tr>"
        note = f"<p>{html.escape(self._note())}</p>" if self.unsaved is not None else ""
        return (f"<table><thead><tr><th {cell}>lesson</th><th {cell}>solved</th></tr></thead>"
                f"<tbody>{body}</tbody><tfoot>{foot}</tfoot></table>{note}")


@checked
def progress(reset: bool = False) -> Progress:
    """Exercises solved per lesson and for the course, as a table (text and HTML).

    Every check that passes is recorded in a small JSON file in the Jupyter data
    directory (``KUBENET_LAB_PROGRESS`` names another), so the table survives a restart
    of the kernel and of Jupyter. ``reset=True`` forgets everything first (as
    ``kl.reset_progress()``). The table lists every lesson that has exercises, with the
    number of its exercises (``kl.exercise_list(lesson)``).

    >>> kl.progress(reset=True).solved
    0
    >>> _ = kl.exercise("1.4").check(None)  # not answered: nothing recorded
    >>> p = kl.progress()
    >>> p.solved, p.total == len(kl.exercise_list()), p.lessons[0].lesson
    (0, True, 1)
    """
    from kubenet_lab.exercises import exercise_list

    if reset:
        reset_progress()
    path = progress_file()
    done = solved()
    return Progress.of((ex.key for ex in exercise_list()), done,
                       unsaved=str(path) if _unsaved else None)
