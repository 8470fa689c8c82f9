"""Network policy semantics, each probed in both directions.

Expected values come from the Kubernetes documentation (concepts/services-networking/
network-policies, the NetworkPolicy API reference), the upstream e2e tests
(test/e2e/network/netpol: pods a, b, c in namespaces x, y, z serving 80 and 81) and
kubernetes-sigs/network-policy-api (ClusterNetworkPolicy v1alpha2, AdminNetworkPolicy and
BaselineAdminNetworkPolicy v1alpha1).
"""

from __future__ import annotations

import random

import pytest

import kubenet_lab as kl

AGENT = "kube-network-policies"


def _containers(name: str) -> list[kl.Container]:
    ports = [kl.ContainerPort(80, "serve-80-tcp"), kl.ContainerPort(81, "serve-81-tcp"),
             kl.ContainerPort(80, "serve-80-udp", "UDP"), kl.ContainerPort(80, "serve-80-sctp",
                                                                          "SCTP")]
    return [kl.Container(f"cont-{name}", ports=ports)]


@pytest.fixture
def c() -> kl.Cluster:
    """The e2e model: namespaces x, y, z (label ns=<name>), pods a, b, c in each."""
    cluster = kl.Cluster(workers=2, network_policy=AGENT)
    for ns in "xyz":
        cluster.add_namespace(ns, labels={"ns": ns})
        for i, pod in enumerate("abc"):
            cluster.add_pod(f"{ns}/{pod}", node=f"node-{i % 2 + 1}", labels={"pod": pod},
                            containers=_containers(pod))
    return cluster


def np(ns: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def anp(name: str, priority: int, spec: dict) -> dict:
    return {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
            "metadata": {"name": name}, "spec": {"priority": priority, **spec}}


def banp(spec: dict) -> dict:
    return {"apiVersion": "policy.networking.k8s.io/v1alpha1",
            "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"}, "spec": spec}


def cnp(name: str, tier: str, priority: int, spec: dict) -> dict:
    return {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
            "metadata": {"name": name}, "spec": {"tier": tier, "priority": priority, **spec}}


def ok(c, src, dst, port=80, protocol="TCP") -> bool:
    """Reachability and the single-connection explanation must agree."""
    table = c.reachability(port, protocol).allowed(src, dst)
    assert c.explain(src, dst, port, protocol).effective == table, (src, dst)
    return table


ALL_X = {"pod": {}, "ns": "x"}
SEL_X = {"namespaceSelector": {"matchLabels": {"ns": "x"}}}


# ---------------------------------------------------------------- defaults and isolation
def test_without_policies_everything_is_allowed(c):
    r = c.reachability()
    assert r.count() == (81, 0)
    assert str(r).splitlines()[1].split() == ["-", *r.pods]


def test_flannel_alone_accepts_policies_without_effect():
    c = kl.Cluster(workers=1)
    assert not c.network_policy_enforced
    c.add_pod("default/a")
    c.add_pod("default/b", labels={"app": "b"})
    c.apply(np("default", "deny", {"podSelector": {}}))
    r = c.reachability()
    assert not r.enforced and r.count() == (4, 0)
    assert "not enforced" in str(r)
    t = c.trace("default/a", "default/b")
    assert t.delivered
    assert "does not enforce" in t.reason and "default/deny" in t.reason
    why = c.explain("default/a", "default/b")
    assert not why.allowed and why.effective and "does not enforce" in str(why)


def test_deny_all_ingress_isolates_only_that_direction(c):
    c.apply(np("x", "deny-ingress", {"podSelector": {}}))
    assert not ok(c, "y/a", "x/a") and not ok(c, "x/b", "x/a")
    assert ok(c, "x/a", "y/a")  # egress of x is not isolated
    assert ok(c, "x/a", "x/a")  # to itself: over lo, no hook
    assert ok(c, "y/a", "z/b")


def test_deny_all_egress(c):
    c.apply(np("x", "deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]}))
    assert not ok(c, "x/a", "y/a") and ok(c, "y/a", "x/a")


def test_policy_types_default_from_egress_rules(c):
    [p] = c.apply(np("x", "egress-only", {"podSelector": {}, "egress": [{}]}))
    assert p.policy_types == ("Ingress", "Egress")  # Ingress always, Egress since rules
    assert not ok(c, "y/a", "x/a")  # so ingress is isolated with no rule: denied
    assert ok(c, "x/a", "y/a")
    [q] = c.apply(np("y", "no-egress-rules", {"podSelector": {}, "egress": []}))
    assert q.policy_types == ("Ingress",)
    assert ok(c, "y/a", "z/a") and not ok(c, "z/a", "y/a")


def test_empty_ingress_list_versus_one_empty_rule(c):
    c.apply(np("x", "none", {"podSelector": {}, "ingress": []}))
    assert not ok(c, "y/a", "x/a")
    c.apply(np("x", "all", {"podSelector": {}, "ingress": [{}]}))
    assert ok(c, "y/a", "x/a") and ok(c, "z/c", "x/b")


def test_policies_are_additive(c):
    c.apply([np("x", "from-a", {"podSelector": {"matchLabels": {"pod": "c"}},
                                "ingress": [{"from": [{"podSelector": {"matchLabels":
                                                                       {"pod": "a"}}}]}]}),
             np("x", "from-b", {"podSelector": {"matchLabels": {"pod": "c"}},
                                "ingress": [{"from": [{"podSelector": {"matchLabels":
                                                                       {"pod": "b"}}}]}]})])
    assert ok(c, "x/a", "x/c") and ok(c, "x/b", "x/c")
    assert not ok(c, "y/a", "x/c")
    assert ok(c, "x/c", "x/a")  # x/a is not selected


def test_connection_needs_egress_and_ingress(c):
    c.apply([np("x", "egress-to-y", {"podSelector": {}, "policyTypes": ["Egress"],
                                     "egress": [{"to": [{"namespaceSelector": {
                                         "matchLabels": {"ns": "y"}}}]}]}),
             np("y", "deny", {"podSelector": {"matchLabels": {"pod": "b"}}})])
    r = c.reachability()
    assert r.allowed("x/a", "y/a")
    assert r.allowed("x/a", "y/b", "egress") and not r.allowed("x/a", "y/b", "ingress")
    assert not r.allowed("x/a", "y/b") and not r.allowed("x/a", "z/a")
    assert r.allowed("y/a", "x/a")


# ---------------------------------------------------------------- peers
def test_pod_selector_peer_is_local_to_the_policy_namespace(c):
    c.apply(np("x", "from-a", {"podSelector": {}, "ingress": [
        {"from": [{"podSelector": {"matchLabels": {"pod": "a"}}}]}]}))
    assert ok(c, "x/a", "x/b") and not ok(c, "y/a", "x/b")
    assert ok(c, "x/b", "y/a")


def test_namespace_selector_peer(c):
    c.apply(np("x", "from-y", {"podSelector": {}, "ingress": [
        {"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}]}))
    assert ok(c, "y/c", "x/a") and not ok(c, "z/a", "x/a") and not ok(c, "x/b", "x/a")
    assert ok(c, "x/a", "z/a")


def test_both_selectors_in_one_peer_mean_and_two_peers_mean_or(c):
    both = {"namespaceSelector": {"matchLabels": {"ns": "y"}},
            "podSelector": {"matchLabels": {"pod": "a"}}}
    c.apply(np("x", "and", {"podSelector": {"matchLabels": {"pod": "a"}},
                            "ingress": [{"from": [both]}]}))
    assert ok(c, "y/a", "x/a") and not ok(c, "y/b", "x/a") and not ok(c, "z/a", "x/a")
    assert ok(c, "x/a", "x/a")  # to itself: stays allowed
    c.apply(np("x", "or", {"podSelector": {"matchLabels": {"pod": "b"}}, "ingress": [
        {"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}},
                  {"podSelector": {"matchLabels": {"pod": "a"}}}]}]}))
    assert ok(c, "y/b", "x/b") and ok(c, "x/a", "x/b")
    assert not ok(c, "z/a", "x/b") and not ok(c, "x/c", "x/b")


@pytest.mark.parametrize("expr, allowed", [
    ({"key": "pod", "operator": "In", "values": ["a", "b"]}, {"a", "b"}),
    ({"key": "pod", "operator": "NotIn", "values": ["a"]}, {"b", "c", "nolabel"}),
    ({"key": "pod", "operator": "Exists"}, {"a", "b", "c"}),
    ({"key": "pod", "operator": "DoesNotExist"}, {"nolabel"}),
])
def test_match_expressions(c, expr, allowed):
    c.add_pod("x/nolabel", containers=_containers("n"))
    c.apply(np("x", "expr", {"podSelector": {"matchLabels": {"pod": "c"}}, "ingress": [
        {"from": [{"podSelector": {"matchExpressions": [expr]}}]}]}))
    for src in ("a", "b", "nolabel"):
        assert ok(c, f"x/{src}", "x/c") == (src in allowed), src
    assert ok(c, "x/c", "x/a")  # the other way is not isolated


def test_ip_block_matches_pod_ips_and_except(c):
    node1 = c.node("node-1").pod_cidr
    c.apply(np("x", "cidr", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [
        {"from": [{"ipBlock": {"cidr": "10.244.0.0/16", "except": [node1]}}]}]}))
    assert c.pod("y/b").node == "node-2" and c.pod("y/a").node == "node-1"
    assert ok(c, "y/b", "x/a") and not ok(c, "y/a", "x/a")
    assert ok(c, "x/a", "y/a")


def test_ip_block_for_the_outside_world_on_egress(c):
    c.apply(np("x", "egress-cidr", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"ipBlock": {"cidr": "10.0.1.0/24"}}]}]}))
    assert c.explain("x/a", "node-2", 10250).allowed  # node IPs are in the block
    assert not c.explain("x/a", "y/a").allowed
    t = c.trace("x/a", "node-2", port=10250)
    assert t.delivered


# ---------------------------------------------------------------- ports and protocols
def test_numbered_port_and_default_protocol(c):
    c.apply(np("x", "port-80", {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}))
    assert ok(c, "y/a", "x/a", 80) and not ok(c, "y/a", "x/a", 81)
    assert not ok(c, "y/a", "x/a", 80, "UDP")  # protocol defaults to TCP
    assert ok(c, "x/a", "y/a", 81)


def test_named_port_resolves_against_the_destination_pod(c):
    c.add_pod("x/alt", labels={"pod": "alt"},
              containers=[kl.Container("web", ports=[kl.ContainerPort(8080, "serve-81-tcp")])])
    c.apply(np("x", "named", {"podSelector": {}, "ingress": [
        {"ports": [{"port": "serve-81-tcp"}]}]}))
    assert ok(c, "y/a", "x/a", 81) and not ok(c, "y/a", "x/a", 80)
    assert ok(c, "y/a", "x/alt", 8080) and not ok(c, "y/a", "x/alt", 81)


def test_named_port_on_egress_uses_the_destination_pods_ports(c):
    c.apply(np("x", "eg", {"podSelector": {}, "policyTypes": ["Egress"],
                           "egress": [{"ports": [{"port": "serve-81-tcp"}]}]}))
    assert ok(c, "x/a", "y/a", 81) and not ok(c, "x/a", "y/a", 80)
    assert not c.explain("x/a", "node-2", 81).allowed  # a node has no named ports


def test_end_port_range_is_inclusive(c):
    c.apply(np("x", "range", {"podSelector": {}, "ingress": [
        {"ports": [{"port": 80, "endPort": 81}]}]}))
    assert ok(c, "y/a", "x/a", 80) and ok(c, "y/a", "x/a", 81)
    assert not ok(c, "y/a", "x/a", 82) and not ok(c, "y/a", "x/a", 79)


@pytest.mark.parametrize("protocol", ["UDP", "SCTP"])
def test_udp_and_sctp_rules(c, protocol):
    c.apply(np("x", "proto", {"podSelector": {}, "ingress": [
        {"ports": [{"protocol": protocol, "port": 80}]}]}))
    assert ok(c, "y/a", "x/a", 80, protocol) and not ok(c, "y/a", "x/a", 80, "TCP")
    t = c.trace("y/a", "x/a", port=80, protocol=protocol)
    assert t.delivered


# ---------------------------------------------------------------- the datapath
def test_ingress_drop_names_hop_direction_and_policy(c):
    c.apply(np("x", "deny", {"podSelector": {"matchLabels": {"pod": "a"}}}))
    t = c.trace("y/b", "x/a")
    assert not t.delivered
    drop = t.hops[-1]
    assert drop.action == "drop" and drop.node == c.pod("x/a").node
    assert drop.location.interface == "cni0" and "POSTROUTING" in drop.detail
    assert "ingress" in t.reason and "x/deny" in t.reason and AGENT in t.reason
    back = c.trace("x/a", "y/b")
    assert back.delivered


def test_egress_drop_happens_on_the_source_node(c):
    c.apply(np("x", "no-egress", {"podSelector": {"matchLabels": {"pod": "a"}},
                                  "policyTypes": ["Egress"]}))
    t = c.trace("x/a", "y/b")  # node-1 -> node-2
    assert not t.delivered and t.hops[-1].node == "node-1"
    assert "egress" in t.reason and "x/no-egress" in t.reason
    assert c.trace("y/b", "x/a").delivered


def test_allowed_policy_hop_and_replies(c):
    c.apply(np("x", "from-y", {"podSelector": {}, "ingress": [{"from": [
        {"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}]}))
    t = c.trace("y/a", "x/b")
    assert t.delivered and any(h.action == "policy" for h in t.hops)
    # x's pods may not start connections, but their replies to y/a's connection pass:
    # the agent accepts ct state established,related before it queues anything
    c.apply(np("x", "no-egress", {"podSelector": {}, "policyTypes": ["Egress"]}))
    assert ok(c, "y/a", "x/b") and not ok(c, "x/b", "y/a")
    assert "replies" in str(c.explain("y/a", "x/b"))


def test_traffic_from_the_pods_own_node_is_always_allowed(c):
    c.apply(np("x", "deny", {"podSelector": {}}))
    node = c.pod("x/a").node
    other = "node-2" if node == "node-1" else "node-1"
    assert c.trace(node, "x/a").delivered
    assert not c.trace(other, "x/a").delivered
    assert c.explain(node, "x/a").allowed and not c.explain(other, "x/a").allowed
    c.apply(np("x", "no-egress", {"podSelector": {}, "policyTypes": ["Egress"]}))
    assert c.explain("x/a", node, 10250).allowed  # to its own node: always allowed
    assert not c.explain("x/a", other, 10250).allowed
    assert c.trace("x/a", node, port=10250).delivered
    assert not c.trace("x/a", other, port=10250).delivered


# ---------------------------------------------------------------- the admin tier
def test_admin_deny_overrides_network_policy_allow(c):
    c.apply([np("x", "allow-all", {"podSelector": {}, "ingress": [{}]}),
             anp("deny-y", 10, {"subject": {"namespaces": {"matchLabels": {"ns": "x"}}},
                                "ingress": [{"action": "Deny", "from": [
                                    {"namespaces": {"matchLabels": {"ns": "y"}}}]}]})])
    assert not ok(c, "y/a", "x/a") and ok(c, "z/a", "x/a")
    assert ok(c, "x/a", "y/a")
    why = c.explain("y/a", "x/a")
    assert why.ingress.tier == "Admin" and "AdminNetworkPolicy/deny-y" in str(why)


def test_admin_allow_overrides_network_policy_deny(c):
    c.apply([np("x", "deny", {"podSelector": {}}),
             anp("allow-z", 5, {"subject": {"namespaces": {"matchLabels": {"ns": "x"}}},
                                "ingress": [{"action": "Allow", "from": [
                                    {"namespaces": {"matchLabels": {"ns": "z"}}}]}]})])
    assert ok(c, "z/b", "x/a") and not ok(c, "y/b", "x/a")


def test_admin_pass_hands_over_to_network_policy_then_baseline(c):
    c.apply([anp("pass-y", 1, {"subject": {"namespaces": {}},
                               "ingress": [{"action": "Pass", "from": [
                                   {"namespaces": {"matchLabels": {"ns": "y"}}}]}]}),
             anp("deny-y", 2, {"subject": {"namespaces": {}},
                               "ingress": [{"action": "Deny", "from": [
                                   {"namespaces": {"matchLabels": {"ns": "y"}}}]}]}),
             banp({"subject": {"namespaces": {}}, "ingress": [{"action": "Deny", "from": [
                 {"pods": {"namespaceSelector": {"matchLabels": {"ns": "y"}},
                           "podSelector": {"matchLabels": {"pod": "a"}}}}]}]}),
             np("z", "allow-all", {"podSelector": {}, "ingress": [{}]})])
    # Pass wins over the lower-priority Deny; then x has no NetworkPolicy: baseline decides
    assert not ok(c, "y/a", "x/a") and ok(c, "y/b", "x/a")
    # z has a NetworkPolicy: it decides and the baseline is skipped
    assert ok(c, "y/a", "z/a")
    assert ok(c, "x/a", "y/a")


def test_admin_priority_lower_number_first(c):
    subject = {"namespaces": {"matchLabels": {"ns": "x"}}}
    peers = [{"namespaces": {"matchLabels": {"ns": "y"}}}]
    c.apply([anp("b-deny", 20, {"subject": subject, "ingress": [{"action": "Deny",
                                                                  "from": peers}]}),
             anp("a-allow", 10, {"subject": subject, "ingress": [{"action": "Allow",
                                                                   "from": peers}]}),
             np("x", "deny", {"podSelector": {}})])
    assert ok(c, "y/a", "x/a")


def test_admin_egress_deny_to_networks_and_ports(c):
    c.apply(anp("no-81", 3, {"subject": {"pods": {"namespaceSelector": {},
                                                  "podSelector": {"matchLabels": {"pod": "a"}}}},
                             "egress": [{"action": "Deny", "to": [{"networks": ["10.244.0.0/16"]}],
                                         "ports": [{"portNumber": {"protocol": "TCP",
                                                                   "port": 81}}]}]}))
    assert not ok(c, "x/a", "y/b", 81) and ok(c, "x/a", "y/b", 80)
    assert ok(c, "x/b", "y/b", 81) and ok(c, "y/b", "x/a", 81)


def test_cluster_network_policy_tiers_and_actions(c):
    c.apply([cnp("admin-accept", "Admin", 1, {
                 "subject": {"namespaces": {"matchLabels": {"ns": "x"}}},
                 "ingress": [{"action": "Accept", "from": [
                     {"namespaces": {"matchLabels": {"ns": "z"}}}],
                     "protocols": [{"tcp": {"destinationPort": {"number": 80}}}]}]}),
             np("x", "deny", {"podSelector": {}}),
             cnp("baseline-deny", "Baseline", 5, {
                 "subject": {"namespaces": {}},
                 "ingress": [{"action": "Deny", "from": [
                     {"namespaces": {"matchLabels": {"ns": "x"}}}]}]})])
    assert ok(c, "z/a", "x/a", 80) and not ok(c, "z/a", "x/a", 81)
    assert not ok(c, "x/a", "y/a") and ok(c, "z/a", "y/a")
    why = c.explain("x/a", "y/a")
    assert why.ingress.tier == "Baseline"
    assert "ClusterNetworkPolicy/baseline-deny" in why.ingress.reason


# ---------------------------------------------------------------- bad input
BAD = [
    (np("x", "p", {"podSelector": {"matchLabels": ["pod", "a"]}}), "spec.podSelector.matchLabels"),
    (np("x", "p", {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Is"}]}}),
     "spec.podSelector.matchExpressions[0].operator"),
    (np("x", "p", {"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}),
     "spec.podSelector.matchExpressions[0].values"),
    (np("x", "p", {"podSelector": {"matchExpressions": [
        {"key": "a", "operator": "Exists", "values": ["x"]}]}}),
     "spec.podSelector.matchExpressions[0].values"),
    (np("x", "p", {"podSelector": {"matchLabel": {"a": "b"}}}), "spec.podSelector.matchLabel"),
    (np("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": 80, "endPort": 79}]}]}),
     "spec.ingress[0].ports[0].endPort"),
    (np("x", "p", {"podSelector": {}, "egress": [{"ports": [{"port": "http", "endPort": 90}]}]}),
     "spec.egress[0].ports[0].endPort"),
    (np("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"endPort": 90}]}]}),
     "spec.ingress[0].ports[0].port"),
    (np("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": "80"}]}]}),
     "spec.ingress[0].ports[0].port"),  # a quoted number is a port name, and not a valid one
    (np("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": 0}]}]}),
     "spec.ingress[0].ports[0].port"),
    (np("x", "p", {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {
        "cidr": "10.0.0.0/16", "except": ["10.1.0.0/24"]}}]}]}),
     "spec.ingress[0].from[0].ipBlock.except[0]"),
    (np("x", "p", {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {
        "cidr": "10.0.0.0/16", "except": ["10.0.0.0/16"]}}]}]}),
     "spec.ingress[0].from[0].ipBlock.except[0]"),
    (np("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"protocol": "ICMP"}]}]}),
     "spec.ingress[0].ports[0].protocol"),
    (np("x", "p", {"podSelector": {}, "ingress": [{"from": [{}]}]}), "spec.ingress[0].from[0]"),
    (np("x", "p", {"podSelector": {}, "ingress": [{"from": [
        {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}), "spec.ingress[0].from[0]"),
    (np("x", "p", {"podSelector": {}, "policyTypes": ["Inbound"]}), "spec.policyTypes[0]"),
    (anp("p", 1001, {"subject": {"namespaces": {}}}), "spec.priority"),
    (anp("p", -1, {"subject": {"namespaces": {}}}), "spec.priority"),
    (cnp("p", "Admin", 5000, {"subject": {"namespaces": {}}}), "spec.priority"),
    (cnp("p", "Developer", 5, {"subject": {"namespaces": {}}}), "spec.tier"),
    (cnp("p", "Admin", 5, {"subject": {"namespaces": {}}, "ingress": [
        {"action": "Allow", "from": [{"namespaces": {}}]}]}), "spec.ingress[0].action"),
    (anp("p", 5, {"subject": {"namespaces": {}}, "ingress": [
        {"action": "Accept", "from": [{"namespaces": {}}]}]}), "spec.ingress[0].action"),
    (banp({"subject": {"namespaces": {}}, "ingress": [
        {"action": "Pass", "from": [{"namespaces": {}}]}]}), "spec.ingress[0].action"),
    (anp("p", 5, {"subject": {"namespaces": {}, "pods": {"podSelector": {}}}}), "spec.subject"),
    (anp("p", 5, {"subject": {"namespaces": {}}, "egress": [
        {"action": "Deny", "to": [{"namespaces": {}}],
         "ports": [{"portRange": {"protocol": "TCP", "start": 90, "end": 80}}]}]}),
     "spec.egress[0].ports[0].portRange.end"),
]


@pytest.mark.parametrize("bad, field", BAD)
def test_bad_policies_name_the_field_and_apply_nothing(c, bad, field):
    good = np("x", "good", {"podSelector": {}})
    before = (list(c.network_policies), c.admin_network_policies)
    with pytest.raises(kl.ManifestError) as err:
        c.apply([good, bad])
    assert err.value.field == field
    assert (list(c.network_policies), c.admin_network_policies) == before
    assert c.reachability().count() == (81, 0)


def test_baseline_admin_policy_must_be_named_default(c):
    doc = banp({"subject": {"namespaces": {}}})
    doc["metadata"]["name"] = "mine"
    with pytest.raises(kl.ManifestError, match="default"):
        c.apply(doc)


def test_policy_in_a_missing_namespace_is_refused(c):
    with pytest.raises(kl.NotFoundError):
        c.apply(np("nope", "p", {"podSelector": {}}))
    assert not c.network_policies


def test_unknown_agent_is_refused():
    with pytest.raises(kl.ManifestError, match="network_policy"):
        kl.Cluster(network_policy="calico-felix")


def test_delete_network_policy(c):
    c.apply(np("x", "deny", {"podSelector": {}}))
    assert not ok(c, "y/a", "x/a")
    c.delete_network_policy("x/deny")
    assert ok(c, "y/a", "x/a")
    with pytest.raises(kl.NotFoundError):
        c.delete_network_policy("x/deny")


# ---------------------------------------------------------------- the table itself
def test_table_text_matches_the_e2e_layout(c):
    c.apply(np("x", "deny", {"podSelector": {"matchLabels": {"pod": "a"}}}))
    r = c.reachability(namespaces=["x"])
    assert str(r) == ("the lab's combined truth table (not kubectl output), TCP/80: "
                      "7 allowed, 2 blocked\n"
                      "-   x/a x/b x/c\n"
                      "x/a .   .   .\n"
                      "x/b X   .   .\n"
                      "x/c X   .   .")
    assert r.text("egress").splitlines()[0].endswith("9 allowed, 0 blocked")
    assert repr(r) == "<Reachability 3 pods, TCP/80: 7 allowed, 2 blocked>"


@pytest.mark.parametrize("seed", [1, 2, 3, 7])
def test_grouped_table_equals_pair_by_pair_evaluation(seed):
    rng = random.Random(seed)
    c = kl.Cluster(workers=3, network_policy=AGENT)
    for ns in ("n1", "n2", "n3"):
        c.add_namespace(ns, labels={"env": rng.choice(["prod", "dev"])})
        for i in range(5):
            c.add_pod(f"{ns}/p{i}", labels={"app": rng.choice("abc"), "tier": rng.choice("xy")},
                      containers=_containers("p"))
    sel = lambda: {"matchLabels": {"app": rng.choice("abc")}}  # noqa: E731
    docs = []
    for k in range(8):
        ns = rng.choice(["n1", "n2", "n3"])
        docs.append(np(ns, f"p{k}", {
            "podSelector": sel(), "policyTypes": rng.choice([["Ingress"], ["Egress"],
                                                             ["Ingress", "Egress"]]),
            "ingress": [{"from": [{"podSelector": sel()},
                                  {"namespaceSelector": {"matchLabels": {"env": "prod"}}}],
                         "ports": [{"port": rng.choice([80, 81, "serve-80-tcp"])}]}],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.244.1.0/24"}}, {"podSelector": sel()}]}],
        }))
    docs.append(anp("a", 3, {"subject": {"namespaces": {"matchLabels": {"env": "dev"}}},
                             "ingress": [{"action": rng.choice(["Deny", "Pass", "Allow"]),
                                          "from": [{"pods": {"namespaceSelector": {},
                                                             "podSelector": sel()}}]}]}))
    docs.append(anp("b", 4, {"subject": {"namespaces": {}}, "egress": [
        {"action": "Pass", "to": [{"pods": {"namespaceSelector": {}, "podSelector": sel()}}]},
        {"action": "Deny", "to": [{"networks": ["10.244.0.0/17"]}]}]}))
    docs.append(banp({"subject": {"namespaces": {}}, "egress": [
        {"action": "Deny", "to": [{"pods": {"namespaceSelector": {}, "podSelector": sel()}}]}]}))
    c.apply(docs)
    r = c.reachability()
    for src in r.pods:
        for dst in r.pods:
            assert r.allowed(src, dst) == c.explain(src, dst).effective, (src, dst)


def test_admin_named_ports_and_nodes_peer(c):
    c.apply([anp("named", 1, {"subject": {"namespaces": {"matchLabels": {"ns": "x"}}},
                              "ingress": [{"action": "Deny", "from": [{"namespaces": {}}],
                                           "ports": [{"namedPort": "serve-81-tcp"}]}]}),
             cnp("no-nodes", "Admin", 2, {
                 "subject": {"namespaces": {"matchLabels": {"ns": "y"}}},
                 "egress": [{"action": "Deny", "to": [{"nodes": {"matchExpressions": [
                     {"key": "node-role.kubernetes.io/control-plane",
                      "operator": "DoesNotExist"}]}}]}]}),
             cnp("named-v2", "Admin", 3, {
                 "subject": {"namespaces": {"matchLabels": {"ns": "z"}}},
                 "ingress": [{"action": "Deny", "from": [{"namespaces": {}}],
                              "protocols": [{"destinationNamedPort": "serve-80-udp"}]}]})])
    assert not ok(c, "y/a", "x/b", 81) and ok(c, "y/a", "x/b", 80)
    assert ok(c, "x/b", "y/a", 81)
    y_node = c.pod("y/b").node
    other = "node-1" if y_node == "node-2" else "node-2"
    assert not c.explain("y/b", other, 10250).allowed  # a worker's IP, not its own
    assert c.explain("y/b", "control-plane", 6443).allowed
    assert not ok(c, "x/a", "z/a", 80, "UDP") and ok(c, "x/a", "z/a", 80, "TCP")


def test_cluster_network_policy_sctp_range_and_baseline_pass(c):
    c.apply([cnp("sctp", "Admin", 1, {
                 "subject": {"namespaces": {"matchLabels": {"ns": "x"}}},
                 "ingress": [{"action": "Deny", "from": [{"namespaces": {}}],
                              "protocols": [{"sctp": {"destinationPort": {
                                  "range": {"start": 79, "end": 81}}}}]}]}),
             cnp("base", "Baseline", 1, {
                 "subject": {"namespaces": {}},
                 "ingress": [{"action": "Pass", "from": [
                     {"namespaces": {"matchLabels": {"ns": "z"}}}]},
                     {"action": "Deny", "from": [{"namespaces": {}}]}]})])
    assert not ok(c, "y/a", "x/a", 80, "SCTP") and not ok(c, "y/a", "x/a", 80)
    assert ok(c, "z/a", "y/a")  # Pass in the baseline tier: nothing decides, allowed
    assert not ok(c, "x/a", "y/a")


def test_an_enforcer_without_the_admin_tier_ignores_admin_policies(c, monkeypatch):
    """What an enforcer supports decides: kube-router beside flannel (k3s) enforces
    NetworkPolicy only; here kube-network-policies is narrowed down to that."""
    from kubenet_lab.dataplane import policy

    c.apply(anp("deny-y", 1, {"subject": {"namespaces": {"matchLabels": {"ns": "x"}}},
                              "ingress": [{"action": "Deny", "from": [
                                  {"namespaces": {"matchLabels": {"ns": "y"}}}]}]}))
    assert not ok(c, "y/a", "x/a")
    narrowed = policy.Enforcer(("NetworkPolicy",), "the agent checks the packet", "agent")
    monkeypatch.setitem(policy.ENFORCERS, AGENT, narrowed)
    assert ok(c, "y/a", "x/a") and c.trace("y/a", "x/a").delivered
