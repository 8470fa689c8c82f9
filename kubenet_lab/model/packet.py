"""Packets as stacks of header layers, in the manner of scapy.

A packet is a tuple of frozen layer records, outermost first. Encapsulation is plain
nesting: a VXLAN packet between two nodes is
``Ethernet / IPv4 / UDP / VXLAN / Ethernet / IPv4 / TCP``.

Every layer has a one-line ``summary()``; a ``Packet`` joins them with ``" / "`` and
has a per-layer ``show()`` block, both returning strings.

Examples
--------
>>> pkt = kl.Packet((kl.IPv4(src="10.244.1.2", dst="10.244.2.2", proto="TCP"),
...                  kl.TCP(sport=40000, dport=80)))
>>> pkt.summary()
'IP 10.244.1.2 > 10.244.2.2 ttl=64 / TCP 40000 > 80 [S]'
>>> pkt[kl.TCP].dport
80
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TypeVar

from kubenet_lab.model.arguments import checked

__all__ = [
    "SCTP",
    "TCP",
    "UDP",
    "VXLAN",
    "Change",
    "Ethernet",
    "IPv4",
    "Layer",
    "Packet",
    "packet_changes",
]


@dataclass(frozen=True, slots=True)
class Ethernet:
    """An Ethernet II header: source and destination MAC addresses."""

    src: str
    dst: str
    type: str = "IPv4"

    name = "Ether"

    def summary(self) -> str:
        return f"Ether {self.src} > {self.dst}"


@dataclass(frozen=True, slots=True)
class IPv4:
    """An IPv4 header. ``length`` is the total length in bytes, header included."""

    src: str
    dst: str
    proto: str = "TCP"
    ttl: int = 64
    length: int = 60

    name = "IP"

    def summary(self) -> str:
        return f"IP {self.src} > {self.dst} ttl={self.ttl}"


@dataclass(frozen=True, slots=True)
class TCP:
    """A TCP header. ``flags`` as tcpdump prints them: ``S`` (SYN), ``S.`` (SYN-ACK), ``R.``."""

    sport: int
    dport: int
    flags: str = "S"

    name = "TCP"

    def summary(self) -> str:
        return f"TCP {self.sport} > {self.dport} [{self.flags}]"


@dataclass(frozen=True, slots=True)
class UDP:
    """A UDP header; ``length`` covers header and payload."""

    sport: int
    dport: int
    length: int = 8

    name = "UDP"

    def summary(self) -> str:
        return f"UDP {self.sport} > {self.dport}"


@dataclass(frozen=True, slots=True)
class SCTP:
    """An SCTP common header (the first packet carries an INIT chunk)."""

    sport: int
    dport: int
    chunk: str = "INIT"

    name = "SCTP"

    def summary(self) -> str:
        return f"SCTP {self.sport} > {self.dport} [{self.chunk}]"


@dataclass(frozen=True, slots=True)
class VXLAN:
    """A VXLAN header (RFC 7348): 8 bytes carrying the 24-bit network identifier."""

    vni: int

    name = "VXLAN"

    def summary(self) -> str:
        return f"VXLAN vni={self.vni}"


Layer = Ethernet | IPv4 | TCP | UDP | SCTP | VXLAN
L = TypeVar("L", Ethernet, IPv4, TCP, UDP, SCTP, VXLAN)


@dataclass(frozen=True, slots=True)
class Change:
    """One header field that differs between two consecutive hops.

    ``layer`` is the layer's name and its position counted from the innermost layer
    with the same name (``"IP"`` for the innermost IP header, ``"outer IP"`` for the one
    around it). For a layer that was added or removed, ``field`` is ``"+"`` or ``"-"``.
    """

    layer: str
    field: str
    old: object
    new: object

    def __str__(self) -> str:
        if self.field == "+":
            return f"added {self.new}"
        if self.field == "-":
            return f"removed {self.old}"
        return f"{self.layer}.{self.field}: {self.old} -> {self.new}"


@dataclass(frozen=True, slots=True)
class Packet:
    """A stack of header layers, outermost first.

    ``pkt[IPv4]`` is the outermost layer of that type, ``pkt.inner(IPv4)`` the innermost;
    ``IPv4 in pkt`` tests for a layer.
    """

    layers: tuple[Layer, ...]

    def __getitem__(self, kind: type[L]) -> L:
        for layer in self.layers:
            if isinstance(layer, kind):
                return layer
        raise KeyError(f"packet has no {kind.__name__} layer: {self.summary()}")

    def __contains__(self, kind: object) -> bool:
        return any(isinstance(layer, kind) for layer in self.layers)  # type: ignore[arg-type]

    def inner(self, kind: type[L]) -> L:
        """The innermost layer of type ``kind`` (the payload's own header)."""
        for layer in reversed(self.layers):
            if isinstance(layer, kind):
                return layer
        raise KeyError(f"packet has no {kind.__name__} layer: {self.summary()}")

    @property
    def encapsulated(self) -> bool:
        """True when the packet carries another packet (VXLAN, or IP-in-IP: two IP headers)."""
        return VXLAN in self or sum(isinstance(layer, IPv4) for layer in self.layers) > 1

    def summary(self) -> str:
        """One line for the whole stack, outermost first."""
        return " / ".join(layer.summary() for layer in self.layers)

    def show(self) -> str:
        """An indented block per layer with aligned ``field = value`` rows."""
        lines = []
        for layer in self.layers:
            lines.append(f"###[ {layer.name} ]###")
            for f in fields(layer):
                lines.append(f"  {f.name:<6} = {getattr(layer, f.name)}")
        return "\n".join(lines)

    def labels(self) -> list[str]:
        """Each layer's name as ``Change.layer`` gives it: ``"IP"`` for the innermost IP
        header, ``"outer IP"`` for the one around it."""
        return _labels(self.layers)

    def replace(self, old: Layer, new: Layer) -> Packet:
        """A copy with the layer ``old`` (by identity) replaced by ``new``."""
        return Packet(tuple(new if layer is old else layer for layer in self.layers))

    def __str__(self) -> str:
        return self.summary()


def _labels(layers: tuple[Layer, ...]) -> list[str]:
    """Name each layer, counting outward from the innermost of its kind."""
    seen: dict[str, int] = {}
    labels = []
    for layer in reversed(layers):
        depth = seen.get(layer.name, 0)
        seen[layer.name] = depth + 1
        labels.append(("outer " * depth) + layer.name)
    return labels[::-1]


@checked
def packet_changes(old: Packet | None, new: Packet) -> tuple[Change, ...]:
    """The header fields that differ from ``old`` to ``new``.

    Stacks are aligned from the innermost layer outward, so an encapsulation shows as
    added outer layers and a decapsulation as removed ones.

    Examples
    --------
    >>> a = kl.Packet((kl.IPv4(src="10.244.1.2", dst="10.244.2.2"), kl.TCP(40000, 80)))
    >>> b = kl.Packet((kl.IPv4(src="10.244.1.2", dst="10.244.2.2", ttl=63), kl.TCP(40000, 80)))
    >>> [str(c) for c in packet_changes(a, b)]
    ['IP.ttl: 64 -> 63']
    """
    if old is None:
        return ()
    changes: list[Change] = []
    o_layers, n_layers = old.layers, new.layers
    common = min(len(o_layers), len(n_layers))
    n_labels = _labels(n_layers)
    o_labels = _labels(o_layers)
    for i in range(1, common + 1):
        a, b = o_layers[-i], n_layers[-i]
        if type(a) is not type(b):
            changes.append(Change(o_labels[-i], "-", a.summary(), None))
            changes.append(Change(n_labels[-i], "+", None, b.summary()))
            continue
        for f in fields(a):
            va, vb = getattr(a, f.name), getattr(b, f.name)
            if va != vb:
                changes.append(Change(n_labels[-i], f.name, va, vb))
    for layer, label in zip(n_layers[: len(n_layers) - common], n_labels, strict=False):
        changes.append(Change(label, "+", None, layer.summary()))
    for layer, label in zip(o_layers[: len(o_layers) - common], o_labels, strict=False):
        changes.append(Change(label, "-", layer.summary(), None))
    return tuple(changes)
