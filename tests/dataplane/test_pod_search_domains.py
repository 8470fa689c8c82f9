"""A pod's resolv.conf has the node's search domains after the cluster's (issue 13,
item 11): pkg/kubelet/network/dns/dns.go ``generateSearchesForDNSClusterFirst`` puts
``<ns>.svc.<domain> svc.<domain> <domain>`` before the host's search list; an EC2
instance outside us-east-1 searches ``<region>.compute.internal`` (AWS VPC DHCP options)."""

import kubenet_lab as kl
from kubenet_lab.dataplane.dns import _candidates, search_path


def test_four_search_domains():
    c = kl.Cluster(workers=1)
    c.add_namespace("team")
    c.add_pod("team/a", node="node-1")
    assert search_path(c.store, "team") == (
        "team.svc.cluster.local", "svc.cluster.local", "cluster.local",
        "eu-west-1.compute.internal")
    first = c.resolv_conf("team/a").splitlines()[0]
    assert first.split()[1:] == list(search_path(c.store, "team"))


def test_a_short_name_tries_the_node_domain_before_itself():
    c = kl.Cluster(workers=1)
    c.add_pod("default/a", node="node-1")
    assert _candidates(c.store, "nosuch", "default/a")[-2:] == [
        "nosuch.eu-west-1.compute.internal.", "nosuch."]
    assert c.resolve("nosuch", from_pod="default/a") == []


def test_the_node_resolv_conf_searches_the_region():
    c = kl.Cluster(workers=1)
    assert c.exec("node-1", "cat /etc/resolv.conf").splitlines()[-1] == (
        "search eu-west-1.compute.internal")
