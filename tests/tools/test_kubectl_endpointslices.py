"""``kubectl get endpointslices``: kubectl's columns and cell formats
(k8s.io/kubernetes pkg/printers/internalversion/printers.go ``printEndpointSlice``,
``formatDiscoveryPorts``, ``formatDiscoveryEndpoints``, ``listWithMoreString``) and the
``kubernetes.io/service-name`` label the EndpointSlice controller sets, which ``-l``
selects on (the way kubernetes.io's docs list a Service's slices)."""

from __future__ import annotations

import kubenet_lab as kl


def _cluster(pods: int) -> kl.Cluster:
    c = kl.Cluster(workers=1)
    for i in range(pods):
        c.add_pod(f"default/web-{i}", labels={"app": "web"})
    c.add_service("default/web", selector={"app": "web"},
                  ports=[{"name": "http", "port": 80}, {"name": "https", "port": 443}])
    return c


def test_columns_and_the_first_three_addresses_then_how_many_more():
    c = _cluster(5)
    ips = sorted((p.ip for p in c.pods if p.namespace == "default"),
                 key=lambda ip: tuple(map(int, ip.split("."))))
    lines = c.exec("node-1", "kubectl get endpointslices -l "
                   "kubernetes.io/service-name=web").splitlines()
    assert lines[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    name, kind, ports = lines[1].split()[:3]
    assert name.startswith("web-") and len(name) == len("web-") + 5
    assert (kind, ports) == ("IPv4", "80,443")
    assert f"   {','.join(ips[:3])} + 2 more...   " in lines[1]
    assert len(lines) == 2


def test_a_service_without_pods_has_a_placeholder_slice():
    c = _cluster(0)
    lines = c.exec("node-1", "kubectl get endpointslices").splitlines()
    web = next(line for line in lines if line.startswith("web-"))
    assert web.split()[1:4] == ["IPv4", "<unset>", "<unset>"]
    assert any(line.startswith("kubernetes ") for line in lines)   # the API server's own


def test_all_namespaces_and_no_match():
    c = _cluster(1)
    lines = c.exec("node-1", "kubectl get endpointslices -A").splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert {line.split()[0] for line in lines[1:]} == {"default", "kube-system"}
    assert c.exec("node-1", "kubectl get endpointslices -l kubernetes.io/service-name=nope") \
        == "No resources found in default namespace."
    assert c.exec("node-1", "kubectl get endpointslices -l '=x'").startswith(
        "error: unable to parse requirement")


def test_selectors_by_label_presence_and_inequality():
    c = _cluster(1)
    managed = "endpointslice.kubernetes.io/managed-by"
    names = [line.split()[0] for line in c.exec(
        "node-1", f"kubectl get endpointslices -l {managed}").splitlines()[1:]]
    assert names and all(n.startswith("web-") for n in names)   # not the API server's
    other = c.exec("node-1", f"kubectl get endpointslices -l '!{managed}'").splitlines()
    assert [line.split()[0] for line in other[1:]] == ["kubernetes"]
    assert "web-" not in c.exec("node-1", "kubectl get endpointslices -l "
                                "kubernetes.io/service-name!=web")
