"""Many connections at once, counted: how kube-proxy's ``statistic`` rules spread new
connections over a Service's endpoints (``spread``), and how a cloud load balancer and
``externalTrafficPolicy`` spread internet clients over nodes and pods
(``internet_spread``), and how a Gateway's Envoy spreads HTTP requests over a rule's
weighted backendRefs (``http_spread``, a canary's split). All run on a fork of the
runtime, so counting (or drawing) them leaves the cluster's own random generator where
it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address
from random import Random
from typing import TYPE_CHECKING, Any

from kubenet_lab.controllers.attachment import backend_checks
from kubenet_lab.controllers.endpointslice import service_endpoints
from kubenet_lab.controllers.httproute import Decision, Request, route_request
from kubenet_lab.dataplane.tables import Dataplane
from kubenet_lab.exceptions import NotFoundError
from kubenet_lab.model.arguments import check_count
from kubenet_lab.walk.http import gateway_at, parse_request, trace_http
from kubenet_lab.walk.netfilter import nat_walk
from kubenet_lab.walk.packet import trace_packet

if TYPE_CHECKING:
    from kubenet_lab.model.gateway import Gateway

__all__ = ["MAX_CLIENTS", "MAX_CONNECTIONS", "MAX_HTTP_REQUESTS", "http_request",
           "http_rule", "http_spread", "internet_spread", "spread"]

#: The most connections ``spread`` opens (each runs kube-proxy's rules once) and the
#: most clients ``internet_spread`` sends (each a whole trace through the cloud).
MAX_CONNECTIONS = 100_000
MAX_CLIENTS = 2_000
#: The most requests ``http_spread`` routes (each one Envoy decision).
MAX_HTTP_REQUESTS = 20_000
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
    view = dp.view
    pod = view.pod(src)
    runtime = dp.runtime.fork(salt=pod.ip)  # each client draws its own endpoints
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


# ---------------------------------------------------------------- HTTP through a Gateway
def http_request(dp: Dataplane, src: str, url: str, method: str = "GET",
                 headers: Mapping[str, str] | None = None
                 ) -> tuple[Gateway | None, Request | None]:
    """The Gateway a request from ``src`` to ``url`` reaches and the request as its Envoy
    reads it (host without its port, the ``Host`` header as ``Cluster.trace`` sends it).
    One request is traced on a fork first, so a bad URL, method or header is refused as
    ``trace`` refuses it; ``(None, None)`` when that connection is dropped on the way.

    Raises
    ------
    NotFoundError
        The request reaches no Gateway's Envoy (e.g. the ingress controller's address).
    """
    hdrs = None if headers is None else dict(headers)
    first = trace_http(Dataplane(dp.view, dp.runtime.fork()), src, url, method, hdrs)
    if first.http_status is None:
        return None, None
    address, request = parse_request(dp.view, url, method, hdrs)
    gateway = gateway_at(dp.view, address)
    if gateway is None:
        raise NotFoundError("http request", "url", url, "reaches no Gateway's Envoy",
                            fix="use a Gateway's address (its status.addresses) or a "
                            "hostname one of its listeners or routes has")
    return gateway, request


def http_rule(dp: Dataplane, src: str, url: str, method: str = "GET",
              headers: Mapping[str, str] | None = None
              ) -> tuple[Gateway | None, Decision | None]:
    """The Gateway and Envoy's decision for one request, drawn from a scratch generator:
    its ``listener``, ``route`` and ``rule`` are the ones every such request gets (they
    do not depend on chance), its ``backend`` is one draw of the weighted choice."""
    gateway, request = http_request(dp, src, url, method, headers)
    if gateway is None or request is None:
        return None, None
    return gateway, route_request(dp.view, gateway, request, Random(0))


def _backend_key(check: Any) -> str:
    return f"{check.namespace}/{check.ref.name}"


def http_spread(dp: Dataplane, src: str, url: str, requests: int = 500,
                method: str = "GET", headers: Mapping[str, str] | None = None
                ) -> dict[str, int]:
    """Send ``requests`` HTTP requests from ``src`` to ``url`` (a Gateway's address or a
    hostname it serves) and count, per backend Service (``"ns/name"``), how often Envoy's
    weighted choice of the matched rule's backendRefs picked it; every backendRef of the
    rule is listed, in the rule's order, weight 0 ones with 0. A pick counts for its
    Service whatever the answer (an invalid backendRef answers 500, a Service without
    ready endpoints 503: ``trace`` shows it); a request Envoy answers itself without a
    backend counts as ``"HTTP 404"`` (no rule matches), ``"HTTP 500"`` (a rule without
    backends), ``"HTTP 302"`` (a redirect); ``"(not delivered)"`` if the connection to
    the Gateway fails. The draws come from a fork of the runtime's generator, in the
    order ``Cluster.trace`` would make them: the count changes nothing.

    >>> c = kl.Cluster(workers=1)
    >>> _ = c.add_gateway_controller(); c.add_cloud_load_balancer()
    >>> for v in ("v1", "v2"):
    ...     _ = c.add_pod(f"default/web-{v}", labels={"app": v})
    ...     _ = c.add_service(f"default/web-{v}", selector={"app": v}, ports=[80])
    >>> _ = c.apply('''
    ... {apiVersion: gateway.networking.k8s.io/v1, kind: Gateway, metadata: {name: web},
    ...  spec: {gatewayClassName: eg, listeners: [{name: http, port: 80, protocol: HTTP}]}}
    ... ---
    ... {apiVersion: gateway.networking.k8s.io/v1, kind: HTTPRoute, metadata: {name: web},
    ...  spec: {parentRefs: [{name: web}], rules: [{matches: [{path: {value: /app}}],
    ...   backendRefs: [{name: web-v1, port: 80, weight: 90},
    ...                 {name: web-v2, port: 80, weight: 10}]}]}}''')
    >>> dp = Dataplane(c.store.snapshot(), c.runtime)
    >>> http_spread(dp, "internet", "http://198.51.100.10/app", 100)
    {'default/web-v1': 90, 'default/web-v2': 10}
    >>> http_spread(dp, "internet", "http://198.51.100.10/other", 10)
    {'HTTP 404': 10}
    """
    check_count("http_spread", "requests", requests, 1, MAX_HTTP_REQUESTS, _WHY)
    view = dp.view
    gateway, request = http_request(dp, src, url, method, headers)
    if gateway is None or request is None:
        return {"(not delivered)": requests}
    rng = dp.runtime.fork().rng
    first = route_request(view, gateway, request, Random(0))
    counts: dict[str, int] = {}
    if first.route is not None and first.rule is not None:
        counts = {_backend_key(b): 0 for b in backend_checks(view, first.route)
                  if b.rule == first.rule}
    for _ in range(requests):
        d = route_request(view, gateway, request, rng)
        key = _backend_key(d.backend) if d.backend is not None else f"HTTP {d.status}"
        counts[key] = counts.get(key, 0) + 1
    return counts
