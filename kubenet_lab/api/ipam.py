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

from collections.abc import Collection, Iterable, Iterator
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from kubenet_lab.exceptions import AddressExhaustedError, ConflictError

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = [
    "AWS_RESERVED",
    "bridge_ip",
    "check_ip_free",
    "first_free_block",
    "free_blocks",
    "free_node_ips",
    "next_node_ip",
    "next_pod_cidr",
    "next_pod_ip",
    "pod_ip_range",
    "prefix_for_nodes",
    "subnet_nodes",
    "suggest_subnet",
]

#: AWS's limits on a VPC's and a subnet's IPv4 block: "between a /16 netmask (65,536
#: IP addresses) and /28 netmask (16 IP addresses)" (AWS VPC user guide, "VPC CIDR
#: blocks" and "Subnet CIDR blocks").
AWS_LARGEST_PREFIX, AWS_SMALLEST_PREFIX = 16, 28
#: Addresses AWS reserves in every subnet: network, .1 VPC router, .2 DNS, .3 future
#: use, broadcast (AWS VPC user guide, "Subnet CIDR blocks").
AWS_RESERVED = 5


def subnet_nodes(subnet: IPv4Network) -> int:
    """How many instances (nodes) an AWS subnet holds: its addresses but AWS's five.

    >>> from ipaddress import ip_network
    >>> subnet_nodes(ip_network("10.0.1.0/24")), subnet_nodes(ip_network("10.0.32.0/19"))
    (251, 8187)
    """
    return subnet.num_addresses - AWS_RESERVED


def prefix_for_nodes(nodes: int) -> int | None:
    """The longest prefix of an AWS subnet with room for ``nodes`` nodes, or None when
    even a /16 is too small.

    >>> prefix_for_nodes(251), prefix_for_nodes(252), prefix_for_nodes(5001)
    (24, 23, 19)
    """
    for prefix in range(AWS_SMALLEST_PREFIX, AWS_LARGEST_PREFIX - 1, -1):
        if 2 ** (32 - prefix) - AWS_RESERVED >= nodes:
            return prefix
    return None


def suggest_subnet(vpc: IPv4Network, prefix: int, avoid: IPv4Network) -> IPv4Network | None:
    """The first block ``/prefix`` of the VPC that does not overlap ``avoid``."""
    if prefix < vpc.prefixlen:
        return None
    return next((b for b in vpc.subnets(new_prefix=prefix) if not b.overlaps(avoid)), None)


def next_pod_cidr(
    cluster_cidr: IPv4Network, mask: int, used: Iterable[IPv4Network]
) -> IPv4Network:
    """The first block of size ``/mask`` in ``cluster_cidr`` that overlaps no used block.

    Raises
    ------
    AddressExhaustedError
        When every block is taken.
    """
    # The blocks in order, as cidrset's allocator scans them; a taken block moves the
    # candidate past its end, so the cost is the sort of the taken blocks, not their
    # number times the blocks' (the scan of a /11 with 5,000 nodes).
    free = first_free_block(cluster_cidr, mask, (
        (int(n.network_address), int(n.broadcast_address)) for n in used))
    if free is not None:
        return free
    count = 2 ** (mask - cluster_cidr.prefixlen)
    raise AddressExhaustedError(
        "Node",
        "spec.podCIDR",
        str(cluster_cidr),
        f"has no free /{mask} left: all {count} node blocks are allocated",
        fix="use a larger cluster CIDR (e.g. a /15) or a longer node mask, or remove a node",
    )


def first_free_block(cluster_cidr: IPv4Network, mask: int,
                     spans: Iterable[tuple[int, int]]) -> IPv4Network | None:
    """The first ``/mask`` block of ``cluster_cidr`` that overlaps none of ``spans``
    (first and last address as integers), or None.

    The blocks in order, as cidrset's allocator scans them; a taken span moves the
    candidate past its end, so the cost is the sort of the taken spans, not their number
    times the blocks' (a /11 holds 8,192 /24s).

    >>> from ipaddress import ip_network
    >>> str(first_free_block(ip_network("10.244.0.0/16"), 24, [(int(IPv4Address(
    ...     "10.244.0.0")), int(IPv4Address("10.244.1.127")))]))
    '10.244.2.0/24'
    """
    return next(free_blocks(cluster_cidr, mask, spans), None)


def free_blocks(cluster_cidr: IPv4Network, mask: int,
                spans: Iterable[tuple[int, int]]) -> Iterator[IPv4Network]:
    """Every ``/mask`` block of ``cluster_cidr`` that overlaps none of ``spans``, in
    order: what the allocator hands out to nodes that join one after another (one sort
    of the taken spans for all of them, so ``kubeadm join`` of 5,000 nodes is linear).

    >>> from ipaddress import ip_network
    >>> [str(b) for b in free_blocks(ip_network("10.244.0.0/22"), 24, [(int(IPv4Address(
    ...     "10.244.1.0")), int(IPv4Address("10.244.1.255")))])]
    ['10.244.0.0/24', '10.244.2.0/24', '10.244.3.0/24']
    """
    base, end = int(cluster_cidr.network_address), int(cluster_cidr.broadcast_address)
    size = 2 ** (32 - mask)
    candidate = base
    for start, stop in sorted(s for s in spans if s[1] >= base and s[0] <= end):
        while stop >= candidate and start > candidate + size - 1:  # free blocks before it
            yield IPv4Network((candidate, mask))
            candidate += size
        if stop >= candidate:
            candidate = base + (stop + 1 - base + size - 1) // size * size
        if candidate > end:
            return
    while candidate + size - 1 <= end:
        yield IPv4Network((candidate, mask))
        candidate += size


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
    found = next(free_node_ips(subnet, in_use), None)
    if found is not None:
        return found
    raise AddressExhaustedError(
        "Subnet",
        "cidr",
        str(subnet),
        "has no free address for another node",
        fix="remove a node or give the VPC a larger subnet",
    )


def free_node_ips(subnet: IPv4Network, in_use: Collection[int]) -> Iterator[IPv4Address]:
    """The free addresses of a VPC subnet in order, after the reserved ones; ``in_use``
    is read as the addresses are taken, so nodes that join one after another each take
    the next one without a scan from the start."""
    first = int(subnet.network_address) + 4
    last = int(subnet.broadcast_address) - 1
    for candidate in range(first, last + 1):
        if candidate not in in_use:
            yield IPv4Address(candidate)


def check_ip_free(store: StoreView, obj: str, field: str, addr: IPv4Address) -> None:
    """ConflictError when something already holds ``addr``."""
    owner = store.address_owners().get(int(addr))
    if owner is not None:
        raise ConflictError(obj, field, str(addr), f"is already used by {owner}",
                            fix="leave the address out to get a free one")
