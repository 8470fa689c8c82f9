"""IP address management: who hands out which address, as a kubeadm cluster does it.

- **Node podCIDRs**: kube-controller-manager's range allocator splits the cluster CIDR
  (``--cluster-cidr``, kubeadm's ``podSubnet``; flannel's default 10.244.0.0/16) into
  blocks of ``--node-cidr-mask-size-ipv4`` (default /24) and gives each new node the
  next free block. A /16 holds 256 such blocks, so the 257th node gets none.
  (kubernetes/kubernetes cmd/kube-controller-manager/app/core.go,
  pkg/controller/nodeipam/ipam/cidrset)
- **Pod IPs**: the CNI bridge plugin's host-local IPAM gives the node's ``cni0`` bridge
  the gateway address .1 and hands pod IPs out from .2 upward. It remembers the last
  address it reserved and continues after it, wrapping around at the end, so a freed
  address is not reused at once: a re-created pod comes back with a new IP.
  (containernetworking/plugins plugins/ipam/host-local/backend/allocator)
- **Node IPs**: the cloud gives each VM the next free address of its subnet, after the
  addresses the cloud reserves (see ``kubenet_lab.model.cloud``).

Examples
--------
>>> from ipaddress import ip_network
>>> str(next_pod_cidr(ip_network("10.244.0.0/16"), 24, used=[ip_network("10.244.0.0/24")]))
'10.244.1.0/24'
>>> str(next_pod_ip(ip_network("10.244.1.0/24"), in_use=set(), last_reserved=None))
'10.244.1.2'
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from kubenet_lab.exceptions import AddressExhaustedError, ConflictError

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = [
    "bridge_ip",
    "check_ip_free",
    "next_node_ip",
    "next_pod_cidr",
    "next_pod_ip",
    "pod_ip_range",
]


def next_pod_cidr(
    cluster_cidr: IPv4Network, mask: int, used: Iterable[IPv4Network]
) -> IPv4Network:
    """The first block of size ``/mask`` in ``cluster_cidr`` that overlaps no used block.

    Raises
    ------
    AddressExhaustedError
        When every block is taken.
    """
    taken = [n for n in used if n.overlaps(cluster_cidr)]
    for block in cluster_cidr.subnets(new_prefix=mask):
        if not any(block.overlaps(t) for t in taken):
            return block
    count = 2 ** (mask - cluster_cidr.prefixlen)
    raise AddressExhaustedError(
        "Node",
        "spec.podCIDR",
        str(cluster_cidr),
        f"has no free /{mask} left: all {count} node blocks are allocated",
        fix="use a larger cluster CIDR (e.g. a /15) or a longer node mask, or remove a node",
    )


def pod_ip_range(pod_cidr: IPv4Network) -> tuple[int, int]:
    """First and last pod address of a podCIDR as integers: .2 up to the last usable."""
    if pod_cidr.prefixlen > pod_cidr.max_prefixlen - 2:
        raise AddressExhaustedError(
            "Node",
            "spec.podCIDR",
            str(pod_cidr),
            "is too small to allocate from (host-local rejects /31 and /32)",
            fix="give the node a podCIDR of /30 or larger",
        )
    first = int(pod_cidr.network_address) + 2
    last = int(pod_cidr.broadcast_address) - 1
    return first, last


def bridge_ip(pod_cidr: IPv4Network) -> IPv4Address:
    """The gateway address host-local reserves for the ``cni0`` bridge: the .1."""
    return pod_cidr.network_address + 1


def next_pod_ip(
    pod_cidr: IPv4Network, in_use: Collection[int], last_reserved: int | None
) -> IPv4Address:
    """The next free pod IP after ``last_reserved``, wrapping around, as host-local does.

    ``in_use`` holds the integer addresses already given to pods of this node.
    """
    first, last = pod_ip_range(pod_cidr)
    size = last - first + 1
    start = first if last_reserved is None or not first <= last_reserved <= last else (
        last_reserved + 1
    )
    for step in range(size):
        candidate = first + (start - first + step) % size
        if candidate not in in_use:
            return IPv4Address(candidate)
    raise AddressExhaustedError(
        "Node",
        "spec.podCIDR",
        str(pod_cidr),
        f"has no free pod IP left: all {size} addresses are in use",
        fix="delete pods on this node or give it a larger podCIDR",
    )


def next_node_ip(subnet: IPv4Network, in_use: Collection[int]) -> IPv4Address:
    """The next address of a VPC subnet after the cloud's reserved ones (.0-.3, last)."""
    first = int(subnet.network_address) + 4
    last = int(subnet.broadcast_address) - 1
    for candidate in range(first, last + 1):
        if candidate not in in_use:
            return IPv4Address(candidate)
    raise AddressExhaustedError(
        "Subnet",
        "cidr",
        str(subnet),
        "has no free address for another node",
        fix="remove a node or give the VPC a larger subnet",
    )


def check_ip_free(store: StoreView, obj: str, field: str, addr: IPv4Address) -> None:
    """ConflictError when something already holds ``addr``."""
    owner = store.address_owners().get(int(addr))
    if owner is not None:
        raise ConflictError(obj, field, str(addr), f"is already used by {owner}",
                            fix="leave the address out to get a free one")
