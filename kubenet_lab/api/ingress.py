"""Ingress and IngressClass (networking.k8s.io/v1) as the API server validates them
(pkg/apis/networking/validation/validation.go), with the DefaultIngressClass admission
plugin filling in ``ingressClassName``.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import (
    check_dns_subdomain,
    check_port,
    check_port_name,
    invalid_type,
    mapping,
    meta,
    sequence,
    string,
)
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.ingress import (
    Ingress,
    IngressBackend,
    IngressClass,
    IngressPath,
    IngressRule,
    IngressTLS,
)

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["DEFAULT_CLASS_ANNOTATION", "PATH_TYPES", "decode_ingress", "decode_ingress_class",
           "encode_ingress", "encode_ingress_class"]

PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")
#: The annotation that makes an IngressClass the default (networking/v1 types.go).
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"


def _check_host(obj: str, field: str, host: Any) -> str:
    if not isinstance(host, str):
        raise invalid_type(obj, field, host, "string", fix="write a DNS name")
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
    raw = mapping(obj, field, raw, required=True)
    svc = mapping(obj, f"{field}.service", raw.get("service"), required=True)
    name = string(obj, f"{field}.service.name", svc.get("name"))
    if not name:
        raise ManifestError(obj, f"{field}.service.name", name, "Required value",
                            fix="name the backend Service")
    port = mapping(obj, f"{field}.service.port", svc.get("port"), required=True)
    number, pname = port.get("number"), port.get("name")
    if (number is None) == (pname is None):
        raise ManifestError(obj, f"{field}.service.port", dict(port),
                            "Invalid value: cannot set both port name & port number"
                            if number is not None else "Required value: port name or number "
                            "is required", fix="give exactly one of number: or name:")
    if number is not None:
        return IngressBackend(name, check_port(obj, f"{field}.service.port.number", number))
    return IngressBackend(name, None, check_port_name(obj, f"{field}.service.port.name", pname))


def decode_ingress(store: StoreView, doc: Mapping[str, Any]) -> Ingress:
    """Validate a networking.k8s.io/v1 Ingress as the API server does."""
    obj, ns, name, _ = meta(doc, "Ingress", namespaced=True)
    check_dns_subdomain(obj, "metadata.name", name)
    store.namespace(ns)
    spec = mapping(obj, "spec", doc.get("spec"))
    default = (_backend(obj, "spec.defaultBackend", spec["defaultBackend"])
               if spec.get("defaultBackend") is not None else None)
    rules = []
    for i, r in enumerate(sequence(obj, "spec.rules", spec.get("rules"))):
        f = f"spec.rules[{i}]"
        r = mapping(obj, f, r, required=True)
        host = _check_host(obj, f"{f}.host", r["host"]) if r.get("host") else ""
        http = mapping(obj, f"{f}.http", r.get("http"))
        paths = []
        for j, p in enumerate(sequence(obj, f"{f}.http.paths", http.get("paths"),
                                    required=bool(http))):
            pf = f"{f}.http.paths[{j}]"
            p = mapping(obj, pf, p, required=True)
            ptype = p.get("pathType")
            if ptype is None:
                raise ManifestError(obj, f"{pf}.pathType", None,
                                    "Required value: pathType must be specified",
                                    fix="add pathType: Prefix (or Exact)")
            if ptype not in PATH_TYPES:
                raise ManifestError(obj, f"{pf}.pathType", ptype, "Unsupported value",
                                    fix="supported values: " + ", ".join(PATH_TYPES))
            path = p.get("path")
            if path is None and ptype == "ImplementationSpecific":
                path = "/"
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
    for i, t in enumerate(sequence(obj, "spec.tls", spec.get("tls"))):
        t = mapping(obj, f"spec.tls[{i}]", t, required=True)
        hosts = tuple(_check_host(obj, f"spec.tls[{i}].hosts[{k}]", h)
                      for k, h in enumerate(sequence(obj, f"spec.tls[{i}].hosts", t.get("hosts"))))
        tls.append(IngressTLS(hosts, string(obj, f"spec.tls[{i}].secretName",
                                            t.get("secretName"), "")))
    cls = string(obj, "spec.ingressClassName", spec.get("ingressClassName"))
    if cls is None:
        defaults = [c for c in store.ingress_classes if c.default]
        if len(defaults) > 1:
            raise ManifestError(obj, "spec.ingressClassName", None,
                                "more than one IngressClass is marked as default",
                                fix="set spec.ingressClassName")
        cls = defaults[0].name if defaults else None  # the admission plugin fills it in
    return Ingress(ns, name, tuple(rules), default, tuple(tls), cls,
                   _annotations(obj, doc["metadata"].get("annotations")))


def _annotations(obj: str, raw: Any) -> tuple[tuple[str, str], ...]:
    """``metadata.annotations``: string values only (the API server cannot decode
    ``ssl-redirect: false`` unquoted, a YAML boolean, into its map of strings)."""
    notes = mapping(obj, "metadata.annotations", raw)
    for key, value in notes.items():
        if not isinstance(key, str) or not key:
            raise ManifestError(obj, "metadata.annotations", key, "Invalid value: an "
                                "annotation key must be a non-empty string",
                                fix="e.g. nginx.ingress.kubernetes.io/ssl-redirect")
        if not isinstance(value, str):
            raise invalid_type(obj, f"metadata.annotations.{key}", value, "string")
    return tuple(sorted(notes.items()))


def decode_ingress_class(doc: Mapping[str, Any]) -> IngressClass:
    """A networking.k8s.io/v1 IngressClass; the default-class annotation is read."""
    obj, _, name, _ = meta(doc, "IngressClass", namespaced=False)
    spec = mapping(obj, "spec", doc.get("spec"))
    controller = string(obj, "spec.controller", spec.get("controller"))
    if controller is None or "/" not in controller:
        raise ManifestError(obj, "spec.controller", controller,
                            "Required value: a domain-prefixed path",
                            fix="e.g. controller: k8s.io/ingress-nginx")
    notes = mapping(obj, "metadata.annotations", doc["metadata"].get("annotations"))
    default = notes.get(DEFAULT_CLASS_ANNOTATION) == "true"
    return IngressClass(name, controller, default)


# ---------------------------------------------------------------- encoding
def _encode_backend(backend: IngressBackend) -> dict[str, Any]:
    port = ({"number": backend.port_number} if backend.port_number is not None
            else {"name": backend.port_name})
    return {"service": {"name": backend.service, "port": port}}


def encode_ingress(view: StoreView, ing: Ingress) -> dict[str, Any]:
    """An Ingress's spec as the API server stores it, with the ``ingressClassName`` the
    DefaultIngressClass admission plugin filled in, and its ``metadata.annotations``;
    ``decode_ingress`` reads it back.

    >>> c = kl.Cluster()
    >>> [ing] = c.apply({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    ...     "metadata": {"name": "web"}, "spec": {"defaultBackend": {"service": {
    ...     "name": "web", "port": {"number": 80}}}}})
    >>> encode_ingress(c.store, ing)["spec"]
    {'defaultBackend': {'service': {'name': 'web', 'port': {'number': 80}}}}
    """
    spec: dict[str, Any] = {}
    if ing.ingress_class_name is not None:
        spec["ingressClassName"] = ing.ingress_class_name
    if ing.default_backend is not None:
        spec["defaultBackend"] = _encode_backend(ing.default_backend)
    if ing.rules:
        spec["rules"] = [{
            **({"host": r.host} if r.host else {}),
            **({"http": {"paths": [{"backend": _encode_backend(p.backend), "path": p.path,
                                    "pathType": p.path_type} for p in r.paths]}}
               if r.paths else {})} for r in ing.rules]
    if ing.tls:
        spec["tls"] = [{**({"hosts": list(t.hosts)} if t.hosts else {}),
                        **({"secretName": t.secret_name} if t.secret_name else {})}
                       for t in ing.tls]
    doc: dict[str, Any] = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress"}
    if ing.annotations:
        doc["metadata"] = {"annotations": dict(ing.annotations)}
    doc["spec"] = spec
    return doc


def encode_ingress_class(view: StoreView, cls: IngressClass) -> dict[str, Any]:
    """An IngressClass: its controller, and the default-class annotation if it is the
    default; ``decode_ingress_class`` reads it back.

    >>> encode_ingress_class(None, IngressClass("nginx", "k8s.io/ingress-nginx", True))
    {'apiVersion': 'networking.k8s.io/v1', 'kind': 'IngressClass', 'metadata': \
{'annotations': {'ingressclass.kubernetes.io/is-default-class': 'true'}}, 'spec': \
{'controller': 'k8s.io/ingress-nginx'}}
    """
    meta = {"annotations": {DEFAULT_CLASS_ANNOTATION: "true"}} if cls.default else {}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": meta,
            "spec": {"controller": cls.controller}}
