"""Exercises of lesson 02, cluster-level networking.

The checks compute the right answer from the learner's cluster or trace, and the hints
look at the cluster's state (its routes, its plugin) to say what is still wrong.
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network
from typing import Any

from kubenet_lab.cluster import Cluster
from kubenet_lab.dataplane.routing import route_lookup
from kubenet_lab.exercises.base import Check, Exercise
from kubenet_lab.model.packet import IPv4
from kubenet_lab.model.trace import Trace

__all__ = ["EXERCISES", "route_hint"]


def _wire_ips(t: Trace) -> tuple[str, str]:
    hop = next(h for h in t.hops if h.location.kind == "network")
    ip = hop.packet[IPv4]
    return ip.src, ip.dst


def _outer_hint(answer: Any, t: Trace) -> str:
    inner = (t.hops[0].packet.inner(IPv4).src, t.hops[0].packet.inner(IPv4).dst)
    if tuple(answer) == inner:
        return ("Those are the pods' addresses: the inner header. On the VPC wire the packet "
                "is wrapped in an outer IP header between two machines the VPC knows.")
    if tuple(answer) == _wire_ips(t)[::-1]:
        return "Right addresses, wrong order: (source, destination)."
    return ("Find the hop whose location is the network (t_cross.hops[i].location.kind == "
            "'network') and read its outermost IP header.")


def _covering(cluster: Cluster, node: str, target: str) -> Any:
    return route_lookup(cluster.dataplane().node_routes(cluster.node(node)),
                        str(ip_network(cluster.node(target).pod_cidr).network_address + 2))


def route_hint(answer: Any, cluster: Cluster) -> str:
    """What is wrong with node-1's route to node-2's pods, from the routing table."""
    cidr = cluster.node("node-2").pod_cidr
    route = _covering(cluster, "node-1", "node-2")
    want = cluster.node("node-2").ip
    if route is None or route.dst in ("default", "0.0.0.0/0"):
        return (f"node-1 still has no route to node-2's podCIDR {cidr}: packets take the "
                "default route to the VPC router, which drops them. Look at "
                "c_broken.exec('node-1', 'ip route') and add one with 'ip route add ...'.")
    if route.via != want:
        return (f"node-1 routes {cidr} via {route.via}, but node-2's address is {want}: "
                f"delete it ('ip route del {route.dst}') and add it via {want}.")
    return "The route looks right; run c_broken.verify_network_model() to see what else fails."


def _masq_hint(answer: Any, t: Trace) -> str:
    try:
        IPv4Address(str(answer))
    except ValueError:
        return "Answer with an IP address as a string."
    if str(answer) == t.src_ip:
        return ("That is the client's own address, which is what the network model asks for; "
                "but this bridge plugin has ipMasq on. Look at t_masq.source_ip_seen.")
    return "Which address does the hop marked NAT put in the source field? (print(t_masq))"


EXERCISES = [
    Exercise(
        "2.1",
        "t_cross goes from a pod on node-1 to a pod on node-2 through flannel's VXLAN "
        "overlay. Which source and destination IP does the VPC network see? Answer with a "
        "tuple (source, destination).",
        checks=[
            Check(lambda a, t: isinstance(a, tuple) and len(a) == 2,
                  "Answer with a tuple of two addresses: (source, destination)."),
            Check(lambda a, t: tuple(a) == _wire_ips(t), _outer_hint),
        ],
        explanation="The VPC only knows node addresses. flannel.1 wraps the pod's packet in "
        "UDP (port 8472) inside an outer IP header from node-1's eth0 address to node-2's; "
        "node-2's flannel.1 unwraps it. The pod addresses ride inside, unchanged.",
        solution="hop = next(h for h in t_cross.hops if h.location.kind == 'network')\n"
        "answer = (hop.packet[kl.IPv4].src, hop.packet[kl.IPv4].dst)  # ('10.0.1.5', '10.0.1.6')",
    ),
    Exercise(
        "2.2",
        "In c_broken (bridge plugin with host routes), node-1 lost its route to node-2's "
        "pods. Repair it with c_broken.exec('node-1', 'ip route add ...') so that "
        "c_broken.verify_network_model().ok is True. Set answer = 'done'.",
        checks=[
            Check(lambda a, c: _covering(c, "node-1", "node-2") is not None
                  and _covering(c, "node-1", "node-2").dst != "default", route_hint),
            Check(lambda a, c: _covering(c, "node-1", "node-2").via == c.node("node-2").ip,
                  route_hint),
            Check(lambda a, c: c.verify_network_model().ok,
                  lambda a, c: "Not yet: " + str(c.verify_network_model().problems[0].detail)),
        ],
        explanation="With the bridge plugin nothing but the host routes connects the nodes' "
        "pod networks: each node needs '<other podCIDR> via <other node IP>', as in "
        "Kubernetes the Hard Way. Without it the packet follows the default route to the "
        "VPC router, which knows nothing about pod addresses.",
        solution="c_broken.exec('node-1', 'ip route add 10.244.2.0/24 via 10.0.1.6')",
    ),
    Exercise(
        "2.3",
        "In c_masq (the bridge plugin with \"ipMasq\": true, as Kubernetes the Hard Way "
        "configures it), t_masq goes from default/client on node-1 to default/web-2 on "
        "node-2. Which source IP does web-2 see? Answer with a string.",
        checks=[Check(lambda a, t: str(a).strip() == t.source_ip_seen, _masq_hint)],
        explanation="ipMasq adds a chain that masquerades everything a pod sends outside its "
        "own node's podCIDR, other nodes' pods included. web-2 sees node-1's address: the "
        "rule 'pods talk to pods without NAT' is broken, and verify_network_model says so.",
        solution="answer = t_masq.source_ip_seen  # node-1's address, '10.0.1.5'",
    ),
    Exercise(
        "2.4",
        "How many bytes of headers does flannel's VXLAN add to every packet between nodes, "
        "and what MTU does that leave for pods on a 1500-byte network? Answer with a tuple "
        "(overhead, mtu).",
        checks=[
            Check(lambda a, c: isinstance(a, tuple) and len(a) == 2,
                  "Answer with a tuple of two numbers: (overhead, mtu)."),
            Check(lambda a, c: a[0] == 50,
                  "Count the outer headers: Ethernet 14, IPv4 20, UDP 8, VXLAN 8."),
            Check(lambda a, c: a[1] == 1500 - 50,
                  "The pods' MTU is the link's 1500 minus the overhead; c.exec('default/"
                  "client', 'ip addr') shows it on eth0."),
        ],
        explanation="VXLAN adds an outer Ethernet (14), IPv4 (20), UDP (8) and VXLAN (8) "
        "header: 50 bytes. flannel sets flannel.1, cni0 and the pods' eth0 to 1450 so that "
        "an encapsulated packet still fits the 1500-byte network.",
        solution="answer = (50, 1450)",
    ),
]
