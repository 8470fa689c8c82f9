"""What the property tests share: valid manifests of every kind, the ways to break them,
odd values of every type, the cluster each example starts from, and ``attempt``, which
makes one call and checks what a user relies on:

- only ``KubenetLabError`` subclasses escape;
- every message names something (its object, and its field when it has one) and is
  under 1,000 characters;
- a failed call leaves every public view (kubectl listings, ``iptables_save``,
  ``reachability``, ``ip route``) byte-identical;
- no single call takes more than 2 s.

``STATS`` counts the outcomes; the ``conftest`` prints them at the end of the run.
"""

from __future__ import annotations

import copy
import datetime
import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import yaml
from hypothesis import strategies as st

import kubenet_lab as kl

#: The longest a message may be, and the longest a call may take (seconds).
MESSAGE_LIMIT = 1000
TIME_LIMIT = 2.0
#: Calls that take longer by design: lesson 03's plot builds clusters of up to 10,000
#: Services in both kube-proxy modes (their sizes are capped: MAX_SCALING_SERVICES).
SLOW_BY_DESIGN = {"kl.kube_proxy_scaling": 15.0, "kl.draw_kube_proxy_scaling": 15.0}

STATS: Counter[str] = Counter()


# ------------------------------------------------------------------------ the cluster
def base_cluster(cni: str = "flannel") -> kl.Cluster:
    """Two workers, two namespaces, pods behind a Service, a policy agent: enough for
    every kind of call to reach deep code."""
    c = kl.Cluster(workers=2, cni=cni,
                   network_policy="kube-network-policies" if cni == "flannel" else None)
    c.add_namespace("x", labels={"team": "x"})
    c.add_pod("default/a", node="node-1", labels={"app": "web"})
    c.add_pod("default/b", node="node-2", labels={"app": "web"})
    c.add_pod("x/c", node="node-2", labels={"app": "db"},
              containers=[kl.Container("db", ports=[5432])])
    c.add_service("default/web", selector={"app": "web"}, ports=[80], type="NodePort")
    return c


def views(c: kl.Cluster) -> tuple[str, ...]:
    """Everything a learner can look at, as text."""
    out = [c.exec("node-1", f"kubectl get {what} -A -o wide")
           for what in ("pods", "services", "ingress")]
    out.append(c.exec("node-1", "kubectl get nodes -o wide"))
    out.append(kl.kubectl_get_networkpolicies(c))
    for node in c.nodes:
        out.append(c.iptables_save(node.name))
        out.append(c.exec(node.name, "ip route"))
    out.append(str(c.reachability()))
    out.append(repr([(s.ref, s.cluster_ip, s.load_balancer_ip) for s in c.services]))
    out.append(repr(c.load_balancers) + repr(c.nat_gateways) + repr(c.ingress_classes))
    return tuple(out)


# ------------------------------------------------------------------------ one call
def attempt(c: kl.Cluster | None, call: Callable[[], Any], what: str) -> Any:
    """Make ``call``; check the rules above; return its result (None if refused)."""
    before = views(c) if c is not None else None
    start = time.perf_counter()
    try:
        result = call()
    except kl.KubenetLabError as err:
        elapsed = time.perf_counter() - start
        STATS["rejected cleanly"] += 1
        message = str(err)
        assert len(message) < MESSAGE_LIMIT, (what, len(message), message[:300])
        assert err.obj and str(err.obj)[:20] in message, (what, message)
        if err.field:
            assert str(err.field)[:20] in message, (what, message)
        changed = c is not None and views(c) != before
        result = None
    except Exception as err:  # noqa: BLE001 - the very thing this suite looks for
        STATS["foreign exceptions"] += 1
        raise AssertionError(f"{what}: {type(err).__name__} escaped: {err!r:.300}") from err
    else:
        elapsed = time.perf_counter() - start
        changed = False
        STATS["accepted"] += 1
    STATS["examples"] += 1
    if changed:
        STATS["state changes"] += 1
        raise AssertionError(f"{what}: a failed call changed the cluster: {message}")
    if elapsed > SLOW_BY_DESIGN.get(what, TIME_LIMIT):
        STATS["slow"] += 1
        raise AssertionError(f"{what}: took {elapsed:.1f} s")
    return result


# ------------------------------------------------------------------------ odd values
def _recursive_list() -> list:
    x: list = []
    x.append(x)
    return x


def _recursive_dict() -> dict:
    x: dict = {}
    x["a"] = x
    return x


def _deep(levels: int, leaf: Any = "x") -> Any:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


#: Values a careless or curious user types: each type, its edges, unicode digits, deep
#: and recursive structures.
ODD_SCALARS = [
    None, True, False, 0, -1, 1, 65535, 65536, 2**31, 2**63, -(2**63), 10**30,
    0.5, -0.0, math.nan, math.inf, "", " ", "0", "80", "²", "٣", "-1", "1e3", "0x50",
    "TCP", "tcp", "udp", "ICMP", "None", "null", "true", "web", "default/a", "x/c",
    "default/a/web", "a/b/c/d", "../etc/passwd", "/", "node-1", "control-plane",
    "10.244.1.2", "10.0.1.5:30080", "10.96.0.1", "::1", "fe80::1", "256.1.1.1",
    "10.244.1.0/24", "10.0.0.0/33", "0.0.0.0/0", "http://[x", "http://web.default/",
    "https://shop.example.com:99999/", "web.default.svc.cluster.local", "a" * 300,
    "x" * 5000, "\x00", "\n", "é", "日本", "🙂", "$(rm -rf /)", "'", '"', "\\",
    b"bytes", datetime.date(2026, 12, 1), object(),
]
ODD_CONTAINERS = [
    [], {}, (), set(), frozenset({1}), [1, 2], ["a", "b"], [[80]], [None], {"a": 1},
    {"a": None}, {1: "a"}, {("t",): 1}, {"app": "web"}, {"": ""}, {"a": {"b": {}}},
    [{"port": 80}], [{"port": "80"}], {"port": {}}, _deep(50), range(3),
]
#: Values built afresh for each example (too big to print, cyclic, or used up once read).
BUILT = [lambda: 10**5000, lambda: _deep(3000), _recursive_list, _recursive_dict,
         lambda: iter([1, 2]), lambda: list(range(10000)), lambda: {str(i): i for i in
                                                                   range(5000)}]


def odd_values() -> st.SearchStrategy[Any]:
    """An odd value of any type, or a small structure of them."""
    leaf = st.one_of(st.sampled_from(ODD_SCALARS), st.sampled_from(ODD_CONTAINERS),
                     st.sampled_from(BUILT).map(lambda build: build()),
                     st.integers(), st.text(max_size=12), st.floats())
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=6), st.sampled_from(ODD_SCALARS[:4])),
                        inner, max_size=3)), max_leaves=6)


# ------------------------------------------------------------------------ manifests
def _meta(name: str, namespace: str | None = None, **labels: str) -> dict:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    return meta


#: A valid manifest of every kind ``apply`` takes (each applies on ``base_cluster``).
VALID: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("shop", team="shop")},
    {"apiVersion": "v1", "kind": "Node", "metadata": _meta("node-3", zone="a"),
     "spec": {"podCIDR": "10.244.9.0/24"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": _meta("p", "default", app="p"),
     "spec": {"nodeName": "node-1", "containers": [
         {"name": "web", "image": "nginx:1.27",
          "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]},
         {"name": "side", "image": "busybox:1.36", "ports": [{"containerPort": 9090}]}],
         "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("api", "x"),
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
              "template": {"metadata": {"labels": {"app": "api"}}, "spec": {
                  "containers": [{"name": "api", "image": "api:1",
                                  "ports": [{"containerPort": 8080, "name": "http"}]}]}}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": _meta("api", "x"),
     "spec": {"type": "LoadBalancer", "selector": {"app": "db"},
              "externalTrafficPolicy": "Local", "sessionAffinity": "ClientIP",
              "ports": [{"name": "pg", "port": 5432, "targetPort": 5432, "protocol": "TCP"},
                        {"name": "http", "port": 80, "targetPort": "http",
                         "nodePort": 30111}]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": _meta("ext", "default"),
     "spec": {"type": "ExternalName", "externalName": "example.com"}},
    {"apiVersion": "v1", "kind": "ConfigMap",
     "metadata": _meta("ip-masq-agent", "kube-system"),
     "data": {"config": "nonMasqueradeCIDRs: [10.244.0.0/16]\nmasqLinkLocal: true\n"}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
     "metadata": _meta("nginx"), "spec": {"controller": "k8s.io/ingress-nginx"}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": _meta("ing", "default"),
     "spec": {"ingressClassName": "nginx",
              "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
              "defaultBackend": {"service": {"name": "web", "port": {"number": 80}}},
              "rules": [{"host": "shop.example.com", "http": {"paths": [
                  {"path": "/api", "pathType": "Prefix",
                   "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
     "metadata": _meta("db", "x"),
     "spec": {"podSelector": {"matchLabels": {"app": "db"}},
              "policyTypes": ["Ingress", "Egress"],
              "ingress": [{"from": [
                  {"namespaceSelector": {"matchExpressions": [
                      {"key": "team", "operator": "In", "values": ["x"]}]},
                   "podSelector": {"matchLabels": {"app": "web"}}},
                  {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.1.0/24"]}}],
                  "ports": [{"port": 5432, "protocol": "TCP"},
                            {"port": 8000, "endPort": 8080}]}],
              "egress": [{"to": [{"podSelector": {}}], "ports": [{"port": "http"}]}]}},
    {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
     "metadata": _meta("deny-x"),
     "spec": {"tier": "Admin", "priority": 10,
              "subject": {"namespaces": {"matchLabels": {"team": "x"}}},
              "ingress": [{"action": "Deny", "from": [
                  {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "default"}}}],
                  "ports": [{"portNumber": {"port": 5432, "protocol": "TCP"}}]}]}},
    {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
     "metadata": _meta("allow-web"),
     "spec": {"priority": 5, "subject": {"pods": {
         "namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "web"}}}},
              "ingress": [{"action": "Allow", "from": [{"namespaces": {}}]}],
              "egress": [{"action": "Pass", "to": [{"networks": ["10.0.0.0/8"]}]}]}},
    {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
     "metadata": _meta("default"),
     "spec": {"subject": {"namespaces": {}},
              "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}]}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": _meta("shop-tls", "default"),
     "type": "kubernetes.io/tls",
     "data": {"tls.crt": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==", "tls.key": "S0VZ"},
     "stringData": {"ca.crt": "-----BEGIN CERTIFICATE-----\n"}},
    {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
     "metadata": _meta("lab"),
     "spec": {"controllerName": "example.net/gateway-controller", "description": "lab",
              "parametersRef": {"group": "example.net", "kind": "Config", "name": "c",
                                "namespace": "x"}}},
    {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
     "metadata": _meta("eg", "x", app="eg"),
     "spec": {"gatewayClassName": "lab",
              "addresses": [{"type": "IPAddress", "value": "10.0.1.50"}],
              "infrastructure": {"labels": {"app": "eg"},
                                 "annotations": {"example.com/owner": "x"}},
              "allowedListeners": {"namespaces": {"from": "Same"}},
              "tls": {"frontend": {"default": {"validation": {"caCertificateRefs": [
                  {"group": "", "kind": "ConfigMap", "name": "ca"}]}}}},
              "listeners": [
                  {"name": "http", "protocol": "HTTP", "port": 80,
                   "hostname": "*.example.com",
                   "allowedRoutes": {"namespaces": {
                       "from": "Selector", "selector": {"matchLabels": {"team": "x"}}},
                       "kinds": [{"group": "gateway.networking.k8s.io",
                                  "kind": "HTTPRoute"}]}},
                  {"name": "https", "protocol": "HTTPS", "port": 443,
                   "hostname": "shop.example.com",
                   "tls": {"mode": "Terminate", "certificateRefs": [
                       {"group": "", "kind": "Secret", "name": "shop-tls",
                        "namespace": "default"}]},
                   "allowedRoutes": {"namespaces": {"from": "All"}}},
                  {"name": "tcp", "protocol": "TCP", "port": 5432}]}},
    {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
     "metadata": _meta("shop", "default", app="shop"),
     "spec": {"parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                              "name": "eg", "namespace": "x", "sectionName": "http"},
                             {"name": "eg", "namespace": "x", "sectionName": "https",
                              "port": 443}],
              "hostnames": ["shop.example.com", "*.example.com"],
              "rules": [
                  {"name": "api",
                   "matches": [{"path": {"type": "PathPrefix", "value": "/api"},
                                "headers": [{"name": "X-Version", "value": "2"},
                                            {"name": "X-Beta", "type": "RegularExpression",
                                             "value": "^y.*"}],
                                "queryParams": [{"name": "debug", "value": "1"}],
                                "method": "GET"}],
                   "filters": [
                       {"type": "RequestHeaderModifier", "requestHeaderModifier": {
                           "set": [{"name": "X-Lab", "value": "1"}],
                           "add": [{"name": "X-Add", "value": "a"}], "remove": ["X-Old"]}},
                       {"type": "URLRewrite", "urlRewrite": {
                           "hostname": "web.default",
                           "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
                   "backendRefs": [{"name": "web", "port": 80, "weight": 90},
                                   {"group": "", "kind": "Service", "name": "web",
                                    "namespace": "default", "port": 80, "weight": 10}],
                   "timeouts": {"request": "10s", "backendRequest": "2s"}},
                  {"matches": [{"path": {"type": "Exact", "value": "/old"}}],
                   "filters": [{"type": "RequestRedirect", "requestRedirect": {
                       "scheme": "https", "hostname": "shop.example.com", "port": 443,
                       "statusCode": 301,
                       "path": {"type": "ReplaceFullPath", "replaceFullPath": "/new"}}}]}]}},
    {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute",
     "metadata": _meta("echo", "default"),
     "spec": {"parentRefs": [{"name": "eg", "namespace": "x"}],
              "hostnames": ["grpc.example.com"],
              "rules": [{"matches": [{"method": {"type": "Exact", "service": "echo.Echo",
                                                 "method": "Say"},
                                      "headers": [{"name": "x-tenant", "value": "a"}]}],
                         "filters": [{"type": "ResponseHeaderModifier",
                                      "responseHeaderModifier": {
                                          "set": [{"name": "x-lab", "value": "1"}]}}],
                         "backendRefs": [{"name": "web", "port": 80, "weight": 1}]}]}},
    {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "ReferenceGrant",
     "metadata": _meta("from-default", "x"),
     "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
                        "namespace": "default"}],
              "to": [{"group": "", "kind": "Service"},
                     {"group": "", "kind": "Secret", "name": "db-cert"}]}},
]


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a manifest (keys and list indexes), the root included."""
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += paths(value, (*prefix, i))
    return out


def _at(doc: Any, path: tuple) -> tuple[Any, Any]:
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    return parent, path[-1]


@st.composite
def broken_manifests(draw: st.DrawFn) -> Any:
    """A valid manifest with one field replaced by an odd value, removed, or given an
    unknown neighbour; or the whole manifest nested, doubled into a List or cyclic."""
    doc = copy.deepcopy(draw(st.sampled_from(VALID)))
    how = draw(st.sampled_from(["replace", "replace", "replace", "remove", "unknown",
                                "list", "self"]))
    if how == "list":
        return {"apiVersion": "v1", "kind": "List", "items": draw(st.sampled_from(
            [[doc, doc], [doc, {"kind": "List", "items": [doc]}], doc,
             _deep(2000, {"kind": "List", "items": []})]))}
    if how == "self":
        doc["spec"] = doc
        return doc
    path = draw(st.sampled_from(paths(doc)[1:]))
    parent, key = _at(doc, path)
    if how == "replace":
        parent[key] = draw(odd_values())
    elif how == "remove":
        del parent[key]
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(["bogus", "x-extra", "", "spec"]))] = draw(odd_values())
    return doc


#: YAML fragments that stand in for a value: tags with bad values, aliases, anchors
#: that contain themselves, object tags, nesting, and odd scalars.
YAML_FRAGMENTS = [
    "!!timestamp 'x'", "!!timestamp 2026-12-01", "!!int 'abc'", "!!int 0x50",
    "!!float 'x'", "!!bool 'maybe'", "!!set {a, b}", "!!binary 'AAAA'", "!!binary '%%'",
    "!!null 'x'", "!!str 80", "!!map [1, 2]", "!!seq {a: 1}", "!!omap [a, b]",
    "!!pairs [[a]]", "!!python/object/apply:os.system ['echo pwned']",
    "!!python/name:os.system", "!custom 1", "&a [*a]", "&a {k: *a}", "*nowhere",
    "{? [a]: b}", "{1: a, null: b}", "[" * 3000 + "]" * 3000, "{a: " * 2000 + "1" + "}" * 2000,
    ".nan", ".inf", "0o17", "1_000", "0b101", "~", "''", "'\\x00'", '"\\ud800"',
    "\"\\U0001F642\"", "'" + "a" * 4000 + "'", "99999999999999999999999999",
    "| \n  block", "@reserved", "`backtick", "%TAG", "- - -",
]


def alias_bomb(width: int = 9, depth: int = 6) -> str:
    """The billion-laughs document: ``width`` aliases per level, ``depth`` levels, in a
    ``kind: List`` (9^6 = 531,441 leaves when expanded)."""
    lines = ["apiVersion: v1", "kind: List", "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, "
             "lol, lol]"]
    for i in range(1, depth):
        refs = ", ".join([f"*x{i - 1}"] * width)
        lines.append(f"x{i}: &x{i} [{refs}]")
    lines.append(f"items: [*x{depth - 1}]")
    return "\n".join(lines) + "\n"


@st.composite
def broken_yaml(draw: st.DrawFn) -> str:
    """A valid manifest as YAML text, with one value's text replaced by a fragment."""
    doc = draw(st.sampled_from(VALID))
    if draw(st.integers(0, 19)) == 0:
        return alias_bomb()
    lines = yaml.safe_dump(doc, sort_keys=False).splitlines()
    spots = [i for i, line in enumerate(lines) if ": " in line]
    i = draw(st.sampled_from(spots))
    key = lines[i].split(": ", 1)[0]
    lines[i] = f"{key}: {draw(st.sampled_from(YAML_FRAGMENTS))}"
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------ arguments
#: Plausible values for each parameter name of the public API, so that generated calls
#: get past the type checks and reach the code behind them. ``@trace`` and the like
#: stand for objects of the example's own cluster (``plausible`` makes them).
PLAUSIBLE: dict[str, list[Any]] = {
    "src": ["default/a", "default/a/a", "x/c", "node-1", "internet", "10.244.1.2",
            "10.0.1.5", "203.0.113.9", "default/nope", "nope"],
    "dst": ["default/b", "x/c", "web", "web.default", "10.96.0.1", "10.0.1.6:30080",
            "localhost:80", "http://shop.example.com/", "node-2", "8.8.8.8", "10.244.2.2"],
    "where": ["node-1", "control-plane", "default/a", "x/c", "nope"],
    "ref": ["default/a", "default/web", "x/c", "x/new", "new", "kube-system/kube-dns",
            "AdminNetworkPolicy/x", "default/nope"],
    "name": ["node-3", "web", "shop", "kubernetes.io", "nat-gw", "Bad_Name"],
    "node": ["node-1", "node-2", "control-plane", "node-9"],
    "pod": ["default/a", "x/c"], "from_pod": ["default/a", None],
    "service": ["default/web", "kube-system/kube-dns", "default/kubernetes"],
    "services": [["default/web"], "default/web"],
    "port": [80, 53, 5432, 30080, 1, 65535, 0, 70000, None],
    "ports": [[80], [80, 443], [{"name": "http", "port": 80, "targetPort": 8080}],
              [kl.ServicePort(80, 8080)], [{"port": 80, "nodePort": 30500}]],
    "protocol": ["TCP", "UDP", "SCTP", "tcp", None],
    "labels": [{"app": "web"}, {"team": "x"}, {}, None],
    "selector": [{"app": "web"}, {"app": "db"}, None],
    "type": ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName", "Headless"],
    "cluster_ip": ["10.96.0.50", "None", "10.96.0.1", "10.97.0.1", None],
    "session_affinity": ["None", "ClientIP"],
    "external_traffic_policy": ["Cluster", "Local", None],
    "internal_traffic_policy": ["Cluster", "Local"],
    "ip": ["10.244.1.50", "10.0.1.20", "10.244.2.2", None],
    "public_ip": ["198.51.100.20", "203.0.113.7", "10.0.0.9", None],
    "pod_cidr": ["10.244.50.0/24", "10.244.1.0/24", None],
    "containers": [[kl.Container("web", ports=[8080])], [{"name": "x", "image": "y"}], None],
    "tolerations": [[kl.Toleration("k", "Exists")], ()],
    "requests": [1, 10, 100], "clients": [1, 10], "replicas": [0, 1, 2],
    "workers": [0, 1, 2], "seed": [0, 1, None],
    "cni": ["flannel", "bridge", "calico", "cilium", "weave"],
    "cni_config": [{"ipipMode": "Always"}, {"ipMasq": True}, None],
    "network_policy": ["kube-network-policies", None, "calico"],
    "cluster_cidr": ["10.244.0.0/16", "10.0.0.0/16", None], "node_cidr_mask": [24, 26, None],
    "namespaces": [["default"], ["default", "x"], None, "x"],
    "pods": [["default/a", "default/b"], None],
    "flows": [[("default/a", "default/b", 3)], [kl.Flow("default/a", "x/c")], None],
    "command": ["ip route", "ping -c 1 10.244.2.2", "curl -s web", "iptables-save -t nat",
                "kubectl get pods", "nslookup web", "traceroute 10.244.2.2"],
    "which": ["combined", "ingress", "egress", "bogus"],
    "index": [1, 2, 99], "step": [None, 1, 3], "width": [60, 96], "top": [3],
    "top_pairs": [5], "max_pods": [4, 8], "max_nodes": [3], "max_width": [8.0],
    "wide": [True, False], "all_namespaces": [True, False], "namespace": ["default", "x"],
    "control_plane": [False, True], "ready": [True, False], "problem": ["nope"],
    "key": ["1.1", "3.2", "7.1", "9.9"], "args": [["get", "pods"], ["get", "svc", "-A"]],
    "ax": [None], "presets": [None], "n": [0, 1023, 10**12],
}
OBJECTS = {"cluster", "trace", "r", "report", "old", "new"}


def objects(c: kl.Cluster) -> dict[str, list[Any]]:
    """Plausible result objects of the example's cluster, by parameter name."""
    trace = c.trace("default/a", "default/b")
    return {"cluster": [c], "trace": [trace], "r": [c.reachability()],
            "report": [c.verify_network_model(), c.traffic(requests=5)],
            "old": [trace.hops[0].packet, None], "new": [trace.hops[1].packet]}


@st.composite
def arguments(draw: st.DrawFn, fn: Callable[..., Any], pool: dict[str, list[Any]]) -> dict:
    """Keyword arguments for ``fn``: each parameter plausible, odd or left out."""
    import inspect

    kwargs: dict[str, Any] = {}
    for name, p in inspect.signature(fn).parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        choice = draw(st.integers(0, 9))
        if choice < 2 and p.default is not p.empty:
            continue
        if choice < 7 and pool.get(name):
            kwargs[name] = draw(st.sampled_from(pool[name]))
        else:
            kwargs[name] = draw(odd_values())
    if draw(st.integers(0, 29)) == 0:
        kwargs[draw(st.sampled_from(["bogus", "nodes", "Port"]))] = 1
    return kwargs


#: Words the shell tests put together into command lines.
SHELL_WORDS = [
    "ip", "route", "addr", "link", "neigh", "show", "add", "del", "replace", "get", "dev",
    "via", "eth0", "cni0", "flannel.1", "blackhole", "unreachable", "-4", "-6", "-j",
    "-br", "default", "10.244.2.0/24", "10.0.0.0/33", "::/0", "fe80::/64", "10.0.1.6",
    "ping", "-c", "-c0", "-W", "-i", "-s", "-t", "traceroute", "-m", "-n", "-q", "-f",
    "curl", "-s", "-v", "-m", "-I", "-H", "--max-time", "http://web/", "http://[x",
    "http://10.244.0.0:0/api", "https://web.default:99999/", "web", "nslookup", "dig",
    "tcpdump", "-i", "any", "port", "80", "host", "iptables-save", "-t", "nat", "filter",
    "kubectl", "get", "pods", "svc", "nodes", "ingress", "-A", "-o", "wide", "yaml",
    "--foo", "bridge", "fdb", "cat", "/etc/resolv.conf", "/etc/hostname", "hostname",
    "sudo", "ls", "0", "1", "²", "٣", "-1", "2147483648", "99999999999999999999", "",
    "'", '"', "|", ">", ";", "&&", "$HOME", "`id`", "\\", "é", "🙂", "-" * 3, "x" * 200,
]
