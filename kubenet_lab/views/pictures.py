"""Pictures of the cluster, of a packet's path through it and of a pod's inside.

All pictures are drawn with matplotlib's object API (``matplotlib.figure.Figure``, no
pyplot state), take an optional ``ax`` and return the ``Figure`` they drew on. They are
deterministic: every position comes from :func:`layout`, which depends only on the
cluster.

Public: :func:`draw_cluster`, :func:`draw_trace`, :func:`draw_pod` and :func:`layout`.

Each node is a column, side by side in ``Cluster.nodes`` order (control plane first)::

    +--------------------------------------+
    | node-1                          (lo) |  header: name, IP and podCIDR
    | IP 10.0.1.5 · podCIDR 10.244.1.0/24  |
    |                  +---------------+   |
    |                  | a             |   |  the pods, one under the other
    |                  | 10.244.1.2    |   |
    |                  +-----------o---+   |  o: the pod's eth0
    |          +-------------------+       |  its veth runs under the pod, then down
    |          |       veth9efb3611        |  a lane of its own; lanes nest, so no
    |          |       +---------------+   |  wire crosses a wire or a pod
    |          |       | b             |   |
    |          |       | 10.244.1.3    |   |
    |          |       +-----------o---+   |
    |          |  +----------------+       |
    |          |  |    veth3e412b5f        |
    |   [======+==+===== cni0 10.244.1.1/24]  the bridge
    |         [flannel.1 10.244.1.0/32 ]   |  VXLAN device, off the cni0-eth0 line
    |   [eth0 10.0.1.5/24]                 |
    +-----|--------------------------------+
    ======+============ VPC subnet 10.0.1.0/24

The picture grows downward with the pods (notebooks scroll) and sideways only with the
nodes. Positions are in inches, x to the right and y upward from the top-left corner
of the first node; a figure made here shows one inch per unit, so its 8-point text never
collides with the boxes, up to ``MAX_WIDTH`` (the width of a notebook's text column at
100 dpi): a wider picture (four nodes side by side) is shrunk as a whole to it, text
included, as on a smaller ``ax`` passed in, where text and lines shrink with it.
A packet's path follows the wires: down a pod's lane to the bridge, down the node's
eth0 to the subnet, along the subnet to the other node.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from kubenet_lab.dataplane.cni import BRIDGE, VXLAN_DEVICE, VXLAN_VNI, plugin
from kubenet_lab.dataplane.topology import topology
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.arguments import checked
from kubenet_lab.model.packet import UDP

if TYPE_CHECKING:
    from collections.abc import Iterable

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from kubenet_lab.cluster import Cluster
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView
    from kubenet_lab.model.trace import Hop, Trace

__all__ = ["cluster_layout", "draw_cluster", "draw_pod", "draw_trace"]

Point = tuple[float, float]
Key = tuple[str, str, str]

# ---------------------------------------------------------------------------- style
#: Okabe and Ito's palette ("Color Universal Design", https://jfly.uni-koeln.de/color/;
#: B. Wong, "Points of view: Color blindness", Nature Methods 8, 441, 2011): eight colours
#: that people with each common colour-vision deficiency still tell apart. The pictures
#: take their colours from it, and meaning never rests on colour alone: a check or a
#: cross, a dash, a marker's shape or a word goes with it.
OKABE_ITO = {
    "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
    "reddish purple": "#CC79A7", "black": "#000000",
}
#: (face, edge) colours of each kind of thing: an Okabe-Ito edge on a light tint of it.
PALETTE = {
    "node": ("#f5f7fa", "#5b6573"),
    "pod": ("#dff2eb", OKABE_ITO["bluish green"]),
    "bridge": ("#fcebc8", OKABE_ITO["orange"]),
    "overlay": ("#f7e4ee", OKABE_ITO["reddish purple"]),
    "network": ("#e4f1fa", OKABE_ITO["sky blue"]),
    "device": ("#ffffff", "#5b6573"),
    "crash": ("#f9dcc8", OKABE_ITO["vermillion"]),
    "pause": ("#eeeeee", "#8a8a8a"),
    "cloud": ("#fbf7d3", "#a39400"),  # Okabe-Ito yellow, darkened to show as a line
}
WIRE = "#4d4d4d"
TEXT = "#1f1f1f"
MUTED = "#5e5e5e"
#: a packet's path; the stretch inside a tunnel takes the overlay's colour, dashed
PATH = OKABE_ITO["blue"]
#: text in the overlay's colour (its reddish purple is too light for small text)
OVERLAY_TEXT = "#9c4f7c"
HIGHLIGHT = OKABE_ITO["yellow"]
#: delivered / allowed (always with a check mark) and dropped / blocked (with a cross)
GOOD, BAD = OKABE_ITO["bluish green"], OKABE_ITO["vermillion"]
#: darker shades of GOOD and BAD for text on white (the same hues, WCAG contrast >= 4.5)
GOOD_TEXT, BAD_TEXT = "#00795a", "#b34700"
SMALL, BODY, HEAD, TITLE = 8, 8.5, 9.5, 10
#: The widest a new figure gets, in inches: at 100 dpi (``Figure(dpi=100)``), with the
#: 0.1 in the inline backend pads a tight bounding box with, the stored PNG stays within
#: the 1000 px of a notebook's text column, which JupyterLab would otherwise shrink it to
#: (``max-width: 100%`` on output images), text included.
MAX_WIDTH = 9.6

# ---------------------------------------------------------------------------- geometry
NODE_GAP = 0.28  # between node boxes
PAD = 0.1  # inside a node box
CORRIDOR = 0.14  # x of the header point: paths from the node's own stack run down here
SPINE = 0.32  # x of cni0, eth0 (and the line to the VPC subnet)
OVERLAY_X = 0.6  # x of flannel.1's point: off the spine, so cni0 -> eth0 is visibly direct
FIRST_LANE = 0.42  # x of the outermost veth lane
LANE = 0.11  # between veth lanes
LANE_TO_POD = 0.13  # from the innermost lane to the pods
MIN_NODE_W = 2.42
POD_W, POD_H, POD_GAP = 1.2, 0.46, 0.34
NAME_Y, INFO_Y, PODS_TOP = -0.2, -0.42, -0.64
INFO_LINE = 0.19  # between the lines under a node's name
BAR_H, FLANNEL_H, ETH_H, NET_H = 0.22, 0.42, 0.26, 0.24
HOP_R, STEP_R, FADED = 0.1, 0.14, 0.25  # hop circles' radii; alpha of hops after a step
#: where a hop at the same place as an earlier one is drawn, from that place's role
DUP_STEP = {"node-eth0": (0.0, 0.25), "cni0": (0.0, -0.25), "lo": (-0.25, 0.0),
            "header": (0.0, -0.25)}  # kube-proxy's rule steps stack down the corridor
DUP_DEFAULT = (0.25, 0.0)


@dataclass(frozen=True)
class _PodSlot:
    pod: Pod
    x: float  # box left
    y: float  # box bottom
    veth: str
    eth0: Point
    stub_y: float
    lane_x: float


@dataclass(frozen=True)
class _NodeColumn:
    node: Node
    x: float
    pods: tuple[_PodSlot, ...]
    hidden: int
    has_pods: bool  # the node runs pods (so its cni0 bridge exists)


@dataclass(frozen=True)
class _Geometry:
    columns: tuple[_NodeColumn, ...]
    points: dict[Key, Point]
    node_w: float
    width: float
    rows: dict[str, float]
    subnet: str
    cloud: tuple = ()  # (name, lines, x, y, width) of the gateways and load balancers
    pods_top: float = PODS_TOP  # lower when a node's header has a second line
    split_header: bool = False  # the nodes' IP and podCIDR on two lines


def _rows(slots: int, pods_top: float = PODS_TOP) -> dict[str, float]:
    """The y of each horizontal band, the same in every node."""
    r = {"pods_bottom": pods_top - slots * (POD_H + POD_GAP)}
    r["bar_top"] = r["pods_bottom"] - 0.02
    r["bar_y"] = r["bar_top"] - BAR_H / 2
    r["flannel_top"] = r["bar_top"] - BAR_H - 0.28
    r["flannel_y"] = r["flannel_top"] - FLANNEL_H / 2
    r["eth_top"] = r["flannel_top"] - FLANNEL_H - 0.26
    r["eth_y"] = r["eth_top"] - ETH_H / 2
    r["node_bottom"] = r["eth_top"] - ETH_H - 0.14
    r["net_top"] = r["node_bottom"] - 0.4
    r["net_y"] = r["net_top"] - NET_H / 2
    r["net_bottom"] = r["net_top"] - NET_H
    r["bottom"] = r["net_bottom"]
    return r


def select_pods(
    cluster: StoreView,
    *,
    nodes: Iterable[str] | None = None,
    namespaces: str | Iterable[str] | None = None,
    max_pods: int = 8,
    keep: Iterable[str] = (),
) -> list[tuple[Node, list[Pod], int, bool]]:
    """For each node to draw: its pods to draw, how many are left out, whether it has pods."""
    if isinstance(namespaces, str):
        namespaces = [namespaces]
    wanted_ns = None if namespaces is None else set(namespaces)
    wanted_nodes = None if nodes is None else set(nodes)
    keep = set(keep)
    by_node: dict[str, list[Pod]] = {}
    for pod in cluster.pods:  # natural order, as the model gives it
        by_node.setdefault(pod.node, []).append(pod)
    selection = []
    for node in cluster.nodes:
        if wanted_nodes is not None and node.name not in wanted_nodes:
            continue
        pods = by_node.get(node.name, [])
        wanted = [p for p in pods if wanted_ns is None or p.namespace in wanted_ns]
        room = max(max_pods - sum(p.ref in keep for p in wanted), 0)
        shown = []
        for pod in wanted:  # the kept pods, and the first others while there is room
            if pod.ref in keep or room > 0:
                room -= pod.ref not in keep
                shown.append(pod)
        selection.append((node, shown, len(wanted) - len(shown), bool(pods)))
    return selection


def geometry(cluster: StoreView, selection: list[tuple[Node, list[Pod], int, bool]],
              only: set[str] | None = None) -> _Geometry:
    lanes = max((len(shown) for _, shown, _, _ in selection), default=0)
    slots = max([1] + [len(shown) + (1 if hidden else 0) for _, shown, hidden, _ in selection])
    min_w = max([MIN_NODE_W] + [text_width(line, SMALL) + 0.4  # a public IP's lines
                                for node, _, _, _ in selection if node.public_ip
                                for line in _header(node)])
    pod_left = max(FIRST_LANE + max(lanes - 1, 0) * LANE + LANE_TO_POD, min_w - PAD - POD_W)
    node_w = pod_left + POD_W + PAD
    # a header too long for the node (Calico's /26 podCIDRs) puts the podCIDR on a line of
    # its own in every node, rather than cutting it
    split = any(text_width(_header(node)[0], SMALL) > node_w - 0.34
                for node, _, _, _ in selection)
    lines = max((len(_header(node, split)) for node, _, _, _ in selection), default=1)
    pods_top = PODS_TOP - (lines - 1) * INFO_LINE
    rows = _rows(slots, pods_top)
    points: dict[Key, Point] = {}
    columns = []
    for i, (node, shown, hidden, has_pods) in enumerate(selection):
        x = i * (node_w + NODE_GAP)
        slots_ = []
        for r, pod in enumerate(shown):
            top = pods_top - r * (POD_H + POD_GAP)
            left, bottom = x + pod_left, top - POD_H
            lane_x = left - LANE_TO_POD - (len(shown) - 1 - r) * LANE
            slot = _PodSlot(pod, left, bottom, _host_end(cluster, pod),
                            (left + POD_W - 0.22, bottom), bottom - 0.1, lane_x)
            slots_.append(slot)
            points[("pod", pod.ref, "")] = (left + POD_W / 2, bottom + POD_H / 2)
            points[("pod", pod.ref, "eth0")] = slot.eth0
            points[("pod", pod.ref, "lo")] = (left + POD_W - 0.4, bottom + POD_H / 2 + 0.01)
            points[("node", node.name, slot.veth)] = (lane_x, slot.stub_y)
        points[("node", node.name, "")] = (x + CORRIDOR, NAME_Y)
        points[("node", node.name, "lo")] = (x + node_w - PAD - 0.36, NAME_Y)
        points[("node", node.name, BRIDGE)] = (x + SPINE, rows["bar_y"])
        points[("node", node.name, _overlay(cluster, node)[0])] = (x + OVERLAY_X,
                                                                    rows["flannel_y"])
        points[("node", node.name, "eth0")] = (x + SPINE, rows["eth_y"])
        columns.append(_NodeColumn(node, x, tuple(slots_), hidden, has_pods))
    width = max(len(selection) * (node_w + NODE_GAP) - NODE_GAP, node_w)
    subnet = cluster.vpc.subnets[0].cidr
    points[("network", subnet, "")] = (width / 2, rows["net_y"])
    for other in cluster.vpc.subnets[1:]:
        points[("network", other.cidr, "")] = (width * 0.75, rows["net_y"])
    cloud: tuple = ()
    if _has_cloud(cluster):
        cloud = _cloud_points(cluster, points, rows, width, only)
    return _Geometry(tuple(columns), points, node_w, width, rows, subnet, cloud, pods_top,
                     split)


def _has_cloud(cluster: StoreView) -> bool:
    """Does the cluster have anything outside its subnet to draw (public subnet, NAT
    gateway, cloud load balancers)? Clusters without stay drawn as before."""
    return len(cluster.vpc.subnets) > 1 or bool(cluster.nat_gateways or cluster.load_balancers)


def _cloud_points(cluster: StoreView, points: dict[Key, Point], rows: dict[str, float],
                  width: float, only: set[str] | None = None) -> tuple:
    """The band under the VPC subnet (NAT gateway, load balancers, internet gateway) and
    the internet under it. Items sit side by side, or one under the other when they do
    not fit; ``only`` keeps just the places a trace visits."""
    items: list[tuple[str, list[str]]] = []
    for gw in cluster.nat_gateways:
        # the NAT gateway rewrites the source to its own private address; the internet
        # gateway maps that to the Elastic IP (walk.vpc): two steps, two lines
        items.append((f"NAT gateway {gw.name}", [f"NAT gateway {gw.name}",
                                                 f"SNAT to {gw.private_ip}",
                                                 f"Elastic IP {gw.public_ip}"]))
    for lb in cluster.load_balancers:
        items.append((f"load balancer {lb.service}", [f"load balancer {lb.service}",
                                                      f"{lb.public_ip} -> NodePorts"]))
    items.append(("internet gateway", ["internet gateway", "1:1 NAT private <-> public"]))
    if only is not None:
        items = [i for i in items if i[0] in only] or items[-1:]
    room = width - 0.5
    for k, (name, lines) in enumerate(items):  # a long name goes on a line of its own
        kind = next((p for p in ("NAT gateway ", "load balancer ") if lines[0].startswith(p)),
                    "")
        if kind and text_width(lines[0], SMALL, True) > room:
            items[k] = (name, [kind.strip(), lines[0][len(kind):], *lines[1:]])
    items = [(name, [fit(t, SMALL, room, k == 0) for k, t in enumerate(lines)])
             for name, lines in items]  # a long Service name must not leave the picture
    widths = [max(text_width(t, SMALL, k == 0) for k, t in enumerate(lines)) + 0.38
              for _, lines in items]
    gap = 0.15
    side_by_side = sum(widths) + gap * (len(items) - 1) <= width
    step = max(0.58, max(0.2 + 0.17 * len(lines) for _, lines in items))  # a pill and a gap
    placed = []
    y = rows["net_bottom"] - 0.55
    x = 0.0 if not side_by_side else (width - sum(widths) - gap * (len(items) - 1)) / 2
    for (name, lines), w in zip(items, widths, strict=True):
        placed.append((name, lines, x, y, w))
        points[("network", name, "")] = (x + 0.14, y)
        if side_by_side:
            x += w + gap
        else:
            y -= step
    rows["cloud_y"] = rows["net_bottom"] - 0.55
    rows["inet_y"] = (y if not side_by_side else rows["cloud_y"]) - 0.7 + (
        step if not side_by_side else 0)
    rows["bottom"] = rows["inet_y"] - 0.2
    points[("network", "internet", "")] = (0.25, rows["inet_y"])
    return tuple(placed)


def _draw_cloud(ax: Axes, cluster: StoreView, geom: _Geometry) -> None:
    rows, w = geom.rows, geom.width
    inet_y = rows["inet_y"]
    _box(ax, -0.05, inet_y - 0.15, w + 0.1, 0.3, "cloud", rounding=0.12)
    label = "internet (outside hosts answer on any port)"
    if text_width(label, BODY) > w - 0.6:  # leave room for a hop badge at the left
        label = "internet"
    ax.text(w - 0.1, inet_y, label,
            fontsize=BODY, ha="right", va="center", color=TEXT, zorder=4)
    side_by_side = len({y for _, _, _, y, _ in geom.cloud}) == 1
    for _name, lines, x, y, width in geom.cloud:
        _pill(ax, x, y, lines, "cloud", pad=0.28)
        cx = x + width - 0.12 if not side_by_side else x + width / 2
        if side_by_side:
            draw_line(ax, [(cx, rows["net_bottom"]), (cx, y + 0.2)])
            draw_line(ax, [(cx, y - 0.2), (cx, inet_y + 0.15)])
    if not side_by_side:  # one trunk on the right from the subnet down to the internet
        tx = max(x + width for _, _, x, _, width in geom.cloud) + 0.1
        draw_line(ax, [(tx, rows["net_bottom"]), (tx, inet_y + 0.15)])
        for _, _, x, y, width in geom.cloud:
            draw_line(ax, [(x + width, y), (tx, y)])


def devices(cluster: StoreView, host: str) -> dict[str, dict[str, Any]]:
    """The devices of a node or pod, by name, as the cluster's topology graph has them
    (``kubenet_lab.dataplane.topology``): every picture draws from that graph."""
    g = topology(cluster)
    return {g.nodes[v]["name"]: g.nodes[v] for v in g.neighbors(host)
            if g.edges[host, v]["kind"] == "device"}


def _host_end(cluster: StoreView, pod: Pod) -> str:
    """The name of the pod's veth on its node: the graph's veth edge from its eth0."""
    g = topology(cluster)
    eth0 = f"{pod.ref}:eth0"
    peer = next(v for v in g.neighbors(eth0) if g.edges[eth0, v]["kind"] == "veth")
    return g.nodes[peer]["name"]


@checked(max_pods=(1, 250))
def cluster_layout(
    cluster: Cluster | StoreView, namespaces: str | Iterable[str] | None = None,
    max_pods: int = 8
) -> dict[Key, Point]:
    """Where each place of the cluster is drawn by :func:`draw_cluster` and :func:`draw_trace`.

    Parameters
    ----------
    cluster : Cluster
    namespaces : str or list of str, optional
        Only pods of these namespaces are placed; None places all.
    max_pods : int, optional
        At most this many pods per node are placed (the picture notes the rest).

    Returns
    -------
    dict
        ``(kind, name, interface)``, as in a ``Location``, mapped to an ``(x, y)`` point in
        inches (y grows upward, 0 at the top of the nodes): ``("pod", ref, "eth0")`` on the
        bottom edge of the pod's box, ``("pod", ref, "lo")`` inside it, ``("pod", ref, "")``
        its centre; ``("node", name, veth)`` on that veth's wire; ``("node", name, "cni0")``,
        ``"flannel.1"``, ``"eth0"``, ``"lo"``, and ``""`` (the node's header);
        ``("network", cidr, "")`` the middle of the VPC subnet bar.

    Examples
    --------
    >>> c = kl.Cluster(workers=1)
    >>> a = c.add_pod("default/a", node="node-1")
    >>> points = cluster_layout(c)
    >>> ("node", "node-1", "cni0") in points, ("pod", "default/a", "eth0") in points
    (True, True)
    >>> x, y = points[("pod", "default/a", "eth0")]
    >>> y > points[("node", "node-1", "cni0")][1] > points[("network", "10.0.1.0/24", "")][1]
    True
    """
    view = cluster.snapshot()
    return dict(geometry(view, select_pods(view, namespaces=namespaces,
                                        max_pods=max_pods)).points)


# ---------------------------------------------------------------------------- helpers
@lru_cache(maxsize=4096)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in inches at ``size`` points: the font's advance widths (as
    matplotlib's text-to-path conversion lays the string out, without building the
    outline, which is twenty times slower), 4% more because hinting makes text drawn at
    100 dpi a little wider."""
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(weight="bold" if bold else "normal", size=size)
    width, _, _ = _text_to_path().get_text_width_height_descent(text, prop, ismath=False)
    return width / 72 * 1.04


@lru_cache(maxsize=1)
def _text_to_path() -> Any:
    from matplotlib.textpath import TextToPath

    return TextToPath()


def fit(text: str, size: float, width: float, bold: bool = False) -> str:
    """``text``, shortened in the middle with an ellipsis until it is at most ``width``
    inches; a generated name (``a-b-c-…``) keeps as many leading parts as fit and its
    unique suffix.

    >>> fit("envoy-infra-web-a97fc3bf-b759fcd57-m7sgm", 7.5, 1.5)
    'envoy-infra-web-…-m7sgm'
    """
    if text_width(text, size, bold) <= width:
        return text
    parts = text.split("-")
    for keep in range(len(parts) - 2, 0, -1):  # generated names: owner and suffix
        short = "-".join(parts[:keep]) + "-…-" + parts[-1]
        if text_width(short, size, bold) <= width:
            return short
    head, tail = (len(text) + 1) // 2, len(text) // 2
    while head + tail > 2:
        if head >= tail:
            head -= 1
        else:
            tail -= 1
        short = text[:head] + "…" + text[len(text) - tail:]
        if text_width(short, size, bold) <= width:
            return short
    return text[:1] + "…"


def wrap_lines(text: str, size: float, width: float, max_lines: int) -> list[str]:
    """Word-wrap ``text`` to ``width`` inches, at most ``max_lines`` (the last one ends
    with an ellipsis if text is left); a word wider than the line is broken after a
    ``/``, ``.`` or ``-``.

    >>> wrap_lines("HTTPRoute shop/storefront on Gateway infra/web", 8, 1.3, 2)
    ['HTTPRoute', 'shop/storefront on …']
    """
    words: list[tuple[str, str]] = []  # (piece, what joins it to the one before)
    for word in text.split():
        glue = " "
        while text_width(word, size) > width:
            cut = max((i + 1 for i, ch in enumerate(word[:-1]) if ch in "/.-"
                       and text_width(word[:i + 1], size) <= width), default=0)
            if not cut:
                break
            words.append((word[:cut], glue))
            word, glue = word[cut:], ""
        words.append((word, glue))
    lines: list[str] = []
    for word, glue in words:
        if lines and text_width(lines[-1] + glue + word, size) <= width:
            lines[-1] += glue + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + " …", size) > width:
            last = last.rsplit(" ", 1)[0] if " " in last else last[:-1]
        lines[-1] = last + " …"
    return [fit(line, size, width) for line in lines]


def wrap(text: str, size: float, width: float, max_lines: int) -> str:
    """``wrap_lines`` joined into one text of ``\\n``-separated lines."""
    return "\n".join(wrap_lines(text, size, width, max_lines))


@dataclass(frozen=True)
class _Canvas:
    """Where a picture is drawn: its figure and axes, and ``scale``, the size of one data
    unit in inches (1 on a figure made here; less on a smaller axes passed in)."""

    fig: Any
    ax: Axes
    scale: float
    marks: tuple[int, int, int]

    def finish(self) -> Figure:
        """Shrink the text and line widths drawn since the start by ``scale`` (so that a
        picture on a small axes keeps its proportions) and return the figure."""
        from matplotlib.patches import FancyArrowPatch

        s, ax = self.scale, self.ax
        if s < 0.999:
            for t in list(ax.texts)[self.marks[0]:]:
                t.set_fontsize(t.get_fontsize() * s)
            for line in list(ax.lines)[self.marks[1]:]:
                line.set_linewidth(line.get_linewidth() * s)
            for p in list(ax.patches)[self.marks[2]:]:
                p.set_linewidth(p.get_linewidth() * s)
                if isinstance(p, FancyArrowPatch):
                    p.set_mutation_scale(p.get_mutation_scale() * s)
        return self.fig


def show_figures_in_notebooks() -> None:
    """Let IPython display a ``Figure`` as PNG, once per session.

    The pictures are made without pyplot (no global figure state, no double display), but
    IPython's inline backend only registers its PNG formatter for figures once pyplot has
    been imported; without it a notebook would show ``<Figure size ...>`` only.
    """
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    from matplotlib.figure import Figure

    if Figure not in shell.display_formatter.formatters["image/png"].type_printers:
        from IPython.core.pylabtools import select_figure_formats

        select_figure_formats(shell, {"png"})


def make_canvas(ax: Axes | None, x0: float, x1: float, y0: float, y1: float,
            top: float = 0.0) -> _Canvas:
    """An axes showing ``[x0, x1] x [y0, y1]``: on a new figure at one inch per unit with
    ``top`` inches above it for a title (shrunk as a whole to ``MAX_WIDTH`` if wider:
    the canvas's ``scale`` says by how much), or on ``ax``."""
    w, h = x1 - x0, y1 - y0
    if ax is None:
        from matplotlib.figure import Figure

        show_figures_in_notebooks()
        shrink = min(1.0, MAX_WIDTH / w)
        fig = Figure(figsize=(w * shrink, (h + top) * shrink), dpi=100)
        ax = fig.add_axes((0, 0, 1, h / (h + top)))
    marks = (len(ax.texts), len(ax.lines), len(ax.patches))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.apply_aspect()
    dpi = ax.figure.dpi
    scale = min(ax.bbox.width / dpi / w, ax.bbox.height / dpi / h)
    return _Canvas(ax.figure, ax, 1.0 if scale > 0.999 else scale, marks)


def _box(ax: Axes, x: float, y: float, w: float, h: float, kind: str, *,
         rounding: float = 0.06, lw: float = 1.2, ls: str = "-", z: float = 2) -> None:
    """A rounded box with its lower-left corner at ``(x, y)``, coloured as ``kind``."""
    from matplotlib.patches import FancyBboxPatch

    face, edge = PALETTE[kind]
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle=f"round,pad=0,rounding_size={rounding}",
                                facecolor=face, edgecolor=edge, linewidth=lw, linestyle=ls,
                                zorder=z))


def _pill(ax: Axes, x: float, y: float, lines: list[str], kind: str, *,
          h: float | None = None, bold_first: bool = True, pad: float = 0.28) -> float:
    """A device: a rounded box whose left edge is at ``x`` and vertical centre at ``y``,
    with ``lines`` of text left-aligned inside, ``pad`` from the edge (room for a hop's
    number in front of them); returns its width."""
    h = h or 0.1 + 0.17 * len(lines)
    w = max(text_width(t, SMALL, bold_first and i == 0) for i, t in enumerate(lines)) + pad + 0.1
    _box(ax, x, y - h / 2, w, h, kind, rounding=min(h / 2, 0.1))
    for i, line in enumerate(lines):
        ty = y + (len(lines) - 1) * 0.085 - i * 0.17
        ax.text(x + pad, ty, line, fontsize=SMALL, va="center", ha="left", color=TEXT,
                fontweight="bold" if bold_first and i == 0 else "normal", zorder=4)
    return w


def draw_line(ax: Axes, pts: list[Point], *, color: str = WIRE, lw: float = 1.2, ls: str = "-",
          alpha: float = 1.0, z: float = 1.5) -> None:
    """A polyline through ``pts`` (a wire, or a leg of a packet's path)."""
    from matplotlib.lines import Line2D

    ax.add_line(Line2D([p[0] for p in pts], [p[1] for p in pts], color=color, linewidth=lw,
                       linestyle=ls, alpha=alpha, zorder=z, solid_capstyle="round",
                       solid_joinstyle="round"))


# ---------------------------------------------------------------------------- the cluster
def _header(node: Node, split: bool = False) -> list[str]:
    """The lines under a node's name: its IP and podCIDR (on two lines if ``split``),
    then its public IP if it has one (a node in the public subnet: the internet gateway
    translates it 1:1 to the private IP, AWS VPC docs "Enable internet access for a VPC
    using an internet gateway")."""
    lines = ([f"IP {node.ip}", f"podCIDR {node.pod_cidr}"] if split
             else [f"IP {node.ip} · podCIDR {node.pod_cidr}"])
    if node.public_ip:
        lines.append(f"public IP {node.public_ip}")
    return lines


def _draw_node(ax: Axes, cluster: StoreView, geom: _Geometry, col: _NodeColumn) -> None:
    """One node: box, header, pods with their veths, then its devices."""
    node, x, nw = col.node, col.x, geom.node_w
    _box(ax, x, geom.rows["node_bottom"], nw, -geom.rows["node_bottom"], "node", rounding=0.1,
         z=1)
    ax.text(x + 0.28, NAME_Y, fit(node.name, HEAD, nw - 0.88, True), fontsize=HEAD,
            fontweight="bold", va="center", color=TEXT, zorder=4)
    for k, line in enumerate(_header(node, geom.split_header)):
        ax.text(x + 0.28, INFO_Y - k * INFO_LINE, fit(line, SMALL, nw - 0.34),
                fontsize=SMALL, va="center", color=TEXT, zorder=4)
    _pill(ax, x + nw - PAD - 0.46, NAME_Y, ["lo"], "device", h=0.2, bold_first=False)
    for slot in col.pods:
        _draw_pod_slot(ax, slot, geom.rows["bar_top"])
    note = (f"+{col.hidden} more pods" if col.hidden else "" if col.pods
            else "no pods shown" if col.has_pods else "no pods")
    if note:
        ax.text(x + nw - PAD - POD_W + 0.06,
                geom.pods_top - len(col.pods) * (POD_H + POD_GAP) - 0.12,
                note, fontsize=SMALL, style="italic", va="center", color=MUTED, zorder=4)
    _draw_devices(ax, cluster, geom, col)


#: What stands in the bridge's place for plugins without one.
_NO_BRIDGE = {"calico": "no bridge: /32 routes + proxy-ARP", "cilium": "no bridge: eBPF (bpf_lxc)"}


def _overlay(cluster: StoreView, node: Node) -> tuple[str, tuple[str, ...]]:
    """The device between nodes, and the two lines of its label."""
    cni = plugin(cluster)
    ifaces = devices(cluster, node.name)
    if cluster.cni == "flannel":
        vx = ifaces[VXLAN_DEVICE]
        return VXLAN_DEVICE, (f"flannel.1 {vx['address']}", f"(VXLAN, VNI {VXLAN_VNI})")
    if cluster.cni == "cilium":
        return "cilium_vxlan", ("cilium_vxlan", "(VXLAN, UDP 8472)")
    if cni.encapsulation == "IPIP":
        return "tunl0", (f"tunl0 {ifaces['tunl0']['address']}", "(IP-in-IP)")
    if cluster.cni == "calico":
        return "", ("no overlay:", "BGP routes via eth0")
    return "", ("no overlay:", "host routes via eth0")


def _draw_devices(ax: Axes, cluster: StoreView, geom: _Geometry, col: _NodeColumn) -> None:
    """The node's cni0 bridge (when it has pods), flannel.1, eth0 and its wire to the VPC."""
    x, rows, nw = col.x, geom.rows, geom.node_w
    ifaces = devices(cluster, col.node.name)
    if col.has_pods:
        bar_x = x + SPINE - 0.1
        _box(ax, bar_x, rows["bar_top"] - BAR_H, x + nw - PAD - bar_x, BAR_H, "bridge",
             rounding=0.05)
        bar = (f"cni0 {ifaces['cni0']['address']}" if "cni0" in ifaces
               else _NO_BRIDGE.get(cluster.cni, ""))
        ax.text(x + nw - PAD - 0.08, rows["bar_y"], bar,
                fontsize=SMALL, ha="right", va="center", color=TEXT, zorder=4)
    _pill(ax, x + OVERLAY_X - 0.12, rows["flannel_y"], list(_overlay(cluster, col.node)[1]),
          "overlay", h=FLANNEL_H, bold_first=False)
    _pill(ax, x + SPINE - 0.12, rows["eth_y"], [f"eth0 {ifaces['eth0']['address']}"], "network",
          h=ETH_H)
    draw_line(ax, [(x + SPINE, rows["eth_y"] - ETH_H / 2), (x + SPINE, rows["net_top"])], lw=1.6)


def _draw_pod_slot(ax: Axes, slot: _PodSlot, bar_top: float) -> None:
    crashing = bool(slot.pod.crashing)  # dashed as well as red: not colour alone
    _box(ax, slot.x, slot.y, POD_W, POD_H, "crash" if crashing else "pod",
         ls="--" if crashing else "-")
    ax.text(slot.x + 0.045, slot.y + POD_H - 0.14, fit(slot.pod.name, SMALL, POD_W - 0.06, True),
            fontsize=SMALL, fontweight="bold", va="center", color=TEXT, zorder=4)
    ax.text(slot.x + 0.045, slot.y + 0.14, slot.pod.ip, fontsize=SMALL, va="center", color=TEXT,
            zorder=4)
    ex, ey = slot.eth0
    draw_line(ax, [(ex, ey), (ex, slot.stub_y), (slot.lane_x, slot.stub_y),
               (slot.lane_x, bar_top)], z=1.5)
    ax.text(slot.x + 0.06, slot.stub_y - 0.115, slot.veth, fontsize=SMALL, va="center",
            color=MUTED, zorder=4)


def draw_base(ax: Axes, cluster: StoreView, geom: _Geometry) -> None:
    rows = geom.rows
    for col in geom.columns:
        _draw_node(ax, cluster, geom, col)
    _box(ax, -0.05, rows["net_bottom"], geom.width + 0.1, NET_H, "network", rounding=0.06)
    label = f"VPC subnet {geom.subnet}"
    if len(cluster.vpc.subnets) > 1:
        label = f"VPC {cluster.vpc.cidr}: " + ", ".join(
            f"{s.name} {s.cidr}" for s in cluster.vpc.subnets)
        if text_width(label, BODY) > geom.width - 0.8:  # a narrow picture: room for badges
            label = f"VPC {cluster.vpc.cidr}"
    ax.text(geom.width - 0.1, rows["net_y"], fit(label, BODY, geom.width - 0.2),
            fontsize=BODY, ha="right", va="center", color=TEXT, zorder=4)
    if "cloud_y" in rows:
        _draw_cloud(ax, cluster, geom)


@checked(max_pods=(1, 250))
def draw_cluster(
    cluster: Cluster | StoreView,
    ax: Axes | None = None,
    *,
    namespaces: str | Iterable[str] | None = None,
    max_pods: int = 8,
) -> Figure:
    """Draw the cluster as the network sees it: nodes, pods, veths, bridges, VXLAN, VPC.

    Each node is a box (control plane first) with its name, IP and podCIDR; inside, its
    pods (name and IP), each joined by a veth (labelled with the host end's name) to the
    ``cni0`` bridge, then the ``flannel.1`` VXLAN device and ``eth0``, which connects to
    the VPC subnet drawn under all nodes.

    Parameters
    ----------
    cluster : Cluster
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new figure (text and lines shrink with a small axes).
    namespaces : str or list of str, optional
        Draw only the pods of these namespaces; None draws all.
    max_pods : int, optional
        Draw at most this many pods per node and note how many more there are.

    Returns
    -------
    matplotlib.figure.Figure

    See Also
    --------
    layout : where everything is placed.

    Examples
    --------
    >>> fig = draw_cluster(kl.Cluster(workers=1))
    >>> fig.axes[0].get_title()
    'Cluster: 2 nodes, 2 pods, CNI flannel (VXLAN)'
    >>> "podCIDR 10.244.1.0/24" in " ".join(t.get_text() for t in fig.axes[0].texts)
    True
    """
    cluster = cluster.snapshot()
    selection = select_pods(cluster, namespaces=namespaces, max_pods=max_pods)
    geom = geometry(cluster, selection)
    canvas = make_canvas(ax, -0.15, geom.width + 0.15, geom.rows["bottom"] - 0.12, 0.12,
                     top=0.35)
    ax = canvas.ax
    draw_base(ax, cluster, geom)
    shown = sum(len(s) + h for _, s, h, _ in selection)
    mode = plugin(cluster).mode
    title = f"Cluster: {len(selection)} nodes, {shown} pods, CNI {cluster.cni} ({mode})"
    if namespaces is not None:
        names = [namespaces] if isinstance(namespaces, str) else sorted(namespaces)
        title += f"; namespaces {', '.join(names)}"
    ax.set_title(wrap(title, TITLE, geom.width + 0.2, 2), fontsize=TITLE * canvas.scale,
                 color=TEXT)
    return canvas.finish()


# ---------------------------------------------------------------------------- a trace
def _key(hop: Hop) -> Key:
    loc = hop.location
    return (loc.kind, loc.name, loc.interface)


def _role(key: Key) -> str:
    """What a place is, for routing and offsets: ``pod-eth0``, ``veth``, ``cni0``, ..."""
    kind, _, iface = key
    if kind == "network":
        return "network"
    if kind == "pod":
        return f"pod-{iface}"
    if iface.startswith("veth"):
        return "veth"
    return {"": "header", "eth0": "node-eth0"}.get(iface, iface)


_ELBOWS = ({"pod-eth0", "veth"}, {"veth", BRIDGE}, {"node-eth0", "network"})


def _hop_points(geom: _Geometry, trace: Trace) -> tuple[list[Point], list[Point]]:
    """The base point of each hop and the point it is drawn at (a hop at the same place
    as an earlier one is shifted aside, as ``DUP_STEP`` says)."""
    keys = [_key(h) for h in trace.hops]
    base = []
    for hop, key in zip(trace.hops, keys, strict=True):
        fallback = geom.points.get(("node", hop.node or "", ""),
                                   geom.points[("network", geom.subnet, "")])
        base.append(geom.points.get(key, fallback))
    for i, key in enumerate(keys):  # on the subnet: between the two nodes it connects
        if key[0] == "network":
            xs = [base[j][0] for j in (i - 1, i + 1)
                  if 0 <= j < len(keys) and keys[j][0] != "network"]
            if xs:
                base[i] = (sum(xs) / len(xs), base[i][1])
    seen: dict[Point, int] = {}
    drawn = []
    for p, key in zip(base, keys, strict=True):
        k = (round(p[0], 4), round(p[1], 4))
        dx, dy = DUP_STEP.get(_role(key), DUP_DEFAULT)
        drawn.append((p[0] + seen.get(k, 0) * dx, p[1] + seen.get(k, 0) * dy))
        seen[k] = seen.get(k, 0) + 1
    return base, drawn


def _route(ka: Key, kb: Key, a: Point, b: Point, geom: _Geometry) -> list[Point]:
    """The points a path segment passes through: along the wires where there are some."""
    roles = {_role(ka), _role(kb)}
    same_node = ka[0] == kb[0] == "node" and ka[1] == kb[1]
    if not (roles in _ELBOWS or ("header" in roles and same_node)):
        return [a, b]
    if a[1] > b[1]:  # going down: vertical first
        pts = [a, (a[0], b[1]), b]
    else:
        pts = [a, (b[0], a[1]), b]
    if roles == {"veth", BRIDGE}:  # to the bridge above its middle, away from it below
        dy = 0.05 if _role(kb) == BRIDGE else -0.05
        pts = [(x, y + dy) if abs(y - geom.rows["bar_y"]) < 1e-9 else (x, y) for x, y in pts]
    return pts


def _shorten(pts: list[Point], start: float, end: float) -> list[Point]:
    """Cut ``start`` off the beginning and ``end`` off the end of a polyline."""
    import math

    def cut(p: list[Point], d: float) -> list[Point]:
        while len(p) > 1:
            (x0, y0), (x1, y1) = p[0], p[1]
            seg = math.hypot(x1 - x0, y1 - y0)
            if seg > d:
                f = d / seg
                return [(x0 + (x1 - x0) * f, y0 + (y1 - y0) * f)] + p[1:]
            d -= seg
            p = p[1:]
        return p + p

    return cut(cut(pts, start)[::-1], end)[::-1]


def _arrow(ax: Axes, pts: list[Point], *, color: str, dashed: bool, alpha: float) -> None:
    """A polyline with an arrowhead at its end (drawn solid even when the line is dashed)."""
    from matplotlib.patches import FancyArrowPatch

    pts = [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]
    if len(pts) < 2:
        return
    draw_line(ax, pts, color=color, lw=2.2, ls=(0, (4, 2.5)) if dashed else "-", alpha=alpha, z=6)
    (x0, y0), (x1, y1) = pts[-2], pts[-1]
    ax.add_patch(FancyArrowPatch((x1 - (x1 - x0) * 1e-3, y1 - (y1 - y0) * 1e-3), (x1, y1),
                                 arrowstyle="-|>", mutation_scale=13, color=color,
                                 alpha=alpha, linewidth=0, shrinkA=0, shrinkB=0, zorder=6))


def _loop(ax: Axes, a: Point, b: Point, *, color: str, alpha: float, r_end: float) -> None:
    """A bracket-shaped arrow between two hops drawn side by side (the same place):
    over them when side by side, to their left when one is under the other."""
    nx, ny = (0.0, 1.0) if abs(a[1] - b[1]) < 1e-9 else (-1.0, 0.0)
    h = 0.09
    pts = [(a[0] + nx * HOP_R, a[1] + ny * HOP_R),
           (a[0] + nx * (HOP_R + h), a[1] + ny * (HOP_R + h)),
           (b[0] + nx * (r_end + h), b[1] + ny * (r_end + h)),
           (b[0] + nx * (r_end + 0.01), b[1] + ny * (r_end + 0.01))]
    _arrow(ax, pts, color=color, dashed=False, alpha=alpha)


def _mark(ax: Axes, center: Point, delivered: bool, alpha: float, away: Point) -> None:
    """A check in bluish green (delivered) or a cross in vermillion (dropped or refused),
    as a badge on the last hop, on the side ``away`` points to: the shape says it as
    well as the colour."""
    from matplotlib.patches import Circle

    x, y = center[0] + away[0], center[1] + away[1]
    color = GOOD if delivered else BAD
    ax.add_patch(Circle((x, y), 0.085, facecolor="white", edgecolor=color, linewidth=1.5,
                        alpha=alpha, zorder=8))
    s = 0.045
    if delivered:
        strokes = [[(x - s, y), (x - s * 0.2, y - s * 0.8), (x + s, y + s * 0.9)]]
    else:
        strokes = [[(x - s, y - s), (x + s, y + s)], [(x - s, y + s), (x + s, y - s)]]
    for stroke in strokes:
        draw_line(ax, stroke, color=color, lw=2.2, alpha=alpha, z=9)


def _hop_badge(ax: Axes, p: Point, index: int, *, state: str, color: str) -> None:
    """The numbered circle of a hop; ``state`` is ``normal``, ``current`` or ``later``."""
    from matplotlib.patches import Circle

    r = STEP_R if state == "current" else HOP_R
    alpha = FADED if state == "later" else 1.0
    face, edge, ink = ((HIGHLIGHT, "#222222", "#000000") if state == "current"
                       else ("white", color, TEXT))  # dark digits read on any ring colour
    ax.add_patch(Circle(p, r, facecolor=face, edgecolor=edge, alpha=alpha,
                        linewidth=2 if state == "current" else 1.5, zorder=7))
    ax.text(p[0], p[1], str(index), ha="center", va="center_baseline", alpha=alpha,
            fontsize=BODY + 1 if state == "current" else SMALL, fontweight="bold", color=ink,
            zorder=8)


def _trace_selection(cluster: StoreView, trace: Trace, max_pods: int) -> list:
    """The nodes the trace visits or ends on, with its own pods always among those drawn."""
    keep = {h.location.name for h in trace.hops if h.location.kind == "pod"}
    nodes = {h.node for h in trace.hops if h.node}
    for ref in keep:
        try:
            nodes.add(cluster.pod(ref).node)
        except LookupError:
            pass
    return select_pods(cluster, nodes=nodes, max_pods=max_pods, keep=keep)


def _title(trace: Trace, width: float) -> str:
    reason = textwrap.shorten(trace.reason, 200, placeholder=" …")
    return f"{trace.src} -> {trace.target}\n" + wrap(reason, TITLE, width, 3)


@checked(max_pods=(1, 250))
def draw_trace(
    cluster: Cluster | StoreView,
    trace: Trace,
    ax: Axes | None = None,
    *,
    step: int | None = None,
    max_pods: int = 8,
) -> Figure:
    """Draw a packet's path (a ``Trace``) on the picture of the nodes it crosses.

    The nodes the trace visits (and those of its endpoints) are drawn as in
    :func:`draw_cluster`; arrows follow the packet from hop to hop along the wires, each
    hop numbered as in ``trace.hops``. The stretch inside a VXLAN tunnel is dashed, and
    the last hop carries a check (delivered) or a cross (dropped or refused); the legend
    under the picture names each, the outcome included. The colours are Okabe and Ito's
    colour-blind-safe palette (``OKABE_ITO``); a picture wider than a notebook's column
    (``MAX_WIDTH``) is shrunk to it.

    Parameters
    ----------
    cluster : Cluster
        The cluster the trace was made in; the picture draws it as it was when the
        packet walked (``trace.snapshot``), even if it changed since.
    trace : Trace
        From ``Cluster.trace``.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new figure (text and lines shrink with a small axes).
    step : int, optional
        Highlight hop ``step`` (1-based) and fade the hops after it, to show the walk
        one step at a time.
    max_pods : int, optional
        At most this many pods per node (the trace's own pods are always drawn).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ManifestError
        ``step`` is not the number of a hop of the trace.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
    >>> fig = draw_trace(c, c.trace("default/a", "default/b"))
    >>> fig.axes[0].get_title().splitlines()[0]
    'default/a -> default/b:80/TCP'
    >>> sorted(int(t.get_text()) for t in fig.axes[0].texts if t.get_text().isdigit())
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    """
    cluster = trace.snapshot if trace.snapshot is not None else cluster.snapshot()
    hops = trace.hops
    if step is not None and (isinstance(step, bool) or not isinstance(step, int)
                             or not 1 <= step <= len(hops)):
        raise ManifestError("draw_trace", "step", step, "is not the number of a hop",
                            fix=f"use 1 to {len(hops)}, or None for the whole trace")
    visited = {h.location.name for h in hops if h.location.kind == "network"}
    visited |= {h.location.name for h in trace.reply if h.location.kind == "network"}
    geom = geometry(cluster, _trace_selection(cluster, trace, max_pods), visited)
    rows = geom.rows
    x0, x1 = -0.15, geom.width + 0.15
    if x1 - x0 < 4.6:  # room for the title and the legend around a single node
        x0, x1 = (geom.width - 4.6) / 2, (geom.width + 4.6) / 2
    legend_rows = -(-len(_legend_labels(trace, step)) // _legend_columns(trace, step, x1 - x0))
    extra = 0.42 + 0.2 * (legend_rows - 1) + (0.3 if step is not None else 0)
    title = _title(trace, x1 - x0 - 0.1)
    canvas = make_canvas(ax, x0, x1, rows["bottom"] - 0.3 - extra, 0.12,
                     top=0.2 + 0.18 * (title.count("\n") + 1))
    ax = canvas.ax
    draw_base(ax, cluster, geom)
    ax.set_title(title, fontsize=TITLE * canvas.scale, color=TEXT, linespacing=1.3)
    base, pts = _hop_points(geom, trace)
    _draw_path(ax, geom, trace, base, pts, step)
    _draw_legend(ax, geom, trace, pts, step, (x0, x1), canvas.scale)
    return canvas.finish()


def _draw_path(ax: Axes, geom: _Geometry, trace: Trace, base: list[Point], pts: list[Point],
               step: int | None) -> None:
    hops = trace.hops
    n = len(hops)
    for i in range(n - 1):
        later = step is not None and i + 2 > step
        alpha = FADED if later else 1.0
        dashed = hops[i].packet.encapsulated
        color = PALETTE["overlay"][1] if dashed else PATH
        r_end = STEP_R if step == i + 2 else HOP_R
        r_start = STEP_R if step == i + 1 else HOP_R
        if base[i] == base[i + 1]:
            _loop(ax, pts[i], pts[i + 1], color=color, alpha=alpha, r_end=r_end)
            continue
        route = _route(_key(hops[i]), _key(hops[i + 1]), pts[i], pts[i + 1], geom)
        _arrow(ax, _shorten(route, r_start, r_end + 0.01), color=color, dashed=dashed,
               alpha=alpha)
    for i, hop in enumerate(hops):
        state = ("normal" if step is None or hop.index < step
                 else "current" if hop.index == step else "later")
        color = PALETTE["overlay"][1] if hop.packet.encapsulated else PATH
        _hop_badge(ax, pts[i], hop.index, state=state, color=color)
    away = (0.12, 0.12)
    if n > 1 and base[-1] == base[-2]:  # beyond the repeat, away from the earlier hop
        dx, dy = DUP_STEP.get(_role(_key(hops[-1])), DUP_DEFAULT)
        away = (0.18 * (dx > 0) - 0.18 * (dx < 0), 0.18 * (dy > 0) - 0.18 * (dy < 0))
    _mark(ax, pts[-1], trace.delivered, 1.0 if step in (None, n) else FADED, away)


def _draw_legend(ax: Axes, geom: _Geometry, trace: Trace, pts: list[Point], step: int | None,
                 span: tuple[float, float], scale: float) -> None:
    from matplotlib.lines import Line2D

    x0, x1 = span
    rows, hops = geom.rows, trace.hops
    overlay = PALETTE["overlay"][1]
    tunnel = [i for i, h in enumerate(hops) if h.packet.encapsulated]
    if tunnel:
        on_net = [i for i in tunnel if hops[i].location.kind == "network"]
        i = on_net[0] if on_net else tunnel[0]
        x = pts[i][0] if on_net else pts[i][0] + 0.2
        y = rows["net_bottom"] - 0.14 if on_net else pts[i][1] - 0.2
        label = (f"VXLAN (UDP {hops[i].packet[UDP].dport})" if UDP in hops[i].packet
                 else "IP-in-IP (protocol 4)")
        ax.text(x, y, label, fontsize=SMALL,
                ha="center", va="center", color=OVERLAY_TEXT, fontweight="bold", zorder=9,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                      "alpha": 0.85})
    y = rows["bottom"] - 0.36
    if step is not None:
        hop = hops[step - 1]
        ax.text(x0 + 0.15, y, f"step {step} of {len(hops)}: {hop.action} at {hop.location}",
                fontsize=BODY, fontweight="bold", va="center", color=TEXT, zorder=4)
        y -= 0.3
    lw = 2.2 * scale
    handles = []
    for label in _legend_labels(trace, step):
        if label == "packet path":
            handles.append(Line2D([], [], color=PATH, lw=lw, label=label))
        elif label.startswith("inside"):
            handles.append(Line2D([], [], color=overlay, lw=lw, ls=(0, (4, 2.5)), label=label))
        elif label == "hop (number)":
            handles.append(Line2D([], [], ls="", marker="o", markersize=9 * scale,
                                  markerfacecolor="white", markeredgecolor=PATH,
                                  markeredgewidth=1.5 * scale, label=label))
        elif label == "this step":
            handles.append(Line2D([], [], ls="", marker="o", markersize=11 * scale,
                                  markerfacecolor=HIGHLIGHT, markeredgecolor="#222222",
                                  markeredgewidth=1.5 * scale, label=label))
        else:  # the outcome: the mark the last hop carries
            handles.append(Line2D([], [], ls="", marker=r"$\checkmark$" if trace.delivered
                                  else "X", markersize=9 * scale, markeredgewidth=0,
                                  color=GOOD if trace.delivered else BAD, label=label))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(x0 + 0.15, y + 0.04),
              bbox_transform=ax.transData, ncol=_legend_columns(trace, step, x1 - x0),
              fontsize=SMALL * scale, frameon=False, handlelength=2.0, columnspacing=1.0,
              borderaxespad=0, borderpad=0)


def _legend_labels(trace: Trace, step: int | None) -> list[str]:
    """The entries of a trace picture's legend, in order."""
    labels = ["packet path"]
    tunnel = [h for h in trace.hops if h.packet.encapsulated]
    if tunnel:
        labels.append("inside the VXLAN tunnel" if UDP in tunnel[0].packet
                      else "inside the IP-in-IP tunnel")
    labels.append("hop (number)")
    if step is not None:
        labels.append("this step")
    labels.append(trace.outcome)
    return labels


def _legend_columns(trace: Trace, step: int | None, width: float) -> int:
    """As many legend columns as fit in ``width`` inches. matplotlib fills a legend's
    columns one after the other; an entry is its handle (``handlelength`` 2 and
    ``handletextpad`` 0.8 font sizes: 0.31 in at 8 points) and its label, and columns are
    ``columnspacing`` (1 font size, 0.11 in) apart."""
    labels = _legend_labels(trace, step)
    for ncol in range(len(labels), 1, -1):
        per = -(-len(labels) // ncol)
        cols = [labels[i:i + per] for i in range(0, len(labels), per)]
        need = sum(max(text_width(t, SMALL) for t in col) + 0.31 for col in cols)
        if need + 0.11 * (len(cols) - 1) <= width - 0.3:
            return len(cols)
    return 1


# ---------------------------------------------------------------------------- a pod
def _container_lines(pod: Pod, container: Any) -> list[str]:
    ports = ", ".join(f"{p.container_port}/{p.protocol}" for p in container.ports)
    lines = [container.name, container.image, f"ports {ports}" if ports else "no ports"]
    if container.name in pod.crashing:
        lines.append("CrashLoopBackOff: port already in use")
    return lines


@checked
def draw_pod(cluster: Cluster | StoreView, ref: str, ax: Axes | None = None) -> Figure:
    """Draw one pod's network namespace: its containers, ``lo``, ``eth0`` and the veth.

    Inside the pod: the ``pause`` container that holds the namespace, one box per
    container (name, image, declared ports; a crash-looping one in red), the ``lo``
    device all containers share, and ``eth0`` with the pod IP. Outside, in the node's root
    namespace: the host end of the veth pair and the ``cni0`` bridge it is a port of.

    Parameters
    ----------
    cluster : Cluster
    ref : str
        The pod, ``"namespace/name"``.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new figure (text and lines shrink with a small axes).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    NotFoundError
        There is no such pod.

    Examples
    --------
    >>> c = kl.Cluster(workers=1)
    >>> web = c.add_pod("default/web", node="node-1")
    >>> fig = draw_pod(c, "default/web")
    >>> texts = [t.get_text() for t in fig.axes[0].texts]
    >>> "lo 127.0.0.1/8" in texts, "eth0 10.244.1.2/24" in texts, "ports 80/TCP" in texts
    (True, True, True)
    """
    cluster = cluster.snapshot()
    pod = cluster.pod(ref)
    pod_if = devices(cluster, pod.ref)
    boxes = [["pause: holds the network namespace"]]
    boxes += [_container_lines(pod, c) for c in pod.containers]
    widths = [max(text_width(t, SMALL, i == 0 or t.startswith("CrashLoop"))
                  for i, t in enumerate(b)) + 0.24 for b in boxes]
    title = f"network namespace of pod {pod.ref} (IP {pod.ip})"
    row_w = sum(widths) + 0.2 * (len(boxes) - 1)
    width = max(row_w, text_width(title, HEAD, True) + 0.1, 3.6) + 0.4
    dev_y = -0.5 - max(0.12 + 0.17 * len(b) for b in boxes) - 0.6
    pod_bottom = dev_y - 0.55
    canvas = make_canvas(ax, -0.1, width + 0.1, pod_bottom - 1.8, 0.1)
    ax = canvas.ax
    _box(ax, 0, pod_bottom, width, -pod_bottom, "pod", rounding=0.12, z=1)
    ax.text(0.2, -0.22, title, fontsize=HEAD, fontweight="bold", va="center", color=TEXT,
            zorder=4)
    eth0 = f"eth0 {pod_if['eth0']['address']}"
    eth_x = width - 0.2 - text_width(eth0, SMALL, True) - 0.24
    _draw_containers(ax, pod, boxes, widths, (width - row_w) / 2, (0.7, dev_y + 0.13))
    _pill(ax, 0.2, dev_y, [f"lo {pod_if['lo']['address']}"], "device", h=0.26, pad=0.12)
    _pill(ax, eth_x, dev_y, [eth0], "network", h=0.26, pad=0.12)
    ax.text(width / 2, dev_y - 0.32, "the containers share lo and eth0: one network namespace",
            fontsize=SMALL, style="italic", ha="center", va="center", color=MUTED, zorder=4)
    veth = _host_end(cluster, pod)
    _draw_host_end(ax, cluster, cluster.node(pod.node), veth, eth_x, width,
                   (dev_y - 0.13, pod_bottom))
    return canvas.finish()


def _draw_containers(ax: Axes, pod: Pod, boxes: list[list[str]], widths: list[float],
                     x: float, lo: Point) -> None:
    """The pause container, then one box per container, each joined to ``lo``."""
    for i, (lines, w) in enumerate(zip(boxes, widths, strict=True)):
        crashing = i > 0 and pod.containers[i - 1].name in pod.crashing
        h = 0.12 + 0.17 * len(lines)
        _box(ax, x, -0.5 - h, w, h, "pause" if i == 0 else "crash" if crashing else "device",
             ls="--" if i == 0 else "-", z=2)
        for j, line in enumerate(lines):
            red = crashing and j == len(lines) - 1
            ax.text(x + 0.12, -0.64 - 0.17 * j, line, fontsize=SMALL, va="center",
                    color=BAD_TEXT if red else TEXT,
                    fontweight="bold" if j == 0 or red else "normal", zorder=4)
        if i > 0:
            draw_line(ax, [(x + w / 2, -0.5 - h), lo], lw=1.0)
        x += w + 0.2


def _draw_host_end(ax: Axes, cluster: StoreView, node: Node, veth: str, x: float, width: float,
                   top: tuple[float, float]) -> None:
    """Below the pod (``top``: the bottom of its eth0 and of its box): the veth pair to
    the host end, and the cni0 bridge, in the node's root namespace."""
    eth0_bottom, pod_bottom = top
    veth_y, bar_y, node_bottom = pod_bottom - 0.7, pod_bottom - 1.25, pod_bottom - 1.7
    _box(ax, -0.02, node_bottom, width + 0.04, pod_bottom - 0.2 - node_bottom, "node", z=0.5)
    ax.text(0.2, node_bottom + 0.16, f"node {node.name} (root network namespace)",
            fontsize=BODY, fontweight="bold", va="center", color=TEXT, zorder=4)
    port_x = x + 0.14
    draw_line(ax, [(port_x, eth0_bottom), (port_x, veth_y)], lw=1.6)
    ax.text(port_x + 0.1, (pod_bottom + veth_y) / 2 + 0.05, "veth pair", fontsize=SMALL,
            style="italic", va="center", color=MUTED, zorder=4)
    _pill(ax, x, veth_y, [veth], "device", h=0.26, pad=0.12)
    draw_line(ax, [(port_x, veth_y - 0.13), (port_x, bar_y)], lw=1.2)
    bridge = devices(cluster, node.name).get(BRIDGE)
    _box(ax, 0.2, bar_y - BAR_H / 2, width - 0.4, BAR_H, "bridge", rounding=0.05)
    label = (f"cni0 {bridge['address'] if bridge else ''}  (bridge on {node.name})"
             if cluster.cni in ("flannel", "bridge")
             else f"{_NO_BRIDGE.get(cluster.cni, '')} (on {node.name})")
    ax.text(0.32, bar_y, label, fontsize=SMALL, va="center", color=TEXT, zorder=4)
