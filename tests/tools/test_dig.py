"""``dig``: BIND 9.18's output, and the search list it does not use without +search.

Real samples (CoreDNS on kubeadm, DiG 9.18): ``dig -t A myapp.default.svc.cluster.local
@10.96.0.10`` answers ``myapp.default.svc.cluster.local. 30 IN\\tA\\t10.100.179.119``,
``flags: qr aa rd``, ``;; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)``, ``;; MSG SIZE  rcvd:
119``; ``dig secco`` in a pod is NXDOMAIN with the root's SOA in AUTHORITY.
"""

import pytest

import kubenet_lab as kl


@pytest.fixture
def c():
    c = kl.Cluster(workers=1)
    c.add_pod("default/client", node="node-1")
    c.add_pod("default/myapp-1", node="node-1", labels={"app": "myapp"})
    c.add_service("default/myapp", selector={"app": "myapp"}, ports=[80])
    return c


def test_the_real_answer_shape(c):
    vip = c.service("default/myapp").cluster_ip
    out = c.exec("node-1", "dig -t A myapp.default.svc.cluster.local @10.96.0.10")
    lines = out.splitlines()
    assert lines[:4] == [
        "", "; <<>> DiG 9.18.39-0ubuntu0.24.04.1-Ubuntu <<>> -t A "
        "myapp.default.svc.cluster.local @10.96.0.10", "; (1 server found)",
        ";; global options: +cmd"]
    assert ";; WARNING: .local is reserved for Multicast DNS" in lines
    assert any(line.startswith(";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: ")
               for line in lines)
    assert ";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1" in lines
    assert ";; WARNING: recursion requested but not available" in lines
    assert "; EDNS: version: 0, flags:; udp: 1232" in lines
    assert ";myapp.default.svc.cluster.local. IN\tA" in lines
    assert f"myapp.default.svc.cluster.local. 30 IN\tA\t{vip}" in lines
    assert ";; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)" in lines
    assert lines[-1] == ";; MSG SIZE  rcvd: 119"  # as the real answer for this name
    assert lines[-2].startswith(";; WHEN: Tue Dec 01 09:00:") and lines[-2].endswith(" UTC 2026")


def test_without_search_a_short_name_is_nxdomain(c):
    out = c.exec("default/client", "dig web")
    assert "status: NXDOMAIN" in out and ";web.\t\t\t\tIN\tA" in out
    assert ".\t\t\t30\tIN\tSOA\ta.root-servers.net. nstld.verisign-grs.com." in out
    assert c.exec("default/client", "dig +short myapp") == ""
    vip = c.service("default/myapp").cluster_ip
    assert c.exec("default/client", "dig +short +search myapp") == vip
    out = c.exec("default/client", "dig +search myapp")
    assert "status: NOERROR" in out and ";myapp.default.svc.cluster.local. IN\tA" in out


def test_types_and_reverse(c):
    vip = c.service("default/myapp").cluster_ip
    assert c.exec("default/client", f"dig +short -x {vip}") == (
        "myapp.default.svc.cluster.local.")
    out = c.exec("default/client", "dig +search myapp AAAA")
    assert "status: NOERROR" in out and "ANSWER: 0, AUTHORITY: 1" in out
    assert c.exec("default/client", "dig +short nope.default.svc.cluster.local") == ""
    assert "status: NXDOMAIN" in c.exec("default/client", "dig nope.default.svc.cluster.local")


def test_srv_of_a_named_port(c):
    c.add_service("default/named", selector={"app": "myapp"},
                  ports=[{"name": "http", "port": 80}])
    out = c.exec("default/client", "dig +short -t SRV _http._tcp.named.default.svc.cluster.local")
    assert out == "0 100 80 named.default.svc.cluster.local."


def test_the_node_stub_knows_no_cluster_names(c):
    out = c.exec("node-1", "dig myapp.default.svc.cluster.local")
    assert "status: NXDOMAIN" in out and "udp: 65494" in out
    assert ";; SERVER: 127.0.0.53#53(127.0.0.53) (UDP)" in out


def test_the_query_is_a_connection_and_output_is_stable(c):
    first = c.exec("default/client", "dig +search myapp")
    assert first == c.exec("default/client", "dig +search myapp")
    assert any(e.protocol == "UDP" and e.orig[3] == 53 for e in c.runtime.conntrack("node-1"))


def test_bad_options(c):
    assert c.exec("default/client", "dig +frobnicate web").startswith(
        "Invalid option: +frobnicate\nUsage:  dig [@global-server]")
