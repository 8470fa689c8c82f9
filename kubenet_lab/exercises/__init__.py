"""Exercises for the lessons, with checks that give hints.

>>> kl.exercise("1.4").key
'1.4'
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
)
from kubenet_lab.exercises.base import NOT_ANSWERED, Check, Exercise, Feedback
from kubenet_lab.model.arguments import checked

__all__ = ["NOT_ANSWERED", "Check", "Exercise", "Feedback", "exercise"]

_ALL = {ex.key: ex for lesson in (lesson01, lesson02, lesson03, lesson04, lesson05, lesson06,
                                  lesson07, lesson08) for ex in lesson.EXERCISES}


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
