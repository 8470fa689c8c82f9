"""Services: kubeadm's defaults, allocation bands, endpoints, API-server validation, DNS."""

from ipaddress import IPv4Address, ip_network

import pytest

import kubenet_lab as kl


@pytest.fixture
def c():
    return kl.Cluster(workers=2)


def test_kubeadm_services(c):
    k = c.service("default/kubernetes")
    assert (k.cluster_ip, k.ports[0].name, k.ports[0].port, k.ports[0].target_port) == (
        "10.96.0.1", "https", 443, 6443)
    [s] = c.endpoint_slices("default/kubernetes")
    assert [(e.address, e.node) for e in s.endpoints] == [("10.0.1.4", "control-plane")]
    dns = c.service("kube-system/kube-dns")
    assert dns.cluster_ip == "10.96.0.10"
    assert [(p.name, p.protocol, p.port) for p in dns.ports] == [
        ("dns", "UDP", 53), ("dns-tcp", "TCP", 53), ("metrics", "TCP", 9153)]
    coredns = {p.ip for p in c.pods if p.labels.get("k8s-app") == "kube-dns"}
    assert {e.address for s in c.endpoint_slices("kube-system/kube-dns")
            for e in s.endpoints} == coredns


def test_cluster_ips_come_from_the_dynamic_band_and_are_deterministic(c):
    ips = [c.add_service(f"default/s{i}", selector={"a": "b"}, ports=[80]).cluster_ip
           for i in range(20)]
    assert len(set(ips)) == 20
    for ip in ips:
        assert IPv4Address(ip) in ip_network("10.96.0.0/12")
        assert IPv4Address(ip) > IPv4Address("10.96.1.0")
    other = kl.Cluster(workers=2)
    assert ips == [other.add_service(f"default/s{i}", selector={"a": "b"}, ports=[80])
                   .cluster_ip for i in range(20)]


def test_named_target_port_resolves_per_pod(c):
    c.add_pod("default/a", node="node-1", labels={"app": "x"},
              containers=[kl.Container("w", ports=[kl.ContainerPort(8080, "web")])])
    c.add_pod("default/b", node="node-2", labels={"app": "x"},
              containers=[kl.Container("w", ports=[kl.ContainerPort(9090, "web")])])
    c.add_service("default/x", selector={"app": "x"},
                  ports=[{"port": 80, "targetPort": "web"}])
    slices = c.endpoint_slices("default/x")
    assert sorted((s.ports[0][1], s.endpoints[0].address) for s in slices) == [
        (8080, "10.244.1.2"), (9090, "10.244.2.2")]
    text = c.iptables_save("node-1")
    assert "--to-destination 10.244.1.2:8080" in text
    assert "--to-destination 10.244.2.2:9090" in text


def test_named_target_port_no_pod_defines_gives_no_endpoints(c):
    c.add_pod("default/a", node="node-1", labels={"app": "x"})
    svc = c.add_service("default/x", selector={"app": "x"},
                        ports=[{"port": 80, "targetPort": "nope"}])
    assert "default/x has no endpoints" in c.iptables_save("node-1")
    assert c.trace("default/a", svc.cluster_ip, port=80).outcome == "refused"


BAD = [
    ("clusterIP: 10.0.0.5", "spec.clusterIPs", kl.ManifestError),
    ("clusterIP: 10.96.0.1", "spec.clusterIPs", kl.ConflictError),
    ("type: NodePort\n  ports: [{port: 80, nodePort: 29999}]", "spec.ports[0].nodePort",
     kl.ManifestError),
    ("ports: [{port: 80}, {port: 81, name: b}]", "spec.ports[0].name", kl.ManifestError),
    ("ports: [{port: 70000}]", "spec.ports[0].port", kl.ManifestError),
    ("type: Magic", "spec.type", kl.ManifestError),
]


@pytest.mark.parametrize("spec, field, error", BAD)
def test_bad_services_rejected_naming_the_field_and_nothing_applied(c, spec, field, error):
    ports = "" if "ports:" in spec else "\n  ports: [{port: 80}]"
    doc = (f"apiVersion: v1\nkind: Service\nmetadata: {{name: bad}}\nspec:\n  {spec}{ports}\n"
           "---\napiVersion: v1\nkind: Pod\nmetadata: {name: extra}\nspec:\n  containers: "
           "[{name: a, image: nginx}]\n")
    doc = doc.replace("spec:\n  ports", "spec:\n  ports") if "ports:" in spec else doc
    before = (sorted(s.ref for s in c.services), [p.ref for p in c.pods])
    with pytest.raises(error) as err:
        c.apply(doc.replace("---", "---", 1) if "---" in doc else doc)
    assert err.value.field == field
    assert (sorted(s.ref for s in c.services), [p.ref for p in c.pods]) == before


def test_node_port_already_allocated(c):
    c.add_service("default/a", type="NodePort", selector={"a": "b"},
                  ports=[{"port": 80, "nodePort": 30100}])
    with pytest.raises(kl.ConflictError) as err:
        c.add_service("default/b", type="NodePort", selector={"a": "b"},
                      ports=[{"port": 80, "nodePort": 30100}])
    assert err.value.field == "spec.ports[0].nodePort"
    assert [s.ref for s in c.services if s.namespace == "default"] == [
        "default/a", "default/kubernetes"]


def test_selector_matching_nothing_is_accepted(c):
    svc = c.add_service("default/lonely", selector={"app": "ghost"}, ports=[80])
    assert c.endpoint_slices(svc.ref) == []


def test_dns_records_and_search_path(c):
    c.add_namespace("shop")
    c.add_pod("shop/db-0", node="node-1", labels={"app": "db"})
    c.add_service("shop/web", selector={"app": "db"}, ports=[{"port": 80, "name": "http"}],
                  cluster_ip="10.96.100.1")
    c.add_service("shop/db", selector={"app": "db"}, ports=[80], cluster_ip="None")
    c.apply("apiVersion: v1\nkind: Service\nmetadata: {name: ext, namespace: shop}\n"
            "spec: {type: ExternalName, externalName: db.example.com}\n")
    assert c.resolve("web.shop.svc.cluster.local") == ["10.96.100.1"]
    assert c.resolve("web", from_pod="shop/db-0") == ["10.96.100.1"]
    assert c.resolve("web.shop", from_pod="kube-system/" + c.pods[0].name) == ["10.96.100.1"]
    assert c.resolve("web", from_pod="kube-system/" + c.pods[0].name) == []  # NXDOMAIN
    assert c.resolve("db.shop.svc.cluster.local") == ["10.244.1.2"]  # headless
    assert c.resolve("10-244-1-2.shop.pod.cluster.local") == ["10.244.1.2"]
    from kubenet_lab.dataplane.dns import lookup

    _, srv = lookup(c.store, "_http._tcp.web.shop.svc.cluster.local", "SRV")
    assert [r.value for r in srv] == ["0 100 80 web.shop.svc.cluster.local."]
    _, cname = lookup(c.store, "ext.shop.svc.cluster.local", "A")
    assert [(r.type, r.value) for r in cname] == [("CNAME", "db.example.com.")]


def test_trace_to_a_dns_name_starts_with_the_lookup(c):
    c.add_pod("default/web", node="node-2", labels={"app": "web"})
    c.add_pod("default/client", node="node-1")
    c.add_service("default/websvc", selector={"app": "web"}, ports=[80])
    t = c.trace("default/client", "websvc", port=80)
    assert t.hops[0].action == "dns" and "ndots:5" in t.hops[0].detail
    assert t.delivered and t.destination_pod == "default/web"
    with pytest.raises(kl.NotFoundError):
        c.trace("default/client", "nosuch.default", port=80)


def test_outside_client_reaches_only_node_addresses(c):
    t = c.trace("203.0.113.9", "10.0.1.5", port=10250)
    assert t.delivered and t.receiver == "node-1/kubelet"
    t = c.trace("203.0.113.9", "10.96.0.1", port=443)
    assert t.outcome == "dropped"


def test_delete_service_frees_its_ip_and_node_port(c):
    svc = c.add_service("default/np", type="NodePort", selector={"a": "b"},
                        ports=[{"port": 80, "nodePort": 30111}], cluster_ip="10.96.50.50")
    c.delete_service(svc.ref)
    with pytest.raises(kl.NotFoundError):
        c.service("default/np")
    again = c.add_service("default/np2", type="NodePort", selector={"a": "b"},
                          ports=[{"port": 80, "nodePort": 30111}], cluster_ip="10.96.50.50")
    assert again.cluster_ip == "10.96.50.50"


def test_apply_service_and_bad_pod_is_all_or_nothing(c):
    doc = ("apiVersion: v1\nkind: Service\nmetadata: {name: ok}\nspec:\n  ports: [{port: 80}]\n"
           "---\napiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: []}\n")
    with pytest.raises(kl.KubenetLabError):
        c.apply(doc)
    assert "default/ok" not in {s.ref for s in c.services}
    assert c.add_service("default/ok", ports=[80]).cluster_ip  # its IP was not kept


def test_trace_to_external_name_explains_the_cname(c):
    c.add_pod("default/client", node="node-1")
    c.apply("apiVersion: v1\nkind: Service\nmetadata: {name: ext}\n"
            "spec: {type: ExternalName, externalName: db.example.com}\n")
    with pytest.raises(kl.NotFoundError, match="CNAME to db.example.com."):
        c.trace("default/client", "ext", port=80)
