"""Calico's routed datapath: cali veths with proxy-ARP, /32 routes to the pods, and
IP-in-IP through ``tunl0`` (the manifest install, ``ipipMode: Always``) and VXLAN through
``vxlan.calico`` to nodes of another subnet (the operator quickstart's VXLANCrossSubnet)
(projectcalico cni-plugin and felix; facts sheet §3.4). There is no bridge: every packet a
pod sends is routed by the node, because ``169.254.1.1`` is answered by proxy-ARP on the
pod's cali veth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.dataplane.cni import mac_address
from kubenet_lab.dataplane.cni.calico import (
    CALI_MAC,
    IPIP_OVERHEAD,
    LINK_LOCAL_GATEWAY,
    TUNNEL_DEVICE,
    VXLAN_DEVICE,
    VXLAN_OVERHEAD,
    VXLAN_PORT,
    VXLAN_VNI,
)
from kubenet_lab.model.packet import Ethernet, IPv4, Packet
from kubenet_lab.model.route import Route
from kubenet_lab.model.trace import Location
from kubenet_lab.walk.engine import Step, Walk, ip_part
from kubenet_lab.walk.eth0 import wire
from kubenet_lab.walk.netfilter import admit
from kubenet_lab.walk.registry import handles
from kubenet_lab.walk.vxlan import encapsulate

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod

__all__ = ["cali_out", "calico_vxlan_out", "ipip_out", "veth_to_cali"]


@handles("veth_to_cali")
def veth_to_cali(walk: Walk, pod: Pod, sender: str, dst_ip: str) -> Step | None:
    """Out of the pod to its gateway 169.254.1.1, which proxy-ARP answers: the packet
    enters the node's IP stack at the cali veth."""
    node = walk.view.node(pod.node)
    route = Route("default", "eth0", via=LINK_LOCAL_GATEWAY)
    veth = walk.dp.veth_name(pod)
    pkt = walk.first_packet(pod.ip, dst_ip, Ethernet(mac_address(f"{pod.ref}/eth0"), CALI_MAC))
    walk.hop(Location("pod", pod.ref, "eth0"), node.name, "send",
             f"{sender} sends to {dst_ip}: route {route}; ARP: {LINK_LOCAL_GATEWAY} is "
             f"answered by proxy-ARP on {veth} with {CALI_MAC} (no host has that address)",
             pkt)
    walk.hop(Location("node", node.name, veth), node.name, "veth",
             f"the veth pair carries the frame to its host end {veth}; there is no bridge: "
             f"the frame is addressed to {veth} itself, so the packet enters "
             f"{node.name}'s IP stack for routing", pkt)
    return "ip_input", (node, Packet(pkt.layers[1:]))


@handles("cali_out")
def cali_out(walk: Walk, node: Node, pkt: Packet, route: Route, how: str) -> Step | None:
    """The /32 route felix added for a local pod: out of its cali veth into the pod."""
    ip = pkt[IPv4]
    peer = next((p for p in walk.view.pods_on(node.name) if walk.dp.veth_name(p) == route.dev),
                None)
    where = Location("node", node.name, route.dev)
    if peer is None or peer.ip != ip.dst:
        walk.drop(where, node.name, f"{how}; ARP for {ip.dst} on {route.dev} gets no answer",
                  pkt, f"Dropped: no pod behind {route.dev} on {node.name} has {ip.dst}.")
        return None
    if not admit(walk, node, peer, pkt, route.dev):
        return None
    framed = Packet((Ethernet(CALI_MAC, mac_address(f"{peer.ref}/eth0")),) + ip_part(pkt))
    walk.hop(where, node.name, "route",
             f"{how}; the /32 route felix added for the pod sends it out of {route.dev}, "
             f"through the veth pair into pod {peer.ref}", framed)
    return "deliver_pod", (peer, framed, Location("pod", peer.ref, "eth0"), False)


@handles("ipip_out")
def ipip_out(walk: Walk, node: Node, pkt: Packet, route: Route, how: str) -> Step | None:
    """tunl0: the packet in a second IPv4 header (protocol 4) to the remote node."""
    ip = pkt[IPv4]
    where = Location("node", node.name, TUNNEL_DEVICE)
    remote = walk.view.node_at(route.via) if route.via else None
    if remote is not None and (remote.ip != route.via or remote.name == node.name):
        remote = None
    if remote is None:
        walk.drop(where, node.name, f"{how}; no node has the address {route.via}", pkt,
                  f"Dropped: {node.name} tunnels {ip.dst} to {route.via}, which is no node.")
        return None
    inner = ip_part(pkt)
    outer = IPv4(node.ip, remote.ip, "IPIP", 64, ip.length + IPIP_OVERHEAD)
    encapsulated = Packet((outer,) + inner)
    walk.hop(where, node.name, "encapsulate",
             f"{how}; tunl0 wraps the packet in a second IPv4 header (IP-in-IP, protocol "
             f"4) from {node.ip} to {remote.ip}: {IPIP_OVERHEAD} bytes of overhead, MTU "
             f"{walk.dp.plugin.mtu}", encapsulated)
    wire(walk, node, remote, encapsulated,
         f"the outer packet goes to {remote.ip} on the VPC subnet")
    walk.hop(Location("node", remote.name, TUNNEL_DEVICE), remote.name, "decapsulate",
             f"{remote.name}'s kernel hands IP protocol 4 to tunl0, which strips the outer "
             "header; the inner packet enters the IP stack", Packet(inner))
    return "ip_input", (remote, Packet(inner))


@handles("calico_vxlan_out")
def calico_vxlan_out(walk: Walk, node: Node, pkt: Packet, route: Route, how: str) -> Step | None:
    """vxlan.calico: felix's permanent ARP and FDB entries map the remote node's VXLAN
    tunnel address to its node IP; the frame crosses the VPC in UDP 4789 (VNI 4096)."""
    ip = pkt[IPv4]
    where = Location("node", node.name, VXLAN_DEVICE)
    plugin = walk.dp.plugin
    remote = next((n for n in walk.view.pod_cidr_owners(route.via or "") if n.name != node.name
                   and plugin.vxlan_ip(n) == route.via), None)  # type: ignore[attr-defined]
    if remote is None:
        walk.drop(where, node.name, f"{how}; vxlan.calico has no neighbour entry for "
                  f"{route.via}", pkt,
                  f"Dropped: {node.name} sends {ip.dst} to {route.via} on vxlan.calico, "
                  "which is no node's tunnel address.")
        return None
    encapsulated, inner = encapsulate(walk, node, remote, pkt, VXLAN_DEVICE, VXLAN_PORT,
                                      VXLAN_VNI)
    walk.hop(where, node.name, "encapsulate",
             f"{how}; {remote.name} is in another subnet ({remote.subnet}), so the pool's "
             f"VXLANCrossSubnet encapsulates: felix's ARP entry gives {route.via} the MAC "
             f"{inner[0].dst} and its FDB entry maps it to {remote.ip}; the frame is wrapped "
             f"in UDP to port {VXLAN_PORT} (VNI {VXLAN_VNI}), {VXLAN_OVERHEAD} bytes of "
             "overlay headers", encapsulated)
    wire(walk, node, remote, encapsulated,
         f"the outer packet goes to {remote.ip} through the VPC router")
    walk.hop(Location("node", remote.name, VXLAN_DEVICE), remote.name, "decapsulate",
             f"{remote.name}'s kernel hands UDP port {VXLAN_PORT} to vxlan.calico, which "
             "strips the outer headers; the inner packet enters the IP stack",
             Packet(inner))
    return "ip_input", (remote, Packet(inner[1:]))
