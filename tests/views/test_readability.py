"""Every picture of the package is readable at the size a notebook shows it.

A notebook stores a figure as the PNG IPython's inline backend makes of it:
``fig.savefig(format="png", dpi=fig.dpi, bbox_inches="tight")`` (IPython
``core/pylabtools.py`` ``print_figure``, with matplotlib-inline's default
``print_figure_kwargs = {"bbox_inches": "tight"}``); the package's figures are made at
100 dpi (``Figure(dpi=100)``, as ``views.widgets.PNG_DPI``). JupyterLab shows an output
image, and an image in Markdown, at its natural size up to the width of the column, and
scales a wider one down to fit (``.jp-RenderedImage img, .jp-RenderedHTMLCommon img
{max-width: 100%; height: auto}``, jupyterlab ``packages/rendermime/style/base.css``): at
the usual window that column is about 1000 px wide. So a picture wider than 1000 px has
its text shrunk with it. Each picture here is:

- at most ``COLUMN_PX`` (1000 px) wide as stored;
- drawn with no text smaller than ``MIN_TEXT_PX`` (9 px) at the displayed size,
  ``fontsize_pt * dpi / 72 * min(1, 1000 / width_px)``: the size of the text drawn by the
  renderer, so tick labels, legends and titles count and texts that are not drawn do not;
- for the lesson pictures, drawn with no two texts whose drawn extents overlap.

The pictures are enumerated from the public API (every ``kl.draw*`` function and every
public class with a ``draw`` method), so a new picture without a case here fails
``test_every_picture_has_cases``. The cases rebuild what the lessons draw, cell by cell
(the lesson and cell are named with each), from ``kl.healthy_cluster``, the scenarios,
the lessons' clusters that docs/lesson_images.py builds for their header images, and the
lessons' own manifests.

``python tests/views/test_readability.py OUT`` writes every case's PNG to ``OUT`` to
look at.
"""

from __future__ import annotations

import importlib.util
import io
import re
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.backends.backend_agg import RendererAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

import kubenet_lab as kl  # noqa: E402
from kubenet_lab.exercises.lesson06 import SHOP_ROUTE, _echo, lesson_cluster  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
#: The width of a notebook's output column, in px: wider images are scaled down to it.
COLUMN_PX = 1000
#: The smallest text a learner reads comfortably on a screen, in px at the shown size.
MIN_TEXT_PX = 9.0


# ---------------------------------------------------------------------------- measuring
@dataclass(frozen=True)
class Drawn:
    """One text the renderer drew: its string, size in px at the stored size, extent."""

    text: str
    px: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the PNG's pixels
    artist: int  # id of the Text artist (a multi-line text is one)


@dataclass(frozen=True)
class Rendering:
    width: int
    height: int
    texts: tuple[Drawn, ...]

    @property
    def shown_scale(self) -> float:
        return min(1.0, COLUMN_PX / self.width)

    def smallest(self) -> tuple[float, str]:
        """The smallest text at the displayed size, in px, and what it says."""
        px, text = min(((d.px, d.text) for d in self.texts), default=(99.0, ""))
        return px * self.shown_scale, text

    def overlaps(self, tolerance: float = 1.0) -> list[tuple[str, str]]:
        """Pairs of texts (of different artists) whose drawn extents overlap by more than
        ``tolerance`` px each way."""
        found = []
        boxes = list(self.texts)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                if a.artist == b.artist:
                    continue
                w = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
                h = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
                if w > tolerance and h > tolerance:
                    found.append((a.text, b.text))
        return found


@contextmanager
def _recording() -> list:
    """Record every text the Agg renderer draws (``RendererAgg.draw_text``, which
    ``Text.draw`` calls once per line of a text it does draw)."""
    seen: list = []
    original = RendererAgg.draw_text

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if mtext is not None and s.strip():
            seen.append((self, s, prop.get_size_in_points(), mtext))
        return original(self, gc, x, y, s, prop, angle, ismath, mtext)

    RendererAgg.draw_text = draw_text
    try:
        yield seen
    finally:
        RendererAgg.draw_text = original


def render(fig: Figure) -> Rendering:
    """Save ``fig`` as the inline backend does and measure what was drawn."""
    if not isinstance(fig, Figure):
        fig = fig.figure
    buf = io.BytesIO()
    with _recording() as seen:
        fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight")
    width, height = Image.open(io.BytesIO(buf.getvalue())).size
    # the last draw is the one that made the PNG (bbox_inches="tight" draws twice)
    last = seen[-1][0] if seen else None
    texts: dict[int, Drawn] = {}
    for renderer, s, size, mtext in seen:
        if renderer is not last:
            continue
        px = size * renderer.dpi / 72
        if id(mtext) in texts:
            old = texts[id(mtext)]
            texts[id(mtext)] = Drawn(old.text + "\n" + s, min(old.px, px), old.box, old.artist)
            continue
        ext = mtext.get_window_extent(renderer)
        box = (ext.x0, height - ext.y1, ext.x1, height - ext.y0)
        texts[id(mtext)] = Drawn(mtext.get_text(), px, box, id(mtext))
    return Rendering(width, height, tuple(texts.values()))


# ---------------------------------------------------------------------------- lesson inputs
def _lesson_images():
    """docs/lesson_images.py, loaded from its path (docs/ is no package)."""
    spec = importlib.util.spec_from_file_location("lesson_images",
                                                  ROOT / "docs" / "lesson_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: The header images' script: its scenes, and the lessons' clusters they are drawn on.
images = _lesson_images()
#: Lessons 00, 01, 03 (a client and Service web), 05 and 07, built once each.
_two_pods = images.two_pods
lesson01 = cache(images.lesson01)
lesson05 = cache(images.lesson05)
lesson07 = cache(images.lesson07)
DENY_PAYMENTS = images.DENY_PAYMENTS


@cache
def lesson01_later() -> kl.Cluster:
    """Lesson 01's cluster at cell 27: with the Deployment api, extra, shop and clash."""
    c = images.lesson01()
    c.apply("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - {name: api, image: "registry.k8s.io/e2e-test-images/agnhost:2.53",
         ports: [{containerPort: 8080}]}
""")
    c.add_pod("default/extra", node="node-2")
    c.add_pod("default/shop", node="node-1", containers=[
        kl.Container("web", "nginx:1.27", ports=[80]),
        kl.Container("metrics", "prom/nginx-prometheus-exporter:1.3", ports=[9113])])
    c.add_pod("default/clash", node="node-2", containers=[
        kl.Container("web", "nginx:1.27", ports=[80]),
        kl.Container("metrics", "nginx:1.27", ports=[80])])
    return c


@cache
def lesson03() -> tuple[kl.Cluster, str]:
    """Lesson 03's cluster with the NodePort Service web-np, and Service web's cluster IP."""
    c = images.lesson03()
    c.apply("""
apiVersion: v1
kind: Service
metadata: {name: web-np}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
""")
    return c, c.service("default/web").cluster_ip


@cache
def lesson04() -> kl.Cluster:
    """Lesson 04's cluster: a NAT gateway, an edge node with a public IP, a NodePort."""
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_nat_gateway(public_ip="198.51.100.20")
    c.add_pod("default/b", node="node-2")
    c.add_node("edge", public_ip="203.0.113.10")
    c.add_pod("default/e", node="edge")
    c.apply("""
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  nodeName: node-2
  containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
""")
    c.add_service("default/web", type="NodePort", selector={"app": "web"}, ports=[80])
    return c


def lesson06(stage: str) -> kl.Cluster:
    """Lesson 06's cluster at ``stage``: "routes" (the shop's route, cell 17), "canary"
    (90/10, cell 27) or "all" (every route of the lesson, cell 38)."""
    return _lesson06(stage)


@cache
def _lesson06(stage: str) -> kl.Cluster:
    c = lesson_cluster()  # the Gateway infra/web, shop-v1, shop-v2, api, the route shop/shop
    if stage == "routes":
        return c
    c.apply("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: elsewhere, namespace: shop}
spec:
  parentRefs: [{name: web, namespace: infra, sectionName: http}]
  hostnames: [shop.example.org]
  rules:
  - backendRefs: [{name: shop-v1, port: 80}]
""")
    c.apply(SHOP_ROUTE.replace(
        "  - backendRefs: [{name: shop-v1, port: 80}]",
        "  - backendRefs: [{name: shop-v1, port: 80, weight: 90}, "
        "{name: shop-v2, port: 80, weight: 10}]"))
    if stage == "canary":
        return c
    c.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "reviews"}})
    c.apply(_echo("reviews", "reviews") + """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: shop}
spec:
  parentRefs: [{name: web, namespace: infra, sectionName: http}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /reviews}}]
    backendRefs: [{name: reviews, namespace: reviews, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: shop-routes, namespace: reviews}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
  to: [{group: "", kind: Service}]
""")
    c.apply(SHOP_ROUTE.replace("sectionName: http}", "sectionName: https}").replace(
        "  - backendRefs: [{name: shop-v1, port: 80}]",
        """  - backendRefs: [{name: shop-v1, port: 80}]
    filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        add: [{name: Strict-Transport-Security, value: max-age=31536000}]"""))
    c.apply(images.SHOP_HTTP)
    return c


EGRESS_DNS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress-except-dns, namespace: dev}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
"""


@cache
def busy_traffic() -> kl.TrafficReport:
    """Lesson 02, cell 50: the healthy cluster with twelve more pods, 60 requests each."""
    busy = kl.healthy_cluster()
    for i in range(12):
        busy.add_pod(f"default/worker-{i}")
    return busy.traffic(requests=60, seed=3)


def _trace(c: kl.Cluster, src: str, dst: str, **kw) -> Figure:
    return kl.draw_trace(c, c.trace(src, dst, **kw))


#: Picture (a public name, or ``Class.draw``) -> {case: (is it a lesson picture, builder)}.
CASES: dict[str, dict[str, tuple[bool, Callable[[], Figure]]]] = {
    "draw_cluster": {
        "01 cell 5": (True, lambda: kl.draw_cluster(lesson01())),
        "04 cell 29, the cloud": (True, lambda: kl.draw_cluster(lesson04(), namespaces="default")),
        "healthy": (True, lambda: kl.draw_cluster(kl.healthy_cluster())),
        "healthy calico": (True, lambda: kl.draw_cluster(kl.healthy_cluster("calico"))),
    },
    "draw_trace": {
        "00 cell 7": (True, lambda: _trace(_two_pods(), "default/a", "default/b", port=80)),
        "01 cell 21, loopback": (True, lambda: _trace(lesson01_later(), "default/shop/metrics",
                                                      "localhost", port=80)),
        "01 cell 32, same node": (True, lambda: _trace(lesson01(), "default/web",
                                                       "default/cache", port=6379)),
        "02 cell 14": (True, lambda: _trace(kl.healthy_cluster(), "default/client",
                                            "default/web-2")),
        "02 cell 18, bridge": (True, lambda: _trace(kl.healthy_cluster("bridge"),
                                                    "default/client", "default/web-2")),
        "03 cell 41, NodePort": (True, lambda: _trace(
            lesson03()[0], "10.0.1.200", f"{lesson03()[0].node('node-1').ip}:30080")),
        "04 cell 12, NAT gateway": (True, lambda: _trace(lesson04(), "default/a",
                                                         "93.184.216.34")),
        "05 cell 8, load balancer": (True, lambda: _trace(
            lesson05(), "internet", f"{lesson05().service('default/web').load_balancer_ip}:80")),
        "06 cell 17, Gateway": (True, lambda: _trace(lesson06("routes"), "internet",
                                                     "http://shop.example.com/api/items")),
        "07 cell 9, dropped": (True, lambda: _trace(lesson07(), "dev/tester", "payments/db",
                                                    port=5432)),
        "08 cell 5, cilium": (True, lambda: _trace(kl.healthy_cluster("cilium"),
                                                   "default/client", "default/web-2")),
        "stepper step 6": (True, lambda: kl.draw_trace(
            kl.healthy_cluster(), kl.healthy_cluster().trace("default/client", "default/web-2"),
            step=6)),
    },
    "draw_pod": {
        "01 cell 18": (True, lambda: kl.draw_pod(lesson01_later(), "default/shop")),
        "01 cell 27, clash": (True, lambda: kl.draw_pod(lesson01_later(), "default/clash")),
    },
    "draw_chain_walk": {
        "03 cell 17": (True, lambda: kl.draw_chain_walk(
            lesson03()[0].trace("default/client", lesson03()[1], port=80))),
        "refused (no endpoints)": (True, lambda: _chain_walk_refused()),
    },
    "draw_load_balancing": {
        "03 cell 28": (True, lambda: kl.draw_load_balancing(lesson03()[0], "default/client",
                                                            "default/web", requests=600)),
    },
    "draw_internet_traffic": {
        "05 cell 16": (True, lambda: kl.draw_internet_traffic(
            lesson05(), ["default/web", "default/web-local"], clients=60)),
    },
    "draw_kube_proxy_scaling": {
        "03 cell 67": (True, lambda: kl.draw_kube_proxy_scaling()),
    },
    "draw_kube_proxy_growth": {  # lesson 03 draws scale_cluster(500, 100): labels as long
        "03 cell 79": (True, lambda: kl.draw_kube_proxy_growth(
            [kl.kube_proxy_size(kl.Cluster(workers=1, kube_proxy_mode=m))
             for m in ("iptables", "nftables")]
            + [kl.kube_proxy_size(kl.scale_cluster(30, 10, replicas=100, kube_proxy_mode=m))
               for m in ("iptables", "nftables")])),
    },
    "draw_gateway_roles": {
        "06 cell 5": (True, lambda: kl.draw_gateway_roles()),
        "with a cluster": (True, lambda: kl.draw_gateway_roles(lesson06("all"))),
    },
    "draw_gateway": {
        "06 cell 38": (True, lambda: kl.draw_gateway(lesson06("all"), "infra/web")),
    },
    "draw_canary": {
        "06 cell 27": (True, lambda: kl.draw_canary(lesson06("canary"), "internet",
                                                    "http://shop.example.com/", requests=500)),
    },
    "draw_reachability": {
        "07 cell 14": (True, lambda: kl.draw_reachability(lesson07().reachability(port=5432))),
        "07 cell 34, egress": (True, lambda: _egress_reachability()),
        "healthy, 8 pods": (True, lambda: kl.draw_reachability(
            kl.healthy_cluster().reachability())),
        "30 pods": (False, lambda: _many_pods_reachability(30)),
    },
    "draw_network_model": {
        "02 cell 5": (True, lambda: kl.draw_network_model(
            kl.healthy_cluster().verify_network_model())),
        "02 cell 39, missing route": (True, lambda: kl.draw_network_model(
            kl.broken_cluster("missing-route").verify_network_model())),
        "overlapping podCIDRs": (True, lambda: kl.draw_network_model(
            kl.broken_cluster("overlapping-podcidr").verify_network_model())),
        "masquerade": (True, lambda: kl.draw_network_model(
            kl.broken_cluster("masquerade").verify_network_model())),
    },
    "NetworkModelReport.draw": {
        "02 cell 5": (True, lambda: kl.healthy_cluster().verify_network_model().draw()),
    },
    "draw_traffic": {
        "02 cell 50": (True, lambda: kl.draw_traffic(busy_traffic())),
    },
    "TrafficReport.draw": {
        "02 cell 50": (True, lambda: busy_traffic().draw()),
    },
    "ShopReport.draw": {
        "09, broken": (True, lambda: kl.check_shop(kl.capstone_cluster()).draw()),
        "09, fixed": (True, lambda: kl.check_shop(kl.capstone_cluster(fixed=True)).draw()),
    },
}


def _chain_walk_refused() -> Figure:
    """Lesson 03, cell 58: a Service whose selector has a typo (no endpoints)."""
    c = kl.Cluster(workers=1)
    svc = c.add_service("default/typo", selector={"app": "wbe"}, ports=[80])
    c.add_pod("default/client")
    return kl.draw_chain_walk(c.trace("default/client", svc.cluster_ip, port=80))


def _egress_reachability() -> Figure:
    c = kl.Cluster(workers=2, network_policy="kube-network-policies")
    c.add_namespace("shop", labels={"team": "shop", "env": "prod"})
    c.add_namespace("dev", labels={"env": "dev"})
    c.add_pod("shop/web", node="node-1", labels={"app": "web"})
    c.add_pod("dev/tester", node="node-1", labels={"app": "tester"})
    c.apply(EGRESS_DNS)
    dns = c.reachability(port=53, protocol="UDP", namespaces=["dev", "kube-system", "shop"])
    return kl.draw_reachability(dns, "egress")


def _many_pods_reachability(n: int) -> Figure:
    c = kl.Cluster(workers=3, network_policy="kube-network-policies")
    for i in range(n):
        c.add_pod(f"default/pod-{i:02d}", labels={"app": f"a{i % 3}"})
    c.apply(DENY_PAYMENTS.replace("payments", "default").replace(
        "podSelector: {}", "podSelector: {matchLabels: {app: a1}}"))
    return kl.draw_reachability(c.reachability(namespaces=["default"]))


def public_pictures() -> set[str]:
    """Every picture of the public API: ``kl.draw*`` functions and ``Class.draw``."""
    names = set()
    for name in kl.__all__:
        obj = getattr(kl, name)
        if name.startswith("draw") and callable(obj):
            names.add(name)
        elif isinstance(obj, type) and callable(getattr(obj, "draw", None)):
            names.add(f"{name}.draw")
    return names


ALL = [(picture, case) for picture, cases in CASES.items() for case in cases]


def test_every_picture_has_cases():
    """A new picture (or a result with a ``draw``) needs its lesson-like case here."""
    assert public_pictures() == set(CASES)


@cache
def rendering(picture: str, case: str) -> Rendering:
    fig = CASES[picture][case][1]()
    try:
        return render(fig)
    finally:
        fig.clf()


@pytest.mark.parametrize(("picture", "case"), ALL, ids=[f"{p}[{c}]" for p, c in ALL])
def test_readable_at_the_size_shown(picture, case):
    r = rendering(picture, case)
    assert r.width <= COLUMN_PX, f"{r.width} px wide: JupyterLab scales it down"
    px, text = r.smallest()
    assert px >= MIN_TEXT_PX, f"{text!r} is {px:.1f} px at the size shown"


LESSON = [(p, c) for p, c in ALL if CASES[p][c][0]]


@pytest.mark.parametrize(("picture", "case"), LESSON, ids=[f"{p}[{c}]" for p, c in LESSON])
def test_no_labels_overlap(picture, case):
    assert rendering(picture, case).overlaps() == []


# ---------------------------------------------------------------------------- lesson headers
def header_scenes() -> dict[str, Callable[[], Figure]]:
    """docs/lesson_images.py's scenes: the header image of each lesson."""
    return images.SCENES


def test_every_header_image_has_a_scene():
    """Each image a lesson's Markdown shows, and each file in notebooks/images/, is drawn
    by docs/lesson_images.py (so it can be redrawn when the pictures change)."""
    import nbformat

    shown = set()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                shown |= set(re.findall(r"\(images/([^)\s]+\.png)\)", cell.source))
    stored = {p.name for p in (ROOT / "notebooks" / "images").glob("*.png")}
    assert shown <= set(header_scenes()) and stored == set(header_scenes())


HEADERS = sorted(header_scenes())


@pytest.mark.parametrize("name", HEADERS)
def test_header_image_is_readable_and_current(name):
    """A Markdown image is shown at its natural size (up to the column): the same rules as
    the pictures, and the stored PNG is what the script draws now (its size, at least:
    the bytes depend on the FreeType build)."""
    fig = header_scenes()[name]()
    r = render(fig)
    assert r.width <= COLUMN_PX
    px, text = r.smallest()
    assert px >= MIN_TEXT_PX, f"{text!r} is {px:.1f} px"
    assert r.overlaps() == []
    assert Image.open(ROOT / "notebooks" / "images" / name).size == (r.width, r.height), (
        "run python docs/lesson_images.py")


if __name__ == "__main__":  # python tests/views/test_readability.py OUT [picture]
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    wanted = sys.argv[2:]
    for picture, case in ALL:
        if wanted and not any(w in picture for w in wanted):
            continue
        fig = CASES[picture][case][1]()
        name = f"{picture}-{case}".replace(" ", "_").replace(",", "").replace("/", "_")
        fig.savefig(out / f"{name}.png", dpi=fig.dpi, bbox_inches="tight")
        r = render(fig)
        px, text = r.smallest()
        print(f"{picture:26} {case:28} {r.width:5d}x{r.height:<5d} smallest {px:4.1f} px "
              f"{text[:30]!r} overlaps {len(r.overlaps())}")
