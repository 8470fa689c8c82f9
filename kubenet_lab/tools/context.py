"""Where a command runs: a pod (``kubectl exec``) or a node (``ssh``), with the
dataplane it sees, and what the traffic tools share: sending a connection's first
packet, keeping it for ``tcpdump``, and round-trip times.

Pods run a debug image with the tools (as ``nicolaka/netshoot`` does); their shell is
``sh`` (dash: ``sh: 1: foo: not found``), the nodes' is ``bash``. There is no clock:
round-trip times are derived from a hash of the path and the number of routers on it
(0.05-0.6 ms), not measured.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.tables import Dataplane
from kubenet_lab.exceptions import NotFoundError
from kubenet_lab.walk.trace import trace

if TYPE_CHECKING:
    from kubenet_lab.dataplane.runtime import Runtime
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView
    from kubenet_lab.model.trace import Trace

__all__ = ["Context", "fmt_ms", "rtt_ms"]


class Context:
    """A command's place: ``pod`` or ``node`` (the other is None) and its dataplane."""

    def __init__(self, dp: Dataplane, where: str) -> None:
        view = dp.view
        self.dp = dp
        self.pod: Pod | None = None
        self.node: Node | None = None
        if isinstance(where, str) and view.has_node(where):
            self.node = view.node(where)
        elif isinstance(where, str) and "/" in where:
            self.pod = view.pod(where)
        else:
            nodes = view.nodes
            raise NotFoundError(
                "exec", "where", where, "is neither a pod nor a node of this cluster",
                fix="give 'namespace/pod' or a node name (" + ", ".join(
                    n.name for n in nodes[:4]) + (", ..." if len(nodes) > 4 else "") + ")")
        self.where = where

    def __repr__(self) -> str:
        return f"<Context {self.where}>"

    @property
    def view(self) -> StoreView:
        return self.dp.view

    @property
    def runtime(self) -> Runtime:
        return self.dp.runtime

    @property
    def shell(self) -> str:
        return "sh: 1" if self.pod else "bash"

    def not_found(self, cmd: str) -> str:
        """The shell's answer to an unknown command."""
        return f"sh: 1: {cmd}: not found" if self.pod else f"bash: {cmd}: command not found"

    @property
    def host(self) -> Node:
        """The node the command runs on (a pod's node)."""
        return self.view.node(self.pod.node) if self.pod else self.node  # type: ignore[return-value]

    @property
    def source(self) -> str:
        """This place as a ``trace`` source."""
        return self.pod.ref if self.pod else self.where

    def send(self, dst_ip: str, port: int, protocol: str = "TCP", *,
             scratch: bool = False) -> Trace:
        """The first packet of a connection from here; ``scratch`` walks it on a fork of
        the runtime (a probe that no kernel balances, such as ICMP)."""
        dp = Dataplane(self.view, self.runtime.fork()) if scratch else self.dp
        return trace(dp, self.source, dst_ip, port=port, protocol=protocol)

    def remember(self, traces: list[tuple[str, Trace]]) -> None:
        """Keep the packets of this command for ``tcpdump``."""
        self.runtime.capture(tuple(traces))


def rtt_ms(*key: object, base: float) -> float:
    """A round-trip time in ms: ``base`` plus up to 40%, from a hash of ``key``."""
    raw = int.from_bytes(hashlib.sha256(repr(key).encode()).digest()[:2], "big")
    return base * (1 + raw / 65535 * 0.4)


def fmt_ms(value: float) -> str:
    """iputils prints 3 significant digits: 0.412, 1.23, 12.3."""
    if value < 1:
        return f"{value:.3f}"
    if value < 10:
        return f"{value:.2f}"
    return f"{value:.1f}"
