"""The CNI plugin: the devices, addresses and routes that connect pods.

The default (and, for now, only) plugin is **flannel** with its VXLAN backend, as
``kube-flannel.yml`` installs it on a kubeadm cluster:

- flannel's CNI plugin delegates to the **bridge** plugin with ``isDefaultGateway``:
  every pod gets a veth pair whose pod end is ``eth0`` (holding the pod IP) and whose
  host end, named ``veth`` + 8 hex digits, is a port of the node's ``cni0`` bridge. The
  bridge holds the podCIDR's .1, the pods' default gateway. (containernetworking/plugins
  plugins/main/bridge; flannel Documentation/kube-flannel.yml)
- flanneld creates ``flannel.1``, a VXLAN device with VNI 1 on the kernel's port 8472
  (not IANA's 4789), MTU 1450 (the link's 1500 minus 50 bytes of VXLAN overhead), and
  the /32 address equal to its podCIDR's network address. For each other node it adds
  ``<podCIDR> via <podCIDR network address> dev flannel.1 onlink`` plus a permanent
  ARP entry and an FDB entry mapping that node's ``flannel.1`` MAC to its node IP.
  (flannel pkg/backend/vxlan)
- flanneld's ``--ip-masq`` installs the FLANNEL-POSTRTG chain in the nat table
  (flannel pkg/trafficmngr/iptables/iptables.go, ``masqRules``); ``flannel_masquerade``
  evaluates it.

Generated names are deterministic: a veth's name and every MAC address are derived
from a hash of what they belong to, so the same cluster always looks the same.

Examples
--------
>>> c = kl.Cluster(workers=1)
>>> [str(r) for r in node_routes(c, c.node("node-1"))]  # doctest: +NORMALIZE_WHITESPACE
['default via 10.0.1.1 dev eth0',
 '10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.5',
 '10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink']
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING

from kubenet_lab.engines.ipam import bridge_ip
from kubenet_lab.model.route import Interface, Route

if TYPE_CHECKING:
    from kubenet_lab.model.cluster import Cluster
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod

__all__ = [
    "BRIDGE",
    "LINK_MTU",
    "VXLAN_DEVICE",
    "VXLAN_MTU",
    "VXLAN_OVERHEAD",
    "VXLAN_PORT",
    "VXLAN_VNI",
    "flannel_masquerade",
    "mac_address",
    "node_interfaces",
    "node_routes",
    "pod_interfaces",
    "pod_routes",
    "veth_name",
    "vtep_ip",
]

BRIDGE = "cni0"
VXLAN_DEVICE = "flannel.1"
VXLAN_VNI = 1
VXLAN_PORT = 8472
VXLAN_OVERHEAD = 50  # outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8
LINK_MTU = 1500
VXLAN_MTU = LINK_MTU - VXLAN_OVERHEAD


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def mac_address(key: str) -> str:
    """A locally administered unicast MAC derived from ``key``.

    >>> mac = mac_address("node-1/eth0")
    >>> mac == mac_address("node-1/eth0"), int(mac[:2], 16) & 0b11  # stable; local, unicast
    (True, 2)
    """
    raw = bytearray(_digest(key)[:6])
    raw[0] = (raw[0] & 0xFC) | 0x02
    return ":".join(f"{b:02x}" for b in raw)


def veth_name(pod: Pod) -> str:
    """The host end of a pod's veth pair: ``veth`` + 8 hex digits, as the bridge plugin
    names it (it draws them at random; the lab derives them from the pod)."""
    return "veth" + _digest(f"{pod.namespace}/{pod.name}").hex()[:8]


def vtep_ip(node: Node) -> str:
    """The address on ``flannel.1``: the network address of the node's podCIDR."""
    return str(ip_network(node.pod_cidr).network_address)


def pod_routes(cluster: Cluster, pod: Pod) -> tuple[Route, ...]:
    """The routing table inside a pod (``ip route`` in its network namespace).

    flannel's CNI config asks host-local for a route to the whole cluster network, and
    the bridge plugin's ``isDefaultGateway`` adds the default route.
    """
    node = cluster.node(pod.node)
    gw = str(bridge_ip(ip_network(node.pod_cidr)))
    return (
        Route("default", "eth0", via=gw),
        Route(cluster.cluster_cidr, "eth0", via=gw),
        Route(node.pod_cidr, "eth0", proto="kernel", scope="link", src=pod.ip),
    )


def node_routes(cluster: Cluster, node: Node) -> tuple[Route, ...]:
    """The main routing table of a node, sorted as ``ip route`` prints it."""
    subnet = cluster.subnet_of(node)
    routes = [
        Route("default", "eth0", via=subnet.router),
        Route(subnet.cidr, "eth0", proto="kernel", scope="link", src=node.ip),
    ]
    for other in cluster.nodes:
        if other.name == node.name:
            if cluster.pods_on(node.name):
                gw = str(bridge_ip(ip_network(node.pod_cidr)))
                routes.append(Route(node.pod_cidr, BRIDGE, proto="kernel", scope="link", src=gw))
        else:
            routes.append(
                Route(other.pod_cidr, VXLAN_DEVICE, via=vtep_ip(other), onlink=True)
            )
    head, rest = routes[:1], routes[1:]
    rest.sort(key=lambda r: (int(ip_network(r.dst).network_address), ip_network(r.dst).prefixlen))
    return tuple(head + rest)


def pod_interfaces(cluster: Cluster, pod: Pod) -> tuple[Interface, ...]:
    """``lo`` and ``eth0`` inside a pod; ``eth0``'s peer is its veth on the node."""
    prefix = ip_network(cluster.node(pod.node).pod_cidr).prefixlen
    return (
        Interface("lo", "loopback", "00:00:00:00:00:00", 65536, "127.0.0.1/8"),
        Interface(
            "eth0", "veth", mac_address(f"{pod.ref}/eth0"), VXLAN_MTU,
            f"{pod.ip}/{prefix}", peer=f"{pod.node}:{veth_name(pod)}",
        ),
    )


def node_interfaces(cluster: Cluster, node: Node) -> tuple[Interface, ...]:
    """The devices of a node's root namespace: lo, eth0, flannel.1, cni0 and the veths.

    ``cni0`` appears with the node's first pod: the bridge plugin creates it then.
    """
    subnet_prefix = ip_network(cluster.subnet_of(node).cidr).prefixlen
    devices = [
        Interface("lo", "loopback", "00:00:00:00:00:00", 65536, "127.0.0.1/8"),
        Interface("eth0", "ether", mac_address(f"{node.name}/eth0"), LINK_MTU,
                  f"{node.ip}/{subnet_prefix}"),
        Interface(VXLAN_DEVICE, "vxlan", mac_address(f"{node.name}/{VXLAN_DEVICE}"),
                  VXLAN_MTU, f"{vtep_ip(node)}/32"),
    ]
    pods = cluster.pods_on(node.name)
    if pods:
        prefix = ip_network(node.pod_cidr).prefixlen
        devices.append(
            Interface(BRIDGE, "bridge", mac_address(f"{node.name}/{BRIDGE}"), VXLAN_MTU,
                      f"{bridge_ip(ip_network(node.pod_cidr))}/{prefix}")
        )
        for pod in pods:
            devices.append(
                Interface(veth_name(pod), "veth", mac_address(f"{node.name}/{veth_name(pod)}"),
                          VXLAN_MTU, peer=f"{pod.ref}:eth0", master=BRIDGE)
            )
    return tuple(devices)


def flannel_masquerade(
    cluster_cidr: str, pod_cidr: str, src: str, dst: str
) -> str | None:
    """Evaluate flanneld's FLANNEL-POSTRTG chain for a new connection leaving a node.

    Returns the matching MASQUERADE rule as iptables-save prints it, or None when the
    chain RETURNs (no NAT). Traffic between pods, and from outside to this node's pods,
    is never masqueraded; pod traffic to anything outside the cluster network is.

    >>> flannel_masquerade("10.244.0.0/16", "10.244.1.0/24", "10.244.1.2", "10.244.2.3")
    >>> print(flannel_masquerade("10.244.0.0/16", "10.244.1.0/24", "10.244.1.2", "10.0.1.6"))
    -A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" ...
    """
    cluster = ip_network(cluster_cidr)
    local = ip_network(pod_cidr)
    s, d = IPv4Address(src), IPv4Address(dst)
    tail = '-m comment --comment "flanneld masq" -j MASQUERADE --random-fully'
    if s in local and d in cluster:
        return None
    if s in cluster and d in local:
        return None
    if s not in cluster and d in local:
        return None
    if s in cluster and d not in ip_network("224.0.0.0/4"):
        return f"-A FLANNEL-POSTRTG -s {cluster_cidr} ! -d 224.0.0.0/4 {tail}"
    if s not in cluster and d in cluster:
        return f"-A FLANNEL-POSTRTG ! -s {cluster_cidr} -d {cluster_cidr} {tail}"
    return None
