"""Lesson 02's exercises: each solution passes, each hint fits the state it names."""

import hashlib

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


def _bridge_chain(c: kl.Cluster, pod: str) -> str:
    """The bridge plugin's chain of a pod, by containernetworking/plugins pkg/utils
    ``FormatChainName``: "CNI-" and the first 24 hex digits of sha512(network name +
    container id), the container id being the pod sandbox's id as ``crictl`` shows it."""
    name = pod.split("/")[1]
    line = next(row for row in c.exec("node-1", "crictl pods --no-trunc").splitlines()[1:]
                if name in row.split())
    sandbox = line.split()[0]
    return "CNI-" + hashlib.sha512(("bridge" + sandbox).encode()).hexdigest()[:24]


def test_8_5_masquerade_chain():
    c = kl.broken_cluster("masquerade")
    ex = kl.exercise("8.5")
    assert ex.check(_bridge_chain(c, "default/client"), c).passed
    assert "only jumps" in ex.check("POSTROUTING", c).message
    assert "another pod" in ex.check(_bridge_chain(c, "default/web-1"), c).message
    assert "CNI-" in ex.check("MASQ", c).message


def test_8_6_br_netfilter_hints_read_the_nodes_until_repaired():
    c = kl.broken_cluster("no-br-netfilter")
    ex = kl.exercise("8.6")
    first = ex.check("done", c)
    assert not first.passed and "look at the node client runs on" in first.message
    assert "node-1 still has no br_netfilter" in first.message and "modprobe" in first.message
    # sysctl -w cannot create the key of a module that is not loaded
    assert "cannot stat" in c.exec("node-1", "sysctl -w net.bridge.bridge-nf-call-iptables=1")
    assert "node-1 still has no br_netfilter" in ex.check("done", c).message
    # the module on another node changes nothing
    c.exec("node-2", "modprobe br_netfilter")
    assert "node-1 still has no br_netfilter" in ex.check("done", c).message
    # loaded, but the key turned off
    c.exec("node-1", "modprobe br_netfilter")
    c.exec("node-1", "sysctl -w net.bridge.bridge-nf-call-iptables=0")
    assert "= 0 there" in ex.check("done", c).message
    c.exec("node-1", "sysctl -w net.bridge.bridge-nf-call-iptables=1")
    assert ex.check("done", c).passed
    # breaking another node, or forwarding, is named too
    c.exec("node-2", "modprobe -r br_netfilter")
    assert "node-2 still has no br_netfilter" in ex.check("done", c).message
    c.exec("node-2", "modprobe br_netfilter")
    c.exec("node-1", "sysctl -w net.ipv4.ip_forward=0")
    assert "ip_forward = 0 on node-1" in ex.check("done", c).message
    c.exec("node-1", "sysctl -w net.ipv4.ip_forward=1")
    assert ex.check("done", c).passed


def test_8_6_the_solution_passes_and_the_check_leaves_the_cluster_alone():
    c = kl.broken_cluster("no-br-netfilter")
    ex = kl.exercise("8.6")
    assert "modprobe br_netfilter" in ex.show_solution()
    c.exec("node-1", "modprobe br_netfilter")
    before = c.runtime.conntrack("node-1")
    assert ex.check("done", c).passed
    assert c.runtime.conntrack("node-1") == before  # the check walks on a fork


def test_8_6_hiding_the_local_endpoint_is_no_fix():
    c = kl.broken_cluster("no-br-netfilter")
    ex = kl.exercise("8.6")
    c.delete_pod("default/web-1")
    assert "no endpoint on client's node" in ex.check("done", c).message


def test_8_6_a_trace_that_still_fails_is_reported():
    c = kl.broken_cluster("no-br-netfilter")
    ex = kl.exercise("8.6")
    c.exec("node-1", "modprobe br_netfilter")
    c.exec("node-1", f"ip route del {c.node('node-1').pod_cidr}")
    assert "still fails" in kl.exercise("8.6").check("done", c).message
    assert not ex.check("done", c).passed
