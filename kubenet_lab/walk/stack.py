"""The IP stack of pods and nodes: sending (over ``lo`` for a local address), a node
receiving and routing (TTL - 1), POSTROUTING and the choice of the device a packet
leaves by, and delivery to a listening socket or a refusal.

1. in the sender's network namespace, a route lookup picks the device and the next
   hop, and ARP gives the next hop's MAC (the CNI plugin's handler, ``pod_egress``);
2. a node routes a packet it receives (TTL - 1; only with ``net.ipv4.ip_forward = 1``,
   which kubeadm's preflight requires: at 0 the kernel drops what it would forward)
   after kube-proxy's PREROUTING rules,
   runs the POSTROUTING nat rules, and sends it out of a device: the handler the CNI
   plugin names for it (a bridge, a tunnel, a veth) or ``eth0`` to the VPC;
3. at the receiver, a socket bound to the port takes the packet, or the kernel refuses
   it (TCP RST, ICMP port unreachable for UDP, ABORT for SCTP).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kubenet_lab.controllers.endpointslice import listening_container
from kubenet_lab.dataplane.dns import resolv_conf, search_path
from kubenet_lab.model.node import NODE_PORTS
from kubenet_lab.model.packet import UDP, IPv4, Packet
from kubenet_lab.model.trace import Hop, Location
from kubenet_lab.walk.ebpf import host_socket_lb
from kubenet_lab.walk.engine import MAX_HOPS, Step, Walk, hash_port
from kubenet_lab.walk.netfilter import policy_allows, postrouting, service_nat
from kubenet_lab.walk.registry import handles

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.route import Route

__all__ = ["deliver_to_node", "deliver_to_pod", "dns_lookup", "from_node", "from_pod",
           "ip_input", "output", "refuse"]


def dns_lookup(walk: Walk, pod: Pod) -> None:
    """The lookup before the connection: the pod asks CoreDNS (cluster DNS)."""
    assert walk.dst.dns is not None
    asked, answered, address = walk.dst.dns
    view = walk.view
    dns_ip = view.service("kube-system/kube-dns").cluster_ip or ""
    sport = hash_port("dns", pod.ip, asked)
    query = Packet((IPv4(pod.ip, dns_ip, "UDP", 64, 28 + len(answered) + 6),
                    UDP(sport, 53, 8 + len(answered) + 6)))
    tried = ""
    if not asked.endswith(".") and asked.count(".") < 5:
        tried = (f"; {asked!r} has fewer than 5 dots (ndots:5), so the resolver tries the "
                 f"search domains in turn ({', '.join(search_path(view, pod.namespace))})")
    conf = resolv_conf(view, pod.ref).replace("\n", "; ")
    walk.hops.append(Hop(
        len(walk.hops) + 1, Location("pod", pod.ref, "eth0"), pod.node, "dns",
        f"before connecting, the pod resolves {asked!r} (resolv.conf: {conf}){tried}; "
        f"CoreDNS at {dns_ip} answers {answered} A {address}", query))


@handles("from_pod")
def from_pod(walk: Walk, pod: Pod) -> Step | None:
    """A pod sends: over ``lo`` to its own addresses, else out of its ``eth0``."""
    dst_ip = walk.dst.ip or ""
    sender = f"container {walk.src.container}" if walk.src.container else "the pod"
    if walk.dst.loopback or dst_ip == pod.ip or dst_ip.startswith("127."):
        src_ip = "127.0.0.1" if dst_ip.startswith("127.") else pod.ip
        pkt = walk.first_packet(src_ip, dst_ip, None)
        where = Location("pod", pod.ref, "lo")
        walk.hop(where, pod.node, "send",
                 f"{sender} sends to {dst_ip}: a local address, so the kernel routes it "
                 f"over lo inside the pod's network namespace (local table: "
                 f"{'127.0.0.0/8' if src_ip.startswith('127.') else pod.ip} dev lo); "
                 "no veth, no bridge",
                 pkt)
        return "deliver_pod", (pod, pkt, where, True)
    return walk.dp.plugin.pod_egress, (pod, sender, dst_ip)


@handles("from_node")
def from_node(walk: Walk, node: Node) -> Step | None:
    """A process on the node connects (kube-proxy's OUTPUT rules, then routing)."""
    dp = walk.dp
    dst_ip = walk.dst.ip or ""
    lb = ""
    if dp.plugin.replaces_kube_proxy:
        # Cilium's socket LB also serves the node's own processes (host-reachable
        # services): connect() gets the backend, no packet is ever DNATed.
        dst_ip, lb = host_socket_lb(walk, node, dst_ip)
    if walk.dst.loopback or dst_ip in dp.local_addresses(node):
        src_ip = walk.src.ip or ("127.0.0.1" if dst_ip.startswith("127.") else dst_ip)
        walk.first_ip = src_ip
        pkt = walk.first_packet(src_ip, dst_ip, None)
        where = Location("node", node.name, "lo")
        walk.hop(where, node.name, "send",
                 f"{node.name} sends to its own address {dst_ip}: over lo", pkt)
        natted = service_nat(walk, node, pkt, "OUTPUT")  # a NodePort on its own address
        if natted is None:
            return None
        if natted is not pkt:
            route = dp.route(node, natted[IPv4].dst)
            if route is not None:
                return "output", (node, natted, route, None)
        deliver_to_node(walk, node, pkt, where)
        return None
    route = dp.route(node, dst_ip)
    if route is None:
        walk.first_ip = walk.src.ip or node.ip
        pkt = walk.first_packet(walk.first_ip, dst_ip, None)
        walk.drop(Location("node", node.name), node.name,
                  f"no route to {dst_ip} in {node.name}'s routing table", pkt,
                  f"Dropped: {node.name} has no route to {dst_ip} (Network is unreachable).")
        return None
    src_ip = walk.src.ip or route.src or dp.device_address(node, route.dev)
    walk.first_ip = src_ip
    pkt = walk.first_packet(src_ip, dst_ip, None)
    walk.hop(Location("node", node.name), node.name, "send",
             f"a process on {node.name} connects to {dst_ip}{lb}: route {route}; the "
             f"kernel picks source address {src_ip}", pkt)
    natted = service_nat(walk, node, pkt, "OUTPUT")
    if natted is None:
        return None
    if natted is not pkt:  # DNAT: the kernel routes the packet again
        pkt = natted
        new_dst = pkt[IPv4].dst
        if new_dst in dp.local_addresses(node):
            deliver_to_node(walk, node, pkt, Location("node", node.name, "lo"))
            return None
        route = dp.route(node, new_dst)
        if route is None:  # pragma: no cover - endpoints are pods or nodes
            walk.drop(Location("node", node.name), node.name, f"no route to {new_dst}",
                      pkt, f"Dropped: {node.name} has no route to {new_dst}.")
            return None
    return "output", (node, pkt, route, None)


@handles("ip_input")
def ip_input(walk: Walk, node: Node, pkt: Packet) -> Step | None:
    """A packet (no Ethernet header) reaches the node's IP stack from outside."""
    natted = service_nat(walk, node, pkt, "PREROUTING")
    if natted is None:
        return None
    pkt = natted
    ip = pkt[IPv4]
    dp = walk.dp
    if ip.dst in dp.local_addresses(node):
        deliver_to_node(walk, node, pkt, Location(
            "node", node.name, dp.local_device(node, ip.dst)))
        return None
    route = dp.route(node, ip.dst)
    if route is not None and route.type != "unicast":
        walk.drop(Location("node", node.name), node.name,
                  f"route {route}: the kernel discards the packet", pkt,
                  f"Dropped: {node.name} has a {route.type} route for {ip.dst}: no pod "
                  "there has that address.")
        return None
    if route is None:
        walk.drop(Location("node", node.name), node.name,
                  f"no route to {ip.dst} in {node.name}'s routing table", pkt,
                  f"Dropped: {node.name} has no route to {ip.dst}.")
        return None
    if not dp.runtime.ip_forward(node.name):
        walk.drop(Location("node", node.name), node.name,
                  f"route {route}, but net.ipv4.ip_forward = 0 on {node.name}: the kernel "
                  "does not forward packets between interfaces and drops it", pkt,
                  f"Dropped: {node.name} does not forward packets (net.ipv4.ip_forward = "
                  f"0), so traffic of pods through it to {ip.dst} is lost; kubeadm's "
                  "preflight requires 1 (sysctl -w net.ipv4.ip_forward=1).")
        return None
    if ip.ttl <= 1 or len(walk.hops) >= MAX_HOPS:
        walk.drop(Location("node", node.name), node.name,
                  "the TTL reaches 0: the kernel drops the packet and sends ICMP time "
                  "exceeded (a routing loop?)", pkt,
                  f"Dropped: TTL exceeded on {node.name}: the routes form a loop.")
        return None
    forwarded = pkt.replace(ip, replace(ip, ttl=ip.ttl - 1))
    return "output", (node, forwarded, route, ip.ttl)


@handles("output")
def output(walk: Walk, node: Node, pkt: Packet, route: Route,
           forwarded_ttl: int | None) -> Step | None:
    """Route decided: POSTROUTING, then out of ``route.dev`` (the device's handler)."""
    if (walk.src.pod is not None and walk.src.pod.node == node.name
            and not policy_allows(walk, node, "egress", pkt, route.dev)):
        return None
    ip = pkt[IPv4]
    how = f"route {route}"
    if forwarded_ttl is not None:
        how += f" (forwarding: TTL {forwarded_ttl} -> {forwarded_ttl - 1})"
    pkt, how = postrouting(walk, node, pkt, route, how)
    device = walk.dp.plugin.device_handler(route.dev)
    if device is not None:
        return device, (node, pkt, route, how)
    if route.dev == "eth0":
        return "eth0_out", (node, pkt, route, how)
    walk.drop(Location("node", node.name, route.dev), node.name,
              f"{how}: {node.name} has no device {route.dev}", pkt,
              f"Dropped: {node.name} routes {ip.dst} to {route.dev}, which does not "
              "exist (Cannot find device).")
    return None


@handles("deliver_pod")
def deliver_to_pod(walk: Walk, pod: Pod, pkt: Packet, where: Location,
                   via_lo: bool = False) -> None:
    """A socket in the pod takes the packet, or the pod's kernel refuses it."""
    ip = pkt[IPv4]
    container = listening_container(walk.dp.view, pod, walk.port, walk.protocol)
    walk.destination_pod = pod.ref
    if container is None:
        refuse(walk, where, pod.node, pkt, f"pod {pod.ref}", pod)
        return
    walk.delivered = True
    walk.receiver = f"{pod.ref}/{container}"
    walk.source_seen = ip.src
    shared = (" (containers of a pod share one network namespace, so they reach each "
              "other over localhost)" if via_lo and walk.src.container
              and walk.src.container != container else "")
    walk.hop(where, pod.node, "deliver",
             f"container {container} of pod {pod.ref} listens on {walk.protocol} port "
             f"{walk.port}; the socket accepts the packet{shared}", pkt)
    nat = f"; the source was {walk.nat_note}" if walk.nat_note else (
        f"; the source address {ip.src} arrived unchanged (no NAT)")
    walk.reason = (f"Delivered to container {container} of pod {pod.ref} on "
                   f"{walk.protocol} port {walk.port}{nat}.")

def deliver_to_node(walk: Walk, node: Node, pkt: Packet, where: Location) -> None:
    """A process of the node (``NODE_PORTS``) takes the packet, or the kernel refuses it."""
    ip = pkt[IPv4]
    role = "control-plane" if node.control_plane else "worker"
    process = NODE_PORTS[role].get(walk.port) if walk.protocol == "TCP" else None
    if (process is None and walk.protocol == "UDP"
            and walk.port == walk.dp.plugin.tunnel_port):
        process = "the kernel's VXLAN socket"
    if process is None:
        refuse(walk, where, node.name, pkt, f"node {node.name}", None)
        return
    walk.delivered = True
    walk.receiver = f"{node.name}/{process}"
    walk.source_seen = ip.src
    walk.hop(where, node.name, "deliver",
             f"{process} on {node.name} listens on {walk.protocol} port {walk.port}", pkt)
    nat = f"; the source was {walk.nat_note}" if walk.nat_note else (
        f"; the source address {ip.src} arrived unchanged")
    walk.reason = f"Delivered to {process} on node {node.name}{nat}."

def refuse(walk: Walk, where: Location, node: str, pkt: Packet, what: str,
           pod: Pod | None) -> None:
    """Nothing listens: TCP RST, ICMP port unreachable (UDP) or SCTP ABORT."""
    answer = {"TCP": "answers with a TCP RST", "UDP": "answers with ICMP port unreachable",
              "SCTP": "answers with an SCTP ABORT"}[walk.protocol]
    crashing = ""
    if pod is not None:
        for c in pod.containers:
            if c.name in pod.crashing and any(
                p.container_port == walk.port and p.protocol == walk.protocol
                for p in c.ports
            ):
                crashing = (f" (container {c.name} declares it but crash-loops: another "
                            "container of the pod already holds that port)")
    walk.hop(where, node, "refuse",
             f"nothing in {what} listens on {walk.protocol} port {walk.port}{crashing}; the "
             f"kernel {answer}", pkt)
    walk.reason = (f"Connection refused: nothing in {what} listens on {walk.protocol} port "
                   f"{walk.port}{crashing}.")
