"""Ingress: the Kubernetes documentation's path-matching examples table, host rules,
ingress-nginx's choices, TLS, 404/503, and bad input (facts sheet §5); ingress-nginx
v1.15.1's IngressClass handling and ssl-redirect (docs/facts/gateway-api.md §10)."""

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


def _ingress(paths, host=None, default=None, name="ing", tls="", cls="nginx", notes=""):
    lines = "".join(
        f"      - {{path: {p}, pathType: {t}, backend: {{service: {{name: {b}, port: "
        f"{{number: 80}}}}}}}}\n" for t, p, b in paths)
    spec = ""
    if default:
        spec += f"  defaultBackend: {{service: {{name: {default}, port: {{number: 80}}}}}}\n"
    if paths:
        first = f"  - host: {host}\n    http:\n" if host else "  - http:\n"
        spec += f"  rules:\n{first}      paths:\n{lines}"
    meta = f"{{name: {name}, annotations: {{{notes}}}}}" if notes else f"{{name: {name}}}"
    spec = (f"  ingressClassName: {cls}\n" if cls else "") + tls + spec
    return (f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {meta}\n"
            f"spec:\n{spec}")


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
            "  ingressClassName: nginx\n  rules:\n  - host: p.example.com\n    http:\n"
            "      paths:\n      - path: /\n        pathType: Prefix\n"
            "        backend: {service: {name: a, port: {number: 9999}}}\n")
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
    # the Helm chart's controller.ingressClassResource.default: false; deploy.yaml's
    # IngressClass has no ingressclass.kubernetes.io/is-default-class annotation
    assert [(k.name, k.controller, k.default) for k in c.ingress_classes] == [
        ("nginx", "k8s.io/ingress-nginx", False)]
    assert "annotations" not in c.get("IngressClass", "nginx")["metadata"]
    assert c.deployment("ingress-nginx/ingress-nginx-controller").containers[0].image == (
        "registry.k8s.io/ingress-nginx/controller:v1.15.1")
    c.apply(_ingress([("Prefix", "/", "a")]))
    assert c.ingresses[0].ingress_class_name == "nginx"


def test_ingress_of_another_class_is_ignored():
    c = kl.Cluster(workers=1)
    c.add_ingress_controller()
    c.apply(_ingress([("Prefix", "/", "a")], cls="traefik"))
    t = c.trace("internet", "http://example.com/")
    assert t.http_status == 404 and "names no IngressClass" in t.reason


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


# ---------------------------------------------------------------- ingress-nginx v1.15.1
# IngressClass: store.go GetIngressClass (ingressClassName, else the legacy annotation,
# else only with --watch-ingress-without-class, default false: docs/user-guide/
# cli-arguments.md); the default class only matters when an Ingress is created
# (the DefaultIngressClass admission plugin; docs/user-guide/k8s-122-migration.md).
DEFAULT_NGINX = ("apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n"
                 "  name: nginx\n  annotations: {ingressclass.kubernetes.io/is-default-class: "
                 "'true'}\nspec: {controller: k8s.io/ingress-nginx}\n")


def test_an_ingress_without_a_class_is_ignored_and_the_trace_says_why():
    c = _cluster()
    c.apply(_ingress([("Prefix", "/", "a")], host="shop.example.com", cls=None))
    assert c.ingresses[0].ingress_class_name is None  # no default class to fill in
    t = c.trace("internet", "http://shop.example.com/")
    assert t.http_status == 404
    assert "Ingress default/ing is ignored" in t.reason
    assert "--watch-ingress-without-class=false" in t.reason
    # ingress-nginx does not publish its address on an Ingress it ignores
    assert c.get("Ingress", "default/ing")["status"] == {"loadBalancer": {}}


def test_the_default_class_is_filled_in_on_creation_only():
    c = _cluster()
    c.apply(_ingress([("Prefix", "/", "a")], host="old.example.com", name="old", cls=None))
    c.apply(DEFAULT_NGINX)
    assert c.ingress_classes[0].default
    c.apply(_ingress([("Prefix", "/", "b")], host="new.example.com", name="new", cls=None))
    assert {i.name: i.ingress_class_name for i in c.ingresses} == {"old": None,
                                                                  "new": "nginx"}
    assert _route(c, "http://new.example.com/") == (200, "default/b")
    # created before the class was made default: still class-less, still ignored
    assert "Ingress default/old is ignored" in c.trace("internet",
                                                       "http://old.example.com/").reason


def test_the_legacy_class_annotation_is_still_read():
    c = _cluster()
    c.apply(_ingress([("Prefix", "/", "a")], cls=None,
                     notes="kubernetes.io/ingress.class: nginx"))
    assert _route(c, "http://example.com/") == (200, "default/a")
    c.apply(_ingress([("Prefix", "/", "a")], cls=None,
                     notes="kubernetes.io/ingress.class: traefik"))
    assert "is not nginx" in c.trace("internet", "http://example.com/").reason


# ssl-redirect: docs/user-guide/tls.md "Server-side HTTPS enforcement through redirect"
# ("redirects HTTP clients to the HTTPS port 443 using a 308 Permanent Redirect response
# if TLS is enabled for that Ingress"; per Ingress nginx.ingress.kubernetes.io/
# ssl-redirect: "false"); config.go SSLRedirect true, HTTPRedirectCode 308;
# rootfs/etc/nginx/lua/lua_ingress.lua redirect_to_https (Location https://<Host without
# port><request_uri>, trailing slash dropped unless preserve-trailing-slash).
TLS = "  tls: [{hosts: [shop.example.com], secretName: shop-tls}]\n"


def _redirect(t):
    return t.http_status, dict(t.response_headers).get("Location")


def test_plain_http_to_a_tls_host_gets_308_to_https(base):
    c = base
    c.apply(_ingress([("Prefix", "/", "a"), ("Exact", "/gone", "nosuch")],
                     host="shop.example.com", tls=TLS))
    try:
        t = c.trace("internet", "http://shop.example.com/api")
        assert _redirect(t) == (308, "https://shop.example.com/api")
        assert t.response_headers == (("Location", "https://shop.example.com/api"),)
        assert t.destination_pod.startswith("ingress-nginx/") and t.request_line is None
        assert "308 Permanent Redirect" in t.reason and "ssl-redirect" in t.reason
        # the query is kept, one trailing slash dropped; the redirect comes before
        # routing (an unknown path or a missing backend does not matter)
        assert _redirect(c.trace("internet", "http://shop.example.com/a/?q=1")) == (
            308, "https://shop.example.com/a/?q=1")
        assert _redirect(c.trace("internet", "http://shop.example.com/a/")) == (
            308, "https://shop.example.com/a")
        assert _redirect(c.trace("internet", "http://shop.example.com/")) == (
            308, "https://shop.example.com")
        assert _redirect(c.trace("internet", "http://shop.example.com/gone"))[0] == 308
        # the Host header's port is not carried over to the Location
        ip = c.service("ingress-nginx/ingress-nginx-controller").load_balancer_ip
        t = c.trace("internet", f"http://{ip}/x", headers={"Host": "shop.example.com:8080"})
        assert _redirect(t) == (308, "https://shop.example.com/x")
        # https to the same host is served, TLS terminated at the controller
        t = c.trace("internet", "https://shop.example.com/api")
        assert (t.http_status, t.destination_pod) == (200, "default/a")
        assert t.response_headers == ()
        # a host without TLS is not redirected
        c.apply(_ingress([("Prefix", "/", "b")], host="plain.example.com", name="plain"))
        assert _route(c, "http://plain.example.com/") == (200, "default/b")
    finally:
        c.delete_ingress("default/ing")
        c.delete_ingress("default/plain")


def test_ssl_redirect_false_serves_plain_http(base):
    c = base
    c.apply(_ingress([("Prefix", "/", "a")], host="shop.example.com", tls=TLS,
                     notes="nginx.ingress.kubernetes.io/ssl-redirect: 'false'"))
    try:
        t = c.trace("internet", "http://shop.example.com/api")
        assert (t.http_status, t.destination_pod) == (200, "default/a")
        assert 'ssl-redirect is "false"' in next(h for h in t.hops if h.action == "http").detail
        assert c.trace("internet", "https://shop.example.com/api").http_status == 200
        # the Ingress keeps its annotations, and shows them back
        assert c.ingresses[0].annotation("nginx.ingress.kubernetes.io/ssl-redirect") == "false"
        assert c.get("Ingress", "default/ing")["metadata"]["annotations"] == {
            "nginx.ingress.kubernetes.io/ssl-redirect": "false"}
    finally:
        c.delete_ingress("default/ing")


def test_force_ssl_redirect_and_preserve_trailing_slash(base):
    c = base
    # docs/user-guide/nginx-configuration/annotations.md: force-ssl-redirect redirects
    # "even when TLS is not available"; preserve-trailing-slash keeps the slash
    c.apply(_ingress([("Prefix", "/", "a")], host="plain.example.com",
                     notes="nginx.ingress.kubernetes.io/force-ssl-redirect: 'true', "
                     "nginx.ingress.kubernetes.io/preserve-trailing-slash: 'true'"))
    try:
        assert _redirect(c.trace("internet", "http://plain.example.com/a/")) == (
            308, "https://plain.example.com/a/")
    finally:
        c.delete_ingress("default/ing")


def test_every_host_of_an_ingress_with_a_tls_section_gets_a_certificate(base):
    # controller.go createServers: a rule host that no tls entry lists still gets the
    # default (fake) certificate when its Ingress has a tls section, so it redirects too
    c = base
    c.apply(_ingress([("Prefix", "/", "a")], host="shop.example.com", tls=TLS)
            .replace("  - host: shop.example.com\n", "  - host: api.example.com\n    http:\n"
                     "      paths:\n      - {path: /, pathType: Prefix, backend: {service: "
                     "{name: b, port: {number: 80}}}}\n  - host: shop.example.com\n"))
    try:
        assert _redirect(c.trace("internet", "http://api.example.com/")) == (
            308, "https://api.example.com")
        t = c.trace("internet", "https://api.example.com/")
        assert (t.http_status, t.destination_pod) == (200, "default/b")
        assert "Fake Certificate" in next(h for h in t.hops if h.action == "http").detail
    finally:
        c.delete_ingress("default/ing")


def test_an_annotation_value_must_be_a_string():
    c = kl.Cluster()
    with pytest.raises(kl.ManifestError, match="must be of type string") as err:
        c.apply(_ingress([("Prefix", "/", "a")],
                         notes="nginx.ingress.kubernetes.io/ssl-redirect: false"))
    assert err.value.field == "metadata.annotations.nginx.ingress.kubernetes.io/ssl-redirect"
    assert not c.ingresses


def test_the_load_balancer_listens_on_80_and_443_only(base):
    # ingress-nginx's cloud deploy.yaml: the controller Service has ports 80 and 443
    c = base
    c.apply(_ingress([("Prefix", "/", "a")], host="shop.example.com"))
    try:
        t = c.trace("internet", "http://shop.example.com:8080/")
        assert not t.delivered and t.http_status is None
        assert _route(c, "http://shop.example.com:80/") == (200, "default/a")
    finally:
        c.delete_ingress("default/ing")
