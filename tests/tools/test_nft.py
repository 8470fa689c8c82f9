"""``nft list`` on a node: kube-proxy's table in nftables mode, nft's errors."""

import pytest

import kubenet_lab as kl
from kubenet_lab.tools.context import Context
from kubenet_lab.tools.nft import nft


def _run(c, where, line):
    return nft(Context(c.dataplane(), where), line.split()[1:])


@pytest.fixture(scope="module")
def nftc():
    return kl.Cluster(workers=1, kube_proxy_mode="nftables")


def test_list_table_and_ruleset(nftc):
    table = _run(nftc, "node-1", "nft list table ip kube-proxy")
    assert table.startswith("table ip kube-proxy {\n\tcomment \"rules for kube-proxy\"\n")
    assert table.endswith("\t}\n}")
    assert _run(nftc, "node-1", "nft list table kube-proxy") == table  # ip by default
    assert _run(nftc, "node-1", "nft list ruleset") == table
    assert _run(nftc, "node-1", "nft list tables") == "table ip kube-proxy"
    assert _run(nftc, "node-1", "nft -n list table ip kube-proxy") == table


def test_list_one_object(nftc):
    assert _run(nftc, "node-1", "nft list chain ip kube-proxy services") == (
        "table ip kube-proxy {\n\tchain services {\n"
        "\t\tip daddr . meta l4proto . th dport vmap @service-ips\n"
        "\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports\n"
        "\t}\n}")
    ips = _run(nftc, "node-1", "nft list map ip kube-proxy service-ips")
    assert "\tmap service-ips {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict" in ips
    assert _run(nftc, "node-1", "nft list set ip kube-proxy nodeport-ips").count(
        f"elements = {{ {nftc.node('node-1').ip} }}") == 1


def test_missing_objects_as_nft_reports_them(nftc):
    assert _run(nftc, "node-1", "nft list table ip nope") == (
        "Error: No such file or directory\nlist table ip nope\n              ^^^^")
    assert _run(nftc, "node-1", "nft list chain ip kube-proxy nope") == (
        "Error: No such file or directory\nlist chain ip kube-proxy nope\n"
        "                         ^^^^")
    assert _run(nftc, "node-1", "nft list map ip kube-proxy cluster-ips").startswith(
        "Error: No such file or directory")  # a set, not a map
    assert _run(nftc, "node-1", "nft list foo").startswith("Error: syntax error")


def test_iptables_mode_has_no_kube_proxy_table():
    c = kl.Cluster(workers=1)
    assert _run(c, "node-1", "nft list table ip kube-proxy") == (
        "Error: No such file or directory\nlist table ip kube-proxy\n              ^^^^^^^^^^")
    assert _run(c, "node-1", "nft list ruleset") == ""


def test_in_a_pod_not_permitted():
    nftc = kl.Cluster(workers=1, kube_proxy_mode="nftables")
    nftc.add_pod("default/p", node="node-1")
    assert "Operation not permitted" in _run(nftc, "default/p", "nft list ruleset")


def test_affinity_members_are_listed():
    c = kl.Cluster(workers=1, kube_proxy_mode="nftables")
    c.add_pod("default/web", node="node-1", labels={"app": "web"},
              containers=[kl.Container("app", ports=[80])])
    c.add_pod("default/client", node="node-1")
    c.add_service("default/web", selector={"app": "web"}, session_affinity="ClientIP",
                  ports=[{"port": 80}])
    before = _run(c, "node-1", "nft list table ip kube-proxy")
    c.trace("default/client", f"{c.service('default/web').cluster_ip}:80")
    after = _run(c, "node-1", "nft list table ip kube-proxy")
    assert c.pod("default/client").ip not in before.split("affinity-")[-1]
    assert f"elements = {{ {c.pod('default/client').ip} }}" in after


def test_registered_in_the_shell():
    shell = pytest.importorskip("kubenet_lab.tools.shell")
    assert shell.COMMANDS["nft"] is nft and shell._PATHS["nft"] == "/usr/sbin/nft"


def test_ten_thousand_services_render_quickly():
    import time

    from kubenet_lab.dataplane.kube_proxy_nftables import nft_list
    c = kl.Cluster(workers=1, kube_proxy_mode="nftables")
    for i in range(5):
        c.add_pod(f"default/web-{i}", node="node-1", labels={"app": "web"},
                  containers=[kl.Container("app", ports=[80])])
    for i in range(2000):
        c.add_service(f"default/s{i}", selector={"app": "web"}, ports=[{"port": 80}])
    start = time.perf_counter()
    text = nft_list(c.store, c.node("node-1"))
    assert time.perf_counter() - start < 3
    assert text.count("\tchain endpoint-") == 2000 * 5 + 7  # + kubernetes and kube-dns
