"""Exercises of lesson 02, cluster-level networking.

The checks compute the right answer from the learner's cluster or trace, and the hints
look at the cluster's state (its routes, its plugin) to say what is still wrong.

Exercise 2.4's hints name the header a wrong sum leaves out, from VXLAN's encapsulation
(RFC 7348, section 5): an outer Ethernet header (14 bytes, untagged), an outer IPv4 header
(20), UDP (8) and the VXLAN header (8) around the pod's own frame. Exercise 2.2 has a
``setup()``, the broken cluster of section 5 again, to start over.
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network
from typing import Any

from kubenet_lab.cluster import Cluster
from kubenet_lab.exercises.base import Check, Exercise
from kubenet_lab.model.packet import IPv4
from kubenet_lab.model.trace import Trace
from kubenet_lab.scenarios import broken_cluster

__all__ = ["EXERCISES", "route_hint"]


def _wire_ips(t: Trace) -> tuple[str, str]:
    hop = next(h for h in t.hops if h.location.kind == "network")
    ip = hop.packet[IPv4]
    return ip.src, ip.dst


def _outer_hint(answer: Any, t: Trace) -> str:
    inner = (t.hops[0].packet.inner(IPv4).src, t.hops[0].packet.inner(IPv4).dst)
    wire = _wire_ips(t)
    if tuple(answer) == inner:
        return ("Those are the pods' addresses: the inner header. On the VPC wire the packet "
                "is wrapped in an outer IP header between two machines the VPC knows.")
    if tuple(answer) == wire[::-1]:
        return "Right addresses, wrong order: (source, destination)."
    if answer[0] == wire[0] or answer[1] == wire[1]:
        right, wrong = ("source", "destination") if answer[0] == wire[0] else (
            "destination", "source")
        return (f"The {right} is right, the {wrong} is not: which machine's eth0 sends "
                "(or receives) the outer packet?")
    return ("Find the hop whose location is the network (t_cross.hops[i].location.kind == "
            "'network') and read its outermost IP header.")


def _covering(cluster: Cluster, node: str, target: str) -> Any:
    inside = ip_network(cluster.node(target).pod_cidr).network_address + 2
    return cluster.dataplane().route(cluster.node(node), str(inside))


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
        IPv4Address(str(answer).strip())
    except ValueError:
        return "Answer with an IP address as a string."
    text = str(answer).strip()
    if text == t.src_ip:
        return ("That is the client's own address, which is what the network model asks for; "
                "but this bridge plugin has ipMasq on: what does the hop marked NAT do to "
                "the source? (print(t_masq))")
    if text == t.hops[-1].packet[IPv4].dst:
        return "That is web-2's own address, the destination: the question is the source."
    return ("Not that one: the masquerade happens on the node the packet leaves, before "
            "the wire. Which address does the hop marked NAT put in the source field? "
            "(print(t_masq))")


def _overhead_hint(answer: Any, c: Any) -> str:
    """Which outer header is missing or extra, from the sizes the learner added up."""
    sizes = {"outer Ethernet": 14, "outer IPv4": 20, "UDP": 8, "VXLAN": 8}
    if not isinstance(answer[0], int):
        return "The overhead is a number of bytes."
    if answer[0] > 50:
        return ("Too many: the pod's own frame, its Ethernet header included, was there "
                "before; count only the headers VXLAN puts around it.")
    if answer[0] == sizes["VXLAN"]:
        return ("8 bytes is the VXLAN header alone; it rides in UDP, in an outer IPv4 packet, "
                "in an outer Ethernet frame.")
    missing = [name for name, size in sizes.items() if answer[0] == 50 - size]
    if missing:
        return (f"One header is missing: {' or '.join(missing)}. List them from the wire "
                "inwards: outer Ethernet, outer IPv4, UDP, VXLAN.")
    return ("Count the headers VXLAN wraps around the pod's frame, from the wire inwards: "
            "an outer Ethernet, an outer IPv4 and a UDP header, then the VXLAN header.")


def _mtu_hint(answer: Any, c: Any) -> str:
    if answer[1] == 1500:
        return ("1500 is the VPC link's MTU: a pod packet that size would not fit once "
                "VXLAN wraps it.")
    if answer[1] == 1500 + 50:
        return "The overhead comes off the link's MTU, not on top of it."
    return ("The pods' MTU leaves room for the overhead on the 1500-byte link; c.exec("
            "'default/client', 'ip addr') shows the MTU flannel gave eth0.")


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
        solution="c_broken.exec('node-1', 'ip route add 10.244.2.0/24 via 10.0.1.6')\n"
        "answer = 'done'",
        cluster_setup=lambda: broken_cluster("missing-route"),
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
            Check(lambda a, c: a[0] == 50, _overhead_hint),
            Check(lambda a, c: a[1] == 1500 - 50, _mtu_hint),
        ],
        explanation="VXLAN adds an outer Ethernet (14), IPv4 (20), UDP (8) and VXLAN (8) "
        "header: 50 bytes. flannel sets flannel.1, cni0 and the pods' eth0 to 1450 so that "
        "an encapsulated packet still fits the 1500-byte network.",
        solution="answer = (50, 1450)",
    ),
]
