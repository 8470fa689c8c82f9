"""Exercises of lesson 01, pod-level networking.

Each check computes the right answer from the cluster the learner works on, so the
exercises stay right if the lesson's cluster changes.
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network
from typing import Any

from kubenet_lab.api.ipam import next_pod_ip
from kubenet_lab.cluster import Cluster
from kubenet_lab.exercises.base import Check, Exercise
from kubenet_lab.model.packet import IPv4

__all__ = ["EXERCISES"]


def _next_ip(cluster: Cluster, node: str) -> str:
    in_use = {int(IPv4Address(p.ip)) for p in cluster.pods_on(node)}
    cidr = ip_network(cluster.node(node).pod_cidr)
    return str(next_pod_ip(cidr, in_use, cluster.store.last_pod_ip(node)))


def _ip_hint(answer: Any, cluster: Cluster) -> str:
    node = cluster.node("node-2")
    text = str(answer).strip()
    try:
        addr = IPv4Address(text)
    except ValueError:
        return "Write the address as a string, such as '10.244.7.2'."
    cidr = ip_network(node.pod_cidr)
    if addr not in cidr:
        return (f"Each node hands out addresses from its own podCIDR; node-2's is "
                f"{node.pod_cidr}.")
    if int(addr) == int(cidr.network_address) + 1:
        return "The .1 of the podCIDR belongs to the cni0 bridge: it is the pods' gateway."
    taken = {p.ip: p.ref for p in cluster.pods_on("node-2")}
    if text in taken:
        return f"{text} is already taken by pod {taken[text]}."
    last = max((p.ip for p in cluster.pods_on("node-2")), key=lambda ip: IPv4Address(ip),
               default=None)
    return (f"host-local hands out addresses in order, after the last one it gave out"
            f"{f' ({last})' if last else ''}.")


def _pair_trace(cluster: Cluster):
    pod = cluster.pod("default/pair")
    listener = next(c.name for c in pod.containers if any(p.container_port == 8080
                                                        for p in c.ports))
    other = next(c.name for c in pod.containers if c.name != listener)
    return cluster.trace(f"default/pair/{other}", "localhost:8080")


def _clash_ok(cluster: Cluster) -> bool:
    pod = cluster.pod("default/clash")
    return pod.listener(80) == "web" and not pod.crashing


EXERCISES = [
    Exercise(
        "1.1",
        "Which IP will the next pod created on node-2 get? Answer as a string.",
        checks=[Check(lambda a, c: str(a).strip() == _next_ip(c, "node-2"), _ip_hint)],
        explanation="host-local, the IPAM plugin behind the bridge CNI, skips the .1 (the "
        "cni0 gateway) and hands out the next free address after the last one it reserved "
        "in the node's podCIDR.",
        solution="c.node('node-2').pod_cidr gives the range; the next pod gets the address "
        "after the last pod created on node-2, e.g. answer = '10.244.2.4'.",
    ),
    Exercise(
        "1.2",
        "Create a pod default/pair with two containers: app, listening on TCP 8080, and "
        "probe, with no ports. Then c.trace('default/pair/probe', 'localhost:8080') must "
        "be delivered.",
        checks=[
            Check(lambda a, c: c.pod("default/pair") is not None,
                  "There is no pod default/pair yet: create it with c.add_pod(...)."),
            Check(lambda a, c: len(c.pod("default/pair").containers) == 2,
                  "The pod needs exactly two containers, app and probe."),
            Check(lambda a, c: any(p.container_port == 8080
                                   for ct in c.pod("default/pair").containers
                                   for p in ct.ports),
                  "One container must declare port 8080: kl.Container('app', ports=[8080])."),
            Check(lambda a, c: _pair_trace(c).delivered,
                  "Trace from the container without the port to localhost:8080."),
            Check(lambda a, c: {h.location.interface for h in _pair_trace(c).hops} == {"lo"},
                  "The packet should never leave the pod: it stays on lo."),
        ],
        explanation="Both containers share the pod's network namespace: one lo, one eth0, "
        "one set of ports. The packet to 127.0.0.1:8080 never leaves the pod; it goes "
        "over lo.",
        solution="c.add_pod('default/pair', node='node-1', containers=[\n"
        "    kl.Container('app', ports=[8080]), kl.Container('probe')])",
    ),
    Exercise(
        "1.3",
        "Pod default/clash crash-loops: its containers web and metrics both want port 80. "
        "Delete it and create it again so that both containers run and web still answers "
        "on port 80.",
        checks=[
            Check(lambda a, c: c.pod("default/clash") is not None,
                  "Re-create the pod default/clash after deleting it."),
            Check(lambda a, c: not c.pod("default/clash").crashing,
                  lambda a, c: "A container still crash-loops: "
                  + "; ".join(c.pod("default/clash").warnings)
                  + ". Give each container its own port."),
            Check(lambda a, c: _clash_ok(c),
                  "Container web must be the one listening on port 80."),
        ],
        explanation="Containers of a pod share one set of ports, like processes on one "
        "machine. The API server only warns about a duplicate port; at run time the second "
        "bind fails and that container crash-loops. Giving metrics another port (say 9090) "
        "fixes it.",
        solution="c.delete_pod('default/clash')\nc.add_pod('default/clash', node='node-1', "
        "containers=[\n    kl.Container('web', ports=[80]), kl.Container('metrics', "
        "ports=[9090])])",
    ),
    Exercise(
        "1.4",
        "Look at the trace t_same (pod to pod on one node). Answer with a tuple: (number of "
        "hops, TTL of the packet when it is delivered).",
        checks=[
            Check(lambda a, t: isinstance(a, tuple) and len(a) == 2,
                  "Answer with a tuple of two numbers: (hops, ttl)."),
            Check(lambda a, t: a[0] == len(t.hops),
                  "Count the rows of the hop table (or use len(t_same.hops))."),
            Check(lambda a, t: a[1] == t.hops[-1].packet[IPv4].ttl,
                  "Does anything route this packet? A bridge switches frames by MAC and "
                  "leaves the IP header, TTL included, alone."),
        ],
        explanation="On one node the packet goes eth0 -> veth -> cni0 -> veth -> eth0. The "
        "bridge switches it by MAC address, so no router touches it and the TTL stays 64.",
        solution="answer = (len(t_same.hops), t_same.hops[-1].packet[kl.IPv4].ttl)  # (5, 64)",
    ),
]
