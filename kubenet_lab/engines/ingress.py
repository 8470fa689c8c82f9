"""Ingress: validation as the API server does it, matching as Kubernetes defines it,
and an ingress-nginx-like controller that proxies HTTP requests to endpoints.

Sources: facts sheet §5; https://kubernetes.io/docs/concepts/services-networking/ingress/
(path types, the examples table, host wildcards, multiple matches);
pkg/apis/networking/validation/validation.go (field errors); ingress-nginx
(kubernetes/ingress-nginx internal/ingress/controller/controller.go ``createServers``)
where the API leaves the choice to the controller:

- servers are chosen by Host as nginx ``server_name`` does: an exact host first, then a
  wildcard host, then the catch-all server ``_`` that holds the rules without a host;
- inside a server, the longest matching path wins and Exact beats Prefix on a tie;
  rules with the same host from several Ingresses are merged, and for the same path
  the first Ingress applied wins;
- a request whose server has no matching path goes to the server's root location:
  the ``defaultBackend`` of an Ingress for that host (or, for ``_``, of any Ingress),
  else the controller's default backend, which answers **404**;
- a backend Service (or port) that does not exist, or has no ready endpoints, gets
  **503** from the controller;
- ``ImplementationSpecific`` paths are nginx prefix locations (plain string prefix);
- the controller proxies to the endpoints directly (not the ClusterIP), round robin;
- HTTPS is terminated at the controller with the Secret of the ``tls`` entry whose
  hosts include the SNI name, else with its "Kubernetes Ingress Controller Fake
  Certificate"; the request to the pod is plain HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.ingress import (
    Ingress,
    IngressBackend,
    IngressClass,
    IngressPath,
    IngressRule,
    IngressTLS,
)

if TYPE_CHECKING:  # pragma: no cover
    from kubenet_lab.model.cluster import Cluster
    from kubenet_lab.model.trace import Trace

__all__ = ["CONTROLLER", "match_path", "match_host", "ingress_from_manifest", "route"]

CONTROLLER = "k8s.io/ingress-nginx"
NAMESPACE = "ingress-nginx"
SERVICE = "ingress-nginx/ingress-nginx-controller"
IMAGE = "registry.k8s.io/ingress-nginx/controller:v1.11.3"
PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")


# ---------------------------------------------------------------- matching
def match_path(path_type: str, rule_path: str, request_path: str) -> bool:
    """Does ``request_path`` match a rule path of ``path_type``?

    Exact: equal, case-sensitive. Prefix: element-wise on ``/``, trailing slashes
    ignored (``/foo/bar`` matches ``/foo/bar/baz`` but not ``/foo/barbaz``).

    >>> from kubenet_lab.engines.ingress import match_path
    >>> match_path("Prefix", "/aaa/bbb", "/aaa/bbb/ccc")
    True
    >>> match_path("Prefix", "/aaa/bb", "/aaa/bbb")
    False
    >>> match_path("Exact", "/foo", "/foo/")
    False
    """
    if path_type == "Exact":
        return request_path == rule_path
    if path_type == "ImplementationSpecific":  # ingress-nginx: an nginx prefix location
        return request_path.startswith(rule_path)
    want = rule_path.rstrip("/").split("/")
    got = request_path.rstrip("/").split("/")
    return got[:len(want)] == want


def match_host(rule_host: str, host: str) -> bool:
    """Exact host, or ``*.domain`` matching exactly one more label.

    >>> from kubenet_lab.engines.ingress import match_host
    >>> [match_host("*.foo.com", h) for h in ("bar.foo.com", "baz.bar.foo.com", "foo.com")]
    [True, False, False]
    """
    if rule_host.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == rule_host[2:]
    return rule_host == host


def _server(cluster: Cluster, host: str) -> tuple[str, list[Ingress]]:
    """The nginx server a Host header selects, and the Ingresses that feed it."""
    ings = [i for i in cluster._ingresses.values() if _handled(cluster, i)]
    for kind in ("exact", "wildcard"):
        for ing in ings:
            for rule in ing.rules:
                wild = rule.host.startswith("*.")
                if rule.host and wild == (kind == "wildcard") and match_host(rule.host, host):
                    return rule.host, [i for i in ings
                                       if any(r.host == rule.host for r in i.rules)]
    return "_", ings


def _handled(cluster: Cluster, ing: Ingress) -> bool:
    """Is the Ingress for the lab's controller? Its class, or the default class."""
    if "ingress-nginx" not in cluster._addons:
        return False
    name = ing.ingress_class_name
    if name is None:
        return any(c.default for c in cluster._ingress_classes.values())
    cls = cluster._ingress_classes.get(name)
    return cls is not None and cls.controller == CONTROLLER


def route(cluster: Cluster, host: str, path: str
          ) -> tuple[str, Ingress | None, IngressPath | IngressBackend | None]:
    """Which server, Ingress and path (or default backend) serve ``host`` + ``path``;
    ``(server, None, None)`` means the controller's own 404."""
    server, ings = _server(cluster, host)
    best: tuple[int, int, Ingress, IngressPath] | None = None
    for ing in ings:
        for rule in ing.rules:
            if (rule.host or "_") != server:
                continue
            for p in rule.paths:
                if match_path(p.path_type, p.path, path):
                    key = (len(p.path.rstrip("/")) if p.path_type == "Prefix" else len(p.path),
                           1 if p.path_type == "Exact" else 0)
                    if best is None or key > best[:2]:
                        best = (*key, ing, p)
    if best is not None:
        return server, best[2], best[3]
    for ing in ings:
        if ing.default_backend is not None:
            return server, ing, ing.default_backend
    return server, None, None


# ---------------------------------------------------------------- validation
def _check_host(obj: str, field: str, host: Any) -> str:
    from kubenet_lab.engines.validation import check_dns_subdomain

    if not isinstance(host, str):
        raise ManifestError(obj, field, host, "must be a string", fix="write a DNS name")
    try:
        IPv4Address(host)
    except ValueError:
        pass
    else:
        raise ManifestError(obj, field, host, "Invalid value: must be a DNS name, not an IP "
                            "address", fix="use a DNS name (and point public DNS at the "
                            "controller's address), or leave host out to match every host")
    if "*" in host:
        if not host.startswith("*.") or "*" in host[2:]:
            raise ManifestError(
                obj, field, host,
                "Invalid value: a wildcard DNS-1123 subdomain must start with '*.', followed "
                "by a valid DNS subdomain ('*' matches exactly one label, and only as the "
                "first label)", fix="write *.example.com, or leave host out for all hosts")
        check_dns_subdomain(obj, field, host[2:])
        return host
    check_dns_subdomain(obj, field, host)
    return host


def _backend(obj: str, field: str, raw: Any) -> IngressBackend:
    from kubenet_lab.engines.manifests import _mapping
    from kubenet_lab.engines.validation import check_port, check_port_name

    raw = _mapping(obj, field, raw, required=True)
    svc = _mapping(obj, f"{field}.service", raw.get("service"), required=True)
    name = svc.get("name")
    if not isinstance(name, str) or not name:
        raise ManifestError(obj, f"{field}.service.name", name, "Required value",
                            fix="name the backend Service")
    port = _mapping(obj, f"{field}.service.port", svc.get("port"), required=True)
    number, pname = port.get("number"), port.get("name")
    if (number is None) == (pname is None):
        raise ManifestError(obj, f"{field}.service.port", dict(port),
                            "Invalid value: cannot set both port name & port number"
                            if number is not None else "Required value: port name or number "
                            "is required", fix="give exactly one of number: or name:")
    if number is not None:
        return IngressBackend(name, check_port(obj, f"{field}.service.port.number", number))
    return IngressBackend(name, None, check_port_name(obj, f"{field}.service.port.name", pname))


def ingress_from_manifest(cluster: Cluster, doc: Mapping[str, Any]) -> Ingress:
    """Validate a networking.k8s.io/v1 Ingress as the API server does."""
    from kubenet_lab.engines.manifests import _list, _mapping, _meta
    from kubenet_lab.engines.validation import check_dns_subdomain

    obj, ns, name, _ = _meta(doc, "Ingress", namespaced=True)
    check_dns_subdomain(obj, "metadata.name", name)
    cluster.namespace(ns)
    spec = _mapping(obj, "spec", doc.get("spec"))
    default = (_backend(obj, "spec.defaultBackend", spec["defaultBackend"])
               if spec.get("defaultBackend") is not None else None)
    rules = []
    for i, r in enumerate(_list(obj, "spec.rules", spec.get("rules"))):
        f = f"spec.rules[{i}]"
        r = _mapping(obj, f, r, required=True)
        host = _check_host(obj, f"{f}.host", r["host"]) if r.get("host") else ""
        http = _mapping(obj, f"{f}.http", r.get("http"))
        paths = []
        for j, p in enumerate(_list(obj, f"{f}.http.paths", http.get("paths"),
                                    required=bool(http))):
            pf = f"{f}.http.paths[{j}]"
            p = _mapping(obj, pf, p, required=True)
            ptype = p.get("pathType")
            if ptype is None:
                raise ManifestError(obj, f"{pf}.pathType", None,
                                    "Required value: pathType must be specified",
                                    fix="add pathType: Prefix (or Exact)")
            if ptype not in PATH_TYPES:
                raise ManifestError(obj, f"{pf}.pathType", ptype, "Unsupported value",
                                    fix="supported values: " + ", ".join(PATH_TYPES))
            path = p.get("path", "/" if ptype == "ImplementationSpecific" else None)
            if not isinstance(path, str) or not path.startswith("/"):
                raise ManifestError(obj, f"{pf}.path", path,
                                    "Invalid value: must be an absolute path",
                                    fix="start the path with '/', e.g. /api")
            paths.append(IngressPath(path, ptype, _backend(obj, f"{pf}.backend",
                                                           p.get("backend"))))
        rules.append(IngressRule(host, tuple(paths)))
    if not rules and default is None:
        raise ManifestError(obj, "spec", dict(spec),
                            "Invalid value: either `defaultBackend` or `rules` must be "
                            "specified", fix="add spec.rules or spec.defaultBackend")
    tls = []
    for i, t in enumerate(_list(obj, "spec.tls", spec.get("tls"))):
        t = _mapping(obj, f"spec.tls[{i}]", t, required=True)
        hosts = tuple(_check_host(obj, f"spec.tls[{i}].hosts[{k}]", h)
                      for k, h in enumerate(_list(obj, f"spec.tls[{i}].hosts", t.get("hosts"))))
        tls.append(IngressTLS(hosts, str(t.get("secretName", ""))))
    cls = spec.get("ingressClassName")
    if cls is None:
        defaults = [c for c in cluster._ingress_classes.values() if c.default]
        if len(defaults) > 1:
            raise ManifestError(obj, "spec.ingressClassName", None,
                                "more than one IngressClass is marked as default",
                                fix="set spec.ingressClassName")
        cls = defaults[0].name if defaults else None  # the admission plugin fills it in
    return Ingress(ns, name, tuple(rules), default, tuple(tls), cls)


# ---------------------------------------------------------------- the controller
def add_controller(cluster: Cluster, replicas: int = 2) -> None:
    """Deploy the controller: namespace, Deployment, LoadBalancer Service (eTP Local, as
    ingress-nginx's cloud manifest sets it) and the default IngressClass ``nginx``."""
    if "ingress-nginx" in cluster._addons:
        return
    cluster.add_cloud_load_balancer()
    labels = "{app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/component: controller}"
    cluster.apply(f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {NAMESPACE}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: ingress-nginx-controller, namespace: {NAMESPACE}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {labels}}}
  template:
    metadata: {{labels: {labels}}}
    spec:
      containers:
      - name: controller
        image: {IMAGE}
        ports: [{{name: http, containerPort: 80}}, {{name: https, containerPort: 443}}]
---
apiVersion: v1
kind: Service
metadata: {{name: ingress-nginx-controller, namespace: {NAMESPACE}}}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {labels}
  ports:
  - {{name: http, port: 80, targetPort: http}}
  - {{name: https, port: 443, targetPort: https}}
""")
    cluster._ingress_classes["nginx"] = IngressClass("nginx", CONTROLLER, default=True)
    cluster._addons["ingress-nginx"] = None
    cluster._changed()


def trace_http(cluster: Cluster, src: str, url: str) -> Trace:
    """``trace(src, "http://host/path")``: the request to the controller's public
    address, then the controller's routing decision, then the proxied request."""
    from dataclasses import replace

    from kubenet_lab.engines.datapath import _hash_port, trace
    from kubenet_lab.engines.services import service_endpoints
    from kubenet_lab.exceptions import NotFoundError
    from kubenet_lab.model.trace import Hop

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        raise ManifestError("trace", "dst", url, "has no host", fix="write http://host/path")
    path = parts.path or "/"
    https = parts.scheme == "https"
    if "ingress-nginx" not in cluster._addons:
        raise NotFoundError("trace", "dst", url, "needs an ingress controller to answer it",
                            fix="call add_ingress_controller() first")
    lb = cluster.service(SERVICE).load_balancer_ip
    port = 443 if https else 80
    first = trace(cluster, src, f"{lb}:{port}")
    if not first.delivered or first.destination_pod is None:
        return replace(first, dst=url)
    ctrl = first.destination_pod
    server, ing, target = route(cluster, host, path)
    request = f"GET {path} Host: {host}"
    tls = ""
    if https:
        cert = next((t.secret_name for i in cluster._ingresses.values() if _handled(cluster, i)
                     for t in i.tls if host in t.hosts), None)
        tls = (f"TLS terminated at the controller with the certificate of Secret "
               f"{cert} (SNI {host}); " if cert else
               f"no tls entry lists {host}, so the controller presents its 'Kubernetes "
               "Ingress Controller Fake Certificate' (clients warn); ")
    last = first.hops[-1]
    n = len(first.hops)

    def answer(status: int, why: str) -> Trace:
        hop = Hop(n + 1, last.location, last.node, "http",
                  f"{tls}nginx reads `{request}`: server {server}; {why}", last.packet)
        reason = f"HTTP {status} from the ingress controller ({ctrl}): {why}."
        return replace(first, dst=url, hops=first.hops + (hop,), reason=reason,
                       http_status=status)

    if target is None:
        return answer(404, "no rule matches and no defaultBackend: the default backend "
                      "answers 404 Not Found")
    assert ing is not None
    backend = target.backend if isinstance(target, IngressPath) else target
    rule = (f"{target.path_type} {target.path}" if isinstance(target, IngressPath)
            else "defaultBackend")
    try:
        svc = cluster.service(f"{ing.namespace}/{backend.service}")
    except NotFoundError:
        return answer(503, f"Ingress {ing.ref} ({rule}) sends it to Service "
                      f"{backend.service}, which does not exist: 503 Service Unavailable")
    sp = next((p for p in svc.ports if (backend.port_number is not None
                                        and p.port == backend.port_number)
               or (backend.port_name is not None and p.name == backend.port_name)), None)
    eps = service_endpoints(cluster, svc, sp) if sp is not None else ()
    if not eps:
        what = "has no such port" if sp is None else "has no ready endpoints"
        return answer(503, f"Ingress {ing.ref} ({rule}) sends it to Service {svc.ref} "
                      f"port {backend.port_number or backend.port_name}, which {what}: 503 "
                      "Service Unavailable")
    ep = eps[_hash_port("ingress", first.src_ip, host, path) % len(eps)]
    second = trace(cluster, ctrl, f"{ep[0]}:{ep[1]}")
    port_text = backend.port_number or backend.port_name
    why = (f"Ingress {ing.ref} rule {rule} -> Service {svc.ref} port {port_text}; the "
           f"controller proxies to the endpoint {ep[0]}:{ep[1]} directly (round robin, not "
           "the ClusterIP), in a new connection from its own pod IP")
    hop = Hop(n + 1, last.location, last.node, "http",
              f"{tls}nginx reads `{request}`: server {server}; {why}", last.packet)
    hops = first.hops + (hop,) + tuple(
        replace(h, index=n + 1 + h.index) for h in second.hops)
    status = 200 if second.delivered else 502
    reason = (f"HTTP request {host}{path} routed by Ingress {ing.ref} ({rule}) to "
              f"{second.destination_pod}; {second.reason}" if second.delivered else
              f"HTTP 502 from the ingress controller: {second.reason}")
    return replace(first, dst=url, hops=hops, delivered=second.delivered,
                   destination_pod=second.destination_pod,
                   source_ip_seen=second.source_ip_seen, receiver=second.receiver,
                   reason=reason, http_status=status, reply=())


