"""A trace to a DNS name first walks the pod's query to the cluster DNS Service (UDP 53):
an egress policy that allows the application's port but not DNS breaks connections by
name and not by address, the pitfall the Kubernetes docs warn about ("allow DNS"
in egress policies: a default-deny egress also blocks the lookups)."""

from __future__ import annotations

import kubenet_lab as kl

ALLOW_WEB_ONLY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-only}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 80}]
"""

ALLOW_DNS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
"""


def _cluster() -> kl.Cluster:
    c = kl.Cluster(workers=2, network_policy="kube-network-policies")
    c.add_pod("default/client", node="node-1", labels={"app": "client"})
    c.add_pod("default/web", node="node-2", labels={"app": "web"})
    c.add_service("default/web", selector={"app": "web"}, ports=[80])
    return c


def test_without_dns_a_name_does_not_connect_but_the_address_does():
    c = _cluster()
    c.apply(ALLOW_WEB_ONLY)
    ip = c.service("default/web").cluster_ip
    assert c.trace("default/client", ip, port=80).delivered
    t = c.trace("default/client", "web.default.svc.cluster.local", port=80)
    assert not t.delivered and t.destination_pod is None
    assert t.reason.startswith("Dropped: default/client cannot resolve "
                               "'web.default.svc.cluster.local': its DNS query to 10.96.0.10:53")
    assert "NetworkPolicy default/web-only" in t.reason
    first = t.hops[0].packet.summary()  # the query leads: pod to the DNS Service, UDP 53
    assert "> 10.96.0.10" in first and first.endswith("> 53")
    assert t.hops[-1].action == "dns"


def test_allowing_dns_lets_the_name_connect():
    c = _cluster()
    c.apply(ALLOW_WEB_ONLY + "---" + ALLOW_DNS)
    t = c.trace("default/client", "web.default", port=80)
    assert t.delivered and t.destination_pod == "default/web"
    assert t.hops[0].action == "dns"  # the lookup, then the connection


def test_the_query_leaves_the_kernels_tables_as_they_were():
    c = _cluster()
    before = c.exec("node-1", "conntrack -L")
    c.apply(ALLOW_WEB_ONLY)
    c.trace("default/client", "web.default", port=80)  # refused at the lookup: nothing recorded
    assert c.exec("node-1", "conntrack -L") == before


def test_the_tools_fail_as_a_resolver_that_times_out():
    """curl: (6) Could not resolve host; ping and traceroute: getaddrinfo's EAI_AGAIN,
    "Temporary failure in name resolution" (not NXDOMAIN's "Name or service not known");
    nslookup: no server reached. By address, curl still connects."""
    c = _cluster()
    c.apply(ALLOW_WEB_ONLY)
    assert c.exec("default/client", "curl -s web.default") == (
        "curl: (6) Could not resolve host: web.default")
    assert c.exec("default/client", "ping -c 1 web.default") == (
        "ping: web.default: Temporary failure in name resolution")
    assert c.exec("default/client", "traceroute web.default").startswith(
        "web.default: Temporary failure in name resolution\n")
    assert "no servers could be reached" in c.exec("default/client", "nslookup web.default")
    ip = c.service("default/web").cluster_ip
    assert "Could not resolve" not in c.exec("default/client", f"curl -s {ip}")
    c.apply(ALLOW_DNS)
    assert c.exec("default/client", "ping -c 1 nosuch.default") == (
        "ping: nosuch.default: Name or service not known")
