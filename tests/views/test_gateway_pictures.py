"""Gateway API pictures (lesson 06): the role model, one Gateway's routing, a canary's
split; and ``Cluster.http_spread``, which counts the canary without changing anything."""

from __future__ import annotations

import pytest
from echo_backends import echo_backend

import kubenet_lab as kl
from kubenet_lab.views.pictures import BAD_TEXT

GW = "gateway.networking.k8s.io/v1"


CANARY = echo_backend("default", "web-v1", 2) + echo_backend("default", "web-v2") + f"""
apiVersion: {GW}
kind: Gateway
metadata: {{name: web}}
spec:
  gatewayClassName: eg
  listeners: [{{name: http, port: 80, protocol: HTTP}}]
---
apiVersion: {GW}
kind: HTTPRoute
metadata: {{name: web}}
spec:
  parentRefs: [{{name: web}}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{{headers: [{{name: version, value: two}}]}}]
    backendRefs: [{{name: web-v2, port: 8080}}]
  - backendRefs:
    - {{name: web-v1, port: 8080, weight: 90}}
    - {{name: web-v2, port: 8080, weight: 10}}
"""

#: Two listeners, four routes (one not attached), five backends (two that fail).
SHOP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
""" + echo_backend("shop", "frontend", 2) + echo_backend("shop", "api-v1", 3) + echo_backend(
    "shop", "api-v2") + echo_backend("shop", "checkout", 6) + echo_backend("team-b", "admin") + f"""
apiVersion: {GW}
kind: Gateway
metadata: {{name: shop-gateway, namespace: shop}}
spec:
  gatewayClassName: eg
  listeners:
  - {{name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}}
  - {{name: admin, port: 8080, protocol: HTTP, hostname: admin.example.com}}
---
apiVersion: {GW}
kind: HTTPRoute
metadata: {{name: storefront, namespace: shop}}
spec:
  parentRefs: [{{name: shop-gateway, sectionName: http}}]
  hostnames: [shop.example.com]
  rules:
  - backendRefs: [{{name: frontend, port: 8080}}]
---
apiVersion: {GW}
kind: HTTPRoute
metadata: {{name: api, namespace: shop}}
spec:
  parentRefs: [{{name: shop-gateway}}]
  hostnames: [api.example.com]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /api}}, headers: [{{name: version, value: two}}]}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {{set: [{{name: X-Canary, value: "yes"}}]}}
    backendRefs: [{{name: api-v2, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /api}}}}]
    backendRefs:
    - {{name: api-v1, port: 8080, weight: 90}}
    - {{name: api-v2, port: 8080, weight: 10}}
  - matches: [{{path: {{type: Exact, value: /checkout}}, method: POST}}]
    backendRefs:
    - {{name: checkout, port: 8080}}
    - {{name: payments, port: 8080}}
    - {{name: admin, namespace: team-b, port: 8080}}
---
apiVersion: {GW}
kind: HTTPRoute
metadata: {{name: admin-panel, namespace: team-b}}
spec:
  parentRefs: [{{name: shop-gateway, namespace: shop, sectionName: http}}]
  rules:
  - backendRefs: [{{name: admin, port: 8080}}]
---
apiVersion: {GW}
kind: HTTPRoute
metadata: {{name: admin, namespace: shop}}
spec:
  parentRefs: [{{name: shop-gateway, sectionName: admin}}]
  rules:
  - backendRefs: [{{name: frontend, port: 8080}}]
"""


def _cluster(manifests: str) -> kl.Cluster:
    c = kl.Cluster(workers=2)
    c.add_gateway_controller()
    c.add_cloud_load_balancer()
    c.apply(manifests)
    return c


def _address(c: kl.Cluster, ref: str) -> str:
    return c.get("Gateway", ref)["status"]["addresses"][0]["value"]


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text()
                                                                 for t in fig.texts]


def _colour(fig, text: str) -> str:
    return next(t.get_color() for t in fig.axes[0].texts if t.get_text() == text)


def _overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of texts whose drawn extents overlap (none should)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in fig.axes[0].texts
             if t.get_text().strip()]
    return [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:]
            if ba.overlaps(bb) and ba.intersection(ba, bb).width > 1
            and ba.intersection(ba, bb).height > 1]


@pytest.fixture(scope="module")
def canary() -> kl.Cluster:
    return _cluster(CANARY)


@pytest.fixture(scope="module")
def shop() -> kl.Cluster:
    return _cluster(SHOP)


# ---------------------------------------------------------------- http_spread
def test_http_spread_counts_every_request_and_follows_the_weights(canary):
    url = f"http://{_address(canary, 'default/web')}/"
    counts = canary.http_spread("internet", url, 500, headers={"Host": "shop.example.com"})
    assert list(counts) == ["default/web-v1", "default/web-v2"]
    assert sum(counts.values()) == 500
    # the conformance suite's GatewayWeightedRoute tolerance: 5 percentage points
    assert abs(counts["default/web-v1"] / 500 - 0.9) <= 0.05
    assert abs(counts["default/web-v2"] / 500 - 0.1) <= 0.05


def test_http_spread_changes_nothing_and_matches_the_traces_that_follow(canary):
    url = f"http://{_address(canary, 'default/web')}/"
    host = {"Host": "shop.example.com"}
    generation, state = canary.store.generation, canary.runtime.rng.getstate()
    before = canary.trace("internet", url, headers=host).destination_pod
    canary.runtime.rng.setstate(state)
    counts = canary.http_spread("internet", url, 50, headers=host)
    assert canary.store.generation == generation
    assert canary.runtime.rng.getstate() == state
    assert canary.trace("internet", url, headers=host).destination_pod == before
    canary.runtime.rng.setstate(state)
    traced: dict[str, int] = {}
    for _ in range(50):  # the count is what the next 50 traces would give
        pod = canary.trace("internet", url, headers=host).destination_pod
        svc = "default/" + pod.split("/")[1].rsplit("-", 2)[0]
        traced[svc] = traced.get(svc, 0) + 1
    canary.runtime.rng.setstate(state)
    assert traced == {k: n for k, n in counts.items() if n}


def test_http_spread_with_one_backend_and_without_a_matching_rule(canary):
    url = f"http://{_address(canary, 'default/web')}/"
    assert canary.http_spread("internet", url, 20, headers={
        "Host": "shop.example.com", "version": "two"}) == {"default/web-v2": 20}
    assert canary.http_spread("internet", url, 20, headers={"Host": "other.org"}) == {
        "HTTP 404": 20}


def test_http_spread_counts_an_invalid_backend_under_its_name(shop):
    url = f"http://{_address(shop, 'shop/shop-gateway')}/checkout"
    counts = shop.http_spread("internet", url, 300, method="POST",
                              headers={"Host": "api.example.com"})
    assert list(counts) == ["shop/checkout", "shop/payments", "team-b/admin"]
    assert sum(counts.values()) == 300 and all(n > 60 for n in counts.values())


def test_http_spread_refuses_bad_arguments(canary):
    url = f"http://{_address(canary, 'default/web')}/"
    with pytest.raises(kl.ManifestError, match="requests"):
        canary.http_spread("internet", url, 0)
    with pytest.raises(kl.ManifestError, match="url|dst"):
        canary.http_spread("internet", "ftp://x/")
    with pytest.raises(kl.ManifestError, match="headers"):
        canary.http_spread("internet", url, headers="Host: x")  # type: ignore[arg-type]


# ---------------------------------------------------------------- the role model
def test_roles_without_a_cluster_show_the_three_roles_and_four_kinds(tmp_path):
    fig = kl.draw_gateway_roles()
    texts = _texts(fig)
    for word in ("Infrastructure provider (Ian)", "Cluster operator (Chihiro)",
                 "Application developers (Ana)", "GatewayClass", "Gateway", "HTTPRoute",
                 "Service", "gatewayClassName", "parentRefs", "backendRefs"):
        assert word in texts, word
    assert "in this cluster:" not in texts
    assert not _overlaps(fig)
    fig.savefig(tmp_path / "roles.png")


def test_roles_name_the_clusters_objects(shop):
    fig = kl.draw_gateway_roles(shop)
    texts = _texts(fig)
    assert "eg (Accepted True)" in texts
    assert "shop/shop-gateway" in texts
    assert any(t.startswith("class eg · ") and _address(shop, "shop/shop-gateway") in t
               for t in texts)
    lines = " ".join(texts)  # a box wraps its lines to its width
    assert "shop: admin, api, storefront" in lines and "team-b: admin-panel" in texts
    assert "shop: frontend, api-v2, api-v1" in lines
    assert not _overlaps(fig)


# ---------------------------------------------------------------- one Gateway
def test_gateway_picture_shows_listeners_routes_rules_backends_and_pods(canary):
    fig = kl.draw_gateway(canary, "default/web")
    texts = _texts(fig)
    assert {"http", "HTTP:80", "any hostname", "attachedRoutes: 1"} <= set(texts)
    assert "HTTPRoute default/web" in texts and "hostnames: shop.example.com" in texts
    assert "rule 0: header version=two" in texts and "rule 1: PathPrefix /" in texts
    assert "→ web-v1:8080  weight 90 (90%)" in texts
    assert "→ web-v2:8080  weight 10 (10%)" in texts
    assert "2 ready endpoints" in texts and "1 ready endpoint" in texts
    pods = [p for p in canary.pods if p.ref.startswith("default/web-")]
    for pod in pods:
        assert any(t.startswith(f"{pod.ip}:3000 · {pod.node}") for t in texts), pod.ref
    assert not _overlaps(fig)


def test_gateway_picture_greys_a_route_not_attached_and_reds_failed_backends(shop, tmp_path):
    fig = kl.draw_gateway(shop, "shop/shop-gateway")
    texts = _texts(fig)
    status = shop.get("Gateway", "shop/shop-gateway")["status"]["listeners"]
    for lst in status:
        assert f"attachedRoutes: {lst['attachedRoutes']}" in texts
    assert "HTTPRoute team-b/admin-panel" in texts
    assert _colour(fig, "HTTPRoute team-b/admin-panel") != _colour(fig, "HTTPRoute shop/api")
    assert any("NotAllowedByListeners" in t for t in texts)
    for reason in ("BackendNotFound", "RefNotPermitted"):
        assert _colour(fig, reason) == BAD_TEXT  # in the backend's box
        line = next(t for t in texts if t.startswith("→ ") and t.endswith(reason))
        assert _colour(fig, line) == BAD_TEXT  # and on the route's line
    assert "filters: request headers set X-Canary=yes" in " ".join(texts)  # wrapped
    assert "rule 2: Exact /checkout, method POST" in texts
    assert "rule 0: PathPrefix /api, header version=two" in texts
    assert not _overlaps(fig)
    fig.savefig(tmp_path / "gateway.png")


def test_gateway_picture_refuses_an_unknown_gateway(shop):
    with pytest.raises(kl.NotFoundError, match="shop/nope"):
        kl.draw_gateway(shop, "shop/nope")


# ---------------------------------------------------------------- canary
def test_canary_picture_names_route_rule_weights_and_counts(canary, tmp_path):
    url = f"http://{_address(canary, 'default/web')}/"
    host = {"Host": "shop.example.com"}
    counts = canary.http_spread("internet", url, 500, headers=host)
    generation, state = canary.store.generation, canary.runtime.rng.getstate()
    fig = kl.draw_canary(canary, "internet", url, 500, headers=host)
    assert canary.store.generation == generation and canary.runtime.rng.getstate() == state
    want = (f"HTTPRoute default/web rule 1: 90/10 → measured {counts['default/web-v1']}/"
            f"{counts['default/web-v2']}")
    assert fig.texts[0].get_text() == want
    ax = fig.axes[0]
    heights = [round(p.get_height() * 500) for p in ax.patches]
    assert heights == [counts["default/web-v1"], counts["default/web-v2"]]
    dashed = sorted(round(line.get_ydata()[0], 2) for line in ax.lines)
    assert dashed == [0.1, 0.9]
    fig.savefig(tmp_path / "canary.png")


def test_canary_picture_with_one_backend(canary):
    url = f"http://{_address(canary, 'default/web')}/"
    fig = kl.draw_canary(canary, "internet", url, 100,
                         headers={"Host": "shop.example.com", "version": "two"})
    assert fig.texts[0].get_text() == ("HTTPRoute default/web rule 0: one backend → "
                                       "measured 100/100")
    assert [round(p.get_height(), 2) for p in fig.axes[0].patches] == [1.0]


def test_canary_picture_draws_an_invalid_backend_red(shop):
    url = f"http://{_address(shop, 'shop/shop-gateway')}/checkout"
    fig = kl.draw_canary(shop, "internet", url, 300, method="POST",
                         headers={"Host": "api.example.com"})
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[1] == "payments\nBackendNotFound → 500"
    assert labels[2] == "admin\nRefNotPermitted → 500"
    faces = [p.get_hatch() for p in fig.axes[0].patches]
    assert faces == [None, "//", "//"]
