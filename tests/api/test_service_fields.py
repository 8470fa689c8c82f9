"""Every ServiceSpec field is honoured or refused by name (issue 13, item 10).

Expected values come from upstream: the supported trafficDistribution values
(k8s.io/api core/v1 types.go), the API server's ipFamily messages
(pkg/registry/core/service/storage/alloc.go ``initIPFamilyFields``), kubectl's strict
field validation (``unknown field "spec.x"``).
"""

import pytest

import kubenet_lab as kl


def _svc(spec, name="s"):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}}


@pytest.fixture
def c():
    return kl.Cluster(workers=2)


@pytest.mark.parametrize("value", ["PreferClose", "PreferSameZone", "PreferSameNode"])
def test_traffic_distribution_values_are_kept(c, value):
    c.apply(_svc({"trafficDistribution": value}))
    assert c.service("default/s").traffic_distribution == value
    assert c.get("Service", "default/s")["spec"]["trafficDistribution"] == value


def test_unknown_traffic_distribution_is_refused(c):
    with pytest.raises(kl.ManifestError, match="spec.trafficDistribution"):
        c.apply(_svc({"trafficDistribution": "Nearest"}))


def test_single_stack_and_prefer_dual_stack_are_single_stack_ipv4(c):
    c.apply(_svc({"ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]}, "a"))
    c.apply(_svc({"ipFamilyPolicy": "PreferDualStack"}, "b"))
    a, b = c.get("Service", "default/a")["spec"], c.get("Service", "default/b")["spec"]
    assert a["ipFamilies"] == b["ipFamilies"] == ["IPv4"]
    assert len(b["clusterIPs"]) == 1  # no second family on a single-stack cluster
    assert b["ipFamilyPolicy"] == "PreferDualStack"


def test_require_dual_stack_is_refused_with_the_api_servers_message(c):
    with pytest.raises(kl.ManifestError,
                       match="this cluster is not configured for dual-stack services"):
        c.apply(_svc({"ipFamilyPolicy": "RequireDualStack"}))
    assert not c.store.has_service("default/s")


@pytest.mark.parametrize("families", [["IPv6"], ["IPv4", "IPv6"]])
def test_ipv6_is_not_configured_on_this_cluster(c, families):
    spec = {"ipFamilies": families}
    if len(families) == 2:
        spec["ipFamilyPolicy"] = "PreferDualStack"
    with pytest.raises(kl.ManifestError, match=r"spec.ipFamilies\[\d\].*not configured on "
                       "this cluster"):
        c.apply(_svc(spec))


def test_single_stack_with_two_families_is_refused(c):
    with pytest.raises(kl.ManifestError, match="must be 'RequireDualStack' or "
                       "'PreferDualStack' when multiple IP families are specified"):
        c.apply(_svc({"ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4", "IPv6"]}))


def test_headless_without_selector_defaults_to_require_dual_stack(c):
    # alloc.go: headless + selectorless defaults to RequireDualStack and gets both
    # families, even on a single-stack cluster
    c.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "h"},
             "spec": {"clusterIP": "None", "ports": [{"port": 80}]}})
    spec = c.get("Service", "default/h")["spec"]
    assert spec["ipFamilyPolicy"] == "RequireDualStack"
    assert spec["ipFamilies"] == ["IPv4", "IPv6"]


@pytest.mark.parametrize("field", ["spec.colour", "spec.ports[0].targetport"])
def test_an_unknown_field_is_named(c, field):
    doc = _svc({})
    if field == "spec.colour":
        doc["spec"]["colour"] = "blue"
    else:
        doc["spec"]["ports"][0]["targetport"] = 8080
    with pytest.raises(kl.ManifestError, match=f'unknown field "{field}"'.replace(
            "[", r"\[").replace("]", r"\]")):
        c.apply(doc)


@pytest.mark.parametrize("spec,field", [
    ({"externalIPs": ["203.0.113.10"]}, "spec.externalIPs"),
    ({"type": "LoadBalancer", "loadBalancerIP": "203.0.113.10"}, "spec.loadBalancerIP"),
    ({"type": "LoadBalancer", "loadBalancerSourceRanges": ["198.51.100.0/24"]},
     "spec.loadBalancerSourceRanges"),
    ({"type": "LoadBalancer", "loadBalancerClass": "example.com/lb"}, "spec.loadBalancerClass"),
    ({"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False},
     "spec.allocateLoadBalancerNodePorts"),
])
def test_fields_the_lab_does_not_model_are_refused_by_name(c, spec, field):
    with pytest.raises(kl.ManifestError, match=field):
        c.apply(_svc(spec))


def test_allocate_lb_node_ports_only_on_load_balancers(c):
    # validation.go: "may only be used when `type` is 'LoadBalancer'"
    with pytest.raises(kl.ManifestError, match="may only be used when `type` is "
                       "'LoadBalancer'"):
        c.apply(_svc({"allocateLoadBalancerNodePorts": True}))


def test_publish_not_ready_addresses_publishes_not_ready_pods(c):
    c.add_pod("default/w", node="node-1", labels={"app": "web"}, ready=False)
    c.apply(_svc({"publishNotReadyAddresses": True}))
    [sl] = c.endpoint_slices("default/s")
    assert [e.ready for e in sl.endpoints] == [True]
    assert c.resolve("s.default.svc.cluster.local") == [c.service("default/s").cluster_ip]


def test_app_protocol_and_health_check_node_port_round_trip(c):
    c.apply(_svc({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                  "healthCheckNodePort": 32100,
                  "ports": [{"port": 80, "appProtocol": "http"}]}))
    spec = c.get("Service", "default/s")["spec"]
    assert spec["healthCheckNodePort"] == 32100 and spec["ports"][0]["appProtocol"] == "http"
    c.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": spec})
    assert c.get("Service", "default/s")["spec"] == spec


def test_health_check_node_port_needs_local_load_balancer(c):
    with pytest.raises(kl.ManifestError, match="spec.healthCheckNodePort"):
        c.apply(_svc({"type": "NodePort", "healthCheckNodePort": 32100}))


def test_cluster_ips_must_match_cluster_ip(c):
    with pytest.raises(kl.ManifestError, match=r"spec.clusterIPs\[0\]"):
        c.apply(_svc({"clusterIP": "10.96.5.5", "clusterIPs": ["10.96.5.6"]}))
    c.apply(_svc({"clusterIPs": ["10.96.5.7"]}))
    assert c.service("default/s").cluster_ip == "10.96.5.7"
