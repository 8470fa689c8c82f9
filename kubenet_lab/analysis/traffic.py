"""Cluster-level traffic: a workload of requests, and what it puts on the wire.

Each flow's path comes from a real trace (one per pair of pods). Sizes follow TCP over
Ethernet: a segment carries at most MSS = MTU - 40 bytes of payload (the pod's MTU: 1450
under a VXLAN overlay, 1480 with IP-in-IP, 1500 when routed), and each segment adds 40
bytes of TCP/IP headers plus 14 of Ethernet on the wire; an exchange adds the three-way
handshake and the FIN exchange (7 header-only packets, ACKs of data left out). When the
trace is encapsulated, every packet between nodes also carries the overlay's headers (50
bytes for VXLAN, 20 for IP-in-IP): that is ``overlay_bytes``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from math import ceil
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.tables import Dataplane
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.arguments import check_count
from kubenet_lab.model.traffic import Flow, TrafficReport
from kubenet_lab.walk.packet import trace_packet

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["MAX_FLOWS", "random_flows", "traffic"]

#: The most flows one report traces.
MAX_FLOWS = 100_000

HANDSHAKE_PACKETS = 7  # SYN, SYN-ACK, ACK, and FIN/ACK both ways
HEADERS = 40 + 14  # IPv4 + TCP, Ethernet


def random_flows(view: StoreView, count: int = 50, *, seed: int | None = None) -> list[Flow]:
    """``count`` flows from random pods to random pods that listen on TCP 80 (distinct
    pods), with 1-100 requests each.

    The draws come from ``random.Random(seed)``, ``seed`` defaulting to the cluster's,
    so the same cluster and seed give the same workload.
    """
    check_count("traffic", "requests", count, 0, MAX_FLOWS,
                "each flow is traced; e.g. c.traffic(requests=50)")
    pods = view.pods
    servers = [p for p in pods if p.listener(80, "TCP")]
    if len(pods) < 2 or not servers:
        return []
    rng = random.Random(view.seed if seed is None else seed)
    flows = []
    while len(flows) < count:
        a, b = rng.choice(pods), rng.choice(servers)
        if a.ref != b.ref:
            flows.append(Flow(a.ref, b.ref, rng.randint(1, 100)))
    return flows


def _flow(i: int, flow: object) -> Flow:
    """A ``Flow``, or a tuple of its fields (``("default/a", "default/b", 10)``)."""
    if isinstance(flow, Flow):
        return flow
    if not isinstance(flow, (tuple, list)) or not 2 <= len(flow) <= 6:
        raise ManifestError("traffic", f"flows[{i}]", flow, "is not a Flow",
                            fix="give kl.Flow(src, dst, requests) or a tuple "
                            "(src, dst[, requests, port, request_bytes, response_bytes])")
    return Flow(*flow)


def _packets(payload: int, mss: int) -> int:
    return ceil(payload / mss) if payload else 0


def traffic(dp: Dataplane, flows: Iterable[Flow | tuple] | None = None, *,
            requests: int = 50, seed: int | None = None) -> TrafficReport:
    """See ``Cluster.traffic``. The traces run on a fork of the runtime."""
    view = dp.view
    dp = Dataplane(view, dp.runtime.fork())
    if flows is None:
        flows = random_flows(view, requests, seed=seed)
    flows = tuple(_flow(i, f) for i, f in enumerate(flows))
    check_count("traffic", "flows", len(flows), 0, MAX_FLOWS, "each flow is traced")
    plugin = dp.plugin
    mss = plugin.mtu - 40
    pod_bytes: dict[tuple[str, str], int] = {}
    node_bytes: dict[tuple[str, str], int] = {}
    overlay: dict[tuple[str, str], int] = {}
    local: dict[str, int] = {}
    dropped: list[str] = []
    cache: dict[tuple[str, str, int], object] = {}
    for flow in flows:
        key = (flow.src, flow.dst, flow.port)
        if key not in cache:
            cache[key] = trace_packet(dp, flow.src, flow.dst, port=flow.port)
        t = cache[key]
        if not t.delivered:  # type: ignore[attr-defined]
            dropped.append(f"{flow.src} -> {flow.dst}: {t.reason}")  # type: ignore[attr-defined]
            continue
        payload = flow.requests * (flow.request_bytes + flow.response_bytes)
        pair = (flow.src, flow.dst)
        pod_bytes[pair] = pod_bytes.get(pair, 0) + payload
        src_node = view.pod(flow.src).node
        dst_node = view.pod(flow.dst).node
        if src_node == dst_node:
            local[src_node] = local.get(src_node, 0) + payload
            continue
        packets = flow.requests * (_packets(flow.request_bytes, mss)
                                   + _packets(flow.response_bytes, mss) + HANDSHAKE_PACKETS)
        extra = packets * plugin.overhead if t.encapsulated else 0  # type: ignore[attr-defined]
        nodes = (src_node, dst_node)
        node_bytes[nodes] = node_bytes.get(nodes, 0) + payload + packets * HEADERS + extra
        overlay[nodes] = overlay.get(nodes, 0) + extra
    return TrafficReport(
        view.cni, flows, dict(sorted(pod_bytes.items())), dict(sorted(node_bytes.items())),
        dict(sorted(overlay.items())), dict(sorted(local.items())), tuple(dropped),
        tuple(n.name for n in view.nodes), {p.ref: p.node for p in view.pods})
