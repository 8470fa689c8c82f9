"""CNI plugins: the devices, addresses and routes that connect pods.

One class per plugin, each behind the interface of ``CNIPlugin`` (``base.py``):

- ``"flannel"`` (the default): bridge ``cni0`` + VXLAN overlay ``flannel.1`` (``flannel.py``);
- ``"bridge"``: the reference bridge plugin with host routes, as in Kubernetes the Hard
  Way (``bridge.py``);
- ``"calico"``: cali* veths with /32 routes and proxy-ARP, BGP-learned routes per /26
  block, optionally IP-in-IP (``calico.py``);
- ``"cilium"``: the eBPF datapath with lxc* veths, cilium_host and a VXLAN tunnel, which
  replaces kube-proxy (``cilium.py``).

The module-level functions answer for a cluster's own plugin; ``node_routes`` also
applies the routes edited on a node with ``ip route add/del`` (``Cluster.exec``), which
are cluster state.

Examples
--------
>>> c = kl.Cluster(workers=1)
>>> [str(r) for r in node_routes(c, c.node("node-1"))]  # doctest: +NORMALIZE_WHITESPACE
['default via 10.0.1.1 dev eth0',
 '10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.5',
 '10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubenet_lab.engines.cni.base import (
    BRIDGE,
    LINK_MTU,
    BridgeFamily,
    CNIPlugin,
    mac_address,
    sort_routes,
)
from kubenet_lab.engines.cni.bridge import Bridge
from kubenet_lab.engines.cni.calico import Calico
from kubenet_lab.engines.cni.cilium import Cilium
from kubenet_lab.engines.cni.flannel import (
    VXLAN_DEVICE,
    VXLAN_OVERHEAD,
    VXLAN_PORT,
    VXLAN_VNI,
    Flannel,
    flannel_masquerade,
    vtep_ip,
)
from kubenet_lab.model.route import Interface, Route

if TYPE_CHECKING:
    from kubenet_lab.model.cluster import Cluster
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod

__all__ = [
    "BRIDGE",
    "LINK_MTU",
    "PLUGINS",
    "VXLAN_DEVICE",
    "VXLAN_MTU",
    "VXLAN_OVERHEAD",
    "VXLAN_PORT",
    "VXLAN_VNI",
    "Bridge",
    "BridgeFamily",
    "CNIPlugin",
    "Calico",
    "Cilium",
    "Flannel",
    "apply_route_edits",
    "flannel_masquerade",
    "make_plugin",
    "mac_address",
    "node_interfaces",
    "node_routes",
    "plugin",
    "pod_interfaces",
    "pod_routes",
    "veth_name",
    "vtep_ip",
]

VXLAN_MTU = LINK_MTU - VXLAN_OVERHEAD
PLUGINS: dict[str, type[CNIPlugin]] = {
    "bridge": Bridge, "calico": Calico, "cilium": Cilium, "flannel": Flannel,
}


def make_plugin(name: str, config: Mapping[str, Any] | None = None) -> CNIPlugin:
    """A plugin object for ``name`` (checked by ``Cluster``) with its settings."""
    return PLUGINS[name](config)


def plugin(cluster: Cluster) -> CNIPlugin:
    """The cluster's CNI plugin."""
    return cluster._cni_plugin


def veth_name(pod: Pod, cluster: Cluster | None = None) -> str:
    """The host end of a pod's veth pair (``veth…`` for the bridge-based plugins)."""
    if cluster is not None:
        return plugin(cluster).veth_name(pod)
    return BridgeFamily().veth_name(pod)


def apply_route_edits(routes: tuple[Route, ...], edits: tuple[tuple[str, Route], ...]
                      ) -> tuple[Route, ...]:
    """The table after ``ip route add`` / ``ip route del``, in order.

    ``del`` removes the routes with that destination (and that gateway or device, when
    the edit names them); ``add`` appends.

    >>> table = (kl.Route("default", "eth0", via="10.0.1.1"),
    ...          kl.Route("10.244.2.0/24", "eth0", via="10.0.1.6"))
    >>> [str(r) for r in apply_route_edits(table, (("del", kl.Route("10.244.2.0/24", "")),))]
    ['default via 10.0.1.1 dev eth0']
    """
    result = list(routes)
    for op, edit in edits:
        if op == "del":
            result = [r for r in result if not (
                r.dst == edit.dst and r.type == edit.type
                and (not edit.via or r.via == edit.via) and (not edit.dev or r.dev == edit.dev))]
        else:
            result.append(edit)
    return sort_routes(result)


def node_routes(cluster: Cluster, node: Node) -> tuple[Route, ...]:
    """The main routing table of a node, as ``ip route`` prints it."""
    def build() -> tuple[Route, ...]:
        routes = plugin(cluster).node_routes(cluster, node)
        edits = cluster._route_edits.get(node.name)
        return apply_route_edits(routes, edits) if edits else routes

    return cluster._memo(("routes", node.name), build)


def pod_routes(cluster: Cluster, pod: Pod) -> tuple[Route, ...]:
    """The routing table inside a pod (``ip route`` in its network namespace)."""
    return plugin(cluster).pod_routes(cluster, pod)


def pod_interfaces(cluster: Cluster, pod: Pod) -> tuple[Interface, ...]:
    """``lo`` and ``eth0`` inside a pod; ``eth0``'s peer is its veth on the node."""
    return plugin(cluster).pod_interfaces(cluster, pod)


def node_interfaces(cluster: Cluster, node: Node) -> tuple[Interface, ...]:
    """The devices of a node's root namespace."""
    return plugin(cluster).node_interfaces(cluster, node)
