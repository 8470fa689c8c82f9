"""The result of walking one packet through the cluster: a ``Trace`` of ``Hop``s.

A dropped or refused packet is a normal result (``delivered=False`` with a
``reason``), not an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubenet_lab.model.packet import Change, Packet

__all__ = ["Hop", "Location", "Trace"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a hop happens.

    ``kind`` is ``"pod"`` (inside a pod's network namespace; ``name`` is ``"ns/pod"``),
    ``"node"`` (the node's root network namespace; ``name`` is the node) or
    ``"network"`` (the VPC network between nodes; ``name`` is its CIDR).
    ``interface`` is the device the packet is on there (``eth0``, ``cni0``,
    ``flannel.1``, ``lo``, a ``veth…``), or ``""``.
    """

    kind: str
    name: str
    interface: str = ""

    def __str__(self) -> str:
        where = {"pod": "pod", "node": "node", "network": "network"}[self.kind]
        text = f"{where} {self.name}"
        return f"{text} {self.interface}" if self.interface else text


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a packet's walk.

    Attributes
    ----------
    index : int
        1-based position in the trace.
    location : Location
        Where the packet is.
    node : str or None
        The node this hop is on (None on the network between nodes).
    action : str
        A short verb: ``send``, ``route``, ``bridge``, ``encapsulate``, ``transmit``,
        ``decapsulate``, ``deliver``, ``refuse``, ``drop``, ``loopback``.
    detail : str
        One sentence: what happened here and why.
    packet : Packet
        The headers as they are at this hop.
    changes : tuple of Change
        What differs from the previous hop's headers (empty for the first hop).
    """

    index: int
    location: Location
    node: str | None
    action: str
    detail: str
    packet: Packet
    changes: tuple[Change, ...] = ()

    def summary(self) -> str:
        """One line: number, location, action and the packet's headers."""
        return f"{self.index:>2} {self.location} [{self.action}] {self.packet.summary()}"


@dataclass(frozen=True, slots=True)
class Trace:
    """One packet's walk from ``src`` to ``dst``.

    Attributes
    ----------
    src, dst : str
        The endpoints as given to ``Cluster.trace``.
    port : int
    protocol : str
    src_ip, dst_ip : str
        The addresses the first packet carries.
    delivered : bool
        Whether the packet reached a listening socket.
    destination_pod : str or None
        ``"ns/name"`` of the pod that received it.
    source_ip_seen : str or None
        The source address as seen by the final receiver (shows any NAT).
    reason : str
        One sentence: why it was delivered or dropped.
    hops : tuple of Hop
    receiver : str or None
        The container (``"ns/pod/container"``) or node whose socket took the packet.
    reply : tuple of Hop
        For a connection kube-proxy translated (a Service), the first reply packet:
        from the endpoint, through conntrack's reverse translation, to the client.
    http_status : int or None
        For ``trace(src, "http://host/path")``: the HTTP status the client gets
        (200, a redirect, or the proxy's own 404/500/502/503).
    request_line, request_headers : str or None, tuple of (name, value)
        For a proxied HTTP request: the request as the backend pod receives it (after
        the route's filters, with the headers the proxy adds).
    response_headers : tuple of (name, value)
        Headers the proxy puts on the response (a redirect's ``location``, a
        ResponseHeaderModifier's).
    snapshot : Snapshot or None
        The cluster as it was when the packet walked (a read-only ``Snapshot`` of its
        Store): pictures of the trace draw this, not the cluster as it is later.
    """

    src: str
    dst: str
    port: int
    protocol: str
    src_ip: str
    dst_ip: str
    delivered: bool
    destination_pod: str | None
    source_ip_seen: str | None
    reason: str
    hops: tuple[Hop, ...]
    receiver: str | None = None
    reply: tuple[Hop, ...] = ()
    http_status: int | None = None
    request_line: str | None = None
    request_headers: tuple[tuple[str, str], ...] = ()
    response_headers: tuple[tuple[str, str], ...] = ()
    snapshot: Any = field(default=None, compare=False, repr=False)

    def request_header(self, name: str) -> str | None:
        """The value of header ``name`` in the request as the backend received it, the
        name compared without case (RFC 9110 §5.1: field names are case-insensitive;
        Envoy writes them lowercase), repeated headers joined with ``,``; None without it.

        >>> t = Trace("a", "b", 80, "TCP", "", "", True, None, None, "", (),
        ...           request_headers=(("x-forwarded-for", "203.0.113.50"),))
        >>> t.request_header("X-Forwarded-For"), t.request_header("Via")
        ('203.0.113.50', None)
        """
        return _header(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        """``request_header`` for the headers the proxy set on the response."""
        return _header(self.response_headers, name)

    @property
    def nodes(self) -> tuple[str, ...]:
        """The nodes the packet visited, in order, without repeats."""
        seen: list[str] = []
        for hop in self.hops:
            if hop.node is not None and (not seen or seen[-1] != hop.node):
                seen.append(hop.node)
        return tuple(seen)

    @property
    def interfaces(self) -> tuple[str, ...]:
        """``"<node or pod>:<interface>"`` for each hop, in order."""
        return tuple(f"{h.location.name}:{h.location.interface}" for h in self.hops)

    @property
    def encapsulated(self) -> bool:
        """True when any hop carried the packet inside an overlay (VXLAN)."""
        return any(h.packet.encapsulated for h in self.hops)

    @property
    def outcome(self) -> str:
        """``"delivered"``, ``"refused"`` (a kernel answered: nothing listens there) or
        ``"dropped"`` (the packet was lost on the way)."""
        if self.delivered:
            return "delivered"
        if self.hops and self.hops[-1].action == "refuse":
            return "refused"
        return "dropped"

    @property
    def target(self) -> str:
        """``dst:port/protocol``, without repeating a port already in ``dst``; an HTTP
        request's URL as it is (its scheme says the port)."""
        if self.dst.startswith(("http://", "https://")):
            return self.dst
        port = "" if self.dst.endswith(f":{self.port}") else f":{self.port}"
        return f"{self.dst}{port}/{self.protocol}"

    def __repr__(self) -> str:
        return f"<Trace {self.src} -> {self.target} {self.outcome}, {len(self.hops)} hops>"

    def __str__(self) -> str:
        from kubenet_lab.views.text import trace_text

        return trace_text(self)

    def _repr_html_(self) -> str:
        from kubenet_lab.views.html import trace_html

        return trace_html(self)


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    values = [v for k, v in headers if k.lower() == name.lower()]
    return ",".join(values) if values else None
