"""Exercises of lesson 04, egress: from a pod to the internet.

The checks compute the right answer from the learner's cluster.

Exercise 4.2 keeps pod IPs towards the VPC. On AWS that needs more than ip-masq-agent:
EC2's source/destination check drops, at the node's network interface, every packet whose
source (sent) or destination (received) is not the instance's address, so the check must
be off on the nodes (``sourceDestCheck``, AWS EC2 API ``ModifyInstanceAttribute``), and a
VPC host's reply to a pod IP goes to the VPC router, whose route table needs a route for
the podCIDR to the node (``aws ec2 create-route --instance-id``; Calico's AWS guide:
https://docs.tigera.io/calico/latest/reference/public-cloud/AWS).
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network
from typing import Any

from kubenet_lab.api.configmap import IP_MASQ_AGENT
from kubenet_lab.cluster import Cluster
from kubenet_lab.controllers.cloud import route_lookup, source_dest_check
from kubenet_lab.dataplane import ip_masq_agent
from kubenet_lab.exercises.base import Check, Exercise

__all__ = ["EXERCISES"]

WEB = "93.184.216.34"


def _seen(cluster: Cluster) -> str:
    return cluster.trace("default/a", WEB).source_ip_seen or ""


def _seen_hint(answer: Any, cluster: Cluster) -> str:
    text = str(answer).strip()
    pod = cluster.pod("default/a")
    node = cluster.node(pod.node)
    gws = {g.private_ip: g for g in cluster.nat_gateways}
    if text == pod.ip:
        return ("That is the pod's own address: it never leaves the node. Look at hop 4: "
                "which POSTROUTING rule rewrites the source?")
    if text == node.ip:
        return ("That is what the node's masquerade makes of it, but the packet is not on "
                "the internet yet: follow it through the NAT gateway and the internet gateway.")
    if text in gws:
        return ("That is the NAT gateway's private address. The internet gateway maps it to "
                "the NAT gateway's Elastic IP.")
    return ("That address is none of c_nat's: not the pod's, not its node's, not its NAT "
            "gateway's (the lesson's cluster c has other gateways). Follow c_nat's packet, "
            "print(c_nat.trace('default/a', '93.184.216.34')), and the rewrites of its source "
            "on the way.")


def _egress_cluster() -> Cluster:
    """Exercise 4.1's cluster: pod default/a on node-1, in the private subnet, and a NAT
    gateway."""
    c = Cluster(workers=2)
    c.add_nat_gateway(public_ip="198.51.100.40")
    c.add_pod("default/a", node="node-1")
    return c


def _bridge_cluster() -> Cluster:
    """Lesson 04's bridge cluster b as section 4 leaves it: a NAT gateway, pod default/a,
    ip-masq-agent with the ConfigMap that lists only the pod network."""
    b = Cluster(cni="bridge", workers=1)
    b.add_nat_gateway(public_ip="198.51.100.30")
    b.add_pod("default/a", node="node-1")
    b.add_ip_masq_agent()
    b.apply({"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "ip-masq-agent", "namespace": "kube-system"},
             "data": {"config": "nonMasqueradeCIDRs: [10.244.0.0/16]\nmasqLinkLocal: true\n"}})
    return b


def _masq(cluster: Cluster, dst: str) -> bool:
    pod = cluster.pod("default/a")
    return ip_masq_agent.masquerade(cluster.store, cluster.node(pod.node), pod.ip,
                                    dst) is not None


#: A host of the VPC's private subnet (no node, no pod): exercise 4.2's monitoring host.
VPC_HOST = "10.0.1.200"


def _checked_nodes(cluster: Cluster) -> list[str]:
    """The nodes whose EC2 source/destination check is still on."""
    return [n.name for n in cluster.nodes if source_dest_check(cluster.store, n.name)]


def _unrouted(cluster: Cluster) -> list[tuple[str, str]]:
    """(node, podCIDR) pairs the private subnet's route table does not send to the node."""
    out = []
    for n in cluster.nodes:
        row = route_lookup(cluster.store, "private", n.pod_cidr.split("/")[0])
        if row is None or row[1] != n.name:
            out.append((n.name, n.pod_cidr))
    return out


def _covering(cluster: Cluster, dst: str) -> list[str]:
    """The nonMasqueradeCIDRs of the agent's configuration that contain ``dst``."""
    return [c for c in ip_masq_agent.config(cluster.store)["nonMasqueradeCIDRs"]
            if IPv4Address(dst) in ip_network(c)]


def _partner_hint(answer: Any, cluster: Cluster) -> str:
    cidrs = _covering(cluster, "10.100.0.5")
    source = ("your list" if cluster.store.config_map(IP_MASQ_AGENT) is not None
              else "the default list")
    return (f"Traffic to 10.100.0.0/16 is not masqueraded: {source} has {', '.join(cidrs)}, "
            "which contains it. The ConfigMap's list replaces the defaults: list only what "
            "must keep the pod IP.")


def _internet_hint(answer: Any, cluster: Cluster) -> str:
    return (f"Traffic to the internet is not masqueraded: {', '.join(_covering(cluster, WEB))} "
            "in nonMasqueradeCIDRs covers 93.184.216.34.")


def _check_hint(answer: Any, cluster: Cluster) -> str:
    name = _checked_nodes(cluster)[0]
    return (f"EC2's source/destination check is still on for {name}: the instance must be "
            "the source or destination of every packet it sends or receives, so a packet "
            "from a pod IP is dropped as the node sends it. Turn it off on every node: "
            f"b.set_source_dest_check('{name}', False).")


def _route_hint(answer: Any, cluster: Cluster) -> str:
    name, cidr = _unrouted(cluster)[0]
    return (f"The private subnet's route table has no route for {name}'s podCIDR {cidr}: a "
            "VPC host answers a pod IP through the VPC router, which knows only the local "
            f"route. Add one per node: b.add_vpc_route('{cidr}', '{name}').")


def _vpc_host_reaches_pod(cluster: Cluster) -> bool:
    return cluster.trace(VPC_HOST, "default/a").destination_pod == "default/a"


EXERCISES = [
    Exercise(
        "4.1",
        "Pod default/a runs on node-1, in the private subnet. From which address does the "
        "web server 93.184.216.34 see its connection?",
        checks=[Check(lambda a, c: str(a).strip() == _seen(c), _seen_hint)],
        explanation="Two translations: node-1 masquerades the pod IP to its own address "
        "(flannel's FLANNEL-POSTRTG), then the NAT gateway rewrites it to its address, which "
        "the internet gateway maps to the NAT gateway's Elastic IP.",
        solution="c_nat = kl.exercise('4.1').setup()\n"
        "answer = c_nat.trace('default/a', '93.184.216.34').source_ip_seen",
        cluster_setup=_egress_cluster,
    ),
    Exercise(
        "4.2",
        "In the bridge cluster (no masquerade by the CNI plugin), a monitoring host of the "
        "VPC must see each pod's own address. Configure ip-masq-agent with a "
        "kube-system/ip-masq-agent ConfigMap so that pod traffic to the VPC (10.0.0.0/16) "
        "keeps the pod IP, while traffic to the partner network 10.100.0.0/16 and to the "
        "internet is masqueraded. On AWS a pod IP crosses the VPC only if EC2's "
        "source/destination check is off on the nodes and the VPC route table sends each "
        "node's podCIDR to that node: do both for every node.",
        checks=[
            Check(lambda a, c: c.store.has_addon(ip_masq_agent.ADDON),
                  "ip-masq-agent is not running: b.add_ip_masq_agent()."),
            Check(lambda a, c: c.store.config_map(IP_MASQ_AGENT) is not None,
                  "Apply a ConfigMap named ip-masq-agent in kube-system, with a key config."),
            Check(lambda a, c: not _masq(c, VPC_HOST),
                  "Traffic to the VPC is still masqueraded: list 10.0.0.0/16 in "
                  "nonMasqueradeCIDRs."),
            Check(lambda a, c: _masq(c, "10.100.0.5"), _partner_hint),
            Check(lambda a, c: _masq(c, WEB), _internet_hint),
            Check(lambda a, c: not _checked_nodes(c), _check_hint),
            Check(lambda a, c: not _unrouted(c), _route_hint),
            Check(lambda a, c: _vpc_host_reaches_pod(c),
                  lambda a, c: "The monitoring host still does not reach default/a: "
                  + c.trace(VPC_HOST, "default/a").reason),
        ],
        explanation="The ConfigMap's nonMasqueradeCIDRs replaces the default RFC 1918 list "
        "(which contains 10.100.0.0/16); listing only 10.0.0.0/16 (and the pod network) keeps "
        "VPC traffic unmasqueraded and masquerades everything else. That alone is not enough "
        "on AWS: EC2's source/destination check, on each instance's network interface, drops "
        "a packet whose source (sent) or destination (received) is not the instance's "
        "address, so every node needs sourceDestCheck off; and a VPC host's packets to a pod "
        "IP go to the VPC router, whose route table needs each podCIDR routed to its node.",
        solution="b = kl.exercise('4.2').setup()  # ip-masq-agent runs already\n"
        "b.apply('''\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ip-masq-agent, "
        "namespace: kube-system}\ndata:\n  config: |\n    nonMasqueradeCIDRs: [10.0.0.0/16, "
        "10.244.0.0/16]\n''')\n"
        "for n in b.nodes:\n"
        "    b.set_source_dest_check(n.name, False)\n"
        "    b.add_vpc_route(n.pod_cidr, n.name)\nanswer = 'done'",
        cluster_setup=_bridge_cluster,
    ),
]
