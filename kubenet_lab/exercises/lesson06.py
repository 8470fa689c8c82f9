"""Exercises of lesson 06, Gateway API: Gateways, HTTPRoutes and their status.

The checks read the learner's cluster: the route's status conditions (what Envoy Gateway
reports) give the hints, and traces through the Gateway give the verdict.

Every exercise starts from ``setup()``: lesson 06's cluster as sections 2 and 3 build it
(``lesson_cluster``), so an answer cell runs the same however often it runs. Exercise
6.1's hints follow the precedence of HTTPRouteRule matches (gateway-api
``apis/v1/httproute_types.go``: the longest path first, then method, the number of
headers, the number of query parameters) without naming the winner. Exercise 6.2's
"any path" is checked with ``BLOG_PATHS``, / and two deeper paths: a match ``Exact /``
takes / itself only, while ``PathPrefix /`` (or a rule without matches) takes every path,
element by element (gateway-api ``apis/v1/httproute_types.go``, ``HTTPPathMatch`` and
``PathMatchType``).
"""

from __future__ import annotations

from typing import Any

from kubenet_lab.cluster import Cluster
from kubenet_lab.controllers.ingress import match_path
from kubenet_lab.exceptions import KubenetLabError
from kubenet_lab.exercises.base import Check, Exercise
from kubenet_lab.scenarios import workload_yaml

__all__ = ["DOCS_INGRESS_PATHS", "DOCS_REQUESTS", "EXERCISES", "GATEWAY", "SHOP_ROUTE",
           "lesson_cluster"]

#: Exercise 6.4: the Ingress to translate: (pathType, path, Service).
DOCS_INGRESS_PATHS = (("Prefix", "/v1", "docs-v1"), ("Exact", "/healthz", "health"))
#: The requests both must answer alike.
DOCS_REQUESTS = ("/v1", "/v1/guide", "/v1x", "/healthz", "/healthz/x", "/")


def _object(cluster: Cluster, kind: str, ref: str) -> dict[str, Any] | None:
    try:
        return cluster.get(kind, ref)
    except KubenetLabError:
        return None


def _service_of(cluster: Cluster, pod_ref: str | None) -> str | None:
    """The Service (in the pod's namespace) whose selector picks the pod."""
    if pod_ref is None:
        return None
    pod = cluster.pod(pod_ref)
    for svc in cluster.services:
        if svc.namespace == pod.namespace and svc.selector and all(
                pod.labels.get(k) == v for k, v in svc.selector.items()):
            return svc.name
    return None


def _answered_by(cluster: Cluster, url: str, headers: dict[str, str] | None = None
                 ) -> tuple[int | None, str | None]:
    t = cluster.trace("internet", url, headers=headers)
    if t.http_status != 200:
        return t.http_status, None
    return t.http_status, _service_of(cluster, t.destination_pod)


# ---------------------------------------------------------------- 6.1
def _precedence_hint(answer: Any, cluster: Cluster) -> str:
    text = str(answer).strip()
    route = _object(cluster, "HTTPRoute", "shop/shop") or {}
    names = sorted({ref["name"] for rule in route.get("spec", {}).get("rules", [])
                    for ref in rule.get("backendRefs", [])})
    if "/" in text:
        return "Answer with the Service's name only, as the route's backendRefs name it."
    if text == "shop-v2":
        return ("Two rules match: the header rule, and another with a longer path. Which "
                "does Gateway API compare first, the path or the headers?")
    if text == "shop-v1":
        return ("shop-v1's rule has no matches: it takes every request (an implicit "
                "PathPrefix /), so every other rule that matches comes before it.")
    return (f"{text!r} is no Service of the route shop/shop: it sends to "
            f"{', '.join(names)}.")


# ---------------------------------------------------------------- 6.2
def _conditions(route: dict[str, Any] | None) -> dict[str, tuple[str, str, str]]:
    parents = (route or {}).get("status", {}).get("parents", [])
    if not parents:
        return {}
    return {k["type"]: (k["status"], k["reason"], k["message"]) for k in parents[0]["conditions"]}


def _blog_route(cluster: Cluster) -> dict[str, Any] | None:
    return _object(cluster, "HTTPRoute", "blog/blog")


_ACCEPTED_HINTS = {
    "NoMatchingParent": "Its parentRef names no listener of a Gateway: name the Gateway web "
    "and its namespace (namespace: infra), and if you give sectionName, use http.",
    "NotAllowedByListeners": "The listener refuses routes from namespace blog: https admits "
    "only namespaces labelled shared-gateway-access=true. Attach to sectionName http "
    "(allowedRoutes from: All).",
    "NoMatchingListenerHostname": "None of the route's hostnames is covered by a listener's "
    "hostname (*.example.com): use hostnames: [blog.example.com].",
}


def _accepted_hint(answer: Any, cluster: Cluster) -> str:
    conditions = _conditions(_blog_route(cluster))
    if "Accepted" not in conditions:
        return ("The route has no status: no controller owns a Gateway its parentRefs name. "
                "A parentRef without a namespace means the route's own (blog): write "
                "{name: web, namespace: infra}.")
    _, reason, message = conditions["Accepted"]
    return _ACCEPTED_HINTS.get(reason, f"Envoy Gateway says Accepted False, {reason}: "
                               f"{message}")


def _resolved_hint(answer: Any, cluster: Cluster) -> str:
    _, reason, message = _conditions(_blog_route(cluster))["ResolvedRefs"]
    return (f"The route is attached, but ResolvedRefs is False ({reason}): {message}. Its "
            "backendRef must be Service blog, port 80.")


#: Exercise 6.2's "any path": the root, a path under it, and one two elements deep.
BLOG_PATHS = ("/", "/about", "/a/b")


def _blog_failing(cluster: Cluster) -> str | None:
    """The first of ``BLOG_PATHS`` the Gateway does not answer with 200, or None."""
    return next((p for p in BLOG_PATHS
                 if _answered_by(cluster, f"http://blog.example.com{p}")[0] != 200), None)


def _blog_exact_root(cluster: Cluster) -> bool:
    """Whether a rule of blog/blog matches with Exact /."""
    rules = (_blog_route(cluster) or {}).get("spec", {}).get("rules", [])
    return any(m.get("path") == {"type": "Exact", "value": "/"}
               for rule in rules for m in rule.get("matches", []))


def _blog_hint(answer: Any, cluster: Cluster) -> str:
    path = _blog_failing(cluster) or "/"
    status, _ = _answered_by(cluster, f"http://blog.example.com{path}")
    if path != "/" and _blog_exact_root(cluster):
        return (f"The Gateway answers {status} to GET http://blog.example.com{path}: Exact / "
                "matches / itself only. PathPrefix / (or a rule without matches) takes every "
                "path, element by element (/, /about, /a/b).")
    return (f"The Gateway answers {status} to GET http://blog.example.com{path}: no rule "
            f"matches the path {path}. A rule without matches, or PathPrefix /, takes every "
            "path.")


# ---------------------------------------------------------------- 6.3
def _root_rule(cluster: Cluster) -> dict[str, Any] | None:
    """The rule of shop/shop that takes GET / without headers."""
    route = _object(cluster, "HTTPRoute", "shop/shop")
    for rule in (route or {}).get("spec", {}).get("rules", []):
        for match in rule.get("matches", []):
            if (match.get("path") == {"type": "PathPrefix", "value": "/"}
                    and not match.get("headers") and not match.get("queryParams")
                    and not match.get("method")):
                return rule
    return None


def _weights(cluster: Cluster) -> dict[str, int]:
    rule = _root_rule(cluster) or {}
    return {ref["name"]: ref.get("weight", 1) for ref in rule.get("backendRefs", [])}


def _canary_share(cluster: Cluster) -> float | None:
    weights = _weights(cluster)
    total = sum(weights.values())
    return weights.get("shop-v2", 0) / total if total else None


def _canary_hint(answer: Any, cluster: Cluster) -> str:
    weights = _weights(cluster)
    if set(weights) != {"shop-v1", "shop-v2"}:
        return ("The rule that takes / should list two backendRefs, shop-v1 and shop-v2 "
                f"(port 80), each with a weight; it lists {sorted(weights) or 'none'}.")
    share = _canary_share(cluster) or 0.0
    return (f"Weights are relative: shop-v2 gets {weights['shop-v2']} / "
            f"{sum(weights.values())} = {share:.0%} of the requests; make it 25%.")


# ---------------------------------------------------------------- 6.4
def _expected(path: str) -> str | None:
    """What the Ingress answers (ingress-nginx: no match is the default backend's 404)."""
    found = [(kind, rule, svc) for kind, rule, svc in DOCS_INGRESS_PATHS
             if match_path(kind, rule, path)]
    found.sort(key=lambda f: (f[0] != "Exact", -len(f[1])))
    return found[0][2] if found else None


def _translated(cluster: Cluster) -> list[tuple[str, str | None, str | None]]:
    """(path, expected Service, actual Service) of each request that differs."""
    out = []
    for path in DOCS_REQUESTS:
        status, svc = _answered_by(cluster, f"http://docs.example.com{path}")
        actual = svc if status == 200 else None
        if actual != _expected(path):
            out.append((path, _expected(path), actual))
    return out


def _translation_hint(answer: Any, cluster: Cluster) -> str:
    path, expected, actual = _translated(cluster)[0]
    want = f"Service {expected}" if expected else "404 (no rule matches)"
    got = f"Service {actual}" if actual else "no backend"
    why = {"/v1x": " An Ingress Prefix matches element by element: /v1x is not under /v1, "
                   "and no other rule of the Ingress takes it (Gateway API's PathPrefix "
                   "matches the same way).",
           "/healthz/x": " The Ingress's Exact /healthz takes /healthz only, so /healthz/x "
                         "gets 404.",
           "/": " The Ingress has no rule for /: ingress-nginx answers 404."}.get(path, "")
    return f"GET http://docs.example.com{path} should reach {want}; it gets {got}.{why}"


#: Lesson 06's Gateway infra/web (section 2): listener http for every namespace, https
#: for shop.example.com and the namespaces labelled shared-gateway-access=true.
GATEWAY = """
apiVersion: v1
kind: Namespace
metadata: {name: infra}
---
apiVersion: v1
kind: Secret
metadata: {name: shop-tls, namespace: infra}
type: kubernetes.io/tls
stringData: {tls.crt: "-----BEGIN CERTIFICATE-----...", tls.key: "-----BEGIN PRIVATE KEY-----..."}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: eg
  listeners:
  - name: http
    protocol: HTTP
    port: 80
    hostname: "*.example.com"
    allowedRoutes: {namespaces: {from: All}}
  - name: https
    protocol: HTTPS
    port: 443
    hostname: shop.example.com
    tls: {certificateRefs: [{name: shop-tls}]}
    allowedRoutes:
      namespaces:
        from: Selector
        selector: {matchLabels: {shared-gateway-access: "true"}}
"""

#: Lesson 06's route shop/shop (section 3), the notebook's ``SHOP_ROUTE``.
SHOP_ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: shop}
spec:
  parentRefs: [{name: web, namespace: infra, sectionName: http}]
  hostnames: [shop.example.com]
  rules:
  - backendRefs: [{name: shop-v1, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: api, port: 80}]
  - matches: [{headers: [{name: version, value: two}]}]
    backendRefs: [{name: shop-v2, port: 80}]
"""

#: The Gateway API conformance suite's echo server, as the lesson's backends run it.
ECHO_IMAGE = "registry.k8s.io/gateway-api/echo-basic:v1.5.1"


def _echo(namespace: str, name: str, replicas: int = 1) -> str:
    """A Deployment of the echo server and its Service, port 80 to the server's 3000."""
    return workload_yaml(namespace, name, replicas=replicas, container="echo",
                         image=ECHO_IMAGE, port=80, target_port=3000)


def lesson_cluster() -> Cluster:
    """Lesson 06's cluster as sections 2 and 3 build it: Envoy Gateway, the Gateway
    infra/web, the namespace shop with shop-v1, shop-v2 and api, and the route shop/shop.

    >>> c = lesson_cluster()
    >>> c.trace("internet", "http://shop.example.com/api/x").destination_pod.split("-")[0]
    'shop/api'
    """
    c = Cluster(workers=2)
    c.add_cloud_load_balancer()
    c.add_gateway_controller()
    c.apply(GATEWAY)
    c.apply({"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "shop", "labels": {"shared-gateway-access": "true"}}})
    for name, replicas in (("shop-v1", 2), ("shop-v2", 1), ("api", 2)):
        c.apply(_echo("shop", name, replicas))
    c.apply(SHOP_ROUTE)
    return c


def _blog_cluster() -> Cluster:
    """Exercise 6.2's start: the namespace blog (no labels), a Deployment and a Service
    blog, no route yet."""
    c = lesson_cluster()
    c.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "blog"}})
    c.apply(_echo("blog", "blog"))
    return c


def _docs_cluster() -> Cluster:
    """Exercise 6.4's start: the Services docs-v1 and health in namespace shop."""
    c = lesson_cluster()
    for name in ("docs-v1", "health"):
        c.add_pod(f"shop/{name}", labels={"app": name})
        c.add_service(f"shop/{name}", selector={"app": name}, ports=[80])
    return c


EXERCISES = [
    Exercise(
        "6.1",
        "Which Service answers GET http://shop.example.com/api/cart sent with the header "
        "'version: two'? Answer with its name.",
        checks=[Check(lambda a, c: str(a).strip() == _answered_by(
            c, "http://shop.example.com/api/cart", {"version": "two"})[1], _precedence_hint)],
        explanation="The rules of every route on the listener are ordered by their matches: "
        "first the path (Exact, then the longest PathPrefix), then the method, the number of "
        "headers, the number of query parameters. PathPrefix /api beats the header rule's "
        "implicit /, so the header is never looked at.",
        solution="answer = 'api'  # check: c_shop.trace('internet', 'http://shop.example.com/"
        "api/cart', headers={'version': 'two'}).destination_pod",
        cluster_setup=lesson_cluster,
    ),
    Exercise(
        "6.2",
        "Apply an HTTPRoute named blog in namespace blog so that http://blog.example.com/ "
        "(any path: the check also sends /about and /a/b) reaches Service blog, port 80, "
        "through Gateway infra/web.",
        checks=[
            Check(lambda a, c: _blog_route(c) is not None,
                  "There is no HTTPRoute blog in namespace blog yet (metadata: {name: blog, "
                  "namespace: blog})."),
            Check(lambda a, c: _conditions(_blog_route(c)).get("Accepted", ("",))[0] == "True",
                  _accepted_hint),
            Check(lambda a, c: _conditions(_blog_route(c))["ResolvedRefs"][0] == "True",
                  _resolved_hint),
            Check(lambda a, c: _blog_failing(c) is None, _blog_hint),
        ],
        explanation="The route lives in the application's namespace and asks to attach to "
        "infra/web; the listener http admits routes from every namespace and its hostname "
        "*.example.com covers blog.example.com, so Envoy Gateway accepts it (Accepted True), "
        "resolves Service blog (ResolvedRefs True) and programs Envoy. A rule without matches "
        "is PathPrefix /, which takes /, /about and /a/b element by element (Exact / would "
        "take / only).",
        solution="c_blog = kl.exercise('6.2').setup()\n"
        "c_blog.apply('''\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
        "metadata: {name: blog, namespace: blog}\nspec:\n  parentRefs: [{name: web, "
        "namespace: infra, sectionName: http}]\n  hostnames: [blog.example.com]\n  rules:\n"
        "  - backendRefs: [{name: blog, port: 80}]\n''')\nanswer = 'done'",
        cluster_setup=_blog_cluster,
    ),
    Exercise(
        "6.3",
        "Canary: make 25% of the requests to http://shop.example.com/ go to shop-v2 and the "
        "rest to shop-v1, by the weights of the backendRefs of the rule that takes /. Keep "
        "the route's other rules.",
        checks=[
            Check(lambda a, c: _root_rule(c) is not None,
                  "The route shop/shop has no rule that takes / any more: keep a rule "
                  "without matches (or PathPrefix /)."),
            Check(lambda a, c: _canary_share(c) == 0.25, _canary_hint),
            Check(lambda a, c: _answered_by(c, "http://shop.example.com/api/x")[1] == "api",
                  "Keep the /api rule: GET /api/x should still reach Service api."),
        ],
        explanation="Envoy picks a backend of the matched rule with probability weight / "
        "sum of weights, request by request: 75 and 25 (or 3 and 1) send a quarter to "
        "shop-v2. Moving the weights step by step is a canary rollout.",
        solution="c_canary = kl.exercise('6.3').setup()\n"
        "c_canary.apply(SHOP_ROUTE.replace('  - backendRefs: [{name: shop-v1, port: 80}]',\n"
        "    '  - backendRefs: [{name: shop-v1, port: 80, weight: 75}, '\n"
        "    '{name: shop-v2, port: 80, weight: 25}]'))\nanswer = 'done'",
        cluster_setup=lesson_cluster,
    ),
    Exercise(
        "6.4",
        "Translate the Ingress docs (host docs.example.com; Prefix /v1 -> Service docs-v1:80; "
        "Exact /healthz -> Service health:80) into an HTTPRoute named docs in namespace shop "
        "on Gateway infra/web, listener http. Every request the check sends must get the "
        "answer the Ingress gives.",
        checks=[
            Check(lambda a, c: _object(c, "HTTPRoute", "shop/docs") is not None,
                  "There is no HTTPRoute docs in namespace shop yet."),
            Check(lambda a, c: _conditions(_object(c, "HTTPRoute", "shop/docs")).get(
                "Accepted", ("",))[0] == "True",
                  "The route is not accepted: parentRefs [{name: web, namespace: infra, "
                  "sectionName: http}] and hostnames [docs.example.com]."),
            Check(lambda a, c: not _translated(c), _translation_hint),
        ],
        explanation="ingress2gateway makes the same: one HTTPRoute per host, one rule per "
        "path, Prefix -> PathPrefix and Exact -> Exact, the Service port as backendRef port. "
        "What the Ingress left to annotations (redirects, rewrites, header changes) becomes "
        "filters.",
        solution="c_docs = kl.exercise('6.4').setup()\n"
        "c_docs.apply('''\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
        "metadata: {name: docs, namespace: shop}\nspec:\n  parentRefs: [{name: web, "
        "namespace: infra, sectionName: http}]\n  hostnames: [docs.example.com]\n  rules:\n"
        "  - matches: [{path: {type: PathPrefix, value: /v1}}]\n    backendRefs: [{name: "
        "docs-v1, port: 80}]\n  - matches: [{path: {type: Exact, value: /healthz}}]\n"
        "    backendRefs: [{name: health, port: 80}]\n''')\nanswer = 'done'",
        cluster_setup=_docs_cluster,
    ),
]
