"""Calico v3.30: routed pod networks, blocks of addresses per node, BGP between nodes.

The install modelled is the tigera-operator quickstart, ``manifests/custom-resources.yaml``
of v3.30: ``ipPools: [{cidr: 192.168.0.0/16, blockSize: 26, encapsulation:
VXLANCrossSubnet, natOutgoing: Enabled, nodeSelector: all()}]``. Nodes in the same
subnet route pod traffic unencapsulated (``<block> via <node IP> dev eth0 proto bird``);
a node in another subnet is reached through ``vxlan.calico`` (VNI 4096, UDP 4789, the
felix defaults): ``<block> via <its VXLAN tunnel address> dev vxlan.calico onlink``. Felix
creates ``vxlan.calico`` on every node (MTU 1450) and, VXLAN being on, gives the pods'
veths the MTU 1450 (docs.tigera.io "Configure MTU": the smallest MTU of the
encapsulations enabled). ``cni_config={"install": "manifest"}`` is the manifest install
instead (``manifests/calico.yaml``: ``CALICO_IPV4POOL_IPIP: Always``): IP-in-IP through
``tunl0`` (MTU 1480) between all nodes. ``cni_config={"ipipMode": "Always"}`` (the
IPPool field) is the same; ``{"ipipMode": "Never"}`` a pool without encapsulation (plain
BGP, even across subnets).

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
  ``CrossSubnet`` encapsulates only between subnets: the lab's nodes share the private
  subnet, so all their traffic is unencapsulated unless a node is in the public one
  (``Cluster.add_node(..., public_ip=...)``).
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
)
from kubenet_lab.model.route import Interface, Route

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView

__all__ = ["CALI_MAC", "IPIP_OVERHEAD", "LINK_LOCAL_GATEWAY", "TUNNEL_DEVICE", "VXLAN_DEVICE",
           "VXLAN_OVERHEAD", "VXLAN_PORT", "VXLAN_VNI", "Calico"]

CALI_MAC = "ee:ee:ee:ee:ee:ee"
LINK_LOCAL_GATEWAY = "169.254.1.1"
TUNNEL_DEVICE = "tunl0"
IPIP_OVERHEAD = 20  # one outer IPv4 header
VXLAN_DEVICE = "vxlan.calico"
VXLAN_OVERHEAD = 50
VXLAN_PORT = 4789  # FelixConfiguration vxlanPort default
VXLAN_VNI = 4096   # FelixConfiguration vxlanVNI default
NAT_OUTGOING = ('-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set '
                '--match-set cali40masq-ipam-pools src -m set ! --match-set '
                'cali40all-ipam-pools dst -j MASQUERADE --random-fully')


class Calico(CNIPlugin):
    """Calico v3.30, the operator quickstart (VXLANCrossSubnet) by default; the manifest
    install (IP-in-IP Always) with ``cni_config={"install": "manifest"}``."""

    name = "calico"
    summary = "no bridge: cali* veths with /32 routes and proxy-ARP; BGP-learned routes per block"
    default_cluster_cidr = "192.168.0.0/16"
    default_node_cidr_mask = 26
    enforces_network_policy = True
    options = {"install": ("operator", "manifest"), "ipipMode": ("Never", "Always")}
    pod_egress = "veth_to_cali"
    devices = {TUNNEL_DEVICE: "ipip_out", VXLAN_DEVICE: "calico_vxlan_out", "cali*": "cali_out"}

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        mode = self.config.get("ipipMode")
        self.ipip = mode == "Always" or (mode is None and
                                         self.config.get("install") == "manifest")
        #: VXLANCrossSubnet: the operator quickstart's pool (no ipipMode given).
        self.vxlan_cross_subnet = mode is None and not self.ipip

    @property
    def encapsulation(self) -> str | None:  # type: ignore[override]
        """``IPIP`` between all nodes (manifest install); None otherwise: VXLANCrossSubnet
        routes nodes of one subnet unencapsulated (``mode`` "routed") and encapsulates
        only towards another subnet (``cross_subnet``)."""
        return "IPIP" if self.ipip else None

    @property
    def overhead(self) -> int:  # type: ignore[override]
        return IPIP_OVERHEAD if self.ipip else VXLAN_OVERHEAD if self.vxlan_cross_subnet else 0

    @property
    def tunnel_port(self) -> int | None:  # type: ignore[override]
        return VXLAN_PORT if self.vxlan_cross_subnet else None

    def cross_subnet(self, node: Node, other: Node) -> bool:
        """Does traffic from ``node`` to ``other`` cross subnets (VXLAN in CrossSubnet)?"""
        return self.vxlan_cross_subnet and node.subnet != other.subnet

    def veth_name(self, pod: Pod) -> str:
        return "cali" + hashlib.sha1(f"{pod.namespace}.{pod.name}".encode()).hexdigest()[:11]

    def gateway(self, view: StoreView, pod: Pod) -> str:
        return LINK_LOCAL_GATEWAY

    def tunnel_ip(self, node: Node) -> str:
        """The address Calico gives ``tunl0``: one from the node's block (the lab: its first)."""
        return str(ip_network(node.pod_cidr).network_address)

    def vxlan_ip(self, node: Node) -> str:
        """The VXLAN tunnel address (``projectcalico.org/IPv4VXLANTunnelAddr``): one from
        the node's block (the lab: its first)."""
        return self.tunnel_ip(node)

    # ------------------------------------------------------------------ state
    def node_interfaces(self, view: StoreView, node: Node) -> tuple[Interface, ...]:
        devices = self.base_interfaces(view, node)
        if self.ipip:
            devices.append(Interface(TUNNEL_DEVICE, "ipip", "00:00:00:00", LINK_MTU - IPIP_OVERHEAD,
                                     f"{self.tunnel_ip(node)}/32"))
        if self.vxlan_cross_subnet:
            devices.append(Interface(VXLAN_DEVICE, "vxlan",
                                     mac_address(f"{node.name}/{VXLAN_DEVICE}"),
                                     LINK_MTU - VXLAN_OVERHEAD, f"{self.vxlan_ip(node)}/32"))
        for pod in view.pods_on(node.name):
            devices.append(Interface(self.veth_name(pod), "veth", CALI_MAC, self.mtu,
                                     peer=f"{pod.ref}:eth0"))
        return tuple(devices)

    def pod_routes(self, view: StoreView, pod: Pod) -> tuple[Route, ...]:
        return (Route("default", "eth0", via=LINK_LOCAL_GATEWAY),
                Route(LINK_LOCAL_GATEWAY, "eth0", scope="link"))

    def head_routes(self, view: StoreView, node: Node) -> list[Route]:
        routes = [*self.base_routes(view, node),
                  Route(node.pod_cidr, "", proto="bird", type="blackhole")]
        for pod in view.pods_on(node.name):
            routes.append(Route(pod.ip, self.veth_name(pod), scope="link"))
        return routes

    def pod_cidr_route(self, view: StoreView, node: Node, other: Node) -> Route | None:
        if other.name == node.name:
            return None
        if self.ipip:
            return Route(other.pod_cidr, TUNNEL_DEVICE, via=other.ip, proto="bird", onlink=True)
        if self.cross_subnet(node, other):
            return Route(other.pod_cidr, VXLAN_DEVICE, via=self.vxlan_ip(other), onlink=True)
        return Route(other.pod_cidr, "eth0", via=other.ip, proto="bird")

    def local_addresses(self, view: StoreView, node: Node) -> set[str]:
        return {node.ip, self.tunnel_ip(node)} if self.ipip or self.vxlan_cross_subnet else {
            node.ip}

    def device_address(self, view: StoreView, node: Node, dev: str) -> str:
        return self.tunnel_ip(node) if dev in (TUNNEL_DEVICE, VXLAN_DEVICE) else node.ip

    def local_device(self, node: Node, ip: str) -> str:
        if ip == self.tunnel_ip(node):
            return TUNNEL_DEVICE if self.ipip else VXLAN_DEVICE if self.vxlan_cross_subnet else (
                "eth0")
        return "eth0"

    def node_neighbours(self, view: StoreView, node: Node) -> tuple[Neighbour, ...]:
        """The pods' entries, and felix's permanent ARP entries for the VXLAN tunnel
        addresses of the nodes in other subnets."""
        vteps = tuple((self.vxlan_ip(o), VXLAN_DEVICE, mac_address(f"{o.name}/{VXLAN_DEVICE}"),
                       "PERMANENT") for o in view.nodes
                      if o.name != node.name and self.cross_subnet(node, o))
        return vteps + tuple((p.ip, self.veth_name(p), mac_address(f"{p.ref}/eth0"),
                              "REACHABLE") for p in view.pods_on(node.name))

    def fdb(self, view: StoreView, node: Node) -> tuple[str, ...]:
        """felix's FDB entries on vxlan.calico: each remote VTEP MAC to its node IP."""
        return tuple(f"{mac_address(f'{o.name}/{VXLAN_DEVICE}')} dev {VXLAN_DEVICE} dst {o.ip} "
                     "self permanent" for o in view.nodes
                     if o.name != node.name and self.cross_subnet(node, o))

    def pod_neighbours(self, view: StoreView, pod: Pod) -> tuple[tuple[str, str], ...]:
        return ((LINK_LOCAL_GATEWAY, CALI_MAC),)

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
