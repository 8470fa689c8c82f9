"""Cilium: an eBPF datapath, a VXLAN tunnel by default, and no kube-proxy.

As Cilium sets up a node in its default tunnel routing mode (facts sheet §3.5;
docs.cilium.io "Routing", "Kubernetes without kube-proxy"; cilium bpf/bpf_lxc.c,
bpf_overlay.c, bpf_host.c):

- **Devices**: ``cilium_host`` and ``cilium_net`` (a veth pair; ``cilium_host`` holds
  the node's *router IP*, taken from its podCIDR: the lab uses the .1),
  ``cilium_vxlan`` (the tunnel device, UDP 8472), and per pod a veth whose host end is
  ``lxc`` + 12 hex digits. Inside the pod ``eth0`` holds the pod IP as a /32 with
  ``default via <router IP> dev eth0 mtu 1450`` and ``<router IP> dev eth0 scope link``.
- **Routes on the node**: every podCIDR, its own included, ``via <router IP> dev
  cilium_host``; the eBPF programs, not these routes, decide where a pod's packet goes.
- **Forwarding**: ``bpf_lxc`` on the pod's lxc device (tc ingress) looks the destination
  up: a local endpoint gets the packet redirected straight into its lxc (no bridge, no
  routing, TTL unchanged); a remote one is encapsulated in VXLAN by ``cilium_vxlan`` to
  the node that ipcache names, where ``bpf_overlay`` redirects it to the pod's lxc. The
  VNI carries the sender's security identity.
- **kube-proxy replacement**: Services are resolved at the socket (connect()) or at tc
  by eBPF maps; the node has no KUBE-* chains. Cilium enforces NetworkPolicy.
- The lab uses Kubernetes host-scope IPAM (``ipam.mode=kubernetes``: the node's
  podCIDR from kubeadm) instead of Cilium's own cluster-pool default 10.0.0.0/8, which
  would overlap the lab's VPC; lesson 07 says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.engines.cni.base import LINK_MTU, CNIPlugin, Masquerade, mac_address, sort_routes
from kubenet_lab.model.packet import UDP, VXLAN, Ethernet, IPv4, Packet
from kubenet_lab.model.route import Interface, Route
from kubenet_lab.model.trace import Location

if TYPE_CHECKING:
    from kubenet_lab.model.cluster import Cluster
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod

__all__ = ["Cilium", "security_identity", "socket_lb"]

HOST_DEVICE = "cilium_host"
NET_DEVICE = "cilium_net"
TUNNEL_DEVICE = "cilium_vxlan"
TUNNEL_PORT = 8472
OVERHEAD = 50


def socket_lb(cluster: Cluster, pod: Pod, dst_ip: str, port: int,
              protocol: str = "TCP") -> tuple[str, int] | None:
    """Cilium's socket-level load balancing (kube-proxy replacement). When a pod
    connects to a Service's ClusterIP:port, the cgroup ``connect4`` eBPF program
    rewrites the destination to a backend's address and port in connect(), before any
    packet exists, so the first packet already carries the pod's address (no DNAT on
    the way, no conntrack entry on the node). Returns ``(ip, port)``, or None when
    ``dst_ip:port`` is no Service. The backend is chosen from the Service's endpoints
    as kube-proxy would (``kube_proxy.resolve_service``).
    Source: cilium Documentation/network/kubernetes/kubeproxy-free.rst (socket LB)."""
    from kubenet_lab.engines.kube_proxy import is_service_address, resolve_service

    if not is_service_address(cluster, dst_ip):
        return None
    return resolve_service(cluster, pod.node, pod.ip, dst_ip, port, protocol)


def security_identity(pod: Pod) -> int:
    """A stable stand-in for the numeric security identity Cilium allocates per set of
    labels (cluster-local identities start at 256)."""
    key = ",".join(f"{k}={v}" for k, v in sorted(pod.labels.items())) + f"@{pod.namespace}"
    return 256 + int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big") % 65000


class Cilium(CNIPlugin):
    """Cilium, tunnel mode (VXLAN), kube-proxy replacement on."""

    name = "cilium"
    summary = "eBPF on lxc* veths; VXLAN tunnel cilium_vxlan (UDP 8472); replaces kube-proxy"
    encapsulation = "VXLAN"
    overhead = OVERHEAD
    tunnel_port = TUNNEL_PORT
    enforces_network_policy = True
    replaces_kube_proxy = True
    icmp_time_exceeded = False

    def veth_name(self, pod: Pod) -> str:
        return "lxc" + hashlib.sha256(f"{pod.namespace}/{pod.name}".encode()).hexdigest()[:12]

    def router_ip(self, node: Node) -> str:
        return str(ip_network(node.pod_cidr).network_address + 1)

    def gateway(self, cluster: Cluster, pod: Pod) -> str:
        return self.router_ip(cluster.node(pod.node))

    def node_interfaces(self, cluster: Cluster, node: Node) -> tuple[Interface, ...]:
        devices = [
            *self.base_interfaces(cluster, node),
            Interface(NET_DEVICE, "veth", mac_address(f"{node.name}/{NET_DEVICE}"), LINK_MTU,
                      peer=f"{node.name}:{HOST_DEVICE}"),
            Interface(HOST_DEVICE, "veth", mac_address(f"{node.name}/{HOST_DEVICE}"), LINK_MTU,
                      f"{self.router_ip(node)}/32", peer=f"{node.name}:{NET_DEVICE}"),
            Interface(TUNNEL_DEVICE, "vxlan", mac_address(f"{node.name}/{TUNNEL_DEVICE}"),
                      LINK_MTU),
        ]
        for pod in cluster.pods_on(node.name):
            veth = self.veth_name(pod)
            devices.append(Interface(veth, "veth", mac_address(f"{node.name}/{veth}"), LINK_MTU,
                                     peer=f"{pod.ref}:eth0"))
        return tuple(devices)

    def pod_routes(self, cluster: Cluster, pod: Pod) -> tuple[Route, ...]:
        gw = self.gateway(cluster, pod)
        return (Route("default", "eth0", via=gw, mtu=self.mtu), Route(gw, "eth0", scope="link"))

    def node_routes(self, cluster: Cluster, node: Node) -> tuple[Route, ...]:
        rip = self.router_ip(node)
        routes = [*self.base_routes(cluster, node),
                  Route(rip, HOST_DEVICE, proto="kernel", scope="link")]
        for other in cluster.nodes:
            mtu = None if other.name == node.name else self.mtu
            routes.append(Route(other.pod_cidr, HOST_DEVICE, via=rip, proto="kernel", src=rip,
                                mtu=mtu))
        return sort_routes(routes)

    def local_addresses(self, cluster: Cluster, node: Node) -> set[str]:
        return {node.ip, self.router_ip(node)}

    def device_address(self, cluster: Cluster, node: Node, dev: str) -> str:
        return self.router_ip(node) if dev == HOST_DEVICE else node.ip

    def local_device(self, node: Node, ip: str) -> str:
        return "eth0" if ip == node.ip else HOST_DEVICE

    def pod_neighbours(self, cluster: Cluster, pod: Pod) -> tuple[tuple[str, str], ...]:
        node = cluster.node(pod.node)
        return ((self.gateway(cluster, pod), mac_address(f"{node.name}/{self.veth_name(pod)}")),)

    def masquerade(self, cluster: Cluster, node: Node, src: str, dst: str) -> Masquerade:
        """BPF masquerading: pod traffic leaving the cluster network takes the node's IP."""
        cidr = ip_network(cluster.cluster_cidr)
        if IPv4Address(src) in cidr and IPv4Address(dst) not in cidr:
            return ("eBPF SNAT (enable-bpf-masquerade): source outside "
                    f"ipv4-native-routing-cidr {cluster.cluster_cidr}", "Cilium's BPF masquerade")
        return None

    # ------------------------------------------------------------------ datapath
    def _endpoint(self, walk: Any, ip: str) -> Pod | None:
        owner = walk.c.owner_of(ip)
        return walk.c.pod(owner[4:]) if owner and owner.startswith("Pod ") else None

    def send_from_pod(self, walk: Any, pod: Pod, sender: str, dst_ip: str) -> None:
        node = walk.c.node(pod.node)
        gw = self.gateway(walk.c, pod)
        veth = self.veth_name(pod)
        mac = mac_address(f"{node.name}/{veth}")
        backend = socket_lb(walk.c, pod, dst_ip, walk.port, walk.protocol)
        lb = ""
        if backend is not None:
            lb = (f" (Cilium's socket LB rewrote the Service address {dst_ip}:{walk.port} to "
                  f"the backend {backend[0]}:{backend[1]} in connect())")
            dst_ip, walk.port = backend
        pkt = walk.first_packet(pod.ip, dst_ip, Ethernet(mac_address(f"{pod.ref}/eth0"), mac))
        walk.hop(Location("pod", pod.ref, "eth0"), node.name, "send",
                 f"{sender} sends to {dst_ip}{lb}: route default via {gw} dev eth0 mtu "
                 f"{self.mtu}; ARP: Cilium's eBPF answers for {gw} with {veth}'s MAC {mac}", pkt)
        self.from_lxc(walk, node, pod, pkt)

    def from_lxc(self, walk: Any, node: Node, pod: Pod, pkt: Packet) -> None:
        """bpf_lxc at tc ingress of the pod's lxc device."""
        ip = pkt[IPv4]
        veth = self.veth_name(pod)
        where = Location("node", node.name, veth)
        target = self._endpoint(walk, ip.dst)
        if target is not None and target.node == node.name:
            walk.hop(where, node.name, "redirect",
                     f"bpf_lxc on {veth} (tc ingress) finds {ip.dst} in the endpoint map: a "
                     f"local pod, so it delivers it to {self.veth_name(target)} itself "
                     "(ipv4_local_delivery): no bridge and no kernel routing", pkt)
            self.into_pod(walk, node, target, pkt)
            return
        remote = self._tunnel_endpoint(walk, ip.dst)
        if remote is not None and remote.name != node.name:
            walk.hop(where, node.name, "redirect",
                     f"bpf_lxc on {veth} (tc ingress) finds {ip.dst} in the ipcache: it "
                     f"belongs to {remote.name}'s podCIDR, tunnel endpoint {remote.ip}", pkt)
            self.tunnel(walk, node, remote, pkt, security_identity(pod))
            return
        walk.hop(where, node.name, "route",
                 f"bpf_lxc on {veth} finds no endpoint or tunnel for {ip.dst}: it passes the "
                 f"packet to {node.name}'s IP stack", pkt)
        walk.ip_input(node, Packet(pkt.layers[1:]))

    def _tunnel_endpoint(self, walk: Any, ip: str) -> Node | None:
        addr = IPv4Address(ip)
        return next((n for n in walk.c.nodes if addr in ip_network(n.pod_cidr)), None)

    def into_pod(self, walk: Any, node: Node, target: Pod, pkt: Packet) -> None:
        """``ipv4_local_delivery`` (cilium bpf/lib/local_delivery.h): ``ipv4_l3`` routes
        the packet in eBPF, decrementing the TTL and rewriting the MACs (the node's
        router MAC to the pod's), then the frame goes out of the pod's lxc device."""
        from kubenet_lab.engines.datapath import _ip_part

        veth = self.veth_name(target)
        if not walk.admit(node, target, pkt, veth):
            return
        ip_layers = _ip_part(pkt)
        ip = ip_layers[0]
        routed = (replace(ip, ttl=ip.ttl - 1),) + ip_layers[1:]
        framed = Packet((Ethernet(mac_address(f"{node.name}/{veth}"),
                                  mac_address(f"{target.ref}/eth0")),) + routed)
        walk.hop(Location("node", node.name, veth), node.name, "veth",
                 f"ipv4_local_delivery routes it in eBPF (TTL {ip.ttl} -> {ip.ttl - 1}, MACs "
                 f"rewritten) and sends it out of {veth}, through the veth pair into pod "
                 f"{target.ref}", framed)
        walk.deliver_to_pod(target, framed, Location("pod", target.ref, "eth0"))

    def tunnel(self, walk: Any, node: Node, remote: Node, pkt: Packet, identity: int) -> None:
        from kubenet_lab.engines.datapath import _hash_port, _ip_part

        ip = pkt[IPv4]
        inner = (Ethernet(mac_address(f"{node.name}/{TUNNEL_DEVICE}"),
                          mac_address(f"{remote.name}/{TUNNEL_DEVICE}")),) + _ip_part(pkt)
        udp_len = 8 + 8 + 14 + ip.length
        outer = (IPv4(node.ip, remote.ip, "UDP", 64, 20 + udp_len),
                 UDP(_hash_port("vxlan", ip.src, ip.dst, walk.port), TUNNEL_PORT, udp_len),
                 VXLAN(identity))
        encapsulated = Packet(outer + inner)
        walk.hop(Location("node", node.name, TUNNEL_DEVICE), node.name, "encapsulate",
                 f"cilium_vxlan wraps the frame in UDP to {remote.ip}:{TUNNEL_PORT}; the VNI "
                 f"{identity} carries the sender's security identity; {OVERHEAD} bytes of "
                 "overlay headers", encapsulated)
        walk.wire(node, remote, encapsulated, Route(remote.ip, "eth0"),
                  f"the outer packet goes to {remote.ip} on the VPC subnet")
        target = self._endpoint(walk, ip.dst)
        where = Location("node", remote.name, TUNNEL_DEVICE)
        if target is None or target.node != remote.name:
            walk.hop(where, remote.name, "decapsulate",
                     "bpf_overlay on cilium_vxlan strips the outer headers and passes the "
                     f"packet to {remote.name}'s IP stack", Packet(inner))
            walk.ip_input(remote, Packet(inner[1:]))
            return
        walk.hop(where, remote.name, "decapsulate",
                 "bpf_overlay on cilium_vxlan strips the outer headers and finds "
                 f"{ip.dst} in the endpoint map: redirect to {self.veth_name(target)}",
                 Packet(inner))
        self.into_pod(walk, remote, target, Packet(inner))

    def output(self, walk: Any, node: Node, pkt: Packet, route: Route, how: str) -> bool:
        """A packet the node routes to ``cilium_host``: bpf_host takes it from there."""
        if route.dev != HOST_DEVICE:
            return False
        ip = pkt[IPv4]
        target = self._endpoint(walk, ip.dst)
        where = Location("node", node.name, HOST_DEVICE)
        if target is not None and target.node == node.name:
            walk.hop(where, node.name, "redirect",
                     f"{how}; bpf_host on cilium_host redirects to the local endpoint "
                     f"{self.veth_name(target)}", pkt)
            self.into_pod(walk, node, target, pkt)
            return True
        remote = self._tunnel_endpoint(walk, ip.dst)
        if remote is None or remote.name == node.name:
            walk.drop(where, node.name, f"{how}; no endpoint has {ip.dst}", pkt,
                      f"Dropped: no pod has {ip.dst} (Cilium's endpoint map has no entry).")
            return True
        walk.hop(where, node.name, "redirect",
                 f"{how}; bpf_host on cilium_host sends it to the tunnel: {ip.dst} is in "
                 f"{remote.name}'s podCIDR", pkt)
        self.tunnel(walk, node, remote, pkt, 1)  # identity 1: the host
        return True
