"""How a Gateway's proxy (Envoy, configured by Envoy Gateway) routes one HTTP request:
listener, route, rule, filters, backend - the specification's rules (gateway-api
v1.6.1 ``apis/v1/httproute_types.go``, ``gateway_types.go``) as the conformance suite
checks them (``conformance/tests/httproute-*.go``; docs/facts/gateway-api.md 2, 5, 6).

1. **Listener**: among the Gateway's programmed HTTP/HTTPS listeners on the port, the
   most specific hostname that matches the request's host (exact, then wildcards with
   more labels, then none); the port in the Host header is ignored. Only routes of
   that listener serve the request (listener isolation).
2. **Hostnames**: of the routes attached there, those whose hostnames (narrowed to the
   listener's, ``controllers.attachment.intersect``) match the host most specifically
   (Envoy picks the virtual host: exact, then the longest wildcard, then ``*``).
3. **Match**: across all their rules, the match with precedence: ``Exact`` path, then
   the longest ``PathPrefix`` (element-wise: ``/v2`` matches ``/v2/x``, not
   ``/v2x``), then a method match, then most header matches, then most query-parameter
   matches; ties go to the oldest route, then ``namespace/name``, then rule order.
   Nothing matches: **404**, with an empty body.
4. **Filters**, in order: ``RequestHeaderModifier``, ``ResponseHeaderModifier``,
   ``URLRewrite`` (host, path), ``RequestRedirect`` (answers the redirect itself).
5. **Backend**: one of the rule's backendRefs, drawn by weight; an invalid one (not
   found, wrong kind, cross-namespace without ReferenceGrant) answers **500** for its
   share, a rule without backends **500**, a Service without ready endpoints **503**.

A request with ``content-type: application/grpc`` is matched against GRPCRoutes
(``/<service>/<method>``), any other against HTTPRoutes: the lab does not merge the
two kinds on one hostname, as the specification says implementations must not.

Examples
--------
>>> from kubenet_lab.controllers.httproute import rewrite_prefix
>>> [rewrite_prefix(p, "/foo", r) for p, r in [("/foo/bar", "/xyz"), ("/foo", ""),
...                                            ("/foo/", "/xyz")]]
['/xyz/bar', '/', '/xyz/']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kubenet_lab.controllers.attachment import (
    BackendCheck,
    attachments,
    backend_checks,
    hostname_matches,
    listener_problems,
    routes,
)
from kubenet_lab.controllers.endpointslice import service_endpoints
from kubenet_lab.model.gateway import HTTPFilter, HTTPRouteMatch, Listener

if TYPE_CHECKING:
    from random import Random

    from kubenet_lab.model.gateway import Gateway
    from kubenet_lab.model.store import StoreView

__all__ = ["Decision", "Request", "match_request", "rewrite_prefix", "route_request"]

WELL_KNOWN = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP request as the proxy reads it: ``host`` without its port, ``port`` the
    one the connection came in on, ``headers`` as sent (names keep their case)."""

    scheme: str
    host: str
    port: int
    path: str = "/"
    query: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        """The value of a header (names compare case-insensitively; repeated ones
        joined with ``,``), or None."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ",".join(values) if values else None

    @property
    def target(self) -> str:
        """``/path?query``."""
        query = "&".join(f"{k}={v}" if v else k for k, v in self.query)
        return self.path + (f"?{query}" if query else "")


@dataclass(frozen=True, slots=True)
class Decision:
    """What the proxy does with a request.

    ``status`` is the proxy's own answer (404, 500, 503, a redirect's code), or None
    when it forwards the request to ``endpoint`` (``(ip, port)`` of a pod of
    ``service``). ``why`` holds the steps, as sentences; ``request`` is the request as
    forwarded (after the filters), ``response_headers`` what the proxy adds or sets on
    the response."""

    status: int | None
    why: tuple[str, ...]
    listener: Listener | None = None
    route: Any = None
    rule: int | None = None
    backend: BackendCheck | None = None
    endpoint: tuple[str, int] | None = None
    request: Request | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    location: str | None = None
    filters: tuple[str, ...] = ()


# ---------------------------------------------------------------- matching
def _path_matches(match: HTTPRouteMatch, path: str) -> bool:
    if match.path_type == "Exact":
        return path == match.path
    if match.path_type == "RegularExpression":
        try:
            return re.fullmatch(match.path, path) is not None
        except re.error:
            return False
    want = match.path.rstrip("/")
    return not want or path == want or path.startswith(want + "/")


def _value_matches(kind: str, pattern: str, value: str | None) -> bool:
    if value is None:
        return False
    if kind == "RegularExpression":
        try:
            return re.fullmatch(pattern, value) is not None
        except re.error:
            return False
    return value == pattern


def match_request(match: HTTPRouteMatch, request: Request) -> bool:
    """Does ``request`` satisfy every part of ``match`` (path, headers, query, method)?

    >>> r = Request("http", "example.com", 80, "/v2/x", method="GET")
    >>> match_request(HTTPRouteMatch("PathPrefix", "/v2"), r), match_request(
    ...     HTTPRouteMatch("PathPrefix", "/v"), r)
    (True, False)
    """
    if not _path_matches(match, request.path):
        return False
    if match.method is not None and match.method != request.method:
        return False
    for h in match.headers:
        if not _value_matches(h.type, h.value, request.header(h.name)):
            return False
    query = dict(reversed(request.query))  # the first occurrence of a name counts
    return all(_value_matches(q.type, q.value, query.get(q.name))
               for q in match.query_params)


def _precedence(match: HTTPRouteMatch) -> tuple[int, int, int, int, int]:
    """Higher is first: Exact path, longest prefix, method, headers, query params."""
    kind = {"Exact": 2, "RegularExpression": 1}.get(match.path_type, 0)
    length = len(match.path.rstrip("/")) if match.path_type == "PathPrefix" else len(
        match.path)
    return (kind, length, match.method is not None, len(match.headers),
            len(match.query_params))


def _grpc_matches(match: Any, request: Request) -> bool:
    service, _, method = request.path.lstrip("/").partition("/")
    m = match.method
    if m is not None:
        if m.service is not None and not _value_matches(m.type, m.service, service):
            return False
        if m.method is not None and not _value_matches(m.type, m.method, method):
            return False
    return all(_value_matches(h.type, h.value, request.header(h.name)) for h in match.headers)


def _grpc_precedence(match: Any) -> tuple[int, int, int, int, int]:
    m = match.method
    return (0, len(m.service or "") if m else 0, len(m.method or "") if m else 0,
            len(match.headers), 0)


# ---------------------------------------------------------------- rewriting
def rewrite_prefix(path: str, prefix: str, replacement: str) -> str:
    """``ReplacePrefixMatch``: the matched prefix (whole path elements) replaced,
    as the specification's table has it (``/foo/bar`` with ``/foo`` -> ``/xyz``:
    ``/xyz/bar``; ``/foo`` -> empty: ``/``)."""
    rest = path[len(prefix.rstrip("/")):]
    out = replacement.rstrip("/") + rest if rest else replacement
    return out or "/"


def _modified_path(request: Request, match: HTTPRouteMatch, modifier: Any) -> str:
    if modifier.type == "ReplaceFullPath":
        return modifier.value
    return rewrite_prefix(request.path, match.path, modifier.value)


def _headers(headers: tuple[tuple[str, str], ...], f: HTTPFilter) -> tuple[tuple[str, str], ...]:
    """Apply a header modifier: ``set`` overwrites, ``add`` appends a value, ``remove``
    drops (names case-insensitive)."""
    out = list(headers)
    for name, value in f.set:
        out = [(k, v) for k, v in out if k.lower() != name.lower()] + [(name, value)]
    for name, value in f.add:
        out.append((name, value))
    drop = {n.lower() for n in f.remove}
    return tuple((k, v) for k, v in out if k.lower() not in drop)


def _location(request: Request, listener: Listener, match: HTTPRouteMatch,
              f: HTTPFilter) -> str:
    """The ``Location`` of a RequestRedirect (the port rules of
    ``HTTPRequestRedirectFilter``: a scheme without a port takes its well-known port,
    no scheme keeps the listener's; ports 80 for http and 443 for https are left out)."""
    scheme = f.scheme or request.scheme
    host = f.hostname or request.host
    if f.port is not None:
        port = f.port
    elif f.scheme is not None:
        port = WELL_KNOWN.get(f.scheme, listener.port)
    else:
        port = listener.port
    shown = "" if WELL_KNOWN.get(scheme) == port else f":{port}"
    path = _modified_path(request, match, f.path) if f.path is not None else request.path
    return f"{scheme}://{host}{shown}{replace(request, path=path).target}"


# ---------------------------------------------------------------- the decision
def _listener(view: StoreView, gw: Gateway, request: Request) -> Listener | None:
    live = [lst for lst in gw.listeners if lst.port == request.port
            and lst.protocol in ("HTTP", "HTTPS") and not listener_problems(view, gw, lst)]
    matching = [lst for lst in live if lst.hostname is None
                or hostname_matches(lst.hostname, request.host)]

    def specificity(lst: Listener) -> tuple[int, int]:
        if lst.hostname is None:
            return (0, 0)
        if lst.hostname.startswith("*."):
            return (1, lst.hostname.count("."))
        return (2, 0)

    return max(matching, key=specificity, default=None)


def _host_key(host: str) -> tuple[int, int]:
    if host == "*":
        return (0, 0)
    return (1, len(host)) if host.startswith("*.") else (2, len(host))


def _candidates(view: StoreView, gw: Gateway, listener: Listener, request: Request,
                grpc: bool) -> list[tuple[Any, str]]:
    """Routes attached to ``listener`` that serve the host, with the hostname that
    matched, only those of the most specific hostname."""
    kind = "GRPCRoute" if grpc else "HTTPRoute"
    found = []
    for route in routes(view):
        if type(route).__name__ != kind:
            continue
        for att in attachments(view, route):
            if att.gateway.ref != gw.ref:
                continue
            for lst, hosts in att.listeners:
                if lst.name != listener.name:
                    continue
                best = max((h for h in hosts if hostname_matches(h, request.host)),
                           key=_host_key, default=None)
                if best is not None:
                    found.append((route, best))
    if not found:
        return []
    top = max(_host_key(h) for _, h in found)
    seen: set[str] = set()
    out = []
    for route, host in found:
        if _host_key(host) == top and route.ref not in seen:
            seen.add(route.ref)
            out.append((route, host))
    return out


#: Envoy's mapping of its own HTTP answers to gRPC codes (``Grpc::Utility::
#: httpToGrpcStatus``; the gRPC project's doc/http-grpc-status-mapping.md): 404 is
#: UNIMPLEMENTED (12), 503 UNAVAILABLE (14), anything else here UNKNOWN (2).
GRPC_STATUS = {404: 12, 503: 14}


def _grpc_reply(decision: Decision) -> Decision:
    """A local reply to a gRPC request, as Envoy sends it: HTTP 200, trailers only, with
    ``grpc-status`` the gRPC code of the HTTP status it stands for."""
    code = GRPC_STATUS.get(decision.status or 0, 2)
    return replace(decision, status=200, why=decision.why + (
        f"the request is gRPC: Envoy sends that as HTTP 200 with grpc-status {code}",),
        response_headers=decision.response_headers + (
            ("content-type", "application/grpc"), ("grpc-status", str(code))))


def route_request(view: StoreView, gw: Gateway, request: Request, rng: Random
                  ) -> Decision:
    """Route one request arriving at ``gw`` on ``request.port``; ``rng`` draws the
    weighted backend and the endpoint (Envoy's own random choices). Envoy's own answer
    to a gRPC request is a gRPC status (``GRPC_STATUS``), not an HTTP error."""
    decision = _route(view, gw, request, rng)
    grpc = (request.header("content-type") or "").startswith("application/grpc")
    if grpc and decision.status is not None and decision.status >= 400:
        return _grpc_reply(decision)
    return decision


def _route(view: StoreView, gw: Gateway, request: Request, rng: Random) -> Decision:
    listener = _listener(view, gw, request)
    if listener is None:
        return Decision(404, (f"no listener of Gateway {gw.ref} on port {request.port} "
                              f"matches host {request.host}: Envoy answers 404 Not Found",))
    grpc = (request.header("content-type") or "").startswith("application/grpc")
    picked = []
    for order, (route, host) in enumerate(_candidates(view, gw, listener, request, grpc)):
        for r, rule in enumerate(route.rules):
            matches = rule.matches or (None,)
            for m, match in enumerate(matches):
                if grpc:
                    ok = match is None or _grpc_matches(match, request)
                    key = _grpc_precedence(match) if match else (0, 0, 0, 0, 0)
                else:
                    ok = match_request(match, request)
                    key = _precedence(match)
                if ok:
                    picked.append((tuple(-k for k in key), order, r, m, route, host, match))
    what = f"listener {listener.name} ({listener.protocol}/{listener.port}" + (
        f", {listener.hostname})" if listener.hostname else ")")
    if not picked:
        return Decision(404, (f"Gateway {gw.ref} {what}: no route rule matches "
                              f"{request.method} {request.host}{request.target}: Envoy "
                              "answers 404 Not Found (empty body)",), listener)
    _, _, r, _, route, host, match = min(picked, key=lambda p: p[:4])
    rule = route.rules[r]
    kind = type(route).__name__
    why = [f"Gateway {gw.ref} {what}; {kind} {route.ref} (hostname {host}) rule {r} "
           f"matches: {_describe(match, grpc)}"]
    return _apply_rule(view, route, r, rule, match, listener, request, rng, why)


def _describe(match: Any, grpc: bool) -> str:
    if match is None:
        return "every gRPC request"
    if grpc:
        m = match.method
        return f"method {m.service or '*'}/{m.method or '*'}" if m else "headers"
    parts = [f"{match.path_type} {match.path}"]
    if match.method:
        parts.append(f"method {match.method}")
    parts += [f"header {h.name}: {h.value}" for h in match.headers]
    parts += [f"query {q.name}={q.value}" for q in match.query_params]
    return ", ".join(parts)


def _apply_rule(view: StoreView, route: Any, r: int, rule: Any, match: Any,
                listener: Listener, request: Request, rng: Random, why: list[str]
                ) -> Decision:
    response: tuple[tuple[str, str], ...] = ()
    applied: list[str] = []
    forwarded = request
    for f in rule.filters:
        if f.type == "RequestHeaderModifier":
            forwarded = replace(forwarded, headers=_headers(forwarded.headers, f))
        elif f.type == "ResponseHeaderModifier":
            response = _headers(response, f)
        elif f.type == "URLRewrite":
            if f.hostname:
                forwarded = replace(forwarded, host=f.hostname, headers=_headers(
                    forwarded.headers, HTTPFilter("RequestHeaderModifier",
                                                  set=(("Host", f.hostname),))))
            if f.path is not None:
                forwarded = replace(forwarded, path=_modified_path(forwarded, match, f.path))
        elif f.type == "RequestRedirect":
            location = _location(request, listener, match, f)
            applied.append(f.type)
            why.append(f"filter RequestRedirect answers {f.status_code} with Location: "
                       f"{location}")
            return Decision(f.status_code, tuple(why), listener, route, r,
                            request=forwarded, location=location, filters=tuple(applied),
                            response_headers=(("location", location),))
        applied.append(f.type)
    if applied:
        why.append("filters " + ", ".join(applied) + " applied")
    checks = [b for b in backend_checks(view, route) if b.rule == r]
    total = sum(b.ref.weight for b in checks)
    base = dict(listener=listener, route=route, rule=r, request=forwarded,
                response_headers=response, filters=tuple(applied))
    if not checks or total == 0:
        why.append("the rule has no backend with a weight above 0: Envoy answers 500 "
                   "Internal Server Error")
        return Decision(500, tuple(why), **base)
    draw = rng.randrange(total)
    for chosen in checks:
        if draw < chosen.ref.weight:
            break
        draw -= chosen.ref.weight
    share = f"weight {chosen.ref.weight} of {total}" if len(checks) > 1 else "the only backend"
    if chosen.reason is not None:
        why.append(f"backendRef {chosen.index} ({share}) is invalid ({chosen.reason}: "
                   f"{chosen.message}): Envoy answers 500 Internal Server Error")
        return Decision(500, tuple(why), backend=chosen, **base)
    return _to_endpoint(view, chosen, share, rng, why, base)


def _to_endpoint(view: StoreView, chosen: BackendCheck, share: str, rng: Random,
                 why: list[str], base: dict[str, Any]) -> Decision:
    svc = view.service(f"{chosen.namespace}/{chosen.ref.name}")
    sp = next(p for p in svc.ports if p.port == chosen.ref.port)
    endpoints = service_endpoints(view, svc, sp)
    if not endpoints:
        why.append(f"Service {svc.ref} port {sp.port} ({share}) has no ready endpoints: "
                   "Envoy answers 503 Service Unavailable")
        return Decision(503, tuple(why), backend=chosen, **base)
    ip, port = endpoints[rng.randrange(len(endpoints))][:2]
    for f in chosen.ref.filters:
        if f.type == "RequestHeaderModifier":
            base["request"] = replace(base["request"], headers=_headers(
                base["request"].headers, f))
        elif f.type == "ResponseHeaderModifier":
            base["response_headers"] = _headers(base["response_headers"], f)
    why.append(f"backend Service {svc.ref} port {sp.port} ({share}): Envoy proxies to the "
               f"endpoint {ip}:{port} directly, not the ClusterIP")
    return Decision(None, tuple(why), backend=chosen, endpoint=(ip, port), **base)
