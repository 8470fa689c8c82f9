"""One packet's walk, from the first handler to the last, as a ``Trace``.

The walk reads one Store generation (the dataplane's view), and the ``Trace`` keeps it
(``Trace.snapshot``), so a picture of the trace drawn later shows the cluster as it was.
The walk advances only what a kernel would: the runtime's random generator (kube-proxy's
``statistic`` choice of an endpoint) and its ``recent`` lists (ClientIP affinity).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kubenet_lab.api.fields import check_port, check_protocol
from kubenet_lab.dataplane.policy import enforced, explain
from kubenet_lab.dataplane.tables import Dataplane
from kubenet_lab.model.packet import IPv4
from kubenet_lab.model.trace import Trace
from kubenet_lab.walk import bridge, cali, ebpf, eth0, stack, vpc, vxlan
from kubenet_lab.walk.conntrack import reply_path
from kubenet_lab.walk.endpoints import resolve_destination, resolve_source
from kubenet_lab.walk.engine import Endpoint, Step, Walk
from kubenet_lab.walk.registry import run

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["trace_packet"]

#: The modules whose handlers the walk dispatches to (each registers its own).
DEVICE_MODULES = (bridge, cali, ebpf, eth0, stack, vpc, vxlan)


def trace_packet(dp: Dataplane, src: str, dst: str, *, port: int = 80,
                 protocol: str = "TCP", policies: bool = True) -> Trace:
    """Walk one packet (the first of a connection); see ``Cluster.trace``.
    ``policies=False`` sets network policies aside (``verify_network_model``)."""
    protocol = check_protocol("trace", "protocol", protocol)
    source = resolve_source(dp.view, src)
    target, port = resolve_destination(dp.view, dst, port, source)
    check_port("trace", "port", port)
    walk = Walk(dp, source, target, port, protocol)
    walk.policies = policies
    if target.dns is not None and source.pod is not None:
        query = _dns_query(dp, src, policies)
        if query is not None and not query.delivered:
            return _unresolved(walk, query)
        stack.dns_lookup(walk, source.pod)
    run(walk, _first_step(walk))
    return _result(walk)


def _dns_query(dp: Dataplane, src: str, policies: bool) -> Trace | None:
    """The pod's query to the cluster DNS Service (UDP 53), walked like any packet:
    network policies, kube-proxy's DNAT to a CoreDNS pod, the routes between nodes. It
    is walked on a fork of the runtime: whether the answer comes back decides the
    connection, and the query's own conntrack entry and endpoint choice are left out
    of the tables the later commands read (a simplification lesson 08 names: a real
    node lists the UDP entry for 30 s). None without a cluster DNS Service."""
    if not dp.view.has_service("kube-system/kube-dns"):
        return None
    dns_ip = dp.view.service("kube-system/kube-dns").cluster_ip
    if dns_ip is None:
        return None
    return trace_packet(Dataplane(dp.view, dp.runtime.fork()), src, dns_ip, port=53,
                        protocol="UDP", policies=policies)


def _unresolved(walk: Walk, query: Trace) -> Trace:
    """The connection never starts: the resolver's query got no answer (the resolver
    retries, then the application fails, as ``curl: (6) Could not resolve host``)."""
    assert walk.dst.dns is not None
    asked = walk.dst.dns[0]
    last = query.hops[-1]
    hops = tuple(replace(h, index=i) for i, h in enumerate(query.hops, start=1))
    hops += (replace(last, index=len(hops) + 1, action="dns", detail=(
        f"no answer to the DNS query for {asked!r}: the pod never learns an address, and "
        "no connection starts"), changes=()),)
    reason = (f"Dropped: {walk.src.text} cannot resolve {asked!r}: its DNS query to "
              f"{query.dst_ip}:53 (UDP) gets no answer. The query: {query.reason}")
    return Trace(src=walk.src.text, dst=walk.dst.text, port=walk.orig_port,
                 protocol=walk.protocol, src_ip=query.src_ip, dst_ip=walk.dst.ip or "",
                 delivered=False, destination_pod=None, source_ip_seen=None, reason=reason,
                 hops=hops, receiver=None, reply=(), snapshot=walk.view)


def _first_step(walk: Walk) -> Step:
    if walk.src.pod is not None:
        return "from_pod", (walk.src.pod,)
    if walk.src.outside:
        return "from_outside", ()
    assert walk.src.node is not None
    return "from_node", (walk.src.node,)


def _result(walk: Walk) -> Trace:
    pkt = next(h.packet for h in walk.hops if h.action != "dns")
    if walk.delivered and walk.dnat is not None:
        reply_path(walk)
    if walk.delivered and (walk.egress is not None or walk.lb is not None):
        vpc.cloud_reply(walk)
    if walk.delivered and not enforced(walk.view):
        walk.reason += _unenforced_note(walk.view, walk.src, walk.destination_pod,
                                        walk.port, walk.protocol)
    return Trace(
        src=walk.src.text, dst=walk.dst.text, port=walk.orig_port, protocol=walk.protocol,
        src_ip=walk.first_ip or pkt.inner(IPv4).src, dst_ip=pkt.inner(IPv4).dst,
        delivered=walk.delivered, destination_pod=walk.destination_pod,
        source_ip_seen=walk.source_seen, reason=walk.reason, hops=tuple(walk.hops),
        receiver=walk.receiver, reply=tuple(walk.reply), snapshot=walk.view,
    )


def _unenforced_note(view: StoreView, src: Endpoint, dst_pod: str | None, port: int,
                     protocol: str) -> str:
    """For a delivered trace on a cluster that enforces no policy: say which policies
    would have dropped it."""
    if not (view.network_policies or view.admin_network_policies) or (
        src.pod is None or dst_pod is None or src.pod.ref == dst_pod
    ):
        return ""
    why = explain(view, src.pod.ref, dst_pod, port, protocol)
    if why.allowed:
        return ""
    names = sorted({n for v in (why.egress, why.ingress) if v and not v.allowed
                    for n in v.policies})
    return (f" Policies would deny it ({', '.join(names)}), but {view.cni} does not "
            "enforce network policies: the API accepted them and they have no effect.")

