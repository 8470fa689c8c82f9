"""Gateway API routing and status, checked against the conformance suite's expectations
(kubernetes-sigs/gateway-api v1.6.1 ``conformance/tests/*.go`` and their manifests,
condensed in docs/facts/gateway-api.md section 5). Each test names the conformance test
it follows; the tables are the suite's, request by request.

The base is the suite's ``conformance/base/manifests.yaml``: namespaces
``gateway-conformance-infra`` (label ``gateway-conformance: infra``),
``gateway-conformance-app-backend`` and ``gateway-conformance-web-backend``
(``gateway-conformance: backend``); backends ``infra-backend-v1..v3`` (Services on 8080
targeting 3000; the echo containers declare no ports); Gateways ``same-namespace``
(from Same), ``all-namespaces`` (All) and ``backend-namespaces`` (Selector).
"""

from __future__ import annotations

import pytest
from echo_backends import echo_backend

import kubenet_lab as kl

INFRA = "gateway-conformance-infra"
WEB = "gateway-conformance-web-backend"
APP = "gateway-conformance-app-backend"


def _gateway(name: str, listeners: str, ns: str = INFRA) -> str:
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: {ns}}}
spec:
  gatewayClassName: eg
  listeners:
{listeners}
---
"""


HTTP_SAME = "  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}"


@pytest.fixture(scope="module")
def base_manifests() -> str:
    return (
        f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {INFRA}, labels: {{gateway-conformance: infra}}}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: {APP}, labels: {{gateway-conformance: backend}}}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: {WEB}, labels: {{gateway-conformance: backend}}}}
---
"""
        + echo_backend(INFRA, "infra-backend-v1", 2) + echo_backend(INFRA, "infra-backend-v2", 2)
        + echo_backend(INFRA, "infra-backend-v3") + echo_backend(APP, "app-backend-v1")
        + echo_backend(APP, "app-backend-v2") + echo_backend(WEB, "web-backend", 2)
        + _gateway("same-namespace", HTTP_SAME)
        + _gateway("all-namespaces", "  - {name: http, port: 80, protocol: HTTP, "
                   "allowedRoutes: {namespaces: {from: All}}}")
        + _gateway("backend-namespaces", "  - {name: http, port: 80, protocol: HTTP, "
                   "allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: "
                   "{gateway-conformance: backend}}}}}")
    )


@pytest.fixture
def c(base_manifests: str) -> kl.Cluster:
    c = kl.Cluster(workers=2)
    c.add_gateway_controller()
    c.add_cloud_load_balancer()
    c.apply(base_manifests)
    return c


def route(name: str, spec: str, ns: str = INFRA, gateway: str = "same-namespace") -> str:
    """An HTTPRoute attached to ``gateway`` in the infra namespace."""
    parent = f"{{name: {gateway}, namespace: {INFRA}}}" if ns != INFRA else f"{{name: {gateway}}}"
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: {ns}}}
spec:
  parentRefs: [{parent}]
{spec}
"""


def address(c: kl.Cluster, gateway: str = "same-namespace") -> str:
    return c.get("Gateway", f"{INFRA}/{gateway}")["status"]["addresses"][0]["value"]


def send(c: kl.Cluster, path: str = "/", host: str | None = None, *, gateway: str =
         "same-namespace", headers: dict | None = None, method: str = "GET",
         port: int = 80) -> tuple[int | None, str | None]:
    """(status, "namespace/backend") as the suite's ``ExpectedResponse`` checks it."""
    hdrs = dict(headers or {})
    if host is not None:
        hdrs["Host"] = host
    t = c.trace("internet", f"http://{address(c, gateway)}:{port}{path}", method=method,
                headers=hdrs or None)
    if t.http_status != 200:
        return t.http_status, None
    ns, pod = t.destination_pod.split("/")
    return 200, f"{ns}/{pod.rsplit('-', 2)[0]}"


def v(n: int) -> str:
    return f"{INFRA}/infra-backend-v{n}"


def conditions(obj: dict, parent: int = 0) -> dict[str, tuple[str, str]]:
    """``type: (status, reason)`` of a route's parent status."""
    return {k["type"]: (k["status"], k["reason"])
            for k in obj["status"]["parents"][parent]["conditions"]}


# ---------------------------------------------------------------- matching
def test_http_route_matching(c):
    """HTTPRouteMatching: path and header matches are ORed, prefixes element-wise."""
    c.apply(route("matching", """  rules:
  - matches: [{path: {type: PathPrefix, value: /}}, {headers: [{name: version, value: one}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /v2}}, {headers: [{name: version, value: two}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]"""))
    table = [("/", {}, v(1)), ("/example", {}, v(1)), ("/", {"Version": "one"}, v(1)),
             ("/v2", {}, v(2)), ("/v2/example", {}, v(2)), ("/", {"Version": "two"}, v(2)),
             ("/v2/", {}, v(2)), ("/v2example", {}, v(1)), ("/foo/v2/example", {}, v(1))]
    for path, headers, want in table:
        assert send(c, path, headers=headers) == (200, want), (path, headers)


def test_http_route_matching_across_routes(c):
    """HTTPRouteMatchingAcrossRoutes: precedence across routes, each with its hostnames."""
    c.apply(route("matching-part1", """  hostnames: [example.com, example.net]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}, {headers: [{name: version, value: one}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]""") + "---" + route(
        "matching-part2", """  hostnames: [example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}, {headers: [{name: version, value: two}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]"""))
    table = [("example.com", "/", {}, v(1)), ("example.com", "/example", {}, v(1)),
             ("example.net", "/example", {}, v(1)),
             ("example.com", "/example", {"Version": "one"}, v(1)),
             ("example.com", "/v2", {}, v(2)), ("example.net", "/v2", {}, v(1)),
             ("example.com", "/v2/example", {}, v(2)),
             ("example.com", "/", {"Version": "two"}, v(2))]
    for host, path, headers, want in table:
        assert send(c, path, host, headers=headers) == (200, want), (host, path, headers)


def test_http_route_path_match_order(c):
    """HTTPRoutePathMatchOrder: Exact beats PathPrefix, the longest prefix wins."""
    rules = [("Exact", "/match", 1), ("Exact", "/match/exact", 2),
             ("Exact", "/match/exact/one", 3), ("PathPrefix", "/match/", 3),
             ("PathPrefix", "/match/prefix/", 1), ("PathPrefix", "/match/prefix/one", 2)]
    spec = "  rules:\n" + "".join(
        f"  - matches: [{{path: {{type: {t}, value: {p}}}}}]\n"
        f"    backendRefs: [{{name: infra-backend-v{n}, port: 8080}}]\n" for t, p, n in rules)
    c.apply(route("path-matching-order", spec))
    table = [("/match/exact/one", 3), ("/match/exact", 2), ("/match", 1),
             ("/match/prefix/one/any", 2), ("/match/prefix/any", 1), ("/match/any", 3)]
    for path, n in table:
        assert send(c, path) == (200, v(n)), path


def test_http_route_exact_path_matching(c):
    """HTTPRouteExactPathMatching: exact and case-sensitive; nothing else matches: 404."""
    c.apply(route("exact-matching", """  rules:
  - matches: [{path: {type: Exact, value: /one}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: Exact, value: /two}}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]"""))
    assert send(c, "/one") == (200, v(1)) and send(c, "/two") == (200, v(2))
    for path in ("/", "/one/example", "/two/", "/Two"):
        assert send(c, path) == (404, None), path


#: The rules of the suite's httproute-header-matching.yaml; the GRPCRoute test below reuses
#: them to check GRPCRoute's precedence.
HEADER_RULES = """\
  - matches: [{headers: [{name: version, value: one}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: version, value: two}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{headers: [{name: version, value: two}, {name: color, value: orange}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: color, value: blue}]},
              {headers: [{name: color, value: green}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: color, value: red}]},
              {headers: [{name: color, value: yellow}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]"""


def test_http_route_header_matching(c):
    """HTTPRouteHeaderMatching: headers ANDed in a match; more headers win; ties go to
    the first rule; names case-insensitive."""
    c.apply(route("header-matching", "  rules:\n" + HEADER_RULES))
    table = [({"Version": "one"}, v(1)), ({"Version": "two"}, v(2)),
             ({"Version": "two", "Color": "orange"}, v(1)),
             ({"Version": "two", "Color": "blue"}, v(2)), ({"Color": "blue"}, v(1)),
             ({"Color": "green"}, v(1)), ({"Color": "red"}, v(2)), ({"Color": "yellow"}, v(2))]
    for headers, want in table:
        assert send(c, headers=headers) == (200, want), headers
    for headers in ({"Color": "orange"}, {"Some-Other-Header": "one"}, {"Color": "purple"}):
        assert send(c, headers=headers) == (404, None), headers


def test_http_route_method_matching(c):
    """HTTPRouteMethodMatching: a path beats a method, a method beats a header."""
    c.apply(route("method-matching", """  rules:
  - matches: [{method: POST}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{method: GET}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /path1}, method: GET}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: version, value: one}], method: PUT}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /path2},
               headers: [{name: version, value: two}], method: POST}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /path3}, method: PATCH},
              {path: {type: PathPrefix, value: /path4},
               headers: [{name: version, value: three}], method: DELETE}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /path5}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{method: PATCH}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{headers: [{name: version, value: four}]}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]"""))
    table = [("POST", "/", {}, v(1)), ("GET", "/", {}, v(2)), ("GET", "/path1", {}, v(1)),
             ("PUT", "/", {"version": "one"}, v(2)),
             ("POST", "/path2", {"version": "two"}, v(3)), ("PATCH", "/path3", {}, v(1)),
             ("DELETE", "/path4", {"version": "three"}, v(1)), ("PATCH", "/path5", {}, v(1)),
             ("PATCH", "/", {"version": "four"}, v(2))]
    for method, path, headers, want in table:
        assert send(c, path, method=method, headers=headers) == (200, want), (method, path)
    for method, path in (("HEAD", "/"), ("PUT", "/"), ("DELETE", "/path4")):
        assert send(c, path, method=method) == (404, None), (method, path)


def test_http_route_query_param_matching(c):
    """HTTPRouteQueryParamMatching: names are case-sensitive; a path beats a query
    parameter, a header beats one too."""
    c.apply(route("query-param-matching", """  rules:
  - matches: [{queryParams: [{name: animal, value: whale}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{queryParams: [{name: animal, value: dolphin}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{queryParams: [{name: animal, value: dolphin}, {name: color, value: blue}]},
              {queryParams: [{name: ANIMAL, value: Whale}]}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /path5}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{queryParams: [{name: animal, value: hydra}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{headers: [{name: version, value: four}]}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]"""))
    table = [("/?animal=whale", {}, v(1)), ("/?animal=dolphin", {}, v(2)),
             ("/?animal=dolphin&color=blue", {}, v(3)), ("/?ANIMAL=Whale", {}, v(3)),
             ("/?animal=whale&otherparam=irrelevant", {}, v(1)),
             ("/?animal=dolphin&color=yellow", {}, v(2)), ("/path5?animal=hydra", {}, v(1)),
             ("/?animal=hydra", {"version": "four"}, v(3))]
    for path, headers, want in table:
        assert send(c, path, headers=headers) == (200, want), path
    for path in ("/?color=blue", "/?animal=dog", "/?animal=whaledolphin", "/"):
        assert send(c, path) == (404, None), path


# ---------------------------------------------------------------- hostnames and listeners
HOSTNAME_INTERSECTION = (
    _gateway("httproute-hostname-intersection", """\
  - {name: listener-1, port: 80, protocol: HTTP, hostname: very.specific.com}
  - {name: listener-2, port: 80, protocol: HTTP, hostname: "*.wildcard.io"}
  - {name: listener-3, port: 80, protocol: HTTP, hostname: "*.anotherwildcard.io"}""")
    + "".join(route(name, f"  hostnames: {hosts}\n  rules:\n  - matches: [{{path: {{type: "
                    f"PathPrefix, value: {path}}}}}]\n    backendRefs: [{{name: "
                    f"infra-backend-v{n}, port: 8080}}]", gateway="httproute-hostname-"
                    "intersection") + "---"
              for name, hosts, path, n in [
                  ("specific-host-matches-listener-specific-host",
                   "[non.matching.com, '*.nonmatchingwildcard.io', very.specific.com]", "/s1", 1),
                  ("specific-host-matches-listener-wildcard-host",
                   "[non.matching.com, wildcard.io, foo.wildcard.io, bar.wildcard.io, "
                   "foo.bar.wildcard.io]", "/s2", 2),
                  ("wildcard-host-matches-listener-specific-host",
                   "[non.matching.com, '*.specific.com']", "/s3", 3),
                  ("wildcard-host-matches-listener-wildcard-host",
                   "['*.anotherwildcard.io']", "/s4", 1),
                  ("no-intersecting-hosts", "[specific.but.wrong.com, wildcard.io]", "/s5", 2)]))


def test_http_route_hostname_intersection(c):
    """HTTPRouteHostnameIntersection: route hostnames narrowed to the listener's; no
    intersection: Accepted False, NoMatchingListenerHostname; a Host port is ignored."""
    c.apply(HOSTNAME_INTERSECTION)
    gw = "httproute-hostname-intersection"
    table = [("very.specific.com", "/s1", 1), ("very.specific.com:1234", "/s1", 1),
             ("foo.wildcard.io", "/s2", 2), ("bar.wildcard.io", "/s2", 2),
             ("foo.bar.wildcard.io", "/s2", 2), ("very.specific.com", "/s3", 3),
             ("foo.anotherwildcard.io", "/s4", 1), ("foo.bar.anotherwildcard.io", "/s4", 1)]
    for host, path, n in table:
        assert send(c, path, host, gateway=gw) == (200, v(n)), (host, path)
    misses = [("non.matching.com", "/s1"), ("foo.nonmatchingwildcard.io", "/s1"),
              ("foo.wildcard.io", "/s1"), ("very.specific.com", "/non-matching-prefix"),
              ("wildcard.io", "/s2"), ("very.specific.com", "/s2"), ("foo.specific.com", "/s3"),
              ("foo.wildcard.io", "/s3"), ("anotherwildcard.io", "/s4"),
              ("specific.but.wrong.com", "/s5"), ("wildcard.io", "/s5")]
    for host, path in misses:
        assert send(c, path, host, gateway=gw) == (404, None), (host, path)
    status = c.get("HTTPRoute", f"{INFRA}/no-intersecting-hosts")
    assert conditions(status)["Accepted"] == ("False", "NoMatchingListenerHostname")
    listeners = {lst["name"]: lst["attachedRoutes"]
                 for lst in c.get("Gateway", f"{INFRA}/{gw}")["status"]["listeners"]}
    assert listeners == {"listener-1": 2, "listener-2": 1, "listener-3": 1}


def test_http_route_listener_hostname_matching(c):
    """HTTPRouteListenerHostnameMatching: the most specific listener takes the request."""
    c.apply(_gateway("httproute-listener-hostname-matching", """\
  - {name: listener-1, port: 80, protocol: HTTP, hostname: bar.com}
  - {name: listener-2, port: 80, protocol: HTTP, hostname: foo.bar.com}
  - {name: listener-3, port: 80, protocol: HTTP, hostname: "*.bar.com"}
  - {name: listener-4, port: 80, protocol: HTTP, hostname: "*.foo.com"}""") + "".join(
        f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: backend-v{n}, namespace: {INFRA}}}
spec:
  parentRefs: {parents}
  rules: [{{backendRefs: [{{name: infra-backend-v{n}, port: 8080}}]}}]
---""" for n, parents in [
            (1, "[{name: httproute-listener-hostname-matching, sectionName: listener-1}]"),
            (2, "[{name: httproute-listener-hostname-matching, sectionName: listener-2}]"),
            (3, "[{name: httproute-listener-hostname-matching, sectionName: listener-3}, "
                "{name: httproute-listener-hostname-matching, sectionName: listener-4}]")]))
    gw = "httproute-listener-hostname-matching"
    for host, n in [("bar.com", 1), ("foo.bar.com", 2), ("baz.bar.com", 3), ("boo.bar.com", 3),
                    ("multiple.prefixes.bar.com", 3), ("multiple.prefixes.foo.com", 3)]:
        assert send(c, host=host, gateway=gw) == (200, v(n)), host
    for host in ("foo.com", "no.matching.host"):
        assert send(c, host=host, gateway=gw) == (404, None), host


def test_cross_namespace_attachment(c):
    """HTTPRouteCrossNamespace and HTTPRouteInvalidCrossNamespaceParentRef: a route in
    another namespace attaches where allowedRoutes lets it, and only there."""
    c.apply(route("cross-namespace", "  rules: [{backendRefs: [{name: web-backend, port: 8080}]}]",
                  ns=WEB, gateway="backend-namespaces")
            + "---" + route("invalid-cross-namespace-parent-ref",
                            "  rules: [{backendRefs: [{name: web-backend, port: 8080}]}]",
                            ns=WEB, gateway="same-namespace"))
    assert send(c, gateway="backend-namespaces") == (200, f"{WEB}/web-backend")
    bad = c.get("HTTPRoute", f"{WEB}/invalid-cross-namespace-parent-ref")
    assert conditions(bad) == {"Accepted": ("False", "NotAllowedByListeners"),
                               "ResolvedRefs": ("True", "ResolvedRefs")}
    listener = c.get("Gateway", f"{INFRA}/same-namespace")["status"]["listeners"][0]
    assert listener["attachedRoutes"] == 0


@pytest.mark.parametrize("parent", ["{name: same-namespace, sectionName: http1}",
                                    "{name: same-namespace, port: 81}",
                                    "{name: same-namespace, sectionName: http, port: 81}"])
def test_a_parent_ref_matching_no_listener_is_not_accepted(c, parent):
    """HTTPRouteInvalidParentRefNotMatchingSectionName / ...NotMatchingListenerPort /
    ...SectionNameNotMatchingPort: NoMatchingParent, nothing attached."""
    c.apply(f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: {INFRA}}}
spec:
  parentRefs: [{parent}]
  rules: [{{backendRefs: [{{name: infra-backend-v1, port: 8080}}]}}]
""")
    assert conditions(c.get("HTTPRoute", f"{INFRA}/r"))["Accepted"] == (
        "False", "NoMatchingParent")
    assert c.get("Gateway", f"{INFRA}/same-namespace")["status"]["listeners"][0][
        "attachedRoutes"] == 0


# ---------------------------------------------------------------- backends
GRANT = f"""
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: reference-grant, namespace: {WEB}}}
spec:
  from: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: {INFRA}}}]
  to: [{{group: "", kind: Service, name: web-backend}}]
"""
CROSS = route("reference-grant", f"  rules: [{{backendRefs: [{{name: web-backend, namespace: "
              f"{WEB}, port: 8080}}]}}]")


def test_http_route_reference_grant(c):
    """HTTPRouteReferenceGrant / HTTPRouteInvalidCrossNamespaceBackendRef: without a
    grant RefNotPermitted and 500 (the route stays Accepted); with it 200; deleting the
    grant revokes it."""
    c.apply(CROSS)
    assert conditions(c.get("HTTPRoute", f"{INFRA}/reference-grant")) == {
        "Accepted": ("True", "Accepted"), "ResolvedRefs": ("False", "RefNotPermitted")}
    assert send(c) == (500, None)
    c.apply(GRANT)
    assert conditions(c.get("HTTPRoute", f"{INFRA}/reference-grant"))["ResolvedRefs"] == (
        "True", "ResolvedRefs")
    assert send(c) == (200, f"{WEB}/web-backend")
    c.delete("ReferenceGrant", f"{WEB}/reference-grant")
    assert send(c) == (500, None)


@pytest.mark.parametrize("change", [
    ("namespace: " + WEB, "namespace: " + APP),                        # the wrong namespace
    ("group: gateway.networking.k8s.io", "group: not-the-group"),
    ("kind: HTTPRoute", "kind: Gateway"),
    (f"namespace: {INFRA}", "namespace: not-the-namespace"),
    ('group: ""', "group: not-the-group"),
    ("kind: Service", "kind: Secret"),
    ("name: web-backend}", "name: not-web-backend}"),
])
def test_http_route_invalid_reference_grant(c, change):
    """HTTPRouteInvalidReferenceGrant: each near-miss grant permits nothing."""
    c.apply(CROSS + "---" + GRANT.replace(*change, 1))
    assert conditions(c.get("HTTPRoute", f"{INFRA}/reference-grant"))["ResolvedRefs"] == (
        "False", "RefNotPermitted")
    assert send(c) == (500, None)


@pytest.mark.parametrize("ref, reason", [
    ("{name: nonexistent, port: 8080}", "BackendNotFound"),
    ("{group: unknownkind.example.com, kind: NonExistent, name: infra-backend-v1, port: 8080}",
     "InvalidKind"),
])
def test_an_invalid_backend_answers_500(c, ref, reason):
    """HTTPRouteInvalidNonExistentBackendRef / HTTPRouteInvalidBackendRefUnknownKind."""
    c.apply(route("invalid-backend", f"  rules: [{{backendRefs: [{ref}]}}]"))
    assert conditions(c.get("HTTPRoute", f"{INFRA}/invalid-backend")) == {
        "Accepted": ("True", "Accepted"), "ResolvedRefs": ("False", reason)}
    assert send(c) == (500, None)


def test_a_rule_without_backends_answers_500(c):
    """HTTPRouteNoBackendRefs."""
    c.apply(route("no-backends", "  rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]"))
    assert send(c) == (500, None)


def test_http_route_weight(c):
    """HTTPRouteWeight: 500 requests split 70/20/10 within the suite's 0.05 tolerance,
    and a weight-0 backend gets nothing."""
    c.apply(route("weighted-backends", """  rules:
  - backendRefs:
    - {name: infra-backend-v1, port: 8080, weight: 70}
    - {name: infra-backend-v2, port: 8080, weight: 30}
    - {name: infra-backend-v3, port: 8080, weight: 0}"""))
    counts: dict[str | None, int] = {}
    for _ in range(500):
        got = send(c)[1]
        counts[got] = counts.get(got, 0) + 1
    assert abs(counts.get(v(1), 0) / 500 - 0.7) <= 0.05
    assert abs(counts.get(v(2), 0) / 500 - 0.3) <= 0.05
    assert v(3) not in counts


# ---------------------------------------------------------------- filters
def test_http_route_request_header_modifier(c):
    """HTTPRouteRequestHeaderModifier: set overwrites (names case-insensitive), add
    appends, remove drops."""
    c.apply(route("request-header-modifier", """  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Header-Set, value: set-overwrites-values}]
        add: [{name: X-Header-Add, value: add-appends-values}]
        remove: [X-Header-Remove]
    backendRefs: [{name: infra-backend-v1, port: 8080}]"""))
    t = c.trace("internet", f"http://{address(c)}/", headers={
        "x-header-set": "some-other-value", "X-Header-Add": "some-other-value",
        "X-Header-Remove": "val"})
    seen: dict[str, list[str]] = {}
    for k, val in t.request_headers:
        seen.setdefault(k.lower(), []).append(val)
    assert seen["x-header-set"] == ["set-overwrites-values"]
    assert ",".join(seen["x-header-add"]) == "some-other-value,add-appends-values"
    assert "x-header-remove" not in seen


def test_http_route_response_header_modifier(c):
    """HTTPRouteResponseHeaderModifier: the client gets the headers the filter sets, their
    names lowercase as Envoy writes HTTP/1.1 (Envoy docs, "HTTP/1.1 header casing"; the
    conformance suite compares names case-insensitively, as RFC 9110 §5.1 says)."""
    c.apply(route("response-header-modifier", """  rules:
  - filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier: {set: [{name: X-Header-Set, value: set-value}]}
    backendRefs: [{name: infra-backend-v1, port: 8080}]"""))
    t = c.trace("internet", f"http://{address(c)}/")
    assert ("x-header-set", "set-value") in t.response_headers and t.http_status == 200


@pytest.mark.parametrize("redirect, location, status", [
    ("{hostname: example.org}", "http://example.org/hostname-redirect", 302),
    ("{hostname: example.org, statusCode: 301}", "http://example.org/hostname-redirect", 301),
    ("{scheme: https}", "https://HOST/hostname-redirect", 302),
    ("{scheme: https, port: 8443}", "https://HOST:8443/hostname-redirect", 302),
    ("{port: 8083}", "http://HOST:8083/hostname-redirect", 302),
    ("{port: 80}", "http://HOST/hostname-redirect", 302),
    ("{path: {type: ReplaceFullPath, replaceFullPath: /full-path-replacement}}",
     "http://HOST/full-path-replacement", 302),
    ("{path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}}",
     "http://HOST/replacement-prefix", 302),
])
def test_http_route_redirects(c, redirect, location, status):
    """HTTPRouteRedirectHostAndStatus, HTTPRouteRedirectScheme, HTTPRouteRedirectPort,
    HTTPRouteRedirectPortAndScheme, HTTPRouteRedirectPath: the Location, with the port
    left out where it is the scheme's well-known one."""
    c.apply(route("redirect", f"""  rules:
  - matches: [{{path: {{type: PathPrefix, value: /hostname-redirect}}}}]
    filters: [{{type: RequestRedirect, requestRedirect: {redirect}}}]"""))
    t = c.trace("internet", f"http://{address(c)}/hostname-redirect")
    assert t.http_status == status
    assert dict(t.response_headers)["location"] == location.replace("HOST", address(c))


@pytest.mark.parametrize("prefix, rewrite, path, seen", [
    ("/prefix/one", "{type: ReplacePrefixMatch, replacePrefixMatch: /one}", "/prefix/one/two",
     "/one/two"),
    ("/strip-prefix", "{type: ReplacePrefixMatch, replacePrefixMatch: /}",
     "/strip-prefix/three", "/three"),
    ("/strip-prefix", "{type: ReplacePrefixMatch, replacePrefixMatch: /}", "/strip-prefix", "/"),
    ("/full/one", "{type: ReplaceFullPath, replaceFullPath: /one}", "/full/one/two", "/one"),
])
def test_http_route_rewrite_path(c, prefix, rewrite, path, seen):
    """HTTPRouteRewritePath: the backend sees the rewritten path (the suite's table)."""
    c.apply(route("rewrite-path", f"""  rules:
  - matches: [{{path: {{type: PathPrefix, value: {prefix}}}}}]
    filters: [{{type: URLRewrite, urlRewrite: {{path: {rewrite}}}}}]
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]"""))
    t = c.trace("internet", f"http://{address(c)}{path}")
    assert t.request_line == f"GET {seen} HTTP/1.1"


def test_http_route_rewrite_host(c):
    """HTTPRouteRewriteHost: the backend sees the new Host (``host``, in Envoy's case)."""
    c.apply(route("rewrite-host", """  hostnames: [rewrite.example]
  rules:
  - matches: [{path: {type: PathPrefix, value: /one}}]
    filters: [{type: URLRewrite, urlRewrite: {hostname: one.example.org}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]"""))
    t = c.trace("internet", f"http://{address(c)}/one", headers={"Host": "rewrite.example"})
    assert ("host", "one.example.org") in t.request_headers and t.http_status == 200


# ---------------------------------------------------------------- the controller's objects
def test_a_gateway_gets_an_envoy_deployment_and_a_load_balancer(c):
    """Envoy Gateway's data plane: envoy-<ns>-<name>-<sha256 prefix> in
    envoy-gateway-system, a LoadBalancer with externalTrafficPolicy Local, 80 -> 10080."""
    svc = c.service("envoy-gateway-system/envoy-gateway-conformance-infra-same-namespace-"
                    + __import__("hashlib").sha256(f"{INFRA}/same-namespace".encode())
                    .hexdigest()[:8])
    assert svc.type == "LoadBalancer" and svc.external_traffic_policy == "Local"
    assert [(p.name, p.port, p.target_port) for p in svc.ports] == [("http-80", 80, 10080)]
    gw = c.get("Gateway", f"{INFRA}/same-namespace")["status"]
    assert {k["type"]: k["status"] for k in gw["conditions"]} == {"Accepted": "True",
                                                                 "Programmed": "True"}
    assert gw["addresses"][0]["value"] == svc.load_balancer_ip


def test_without_a_cloud_load_balancer_a_gateway_is_not_programmed(base_manifests):
    c = kl.Cluster(workers=1)
    c.add_gateway_controller()
    c.apply(base_manifests)
    status = c.get("Gateway", f"{INFRA}/same-namespace")["status"]
    programmed = next(k for k in status["conditions"] if k["type"] == "Programmed")
    assert (programmed["status"], programmed["reason"]) == ("False", "AddressNotAssigned")
    assert "addresses" not in status


def test_a_url_port_no_listener_has_is_refused(c):
    """The load balancer listens only on the listeners' ports."""
    t = c.trace("internet", f"http://{address(c)}:8080/")
    assert not t.delivered and t.http_status is None


# ---------------------------------------------------------------- gRPC
ECHO = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho"


def grpc_route(name: str, rules: str) -> str:
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: {name}, namespace: {INFRA}}}
spec:
  parentRefs: [{{name: same-namespace}}]
  rules:
{rules}
"""


def grpc_call(c: kl.Cluster, method: str, headers: dict | None = None,
              content_type: str = "application/grpc") -> tuple[str | None, str | None]:
    """(grpc-status of Envoy's own answer or None, "namespace/backend" or None): a unary
    call is a POST of ``/<service>/<method>`` with content-type application/grpc."""
    t = c.trace("internet", f"http://{address(c)}/{ECHO}/{method}", method="POST",
                headers={"content-type": content_type, **(headers or {})})
    local = dict(t.response_headers).get("grpc-status")
    if local is not None or t.http_status != 200:
        return local, None
    ns, pod = t.destination_pod.split("/")
    return None, f"{ns}/{pod.rsplit('-', 2)[0]}"


def test_grpc_exact_method_matching(c):
    """GRPCExactMethodMatching: Echo to v1, EchoTwo to v2; a method no rule names is
    answered by Envoy with codes.Unimplemented (grpc-status 12, in an HTTP 200)."""
    c.apply(grpc_route("exact-matching", f"""\
  - matches: [{{method: {{service: {ECHO}, method: Echo}}}}]
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]
  - matches: [{{method: {{service: {ECHO}, method: EchoTwo}}}}]
    backendRefs: [{{name: infra-backend-v2, port: 8080}}]"""))
    assert grpc_call(c, "Echo") == (None, v(1))
    assert grpc_call(c, "EchoTwo") == (None, v(2))
    assert grpc_call(c, "EchoThree") == ("12", None)
    # Not gRPC: matched against HTTPRoutes, of which the listener has none here.
    assert c.trace("internet", f"http://{address(c)}/{ECHO}/Echo",
                   method="POST").http_status == 404


def test_grpc_route_header_matching(c):
    """GRPCRouteHeaderMatching's idea, by the GRPCRoute precedence rules
    (grpcroute_types.go: service, method, then the number of header matches): a match
    with more headers wins; any of a rule's matches selects it."""
    c.apply(grpc_route("grpc-header-matching", HEADER_RULES))
    for headers, backend in [({"version": "one"}, v(1)), ({"version": "two"}, v(2)),
                             ({"version": "two", "color": "orange"}, v(1)),
                             ({"color": "blue"}, v(1)), ({"color": "green"}, v(1)),
                             ({"color": "red"}, v(2)), ({"color": "yellow"}, v(2))]:
        assert grpc_call(c, "Echo", headers) == (None, backend), headers
    assert grpc_call(c, "Echo", {"version": "four"}) == ("12", None)


def test_grpc_route_weight(c):
    """GRPCRouteWeight: 70/30/0 over 500 calls, within the suite's 0.05."""
    c.apply(grpc_route("weighted-backends", """  - backendRefs:
    - {name: infra-backend-v1, port: 8080, weight: 70}
    - {name: infra-backend-v2, port: 8080, weight: 30}
    - {name: infra-backend-v3, port: 8080, weight: 0}"""))
    counts: dict[str | None, int] = {}
    for _ in range(500):
        got = grpc_call(c, "Echo")[1]
        counts[got] = counts.get(got, 0) + 1
    assert abs(counts.get(v(1), 0) / 500 - 0.7) <= 0.05
    assert abs(counts.get(v(2), 0) / 500 - 0.3) <= 0.05
    assert v(3) not in counts


def test_a_grpc_call_to_a_backend_that_is_not_permitted_is_unknown(c):
    """Envoy maps its HTTP 500 for an invalid backend to grpc-status 2 (UNKNOWN), and a
    Service without ready endpoints (503) to 14 (UNAVAILABLE)."""
    c.apply(grpc_route("invalid", f"""  - matches: [{{method: {{service: {ECHO}, method: Echo}}}}]
    backendRefs: [{{name: no-such-service, port: 8080}}]"""))
    assert grpc_call(c, "Echo") == ("2", None)
    c.apply(f"""
apiVersion: v1
kind: Service
metadata: {{name: empty, namespace: {INFRA}}}
spec:
  selector: {{app: nobody}}
  ports: [{{port: 8080, targetPort: 3000}}]
""" + "---" + grpc_route("invalid", f"""  - matches: [{{method: {{service: {ECHO}, method: Echo}}}}]
    backendRefs: [{{name: empty, port: 8080}}]"""))
    assert grpc_call(c, "Echo") == ("14", None)
