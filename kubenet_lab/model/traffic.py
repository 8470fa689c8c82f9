"""Cluster-level traffic: flows between pods and what they cost on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubenet_lab.model.arguments import check_fields, checked

__all__ = ["Flow", "TrafficReport"]


@checked
@dataclass(frozen=True, slots=True)
class Flow:
    """Requests from one pod to another: ``requests`` HTTP-like exchanges on ``port``, each
    ``request_bytes`` up and ``response_bytes`` down (application payload)."""

    src: str
    dst: str
    requests: int = 1
    port: int = 80
    request_bytes: int = 400
    response_bytes: int = 4000

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class TrafficReport:
    """What a set of flows puts on the cluster's links.

    Attributes
    ----------
    cni : str
    flows : tuple of Flow
    pod_bytes : dict
        ``(src pod, dst pod) -> payload bytes`` (both directions of the exchanges).
    node_bytes : dict
        ``(src node, dst node) -> bytes on the VPC wire`` between two nodes (payload,
        TCP/IP headers and overlay headers), for pairs on different nodes.
    overlay_bytes : dict
        ``(src node, dst node) -> bytes of overlay headers`` (VXLAN or IP-in-IP) in there.
    local_bytes : dict
        ``node -> payload bytes`` between pods of the same node (never on the wire).
    dropped : tuple of str
        ``"src -> dst: reason"`` for flows whose packets do not arrive.
    """

    cni: str
    flows: tuple[Flow, ...]
    pod_bytes: dict[tuple[str, str], int]
    node_bytes: dict[tuple[str, str], int]
    overlay_bytes: dict[tuple[str, str], int]
    local_bytes: dict[str, int]
    dropped: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    pod_nodes: dict[str, str] | None = None

    @property
    def wire_total(self) -> int:
        """Bytes on the VPC wire between nodes."""
        return sum(self.node_bytes.values())

    @property
    def overlay_total(self) -> int:
        """Bytes of overlay headers among them."""
        return sum(self.overlay_bytes.values())

    def __repr__(self) -> str:
        return (f"<TrafficReport cni={self.cni} {len(self.flows)} flows, "
                f"{self.wire_total:,} bytes on the wire>")

    def __str__(self) -> str:
        from kubenet_lab.views.text import traffic_text

        return traffic_text(self)

    def draw(self, ax: Any = None) -> Any:
        """Node-to-node and pod-to-pod traffic, line widths by volume. Returns the figure."""
        from kubenet_lab.views.network import draw_traffic

        return draw_traffic(self, ax=ax)
