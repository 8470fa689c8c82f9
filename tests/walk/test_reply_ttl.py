"""The TTL of replies: each router on the way back decrements it, as on the way out.

Facts (not the lab's output): a Linux host sends with ``net.ipv4.ip_default_ttl`` = 64
(kernel default); a router decrements the TTL of each packet it forwards by one (RFC 1812
§5.3.1; ``ip_forward`` -> ``ip_decrease_ttl``); a bridge does not (it switches frames);
a packet a node delivers to itself is not forwarded. flannel's cross-node path is routed
by both nodes (the sender's node into flannel.1, the receiver's out to cni0); a pod's
packet to a ClusterIP goes to its gateway, so its node routes it, while the endpoint's
reply to a client on the same cni0 is switched on the bridge (on-link route) and
conntrack undoes the DNAT there (br_netfilter).
"""

from __future__ import annotations

import re

import pytest

import kubenet_lab as kl


def _ttl(packet) -> int:
    return packet.inner(kl.IPv4).ttl


@pytest.fixture
def c() -> kl.Cluster:
    c = kl.Cluster(workers=3)
    c.add_pod("default/client", node="node-1")
    c.add_pod("default/far", node="node-2", labels={"app": "far"})
    c.add_pod("default/near", node="node-1", labels={"app": "near"})
    c.add_pod("default/other", node="node-3")
    c.apply("""
apiVersion: v1
kind: Service
metadata: {name: far}
spec: {selector: {app: far}, ports: [{port: 80}], type: NodePort}
---
apiVersion: v1
kind: Service
metadata: {name: near}
spec: {selector: {app: near}, ports: [{port: 80}]}
""")
    return c


def _vip(c: kl.Cluster, name: str) -> str:
    return c.get("Service", f"default/{name}")["spec"]["clusterIP"]


def test_pod_to_service_on_another_node_two_routers_back(c):
    t = c.trace("default/client", _vip(c, "far"))
    assert t.delivered and t.destination_pod == "default/far"
    assert _ttl(t.reply[0].packet) == 64  # the endpoint sends
    assert _ttl(t.reply[-1].packet) == 62  # node-2 routes, node-1 routes


def test_pod_to_service_on_the_same_node_reply_is_bridged(c):
    t = c.trace("default/client", _vip(c, "near"))
    assert t.delivered and t.destination_pod == "default/near"
    assert _ttl(t.hops[-1].packet) == 63  # the request: routed by node-1 (to the VIP)
    assert _ttl(t.reply[-1].packet) == 64  # the reply: switched on cni0


def test_node_to_service_one_router_back(c):
    t = c.trace("node-1", _vip(c, "far"))
    assert t.delivered
    assert _ttl(t.reply[-1].packet) == 63  # node-2 routes; node-1 receives it itself


def test_nodeport_from_a_third_node_three_routers_back(c):
    port = c.get("Service", "default/far")["spec"]["ports"][0]["nodePort"]
    t = c.trace("default/other", f"{c.node('node-1').ip}:{port}")
    assert t.delivered and t.destination_pod == "default/far"
    # back: node-2 routes, node-1 routes (conntrack undoes DNAT and masquerade), node-3 routes
    conntrack = next(h for h in t.reply if h.action == "conntrack")
    assert _ttl(conntrack.packet) == 62
    assert _ttl(t.reply[-1].packet) == 61


def _ping_ttl(c: kl.Cluster, where: str, dst: str) -> int:
    out = c.exec(where, f"ping -c 1 {dst}")
    return int(re.search(r"ttl=(\d+)", out).group(1))


def _pod_ip(c: kl.Cluster, ref: str) -> str:
    return c.get("Pod", ref)["status"]["podIP"]


@pytest.mark.parametrize(("where", "dst", "expected"), [
    ("default/client", "pod:default/far", 62),   # node-2, node-1
    ("default/client", "pod:default/near", 64),  # bridged on cni0
    ("default/client", "node:node-2", 63),       # node-1 forwards it to the pod
    ("default/client", "node:node-1", 64),       # its own node answers
    ("node-1", "pod:default/far", 63),           # node-2 routes
    ("node-1", "node:node-2", 64),               # one L2 hop, no router
])
def test_ping_reply_ttl(c, where, dst, expected):
    kind, ref = dst.split(":", 1)
    ip = _pod_ip(c, ref) if kind == "pod" else c.node(ref).ip
    assert _ping_ttl(c, where, ip) == expected


def test_an_internet_reply_is_routed_by_the_pods_node_on_its_way_back():
    """Pod -> internet through the NAT gateway: the request crossed one router of the
    lab (the pod's node forwarded it, 64 -> 63), so the internet host's reply is routed
    by that node too and reaches the pod with 63 (the internet's own routers are not
    modelled); from the node itself nothing forwards it: 64."""
    c = kl.Cluster(workers=1)
    c.add_nat_gateway(public_ip="198.51.100.20")
    c.add_pod("default/a")
    reply = c.trace("default/a", "93.184.216.34").reply
    assert reply[-1].action == "deliver" and reply[-1].packet.inner(kl.IPv4).ttl == 63
    assert c.trace("node-1", "93.184.216.34").reply[-1].packet.inner(kl.IPv4).ttl == 64
