"""The stub resolver of the tools (``ping``, ``traceroute``, ``curl``, ``nslookup``): an IP,
a node name, or a DNS name tried with the pod's search list and ``ndots:5`` against
CoreDNS's records (Services, and ``a-b-c-d.<namespace>.pod.<domain>`` pod names, which
CoreDNS's ``pods insecure`` mode answers for any address).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.dns import lookup, search_path
from kubenet_lab.tools.context import Context

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["dns_answers", "dns_lookup", "is_ipv6", "name_error", "pod_record", "resolve",
           "search_names", "service_records"]


def service_records(view: StoreView, name: str) -> list[str] | None:
    """The A records CoreDNS has for the fully qualified ``name`` (a Service's cluster
    IP, or a headless Service's ready endpoints), or None when it has none."""
    _, records = lookup(view, name.rstrip(".") + ".", "A")
    return [r.value for r in records if r.type == "A"] or None


def is_ipv6(host: str) -> bool:
    """Is ``host`` an IPv6 address (which the nodes, IPv4 only, cannot reach)?"""
    try:
        IPv6Address(host)
    except ValueError:
        return False
    return True


def resolve(ctx: Context, host: str) -> str | None:
    """A name or address to an IP: an IP, a node name, a pod's A record, a Service.
    A name needs CoreDNS's answer: None when the pod's query does not reach it."""
    try:
        IPv4Address(host)
        return host
    except ValueError:
        pass
    if ctx.view.has_node(host):
        return ctx.view.node(host).ip
    if not dns_answers(ctx):
        return None
    answer = dns_lookup(ctx, host)
    return answer[0] if answer else None


def dns_answers(ctx: Context) -> bool:
    """Does a query from here reach CoreDNS? From a pod, its UDP query to the cluster
    DNS Service is walked (policies, kube-proxy, routes) on a fork of the runtime, as
    ``trace`` walks it; a node's resolver is not the cluster's (always True)."""
    if ctx.pod is None or not ctx.view.has_service("kube-system/kube-dns"):
        return True
    dns_ip = ctx.view.service("kube-system/kube-dns").cluster_ip
    return dns_ip is None or ctx.send(dns_ip, 53, "UDP", scratch=True).delivered


def name_error(ctx: Context) -> str:
    """glibc's ``gai_strerror`` for a name that did not resolve: ``EAI_AGAIN`` when the
    query got no answer (the resolver timed out), ``EAI_NONAME`` for NXDOMAIN."""
    return ("Temporary failure in name resolution" if not dns_answers(ctx)
            else "Name or service not known")


def pod_record(view: StoreView, name: str) -> str | None:
    """``a-b-c-d.<namespace>.pod.<domain>``: the pod A record CoreDNS answers."""
    suffix = f".pod.{view.cluster_domain}"
    name = name.rstrip(".")
    if not name.endswith(suffix):
        return None
    label, _, namespace = name[: -len(suffix)].partition(".")
    if not namespace or "." in namespace:
        return None
    ip = label.replace("-", ".")
    try:
        IPv4Address(ip)
    except ValueError:
        return None
    return ip


def search_names(ctx: Context, name: str) -> list[str]:
    """The names a resolver tries, with the pod's search list and ndots:5."""
    if name.endswith("."):
        return [name.rstrip(".")]
    if not ctx.pod:
        return [name]
    search = search_path(ctx.view, ctx.pod.namespace)
    expanded = [f"{name}.{s}" for s in search]
    return expanded + [name] if name.count(".") < 5 else [name] + expanded


def dns_lookup(ctx: Context, name: str) -> list[str] | None:
    for candidate in search_names(ctx, name):
        service = service_records(ctx.view, candidate)
        if service:
            return service
        ip = pod_record(ctx.view, candidate)
        if ip is not None:
            return [ip]
    return None
