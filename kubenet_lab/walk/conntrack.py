"""Connection tracking on the way back: the first reply of a connection kube-proxy
translated. conntrack on the node that made the DNAT undoes it (and the masquerade of
KUBE-POSTROUTING), so the client sees the address it connected to.
"""

from __future__ import annotations

from kubenet_lab.model.packet import IPv4, Packet, packet_changes
from kubenet_lab.model.trace import Hop, Location
from kubenet_lab.walk.engine import Walk, reply_l4

__all__ = ["reply_path"]


def reply_path(walk: Walk) -> None:
    """The first reply packet: conntrack undoes the DNAT (and the masquerade) on
    the node that translated the request, so the client sees the address it called."""
    assert walk.dnat is not None
    nat_node, vip, vport, ep_ip, ep_port = walk.dnat
    seen = walk.source_seen or ""
    request = walk.hops[-1].packet
    sport = request.layers[-1].sport
    l4 = reply_l4(walk.protocol, ep_port, sport)
    back = Packet((IPv4(ep_ip, seen, walk.protocol, 64, 60), l4))
    where = (Location("pod", walk.destination_pod, "eth0") if walk.destination_pod
             else Location("node", walk.hops[-1].location.name))
    walk.reply.append(Hop(1, where, walk.hops[-1].node, "reply",
                          f"the endpoint answers from {ep_ip}:{ep_port} to {seen}:{sport}",
                          back))
    client_ip, client_port = walk.client or (seen, sport)
    undone = Packet((IPv4(vip, client_ip, walk.protocol, 63, 60),
                     reply_l4(walk.protocol, vport, client_port)))
    masq = (f" and the masquerade (destination {seen}:{sport} back to "
            f"{client_ip}:{client_port})" if walk.client else "")
    walk.reply.append(Hop(2, Location("node", nat_node), nat_node, "conntrack",
                          f"conntrack on {nat_node} matches the reply to the connection "
                          f"it translated and undoes the DNAT (source {ep_ip}:{ep_port} "
                          f"back to {vip}:{vport}){masq}", undone,
                          packet_changes(back, undone)))
    walk.reply.append(Hop(3, Location("node", nat_node), None, "deliver",
                          f"the client receives a reply from {vip}:{vport}, the address "
                          "it connected to", undone))
