"""The cluster's topology as a networkx graph: nodes, pods, their devices and the links
between them, as ``ip link`` and ``bridge link`` would show them on every host.

Vertices are named as ``Location`` names them, so a hop of a trace finds its place:

- ``"node-1"`` (``kind="node"``) and ``"default/a"`` (``kind="pod"``): the hosts and
  network namespaces, with ``ip``, ``pod_cidr`` / ``node``, ``labels``;
- ``"node-1:cni0"``, ``"default/a:eth0"``: a device, ``kind`` as ``ip -d link`` says it
  (``veth``, ``bridge``, ``vxlan``, ``ipip``, ``ether``, ``loopback``), with ``host``,
  ``name``, ``address``, ``mac`` and ``mtu``;
- ``"10.0.1.0/24"`` (``kind="subnet"``) and the cloud's places (``kind="cloud"``: NAT
  gateways, load balancers, the internet gateway, the internet), when the VPC has them.

Edges carry a ``kind``: ``device`` (a host and a device of its IP stack), ``veth`` (the
two ends of a veth pair), ``port`` (a bridge and its port: a port hands its frames to the
bridge, so it has no ``device`` edge), ``link`` (a node's eth0 on its subnet), ``route``
(the cloud's routers between a subnet and the internet). So a shortest path is a path a
packet can take.

>>> c = kl.Cluster(workers=1)
>>> a = c.add_pod("default/a", node="node-1")
>>> g = topology(c.store.snapshot())
>>> [n for n in g.neighbors("default/a:eth0")]
['default/a', 'node-1:veth9efb3611']
>>> g.nodes["node-1:cni0"]["address"], g.edges["node-1:veth9efb3611", "node-1:cni0"]["kind"]
('10.244.1.1/24', 'port')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.controllers.cloud import has_cloud
from kubenet_lab.dataplane.cni import plugin

if TYPE_CHECKING:
    import networkx as nx

    from kubenet_lab.model.route import Interface
    from kubenet_lab.model.store import StoreView

__all__ = ["topology"]


def _add_devices(g: nx.Graph, host: str, interfaces: tuple[Interface, ...]) -> None:
    for iface in interfaces:
        name = f"{host}:{iface.name}"
        g.add_node(name, kind=iface.kind, host=host, name=iface.name, address=iface.address,
                   mac=iface.mac, mtu=iface.mtu, peer=iface.peer, master=iface.master)
        if not iface.master:  # a bridge port hands its frames to the bridge, not the host
            g.add_edge(host, name, kind="device")


def topology(view: StoreView) -> nx.Graph:
    """The graph of one Store generation, read-only (cached on the view)."""
    def build() -> nx.Graph:
        import networkx as nx

        return nx.freeze(_build(view))

    return view.cached("topology", build)


def _build(view: StoreView) -> nx.Graph:
    import networkx as nx  # on first use: it takes a tenth of a second to import

    cni = plugin(view)
    g = nx.Graph(cni=cni.name)
    for node in view.nodes:
        g.add_node(node.name, kind="node", ip=node.ip, pod_cidr=node.pod_cidr,
                   public_ip=node.public_ip, labels=node.labels)
        _add_devices(g, node.name, cni.node_interfaces(view, node))
        subnet = view.subnet_of(node).cidr
        g.add_node(subnet, kind="subnet")
        g.add_edge(f"{node.name}:eth0", subnet, kind="link")
    for pod in view.pods:
        g.add_node(pod.ref, kind="pod", ip=pod.ip, node=pod.node, labels=pod.labels)
        _add_devices(g, pod.ref, cni.pod_interfaces(view, pod))
    for name, attrs in list(g.nodes(data=True)):
        if attrs.get("peer") in g:
            g.add_edge(name, attrs["peer"], kind="veth")
        if attrs.get("master"):
            g.add_edge(name, f"{attrs['host']}:{attrs['master']}", kind="port")
    if has_cloud(view) or view.load_balancers:
        _add_cloud(g, view)
    return g


def _add_cloud(g: nx.Graph, view: StoreView) -> None:
    """The VPC's routers: each subnet reaches the internet gateway (a public subnet
    directly, a private one through its NAT gateway); load balancers face the internet
    and reach the nodes' subnet."""
    gateway, internet = "internet gateway", "internet"
    g.add_node(gateway, kind="cloud")
    g.add_node(internet, kind="cloud")
    g.add_edge(gateway, internet, kind="route")
    private = view.vpc.subnets[0].cidr
    for subnet in view.vpc.subnets:
        g.add_node(subnet.cidr, kind="subnet")
        if subnet.public:
            g.add_edge(subnet.cidr, gateway, kind="route")
    for gw in view.nat_gateways:
        name = f"NAT gateway {gw.name}"
        g.add_node(name, kind="cloud", private_ip=gw.private_ip, public_ip=gw.public_ip)
        g.add_edge(private, name, kind="route")
        g.add_edge(name, gateway, kind="route")
    for lb in view.load_balancers:
        name = f"load balancer {lb.service}"
        g.add_node(name, kind="cloud", public_ip=lb.public_ip)
        g.add_edge(internet, name, kind="route")
        g.add_edge(name, private, kind="route")
