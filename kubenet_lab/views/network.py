"""Cluster-wide pictures: the network-model report and the traffic between nodes and pods.

Both take the result object and an optional ``ax`` and return the figure; positions are
fixed (nodes in a row or on a circle in ``cluster.nodes`` order), so the same input
draws the same picture.
"""

from __future__ import annotations

from math import cos, pi, sin
from typing import TYPE_CHECKING, Any

from kubenet_lab.model.arguments import checked
from kubenet_lab.views.pictures import BAD, GOOD, MUTED, PALETTE, TEXT, show_figures_in_notebooks

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


def _figure(ax: Any, w: float, h: float) -> tuple[Any, Any]:
    if ax is None:
        from matplotlib.figure import Figure

        show_figures_in_notebooks()
        fig = Figure(figsize=(w, h), dpi=100)
        ax = fig.add_axes((0.02, 0.02, 0.96, 0.86))
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
    """The nodes in a row, each failing pair as a red arc from the source's node to the
    destination's, labelled with the hop where the packet was lost or rewritten; the
    rules with their verdicts above.

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
    y = 0.25 * len(problems) + 0.75
    height = y + 2.9
    fig, ax = _figure(ax, width, height)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    xs = {n: 0.95 + i * 1.9 for i, n in enumerate(nodes)}
    for n, x in xs.items():
        bad = n in involved
        face, edge = PALETTE["node"]
        ax.add_patch(FancyBboxPatch((x - 0.75, y - 0.3), 1.5, 0.6,
                                    boxstyle="round,pad=0.02,rounding_size=0.08",
                                    facecolor=face, edgecolor=BAD if bad else edge,
                                    lw=2.0 if bad else 1.2))
        ax.text(x, y, n, ha="center", va="center", fontsize=9, color=TEXT, fontweight="bold")
    hidden = len(report.nodes) - len(nodes)
    if hidden:
        ax.text(width - 0.1, y - 0.5, f"... and {hidden} more nodes", ha="right", fontsize=8,
                color=MUTED)
    for i, p in enumerate(problems):
        if p.src_node not in xs or p.dst_node not in xs:
            continue
        a, b = xs[p.src_node], xs[p.dst_node]
        rad = -0.5 - 0.12 * i
        if a == b:
            a, b, rad = a - 0.35, a + 0.35, -1.4 - 0.2 * i
        ax.add_patch(FancyArrowPatch((a, y + 0.32), (b, y + 0.32), connectionstyle=f"arc3,"
                                     f"rad={rad if a < b else -rad}", arrowstyle="-|>",
                                     mutation_scale=12, color=BAD, lw=1.6))
        where = f"hop {p.hop}: {p.where}" if p.hop else "conflict"
        ax.text(0.15, y - 0.5 - 0.25 * i, f"{i + 1}. {p.src} -> {p.dst}  ({where})",
                fontsize=7.5, color=BAD, va="top")
        ax.text((a + b) / 2, y + 0.42 + abs(rad) * abs(b - a) / 2, str(i + 1), fontsize=8,
                color="white", ha="center", va="center", fontweight="bold",
                bbox={"boxstyle": "circle,pad=0.15", "facecolor": BAD, "edgecolor": "none"})
    for i, rule in enumerate(report.rules):
        mark, colour = ("ok", GOOD) if rule.ok else ("FAIL", BAD)
        text = _SHORT_RULES[i] if i < len(_SHORT_RULES) else rule.rule
        ax.text(0.15 + i * width / 3, height - 0.1, f"[{mark}] {i + 1}. {text}", fontsize=8.5,
                color=colour, va="top", fontweight="bold")
    if report.ok:
        title = f"Network model (cni={report.cni}): all {len(report.rules)} rules hold"
    else:
        title = (f"Network model (cni={report.cni}): {len(report.problems)} problem"
                 f"{'s' if len(report.problems) != 1 else ''}")
    ax.set_title(title, fontsize=10, color=TEXT)
    if len(report.problems) > len(problems):
        ax.text(width - 0.1, 0.05, f"+{len(report.problems) - len(problems)} more problems "
                "(see the text report)", ha="right", fontsize=7.5, color=MUTED)
    return fig


@checked(top_pairs=(0, 1000))
def draw_traffic(report: TrafficReport, ax: Axes | None = None, *,
                 top_pairs: int = 30) -> Figure:
    """Two panels: node-to-node bytes on the wire (line widths by volume, with the
    overlay's share) and pod-to-pod payload (the ``top_pairs`` biggest pairs).

    >>> c = kl.Cluster(workers=2)
    >>> for i in range(4): _ = c.add_pod(f"default/p{i}")
    >>> fig = draw_traffic(c.traffic(requests=10, seed=1))
    >>> [a.get_title() for a in fig.axes]  # doctest: +NORMALIZE_WHITESPACE
    ['Node to node: bytes on the VPC wire (VXLAN headers in purple)',
     'Pod to pod: payload (widest = biggest)']
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, FancyArrowPatch

    if ax is None:
        show_figures_in_notebooks()
        fig = Figure(figsize=(12, 5.6), dpi=100)
        left = fig.add_axes((0.01, 0.02, 0.48, 0.88))
        right = fig.add_axes((0.51, 0.02, 0.48, 0.88))
    else:
        fig = ax.figure
        left, right = ax, None
    overlay_colour = PALETTE["overlay"][1]
    nodes = list(report.nodes)
    count = max(len(nodes), 1)
    pos = {n: (cos(pi / 2 - 2 * pi * i / count), sin(pi / 2 - 2 * pi * i / count))
           for i, n in enumerate(nodes)}
    left.set_xlim(-1.75, 1.75)
    left.set_ylim(-1.5, 1.5)
    left.set_aspect("equal")
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
        left.plot([x1, x2], [y1, y2], color="#455a64", lw=lw, alpha=0.55, solid_capstyle="round",
                  zorder=1)
        if over:
            left.plot([x1, x2], [y1, y2], color=overlay_colour, lw=max(lw * over / total, 1.0),
                      zorder=2)
        left.text(x1 + 0.38 * (x2 - x1), y1 + 0.38 * (y2 - y1), human_bytes(total), fontsize=7,
                  ha="center",
                  va="center", color=TEXT, zorder=4,
                  bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none",
                        "alpha": 0.8})
    for n, (x, y) in pos.items():
        local = report.local_bytes.get(n, 0)
        left.add_patch(Circle((x, y), 0.16, facecolor=PALETTE["node"][0],
                              edgecolor=PALETTE["node"][1], lw=1.4, zorder=3))
        label = n if not local else f"{n}\n(local {human_bytes(local)})"
        left.text(x * 1.42, y * 1.3, label, fontsize=7.5, ha="center", va="center", color=TEXT,
                  zorder=4)
    left.set_title(f"Node to node: bytes on the VPC wire "
                   f"({'VXLAN' if report.cni in ('flannel', 'cilium') else 'overlay'} headers "
                   "in purple)", fontsize=9.5, color=TEXT)
    if report.overlay_total:
        left.text(-1.75, 1.45, f"overlay headers: {human_bytes(report.overlay_total)} of "
                  f"{human_bytes(report.wire_total)} on the wire "
                  f"({100 * report.overlay_total / report.wire_total:.1f}%)", fontsize=8,
                  ha="left", va="top", color=overlay_colour)
    if right is None:
        return fig
    right.set_xlim(-1.35, 1.35)
    right.set_ylim(-1.35, 1.35)
    right.set_aspect("equal")
    right.set_axis_off()
    pod_nodes = report.pod_nodes or {}
    pairs = sorted(report.pod_bytes.items(), key=lambda kv: (-kv[1], kv[0]))[:top_pairs]
    pods = sorted({p for pair, _ in pairs for p in pair},
                  key=lambda p: (nodes.index(pod_nodes.get(p, nodes[0])), p))
    colours = ["#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#c62828", "#00838f", "#5d4037",
               "#ad1457"]
    ppos = {p: (cos(pi / 2 - 2 * pi * i / max(len(pods), 1)),
                sin(pi / 2 - 2 * pi * i / max(len(pods), 1))) for i, p in enumerate(pods)}
    top = pairs[0][1] if pairs else 1
    for (a, b), size in pairs:
        same = pod_nodes.get(a) == pod_nodes.get(b)
        right.add_patch(FancyArrowPatch(ppos[a], ppos[b], connectionstyle="arc3,rad=0.2",
                                        arrowstyle="-", lw=0.6 + 5 * size / top,
                                        color="#2e7d32" if same else "#455a64", alpha=0.6))
    for p, (x, y) in ppos.items():
        colour = colours[nodes.index(pod_nodes.get(p, nodes[0])) % len(colours)]
        right.add_patch(Circle((x, y), 0.035, color=colour, zorder=3))
        right.text(x * 1.12, y * 1.12, p.split("/", 1)[1], fontsize=6, ha="center",
                   va="center", color=colour, rotation=0)
    right.set_title("Pod to pod: payload (widest = biggest)", fontsize=9.5, color=TEXT)
    right.text(0, -1.32, "green: both pods on one node (never on the wire)", fontsize=7.5,
               ha="center", color="#2e7d32")
    return fig
