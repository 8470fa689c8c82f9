"""The state of one packet's walk, and the helpers every device handler shares.

A walk is a loop (``kubenet_lab.walk.registry.run``): the packet is at a place, the
registry gives the handler of that place, and the handler records its hops and returns
the next place as a ``Step`` (a handler name and its arguments), or None when the packet
is delivered, refused or dropped. So the call stack stays flat however long the path is,
as scapy dissects a packet by following ``bind_layers`` through a registry rather than
by protocol code calling back into the core.

Each ``Hop`` records the headers as the packet leaves that hop (as it arrives, for the
last one). Client source ports are derived from a hash of the connection, as Linux
picks them from a hash (RFC 6056); VXLAN source ports likewise from the inner flow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubenet_lab.model.packet import SCTP, TCP, UDP, Ethernet, IPv4, Layer, Packet, packet_changes
from kubenet_lab.model.trace import Hop, Location

if TYPE_CHECKING:
    from kubenet_lab.dataplane.tables import Dataplane
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod

__all__ = [
    "EPHEMERAL_PORTS",
    "MAX_HOPS",
    "Endpoint",
    "Step",
    "Walk",
    "hash_port",
    "ip_part",
    "reply_l4",
    "unframed",
]

EPHEMERAL_PORTS = (32768, 60999)  # net.ipv4.ip_local_port_range default
MAX_HOPS = 64

#: The next place of a packet: the name of its handler and the handler's arguments.
Step = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A resolved source or destination: a pod (optionally one container), a node, or
    a bare address. ``ip`` is the address the packet carries (for a node source,
    None means "let the route choose")."""

    text: str
    ip: str | None
    pod: Pod | None = None
    container: str | None = None
    node: Node | None = None
    loopback: bool = False
    outside: bool = False
    dns: tuple[str, str, str] | None = None  # (name asked, name that answered, address)


def hash_port(*key: object) -> int:
    """An ephemeral port chosen by hashing ``key`` (the connection it is for)."""
    low, high = EPHEMERAL_PORTS
    digest = hashlib.sha256(repr(key).encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low + 1)


def _l4(protocol: str, sport: int, dport: int) -> tuple[Layer, int]:
    """The transport header of a connection's first packet and the IP total length."""
    if protocol == "TCP":
        return TCP(sport, dport, "S"), 60
    if protocol == "UDP":
        return UDP(sport, dport, 40), 60
    return SCTP(sport, dport), 52


def reply_l4(protocol: str, sport: int, dport: int) -> Layer:
    """The transport header of the first reply (a SYN-ACK for TCP)."""
    if protocol == "TCP":
        return TCP(sport, dport, "S.")
    if protocol == "UDP":
        return UDP(sport, dport, 40)
    return SCTP(sport, dport)


def ip_part(pkt: Packet) -> tuple[Layer, ...]:
    """The layers from the innermost IPv4 header on (drops any Ethernet framing)."""
    layers = pkt.layers
    for i in range(len(layers) - 1, -1, -1):
        if isinstance(layers[i], IPv4):
            return layers[i:]
    return layers


def unframed(pkt: Packet) -> tuple[Layer, ...]:
    """The layers without the outermost Ethernet header, if there is one."""
    layers = pkt.layers
    return layers[1:] if layers and isinstance(layers[0], Ethernet) else layers


class Walk:
    """One packet's walk: where it comes from and goes, the hops so far, and what the
    kernel remembered on the way (the DNAT, a masquerade, the cloud's translations)."""

    def __init__(self, dp: Dataplane, src: Endpoint, dst: Endpoint, port: int,
                 protocol: str) -> None:
        self.dp = dp
        self.view = dp.view
        self.src, self.dst = src, dst
        self.port, self.protocol = port, protocol
        self.orig_port = port
        self.first_ip = src.ip
        self.hops: list[Hop] = []
        self.delivered = False
        self.reason = ""
        self.destination_pod: str | None = None
        self.receiver: str | None = None
        self.source_seen: str | None = None
        self.nat_note = ""
        self.egress_checked = False
        self.policies = True  # False: policies set aside (verify_network_model)
        self.service_masq = False  # the 0x4000 mark: KUBE-POSTROUTING masquerades
        self.dnat: tuple[str, str, int, str, int] | None = None  # node, VIP, port, ep, port
        self.client: tuple[str, int] | None = None  # source before KUBE-POSTROUTING
        self.reply: list[Hop] = []
        self.egress: Any = None  # walk.vpc: the cloud's translations on the way out
        self.egress_node: str | None = None
        self.lb: tuple[str, str, int, str, int] | None = None  # LB, its ip:port, node:port

    def __repr__(self) -> str:
        return f"<Walk {self.src.text} -> {self.dst.text}, {len(self.hops)} hops>"

    def hop(self, location: Location, node: str | None, action: str, detail: str,
            packet: Packet) -> None:
        """Record one hop, with what changed since the previous packet hop."""
        prev = self.hops[-1].packet if self.hops and self.hops[-1].action != "dns" else None
        self.hops.append(Hop(len(self.hops) + 1, location, node, action, detail, packet,
                             packet_changes(prev, packet)))

    def drop(self, location: Location, node: str | None, detail: str, packet: Packet,
             reason: str) -> None:
        """Record the hop where the packet is lost, and why."""
        self.hop(location, node, "drop", detail, packet)
        self.reason = reason

    def first_packet(self, src_ip: str, dst_ip: str, eth: Ethernet | None) -> Packet:
        """The connection's first packet (a SYN for TCP), framed by ``eth`` if given."""
        sport = hash_port(src_ip, dst_ip, self.port, self.protocol)
        l4, length = _l4(self.protocol, sport, self.port)
        ip = IPv4(src_ip, dst_ip, self.protocol, 64, length)
        return Packet(((eth,) if eth else ()) + (ip, l4))


def routed_by(hops: list[Hop] | tuple[Hop, ...]) -> list[tuple[int, str]]:
    """``(index, node)`` of each hop at which a node routed the packet: forwarding
    decrements the TTL by one (RFC 1812 §5.3.1; the kernel's ``ip_forward``; Cilium's
    eBPF routing the same), so a hop whose packet's TTL went down is one router. A
    packet a node sends itself starts at ``net.ipv4.ip_default_ttl`` (64) and is not
    decremented there."""
    return [(i, h.node) for i, h in enumerate(hops) if h.node is not None and any(
        c.field == "ttl" and isinstance(c.old, int) and isinstance(c.new, int)
        and c.new < c.old for c in h.changes)]
