"""Ingress resources (networking.k8s.io/v1): HTTP routing into the cluster.

Not to be confused with the *ingress rules* of a NetworkPolicy (which connections a
pod accepts): an Ingress tells an ingress controller which Service gets an HTTP
request, by its Host header and URL path (facts sheet §5).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Ingress", "IngressBackend", "IngressClass", "IngressPath", "IngressRule",
           "IngressTLS"]


@dataclass(frozen=True, slots=True)
class IngressBackend:
    """``backend.service``: a Service name and a port number or port name."""

    service: str
    port_number: int | None = None
    port_name: str | None = None

    def __str__(self) -> str:
        return f"{self.service}:{self.port_number if self.port_number else self.port_name}"


@dataclass(frozen=True, slots=True)
class IngressPath:
    """One ``http.paths`` entry: ``path``, ``pathType`` (Exact, Prefix or
    ImplementationSpecific) and its backend."""

    path: str
    path_type: str
    backend: IngressBackend


@dataclass(frozen=True, slots=True)
class IngressRule:
    """A rule: an optional host (exact, or ``*.domain``) and its paths."""

    host: str
    paths: tuple[IngressPath, ...]


@dataclass(frozen=True, slots=True)
class IngressTLS:
    """``spec.tls[]``: the hosts served with the certificate in ``secret_name``."""

    hosts: tuple[str, ...]
    secret_name: str


@dataclass(frozen=True, slots=True)
class Ingress:
    """An Ingress object; ``annotations`` are its ``metadata.annotations`` as
    ``(key, value)`` pairs, sorted by key (ingress-nginx reads its
    ``nginx.ingress.kubernetes.io/*`` settings there)."""

    namespace: str
    name: str
    rules: tuple[IngressRule, ...] = ()
    default_backend: IngressBackend | None = None
    tls: tuple[IngressTLS, ...] = ()
    ingress_class_name: str | None = None
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def annotation(self, key: str) -> str | None:
        """The value of annotation ``key``, or None."""
        return next((v for k, v in self.annotations if k == key), None)


@dataclass(frozen=True, slots=True)
class IngressClass:
    """An IngressClass: which controller implements it, and whether it is the
    default (annotation ``ingressclass.kubernetes.io/is-default-class: "true"``)."""

    name: str
    controller: str
    default: bool = False
