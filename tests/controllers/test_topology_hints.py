"""trafficDistribution end to end (issue 13, item 10).

- the EndpointSlice controller's hints: k8s.io/endpointslice trafficdist.go
  ``preferCloseHeuristic.update`` (forZones = the endpoint's zone; forNodes only for
  PreferSameNode; none without trafficDistribution);
- kube-proxy's choice: pkg/proxy/topology.go ``CategorizeEndpoints`` /
  ``topologyModeFromHints`` (same node, else same zone, else all endpoints).
"""

import pytest

import kubenet_lab as kl
from kubenet_lab.dataplane.kube_proxy import topology_endpoints, topology_mode

ZONE = "topology.kubernetes.io/zone"


@pytest.fixture
def c():
    # zones in join order: control-plane a, node-1 b, node-2 c, node-3 a, node-4 b
    c = kl.Cluster(workers=4)
    for node in ("node-1", "node-2", "node-4"):
        c.add_pod(f"default/web-{node}", node=node, labels={"app": "web"})
    return c


def _service(c, name, dist=None, **spec):
    c.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
             "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}],
                      **({"trafficDistribution": dist} if dist else {}), **spec}})
    return c.service(f"default/{name}")


def test_nodes_carry_region_and_zone_labels(c):
    zones = {n.name: n.labels[ZONE] for n in c.nodes}
    assert zones == {"control-plane": "eu-west-1a", "node-1": "eu-west-1b",
                     "node-2": "eu-west-1c", "node-3": "eu-west-1a", "node-4": "eu-west-1b"}
    assert {n.labels["topology.kubernetes.io/region"] for n in c.nodes} == {"eu-west-1"}


def test_a_given_zone_label_wins():
    c = kl.Cluster(workers=1)
    c.add_node("node-9", labels={ZONE: "eu-west-1c"})
    assert c.node("node-9").labels[ZONE] == "eu-west-1c"


@pytest.mark.parametrize("dist,nodes_hinted", [
    (None, False), ("PreferClose", False), ("PreferSameZone", False), ("PreferSameNode", True)])
def test_hints_follow_trafficdist(c, dist, nodes_hinted):
    _service(c, "web", dist)
    eps = [e for s in c.endpoint_slices("default/web") for e in s.endpoints]
    for e in eps:
        assert e.zone == c.node(e.node).labels[ZONE]
        assert e.for_zones == (() if dist is None else (e.zone,))
        assert e.for_nodes == ((e.node,) if nodes_hinted else ())


def test_not_ready_endpoints_get_no_hints(c):
    c.add_pod("default/web-slow", node="node-3", labels={"app": "web"}, ready=False)
    _service(c, "web", "PreferSameZone")
    slow = [e for s in c.endpoint_slices("default/web") for e in s.endpoints
            if not e.ready]
    assert [(e.for_zones, e.for_nodes) for e in slow] == [((), ())]


def _targets(c, node, svc):
    return sorted(e[2] for e in topology_endpoints(c.store, c.node(node), svc, svc.ports[0]))


def test_prefer_same_node_uses_the_local_endpoint(c):
    svc = _service(c, "web", "PreferSameNode")
    assert topology_mode(c.store, c.node("node-1"), svc, svc.ports[0]) == "PreferSameNode"
    assert _targets(c, "node-1", svc) == ["node-1"]
    # node-3 has no endpoint and its zone (a) none either: all endpoints
    assert _targets(c, "node-3", svc) == ["node-1", "node-2", "node-4"]
    # the control plane (zone a, like node-3): all endpoints too
    assert _targets(c, "control-plane", svc) == ["node-1", "node-2", "node-4"]


@pytest.mark.parametrize("dist", ["PreferSameZone", "PreferClose"])
def test_prefer_same_zone_uses_the_zones_endpoints(c, dist):
    svc = _service(c, "web", dist)
    assert _targets(c, "node-1", svc) == ["node-1", "node-4"]  # both in eu-west-1b
    assert _targets(c, "node-2", svc) == ["node-2"]
    assert _targets(c, "node-3", svc) == ["node-1", "node-2", "node-4"]  # no endpoint in a


def test_prefer_same_node_falls_back_to_the_zone(c):
    c.delete_pod("default/web-node-1")
    svc = _service(c, "web", "PreferSameNode")
    assert topology_mode(c.store, c.node("node-1"), svc, svc.ports[0]) == "PreferSameZone"
    assert _targets(c, "node-1", svc) == ["node-4"]


def test_without_traffic_distribution_every_endpoint(c):
    svc = _service(c, "web")
    assert _targets(c, "node-1", svc) == ["node-1", "node-2", "node-4"]


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_connections_from_a_client_stay_on_its_node(mode):
    c = kl.Cluster(workers=4, kube_proxy_mode=mode)
    for node in ("node-1", "node-2", "node-4"):
        c.add_pod(f"default/web-{node}", node=node, labels={"app": "web"})
    c.add_pod("default/client", node="node-1")
    _service(c, "web", "PreferSameNode")
    for _ in range(10):
        t = c.trace("default/client", "web", port=80)
        assert t.delivered and t.destination_pod == "default/web-node-1"


def test_iptables_svc_chain_lists_only_the_hinted_endpoints(c):
    _service(c, "web", "PreferSameZone")
    ip1 = c.pod("default/web-node-1").ip
    ip2 = c.pod("default/web-node-2").ip
    ip4 = c.pod("default/web-node-4").ip
    svc_rules = [line for line in c.iptables_save("node-1").splitlines()
                 if line.startswith("-A KUBE-SVC-") and '"default/web -> ' in line]
    targets = {line.split("-> ")[1].split(":")[0] for line in svc_rules}
    assert targets == {ip1, ip4} and ip2 not in targets
    # the first of two endpoint rules carries probability 1/2
    assert "--probability 0.50000000000" in svc_rules[0]
