"""Exercises of lesson 01, pod-level networking.

Each check computes the right answer from the cluster the learner works on, so the
exercises stay right if the lesson's cluster changes.

Exercise 1.1's hints follow host-local, the IPAM of the bridge plugin
(containernetworking/plugins ``plugins/ipam/host-local``): the range ends one address
before the broadcast (``range.go`` ``lastIP``), the allocator starts after the last
address it reserved and takes the first free one (``backend/allocator``), and the disk
store keeps that address in ``/var/lib/cni/networks/<network>/last_reserved_ip.<range>``
(``backend/disk/backend.go``), so an address freed below it is not handed out next. The
hints say what is wrong with an answer, never the address itself.

Exercises 1.2 and 1.3 build their cluster with ``setup()`` (section 1's pods; 1.3 adds
section 4's crash-looping ``default/clash``), so their answer cells can run again.
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network
from typing import Any

from kubenet_lab.api.ipam import next_pod_ip
from kubenet_lab.cluster import Cluster
from kubenet_lab.exercises.base import Check, Exercise
from kubenet_lab.model.packet import IPv4
from kubenet_lab.model.pod import Container

__all__ = ["EXERCISES"]


def _next_ip(cluster: Cluster, node: str) -> str:
    in_use = {int(IPv4Address(p.ip)) for p in cluster.pods_on(node)}
    cidr = ip_network(cluster.node(node).pod_cidr)
    return str(next_pod_ip(cidr, in_use, cluster.store.last_pod_ip(node)))


def _ip_hint(answer: Any, cluster: Cluster) -> str:
    """What is wrong with the address, from node-2's podCIDR and its pods; never the
    address host-local gives next (the learner works that out)."""
    node = cluster.node("node-2")
    text = str(answer).strip()
    try:
        addr = IPv4Address(text)
    except ValueError:
        return "Write the address as a string, such as '10.244.9.9'."
    cidr = ip_network(node.pod_cidr)
    if addr not in cidr:
        return (f"Each node hands out addresses from its own podCIDR; node-2's is "
                f"{node.pod_cidr}.")
    if addr == cidr.network_address:
        return (f"{text} is the network address of node-2's podCIDR: host-local never "
                "hands it out.")
    if int(addr) == int(cidr.network_address) + 1:
        return "The .1 of the podCIDR belongs to the cni0 bridge: it is the pods' gateway."
    if addr == cidr.broadcast_address:
        return (f"{text} is the broadcast address of node-2's podCIDR: host-local's range "
                "ends one before it.")
    taken = {p.ip: p.ref for p in cluster.pods_on("node-2")}
    if text in taken:
        return f"{text} is already taken by pod {taken[text]}."
    if addr < IPv4Address(_next_ip(cluster, "node-2")):
        return ("host-local does not go back to a free address: it continues after the last "
                "address it reserved on node-2 (it writes that one down, in "
                "/var/lib/cni/networks/<network>/last_reserved_ip.0), even if that pod has "
                "been deleted since. Your address comes before it.")
    return ("Too far: host-local takes the first free address after the last one it "
            "reserved, it skips none. The IPs of node-2's pods, and of the pods deleted "
            "there, say which one that was (print(kl.kubectl_get_pods(c, wide=True))).")


def _pair_trace(cluster: Cluster):
    return cluster.trace("default/pair/probe", "localhost:8080")


def _container(cluster: Cluster, pod: str, name: str) -> Any:
    return next((ct for ct in cluster.pod(pod).containers if ct.name == name), None)


def _names_hint(answer: Any, cluster: Cluster) -> str:
    names = sorted(ct.name for ct in cluster.pod("default/pair").containers)
    return (f"The containers must be named app and probe (kl.Container('app', ...)); "
            f"default/pair has {', '.join(names)}. Delete the pod and create it again.")


def _app_port_hint(answer: Any, cluster: Cluster) -> str:
    app = _container(cluster, "default/pair", "app")
    probe = _container(cluster, "default/pair", "probe")
    if any(p.container_port == 8080 for p in probe.ports):
        return ("Port 8080 is declared on probe; the task puts it on app and leaves probe "
                "without ports.")
    if any(p.container_port == 8080 for p in app.ports):
        return "app declares 8080, but not as TCP: ContainerPort's protocol is TCP by default."
    ports = ", ".join(str(p.container_port) for p in app.ports) or "no port"
    return (f"app declares {ports}: it must listen on TCP 8080 "
            "(kl.Container('app', ports=[...])).")


def _pair_hint(answer: Any, cluster: Cluster) -> str:
    return (f"c_pair.trace('default/pair/probe', 'localhost:8080') is not delivered: "
            f"{_pair_trace(cluster).reason}")


def _lesson_cluster() -> Cluster:
    """Lesson 01's cluster as section 1 builds it: web and cache on node-1, db on node-2."""
    c = Cluster(workers=2)
    c.add_pod("default/web", node="node-1", labels={"app": "web"})
    c.add_pod("default/cache", node="node-1",
              containers=[Container("redis", "redis:7.4", ports=[6379])])
    c.add_pod("default/db", node="node-2",
              containers=[Container("postgres", "postgres:17", ports=[5432])])
    return c


def _clash_cluster() -> Cluster:
    """The lesson's cluster with the crash-looping pod of section 4."""
    c = _lesson_cluster()
    c.add_pod("default/clash", node="node-2", containers=[
        Container("web", "nginx:1.27", ports=[80]),
        Container("metrics", "nginx:1.27", ports=[80])])
    return c


def _hops_hint(answer: Any, t: Any) -> str:
    if not isinstance(answer[0], int):
        return "The number of hops is a number: count the rows of print(t_same)."
    if answer[0] > len(t.hops):
        return ("Too many: count the hops of t_same itself (the rows print(t_same) numbers), "
                "not those of another trace.")
    return ("Too few: every device the packet passes is a hop, the veth ends and the bridge "
            "included (the rows print(t_same) numbers).")


def _ttl_hint(answer: Any, t: Any) -> str:
    if not isinstance(answer[1], int):
        return "The TTL is a number: the last hop's packet[kl.IPv4].ttl."
    if answer[1] > 64:
        return ("Linux sends with TTL 64 (net.ipv4.ip_default_ttl), and nothing on the way "
                "raises it.")
    return ("Does anything route this packet? A bridge switches frames by MAC and leaves the "
            "IP header, TTL included, alone.")


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
        solution="# c.node('node-2').pod_cidr is 10.244.2.0/24; host-local continues after "
        "the last\n# address it reserved there: node-2's pods have .2, .4, .5 and .6 (.3 was "
        "the api\n# pod deleted in section 1, and host-local does not go back to it)\n"
        "answer = '10.244.2.7'",
    ),
    Exercise(
        "1.2",
        "Create a pod default/pair with two containers: app, listening on TCP 8080, and "
        "probe, with no ports. Then c_pair.trace('default/pair/probe', 'localhost:8080') "
        "must be delivered.",
        checks=[
            Check(lambda a, c: c.pod("default/pair") is not None,
                  "There is no pod default/pair yet: create it with c_pair.add_pod(...)."),
            Check(lambda a, c: len(c.pod("default/pair").containers) == 2,
                  lambda a, c: "The pod needs exactly two containers, app and probe; it has "
                  f"{len(c.pod('default/pair').containers)}."),
            Check(lambda a, c: sorted(ct.name for ct in c.pod("default/pair").containers)
                  == ["app", "probe"], _names_hint),
            Check(lambda a, c: any(p.container_port == 8080 and p.protocol == "TCP"
                                   for p in _container(c, "default/pair", "app").ports),
                  _app_port_hint),
            Check(lambda a, c: not _container(c, "default/pair", "probe").ports,
                  "probe must declare no ports: it only connects to app."),
            Check(lambda a, c: _pair_trace(c).delivered, _pair_hint),
            Check(lambda a, c: {h.location.interface for h in _pair_trace(c).hops} == {"lo"},
                  "The packet should never leave the pod: it stays on lo."),
        ],
        explanation="Both containers share the pod's network namespace: one lo, one eth0, "
        "one set of ports. The packet to 127.0.0.1:8080 never leaves the pod; it goes "
        "over lo.",
        solution="c_pair = kl.exercise('1.2').setup()\n"
        "c_pair.add_pod('default/pair', node='node-1', containers=[\n"
        "    kl.Container('app', ports=[8080]), kl.Container('probe')])\nanswer = 'done'",
        cluster_setup=_lesson_cluster,
    ),
    Exercise(
        "1.3",
        "Pod default/clash crash-loops: its containers web and metrics both want port 80. "
        "Delete it and create it again so that both containers run and web still answers "
        "on port 80.",
        checks=[
            Check(lambda a, c: c.pod("default/clash") is not None,
                  "Re-create the pod default/clash after deleting it."),
            Check(lambda a, c: sorted(ct.name for ct in c.pod("default/clash").containers)
                  == ["metrics", "web"],
                  lambda a, c: "Keep both containers, web and metrics (the pod has "
                  + ", ".join(ct.name for ct in c.pod("default/clash").containers)
                  + "): give one of them another port instead."),
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
        solution="c_clash = kl.exercise('1.3').setup()\n"
        "c_clash.delete_pod('default/clash')\nc_clash.add_pod('default/clash', "
        "node='node-2', containers=[\n    kl.Container('web', ports=[80]), "
        "kl.Container('metrics', ports=[9090])])\nanswer = 'done'",
        cluster_setup=_clash_cluster,
    ),
    Exercise(
        "1.4",
        "Look at the trace t_same (pod to pod on one node). Answer with a tuple: (number of "
        "hops, TTL of the packet when it is delivered).",
        checks=[
            Check(lambda a, t: isinstance(a, tuple) and len(a) == 2,
                  "Answer with a tuple of two numbers: (hops, ttl)."),
            Check(lambda a, t: a[0] == len(t.hops), _hops_hint),
            Check(lambda a, t: a[1] == t.hops[-1].packet[IPv4].ttl, _ttl_hint),
        ],
        explanation="On one node the packet goes eth0 -> veth -> cni0 -> veth -> eth0. The "
        "bridge switches it by MAC address, so no router touches it and the TTL stays 64.",
        solution="answer = (len(t_same.hops), t_same.hops[-1].packet[kl.IPv4].ttl)  # (5, 64)",
    ),
]
