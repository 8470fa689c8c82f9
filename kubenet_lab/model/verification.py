"""The result of ``Cluster.verify_network_model()``: one check per rule of the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["NetworkModelReport", "Problem", "RuleCheck"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One way a rule fails: the pair (or node, or podCIDR) and where it went wrong.

    Attributes
    ----------
    src, dst : str
        The pair (``"ns/pod"`` or a node name), or the two things in conflict.
    hop : int or None
        The hop of the representative trace where the packet was lost or rewritten.
    where : str
        That hop's location (``"node node-1 eth0"``), or ``""``.
    detail : str
        What happened there.
    pairs : int
        How many pairs of pods this problem stands for (pairs that take the same path).
    src_node, dst_node : str
        The nodes of ``src`` and ``dst`` (for pictures).
    """

    src: str
    dst: str
    hop: int | None
    where: str
    detail: str
    pairs: int = 1
    src_node: str = ""
    dst_node: str = ""


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One rule of the Kubernetes network model and what the check found."""

    rule: str
    ok: bool
    checked: str
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkModelReport:
    """The verdict of ``Cluster.verify_network_model()``.

    ``ok`` is True when every rule holds. ``str(report)`` is a text report, the notebook
    shows it as HTML, and ``report.draw()`` pictures the nodes with the failing paths.
    """

    cni: str
    rules: tuple[RuleCheck, ...]
    pods: int
    pairs: int
    traces: int
    note: str
    nodes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every rule holds."""
        return all(r.ok for r in self.rules)

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every problem of every rule, in rule order."""
        return tuple(p for r in self.rules for p in r.problems)

    def __repr__(self) -> str:
        count = len(self.problems)
        verdict = "ok" if self.ok else f"{count} problem{'s' if count != 1 else ''}"
        return f"<NetworkModelReport cni={self.cni} {verdict}, {self.traces} traces>"

    def __str__(self) -> str:
        from kubenet_lab.views.text import network_model_text

        return network_model_text(self)

    def _repr_html_(self) -> str:
        from kubenet_lab.views.html import network_model_html

        return network_model_html(self)

    def draw(self, ax: Any = None) -> Any:
        """A picture: the nodes, with each failing pair's path marked. Returns the figure."""
        from kubenet_lab.views.network import draw_network_model

        return draw_network_model(self, ax=ax)
