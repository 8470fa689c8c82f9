"""Longest-prefix-match route lookup, as the kernel's FIB does it.

>>> routes = (kl.Route("default", "eth0", via="10.244.1.1"),
...           kl.Route("10.244.1.0/24", "eth0", scope="link"))
>>> str(route_lookup(routes, "10.244.1.7"))
'10.244.1.0/24 dev eth0 scope link'
>>> str(route_lookup(routes, "93.184.216.34"))
'default via 10.244.1.1 dev eth0'
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from ipaddress import IPv4Address

from kubenet_lab.model.route import Route

__all__ = ["prefix", "prefix_length", "route_lookup"]


@lru_cache(maxsize=1 << 17)
def prefix(dst: str) -> tuple[int, int, int]:
    """A route destination as (network, mask, length) integers; ``default`` is 0/0.

    >>> prefix("10.244.1.0/24")[2], prefix("default"), prefix("10.244.1.7")[2]
    (24, (0, 0, 0), 32)
    """
    if dst == "default":
        return 0, 0, 0
    net, _, plen = dst.partition("/")
    length = int(plen) if plen else 32
    mask = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
    return int(IPv4Address(net)) & mask, mask, length


def prefix_length(dst: str) -> int:
    """The prefix length of a route destination (0 for ``default``)."""
    return prefix(dst)[2]


def route_lookup(routes: Sequence[Route], ip: str) -> Route | None:
    """The most specific route to ``ip``, or None when no route matches."""
    addr = int(IPv4Address(ip))
    best: Route | None = None
    best_len = -1
    for route in routes:
        net, mask, length = prefix(route.dst)
        if addr & mask == net and length > best_len:
            best, best_len = route, length
    return best
