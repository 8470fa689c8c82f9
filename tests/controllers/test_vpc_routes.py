"""The VPC's route tables and the instances' ``sourceDestCheck``: the two cloud settings
a learner changes (``Cluster.add_vpc_route``, ``Cluster.set_source_dest_check``).

AWS rules checked: ``sourceDestCheck`` is true by default (EC2 API
``ModifyInstanceAttribute``); a route's destination is a CIDR block and the most specific
route wins; the ``local`` route covers the VPC's range; a second route with the same
destination in one table fails with ``RouteAlreadyExists``
(https://docs.aws.amazon.com/vpc/latest/userguide/route-table-options.html).
"""

import pytest

import kubenet_lab as kl
from kubenet_lab.controllers.cloud import route_lookup, source_dest_check


@pytest.fixture
def c():
    return kl.Cluster(cni="bridge", workers=2)


def test_the_check_is_on_by_default_and_per_instance(c):
    assert all(source_dest_check(c.store, n.name) for n in c.nodes)
    c.set_source_dest_check("node-1", False)
    assert [source_dest_check(c.store, n.name) for n in c.nodes] == [True, False, True]
    assert c.vpc.source_dest_check_off == ("node-1",)
    c.set_source_dest_check("node-1", True)
    assert c.vpc.source_dest_check_off == ()


def test_a_node_added_later_has_the_check_on(c):
    c.set_source_dest_check("node-1", False)
    c.add_node("node-3")
    assert source_dest_check(c.store, "node-3")


def test_vpc_routes_go_to_the_nodes_own_subnet_table_and_win_by_prefix(c):
    assert c.add_vpc_route("10.244.2.0/24", "node-2") == [
        ("10.0.0.0/16", "local"), ("10.244.2.0/24", "node-2")]
    c.add_vpc_route("10.244.0.0/16", "node-1")
    assert route_lookup(c.store, "private", "10.244.2.9") == ("10.244.2.0/24", "node-2")
    assert route_lookup(c.store, "private", "10.244.7.1") == ("10.244.0.0/16", "node-1")
    assert route_lookup(c.store, "private", "10.0.1.5") == ("10.0.0.0/16", "local")
    assert route_lookup(c.store, "private", "93.184.216.34") is None
    c.add_nat_gateway(public_ip="198.51.100.20")
    assert route_lookup(c.store, "private", "93.184.216.34") == ("0.0.0.0/0", "nat-gw")
    assert c.route_table("public") == [("10.0.0.0/16", "local"), ("0.0.0.0/0", "igw")]
    assert c.add_vpc_route("10.244.2.0/24", "node-2", subnet="public")[1] == (
        "10.244.2.0/24", "node-2")


def test_adding_a_subnet_keeps_the_routes_and_the_checks(c):
    c.add_vpc_route("10.244.2.0/24", "node-2")
    c.set_source_dest_check("node-2", False)
    c.add_node("edge", public_ip="203.0.113.10")  # creates the public subnet
    assert ("10.244.2.0/24", "node-2") in c.route_table("private")
    assert not source_dest_check(c.store, "node-2")


@pytest.mark.parametrize("cidr, problem", [
    ("10.244.2.0", "not a valid IPv4 CIDR"),
    ("10.244.2.5/24", "not a valid IPv4 CIDR"),  # host bits set
    ("10.0.1.0/24", "inside the VPC's own range 10.0.0.0/16"),
    ("10.0.0.0/16", "inside the VPC's own range"),
])
def test_bad_destinations_raise_manifest_errors(c, cidr, problem):
    before = c.vpc
    with pytest.raises(kl.ManifestError, match=problem):
        c.add_vpc_route(cidr, "node-1")
    assert c.vpc == before


def test_unknown_node_or_subnet_and_duplicates(c):
    with pytest.raises(kl.NotFoundError, match="node-9"):
        c.add_vpc_route("10.244.9.0/24", "node-9")
    with pytest.raises(kl.NotFoundError, match="subnets are: private"):
        c.add_vpc_route("10.244.1.0/24", "node-1", subnet="dmz")
    with pytest.raises(kl.NotFoundError, match="node-9"):
        c.set_source_dest_check("node-9", False)
    c.add_vpc_route("10.244.1.0/24", "node-1")
    before = c.route_table("private")
    with pytest.raises(kl.ConflictError, match="RouteAlreadyExists"):
        c.add_vpc_route("10.244.1.0/24", "node-2")
    assert c.route_table("private") == before


def test_a_default_route_conflicts_with_the_nat_gateways(c):
    c.add_nat_gateway(public_ip="198.51.100.20")
    with pytest.raises(kl.ConflictError, match="nat-gw"):
        c.add_vpc_route("0.0.0.0/0", "node-1")


def test_argument_types_are_checked(c):
    with pytest.raises(kl.KubenetLabError):
        c.set_source_dest_check("node-1", "no")
    with pytest.raises(kl.KubenetLabError):
        c.add_vpc_route(24, "node-1")


def test_settings_are_in_the_snapshot_a_trace_keeps(c):
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-2")
    snap = c.snapshot()
    c.set_source_dest_check("node-1", False)
    assert snap.vpc.source_dest_check_off == () and c.vpc.source_dest_check_off == ("node-1",)
