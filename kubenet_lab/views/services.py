"""Pictures of Services: the iptables chains a packet walks, and how load spreads.

- :func:`draw_chain_walk`: the kube-proxy rules a traced packet matched, one box per
  chain (PREROUTING or OUTPUT, KUBE-SERVICES, KUBE-SVC-..., KUBE-SEP-...), each with the
  rule that matched, and the DNAT at the end.
- :func:`draw_load_balancing`: N new connections to a Service, counted per endpoint and
  per node, against the expected share 1/n (kube-proxy's ``statistic`` rules give each
  endpoint 1/n of new connections; ClientIP affinity sends one client to one endpoint).

Both return a matplotlib ``Figure`` made without pyplot, and are deterministic for a
given cluster seed.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from kubenet_lab.views.pictures import (
    BAD,
    GOOD,
    MUTED,
    PALETTE,
    PATH,
    SMALL,
    TEXT,
    TITLE,
    _show_figures_in_notebooks,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from kubenet_lab.model.cluster import Cluster
    from kubenet_lab.model.trace import Trace

__all__ = ["draw_chain_walk", "draw_internet_traffic", "draw_load_balancing"]


def _figure(w: float, h: float) -> Figure:
    from matplotlib.figure import Figure

    _show_figures_in_notebooks()
    return Figure(figsize=(w, h), dpi=100)


def draw_chain_walk(trace: Trace, ax: Axes | None = None) -> Figure:
    """The kube-proxy chains a traced packet walked, top to bottom, with the rule that
    matched in each and the header rewrite at the DNAT.

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
    rows = max(1, len(steps))
    width, row_h = 9.0, 0.78
    height = rows * row_h + 0.5
    fig = _figure(width, height) if ax is None else ax.figure
    if ax is None:
        ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(-height + 0.1, 0.5)
    ax.set_axis_off()
    ax.set_title(f"kube-proxy rules walked: {trace.src} -> {trace.target}", fontsize=TITLE,
                 loc="left", color=TEXT)
    if not steps:
        ax.text(0.2, 0, "no kube-proxy rule matched (not a Service address)", fontsize=SMALL,
                color=MUTED, va="center")
    for i, hop in enumerate(steps):
        y = -i * row_h
        where, _, rule = hop.detail.partition(": ")
        kind = {"dnat": "pod", "refuse": "crash", "drop": "crash"}.get(hop.action, "bridge")
        face, edge = PALETTE[kind]
        ax.add_patch(FancyBboxPatch((0.15, y - 0.22), 2.55, 0.44,
                                    boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor=face, edgecolor=edge, linewidth=1.2))
        ax.text(0.25, y, where, fontsize=SMALL, va="center", ha="left", color=TEXT,
                fontweight="bold")
        rule = rule.strip("`").split("`:")[0].strip("`")
        wrapped = textwrap.wrap(rule, 112)[:3]
        ax.text(2.85, y, "\n".join(wrapped), fontsize=6.5, va="center", ha="left",
                color=TEXT, family="monospace")
        if hop.action == "dnat":
            ax.text(2.85, y - 0.3, hop.packet.summary().replace(" ttl=64", ""), fontsize=7,
                    va="center", ha="left", color=PATH, fontweight="bold")
        if i + 1 < len(steps):
            ax.add_patch(FancyArrowPatch((1.4, y - 0.23), (1.4, y - row_h + 0.23),
                                         arrowstyle="-|>", mutation_scale=9, color=MUTED,
                                         linewidth=1.0))
    return fig


def draw_load_balancing(
    cluster: Cluster, src: str, service: str, requests: int = 600,
    port: int | None = None, protocol: str | None = None, ax: Axes | None = None,
) -> Figure:
    """Send ``requests`` new connections from pod ``src`` to a Service and plot how
    they spread over its endpoints (left) and over nodes (right), with the expected
    share 1/n of each endpoint as a dashed line. Uses (and advances) the cluster's
    seeded generator.

    Examples
    --------
    >>> c = kl.Cluster()
    >>> fig = kl.draw_load_balancing(c, c.pods[0].ref, "kube-system/kube-dns", port=53,
    ...                              protocol="UDP", requests=100)
    >>> len(fig.axes)
    2
    """
    from kubenet_lab.engines.kube_proxy import spread

    counts = spread(cluster, src, service, requests, port, protocol)
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
    if eps:
        left.axhline(1 / len(eps), color=BAD, linestyle="--", linewidth=1.2)
        left.text(len(eps) - 0.5, 1 / len(eps), f" expected 1/{len(eps)}", color=BAD,
                  fontsize=SMALL, va="bottom", ha="right")
    left.set_xticks(range(len(eps)), labels, rotation=20, ha="right", fontsize=7)
    left.set_ylabel("share of connections", fontsize=SMALL)
    left.set_ylim(0, 1.05)
    left.set_title("per endpoint", fontsize=SMALL, loc="left")
    left.tick_params(labelsize=7)
    names = sorted(nodes)
    right.bar(range(len(names)), [nodes[n] / requests for n in names],
              color=PALETTE["node"][0], edgecolor=PALETTE["node"][1])
    if eps:
        for i, n in enumerate(names):
            expected = sum(1 for e in eps if node_of[e] == n) / len(eps)
            right.plot([i - 0.4, i + 0.4], [expected, expected], color=GOOD, linestyle="--",
                       linewidth=1.2)
    right.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=7)
    right.set_ylim(0, 1.05)
    right.set_title("per node (dashed: expected)", fontsize=SMALL, loc="left")
    right.tick_params(labelsize=7)
    return fig


def draw_internet_traffic(cluster: Cluster, services: str | list[str], clients: int = 60,
                          ax: Axes | None = None) -> Figure:
    """Many internet clients hit LoadBalancer Services: one panel per Service (e.g.
    ``externalTrafficPolicy`` Cluster and Local side by side), bars of the connections
    each pod got, coloured by the node that answered, and the share that kept the
    client's IP and that took an extra node hop.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> c.add_cloud_load_balancer()
    >>> _ = c.add_pod("default/w", node="node-1", labels={"app": "w"})
    >>> _ = c.add_service("default/w", type="LoadBalancer", selector={"app": "w"}, ports=[80])
    >>> len(kl.draw_internet_traffic(c, "default/w", clients=10).axes)
    1
    """
    from kubenet_lab.engines.cloud import internet_spread

    names = [services] if isinstance(services, str) else list(services)
    fig = _figure(4.6 * len(names), 3.8) if ax is None else ax.figure
    pods_node = {p.ref: p.node for p in cluster.pods}
    for i, ref in enumerate(names):
        stats = internet_spread(cluster, ref, clients)
        svc = cluster.service(ref)
        a = (fig.add_axes((0.08 + i / len(names), 0.2, 0.8 / len(names), 0.46))
             if ax is None else ax)
        pods = list(stats["pods"])
        a.bar(range(len(pods)), [stats["pods"][p] / clients for p in pods],
              color=PALETTE["pod"][0], edgecolor=PALETTE["pod"][1])
        a.set_xticks(range(len(pods)), [f"{p.split('/')[-1]}\n({pods_node.get(p, '?')})"
                                        for p in pods], fontsize=7)
        a.set_ylim(0, 1.05)
        a.tick_params(labelsize=7)
        a.set_ylabel("share of connections", fontsize=SMALL)
        lb = ", ".join(f"{n} {c}" for n, c in stats["nodes"].items())
        a.set_title(f"{svc.ref}: externalTrafficPolicy {svc.external_traffic_policy}\n"
                    f"LB -> nodes: {lb}\nclient IP kept {stats['kept_client_ip']}/{clients}, "
                    f"extra node hop {stats['extra_hop']}/{clients}",
                    fontsize=SMALL, loc="left", color=TEXT)
    fig.suptitle(f"{clients} internet clients, one connection each", fontsize=TITLE,
                 x=0.02, ha="left", color=TEXT)
    return fig
