"""Lesson 02's exercises: each solution passes, each hint fits the state it names."""

import hashlib

import pytest

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


# RFC 7348 section 5: outer Ethernet 14, outer IPv4 20, UDP 8, VXLAN 8 bytes.
@pytest.mark.parametrize("answer, hint", [
    ((36, 1450), "missing: outer Ethernet"),
    ((30, 1450), "missing: outer IPv4"),
    ((42, 1450), "missing: UDP or VXLAN"),
    ((8, 1450), "the VXLAN header alone"),
    ((64, 1450), "Too many"),
    ((50, 1500), "the VPC link's MTU"),
    ((50, 1550), "not on top of it"),
    ((50, 1400), "ip addr"),
])
def test_2_4_each_wrong_sum_gets_its_hint(answer, hint):
    fb = kl.exercise("2.4").check(answer, None)
    assert not fb.passed and hint in fb.message
    # the answer stays unsaid
    assert not {"50", "1450"} & set(fb.message.replace(",", " ").replace(".", " ").split())


def test_2_4_overhead_and_mtu():
    assert kl.exercise("2.4").check((50, 1450), None).passed


# ------------------------------------------------------------------ lesson 08
def test_8_1_plugin_capabilities():
    ex = kl.exercise("8.1")
    assert ex.check(("cilium", {"calico", "cilium"}), None).passed
    # Calico's eBPF data plane replaces kube-proxy (docs.tigera.io, "Enabling the eBPF data
    # plane"), its iptables data plane, the one the lab models, does not
    assert "eBPF data plane" in ex.check(("calico", {"calico", "cilium"}), None).message
    assert "flannel connects pods and nothing more" in ex.check(
        ("flannel", {"calico", "cilium"}), None).message
    assert "lower case" in ex.check(("Cilium", {"calico", "cilium"}), None).message
    assert "none of the lab's plugins" in ex.check(("weave", set()), None).message
    assert "flannel connects pods but does not implement NetworkPolicy" in ex.check(
        ("cilium", {"cilium", "flannel"}), None).message
    assert "One more of the four" in ex.check(("cilium", {"cilium"}), None).message
    assert "set of names" in ex.check(("cilium", "calico"), None).message


def test_8_2_missing_route_hints_read_the_routes():
    c = kl.broken_cluster("missing-route")
    ex = kl.exercise("8.2")
    assert ex.check(("node-1", "10.244.2.0/24"), c).passed
    assert "Right node" in ex.check(("node-1", "10.244.3.0/24"), c).message
    assert "route for every other node" in ex.check(("node-2", "10.244.1.0/24"), c).message
    assert "c_lab_a.exec(<node>, 'ip route')" in ex.check(("node-2", "10.244.1.0/24"), c).message
    assert "prefix length" in ex.check(("node-1", "10.244.2.0"), c).message
    assert "node-1's own block" in ex.check(("node-1", "10.244.1.0/24"), c).message
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
    # the right pod without its namespace is no fit: the answer names the namespace
    fb = ex.check("web-2", c)
    assert not fb.passed and "namespace too" in fb.message and "that fits" not in fb.message
    assert "There is no pod default/nobody" in ex.check("default/nobody", c).message


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
    assert "default/web-1, another pod" in ex.check(_bridge_chain(c, "default/web-1"), c).message
    assert "no chain of that name" in ex.check("CNI-0123", c).message
    assert "marked (0x4000)" in ex.check("KUBE-POSTROUTING", c).message
    assert "is the target" in ex.check("MASQUERADE", c).message
    assert "iptables -t nat -S POSTROUTING" in ex.check("MASQ", c).message


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
