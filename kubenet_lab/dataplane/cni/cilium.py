"""Cilium 1.17 on kubeadm: an eBPF datapath, a VXLAN tunnel, beside kube-proxy by default.

As the Helm chart's defaults set up a node in tunnel routing mode (facts sheet §3.5;
docs.cilium.io "Routing", "Kubernetes without kube-proxy"; cilium bpf/bpf_lxc.c,
bpf_overlay.c, bpf_host.c, pkg/datapath/iptables/iptables.go):

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
- **kube-proxy stays by default.** The Helm value ``kubeProxyReplacement`` defaults to
  ``false`` and kubeadm installs its kube-proxy addon, so the KUBE-* chains are there and
  kube-proxy serves the node's own connections and NodePorts. With ``false`` Cilium
  "only enables per-packet in-cluster load-balancing of ClusterIP services"
  (Documentation/network/kubernetes/kubeproxy-free.rst): a pod's packet to a ClusterIP
  is DNATed by ``bpf_lxc`` on its lxc device, before kube-proxy's rules could see it.
- **kube-proxy replacement** is opt-in: ``kubeadm init --skip-phases=addon/kube-proxy``
  and ``--set kubeProxyReplacement=true`` (the lab: ``cni_config={"kubeProxyReplacement":
  True}``). Then there are no KUBE-* chains and the socket LB resolves every Service in
  connect(), for pods and for the node's own processes.
- **Cilium's own iptables chains** (iptables.go ``ciliumChains``, ``installRules``) are
  there either way: the feeders ``cilium-feeder: CILIUM_*`` from INPUT, FORWARD, OUTPUT
  (filter) and PREROUTING, OUTPUT, POSTROUTING (nat), the CILIUM_FORWARD accepts, the
  proxy-mark rules of CILIUM_INPUT/CILIUM_OUTPUT, and, with the default iptables
  masquerading (``bpf.masquerade=false``), CILIUM_POST_nat's ``cilium masquerade
  non-cluster`` MASQUERADE of the node's podCIDR and its SNAT rules to the router IP.
  ``cni_config={"bpf.masquerade": True}`` (which needs the kube-proxy replacement, as
  Cilium's eBPF masquerading needs its eBPF NodePort) leaves CILIUM_POST_nat empty and
  masquerades in eBPF. The mangle and raw chains (CILIUM_PRE_mangle, CILIUM_POST_mangle,
  CILIUM_PRE_raw, CILIUM_OUTPUT_raw) exist too; the lab shows only filter and nat.
- Cilium enforces NetworkPolicy.
- The lab uses Kubernetes host-scope IPAM (``ipam.mode=kubernetes``: the node's
  podCIDR from kubeadm) instead of Cilium's own cluster-pool default 10.0.0.0/8, which
  would overlap the lab's VPC; lesson 08 says so.
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.cni.base import LINK_MTU, CNIPlugin, Masquerade, mac_address
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

_FEEDER = '-m comment --comment "cilium-feeder: {0}" -j {0}'
#: installHostTrafficMarkRule: the IPsec marks 0xe00 and 0xd00, the overlay 0x400, proxy
#: 0xa00/0xe00 and 0x800/0xe00, the DNS proxy 0xf00; then MagicMarkHost 0xc00.
_HOST_MARK = ("-A CILIUM_OUTPUT -m mark ! --mark 0xe00/0xf00 -m mark ! --mark 0xd00/0xf00 "
              "-m mark ! --mark 0x400/0xf00 -m mark ! --mark 0xa00/0xe00 -m mark ! --mark "
              "0x800/0xe00 -m mark ! --mark 0xf00/0xf00 -m comment --comment "
              '"cilium: host->any mark as from host" -j MARK --set-xmark 0xc00/0xf00')


def security_identity(pod: Pod) -> int:
    """A stable stand-in for the numeric security identity Cilium allocates per set of
    labels (cluster-local identities start at 256)."""
    key = ",".join(f"{k}={v}" for k, v in sorted(pod.labels.items())) + f"@{pod.namespace}"
    return 256 + int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big") % 65000


def masquerade_rule(node: Node) -> str:
    """CILIUM_POST_nat's catch-all (installMasqueradeRules, tunnel mode: the exclusion
    CIDR is the node's own podCIDR, ``ipv4-native-routing-cidr`` being unset)."""
    return (f"-A CILIUM_POST_nat -s {node.pod_cidr} ! -d {node.pod_cidr} ! -o cilium_+ "
            '-m comment --comment "cilium masquerade non-cluster" -j MASQUERADE')


class Cilium(CNIPlugin):
    """Cilium 1.17, tunnel mode (VXLAN): beside kube-proxy unless
    ``cni_config={"kubeProxyReplacement": True}``; iptables masquerading unless
    ``"bpf.masquerade": True``."""

    name = "cilium"
    encapsulation = "VXLAN"
    overhead = OVERHEAD
    tunnel_port = TUNNEL_PORT
    enforces_network_policy = True
    icmp_time_exceeded = False
    #: The Helm values the lab models, by their Helm names.
    options = {"kubeProxyReplacement": (False, True), "bpf.masquerade": (False, True)}
    pod_egress = "veth_to_lxc"
    devices = {HOST_DEVICE: "bpf_host"}

    @property
    def replaces_kube_proxy(self) -> bool:  # type: ignore[override]
        """``kubeProxyReplacement: true`` (the Helm default is false)."""
        return bool(self.config.get("kubeProxyReplacement", False))

    @property
    def bpf_masquerade(self) -> bool:
        """``bpf.masquerade: true`` (the Helm default is false: iptables masquerading)."""
        return bool(self.config.get("bpf.masquerade", False))

    @property
    def summary(self) -> str:  # type: ignore[override]
        services = ("eBPF replaces kube-proxy" if self.replaces_kube_proxy else
                    "kube-proxy kept (eBPF does pods' ClusterIPs)")
        return f"eBPF on lxc* veths; VXLAN tunnel cilium_vxlan (UDP 8472); {services}"

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

    def head_routes(self, view: StoreView, node: Node) -> list[Route]:
        return [*self.base_routes(view, node),
                Route(self.router_ip(node), HOST_DEVICE, proto="kernel", scope="link")]

    def pod_cidr_route(self, view: StoreView, node: Node, other: Node) -> Route | None:
        """Every podCIDR, its own included, via cilium_host (with the tunnel's MTU for
        the others')."""
        rip = self.router_ip(node)
        mtu = None if other.name == node.name else self.mtu
        return Route(other.pod_cidr, HOST_DEVICE, via=rip, proto="kernel", src=rip, mtu=mtu)

    def local_addresses(self, view: StoreView, node: Node) -> set[str]:
        return {node.ip, self.router_ip(node)}

    def device_address(self, view: StoreView, node: Node, dev: str) -> str:
        return self.router_ip(node) if dev == HOST_DEVICE else node.ip

    def local_device(self, node: Node, ip: str) -> str:
        return "eth0" if ip == node.ip else HOST_DEVICE

    def pod_neighbours(self, view: StoreView, pod: Pod) -> tuple[tuple[str, str], ...]:
        node = view.node(pod.node)
        return ((self.gateway(view, pod), mac_address(f"{node.name}/{self.veth_name(pod)}")),)

    # ------------------------------------------------------------------ netfilter
    def nat_rules(self, view: StoreView, node: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The nat chains of iptables.go: the feeders, and CILIUM_POST_nat's rules when
        masquerading is iptables' (installMasqueradeRules, tunnel mode, IPv4)."""
        chains = tuple(f":{c} - [0:0]" for c in
                       ("CILIUM_OUTPUT_nat", "CILIUM_POST_nat", "CILIUM_PRE_nat"))
        rules = [f"-A PREROUTING {_FEEDER.format('CILIUM_PRE_nat')}",
                 f"-A OUTPUT {_FEEDER.format('CILIUM_OUTPUT_nat')}",
                 f"-A POSTROUTING {_FEEDER.format('CILIUM_POST_nat')}"]
        if not self.bpf_masquerade:
            rip, cidr = self.router_ip(node), node.pod_cidr
            rules += [
                masquerade_rule(node),
                '-A CILIUM_POST_nat -m mark --mark 0xa00/0xe00 -m comment --comment '
                '"exclude proxy return traffic from masquerade" -j ACCEPT',
                f"-A CILIUM_POST_nat ! -s {cidr} ! -d {cidr} -o cilium_host -m comment "
                f'--comment "cilium host->cluster masquerade" -j SNAT --to-source {rip}',
                "-A CILIUM_POST_nat -s 127.0.0.1/32 -o cilium_host -m comment --comment "
                f'"cilium host->cluster from 127.0.0.1 masquerade" -j SNAT --to-source {rip}',
                "-A CILIUM_POST_nat -o cilium_host -m mark --mark 0xf00/0xf00 -m conntrack "
                '--ctstate DNAT -m comment --comment "hairpin traffic that originated from '
                f'a local pod" -j SNAT --to-source {rip}',
            ]
        return chains, tuple(rules)

    def filter_rules(
        self, view: StoreView, node: Node
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The filter chains of iptables.go: feeders, installForwardChainRules
        (cilium_host, lxc+, cilium_net), installStaticProxyRules (the L7 proxy is on by
        default) and installHostTrafficMarkRule."""
        chains = tuple(f":{c} - [0:0]" for c in
                       ("CILIUM_FORWARD", "CILIUM_INPUT", "CILIUM_OUTPUT"))
        accept = '-m comment --comment "cilium: {}" -j ACCEPT'
        return chains, (
            f"-A INPUT {_FEEDER.format('CILIUM_INPUT')}",
            f"-A FORWARD {_FEEDER.format('CILIUM_FORWARD')}",
            f"-A OUTPUT {_FEEDER.format('CILIUM_OUTPUT')}",
            "-A CILIUM_FORWARD -o cilium_host "
            + accept.format("any->cluster on cilium_host forward accept"),
            "-A CILIUM_FORWARD -i cilium_host "
            + accept.format("cluster->any on cilium_host forward accept (nodeport)"),
            "-A CILIUM_FORWARD -i lxc+ " + accept.format("cluster->any on lxc+ forward accept"),
            "-A CILIUM_FORWARD -i cilium_net "
            + accept.format("cluster->any on cilium_net forward accept (nodeport)"),
            "-A CILIUM_INPUT -m mark --mark 0x200/0xf00 " + accept.format(
                "ACCEPT for proxy traffic"),
            "-A CILIUM_OUTPUT -m mark --mark 0xa00/0xe00 " + accept.format(
                "ACCEPT for proxy traffic"),
            "-A CILIUM_OUTPUT -m mark --mark 0x800/0xe00 " + accept.format(
                "ACCEPT for l7 proxy upstream traffic"),
            _HOST_MARK,
        )

    def masquerade(self, view: StoreView, node: Node, src: str, dst: str) -> Masquerade:
        """A pod's connection leaving the node by eth0 to an address outside the node's
        podCIDR: CILIUM_POST_nat's ``cilium masquerade non-cluster`` rule, or with
        ``bpf.masquerade`` the eBPF SNAT (traffic to other nodes' pods goes through
        cilium_vxlan, ``! -o cilium_+``, and is never masqueraded)."""
        cidr = ip_network(node.pod_cidr)
        if IPv4Address(src) not in cidr or IPv4Address(dst) in cidr:
            return None
        if self.bpf_masquerade:
            return ("eBPF SNAT (enable-bpf-masquerade): source outside "
                    f"ipv4-native-routing-cidr {node.pod_cidr}", "Cilium's BPF masquerade")
        return masquerade_rule(node), "Cilium's CILIUM_POST_nat (iptables masquerading)"
