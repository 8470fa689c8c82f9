"""What grows on a node as Services and endpoints are added, against kube-proxy's rule
layout (pkg/proxy/iptables/proxier_test.go ``TestOverallIPTablesRules``): each endpoint
is a ``KUBE-SEP-`` chain (its declaration, a KUBE-MARK-MASQ rule for hairpin traffic,
the DNAT) and one jump in its ``KUBE-SVC-`` chain, so four lines of ``iptables-save``;
each Service port adds one ``KUBE-SERVICES`` rule that a first packet to the port listed
last tries, while nftables mode's one lookup in ``service-ips`` does not grow."""

from __future__ import annotations

import pytest

import kubenet_lab as kl


def _sizes(mode: str, replicas: int, services: int) -> kl.KubeProxySize:
    return kl.kube_proxy_size(kl.scale_cluster(3, 1, replicas=replicas,
                                               services_per_deployment=services,
                                               kube_proxy_mode=mode))


def test_each_endpoint_is_four_lines_of_iptables_save():
    a, b = _sizes("iptables", 4, 1), _sizes("iptables", 9, 1)
    assert (b.endpoints - a.endpoints, b.lines - a.lines) == (5, 20)


def test_iptables_first_packet_meets_one_more_rule_per_service():
    a, b = _sizes("iptables", 2, 3), _sizes("iptables", 2, 8)
    assert b.service_ports - a.service_ports == 5
    assert b.first_packet_rules - a.first_packet_rules == 5


def test_nftables_first_packet_meets_the_same_rules_however_many_services():
    a, b = _sizes("nftables", 2, 3), _sizes("nftables", 2, 40)
    assert a.first_packet_rules == b.first_packet_rules
    assert b.lines > a.lines


def test_a_wrong_argument_is_refused():
    with pytest.raises(kl.ManifestError, match="is not a Cluster"):
        kl.kube_proxy_size("node-1")
    with pytest.raises(kl.NotFoundError):
        kl.kube_proxy_size(kl.Cluster(), node="node-9")
