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

from dataclasses import replace
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


def _ingress_port(walk: Walk, node: Node) -> str | None:
    """The port of ``cni0`` the packet came in on, when it entered ``node`` as a frame
    to the bridge itself (``bridge``: a pod's veth, then up to the IP stack); None when
    it came another way (eth0, flannel.1, a process of the node)."""
    hops = walk.hops
    for i in range(len(hops) - 1, -1, -1):
        hop = hops[i]
        if hop.node != node.name:
            return None
        if hop.action == "bridge" and hop.location == Location("node", node.name, BRIDGE):
            before = hops[i - 1] if i else None
            if (before is not None and before.action == "veth"
                    and before.location.kind == "node" and before.location.name == node.name):
                return before.location.interface
            return None
    return None


@handles("bridge_out")
def bridge_out(walk: Walk, node: Node, pkt: Packet, route: Route, how: str) -> Step | None:
    """The node routes a packet to ``cni0``: ARP for the pod, then its bridge port.

    A packet a pod sent to a Service and DNATed back to that same pod (hairpin) needs
    the port in hairpin mode: with br_netfilter the DNAT happens in the bridge's
    PREROUTING hook and, the route to the new destination going out of the bridge
    itself, the frame is bridged again (net/bridge/br_netfilter_hooks.c
    ``br_nf_pre_routing_finish``, ``bridged_dnat``); the bridge never forwards a frame
    out of the port it came in on unless that port is in hairpin mode
    (net/bridge/br_forward.c ``should_deliver``: ``(p->flags & BR_HAIRPIN_MODE) ||
    skb->dev != p->dev``), so it is lost before POSTROUTING. Whether the ports are in
    hairpin mode is the plugin's ``hairpinMode`` (``BridgeFamily.hairpin``: flannel
    sets it, the bridge plugin's default does not). Without br_netfilter the DNAT
    happens in the IP stack and the bridge device itself sends the frame, which
    ``should_deliver`` lets through."""
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
    port = walk.dp.veth_name(peer)
    if (walk.dnat is not None and not walk.dp.plugin.hairpin
            and walk.dp.runtime.bridge_nf_call_iptables(node.name)
            and _ingress_port(walk, node) == port):
        _hairpin_drop(walk, node, pkt, peer, port, how)
        return None
    framed = Packet((Ethernet(mac_address(f"{node.name}/{BRIDGE}"), mac),) + ip_part(pkt))
    walk.hop(where, node.name, "route",
             f"{how}; ARP: {ip.dst} is at {mac}; the bridge's FDB sends it out of "
             f"port {port}", framed)
    return "veth_to_pod", (node, peer, framed)


def _hairpin_drop(walk: Walk, node: Node, pkt: Packet, peer: Pod, port: str,
                  how: str) -> None:
    """The frame would go back out of the port it came in on, which is not in hairpin
    mode: the bridge drops it (``bridge_out``). POSTROUTING is never reached, so a
    masquerade ``postrouting`` applied is undone in what the hop shows."""
    how, _, _ = how.partition("; POSTROUTING:")
    if walk.client is not None and walk.nat_note:
        ip, l4 = pkt[IPv4], pkt.layers[-1]
        pkt = Packet(pkt.layers[:-2] + (replace(ip, src=walk.client[0]),
                                        replace(l4, sport=walk.client[1])))
    walk.nat_note = ""
    assert walk.dnat is not None  # bridge_out checked it
    _, vip, vport, _, _ = walk.dnat
    framed = Packet((Ethernet(mac_address(f"{node.name}/{BRIDGE}"),
                              mac_address(f"{peer.ref}/eth0")),) + ip_part(pkt))
    walk.drop(Location("node", node.name, BRIDGE), node.name,
              f"{how}; the DNAT to {peer.ip} happened in the bridge path (br_netfilter), "
              f"so cni0 bridges the frame to {peer.ref}, behind port {port}: the port it "
              "came in on, and hairpin mode is off there, so the bridge does not send it "
              "back out", framed,
              f"Dropped: cni0 does not send a frame back out of the port it came in on "
              f"(hairpin mode off: the bridge plugin's hairpinMode defaults to false), so "
              f"pod {peer.ref} gets no answer from {vip}:{vport}, a Service whose chosen "
              f"endpoint is the pod itself. Fix: \"hairpinMode\": true in the bridge "
              f"plugin's configuration (Cluster(cni=\"bridge\", cni_config="
              f"{{\"hairpinMode\": True}})), as flannel's CNI configuration sets it.")
