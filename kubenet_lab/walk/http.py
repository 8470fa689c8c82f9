"""HTTP through a proxy on the walk: ``trace(src, "http://host[:port]/path?query",
method=..., headers=...)``.

The request goes to a public address: the URL's host if it is an address, else the
address a name is published at (the lab's stand-in for external-dns, which publishes
the hostnames of a Gateway's listeners and attached routes at its address: the most
specific match wins; else the ingress controller's address). The first connection
reaches the proxy that owns the address:

- a Gateway's Envoy (``controllers.httproute.route_request``: listener, route, rule,
  filters, weighted backend), or
- the ingress controller, modelled on ingress-nginx v1.15.1 (``controllers.ingress``:
  ``route``, and its ssl-redirect: 308 to https for a host with TLS);

the proxy terminates it (and TLS, for https) and, unless it answers itself (404, 500,
503, a redirect), opens a second connection from its own pod to the chosen endpoint
(proxies send to the endpoints directly, not the ClusterIP). Both connections are
walked; each hop shows the source address its side sees.

The ``Host`` header is the URL's host (with its port, if the URL has one) unless
``headers`` gives one; routing ignores the port in it, as the specification says.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from kubenet_lab.api.fields import is_ip
from kubenet_lab.controllers.attachment import attachments, hostname_matches, routes
from kubenet_lab.controllers.endpointslice import service_endpoints
from kubenet_lab.controllers.gateway import envoy_service, owned
from kubenet_lab.controllers.httproute import Decision, Request, route_request
from kubenet_lab.controllers.ingress import (
    ADDON,
    REDIRECT_CODE,
    SERVICE,
    certificate,
    ignored,
    match_host,
    redirect,
    route,
)
from kubenet_lab.exceptions import ManifestError, NotFoundError
from kubenet_lab.model.ingress import IngressPath
from kubenet_lab.model.trace import Hop, Trace
from kubenet_lab.walk.engine import hash_port
from kubenet_lab.walk.packet import trace_packet

if TYPE_CHECKING:
    from kubenet_lab.dataplane.tables import Dataplane
    from kubenet_lab.model.gateway import Gateway
    from kubenet_lab.model.store import StoreView

__all__ = ["METHODS", "gateway_at", "parse_request", "trace_http"]

#: The methods a request may use (RFC 9110, and PATCH).
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
_DEFAULT_PORT = {"http": 80, "https": 443}


def _split(url: str) -> tuple[str, str, int, str, str, str]:
    """``(scheme, host, port, netloc host, path, query)`` of a URL, or ManifestError."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError as err:  # an unclosed '[' of an IPv6 literal, a port past 65535
        raise ManifestError("trace", "dst", url, f"is not a URL ({err})",
                            fix="write http://host[:port]/path") from None
    if parts.scheme not in _DEFAULT_PORT:
        raise ManifestError("trace", "dst", url, "is not an http or https URL",
                            fix="write http://host/path or https://host/path")
    if not host:
        raise ManifestError("trace", "dst", url, "has no host", fix="write http://host/path")
    netloc = parts.netloc.rpartition("@")[2]
    return (parts.scheme, host, port or _DEFAULT_PORT[parts.scheme], netloc,
            parts.path or "/", parts.query)


def _headers(headers: object) -> tuple[tuple[str, str], ...]:
    if headers is None:
        return ()
    if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k and "\n" not in k + v
            for k, v in headers.items()):
        raise ManifestError("trace", "headers", headers, "is not a map of header names to "
                            "values", fix="e.g. headers={'Host': 'shop.example.com'}")
    return tuple(headers.items())


def _gateways(view: StoreView) -> list[tuple[Gateway, str]]:
    """Each owned Gateway with its published address."""
    out = []
    for gw in view.objects("Gateway"):
        svc = envoy_service(view, gw) if owned(view, gw) else None
        if svc is not None and svc.load_balancer_ip is not None:
            out.append((gw, svc.load_balancer_ip))
    return out


def _published(view: StoreView, gw: Gateway) -> set[str]:
    """The names external-dns publishes for a Gateway (its ``gateway-httproute`` and
    ``gateway-grpcroute`` sources): listener hostnames and the hostnames of the
    routes attached to it."""
    names = {lst.hostname for lst in gw.listeners if lst.hostname}
    for rt in routes(view):
        for att in attachments(view, rt):
            if att.gateway.ref == gw.ref:
                names.update(h for _, hosts in att.listeners for h in hosts if h != "*")
    return names


def _address(view: StoreView, url: str, host: str) -> str:
    """Where the client sends the request: an address, or the one a name resolves to."""
    if is_ip(host):
        return host
    best: tuple[int, int, str] | None = None
    for gw, address in _gateways(view):
        for name in _published(view, gw):
            if hostname_matches(name, host):
                key = (0 if name.startswith("*.") else 1, len(name), address)
                best = max(best or key, key)
    if best is not None:
        return best[2]
    if view.has_addon(ADDON):
        return view.service(SERVICE).load_balancer_ip
    raise NotFoundError("trace", "dst", url, "names no host the lab can resolve: no Gateway "
                        "listener has that hostname and no ingress controller runs",
                        fix="use the Gateway's address, add_gateway_controller() and a "
                        "Gateway, or add_ingress_controller()")


def parse_request(view: StoreView, url: str, method: str = "GET",
                  headers: dict[str, str] | None = None) -> tuple[str, Request]:
    """The address a client sends ``url`` to (a name resolved as external-dns publishes
    it) and the request as the proxy reads it: the ``Host`` header (the URL's host
    unless ``headers`` give one) without its port, the path, the query, the method."""
    scheme, host, port, netloc, path, query = _split(url)
    if method not in METHODS:
        raise ManifestError("trace", "method", method, "is not an HTTP method",
                            fix="use one of " + ", ".join(METHODS))
    sent = _headers(headers)
    if not any(k.lower() == "host" for k, _ in sent):
        sent = (("Host", netloc),) + sent
    host_header = next(v for k, v in sent if k.lower() == "host")
    if ":" in host_header and not host_header.endswith("]"):
        host_header = host_header.rpartition(":")[0]
    request = Request(scheme, host_header.lower(), port, path,
                      tuple(parse_qsl(query, keep_blank_values=True)), method, sent)
    return _address(view, url, host), request


def gateway_at(view: StoreView, address: str) -> Gateway | None:
    """The Gateway whose Envoy Service has the public ``address``, or None."""
    return next((gw for gw, a in _gateways(view) if a == address), None)


def trace_http(dp: Dataplane, src: str, url: str, method: str = "GET",
               headers: dict[str, str] | None = None) -> Trace:
    """``trace(src, url)``: the request to the proxy's public address, the proxy's
    decision, and the proxied request."""
    view = dp.view
    address, request = parse_request(view, url, method, headers)
    first = trace_packet(dp, src, f"{address}:{request.port}")
    if not first.delivered or first.destination_pod is None:
        return replace(first, dst=url)
    gateway = gateway_at(view, address)
    if gateway is not None:
        decision = route_request(view, gateway, request, dp.runtime.rng)
        return _finish(dp, first, url, request, decision, f"Envoy of Gateway {gateway.ref}")
    return _ingress(dp, first, url, request)


def _envoy_case(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Header names as Envoy writes them on HTTP/1.1, to the backend and to the client:
    lowercase ("When handling HTTP/1.1, Envoy will normalize the header keys to be all
    lowercase", Envoy docs, "HTTP/1.1 header casing"; ``header_key_format`` would change
    it, and Envoy Gateway does not set it by default)."""
    return tuple((name.lower(), value) for name, value in headers)


def _finish(dp: Dataplane, first: Trace, url: str, request: Request, decision: Decision,
            proxy: str) -> Trace:
    """The trace of a request a Gateway's Envoy routed."""
    last = first.hops[-1]
    n = len(first.hops)
    tls = ("TLS terminated at Envoy (SNI " + request.host + "); "
           if request.scheme == "https" else "")
    text = (f"{tls}{proxy} reads `{request.method} {request.target}` Host: "
            f"{request.header('host')}: " + "; ".join(decision.why))
    hop = Hop(n + 1, last.location, last.node, "http", text, last.packet)
    forwarded = decision.request or request
    if decision.status is not None:
        reason = f"HTTP {decision.status} from {proxy}: {decision.why[-1]}."
        return replace(first, dst=url, hops=first.hops + (hop,), reason=reason,
                       http_status=decision.status,
                       response_headers=_envoy_case(decision.response_headers), reply=())
    ip, port = decision.endpoint
    second = trace_packet(dp, first.destination_pod, f"{ip}:{port}")
    hops = first.hops + (hop,) + tuple(replace(h, index=n + 1 + h.index) for h in second.hops)
    seen = first.source_ip_seen
    request_headers = _envoy_case(forwarded.headers + (
        ("X-Forwarded-For", seen), ("X-Forwarded-Proto", request.scheme),
        ("X-Envoy-External-Address", seen)))
    status = 200 if second.delivered else 503
    reason = (f"HTTP request {request.host}{request.target} routed by {proxy} to "
              f"{second.destination_pod}; {second.reason}" if second.delivered else
              f"HTTP 503 from {proxy}: the connection to the endpoint failed: "
              f"{second.reason}")
    return replace(first, dst=url, hops=hops, delivered=second.delivered,
                   destination_pod=second.destination_pod,
                   source_ip_seen=second.source_ip_seen, receiver=second.receiver,
                   reason=reason, http_status=status, reply=(),
                   request_line=f"{forwarded.method} {forwarded.target} HTTP/1.1",
                   request_headers=request_headers,
                   response_headers=_envoy_case(decision.response_headers))


def _ignored(view: StoreView, host: str) -> str:
    """Why Ingresses that would match ``host`` are not served (``""`` if none)."""
    notes = [f"Ingress {i.ref} is ignored: {why}" for i in view.ingresses
             if (why := ignored(view, i)) is not None
             and (i.default_backend is not None
                  or any(not r.host or match_host(r.host, host) for r in i.rules))]
    return "; " + "; ".join(notes) if notes else ""


def _ingress(dp: Dataplane, first: Trace, url: str, request: Request) -> Trace:
    """The trace of a request the ingress controller (ingress-nginx) routed."""
    view = dp.view
    host, path, https = request.host, request.path, request.scheme == "https"
    ctrl = first.destination_pod
    server, ing, target = route(view, host, path)
    line = f"GET {path} Host: {host}"
    tls = ""
    cert = certificate(view, host)
    if https:
        tls = (f"TLS terminated at the controller with the certificate of Secret "
               f"{cert} (SNI {host}); " if cert else
               f"no tls entry with a secretName lists {host}, so the controller presents "
               "its 'Kubernetes Ingress Controller Fake Certificate' (clients warn); ")
    last = first.hops[-1]
    n = len(first.hops)

    def answer(status: int, why: str, headers: tuple[tuple[str, str], ...] = ()) -> Trace:
        hop = Hop(n + 1, last.location, last.node, "http",
                  f"{tls}nginx reads `{line}`: server {server}; {why}", last.packet)
        reason = f"HTTP {status} from the ingress controller ({ctrl}): {why}."
        return replace(first, dst=url, hops=first.hops + (hop,), reason=reason,
                       http_status=status, response_headers=headers)

    moved = redirect(view, request.scheme, host, request.header("host") or host,
                     request.target, server, ing, target)
    if moved is not None:
        location, why = moved
        return answer(REDIRECT_CODE, f"{why}: {REDIRECT_CODE} Permanent Redirect, Location "
                      f"{location}", (("Location", location),))
    if not https and cert is not None:
        tls = (f"ssl-redirect is \"false\" here, so plain http is served although {host} "
               "has TLS; ")
    if target is None:
        return answer(404, "no rule matches and no defaultBackend: the default backend "
                      "answers 404 Not Found" + _ignored(view, host))
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
              f"{tls}nginx reads `{line}`: server {server}; {why}", last.packet)
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
