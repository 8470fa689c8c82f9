"""The reference ``bridge`` plugin with host routes, as in Kubernetes the Hard Way.

Each node runs the bridge plugin with host-local IPAM on its podCIDR (KTHW's
``/etc/cni/net.d/10-bridge.conf``: ``"type": "bridge"``, ``"isGateway": true``,
``"ipam": {"type": "host-local", "ranges": [[{"subnet": POD_CIDR}]],
"routes": [{"dst": "0.0.0.0/0"}]}``). Nothing connects the nodes' pod networks: the
administrator adds, on every node, one route per other node,
``ip route add <podCIDR> via <node IP>`` (KTHW "Provisioning Pod Network Routes"), so
packets between nodes travel unencapsulated over the VPC subnet, with the full 1500
MTU. This needs the nodes on one L2 subnet (or a cloud route table doing the same).

Two differences from KTHW, both told in lesson 02: KTHW names its bridge ``cnio0`` (the
lab keeps the plugin's default ``cni0``), and KTHW sets ``"ipMasq": true``, which
masquerades pod traffic to anything outside the node's own podCIDR, other nodes' pods
included (containernetworking/plugins pkg/ip/ipmasq_linux.go ``SetupIPMasq``: the
chain ACCEPTs ``-d <podCIDR>`` and MASQUERADEs ``! -d 224.0.0.0/4``). The lab's default
is ``ipMasq: false``; ``Cluster(cni="bridge", cni_config={"ipMasq": True})`` reproduces
KTHW and breaks the "no NAT between pods" rule.

KTHW's configuration does not set ``hairpinMode`` either, and the plugin's default is
false (plugins/main/bridge/bridge.go): the veth ports are not in hairpin mode, so a
pod that connects to a Service whose chosen endpoint is itself gets no answer (the
bridge does not send the frame back out of the port it came in on).
``cni_config={"hairpinMode": True}`` turns it on, as flannel's configuration does.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.cni.base import BridgeFamily, Masquerade, sandbox_id
from kubenet_lab.model.route import Interface, Route

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView

__all__ = ["NETWORK_NAME", "Bridge", "cni_chain", "cni_comment"]

#: The network's ``name`` in KTHW's ``10-bridge.conf``.
NETWORK_NAME = "bridge"


def cni_chain(pod: Pod) -> str:
    """The per-container chain of ``ipMasq``: containernetworking/plugins
    pkg/utils/utils.go ``FormatChainName(name, id)`` =
    ``("CNI-" + hex(sha512(name + id)))[:28]``, the network's name and the sandbox's
    64-hex container id (``sandbox_id``): ``CNI-`` and 24 hex digits."""
    digest = hashlib.sha512((NETWORK_NAME + sandbox_id(pod)).encode()).hexdigest()
    return ("CNI-" + digest)[:28]


def cni_comment(pod: Pod) -> str:
    """utils.go ``FormatComment(name, id)``: ``name: %q id: %q``, as iptables-save prints
    the comment (its quotes escaped)."""
    return (f'-m comment --comment "name: \\"{NETWORK_NAME}\\" '
            f'id: \\"{sandbox_id(pod)}\\""')


class Bridge(BridgeFamily):
    """bridge + host-local on each node; static routes ``<podCIDR> via <node IP>``."""

    name = "bridge"
    summary = "bridge cni0 on each node; static routes podCIDR via node IP (no overlay)"
    options = {"ipMasq": (False, True), "hairpinMode": (False, True)}

    @property
    def ip_masq(self) -> bool:
        return bool(self.config.get("ipMasq", False))

    @property
    def hairpin(self) -> bool:
        """``hairpinMode``, false unless set (bridge.go ``NetConf.HairpinMode``; KTHW's
        ``10-bridge.conf`` does not set it): see ``BridgeFamily.hairpin``."""
        return bool(self.config.get("hairpinMode", False))

    def head_routes(self, view: StoreView, node: Node) -> list[Route]:
        return [*self.base_routes(view, node), *self.local_route(view, node)]

    def pod_cidr_route(self, view: StoreView, node: Node, other: Node) -> Route | None:
        return None if other.name == node.name else Route(other.pod_cidr, "eth0", via=other.ip)

    def node_interfaces(self, view: StoreView, node: Node) -> tuple[Interface, ...]:
        return tuple(self.base_interfaces(view, node) + self.bridge_interfaces(view, node))

    def masquerade(self, view: StoreView, node: Node, src: str, dst: str) -> Masquerade:
        """With ``ipMasq``: masquerade a pod's traffic to anything outside its podCIDR."""
        from ipaddress import IPv4Address, ip_network

        if not self.ip_masq:
            return None
        owner = view.owner_of(src)
        if not owner or not owner.startswith("Pod "):
            return None
        pod = view.pod(owner[4:])
        if pod.node != node.name or IPv4Address(dst) in ip_network(node.pod_cidr):
            return None
        if IPv4Address(dst) in ip_network("224.0.0.0/4"):
            return None
        return (f"-A {cni_chain(pod)} ! -d 224.0.0.0/4 {cni_comment(pod)} -j MASQUERADE",
                "the bridge plugin's ipMasq chain")

    def nat_rules(self, view: StoreView, node: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if not self.ip_masq:
            return (), ()
        chains, rules = [], []
        for pod in view.pods_on(node.name):
            chain = cni_chain(pod)
            comment = cni_comment(pod)
            chains.append(f":{chain} - [0:0]")
            rules.append(f"-A POSTROUTING -s {pod.ip}/32 {comment} -j {chain}")
        for pod in view.pods_on(node.name):
            chain = cni_chain(pod)
            comment = cni_comment(pod)
            rules.append(f"-A {chain} -d {node.pod_cidr} {comment} -j ACCEPT")
            rules.append(f"-A {chain} ! -d 224.0.0.0/4 {comment} -j MASQUERADE")
        return tuple(sorted(chains)), tuple(rules)
