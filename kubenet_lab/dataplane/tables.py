"""What a node has installed, as one object: ``Dataplane(view, runtime)`` answers for a
Store generation (a ``Snapshot``) and the kernels' runtime state, the way kube-proxy's
``syncProxyRules`` builds its tables from one snapshot.

Everything derived is cached on the snapshot, so a second question about the same
generation costs a dictionary lookup. A node's routing table is its CNI plugin's routes
with the runtime's ``ip route add/del`` edits applied.

Examples
--------
>>> c = kl.Cluster(workers=1)
>>> dp = Dataplane(c.store.snapshot(), c.runtime)
>>> [str(r) for r in dp.node_routes(c.node("node-1"))]  # doctest: +NORMALIZE_WHITESPACE
['default via 10.0.1.1 dev eth0',
 '10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.5',
 '10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.dataplane.cni import CNIPlugin, mac_address, plugin, sort_routes
from kubenet_lab.dataplane.routing import route_lookup

if TYPE_CHECKING:
    from kubenet_lab.dataplane.runtime import Runtime
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.route import Interface, Route
    from kubenet_lab.model.store import StoreView

__all__ = ["Dataplane", "apply_route_edits"]


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


class Dataplane:
    """The devices, addresses, routes and neighbours of every node and pod of one
    Store generation, with the runtime's route edits (see the module docstring)."""

    __slots__ = ("plugin", "runtime", "view")

    def __init__(self, view: StoreView, runtime: Runtime) -> None:
        self.view = view
        self.runtime = runtime
        self.plugin: CNIPlugin = plugin(view)

    def __repr__(self) -> str:
        return f"<Dataplane {self.plugin.name}: {self.view!r}>"

    # ------------------------------------------------------------------ routes
    def node_routes(self, node: Node) -> tuple[Route, ...]:
        """The main routing table of a node, as ``ip route`` prints it."""
        edits = self.runtime.route_edits(node.name)

        def build() -> tuple[Route, ...]:
            routes = self.plugin.node_routes(self.view, node)
            return apply_route_edits(routes, edits) if edits else routes

        return self.view.cached(("routes", node.name, edits), build)

    def route(self, node: Node, ip: str) -> Route | None:
        """The route the node's kernel picks for ``ip`` (``ip route get``): the same as
        ``route_lookup(node_routes(node), ip)``, without building a table of one route
        per node unless ``ip route`` edits changed it."""
        if self.runtime.route_edits(node.name):
            return route_lookup(self.node_routes(node), ip)
        return self.plugin.route(self.view, node, ip)

    def pod_routes(self, pod: Pod) -> tuple[Route, ...]:
        """The routing table inside a pod (``ip route`` in its network namespace)."""
        return self.plugin.pod_routes(self.view, pod)

    # ------------------------------------------------------------------ devices
    def node_interfaces(self, node: Node) -> tuple[Interface, ...]:
        """The devices of a node's root namespace."""
        return self.plugin.node_interfaces(self.view, node)

    def pod_interfaces(self, pod: Pod) -> tuple[Interface, ...]:
        """``lo`` and ``eth0`` inside a pod; ``eth0``'s peer is its veth on the node."""
        return self.plugin.pod_interfaces(self.view, pod)

    def veth_name(self, pod: Pod) -> str:
        """The host end of a pod's veth pair."""
        return self.plugin.veth_name(pod)

    def local_addresses(self, node: Node) -> set[str]:
        """The addresses of the node's own devices (``addrtype LOCAL``)."""
        return self.plugin.local_addresses(self.view, node)

    def device_address(self, node: Node, dev: str) -> str:
        """The source address the kernel picks for a packet leaving by ``dev``."""
        return self.plugin.device_address(self.view, node, dev)

    def local_device(self, node: Node, ip: str) -> str:
        """The device a packet to one of the node's own addresses is received on."""
        return self.plugin.local_device(node, ip)

    # ------------------------------------------------------------------ neighbours
    def pod_at(self, node: str, ip: str) -> Pod | None:
        """The pod on ``node`` that has the address ``ip``, if any (ARP's answer)."""
        owner = self.view.owner_of(ip)
        if owner and owner.startswith("Pod "):
            pod = self.view.pod(owner[4:])
            if pod.node == node:
                return pod
        return None

    def pod_of(self, ip: str) -> Pod | None:
        """The pod that has the address ``ip``, on any node."""
        owner = self.view.owner_of(ip)
        return self.view.pod(owner[4:]) if owner and owner.startswith("Pod ") else None

    def bridge_ports(self, node: Node) -> dict[str, Pod]:
        """The bridge's forwarding database: each local pod's MAC to the pod."""
        return self.view.cached(("fdb", node.name), lambda: {
            mac_address(f"{p.ref}/eth0"): p for p in self.view.pods_on(node.name)})

    def pod_neighbours(self, pod: Pod) -> tuple[tuple[str, str], ...]:
        return self.plugin.pod_neighbours(self.view, pod)

    def node_neighbours(self, node: Node) -> tuple[tuple[str, str, str, str], ...]:
        return self.plugin.node_neighbours(self.view, node)

    def fdb(self, node: Node) -> tuple[str, ...]:
        return self.plugin.fdb(self.view, node)
