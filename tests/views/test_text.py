"""Tests of kubenet_lab.views.text: traces as text, and kubectl's tables."""

from __future__ import annotations

import pytest

import kubenet_lab as kl
from kubenet_lab.model.node import CONTAINER_RUNTIME, KERNEL_VERSION, KUBERNETES_VERSION, OS_IMAGE
from kubenet_lab.tools.kubectl import human_duration, kubectl_get_nodes, kubectl_get_pods
from kubenet_lab.views.text import TEXT_WIDTH, hop_text, trace_text


def _flat(text: str) -> str:
    """The text with every run of whitespace (line breaks included) made one space."""
    return " ".join(text.split())


# --------------------------------------------------------------------------- trace_text
def test_trace_text_first_line_is_the_repr(cross: kl.Trace) -> None:
    assert trace_text(cross).splitlines()[0] == repr(cross)


def test_trace_text_contains_every_hops_headers(cross: kl.Trace) -> None:
    flat = _flat(trace_text(cross))
    for hop in cross.hops:
        assert _flat(hop.packet.summary()) in flat, hop.index


def test_trace_text_has_a_row_per_hop_with_location_and_action(cross: kl.Trace) -> None:
    rows = [line.split() for line in trace_text(cross).splitlines()[1:]
            if line[:2].strip().isdigit()]
    assert [int(r[0]) for r in rows] == [h.index for h in cross.hops]
    for row, hop in zip(rows, cross.hops, strict=True):
        n = len(str(hop.location).split())
        assert " ".join(row[1:1 + n]) == str(hop.location)
        assert row[1 + n] == hop.action


def test_trace_text_ends_with_the_reason(cross: kl.Trace) -> None:
    text = trace_text(cross)
    last = text[text.rindex("\n=> ") + 1:]
    assert _flat(last) == "=> " + cross.reason


def test_trace_text_lists_changes_below_the_hop_that_made_them(cross: kl.Trace) -> None:
    changed = [line.strip() for line in trace_text(cross).splitlines()
               if line.strip().startswith("changed: ")]
    hops_with_changes = [h for h in cross.hops if h.changes]
    assert len(changed) == len(hops_with_changes)
    assert changed[0].startswith("changed: IP.ttl: 64 -> 63,")
    assert "added VXLAN vni=1" in _flat(trace_text(cross))


def test_trace_text_is_identical_on_two_calls_and_is_str_of_the_trace(
    cluster: kl.Cluster, cross: kl.Trace
) -> None:
    again = cluster.trace("default/a", "default/b", port=80)
    assert trace_text(cross) == trace_text(cross) == trace_text(again) == str(cross)


def test_trace_text_lines_fit_the_width_and_have_no_trailing_spaces(cross: kl.Trace) -> None:
    for line in trace_text(cross).splitlines():
        assert len(line) <= TEXT_WIDTH
        assert line == line.rstrip()


def test_trace_text_of_a_refused_connection(cluster: kl.Cluster) -> None:
    text = trace_text(cluster.trace("default/a", "default/b", port=81))
    assert "refused" in text.splitlines()[0]
    assert _flat(text).endswith(
        "=> Connection refused: nothing in pod default/b listens on TCP port 81.")


# --------------------------------------------------------------------------- hop_text
def test_hop_text_shows_the_ttl_decrement_at_the_routing_hop(cross: kl.Trace) -> None:
    route = next(h for h in cross.hops if h.action == "route")
    text = hop_text(cross, route.index)
    assert f"changed since hop {route.index - 1}:" in text
    assert "  IP.ttl: 63 -> 62" in text.splitlines()


def test_hop_text_shows_the_vxlan_layers_added_at_the_encapsulating_hop(
    cross: kl.Trace,
) -> None:
    hop = next(h for h in cross.hops if h.action == "encapsulate")
    lines = hop_text(cross, hop.index).splitlines()
    assert lines[0] == f"hop {hop.index} of {len(cross.hops)}: {hop.location} [encapsulate]"
    for expected in ("  IP.ttl: 64 -> 63", "  added VXLAN vni=1"):
        assert expected in lines
    assert any(line.startswith("  added UDP ") and line.endswith(" > 8472") for line in lines)


def test_hop_text_contains_the_detail_and_every_header_field(cross: kl.Trace) -> None:
    hop = cross.hops[3]
    text = hop_text(cross, hop.index)
    assert hop.packet.show() in text
    assert _flat(hop.detail) in _flat(text)


def test_hop_text_wraps_the_detail(cross: kl.Trace) -> None:
    detail_lines = hop_text(cross, 4).split("headers:")[0].splitlines()[1:]
    assert len(detail_lines) > 1
    assert all(len(line) <= 88 for line in detail_lines)


def test_hop_text_of_a_hop_without_changes_says_nothing_changed(cross: kl.Trace) -> None:
    assert hop_text(cross, 2).splitlines()[-1] == "changed since hop 1: nothing"
    assert hop_text(cross, 1).splitlines()[-1].startswith("changed: nothing")


@pytest.mark.parametrize("index", [0, 12, -1])
def test_hop_text_rejects_a_hop_number_outside_the_trace(cross: kl.Trace, index: int) -> None:
    with pytest.raises(kl.NotFoundError, match="hops are numbered 1 to 11"):
        hop_text(cross, index)


# --------------------------------------------------------------------------- kubectl get pods
# Expected tables are written by hand from kubectl's printer: Go's tabwriter with a minimum
# cell width of 6 and a padding of 3, so each column is its longest cell plus 3 spaces, and
# the last column is not padded. AGE is the object's age on the cluster's clock, which each
# API request advances by a second: the fixture made a (1s old) and then b (0s), its last
# request; what the cluster made itself is as old as the requests made since.

def _age(c: kl.Cluster, obj: object) -> str:
    """``obj``'s age as kubectl prints it: one second per API request made since."""
    return human_duration(c.store.clock - c.store.created(obj))


def _tick(c: kl.Cluster, seconds: int) -> None:
    """``seconds`` more API requests: the clock moves on by as many seconds."""
    for _ in range(seconds):
        c.store.tick()


def test_kubectl_get_pods(cluster: kl.Cluster) -> None:
    assert kubectl_get_pods(cluster) == (
        "NAME   READY   STATUS    RESTARTS   AGE\n"
        "a      1/1     Running   0          1s\n"
        "b      1/1     Running   0          0s"
    )


def test_kubectl_get_pods_age_is_kubectls_human_duration(cluster: kl.Cluster) -> None:
    _tick(cluster, 119)  # b is 119 s old, a 120 s
    assert [line.split()[-1] for line in kubectl_get_pods(cluster).splitlines()] == [
        "AGE", "2m", "119s"]
    _tick(cluster, 5)
    assert [line.split()[-1] for line in kubectl_get_pods(cluster).splitlines()] == [
        "AGE", "2m5s", "2m4s"]
    _tick(cluster, 3 * 3600 - 125)
    assert [line.split()[-1] for line in kubectl_get_pods(cluster).splitlines()] == [
        "AGE", "3h", "179m"]


def test_kubectl_get_pods_all_namespaces(cluster: kl.Cluster) -> None:
    # CoreDNS pods are named by their ReplicaSet (Deployment name + pod-template-hash)
    # plus five characters, as kube-controller-manager names them.
    assert kubectl_get_pods(cluster, all_namespaces=True) == (
        "NAMESPACE     NAME                       READY   STATUS    RESTARTS   AGE\n"
        "default       a                          1/1     Running   0          1s\n"
        "default       b                          1/1     Running   0          0s\n"
        "kube-system   coredns-6b78f6f679-p5kdt   1/1     Running   0          "
        + _age(cluster, cluster.pod("kube-system/coredns-6b78f6f679-p5kdt")) + "\n"
        "kube-system   coredns-6b78f6f679-q6mg2   1/1     Running   0          "
        + _age(cluster, cluster.pod("kube-system/coredns-6b78f6f679-q6mg2"))
    )
    # CoreDNS was made before a, by the cluster's setup
    assert cluster.store.created(cluster.pod("kube-system/coredns-6b78f6f679-p5kdt")) < (
        cluster.store.created(cluster.pod("default/a")))


def test_kubectl_get_pods_wide(cluster: kl.Cluster) -> None:
    assert kubectl_get_pods(cluster, wide=True) == (
        "NAME   READY   STATUS    RESTARTS   AGE   IP           NODE     "
        "NOMINATED NODE   READINESS GATES\n"
        "a      1/1     Running   0          1s    10.244.1.2   node-1   "
        "<none>           <none>\n"
        "b      1/1     Running   0          0s    10.244.2.2   node-2   "
        "<none>           <none>"
    )


def test_kubectl_get_pods_all_namespaces_wide(cluster: kl.Cluster) -> None:
    lines = kubectl_get_pods(cluster, all_namespaces=True, wide=True).splitlines()
    assert lines[0] == (
        "NAMESPACE     NAME                       READY   STATUS    RESTARTS   AGE   "
        "IP           NODE            NOMINATED NODE   READINESS GATES")
    assert lines[1] == (
        "default       a                          1/1     Running   0          1s    "
        "10.244.1.2   node-1          <none>           <none>")


def test_kubectl_get_pods_shows_a_crash_looping_container(cluster: kl.Cluster) -> None:
    # Two containers declaring the same port: the second cannot bind it and crash-loops.
    cluster.add_pod("default/dup", node="node-1", containers=[
        kl.Container("web", ports=[80]), kl.Container("copy", ports=[80])])
    # kubectl's printPod: the containers' restartCount summed (1), and how long ago the
    # last one terminated (lastState.terminated.finishedAt: the pod's creation, here)
    assert kubectl_get_pods(cluster) == (
        "NAME   READY   STATUS             RESTARTS     AGE\n"
        "a      1/1     Running            0            2s\n"
        "b      1/1     Running            0            1s\n"
        "dup    1/2     CrashLoopBackOff   1 (0s ago)   0s"
    )
    _tick(cluster, 125)
    assert kubectl_get_pods(cluster).splitlines()[-1] == (
        "dup    1/2     CrashLoopBackOff   1 (2m5s ago)   2m5s")


def test_kubectl_get_pods_sums_the_restarts_of_crash_looping_containers(
    cluster: kl.Cluster,
) -> None:
    # three containers on port 80: the first binds it, the two others crash-loop
    cluster.add_pod("default/trio", node="node-1", containers=[
        kl.Container(name, ports=[80]) for name in ("web", "copy", "again")])
    _tick(cluster, 7)
    assert kubectl_get_pods(cluster).splitlines()[-1] == (
        "trio   1/3     CrashLoopBackOff   2 (7s ago)   7s")


def test_kubectl_get_pods_counts_no_ready_container_in_a_pod_that_is_not_ready(
    cluster: kl.Cluster,
) -> None:
    cluster.add_pod("default/slow", node="node-1", ready=False)
    assert kubectl_get_pods(cluster).splitlines()[-1] == (
        "slow   0/1     Running   0          0s")


def test_kubectl_get_pods_in_a_namespace_without_pods(cluster: kl.Cluster) -> None:
    assert kubectl_get_pods(cluster, "kube-public") == (
        "No resources found in kube-public namespace.")


def test_kubectl_get_pods_lists_pods_in_natural_name_order() -> None:
    c = kl.Cluster(workers=1)
    for name in ("web-10", "web-2", "web-1"):
        c.add_pod(f"default/{name}")
    names = [line.split()[0] for line in kubectl_get_pods(c).splitlines()[1:]]
    assert names == ["web-1", "web-2", "web-10"]


# --------------------------------------------------------------------------- kubectl get nodes
def test_kubectl_get_nodes(cluster: kl.Cluster) -> None:
    # kubeadm made the nodes together, before the fixture's two pods
    since = cluster.store.clock - cluster.store.created(cluster.node("control-plane"))
    assert since >= 2
    assert {_age(cluster, n) for n in cluster.nodes} == {human_duration(since)}
    _tick(cluster, 600 - since)  # ten minutes after the nodes were made
    assert kubectl_get_nodes(cluster) == (
        "NAME            STATUS   ROLES           AGE   VERSION\n"
        "control-plane   Ready    control-plane   10m   v1.35.4\n"
        "node-1          Ready    <none>          10m   v1.35.4\n"
        "node-2          Ready    <none>          10m   v1.35.4"
    )
    _tick(cluster, 1)
    assert kubectl_get_nodes(cluster).splitlines()[1] == (
        "control-plane   Ready    control-plane   10m   v1.35.4")
    _tick(cluster, 8 * 3600 - 60 - 601)
    assert kubectl_get_nodes(cluster).splitlines()[1] == (
        "control-plane   Ready    control-plane   7h59m   v1.35.4")


def test_kubectl_get_nodes_wide(cluster: kl.Cluster) -> None:
    cluster.add_node("edge", public_ip="203.0.113.10")
    _tick(cluster, 9)  # edge is 9 s old; the others are older
    old = _age(cluster, cluster.node("node-1"))
    assert cluster.store.clock - cluster.store.created(cluster.node("node-1")) > 9
    width = max(6, len(old) + 3)  # tabwriter: the widest cell plus 3, at least 6
    assert kubectl_get_nodes(cluster, wide=True) == (
        f"NAME            STATUS   ROLES           {'AGE':<{width}}VERSION   INTERNAL-IP   "
        "EXTERNAL-IP    OS-IMAGE             KERNEL-VERSION     CONTAINER-RUNTIME\n"
        f"control-plane   Ready    control-plane   {old:<{width}}v1.35.4   10.0.1.4      "
        "<none>         Ubuntu 24.04.1 LTS   6.8.0-51-generic   containerd://2.2.3\n"
        f"edge            Ready    <none>          {'9s':<{width}}v1.35.4   10.0.0.4      "
        "203.0.113.10   Ubuntu 24.04.1 LTS   6.8.0-51-generic   containerd://2.2.3\n"
        f"node-1          Ready    <none>          {old:<{width}}v1.35.4   10.0.1.5      "
        "<none>         Ubuntu 24.04.1 LTS   6.8.0-51-generic   containerd://2.2.3\n"
        f"node-2          Ready    <none>          {old:<{width}}v1.35.4   10.0.1.6      "
        "<none>         Ubuntu 24.04.1 LTS   6.8.0-51-generic   containerd://2.2.3"
    )


def test_the_node_image_constants() -> None:
    # Kubernetes 1.35 (v1.35.4: kubernetes CHANGELOG/CHANGELOG-1.35.md); containerd 2.2 is
    # the first line containerd recommends for Kubernetes 1.35 ("2.2.0+, 2.1.5+, 1.7.28+":
    # containerd/containerd RELEASES.md, "Kubernetes Support")
    assert (KUBERNETES_VERSION, OS_IMAGE, KERNEL_VERSION, CONTAINER_RUNTIME) == (
        "v1.35.4", "Ubuntu 24.04.1 LTS", "6.8.0-51-generic", "containerd://2.2.3")


_B = "{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}"
_INGRESSES = f"""
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: shop}}
spec:
  ingressClassName: nginx
  tls: [{{hosts: [shop.example.com], secretName: shop-tls}}]
  rules:
  - host: shop.example.com
    http: {{paths: [{_B}]}}
  - host: api.example.com
    http: {{paths: [{_B}]}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: catch-all}}
spec:
  ingressClassName: nginx
  defaultBackend: {{service: {{name: web, port: {{number: 80}}}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: many, namespace: kube-system}}
spec:
  ingressClassName: other
  rules:
  - {{host: a.example.com, http: {{paths: [{_B}]}}}}
  - {{host: b.example.com, http: {{paths: [{_B}]}}}}
  - {{host: c.example.com, http: {{paths: [{_B}]}}}}
  - {{host: d.example.com, http: {{paths: [{_B}]}}}}
  - {{host: e.example.com, http: {{paths: [{_B}]}}}}
"""


def _ingress_cluster() -> kl.Cluster:
    c = kl.Cluster(workers=1)
    c.add_cloud_load_balancer()
    c.add_ingress_controller()
    c.apply(_INGRESSES)
    return c


def test_kubectl_get_ingress_in_kubectls_format() -> None:
    # kubectl's printIngress: NAME CLASS HOSTS ADDRESS PORTS AGE, columns padded by
    # tabwriter (3 spaces); HOSTS "*" without hosts; PORTS "80, 443" with TLS; ADDRESS
    # the ingress-nginx controller Service's load balancer (--publish-service)
    c = _ingress_cluster()
    ip = c.service("ingress-nginx/ingress-nginx-controller").load_balancer_ip
    lines = kl.kubectl_get_ingresses(c).splitlines()
    assert lines[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    # one apply (one API request, the last) made both: 0 s old
    assert lines[1].split() == ["catch-all", "nginx", "*", ip, "80", "0s"]
    assert lines[2].split() == ["shop", "nginx", "shop.example.com,api.example.com", ip,
                                "80,", "443", "0s"]
    assert [line.index("ADDRESS") for line in lines[:1]] == [line.index(ip) for line in lines[1:2]]
    assert lines[2].endswith("   80, 443   0s")
    _tick(c, 3600 + 120)
    assert kl.kubectl_get_ingresses(c).splitlines()[2].endswith("   80, 443   62m")


def test_kubectl_get_ingress_all_namespaces_exact_table() -> None:
    c = _ingress_cluster()
    ip = c.service("ingress-nginx/ingress-nginx-controller").load_balancer_ip
    assert ip == "198.51.100.10"
    # the class "other" has no controller here: no status, ADDRESS stays empty
    expected = "\n".join([
        "NAMESPACE     NAME        CLASS   HOSTS" + " " * 51 + "ADDRESS         PORTS     AGE",
        "default       catch-all   nginx   *" + " " * 55 + "198.51.100.10   80        0s",
        "default       shop        nginx   shop.example.com,api.example.com" + " " * 24
        + "198.51.100.10   80, 443   0s",
        "kube-system   many        other   a.example.com,b.example.com,c.example.com + 2 more..."
        + " " * 19 + "80        0s",
    ])
    assert kl.kubectl_get_ingresses(c, all_namespaces=True) == expected
    assert c.exec("node-1", "kubectl get ingress -A") == expected
    assert c.exec("node-1", "kubectl get ing -A -o wide") == expected  # no wide columns
    assert c.exec("node-1", "kubectl get ingresses -n kube-system").splitlines()[1].startswith(
        "many   other   a.example.com,b.example.com,c.example.com + 2 more...")


def test_kubectl_get_ingress_without_ingresses_or_load_balancer() -> None:
    c = kl.Cluster(workers=1)
    assert c.exec("node-1", "kubectl get ingress") == "No resources found in default namespace."
    assert kl.kubectl_get_ingresses(c, all_namespaces=True) == "No resources found"
    c.apply(_INGRESSES.split("---")[1])  # no controller: the class it names, no status
    assert kl.kubectl_get_ingresses(c) == (
        "NAME        CLASS   HOSTS   ADDRESS   PORTS   AGE\n"
        "catch-all   nginx   *                 80      0s")
