"""Lesson 02's exercises: each solution passes, each hint fits the state it names."""

import kubenet_lab as kl


def t_cross():
    c = kl.healthy_cluster()
    return c.trace("default/client", "default/web-2")


def test_2_1_outer_addresses():
    t = t_cross()
    ex = kl.exercise("2.1")
    assert ex.check(("10.0.1.5", "10.0.1.6"), t).passed
    assert "pods' addresses" in ex.check(("10.244.1.2", "10.244.2.2"), t).message
    assert "wrong order" in ex.check(("10.0.1.6", "10.0.1.5"), t).message
    assert "tuple of two" in ex.check("10.0.1.5", t).message
    assert "location is the network" in ex.check(("1.1.1.1", "2.2.2.2"), t).message


def test_2_2_state_based_hints_until_repaired():
    c = kl.broken_cluster("missing-route")
    ex = kl.exercise("2.2")
    assert "still has no route to node-2's podCIDR 10.244.2.0/24" in ex.check("done", c).message
    c.exec("node-1", "ip route add 10.244.2.0/24 via 10.0.1.7")
    fb = ex.check("done", c)
    assert not fb.passed and "via 10.0.1.7, but node-2's address is 10.0.1.6" in fb.message
    c.exec("node-1", "ip route del 10.244.2.0/24")
    c.exec("node-1", "ip route add 10.244.2.0/24 via 10.0.1.6")
    assert ex.check("done", c).passed


def test_2_3_masqueraded_source():
    c = kl.broken_cluster("masquerade")
    t = c.trace("default/client", "default/web-2")
    ex = kl.exercise("2.3")
    assert ex.check("10.0.1.5", t).passed
    assert "ipMasq on" in ex.check(t.src_ip, t).message
    assert "IP address" in ex.check("node-1", t).message
    assert "NAT" in ex.check("10.0.1.6", t).message


def test_2_4_overhead_and_mtu():
    ex = kl.exercise("2.4")
    assert ex.check((50, 1450), None).passed
    assert "Ethernet 14" in ex.check((42, 1450), None).message
    assert "1500 minus" in ex.check((50, 1500), None).message


# ------------------------------------------------------------------ lesson 08
def test_8_1_plugin_capabilities():
    ex = kl.exercise("8.1")
    assert ex.check(("cilium", {"calico", "cilium"}), None).passed
    assert "KUBE-*" in ex.check(("calico", {"calico", "cilium"}), None).message
    assert "no effect" in ex.check(("cilium", {"cilium", "flannel"}), None).message


def test_8_2_missing_route_hints_read_the_routes():
    c = kl.broken_cluster("missing-route")
    ex = kl.exercise("8.2")
    assert ex.check(("node-1", "10.244.2.0/24"), c).passed
    assert "Right node" in ex.check(("node-1", "10.244.3.0/24"), c).message
    assert "route for every other node" in ex.check(("node-2", "10.244.1.0/24"), c).message
    assert "no node here" in ex.check(("node-9", "10.244.1.0/24"), c).message
    assert "tuple" in ex.check("node-1", c).message


def test_8_3_overlap():
    c = kl.broken_cluster("overlapping-podcidr")
    ex = kl.exercise("8.3")
    assert ex.check({"node-2", "node-3"}, c).passed
    assert "do not overlap" in ex.check({"node-1", "node-2"}, c).message
    assert "no node here" in ex.check({"node-1", "node-7"}, c).message


def test_8_4_pod_in_wrong_block():
    c = kl.broken_cluster("wrong-node-cidr")
    ex = kl.exercise("8.4")
    assert ex.check("default/web-2", c).passed
    assert "that fits" in ex.check("default/web-1", c).message
    assert "namespace/name" in ex.check("nobody", c).message


def test_8_5_masquerade_chain():
    c = kl.broken_cluster("masquerade")
    ex = kl.exercise("8.5")
    assert ex.check("CNI-68c0322b9045f0a3b46e9306", c).passed
    assert "only jumps" in ex.check("POSTROUTING", c).message
    assert "another pod" in ex.check("CNI-b7ed701ab0040de8f219db45", c).message
    assert "CNI-" in ex.check("MASQ", c).message
