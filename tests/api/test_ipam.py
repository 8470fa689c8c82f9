"""IPAM follows kubeadm + flannel defaults (facts sheet §2.1, §3.1, §3.2)."""

from ipaddress import ip_network

import pytest

import kubenet_lab as kl
from kubenet_lab.api.ipam import next_pod_cidr, next_pod_ip


def test_new_cluster_has_a_control_plane_with_the_first_block():
    c = kl.Cluster()
    [node] = c.nodes
    assert node.name == "control-plane"
    assert node.pod_cidr == "10.244.0.0/24"
    assert node.control_plane


def test_each_worker_gets_the_next_24_of_the_cluster_cidr():
    c = kl.Cluster(workers=3)
    assert [n.pod_cidr for n in c.nodes] == [
        "10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24"]


def test_node_ips_come_from_the_vpc_subnet_after_the_reserved_addresses():
    c = kl.Cluster(workers=1)
    # AWS reserves .0-.3 of every subnet: the first VM gets .4
    assert [n.ip for n in c.nodes] == ["10.0.1.4", "10.0.1.5"]


def test_service_cidr_is_kubeadms_default():
    assert kl.Cluster().service_cidr == "10.96.0.0/12"


def test_first_pod_gets_dot_2_because_the_bridge_holds_dot_1():
    c = kl.Cluster(workers=1)
    assert c.add_pod("default/a", node="node-1").ip == "10.244.1.2"
    assert c.add_pod("default/b", node="node-1").ip == "10.244.1.3"


def test_coredns_pods_land_on_the_control_plane_first_addresses():
    c = kl.Cluster()
    dns = [p for p in c.pods if p.namespace == "kube-system"]
    assert len(dns) == 2
    assert {p.node for p in dns} == {"control-plane"}
    assert sorted(p.ip for p in dns) == ["10.244.0.2", "10.244.0.3"]


def test_freed_address_is_not_reused_at_once():
    c = kl.Cluster(workers=1)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-1")
    c.delete_pod("default/a")
    assert c.add_pod("default/c", node="node-1").ip == "10.244.1.4"


def test_allocation_wraps_around_to_free_addresses():
    net = ip_network("10.244.9.0/29")  # pods .2-.6
    in_use = {int(ip_network("10.244.9.3/32").network_address)}
    last = int(ip_network("10.244.9.6/32").network_address)
    assert str(next_pod_ip(net, in_use, last)) == "10.244.9.2"
    assert str(next_pod_ip(net, in_use | {last - 4}, last)) == "10.244.9.4"


def test_the_257th_node_of_a_16_gets_no_block():
    used = list(ip_network("10.244.0.0/16").subnets(new_prefix=24))
    with pytest.raises(kl.AddressExhaustedError, match="all 256 node blocks"):
        next_pod_cidr(ip_network("10.244.0.0/16"), 24, used)


def test_cluster_refuses_a_node_when_the_cluster_cidr_is_full():
    c = kl.Cluster(cluster_cidr="10.244.0.0/22")  # room for 4 nodes
    for i in range(1, 4):
        c.add_node(f"node-{i}")
    before = [n.name for n in c.nodes]
    with pytest.raises(kl.AddressExhaustedError) as err:
        c.add_node("node-4")
    assert err.value.field == "spec.podCIDR"
    assert [n.name for n in c.nodes] == before


def test_a_full_small_podcidr_raises_address_exhausted():
    c = kl.Cluster()
    c.add_node("tiny", pod_cidr="10.244.7.0/30")  # host-local: only .2 is a pod address
    c.add_pod("default/a", node="tiny")
    with pytest.raises(kl.AddressExhaustedError, match="no free pod IP"):
        c.add_pod("default/b", node="tiny")
    assert [p.ref for p in c.pods_on("tiny")] == ["default/a"]


def test_kubelet_max_pods_is_110():
    c = kl.Cluster(workers=1)
    for i in range(110):
        c.add_pod(f"default/p{i}", node="node-1")
    with pytest.raises(kl.UnschedulableError, match="110 pods"):
        c.add_pod("default/one-more", node="node-1")


def test_scheduler_spreads_pods_and_avoids_the_control_plane():
    c = kl.Cluster(workers=2)
    nodes = [c.add_pod(f"default/p{i}").node for i in range(4)]
    assert nodes == ["node-1", "node-2", "node-1", "node-2"]


def test_no_worker_means_unschedulable_with_the_schedulers_reason():
    c = kl.Cluster()
    with pytest.raises(kl.UnschedulableError, match="untolerated taint"):
        c.add_pod("default/a")
    assert "default/a" not in {p.ref for p in c.pods}
