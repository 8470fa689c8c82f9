"""Hairpin: a pod connecting to a Service whose chosen endpoint is the pod itself.

- containernetworking/plugins plugins/main/bridge/bridge.go: ``NetConf.HairpinMode`` is
  a plain bool (false unless the configuration sets it); ``setupVeth`` calls
  ``netlink.LinkSetHairpin(hostVeth, hairpinMode)`` on each host veth. Kubernetes the
  Hard Way's ``10-bridge.conf`` does not set it.
- flannel Documentation/kube-flannel.yml, ``cni-conf.json``: ``"delegate":
  {"hairpinMode": true, "isDefaultGateway": true}``.
- The kernel: with br_netfilter the Service DNAT happens in the bridge's PREROUTING
  hook, and a DNATed packet whose route goes out of the bridge is bridged again
  (net/bridge/br_netfilter_hooks.c ``br_nf_pre_routing_finish``, ``bridged_dnat``);
  net/bridge/br_forward.c ``should_deliver`` forwards out of the port the frame came
  in on only with ``BR_HAIRPIN_MODE``. Without br_netfilter the IP stack DNATs and the
  bridge device itself transmits, which ``should_deliver`` allows.
- kube-proxy marks the endpoint's own connections for masquerade (the KUBE-SEP
  chain's ``-s <endpoint>/32 -j KUBE-MARK-MASQ``), so a hairpinned request arrives
  from the bridge's address.
"""

import pytest

import kubenet_lab as kl
from kubenet_lab.exceptions import ManifestError


def _cluster(cni="bridge", mode="iptables", **config):
    c = kl.Cluster(workers=2, cni=cni, cni_config=config or None, kube_proxy_mode=mode)
    if cni == "bridge":  # routed pod IPs need EC2's source/destination check off
        for node in c.nodes:
            c.set_source_dest_check(node.name, False)
    c.add_pod("default/self", node="node-1", labels={"app": "s"},
              containers=[kl.Container("web", ports=[80])])
    c.add_service("default/s", selector={"app": "s"}, ports=[80], type="NodePort")
    return c


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_bridge_plugin_default_drops_the_hairpin(mode):
    c = _cluster(mode=mode)
    t = c.trace("default/self", f"{c.service('default/s').cluster_ip}:80")
    assert not t.delivered
    drop = t.hops[-1]
    assert drop.action == "drop" and drop.location == kl.Location("node", "node-1", "cni0")
    assert not any(h.action == "refuse" for h in t.hops)  # silently: a timeout
    assert "hairpin mode off" in t.reason and "hairpinMode defaults to false" in t.reason
    assert 'cni_config={"hairpinMode": True}' in t.reason  # the fix
    # dropped before POSTROUTING: the packet still carries the pod's own address
    assert drop.packet.layers[1].src == c.pod("default/self").ip


def test_bridge_plugin_default_drops_the_hairpin_through_a_node_port_too():
    c = _cluster()
    node_port = c.service("default/s").ports[0].node_port
    t = c.trace("default/self", f"{c.node('node-1').ip}:{node_port}")
    assert not t.delivered and "hairpin mode off" in t.reason


@pytest.mark.parametrize("cni,config", [("bridge", {"hairpinMode": True}), ("flannel", {})])
def test_hairpin_mode_on_delivers_from_the_bridge_address(cni, config):
    c = _cluster(cni, **config)
    t = c.trace("default/self", f"{c.service('default/s').cluster_ip}:80")
    assert t.delivered and t.destination_pod == "default/self"
    assert t.source_ip_seen == "10.244.1.1"  # cni0's address: KUBE-MARK-MASQ


def test_other_endpoints_and_pods_are_unaffected():
    c = _cluster()
    c.add_pod("default/client", node="node-1")
    c.add_pod("default/far", node="node-2")
    vip = c.service("default/s").cluster_ip
    for src in ("default/client", "default/far", "node-1", "node-2"):
        t = c.trace(src, f"{vip}:80")
        assert t.delivered and t.destination_pod == "default/self", src


def test_without_bridge_nf_call_iptables_the_bridge_device_sends_it():
    c = _cluster()
    c.exec("node-1", "sysctl -w net.bridge.bridge-nf-call-iptables=0")
    t = c.trace("default/self", f"{c.service('default/s').cluster_ip}:80")
    assert not any("hairpin mode off" in h.detail for h in t.hops)
    assert t.delivered and t.source_ip_seen == "10.244.1.1"


def test_ip_d_link_shows_the_veth_port_hairpin_flag():
    line = "bridge_slave state forwarding priority 32 cost 2 hairpin {} "
    assert line.format("off") in _cluster().exec("node-1", "ip -d link show")
    on = _cluster(hairpinMode=True).exec("node-1", "ip -d link show")
    assert line.format("on") in on
    assert line.format("on") in _cluster("flannel").exec("node-1", "ip -d link show")


def test_hairpin_mode_must_be_a_boolean():
    with pytest.raises(ManifestError, match="hairpinMode"):
        kl.Cluster(cni="bridge", cni_config={"hairpinMode": "yes"})
    with pytest.raises(ManifestError, match="hairpinMode"):
        kl.Cluster(cni="flannel", cni_config={"hairpinMode": False})  # flannel sets it
