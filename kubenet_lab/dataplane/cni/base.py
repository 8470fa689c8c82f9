"""The interface every CNI plugin of the lab implements, and the parts plugins share.

A plugin answers, for one cluster, the questions the rest of the lab asks:

- **devices and addresses**: ``node_interfaces``, ``pod_interfaces``, ``local_addresses``,
  ``device_address`` (what ``ip addr`` shows);
- **routes**: ``node_routes`` and ``pod_routes`` as the plugin installs them (what ``ip
  route`` shows before anyone edits them; ``kubenet_lab.dataplane.tables`` applies the
  edits made with ``ip route add/del``);
- **which walk handler forwards**: ``pod_egress`` names the handler of a packet leaving a
  pod's ``eth0`` (into a bridge port, a cali veth, an lxc device) and ``device_handler``
  the handler of each device the plugin owns (a bridge, a tunnel, a veth), so the walk
  (``kubenet_lab.walk``) dispatches by data, never by calling back into the plugin;
- **overhead**: ``encapsulation``, ``overhead`` (bytes of outer headers) and ``mtu``;
- **what else it does**: ``masquerade`` (its POSTROUTING nat rule), ``iptables_jumps``
  (whether it appends or prepends its jumps), ``enforces_network_policy`` and
  ``replaces_kube_proxy``.

Generated names are deterministic: a veth's name and every MAC address are derived from
a hash of what they belong to, so the same cluster always looks the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from ipaddress import ip_network
from typing import TYPE_CHECKING, Any, ClassVar

from kubenet_lab.api.ipam import bridge_ip
from kubenet_lab.api.meta import uid
from kubenet_lab.dataplane.routing import prefix, prefix_length, route_lookup
from kubenet_lab.model.route import Interface, Route

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView

__all__ = ["BRIDGE", "LINK_MTU", "BridgeFamily", "CNIPlugin", "digest", "mac_address",
           "sandbox_id"]

#: An ``ip neigh`` entry: ``(ip, dev, mac, state)``.
Neighbour = tuple[str, str, str, str]
#: A masquerade decision: ``(rule text, who installed it)``, or None for no NAT.
Masquerade = tuple[str, str] | None

BRIDGE = "cni0"
#: The MTU of the nodes' ``eth0``: the lab's network is a 1500-byte one (an AWS VPC
#: allows 9001 inside the VPC, GCP 1460; the lab does not model either).
LINK_MTU = 1500


def digest(key: str) -> bytes:
    """SHA-256 of ``key``: the source of every generated name and MAC."""
    return hashlib.sha256(key.encode()).digest()


def sandbox_id(pod: Pod) -> str:
    """The pod sandbox's id, 64 hex digits, as containerd names a sandbox (the CRI's
    ``PodSandboxStatus.id``, the CNI's ``CNI_CONTAINERID``). containerd draws it at
    random; the lab takes the SHA-256 of the pod's uid (``api.meta.uid``), so the same
    pod always has the same sandbox.

    >>> c = kl.Cluster(workers=1)
    >>> pod = c.add_pod("default/a", node="node-1")
    >>> sid = sandbox_id(pod)
    >>> len(sid), sid == sandbox_id(c.pod("default/a"))
    (64, True)
    """
    return hashlib.sha256(uid("Pod", pod.name, pod.namespace).encode()).hexdigest()


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
    rest.sort(key=lambda r: prefix(r.dst)[::2])
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
    #: How the plugin hooks its chains into the built-in chains (``kubenet_lab.dataplane.
    #: iptables``): ``"append"`` (``-A``, at the end: flanneld's ``masqRules``, flannel
    #: pkg/trafficmngr/iptables/iptables.go; the bridge plugin's ``AppendUnique``,
    #: containernetworking/plugins pkg/ip/ipmasq_linux.go) or ``"prepend"`` (``-I``).
    iptables_jumps: ClassVar[str] = "append"
    #: Does a router that decrements the TTL to 0 answer with ICMP time exceeded? The
    #: kernel does; Cilium's eBPF routing (``ipv4_l3``) drops silently (cilium/cilium
    #: issue #27616, "CFP: support ICMP_TIME_EXCEEDED"), so traceroute shows ``* * *``.
    icmp_time_exceeded: ClassVar[bool] = True
    default_cluster_cidr: ClassVar[str] = "10.244.0.0/16"
    default_node_cidr_mask: ClassVar[int] = 24
    tunnel_port: ClassVar[int | None] = None
    options: ClassVar[dict[str, tuple[Any, ...]]] = {}
    #: The walk's handler for a packet a pod sends (``kubenet_lab.walk``).
    pod_egress: ClassVar[str] = ""
    #: The walk's handler for each device the plugin owns; a key ending in ``*`` is a
    #: prefix (``cali*``: every cali veth).
    devices: ClassVar[dict[str, str]] = {}

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = dict(config or {})

    def __repr__(self) -> str:
        return f"<CNI plugin {self.name}>"

    @property
    def mtu(self) -> int:
        """The MTU of pod interfaces: the link's 1500 (``LINK_MTU``: the lab's nodes are
        on a 1500-byte network) minus the overlay's headers."""
        return LINK_MTU - self.overhead

    def device_handler(self, dev: str) -> str | None:
        """The walk handler of a packet routed out of ``dev``, or None (not the plugin's).

        >>> from kubenet_lab.dataplane.cni.calico import Calico
        >>> Calico().device_handler("cali1234567890a"), Calico().device_handler("eth0")
        ('cali_out', None)
        """
        if dev in self.devices:
            return self.devices[dev]
        return next((h for k, h in self.devices.items()
                     if k.endswith("*") and dev.startswith(k[:-1])), None)

    @property
    def mode(self) -> str:
        """How packets cross between nodes: ``"VXLAN"``, ``"IPIP"`` or ``"routed"``."""
        return self.encapsulation or "routed"

    # ------------------------------------------------------------------ names
    def veth_name(self, pod: Pod) -> str:
        """The host end of a pod's veth pair."""
        raise NotImplementedError

    def gateway(self, view: StoreView, pod: Pod) -> str:
        """The pod's default gateway address."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def pod_interfaces(self, view: StoreView, pod: Pod) -> tuple[Interface, ...]:
        """``lo`` and ``eth0`` holding the pod IP as a /32 (routed plugins: Calico,
        Cilium); ``eth0``'s peer is the pod's veth on the node."""
        return (
            Interface("lo", "loopback", "00:00:00:00:00:00", 65536, "127.0.0.1/8"),
            Interface("eth0", "veth", mac_address(f"{pod.ref}/eth0"), self.mtu, f"{pod.ip}/32",
                      peer=f"{pod.node}:{self.veth_name(pod)}"),
        )

    def node_interfaces(self, view: StoreView, node: Node) -> tuple[Interface, ...]:
        raise NotImplementedError

    def pod_routes(self, view: StoreView, pod: Pod) -> tuple[Route, ...]:
        raise NotImplementedError

    def head_routes(self, view: StoreView, node: Node) -> list[Route]:
        """The node's routes that are not one per node of the cluster (default, subnet,
        the local pods')."""
        raise NotImplementedError

    def pod_cidr_route(self, view: StoreView, node: Node, other: Node) -> Route | None:
        """``node``'s route to ``other``'s podCIDR, or None when it has none (its own)."""
        raise NotImplementedError

    def node_routes(self, view: StoreView, node: Node) -> tuple[Route, ...]:
        """The main routing table of a node, sorted as ``ip route`` prints it: the head
        routes, then one route per node's podCIDR."""
        routes = self.head_routes(view, node)
        for other in view.nodes:
            route = self.pod_cidr_route(view, node, other)
            if route is not None:
                routes.append(route)
        return sort_routes(routes)

    def route(self, view: StoreView, node: Node, ip: str) -> Route | None:
        """``route_lookup(node_routes(node), ip)`` without building the table: the
        per-node routes all go to podCIDRs, which never overlap, so the only one that can
        match is the route to the podCIDR holding ``ip``; it wins over the head routes'
        best when it is more specific (on a tie the head route, installed first, stays:
        ``sort_routes``)."""
        head = view.cached(("head-routes", node.name),
                           lambda: sort_routes(self.head_routes(view, node)))
        best = route_lookup(head, ip)
        # the first node in order with a route wins: ``sort_routes`` keeps the first
        # route to a destination (two nodes have one podCIDR only in a broken cluster)
        for other in view.pod_cidr_owners(ip):
            candidate = self.pod_cidr_route(view, node, other)
            if candidate is not None:
                if best is None or prefix_length(candidate.dst) > prefix_length(best.dst):
                    best = candidate
                break
        return best

    def base_interfaces(self, view: StoreView, node: Node) -> list[Interface]:
        """``lo`` and ``eth0``, which every node has whatever the plugin."""
        subnet_prefix = ip_network(view.subnet_of(node).cidr).prefixlen
        return [
            Interface("lo", "loopback", "00:00:00:00:00:00", 65536, "127.0.0.1/8"),
            Interface("eth0", "ether", mac_address(f"{node.name}/eth0"), LINK_MTU,
                      f"{node.ip}/{subnet_prefix}"),
        ]

    def base_routes(self, view: StoreView, node: Node) -> list[Route]:
        """The routes every node has: the VPC's router as default, and its subnet."""
        subnet = view.subnet_of(node)
        return [Route("default", "eth0", via=subnet.router),
                Route(subnet.cidr, "eth0", proto="kernel", scope="link", src=node.ip)]

    def local_addresses(self, view: StoreView, node: Node) -> set[str]:
        """The addresses of the node's own devices."""
        return {node.ip}

    def device_address(self, view: StoreView, node: Node, dev: str) -> str:
        """The source address the kernel picks for a packet leaving by ``dev``."""
        return node.ip

    def local_device(self, node: Node, ip: str) -> str:
        """The device a packet to one of the node's own addresses is received on."""
        return "eth0"

    def pod_neighbours(self, view: StoreView, pod: Pod) -> tuple[tuple[str, str], ...]:
        """``(ip, mac)`` of the pod's gateway, as ``ip neigh`` in the pod shows it."""
        return ()

    def node_neighbours(self, view: StoreView, node: Node) -> tuple[Neighbour, ...]:
        """``(ip, dev, mac, state)`` entries of the node's neighbour table."""
        return ()

    def fdb(self, view: StoreView, node: Node) -> tuple[str, ...]:
        """``bridge fdb show`` lines of the node's bridges and VXLAN devices."""
        return ()

    def nat_rules(self, view: StoreView, node: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The plugin's own chains and rules in the nat table (``iptables-save``):
        ``(chain declarations, rules)``."""
        return (), ()

    def filter_rules(
        self, view: StoreView, node: Node
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The plugin's own chains and rules in the filter table."""
        return (), ()

    # ------------------------------------------------------------------ netfilter
    def masquerade(self, view: StoreView, node: Node, src: str, dst: str) -> Masquerade:
        """The plugin's POSTROUTING rule that masquerades this connection, as
        ``(rule text, who installed it)``, or None when it leaves the source alone."""
        return None

class BridgeFamily(CNIPlugin):
    """Plugins whose pods hang off the ``cni0`` Linux bridge (bridge, flannel).

    The bridge plugin gives every pod a veth pair whose pod end is ``eth0`` (holding the
    pod IP) and whose host end, named ``veth`` + 8 hex digits, is a port of the node's
    ``cni0`` bridge. The bridge holds the podCIDR's .1, the pods' default gateway
    (``isGateway``/``isDefaultGateway``). (containernetworking/plugins
    plugins/main/bridge; facts sheet §3.1)
    """

    pod_egress = "veth_to_bridge"
    devices = {BRIDGE: "bridge_out"}

    @property
    def hairpin(self) -> bool:
        """Are the pods' veth ports of ``cni0`` in hairpin mode? The bridge plugin sets
        each host veth's hairpin flag from its ``hairpinMode`` setting, a plain Go bool
        that is false unless the configuration says true (containernetworking/plugins
        plugins/main/bridge/bridge.go: ``NetConf.HairpinMode``, ``setupVeth``:
        ``netlink.LinkSetHairpin(hostVeth, hairpinMode)``). Without it the bridge does
        not send a frame back out of the port it came in on (the kernel's
        net/bridge/br_forward.c ``should_deliver``: ``(p->flags & BR_HAIRPIN_MODE) ||
        skb->dev != p->dev``), so a pod whose Service connection is DNATed to itself
        in the bridge path (br_netfilter) gets no answer.

        kubelet's ``--hairpin-mode`` (``hairpinMode: promiscuous-bridge`` or
        ``hairpin-veth``) has no effect here: it acted through kubelet's own kubenet
        (the bridge's promiscuous mode) and dockershim (the veth's flag), both removed
        in Kubernetes 1.24; it never reached a CNI plugin (kubernetes/kubernetes issue
        #45790, "hairpin not set by kubelet with CNI plugin"; cloudnativelabs/
        kube-router PR #1582, which sets the veth flag itself since). With containerd
        and a CNI plugin only the plugin's own setting counts."""
        return False

    def veth_name(self, pod: Pod) -> str:
        """``veth`` + 8 hex digits, as the bridge plugin names it (it draws them at random;
        the lab derives them from the pod)."""
        return "veth" + digest(f"{pod.namespace}/{pod.name}").hex()[:8]

    def gateway(self, view: StoreView, pod: Pod) -> str:
        return str(bridge_ip(ip_network(view.node(pod.node).pod_cidr)))

    def extra_pod_routes(self, view: StoreView, pod: Pod) -> tuple[Route, ...]:
        return ()

    def pod_routes(self, view: StoreView, pod: Pod) -> tuple[Route, ...]:
        node = view.node(pod.node)
        gw = self.gateway(view, pod)
        return (
            (Route("default", "eth0", via=gw),)
            + self.extra_pod_routes(view, pod)
            + (Route(node.pod_cidr, "eth0", proto="kernel", scope="link", src=pod.ip),)
        )

    def pod_interfaces(self, view: StoreView, pod: Pod) -> tuple[Interface, ...]:
        """``lo`` and ``eth0`` inside a pod; ``eth0``'s peer is its veth on the node."""
        prefix = ip_network(view.node(pod.node).pod_cidr).prefixlen
        return (
            Interface("lo", "loopback", "00:00:00:00:00:00", 65536, "127.0.0.1/8"),
            Interface(
                "eth0", "veth", mac_address(f"{pod.ref}/eth0"), self.mtu,
                f"{pod.ip}/{prefix}", peer=f"{pod.node}:{self.veth_name(pod)}",
            ),
        )

    def bridge_interfaces(self, view: StoreView, node: Node) -> list[Interface]:
        """``cni0`` and the pods' veths; ``cni0`` appears with the node's first pod."""
        pods = view.pods_on(node.name)
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

    def local_route(self, view: StoreView, node: Node) -> list[Route]:
        if not view.pods_on(node.name):
            return []
        gw = str(bridge_ip(ip_network(node.pod_cidr)))
        return [Route(node.pod_cidr, BRIDGE, proto="kernel", scope="link", src=gw)]

    def local_addresses(self, view: StoreView, node: Node) -> set[str]:
        addrs = {node.ip}
        if view.pods_on(node.name):
            addrs.add(str(bridge_ip(ip_network(node.pod_cidr))))
        return addrs

    def device_address(self, view: StoreView, node: Node, dev: str) -> str:
        if dev == BRIDGE:
            return str(bridge_ip(ip_network(node.pod_cidr)))
        return node.ip

    def local_device(self, node: Node, ip: str) -> str:
        return "eth0" if ip == node.ip else BRIDGE

    def pod_neighbours(self, view: StoreView, pod: Pod) -> tuple[tuple[str, str], ...]:
        node = view.node(pod.node)
        return ((self.gateway(view, pod), mac_address(f"{node.name}/{BRIDGE}")),)

    def node_neighbours(self, view: StoreView, node: Node) -> tuple[Neighbour, ...]:
        return tuple((p.ip, BRIDGE, mac_address(f"{p.ref}/eth0"), "REACHABLE")
                     for p in view.pods_on(node.name))

    def fdb(self, view: StoreView, node: Node) -> tuple[str, ...]:
        """The bridge's learned entries (pods' MACs on their veth ports) and the ports'
        own permanent entries, as ``bridge fdb show`` prints them."""
        lines = []
        for pod in view.pods_on(node.name):
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
