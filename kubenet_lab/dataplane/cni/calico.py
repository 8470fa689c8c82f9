"""Calico: routed pod networks, blocks of addresses per node, BGP between nodes.

As Calico sets up a node (facts sheet §3.4; docs.tigera.io "IP pools", "Configure
IP-in-IP"; projectcalico cni-plugin and felix):

- **IPAM**: the default pool is 192.168.0.0/16, split into /26 blocks; a node claims a
  block (block affinity) and gives its pods addresses from it. The lab gives each node
  one block, in order, as its ``pod_cidr`` (so at most 62 pods per node; the lesson says so).
- **No bridge.** Each pod's veth host end is named ``cali`` + the first 11 hex digits of
  ``sha1("<namespace>.<pod>")`` (libcalico-go ``VethNameForWorkload``) and has the MAC
  ``ee:ee:ee:ee:ee:ee``. Inside the pod, ``eth0`` holds the pod IP as a /32 and the
  routes are ``default via 169.254.1.1 dev eth0`` and ``169.254.1.1 dev eth0 scope link``:
  169.254.1.1 exists nowhere; ``proxy_arp`` on the cali veth answers the ARP with the
  veth's own MAC, so every packet the pod sends is *routed* by the node.
- **Routes on the node** (felix and BIRD): ``<pod IP> dev cali… scope link`` per local
  pod, ``blackhole <own block> proto bird`` (addresses of the block with no pod), and per
  other node, learned over the BGP node-to-node mesh:
  ``<block> via <node IP> dev eth0 proto bird`` or, with ``ipipMode: Always``,
  ``<block> via <node IP> dev tunl0 proto bird onlink``: IP-in-IP, 20 bytes of overhead.
  ``CrossSubnet`` encapsulates only between subnets (the lab's nodes share one).
- **natOutgoing** (on by default): ``cali-nat-outgoing`` masquerades traffic from the
  pool to anywhere outside every pool; pod-to-pod traffic keeps its source.
- Calico enforces NetworkPolicy (felix programs it); kube-proxy still does Services.
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.dataplane.cni.base import (
    LINK_MTU,
    CNIPlugin,
    Masquerade,
    Neighbour,
    mac_address,
    sort_routes,
)
from kubenet_lab.model.route import Interface, Route

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView

__all__ = ["CALI_MAC", "IPIP_OVERHEAD", "LINK_LOCAL_GATEWAY", "TUNNEL_DEVICE", "Calico"]

CALI_MAC = "ee:ee:ee:ee:ee:ee"
LINK_LOCAL_GATEWAY = "169.254.1.1"
TUNNEL_DEVICE = "tunl0"
IPIP_OVERHEAD = 20  # one outer IPv4 header
NAT_OUTGOING = ('-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set '
                '--match-set cali40masq-ipam-pools src -m set ! --match-set '
                'cali40all-ipam-pools dst -j MASQUERADE --random-fully')


class Calico(CNIPlugin):
    """Calico with BIRD (BGP) routing; IP-in-IP with ``cni_config={"ipipMode": "Always"}``."""

    name = "calico"
    summary = "no bridge: cali* veths with /32 routes and proxy-ARP; BGP-learned routes per block"
    default_cluster_cidr = "192.168.0.0/16"
    default_node_cidr_mask = 26
    enforces_network_policy = True
    options = {"ipipMode": ("Never", "Always", "CrossSubnet")}
    pod_egress = "veth_to_cali"
    devices = {TUNNEL_DEVICE: "ipip_out", "cali*": "cali_out"}

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        self.ipip = self.config.get("ipipMode", "Never") == "Always"

    @property
    def encapsulation(self) -> str | None:  # type: ignore[override]
        return "IPIP" if self.ipip else None

    @property
    def overhead(self) -> int:  # type: ignore[override]
        return IPIP_OVERHEAD if self.ipip else 0

    def veth_name(self, pod: Pod) -> str:
        return "cali" + hashlib.sha1(f"{pod.namespace}.{pod.name}".encode()).hexdigest()[:11]

    def gateway(self, view: StoreView, pod: Pod) -> str:
        return LINK_LOCAL_GATEWAY

    def tunnel_ip(self, node: Node) -> str:
        """The address Calico gives ``tunl0``: one from the node's block (the lab: its first)."""
        return str(ip_network(node.pod_cidr).network_address)

    # ------------------------------------------------------------------ state
    def node_interfaces(self, view: StoreView, node: Node) -> tuple[Interface, ...]:
        devices = self.base_interfaces(view, node)
        if self.ipip:
            devices.append(Interface(TUNNEL_DEVICE, "ipip", "00:00:00:00", LINK_MTU - IPIP_OVERHEAD,
                                     f"{self.tunnel_ip(node)}/32"))
        for pod in view.pods_on(node.name):
            devices.append(Interface(self.veth_name(pod), "veth", CALI_MAC, self.mtu,
                                     peer=f"{pod.ref}:eth0"))
        return tuple(devices)

    def pod_routes(self, view: StoreView, pod: Pod) -> tuple[Route, ...]:
        return (Route("default", "eth0", via=LINK_LOCAL_GATEWAY),
                Route(LINK_LOCAL_GATEWAY, "eth0", scope="link"))

    def node_routes(self, view: StoreView, node: Node) -> tuple[Route, ...]:
        routes = [*self.base_routes(view, node),
                  Route(node.pod_cidr, "", proto="bird", type="blackhole")]
        for pod in view.pods_on(node.name):
            routes.append(Route(pod.ip, self.veth_name(pod), scope="link"))
        for other in view.nodes:
            if other.name == node.name:
                continue
            if self.ipip:
                routes.append(Route(other.pod_cidr, TUNNEL_DEVICE, via=other.ip, proto="bird",
                                    onlink=True))
            else:
                routes.append(Route(other.pod_cidr, "eth0", via=other.ip, proto="bird"))
        return sort_routes(routes)

    def local_addresses(self, view: StoreView, node: Node) -> set[str]:
        return {node.ip, self.tunnel_ip(node)} if self.ipip else {node.ip}

    def device_address(self, view: StoreView, node: Node, dev: str) -> str:
        return self.tunnel_ip(node) if dev == TUNNEL_DEVICE else node.ip

    def local_device(self, node: Node, ip: str) -> str:
        return TUNNEL_DEVICE if self.ipip and ip == self.tunnel_ip(node) else "eth0"

    def pod_neighbours(self, view: StoreView, pod: Pod) -> tuple[tuple[str, str], ...]:
        return ((LINK_LOCAL_GATEWAY, CALI_MAC),)

    def node_neighbours(self, view: StoreView, node: Node) -> tuple[Neighbour, ...]:
        return tuple((p.ip, self.veth_name(p), mac_address(f"{p.ref}/eth0"), "REACHABLE")
                     for p in view.pods_on(node.name))

    def nat_rules(self, view: StoreView, node: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return ((":cali-POSTROUTING - [0:0]", ":cali-nat-outgoing - [0:0]"),
                ('-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
                 '-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" '
                 "-j cali-nat-outgoing",
                 NAT_OUTGOING))

    # ------------------------------------------------------------------ netfilter
    def masquerade(self, view: StoreView, node: Node, src: str, dst: str) -> Masquerade:
        pool = ip_network(view.cluster_cidr)
        if IPv4Address(src) in pool and IPv4Address(dst) not in pool:
            return NAT_OUTGOING, "Calico's natOutgoing (cali-nat-outgoing)"
        return None
