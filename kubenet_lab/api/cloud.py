"""Addresses of the cloud around the cluster: which are on the internet, and the checks
the cloud makes on an Elastic IP (facts sheet §4).

>>> c = kl.Cluster()
>>> is_internet(c.store, "93.184.216.34"), is_internet(c.store, "10.0.1.4")
(True, False)
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import check_ip
from kubenet_lab.api.ipam import check_ip_free
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.cloud import Subnet

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["INTERNET", "INTERNET_CLIENT", "LB_POOL", "PUBLIC_SUBNET", "check_public_ip",
           "is_internet"]

#: The location name of the internet in traces and pictures.
INTERNET = "internet"
#: The address ``trace("internet", ...)`` uses as its client (RFC 5737 TEST-NET-3).
INTERNET_CLIENT = "203.0.113.50"
#: The public subnet the lab adds for nodes with a public IP and for NAT gateways.
PUBLIC_SUBNET = Subnet("public", "10.0.0.0/24", "10.0.0.1", public=True)
#: Where the simulated cloud hands out Elastic IPs for load balancers (RFC 5737).
LB_POOL = "198.51.100.0/24"
_NOT_INTERNET = tuple(ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/3",
))


def is_internet(store: StoreView, ip: str) -> bool:
    """True for an address on the internet: not private (RFC 1918), shared (RFC 6598),
    link-local, loopback or multicast, and not one of the cluster's own networks. The
    documentation ranges (RFC 5737, e.g. 203.0.113.0/24) count as internet hosts."""
    addr = IPv4Address(ip)
    if any(addr in net for net in _NOT_INTERNET):
        return False
    return not any(addr in ip_network(n) for n in (store.cluster_cidr, store.service_cidr,
                                                  store.vpc.cidr))


def check_public_ip(store: StoreView, obj: str, field: str, value: Any) -> IPv4Address:
    """A public IPv4 address that nothing else uses (the cloud refuses an Elastic IP
    that is already associated, and private addresses are not Elastic IPs)."""
    addr = check_ip(obj, field, value)
    if not is_internet(store, str(addr)):
        raise ManifestError(obj, field, value,
                            "is not a public address (private, link-local or one of the "
                            "cluster's own networks)",
                            fix="use a public address such as 198.51.100.20")
    check_ip_free(store, obj, field, addr)
    return addr
