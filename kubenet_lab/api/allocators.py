"""The API server's allocators for Services: cluster IPs and node ports.

- **Cluster IPs** (facts sheet §2.1): kubeadm's ``serviceSubnet`` 10.96.0.0/12. The
  allocator works on the range without its network and broadcast addresses, index 0
  being 10.96.0.1 (``default/kubernetes``). The first ``min(max(16, size/16), 256)``
  addresses are the *static band* (10.96.0.1-10.96.1.0 for a /12); automatic
  allocation scans the upper (dynamic) band first, from a random start, then the lower
  band (pkg/registry/core/service/ipallocator, ``randomScanStrategyWithOffset``). The
  lab derives the "random" start from a hash of the Service's name, so the same
  manifest gets the same IP in every run.
- **NodePorts** (§2.2): 30000-32767; static band 30000-30085 (offset
  ``min(max(16, size/32), 128)`` = 86), dynamic band 30086-32767 tried first, same
  scan (pkg/registry/core/service/portallocator).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.exceptions import AddressExhaustedError

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["NODE_PORT_RANGE", "allocate_cluster_ip", "allocate_node_port"]

#: ``--service-node-port-range`` default.
NODE_PORT_RANGE = (30000, 32767)


def _band_offset(size: int, step: int, low: int, high: int) -> int:
    if size < low:
        return 0
    return min(max(low, size // step), high)


def _scan(start_key: str, lo: int, hi: int, used: Mapping[int, Any], base: int = 0) -> int | None:
    """First index of [lo, hi) whose ``base + index`` is not in ``used``, scanning from a
    hashed start and wrapping around."""
    span = hi - lo
    if span <= 0:
        return None
    start = int.from_bytes(hashlib.sha256(start_key.encode()).digest()[:8], "big") % span
    for i in range(span):
        value = lo + (start + i) % span
        if base + value not in used:
            return value
    return None


def _allocate(key: str, offset: int, size: int, used: Mapping[int, Any], base: int) -> int | None:
    """The upper (dynamic) band [offset, size) first, then the static band [0, offset)."""
    index = _scan(key, offset, size, used, base)
    return index if index is not None else _scan(key, 0, offset, used, base)


def allocate_cluster_ip(store: StoreView, ref: str) -> str:
    """The next cluster IP for Service ``ref``: dynamic band first, then static.

    >>> c = kl.Cluster()
    >>> ip = allocate_cluster_ip(c.store, "default/web")
    >>> IPv4Address(ip) in ip_network("10.96.0.0/12"), IPv4Address(ip) > IPv4Address("10.96.1.0")
    (True, True)
    """
    net = ip_network(store.service_cidr)
    base = int(net.network_address) + 1
    size = net.num_addresses - 2
    offset = _band_offset(size, 16, 16, 256)
    index = _allocate(ref, offset, size, store.service_ip_owners(), base)
    if index is None:
        raise AddressExhaustedError(
            f"Service {ref}", "spec.clusterIP", None,
            f"cannot be allocated: the service CIDR {store.service_cidr} is full",
            fix="delete Services you no longer need",
        )
    return str(IPv4Address(base + index))


def allocate_node_port(key: str, taken: Mapping[int, Any]) -> int:
    """The next NodePort: the dynamic band 30086-32767 first, then 30000-30085."""
    lo, hi = NODE_PORT_RANGE
    size = hi - lo + 1
    offset = _band_offset(size, 32, 16, 128)
    index = _allocate(key, offset, size, taken, lo)
    if index is None:
        raise AddressExhaustedError(
            f"Service {key}", "spec.ports[].nodePort", None,
            "cannot be allocated: every port of 30000-32767 is in use",
            fix="use ClusterIP Services where you do not need a node port",
        )
    return lo + index
