"""Exercises for the lessons, with checks that give hints.

>>> kl.exercise("1.4").key
'1.4'
>>> [ex.key for ex in kl.exercise_list(lesson=1)]
['1.1', '1.2', '1.3', '1.4']
"""

from __future__ import annotations

from kubenet_lab.exceptions import NotFoundError
from kubenet_lab.exercises import (
    lesson01,
    lesson02,
    lesson03,
    lesson04,
    lesson05,
    lesson06,
    lesson07,
    lesson08,
    lesson09,
)
from kubenet_lab.exercises.base import NOT_ANSWERED, Check, Exercise, Feedback
from kubenet_lab.model.arguments import checked

__all__ = ["NOT_ANSWERED", "Check", "Exercise", "Feedback", "exercise", "exercise_list"]

_ALL = {ex.key: ex for lesson in (lesson01, lesson02, lesson03, lesson04, lesson05, lesson06,
                                  lesson07, lesson08, lesson09) for ex in lesson.EXERCISES}


@checked
def exercise(key: str) -> Exercise:
    """The exercise numbered ``key`` (``"<lesson>.<n>"``, e.g. ``"1.2"``)."""
    try:
        return _ALL[key]
    except KeyError:
        raise NotFoundError(
            f"Exercise {key}", None, key, "does not exist",
            fix="exercises are: " + ", ".join(sorted(_ALL)),
        ) from None


@checked
def exercise_list(lesson: int | None = None) -> list[Exercise]:
    """Every exercise of the course in lesson order, or those of lesson ``lesson``."""
    if lesson is not None and not any(key.split(".")[0] == str(lesson) for key in _ALL):
        raise NotFoundError(f"Lesson {lesson}", None, lesson, "has no exercises",
                            fix="lessons with exercises are: " + ", ".join(
                                sorted({key.split(".")[0] for key in _ALL}, key=int)))
    return [ex for key, ex in sorted(_ALL.items(), key=lambda item: _key_order(item[0]))
            if lesson is None or key.split(".")[0] == str(lesson)]


def _key_order(key: str) -> tuple[int, int]:
    lesson, number = key.split(".")
    return int(lesson), int(number)
