"""IPv4 address arithmetic shared by every layer, with cached parsing
(policies, kube-proxy's rules and routes test the same addresses and blocks often).

>>> cidr_contains("10.244.0.0/16", "10.244.3.7"), cidr_span("10.244.1.0/24")
(True, (183763200, 183763455))
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Address, ip_network

__all__ = ["cidr_contains", "cidr_span", "ip_int"]


@lru_cache(maxsize=4096)
def cidr_span(cidr: str) -> tuple[int, int]:
    """First and last address of a CIDR, as integers."""
    net = ip_network(cidr)
    return int(net.network_address), int(net.broadcast_address)


@lru_cache(maxsize=65536)
def ip_int(ip: str) -> int:
    """An IPv4 address as an integer."""
    return int(IPv4Address(ip))


def cidr_contains(cidr: str, ip: str) -> bool:
    """Is ``ip`` in ``cidr``?"""
    lo, hi = cidr_span(cidr)
    return lo <= ip_int(ip) <= hi
