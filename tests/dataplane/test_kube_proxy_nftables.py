"""kube-proxy's nftables mode (v1.31, pkg/proxy/nftables/proxier.go at b0f823e6):
names, sets, maps, chains and the ``nft list`` text.

Expected values come from upstream ``proxier_test.go`` (TestOverallNFTablesRules,
TestNoEndpointsReject, TestClusterIPGeneral, TestLoadBalancer) and from a real ``nft
list table ip kube-proxy`` of a v1.31-era node. The lab allocates its own addresses,
so the comparison is on names and structure where the inputs can be made equal
(namespace, Service and port names; the endpoint IPs for endpoint chain names).
"""

import pytest

import kubenet_lab as kl
from kubenet_lab.dataplane import kube_proxy_nftables as kpn


# TestOverallNFTablesRules: the chain names of its expected ruleset
@pytest.mark.parametrize("ns, name, expected", [
    ("ns1", "svc1", "ULMVA6XW-ns1/svc1/tcp/p80"),
    ("ns2", "svc2", "42NFTM6N-ns2/svc2/tcp/p80"),
    ("ns3", "svc3", "4AT6LBPK-ns3/svc3/tcp/p80"),
    ("ns4", "svc4", "LAUZTJTB-ns4/svc4/tcp/p80"),
    ("ns5", "svc5", "HVFWP5L3-ns5/svc5/tcp/p80"),
])
def test_service_chain_names_match_upstream(ns, name, expected):
    assert kpn.chain_name_base(ns, name, "TCP", "p80") == expected


@pytest.mark.parametrize("ns, name, endpoint, expected", [
    ("ns1", "svc1", "10.180.0.1:80", "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"),
    ("ns2", "svc2", "10.180.0.2:80", "SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80"),
    ("ns3", "svc3", "10.180.0.3:80", "UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80"),
    ("ns4", "svc4", "10.180.0.4:80", "UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80"),
    ("ns4", "svc4", "10.180.0.5:80", "5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80"),
    ("ns5", "svc5", "10.180.0.3:80", "GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80"),
])
def test_endpoint_chain_names_match_upstream(ns, name, endpoint, expected):
    assert kpn.endpoint_chain_base(ns, name, "tcp", "p80", endpoint) == expected


def test_real_listing_names():
    """Names from a real v1.31-era ``nft list table ip kube-proxy`` (unnamed port too)."""
    assert kpn.chain_name_base("default", "kubernetes", "TCP", "https") == (
        "2QRHZV4L-default/kubernetes/tcp/https")
    assert kpn.chain_name_base("riset", "hellopod-np-svc", "TCP", None) == (
        "P6J77WGM-riset/hellopod-np-svc/tcp/")
    assert kpn.endpoint_chain_base("riset", "hellopod-np-svc", "tcp", None,
                                   "10.42.4.201:8080") == (
        "VGSZZXMZ-riset/hellopod-np-svc/tcp/__10.42.4.201/8080")


def test_long_names_are_truncated_as_upstream():
    name = "x" * 300
    out = kpn.hash_and_truncate(name)
    assert len(out) == kpn.CHAIN_NAME_BASE_MAX and out.endswith("...")


def _pod(c, ref, node, ip=None):
    ns = ref.split("/")[0]
    if c.store.namespace(ns) is None if hasattr(c.store, "namespace") else False:
        c.add_namespace(ns)
    return c.add_pod(ref, node=node, labels={"app": ref.split("/")[1]},
                     containers=[kl.Container("app", ports=[80])], ip=ip)


def _svc(ns, name, extra="", port_extra=""):
    return (f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\n"
            f"spec:\n  selector: {{app: {name}}}\n{extra}"
            f"  ports: [{{name: p80, port: 80, targetPort: 80{port_extra}}}]\n")


@pytest.fixture(scope="module")
def overall():
    """TestOverallNFTablesRules' Services, built in the lab (addresses differ)."""
    c = kl.Cluster(workers=2, kube_proxy_mode="nftables")
    for ns in ("ns1", "ns2", "ns3", "ns5", "ns6"):
        c.add_namespace(ns)
    c.add_pod("ns1/svc1", node="node-1", labels={"app": "svc1"},
              containers=[kl.Container("app", ports=[80])])
    # svc2's endpoint is not on node-1: eTP Local without local endpoints there
    c.add_pod("ns2/svc2", node="node-2", labels={"app": "svc2"},
              containers=[kl.Container("app", ports=[80])])
    c.add_pod("ns3/svc3", node="node-2", labels={"app": "svc3"},
              containers=[kl.Container("app", ports=[80])])
    c.add_pod("ns5/svc5", node="node-2", labels={"app": "svc5"},
              containers=[kl.Container("app", ports=[80])])
    c.apply([
        _svc("ns1", "svc1"),
        _svc("ns2", "svc2", "  type: LoadBalancer\n  externalTrafficPolicy: Local\n",
             ", nodePort: 30001")
        + "status:\n  loadBalancer:\n    ingress: [{ip: 1.2.3.4}]\n",
        _svc("ns3", "svc3", "  type: NodePort\n", ", nodePort: 30003"),
        _svc("ns5", "svc5", "  type: LoadBalancer\n  sessionAffinity: ClientIP\n",
             ", nodePort: 30002")
        + "status:\n  loadBalancer:\n    ingress: [{ip: 5.6.7.8}]\n",
        _svc("ns6", "svc6"),
    ])
    return c, kpn.kube_proxy_table(c.store, c.node("node-1"))


def _ip(c, ref):
    return c.service(ref).cluster_ip


def test_overall_maps(overall):
    c, t = overall
    ip = {n: _ip(c, f"ns{n}/svc{n}") for n in (1, 2, 3, 5, 6)}
    sips = {k: v[0] for k, v in t.sets["service-ips"].elements.items()}
    assert sips[(ip[1], "tcp", 80)] == "goto service-ULMVA6XW-ns1/svc1/tcp/p80"
    assert sips[(ip[2], "tcp", 80)] == "goto service-42NFTM6N-ns2/svc2/tcp/p80"
    assert sips[("1.2.3.4", "tcp", 80)] == "goto external-42NFTM6N-ns2/svc2/tcp/p80"
    assert sips[(ip[3], "tcp", 80)] == "goto service-4AT6LBPK-ns3/svc3/tcp/p80"
    assert sips[("5.6.7.8", "tcp", 80)] == "goto external-HVFWP5L3-ns5/svc5/tcp/p80"
    nps = {k: v[0] for k, v in t.sets["service-nodeports"].elements.items()}
    assert nps[("tcp", 30001)] == "goto external-42NFTM6N-ns2/svc2/tcp/p80"
    assert nps[("tcp", 30003)] == "goto external-4AT6LBPK-ns3/svc3/tcp/p80"
    assert nps[("tcp", 30002)] == "goto external-HVFWP5L3-ns5/svc5/tcp/p80"
    # svc2: eTP Local and no endpoint on this node; svc6: no endpoints at all
    assert t.sets["no-endpoint-nodeports"].elements == {
        ("tcp", 30001): ("drop", "ns2/svc2:p80")}
    assert t.sets["no-endpoint-services"].elements == {
        ("1.2.3.4", "tcp", 80): ("drop", "ns2/svc2:p80"),
        (ip[6], "tcp", 80): ("goto reject-chain", "ns6/svc6:p80")}
    assert set(t.sets["cluster-ips"].elements) >= {(ip[n],) for n in ip}
    assert t.sets["nodeport-ips"].elements == {(c.node("node-1").ip,): (None, None)}
    assert t.sets["firewall-ips"].elements == {}


def test_overall_chains(overall):
    c, t = overall
    cidr = c.cluster_cidr
    svc2 = "42NFTM6N-ns2/svc2/tcp/p80"
    assert [r.text for r in t.chains[f"external-{svc2}"].rules] == [
        f'ip saddr {cidr} goto service-{svc2} comment "short-circuit pod traffic"',
        'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
        f'fib saddr type local goto service-{svc2} comment "short-circuit local traffic"',
    ]
    assert f"local-{svc2}" not in t.chains  # no local endpoint: no local- chain
    svc3 = "4AT6LBPK-ns3/svc3/tcp/p80"
    assert [r.text for r in t.chains[f"external-{svc3}"].rules] == [
        "jump mark-for-masquerade", f"goto service-{svc3}"]
    ep3 = c.pod("ns3/svc3").ip
    ep_chain = "endpoint-" + kpn.endpoint_chain_base("ns3", "svc3", "tcp", "p80", f"{ep3}:80")
    ip3 = _ip(c, "ns3/svc3")
    assert [r.text for r in t.chains[f"service-{svc3}"].rules] == [
        f"ip daddr {ip3} tcp dport 80 ip saddr != {cidr} jump mark-for-masquerade",
        f"numgen random mod 1 vmap {{ 0 : goto {ep_chain} }}"]
    assert [r.text for r in t.chains[ep_chain].rules] == [
        f"ip saddr {ep3} jump mark-for-masquerade", f"meta l4proto tcp dnat to {ep3}:80"]
    assert not any("ns6/svc6" in name for name in t.chains)  # no chains without endpoints


def test_overall_affinity(overall):
    c, t = overall
    ep5 = c.pod("ns5/svc5").ip
    base = kpn.endpoint_chain_base("ns5", "svc5", "tcp", "p80", f"{ep5}:80")
    aff = t.sets[f"affinity-{base}"]
    assert (aff.type, aff.flags, aff.timeout) == ("ipv4_addr", ("dynamic", "timeout"), 10800)
    svc5 = t.chains["service-HVFWP5L3-ns5/svc5/tcp/p80"].rules
    assert svc5[1].text == f"ip saddr @affinity-{base} goto endpoint-{base}"
    assert [r.text for r in t.chains[f"endpoint-{base}"].rules][1] == (
        f"update @affinity-{base} {{ ip saddr }}")


def test_firewall_chain_for_source_ranges(overall):
    """TestOverallNFTablesRules' svc5 (loadBalancerSourceRanges 203.0.113.0/25); the
    lab's Service record has no source ranges yet, so the block is built directly."""
    c, _ = overall
    svc = c.service("ns5/svc5")
    b = kpn.service_port_block(c.store, c.node("node-1"), svc, svc.ports[0],
                               ("203.0.113.0/25",))
    fw = next(ch for ch in b.chains if ch.name.startswith("firewall-"))
    assert fw.name == "firewall-HVFWP5L3-ns5/svc5/tcp/p80"
    assert [r.text for r in fw.rules] == ["ip saddr != 203.0.113.0/25 drop"]
    assert b.elements["firewall-ips"] == {
        ("5.6.7.8", "tcp", 80): ("goto firewall-HVFWP5L3-ns5/svc5/tcp/p80", None)}
    two = kpn.service_port_block(c.store, c.node("node-1"), svc, svc.ports[0],
                                 ("203.0.113.0/25", "192.168.0.0/24"))
    fw2 = next(ch for ch in two.chains if ch.name.startswith("firewall-"))
    assert fw2.rules[0].text == "ip saddr != { 192.168.0.0/24, 203.0.113.0/25 } drop"


def test_nftables_mode_writes_no_kube_iptables_rules():
    from kubenet_lab.dataplane.iptables import node_tables

    c = kl.Cluster(workers=1, kube_proxy_mode="nftables")
    assert "KUBE-" not in c.iptables_save("node-1")
    merged = "\n".join(line for t in node_tables(c.store, c.node("node-1"))
                        for line in t.chains + t.rules)
    assert "FLANNEL-POSTRTG" in merged  # the CNI's rules stay
    # only the kubelet's KUBE- chains (pkg/kubelet/kubelet_network_linux.go), none of
    # kube-proxy's
    assert {w.split()[0] for w in merged.split(":") if w.startswith("KUBE-")} == {
        "KUBE-FIREWALL", "KUBE-KUBELET-CANARY"}
    assert "KUBE-SERVICES" in kl.Cluster(workers=1).iptables_save("node-1")


def test_iptables_mode_unchanged_by_the_option():
    assert kl.Cluster(workers=1, kube_proxy_mode="iptables").iptables_save("node-1") == (
        kl.Cluster(workers=1).iptables_save("node-1"))


def test_bad_mode_is_refused():
    with pytest.raises(kl.ManifestError, match="kube_proxy_mode"):
        kl.Cluster(kube_proxy_mode="ipvs")
    assert kl.Cluster().kube_proxy_mode == "iptables"


# ---------------------------------------------------------------- nft list text
def test_element_order_as_nft_sorts_it():
    """The order of a real listing's service-ips map (nft's list_expr_sort on a
    little-endian host) and of its cluster-ips set (numeric)."""
    real = [("10.43.0.10", "tcp", 53), ("10.43.0.10", "udp", 53), ("10.43.195.72", "tcp", 8000),
            ("10.43.34.64", "tcp", 3001), ("10.43.0.1", "tcp", 443),
            ("10.43.10.165", "tcp", 443), ("10.43.0.10", "tcp", 9153),
            ("10.43.22.243", "tcp", 4317), ("10.43.22.243", "tcp", 4318)]
    assert sorted(reversed(real), key=kpn._sort_key) == real
    ips = ["10.43.0.1", "10.43.0.10", "10.43.10.165", "10.43.21.102", "10.43.22.243",
           "10.43.34.64", "10.43.195.72"]
    assert sorted(reversed(ips), key=lambda i: kpn._sort_key((i,))) == ips


def test_listing_format_against_a_real_sample():
    c = kl.Cluster(workers=1, kube_proxy_mode="nftables")
    text = kpn.nft_list(c.store, c.node("node-1"))
    assert text.startswith('table ip kube-proxy {\n\tcomment "rules for kube-proxy"\n\n\tset '
                           "cluster-ips {\n\t\ttype ipv4_addr\n\t\tcomment \"Active ClusterIPs\"\n"
                           "\t\telements = { 10.96.0.1, 10.96.0.10 }\n\t}\n")
    assert text.endswith("\t}\n}\n")
    for block in (  # verbatim from the real listing (its tabs)
        "\tchain filter-prerouting {\n\t\ttype filter hook prerouting priority dstnat - 10; "
        "policy accept;\n\t\tct state new jump firewall-check\n\t}\n",
        "\tchain filter-input {\n\t\ttype filter hook input priority -110; policy accept;\n"
        "\t\tct state new jump nodeport-endpoints-check\n"
        "\t\tct state new jump service-endpoints-check\n\t}\n",
        "\tchain filter-output-post-dnat {\n\t\ttype filter hook output priority -90; policy "
        "accept;\n\t\tct state new jump cluster-ips-check\n\t}\n",
        "\tchain nat-output {\n\t\ttype nat hook output priority -100; policy accept;\n"
        "\t\tjump services\n\t}\n",
        "\tchain nat-postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy "
        "accept;\n\t\tjump masquerading\n\t}\n",
        "\tchain masquerading {\n\t\tmeta mark & 0x00004000 == 0x00000000 return\n"
        "\t\tmeta mark set meta mark ^ 0x00004000\n\t\tmasquerade fully-random\n\t}\n",
        "\tchain mark-for-masquerade {\n\t\tmeta mark set meta mark | 0x00004000\n\t}\n",
        "\tchain reject-chain {\n\t\tcomment \"helper for @no-endpoint-services / "
        "@no-endpoint-nodeports\"\n\t\treject\n\t}\n",
        "\tmap no-endpoint-nodeports {\n\t\ttype inet_proto . inet_service : verdict\n"
        "\t\tcomment \"vmap to drop or reject packets to service nodeports with no "
        "endpoints\"\n\t}\n",
        "\t\telements = { 10.96.0.10 . tcp . 53 : goto service-NWBZK7IH-kube-system/kube-dns/"
        "tcp/dns-tcp,\n\t\t\t     10.96.0.10 . udp . 53 : goto service-FY5PMXPG-kube-system/"
        "kube-dns/udp/dns,\n",
    ):
        assert block in text
    # sets and maps first, then chains, in kube-proxy's creation order
    order = [line.split()[1] for line in text.splitlines()
             if line.startswith(("\tset ", "\tmap ", "\tchain "))]
    assert order[:16] == ["cluster-ips", "nodeport-ips", "no-endpoint-services",
                          "no-endpoint-nodeports", "firewall-ips", "service-ips",
                          "service-nodeports", "filter-prerouting", "filter-input",
                          "filter-forward", "filter-output", "filter-output-post-dnat",
                          "nat-prerouting", "nat-output", "nat-postrouting",
                          "nodeport-endpoints-check"]


def test_listing_is_cached_and_pure():
    c = kl.Cluster(workers=1, kube_proxy_mode="nftables")
    a = kpn.nft_list(c.store, c.node("node-1"))
    c.trace("node-1", "10.96.0.1:443")
    assert kpn.nft_list(c.store, c.node("node-1")) is not None
    assert kpn.nft_list(c.store, c.node("node-1")) == a


@pytest.mark.parametrize("hook, prio, text", [
    ("prerouting", -110, "dstnat - 10"), ("prerouting", -100, "dstnat"),
    ("output", -90, "-90"), ("forward", 0, "filter"), ("postrouting", 100, "srcnat"),
    ("input", 100, "100"), ("prerouting", -150, "mangle"),
])
def test_priority_text(hook, prio, text):
    assert kpn.priority_text(hook, prio) == text
