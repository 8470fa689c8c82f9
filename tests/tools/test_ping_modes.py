"""``ping`` to a ClusterIP, and -W, -i, -s as iputils prints them."""

import pytest

import kubenet_lab as kl
from kubenet_lab.tools.context import Context
from kubenet_lab.tools.ping import clusterip_icmp


@pytest.fixture
def c():
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/web", node="node-2", labels={"app": "web"})
    c.add_service("default/web", selector={"app": "web"}, ports=[80])
    return c


def test_a_clusterip_answers_no_ping_in_iptables_mode(c):
    vip = c.service("default/web").cluster_ip
    assert c.exec("default/a", f"ping -c 3 {vip}").splitlines() == [
        f"PING {vip} ({vip}) 56(84) bytes of data.", "", f"--- {vip} ping statistics ---",
        "3 packets transmitted, 0 received, 100% packet loss, time 2040ms"]
    # the connection on its Service port works
    assert c.trace("default/a", vip).delivered
    entry = c.runtime.conntrack("node-1")[0]
    assert entry.protocol == "ICMP" and not entry.replied and entry.orig[1] == vip


def test_the_nftables_hook(c):
    vip = c.service("default/web").cluster_ip
    ctx = Context(c.dataplane(), "default/a")
    assert clusterip_icmp(ctx, vip) == "lost"
    assert clusterip_icmp(ctx, c.pod("default/web").ip) is None


def test_size_interval_and_timeout(c):
    ip = c.pod("default/web").ip
    out = c.exec("default/a", f"ping -c 2 -s 100 -i 0.5 -W 2 {ip}").splitlines()
    assert out[0] == f"PING {ip} ({ip}) 100(128) bytes of data."
    assert out[1].startswith(f"108 bytes from {ip}: icmp_seq=1 ttl=62 time=")
    assert out[5].startswith("2 packets transmitted, 2 received, 0% packet loss, time 5")
    small = c.exec("default/a", f"ping -c 1 -s 8 {ip}").splitlines()
    assert small[1] == f"16 bytes from {ip}: icmp_seq=1 ttl=62"  # no room for a timestamp
    # iputils only warns about garbage in -W (ping_strtod)
    assert c.exec("default/a", f"ping -c 1 -W abc {ip}").splitlines()[:2] == [
        "ping: option argument contains garbage: abc",
        "ping: this will become fatal error in the future"]
    assert c.exec("default/a", f"ping -c 1 -i -1 {ip}") == "ping: bad timing interval: -1"


def test_a_ping_is_deterministic(c):
    ip = c.pod("default/web").ip
    assert c.exec("default/a", f"ping -c 2 {ip}") == c.exec("default/a", f"ping -c 2 {ip}")


def test_nftables_mode_rejects_from_the_senders_node():
    # the node rejects the echo it forwards (cluster-ips-check): icmp_send answers from
    # the node's address on the route back, not from the cluster IP nothing owns
    c = kl.Cluster(workers=2, kube_proxy_mode="nftables")
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/web", node="node-2", labels={"app": "web"})
    vip = c.add_service("default/web", selector={"app": "web"}, ports=[80]).cluster_ip
    out = c.exec("default/a", f"ping -c 2 {vip}").splitlines()
    assert out[1:3] == [f"From 10.244.1.1 icmp_seq={n} Destination Port Unreachable"
                        for n in (1, 2)]
    assert out[-1].startswith("2 packets transmitted, 0 received, +2 errors, 100% packet loss")
    node = c.exec("node-1", f"ping -c 1 {vip}").splitlines()
    assert node[1] == f"From {c.node('node-1').ip} icmp_seq=1 Destination Port Unreachable"
