"""Each CNI plugin changes the devices, the routes and the hops (facts sheet §3.1-3.5)."""

import pytest

import kubenet_lab as kl
from kubenet_lab.dataplane import cni


def cluster(name, **config):
    """Two workers on AWS with EC2's source/destination check off (a routed plugin needs
    it off: tests/walk/test_source_dest_check.py), so every plugin can connect them."""
    c = kl.Cluster(workers=2, cni=name, cni_config=config or None)
    for node in c.nodes:
        c.set_source_dest_check(node.name, False)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/d", node="node-1")
    c.add_pod("default/b", node="node-2")
    return c


def where(t):
    return [(h.location.kind, h.location.name, h.location.interface) for h in t.hops]


def routes(c, node):
    return [str(r) for r in c.dataplane().node_routes(c.node(node))]


@pytest.mark.parametrize("name", kl.CNI_PLUGINS)
def test_every_plugin_connects_every_pod_without_nat(name):
    c = cluster(name)
    for src, dst in [("default/a", "default/b"), ("default/a", "default/d"),
                     ("default/b", "default/a")]:
        t = c.trace(src, dst)
        assert t.delivered, t.reason
        assert t.source_ip_seen == c.pod(src).ip
    assert c.verify_network_model().ok


def test_unknown_cni_and_setting_are_rejected_naming_the_choices():
    with pytest.raises(kl.ManifestError, match="cni.*weave.*bridge, calico, cilium, flannel"):
        kl.Cluster(cni="weave")
    with pytest.raises(kl.ManifestError, match="ipipMode.*'Never', 'Always'"):
        kl.Cluster(cni="calico", cni_config={"ipipMode": "Sometimes"})
    with pytest.raises(kl.ManifestError, match="bridge"):
        kl.Cluster(cni="bridge", cni_config={"ipipMode": "Always"})


# ------------------------------------------------------------------ bridge (KTHW)
def test_bridge_routes_other_podcidrs_via_the_node_ip():
    c = cluster("bridge")
    n2 = c.node("node-2")
    assert f"{n2.pod_cidr} via {n2.ip} dev eth0" in routes(c, "node-1")
    assert not any("flannel" in r for r in routes(c, "node-1"))
    names = {i.name for i in c.dataplane().node_interfaces(c.node("node-1"))}
    assert "cni0" in names and "flannel.1" not in names


def test_bridge_path_is_routed_over_the_vpc_without_encapsulation():
    c = cluster("bridge")
    t = c.trace("default/a", "default/b")
    assert not t.encapsulated
    wire = next(h for h in t.hops if h.location.kind == "network").packet
    assert wire[kl.IPv4].src == c.pod("default/a").ip  # pod addresses on the wire
    assert wire[kl.IPv4].ttl == 63  # node-1 routed it once
    assert cni.plugin(c.store).mtu == 1500


def test_bridge_ipmasq_masquerades_cross_node_pod_traffic_like_kthw():
    c = cluster("bridge", ipMasq=True)
    t = c.trace("default/a", "default/b")
    assert t.delivered and t.source_ip_seen == c.node("node-1").ip
    assert c.trace("default/a", "default/d").source_ip_seen == c.pod("default/a").ip
    nat = c.exec("node-1", "iptables-save -t nat")
    chain = cni.bridge.cni_chain(c.pod("default/a"))
    assert f"-A POSTROUTING -s {c.pod('default/a').ip}/32" in nat
    assert f"-A {chain} -d {c.node('node-1').pod_cidr}" in nat and "-j ACCEPT" in nat
    cni_masq = [line for line in nat.splitlines()
                if line.startswith("-A CNI-") and line.endswith("-j MASQUERADE")]
    assert f"-A {chain} ! -d 224.0.0.0/4" in nat and len(cni_masq) == 2


# ------------------------------------------------------------------ calico
def test_calico_uses_its_pool_and_26_blocks():
    c = cluster("calico")
    assert c.cluster_cidr == "192.168.0.0/16"
    assert [n.pod_cidr for n in c.nodes] == ["192.168.0.0/26", "192.168.0.64/26",
                                             "192.168.0.128/26"]
    assert c.pod("default/a").ip in {"192.168.0.66"}


def test_calico_routes_as_bird_and_felix_write_them():
    # real shape (dustinspecker.com, "Kubernetes networking from scratch: BGP/BIRD"):
    #   blackhole 198.19.21.0/26 proto bird
    #   198.19.21.49 dev cali1b6540bf07c scope link
    #   198.19.21.64/26 via 198.19.0.3 dev ens3 proto bird
    c = cluster("calico")
    table = routes(c, "node-1")
    a = c.pod("default/a")
    veth = cni.plugin(c.store).veth_name(a)
    assert "blackhole 192.168.0.64/26 proto bird" in table
    assert f"{a.ip} dev {veth} scope link" in table
    assert "192.168.0.128/26 via 10.0.1.6 dev eth0 proto bird" in table
    assert veth.startswith("cali") and len(veth) == 15
    assert [str(r) for r in c.dataplane().pod_routes(a)] == [
        "default via 169.254.1.1 dev eth0", "169.254.1.1 dev eth0 scope link"]
    assert c.dataplane().pod_interfaces(a)[1].address == f"{a.ip}/32"


def test_calico_pod_traffic_is_routed_not_bridged():
    c = cluster("calico")
    t = c.trace("default/a", "default/d")  # same node: the node routes it (TTL - 1)
    assert t.hops[0].packet[kl.Ethernet].dst == "ee:ee:ee:ee:ee:ee"
    assert "proxy-ARP" in t.hops[0].detail
    assert t.hops[-1].packet[kl.IPv4].ttl == 63
    assert "cni0" not in {h.location.interface for h in t.hops}


def test_calico_ipip_encapsulates_in_a_second_ip_header():
    c = cluster("calico", ipipMode="Always")
    assert "192.168.0.128/26 via 10.0.1.6 dev tunl0 proto bird onlink" in routes(c, "node-1")
    t = c.trace("default/a", "default/b")
    wire = next(h for h in t.hops if h.location.kind == "network").packet
    ips = [layer for layer in wire.layers if isinstance(layer, kl.IPv4)]
    assert [(i.src, i.dst, i.proto) for i in ips][0] == ("10.0.1.5", "10.0.1.6", "IPIP")
    assert ips[0].length - ips[1].length == 20 and cni.plugin(c.store).mtu == 1480
    assert t.encapsulated and ("node", "node-2", "tunl0") in where(t)


# ------------------------------------------------------------------ cilium
def test_cilium_devices_routes_and_kube_proxy_replacement_opt_in():
    c = cluster("cilium", kubeProxyReplacement=True)
    plugin = cni.plugin(c.store)
    assert plugin.replaces_kube_proxy and plugin.enforces_network_policy
    names = [i.name for i in c.dataplane().node_interfaces(c.node("node-1"))]
    assert {"cilium_host", "cilium_net", "cilium_vxlan"} <= set(names)
    assert all(n.startswith("lxc") for n in names[5:]) and len(names[5]) == 15
    assert "10.244.2.0/24 via 10.244.1.1 dev cilium_host proto kernel src 10.244.1.1 mtu 1450" \
        in routes(c, "node-1")
    # only the kubelet's KUBE- chains stay (pkg/kubelet/kubelet_network_linux.go)
    kube = {w.split()[0] for w in c.exec("node-1", "iptables-save").split(":")
            if w.startswith("KUBE-")}
    assert kube == {"KUBE-FIREWALL", "KUBE-KUBELET-CANARY"}
    # kubeproxy-free.rst: the Helm default is kubeProxyReplacement=false
    assert not cni.plugin(cluster("cilium").store).replaces_kube_proxy


def test_cilium_local_pods_are_redirected_by_ebpf_and_remote_ones_tunnelled():
    c = cluster("cilium")
    t = c.trace("default/a", "default/d")
    assert [h.action for h in t.hops] == ["send", "redirect", "veth", "deliver"]
    # ipv4_local_delivery -> ipv4_l3 decrements the TTL (cilium bpf/lib/local_delivery.h)
    assert t.hops[-1].packet[kl.IPv4].ttl == 63
    t = c.trace("default/a", "default/b")
    assert t.hops[-1].packet[kl.IPv4].ttl == 63  # the sender encapsulates, the receiver routes
    assert ("node", "node-1", "cilium_vxlan") in where(t)
    wire = next(h for h in t.hops if h.location.kind == "network").packet
    assert wire[kl.UDP].dport == 8472


# ------------------------------------------------------------------ flannel untouched
def test_flannel_is_still_the_default_with_its_constants():
    c = kl.Cluster()
    plugin = cni.plugin(c.store)
    assert c.cni == "flannel" and plugin.mtu == 1450 and plugin.tunnel_port == 8472
    assert (cni.VXLAN_VNI, cni.VXLAN_DEVICE) == (1, "flannel.1")
    assert not plugin.enforces_network_policy and not plugin.replaces_kube_proxy


@pytest.mark.parametrize("name,mode,overhead", [("flannel", "VXLAN", 50), ("bridge", "routed", 0),
                                                ("calico", "routed", 50), ("cilium", "VXLAN", 50)])
def test_overhead_and_mtu(name, mode, overhead):
    plugin = cni.plugin(kl.Cluster(cni=name).store)
    assert (plugin.mode, plugin.overhead, plugin.mtu) == (mode, overhead, 1500 - overhead)


def test_cilium_resolves_a_cluster_ip_in_connect_without_kube_proxy():
    c = kl.Cluster(workers=2, cni="cilium", cni_config={"kubeProxyReplacement": True})
    web = c.add_pod("default/web", node="node-2", labels={"app": "web"},
                    containers=[kl.Container("app", ports=[8080])])
    c.add_pod("default/client", node="node-1")
    svc = c.add_service("default/web", selector={"app": "web"},
                        ports=[{"port": 80, "targetPort": 8080}])
    t = c.trace("default/client", svc.cluster_ip, port=80)
    assert t.delivered and t.destination_pod == "default/web"
    # the first packet already goes to the backend: no DNAT hop, no iptables walk
    assert t.hops[0].packet.inner(kl.IPv4).dst == web.ip
    assert t.hops[0].packet[kl.TCP].dport == 8080
    assert not [h for h in t.hops if h.action in ("dnat", "iptables")]
    assert t.source_ip_seen == c.pod("default/client").ip


def test_flannel_walks_kube_proxy_rules_to_a_cluster_ip():
    c = kl.Cluster(workers=2)
    c.add_pod("default/web", node="node-2", labels={"app": "web"},
              containers=[kl.Container("app", ports=[8080])])
    c.add_pod("default/client", node="node-1")
    svc = c.add_service("default/web", selector={"app": "web"},
                        ports=[{"port": 80, "targetPort": 8080}])
    t = c.trace("default/client", svc.cluster_ip, port=80)
    assert t.delivered and [h.action for h in t.hops].count("dnat") == 1


def test_cilium_serves_a_cluster_ip_to_the_node_itself():
    c = kl.Cluster(workers=2, cni="cilium", cni_config={"kubeProxyReplacement": True})
    web = c.add_pod("default/web", node="node-2", labels={"app": "web"},
                    containers=[kl.Container("app", ports=[8080])])
    svc = c.add_service("default/web", selector={"app": "web"},
                        ports=[{"port": 80, "targetPort": 8080}])
    t = c.trace("node-1", svc.cluster_ip, port=80)
    assert t.delivered and t.destination_pod == "default/web"
    assert t.hops[0].packet.inner(kl.IPv4).dst == web.ip


def test_plugin_comparison_matches_each_plugins_overlay():
    rows = {r.plugin: r for r in kl.compare_cni_plugins().rows}
    # facts sheet §3.3-3.5: VXLAN costs 50 bytes (MTU 1450), IP-in-IP 20 (1480), routing 0
    assert (rows["flannel"].mode, rows["flannel"].overhead, rows["flannel"].mtu) == (
        "VXLAN", 50, 1450)
    assert (rows["calico ipipMode=Always"].overhead, rows["calico ipipMode=Always"].mtu) == (
        20, 1480)
    assert (rows["bridge"].mode, rows["bridge"].mtu) == ("routed", 1500)
    assert "flannel.1" in rows["flannel"].devices and "tunl0" in rows[
        "calico ipipMode=Always"].devices
    assert all(r.source_seen and r.source_seen.startswith(("10.244.", "192.168."))
               for r in rows.values())  # no NAT between pods under any plugin
