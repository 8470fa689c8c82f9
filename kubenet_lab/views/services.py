"""Pictures of Services: the iptables chains a packet walks, and how load spreads.

- :func:`draw_chain_walk`: the kube-proxy rules a traced packet matched, one box per
  chain (PREROUTING or OUTPUT, KUBE-SERVICES, KUBE-SVC-..., KUBE-SEP-...), each with the
  rule that matched, and the DNAT at the end.
- :func:`draw_load_balancing`: N new connections to a Service, counted per endpoint and
  per node, against the expected share 1/n (kube-proxy's ``statistic`` rules give each
  endpoint 1/n of new connections; ClientIP affinity sends one client to one endpoint).
- :func:`draw_internet_traffic`: many internet clients on LoadBalancer Services, drawn
  on the cluster picture (internet -> load balancer -> node -> pod, and kube-proxy's
  extra node hop), one panel per Service.
- :func:`draw_kube_proxy_scaling`: how many of kube-proxy's rules the first packet of a
  connection meets against the number of Services, in iptables and nftables mode
  (:func:`kube_proxy_scaling` computes it).
- :func:`draw_kube_proxy_growth`: kube-proxy's listing on one node and the rules a first
  packet meets, for clusters of different sizes (``kl.kube_proxy_size``).

All return a matplotlib ``Figure`` made without pyplot, and are deterministic for a
given cluster seed.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.arguments import check_count, checked
from kubenet_lab.views.network import human_bytes
from kubenet_lab.views.pictures import (
    BAR_H,
    ETH_H,
    MAX_WIDTH,
    MUTED,
    OKABE_ITO,
    OVERLAY_TEXT,
    PALETTE,
    PATH,
    SMALL,
    TEXT,
    TITLE,
    draw_base,
    draw_line,
    geometry,
    make_canvas,
    select_pods,
    show_figures_in_notebooks,
    wrap,
)
from kubenet_lab.views.pictures import POD_H as POD_BOX_H

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from kubenet_lab.cluster import Cluster
    from kubenet_lab.model.kube_proxy_size import KubeProxySize
    from kubenet_lab.model.store import StoreView
    from kubenet_lab.model.trace import Trace

__all__ = ["draw_chain_walk", "draw_internet_traffic", "draw_kube_proxy_growth",
           "draw_kube_proxy_scaling", "draw_load_balancing", "kube_proxy_scaling"]


def _figure(w: float, h: float) -> Figure:
    from matplotlib.figure import Figure

    show_figures_in_notebooks()
    return Figure(figsize=(w, h), dpi=100)


#: The chain walk's layout, in inches: the chain boxes' column, then the rules' text.
CHAIN_W, RULE_X, RULE_FONT = 2.5, 2.75, 8
#: Characters of a rule per line: DejaVu Sans Mono advances 0.602 em per character, a
#: little more once hinted at 100 dpi.
RULE_CHARS = int((MAX_WIDTH - RULE_X - 0.15) / (0.63 * RULE_FONT / 72))
LINE_H = 0.165  # between lines of the rules' text


@checked
def draw_chain_walk(trace: Trace, ax: Axes | None = None) -> Figure:
    """The kube-proxy chains a traced packet walked, top to bottom, with the rule that
    matched in each and the header rewrite at the DNAT.

    Each chain the packet entered is a box (``table CHAIN``) with the rule that matched
    beside it, as ``iptables-save`` prints it (8-point monospace, wrapped); the box of the
    DNAT rule that picked the endpoint is drawn green with the rewritten header under the
    rule, a rule that rejects or drops the packet red, and a line under the boxes says
    so in words. The picture is as wide as a notebook's text column.

    Examples
    --------
    >>> c = kl.Cluster()
    >>> t = c.trace("control-plane", "10.96.0.1", port=443)
    >>> fig = kl.draw_chain_walk(t)
    >>> boxes = [tx.get_text() for tx in fig.axes[0].texts if tx.get_text()[:4] == "nat "]
    >>> list(dict.fromkeys(boxes))[2:]  # KUBE-SVC and KUBE-SEP each matched two rules
    ['nat KUBE-SVC-NPX46M4PTMTKRN6Y', 'nat KUBE-SEP-PQX4G2EJXIEOBKXE']
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    steps = [h for h in trace.hops if h.action in ("iptables", "dnat", "refuse", "drop")
             and h.detail.startswith(("nat ", "filter "))]
    rows = []  # (hop, chain, rule lines, row height)
    for hop in steps:
        where, _, rule = hop.detail.partition(": ")
        rule = rule.strip("`").split("`:")[0].strip("`")
        lines = textwrap.wrap(rule, RULE_CHARS, break_on_hyphens=False)[:4]
        height = max(0.44, LINE_H * len(lines) + 0.14) + (LINE_H + 0.04) * (
            hop.action == "dnat")
        rows.append((hop, where, lines, height))
    gap = 0.3  # between boxes: the arrow
    title = wrap(f"kube-proxy rules walked: {trace.src} -> {trace.target}", TITLE,
                 MAX_WIDTH - 0.3, 2)
    top = 0.3 + 0.17 * title.count("\n")
    body = sum(h for *_, h in rows) + gap * max(len(rows) - 1, 0) if rows else 0.3
    height = top + body + 0.45
    if ax is None:
        fig = _figure(MAX_WIDTH, height)
        ax = fig.add_axes((0, 0, 1, 1))
    else:
        fig = ax.figure
    ax.set_xlim(0, MAX_WIDTH)
    ax.set_ylim(-height, 0)
    ax.set_axis_off()
    ax.text(0.1, -0.08, title, fontsize=TITLE, va="top", ha="left", color=TEXT)
    y = -top
    if not steps:
        ax.text(0.15, y - 0.15, "no kube-proxy rule matched (not a Service address)",
                fontsize=SMALL, color=MUTED, va="center")
    for i, (hop, where, lines, h) in enumerate(rows):
        kind = {"dnat": "pod", "refuse": "crash", "drop": "crash"}.get(hop.action, "bridge")
        face, edge = PALETTE[kind]
        ax.add_patch(FancyBboxPatch((0.1, y - h), CHAIN_W, h,
                                    boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor=face, edgecolor=edge, linewidth=1.2,
                                    linestyle="--" if kind == "crash" else "-"))
        ax.text(0.2, y - h / 2, where, fontsize=SMALL, va="center", ha="left", color=TEXT,
                fontweight="bold")
        text_top = y - 0.07 - (h - 0.14 - LINE_H * len(lines)
                               - (LINE_H + 0.04) * (hop.action == "dnat")) / 2
        ax.text(RULE_X, text_top, "\n".join(lines), fontsize=RULE_FONT, va="top", ha="left",
                color=TEXT, family="monospace", linespacing=1.2)
        if hop.action == "dnat":
            ax.text(RULE_X, text_top - LINE_H * len(lines) - 0.04,
                    "rewritten: " + hop.packet.summary().replace(" ttl=64", ""),
                    fontsize=SMALL, va="top", ha="left", color=PATH, fontweight="bold")
        if i + 1 < len(rows):
            ax.add_patch(FancyArrowPatch((1.35, y - h), (1.35, y - h - gap),
                                         arrowstyle="-|>", mutation_scale=10, color=MUTED,
                                         linewidth=1.0, shrinkA=1, shrinkB=1))
        y -= h + gap
    if steps:
        ends = {"dnat": "green: the DNAT rule that picked the endpoint",
                "refuse": "red, dashed: the rule that rejects the packet",
                "drop": "red, dashed: the rule that drops the packet"}
        said = [ends[h.action] for h in steps if h.action in ends]
        ax.text(0.1, -height + 0.22, "; ".join(["orange: a rule matched, the packet jumps "
                                                "to the chain below", *dict.fromkeys(said)]),
                fontsize=SMALL, va="center", ha="left", color=MUTED, style="italic")
    return fig


@checked
def draw_load_balancing(
    cluster: Cluster, src: str, service: str, requests: int = 600,
    port: int | None = None, protocol: str | None = None, ax: Axes | None = None,
) -> Figure:
    """Send ``requests`` new connections from pod ``src`` to a Service and plot how
    they spread over its endpoints (left) and over nodes (right), with the expected
    share 1/n of each endpoint as a dashed line. The connections are counted on a fork
    of the kernels' state (``Cluster.spread``): drawing changes nothing.

    Examples
    --------
    >>> c = kl.Cluster()
    >>> fig = kl.draw_load_balancing(c, c.pods[0].ref, "kube-system/kube-dns", port=53,
    ...                              protocol="UDP", requests=100)
    >>> len(fig.axes)
    2
    """
    counts = cluster.spread(src, service, requests, port, protocol)
    svc = cluster.service(service)
    pods = {p.ref: p for p in cluster.pods}
    eps = list(counts)
    node_of = {e: (pods[e].node if e in pods else e) for e in eps}
    nodes: dict[str, int] = {}
    for e, n in counts.items():
        nodes[node_of[e]] = nodes.get(node_of[e], 0) + n
    fig = _figure(9.0, 3.4) if ax is None else ax.figure
    if ax is None:
        left = fig.add_axes((0.08, 0.32, 0.5, 0.52))
        right = fig.add_axes((0.68, 0.32, 0.28, 0.52))
    else:
        left, right = ax, ax.inset_axes((1.15, 0, 0.55, 1))
    affinity = svc.session_affinity
    fig.suptitle(f"{requests} new connections from {src} to {svc.ref} "
                 f"(sessionAffinity: {affinity})", fontsize=TITLE, x=0.02, ha="left",
                 color=TEXT)
    share = [counts[e] / requests for e in eps]
    labels = [e.split("/", 1)[-1] for e in eps]
    left.bar(range(len(eps)), share, color=PALETTE["pod"][0], edgecolor=PALETTE["pod"][1])
    for i, n in enumerate(counts[e] for e in eps):
        left.text(i, 0.02, str(n), ha="center", va="bottom", fontsize=SMALL, color=TEXT)
    if eps:
        left.axhline(1 / len(eps), color=TEXT, linestyle="--", linewidth=1.2,
                     label=f"expected share, 1/{len(eps)}")
        left.legend(fontsize=SMALL, frameon=False, loc="upper right")
    left.set_xticks(range(len(eps)), labels, rotation=20, ha="right", fontsize=SMALL)
    left.set_ylabel("share of connections", fontsize=SMALL)
    left.set_ylim(0, 1.18)
    left.set_title("per endpoint (in the bar: connections)", fontsize=SMALL, loc="left")
    left.tick_params(labelsize=SMALL)
    names = sorted(nodes)
    right.bar(range(len(names)), [nodes[n] / requests for n in names],
              color=PALETTE["node"][0], edgecolor=PALETTE["node"][1])
    if eps:
        for i, n in enumerate(names):
            expected = sum(1 for e in eps if node_of[e] == n) / len(eps)
            right.plot([i - 0.4, i + 0.4], [expected, expected], color=TEXT, linestyle="--",
                       linewidth=1.2, label="expected: its endpoints' share" if i == 0 else None)
        right.legend(fontsize=SMALL, frameon=False, loc="upper right")
    right.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=SMALL)
    right.set_ylim(0, 1.18)
    right.set_title("per node", fontsize=SMALL, loc="left")
    right.tick_params(labelsize=SMALL)
    return fig


@checked(max_width=(1, 100), max_nodes=(1, 250))
def draw_internet_traffic(cluster: Cluster, services: str | list[str], clients: int = 60,
                          ax: Axes | None = None, *, max_width: float = 15.0,
                          max_nodes: int = 4) -> Figure:
    """Many internet clients hit LoadBalancer Services, drawn on the cluster picture: one
    panel per Service, one under the other (e.g. ``externalTrafficPolicy`` Cluster, then
    Local).

    In each panel, arrows run from the internet to the Service's cloud load balancer,
    from it to each node it picked (width by connections) and from the node to the pod
    that answered (width by connections). A connection kube-proxy sent on to a pod on
    another node (``externalTrafficPolicy: Cluster``) takes the extra hop drawn dashed
    through the VPC subnet; the caption counts the connections that kept the client's IP
    and those that took an extra node hop. The clients are 198.18.0.1, ... (the same
    every run: the picture is deterministic for a given cluster seed).

    Parameters
    ----------
    cluster : Cluster
    services : str or list of str
        ``namespace/name`` of LoadBalancer Services, one panel each.
    clients : int, optional
        How many internet clients, one connection each.
    ax : matplotlib.axes.Axes, optional
        Draw the (first) Service's panel here instead of on a new figure.
    max_width : float, optional
        Widest the new figure gets, in inches (the panels shrink to fit).
    max_nodes : int, optional
        Draw at most this many nodes per panel, those with the most connections (the
        caption counts the others; their arrows are left out).

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> c.add_cloud_load_balancer()
    >>> _ = c.add_pod("default/w", node="node-1", labels={"app": "w"})
    >>> _ = c.add_service("default/w", type="LoadBalancer", selector={"app": "w"}, ports=[80])
    >>> fig = kl.draw_internet_traffic(c, "default/w", clients=10)
    >>> len(fig.axes), fig.axes[0].get_title(loc="left").splitlines()[-1]
    (1, 'client IP kept 0/10, extra node hop 4/10')
    """
    view = cluster.snapshot()
    names = [services] if isinstance(services, str) else list(services)
    if ax is not None:
        names = names[:1]
    panels = []
    for ref in names:
        stats = cluster.internet_spread(ref, clients)
        svc = cluster.service(ref)
        owners = {p.ref: p.node for p in cluster.pods}
        nodes = set(stats["nodes"]) | {owners[p] for p in stats["pods"] if p in owners}
        load = {n: stats["nodes"].get(n, 0) + sum(k for p, k in stats["pods"].items()
                                                   if owners.get(p) == n) for n in nodes}
        shown = set(sorted(nodes, key=lambda n: (-load[n], n))[:max_nodes])
        keep = [p for p in stats["pods"] if owners.get(p) in shown]
        selection = select_pods(view, nodes=shown, namespaces=svc.namespace, max_pods=0,
                            keep=keep)
        geom = geometry(view, selection, only={f"load balancer {svc.ref}"})
        pairs = {(n, owners[p]) for n, p in stats["flows"]
                 if owners.get(p, n) != n and {n, owners[p]} <= shown}
        geom = _lower_cloud(geom, HOP_STEP * len(pairs))
        panels.append((svc, dict(stats, hidden=len(nodes) - len(shown)), geom))
    widths = [g.width + 0.3 for _, _, g in panels]
    heights = [-g.rows["bottom"] + 0.24 for _, _, g in panels]
    gap = 0.3
    total_w, total_h = max(widths), sum(heights) + gap * (len(panels) - 1)
    scale = min(1.0, max_width / total_w)
    title = wrap(f"{clients} internet clients, one connection each: internet -> load "
                  "balancer -> node -> pod (line width = connections; dashed = extra node hop)",
                  TITLE, total_w - 0.2, 3)
    top = 0.72 + 0.19 * title.count("\n") if ax is None else 0.0
    if ax is None:  # one panel under the other: a picture as wide as one cluster
        from matplotlib.figure import Figure

        show_figures_in_notebooks()
        fig = Figure(figsize=(total_w * scale, (total_h + top) * scale), dpi=100)
        axes, y = [], total_h
        for w, h in zip(widths, heights, strict=True):
            y -= h
            axes.append(fig.add_axes((0, y / (total_h + top), w / total_w,
                                      h / (total_h + top))))
            y -= gap
    else:
        fig, axes = ax.figure, [ax]
    for (svc, stats, geom), a, h in zip(panels, axes, heights, strict=True):
        _draw_flows(a, view, svc, stats, geom, h)
    if ax is None:
        fig.suptitle(title, fontsize=TITLE * scale, x=0.01, y=0.995, ha="left", va="top",
                     color=TEXT)
    return fig


#: the colour of the extra hop kube-proxy takes to a pod on another node (drawn dashed),
#: and of its labels' text
EXTRA_HOP, EXTRA_HOP_TEXT = OKABE_ITO["reddish purple"], OVERLAY_TEXT
#: between the extra-hop lines under the VPC subnet, in inches
HOP_STEP = 0.22


def _lower_cloud(geom, dy: float):
    """The geometry with the cloud band and the internet ``dy`` lower (room for the
    extra-hop lines under the VPC subnet)."""
    from dataclasses import replace

    rows = dict(geom.rows)
    for key in ("cloud_y", "inet_y", "bottom"):
        rows[key] -= dy
    cloud = tuple((n, lines, x, y - dy, w) for n, lines, x, y, w in geom.cloud)
    return replace(geom, rows=rows, cloud=cloud)


def _arrow_w(ax: Axes, pts: list, *, color: str, lw: float, dashed: bool = False) -> None:
    """A polyline of width ``lw`` points with an arrowhead at its end."""
    from matplotlib.patches import FancyArrowPatch

    draw_line(ax, pts, color=color, lw=lw, ls=(0, (3, 1.5)) if dashed else "-", alpha=0.85, z=6)
    (x0, y0), (x1, y1) = pts[-2], pts[-1]
    ax.add_patch(FancyArrowPatch((x1 - (x1 - x0) * 1e-3, y1 - (y1 - y0) * 1e-3), (x1, y1),
                                 arrowstyle="-|>", mutation_scale=8 + lw, color=color,
                                 linewidth=0, shrinkA=0, shrinkB=0, zorder=6))


def _label(ax: Axes, p: tuple, text: str, *, color: str = PATH, ha: str = "center") -> None:
    """A count on a flow, on a white box so that it reads over the lines."""
    ax.text(p[0], p[1], text, fontsize=SMALL, fontweight="bold", ha=ha, va="center",
            color=color, zorder=9, bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                                         "edgecolor": color, "linewidth": 0.8})


def _draw_flows(ax: Axes, cluster: StoreView, svc, stats: dict, geom, height: float) -> None:
    """One Service's panel of :func:`draw_internet_traffic` on ``ax``."""
    canvas = make_canvas(ax, -0.15, geom.width + 0.15, 0.12 - height, 0.12)
    s = canvas.scale
    draw_base(ax, cluster, geom)
    clients = max(stats["clients"], 1)
    rows, pts = geom.rows, geom.points
    lb = next(c for c in geom.cloud if c[0] == f"load balancer {svc.ref}")
    _, _, lx, ly, lw = lb
    lb_x = lx + lw / 2

    def width(n: int) -> float:
        return 1.0 + 7.0 * n / clients

    # the internet -> the load balancer
    total = sum(stats["nodes"].values())
    _arrow_w(ax, [(lb_x, rows["inet_y"] + 0.15), (lb_x, ly - 0.22)], color=PATH,
             lw=width(total))
    _label(ax, (lb_x + 0.12, (rows["inet_y"] + ly) / 2 - 0.05), f"{total} clients", ha="left")
    # the load balancer -> each node's eth0 (the NodePort)
    for node, n in stats["nodes"].items():
        if ("node", node, "eth0") not in pts:  # a node left out (max_nodes)
            continue
        ex, ey = pts[("node", node, "eth0")]
        start = (lb_x, ly + 0.22)
        end = (ex, ey - ETH_H / 2 - 0.02)
        _arrow_w(ax, [start, end], color=PATH, lw=width(n))
        mid = (start[0] + (end[0] - start[0]) * 0.62, start[1] + (end[1] - start[1]) * 0.62)
        _label(ax, mid, str(n))
    # each node -> the pods that answered (all the pod's connections, local or forwarded)
    owners = {p.ref: p.node for p in cluster.pods}
    for col in geom.columns:
        for slot in col.pods:
            n = stats["pods"].get(slot.pod.ref, 0)
            if not n:
                continue
            ex, ey = pts[("node", col.node.name, "eth0")]
            lane, py = slot.lane_x, slot.y + POD_BOX_H / 2
            # up the node's spine, left of the overlay device (its label stays clear),
            # across just under the bridge, then up the pod's lane
            under_bar = rows["bar_top"] - BAR_H - 0.09
            path = [(ex, ey + ETH_H / 2), (ex, under_bar), (lane, under_bar), (lane, py),
                    (slot.x - 0.02, py)]
            _arrow_w(ax, path, color=PATH, lw=width(n))
            _label(ax, (lane - 0.08, py), str(n), ha="right")
    # kube-proxy forwards some to a pod on another node: down to the subnet and over
    pairs: dict[tuple[str, str], int] = {}
    for (node, pod), n in stats["flows"].items():
        if owners.get(pod, node) != node and ("node", node, "eth0") in pts and (
                "node", owners[pod], "eth0") in pts:
            pairs[(node, owners[pod])] = pairs.get((node, owners[pod]), 0) + n
    for k, ((a, b), n) in enumerate(pairs.items()):
        ax_, ey = pts[("node", a, "eth0")]
        bx, _ = pts[("node", b, "eth0")]
        y = rows["net_bottom"] - 0.12 - HOP_STEP * k
        sx, tx = ax_ + 0.1 * (1 if bx > ax_ else -1), bx - 0.1 * (1 if bx > ax_ else -1)
        _arrow_w(ax, [(sx, ey - ETH_H / 2), (sx, y), (tx, y), (tx, ey - ETH_H / 2 - 0.02)],
                 color=EXTRA_HOP, lw=width(n), dashed=True)
        _label(ax, (sx + (0.5 if bx > ax_ else -0.5), y), f"{n} to {b}", color=EXTRA_HOP_TEXT)
    ax.set_title(f"{svc.ref}: externalTrafficPolicy {svc.external_traffic_policy}\n"
                 f"client IP kept {stats['kept_client_ip']}/{stats['clients']}, "
                 f"extra node hop {stats['extra_hop']}/{stats['clients']}"
                 + (f"; {stats['hidden']} more nodes not drawn" if stats.get("hidden") else ""),
                 fontsize=TITLE * s, loc="left", color=TEXT)
    canvas.finish()


#: kube_proxy_scaling's sizes: one connection's rules at 10 to 10,000 Services.
SCALING_SIZES = (10, 100, 1000, 10000)
#: The most Services it builds, and the most sizes it measures.
MAX_SCALING_SERVICES, MAX_SCALING_SIZES = 10_000, 8


@checked
def kube_proxy_scaling(sizes: tuple[int, ...] = SCALING_SIZES,
                       modes: tuple[str, ...] = ("iptables", "nftables")
                       ) -> dict[str, list[tuple[int, int]]]:
    """For each kube-proxy mode: a one-worker cluster that gets ClusterIP Services (all of
    one pod) until it has each of ``sizes`` (at most 10,000), and at each size the number
    of kube-proxy's rules the first packet from a client pod to the Service sorted last
    is matched against (``walk.netfilter.rules_traversed``): iptables mode tries
    ``KUBE-SERVICES`` rule by rule, so it grows with the number of Services; nftables
    mode looks the address up in the ``service-ips`` verdict map, so it stays flat.

    >>> kube_proxy_scaling((10, 100))
    {'iptables': [(10, 16), (100, 106)], 'nftables': [(10, 13), (100, 13)]}
    """
    from kubenet_lab.cluster import Cluster
    from kubenet_lab.walk.netfilter import rules_traversed

    check_count("kube_proxy_scaling", "sizes", len(sizes), 1, MAX_SCALING_SIZES,
                f"measure at most {MAX_SCALING_SIZES} sizes")
    for n in sizes:
        check_count("kube_proxy_scaling", "sizes", n, 1, MAX_SCALING_SERVICES,
                    f"at most {MAX_SCALING_SERVICES:,} Services")
    for mode in modes:
        if mode not in ("iptables", "nftables"):
            raise ManifestError("kube_proxy_scaling", "modes", mode, "is not a kube-proxy "
                                "mode the lab models", fix="use iptables and nftables")
    out: dict[str, list[tuple[int, int]]] = {}
    for mode in dict.fromkeys(modes):
        c = Cluster(workers=1, kube_proxy_mode=mode)  # type: ignore[arg-type]
        c.add_pod("default/web", labels={"app": "web"})
        c.add_pod("default/client")
        made = 0
        for n in sorted(set(sizes)):
            for i in range(made, n):
                c.add_service(f"default/svc-{i:05d}", selector={"app": "web"}, ports=[80])
            made = n
            last = c.service(f"default/svc-{n - 1:05d}")
            out.setdefault(mode, []).append(
                (n, rules_traversed(c, "default/client", last.cluster_ip, 80)))
    return out


@checked
def draw_kube_proxy_scaling(sizes: tuple[int, ...] = SCALING_SIZES,
                            ax: Axes | None = None) -> Figure:
    """Plot :func:`kube_proxy_scaling`: rules met by a connection's first packet against
    the number of Services, both axes logarithmic, one line per mode.

    >>> fig = kl.draw_kube_proxy_scaling((10, 100))
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['iptables mode', 'nftables mode']
    """
    data = kube_proxy_scaling(sizes)
    fig = _figure(7.5, 3.6) if ax is None else ax.figure
    if ax is None:
        ax = fig.add_axes((0.1, 0.16, 0.86, 0.7))
    # Okabe-Ito vermillion and blue, each with its own marker and line style
    styles = {"iptables": (OKABE_ITO["vermillion"], "o", "-"),
              "nftables": (OKABE_ITO["blue"], "s", "--")}
    colors = {mode: style[0] for mode, style in styles.items()}
    for mode, rows in data.items():
        xs, ys = zip(*rows, strict=True)
        color, marker, ls = styles[mode]
        ax.plot(xs, ys, marker=marker, linestyle=ls, color=color, label=f"{mode} mode")
        ax.annotate(f"{ys[-1]:,} rules", (xs[-1], ys[-1]), textcoords="offset points",
                    xytext=(0, 9), ha="center", fontsize=SMALL, color=colors[mode])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(min(sizes) / 2, max(sizes) * 2)
    ax.set_ylim(top=max(y for rows in data.values() for _, y in rows) * 4)
    ax.set_xlabel("Services in the cluster", fontsize=SMALL)
    ax.set_ylabel("rules met by the first packet", fontsize=SMALL)
    ax.tick_params(labelsize=SMALL)
    ax.grid(True, which="major", color="#e5e5e5", linewidth=0.6)
    ax.legend(fontsize=SMALL, frameon=False, loc="upper left")
    fig.suptitle("kube-proxy: a new connection to the Service listed last", fontsize=TITLE,
                 x=0.02, ha="left", color=TEXT)
    return fig


@checked
def draw_kube_proxy_growth(sizes: list[KubeProxySize], ax: Axes | None = None) -> Figure:
    """What grows with a cluster on one node (``kl.kube_proxy_size`` of each cluster):
    left, the lines of kube-proxy's listing (``iptables-save`` or ``nft list table ip
    kube-proxy``); right, the rules a new connection's first packet meets. One bar per
    cluster, named by its mode and its Service ports and endpoints; both axes
    logarithmic.

    >>> s = [kl.kube_proxy_size(kl.Cluster(workers=1, kube_proxy_mode=m))
    ...      for m in ("iptables", "nftables")]
    >>> fig = kl.draw_kube_proxy_growth(s)
    >>> [a.get_title() for a in fig.axes]
    ['lines of the listing on one node', 'rules met by the first packet']
    """
    check_count("draw_kube_proxy_growth", "sizes", len(sizes), 1, 8, "draw 1 to 8 clusters")
    for s in sizes:
        if type(s).__name__ != "KubeProxySize":
            raise ManifestError("draw_kube_proxy_growth", "sizes", type(s).__name__,
                                "is not a KubeProxySize", fix="pass kl.kube_proxy_size(c) "
                                "of each cluster")
    styles = {"iptables": (OKABE_ITO["vermillion"], "//"), "nftables": (OKABE_ITO["blue"], "")}
    fig = _figure(9.4, 0.9 + 0.42 * len(sizes))
    panels = [fig.add_axes((0.33, 0.2, 0.3, 0.62)), fig.add_axes((0.68, 0.2, 0.3, 0.62))]
    labels = [f"{s.mode}: {s.service_ports:,} ports, {s.endpoints:,} endpoints" for s in sizes]
    ys = list(range(len(sizes)))[::-1]
    for panel, title, values, room in (
            (panels[0], "lines of the listing on one node", [s.lines for s in sizes], 400),
            (panels[1], "rules met by the first packet",
             [s.first_packet_rules for s in sizes], 30)):
        for y, s, v in zip(ys, sizes, values, strict=True):
            color, hatch = styles.get(s.mode, (TEXT, ""))
            panel.barh(y, v, color=color, hatch=hatch, edgecolor="white", height=0.7)
            text = f"{v:,} ({human_bytes(s.bytes)})" if panel is panels[0] else f"{v:,}"
            panel.annotate(text, (v, y), xytext=(3, 0), textcoords="offset points",
                           va="center", fontsize=SMALL, color=TEXT)
        panel.set_xscale("log")
        panel.set_xlim(1, max(values) * room)
        panel.set_title(title, fontsize=SMALL, color=TEXT)
        panel.set_yticks(ys)
        panel.set_yticklabels(labels if panel is panels[0] else [])
        panel.tick_params(labelsize=SMALL)
        panel.grid(True, axis="x", color="#e5e5e5", linewidth=0.6)
    fig.suptitle("kube-proxy on one node as the cluster grows", fontsize=TITLE, x=0.02,
                 ha="left", color=TEXT)
    return fig
