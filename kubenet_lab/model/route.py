"""Routes and network interfaces as ``ip route`` and ``ip addr`` show them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Interface", "Route"]


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of a routing table.

    ``dst`` is a CIDR or ``"default"``; ``via`` the next hop (None for a directly
    connected network); ``onlink`` says the next hop is reachable on ``dev`` even though
    no address of ``dev`` covers it (flannel's routes via ``flannel.1``); ``type`` is
    ``"unicast"`` (not printed) or ``"blackhole"`` (Calico's route for its own block,
    with no device); ``mtu`` is a per-route MTU (Cilium's routes carry one).

    Examples
    --------
    >>> str(kl.Route("10.244.2.0/24", "flannel.1", via="10.244.2.0", onlink=True))
    '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink'
    """

    dst: str
    dev: str
    via: str | None = None
    src: str | None = None
    proto: str | None = None
    scope: str | None = None
    onlink: bool = False
    type: str = "unicast"
    mtu: int | None = None

    def __str__(self) -> str:
        parts = [self.dst] if self.type == "unicast" else [self.type, self.dst]
        if self.via:
            parts += ["via", self.via]
        if self.dev:
            parts += ["dev", self.dev]
        if self.proto:
            parts += ["proto", self.proto]
        if self.scope:
            parts += ["scope", self.scope]
        if self.src:
            parts += ["src", self.src]
        if self.mtu:
            parts += ["mtu", str(self.mtu)]
        if self.onlink:
            parts.append("onlink")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Interface:
    """A network device in a network namespace.

    ``address`` is ``"ip/prefix"`` or None; ``peer`` names the other end of a veth
    pair (``"x/a:eth0"`` for a pod's end, ``"node-1:veth1a2b3c4d"`` for a host end);
    ``master`` is the bridge a port belongs to.
    """

    name: str
    kind: str
    mac: str
    mtu: int
    address: str | None = None
    peer: str | None = None
    master: str | None = None
