"""Cluster(vpc_cidr=..., private_subnet=..., public_subnet=...): the VPC the nodes live in.

Expected values come from the AWS VPC user guide, "Subnet CIDR blocks"
(https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html): in every subnet
AWS reserves five addresses (the network address, .1 for the VPC router, .2 for the DNS
server, .3 for future use, and the broadcast address), so a /24 has 251 usable addresses
and the first instance gets .4; a subnet's block is "between a /16 netmask and /28
netmask", must be a subset of the VPC's block, and the subnets of a VPC must not
overlap. Pod CIDRs follow kube-controller-manager's range allocator
(pkg/controller/nodeipam/ipam/cidrset): the cluster CIDR is cut into blocks of
--node-cidr-mask-size-ipv4 and each new node gets the next free block in order, so a
/11 cut into /24s has 2**(24-11) = 8,192 blocks.
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network

import pytest

import kubenet_lab as kl


def _refused(field, **kwargs):
    with pytest.raises(kl.ManifestError) as err:
        kl.Cluster(**kwargs)
    assert err.value.field == field
    return err.value


def test_defaults_are_the_lab_vpc():
    c = kl.Cluster(workers=1)
    assert c.vpc.cidr == "10.0.0.0/16"
    private = c.vpc.subnet("private")
    assert (private.cidr, private.router) == ("10.0.1.0/24", "10.0.1.1")
    assert [n.ip for n in c.nodes] == ["10.0.1.4", "10.0.1.5"]  # .0-.3 are AWS's
    gw = c.add_nat_gateway(public_ip="198.51.100.20")
    assert (gw.private_ip, c.vpc.subnet("public").cidr) == ("10.0.0.4", "10.0.0.0/24")


def test_a_private_subnet_of_your_choice():
    c = kl.Cluster(workers=2, private_subnet="10.0.32.0/19")
    private = c.vpc.subnet("private")
    assert (private.cidr, private.router) == ("10.0.32.0/19", "10.0.32.1")
    assert [n.ip for n in c.nodes] == ["10.0.32.4", "10.0.32.5", "10.0.32.6"]
    assert c.route_table("private") == [("10.0.0.0/16", "local")]


def test_a_public_subnet_and_vpc_of_your_choice():
    c = kl.Cluster(workers=1, vpc_cidr="172.31.0.0/16", private_subnet="172.31.16.0/20",
                   public_subnet="172.31.0.0/20")
    assert c.vpc.cidr == "172.31.0.0/16"
    assert c.nodes[0].ip == "172.31.16.4"
    gw = c.add_nat_gateway(public_ip="198.51.100.20")
    public = c.vpc.subnet("public")
    assert (public.cidr, public.router, gw.private_ip) == (
        "172.31.0.0/20", "172.31.0.1", "172.31.0.4")
    assert c.route_table("private") == [("172.31.0.0/16", "local"), ("0.0.0.0/0", "nat-gw")]


def test_a_28_holds_eleven_nodes():
    # 16 addresses, 5 reserved: 11 instances, .4 to .14 (.15 is the broadcast)
    c = kl.Cluster(workers=10, private_subnet="10.0.1.0/28")
    assert [n.ip for n in c.nodes][-1] == "10.0.1.14"
    err = _refused("workers", workers=11, private_subnet="10.0.1.0/28")
    assert "holds 11 nodes" in str(err)
    assert "a /27" in str(err)  # 32 - 5 = 27 addresses for 12 nodes


@pytest.mark.parametrize(("workers", "prefix"), [(251, 23), (507, 22), (5000, 19)])
def test_too_many_nodes_names_the_subnet_that_fits(workers, prefix):
    # a /23 holds 512 - 5 = 507 nodes, a /22 1019, a /19 8187 (and a /20 only 4091)
    err = _refused("workers", workers=workers)
    assert err.value == workers
    assert "holds 251 nodes" in str(err)
    assert f"for {workers + 1} nodes choose private_subnet=" in str(err)
    suggested = ip_network(str(err).split("private_subnet='")[1].split("'")[0])
    assert suggested.prefixlen == prefix
    assert suggested.subnet_of(ip_network("10.0.0.0/16"))
    assert not suggested.overlaps(ip_network("10.0.0.0/24"))  # the public subnet


def test_more_nodes_than_a_16_subnet_holds():
    err = _refused("workers", workers=65531, vpc_cidr="10.0.0.0/16")
    assert "a /16, holds 65531" in str(err)


def test_subnet_outside_the_vpc():
    err = _refused("private_subnet", private_subnet="10.1.0.0/24")
    assert err.value == "10.1.0.0/24"
    assert "not inside the VPC 10.0.0.0/16" in str(err)
    _refused("public_subnet", public_subnet="192.168.0.0/24")


def test_subnets_must_not_overlap():
    err = _refused("public_subnet", public_subnet="10.0.1.128/25")
    assert "overlaps the private subnet 10.0.1.0/24" in str(err)
    assert "public_subnet='10.0.0.0/25'" in str(err)
    _refused("public_subnet", private_subnet="10.0.0.0/23")


@pytest.mark.parametrize(("field", "value"), [
    ("vpc_cidr", "10.0.0.0/15"), ("vpc_cidr", "10.0.0.0/29"),
    ("private_subnet", "10.0.1.0/29"), ("public_subnet", "10.0.0.0/30"),
])
def test_aws_block_sizes_are_16_to_28(field, value):
    err = _refused(field, **{field: value})
    assert "/16 to /28" in str(err)


@pytest.mark.parametrize(("field", "value"), [
    ("vpc_cidr", "10.0.0.1/16"), ("private_subnet", "banana"), ("public_subnet", None),
])
def test_malformed_blocks(field, value):
    err = _refused(field, **{field: value})
    assert err.value == value


@pytest.mark.parametrize(("cidr", "other"), [
    ("10.0.0.0/12", "10.0.0.0/16"),    # the VPC
    ("10.96.0.0/16", "10.96.0.0/12"),  # kubeadm's serviceSubnet
])
def test_pod_network_must_not_overlap_vpc_or_services(cidr, other):
    err = _refused("cluster_cidr", cluster_cidr=cidr)
    assert "overlaps" in str(err) and other in str(err)


def test_node_count_beyond_the_cluster_cidr_blocks():
    # a /22 cut into /24s: 4 blocks, one for the control plane, three workers
    kl.Cluster(workers=3, cluster_cidr="10.244.0.0/22")
    err = _refused("workers", workers=4, cluster_cidr="10.244.0.0/22")
    assert "holds 4 blocks of /24" in str(err) and "fits 3 workers" in str(err)
    assert "/21" in str(err)  # 5 blocks need 8: a /21


def test_pod_cidrs_in_allocation_order():
    c = kl.Cluster(workers=300, cluster_cidr="10.128.0.0/11", private_subnet="10.0.2.0/23")
    last = c.node("node-300")
    assert last.ip == str(IPv4Address("10.0.2.4") + 300)  # 10.0.3.48
    assert last.pod_cidr == str(ip_network((int(IPv4Address("10.128.0.0")) + 300 * 256, 24)))
    assert c.node("control-plane").pod_cidr == "10.128.0.0/24"


def test_5000_workers_build():
    """The large-cluster guide's 5,000 nodes (kubernetes.io "Considerations for large
    clusters"): a /19 holds 8,187 nodes, a /11 8,192 node blocks of /24."""
    c = kl.Cluster(workers=5000, cluster_cidr="10.128.0.0/11", private_subnet="10.0.32.0/19")
    assert len(c.nodes) == 5001
    last = c.node("node-5000")
    assert last.ip == str(IPv4Address("10.0.32.4") + 5000)  # 10.0.51.140
    assert last.pod_cidr == str(ip_network((int(IPv4Address("10.128.0.0")) + 5000 * 256, 24)))
    assert len({n.pod_cidr for n in c.nodes}) == 5001


def test_workers_get_the_addresses_of_joins_one_at_a_time():
    """``Cluster(workers=N)`` allocates in one pass what N ``add_node`` calls get: the
    next free address of the subnet and the next free podCIDR, in order."""
    at_once = kl.Cluster(workers=40)
    one_by_one = kl.Cluster()
    for i in range(1, 41):
        one_by_one.add_node(f"node-{i}")
    assert ([(n.name, n.ip, n.pod_cidr) for n in at_once.nodes]
            == [(n.name, n.ip, n.pod_cidr) for n in one_by_one.nodes])
    assert at_once.node("node-40").pod_cidr == "10.244.40.0/24"
    assert at_once.node("node-40").ip == "10.0.1.44"  # .0-.3 reserved, .4 the control plane
