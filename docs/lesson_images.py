"""Draw the lesson header images, notebooks/images/NN-*.png, from the package's pictures.

Each lesson opens with a picture of the packet (or the traffic, or the Gateway) its alt
text describes, drawn by ``kubenet_lab`` on a cluster built here the way the lesson builds
it. JupyterLab shows a Markdown image at its natural size, up to the width of the text
column (about 1000 px), so each is saved at 100 dpi, the resolution of the lessons' own
pictures: at most 980 px wide and no text under 9 px (tests/views/test_readability.py
measures both). The output depends only on the package and matplotlib: clusters are
seeded, and the PNG carries no ``Software`` metadata.

Run:  python docs/lesson_images.py           (all ten)
      python docs/lesson_images.py 05 06     (some)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

import kubenet_lab as kl
from kubenet_lab.exercises.lesson06 import lesson_cluster

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "notebooks" / "images"
DPI = 100


def save(fig: Figure, path: Path) -> None:
    """The PNG as the lessons' pictures are stored: 100 dpi, a tight box padded 0.1 in
    (IPython's inline backend: ``bbox_inches="tight"``), no metadata that changes."""
    fig.savefig(path, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.1,
                metadata={"Software": None})


# ---------------------------------------------------------------------------- the clusters
# The lessons' clusters as their cells build them, a new one each call: the scenes below
# draw on them, and tests/views/test_readability.py draws the lessons' other pictures on
# them too.
def two_pods() -> kl.Cluster:
    """Lesson 00's cluster: pod a on node-1, pod b on node-2."""
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-2")
    return c


def lesson01() -> kl.Cluster:
    """Lesson 01's cluster, up to the pods it draws: web and cache on node-1, db on node-2."""
    c = kl.Cluster(workers=2)
    c.add_pod("default/web", node="node-1", labels={"app": "web"})
    c.add_pod("default/cache", node="node-1",
              containers=[kl.Container("redis", "redis:7.4", ports=[6379])])
    c.add_pod("default/db", node="node-2",
              containers=[kl.Container("postgres", "postgres:17", ports=[5432])])
    return c


def lesson03() -> kl.Cluster:
    """Lesson 03's cluster: a Deployment of three web pods, a client, Service web."""
    c = kl.Cluster(workers=2)
    c.apply("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        ports: [{containerPort: 8080, name: http}]
""")
    c.add_pod("default/client", node="node-1")
    c.apply("""
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
""")
    return c


def lesson05() -> kl.Cluster:
    """Lesson 05's cluster: three web pods, two LoadBalancer Services (Cluster, Local)."""
    c = kl.Cluster(workers=3)
    for i, node in enumerate(["node-1", "node-1", "node-2"]):
        c.add_pod(f"default/web-{i}", node=node, labels={"app": "web"})
    c.add_service("default/web", type="LoadBalancer", selector={"app": "web"}, ports=[80])
    c.add_cloud_load_balancer()
    c.add_service("default/web-local", type="LoadBalancer", selector={"app": "web"},
                  ports=[80], external_traffic_policy="Local")
    return c


#: Lesson 07's first policy: no pod of namespace payments accepts a connection.
DENY_PAYMENTS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: payments}
spec:
  podSelector: {}
"""


def lesson07() -> kl.Cluster:
    """Lesson 07's cluster (its ``build``) with the default deny of payments."""
    c = kl.Cluster(workers=2, network_policy="kube-network-policies")
    c.add_namespace("shop", labels={"team": "shop", "env": "prod"})
    c.add_namespace("payments", labels={"team": "payments", "env": "prod"})
    c.add_namespace("dev", labels={"env": "dev"})
    c.add_pod("shop/web", node="node-1", labels={"app": "web"})
    c.add_pod("shop/api", node="node-2", labels={"app": "api"}, containers=[
        kl.Container("api", "registry.k8s.io/e2e-test-images/agnhost:2.53",
                     ports=[kl.ContainerPort(8080, "http")])])
    c.add_pod("payments/db", node="node-2", labels={"app": "db"}, containers=[
        kl.Container("postgres", "postgres:17", ports=[kl.ContainerPort(5432, "postgres")])])
    c.add_pod("dev/tester", node="node-1", labels={"app": "tester"})
    c.apply(DENY_PAYMENTS)
    return c


#: Lesson 06's route shop/shop-http: listener http redirects shop.example.com to https.
SHOP_HTTP = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop-http, namespace: shop}
spec:
  parentRefs: [{name: web, namespace: infra, sectionName: http}]
  hostnames: [shop.example.com]
  rules:
  - filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, statusCode: 301}
"""


# ---------------------------------------------------------------------------- the scenes
def start_here() -> Figure:
    """00: a pod on node-1 to a pod on node-2 through flannel's VXLAN (lesson 00, cell 6)."""
    c = two_pods()
    return kl.draw_trace(c, c.trace("default/a", "default/b", port=80))


def pod_networking() -> Figure:
    """01: pod web to pod cache on the same node, through the cni0 bridge (cell 32)."""
    c = lesson01()
    return kl.draw_trace(c, c.trace("default/web", "default/cache", port=6379))


def cluster_networking() -> Figure:
    """02: client on node-1 to web-2 on node-2 in the healthy flannel cluster (cell 14)."""
    c = kl.healthy_cluster()
    return kl.draw_trace(c, c.trace("default/client", "default/web-2"))


def services() -> Figure:
    """03: client to the cluster IP of Service web, DNATed to a web pod on node-2."""
    c = lesson03()
    ip = c.service("default/web").cluster_ip
    for _ in range(20):  # kube-proxy picks at random (seeded): the first one to node-2
        t = c.trace("default/client", ip, port=80)
        if t.destination_pod and c.pod(t.destination_pod).node == "node-2":
            break
    return kl.draw_trace(c, t)


def egress() -> Figure:
    """04: pod a on node-1 to the internet through the NAT gateway (cell 12)."""
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_nat_gateway(public_ip="198.51.100.20")
    return kl.draw_trace(c, c.trace("default/a", "93.184.216.34"))


def ingress() -> Figure:
    """05: sixty internet clients on two LoadBalancer Services of the same three pods,
    externalTrafficPolicy Cluster and Local: the connections each pod answered, and how
    many kept the client's address (``Cluster.internet_spread``, as lesson 05's
    ``draw_internet_traffic`` counts them, cell 16)."""
    from kubenet_lab.views.pictures import MUTED, PALETTE, SMALL, TEXT, TITLE

    c = lesson05()
    pods = [p for p in c.pods if p.namespace == "default"]
    fig = Figure(figsize=(9.4, 3.4), dpi=DPI)
    fig.text(0.01, 0.96, "60 internet clients, one connection each, on two LoadBalancer "
             "Services of the same three pods", fontsize=TITLE, color=TEXT, va="top")
    for k, ref in enumerate(("default/web", "default/web-local")):
        svc = c.service(ref)
        stats = c.internet_spread(ref, 60)
        ax = fig.add_axes((0.07 + 0.5 * k, 0.2, 0.4, 0.5))
        counts = [stats["pods"].get(p.ref, 0) for p in pods]
        ax.bar(range(len(pods)), counts, color=PALETTE["pod"][0], edgecolor=PALETTE["pod"][1])
        for i, n in enumerate(counts):
            ax.text(i, n + 0.8, str(n), ha="center", va="bottom", fontsize=SMALL, color=TEXT)
        ax.axhline(60 / len(pods), color=TEXT, linestyle="--", linewidth=1.1,
                   label=f"an even share, {60 // len(pods)} each")
        ax.legend(fontsize=SMALL, frameon=False, loc="upper left", labelcolor=MUTED)
        ax.set_xticks(range(len(pods)), [f"{p.name}\n({p.node})" for p in pods],
                      fontsize=SMALL)
        ax.set_ylim(0, 40)
        ax.set_ylabel("connections", fontsize=SMALL)
        ax.tick_params(labelsize=SMALL)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_title(f"{ref}: externalTrafficPolicy {svc.external_traffic_policy}\n"
                     f"client IP kept {stats['kept_client_ip']}/60, "
                     f"extra node hop {stats['extra_hop']}/60", fontsize=SMALL + 0.5,
                     loc="left", color=TEXT)
    return fig


def gateway_api() -> Figure:
    """06: a Gateway with two listeners, the HTTPRoutes attached to each, the Services
    they route to and the pods behind them (lesson 06, cell 38, in short)."""
    c = lesson_cluster()  # the Gateway, shop-v1, shop-v2 and api; shop/shop replaced:
    c.apply("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: shop}
spec:
  parentRefs: [{name: web, namespace: infra, sectionName: https}]
  hostnames: [shop.example.com]
  rules:
  - backendRefs: [{name: shop-v1, port: 80, weight: 90}, {name: shop-v2, port: 80, weight: 10}]
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: api, port: 80}]
""")
    c.apply(SHOP_HTTP)
    return kl.draw_gateway(c, "infra/web")


def network_policies() -> Figure:
    """07: dev/tester to payments/db, dropped by kube-network-policies (cell 9)."""
    c = lesson07()
    return kl.draw_trace(c, c.trace("dev/tester", "payments/db", port=5432))


def networking_tools() -> Figure:
    """08: client to web-2 under Cilium: eBPF on the lxc devices and cilium_vxlan (cell 5)."""
    c = kl.healthy_cluster("cilium")
    return kl.draw_trace(c, c.trace("default/client", "default/web-2"))


def capstone() -> Figure:
    """09: the shop as intended, every check passing (``kl.check_shop(...).draw()``)."""
    return kl.check_shop(kl.capstone_cluster(fixed=True)).draw()


#: Each header image (its file under notebooks/images/) and the scene it shows.
SCENES: dict[str, Callable[[], Figure]] = {
    "00-start-here.png": start_here,
    "01-pod-networking.png": pod_networking,
    "02-cluster-networking.png": cluster_networking,
    "03-services.png": services,
    "04-egress.png": egress,
    "05-ingress.png": ingress,
    "06-gateway-api.png": gateway_api,
    "07-network-policies.png": network_policies,
    "08-networking-tools.png": networking_tools,
    "09-capstone.png": capstone,
}


def main(wanted: list[str]) -> None:
    for name, scene in SCENES.items():
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        save(scene(), IMAGES / name)
        sys.stdout.write(f"drew {(IMAGES / name).relative_to(ROOT)}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
