"""verify_network_model checks the three rules of the network model (facts sheet §6)."""

import pytest

import kubenet_lab as kl


@pytest.mark.parametrize("cni", kl.CNI_PLUGINS)
def test_healthy_clusters_pass_every_rule(cni):
    r = kl.healthy_cluster(cni).verify_network_model()
    assert r.ok and [rule.ok for rule in r.rules] == [True, True, True]
    assert not r.problems
    assert "Verdict: the cluster follows the network model." in str(r)


def test_a_deleted_route_names_the_pair_and_the_hop():
    c = kl.broken_cluster("missing-route")
    r = c.verify_network_model()
    assert not r.ok and r.rules[0].ok and not r.rules[1].ok
    p = r.problems[0]
    assert (p.src_node, p.dst_node) == ("node-1", "node-2")
    assert c.pod(p.dst).node == "node-2"
    t = c.trace(p.src, p.dst)
    assert t.hops[p.hop - 1].location.kind == "network"  # it left by the default route
    assert str(t.hops[p.hop - 1].location) == p.where


def test_masquerading_cni_breaks_no_nat_at_the_node_that_rewrites():
    r = kl.broken_cluster("masquerade").verify_network_model()
    assert not r.rules[1].ok and r.rules[0].ok
    p = r.problems[0]
    assert "rewritten" in p.detail and "MASQUERADE" in p.detail
    assert p.where == f"node {p.src_node} eth0"
    # one representative stands for every cross-node pair of the regular nodes
    assert p.pairs > 1


def test_overlapping_podcidrs_fail_rule_one_and_paths():
    r = kl.broken_cluster("overlapping-podcidr").verify_network_model()
    assert not r.rules[0].ok and not r.rules[1].ok
    first = r.rules[0].problems[0]
    assert {first.src, first.dst} == {"node-2", "node-3"} and "overlap" in first.detail


def test_pod_outside_its_nodes_block_is_unreachable():
    c = kl.broken_cluster("wrong-node-cidr")
    r = c.verify_network_model()
    assert any(p.dst == "default/web-2" for p in r.rules[1].problems)
    assert any(p.dst == "default/web-2" and p.src == "node-2" for p in r.rules[2].problems)


def test_broken_cluster_rejects_unknown_names():
    with pytest.raises(kl.NotFoundError, match="missing-route"):
        kl.broken_cluster("nope")


def test_grouping_keeps_the_trace_count_small():
    c = kl.Cluster(workers=9)
    for i in range(200):
        c.add_pod(f"default/p{i}")
    r = c.verify_network_model()
    assert r.ok and r.traces <= 3
    assert r.pairs == len(c.pods) * (len(c.pods) - 1)
    c.exec("node-4", "ip route del " + c.node("node-5").pod_cidr)
    r = c.verify_network_model()
    assert not r.ok and r.traces <= 3 + 2 * len(c.nodes) + 1
    assert {(p.src_node, p.dst_node) for p in r.problems} == {("node-4", "node-5")}


def test_a_route_edit_that_singles_out_one_pod_is_found():
    c = kl.healthy_cluster("bridge")
    web3 = c.pod("default/web-3")
    # via an address of the subnet that no machine has: the kernel accepts it (on-link)
    assert c.exec("node-1", f"ip route add {web3.ip}/32 via 10.0.1.50") == ""
    r = c.verify_network_model()
    assert any(p.dst == web3.ref for p in r.problems)


def test_views_text_html_and_picture():
    r = kl.broken_cluster("missing-route").verify_network_model()
    text = str(r)
    assert "[FAIL] 2." in text and "x default/" in text and "How it scales" in text
    html = r._repr_html_()
    assert "FAIL" in html and "<table" in html and html == r._repr_html_()
    fig = r.draw()
    assert "1 problem" in fig.axes[0].get_title()
    assert repr(r) == f"<NetworkModelReport cni=bridge 1 problem, {r.traces} traces>"


def test_traffic_is_deterministic_and_counts_overlay_bytes():
    c = kl.healthy_cluster()
    r1, r2 = c.traffic(requests=30, seed=5), c.traffic(requests=30, seed=5)
    assert r1 == r2 and str(r1) == str(r2)
    assert r1 != c.traffic(requests=30, seed=6)
    # flannel: 50 bytes of VXLAN per packet between nodes; bridge: none
    flow = [kl.Flow("default/client", "default/web-2", requests=1, response_bytes=1410)]
    one = c.traffic(flow)
    packets = 1 + 1 + 7  # request, one full-MSS response segment (1450 - 40), handshake
    assert one.overlay_total == 50 * packets
    assert one.wire_total == 400 + 1410 + packets * 54 + 50 * packets
    assert kl.healthy_cluster("bridge").traffic(flow).overlay_total == 0
    same = c.traffic([kl.Flow("default/client", "default/web-1")])
    assert same.wire_total == 0 and same.local_bytes == {"node-1": 4400}
