"""Ingress: matching as Kubernetes defines it, and the controller the lab models,
**ingress-nginx v1.15.1** (its Deployment, Service and IngressClass, and its routing
decision; the walk's HTTP proxy sends the requests). ingress-nginx was retired in March
2026 (v1.15.1 is its last release); the Ingress API stays GA but is frozen.

Sources: facts sheet §5; https://kubernetes.io/docs/concepts/services-networking/ingress/
(path types, the examples table, host wildcards, multiple matches);
pkg/apis/networking/validation/validation.go (field errors); kubernetes/ingress-nginx
v1.15.1 where the API leaves the choice to the controller (these are ingress-nginx's
behaviours, not Kubernetes'):

- which Ingresses it serves (internal/ingress/controller/store/store.go
  ``GetIngressClass``): ``ingressClassName`` naming an IngressClass whose
  ``spec.controller`` is ``k8s.io/ingress-nginx``, else the legacy annotation
  ``kubernetes.io/ingress.class: nginx``; an Ingress with neither is ignored
  (``--watch-ingress-without-class`` defaults to false). Its IngressClass ``nginx`` is
  not the default class (Helm chart ``controller.ingressClassResource.default: false``,
  the static deploy.yaml has no ``ingressclass.kubernetes.io/is-default-class``), so an
  Ingress needs ``ingressClassName: nginx`` unless a class is marked default when the
  Ingress is created (the DefaultIngressClass admission plugin then fills it in);
- servers are chosen by Host as nginx ``server_name`` does: an exact host first, then a
  wildcard host, then the catch-all server ``_`` that holds the rules without a host
  (internal/ingress/controller/controller.go ``createServers``);
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
- a server gets a certificate from the first Ingress with a ``tls`` section that has a
  rule for its host: the Secret of the ``tls`` entry listing the host, else (no entry
  lists it, or no ``secretName``) the controller's "Kubernetes Ingress Controller Fake
  Certificate" (``createServers``, ``extractTLSSecretName``). HTTPS is terminated at
  the controller with the certificate for the SNI name (exact, then ``*.`` form; else
  the fake one, rootfs/etc/nginx/lua/certificate.lua); the request to the pod is plain
  HTTP;
- **ssl-redirect** (docs/user-guide/tls.md "Server-side HTTPS enforcement through
  redirect"; config.go ``SSLRedirect: true``, ``HTTPRedirectCode: 308``; lua_ingress.lua
  ``redirect_to_https``): a plain ``http://`` request whose host has a certificate
  configured gets **308 Permanent Redirect** to ``https://<Host header without its
  port><uri>``, the trailing ``/`` of the uri dropped; per Ingress (the one whose
  location serves the request) ``nginx.ingress.kubernetes.io/ssl-redirect: "false"``
  turns it off, ``force-ssl-redirect: "true"`` redirects even without TLS and
  ``preserve-trailing-slash: "true"`` keeps the slash. The lab does not model HSTS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.controllers.services import add_cloud_load_balancer
from kubenet_lab.model.ingress import Ingress, IngressBackend, IngressClass, IngressPath

if TYPE_CHECKING:
    from kubenet_lab.model.store import Store, StoreView

__all__ = ["ADDON", "CLASS", "CONTROLLER", "SERVICE", "add_controller", "certificate",
           "handled", "ignored", "match_host", "match_path", "redirect", "route"]

CONTROLLER = "k8s.io/ingress-nginx"
ADDON = "ingress-nginx"
NAMESPACE = "ingress-nginx"
SERVICE = "ingress-nginx/ingress-nginx-controller"
IMAGE = "registry.k8s.io/ingress-nginx/controller:v1.15.1"
#: The IngressClass the controller creates (``--ingress-class=nginx``).
CLASS = "nginx"
#: The legacy class annotation ingress-nginx still reads when ``ingressClassName`` is unset.
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
SSL_REDIRECT = "nginx.ingress.kubernetes.io/ssl-redirect"
FORCE_SSL_REDIRECT = "nginx.ingress.kubernetes.io/force-ssl-redirect"
PRESERVE_TRAILING_SLASH = "nginx.ingress.kubernetes.io/preserve-trailing-slash"
#: ConfigMap ``http-redirect-code`` default (config.go ``HTTPRedirectCode``).
REDIRECT_CODE = 308


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


def ignored(view: StoreView, ing: Ingress) -> str | None:
    """Why ingress-nginx ignores the Ingress, or None if it serves it
    (store.go ``GetIngressClass``)."""
    if not view.has_addon(ADDON):
        return "no ingress controller runs"
    name = ing.ingress_class_name
    if name is not None:
        cls = view.ingress_class(name)
        if cls is None:
            return f"its ingressClassName {name} names no IngressClass"
        if cls.controller != CONTROLLER:
            return (f"its IngressClass {name} belongs to controller {cls.controller}, "
                    f"not {CONTROLLER}")
        return None
    legacy = ing.annotation(LEGACY_CLASS_ANNOTATION)
    if legacy is not None:
        return None if legacy == CLASS else (
            f"its annotation {LEGACY_CLASS_ANNOTATION}: {legacy} is not {CLASS}")
    return ("it has no ingressClassName (no IngressClass was marked default when it was "
            "created) and ingress-nginx runs with --watch-ingress-without-class=false: "
            f"set ingressClassName: {CLASS}")


def handled(view: StoreView, ing: Ingress) -> bool:
    """Does the lab's controller serve the Ingress? (See ``ignored``.)"""
    return ignored(view, ing) is None


def _bool(ing: Ingress | None, key: str, default: bool) -> bool:
    """A boolean annotation as ingress-nginx parses it (Go ``strconv.ParseBool``; a
    value it cannot parse leaves the default)."""
    value = ing.annotation(key) if ing is not None else None
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return default


def _certificates(view: StoreView) -> dict[str, str]:
    """Each server host with a certificate: the Secret name, ``""`` for the
    controller's default (fake) certificate (``createServers``)."""
    out: dict[str, str] = {}
    for ing in view.ingresses:
        if not ing.tls or not handled(view, ing):
            continue
        for rule in ing.rules:
            if not rule.host or rule.host in out:  # "_" always has the default one
                continue
            out[rule.host] = next((t.secret_name for t in ing.tls for h in t.hosts
                                   if h.lower() == rule.host.lower()), "")
    return out


def certificate(view: StoreView, host: str) -> str | None:
    """The certificate configured for a request's host (certificate.lua
    ``get_pem_cert_uid``: the host, then its ``*.`` form): a Secret name, ``""`` for the
    default (fake) certificate, or None when no server of that host has TLS."""
    certs = _certificates(view)
    host = host.lower()
    if host in certs:
        return certs[host]
    first, _, rest = host.partition(".")
    return certs.get(f"*.{rest}") if first and rest else None


def _location_ingress(view: StoreView, server: str, ing: Ingress | None,
                      target: IngressPath | IngressBackend | None) -> Ingress | None:
    """The Ingress whose annotations the serving location carries: the path's Ingress,
    else (the server's root location) the first Ingress with a rule for the host;
    the catch-all server's root location keeps the defaults."""
    if isinstance(target, IngressPath):
        return ing
    if server == "_":
        return None
    return next((i for i in view.ingresses if handled(view, i)
                 and any(r.host == server for r in i.rules)), None)


def redirect(view: StoreView, scheme: str, host: str, host_header: str, target: str,
             server: str, ing: Ingress | None,
             rule: IngressPath | IngressBackend | None) -> tuple[str, str] | None:
    """ingress-nginx's ssl-redirect (lua_ingress.lua ``redirect_to_https``): ``(Location,
    why)`` when a plain http request is answered 308, else None. ``host_header`` is the
    Host header as sent, ``target`` the request's ``/path?query``; ``server``, ``ing``
    and ``rule`` are what ``route`` chose."""
    if scheme != "http":
        return None
    loc = _location_ingress(view, server, ing, rule)
    if loc is not None and _bool(loc, FORCE_SSL_REDIRECT, False):
        why = f"Ingress {loc.ref} has {FORCE_SSL_REDIRECT}: \"true\""
    elif loc is None or not _bool(loc, SSL_REDIRECT, True) or certificate(view, host) is None:
        return None
    else:
        why = (f"TLS is configured for {host}, so ssl-redirect (on by default) sends plain "
               f"http to https (Ingress {loc.ref} could set {SSL_REDIRECT}: \"false\")")
    uri = target
    if uri.endswith("/") and not _bool(loc, PRESERVE_TRAILING_SLASH, False):
        uri = uri[:-1]
    return f"https://{host_header.split(':')[0]}{uri}", why


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
    ingress-nginx's cloud manifest sets it) and the IngressClass ``nginx``, which is
    *not* the default class (the Helm chart's ``controller.ingressClassResource.default:
    false``; deploy.yaml has no ``ingressclass.kubernetes.io/is-default-class``)."""
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
    store.put(IngressClass(CLASS, CONTROLLER, default=False))
    store.add_addon(ADDON)
