"""EC2's source/destination check on every packet a node's network interface sends or
receives.

Expected values come from AWS's rules, not from the lab's output:
- "each EC2 instance performs source/destination checks by default. This means that the
  instance must be the source or destination of any traffic it sends or receives"
  (https://docs.aws.amazon.com/vpc/latest/userguide/VPC_NAT_Instance.html); the attribute
  is ``sourceDestCheck``, true by default (EC2 API ``ModifyInstanceAttribute``).
- Calico's AWS guide (https://docs.tigera.io/calico/latest/reference/public-cloud/AWS):
  with the check disabled, Calico routes "natively within a single VPC subnet without
  using an overlay or any of the limited VPC routing table entries"; the VPC router itself
  knows only its route table.
- kube-router ``disableSourceDestinationCheck``: "EC2 by default drops any packets
  originating or destination to a VM with IP other than that of VM's ip".
"""

import pytest

import kubenet_lab as kl


def _two_pods(**kw):
    c = kl.Cluster(workers=2, **kw)
    a = c.add_pod("default/a", node="node-1")
    b = c.add_pod("default/b", node="node-2")
    return c, a, b


def _drop(t):
    return next(h for h in t.hops if h.action == "drop")


# ------------------------------------------------------------------ overlays pass
@pytest.mark.parametrize("kw", [
    {"cni": "flannel"},
    {"cni": "calico", "cni_config": {"install": "manifest"}},  # IP-in-IP Always
    {"cni": "cilium"},
])
def test_overlay_traffic_passes_with_the_check_on(kw):
    c, a, b = _two_pods(**kw)
    t = c.trace("default/a", "default/b")
    assert t.delivered and t.source_ip_seen == a.ip
    # the packet on the VPC subnet is the outer one, node to node
    carried = [h for h in t.hops if h.location.kind == "network"]
    assert carried and all(h.packet[kl.IPv4].src == "10.0.1.5" for h in carried)


def test_calico_vxlan_cross_subnet_passes_with_the_check_on():
    c = kl.Cluster(cni="calico", workers=1)
    c.add_node("edge", public_ip="203.0.113.10")
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/e", node="edge")
    assert c.trace("default/a", "default/e").delivered


# ------------------------------------------------------------------ routed pod IPs
@pytest.mark.parametrize("cni", ["bridge", "calico"])  # host routes; BGP within a subnet
def test_routed_pod_traffic_is_dropped_as_node_1_sends_it(cni):
    c, a, b = _two_pods(cni=cni)
    t = c.trace("default/a", "default/b")
    assert not t.delivered
    hop = _drop(t)
    assert hop.packet[kl.IPv4].src == a.ip
    assert "source/destination check on node-1" in hop.detail
    assert f"its source {a.ip} is not the instance's address 10.0.1.5" in hop.detail
    assert "set_source_dest_check" in t.reason
    # nothing reached node-2
    assert not any(h.node == "node-2" for h in t.hops)


@pytest.mark.parametrize("cni", ["bridge", "calico"])
def test_routed_pod_traffic_is_dropped_as_node_2_would_receive_it(cni):
    c, a, b = _two_pods(cni=cni)
    c.set_source_dest_check("node-1", False)
    t = c.trace("default/a", "default/b")
    assert not t.delivered
    hop = _drop(t)
    assert "source/destination check on node-2" in hop.detail
    assert f"its destination {b.ip} is not the instance's address 10.0.1.6" in hop.detail


@pytest.mark.parametrize("cni", ["bridge", "calico"])
def test_routed_pod_traffic_is_delivered_with_the_check_off_on_both_nodes(cni):
    c, a, b = _two_pods(cni=cni)
    c.set_source_dest_check("node-1", False)
    c.set_source_dest_check("node-2", False)
    t = c.trace("default/a", "default/b")
    # same subnet: the next hop is node-2 itself, no VPC route table entry is needed
    assert t.delivered and t.source_ip_seen == a.ip and not t.encapsulated
    assert c.route_table("private") == [("10.0.0.0/16", "local")]


def test_the_check_on_node_1_also_drops_what_node_1_receives():
    c, a, b = _two_pods(cni="bridge")
    c.set_source_dest_check("node-2", False)
    t = c.trace("default/b", "default/a")
    assert "source/destination check on node-1" in _drop(t).detail
    assert f"its destination {a.ip}" in _drop(t).detail


def test_kthw_ipmasq_source_passes_but_the_pod_destination_does_not():
    # ipMasq rewrites the source to node-1's address; the destination is still a pod IP
    c, a, b = _two_pods(cni="bridge", cni_config={"ipMasq": True})
    t = c.trace("default/a", "default/b")
    assert "source/destination check on node-2" in _drop(t).detail
    c.set_source_dest_check("node-2", False)
    assert c.trace("default/a", "default/b").source_ip_seen == "10.0.1.5"


def test_turning_the_check_back_on_drops_again():
    c, a, b = _two_pods(cni="bridge")
    for n in ("node-1", "node-2"):
        c.set_source_dest_check(n, False)
    assert c.trace("default/a", "default/b").delivered
    c.set_source_dest_check("node-2", True)
    assert not c.trace("default/a", "default/b").delivered


# ------------------------------------------------------------------ through the VPC router
def test_through_the_vpc_router_the_route_table_must_know_the_podcidr():
    c, a, b = _two_pods(cni="bridge")
    for n in ("node-1", "node-2"):
        c.set_source_dest_check(n, False)
    c.exec("node-1", "ip route del 10.244.2.0/24")  # node-1 now sends it to its gateway
    t = c.trace("default/a", "default/b")
    assert not t.delivered and "no route to 10.244.2.2" in _drop(t).detail
    c.add_vpc_route("10.244.2.0/24", "node-2")
    t = c.trace("default/a", "default/b")
    assert t.delivered and t.source_ip_seen == a.ip
    assert any("10.244.2.0/24 -> node-2" in h.detail for h in t.hops)


def test_a_vpc_route_does_not_lift_the_receivers_check():
    c, a, b = _two_pods(cni="bridge")
    c.set_source_dest_check("node-1", False)
    c.exec("node-1", "ip route del 10.244.2.0/24")
    c.add_vpc_route("10.244.2.0/24", "node-2")
    t = c.trace("default/a", "default/b")
    assert "source/destination check on node-2" in _drop(t).detail


def test_a_vpc_host_reaches_a_pod_only_with_a_route_and_the_check_off():
    c = kl.Cluster(cni="bridge", workers=1)
    a = c.add_pod("default/a", node="node-1")
    assert c.trace("10.0.1.200", "default/a").destination_pod is None
    c.add_vpc_route("10.244.1.0/24", "node-1")
    t = c.trace("10.0.1.200", "default/a")
    assert "source/destination check on node-1" in _drop(t).detail
    c.set_source_dest_check("node-1", False)
    t = c.trace("10.0.1.200", "default/a")
    assert t.delivered and t.destination_pod == "default/a" and t.source_ip_seen == "10.0.1.200"
    assert a.ip == t.hops[-1].packet[kl.IPv4].dst


# ------------------------------------------------------------------ egress unchanged
def test_nat_gateway_egress_of_masqueraded_pods_is_unchanged():
    c = kl.Cluster(workers=2)
    c.add_nat_gateway(public_ip="198.51.100.20")
    c.add_pod("default/a", node="node-1")
    t = c.trace("default/a", "93.184.216.34")
    assert t.delivered and t.source_ip_seen == "198.51.100.20"
    assert c.trace("node-1", "93.184.216.34").source_ip_seen == "198.51.100.20"


def test_internet_gateway_egress_is_unchanged():
    c = kl.Cluster(workers=1)
    c.add_node("edge", public_ip="203.0.113.10")
    c.add_pod("default/e", node="edge")
    assert c.trace("default/e", "93.184.216.34").source_ip_seen == "203.0.113.10"


def test_an_unmasqueraded_pod_to_the_internet_is_dropped_at_the_nodes_interface():
    c = kl.Cluster(cni="bridge", workers=1)
    c.add_nat_gateway(public_ip="198.51.100.30")
    c.add_pod("default/a", node="node-1")
    t = c.trace("default/a", "93.184.216.34")
    assert "source/destination check on node-1" in _drop(t).detail
    assert "must be masqueraded" in t.reason
    c.add_ip_masq_agent()
    assert c.trace("default/a", "93.184.216.34").source_ip_seen == "198.51.100.30"


def test_with_the_check_off_the_internet_gateway_still_has_no_address_for_a_pod():
    # the internet gateway translates only an instance address that has a public IPv4
    # address (VPC_Internet_Gateway.html)
    c = kl.Cluster(cni="bridge", workers=1)
    c.add_node("edge", public_ip="203.0.113.10")
    c.add_pod("default/e", node="edge")
    c.set_source_dest_check("edge", False)
    t = c.trace("default/e", "93.184.216.34")
    assert not t.delivered and _drop(t).location.name == "internet gateway"
