"""Ingress: matching as Kubernetes defines it, and an ingress-nginx-like controller
(its Deployment, Service and IngressClass, and its routing decision; the walk's HTTP
proxy sends the requests).

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

from typing import TYPE_CHECKING

from kubenet_lab.controllers.services import add_cloud_load_balancer
from kubenet_lab.model.ingress import Ingress, IngressBackend, IngressClass, IngressPath

if TYPE_CHECKING:
    from kubenet_lab.model.store import Store, StoreView

__all__ = ["ADDON", "CONTROLLER", "SERVICE", "add_controller", "handled", "match_host",
           "match_path", "route"]

CONTROLLER = "k8s.io/ingress-nginx"
ADDON = "ingress-nginx"
NAMESPACE = "ingress-nginx"
SERVICE = "ingress-nginx/ingress-nginx-controller"
IMAGE = "registry.k8s.io/ingress-nginx/controller:v1.11.3"


# ---------------------------------------------------------------- matching
def match_path(path_type: str, rule_path: str, request_path: str) -> bool:
    """Does ``request_path`` match a rule path of ``path_type``?

    Exact: equal, case-sensitive. Prefix: element-wise on ``/``, trailing slashes
    ignored (``/foo/bar`` matches ``/foo/bar/baz`` but not ``/foo/barbaz``).

    >>> from kubenet_lab.controllers.ingress import match_path
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

    >>> from kubenet_lab.controllers.ingress import match_host
    >>> [match_host("*.foo.com", h) for h in ("bar.foo.com", "baz.bar.foo.com", "foo.com")]
    [True, False, False]
    """
    if rule_host.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == rule_host[2:]
    return rule_host == host


def _server(view: StoreView, host: str) -> tuple[str, list[Ingress]]:
    """The nginx server a Host header selects, and the Ingresses that feed it."""
    ings = [i for i in view.ingresses if handled(view, i)]
    for kind in ("exact", "wildcard"):
        for ing in ings:
            for rule in ing.rules:
                wild = rule.host.startswith("*.")
                if rule.host and wild == (kind == "wildcard") and match_host(rule.host, host):
                    return rule.host, [i for i in ings
                                       if any(r.host == rule.host for r in i.rules)]
    return "_", ings


def handled(view: StoreView, ing: Ingress) -> bool:
    """Is the Ingress for the lab's controller? Its class, or the default class."""
    if not view.has_addon(ADDON):
        return False
    name = ing.ingress_class_name
    if name is None:
        return any(c.default for c in view.ingress_classes)
    cls = view.ingress_class(name)
    return cls is not None and cls.controller == CONTROLLER


def route(view: StoreView, host: str, path: str
          ) -> tuple[str, Ingress | None, IngressPath | IngressBackend | None]:
    """Which server, Ingress and path (or default backend) serve ``host`` + ``path``;
    ``(server, None, None)`` means the controller's own 404."""
    server, ings = _server(view, host)
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


# ---------------------------------------------------------------- the controller
def add_controller(store: Store, replicas: int = 2) -> None:
    """Deploy the controller: namespace, Deployment, LoadBalancer Service (eTP Local, as
    ingress-nginx's cloud manifest sets it) and the default IngressClass ``nginx``."""
    from kubenet_lab.controllers.apply import apply  # only to install the controller

    if store.has_addon(ADDON):
        return
    add_cloud_load_balancer(store)
    labels = "{app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/component: controller}"
    apply(store, f"""
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
    store.put(IngressClass("nginx", CONTROLLER, default=True))
    store.add_addon(ADDON)
