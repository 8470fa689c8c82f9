"""The datapath: walk the first packet of a connection hop by hop.

The walk uses the same pieces a Linux node does, in the same order:

1. in the sender's network namespace, a route lookup picks the device and the next
   hop, and ARP gives the next hop's MAC;
2. a veth pair carries the frame from a pod's ``eth0`` to its host end on the node;
3. the ``cni0`` bridge forwards by MAC (pod to pod on one node, no routing, TTL
   unchanged), or, for a frame addressed to the bridge itself, hands the packet to
   the node's IP stack;
4. the node routes it (TTL - 1), runs the POSTROUTING nat rules (flannel's
   masquerade), and sends it out of a device: ``cni0`` to a local pod, ``flannel.1``
   to another node's pods (VXLAN: the frame is wrapped in UDP to port 8472 between
   node IPs), or ``eth0`` to the VPC;
5. at the receiver, a socket bound to the port takes the packet, or the kernel refuses
   it (TCP RST, ICMP port unreachable for UDP, ABORT for SCTP).

Network policy: flannel enforces none, so with flannel alone policies never drop a
packet (the trace's reason says when one would have). With
``Cluster(network_policy="kube-network-policies")`` the agent's nftables chain on the
POSTROUTING hook (filter priority -5, so before flannel's masquerade) queues a
connection's first packet to userspace (NFQUEUE) for a verdict
(kube-network-policies pkg/networkpolicy/controller.go, ``syncNFTablesRules``). Bridged
pod-to-pod frames pass that hook too (br_netfilter, which kubeadm requires). The lab
checks the source pod's egress where the packet leaves the source node's stack and the
destination pod's ingress where it leaves the destination node through cni0 towards the
pod; without admin policies the agent queues exactly there (only packets from or to its
node's pods that policies select). With admin policies it queues every packet on every
node and decides egress and ingress at once; the verdict is the same, the lab still shows
the ingress part on the destination node. Traffic a pod sends to itself stays on ``lo``
inside the pod and never meets the hook.

Each ``Hop`` records the headers as the packet leaves that hop (as it arrives, for the
last one). Client source ports are derived from a hash of the connection, as Linux
picks them from a hash (RFC 6056); VXLAN source ports likewise from the inner flow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.engines import cni
from kubenet_lab.engines.kube_proxy import MASQ_MARK
from kubenet_lab.engines.routing import route_lookup
from kubenet_lab.engines.validation import check_port, check_protocol
from kubenet_lab.exceptions import ManifestError, NotFoundError
from kubenet_lab.model.cluster import NODE_PORTS
from kubenet_lab.model.packet import (
    SCTP,
    TCP,
    UDP,
    Ethernet,
    IPv4,
    Layer,
    Packet,
    packet_changes,
)
from kubenet_lab.model.trace import Hop, Location, Trace

if TYPE_CHECKING:
    from kubenet_lab.model.cluster import Cluster
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.route import Route

__all__ = ["Endpoint", "resolve_destination", "resolve_source", "trace"]

EPHEMERAL_PORTS = (32768, 60999)  # net.ipv4.ip_local_port_range default
MAX_HOPS = 64
LOCALHOST = ("localhost", "127.0.0.1")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A resolved source or destination: a pod (optionally one container), a node, or
    a bare address. ``ip`` is the address the packet carries (for a node source,
    None means "let the route choose")."""

    text: str
    ip: str | None
    pod: Pod | None = None
    container: str | None = None
    node: Node | None = None
    loopback: bool = False
    outside: bool = False
    dns: tuple[str, str, str] | None = None  # (name asked, name that answered, address)


def resolve_source(cluster: Cluster, src: str) -> Endpoint:
    """``"ns/pod"``, ``"ns/pod/container"``, a node name, or the IP of a pod or node."""
    if not isinstance(src, str) or not src:
        raise ManifestError("trace", "src", src, "is not a pod, node or address",
                            fix="use 'namespace/pod', 'namespace/pod/container' or a node name")
    parts = src.split("/")
    if len(parts) == 3:
        pod = cluster.pod(f"{parts[0]}/{parts[1]}")
        if parts[2] not in {c.name for c in pod.containers}:
            raise NotFoundError(
                f"Pod {pod.ref}", "spec.containers", parts[2], "is not a container of this pod",
                fix="containers are: " + ", ".join(c.name for c in pod.containers),
            )
        return Endpoint(src, pod.ip, pod=pod, container=parts[2])
    if len(parts) == 2:
        pod = cluster.pod(src)
        return Endpoint(src, pod.ip, pod=pod)
    if src == "internet":  # the default client on the internet (engines.cloud)
        from kubenet_lab.engines.cloud import INTERNET_CLIENT

        return Endpoint(src, INTERNET_CLIENT, outside=True)
    if _is_ip(src):
        owner = cluster.owner_of(src)
        if owner is None:
            addr = IPv4Address(src)
            for cidr, what in ((cluster.cluster_cidr, "pod"), (cluster.service_cidr, "service")):
                if addr in ip_network(cidr):
                    raise NotFoundError(
                        "trace", "src", src, f"is in the {what} network {cidr} but no pod or "
                        "node has it", fix="trace from a pod, a node, or an outside address",
                    )
            # an outside client: a host in the nodes' own subnet (see _Walk.from_outside)
            return Endpoint(src, src, outside=True)
        kind, name = owner.split(" ", 1)
        if kind not in ("Pod", "Node"):
            raise ManifestError("trace", "src", src, f"is the public address of {owner}, "
                                "which opens no connections of its own",
                                fix="trace from a pod, a node, 'internet' or an outside address")
        if kind == "Pod":
            pod = cluster.pod(name)
            return Endpoint(src, pod.ip, pod=pod)
        return Endpoint(src, src, node=cluster.node(name))
    if src in {n.name for n in cluster.nodes}:
        return Endpoint(src, None, node=cluster.node(src))
    pod = cluster.pod(src)
    return Endpoint(src, pod.ip, pod=pod)


def resolve_destination(cluster: Cluster, dst: str, port: int,
                        source: Endpoint | None = None) -> tuple[Endpoint, int]:
    """``"ns/pod"``, a node name, an IP, ``"ip:port"``, ``"localhost"`` or a DNS name
    (a Service name, resolved with the source pod's search path); returns the
    endpoint and the port (``"ip:port"`` overrides ``port``)."""
    if not isinstance(dst, str) or not dst:
        raise ManifestError("trace", "dst", dst, "is not a destination",
                            fix="use 'namespace/pod', a node name, an IP or 'ip:port'")
    host = dst
    if dst.count(":") == 1 and "/" not in dst:
        host, _, port_text = dst.partition(":")
        if not port_text.isdigit():
            raise ManifestError("trace", "dst", dst, "has a port that is not a number",
                                fix="write ip:port, e.g. 10.244.1.2:8080")
        port = int(port_text)
    if host in LOCALHOST:
        return Endpoint(dst, "127.0.0.1", loopback=True), port
    if _is_ip(host):
        return Endpoint(dst, host), port
    if "/" not in host and host in {n.name for n in cluster.nodes}:
        node = cluster.node(host)
        return Endpoint(dst, node.ip, node=node), port
    if "/" not in host and ("." in host or f"default/{host}" not in cluster._pods):
        return _dns_destination(cluster, dst, host, port, source)
    pod = cluster.pod(host)
    return Endpoint(dst, pod.ip, pod=pod), port


def _dns_destination(cluster: Cluster, dst: str, host: str, port: int,
                     source: Endpoint | None) -> tuple[Endpoint, int]:
    """A DNS name: resolved by CoreDNS with the source pod's resolv.conf."""
    from kubenet_lab.engines.dns import lookup

    if source is None or source.pod is None:
        raise NotFoundError(
            "trace", "dst", dst, "is a DNS name, and only pods use the cluster DNS (a node's "
            "resolv.conf points at the VPC resolver, which knows no cluster names)",
            fix="trace from a pod, or give the Service's cluster IP",
        )
    answered, records = lookup(cluster, host, "A", source.pod.ref)
    addresses = [r.value for r in records if r.type == "A"]
    if not addresses and records and records[0].type == "CNAME":
        raise NotFoundError(
            "trace", "dst", dst, f"is an ExternalName Service: CoreDNS answers with a CNAME "
            f"to {records[0].value}, a name outside the cluster that this lab cannot resolve",
            fix="trace to a Service with a selector, or to an address",
        )
    if not addresses:
        raise NotFoundError(
            "trace", "dst", dst, f"does not resolve from pod {source.pod.ref} (NXDOMAIN)",
            fix="check the Service name and namespace: <service>.<namespace> works from any "
            "namespace",
        )
    return Endpoint(dst, addresses[0], dns=(host, answered, addresses[0])), port


def _is_ip(text: str) -> bool:
    try:
        IPv4Address(text)
    except ValueError:
        return False
    return True


def _hash_port(*key: object) -> int:
    low, high = EPHEMERAL_PORTS
    digest = hashlib.sha256(repr(key).encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low + 1)


def _l4(protocol: str, sport: int, dport: int) -> tuple[Layer, int]:
    """The transport header of a connection's first packet and the IP total length."""
    if protocol == "TCP":
        return TCP(sport, dport, "S"), 60
    if protocol == "UDP":
        return UDP(sport, dport, 40), 60
    return SCTP(sport, dport), 52


def trace(cluster: Cluster, src: str, dst: str, *, port: int = 80, protocol: str = "TCP") -> Trace:
    """Walk one packet; see ``Cluster.trace``."""
    protocol = check_protocol("trace", "protocol", protocol)
    source = resolve_source(cluster, src)
    target, port = resolve_destination(cluster, dst, port, source)
    check_port("trace", "port", port)
    walk = _Walk(cluster, source, target, port, protocol)
    return walk.run()


class _Walk:
    """One packet's walk; collects hops and the outcome."""

    def __init__(self, cluster: Cluster, src: Endpoint, dst: Endpoint, port: int,
                 protocol: str) -> None:
        self.c = cluster
        self.src, self.dst = src, dst
        self.port, self.protocol = port, protocol
        self.hops: list[Hop] = []
        self.delivered = False
        self.reason = ""
        self.destination_pod: str | None = None
        self.receiver: str | None = None
        self.source_seen: str | None = None
        self.nat_note = ""
        self.plugin = cni.plugin(cluster)
        self.egress_checked = False
        self.orig_port = port
        self.service_masq = False  # the 0x4000 mark: KUBE-POSTROUTING masquerades
        self.dnat: tuple[str, str, int, str, int] | None = None  # node, VIP, port, ep, port
        self.client: tuple[str, int] | None = None  # source before KUBE-POSTROUTING
        self.reply: list[Hop] = []
        self.egress: Any = None  # engines.cloud: the translations on the way out
        self.egress_node: str | None = None
        self.lb: tuple[str, str, int, str, int] | None = None  # LB, its ip:port, node:port


    # ------------------------------------------------------------------ bookkeeping
    def hop(self, location: Location, node: str | None, action: str, detail: str,
            packet: Packet) -> None:
        prev = self.hops[-1].packet if self.hops and self.hops[-1].action != "dns" else None
        self.hops.append(Hop(len(self.hops) + 1, location, node, action, detail, packet,
                             packet_changes(prev, packet)))

    def drop(self, location: Location, node: str | None, detail: str, packet: Packet,
             reason: str) -> None:
        self.hop(location, node, "drop", detail, packet)
        self.reason = reason

    def run(self) -> Trace:
        first_ip = self.src.ip
        if self.dst.dns is not None and self.src.pod is not None:
            self.dns_lookup(self.src.pod)
        if self.src.pod is not None:
            self.from_pod(self.src.pod)
        elif self.src.outside:
            self.from_outside()
        else:
            assert self.src.node is not None
            first_ip = self.from_node(self.src.node)
        pkt = next(h.packet for h in self.hops if h.action != "dns")
        if self.delivered and self.dnat is not None:
            self.reply_path()
        if self.delivered and (self.egress is not None or self.lb is not None):
            from kubenet_lab.engines.cloud import cloud_reply

            cloud_reply(self)
        if self.delivered and not self.c.network_policy_enforced:
            self.reason += _unenforced_note(self.c, self.src, self.destination_pod,
                                            self.port, self.protocol)
        return Trace(
            src=self.src.text, dst=self.dst.text, port=self.orig_port, protocol=self.protocol,
            src_ip=first_ip or pkt.inner(IPv4).src, dst_ip=pkt.inner(IPv4).dst,
            delivered=self.delivered, destination_pod=self.destination_pod,
            source_ip_seen=self.source_seen, reason=self.reason, hops=tuple(self.hops),
            receiver=self.receiver, reply=tuple(self.reply),
        )

    def first_packet(self, src_ip: str, dst_ip: str, eth: Ethernet | None) -> Packet:
        sport = _hash_port(src_ip, dst_ip, self.port, self.protocol)
        l4, length = _l4(self.protocol, sport, self.port)
        ip = IPv4(src_ip, dst_ip, self.protocol, 64, length)
        return Packet(((eth,) if eth else ()) + (ip, l4))

    # ------------------------------------------------------------------ sources
    def from_pod(self, pod: Pod) -> None:
        dst_ip = self.dst.ip or ""
        sender = f"container {self.src.container}" if self.src.container else "the pod"
        if self.dst.loopback or dst_ip == pod.ip or dst_ip.startswith("127."):
            src_ip = "127.0.0.1" if dst_ip.startswith("127.") else pod.ip
            pkt = self.first_packet(src_ip, dst_ip, None)
            where = Location("pod", pod.ref, "lo")
            self.hop(where, pod.node, "send",
                     f"{sender} sends to {dst_ip}: a local address, so the kernel routes it "
                     f"over lo inside the pod's network namespace (local table: "
                     f"{'127.0.0.0/8' if src_ip.startswith('127.') else pod.ip} dev lo); "
                     "no veth, no bridge",
                     pkt)
            self.deliver_to_pod(pod, pkt, where, via_lo=True)
            return
        cni.plugin(self.c).send_from_pod(self, pod, sender, dst_ip)

    def from_node(self, node: Node) -> str:
        dst_ip = self.dst.ip or ""
        lb = ""
        if self.plugin.replaces_kube_proxy:
            # Cilium's socket LB also serves the node's own processes (host-reachable
            # services): connect() gets the backend, no packet is ever DNATed.
            from kubenet_lab.engines.kube_proxy import is_service_address, resolve_service

            if is_service_address(self.c, dst_ip):
                backend = resolve_service(self.c, node.name, self.src.ip or node.ip, dst_ip,
                                          self.port, self.protocol)
                if backend is not None:
                    lb = (f" (Cilium's socket LB rewrote the Service address {dst_ip}:"
                          f"{self.port} to the backend {backend[0]}:{backend[1]} in connect())")
                    dst_ip, self.port = backend
        if self.dst.loopback or dst_ip in self._local_addresses(node):
            src_ip = self.src.ip or ("127.0.0.1" if dst_ip.startswith("127.") else dst_ip)
            pkt = self.first_packet(src_ip, dst_ip, None)
            where = Location("node", node.name, "lo")
            self.hop(where, node.name, "send",
                     f"{node.name} sends to its own address {dst_ip}: over lo", pkt)
            natted = self.service_nat(node, pkt, "OUTPUT")  # a NodePort on its own address
            if natted is None:
                return src_ip
            if natted is not pkt:
                route = route_lookup(self._node_routes(node), natted[IPv4].dst)
                if route is not None:
                    self.output(node, natted, route)
                    return src_ip
            self.deliver_to_node(node, pkt, where)
            return src_ip
        route = route_lookup(self._node_routes(node), dst_ip)
        if route is None:
            pkt = self.first_packet(self.src.ip or node.ip, dst_ip, None)
            self.drop(Location("node", node.name), node.name,
                      f"no route to {dst_ip} in {node.name}'s routing table", pkt,
                      f"Dropped: {node.name} has no route to {dst_ip} (Network is unreachable).")
            return self.src.ip or node.ip
        src_ip = self.src.ip or route.src or self._device_address(node, route.dev)
        pkt = self.first_packet(src_ip, dst_ip, None)
        self.hop(Location("node", node.name), node.name, "send",
                 f"a process on {node.name} connects to {dst_ip}{lb}: route {route}; the "
                 f"kernel picks source address {src_ip}", pkt)
        natted = self.service_nat(node, pkt, "OUTPUT")
        if natted is None:
            return src_ip
        if natted is not pkt:  # DNAT: the kernel routes the packet again
            pkt = natted
            new_dst = pkt[IPv4].dst
            if new_dst in self._local_addresses(node):
                self.deliver_to_node(node, pkt, Location("node", node.name, "lo"))
                return src_ip
            route = route_lookup(self._node_routes(node), new_dst)
            if route is None:  # pragma: no cover - endpoints are pods or nodes
                self.drop(Location("node", node.name), node.name, f"no route to {new_dst}",
                          pkt, f"Dropped: {node.name} has no route to {new_dst}.")
                return src_ip
        self.output(node, pkt, route)
        return src_ip

    def from_outside(self) -> None:
        """An outside client: a host in the nodes' own VPC subnet, not part of the
        cluster. It reaches node addresses directly; cluster IPs and pod IPs mean
        nothing outside the nodes, so its router has no route for them."""
        src_ip, dst_ip = self.src.ip or "", self.dst.ip or ""
        from kubenet_lab.engines.cloud import from_internet, is_internet, public_owner

        owner = public_owner(self.c, dst_ip) if is_internet(self.c, src_ip) else None
        if owner is not None:
            from_internet(self, *owner)
            return
        if self.src.text == "internet" and not is_internet(self.c, dst_ip):
            pkt = self.first_packet(src_ip, dst_ip, None)
            self.drop(Location("network", "internet"), None,
                      f"the internet host {src_ip} sends to {dst_ip}, a private address: "
                      "the internet does not route private addresses", pkt,
                      f"Dropped: {dst_ip} is not reachable from the internet; use a public "
                      "address (a node's public IP or a load balancer's address).")
            return
        subnet = self.c.vpc.subnets[0]
        target = next((n for n in self.c.nodes if dst_ip in (n.ip, n.public_ip)), None)
        where = Location("network", subnet.cidr)
        if target is None:
            pkt = self.first_packet(src_ip, dst_ip, None)
            self.drop(where, None,
                      f"the outside client {src_ip} sends to {dst_ip}, but outside the nodes "
                      "only node addresses exist: the subnet's router has no route to it",
                      pkt, f"Dropped: {dst_ip} is not reachable from outside the cluster; an "
                      "outside client reaches a Service through a node IP and its NodePort.")
            return
        pkt = self.first_packet(src_ip, dst_ip, Ethernet(
            cni.mac_address(f"client/{src_ip}"), cni.mac_address(f"{target.name}/eth0")))
        self.hop(where, None, "send",
                 f"an outside client {src_ip} in subnet {subnet.cidr} sends to {dst_ip} "
                 f"({target.name}); ARP gives {target.name}'s eth0 MAC", pkt)
        self.hop(Location("node", target.name, "eth0"), target.name, "receive",
                 f"{target.name}'s eth0 receives the frame", pkt)
        self.ip_input(target, Packet(_unframed(pkt)))

    def dns_lookup(self, pod: Pod) -> None:
        """The lookup before the connection: the pod asks CoreDNS (cluster DNS)."""
        from kubenet_lab.engines.dns import resolv_conf, search_path

        assert self.dst.dns is not None
        asked, answered, address = self.dst.dns
        dns_ip = self.c.service("kube-system/kube-dns").cluster_ip or ""
        sport = _hash_port("dns", pod.ip, asked)
        query = Packet((IPv4(pod.ip, dns_ip, "UDP", 64, 28 + len(answered) + 6),
                        UDP(sport, 53, 8 + len(answered) + 6)))
        tried = ""
        if not asked.endswith(".") and asked.count(".") < 5:
            tried = (f"; {asked!r} has fewer than 5 dots (ndots:5), so the resolver tries the "
                     f"search domains in turn ({', '.join(search_path(self.c, pod.namespace))})")
        conf = resolv_conf(self.c, pod.ref).replace("\n", "; ")
        self.hops.append(Hop(
            len(self.hops) + 1, Location("pod", pod.ref, "eth0"), pod.node, "dns",
            f"before connecting, the pod resolves {asked!r} (resolv.conf: {conf}){tried}; "
            f"CoreDNS at {dns_ip} answers {answered} A {address}", query))

    # ------------------------------------------------------------------ node internals
    def _node_routes(self, node: Node) -> tuple[Route, ...]:
        return cni.node_routes(self.c, node)

    def _local_addresses(self, node: Node) -> set[str]:
        return self.plugin.local_addresses(self.c, node)

    def _device_address(self, node: Node, dev: str) -> str:
        return self.plugin.device_address(self.c, node, dev)

    def policy_allows(self, node: Node, direction: str, pkt: Packet, dev: str,
                      peer: Pod | None = None) -> bool:
        """The policy agent's POSTROUTING verdict for one direction; False if dropped."""
        if not self.c.network_policy_enforced:
            return True
        from kubenet_lab.engines.policy import Connection, connection_end, enforcer, evaluate

        ip = pkt[IPv4]
        if direction == "egress":
            if self.src.pod is None or self.egress_checked:
                return True
            self.egress_checked = True
            subject, other = self.src.pod, connection_end(self.c, ip.dst)
        else:
            assert peer is not None
            subject = peer
            other = (Connection(ip.src, None, self.src.node.name) if self.src.node is not None
                     else connection_end(self.c, ip.src))
        verdict = evaluate(self.c, direction, subject, other, self.port, self.protocol)
        if verdict.allowed and verdict.tier == "default":
            return True
        agent = self.c.network_policy or self.c.cni
        point = enforcer(self.c)
        assert point is not None
        hook = f"{point.hook} and checks {direction} of pod {subject.ref}"
        where = Location("node", node.name, dev)
        if verdict.allowed:
            self.hop(where, node.name, "policy", f"{hook}: accept. {verdict.reason}", pkt)
            return True
        self.drop(where, node.name, f"{hook}: drop. {verdict.reason}", pkt,
                  f"Dropped by network policy on {direction} at {node.name} ({agent}, "
                  f"{point.where}, before {dev}): {verdict.reason}")
        return False

    def admit(self, node: Node, peer: Pod, pkt: Packet, dev: str) -> bool:
        """Called by every plugin as the packet leaves ``node`` through ``dev`` towards
        pod ``peer`` (the bridge port, the cali or lxc veth): the policy checks that
        apply there (egress of a source pod on this node, ingress of ``peer``). False
        after a drop hop was recorded."""
        return self.policy_allows(node, "egress", pkt, dev) and self.policy_allows(
            node, "ingress", pkt, dev, peer)

    def _pod_at(self, node: str, ip: str) -> Pod | None:
        owner = self.c.owner_of(ip)
        if owner and owner.startswith("Pod "):
            pod = self.c.pod(owner[4:])
            if pod.node == node:
                return pod
        return None

    def ip_input(self, node: Node, pkt: Packet) -> None:
        """A packet (no Ethernet header) reaches the node's IP stack from outside."""
        natted = self.service_nat(node, pkt, "PREROUTING")
        if natted is None:
            return
        pkt = natted
        ip = pkt[IPv4]
        if ip.dst in self._local_addresses(node):
            self.deliver_to_node(node, pkt, Location(
                "node", node.name, self.plugin.local_device(node, ip.dst)))
            return
        route = route_lookup(self._node_routes(node), ip.dst)
        if route is not None and route.type != "unicast":
            self.drop(Location("node", node.name), node.name,
                      f"route {route}: the kernel discards the packet", pkt,
                      f"Dropped: {node.name} has a {route.type} route for {ip.dst}: no pod "
                      "there has that address.")
            return
        if route is None:
            self.drop(Location("node", node.name), node.name,
                      f"no route to {ip.dst} in {node.name}'s routing table", pkt,
                      f"Dropped: {node.name} has no route to {ip.dst}.")
            return
        if ip.ttl <= 1 or len(self.hops) >= MAX_HOPS:
            self.drop(Location("node", node.name), node.name,
                      "the TTL reaches 0: the kernel drops the packet and sends ICMP time "
                      "exceeded (a routing loop?)", pkt,
                      f"Dropped: TTL exceeded on {node.name}: the routes form a loop.")
            return
        forwarded = pkt.replace(ip, replace(ip, ttl=ip.ttl - 1))
        self.output(node, forwarded, route, forwarded_ttl=ip.ttl)

    def output(
        self, node: Node, pkt: Packet, route: Route, forwarded_ttl: int | None = None
    ) -> None:
        """Route decided: POSTROUTING, then out of ``route.dev``."""
        if (self.src.pod is not None and self.src.pod.node == node.name
                and not self.policy_allows(node, "egress", pkt, route.dev)):
            return
        ip = pkt[IPv4]
        how = f"route {route}"
        if forwarded_ttl is not None:
            how += f" (forwarding: TTL {forwarded_ttl} -> {forwarded_ttl - 1})"
        masq = None
        if self.service_masq:
            self.service_masq = False
            new_src = self._device_address(node, route.dev)
            l4 = pkt.layers[-1]
            self.client = (ip.src, l4.sport)
            new_l4 = replace(l4, sport=_hash_port("masq", new_src, ip.dst, self.port))
            pkt = Packet(pkt.layers[:-2] + (replace(ip, src=new_src), new_l4))
            how += (f"; POSTROUTING: KUBE-POSTROUTING sees the mark {MASQ_MARK} and "
                    f"masquerades the source to {new_src} (the address of {route.dev}; "
                    "--random-fully picks the port)")
            self.nat_note = (f"masqueraded to {new_src} by {node.name} (kube-proxy's "
                             "KUBE-POSTROUTING)")
            ip = pkt[IPv4]
        else:
            masq = self.plugin.masquerade(self.c, node, ip.src, ip.dst)
            if masq is None:  # ip-masq-agent's chain comes after the plugin's (appended later)
                from kubenet_lab.engines.cloud import ip_masq_masquerade

                masq = ip_masq_masquerade(self.c, node, ip.src, ip.dst)
        if masq is not None:
            rule, who = masq
            new_src = self._device_address(node, route.dev)
            l4 = pkt.layers[-1]
            new_l4 = replace(l4, sport=_hash_port("masq", new_src, ip.dst, self.port))
            pkt = Packet(pkt.layers[:-2] + (replace(ip, src=new_src), new_l4))
            how += (f"; POSTROUTING: {self.plugin.name}'s rule `{rule}` masquerades the "
                    f"source to {new_src} (the address of {route.dev})")
            self.nat_note = f"masqueraded to {new_src} by {node.name} ({who})"
            ip = pkt[IPv4]
        if self.plugin.output(self, node, pkt, route, how):
            return
        if route.dev == "eth0":
            self.eth0_out(node, pkt, route, how)
        else:
            self.drop(Location("node", node.name, route.dev), node.name,
                      f"{how}: {node.name} has no device {route.dev}", pkt,
                      f"Dropped: {node.name} routes {ip.dst} to {route.dev}, which does not "
                      "exist (Cannot find device).")

    def eth0_out(self, node: Node, pkt: Packet, route: Route, how: str) -> None:
        ip = pkt[IPv4]
        subnet = self.c.subnet_of(node)
        neighbour = route.via or ip.dst
        if neighbour == subnet.router:
            target = next((n for n in self.c.nodes if n.ip == ip.dst), None)
            if target is None:
                from kubenet_lab.engines.cloud import leave_vpc

                self.egress_node = node.name
                leave_vpc(self, node, pkt, how)
                return
            self.wire(node, target, pkt, route, how)
            self.ip_input(target, Packet(_unframed(pkt)))
            return
        target = next((n for n in self.c.nodes if n.ip == neighbour), None)
        if target is None:
            self.drop(Location("node", node.name, "eth0"), node.name,
                      f"{how}; ARP for {neighbour} on eth0 gets no answer", pkt,
                      f"Dropped: nothing in the VPC subnet answers for {neighbour}.")
            return
        self.wire(node, target, pkt, route, how)
        self.ip_input(target, Packet(_unframed(pkt)))

    def wire(self, node: Node, remote: Node, pkt: Packet, route: Route, how: str) -> None:
        """Out of ``node``'s eth0, across the VPC subnet, into ``remote``'s eth0."""
        framed = Packet((Ethernet(cni.mac_address(f"{node.name}/eth0"),
                                  cni.mac_address(f"{remote.name}/eth0")),)
                        + _unframed(pkt))
        self.hop(Location("node", node.name, "eth0"), node.name, "transmit",
                 f"{how}; ARP: {remote.ip} ({remote.name}) is at {framed[Ethernet].dst}",
                 framed)
        subnet = self.c.subnet_of(node)
        self.hop(Location("network", subnet.cidr), None, "carry",
                 f"the VPC subnet {subnet.cidr} carries the frame from {node.name} to "
                 f"{remote.name}; it only ever sees node addresses", framed)
        self.hop(Location("node", remote.name, "eth0"), remote.name, "receive",
                 f"{remote.name}'s eth0 receives the frame", framed)

    # ------------------------------------------------------------------ kube-proxy
    def service_nat(self, node: Node, pkt: Packet, hook: str) -> Packet | None:
        """kube-proxy's rules at the nat ``PREROUTING``/``OUTPUT`` hook (and the filter
        rules that REJECT/DROP Service traffic). Returns the packet (DNATed or not),
        or None when the rules refused or dropped it (the trace is finished)."""
        from kubenet_lab.engines.kube_proxy import nat_walk

        if self.dnat is not None:  # conntrack: the connection is already translated
            return pkt
        if self.plugin.replaces_kube_proxy:  # no KUBE-* rules: Services were resolved
            return pkt                        # in connect() (see cni.cilium.socket_lb)
        ip = pkt[IPv4]
        l4 = pkt.layers[-1]
        decision = nat_walk(self.c, node.name, hook, ip.src, ip.dst, l4.dport, self.protocol,
                            self._local_addresses(node))
        if decision.verdict == "none" and len(decision.steps) <= 1:
            return pkt
        where = Location("node", node.name)
        last = len(decision.steps) - 1
        for i, step in enumerate(decision.steps):
            if i == last and decision.verdict == "dnat":
                ep_ip, ep_port = decision.endpoint[0], decision.endpoint[1]
                new_l4 = replace(l4, dport=ep_port)
                pkt = Packet(pkt.layers[:-2] + (replace(ip, dst=ep_ip), new_l4))
                self.dnat = (node.name, ip.dst, l4.dport, ep_ip, ep_port)
                self.port = ep_port
                target = decision.endpoint[3]
                self.hop(where, node.name, "dnat",
                         f"{step.table} {step.chain}: `{step.rule}`: DNAT to {ep_ip}:{ep_port} "
                         f"({target}); conntrack remembers the translation for the replies",
                         pkt)
            elif i == last and decision.verdict in ("reject", "drop"):
                service = decision.service
                if decision.verdict == "reject":
                    answer = {"TCP": "ICMP port unreachable, which the client's TCP reports "
                              "as connection refused", "UDP": "ICMP port unreachable",
                              "SCTP": "ICMP port unreachable"}[self.protocol]
                    self.hop(where, node.name, "refuse",
                             f"{step.table} {step.chain}: `{step.rule}`: the Service has no "
                             f"ready endpoints, so kube-proxy rejects: {answer}", pkt)
                    self.reason = (f"Connection refused: Service port {service} has no ready "
                                   "endpoints (kube-proxy's filter rule REJECTs it).")
                else:
                    self.drop(where, node.name,
                              f"{step.table} {step.chain}: `{step.rule}`: the traffic policy "
                              f"is Local and {node.name} runs no endpoint of {service}", pkt,
                              f"Dropped: {service} has no local endpoints on {node.name} "
                              "(traffic policy Local); kube-proxy drops the packet.")
                return None
            else:
                mark = (f" (KUBE-MARK-MASQ sets the mark {MASQ_MARK}: masquerade on the way "
                        "out)" if step.rule.endswith("-j KUBE-MARK-MASQ") else "")
                self.hop(where, node.name, "iptables",
                         f"{step.table} {step.chain}: `{step.rule}`{mark}", pkt)
        if decision.masquerade:
            self.service_masq = True
        if decision.verdict != "dnat":  # pragma: no cover - a walk ends in DNAT or a filter
            return pkt
        return pkt

    def reply_path(self) -> None:
        """The first reply packet: conntrack undoes the DNAT (and the masquerade) on
        the node that translated the request, so the client sees the address it called."""
        assert self.dnat is not None
        nat_node, vip, vport, ep_ip, ep_port = self.dnat
        seen = self.source_seen or ""
        request = self.hops[-1].packet
        sport = request.layers[-1].sport
        l4 = _reply_l4(self.protocol, ep_port, sport)
        back = Packet((IPv4(ep_ip, seen, self.protocol, 64, 60), l4))
        where = (Location("pod", self.destination_pod, "eth0") if self.destination_pod
                 else Location("node", self.hops[-1].location.name))
        self.reply.append(Hop(1, where, self.hops[-1].node, "reply",
                              f"the endpoint answers from {ep_ip}:{ep_port} to {seen}:{sport}",
                              back))
        client_ip, client_port = self.client or (seen, sport)
        undone = Packet((IPv4(vip, client_ip, self.protocol, 63, 60),
                         _reply_l4(self.protocol, vport, client_port)))
        masq = (f" and the masquerade (destination {seen}:{sport} back to "
                f"{client_ip}:{client_port})" if self.client else "")
        self.reply.append(Hop(2, Location("node", nat_node), nat_node, "conntrack",
                              f"conntrack on {nat_node} matches the reply to the connection "
                              f"it translated and undoes the DNAT (source {ep_ip}:{ep_port} "
                              f"back to {vip}:{vport}){masq}", undone,
                              packet_changes(back, undone)))
        self.reply.append(Hop(3, Location("node", nat_node), None, "deliver",
                              f"the client receives a reply from {vip}:{vport}, the address "
                              "it connected to", undone))

    # ------------------------------------------------------------------ receivers
    def deliver_to_pod(self, pod: Pod, pkt: Packet, where: Location, via_lo: bool = False) -> None:
        ip = pkt[IPv4]
        container = pod.listener(self.port, self.protocol)
        self.destination_pod = pod.ref
        if container is None:
            self.refuse(where, pod.node, pkt, f"pod {pod.ref}", pod)
            return
        self.delivered = True
        self.receiver = f"{pod.ref}/{container}"
        self.source_seen = ip.src
        shared = (" (containers of a pod share one network namespace, so they reach each "
                  "other over localhost)" if via_lo and self.src.container
                  and self.src.container != container else "")
        self.hop(where, pod.node, "deliver",
                 f"container {container} of pod {pod.ref} listens on {self.protocol} port "
                 f"{self.port}; the socket accepts the packet{shared}", pkt)
        nat = f"; the source was {self.nat_note}" if self.nat_note else (
            f"; the source address {ip.src} arrived unchanged (no NAT)")
        self.reason = (f"Delivered to container {container} of pod {pod.ref} on "
                       f"{self.protocol} port {self.port}{nat}.")

    def deliver_to_node(self, node: Node, pkt: Packet, where: Location) -> None:
        ip = pkt[IPv4]
        role = "control-plane" if node.control_plane else "worker"
        process = NODE_PORTS[role].get(self.port) if self.protocol == "TCP" else None
        if (process is None and self.protocol == "UDP"
                and self.port == self.plugin.tunnel_port):
            process = "the kernel's VXLAN socket"
        if process is None:
            self.refuse(where, node.name, pkt, f"node {node.name}", None)
            return
        self.delivered = True
        self.receiver = f"{node.name}/{process}"
        self.source_seen = ip.src
        self.hop(where, node.name, "deliver",
                 f"{process} on {node.name} listens on {self.protocol} port {self.port}", pkt)
        nat = f"; the source was {self.nat_note}" if self.nat_note else (
            f"; the source address {ip.src} arrived unchanged")
        self.reason = f"Delivered to {process} on node {node.name}{nat}."

    def refuse(self, where: Location, node: str, pkt: Packet, what: str, pod: Pod | None) -> None:
        answer = {"TCP": "answers with a TCP RST", "UDP": "answers with ICMP port unreachable",
                  "SCTP": "answers with an SCTP ABORT"}[self.protocol]
        crashing = ""
        if pod is not None:
            for c in pod.containers:
                if c.name in pod.crashing and any(
                    p.container_port == self.port and p.protocol == self.protocol
                    for p in c.ports
                ):
                    crashing = (f" (container {c.name} declares it but crash-loops: another "
                                "container of the pod already holds that port)")
        self.hop(where, node, "refuse",
                 f"nothing in {what} listens on {self.protocol} port {self.port}{crashing}; the "
                 f"kernel {answer}", pkt)
        self.reason = (f"Connection refused: nothing in {what} listens on {self.protocol} port "
                       f"{self.port}{crashing}.")


def _unenforced_note(cluster: Cluster, src: Endpoint, dst_pod: str | None, port: int,
                     protocol: str) -> str:
    """For a delivered trace on a cluster that enforces no policy: say which policies
    would have dropped it."""
    if not (cluster.network_policies or cluster.admin_network_policies) or (
        src.pod is None or dst_pod is None or src.pod.ref == dst_pod
    ):
        return ""
    from kubenet_lab.engines.policy import explain

    why = explain(cluster, src.pod.ref, dst_pod, port, protocol)
    if why.allowed:
        return ""
    names = sorted({n for v in (why.egress, why.ingress) if v and not v.allowed
                    for n in v.policies})
    return (f" Policies would deny it ({', '.join(names)}), but {cluster.cni} does not "
            "enforce network policies: the API accepted them and they have no effect.")


def _reply_l4(protocol: str, sport: int, dport: int) -> Layer:
    if protocol == "TCP":
        return TCP(sport, dport, "S.")
    if protocol == "UDP":
        return UDP(sport, dport, 40)
    return SCTP(sport, dport)


def _ip_part(pkt: Packet) -> tuple[Layer, ...]:
    """The layers from the innermost IPv4 header on (drops any Ethernet framing)."""
    layers = pkt.layers
    for i in range(len(layers) - 1, -1, -1):
        if isinstance(layers[i], IPv4):
            return layers[i:]
    return layers


def _unframed(pkt: Packet) -> tuple[Layer, ...]:
    """The layers without the outermost Ethernet header, if there is one."""
    layers = pkt.layers
    return layers[1:] if layers and isinstance(layers[0], Ethernet) else layers
