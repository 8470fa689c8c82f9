"""The walk through kube-proxy's nftables table, against iptables mode.

Verdicts follow upstream proxier_test.go's packet-flow tests of the modelled release,
kube-proxy 1.35 (kubernetes/kubernetes pkg/proxy/nftables/proxier_test.go at 81810de6:
TestClusterIPGeneral: "packet to unallocated cluster ip" DROP, "svc1 does not accept
svc2's ports" REJECT; TestNoEndpointsReject; TestLoadBalancer; the hooks and priorities
of baseRules) and KEP-3866 (no NodePorts on 127.0.0.1 in nftables mode).
"""


import pytest

import kubenet_lab as kl
from kubenet_lab.walk.netfilter import rules_traversed
from kubenet_lab.walk.nftables import evaluate

WEB = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
"""


def _cluster(mode, **kw):
    c = kl.Cluster(workers=2, kube_proxy_mode=mode, **kw)
    for name, node in (("web-a", "node-1"), ("web-b", "node-2")):
        c.add_pod(f"default/{name}", node=node, labels={"app": "web"},
                  containers=[kl.Container("app", ports=[8080])])
    c.add_pod("default/client", node="node-1")
    c.apply(WEB)
    return c


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_cluster_ip_is_dnatted_to_an_endpoint(mode):
    c = _cluster(mode)
    t = c.trace("default/client", f"{c.service('default/web').cluster_ip}:80")
    assert t.delivered and t.destination_pod in ("default/web-a", "default/web-b")
    kinds = [h.action for h in t.hops]
    assert "dnat" in kinds
    if mode == "nftables":
        details = " ".join(h.detail for h in t.hops)
        assert "ip kube-proxy services: `ip daddr . meta l4proto . th dport vmap " \
               "@service-ips: goto service-" in details
        assert "numgen random mod 2 vmap" in details and "KUBE-" not in details


def test_unallocated_service_ip_is_dropped_only_in_nftables_mode():
    ipt = _cluster("iptables").trace("default/client", "10.96.7.7:80")
    nft = _cluster("nftables").trace("default/client", "10.96.7.7:80")
    assert not nft.delivered and nft.reason.startswith("Dropped: 10.96.7.7 is an "
                                                       "unallocated address")
    assert "cluster-ips-check" in nft.hops[-1].detail
    assert "unallocated" not in ipt.reason


def test_unused_port_of_a_cluster_ip_is_rejected_only_in_nftables_mode():
    c = _cluster("nftables")
    ip = c.service("default/web").cluster_ip
    t = c.trace("default/client", f"{ip}:81")
    assert t.reason.startswith(f"Connection refused: {ip} is a ClusterIP without port 81/TCP")
    assert t.hops[-1].action == "refuse"
    assert "`ip daddr @cluster-ips reject" in t.hops[-1].detail
    ipt = _cluster("iptables").trace("default/client", f"{ip}:81")
    assert "ClusterIP without port" not in ipt.reason


def test_no_endpoints_is_rejected_in_both_modes():
    for mode in ("iptables", "nftables"):
        c = _cluster(mode)
        c.add_service("default/empty", selector={"app": "none"}, ports=[{"port": 80}])
        t = c.trace("default/client", f"{c.service('default/empty').cluster_ip}:80")
        assert t.reason.startswith("Connection refused: Service port default/empty has no "
                                   "ready endpoints"), (mode, t.reason)
        if mode == "nftables":
            assert "vmap @no-endpoint-services: goto reject-chain" in str(t.hops[-2].detail) \
                or "reject-chain" in t.hops[-1].detail


def test_node_port_on_127_0_0_1_refused_only_in_nftables_mode():
    ipt = _cluster("iptables").trace("node-1", "127.0.0.1:30080")
    nft = _cluster("nftables").trace("node-1", "127.0.0.1:30080")
    assert ipt.delivered
    assert not nft.delivered and nft.reason.startswith("Connection refused")


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_node_port_on_the_node_ip(mode):
    c = _cluster(mode)
    t = c.trace("internet", f"{c.node('node-1').ip}:30080") if False else c.trace(
        "control-plane", f"{c.node('node-1').ip}:30080")
    assert t.delivered


def test_evaluate_node_port_and_local_policy_drop():
    c = _cluster("nftables")
    c.add_service("default/local", selector={"app": "web"}, type="NodePort",
                  external_traffic_policy="Local",
                  ports=[{"port": 80, "targetPort": 8080, "nodePort": 30090}])
    cp = c.node("control-plane")
    d = evaluate(c.store, c.runtime.fork(), "control-plane", "PREROUTING", "198.51.100.7",
                 cp.ip, 30090)
    assert d.verdict == "drop" and d.cause[0] == "nodeport-endpoints-check"
    n1 = c.node("node-1")
    d = evaluate(c.store, c.runtime.fork(), "node-1", "PREROUTING", "198.51.100.7",
                 n1.ip, 30090)
    assert d.verdict == "dnat" and d.endpoint[2] == "node-1" and not d.masquerade
    d = evaluate(c.store, c.runtime.fork(), "node-1", "PREROUTING", "198.51.100.7",
                 n1.ip, 30080)
    assert d.verdict == "dnat" and d.masquerade  # eTP Cluster: jump mark-for-masquerade


def test_client_ip_affinity_is_remembered():
    c = _cluster("nftables")
    c.apply(WEB.replace("name: web,", "name: sticky,").replace("type: NodePort", "type: "
            "ClusterIP\n  sessionAffinity: ClientIP").replace(", nodePort: 30080", ""))
    ip = c.service("default/sticky").cluster_ip
    pods = {c.trace("default/client", f"{ip}:80").destination_pod for _ in range(8)}
    assert len(pods) == 1
    text = c.exec("node-1", "nft list table ip kube-proxy") if _shell_ok() else ""
    if text:
        assert c.pod("default/client").ip in text


def _shell_ok():
    try:
        import kubenet_lab.tools.shell  # noqa: F401
    except ImportError:  # pragma: no cover - another module is being written
        return False
    return True


def test_random_choice_is_seeded():
    a, b = _cluster("nftables"), _cluster("nftables")
    ip = a.service("default/web").cluster_ip
    assert [a.trace("default/client", f"{ip}:80").destination_pod for _ in range(6)] == [
        b.trace("default/client", f"{ip}:80").destination_pod for _ in range(6)]


def _many(mode, n):
    c = kl.Cluster(workers=1, kube_proxy_mode=mode)
    c.add_pod("default/web", node="node-1", labels={"app": "web"},
              containers=[kl.Container("app", ports=[8080])])
    c.add_pod("default/client", node="node-1")
    for i in range(n):
        c.add_service(f"default/s{i:05d}", selector={"app": "web"},
                      ports=[{"name": "http", "port": 80, "targetPort": 8080}])
    return c


def test_rules_traversed_grows_only_in_iptables_mode():
    counts = {}
    for mode in ("iptables", "nftables"):
        for n in (5, 60):
            c = _many(mode, n)
            last = c.service(f"default/s{n - 1:05d}").cluster_ip
            counts[mode, n] = rules_traversed(c, "default/client", last, 80)
    assert counts["nftables", 5] == counts["nftables", 60]
    assert counts["iptables", 60] - counts["iptables", 5] == 55


# ---------------------------------------------------------------- 1.35's hooks
# proxier_test.go@81810de6 baseRules: filter-prerouting-pre-dnat and filter-output-pre-dnat
# at priority -110 (before nat-* at -100, DNAT), filter-input/forward/output at 0 (after
# it); netfilter runs a hook's chains in ascending priority.
def test_node_to_a_cluster_ip_passes_filter_output_after_the_dnat():
    """cluster-ips-check sits in filter-output (priority 0), after nat-output's DNAT:
    a connection to a valid ClusterIP port is not rejected (its destination is the
    endpoint by then), as TestClusterIPGeneral's "simple clusterIP" is delivered."""
    c = _cluster("nftables")
    node = c.node("node-1")
    ip = c.service("default/web").cluster_ip
    d = evaluate(c.store, c.runtime.fork(), "node-1", "OUTPUT", node.ip, ip, 80)
    assert d.verdict == "dnat" and d.cause is None
    chains = [s.chain for s in d.steps]
    assert chains[:2] == ["nat-output", "services"]
    assert "cluster-ips-check" not in chains and "filter-output" not in chains
    assert c.trace("node-1", f"{ip}:80").delivered


def test_node_to_unallocated_and_unused_ports_is_judged_in_filter_output():
    """TestClusterIPGeneral: "packet to unallocated cluster ip" DROP, "svc1 does not
    accept svc2's ports" REJECT; from a node both are decided in filter-output's
    ``ct state new jump cluster-ips-check`` (no filter-output-post-dnat in 1.35)."""
    c = _cluster("nftables")
    node = c.node("node-1")
    ip = c.service("default/web").cluster_ip
    drop = evaluate(c.store, c.runtime.fork(), "node-1", "OUTPUT", node.ip, "10.96.7.7", 80)
    assert drop.verdict == "drop" and drop.cause[0] == "cluster-ips-check"
    assert [s.chain for s in drop.steps] == ["filter-output", "cluster-ips-check"]
    rej = evaluate(c.store, c.runtime.fork(), "node-1", "OUTPUT", node.ip, ip, 81)
    assert rej.verdict == "reject" and rej.cause[0] == "cluster-ips-check"
    t = c.trace("node-1", "10.96.7.7:80")
    step = next(h.detail for h in t.hops if h.detail.startswith("ip kube-proxy filter-output:"))
    assert step.endswith("ct state new jump cluster-ips-check`")
    assert t.hops[-1].detail.startswith("ip kube-proxy cluster-ips-check: `ip daddr ")


def test_no_endpoints_from_a_node_is_rejected_in_filter_output():
    """TestNoEndpointsReject (REJECT) from the node itself: nat-output finds no element
    in service-ips, filter-output's service-endpoints-check finds the Service in
    no-endpoint-services and goes to reject-chain."""
    c = _cluster("nftables")
    c.add_service("default/empty", selector={"app": "none"}, ports=[{"port": 80}])
    ip = c.service("default/empty").cluster_ip
    d = evaluate(c.store, c.runtime.fork(), "node-1", "OUTPUT", c.node("node-1").ip, ip, 80)
    assert d.verdict == "reject"
    assert [s.chain for s in d.steps] == ["filter-output", "service-endpoints-check",
                                          "reject-chain"]


def test_pod_traffic_is_forwarded_through_filter_forward_after_the_dnat():
    """From a pod (PREROUTING): filter-prerouting-pre-dnat, nat-prerouting, then
    filter-forward (0) on the translated packet: to an unallocated ClusterIP the drop
    comes from filter-forward's cluster-ips-check."""
    c = _cluster("nftables")
    pod = c.pod("default/client")
    d = evaluate(c.store, c.runtime.fork(), "node-1", "PREROUTING", pod.ip, "10.96.7.7", 80)
    assert d.verdict == "drop"
    assert [s.chain for s in d.steps] == ["filter-forward", "cluster-ips-check"]
