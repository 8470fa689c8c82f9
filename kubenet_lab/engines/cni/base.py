"""The interface every CNI plugin of the lab implements, and the parts plugins share.

A plugin answers, for one cluster, the questions the rest of the lab asks:

- **devices and addresses**: ``node_interfaces``, ``pod_interfaces``, ``local_addresses``,
  ``device_address`` (what ``ip addr`` shows);
- **routes**: ``node_routes`` and ``pod_routes`` as the plugin installs them (what ``ip
  route`` shows before anyone edits them; ``kubenet_lab.engines.cni.node_routes`` applies
  the edits made with ``ip route add/del``);
- **the forwarding step**: ``send_from_pod`` (from a pod's ``eth0`` into the node) and
  ``output`` (out of a device the plugin owns: a bridge, a veth, a tunnel), called by
  the datapath with the walk so that the hops are the plugin's own;
- **overhead**: ``encapsulation``, ``overhead`` (bytes of outer headers) and ``mtu``;
- **what else it does**: ``masquerade`` (its POSTROUTING nat rule), ``enforces_network_policy``
  and ``replaces_kube_proxy``.

Generated names are deterministic: a veth's name and every MAC address are derived from
a hash of what they belong to, so the same cluster always looks the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from ipaddress import ip_network
from typing import TYPE_CHECKING, Any, ClassVar

from kubenet_lab.engines.ipam import bridge_ip
from kubenet_lab.model.packet import Ethernet, Packet
from kubenet_lab.model.route import Interface, Route
from kubenet_lab.model.trace import Location

if TYPE_CHECKING:
    from kubenet_lab.model.cluster import Cluster
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod

__all__ = ["BRIDGE", "LINK_MTU", "BridgeFamily", "CNIPlugin", "digest", "mac_address"]

#: An ``ip neigh`` entry: ``(ip, dev, mac, state)``.
Neighbour = tuple[str, str, str, str]
#: A masquerade decision: ``(rule text, who installed it)``, or None for no NAT.
Masquerade = tuple[str, str] | None

BRIDGE = "cni0"
LINK_MTU = 1500


def digest(key: str) -> bytes:
    """SHA-256 of ``key``: the source of every generated name and MAC."""
    return hashlib.sha256(key.encode()).digest()


def mac_address(key: str) -> str:
    """A locally administered unicast MAC derived from ``key``.

    >>> mac = mac_address("node-1/eth0")
    >>> mac == mac_address("node-1/eth0"), int(mac[:2], 16) & 0b11  # stable; local, unicast
    (True, 2)
    """
    raw = bytearray(digest(key)[:6])
    raw[0] = (raw[0] & 0xFC) | 0x02
    return ":".join(f"{b:02x}" for b in raw)


def sort_routes(routes: list[Route]) -> tuple[Route, ...]:
    """``default`` first, then by network address and prefix length, as ``ip route``.

    A second route to the same destination is left out: the kernel refuses it
    (``RTNETLINK answers: File exists``), so the first one installed stays.
    """
    seen: set[tuple[str, str]] = set()
    unique = []
    for r in routes:
        if (r.dst, r.type) not in seen:
            seen.add((r.dst, r.type))
            unique.append(r)
    head = [r for r in unique if r.dst == "default"]
    rest = [r for r in unique if r.dst != "default"]
    rest.sort(key=lambda r: (int(ip_network(r.dst).network_address), ip_network(r.dst).prefixlen))
    return tuple(head + rest)


class CNIPlugin:
    """Base class of the lab's CNI plugins (see the module docstring for the interface).

    ``config`` holds the plugin's own settings, named as in its real configuration
    (``ipMasq`` for bridge, ``ipipMode`` for Calico).
    """

    name: ClassVar[str] = ""
    #: One line for tables: what the plugin is and how it moves packets between nodes.
    summary: ClassVar[str] = ""
    encapsulation: ClassVar[str | None] = None
    overhead: ClassVar[int] = 0
    enforces_network_policy: ClassVar[bool] = False
    replaces_kube_proxy: ClassVar[bool] = False
    #: Does a router that decrements the TTL to 0 answer with ICMP time exceeded? The
    #: kernel does; Cilium's eBPF routing (``ipv4_l3``) drops silently (cilium/cilium
    #: issue #27616, "CFP: support ICMP_TIME_EXCEEDED"), so traceroute shows ``* * *``.
    icmp_time_exceeded: ClassVar[bool] = True
    default_cluster_cidr: ClassVar[str] = "10.244.0.0/16"
    default_node_cidr_mask: ClassVar[int] = 24
    tunnel_port: ClassVar[int | None] = None
    options: ClassVar[dict[str, tuple[Any, ...]]] = {}

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = dict(config or {})

    def __repr__(self) -> str:
        return f"<CNI plugin {self.name}>"

    @property
    def mtu(self) -> int:
        """The MTU of pod interfaces: the link's 1500 minus the overlay's headers."""
        return LINK_MTU - self.overhead

    @property
    def mode(self) -> str:
        """How packets cross between nodes: ``"VXLAN"``, ``"IPIP"`` or ``"routed"``."""
        return self.encapsulation or "routed"

    # ------------------------------------------------------------------ names
    def veth_name(self, pod: Pod) -> str:
        """The host end of a pod's veth pair."""
        raise NotImplementedError

    def gateway(self, cluster: Cluster, pod: Pod) -> str:
        """The pod's default gateway address."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def pod_interfaces(self, cluster: Cluster, pod: Pod) -> tuple[Interface, ...]:
        """``lo`` and ``eth0`` holding the pod IP as a /32 (routed plugins: Calico,
        Cilium); ``eth0``'s peer is the pod's veth on the node."""
        return (
            Interface("lo", "loopback", "00:00:00:00:00:00", 65536, "127.0.0.1/8"),
            Interface("eth0", "veth", mac_address(f"{pod.ref}/eth0"), self.mtu, f"{pod.ip}/32",
                      peer=f"{pod.node}:{self.veth_name(pod)}"),
        )

    def node_interfaces(self, cluster: Cluster, node: Node) -> tuple[Interface, ...]:
        raise NotImplementedError

    def pod_routes(self, cluster: Cluster, pod: Pod) -> tuple[Route, ...]:
        raise NotImplementedError

    def node_routes(self, cluster: Cluster, node: Node) -> tuple[Route, ...]:
        raise NotImplementedError

    def base_interfaces(self, cluster: Cluster, node: Node) -> list[Interface]:
        """``lo`` and ``eth0``, which every node has whatever the plugin."""
        subnet_prefix = ip_network(cluster.subnet_of(node).cidr).prefixlen
        return [
            Interface("lo", "loopback", "00:00:00:00:00:00", 65536, "127.0.0.1/8"),
            Interface("eth0", "ether", mac_address(f"{node.name}/eth0"), LINK_MTU,
                      f"{node.ip}/{subnet_prefix}"),
        ]

    def base_routes(self, cluster: Cluster, node: Node) -> list[Route]:
        """The routes every node has: the VPC's router as default, and its subnet."""
        subnet = cluster.subnet_of(node)
        return [Route("default", "eth0", via=subnet.router),
                Route(subnet.cidr, "eth0", proto="kernel", scope="link", src=node.ip)]

    def local_addresses(self, cluster: Cluster, node: Node) -> set[str]:
        """The addresses of the node's own devices."""
        return {node.ip}

    def device_address(self, cluster: Cluster, node: Node, dev: str) -> str:
        """The source address the kernel picks for a packet leaving by ``dev``."""
        return node.ip

    def local_device(self, node: Node, ip: str) -> str:
        """The device a packet to one of the node's own addresses is received on."""
        return "eth0"

    def pod_neighbours(self, cluster: Cluster, pod: Pod) -> tuple[tuple[str, str], ...]:
        """``(ip, mac)`` of the pod's gateway, as ``ip neigh`` in the pod shows it."""
        return ()

    def node_neighbours(self, cluster: Cluster, node: Node) -> tuple[Neighbour, ...]:
        """``(ip, dev, mac, state)`` entries of the node's neighbour table."""
        return ()

    def fdb(self, cluster: Cluster, node: Node) -> tuple[str, ...]:
        """``bridge fdb show`` lines of the node's bridges and VXLAN devices."""
        return ()

    def nat_rules(self, cluster: Cluster, node: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The plugin's own chains and rules in the nat table (``iptables-save``):
        ``(chain declarations, rules)``."""
        return (), ()

    def filter_rules(
        self, cluster: Cluster, node: Node
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The plugin's own chains and rules in the filter table."""
        return (), ()

    # ------------------------------------------------------------------ datapath
    def masquerade(self, cluster: Cluster, node: Node, src: str, dst: str) -> Masquerade:
        """The plugin's POSTROUTING rule that masquerades this connection, as
        ``(rule text, who installed it)``, or None when it leaves the source alone."""
        return None

    def send_from_pod(self, walk: Any, pod: Pod, sender: str, dst_ip: str) -> None:
        """The first hops: out of the pod's ``eth0`` into the node."""
        raise NotImplementedError

    def output(self, walk: Any, node: Node, pkt: Packet, route: Route, how: str) -> bool:
        """Send ``pkt`` out of ``route.dev`` if the plugin owns that device (return True);
        return False to let the datapath use ``eth0``."""
        return False


class BridgeFamily(CNIPlugin):
    """Plugins whose pods hang off the ``cni0`` Linux bridge (bridge, flannel).

    The bridge plugin gives every pod a veth pair whose pod end is ``eth0`` (holding the
    pod IP) and whose host end, named ``veth`` + 8 hex digits, is a port of the node's
    ``cni0`` bridge. The bridge holds the podCIDR's .1, the pods' default gateway
    (``isGateway``/``isDefaultGateway``). (containernetworking/plugins
    plugins/main/bridge; facts sheet §3.1)
    """

    def veth_name(self, pod: Pod) -> str:
        """``veth`` + 8 hex digits, as the bridge plugin names it (it draws them at random;
        the lab derives them from the pod)."""
        return "veth" + digest(f"{pod.namespace}/{pod.name}").hex()[:8]

    def gateway(self, cluster: Cluster, pod: Pod) -> str:
        return str(bridge_ip(ip_network(cluster.node(pod.node).pod_cidr)))

    def extra_pod_routes(self, cluster: Cluster, pod: Pod) -> tuple[Route, ...]:
        return ()

    def pod_routes(self, cluster: Cluster, pod: Pod) -> tuple[Route, ...]:
        node = cluster.node(pod.node)
        gw = self.gateway(cluster, pod)
        return (
            (Route("default", "eth0", via=gw),)
            + self.extra_pod_routes(cluster, pod)
            + (Route(node.pod_cidr, "eth0", proto="kernel", scope="link", src=pod.ip),)
        )

    def pod_interfaces(self, cluster: Cluster, pod: Pod) -> tuple[Interface, ...]:
        """``lo`` and ``eth0`` inside a pod; ``eth0``'s peer is its veth on the node."""
        prefix = ip_network(cluster.node(pod.node).pod_cidr).prefixlen
        return (
            Interface("lo", "loopback", "00:00:00:00:00:00", 65536, "127.0.0.1/8"),
            Interface(
                "eth0", "veth", mac_address(f"{pod.ref}/eth0"), self.mtu,
                f"{pod.ip}/{prefix}", peer=f"{pod.node}:{self.veth_name(pod)}",
            ),
        )

    def bridge_interfaces(self, cluster: Cluster, node: Node) -> list[Interface]:
        """``cni0`` and the pods' veths; ``cni0`` appears with the node's first pod."""
        pods = cluster.pods_on(node.name)
        if not pods:
            return []
        prefix = ip_network(node.pod_cidr).prefixlen
        devices = [Interface(BRIDGE, "bridge", mac_address(f"{node.name}/{BRIDGE}"), self.mtu,
                             f"{bridge_ip(ip_network(node.pod_cidr))}/{prefix}")]
        for pod in pods:
            veth = self.veth_name(pod)
            devices.append(Interface(veth, "veth", mac_address(f"{node.name}/{veth}"),
                                     self.mtu, peer=f"{pod.ref}:eth0", master=BRIDGE))
        return devices

    def local_route(self, cluster: Cluster, node: Node) -> list[Route]:
        if not cluster.pods_on(node.name):
            return []
        gw = str(bridge_ip(ip_network(node.pod_cidr)))
        return [Route(node.pod_cidr, BRIDGE, proto="kernel", scope="link", src=gw)]

    def local_addresses(self, cluster: Cluster, node: Node) -> set[str]:
        addrs = {node.ip}
        if cluster.pods_on(node.name):
            addrs.add(str(bridge_ip(ip_network(node.pod_cidr))))
        return addrs

    def device_address(self, cluster: Cluster, node: Node, dev: str) -> str:
        if dev == BRIDGE:
            return str(bridge_ip(ip_network(node.pod_cidr)))
        return node.ip

    def local_device(self, node: Node, ip: str) -> str:
        return "eth0" if ip == node.ip else BRIDGE

    def pod_neighbours(self, cluster: Cluster, pod: Pod) -> tuple[tuple[str, str], ...]:
        node = cluster.node(pod.node)
        return ((self.gateway(cluster, pod), mac_address(f"{node.name}/{BRIDGE}")),)

    def node_neighbours(self, cluster: Cluster, node: Node) -> tuple[Neighbour, ...]:
        return tuple((p.ip, BRIDGE, mac_address(f"{p.ref}/eth0"), "REACHABLE")
                     for p in cluster.pods_on(node.name))

    def fdb(self, cluster: Cluster, node: Node) -> tuple[str, ...]:
        """The bridge's learned entries (pods' MACs on their veth ports) and the ports'
        own permanent entries, as ``bridge fdb show`` prints them."""
        lines = []
        for pod in cluster.pods_on(node.name):
            veth = self.veth_name(pod)
            lines.append(f"{mac_address(f'{pod.ref}/eth0')} dev {veth} master {BRIDGE}")
            lines.append(f"{mac_address(f'{node.name}/{veth}')} dev {veth} vlan 1 master "
                         f"{BRIDGE} permanent")
            lines.append(f"{mac_address(f'{node.name}/{veth}')} dev {veth} master {BRIDGE} "
                         "permanent")
        if lines:
            lines.append(f"{mac_address(f'{node.name}/{BRIDGE}')} dev {BRIDGE} vlan 1 master "
                         f"{BRIDGE} permanent")
        return tuple(lines)

    # ------------------------------------------------------------------ datapath
    def send_from_pod(self, walk: Any, pod: Pod, sender: str, dst_ip: str) -> None:
        """Route lookup in the pod, ARP (the bridge's .1 or an on-link pod), then the veth
        carries the frame to its host end, a port of ``cni0``."""
        from kubenet_lab.engines.cni import pod_routes
        from kubenet_lab.engines.routing import route_lookup

        route = route_lookup(pod_routes(walk.c, pod), dst_ip)
        eth_src = mac_address(f"{pod.ref}/eth0")
        node = walk.c.node(pod.node)
        gw = str(bridge_ip(ip_network(node.pod_cidr)))
        where = Location("pod", pod.ref, "eth0")
        if route is None:
            pkt = walk.first_packet(pod.ip, dst_ip, None)
            walk.drop(where, node.name, f"no route to {dst_ip} in the pod's routing table", pkt,
                      f"Dropped: pod {pod.ref} has no route to {dst_ip} (Network is "
                      "unreachable).")
            return
        neighbour = route.via or dst_ip
        if neighbour == gw:
            mac, what = mac_address(f"{node.name}/{BRIDGE}"), f"the gateway {gw} (cni0)"
        else:
            peer = walk._pod_at(node.name, neighbour)
            if peer is None:
                pkt = walk.first_packet(pod.ip, dst_ip, None)
                walk.drop(where, node.name,
                          f"route: {route}; ARP for {neighbour} on eth0 gets no answer: no "
                          f"pod on {node.name} has that address",
                          pkt, f"Dropped: {dst_ip} is in {node.name}'s podCIDR but no pod has "
                          "it (ARP got no answer: Destination Host Unreachable).")
                return
            mac, what = mac_address(f"{peer.ref}/eth0"), f"pod {peer.ref}"
        pkt = walk.first_packet(pod.ip, dst_ip, Ethernet(eth_src, mac))
        walk.hop(where, node.name, "send",
                 f"{sender} sends to {dst_ip}: route {route}; ARP: {neighbour} is {what} "
                 f"at {mac}", pkt)
        veth = self.veth_name(pod)
        walk.hop(Location("node", node.name, veth), node.name, "veth",
                 f"the veth pair carries the frame out of the pod's namespace to its host "
                 f"end {veth}, a port of bridge cni0 on {node.name}", pkt)
        self.bridge(walk, node, pkt)

    def bridge(self, walk: Any, node: Node, pkt: Packet) -> None:
        """The frame enters bridge cni0."""
        eth = pkt[Ethernet]
        bridge_mac = mac_address(f"{node.name}/{BRIDGE}")
        where = Location("node", node.name, BRIDGE)
        if eth.dst == bridge_mac:
            walk.hop(where, node.name, "bridge",
                     f"the frame is addressed to the bridge itself, so cni0 passes the packet "
                     f"up to {node.name}'s IP stack for routing", pkt)
            walk.ip_input(node, Packet(pkt.layers[1:]))
            return
        fdb = walk.c._memo(("fdb", node.name), lambda: {
            mac_address(f"{p.ref}/eth0"): p for p in walk.c.pods_on(node.name)})
        peer = fdb.get(eth.dst)
        if peer is None:  # pragma: no cover - ARP above only resolves existing pods
            walk.drop(where, node.name, f"no port of cni0 has MAC {eth.dst}", pkt,
                      "Dropped: unknown MAC on cni0.")
            return
        walk.hop(where, node.name, "bridge",
                 f"cni0 switches the frame by MAC: its forwarding database (FDB) has "
                 f"{eth.dst} on port {self.veth_name(peer)}; no routing, so the TTL is "
                 "unchanged", pkt)
        self.into_pod(walk, node, peer, pkt)

    def into_pod(self, walk: Any, node: Node, peer: Pod, pkt: Packet) -> None:
        """Out of the bridge port, through the veth pair, to the pod's eth0."""
        if not walk.admit(node, peer, pkt, BRIDGE):
            return
        veth = self.veth_name(peer)
        walk.hop(Location("node", node.name, veth), node.name, "veth",
                 f"out of bridge port {veth}, through the veth pair into pod {peer.ref}", pkt)
        walk.deliver_to_pod(peer, pkt, Location("pod", peer.ref, "eth0"))

    def output(self, walk: Any, node: Node, pkt: Packet, route: Route, how: str) -> bool:
        if route.dev != BRIDGE:
            return False
        from kubenet_lab.engines.datapath import _ip_part
        from kubenet_lab.model.packet import IPv4

        ip = pkt[IPv4]
        peer = walk._pod_at(node.name, ip.dst)
        where = Location("node", node.name, BRIDGE)
        if peer is None:
            walk.drop(where, node.name,
                      f"{how}; ARP for {ip.dst} on cni0 gets no answer", pkt,
                      f"Dropped: no pod on {node.name} has {ip.dst} (ARP got no answer: "
                      "Destination Host Unreachable).")
            return True
        mac = mac_address(f"{peer.ref}/eth0")
        framed = Packet((Ethernet(mac_address(f"{node.name}/{BRIDGE}"), mac),) + _ip_part(pkt))
        walk.hop(where, node.name, "route",
                 f"{how}; ARP: {ip.dst} is at {mac}; the bridge's FDB sends it out of "
                 f"port {self.veth_name(peer)}", framed)
        self.into_pod(walk, node, peer, framed)
        return True
