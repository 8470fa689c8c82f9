"""Cluster.graph(): the topology as networkx sees it, and Reachability.graph()."""

from __future__ import annotations

import networkx as nx
import pytest

import kubenet_lab as kl


def _pods(cni: str) -> kl.Cluster:
    c = kl.Cluster(workers=2, cni=cni)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-1")
    c.add_pod("default/c", node="node-2")
    return c


def _kinds(g: nx.Graph, path: list[str]) -> list[str]:
    return [g.nodes[v]["kind"] for v in path]


def test_a_pod_reaches_a_pod_on_its_node_through_the_bridge_without_the_node_stack():
    """Bridged: eth0 -> veth -> cni0 -> veth -> eth0, never the node's own stack."""
    g = _pods("flannel").graph()
    path = nx.shortest_path(g, "default/a", "default/b")
    assert "node-1:cni0" in path and "node-1" not in path
    assert _kinds(g, path) == ["pod", "veth", "veth", "bridge", "veth", "veth", "pod"]


def test_a_routed_plugin_has_no_bridge_between_pods():
    """Calico: the cali veths end in the node's IP stack, which routes between pods."""
    g = _pods("calico").graph()
    path = nx.shortest_path(g, "default/a", "default/b")
    assert path[3] == "node-1" and not any(g.nodes[v]["kind"] == "bridge" for v in path)


def test_pods_on_two_nodes_meet_on_the_subnet():
    c = _pods("bridge")
    g = c.graph()
    path = nx.shortest_path(g, "default/a", "default/c")
    assert "10.0.1.0/24" in path and g.nodes["10.0.1.0/24"]["kind"] == "subnet"
    assert g.nodes["node-2:eth0"]["address"] == f"{c.node('node-2').ip}/24"


def test_the_cloud_joins_the_graph_with_its_routers():
    c = _pods("flannel")
    c.add_nat_gateway(public_ip="198.51.100.20")
    g = c.graph()
    assert nx.shortest_path(g, "10.0.1.0/24", "internet") == [
        "10.0.1.0/24", "NAT gateway nat-gw", "internet gateway", "internet"]


def test_the_graph_is_read_only_and_follows_the_cluster():
    c = _pods("flannel")
    g = c.graph()
    with pytest.raises(nx.NetworkXError):
        g.add_node("x")
    c.add_pod("default/d", node="node-2")
    assert "default/d" in c.graph() and "default/d" not in g


def test_the_reachability_graph_has_an_edge_per_allowed_connection():
    c = kl.Cluster(workers=1, network_policy="kube-network-policies")
    for name in ("a", "b", "c"):
        c.add_pod(f"default/{name}", labels={"app": name})
    c.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "only-a-to-c"},
             "spec": {"podSelector": {"matchLabels": {"app": "c"}}, "ingress": [
                 {"from": [{"podSelector": {"matchLabels": {"app": "a"}}}]}]}})
    r = c.reachability()
    g = r.graph()
    assert sorted(g.predecessors("default/c")) == ["default/a"]
    assert g.number_of_edges() == sum(r.allowed(s, d) for s in r.pods for d in r.pods
                                      if s != d)
    assert nx.has_path(g, "default/b", "default/c")  # b -> a -> c: lateral movement
    assert g.nodes["default/a"]["namespace"] == "default"
