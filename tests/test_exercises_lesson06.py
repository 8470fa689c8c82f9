"""Lesson 06's exercises: each solution passes, and each way of getting it wrong gets the
hint about that mistake (the route's status conditions, the traces through the Gateway)."""

from __future__ import annotations

import pytest
from echo_backends import echo_backend

import kubenet_lab as kl

GATEWAY = """
apiVersion: v1
kind: Namespace
metadata: {name: infra}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {shared-gateway-access: "true"}}
---
apiVersion: v1
kind: Secret
metadata: {name: shop-tls, namespace: infra}
type: kubernetes.io/tls
stringData: {tls.crt: c, tls.key: k}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, protocol: HTTP, port: 80, hostname: "*.example.com",
     allowedRoutes: {namespaces: {from: All}}}
  - name: https
    protocol: HTTPS
    port: 443
    hostname: shop.example.com
    tls: {certificateRefs: [{name: shop-tls}]}
    allowedRoutes:
      namespaces: {from: Selector, selector: {matchLabels: {shared-gateway-access: "true"}}}
"""


def shop_route(first_rule: str = "  - backendRefs: [{name: shop-v1, port: 80}]",
               api: bool = True) -> str:
    api_rule = ("  - matches: [{path: {type: PathPrefix, value: /api}}]\n"
                "    backendRefs: [{name: api, port: 80}]\n") if api else ""
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: shop, namespace: shop}}
spec:
  parentRefs: [{{name: web, namespace: infra, sectionName: http}}]
  hostnames: [shop.example.com]
  rules:
{first_rule}
{api_rule}  - matches: [{{headers: [{{name: version, value: two}}]}}]
    backendRefs: [{{name: shop-v2, port: 80}}]
"""


@pytest.fixture
def c() -> kl.Cluster:
    """The cluster of lesson 06 as its exercises find it."""
    c = kl.Cluster(workers=2)
    c.add_cloud_load_balancer()
    c.add_gateway_controller()
    c.apply(GATEWAY)
    for name in ("shop-v1", "shop-v2", "api"):
        c.apply(echo_backend("shop", name, port=80))
    c.apply(shop_route())
    return c


def _passes(ex: kl.Exercise, c: kl.Cluster, answer: object = "done") -> bool:
    return ex.check(answer, c).passed


def test_6_1_the_longest_path_wins_before_headers(c):
    ex = kl.exercise("6.1")
    assert _passes(ex, c, "api")
    wrong = ex.check("shop-v2", c)
    assert not wrong.passed and "the path or the headers?" in wrong.message
    assert "api" not in wrong.message  # the hint asks, it does not answer
    assert "implicit PathPrefix /" in ex.check("shop-v1", c).message
    assert "no Service of the route shop/shop: it sends to api, shop-v1, shop-v2" in ex.check(
        "web", c).message
    assert "name only" in ex.check("shop/api", c).message


def _blog_route(parent: str = "{name: web, namespace: infra, sectionName: http}",
                hostnames: str = "[blog.example.com]", backend: str = "blog",
                rule: str = "") -> str:
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: blog, namespace: blog}}
spec:
  parentRefs: [{parent}]
  hostnames: {hostnames}
  rules:
  - {rule}backendRefs: [{{name: {backend}, port: 80}}]
"""


def test_6_2_each_status_reason_gets_its_hint(c):
    ex = kl.exercise("6.2")
    c.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: blog}\n---"
            + echo_backend("blog", "blog", port=80))
    assert "no HTTPRoute blog" in ex.check("done", c).message
    c.apply(_blog_route(parent="{name: web}"))             # the Gateway is not in blog
    assert "namespace: infra" in ex.check("done", c).message
    c.apply(_blog_route(parent="{name: web, namespace: infra, sectionName: https}"))
    assert "shared-gateway-access" in ex.check("done", c).message
    c.apply(_blog_route(hostnames="[blog.example.org]"))
    assert "blog.example.com" in ex.check("done", c).message
    c.apply(_blog_route(backend="blgo"))
    hint = ex.check("done", c).message
    assert "BackendNotFound" in hint and "Service blog, port 80" in hint
    c.apply(_blog_route(rule="matches: [{path: {type: Exact, value: /index}}]\n    "))
    assert "answers 404" in ex.check("done", c).message
    c.apply(_blog_route())
    assert _passes(ex, c)
    assert c.trace("internet", "http://blog.example.com/posts/1").http_status == 200


def test_6_3_canary_weights(c):
    ex = kl.exercise("6.3")
    assert "two backendRefs" in ex.check("done", c).message
    c.apply(shop_route("  - backendRefs: [{name: shop-v1, port: 80, weight: 90}, "
                       "{name: shop-v2, port: 80, weight: 10}]"))
    hint = ex.check("done", c).message
    assert "10 / 100 = 10%" in hint
    c.apply(shop_route("  - backendRefs: [{name: shop-v1, port: 80, weight: 3}, "
                       "{name: shop-v2, port: 80, weight: 1}]", api=False))
    assert "Keep the /api rule" in ex.check("done", c).message
    c.apply(shop_route("  - backendRefs: [{name: shop-v1, port: 80, weight: 75}, "
                       "{name: shop-v2, port: 80, weight: 25}]"))
    assert _passes(ex, c)
    counts = c.http_spread("internet", "http://shop.example.com/", requests=500)
    v2 = sum(n for ref, n in counts.items() if "shop-v2" in ref)
    assert abs(v2 / 500 - 0.25) <= 0.05           # GatewayWeightedRoute's tolerance


def _docs(rules: str) -> str:
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: docs, namespace: shop}}
spec:
  parentRefs: [{{name: web, namespace: infra, sectionName: http}}]
  hostnames: [docs.example.com]
  rules:
{rules}
"""


def test_6_4_the_translation_answers_as_the_ingress(c):
    ex = kl.exercise("6.4")
    for name in ("docs-v1", "health"):
        c.add_pod(f"shop/{name}", labels={"app": name})
        c.add_service(f"shop/{name}", selector={"app": name}, ports=[80])
    assert "no HTTPRoute docs" in ex.check("done", c).message
    # Prefix /v1 written as a regular expression-free Exact: /v1/guide is lost.
    c.apply(_docs("  - matches: [{path: {type: Exact, value: /v1}}]\n"
                  "    backendRefs: [{name: docs-v1, port: 80}]\n"
                  "  - matches: [{path: {type: Exact, value: /healthz}}]\n"
                  "    backendRefs: [{name: health, port: 80}]"))
    assert "/v1/guide should reach Service docs-v1" in ex.check("done", c).message
    # Exact /healthz written as PathPrefix: /healthz/x is answered where the Ingress 404s.
    c.apply(_docs("  - matches: [{path: {type: PathPrefix, value: /v1}}]\n"
                  "    backendRefs: [{name: docs-v1, port: 80}]\n"
                  "  - matches: [{path: {type: PathPrefix, value: /healthz}}]\n"
                  "    backendRefs: [{name: health, port: 80}]"))
    assert "/healthz/x should reach 404" in ex.check("done", c).message
    c.apply(_docs("  - matches: [{path: {type: PathPrefix, value: /v1}}]\n"
                  "    backendRefs: [{name: docs-v1, port: 80}]\n"
                  "  - matches: [{path: {type: Exact, value: /healthz}}]\n"
                  "    backendRefs: [{name: health, port: 80}]"))
    assert _passes(ex, c)


def test_every_solution_of_lesson_06_is_shown():
    for key in ("6.1", "6.2", "6.3", "6.4"):
        assert kl.exercise(key).show_solution().startswith(f"Solution to exercise {key}")
