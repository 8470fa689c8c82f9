"""Calico v3.30's operator quickstart (manifests/custom-resources.yaml: 192.168.0.0/16,
blockSize 26, VXLANCrossSubnet, natOutgoing) and the manifest install
(manifests/calico.yaml: CALICO_IPV4POOL_IPIP Always, tunl0 MTU 1480)."""

import kubenet_lab as kl
from kubenet_lab.dataplane import cni


def test_quickstart_routes_same_subnet_nodes_over_bgp_unencapsulated():
    c = kl.Cluster(workers=2, cni="calico")
    assert c.store.config.cluster_cidr == "192.168.0.0/16"
    assert c.node("node-1").pod_cidr.endswith("/26")
    for node in c.nodes:  # on AWS, unencapsulated pod traffic needs the check off
        c.set_source_dest_check(node.name, False)
    c.add_pod("default/a", node="node-1")
    b = c.add_pod("default/b", node="node-2")
    route = f"{c.node('node-2').pod_cidr} via {c.node('node-2').ip} dev eth0 proto bird"
    assert route in c.exec("node-1", "ip route").splitlines()
    t = c.trace("default/a", "default/b")
    assert t.delivered and t.hops[-1].packet[kl.IPv4].dst == b.ip
    assert not [h for h in t.hops if h.action == "encapsulate"]


def test_quickstart_crosses_subnets_through_vxlan_calico():
    c = kl.Cluster(workers=2, cni="calico")
    c.add_node("node-3", public_ip="203.0.113.7")  # the VPC's public subnet
    assert c.node("node-3").subnet != c.node("node-1").subnet
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/far", node="node-3")
    far = c.node("node-3")
    plugin = cni.plugin(c.store)
    route = f"{far.pod_cidr} via {plugin.vxlan_ip(far)} dev vxlan.calico onlink"
    assert route in c.exec("node-1", "ip route").splitlines()
    t = c.trace("default/a", "default/far")
    assert t.delivered
    wire = next(h for h in t.hops if h.location.kind == "network").packet
    assert wire[kl.UDP].dport == 4789  # felix's vxlanPort default; VNI 4096
    assert "vxlan id 4096" in c.exec("node-1", "ip -d link show vxlan.calico")


def test_manifest_install_is_ipip_always():
    c = kl.Cluster(workers=2, cni="calico", cni_config={"install": "manifest"})
    plugin = cni.plugin(c.store)
    assert (plugin.encapsulation, plugin.mtu) == ("IPIP", 1480)
    route = f"{c.node('node-2').pod_cidr} via {c.node('node-2').ip} dev tunl0 proto bird onlink"
    assert route in c.exec("node-1", "ip route").splitlines()
