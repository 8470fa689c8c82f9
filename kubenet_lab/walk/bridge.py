"""The ``cni0`` Linux bridge and its veth ports (the bridge plugin, and flannel, which
delegates to it): a pod's frame goes through its veth pair to the host end, a port of
``cni0``; the bridge forwards by MAC (pod to pod on one node: no routing, TTL unchanged)
or, for a frame addressed to the bridge itself, hands the packet to the node's IP stack
(containernetworking/plugins plugins/main/bridge; facts sheet §3.1). br_netfilter
hands bridged frames to iptables and conntrack (``net.bridge.bridge-nf-call-iptables =
1``, the module's default on the lab's nodes); without it (the key at 0, or the module
not loaded: ``Runtime.bridge_nf_call_iptables``) a switched frame skips them, and the
policy agent's hook with them (facts sheet 2026 §2, the br_netfilter row).
"""

from __future__ import annotations

from ipaddress import ip_network
from typing import TYPE_CHECKING

from kubenet_lab.api.ipam import bridge_ip
from kubenet_lab.dataplane.cni import BRIDGE, mac_address
from kubenet_lab.dataplane.routing import route_lookup
from kubenet_lab.model.packet import Ethernet, IPv4, Packet
from kubenet_lab.model.trace import Location
from kubenet_lab.walk.engine import Step, Walk, ip_part
from kubenet_lab.walk.netfilter import admit
from kubenet_lab.walk.registry import handles

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.route import Route

__all__ = ["bridge", "bridge_out", "veth_to_bridge", "veth_to_pod"]


@handles("veth_to_bridge")
def veth_to_bridge(walk: Walk, pod: Pod, sender: str, dst_ip: str) -> Step | None:
    """Route lookup in the pod, ARP (the bridge's .1 or an on-link pod), then the veth
    carries the frame to its host end, a port of ``cni0``."""
    dp = walk.dp
    route = route_lookup(dp.pod_routes(pod), dst_ip)
    eth_src = mac_address(f"{pod.ref}/eth0")
    node = walk.view.node(pod.node)
    gw = str(bridge_ip(ip_network(node.pod_cidr)))
    where = Location("pod", pod.ref, "eth0")
    if route is None:
        pkt = walk.first_packet(pod.ip, dst_ip, None)
        walk.drop(where, node.name, f"no route to {dst_ip} in the pod's routing table", pkt,
                  f"Dropped: pod {pod.ref} has no route to {dst_ip} (Network is "
                  "unreachable).")
        return None
    neighbour = route.via or dst_ip
    if neighbour == gw:
        mac, what = mac_address(f"{node.name}/{BRIDGE}"), f"the gateway {gw} (cni0)"
    else:
        peer = dp.pod_at(node.name, neighbour)
        if peer is None:
            pkt = walk.first_packet(pod.ip, dst_ip, None)
            walk.drop(where, node.name,
                      f"route: {route}; ARP for {neighbour} on eth0 gets no answer: no "
                      f"pod on {node.name} has that address",
                      pkt, f"Dropped: {dst_ip} is in {node.name}'s podCIDR but no pod has "
                      "it (ARP got no answer: Destination Host Unreachable).")
            return None
        mac, what = mac_address(f"{peer.ref}/eth0"), f"pod {peer.ref}"
    pkt = walk.first_packet(pod.ip, dst_ip, Ethernet(eth_src, mac))
    walk.hop(where, node.name, "send",
             f"{sender} sends to {dst_ip}: route {route}; ARP: {neighbour} is {what} "
             f"at {mac}", pkt)
    veth = dp.veth_name(pod)
    walk.hop(Location("node", node.name, veth), node.name, "veth",
             f"the veth pair carries the frame out of the pod's namespace to its host "
             f"end {veth}, a port of bridge cni0 on {node.name}", pkt)
    return "bridge", (node, pkt)


@handles("bridge")
def bridge(walk: Walk, node: Node, pkt: Packet) -> Step | None:
    """The frame enters bridge cni0: switched by MAC, or up to the node's IP stack."""
    eth = pkt[Ethernet]
    bridge_mac = mac_address(f"{node.name}/{BRIDGE}")
    where = Location("node", node.name, BRIDGE)
    if eth.dst == bridge_mac:
        walk.hop(where, node.name, "bridge",
                 f"the frame is addressed to the bridge itself, so cni0 passes the packet "
                 f"up to {node.name}'s IP stack for routing", pkt)
        return "ip_input", (node, Packet(pkt.layers[1:]))
    peer = walk.dp.bridge_ports(node).get(eth.dst)
    if peer is None:  # pragma: no cover - ARP above only resolves existing pods
        walk.drop(where, node.name, f"no port of cni0 has MAC {eth.dst}", pkt,
                  "Dropped: unknown MAC on cni0.")
        return None
    netfilter = walk.dp.runtime.bridge_nf_call_iptables(node.name)
    skipped = "" if netfilter else (
        "; bridged frames skip iptables and conntrack on "
        f"{node.name} (" + ("net.bridge.bridge-nf-call-iptables = 0" if
                            walk.dp.runtime.module_loaded(node.name, "br_netfilter")
                            else "br_netfilter is not loaded") + ")")
    walk.hop(where, node.name, "bridge",
             f"cni0 switches the frame by MAC: its forwarding database (FDB) has "
             f"{eth.dst} on port {walk.dp.veth_name(peer)}; no routing, so the TTL is "
             f"unchanged{skipped}", pkt)
    return "veth_to_pod", (node, peer, pkt, netfilter)


@handles("veth_to_pod")
def veth_to_pod(walk: Walk, node: Node, peer: Pod, pkt: Packet,
                netfilter: bool = True) -> Step | None:
    """Out of the bridge port, through the veth pair, to the pod's eth0. A frame that
    skipped netfilter (``netfilter`` False: bridged without br_netfilter) skips the
    policy agent's nftables hook too."""
    if netfilter and not admit(walk, node, peer, pkt, BRIDGE):
        return None


    veth = walk.dp.veth_name(peer)
    walk.hop(Location("node", node.name, veth), node.name, "veth",
             f"out of bridge port {veth}, through the veth pair into pod {peer.ref}", pkt)
    return "deliver_pod", (peer, pkt, Location("pod", peer.ref, "eth0"), False)


@handles("bridge_out")
def bridge_out(walk: Walk, node: Node, pkt: Packet, route: Route, how: str) -> Step | None:
    """The node routes a packet to ``cni0``: ARP for the pod, then its bridge port."""
    ip = pkt[IPv4]
    peer = walk.dp.pod_at(node.name, ip.dst)
    where = Location("node", node.name, BRIDGE)
    if peer is None:
        walk.drop(where, node.name,
                  f"{how}; ARP for {ip.dst} on cni0 gets no answer", pkt,
                  f"Dropped: no pod on {node.name} has {ip.dst} (ARP got no answer: "
                  "Destination Host Unreachable).")
        return None
    mac = mac_address(f"{peer.ref}/eth0")
    framed = Packet((Ethernet(mac_address(f"{node.name}/{BRIDGE}"), mac),) + ip_part(pkt))
    walk.hop(where, node.name, "route",
             f"{how}; ARP: {ip.dst} is at {mac}; the bridge's FDB sends it out of "
             f"port {walk.dp.veth_name(peer)}", framed)
    return "veth_to_pod", (node, peer, framed)
