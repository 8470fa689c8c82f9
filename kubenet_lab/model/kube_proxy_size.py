"""What kube-proxy holds on one node, as a cluster grows: a record for the lessons'
tables and pictures (``analysis.kube_proxy_size`` measures it)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KubeProxySize"]


@dataclass(frozen=True, slots=True)
class KubeProxySize:
    """One node's kube-proxy tables in one cluster.

    ``service_ports`` and ``endpoints`` are what kube-proxy programs (every port of every
    Service with a cluster IP, and the ready endpoints behind them); ``lines`` and
    ``bytes`` the size of its listing on the node (``iptables-save`` in iptables mode,
    ``nft list table ip kube-proxy`` in nftables mode); ``first_packet_rules`` the rules
    a new connection's first packet is matched against on its way to the Service port
    listed last (``walk.netfilter.rules_traversed``).

    >>> s = KubeProxySize("iptables", 3, 4, 2, 5, 120, 9000, 8)
    >>> s.lines_per_endpoint
    24.0
    """

    mode: str
    nodes: int
    pods: int
    service_ports: int
    endpoints: int
    lines: int
    bytes: int
    first_packet_rules: int

    @property
    def lines_per_endpoint(self) -> float:
        """Lines of the listing per endpoint (0 without endpoints)."""
        return self.lines / self.endpoints if self.endpoints else 0.0
