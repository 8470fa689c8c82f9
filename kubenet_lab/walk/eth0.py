"""A node's ``eth0`` and the VPC subnet: ARP for the next hop, the frame across the
subnet, and the other node's ``eth0``; a packet for an address outside the subnet goes to
the VPC router (``walk.vpc``).

EC2's source/destination check sits at every instance's network interface: "each EC2
instance performs source/destination checks by default. This means that the instance
must be the source or destination of any traffic it sends or receives"
(https://docs.aws.amazon.com/vpc/latest/userguide/VPC_NAT_Instance.html; the instance
attribute ``sourceDestCheck``, AWS EC2 API ``ModifyInstanceAttribute``). So a packet
that leaves a node with a pod's source address (the bridge plugin's host routes, Calico's
unencapsulated routes) is dropped as it is sent, and one addressed to a pod is dropped as
it would be received, unless the check is off on that instance (kube-router's
``disableSourceDestinationCheck``: "EC2 by default drops any packets originating or
destination to a VM with IP other than that of VM's ip"). With the check off, nodes of one
subnet reach each other's pods directly, without VPC route-table entries (Calico's AWS
guide, https://docs.tigera.io/calico/latest/reference/public-cloud/AWS). An overlay's
outer packet (VXLAN, IP-in-IP) goes from node to node and passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.controllers.cloud import source_dest_check
from kubenet_lab.dataplane.cni import mac_address
from kubenet_lab.model.packet import Ethernet, IPv4, Packet
from kubenet_lab.model.trace import Location
from kubenet_lab.walk.engine import Step, Walk, unframed
from kubenet_lab.walk.registry import handles

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.route import Route
    from kubenet_lab.model.store import StoreView

__all__ = ["ROUTED_FIX", "eth0_out", "instance_receives", "instance_sends", "wire"]

#: The fix a dropped routed pod packet's reason gives.
ROUTED_FIX = ("routed pod addresses need the check off on the sending and the receiving "
              "node (c.set_source_dest_check(node, False)), or an overlay, whose packets go "
              "from node to node (flannel VXLAN, Calico VXLAN or IP-in-IP)")


def instance_sends(walk: Walk, node: Node, framed: Packet, where: Location,
                   fix: str = ROUTED_FIX) -> bool:
    """EC2's check as ``node``'s network interface sends ``framed``: False (and a drop
    hop) when its source is not the instance's address and the check is on."""
    ip = framed[IPv4]
    if ip.src == node.ip or not source_dest_check(walk.view, node.name):
        return True
    walk.drop(where, None,
              f"EC2's source/destination check on {node.name}'s network interface drops the "
              f"packet: its source {ip.src} is not the instance's address {node.ip}", framed,
              f"Dropped: EC2's source/destination check on {node.name} drops a packet from "
              f"{ip.src}, which is not {node.name}'s address {node.ip}; {fix}.")
    return False


def instance_receives(walk: Walk, node: Node, framed: Packet, where: Location,
                      fix: str = ROUTED_FIX) -> bool:
    """EC2's check before ``node``'s network interface receives ``framed``: False (and a
    drop hop) when its destination is not the instance's address and the check is on."""
    ip = framed[IPv4]
    if ip.dst == node.ip or not source_dest_check(walk.view, node.name):
        return True
    walk.drop(where, None,
              f"EC2's source/destination check on {node.name}'s network interface drops the "
              f"packet: its destination {ip.dst} is not the instance's address {node.ip}",
              framed,
              f"Dropped: EC2's source/destination check on {node.name} drops a packet to "
              f"{ip.dst}, which is not {node.name}'s address {node.ip}; {fix}.")
    return False


def _transmit(walk: Walk, node: Node, remote: Node, pkt: Packet, how: str) -> Packet:
    framed = Packet((Ethernet(mac_address(f"{node.name}/eth0"),
                              mac_address(f"{remote.name}/eth0")),) + unframed(pkt))
    walk.hop(Location("node", node.name, "eth0"), node.name, "transmit",
             f"{how}; ARP: {remote.ip} ({remote.name}) is at {framed[Ethernet].dst}",
             framed)
    return framed


def _carry(walk: Walk, node: Node, remote: Node, framed: Packet, note: str) -> None:
    subnet = walk.view.subnet_of(node)
    walk.hop(Location("network", subnet.cidr), None, "carry",
             f"the VPC subnet {subnet.cidr} carries the frame from {node.name} to "
             f"{remote.name}{note}", framed)
    walk.hop(Location("node", remote.name, "eth0"), remote.name, "receive",
             f"{remote.name}'s eth0 receives the frame", framed)


def wire(walk: Walk, node: Node, remote: Node, pkt: Packet, how: str) -> Packet:
    """Out of ``node``'s eth0, across the VPC subnet, into ``remote``'s eth0: three
    hops; returns the frame as it arrives. For a packet from node to node (an
    overlay's outer packet), which EC2's source/destination check lets through."""
    framed = _transmit(walk, node, remote, pkt, how)
    _carry(walk, node, remote, framed, "; it only ever sees node addresses")
    return framed


def _node_with_ip(view: StoreView, ip: str) -> Node | None:
    """The node whose eth0 has ``ip`` (the one that answers ARP for it)."""
    node = view.node_at(ip)
    return node if node is not None and node.ip == ip else None


@handles("eth0_out")
def eth0_out(walk: Walk, node: Node, pkt: Packet, route: Route, how: str) -> Step | None:
    """The packet leaves by eth0: to another node of the subnet, or to the VPC router;
    EC2's source/destination check on the way out of ``node`` and into the other node."""
    view = walk.view
    ip = pkt[IPv4]
    subnet = view.subnet_of(node)
    neighbour = route.via or ip.dst
    if neighbour == subnet.router:
        target = _node_with_ip(view, ip.dst)
        if target is None:
            walk.egress_node = node.name
            return "leave_vpc", (node, pkt, how)
    else:
        target = _node_with_ip(view, neighbour)
        if target is None:
            walk.drop(Location("node", node.name, "eth0"), node.name,
                      f"{how}; ARP for {neighbour} on eth0 gets no answer", pkt,
                      f"Dropped: nothing in the VPC subnet answers for {neighbour}.")
            return None
    framed = _transmit(walk, node, target, pkt, how)
    where = Location("network", subnet.cidr)
    if not (instance_sends(walk, node, framed, where)
            and instance_receives(walk, target, framed, where)):
        return None
    ip = framed[IPv4]
    nodes_only = ip.src == node.ip and ip.dst == target.ip
    _carry(walk, node, target, framed, "; it only ever sees node addresses" if nodes_only
           else f" (the check is off on {node.name} and {target.name}: pod addresses pass)"
           if ip.src != node.ip and ip.dst != target.ip else
           f" (the check is off on {node.name if ip.src != node.ip else target.name})")
    return "ip_input", (target, Packet(unframed(pkt)))
