"""A traffic policy Local with no local endpoint drops the packet, in both kube-proxy
modes, and the trace says so.

Upstream, kube-proxy 1.35:

- nftables mode (kubernetes/kubernetes pkg/proxy/nftables/proxier.go): with no local
  endpoint, ``externalTrafficFilterVerdict = "drop"`` (eTP Local: "Traffic to
  "external" IPs from outside the cluster will be dropped") goes into the
  ``no-endpoint-nodeports`` map, and ``internalTrafficFilterVerdict = "drop"`` (iTP
  Local: "Traffic to the clusterIP will be dropped") into ``no-endpoint-services``;
  the chains ``nodeport-endpoints-check`` and ``service-endpoints-check`` look the
  packet up there with ``vmap``. A drop sends nothing back, so the client times out
  (no ICMP, unlike the ``reject`` of a Service without any endpoint).
- iptables mode (pkg/proxy/iptables/proxier.go): ``externalTrafficFilterTarget =
  "DROP"`` with the comment ``"<svc> has no local endpoints"`` in
  KUBE-EXTERNAL-SERVICES (``internalTrafficFilterTarget`` likewise in
  KUBE-SERVICES' filter counterpart).

The nftables walk lost such a drop: the verdict reached through a vmap is shown as
``<rule>: drop`` and the cause kept the rule without it, so the trace went on and
ended "refused" on the node (linux-check: the kernel timed out).
"""

import pytest

import kubenet_lab as kl
from kubenet_lab.walk.nftables import evaluate

OUTSIDE = "10.0.1.250"


def _cluster(mode):
    c = kl.Cluster(workers=2, kube_proxy_mode=mode)
    c.add_pod("default/local-1", node="node-2", labels={"app": "local"},
              containers=[kl.Container("web", ports=[80])])
    c.add_pod("default/client", node="node-1")
    c.add_service("default/web-local", selector={"app": "local"}, ports=[80],
                  type="NodePort", external_traffic_policy="Local")
    c.add_service("default/itp", selector={"app": "local"}, ports=[80],
                  internal_traffic_policy="Local")
    return c


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_node_port_local_without_local_endpoint_is_dropped_not_refused(mode):
    c = _cluster(mode)
    node_port = c.service("default/web-local").ports[0].node_port
    t = c.trace(OUTSIDE, f"{c.node('node-1').ip}:{node_port}")
    assert not t.delivered
    assert t.hops[-1].action == "drop"  # silently: no ICMP, the client times out
    assert not any(h.action == "refuse" for h in t.hops)
    assert t.reason.startswith("Dropped: default/web-local has no local endpoints on "
                               "node-1 (traffic policy Local)")
    # the node with the endpoint answers and keeps the client's address (eTP Local)
    ok = c.trace(OUTSIDE, f"{c.node('node-2').ip}:{node_port}")
    assert ok.delivered and ok.source_ip_seen == OUTSIDE


def test_nftables_drop_step_is_the_no_endpoint_nodeports_lookup():
    c = _cluster("nftables")
    node_port = c.service("default/web-local").ports[0].node_port
    t = c.trace(OUTSIDE, f"{c.node('node-1').ip}:{node_port}")
    drop = t.hops[-1]
    assert drop.detail.startswith("ip kube-proxy nodeport-endpoints-check: `ip daddr "
                                  "@nodeport-ips meta l4proto . th dport vmap "
                                  "@no-endpoint-nodeports: drop`")
    d = evaluate(c.store, c.runtime.fork(), "node-1", "PREROUTING", OUTSIDE,
                 c.node("node-1").ip, node_port, local_addresses={c.node("node-1").ip})
    assert d.verdict == "drop"
    chain, rule = d.cause
    assert chain == "nodeport-endpoints-check" and rule.endswith(": drop")
    step = next(s for s in d.steps if s.chain == chain)
    assert step.rule.endswith(rule)  # the cause names the step that holds it


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_internal_traffic_policy_local_without_local_endpoint_is_dropped(mode):
    c = _cluster(mode)
    t = c.trace("default/client", f"{c.service('default/itp').cluster_ip}:80")
    assert not t.delivered and t.hops[-1].action == "drop"
    assert "default/itp has no local endpoints on node-1" in t.reason


def test_nftables_service_without_endpoints_is_still_rejected():
    """No endpoint at all: ``goto reject-chain`` (TestNoEndpointsReject), refused."""
    c = _cluster("nftables")
    c.add_service("default/empty", selector={"app": "none"}, ports=[80])
    t = c.trace("default/client", f"{c.service('default/empty').cluster_ip}:80")
    assert not t.delivered and t.hops[-1].action == "refuse"
    assert t.reason.startswith("Connection refused: Service port default/empty")
