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
  would overlap the lab's VPC; lesson 08 says so.
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.cni.base import LINK_MTU, CNIPlugin, Masquerade, mac_address, sort_routes
from kubenet_lab.model.route import Interface, Route

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView

__all__ = ["HOST_DEVICE", "TUNNEL_DEVICE", "TUNNEL_PORT", "Cilium", "security_identity"]

HOST_DEVICE = "cilium_host"
NET_DEVICE = "cilium_net"
TUNNEL_DEVICE = "cilium_vxlan"
TUNNEL_PORT = 8472
OVERHEAD = 50


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
    pod_egress = "veth_to_lxc"
    devices = {HOST_DEVICE: "bpf_host"}

    def veth_name(self, pod: Pod) -> str:
        return "lxc" + hashlib.sha256(f"{pod.namespace}/{pod.name}".encode()).hexdigest()[:12]

    def router_ip(self, node: Node) -> str:
        return str(ip_network(node.pod_cidr).network_address + 1)

    def gateway(self, view: StoreView, pod: Pod) -> str:
        return self.router_ip(view.node(pod.node))

    def node_interfaces(self, view: StoreView, node: Node) -> tuple[Interface, ...]:
        devices = [
            *self.base_interfaces(view, node),
            Interface(NET_DEVICE, "veth", mac_address(f"{node.name}/{NET_DEVICE}"), LINK_MTU,
                      peer=f"{node.name}:{HOST_DEVICE}"),
            Interface(HOST_DEVICE, "veth", mac_address(f"{node.name}/{HOST_DEVICE}"), LINK_MTU,
                      f"{self.router_ip(node)}/32", peer=f"{node.name}:{NET_DEVICE}"),
            Interface(TUNNEL_DEVICE, "vxlan", mac_address(f"{node.name}/{TUNNEL_DEVICE}"),
                      LINK_MTU),
        ]
        for pod in view.pods_on(node.name):
            veth = self.veth_name(pod)
            devices.append(Interface(veth, "veth", mac_address(f"{node.name}/{veth}"), LINK_MTU,
                                     peer=f"{pod.ref}:eth0"))
        return tuple(devices)

    def pod_routes(self, view: StoreView, pod: Pod) -> tuple[Route, ...]:
        gw = self.gateway(view, pod)
        return (Route("default", "eth0", via=gw, mtu=self.mtu), Route(gw, "eth0", scope="link"))

    def node_routes(self, view: StoreView, node: Node) -> tuple[Route, ...]:
        rip = self.router_ip(node)
        routes = [*self.base_routes(view, node),
                  Route(rip, HOST_DEVICE, proto="kernel", scope="link")]
        for other in view.nodes:
            mtu = None if other.name == node.name else self.mtu
            routes.append(Route(other.pod_cidr, HOST_DEVICE, via=rip, proto="kernel", src=rip,
                                mtu=mtu))
        return sort_routes(routes)

    def local_addresses(self, view: StoreView, node: Node) -> set[str]:
        return {node.ip, self.router_ip(node)}

    def device_address(self, view: StoreView, node: Node, dev: str) -> str:
        return self.router_ip(node) if dev == HOST_DEVICE else node.ip

    def local_device(self, node: Node, ip: str) -> str:
        return "eth0" if ip == node.ip else HOST_DEVICE

    def pod_neighbours(self, view: StoreView, pod: Pod) -> tuple[tuple[str, str], ...]:
        node = view.node(pod.node)
        return ((self.gateway(view, pod), mac_address(f"{node.name}/{self.veth_name(pod)}")),)

    def masquerade(self, view: StoreView, node: Node, src: str, dst: str) -> Masquerade:
        """BPF masquerading: pod traffic leaving the cluster network takes the node's IP."""
        cidr = ip_network(view.cluster_cidr)
        if IPv4Address(src) in cidr and IPv4Address(dst) not in cidr:
            return ("eBPF SNAT (enable-bpf-masquerade): source outside "
                    f"ipv4-native-routing-cidr {view.cluster_cidr}", "Cilium's BPF masquerade")
        return None
