"""``explain`` judges a Service destination as the endpoint pod, and agrees with ``trace``.

Facts (upstream):
- kube-network-policies hooks its nftables chain ``postrouting`` at priority
  ``srcnat - 5`` (kubernetes-sigs/kube-network-policies pkg/dataplane/controller.go:
  ``Hooknum: nftables.ChainHookPostrouting, Priority: ChainPriorityNATSource - 5``),
  after kube-proxy's DNAT in nat PREROUTING/OUTPUT (dstnat): the packet it judges
  already has the endpoint pod's address and the target port.
- NetworkPolicy selects pods and their ports, never Services (kubernetes.io,
  concepts/services-networking/network-policies; the NetworkPolicyPort ``port`` is "the
  port on the given protocol" of the pod).
- kube-proxy picks one endpoint per new connection (KUBE-SVC-* ``statistic`` rules) and
  REJECTs a Service port without endpoints (``has no endpoints``,
  pkg/proxy/iptables/proxier.go); ``internalTrafficPolicy: Local`` keeps the node's own
  endpoints only (KEP-2086).
"""

from __future__ import annotations

import pytest

import kubenet_lab as kl

AGENT = "kube-network-policies"
SERVE = [kl.Container("web", "nginx", ports=[kl.ContainerPort(8080, "http")])]


@pytest.fixture
def c() -> kl.Cluster:
    """web-1 (node-1) and web-2 (node-2) behind Service default/web (80 -> 8080);
    clients ok (role=ok, node-1) and bad (role=bad, node-2)."""
    cluster = kl.Cluster(workers=2, network_policy=AGENT)
    cluster.add_pod("default/web-1", node="node-1", labels={"app": "web", "v": "1"},
                    containers=SERVE)
    cluster.add_pod("default/web-2", node="node-2", labels={"app": "web", "v": "2"},
                    containers=SERVE)
    cluster.add_pod("default/ok", node="node-1", labels={"role": "ok"})
    cluster.add_pod("default/bad", node="node-2", labels={"role": "bad"})
    cluster.apply(service("web", {"app": "web"}))
    return cluster


def service(name: str, selector: dict, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8080}],
                     **spec}}


def np(name: str, selector: dict, ingress: list) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name},
            "spec": {"podSelector": {"matchLabels": selector}, "ingress": ingress}}


FROM_OK_ON_8080 = np("web-from-ok", {"app": "web"}, [
    {"from": [{"podSelector": {"matchLabels": {"role": "ok"}}}], "ports": [{"port": 8080}]}])


def cluster_ip(c: kl.Cluster, name: str = "web") -> str:
    return c.get("Service", f"default/{name}")["spec"]["clusterIP"]


def endpoint_of(t: kl.Trace) -> str:
    """The endpoint a trace's DNAT chose, delivered or not."""
    return next(p for p in ("default/web-1", "default/web-2") if p in t.reason
                or t.destination_pod == p)


def traces(c: kl.Cluster, src: str, dst: str, n: int = 12) -> list[kl.Trace]:
    return [c.trace(src, dst, port=80) for _ in range(n)]


@pytest.mark.parametrize("dst", ["ip", "web", "web.default.svc.cluster.local"])
def test_allowed_and_denied_sources_agree_with_trace(c, dst):
    c.apply(FROM_OK_ON_8080)
    target = cluster_ip(c) if dst == "ip" else dst
    ok, bad = c.explain("default/ok", target, 80), c.explain("default/bad", target, 80)
    assert ok.allowed and ok.effective and ok.service == "default/web"
    assert not bad.allowed and not bad.effective
    # judged on the target port 8080 that the policy names, not the Service port 80
    assert {e.port for e in ok.endpoints} == {8080}
    assert sorted(e.dst for e in ok.endpoints) == ["default/web-1", "default/web-2"]
    assert all(t.delivered for t in traces(c, "default/ok", target))
    assert not any(t.delivered for t in traces(c, "default/bad", target))


def test_before_the_fix_a_cluster_ip_was_judged_as_no_pod(c):
    """The policy isolates the pods; a ClusterIP is no pod, yet the DNATed packet is."""
    c.apply(np("deny-all", {"app": "web"}, []))
    why = c.explain("default/ok", cluster_ip(c), 80)
    assert not why.allowed and why.egress is None and why.ingress is None
    assert all(not e.ingress.allowed and e.ingress.tier == "NetworkPolicy"
               for e in why.endpoints)
    assert not any(t.delivered for t in traces(c, "default/ok", cluster_ip(c)))


def test_one_allowed_and_one_denied_endpoint(c):
    c.apply(np("isolate-v2", {"v": "2"}, []))
    why = c.explain("default/ok", cluster_ip(c), 80)
    assert why.allowed_endpoints == ("default/web-1",) and not why.allowed
    assert "allowed to 1 of 2 endpoints" in str(why)
    assert "10.244.2.2:8080 (Pod default/web-2)" in why.via
    seen = set()
    for t in traces(c, "default/ok", cluster_ip(c), 16):
        ep = endpoint_of(t)
        seen.add(ep)
        assert t.delivered == (ep in why.allowed_endpoints), t.reason
    assert seen == {"default/web-1", "default/web-2"}  # both choices were exercised


def test_one_endpoint_names_the_dnat_in_words(c):
    c.apply(service("one", {"v": "1"}))
    c.apply(np("isolate-v1", {"v": "1"}, []))
    ip = cluster_ip(c, "one")
    why = c.explain("default/ok", ip, 80)
    assert (f"{ip} is Service default/one (port 80/TCP): kube-proxy's DNAT sends the "
            "connection to endpoint 10.244.1.2:8080 (Pod default/web-1) before "
            "kube-network-policies sees it; judged as that pod on TCP/8080.") in str(why)
    assert not why.allowed and why.ingress is not None and not why.ingress.allowed
    t = c.trace("default/ok", ip, port=80)
    assert not t.delivered and "Dropped by network policy on ingress" in t.reason


def test_a_service_without_endpoints_is_refused_by_kube_proxy(c):
    c.apply(service("empty", {"app": "none"}))
    why = c.explain("default/ok", cluster_ip(c, "empty"), 80)
    assert not why.effective and not why.endpoints and "REJECT" in why.via
    t = c.trace("default/ok", cluster_ip(c, "empty"), port=80)
    assert not t.delivered and "refused" in t.reason.lower()


def test_internal_traffic_policy_local_keeps_the_nodes_own_endpoints(c):
    c.apply(service("local", {"app": "web"}, internalTrafficPolicy="Local"))
    c.apply(np("isolate-v2", {"v": "2"}, []))
    ip = cluster_ip(c, "local")
    on_1, on_2 = c.explain("default/ok", ip, 80), c.explain("default/bad", ip, 80)
    assert [e.dst for e in on_1.endpoints] == ["default/web-1"] and on_1.allowed
    assert [e.dst for e in on_2.endpoints] == ["default/web-2"] and not on_2.allowed
    assert c.trace("default/ok", ip, port=80).delivered
    assert not c.trace("default/bad", ip, port=80).delivered


def test_a_node_source_and_a_pod_ref_are_unchanged(c):
    c.apply(FROM_OK_ON_8080)
    why = c.explain("node-1", cluster_ip(c), 80)
    # traffic from the pod's own node is always allowed (kubernetes.io network-policies)
    assert why.allowed_endpoints == ("default/web-1",)
    direct = c.explain("default/bad", "default/web-1", 8080)
    assert direct.service is None and not direct.via and not direct.allowed


def test_dns_name_from_a_node_is_refused():
    c = kl.Cluster(workers=1, network_policy=AGENT)
    with pytest.raises(kl.NotFoundError, match="only pods use the cluster DNS"):
        c.explain("node-1", "kubernetes.default", 443)


def test_explain_is_read_only(c):
    """explain consumes no random choice: the next trace picks as it would have."""
    import copy

    twin = copy.deepcopy(c)
    c.explain("default/ok", cluster_ip(c), 80)
    assert [endpoint_of(t) for t in traces(c, "default/ok", cluster_ip(c), 6)] == [
        endpoint_of(t) for t in traces(twin, "default/ok", cluster_ip(twin), 6)]
