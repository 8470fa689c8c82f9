"""The ingress controller's HTTP proxy on the walk: ``trace(src, "http://host/path")``
sends the request to the controller's public address, the controller chooses a backend
as ingress-nginx does (``controllers.ingress.route``), and a second connection from the
controller's pod carries the request to the endpoint (the controller proxies to the
endpoints directly, not the ClusterIP). HTTPS is terminated at the controller.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kubenet_lab.controllers.endpointslice import service_endpoints
from kubenet_lab.controllers.ingress import ADDON, SERVICE, handled, route
from kubenet_lab.exceptions import ManifestError, NotFoundError
from kubenet_lab.model.ingress import IngressPath
from kubenet_lab.model.trace import Hop, Trace
from kubenet_lab.walk.engine import hash_port
from kubenet_lab.walk.packet import trace_packet

if TYPE_CHECKING:
    from kubenet_lab.dataplane.tables import Dataplane

__all__ = ["trace_http"]


def trace_http(dp: Dataplane, src: str, url: str) -> Trace:
    """``trace(src, "http://host/path")``: the request to the controller's public
    address, then the controller's routing decision, then the proxied request."""
    view = dp.view
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError as err:  # an unclosed '[' of an IPv6 literal
        raise ManifestError("trace", "dst", url, f"is not a URL ({err})",
                            fix="write http://host/path") from None
    if not host:
        raise ManifestError("trace", "dst", url, "has no host", fix="write http://host/path")
    path = parts.path or "/"
    https = parts.scheme == "https"
    if not view.has_addon(ADDON):
        raise NotFoundError("trace", "dst", url, "needs an ingress controller to answer it",
                            fix="call add_ingress_controller() first")
    lb = view.service(SERVICE).load_balancer_ip
    port = 443 if https else 80
    first = trace_packet(dp, src, f"{lb}:{port}")
    if not first.delivered or first.destination_pod is None:
        return replace(first, dst=url)
    ctrl = first.destination_pod
    server, ing, target = route(view, host, path)
    request = f"GET {path} Host: {host}"
    tls = ""
    if https:
        cert = next((t.secret_name for i in view.ingresses if handled(view, i)
                     for t in i.tls if host in t.hosts), None)
        tls = (f"TLS terminated at the controller with the certificate of Secret "
               f"{cert} (SNI {host}); " if cert else
               f"no tls entry lists {host}, so the controller presents its 'Kubernetes "
               "Ingress Controller Fake Certificate' (clients warn); ")
    last = first.hops[-1]
    n = len(first.hops)

    def answer(status: int, why: str) -> Trace:
        hop = Hop(n + 1, last.location, last.node, "http",
                  f"{tls}nginx reads `{request}`: server {server}; {why}", last.packet)
        reason = f"HTTP {status} from the ingress controller ({ctrl}): {why}."
        return replace(first, dst=url, hops=first.hops + (hop,), reason=reason,
                       http_status=status)

    if target is None:
        return answer(404, "no rule matches and no defaultBackend: the default backend "
                      "answers 404 Not Found")
    assert ing is not None
    backend = target.backend if isinstance(target, IngressPath) else target
    rule = (f"{target.path_type} {target.path}" if isinstance(target, IngressPath)
            else "defaultBackend")
    try:
        svc = view.service(f"{ing.namespace}/{backend.service}")
    except NotFoundError:
        return answer(503, f"Ingress {ing.ref} ({rule}) sends it to Service "
                      f"{backend.service}, which does not exist: 503 Service Unavailable")
    sp = next((p for p in svc.ports if (backend.port_number is not None
                                        and p.port == backend.port_number)
               or (backend.port_name is not None and p.name == backend.port_name)), None)
    eps = service_endpoints(view, svc, sp) if sp is not None else ()
    if not eps:
        what = "has no such port" if sp is None else "has no ready endpoints"
        return answer(503, f"Ingress {ing.ref} ({rule}) sends it to Service {svc.ref} "
                      f"port {backend.port_number or backend.port_name}, which {what}: 503 "
                      "Service Unavailable")
    ep = eps[hash_port("ingress", first.src_ip, host, path) % len(eps)]
    second = trace_packet(dp, ctrl, f"{ep[0]}:{ep[1]}")
    port_text = backend.port_number or backend.port_name
    why = (f"Ingress {ing.ref} rule {rule} -> Service {svc.ref} port {port_text}; the "
           f"controller proxies to the endpoint {ep[0]}:{ep[1]} directly (round robin, not "
           "the ClusterIP), in a new connection from its own pod IP")
    hop = Hop(n + 1, last.location, last.node, "http",
              f"{tls}nginx reads `{request}`: server {server}; {why}", last.packet)
    hops = first.hops + (hop,) + tuple(
        replace(h, index=n + 1 + h.index) for h in second.hops)
    status = 200 if second.delivered else 502
    reason = (f"HTTP request {host}{path} routed by Ingress {ing.ref} ({rule}) to "
              f"{second.destination_pod}; {second.reason}" if second.delivered else
              f"HTTP 502 from the ingress controller: {second.reason}")
    return replace(first, dst=url, hops=hops, delivered=second.delivered,
                   destination_pod=second.destination_pod,
                   source_ip_seen=second.source_ip_seen, receiver=second.receiver,
                   reason=reason, http_status=status, reply=())
