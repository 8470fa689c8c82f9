"""VXLAN, the one copy: a frame wrapped in UDP between node addresses, as flannel's
``flannel.1`` (VNI 1, port 8472, flannel pkg/backend/vxlan) and Cilium's
``cilium_vxlan`` (the VNI carries the sender's security identity) both do it. The outer
headers are 50 bytes: Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8; the UDP source port is a
hash of the inner flow, as the kernel picks it for ECMP spreading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.dataplane.cni import (
    VXLAN_DEVICE,
    VXLAN_OVERHEAD,
    VXLAN_PORT,
    VXLAN_VNI,
    mac_address,
    vtep_ip,
)
from kubenet_lab.model.packet import UDP, VXLAN, Ethernet, IPv4, Layer, Packet
from kubenet_lab.model.trace import Location
from kubenet_lab.walk.engine import Step, Walk, hash_port, ip_part
from kubenet_lab.walk.eth0 import wire
from kubenet_lab.walk.registry import handles

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.route import Route

__all__ = ["encapsulate", "vxlan_out"]


def encapsulate(walk: Walk, node: Node, remote: Node, pkt: Packet, device: str, port: int,
                vni: int) -> tuple[Packet, tuple[Layer, ...]]:
    """The packet wrapped by ``node``'s VXLAN ``device`` for ``remote``: the outer
    packet, and the inner frame (addressed from the local device's MAC to the remote
    device's)."""
    ip = pkt[IPv4]
    inner = (Ethernet(mac_address(f"{node.name}/{device}"),
                      mac_address(f"{remote.name}/{device}")),) + ip_part(pkt)
    udp_len = 8 + 8 + 14 + ip.length
    sport = hash_port("vxlan", ip.src, ip.dst, walk.port)
    outer = (IPv4(node.ip, remote.ip, "UDP", 64, 20 + udp_len), UDP(sport, port, udp_len),
             VXLAN(vni))
    return Packet(outer + inner), inner


@handles("vxlan_out")
def vxlan_out(walk: Walk, node: Node, pkt: Packet, route: Route, how: str) -> Step | None:
    """flannel.1: flanneld's permanent ARP and FDB entries name the remote VTEP's node;
    the frame crosses the VPC subnet in UDP and the remote node's flannel.1 unwraps it."""
    view = walk.view
    ip = pkt[IPv4]
    remote = next((n for n in view.pod_cidr_owners(route.via or "")
                   if n.name != node.name and vtep_ip(n) == route.via), None)
    where = Location("node", node.name, VXLAN_DEVICE)
    if remote is None:
        walk.drop(where, node.name,
                  f"{how}; flannel.1 has no neighbour entry for {route.via}: no node "
                  "owns that subnet", pkt,
                  f"Dropped: no node has the podCIDR of {ip.dst} ({node.name} routes it to "
                  f"{route.via} on flannel.1, which nobody answers).")
        return None
    encapsulated, inner = encapsulate(walk, node, remote, pkt, VXLAN_DEVICE, VXLAN_PORT,
                                      VXLAN_VNI)
    walk.hop(where, node.name, "encapsulate",
             f"{how}; flannel.1 is a VXLAN device (VNI {VXLAN_VNI}, MTU "
             f"{walk.dp.plugin.mtu}): flanneld's permanent ARP entry gives {route.via} the "
             f"MAC {inner[0].dst}, and its FDB entry maps that MAC to {remote.name} "
             f"({remote.ip}); the frame is wrapped in UDP to port {VXLAN_PORT}, "
             f"{VXLAN_OVERHEAD} bytes of overlay headers", encapsulated)
    outer_route = walk.dp.route(node, remote.ip)
    if outer_route is None:
        walk.drop(where, node.name, f"no route to {remote.ip} for the outer packet",
                  encapsulated, f"Dropped: {node.name} has no route to {remote.ip}.")
        return None
    wire(walk, node, remote, encapsulated,
         f"the outer packet to {remote.ip} takes route {outer_route}")
    walk.hop(Location("node", remote.name, VXLAN_DEVICE), remote.name, "decapsulate",
             f"{remote.name}'s kernel hands UDP port {VXLAN_PORT} to its VXLAN socket; "
             f"flannel.1 strips the outer headers (VNI {VXLAN_VNI}) and the inner "
             f"frame, addressed to flannel.1's MAC, enters {remote.name}'s IP stack",
             Packet(inner))
    return "ip_input", (remote, Packet(inner[1:]))
