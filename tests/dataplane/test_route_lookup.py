"""A node's route choice without its whole table (``Dataplane.route``) is the kernel's
longest-prefix match over the table ``ip route`` lists, for every plugin, including
after ``ip route`` edits (tests/benchmark.py measures that it does not grow with the
nodes)."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

import kubenet_lab as kl
from kubenet_lab.dataplane.routing import route_lookup

PLUGINS = [("flannel", {}), ("bridge", {}), ("calico", {}), ("calico", {"ipipMode": "Always"}),
           ("cilium", {})]


def _addresses(c: kl.Cluster) -> list[str]:
    out = ["8.8.8.8", "10.0.1.1", "10.0.0.9", "169.254.1.1", "10.96.0.10", "127.0.0.1"]
    for n in c.nodes:
        net = ip_network(n.pod_cidr)
        out += [n.ip, str(net.network_address), str(net.network_address + 1),
                str(net.network_address + 2), str(net.broadcast_address)]
    out += [p.ip for p in c.pods]
    return out


@pytest.mark.parametrize(("cni", "config"), PLUGINS)
def test_route_is_the_longest_prefix_match_of_the_listed_table(cni, config):
    c = kl.Cluster(workers=4, cni=cni, cni_config=config or None)
    for i in range(6):
        c.add_pod(f"default/p{i}", node=f"node-{i % 3 + 1}")  # node-4 stays empty
    dp = c.dataplane()
    for node in c.nodes:
        table = dp.node_routes(node)
        for ip in _addresses(c):
            assert dp.route(node, ip) == route_lookup(table, ip), (cni, node.name, ip)


def test_route_when_two_nodes_share_a_pod_cidr():
    """lesson 08's broken cluster: the first route installed to a destination stays."""
    c = kl.broken_cluster("overlapping-podcidr")
    dp = c.dataplane()
    for node in c.nodes:
        table = dp.node_routes(node)
        for ip in _addresses(c):
            assert dp.route(node, ip) == route_lookup(table, ip), (node.name, ip)


def test_route_follows_ip_route_edits():
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    b = c.add_pod("default/b", node="node-2")
    c.exec("node-1", f"ip route del {c.node('node-2').pod_cidr}")
    dp = c.dataplane()
    node = c.node("node-1")
    assert dp.route(node, b.ip) == route_lookup(dp.node_routes(node), b.ip)
    assert dp.route(node, b.ip).dst == "default"  # the VPC router's, as the kernel falls back

