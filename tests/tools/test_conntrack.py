"""``conntrack -L``: the node's table after connections, in conntrack-tools' format.

The expected shape is the real tool's (libnetfilter_conntrack snprintf_default, as in
the sample ``tcp      6 431999 ESTABLISHED src=... dst=... sport=... dport=... src=...
dst=... sport=... dport=... [ASSURED] mark=0 use=1`` and the stderr line ``conntrack
v1.4.x (conntrack-tools): N flow entries have been shown.``), not the code's.
"""

import re

import pytest

import kubenet_lab as kl
from kubenet_lab.scenarios import healthy_cluster

#: The real line of conntrack -L for a TCP connection (conntrack(8), the brief's sample).
REAL_TCP = ("tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=39722 dport=22 "
            "src=10.0.0.2 dst=10.0.0.1 sport=22 dport=39722 [ASSURED] mark=0 use=1")
LINE = re.compile(r"^(tcp|udp|icmp|sctp) +(\d+) (\d+) (?:([A-Z_]+) )?src=(\S+) dst=(\S+) "
                  r"(?:sport=(\d+) dport=(\d+)|type=8 code=0 id=\d+) (\[UNREPLIED\] )?"
                  r"src=(\S+) dst=(\S+) (?:sport=(\d+) dport=(\d+)|type=0 code=0 id=\d+) "
                  r"(\[ASSURED\] )?mark=0 use=1$")


def test_the_pattern_matches_the_real_sample():
    assert LINE.match(REAL_TCP)
    assert REAL_TCP.startswith("tcp      6 ")  # the protocol padded to 8 columns


@pytest.fixture
def c():
    c = healthy_cluster()
    c.add_service("default/web", selector={"app": "web"}, ports=[80])
    return c


def _lines(out):
    return out.splitlines()[:-1]


def test_a_dnat_shows_the_endpoint_as_the_reply_source(c):
    vip = c.service("default/web").cluster_ip
    t = c.trace("default/client", vip)
    assert t.delivered
    ep = c.pod(t.destination_pod).ip
    lines = _lines(c.exec("node-1", "conntrack -L"))
    assert len(lines) == 1
    m = LINE.match(lines[0])
    assert m, lines[0]
    assert m.group(1, 4, 5, 6) == ("tcp", "ESTABLISHED", "10.244.1.2", vip)
    assert m.group(10, 11) == (ep, "10.244.1.2")  # reply from the endpoint
    assert m.group(14) == "[ASSURED] " and m.group(9) is None
    assert m.group(3) == "86399"  # kube-proxy's tcpEstablishedTimeout 24h, less a second
    out = c.exec("node-1", "conntrack -L")
    assert out.splitlines()[-1] == (
        "conntrack v1.4.8 (conntrack-tools): 1 flow entries have been shown.")


def test_every_node_the_packet_passes_tracks_it(c):
    t = c.trace("default/client", "default/web-2")
    assert t.delivered
    for node in ("node-1", "node-2"):
        assert len(_lines(c.exec(node, "conntrack -L"))) == 1
    assert _lines(c.exec("node-3", "conntrack -L")) == []


def test_a_masquerade_shows_as_the_reply_destination(c):
    vip = c.service("default/web").cluster_ip
    c.trace("node-2", vip)  # KUBE-MARK-MASQ: the node's own traffic to a ClusterIP
    m = LINE.match(_lines(c.exec("node-2", "conntrack -L"))[0])
    assert m.group(5) == "10.0.1.6" and m.group(11) == "10.244.2.0"  # flannel.1's address


def test_a_lost_connection_is_unreplied_where_it_was_confirmed(c):
    c.exec("node-1", "ip route del 10.244.2.0/24")
    t = c.trace("default/client", "default/web-2")
    assert not t.delivered  # out of the default route, lost in the VPC
    assert _lines(c.exec("node-1", "conntrack -L")) == [
        "tcp      6 119 SYN_SENT src=10.244.1.2 dst=10.244.2.2 sport=57199 dport=80 "
        "[UNREPLIED] src=10.244.2.2 dst=10.244.1.2 sport=80 dport=57199 mark=0 use=1"]


def test_a_packet_dropped_inside_a_node_leaves_no_entry_there(c):
    c.exec("node-1", "sysctl -w net.ipv4.ip_forward=0")
    assert not c.trace("default/client", "default/web-2").delivered
    # dropped on node-1 before leaving it: nf_conntrack never confirmed the entry
    assert _lines(c.exec("node-1", "conntrack -L")) == []


def test_syn_sent_unreplied_when_the_reply_never_comes():
    c = kl.broken_cluster("no-br-netfilter")
    vip = c.service("default/web").cluster_ip
    while c.trace("default/client", vip).destination_pod != "default/web-1":
        pass
    line = _lines(c.exec("node-1", f"conntrack -L -d {vip}"))[0]
    assert line.startswith("tcp      6 119 SYN_SENT src=10.244.1.2 ")
    assert "[UNREPLIED] src=10.244.1.3 dst=10.244.1.2" in line


def test_filters_and_extended_output(c):
    c.trace("default/client", "default/web-2")
    c.exec("default/client", "nslookup web")
    out = c.exec("node-1", "conntrack -L -p tcp --dport 80")
    assert len(_lines(out)) == 1 and _lines(out)[0].startswith("tcp ")
    assert len(_lines(c.exec("node-1", "conntrack -L -p udp"))) == 1
    assert len(_lines(c.exec("node-1", "conntrack -L -s 10.244.1.2"))) == 2
    assert _lines(c.exec("node-1", "conntrack -L -d 10.9.9.9")) == []
    ext = _lines(c.exec("node-1", "conntrack -L -o extended -p tcp"))[0]
    assert ext.startswith("ipv4     2 tcp      6 ")
    assert c.exec("node-1", "conntrack -C") == "2"


def test_usage_errors_as_conntrack_prints_them(c):
    try_help = "Try `conntrack -h' or 'conntrack --help' for more information."
    assert c.exec("node-1", "conntrack -L --dport 80") == (
        "conntrack v1.4.8 (conntrack-tools): unknown option `--dport'\n" + try_help)
    assert c.exec("node-1", "conntrack -L -p foo") == (
        "conntrack v1.4.8 (conntrack-tools): `foo' unsupported protocol\n" + try_help)
    assert c.exec("node-1", "conntrack -L -d 1.2.3") == (
        "conntrack v1.4.8 (conntrack-tools): Invalid IP address `1.2.3'\n" + try_help)
    assert c.exec("node-1", "conntrack -L -F").startswith(
        "conntrack v1.4.8 (conntrack-tools): Invalid commands combination")
    assert c.exec("node-1", "conntrack -V") == "conntrack v1.4.8 (conntrack-tools)"
    assert c.exec("node-1", "conntrack -h").startswith(
        "Command line interface for the connection tracking system. Version 1.4.8")


def test_a_pod_has_no_cap_net_admin(c):
    assert c.exec("default/client", "conntrack -L") == (
        "conntrack v1.4.8 (conntrack-tools): Operation failed: sorry, you must be root or "
        "get CAP_NET_ADMIN capability to do this")


def test_flush_and_delete(c):
    c.trace("default/client", "default/web-2")
    c.trace("default/client", "default/web-1")
    out = c.exec("node-1", "conntrack -D -d 10.244.1.3")
    assert out.splitlines()[-1] == (
        "conntrack v1.4.8 (conntrack-tools): 1 flow entries have been deleted.")
    assert c.exec("node-1", "conntrack -C") == "1"
    assert c.exec("node-1", "conntrack -F") == (
        "conntrack v1.4.8 (conntrack-tools): connection tracking table has been emptied.")
    assert c.exec("node-1", "conntrack -C") == "0"


def test_ping_and_udp_entries(c):
    c.exec("default/client", f"ping -c 1 {c.pod('default/web-2').ip}")
    c.exec("default/client", "nslookup web")
    lines = _lines(c.exec("node-1", "conntrack -L"))
    icmp = next(line for line in lines if line.startswith("icmp"))
    assert icmp.startswith("icmp     1 29 src=10.244.1.2 dst=10.244.2.2 type=8 code=0 id=1 "
                           "src=10.244.2.2 dst=10.244.1.2 type=0 code=0 id=1 mark=0 use=1")
    udp = next(line for line in lines if line.startswith("udp"))
    assert udp.startswith("udp      17 29 src=10.244.1.2 dst=10.96.0.10 ")
    assert "[UNREPLIED]" not in udp and "[ASSURED]" not in udp


def test_read_only_calls_add_no_entries(c):
    c.add_pod("default/other", node="node-2", labels={"app": "client"})
    c.reachability()
    c.explain("default/client", "default/web-2")
    c.spread("default/client", "default/web", 50)
    c.verify_network_model()
    c.traffic(requests=10)
    for node in ("node-1", "node-2", "node-3"):
        assert c.runtime.conntrack(node) == ()
    c.trace("default/client", "default/web-2")
    assert len(c.runtime.conntrack("node-1")) == 1


def test_a_fork_copies_the_tables(c):
    c.trace("default/client", "default/web-2")
    scratch = c.runtime.fork()
    scratch.flush_conntrack("node-1")
    assert len(c.runtime.conntrack("node-1")) == 1
