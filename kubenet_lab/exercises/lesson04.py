"""Exercises of lesson 04, egress: from a pod to the internet.

The checks compute the right answer from the learner's cluster.
"""

from __future__ import annotations

from typing import Any

from kubenet_lab.api.configmap import IP_MASQ_AGENT
from kubenet_lab.cluster import Cluster
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
    return "Trace c.trace('default/a', '93.184.216.34') and read source_ip_seen."


def _masq(cluster: Cluster, dst: str) -> bool:
    pod = cluster.pod("default/a")
    return ip_masq_agent.masquerade(cluster.store, cluster.node(pod.node), pod.ip,
                                    dst) is not None


EXERCISES = [
    Exercise(
        "4.1",
        "Pod default/a runs on node-1, in the private subnet. From which address does the "
        "web server 93.184.216.34 see its connection?",
        checks=[Check(lambda a, c: str(a).strip() == _seen(c), _seen_hint)],
        explanation="Two translations: node-1 masquerades the pod IP to its own address "
        "(flannel's FLANNEL-POSTRTG), then the NAT gateway rewrites it to its address, which "
        "the internet gateway maps to the NAT gateway's Elastic IP.",
        solution="answer = c.trace('default/a', '93.184.216.34').source_ip_seen",
    ),
    Exercise(
        "4.2",
        "In the bridge cluster (no masquerade by the CNI plugin), configure ip-masq-agent "
        "with a kube-system/ip-masq-agent ConfigMap so that pod traffic to the VPC "
        "(10.0.0.0/16) keeps the pod IP, while traffic to the partner network 10.100.0.0/16 "
        "and to the internet is masqueraded.",
        checks=[
            Check(lambda a, c: c.store.has_addon(ip_masq_agent.ADDON),
                  "ip-masq-agent is not running: c.add_ip_masq_agent()."),
            Check(lambda a, c: c.store.config_map(IP_MASQ_AGENT) is not None,
                  "Apply a ConfigMap named ip-masq-agent in kube-system, with a key config."),
            Check(lambda a, c: not _masq(c, "10.0.1.200"),
                  "Traffic to the VPC is still masqueraded: list 10.0.0.0/16 in "
                  "nonMasqueradeCIDRs."),
            Check(lambda a, c: _masq(c, "10.100.0.5"),
                  "Traffic to 10.100.0.0/16 is not masqueraded: your list replaces the "
                  "defaults, so do not list 10.0.0.0/8 (it contains 10.100.0.0/16)."),
            Check(lambda a, c: _masq(c, WEB),
                  "Traffic to the internet is not masqueraded: remove the CIDR that covers "
                  "93.184.216.34."),
        ],
        explanation="The ConfigMap's nonMasqueradeCIDRs replaces the default RFC 1918 list "
        "(which contains 10.100.0.0/16); listing only 10.0.0.0/16 (and the pod network) keeps "
        "VPC traffic unmasqueraded and masquerades everything else.",
        solution="c.add_ip_masq_agent()\n"
        "c.apply('''\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ip-masq-agent, "
        "namespace: kube-system}\ndata:\n  config: |\n    nonMasqueradeCIDRs: [10.0.0.0/16, "
        "10.244.0.0/16]\n''')",
    ),
]
