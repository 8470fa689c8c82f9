"""Connection tracking: the first reply of a connection kube-proxy translated, and the
conntrack tables the nodes keep.

**The reply path.** conntrack on the node that made the DNAT undoes it (and the
masquerade of KUBE-POSTROUTING), so the client sees the address it connected to. One
exception is modelled: a client pod and the endpoint it was given on the same node's
``cni0`` bridge, with ``net.bridge.bridge-nf-call-iptables`` 0 there (or br_netfilter
not loaded). The endpoint answers its neighbour on the bridge directly, the bridged
frame never passes iptables, conntrack never sees it and the DNAT is not undone: the
client receives an answer from the endpoint's own address, which matches none of its
connections, and drops it (the connection fails; from other nodes it works, since
their replies are routed through the stack). Sources: the br_netfilter row of the facts
sheet (§2); kubernetes.io "Network Plugins" (the ``bridge-nf-call-iptables``
requirement); flannel's README.

**The tables.** ``record`` writes, after each walk of ``Cluster.trace`` (and of the
tools that send), one entry into the table of every node whose IP stack the packet
passed: the source node, a node that translated it, the destination node, and a node
that only bridged it when br_netfilter hands bridged frames to netfilter. A node that
dropped or rejected the packet before it left keeps nothing (nf_conntrack confirms an
entry when the packet leaves the POSTROUTING or INPUT hook). The original tuple is the
packet as it reached the node, the reply tuple the answer to the packet as it left
(DNAT: the reply's source is the endpoint; masquerade: the reply's destination is the
masquerade address). The state follows what the walk shows of the connection:

- delivered (a socket accepted it): the handshake completes and the reply passes the
  same nodes back (the walk spells that reply out in ``Trace.reply`` where NAT changes
  it): TCP ``ESTABLISHED`` ``[ASSURED]``, UDP and ICMP replied (30 s, not ASSURED: one
  exchange, as a DNS query is), SCTP ``ESTABLISHED``;
- refused by the receiver (TCP RST, SCTP ABORT): ``CLOSE``, 10 s;
- otherwise (dropped, rejected by kube-proxy, the reply lost): ``[UNREPLIED]``, TCP
  ``SYN_SENT``, SCTP ``COOKIE_WAIT``.

Timeouts are the kernel's defaults (nf_conntrack_proto_tcp.c, _udp.c, _icmp.c, _sctp.c;
``sysctl -w net.netfilter.nf_conntrack_*_timeout_*`` changes them) less the second
since the packet, as ``conntrack -L`` run right after shows them. On nodes that run
kube-proxy the ESTABLISHED timeout is kube-proxy's ``conntrack.tcpEstablishedTimeout``
(24h: 86400), which kube-proxy writes to the sysctl at start (KubeProxyConfiguration
defaults). The lab holds each connection open (a real curl closes it: TIME_WAIT, 120 s),
keeps no clock (entries never expire) and does not bound a table by
``nf_conntrack_max``. The outer VXLAN packets (UDP 8472), which real nodes also track,
are not entered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.dataplane.runtime import ConntrackEntry
from kubenet_lab.model.packet import IPv4, Packet, packet_changes
from kubenet_lab.model.trace import Hop, Location
from kubenet_lab.walk.engine import Walk, ip_part, reply_l4, routed_by

if TYPE_CHECKING:
    from kubenet_lab.dataplane.tables import Dataplane
    from kubenet_lab.model.trace import Trace

__all__ = ["DEFAULT_TTL", "TIMEOUT_SYSCTLS", "conntrack_sysctls", "record", "reply_path",
           "reply_ttls"]

#: ``net.ipv4.ip_default_ttl``: the TTL a Linux host sends with (kernel default 64).
DEFAULT_TTL = 64

#: The conntrack timeouts the lab uses: sysctl name and the kernel's default (seconds).
TIMEOUT_SYSCTLS = {
    "tcp_syn_sent": ("net.netfilter.nf_conntrack_tcp_timeout_syn_sent", 120),
    "tcp_established": ("net.netfilter.nf_conntrack_tcp_timeout_established", 432000),
    "tcp_close": ("net.netfilter.nf_conntrack_tcp_timeout_close", 10),
    "udp": ("net.netfilter.nf_conntrack_udp_timeout", 30),
    "udp_stream": ("net.netfilter.nf_conntrack_udp_timeout_stream", 120),
    "icmp": ("net.netfilter.nf_conntrack_icmp_timeout", 30),
    "sctp_cookie_wait": ("net.netfilter.nf_conntrack_sctp_timeout_cookie_wait", 3),
    "sctp_established": ("net.netfilter.nf_conntrack_sctp_timeout_established", 210),
    "sctp_closed": ("net.netfilter.nf_conntrack_sctp_timeout_closed", 10),
}
#: kube-proxy's conntrack settings (KubeProxyConfiguration defaults: tcpEstablishedTimeout
#: 24h, tcpCloseWaitTimeout 1h, maxPerCore 32768, min 131072), written at start.
KUBE_PROXY_CONNTRACK = {"net.netfilter.nf_conntrack_tcp_timeout_established": "86400",
                        "net.netfilter.nf_conntrack_tcp_timeout_close_wait": "3600",
                        "net.netfilter.nf_conntrack_max": "131072"}


def conntrack_sysctls(dp: Dataplane, node: str) -> dict[str, str]:
    """The ``net.netfilter.nf_conntrack_*`` values of ``node``: the kernel's defaults,
    kube-proxy's settings where it runs, then ``sysctl -w``."""
    values = {name: str(default) for name, default in TIMEOUT_SYSCTLS.values()}
    values["net.netfilter.nf_conntrack_tcp_timeout_close_wait"] = "60"
    values["net.netfilter.nf_conntrack_max"] = "262144"
    if not dp.plugin.replaces_kube_proxy:
        values.update(KUBE_PROXY_CONNTRACK)
    for name in values:
        written = dp.runtime.sysctl(node, name)
        if written is not None:
            values[name] = written
    return values


def _timeout(dp: Dataplane, node: str, which: str) -> int:
    name = TIMEOUT_SYSCTLS[which][0]
    return max(int(conntrack_sysctls(dp, node)[name]) - 1, 0)


def record(dp: Dataplane, t: Trace, *, protocol: str | None = None,
           ident: int | None = None) -> None:
    """Enter the connection(s) of trace ``t`` into the conntrack tables of the nodes it
    passed (see the module docstring). An HTTP trace is two connections (the client's
    to the proxy, the proxy's to the backend). ``protocol="ICMP"`` with ``ident`` (the
    echo id) records a ping that walked as ``t``."""
    segments: list[list[Hop]] = [[]]
    for hop in t.hops:
        if hop.action == "http":
            segments.append([])
        elif hop.action != "dns":
            segments[-1].append(hop)
    for i, hops in enumerate(segments):
        if not hops:
            continue
        last = i == len(segments) - 1
        delivered = t.delivered if last else True
        rst = last and not delivered and t.reason.startswith("Connection refused: nothing")
        _record_connection(dp, hops, protocol or t.protocol, delivered, rst, ident)


def _record_connection(dp: Dataplane, hops: list[Hop], protocol: str, delivered: bool,
                       rst: bool, ident: int | None) -> None:
    by_node: dict[str, list[Hop]] = {}
    for hop in hops:
        if hop.location.kind == "node":
            by_node.setdefault(hop.location.name, []).append(hop)
    final = hops[-1]
    for node, mine in by_node.items():
        if final.location.kind == "node" and final.location.name == node and (
                final.action == "drop" or (final.action == "refuse" and not rst)):
            continue  # dropped before the confirm hook: no entry
        bridged_only = all(h.action in ("veth", "bridge") for h in mine) and not any(
            "up to" in h.detail for h in mine if h.action == "bridge")
        if bridged_only and not dp.runtime.bridge_nf_call_iptables(node):
            continue
        first, out = _tuple(mine[0].packet), _tuple(mine[-1].packet)
        if first is None or out is None:
            continue
        orig = first
        reply = (out[1], out[0], out[3], out[2])
        if protocol == "ICMP":
            orig = (first[0], first[1], ident or 1, 0)
            reply = (out[1], out[0], ident or 1, 0)
        dp.runtime.track(node, _entry(dp, node, protocol, orig, reply, delivered, rst))


def _tuple(pkt: Packet) -> tuple[str, str, int, int] | None:
    layers = ip_part(pkt)
    if len(layers) < 2 or not isinstance(layers[0], IPv4):
        return None
    ip, l4 = layers[0], layers[1]
    return ip.src, ip.dst, getattr(l4, "sport", 0), getattr(l4, "dport", 0)


def _entry(dp: Dataplane, node: str, protocol: str, orig: tuple[str, str, int, int],
           reply: tuple[str, str, int, int], delivered: bool, rst: bool) -> ConntrackEntry:
    def make(replied: bool, state: str, which: str, assured: bool = False) -> ConntrackEntry:
        return ConntrackEntry(protocol, orig, reply, replied, state,
                              _timeout(dp, node, which), assured)

    if protocol == "TCP":
        if delivered:
            return make(True, "ESTABLISHED", "tcp_established", True)
        return make(True, "CLOSE", "tcp_close") if rst else make(False, "SYN_SENT",
                                                                    "tcp_syn_sent")
    if protocol == "SCTP":
        if delivered:
            return make(True, "ESTABLISHED", "sctp_established", True)
        return make(True, "CLOSED", "sctp_closed") if rst else make(
            False, "COOKIE_WAIT", "sctp_cookie_wait")
    which = "icmp" if protocol == "ICMP" else "udp"
    return make(delivered, "", which)  # an ICMP error is RELATED: not a reply


def reply_path(walk: Walk) -> None:
    """The first reply packet: conntrack undoes the DNAT (and the masquerade) on
    the node that translated the request, so the client sees the address it called."""
    assert walk.dnat is not None
    nat_node, vip, vport, ep_ip, ep_port = walk.dnat
    seen = walk.source_seen or ""
    request = walk.hops[-1].packet
    sport = request.layers[-1].sport
    l4 = reply_l4(walk.protocol, ep_port, sport)
    back = Packet((IPv4(ep_ip, seen, walk.protocol, DEFAULT_TTL, 60), l4))
    where = (Location("pod", walk.destination_pod, "eth0") if walk.destination_pod
             else Location("node", walk.hops[-1].location.name))
    walk.reply.append(Hop(1, where, walk.hops[-1].node, "reply",
                          f"the endpoint answers from {ep_ip}:{ep_port} to {seen}:{sport}",
                          back))
    if _bridged_past_conntrack(walk, nat_node, seen):
        _reply_bridged(walk, back, nat_node, vip, vport, ep_ip, ep_port)
        return
    client_ip, client_port = walk.client or (seen, sport)
    at_nat, at_client = reply_ttls(walk, nat_node)
    undone = Packet((IPv4(vip, client_ip, walk.protocol, at_nat, 60),
                     reply_l4(walk.protocol, vport, client_port)))
    delivered = undone if at_client == at_nat else Packet(
        (IPv4(vip, client_ip, walk.protocol, at_client, 60),
         reply_l4(walk.protocol, vport, client_port)))
    masq = (f" and the masquerade (destination {seen}:{sport} back to "
            f"{client_ip}:{client_port})" if walk.client else "")
    walk.reply.append(Hop(2, Location("node", nat_node), nat_node, "conntrack",
                          f"conntrack on {nat_node} matches the reply to the connection "
                          f"it translated and undoes the DNAT (source {ep_ip}:{ep_port} "
                          f"back to {vip}:{vport}){masq}", undone,
                          packet_changes(back, undone)))
    walk.reply.append(Hop(3, Location("node", nat_node), None, "deliver",
                          f"the client receives a reply from {vip}:{vport}, the address "
                          "it connected to", delivered, packet_changes(undone, delivered)))


def reply_ttls(walk: Walk, nat_node: str) -> tuple[int, int]:
    """The TTL of the first reply as it leaves ``nat_node`` (conntrack has undone the
    DNAT there) and as the client receives it.

    The endpoint sends it with ``net.ipv4.ip_default_ttl`` (64) and every router on the
    way back decrements it by one, as on the way out (RFC 1812 §5.3.1). The reply
    crosses the routers of the request in reverse (conntrack on ``nat_node`` needs it
    back there): those the request met after the DNAT come before the reply reaches
    ``nat_node``, those before it come after. One exception: a client pod and its
    endpoint on the same ``cni0`` bridge, no masquerade. The request was routed by the
    node (the pod sent it to its gateway, for the Service's address); the endpoint
    answers its neighbour on the bridge directly, so the reply is bridged, not routed,
    and arrives with 64 (conntrack still undoes the DNAT on the bridge, br_netfilter).
    Only the connection that was translated counts (an HTTP proxy starts a new one)."""
    hops = walk.hops
    dnat_at = max((i for i, h in enumerate(hops) if h.action == "dnat" and h.node == nat_node),
                  default=0)
    start = max((i for i, h in enumerate(hops[:dnat_at]) if h.action == "http"), default=-1)
    end = min((i for i, h in enumerate(hops) if i > dnat_at and h.action == "http"),
              default=len(hops))
    routers = [(i, node) for i, node in routed_by(hops) if start < i < end]
    after = sum(1 for i, _ in routers if i > dnat_at)
    total = len(routers)
    if _reply_bridged_at(walk, nat_node, walk.source_seen or ""):
        after, total = after - 1, total - 1  # nat_node bridges the reply: no routing
    return DEFAULT_TTL - after, DEFAULT_TTL - total


def _reply_bridged_at(walk: Walk, nat_node: str, client_ip: str) -> bool:
    """Is the reply bridged straight back to the client on ``nat_node``'s cni0? (The
    client and the endpoint are two pods on that bridge and no masquerade changed the
    client's address: the endpoint's on-link route reaches it directly.)"""
    src_pod = walk.src.pod
    if (src_pod is None or walk.destination_pod is None or walk.client is not None
            or walk.dp.plugin.pod_egress != "veth_to_bridge" or src_pod.node != nat_node
            or src_pod.ip != client_ip):
        return False
    peer = walk.view.pod(walk.destination_pod)
    return peer.node == nat_node and peer.ref != src_pod.ref


def _bridged_past_conntrack(walk: Walk, nat_node: str, client_ip: str) -> bool:
    """Is the reply bridged straight back to the client on ``nat_node``'s cni0, past
    netfilter? (Bridged as ``_reply_bridged_at`` says, and bridged frames skip
    iptables there.)"""
    return (_reply_bridged_at(walk, nat_node, client_ip)
            and not walk.dp.runtime.bridge_nf_call_iptables(nat_node))


def _reply_bridged(walk: Walk, back: Packet, node: str, vip: str, vport: int, ep_ip: str,
                   ep_port: int) -> None:
    """The reply that bypasses conntrack: bridged with the endpoint's own address, and
    dropped by the client (see the module docstring)."""
    src_pod = walk.src.pod
    assert src_pod is not None
    why = ("br_netfilter is not loaded" if not walk.dp.runtime.module_loaded(
        node, "br_netfilter") else "net.bridge.bridge-nf-call-iptables = 0")
    walk.reply.append(Hop(2, Location("node", node, "cni0"), node, "bridge",
                          f"{ep_ip} and the client {src_pod.ip} are neighbours on {node}'s "
                          f"cni0, so the endpoint sends the reply straight to the client's "
                          f"MAC and cni0 switches it to port {walk.dp.veth_name(src_pod)}; "
                          f"{why} on {node}, so the bridged frame skips iptables and "
                          f"conntrack: nothing undoes the DNAT, the source stays "
                          f"{ep_ip}:{ep_port}", back))
    walk.reply.append(Hop(3, Location("pod", src_pod.ref, "eth0"), node, "drop",
                          f"the client connected to {vip}:{vport} and gets an answer from "
                          f"{ep_ip}:{ep_port}, which matches none of its connections: its "
                          "kernel answers with a RST and the connection never opens",
                          back))
    walk.delivered = False
    walk.reason = (f"Connection failed: {walk.destination_pod} received the request, but "
                   f"its reply was bridged straight back on {node}'s cni0 with its own "
                   f"address {ep_ip} ({why} on {node}): conntrack never saw it, the DNAT "
                   f"was not undone, and the client, which connected to {vip}:{vport}, "
                   "drops it. Clients on other nodes are not affected: their replies are "
                   "routed through the node's IP stack, where conntrack undoes the DNAT.")
