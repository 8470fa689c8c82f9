"""Cilium beside kube-proxy (the Helm default) and with its kube-proxy replacement.

Expected values come from cilium/cilium Documentation/network/kubernetes/kubeproxy-free.rst
("By default, Helm sets kubeProxyReplacement=false, which only enables per-packet
in-cluster load-balancing of ClusterIP services") and pkg/datapath/iptables/iptables.go
(the chains, feeders and CILIUM_POST_nat rules, tunnel mode), as iptables-save prints them
on a real node.
"""

import pytest

import kubenet_lab as kl


def cluster(**config):
    c = kl.Cluster(workers=2, cni="cilium", cni_config=config or None)
    c.add_pod("default/web", node="node-2", labels={"app": "web"},
              containers=[kl.Container("app", ports=[8080])])
    c.add_pod("default/client", node="node-1")
    c.add_service("default/web", selector={"app": "web"}, ports=[{"port": 80, "targetPort": 8080}])
    return c


def lines(c, node="node-1"):
    return c.exec(node, "iptables-save").splitlines()


def test_default_keeps_kube_proxy_chains_and_adds_ciliums_own():
    out = lines(cluster())
    assert any(line.startswith("-A KUBE-SERVICES") for line in out)
    for chain, hook in [("CILIUM_PRE_nat", "PREROUTING"), ("CILIUM_OUTPUT_nat", "OUTPUT"),
                        ("CILIUM_POST_nat", "POSTROUTING"), ("CILIUM_INPUT", "INPUT"),
                        ("CILIUM_FORWARD", "FORWARD"), ("CILIUM_OUTPUT", "OUTPUT")]:
        assert f"-A {hook} -m comment --comment \"cilium-feeder: {chain}\" -j {chain}" in out
    # node-1's podCIDR 10.244.1.0/24, router IP (cilium_host) 10.244.1.1
    assert ('-A CILIUM_POST_nat -s 10.244.1.0/24 ! -d 10.244.1.0/24 ! -o cilium_+ -m comment '
            '--comment "cilium masquerade non-cluster" -j MASQUERADE') in out
    assert ('-A CILIUM_POST_nat ! -s 10.244.1.0/24 ! -d 10.244.1.0/24 -o cilium_host -m comment '
            '--comment "cilium host->cluster masquerade" -j SNAT --to-source 10.244.1.1') in out
    assert ('-A CILIUM_FORWARD -o cilium_host -m comment --comment '
            '"cilium: any->cluster on cilium_host forward accept" -j ACCEPT') in out


def test_bpf_masquerade_empties_cilium_post_nat_but_keeps_the_chains():
    out = lines(cluster(kubeProxyReplacement=True, **{"bpf.masquerade": True}))
    assert ":CILIUM_POST_nat - [0:0]" in out
    assert not [line for line in out if line.startswith("-A CILIUM_POST_nat")]
    assert not [line for line in out if "KUBE-SERVICES" in line]


def test_bpf_masquerade_needs_the_kube_proxy_replacement():
    with pytest.raises(kl.ManifestError, match="bpf.masquerade.*kube-proxy replacement"):
        kl.Cluster(cni="cilium", cni_config={"bpf.masquerade": True})


def test_replacement_has_no_kube_chains_but_ciliums():
    out = lines(cluster(kubeProxyReplacement=True))
    assert not [line for line in out if "KUBE-SVC" in line or "KUBE-SERVICES" in line]
    assert any("cilium masquerade non-cluster" in line for line in out)


def test_default_pod_to_cluster_ip_is_dnated_per_packet_by_bpf_lxc():
    c = cluster()
    svc = c.service("default/web")
    t = c.trace("default/client", svc.cluster_ip, port=80)
    assert t.delivered and t.destination_pod == "default/web"
    assert t.hops[0].packet.inner(kl.IPv4).dst == svc.cluster_ip  # no socket LB
    dnat = [h for h in t.hops if h.action == "dnat"]
    assert len(dnat) == 1 and dnat[0].location.interface.startswith("lxc")
    assert not [h for h in t.hops if h.action == "iptables"]  # KUBE-SERVICES never sees it
    assert t.reply[-1].packet[kl.IPv4].src == svc.cluster_ip


def test_default_node_to_cluster_ip_goes_through_kube_proxy():
    c = cluster()
    svc = c.service("default/web")
    t = c.trace("node-1", svc.cluster_ip, port=80)
    assert t.delivered and any("KUBE-SERVICES" in h.detail for h in t.hops)


def test_replacement_resolves_in_connect():
    c = cluster(kubeProxyReplacement=True)
    svc = c.service("default/web")
    t = c.trace("default/client", svc.cluster_ip, port=80)
    assert t.hops[0].packet.inner(kl.IPv4).dst == c.pod("default/web").ip
    assert not [h for h in t.hops if h.action in ("dnat", "iptables")]
