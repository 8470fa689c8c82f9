"""What ``trace(src, dst)`` means: a source and a destination resolved to an ``Endpoint``.

- ``src``: ``"ns/pod"``, ``"ns/pod/container"``, a node name, ``"internet"`` (the default
  internet client), the IP of a pod or node, or any other IP outside the pod and service
  networks (an outside client);
- ``dst``: ``"ns/pod"``, a node name, an IP, ``"ip:port"``, ``"localhost"`` or a DNS name,
  resolved by CoreDNS with the source pod's search path.
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING

from kubenet_lab.api.cloud import INTERNET_CLIENT
from kubenet_lab.api.fields import is_decimal, is_ip
from kubenet_lab.dataplane.dns import lookup
from kubenet_lab.exceptions import ManifestError, NotFoundError
from kubenet_lab.walk.engine import Endpoint

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["LOCALHOST", "resolve_destination", "resolve_source"]

LOCALHOST = ("localhost", "127.0.0.1")


def resolve_source(view: StoreView, src: str) -> Endpoint:
    """``"ns/pod"``, ``"ns/pod/container"``, a node name, or the IP of a pod or node."""
    if not isinstance(src, str) or not src:
        raise ManifestError("trace", "src", src, "is not a pod, node or address",
                            fix="use 'namespace/pod', 'namespace/pod/container' or a node name")
    parts = src.split("/")
    if len(parts) == 3:
        pod = view.pod(f"{parts[0]}/{parts[1]}")
        if parts[2] not in {c.name for c in pod.containers}:
            raise NotFoundError(
                f"Pod {pod.ref}", "spec.containers", parts[2], "is not a container of this pod",
                fix="containers are: " + ", ".join(c.name for c in pod.containers),
            )
        return Endpoint(src, pod.ip, pod=pod, container=parts[2])
    if len(parts) == 2:
        pod = view.pod(src)
        return Endpoint(src, pod.ip, pod=pod)
    if src == "internet":  # the default client on the internet (api.cloud)
        return Endpoint(src, INTERNET_CLIENT, outside=True)
    if is_ip(src):
        owner = view.owner_of(src)
        if owner is None:
            addr = IPv4Address(src)
            for cidr, what in ((view.cluster_cidr, "pod"), (view.service_cidr, "service")):
                if addr in ip_network(cidr):
                    raise NotFoundError(
                        "trace", "src", src, f"is in the {what} network {cidr} but no pod or "
                        "node has it", fix="trace from a pod, a node, or an outside address",
                    )
            # an outside client: a host in the nodes' own subnet (see walk.vpc.from_outside)
            return Endpoint(src, src, outside=True)
        kind, name = owner.split(" ", 1)
        if kind not in ("Pod", "Node"):
            raise ManifestError("trace", "src", src, f"is the public address of {owner}, "
                                "which opens no connections of its own",
                                fix="trace from a pod, a node, 'internet' or an outside address")
        if kind == "Pod":
            pod = view.pod(name)
            return Endpoint(src, pod.ip, pod=pod)
        return Endpoint(src, src, node=view.node(name))
    if view.has_node(src):
        return Endpoint(src, None, node=view.node(src))
    pod = view.pod(src)
    return Endpoint(src, pod.ip, pod=pod)


def resolve_destination(view: StoreView, dst: str, port: int,
                        source: Endpoint | None = None) -> tuple[Endpoint, int]:
    """``"ns/pod"``, a node name, an IP, ``"ip:port"``, ``"localhost"`` or a DNS name
    (a Service name, resolved with the source pod's search path); returns the
    endpoint and the port (``"ip:port"`` overrides ``port``)."""
    if not isinstance(dst, str) or not dst:
        raise ManifestError("trace", "dst", dst, "is not a destination",
                            fix="use 'namespace/pod', a node name, an IP or 'ip:port'")
    host = dst
    if dst.count(":") == 1 and "/" not in dst:
        host, _, port_text = dst.partition(":")
        if not is_decimal(port_text) or len(port_text) > 5:
            raise ManifestError("trace", "dst", dst, "has a port that is not a number in "
                                "1-65535", fix="write ip:port, e.g. 10.244.1.2:8080")
        port = int(port_text)
    if host in LOCALHOST:
        return Endpoint(dst, "127.0.0.1", loopback=True), port
    if is_ip(host):
        return Endpoint(dst, host), port
    if "/" not in host and view.has_node(host):
        node = view.node(host)
        return Endpoint(dst, node.ip, node=node), port
    if "/" not in host and ("." in host or not view.has_pod(f"default/{host}")):
        return _dns_destination(view, dst, host, port, source)
    pod = view.pod(host)
    return Endpoint(dst, pod.ip, pod=pod), port


def _dns_destination(view: StoreView, dst: str, host: str, port: int,
                     source: Endpoint | None) -> tuple[Endpoint, int]:
    """A DNS name: resolved by CoreDNS with the source pod's resolv.conf."""
    if source is None or source.pod is None:
        raise NotFoundError(
            "trace", "dst", dst, "is a DNS name, and only pods use the cluster DNS (a node's "
            "resolv.conf points at the VPC resolver, which knows no cluster names)",
            fix="trace from a pod, or give the Service's cluster IP",
        )
    answered, records = lookup(view, host, "A", source.pod.ref)
    addresses = [r.value for r in records if r.type == "A"]
    if not addresses and records and records[0].type == "CNAME":
        raise NotFoundError(
            "trace", "dst", dst, f"is an ExternalName Service: CoreDNS answers with a CNAME "
            f"to {records[0].value}, a name outside the cluster that this lab cannot resolve",
            fix="trace to a Service with a selector, or to an address",
        )
    if not addresses:
        raise NotFoundError(
            "trace", "dst", dst, f"does not resolve from pod {source.pod.ref} (NXDOMAIN)",
            fix="check the Service name and namespace: <service>.<namespace> works from any "
            "namespace",
        )
    return Endpoint(dst, addresses[0], dns=(host, answered, addresses[0])), port
