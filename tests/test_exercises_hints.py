"""Each hint fits one specific mistake and guides without giving the answer away; each
exercise that changes a cluster has a ``setup()`` that builds a fresh one (issue 14).

The expected facts come from the components' own behaviour: the CNI bridge plugin and
host-local (containernetworking/plugins), the API server's Pod and Service semantics
(kubernetes.io Service: "targetPort ... can be a string, the name of a port in the
backend Pods"), ingress-nginx (503 for a missing backend, ``--watch-ingress-without-class``
false by default), kube-proxy's chain names (pkg/proxy/iptables/proxier.go
``servicePortChainName``) and Gateway API's route precedence (HTTPRouteRule docs).
"""

from __future__ import annotations

import pytest

import kubenet_lab as kl
from kubenet_lab.exercises import lesson06

#: The exercises whose answer cell changes a cluster: each starts from ``setup()``.
WITH_SETUP = ("1.2", "1.3", "2.2", "3.2", "3.3", "4.1", "4.2", "5.2", "6.1", "6.2", "6.3",
              "6.4", "8.6")


@pytest.mark.parametrize("key", WITH_SETUP)
def test_setup_builds_a_fresh_cluster_every_time(key):
    ex = kl.exercise(key)
    first, second = ex.setup(), ex.setup()
    assert isinstance(first, kl.Cluster) and first is not second
    assert not ex.check("done", first).passed  # nothing is solved at the start
    assert [p.ref for p in first.pods] == [p.ref for p in second.pods]


def test_an_exercise_without_setup_says_so():
    with pytest.raises(kl.NotFoundError, match=r"Exercise 1\.1: 'setup\(\)' is not there"):
        kl.exercise("1.1").setup()
    with pytest.raises(kl.KubenetLabError, match="lesson's own cluster or trace"):
        kl.exercise("7.1").setup()


# ---------------------------------------------------------------- lesson 01
def _pair(c, *containers):
    c.add_pod("default/pair", node="node-1", containers=list(containers))
    return kl.exercise("1.2").check("done", c).message


def test_1_2_hints_follow_what_is_wrong_with_the_pod():
    ex = kl.exercise("1.2")
    c = ex.setup()
    assert "c_pair.add_pod" in ex.check("done", c).message
    assert "it has 1" in _pair(c, kl.Container("app", ports=[8080]))
    c = ex.setup()
    msg = _pair(c, kl.Container("web", ports=[8080]), kl.Container("probe"))
    assert "named app and probe" in msg and "probe, web" in msg
    c = ex.setup()
    assert "declared on probe" in _pair(c, kl.Container("app"),
                                        kl.Container("probe", ports=[8080]))
    c = ex.setup()
    assert "not as TCP" in _pair(c, kl.Container("app", ports=[kl.ContainerPort(
        8080, protocol="UDP")]), kl.Container("probe"))
    c = ex.setup()
    assert "app declares 80" in _pair(c, kl.Container("app", ports=[80]),
                                      kl.Container("probe"))
    c = ex.setup()
    assert "probe must declare no ports" in _pair(c, kl.Container("app", ports=[8080]),
                                                  kl.Container("probe", ports=[9090]))
    c = ex.setup()
    _pair(c, kl.Container("app", ports=[8080]), kl.Container("probe"))
    assert ex.check("done", c).passed


def test_1_3_keeping_both_containers_is_part_of_the_task():
    ex = kl.exercise("1.3")
    c = ex.setup()
    assert c.pod("default/clash").crashing  # section 4's pod, crash-looping
    c.delete_pod("default/clash")
    c.add_pod("default/clash", node="node-2", containers=[kl.Container("web", ports=[80])])
    assert "Keep both containers" in ex.check("done", c).message


def test_1_4_hints_tell_too_many_from_too_few_and_a_raised_ttl():
    c = kl.Cluster(workers=1)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-1")
    t = c.trace("default/a", "default/b")
    ex = kl.exercise("1.4")
    assert "Too many" in ex.check((len(t.hops) + 2, 64), t).message
    assert "Too few" in ex.check((len(t.hops) - 1, 64), t).message
    assert "ip_default_ttl" in ex.check((len(t.hops), 65), t).message
    assert "route this packet" in ex.check((len(t.hops), 63), t).message
    assert "is a number" in ex.check(("five", 64), t).message


# ---------------------------------------------------------------- lesson 02
def test_2_1_one_right_address_is_named_as_such():
    t = kl.healthy_cluster().trace("default/client", "default/web-2")
    ex = kl.exercise("2.1")
    assert "source is right" in ex.check(("10.0.1.5", "10.0.1.7"), t).message
    assert "destination is right" in ex.check(("10.0.1.4", "10.0.1.6"), t).message


def test_2_3_the_destination_and_the_other_node_are_no_source():
    c = kl.broken_cluster("masquerade")
    t = c.trace("default/client", "default/web-2")
    ex = kl.exercise("2.3")
    assert "the destination" in ex.check(c.pod("default/web-2").ip, t).message
    assert "node the packet leaves" in ex.check(c.node("node-2").ip, t).message
    assert t.source_ip_seen not in ex.check(t.src_ip, t).message


def test_2_2_setup_is_the_broken_cluster_of_section_5():
    c = kl.exercise("2.2").setup()
    assert not c.verify_network_model().ok
    assert "c_broken.exec('node-1', 'ip route')" in kl.exercise("2.2").check("done", c).message


# ---------------------------------------------------------------- lesson 03
def test_3_1_another_services_chain_is_named():
    c = kl.Cluster(workers=1)
    c.add_pod("default/web", labels={"app": "web"})
    c.add_service("default/web", selector={"app": "web"}, ports=[{"name": "http", "port": 80}])
    kube_dns = next(line.split(" -j ")[1] for line in c.iptables_save("node-1").splitlines()
                    if '"kube-system/kube-dns:dns cluster IP"' in line
                    and line.startswith("-A KUBE-SERVICES"))
    assert "kube-system/kube-dns:dns, another Service" in kl.exercise("3.1").check(
        kube_dns, c).message


def test_3_2_the_hint_reads_the_target_port():
    ex = kl.exercise("3.2")
    c = ex.setup()
    assert "c_backend.add_service" in ex.check("done", c).message
    c.add_service("default/backend", selector={"app": "backend"}, ports=[81])
    assert "it listens on 81" in ex.check("done", c).message
    c.add_service("default/backend", selector={"app": "nope"}, ports=[80])
    assert "{'app': 'nope'} matches none" in ex.check("done", c).message
    c.add_service("default/backend", selector={"app": "backend"},
                  ports=[{"port": 80, "targetPort": 9000}])
    assert "the pods' port 9000" in ex.check("done", c).message
    c.add_service("default/backend", selector={"app": "backend"},
                  ports=[{"port": 80, "targetPort": "http"}])
    assert ex.check("done", c).passed


def test_3_3_hints_name_the_exercise_cluster():
    ex = kl.exercise("3.3")
    assert "kl.kubectl_get_pods(c_frontend)" in ex.check("done", ex.setup()).message


# ---------------------------------------------------------------- lesson 05
def _blog_ingress(c, cls="nginx", path="/", service="blog", port=80, path_type="Prefix"):
    c.apply({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
             "metadata": {"name": "blog"},
             "spec": {**({"ingressClassName": cls} if cls else {}), "rules": [{
                 "host": "blog.example.com", "http": {"paths": [{
                     "path": path, "pathType": path_type,
                     "backend": {"service": {"name": service, "port": {"number": port}}}}]}}]}})
    return kl.exercise("5.2").check("done", c).message


def test_5_2_hints_say_what_the_controller_does_with_the_ingress():
    c = kl.exercise("5.2").setup()
    assert "--watch-ingress-without-class=false" in _blog_ingress(c, cls=None)
    assert "ingressClassName ngnix names no IngressClass" in _blog_ingress(c, cls="ngnix")
    assert "(its paths: Prefix /posts)" in _blog_ingress(c, path="/posts")
    assert "Service 'blogg', which does not exist" in _blog_ingress(c, service="blogg")
    assert "Service blog has no port 8080" in _blog_ingress(c, port=8080)
    _blog_ingress(c)
    assert kl.exercise("5.2").check("done", c).passed


def test_5_2_any_path_is_more_than_exact_root():
    # Kubernetes docs, Ingress, "Examples": Exact /foo does not match /foo/, while
    # Prefix / matches all paths (element by element); an Exact / answer only looks right
    ex = kl.exercise("5.2")
    c = ex.setup()
    hint = _blog_ingress(c, path_type="Exact")
    assert c.trace("internet", "http://blog.example.com/").http_status == 200
    assert c.trace("internet", "http://blog.example.com/about").http_status == 404
    assert "http://blog.example.com/about gets 404" in hint
    assert "Exact / takes / alone" in hint and "Prefix / matches every path" in hint
    _blog_ingress(c)
    feedback = ex.check("done", c)
    assert feedback.passed and "Exact / would take / only" in feedback.message
    assert c.trace("internet", "http://blog.example.com/a/b").http_status == 200


# ---------------------------------------------------------------- lesson 06
def _blog_route(c, rule=""):
    c.apply(f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: blog, namespace: blog}}
spec:
  parentRefs: [{{name: web, namespace: infra, sectionName: http}}]
  hostnames: [blog.example.com]
  rules:
  - {rule}backendRefs: [{{name: blog, port: 80}}]
""")
    return kl.exercise("6.2").check("done", c)


def test_6_2_any_path_is_more_than_exact_root():
    # gateway-api HTTPPathMatch: Exact matches the path exactly, PathPrefix / element by
    # element, and a rule without matches is PathPrefix /
    c = kl.exercise("6.2").setup()
    feedback = _blog_route(c, "matches: [{path: {type: Exact, value: /}}]\n    ")
    assert c.trace("internet", "http://blog.example.com/").http_status == 200
    assert c.trace("internet", "http://blog.example.com/about").http_status == 404
    assert not feedback.passed
    assert "404 to GET http://blog.example.com/about" in feedback.message
    assert "Exact / matches / itself only" in feedback.message
    assert _blog_route(c, "matches: [{path: {type: PathPrefix, value: /}}]\n    ").passed
    feedback = _blog_route(c)
    assert feedback.passed and "Exact / would take / only" in feedback.message
    assert c.trace("internet", "http://blog.example.com/a/b").http_status == 200


def test_6_4_the_reason_is_the_one_of_the_request_that_differs():
    ex = kl.exercise("6.4")
    c = ex.setup()
    c.apply("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: docs, namespace: shop}
spec:
  parentRefs: [{name: web, namespace: infra, sectionName: http}]
  hostnames: [docs.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v1}}]
    backendRefs: [{name: docs-v1, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /healthz}}]
    backendRefs: [{name: health, port: 80}]
""")
    msg = ex.check("done", c).message
    assert "/healthz/x should reach 404" in msg and "Exact /healthz takes /healthz only" in msg


def test_the_lesson_06_setup_uses_the_notebooks_route():
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parent.parent / "notebooks"
                     / "06-gateway-api.ipynb").read_text())
    source = next("".join(c["source"]) for c in nb["cells"]
                  if "SHOP_ROUTE = " in "".join(c["source"]))
    route = source.split('SHOP_ROUTE = """', 1)[1].split('"""', 1)[0]
    assert route.strip() == lesson06.SHOP_ROUTE.strip()
