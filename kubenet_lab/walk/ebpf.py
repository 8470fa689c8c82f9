"""Cilium's eBPF datapath (cilium bpf/bpf_lxc.c, bpf_overlay.c, bpf_host.c,
bpf/lib/local_delivery.h; facts sheet §3.5):

- ``bpf_lxc`` on a pod's lxc device (tc ingress) looks the destination up: a local
  endpoint gets the packet redirected straight into its lxc (``ipv4_local_delivery``:
  routed in eBPF, TTL - 1, MACs rewritten); a remote one is encapsulated in VXLAN by
  ``cilium_vxlan`` to the node that ipcache names, where ``bpf_overlay`` redirects it;
- ``bpf_host`` takes what the node routes to ``cilium_host``;
- **socket LB**, only with the kube-proxy replacement (``kubeProxyReplacement: true``):
  a connect() to a Service's ClusterIP:port is rewritten to a backend in the cgroup
  ``connect4`` program, before any packet exists, for pods and for the node's own
  processes (host-reachable services); the backend is chosen from the Service's
  endpoints as kube-proxy would (Documentation/network/kubernetes/kubeproxy-free.rst);
- **per-packet ClusterIP LB**, the Helm default ``kubeProxyReplacement: false``: Cilium
  "only enables per-packet in-cluster load-balancing of ClusterIP services" (same
  page): ``bpf_lxc`` DNATs a pod's packet to a ClusterIP at the pod's lxc device (its
  reply is reverse-translated there too), so kube-proxy's KUBE-SERVICES never sees it;
  the node's own connections, NodePorts and load-balancer IPs go through kube-proxy's
  rules as with any other plugin.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.cni import mac_address
from kubenet_lab.dataplane.cni.cilium import OVERHEAD, TUNNEL_DEVICE, TUNNEL_PORT, security_identity
from kubenet_lab.dataplane.kube_proxy import is_service_address
from kubenet_lab.model.packet import Ethernet, IPv4, Packet
from kubenet_lab.model.trace import Location
from kubenet_lab.walk.engine import Step, Walk, ip_part
from kubenet_lab.walk.eth0 import wire
from kubenet_lab.walk.netfilter import admit, resolve_service
from kubenet_lab.walk.registry import handles
from kubenet_lab.walk.vxlan import encapsulate

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.route import Route

__all__ = ["bpf_host", "bpf_lxc", "cilium_tunnel", "host_socket_lb", "lxc_to_pod",
           "socket_lb", "veth_to_lxc"]


def socket_lb(walk: Walk, node: str, src_ip: str, dst_ip: str) -> tuple[str, int] | None:
    """The backend ``(ip, port)`` the socket LB gives a connect() to ``dst_ip``, or None
    when ``dst_ip:port`` is no Service or the socket LB is off (no kube-proxy
    replacement)."""
    if not walk.dp.plugin.replaces_kube_proxy or not is_service_address(walk.view, dst_ip):
        return None
    return resolve_service(walk.view, walk.dp.runtime, node, src_ip, dst_ip, walk.port,
                           walk.protocol)


def host_socket_lb(walk: Walk, node: Node, dst_ip: str) -> tuple[str, str]:
    """A node's own connect() through the socket LB: the address it really connects to,
    and the words the first hop adds about it."""
    backend = socket_lb(walk, node.name, walk.src.ip or node.ip, dst_ip)
    if backend is None:
        return dst_ip, ""
    note = (f" (Cilium's socket LB rewrote the Service address {dst_ip}:{walk.port} to the "
            f"backend {backend[0]}:{backend[1]} in connect())")
    walk.port = backend[1]
    return backend[0], note


def _is_cluster_ip(walk: Walk, ip: str) -> bool:
    return any(svc.cluster_ip == ip for svc in walk.view.services)


def _per_packet_lb(walk: Walk, node: Node, pod: Pod, pkt: Packet, veth: str) -> Packet:
    """Without the kube-proxy replacement: bpf_lxc's ClusterIP DNAT of a pod's packet
    (``lb4_lookup_service`` on the lxc device); other packets pass unchanged."""
    ip = pkt[IPv4]
    if walk.dp.plugin.replaces_kube_proxy or walk.dnat is not None or not _is_cluster_ip(
            walk, ip.dst):
        return pkt
    backend = resolve_service(walk.view, walk.dp.runtime, node.name, ip.src, ip.dst,
                              walk.port, walk.protocol)
    if backend is None:
        return pkt
    l4 = pkt.layers[-1]
    ep_ip, ep_port = backend
    walk.dnat = (node.name, ip.dst, l4.dport, ep_ip, ep_port)
    walk.port = ep_port
    natted = Packet(pkt.layers[:-2] + (replace(ip, dst=ep_ip), replace(l4, dport=ep_port)))
    walk.hop(Location("node", node.name, veth), node.name, "dnat",
             f"bpf_lxc on {veth} (tc ingress) finds {ip.dst}:{l4.dport} in its service map "
             f"(Cilium's per-packet ClusterIP load balancing, on without the kube-proxy "
             f"replacement) and DNATs it to the backend {ep_ip}:{ep_port}; kube-proxy's "
             "KUBE-SERVICES never sees this packet", natted)
    return natted


def _tunnel_endpoint(walk: Walk, ip: str) -> Node | None:
    return next(iter(walk.view.pod_cidr_owners(ip)), None)


@handles("veth_to_lxc")
def veth_to_lxc(walk: Walk, pod: Pod, sender: str, dst_ip: str) -> Step | None:
    """The pod connects (the socket LB may pick a backend) and sends to its gateway,
    the router IP, whose ARP Cilium's eBPF answers with the lxc device's MAC."""
    node = walk.view.node(pod.node)
    gw = walk.dp.plugin.gateway(walk.view, pod)
    veth = walk.dp.veth_name(pod)
    mac = mac_address(f"{node.name}/{veth}")
    backend = socket_lb(walk, pod.node, pod.ip, dst_ip)
    lb = ""
    if backend is not None:
        lb = (f" (Cilium's socket LB rewrote the Service address {dst_ip}:{walk.port} to "
              f"the backend {backend[0]}:{backend[1]} in connect())")
        dst_ip, walk.port = backend
    pkt = walk.first_packet(pod.ip, dst_ip, Ethernet(mac_address(f"{pod.ref}/eth0"), mac))
    walk.hop(Location("pod", pod.ref, "eth0"), node.name, "send",
             f"{sender} sends to {dst_ip}{lb}: route default via {gw} dev eth0 mtu "
             f"{walk.dp.plugin.mtu}; ARP: Cilium's eBPF answers for {gw} with {veth}'s MAC "
             f"{mac}", pkt)
    return "bpf_lxc", (node, pod, pkt)


@handles("bpf_lxc")
def bpf_lxc(walk: Walk, node: Node, pod: Pod, pkt: Packet) -> Step | None:
    """bpf_lxc at tc ingress of the pod's lxc device."""
    veth = walk.dp.veth_name(pod)
    pkt = _per_packet_lb(walk, node, pod, pkt, veth)
    ip = pkt[IPv4]
    where = Location("node", node.name, veth)
    target = walk.dp.pod_of(ip.dst)
    if target is not None and target.node == node.name:
        walk.hop(where, node.name, "redirect",
                 f"bpf_lxc on {veth} (tc ingress) finds {ip.dst} in the endpoint map: a "
                 f"local pod, so it delivers it to {walk.dp.veth_name(target)} itself "
                 "(ipv4_local_delivery): no bridge and no kernel routing", pkt)
        return "lxc_to_pod", (node, target, pkt)
    remote = _tunnel_endpoint(walk, ip.dst)
    if remote is not None and remote.name != node.name:
        walk.hop(where, node.name, "redirect",
                 f"bpf_lxc on {veth} (tc ingress) finds {ip.dst} in the ipcache: it "
                 f"belongs to {remote.name}'s podCIDR, tunnel endpoint {remote.ip}", pkt)
        return "cilium_tunnel", (node, remote, pkt, security_identity(pod))
    walk.hop(where, node.name, "route",
             f"bpf_lxc on {veth} finds no endpoint or tunnel for {ip.dst}: it passes the "
             f"packet to {node.name}'s IP stack", pkt)
    return "ip_input", (node, Packet(pkt.layers[1:]))


@handles("lxc_to_pod")
def lxc_to_pod(walk: Walk, node: Node, target: Pod, pkt: Packet) -> Step | None:
    """``ipv4_local_delivery``: ``ipv4_l3`` routes the packet in eBPF, decrementing the
    TTL and rewriting the MACs (the node's router MAC to the pod's), then the frame goes
    out of the pod's lxc device."""
    veth = walk.dp.veth_name(target)
    if not admit(walk, node, target, pkt, veth):
        return None
    ip_layers = ip_part(pkt)
    ip = ip_layers[0]
    routed = (replace(ip, ttl=ip.ttl - 1),) + ip_layers[1:]
    framed = Packet((Ethernet(mac_address(f"{node.name}/{veth}"),
                              mac_address(f"{target.ref}/eth0")),) + routed)
    walk.hop(Location("node", node.name, veth), node.name, "veth",
             f"ipv4_local_delivery routes it in eBPF (TTL {ip.ttl} -> {ip.ttl - 1}, MACs "
             f"rewritten) and sends it out of {veth}, through the veth pair into pod "
             f"{target.ref}", framed)
    return "deliver_pod", (target, framed, Location("pod", target.ref, "eth0"), False)


@handles("cilium_tunnel")
def cilium_tunnel(walk: Walk, node: Node, remote: Node, pkt: Packet,
                  identity: int) -> Step | None:
    """cilium_vxlan to the remote node, where bpf_overlay redirects to the endpoint."""
    ip = pkt[IPv4]
    encapsulated, inner = encapsulate(walk, node, remote, pkt, TUNNEL_DEVICE, TUNNEL_PORT,
                                      identity)
    walk.hop(Location("node", node.name, TUNNEL_DEVICE), node.name, "encapsulate",
             f"cilium_vxlan wraps the frame in UDP to {remote.ip}:{TUNNEL_PORT}; the VNI "
             f"{identity} carries the sender's security identity; {OVERHEAD} bytes of "
             "overlay headers", encapsulated)
    wire(walk, node, remote, encapsulated,
         f"the outer packet goes to {remote.ip} on the VPC subnet")
    target = walk.dp.pod_of(ip.dst)
    where = Location("node", remote.name, TUNNEL_DEVICE)
    if target is None or target.node != remote.name:
        walk.hop(where, remote.name, "decapsulate",
                 "bpf_overlay on cilium_vxlan strips the outer headers and passes the "
                 f"packet to {remote.name}'s IP stack", Packet(inner))
        return "ip_input", (remote, Packet(inner[1:]))
    walk.hop(where, remote.name, "decapsulate",
             "bpf_overlay on cilium_vxlan strips the outer headers and finds "
             f"{ip.dst} in the endpoint map: redirect to {walk.dp.veth_name(target)}",
             Packet(inner))
    return "lxc_to_pod", (remote, target, Packet(inner))


@handles("bpf_host")
def bpf_host(walk: Walk, node: Node, pkt: Packet, route: Route, how: str) -> Step | None:
    """A packet the node routes to ``cilium_host``: bpf_host takes it from there."""
    ip = pkt[IPv4]
    target = walk.dp.pod_of(ip.dst)
    where = Location("node", node.name, route.dev)
    if target is not None and target.node == node.name:
        walk.hop(where, node.name, "redirect",
                 f"{how}; bpf_host on cilium_host redirects to the local endpoint "
                 f"{walk.dp.veth_name(target)}", pkt)
        return "lxc_to_pod", (node, target, pkt)
    remote = _tunnel_endpoint(walk, ip.dst)
    if remote is None or remote.name == node.name:
        walk.drop(where, node.name, f"{how}; no endpoint has {ip.dst}", pkt,
                  f"Dropped: no pod has {ip.dst} (Cilium's endpoint map has no entry).")
        return None
    walk.hop(where, node.name, "redirect",
             f"{how}; bpf_host on cilium_host sends it to the tunnel: {ip.dst} is in "
             f"{remote.name}'s podCIDR", pkt)
    return "cilium_tunnel", (node, remote, pkt, 1)  # identity 1: the host
