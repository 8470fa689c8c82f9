"""br_netfilter on the walk: bridged frames skip iptables and conntrack without it, so a
same-node endpoint's reply to a ClusterIP connection is not un-DNATed (facts-2026 §2)."""

import pytest

import kubenet_lab as kl
from kubenet_lab.scenarios import BROKEN_CLUSTERS, broken_cluster, healthy_cluster


def _to(c, vip, pod, src="default/client"):
    """Trace src -> vip until kube-proxy's random choice is ``pod``."""
    for _ in range(60):
        t = c.trace(src, vip)
        if t.destination_pod == pod:
            return t
    raise AssertionError(f"never balanced to {pod}")


@pytest.fixture
def c():
    c = healthy_cluster()
    c.add_service("default/web", selector={"app": "web"}, ports=[80])
    return c


def test_defaults_keep_every_trace_as_it_was(c):
    base = healthy_cluster()
    base.add_service("default/web", selector={"app": "web"}, ports=[80])
    c.exec("node-1", "sysctl -w net.bridge.bridge-nf-call-iptables=1")
    c.exec("node-1", "sysctl -w net.ipv4.ip_forward=1")
    for dst in ("default/web-1", "default/web-2", base.service("default/web").cluster_ip):
        assert c.trace("default/client", dst) == base.trace("default/client", dst)


def test_a_same_node_endpoint_fails_without_bridge_nf_call_iptables(c):
    vip = c.service("default/web").cluster_ip
    c.exec("node-1", "sysctl -w net.bridge.bridge-nf-call-iptables=0")
    t = _to(c, vip, "default/web-1")
    assert not t.delivered
    assert t.reason.startswith("Connection failed: default/web-1 received the request")
    assert [h.action for h in t.reply] == ["reply", "bridge", "drop"]
    assert "net.bridge.bridge-nf-call-iptables = 0" in t.reply[1].detail
    assert t.reply[2].packet.layers[0].src == "10.244.1.3"  # not un-DNATed
    assert _to(c, vip, "default/web-2").delivered  # routed replies are un-DNATed
    # from another node's pod, web-1 answers through node-1's stack
    c.add_pod("default/far", node="node-2")
    assert _to(c, vip, "default/web-1", src="default/far").delivered


def test_bridged_pod_to_pod_still_works_and_says_it_skips_netfilter(c):
    c.exec("node-1", "sysctl -w net.bridge.bridge-nf-call-iptables=0")
    t = c.trace("default/client", "default/web-1")
    assert t.delivered
    bridge = next(h for h in t.hops if h.action == "bridge")
    assert "skip iptables and conntrack" in bridge.detail
    assert c.runtime.conntrack("node-1") == ()  # nothing saw the bridged frame


def test_policies_are_not_enforced_on_bridged_frames_without_br_netfilter():
    c = healthy_cluster(network_policy="kube-network-policies")
    c.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "deny", "namespace": "default"},
             "spec": {"podSelector": {"matchLabels": {"app": "web"}}}})
    assert not c.trace("default/client", "default/web-1").delivered
    c.exec("node-1", "modprobe -r br_netfilter")
    assert c.trace("default/client", "default/web-1").delivered


def test_the_broken_cluster():
    assert "no-br-netfilter" in BROKEN_CLUSTERS
    c = broken_cluster("no-br-netfilter")
    assert c.exec("node-1", "sysctl net.bridge.bridge-nf-call-iptables").startswith(
        "sysctl: cannot stat /proc/sys/net/bridge/")
    assert c.exec("node-2", "sysctl -n net.bridge.bridge-nf-call-iptables") == "1"
    vip = c.service("default/web").cluster_ip
    t = _to(c, vip, "default/web-1")
    assert not t.delivered and "br_netfilter is not loaded on node-1" in t.reason
    c.exec("node-1", "modprobe br_netfilter")
    assert _to(c, vip, "default/web-1").delivered


def test_the_failure_shows_in_nslookup_when_coredns_is_local():
    c = kl.Cluster(workers=0)
    c.add_pod("default/client", node="control-plane")
    c.exec("control-plane", "sysctl -w net.bridge.bridge-nf-call-iptables=0")
    results = {c.exec("default/client", "nslookup kubernetes").splitlines()[0]
               for _ in range(8)}
    assert ";; connection timed out; no servers could be reached" in results
