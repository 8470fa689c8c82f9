"""A node's ``eth0`` and the VPC subnet: ARP for the next hop, the frame across the
subnet (which only ever sees node addresses), and the other node's ``eth0``; a packet for
an address outside the subnet goes to the VPC router (``walk.vpc``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.dataplane.cni import mac_address
from kubenet_lab.model.packet import Ethernet, IPv4, Packet
from kubenet_lab.model.trace import Location
from kubenet_lab.walk.engine import Step, Walk, unframed
from kubenet_lab.walk.registry import handles

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.route import Route

__all__ = ["eth0_out", "wire"]


def wire(walk: Walk, node: Node, remote: Node, pkt: Packet, how: str) -> Packet:
    """Out of ``node``'s eth0, across the VPC subnet, into ``remote``'s eth0: three
    hops; returns the frame as it arrives."""
    framed = Packet((Ethernet(mac_address(f"{node.name}/eth0"),
                              mac_address(f"{remote.name}/eth0")),) + unframed(pkt))
    walk.hop(Location("node", node.name, "eth0"), node.name, "transmit",
             f"{how}; ARP: {remote.ip} ({remote.name}) is at {framed[Ethernet].dst}",
             framed)
    subnet = walk.view.subnet_of(node)
    walk.hop(Location("network", subnet.cidr), None, "carry",
             f"the VPC subnet {subnet.cidr} carries the frame from {node.name} to "
             f"{remote.name}; it only ever sees node addresses", framed)
    walk.hop(Location("node", remote.name, "eth0"), remote.name, "receive",
             f"{remote.name}'s eth0 receives the frame", framed)
    return framed


@handles("eth0_out")
def eth0_out(walk: Walk, node: Node, pkt: Packet, route: Route, how: str) -> Step | None:
    """The packet leaves by eth0: to another node of the subnet, or to the VPC router."""
    view = walk.view
    ip = pkt[IPv4]
    subnet = view.subnet_of(node)
    neighbour = route.via or ip.dst
    if neighbour == subnet.router:
        target = next((n for n in view.nodes if n.ip == ip.dst), None)
        if target is None:
            walk.egress_node = node.name
            return "leave_vpc", (node, pkt, how)
    else:
        target = next((n for n in view.nodes if n.ip == neighbour), None)
        if target is None:
            walk.drop(Location("node", node.name, "eth0"), node.name,
                      f"{how}; ARP for {neighbour} on eth0 gets no answer", pkt,
                      f"Dropped: nothing in the VPC subnet answers for {neighbour}.")
            return None
    wire(walk, node, target, pkt, how)
    return "ip_input", (target, Packet(unframed(pkt)))
