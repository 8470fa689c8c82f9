"""``sysctl``: the modelled keys, writes that change the walk, and procps-ng 4's messages."""

import pytest

import kubenet_lab as kl


@pytest.fixture
def c():
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-2")
    return c


def test_the_keys_a_node_has(c):
    out = c.exec("node-1", "sysctl net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables "
                 "net.ipv4.conf.all.rp_filter net.ipv4.conf.all.route_localnet "
                 "net.netfilter.nf_conntrack_max net.ipv4.ip_local_port_range")
    assert out.splitlines() == [
        "net.ipv4.ip_forward = 1", "net.bridge.bridge-nf-call-iptables = 1",
        "net.ipv4.conf.all.rp_filter = 2", "net.ipv4.conf.all.route_localnet = 1",
        "net.netfilter.nf_conntrack_max = 131072",
        "net.ipv4.ip_local_port_range = 32768\t60999"]
    assert c.exec("node-1", "sysctl -n net.ipv4.ip_forward") == "1"
    assert c.exec("node-1", "sysctl -N net.ipv4.ip_forward") == "net.ipv4.ip_forward"


def test_all_is_sorted_and_bounded(c):
    keys = [line.split(" = ")[0] for line in c.exec("node-1", "sysctl -a").splitlines()]
    assert keys == sorted(keys, key=lambda k: k.split("."))
    assert 10 < len(keys) < 40
    assert not any(k.startswith("net.ipv4.vs.") for k in keys)
    assert c.exec("node-1", "sysctl net.bridge").splitlines() == [
        "net.bridge.bridge-nf-call-arptables = 1", "net.bridge.bridge-nf-call-ip6tables = 1",
        "net.bridge.bridge-nf-call-iptables = 1"]


def test_errors_as_procps_prints_them(c):
    assert c.exec("node-1", "sysctl net.ipv4.vs.conntrack") == (
        "sysctl: cannot stat /proc/sys/net/ipv4/vs/conntrack: No such file or directory")
    assert c.exec("node-1", "sysctl -w net.foo=1") == (
        "sysctl: cannot stat /proc/sys/net/foo: No such file or directory")
    assert c.exec("node-1", "sysctl -w net.netfilter.nf_conntrack_count=5") == (
        'sysctl: setting key "net.netfilter.nf_conntrack_count": Operation not permitted')
    assert c.exec("node-1", "sysctl -w net.ipv4.ip_forward") == (
        "sysctl: command line(0): invalid syntax, continuing...")
    assert c.exec("node-1", "sysctl").startswith("\nUsage:\n sysctl [options]")
    assert c.exec("node-1", "sysctl -w net.ipv4.ip_forward=abc") == (
        'sysctl: setting key "net.ipv4.ip_forward": Invalid argument')


def test_a_pod_reads_but_cannot_write(c):
    assert c.exec("default/a", "sysctl net.ipv4.ip_forward") == "net.ipv4.ip_forward = 1"
    assert c.exec("default/a", "sysctl -w net.ipv4.ip_forward=0") == (
        'sysctl: permission denied on key "net.ipv4.ip_forward"')
    assert c.exec("default/a", "sysctl net.ipv4.ip_forward=0") == (
        'sysctl: permission denied on key "net.ipv4.ip_forward"')
    assert c.runtime.ip_forward("node-1")


def test_a_write_is_kept_echoed_and_forked(c):
    assert c.exec("node-1", "sysctl -w net.ipv4.ip_forward=0") == "net.ipv4.ip_forward = 0"
    assert c.exec("node-1", "sysctl net.ipv4.conf.all.forwarding") == (
        "net.ipv4.conf.all.forwarding = 0")
    assert c.exec("node-2", "sysctl -n net.ipv4.ip_forward") == "1"
    scratch = c.runtime.fork()
    scratch.set_sysctl("node-1", "net.ipv4.ip_forward", "1")
    assert not c.runtime.ip_forward("node-1")
    assert c.exec("node-1", "sysctl -q net.ipv4.ip_forward=1") == ""
    assert c.runtime.ip_forward("node-1")


def test_ip_forward_zero_stops_forwarding(c):
    assert c.trace("default/a", "default/b").delivered
    c.exec("node-1", "sysctl -w net.ipv4.ip_forward=0")
    t = c.trace("default/a", "default/b")
    assert not t.delivered
    assert t.hops[-1].action == "drop" and "net.ipv4.ip_forward = 0" in t.hops[-1].detail
    assert "does not forward packets" in t.reason
    assert c.trace("node-1", "default/b").delivered  # the node's own traffic is not forwarded


def test_modprobe_br_netfilter(c):
    assert c.exec("node-1", "modprobe -r br_netfilter") == ""
    assert c.exec("node-1", "sysctl net.bridge.bridge-nf-call-iptables") == (
        "sysctl: cannot stat /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or "
        "directory")
    assert not c.runtime.bridge_nf_call_iptables("node-1")
    c.exec("node-1", "modprobe br_netfilter")
    assert c.exec("node-1", "sysctl -n net.bridge.bridge-nf-call-iptables") == "1"
    assert c.exec("node-1", "modprobe foo") == (
        "modprobe: FATAL: Module foo not found in directory /lib/modules/6.8.0-51-generic")


def test_conntrack_timeouts_follow_the_sysctl(c):
    c.exec("node-1", "sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=600")
    c.trace("default/a", "default/b")
    assert c.runtime.conntrack("node-1")[0].timeout == 599
    assert c.runtime.conntrack("node-2")[0].timeout == 86399
    assert c.exec("node-1", "sysctl -n net.netfilter.nf_conntrack_count") == "1"
