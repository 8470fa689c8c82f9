"""The cloud around the cluster on the walk: the VPC router and its route tables, the
NAT gateway, the internet gateway, the internet, and cloud load balancers; outside
clients; and the replies back through each translation (facts sheet §4).

- AWS VPC: the internet gateway performs one-to-one NAT between an instance's private
  IPv4 address and its public IPv4 address
  (https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html); the
  public NAT gateway rewrites the source to its own private address and the internet
  gateway maps that to the NAT gateway's Elastic IP; hosts on the internet cannot open
  connections through it
  (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html).
- Source/destination check: "each EC2 instance performs source/destination checks by
  default: the instance must be the source or destination of any traffic it sends or
  receives" (https://docs.aws.amazon.com/vpc/latest/userguide/VPC_NAT_Instance.html).
  It is checked at each instance's network interface (``walk.eth0.instance_sends`` and
  ``instance_receives``), for every packet, not only at the VPC's edge: a pod address
  that nothing masqueraded is dropped as the node sends it.
- Routes to instances: a route table entry ``<cidr> -> <instance>``
  (``Cluster.add_vpc_route``) makes the VPC router deliver a packet for ``cidr`` to that
  node, whose check must be off to receive it. With the check off but no masquerade, the
  internet gateway still cannot carry a pod address (it translates only an instance's
  address that has a public IPv4 address), and a NAT gateway translates it but its
  reply needs a route back to the pod in the NAT gateway's subnet's route table.

Simplification (said in lessons 04 and 05): the internet is a set of hosts that
answer on every port.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.cloud import INTERNET, is_internet
from kubenet_lab.controllers.cloud import (
    has_cloud,
    lb_targets,
    public_owner,
    route_lookup,
    route_table,
)
from kubenet_lab.dataplane.cni import mac_address
from kubenet_lab.model.packet import Ethernet, IPv4, Packet, packet_changes
from kubenet_lab.model.trace import Hop, Location
from kubenet_lab.walk.conntrack import DEFAULT_TTL
from kubenet_lab.walk.engine import Step, Walk, hash_port, ip_part, reply_l4, routed_by, unframed
from kubenet_lab.walk.eth0 import ROUTED_FIX, instance_receives, instance_sends
from kubenet_lab.walk.registry import handles

if TYPE_CHECKING:
    from kubenet_lab.model.cloud import Subnet
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.store import StoreView

__all__ = ["cloud_reply", "enter_node", "from_internet", "from_outside", "leave_vpc"]

#: The fix a dropped unmasqueraded packet to the internet gives.
MASQ_FIX = ("pod traffic leaving the VPC must be masqueraded (ip-masq-agent, or the CNI "
            "plugin's masquerade rule)")


def _instance_route(view: StoreView, subnet: str, ip: str) -> tuple[str, str] | None:
    """The route ``ip`` takes in ``subnet``'s table when it is one added towards an
    instance (``add_vpc_route``); None otherwise."""
    row = route_lookup(view, subnet, ip)
    if row is None or not any((r.subnet, r.destination, r.target) == (subnet, *row)
                              for r in view.vpc.routes):
        return None
    return row


def _to_instance(walk: Walk, subnet: Subnet, row: tuple[str, str], pkt: Packet,
                 table: str) -> Step | None:
    """The VPC router sends ``pkt`` on by a route to an instance: into that node's eth0,
    EC2's source/destination check permitting."""
    where = Location("network", subnet.cidr)
    dst = pkt[IPv4].dst
    if not walk.view.has_node(row[1]):
        walk.drop(where, None,
                  f"the route table of the {subnet.name} subnet ({table}) sends {dst} to the "
                  f"instance {row[1]}, which no longer exists: the route is a blackhole", pkt,
                  f"Dropped: the VPC route {row[0]} -> {row[1]} is a blackhole (no such "
                  "instance).")
        return None
    target = walk.view.node(row[1])
    framed = Packet((Ethernet(mac_address(f"vpc-router/{subnet.name}"),
                              mac_address(f"{target.name}/eth0")),) + unframed(pkt))
    walk.hop(where, None, "carry",
             f"the route table of the {subnet.name} subnet ({table}) sends {dst} to the "
             f"instance {target.name} (route {row[0]} -> {row[1]})", framed)
    if not instance_receives(walk, target, framed, where):
        return None
    walk.hop(Location("node", target.name, "eth0"), target.name, "receive",
             f"{target.name}'s eth0 receives the frame", framed)
    return "ip_input", (target, Packet(unframed(framed)))


@handles("from_outside")
def from_outside(walk: Walk) -> Step | None:
    """An outside client: a host in the nodes' own VPC subnet, not part of the
    cluster. It reaches node addresses directly; cluster IPs and pod IPs mean
    nothing outside the nodes, so its router has no route for them."""
    src_ip, dst_ip = walk.src.ip or "", walk.dst.ip or ""
    owner = public_owner(walk.view, dst_ip) if is_internet(walk.view, src_ip) else None
    if owner is not None:
        return "from_internet", owner
    if walk.src.text == "internet" and not is_internet(walk.view, dst_ip):
        pkt = walk.first_packet(src_ip, dst_ip, None)
        walk.drop(Location("network", "internet"), None,
                  f"the internet host {src_ip} sends to {dst_ip}, a private address: "
                  "the internet does not route private addresses", pkt,
                  f"Dropped: {dst_ip} is not reachable from the internet; use a public "
                  "address (a node's public IP or a load balancer's address).")
        return None
    subnet = walk.view.vpc.subnets[0]
    target = walk.view.node_at(dst_ip)
    where = Location("network", subnet.cidr)
    row = _instance_route(walk.view, subnet.name, dst_ip) if target is None else None
    if row is not None:
        # the client has no route of its own: it sends to its gateway, the VPC router
        pkt = walk.first_packet(src_ip, dst_ip, Ethernet(
            mac_address(f"client/{src_ip}"), mac_address(f"vpc-router/{subnet.name}")))
        walk.hop(where, None, "send",
                 f"an outside client {src_ip} in subnet {subnet.cidr} sends to {dst_ip} "
                 f"through its default gateway, the VPC router {subnet.router}", pkt)
        table = "; ".join(f"{d} -> {t}" for d, t in route_table(walk.view, subnet.name))
        return _to_instance(walk, subnet, row, pkt, table)
    if target is None:
        pkt = walk.first_packet(src_ip, dst_ip, None)
        walk.drop(where, None,
                  f"the outside client {src_ip} sends to {dst_ip}, but outside the nodes "
                  "only node addresses exist: the subnet's router has no route to it",
                  pkt, f"Dropped: {dst_ip} is not reachable from outside the cluster; an "
                  "outside client reaches a Service through a node IP and its NodePort.")
        return None
    pkt = walk.first_packet(src_ip, dst_ip, Ethernet(
        mac_address(f"client/{src_ip}"), mac_address(f"{target.name}/eth0")))
    walk.hop(where, None, "send",
             f"an outside client {src_ip} in subnet {subnet.cidr} sends to {dst_ip} "
             f"({target.name}); ARP gives {target.name}'s eth0 MAC", pkt)
    walk.hop(Location("node", target.name, "eth0"), target.name, "receive",
             f"{target.name}'s eth0 receives the frame", pkt)
    return "ip_input", (target, Packet(unframed(pkt)))


@handles("leave_vpc")
def leave_vpc(walk: Walk, node: Node, pkt: Packet, how: str) -> Step | None:
    """A packet leaves ``node`` for the VPC router: the subnet's route table decides."""
    c = walk.view
    ip = pkt[IPv4]
    subnet = c.subnet_of(node)
    framed = Packet((Ethernet(mac_address(f"{node.name}/eth0"),
                              mac_address(f"vpc-router/{subnet.name}")),) + ip_part(pkt))
    walk.hop(Location("node", node.name, "eth0"), node.name, "transmit",
             f"{how}; the next hop is the VPC router {subnet.router}", framed)
    table = "; ".join(f"{d} -> {t}" for d, t in route_table(c, subnet.name))
    where = Location("network", subnet.cidr)
    internet = is_internet(c, ip.dst)
    if not instance_sends(walk, node, framed, where, MASQ_FIX if internet else ROUTED_FIX):
        return None
    row = _instance_route(c, subnet.name, ip.dst)
    if row is not None:
        return _to_instance(walk, subnet, row, framed, table)
    if not internet and not has_cloud(c):
        # a VPC with only the private subnet: the wording lessons 02 and 08 show
        walk.drop(where, None,
                  f"the VPC route table has no route to {ip.dst}: this cluster's VPC has no "
                  "internet gateway", framed,
                  f"Dropped: the VPC has no route to {ip.dst} (no internet gateway in this "
                  "lab's VPC).")
        return None
    if not is_internet(c, ip.dst):
        walk.drop(where, None,
                  f"the route table of the {subnet.name} subnet ({table}) has no route to "
                  f"{ip.dst}", framed,
                  f"Dropped: the VPC has no route to {ip.dst} (nothing in the VPC has it and "
                  "it is not an internet address).")
        return None
    if ip.src != node.ip and subnet.public:
        # the check is off on the node, but nothing masqueraded the pod's packet
        walk.drop(Location("network", "internet gateway"), None,
                  f"the internet gateway translates only the private address of an instance "
                  f"that has a public IPv4 address; {ip.src} is no instance's address", framed,
                  f"Dropped: the internet gateway has no public address for {ip.src}; "
                  f"{MASQ_FIX}.")
        return None
    steps: list[tuple[str, str, int, str, int, str]] = []  # where, old, oport, new, nport, why
    bare = Packet(ip_part(pkt))
    l4 = bare.layers[-1]
    if subnet.public:
        public = node.public_ip or ""
        walk.hop(where, None, "carry",
                 f"the {subnet.name} subnet's route table ({table}) sends {ip.dst} to the "
                 f"internet gateway", framed)
    else:
        gw = next(iter(c.nat_gateways), None)
        if gw is None:
            walk.drop(where, None,
                      f"the route table of the {subnet.name} subnet ({table}) has no route to "
                      f"{ip.dst}: a private subnet reaches the internet only through a NAT "
                      "gateway", framed,
                      f"Dropped: the {subnet.name} subnet has no route to {ip.dst}: no "
                      "internet gateway route and no NAT gateway.")
            return None
        walk.hop(where, None, "carry",
                 f"the {subnet.name} subnet's route table ({table}) sends {ip.dst} to the "
                 f"NAT gateway {gw.name} ({gw.private_ip})", framed)
        if ip.src != node.ip and _instance_route(c, gw.subnet, ip.src) is None:
            # the check is off on the node, but nothing masqueraded the pod's packet
            back = "; ".join(f"{d} -> {t}" for d, t in route_table(c, gw.subnet))
            walk.drop(Location("network", f"NAT gateway {gw.name}"), None,
                      f"the NAT gateway {gw.name} would translate {ip.src}, but the reply "
                      f"could not come back: the route table of its {gw.subnet} subnet "
                      f"({back}) has no route to {ip.src}", framed,
                      f"Dropped: the reply to {ip.src} has no route in the {gw.subnet} "
                      f"subnet's route table; {MASQ_FIX}.")
            return None
        nport = hash_port("natgw", gw.private_ip, ip.src, l4.sport)
        new = bare.replace(bare[IPv4], replace(bare[IPv4], src=gw.private_ip))
        new = Packet(new.layers[:-1] + (replace(l4, sport=nport),))
        steps.append((f"NAT gateway {gw.name}", ip.src, l4.sport, gw.private_ip, nport,
                      "the NAT gateway"))
        walk.hop(Location("network", f"NAT gateway {gw.name}"), None, "nat",
                 f"the NAT gateway {gw.name} rewrites the source {ip.src}:{l4.sport} to its own "
                 f"address {gw.private_ip}:{nport} (conntrack remembers it) and sends it on to "
                 "the internet gateway (its public subnet's default route)", new)
        bare, public = new, gw.public_ip
    src_now = bare[IPv4].src
    out = bare.replace(bare[IPv4], replace(bare[IPv4], src=public))
    steps.append(("internet gateway", src_now, bare.layers[-1].sport, public,
                  bare.layers[-1].sport, "the internet gateway"))
    walk.hop(Location("network", "internet gateway"), None, "nat",
             f"the internet gateway maps {src_now} one to one to its public IPv4 address "
             f"{public} (static NAT, ports unchanged)", out)
    walk.hop(Location("network", INTERNET), None, "deliver",
             f"the internet host {ip.dst} receives the packet from {public}; hosts on the "
             "internet answer on every port in this lab", out)
    walk.delivered = True
    walk.receiver = f"internet/{ip.dst}"
    walk.source_seen = public
    walk.nat_note = (walk.nat_note + ", then " if walk.nat_note else "") + (
        ", then ".join(f"{old} to {new} by {who}" for _, old, _, new, _, who in steps))
    walk.reason = (f"Delivered to the internet host {ip.dst}; it sees the source {public} "
                   f"(the source was {walk.nat_note}).")
    walk.egress = (steps, out)
    return None


def cloud_reply(walk: Walk) -> None:
    """The reply of a connection that crossed the cloud's translations."""
    if walk.egress is not None:
        _egress_reply(walk)
    else:
        _ingress_reply(walk)


def _ingress_reply(walk: Walk) -> None:
    """The reply to an internet client: after the node's conntrack (if kube-proxy
    translated), the load balancer or the internet gateway maps the source back to
    the public address the client called."""
    who, public, pport, private, nport = walk.lb
    reply = list(walk.reply)
    if reply and reply[-1].action == "deliver":
        reply.pop()
    if reply:
        last = reply[-1].packet
    else:
        req = walk.hops[-1].packet
        ip, l4 = req[IPv4], req.layers[-1]
        last = Packet((IPv4(ip.dst, ip.src, ip.proto, 64, 60),
                       reply_l4(ip.proto, l4.dport, l4.sport)))
        reply.append(Hop(1, walk.hops[-1].location, walk.hops[-1].node, "reply",
                         f"{walk.receiver} answers from {ip.dst}:{l4.dport} to "
                         f"{ip.src}:{l4.sport}", last))
    back = Packet((replace(last[IPv4], src=public), replace(last.layers[-1], sport=pport)))
    reply.append(Hop(len(reply) + 1, Location("network", who), None, "conntrack",
                     f"{who} maps the source {private}:{nport} back to {public}:{pport}",
                     back, packet_changes(last, back)))
    reply.append(Hop(len(reply) + 1, Location("network", INTERNET), None, "deliver",
                     f"the internet client {back[IPv4].dst} receives a reply from "
                     f"{public}:{pport}, the address it connected to", back))
    walk.reply = reply


@handles("from_internet")
def from_internet(walk: Walk, kind: str, obj: Any) -> Step | None:
    """An internet host opens a connection to a public address of the VPC."""
    c = walk.view
    src, dst = walk.src.ip or "", walk.dst.ip or ""
    pkt = walk.first_packet(src, dst, None)
    walk.hop(Location("network", INTERNET), None, "send",
             f"the internet host {src} sends to {dst}; the internet routes it to the VPC's "
             "internet gateway", pkt)
    l4 = pkt.layers[-1]
    if kind == "nat":
        walk.drop(Location("network", f"NAT gateway {obj.name}"), None,
                  f"{dst} is the Elastic IP of the NAT gateway {obj.name}; it has no "
                  "connection in its table for this packet", pkt,
                  f"Dropped: the NAT gateway {obj.name} does not accept connections "
                  "initiated from the internet.")
        return None
    if kind == "node":
        node = obj
        new = pkt.replace(pkt[IPv4], replace(pkt[IPv4], dst=node.ip))
        walk.hop(Location("network", "internet gateway"), None, "nat",
                 f"the internet gateway maps {dst} one to one to {node.name}'s private "
                 f"address {node.ip} (the gateway maps to the node, not to its pods)", new)
        walk.lb = ("internet gateway", dst, l4.dport, node.ip, l4.dport)
        return "enter_node", (node, new, f"the public subnet {c.subnet_of(node).cidr}")
    svc = c.service(obj.service)
    sp = next((p for p in svc.ports if p.port == l4.dport and p.protocol == walk.protocol),
              None)
    where = Location("network", f"load balancer {svc.ref}")
    if sp is None or sp.node_port is None:
        walk.drop(where, None, f"the load balancer of {svc.ref} has no listener on "
                  f"{walk.protocol} port {l4.dport}", pkt,
                  f"Dropped: the load balancer {dst} listens only on "
                  f"{', '.join(str(p.port) for p in svc.ports)}.")
        return None
    targets = lb_targets(c, svc)
    healthy = [n for n, ok in targets if ok]
    check = (f"health check on the healthCheckNodePort {svc.health_check_node_port} "
             "(/healthz answers 200 only where a ready endpoint runs)"
             if svc.external_traffic_policy == "Local" else
             "health check on kube-proxy's :10256/healthz")
    status = ", ".join(f"{n.name} {'healthy' if ok else 'unhealthy'}" for n, ok in targets)
    if not healthy:
        walk.drop(where, None, f"targets: {status or 'none'} ({check}): no healthy target",
                  pkt, f"Dropped: the load balancer of {svc.ref} has no healthy target node.")
        return None
    node = healthy[hash_port("lb", src, l4.sport) % len(healthy)]
    new = Packet((replace(pkt[IPv4], dst=node.ip), replace(l4, dport=sp.node_port)))
    walk.hop(where, None, "dnat",
             f"the cloud load balancer of {svc.ref} (targets: {status}; {check}) picks "
             f"{node.name} and sends the connection to its NodePort {node.ip}:{sp.node_port}, "
             f"keeping the client's source address", new)
    walk.lb = (f"load balancer {svc.ref}", dst, l4.dport, node.ip, sp.node_port)
    return "enter_node", (node, new, f"the {c.subnet_of(node).name} subnet "
                                     f"{c.subnet_of(node).cidr}")


@handles("enter_node")
def enter_node(walk: Walk, node: Node, pkt: Packet, via: str) -> Step | None:
    """The VPC router delivers a packet from the internet to a node's eth0."""
    framed = Packet((Ethernet(mac_address(f"vpc-router/{node.subnet}"),
                              mac_address(f"{node.name}/eth0")),) + unframed(pkt))
    walk.hop(Location("network", walk.view.subnet_of(node).cidr), None, "carry",
             f"the VPC router delivers it across {via} to {node.name}", framed)
    walk.hop(Location("node", node.name, "eth0"), node.name, "receive",
             f"{node.name}'s eth0 receives the frame", framed)
    return "ip_input", (node, Packet(unframed(framed)))


def _egress_reply(walk: Walk) -> None:
    """The internet host's reply comes back through each translation in reverse."""
    steps, out = walk.egress
    ip, l4 = out[IPv4], out.layers[-1]
    pkt = Packet((IPv4(ip.dst, ip.src, ip.proto, 64, 60),
                  reply_l4(ip.proto, l4.dport, l4.sport)))
    reply = [Hop(1, Location("network", INTERNET), None, "reply",
                 f"the internet host {ip.dst} answers {ip.src}:{l4.sport}", pkt)]
    for where, old, oport, new, nport, who in reversed(steps):
        back = Packet((replace(pkt[IPv4], dst=old),
                       replace(pkt.layers[-1], dport=oport)))
        reply.append(Hop(len(reply) + 1, Location("network", where), None, "conntrack",
                         f"{who} maps the destination {new}:{nport} back to {old}:{oport}",
                         back, packet_changes(pkt, back)))
        pkt = back
    client = walk.src.ip or ""
    first = walk.hops[0].packet if walk.hops[0].action != "dns" else walk.hops[1].packet
    cport = first.layers[-1].sport
    node = walk.egress_node
    # the routers the request crossed in the lab (the pod's node) route the reply too
    ttl = DEFAULT_TTL - len(routed_by(walk.hops))
    if pkt[IPv4].dst != client or ttl != pkt[IPv4].ttl:
        back = Packet((replace(pkt[IPv4], dst=client, ttl=ttl),
                       replace(pkt.layers[-1], dport=cport)))
        reply.append(Hop(len(reply) + 1, Location("node", node), node, "conntrack",
                         f"conntrack on {node} undoes the masquerade: destination "
                         f"{pkt[IPv4].dst}:{pkt.layers[-1].dport} back to {client}:{cport}",
                         back, packet_changes(pkt, back)))
        pkt = back
    reply.append(Hop(len(reply) + 1, Location("pod", walk.src.text, "eth0") if walk.src.pod
                     else Location("node", node), node, "deliver",
                     f"{walk.src.text} receives the reply from {ip.dst}", pkt))
    walk.reply = reply
