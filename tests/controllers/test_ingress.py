"""Ingress: the Kubernetes documentation's path-matching examples table, host rules,
ingress-nginx's choices, TLS, 404/503, and bad input (facts sheet §5)."""

import pytest

import kubenet_lab as kl

BACKENDS = ("a", "b", "c", "d")


def _cluster():
    c = kl.Cluster(workers=2)
    c.add_ingress_controller()
    for name in BACKENDS:
        c.apply(f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, labels: {{app: {name}}}}}
spec:
  containers: [{{name: web, image: nginx, ports: [{{containerPort: 80}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec:
  selector: {{app: {name}}}
  ports: [{{name: http, port: 80}}]
""")
    return c


@pytest.fixture(scope="module")
def base():
    return _cluster()


def _ingress(paths, host=None, default=None, name="ing", tls=""):
    lines = "".join(
        f"      - {{path: {p}, pathType: {t}, backend: {{service: {{name: {b}, port: "
        f"{{number: 80}}}}}}}}\n" for t, p, b in paths)
    spec = ""
    if default:
        spec += f"  defaultBackend: {{service: {{name: {default}, port: {{number: 80}}}}}}\n"
    if paths:
        first = f"  - host: {host}\n    http:\n" if host else "  - http:\n"
        spec += f"  rules:\n{first}      paths:\n{lines}"
    return (f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}}}\n"
            f"spec:\n{tls}{spec}")


def _route(c, url):
    t = c.trace("internet", url)
    return t.http_status, (t.destination_pod if t.http_status == 200 else None)


# (rule paths as (pathType, path, backend)), request path, expected backend or None
# -- the table at kubernetes.io/docs/concepts/services-networking/ingress/#examples
DOCS_TABLE = [
    ([("Prefix", "/", "a")], ["/", "/x", "/aaa/bbb"], "a"),          # 1
    ([("Exact", "/foo", "a")], ["/foo"], "a"),                         # 2
    ([("Exact", "/foo", "a")], ["/bar"], None),                        # 3
    ([("Exact", "/foo", "a")], ["/foo/"], None),                       # 4
    ([("Exact", "/foo/", "a")], ["/foo"], None),                       # 5
    ([("Prefix", "/foo", "a")], ["/foo", "/foo/"], "a"),               # 6
    ([("Prefix", "/foo/", "a")], ["/foo", "/foo/"], "a"),              # 7
    ([("Prefix", "/aaa/bb", "a")], ["/aaa/bbb"], None),                # 8
    ([("Prefix", "/aaa/bbb", "a")], ["/aaa/bbb"], "a"),                # 9
    ([("Prefix", "/aaa/bbb/", "a")], ["/aaa/bbb"], "a"),               # 10
    ([("Prefix", "/aaa/bbb", "a")], ["/aaa/bbb/"], "a"),               # 11
    ([("Prefix", "/aaa/bbb", "a")], ["/aaa/bbb/ccc"], "a"),            # 12
    ([("Prefix", "/aaa/bbb", "a")], ["/aaa/bbbxyz"], None),            # 13
    ([("Prefix", "/", "a"), ("Prefix", "/aaa", "b")], ["/aaa/ccc"], "b"),      # 14
    ([("Prefix", "/", "a"), ("Prefix", "/aaa", "b"), ("Prefix", "/aaa/bbb", "c")],
     ["/aaa/bbb"], "c"),                                                          # 15
    ([("Prefix", "/", "a"), ("Prefix", "/aaa", "b"), ("Prefix", "/aaa/bbb", "c")],
     ["/ccc"], "a"),                                                              # 16
    ([("Prefix", "/aaa", "a")], ["/ccc"], "default"),                            # 17
    ([("Prefix", "/foo", "a"), ("Exact", "/foo", "b")], ["/foo"], "b"),          # 18
    ([("Exact", "/foo", "b"), ("Prefix", "/foo", "a")], ["/foo"], "b"),          # 18, order
    # conformance suite: case-sensitive, no string prefix
    ([("Exact", "/foo", "a")], ["/FOO"], None),
    ([("Prefix", "/foo", "a")], ["/FOO"], None),
    ([("Prefix", "/aaa", "a")], ["/aaaccc"], None),
]


@pytest.mark.parametrize("paths, requests, want", DOCS_TABLE,
                         ids=[f"row{i}" for i in range(1, len(DOCS_TABLE) + 1)])
def test_the_documentation_examples_table(base, paths, requests, want):
    c = base
    default = "d" if want == "default" else None
    c.apply(_ingress(paths, default=default))
    try:
        for path in requests:
            status, pod = _route(c, f"http://example.com{path}")
            if want is None:
                assert (status, pod) == (404, None), path
            elif want == "default":
                assert (status, pod) == (200, "default/d"), path
            else:
                assert (status, pod) == (200, f"default/{want}"), path
    finally:
        c.delete_ingress("default/ing")


def test_name_based_virtual_hosting_and_the_host_less_rule(base):
    c = base
    c.apply(_ingress([("Prefix", "/", "a")], host="first.bar.com", name="one")
            + "---\n" + _ingress([("Prefix", "/", "b")], host="second.bar.com", name="two")
            + "---\n" + _ingress([("Prefix", "/", "c")], name="three"))
    try:
        assert _route(c, "http://first.bar.com/") == (200, "default/a")
        # the load balancer listens on 80 and 443 only (ingress-nginx's cloud deploy.yaml):
        # another URL port is refused; a port in the Host header is ignored
        refused = c.trace("internet", "http://SECOND.bar.com:8080/x")
        assert not refused.delivered and refused.http_status is None
        t = c.trace("internet", "http://second.bar.com/x", headers={"Host": "SECOND.bar.com:8080"})
        assert (t.http_status, t.destination_pod) == (200, "default/b")
        assert _route(c, "http://third.bar.com/") == (200, "default/c")
    finally:
        for n in ("one", "two", "three"):
            c.delete_ingress(f"default/{n}")


def test_wildcard_host_matches_exactly_one_label_and_exact_host_wins(base):
    c = base
    c.apply(_ingress([("Prefix", "/bar", "a")], host="foo.bar.com", name="one")
            + "---\n" + _ingress([("Prefix", "/foo", "b")], host="'*.foo.com'", name="two")
            + "---\n" + _ingress([("Prefix", "/", "c")], host="'*.bar.com'", name="three"))
    try:
        assert _route(c, "http://bar.foo.com/foo") == (200, "default/b")
        assert _route(c, "http://baz.bar.foo.com/foo")[0] == 404
        assert _route(c, "http://foo.com/foo")[0] == 404
        # ingress-nginx (nginx server_name): the exact host beats the wildcard, and a
        # path that does not match there does not fall through to *.bar.com
        assert _route(c, "http://foo.bar.com/bar") == (200, "default/a")
        assert _route(c, "http://foo.bar.com/zzz")[0] == 404
        assert _route(c, "http://x.bar.com/zzz") == (200, "default/c")
    finally:
        for n in ("one", "two", "three"):
            c.delete_ingress(f"default/{n}")


def test_missing_backend_service_or_port_is_accepted_and_gets_503(base):
    c = base
    c.apply(_ingress([("Prefix", "/gone", "nosuch"), ("Prefix", "/a", "a")]))
    c.apply("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: port}\nspec:\n"
            "  rules:\n  - host: p.example.com\n    http:\n      paths:\n      - path: /\n"
            "        pathType: Prefix\n        backend: {service: {name: a, port: "
            "{number: 9999}}}\n")
    try:
        t = c.trace("internet", "http://example.com/gone")
        assert t.http_status == 503 and "does not exist" in t.reason
        assert t.destination_pod.startswith("ingress-nginx/")
        assert c.trace("internet", "http://p.example.com/").http_status == 503
        assert _route(c, "http://example.com/a/b") == (200, "default/a")
    finally:
        c.delete_ingress("default/ing")
        c.delete_ingress("default/port")


def test_tls_is_terminated_at_the_controller(base):
    c = base
    tls = "  tls: [{hosts: [shop.example.com], secretName: shop-tls}]\n"
    c.apply(_ingress([("Prefix", "/", "a")], host="shop.example.com", tls=tls))
    try:
        t = c.trace("internet", "https://shop.example.com/cart")
        assert t.http_status == 200 and t.port == 443
        http = next(h for h in t.hops if h.action == "http")
        assert "TLS terminated at the controller" in http.detail and "shop-tls" in http.detail
        # the proxied request to the pod is plain HTTP on the pod's port
        assert t.hops[-1].packet.layers[-1].dport == 80
        t = c.trace("internet", "https://other.example.com/")
        assert "Fake Certificate" in next(h for h in t.hops if h.action == "http").detail
    finally:
        c.delete_ingress("default/ing")


def test_the_controller_and_its_class():
    c = kl.Cluster(workers=2)
    c.add_ingress_controller()
    svc = c.service("ingress-nginx/ingress-nginx-controller")
    assert svc.type == "LoadBalancer" and svc.load_balancer_ip
    assert svc.external_traffic_policy == "Local"
    assert [p.port for p in svc.ports] == [80, 443]
    assert [k.name for k in c.ingress_classes] == ["nginx"] and c.ingress_classes[0].default
    c.apply(_ingress([("Prefix", "/", "a")]))
    assert c.ingresses[0].ingress_class_name == "nginx"  # the default class is filled in


def test_ingress_of_another_class_is_ignored():
    c = kl.Cluster(workers=1)
    c.add_ingress_controller()
    c.apply(_ingress([("Prefix", "/", "a")]).replace("spec:\n", "spec:\n  ingressClassName: "
                                                     "traefik\n"))
    assert c.trace("internet", "http://example.com/").http_status == 404


def test_without_a_controller_an_ingress_does_nothing():
    c = kl.Cluster(workers=1)
    c.apply(_ingress([("Prefix", "/", "a")]))
    with pytest.raises(kl.NotFoundError, match="add_ingress_controller"):
        c.trace("internet", "http://example.com/")


@pytest.mark.parametrize("host", ["foo.*.com", "*", "*.*.com", "foo*.com"])
def test_bad_wildcard_host(host):
    c = kl.Cluster()
    with pytest.raises(kl.ManifestError) as err:
        c.apply(_ingress([("Prefix", "/", "a")], host=f"'{host}'"))
    assert err.value.field == "spec.rules[0].host" and "wildcard" in str(err.value)
    assert not c.ingresses


def test_ip_address_as_host():
    c = kl.Cluster()
    with pytest.raises(kl.ManifestError, match="not an IP address"):
        c.apply(_ingress([("Prefix", "/", "a")], host="1.2.3.4"))


@pytest.mark.parametrize("ptype", ["Prefix", "Exact"])
def test_path_without_leading_slash(ptype):
    c = kl.Cluster()
    with pytest.raises(kl.ManifestError) as err:
        c.apply(_ingress([(ptype, "foo", "a")]))
    assert err.value.field == "spec.rules[0].http.paths[0].path"
    assert "absolute path" in str(err.value)


def test_missing_path_type_and_empty_spec_are_not_half_applied():
    c = kl.Cluster()
    bad = ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\nspec:\n"
           "  rules:\n  - http:\n      paths:\n      - path: /\n        backend: {service: "
           "{name: a, port: {number: 80}}}\n")
    with pytest.raises(kl.ManifestError, match="pathType must be specified"):
        c.apply(_ingress([("Prefix", "/", "a")], name="ok") + "---\n" + bad)
    assert not c.ingresses
    with pytest.raises(kl.ManifestError, match="defaultBackend"):
        c.apply("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\n"
                "spec: {}\n")
