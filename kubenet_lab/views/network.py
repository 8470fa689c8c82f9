"""Cluster-wide pictures: the network-model report and the traffic between nodes and pods.

Both take the result object and an optional ``ax`` and return the figure; positions are
fixed (nodes in a row or on a circle in ``cluster.nodes`` order), so the same input
draws the same picture.
"""

from __future__ import annotations

from math import cos, pi, sin
from typing import TYPE_CHECKING, Any

from kubenet_lab.model.arguments import checked
from kubenet_lab.views.pictures import (
    BAD,
    BAD_TEXT,
    GOOD_TEXT,
    MAX_WIDTH,
    MUTED,
    OKABE_ITO,
    OVERLAY_TEXT,
    PALETTE,
    SMALL,
    TEXT,
    fit,
    show_figures_in_notebooks,
    text_width,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from kubenet_lab.model.traffic import TrafficReport
    from kubenet_lab.model.verification import NetworkModelReport

__all__ = ["draw_network_model", "draw_traffic", "human_bytes"]

MAX_NODES = 8
MAX_PROBLEMS = 5
_SHORT_RULES = ("unique pod IPs", "pod to pod, no NAT", "node agents to its pods")


@checked
def human_bytes(n: float) -> str:
    """``1,234,567`` -> ``'1.2 MB'`` (decimal units, as ``ip -s link -h`` does).

    >>> human_bytes(950), human_bytes(12_345), human_bytes(3_400_000)
    ('950 B', '12.3 kB', '3.4 MB')
    """
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def _figure(ax: Any, w: float, h: float, title: float = 0.35) -> tuple[Any, Any]:
    """A figure of ``w`` x ``h`` inches of drawing (one data unit an inch) and ``title``
    inches above it for the axes' title, or ``ax``."""
    if ax is None:
        from matplotlib.figure import Figure

        show_figures_in_notebooks()
        fig = Figure(figsize=(w, h + title), dpi=100)
        ax = fig.add_axes((0, 0, 1, h / (h + title)))
    ax.set_axis_off()
    return ax.figure, ax


def _shown_nodes(all_nodes: tuple[str, ...], wanted: list[str]) -> list[str]:
    keep = [n for n in all_nodes if n in wanted]
    for n in all_nodes:
        if len(keep) >= MAX_NODES:
            break
        if n not in keep:
            keep.append(n)
    return [n for n in all_nodes if n in keep]


@checked
def draw_network_model(report: NetworkModelReport, ax: Axes | None = None) -> Figure:
    """The rules with their verdicts (``[ok]`` or ``[FAIL]``) on top, then the nodes in a
    row, each failing pair as a numbered arc from the source's node to the destination's,
    and under the nodes the numbered list of failing pairs with the hop where the packet
    was lost or rewritten. The picture is only as tall as what it has to show: a model
    that holds is the rules and the nodes.

    >>> r = kl.Cluster(workers=2).verify_network_model()
    >>> fig = draw_network_model(r)
    >>> fig.axes[0].get_title()
    'Network model (cni=flannel): all 3 rules hold'
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    problems = report.problems[:MAX_PROBLEMS]
    involved = [p.src_node for p in problems] + [p.dst_node for p in problems]
    nodes = _shown_nodes(report.nodes, involved)
    width = max(len(nodes) * 1.9, 7.5)
    xs = {n: 0.95 + i * 1.9 for i, n in enumerate(nodes)}
    arcs = []  # (number, start x, end x, rad, height of the arc's top above the nodes)
    for i, p in enumerate(problems):
        if p.src_node not in xs or p.dst_node not in xs:
            continue
        a, b = xs[p.src_node], xs[p.dst_node]
        rad = -0.5 - 0.12 * i
        if a == b:
            a, b, rad = a - 0.35, a + 0.35, -1.4 - 0.2 * i
        arcs.append((i + 1, a, b, rad, abs(rad) * abs(b - a) / 2))
    arc_room = max((h for *_, h in arcs), default=0) + (0.45 if arcs else 0)
    listed = 0.25 * len(problems) + (0.25 if problems else 0)
    hidden = len(report.nodes) - len(nodes)
    below = listed + (0.3 if hidden or len(report.problems) > len(problems) else 0) + 0.15
    y = below + 0.3  # the nodes' centre line
    height = y + 0.3 + arc_room + 0.45  # the rules' line at the top
    fig, ax = _figure(ax, width, height)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    for n, x in xs.items():
        bad = n in involved
        face, edge = PALETTE["node"]
        ax.add_patch(FancyBboxPatch((x - 0.75, y - 0.3), 1.5, 0.6,
                                    boxstyle="round,pad=0.02,rounding_size=0.08",
                                    facecolor=face, edgecolor=BAD if bad else edge,
                                    lw=2.0 if bad else 1.2, ls="--" if bad else "-"))
        ax.text(x, y, n, ha="center", va="center", fontsize=9, color=TEXT, fontweight="bold")
    if hidden:
        ax.text(width - 0.1, y - 0.5, f"... and {hidden} more nodes", ha="right", fontsize=8,
                color=MUTED)
    for number, a, b, rad, rise in arcs:
        ax.add_patch(FancyArrowPatch((a, y + 0.32), (b, y + 0.32), connectionstyle=f"arc3,"
                                     f"rad={rad if a < b else -rad}", arrowstyle="-|>",
                                     mutation_scale=12, color=BAD, lw=1.6))
        ax.text((a + b) / 2, y + 0.32 + rise, str(number), fontsize=8,
                color="white", ha="center", va="center", fontweight="bold",
                bbox={"boxstyle": "circle,pad=0.15", "facecolor": BAD, "edgecolor": "none"})
    for i, p in enumerate(problems):
        where = f"hop {p.hop}: {p.where}" if p.hop else "conflict"
        ax.text(0.15, y - 0.5 - 0.25 * i, f"{i + 1}. {p.src} -> {p.dst}  ({where})",
                fontsize=8, color=BAD_TEXT, va="top")
    for i, rule in enumerate(report.rules):
        mark, colour = ("ok", GOOD_TEXT) if rule.ok else ("FAIL", BAD_TEXT)
        text = _SHORT_RULES[i] if i < len(_SHORT_RULES) else rule.rule
        ax.text(0.15 + i * width / 3, height - 0.12, f"[{mark}] {i + 1}. {text}", fontsize=8.5,
                color=colour, va="top", fontweight="bold")
    if report.ok:
        title = f"Network model (cni={report.cni}): all {len(report.rules)} rules hold"
    else:
        title = (f"Network model (cni={report.cni}): {len(report.problems)} problem"
                 f"{'s' if len(report.problems) != 1 else ''}")
    ax.set_title(title, fontsize=10, color=TEXT)
    if len(report.problems) > len(problems):
        ax.text(width - 0.1, 0.08, f"+{len(report.problems) - len(problems)} more problems "
                "(see the text report)", ha="right", fontsize=8, color=MUTED)
    return fig


#: Each node's pods in the traffic picture: an Okabe-Ito colour and a marker shape of
#: their own (so a pod's node reads from the shape as well as the colour).
NODE_STYLES = (("#0072B2", "o"), ("#E69F00", "s"), ("#009E73", "^"), ("#D55E00", "D"),
               ("#CC79A7", "v"), ("#56B4E9", "P"), ("#000000", "X"), ("#999999", "h"))
#: The longest pod name the traffic picture writes, in inches (longer names are cut in
#: the middle, as ``fit`` does).
POD_LABEL_W = 1.1
LOCAL, WIRE_EDGE = OKABE_ITO["bluish green"], "#5b6573"


@checked(top_pairs=(0, 1000))
def draw_traffic(report: TrafficReport, ax: Axes | None = None, *,
                 top_pairs: int = 30) -> Figure:
    """Two panels: node-to-node bytes on the wire (line widths by volume, with the
    overlay's share) and pod-to-pod payload (the ``top_pairs`` biggest pairs).

    On the left, each node is a box on a circle, with the payload its own pods exchanged
    (``local``); each pair of nodes is a grey line as wide as the bytes between them,
    labelled with the total, and its overlay headers (VXLAN or IP-in-IP) are the purple
    line inside it. On the right, the pods are on the two sides of a circle, grouped by
    node, each a marker whose shape and colour say its node (the legend under it); a pair
    is a grey arc as wide as its payload, dashed green when both pods are on one node
    (that traffic never reaches the wire). Names are written beside their markers, left
    of the left side and right of the right side, so no label covers another or a marker.
    The figure is as wide as a notebook's text column and grows taller with the pods.

    >>> c = kl.Cluster(workers=2)
    >>> for i in range(4): _ = c.add_pod(f"default/p{i}")
    >>> fig = draw_traffic(c.traffic(requests=10, seed=1))
    >>> [a.get_title() for a in fig.axes]  # doctest: +NORMALIZE_WHITESPACE
    ['Node to node: bytes on the VPC wire (VXLAN headers in purple)',
     'Pod to pod: payload (widest = biggest)']
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    nodes = list(report.nodes)
    pod_nodes = report.pod_nodes or {}
    pairs = sorted(report.pod_bytes.items(), key=lambda kv: (-kv[1], kv[0]))[:top_pairs]
    pods = sorted({p for pair, _ in pairs for p in pair},
                  key=lambda p: (nodes.index(pod_nodes.get(p, nodes[0])), p))
    # left: the nodes on a circle big enough for their boxes
    count = max(len(nodes), 1)
    box_w, box_h = 1.2, 0.46
    radius = max(1.15, count * (box_w + 0.15) / (2 * pi))
    left_w = max(2 * radius + box_w + 0.3, 4.45)  # and room for the panel's title
    # right: the pods on the two sides of a circle, a row of text apart
    per_side = -(-len(pods) // 2)
    spread = 0.24 * max(per_side - 1, 1)  # the height a side's pods take
    label_w = min(POD_LABEL_W, max((text_width(p.split("/", 1)[-1], SMALL) for p in pods),
                                   default=0.5))
    right_w = MAX_WIDTH - left_w
    pod_r = max(0.8, (right_w - 2 * (label_w + 0.25)) / 2)
    height = max(2 * radius + box_h + 0.5, spread / sin(pi / 180 * 65) + 0.7, 3.0)
    legend_h, title_h = 0.55, 0.75
    if ax is None:
        show_figures_in_notebooks()
        total_h = height + legend_h + title_h
        fig = Figure(figsize=(MAX_WIDTH, total_h), dpi=100)
        left = fig.add_axes((0, legend_h / total_h, left_w / MAX_WIDTH, height / total_h))
        right = fig.add_axes((left_w / MAX_WIDTH, legend_h / total_h, right_w / MAX_WIDTH,
                              height / total_h))
    else:
        fig = ax.figure
        left, right = ax, None
    overlay_colour = PALETTE["overlay"][1]
    pos = {n: (radius * cos(pi / 2 - 2 * pi * i / count), radius * sin(pi / 2 - 2 * pi * i / count))
           for i, n in enumerate(nodes)}
    left.set_xlim(-left_w / 2, left_w / 2)
    left.set_ylim(-height / 2, height / 2)
    left.set_aspect("equal", adjustable="datalim")
    left.set_axis_off()
    merged: dict[tuple[str, str], tuple[int, int]] = {}
    for (a, b), size in report.node_bytes.items():
        key = (a, b) if (a, b) <= (b, a) else (b, a)
        total, over = merged.get(key, (0, 0))
        merged[key] = (total + size, over + report.overlay_bytes.get((a, b), 0))
    biggest = max((t for t, _ in merged.values()), default=1) or 1
    for (a, b), (total, over) in sorted(merged.items()):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        lw = 1 + 11 * total / biggest
        left.plot([x1, x2], [y1, y2], color=WIRE_EDGE, lw=lw, alpha=0.5,
                  solid_capstyle="butt", zorder=1)
        if over:
            left.plot([x1, x2], [y1, y2], color=overlay_colour, lw=max(lw * over / total, 1.5),
                      solid_capstyle="butt", zorder=2)
        left.text(x1 + 0.4 * (x2 - x1), y1 + 0.4 * (y2 - y1), human_bytes(total),
                  fontsize=SMALL, ha="center", va="center", color=TEXT, zorder=4,
                  bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none",
                        "alpha": 0.9})
    for n, (x, y) in pos.items():
        local = report.local_bytes.get(n, 0)
        left.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                      boxstyle="round,pad=0,rounding_size=0.08",
                                      facecolor=PALETTE["node"][0], edgecolor=PALETTE["node"][1],
                                      lw=1.2, zorder=3))
        label = fit(n, SMALL, box_w - 0.1, True)
        left.text(x, y + (0.09 if local else 0), label, fontsize=SMALL, ha="center",
                  va="center", color=TEXT, fontweight="bold", zorder=4)
        if local:
            left.text(x, y - 0.11, f"local {human_bytes(local)}", fontsize=SMALL,
                      ha="center", va="center", color=MUTED, zorder=4)
    left.set_title(f"Node to node: bytes on the VPC wire "
                   f"({'VXLAN' if report.cni in ('flannel', 'cilium') else 'overlay'} headers "
                   "in purple)", fontsize=9.5, color=TEXT)
    if report.overlay_total:
        left.text(-left_w / 2 + 0.1, height / 2 - 0.05,
                  f"overlay headers: {human_bytes(report.overlay_total)} of "
                  f"{human_bytes(report.wire_total)} on the wire "
                  f"({100 * report.overlay_total / report.wire_total:.1f}%)", fontsize=SMALL,
                  ha="left", va="top", color=OVERLAY_TEXT)
    if right is None:
        return fig
    right.set_xlim(-right_w / 2, right_w / 2)
    right.set_ylim(-height / 2, height / 2)
    right.set_aspect("equal", adjustable="datalim")
    right.set_axis_off()
    # the first half down the left side, the rest up the right side: neighbours on the
    # circle stay neighbours, each side's labels stack a row apart
    half = per_side
    top = min(spread / 2, pod_r * sin(pi / 180 * 65))
    ppos: dict[str, tuple[float, float, bool]] = {}
    for i, p in enumerate(pods):
        right_side = i >= half
        k, m = (i - half, len(pods) - half) if right_side else (i, half)
        y = top - 2 * top * k / max(m - 1, 1) if m > 1 else 0.0
        if right_side:
            y = -y
        x = (pod_r ** 2 - min(y * y, pod_r ** 2)) ** 0.5
        ppos[p] = (x if right_side else -x, y, right_side)
    peak = pairs[0][1] if pairs else 1
    for (a, b), size in pairs:
        same = pod_nodes.get(a) == pod_nodes.get(b)
        (xa, ya, _), (xb, yb, _) = ppos[a], ppos[b]
        right.add_patch(FancyArrowPatch((xa, ya), (xb, yb), connectionstyle="arc3,rad=0.2",
                                        arrowstyle="-", lw=0.8 + 5 * size / peak,
                                        linestyle="--" if same else "-",
                                        color=LOCAL if same else WIRE_EDGE,
                                        alpha=0.85 if same else 0.55, zorder=1))
    for p, (x, y, right_side) in ppos.items():
        colour, marker = NODE_STYLES[nodes.index(pod_nodes.get(p, nodes[0])) % len(NODE_STYLES)]
        right.plot([x], [y], marker=marker, markersize=8, color=colour, markeredgecolor="white",
                   markeredgewidth=0.8, zorder=3, linestyle="")
        name = fit(p.split("/", 1)[-1], SMALL, POD_LABEL_W)
        right.text(x + (0.12 if right_side else -0.12), y, name, fontsize=SMALL,
                   ha="left" if right_side else "right", va="center", color=TEXT, zorder=4)
    right.set_title("Pod to pod: payload (widest = biggest)", fontsize=9.5, color=TEXT)
    handles = [Line2D([], [], ls="", marker=NODE_STYLES[i % len(NODE_STYLES)][1],
                      color=NODE_STYLES[i % len(NODE_STYLES)][0], markersize=8,
                      label=n) for i, n in enumerate(nodes)
               if any(pod_nodes.get(p) == n for p in pods)]
    handles += [Line2D([], [], color=WIRE_EDGE, lw=2, alpha=0.55,
                       label="pods on two nodes (on the wire)"),
                Line2D([], [], color=LOCAL, lw=2, ls="--",
                       label="both pods on one node (never on the wire)")]
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.01, 0.01),
               ncol=_legend_columns(handles), fontsize=SMALL, frameon=False,
               title="a pod's marker says its node", title_fontsize=SMALL,
               alignment="left", handlelength=1.8, columnspacing=1.2)
    return fig


def _legend_columns(handles: list[Any]) -> int:
    """As many columns as fit in ``MAX_WIDTH`` (handle, pad and label of each entry)."""
    widths = [text_width(h.get_label(), SMALL) + 0.45 for h in handles]
    for ncol in range(len(handles), 1, -1):
        per = -(-len(handles) // ncol)
        cols = [widths[i:i + per] for i in range(0, len(widths), per)]
        if sum(max(c) for c in cols) <= MAX_WIDTH - 0.3:
            return len(cols)
    return 1
