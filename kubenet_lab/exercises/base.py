"""A light check / hint / solution helper for the lessons' exercises.

An ``Exercise`` holds a task and a list of checks. Each check looks at the learner's
answer (a value, or the cluster the learner changed) and either passes or returns the
hint that fits what is wrong. ``check`` runs them in order and stops at the first that
fails, so the hint is about the first thing to fix; when all pass, the learner gets the
explanation of *why* the answer is right.

Examples
--------
>>> ex = kl.Exercise("0.1", "How many bits does a /24 leave for hosts?",
...                  checks=[kl.Check(lambda a, ctx: a == 8, "32 - 24 = ?")],
...                  explanation="A /24 fixes 24 of the 32 bits.", solution="answer = 8")
>>> print(ex.check(7))
✗ Exercise 0.1: not yet. Hint: 32 - 24 = ?
>>> print(ex.check(8))
✓ Exercise 0.1: correct. A /24 fixes 24 of the 32 bits.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubenet_lab.exceptions import ManifestError, NotFoundError
from kubenet_lab.exercises.progress import record_solved
from kubenet_lab.model.arguments import checked

__all__ = ["Check", "Exercise", "Feedback", "NOT_ANSWERED"]

#: What the lessons put in an answer cell before the learner answers.
NOT_ANSWERED = None


@dataclass(frozen=True)
class Check:
    """One condition on an answer.

    ``test(answer, context)`` returns True when the condition holds; ``hint`` is a
    string, or a function ``(answer, context) -> str`` that builds the hint from what
    the learner did. A check that raises counts as failed, with its hint.
    """

    test: Callable[[Any, Any], bool]
    hint: str | Callable[[Any, Any], str]

    def run(self, answer: Any, context: Any) -> str | None:
        """None if the check passes, else the hint."""
        try:
            ok = bool(self.test(answer, context))
        except Exception:  # noqa: BLE001 - any error in the learner's state is a failed check
            ok = False
        if ok:
            return None
        return self.hint(answer, context) if callable(self.hint) else self.hint


@dataclass(frozen=True)
class Feedback:
    """The result of checking an answer: ``passed`` and the message that says why."""

    exercise: str
    passed: bool
    message: str
    answered: bool = True

    def __str__(self) -> str:
        if not self.answered:
            return f"… Exercise {self.exercise}: not answered yet. {self.message}"
        if self.passed:
            return f"✓ Exercise {self.exercise}: correct. {self.message}"
        return f"✗ Exercise {self.exercise}: not yet. Hint: {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return self.passed

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else ("#6e7781" if not self.answered else "#cf222e")
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 10px;margin:4px 0">'
            f"{html.escape(str(self))}</div>"
        )


@dataclass(frozen=True)
class Exercise:
    """An exercise: a task, checks that give hints, an explanation and a solution.

    Parameters
    ----------
    key : str
        Its number in the lesson, e.g. ``"1.2"``.
    task : str
        What the learner is asked to do.
    checks : list of Check
        Run in order on ``(answer, context)``; the first failing one gives the hint.
    explanation : str
        Shown when every check passes: why the answer is right.
    solution : str
        A worked solution, shown only on request.
    cluster_setup : callable, optional
        Builds the cluster the exercise starts from, fresh on every call (``setup()``), so
        that an answer cell that begins with ``kl.exercise(key).setup()`` can run again
        and again: nothing the learner created before is in the way.
    """

    key: str
    task: str
    checks: list[Check] = field(default_factory=list)
    explanation: str = ""
    solution: str = ""
    cluster_setup: Callable[[], Any] | None = None

    def setup(self) -> Any:
        """A fresh cluster to answer this exercise on, as the lesson describes it."""
        if self.cluster_setup is None:
            raise NotFoundError(
                f"Exercise {self.key}", None, "setup()", "is not there: this exercise is "
                "answered on the lesson's own cluster or trace",
                fix="run the lesson's cells above the exercise, then its answer cell")
        return self.cluster_setup()

    @checked
    def check(self, answer: Any, context: Any = None) -> Feedback:
        """Check an answer; ``context`` is what the checks may also look at (a cluster)."""
        if answer is NOT_ANSWERED:
            return Feedback(self.key, False, "Replace None with your answer and run the cell "
                            "again.", answered=False)
        for check in self.checks:
            try:
                hint = check.run(answer, context)
            except Exception:  # noqa: BLE001 - a hint that cannot read the context
                raise ManifestError(
                    f"Exercise {self.key}", "context", context,
                    "is not what this exercise checks the answer against",
                    fix="pass the lesson's cluster too: check(answer, c)") from None
            if hint is not None:
                return Feedback(self.key, False, hint)
        record_solved(self.key)
        return Feedback(self.key, True, self.explanation)

    def show_solution(self) -> str:
        """The worked solution, as text."""
        return f"Solution to exercise {self.key}:\n{self.solution}"

    def __repr__(self) -> str:
        return f"<Exercise {self.key}: {self.task}>"
