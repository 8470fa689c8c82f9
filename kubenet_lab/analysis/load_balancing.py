"""Many connections at once, counted: how kube-proxy's ``statistic`` rules spread new
connections over a Service's endpoints (``spread``), and how a cloud load balancer and
``externalTrafficPolicy`` spread internet clients over nodes and pods
(``internet_spread``). Both run on a fork of the runtime, so counting (or drawing) them
leaves the cluster's own random generator where it was.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

from kubenet_lab.controllers.endpointslice import service_endpoints
from kubenet_lab.dataplane.tables import Dataplane
from kubenet_lab.exceptions import NotFoundError
from kubenet_lab.model.arguments import check_count
from kubenet_lab.walk.netfilter import nat_walk
from kubenet_lab.walk.packet import trace_packet

__all__ = ["MAX_CLIENTS", "MAX_CONNECTIONS", "internet_spread", "spread"]

#: The most connections ``spread`` opens (each runs kube-proxy's rules once) and the
#: most clients ``internet_spread`` sends (each a whole trace through the cloud).
MAX_CONNECTIONS = 100_000
MAX_CLIENTS = 2_000
_WHY = "each one is simulated; a few hundred already show the spread"


def spread(
    dp: Dataplane, src: str, service: str, requests: int = 1000,
    port: int | None = None, protocol: str | None = None,
) -> dict[str, int]:
    """Send ``requests`` new connections from pod ``src`` to a Service's cluster IP
    and count the endpoint each one gets (``"ns/pod"`` or ``"Node name"`` targets),
    through the same rules as ``Cluster.trace``, drawing from a fork of the runtime's
    generator: the count changes nothing (a picture of it is a read-only call).

    >>> c = kl.Cluster()
    >>> pod = c.pods[0].ref
    >>> dp = Dataplane(c.store.snapshot(), c.runtime)
    >>> counts = spread(dp, pod, "kube-system/kube-dns", requests=100, port=53, protocol="UDP")
    >>> len(counts), sum(counts.values())
    (2, 100)
    """
    check_count("spread", "requests", requests, 1, MAX_CONNECTIONS, _WHY)
    view, runtime = dp.view, dp.runtime.fork()
    pod = view.pod(src)
    svc = view.service(service)
    sp = next((p for p in svc.ports if (port is None or p.port == port)
               and (protocol is None or p.protocol == protocol)), None)
    if sp is None or svc.cluster_ip is None:
        raise NotFoundError(f"Service {svc.ref}", "spec.ports", port,
                            "is not a port of this Service (or it has no cluster IP)",
                            fix="ports are: " + ", ".join(str(p.port) for p in svc.ports))
    counts: dict[str, int] = {e[3].split(" ", 1)[1]: 0 for e in service_endpoints(view, svc, sp)}
    for _ in range(requests):
        d = nat_walk(view, runtime, pod.node, "PREROUTING", pod.ip, svc.cluster_ip, sp.port,
                     sp.protocol)
        key = d.endpoint[3].split(" ", 1)[1] if d.endpoint else "(refused or dropped)"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def internet_spread(dp: Dataplane, service: str, clients: int = 60,
                    port: int | None = None) -> dict[str, Any]:
    """``clients`` internet hosts (198.18.0.1, ...: RFC 2544 benchmark addresses) each
    open one connection to a LoadBalancer Service's address; count the node the load
    balancer picked, the pod that answered, how many kept their client IP and how many
    took an extra node hop (the pod on another node than the one the LB picked);
    ``flows`` counts each (node the LB picked, pod that answered) pair. The connections
    run on a fork of the runtime: counting them changes nothing."""
    check_count("internet_spread", "clients", clients, 1, MAX_CLIENTS, _WHY)
    view = dp.view
    dp = Dataplane(view, dp.runtime.fork())
    svc = view.service(service)
    if svc.load_balancer_ip is None or view.load_balancer(svc.ref) is None:
        raise NotFoundError(f"Service {svc.ref}", "status.loadBalancer.ingress", None,
                            "has no cloud load balancer",
                            fix="use a LoadBalancer Service after add_cloud_load_balancer()")
    port = svc.ports[0].port if port is None else port
    out: dict[str, Any] = {"nodes": {}, "pods": {}, "flows": {}, "kept_client_ip": 0,
                           "extra_hop": 0, "dropped": 0, "clients": clients}
    base = int(IPv4Address("198.18.0.1"))
    for i in range(clients):
        ip = str(IPv4Address(base + i))
        t = trace_packet(dp, ip, f"{svc.load_balancer_ip}:{port}")
        lb_node = next((h.node for h in t.hops if h.node), None)
        if lb_node is not None:
            out["nodes"][lb_node] = out["nodes"].get(lb_node, 0) + 1
        if not t.delivered:
            out["dropped"] += 1
            continue
        out["pods"][t.destination_pod] = out["pods"].get(t.destination_pod, 0) + 1
        flow = (lb_node, t.destination_pod)
        out["flows"][flow] = out["flows"].get(flow, 0) + 1
        out["kept_client_ip"] += t.source_ip_seen == ip
        out["extra_hop"] += len(t.nodes) > 1
    out["nodes"] = dict(sorted(out["nodes"].items()))
    out["pods"] = dict(sorted(out["pods"].items()))
    out["flows"] = dict(sorted(out["flows"].items()))
    return out
