"""flannel with its VXLAN backend, as ``kube-flannel.yml`` installs it on kubeadm.

- flannel's CNI plugin delegates to the **bridge** plugin with ``isDefaultGateway``
  (``cni0``, one veth per pod; see ``BridgeFamily``). (flannel Documentation/kube-flannel.yml)
- flanneld creates ``flannel.1``, a VXLAN device with VNI 1 on the kernel's port 8472
  (not IANA's 4789), MTU 1450 and the /32 address equal to its podCIDR's network
  address. The MTU is the uplink's minus 50 bytes of VXLAN over IPv4 (pkg/backend/vxlan/
  vxlan_network.go: ``encapOverhead = 50``, ``MTU()`` returns ``nw.mtu -
  encapOverhead``); flanneld writes it to /run/flannel/subnet.env as ``FLANNEL_MTU``
  (pkg/subnet/subnet.go) and the CNI plugin gives ``cni0`` and the pods' ``eth0`` the
  same. The lab's nodes sit on a 1500-byte network (their ``eth0``: ``LINK_MTU``), so
  1450; on an AWS VPC, whose MTU inside the VPC is 9001 (EC2 "Network maximum
  transmission unit"), it would be 8951. The lab keeps 1500 for every cluster.
  For each other node flanneld adds ``<podCIDR> via <podCIDR network address> dev
  flannel.1 onlink`` plus a permanent ARP entry and an FDB entry mapping that node's
  ``flannel.1`` MAC to its node IP.
  (flannel pkg/backend/vxlan; facts sheet §3.3)
- flanneld's ``--ip-masq`` installs the FLANNEL-POSTRTG chain in the nat table
  (flannel pkg/trafficmngr/iptables/iptables.go, ``masqRules``) and FLANNEL-FWD in
  the filter table (``forwardRules``); ``flannel_masquerade`` evaluates the first.
  Both jumps are appended (``Action: "-A"``), so they come after kube-proxy's, which
  prepends (``Flannel.iptables_jumps``; ``kubenet_lab.dataplane.iptables``).
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.cni.base import (
    BRIDGE,
    BridgeFamily,
    Masquerade,
    Neighbour,
    mac_address,
)
from kubenet_lab.model.route import Interface, Route

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView

__all__ = [
    "VXLAN_DEVICE",
    "VXLAN_OVERHEAD",
    "VXLAN_PORT",
    "VXLAN_VNI",
    "Flannel",
    "flannel_masquerade",
    "vtep_ip",
]

VXLAN_DEVICE = "flannel.1"
VXLAN_VNI = 1
VXLAN_PORT = 8472
VXLAN_OVERHEAD = 50  # outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8
_MASQ_TAIL = '-m comment --comment "flanneld masq" -j MASQUERADE --random-fully'


def vtep_ip(node: Node) -> str:
    """The address on ``flannel.1``: the network address of the node's podCIDR."""
    return str(ip_network(node.pod_cidr).network_address)


def flannel_masquerade(
    cluster_cidr: str, pod_cidr: str, src: str, dst: str
) -> str | None:
    """Evaluate flanneld's FLANNEL-POSTRTG chain for a new connection leaving a node.

    Returns the matching MASQUERADE rule as iptables-save prints it, or None when the
    chain RETURNs (no NAT). Traffic between pods, and from outside to this node's pods,
    is never masqueraded; pod traffic to anything outside the cluster network is.

    >>> flannel_masquerade("10.244.0.0/16", "10.244.1.0/24", "10.244.1.2", "10.244.2.3")
    >>> print(flannel_masquerade("10.244.0.0/16", "10.244.1.0/24", "10.244.1.2", "10.0.1.6"))
    -A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" ...
    """
    cluster = ip_network(cluster_cidr)
    local = ip_network(pod_cidr)
    s, d = IPv4Address(src), IPv4Address(dst)
    if s in local and d in cluster:
        return None
    if s in cluster and d in local:
        return None
    if s not in cluster and d in local:
        return None
    if s in cluster and d not in ip_network("224.0.0.0/4"):
        return f"-A FLANNEL-POSTRTG -s {cluster_cidr} ! -d 224.0.0.0/4 {_MASQ_TAIL}"
    if s not in cluster and d in cluster:
        return f"-A FLANNEL-POSTRTG ! -s {cluster_cidr} -d {cluster_cidr} {_MASQ_TAIL}"
    return None


class Flannel(BridgeFamily):
    """flannel, VXLAN backend: ``cni0`` on each node, ``flannel.1`` between nodes."""

    name = "flannel"
    summary = "bridge cni0 on each node; VXLAN overlay flannel.1 (VNI 1, UDP 8472) between nodes"
    encapsulation = "VXLAN"
    overhead = VXLAN_OVERHEAD
    tunnel_port = VXLAN_PORT
    devices = {BRIDGE: "bridge_out", VXLAN_DEVICE: "vxlan_out"}

    @property
    def hairpin(self) -> bool:
        """flannel's CNI config delegates to the bridge plugin with ``"hairpinMode":
        true`` (Documentation/kube-flannel.yml, ``cni-conf.json``: ``"delegate":
        {"hairpinMode": true, "isDefaultGateway": true}``), so a pod reaches itself
        through its own Service."""
        return True

    def extra_pod_routes(self, view: StoreView, pod: Pod) -> tuple[Route, ...]:
        """flannel's CNI config asks host-local for a route to the whole cluster network."""
        return (Route(view.cluster_cidr, "eth0", via=self.gateway(view, pod)),)

    def head_routes(self, view: StoreView, node: Node) -> list[Route]:
        return [*self.base_routes(view, node), *self.local_route(view, node)]

    def pod_cidr_route(self, view: StoreView, node: Node, other: Node) -> Route | None:
        if other.name == node.name:
            return None
        return Route(other.pod_cidr, VXLAN_DEVICE, via=vtep_ip(other), onlink=True)

    def node_interfaces(self, view: StoreView, node: Node) -> tuple[Interface, ...]:
        """lo, eth0, flannel.1, cni0 and the veths (cni0 appears with the first pod)."""
        return tuple(
            self.base_interfaces(view, node)
            + [Interface(VXLAN_DEVICE, "vxlan", mac_address(f"{node.name}/{VXLAN_DEVICE}"),
                         self.mtu, f"{vtep_ip(node)}/32")]
            + self.bridge_interfaces(view, node)
        )

    def local_addresses(self, view: StoreView, node: Node) -> set[str]:
        return super().local_addresses(view, node) | {vtep_ip(node)}

    def device_address(self, view: StoreView, node: Node, dev: str) -> str:
        if dev == VXLAN_DEVICE:
            return vtep_ip(node)
        return super().device_address(view, node, dev)

    def node_neighbours(self, view: StoreView, node: Node) -> tuple[Neighbour, ...]:
        """flanneld's permanent ARP entries for the other nodes' VTEPs, then the pods."""
        vteps = tuple((vtep_ip(o), VXLAN_DEVICE, mac_address(f"{o.name}/{VXLAN_DEVICE}"),
                       "PERMANENT") for o in view.nodes if o.name != node.name)
        return vteps + super().node_neighbours(view, node)

    def fdb(self, view: StoreView, node: Node) -> tuple[str, ...]:
        """flanneld's FDB entries on flannel.1: each remote VTEP MAC to its node IP."""
        vx = tuple(f"{mac_address(f'{o.name}/{VXLAN_DEVICE}')} dev {VXLAN_DEVICE} dst {o.ip} "
                   "self permanent" for o in view.nodes if o.name != node.name)
        return vx + super().fdb(view, node)

    def nat_rules(self, view: StoreView, node: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """flanneld's ``masqRules`` (pkg/trafficmngr/iptables/iptables.go), in order."""
        cidr = view.cluster_cidr
        return (
            (":FLANNEL-POSTRTG - [0:0]",),
            ('-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
             '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment '
             '"flanneld masq" -j RETURN',
             f'-A FLANNEL-POSTRTG -s {node.pod_cidr} -d {cidr} -m comment --comment '
             '"flanneld masq" -j RETURN',
             f'-A FLANNEL-POSTRTG -s {cidr} -d {node.pod_cidr} -m comment --comment '
             '"flanneld masq" -j RETURN',
             f'-A FLANNEL-POSTRTG ! -s {cidr} -d {node.pod_cidr} -m comment --comment '
             '"flanneld masq" -j RETURN',
             f"-A FLANNEL-POSTRTG -s {cidr} ! -d 224.0.0.0/4 {_MASQ_TAIL}",
             f"-A FLANNEL-POSTRTG ! -s {cidr} -d {cidr} {_MASQ_TAIL}"),
        )

    def filter_rules(
        self, view: StoreView, node: Node
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """flanneld's ``forwardRules``: accept forwarded traffic from and to the pod network."""
        cidr = view.cluster_cidr
        return (
            (":FLANNEL-FWD - [0:0]",),
            ('-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
             f'-A FLANNEL-FWD -s {cidr} -m comment --comment "flanneld forward" -j ACCEPT',
             f'-A FLANNEL-FWD -d {cidr} -m comment --comment "flanneld forward" -j ACCEPT'),
        )

    def masquerade(self, view: StoreView, node: Node, src: str, dst: str) -> Masquerade:
        rule = flannel_masquerade(view.cluster_cidr, node.pod_cidr, src, dst)
        return None if rule is None else (rule, "flannel's FLANNEL-POSTRTG")
