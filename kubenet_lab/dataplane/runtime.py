"""The kernels' mutable state: what the nodes remember between one connection and the
next, apart from the objects of the API (those are in the ``Store``).

- **route edits**: ``ip route add/del`` run on a node (``Cluster.exec``);
- **recent lists**: the ``-m recent`` lists of kube-proxy's ClientIP affinity rules,
  per node (timeouts are not modelled: an entry lasts as long as the cluster);
- **the random generator** that the kernel's ``statistic`` matches draw from (seeded,
  so a cluster always makes the same choices in the same order);
- **captures**: the packets of the last command that sent traffic, for ``tcpdump``.

Helper computations (the reply TTL of a ping, a picture of many connections) run on a
``fork()`` and leave the cluster's own runtime as it was.

>>> rt = Runtime(seed=0)
>>> scratch = rt.fork()
>>> scratch.random() == rt.random()
True
"""

from __future__ import annotations

import copy
import random
from typing import Any

__all__ = ["Runtime"]


class Runtime:
    """The mutable kernel state of a cluster's nodes (see the module docstring)."""

    def __init__(self, seed: int = 0, *, rng: random.Random | None = None,
                 route_edits: dict[str, tuple[tuple[str, Any], ...]] | None = None,
                 recent: dict[tuple[str, str, str], None] | None = None,
                 captures: tuple[tuple[str, Any], ...] = ()) -> None:
        self.rng = rng if rng is not None else random.Random(seed)
        self._route_edits = dict(route_edits or {})
        self._recent = dict(recent or {})
        self._captures = captures

    def __repr__(self) -> str:
        return (f"<Runtime {len(self._route_edits)} nodes with route edits, "
                f"{len(self._recent)} affinity entries>")

    def fork(self) -> Runtime:
        """An independent copy: what happens on it never reaches this runtime."""
        return Runtime(rng=copy.deepcopy(self.rng), route_edits=self._route_edits,
                       recent=self._recent, captures=self._captures)

    # ------------------------------------------------------------------ random
    def random(self) -> float:
        """The next draw of the kernel's random generator, in [0, 1)."""
        return self.rng.random()

    # ------------------------------------------------------------------ routes
    def route_edits(self, node: str) -> tuple[tuple[str, Any], ...]:
        """The ``("add"|"del", Route)`` edits made on ``node``, in order."""
        return self._route_edits.get(node, ())

    @property
    def edited_nodes(self) -> list[str]:
        """The nodes whose routes were edited, by name."""
        return sorted(n for n, edits in self._route_edits.items() if edits)

    def edit_routes(self, node: str, *edits: tuple[str, Any]) -> None:
        """Record ``ip route add/del`` on ``node`` (``tools.ip`` checks them first)."""
        self._route_edits[node] = self.route_edits(node) + tuple(edits)

    # ------------------------------------------------------------------ recent
    def recent(self, node: str, name: str, ip: str) -> bool:
        """Is ``ip`` on the ``recent`` list ``name`` of ``node``?"""
        return (node, name, ip) in self._recent

    def remember(self, node: str, name: str, ip: str) -> None:
        """``-m recent --set``: put ``ip`` on the list ``name`` of ``node``."""
        self._recent[(node, name, ip)] = None

    # ------------------------------------------------------------------ captures
    def capture(self, traces: tuple[tuple[str, Any], ...]) -> None:
        """Keep the packets of the last command that sent traffic (``(kind, Trace)``)."""
        self._captures = tuple(traces)

    @property
    def captured(self) -> tuple[tuple[str, Any], ...]:
        return self._captures
