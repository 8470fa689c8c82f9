"""Helpers for running the course: is this environment ready for the lessons?

``environment_report()`` checks the packages the lessons need. Its text shows only
"ok" or what is wrong (not the version numbers, which differ between machines), so a
lesson can show it and still compare equal under nbval.

Examples
--------
>>> report = kl.environment_report()
>>> report.ok
True
>>> print(report)  # doctest: +NORMALIZE_WHITESPACE
PACKAGE      NEEDS   STATUS
python       3.10    ok
ipywidgets   8.0     ok
jupyterlab   4.0     ok
matplotlib   3.7     ok
networkx     3.0     ok
pyyaml       6.0     ok
"""

from __future__ import annotations

import html
import sys
from dataclasses import dataclass
from importlib import metadata

from kubenet_lab.model.arguments import checked

__all__ = ["EnvironmentReport", "Requirement", "environment_report"]

_NEEDS = (
    ("ipywidgets", "ipywidgets", (8, 0)),
    ("jupyterlab", "jupyterlab", (4, 0)),
    ("matplotlib", "matplotlib", (3, 7)),
    ("networkx", "networkx", (3, 0)),
    ("pyyaml", "PyYAML", (6, 0)),
)


@dataclass(frozen=True, slots=True)
class Requirement:
    """One package the lessons need: its minimum version and what was found."""

    name: str
    minimum: tuple[int, ...]
    found: str | None

    @property
    def ok(self) -> bool:
        return self.found is not None and _version_tuple(self.found) >= self.minimum

    @property
    def status(self) -> str:
        if self.found is None:
            return f"missing: pip install '{self.name}>={_dotted(self.minimum)}'"
        if not self.ok:
            return f"too old ({self.found}): pip install -U '{self.name}>={_dotted(self.minimum)}'"
        return "ok"


@dataclass(frozen=True, slots=True, repr=False)
class EnvironmentReport:
    """The result of ``environment_report()``: a requirement per row."""

    requirements: tuple[Requirement, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.requirements)

    def __str__(self) -> str:
        rows = [("PACKAGE", "NEEDS", "STATUS")] + [
            (r.name, _dotted(r.minimum), r.status) for r in self.requirements
        ]
        w0 = max(len(r[0]) for r in rows) + 3
        w1 = max(len(r[1]) for r in rows) + 3
        return "\n".join(f"{a:<{w0}}{b:<{w1}}{c}".rstrip() for a, b, c in rows)

    def __repr__(self) -> str:
        # the text, not the dataclass fields: versions differ between machines
        return str(self)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(r.name)}</td><td>{_dotted(r.minimum)}</td>"
            f"<td style=\"color:{'#1a7f37' if r.ok else '#cf222e'}\">{html.escape(r.status)}"
            "</td></tr>"
            for r in self.requirements
        )
        return ("<table><tr><th>package</th><th>needs</th><th>status</th></tr>"
                f"{cells}</table>")


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(v) for v in version)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
        if not piece.isdigit():
            break
    return tuple(parts)


@checked
def environment_report() -> EnvironmentReport:
    """Check Python and the packages the lessons use."""
    python = ".".join(str(v) for v in sys.version_info[:3])
    reqs = [Requirement("python", (3, 10), python)]
    for name, dist, minimum in _NEEDS:
        try:
            found: str | None = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found = None
        reqs.append(Requirement(name, minimum, found))
    return EnvironmentReport(tuple(reqs))
