"""Gateway API (gateway.networking.k8s.io/v1, standard channel of v1.6): the successor
of Ingress that the Kubernetes project recommends, with roles split over three kinds.

- ``GatewayClass`` (the infrastructure provider): which controller implements Gateways
  of this class (``controllerName``);
- ``Gateway`` (the cluster operator): listeners (name, protocol, port, optional
  hostname, TLS certificates) and which Routes may attach (``allowedRoutes``);
- ``HTTPRoute`` / ``GRPCRoute`` (application developers): ``parentRefs`` to Gateways,
  ``hostnames``, and rules: matches, filters, weighted ``backendRefs``;
- ``ReferenceGrant``: the owner of a namespace allows references into it from another
  namespace (a cross-namespace backendRef, a Gateway's certificateRef to a Secret).

The records hold the objects as the API server stores them: with the defaults the
CRDs fill in (a parentRef's group and kind, a backendRef's weight 1, a rule without
matches matching ``PathPrefix /``, ``allowedRoutes`` from ``Same``...), see
``kubenet_lab.api.gateway``. Creation times and generations are the Store's
(``StoreView.created``, ``generation_of``): routes that tie on every match rule are
ordered by creation (oldest first), then by ``namespace/name``.

Source: kubernetes-sigs/gateway-api v1.6.1 ``apis/v1/*_types.go``.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubenet_lab.model.networkpolicy import LabelSelector

__all__ = [
    "GROUP", "BackendRef", "GRPCMethodMatch", "GRPCRoute", "GRPCRouteMatch",
    "GRPCRouteRule", "Gateway", "GatewayClass", "HTTPFilter", "HTTPHeaderMatch",
    "HTTPPathModifier", "HTTPQueryParamMatch", "HTTPRoute", "HTTPRouteMatch",
    "HTTPRouteRule", "Listener", "ParentRef", "ReferenceGrant", "ReferenceGrantFrom",
    "ReferenceGrantTo", "SecretRef",
]

#: The API group of every Gateway API kind.
GROUP = "gateway.networking.k8s.io"


@dataclass(frozen=True, slots=True)
class GatewayClass:
    """A class of Gateways and the controller that implements it (cluster-scoped)."""

    name: str
    controller_name: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A listener's ``tls.certificateRefs[]`` entry (group ``""``, kind ``Secret``)."""

    name: str
    namespace: str | None = None
    group: str = ""
    kind: str = "Secret"


@dataclass(frozen=True, slots=True)
class Listener:
    """``spec.listeners[]``: where a Gateway accepts traffic.

    ``allowed_from`` is ``allowedRoutes.namespaces.from`` (``Same``, ``All`` or
    ``Selector`` with ``allowed_selector``); ``allowed_kinds`` holds ``(group, kind)``
    pairs, empty for "the kinds the protocol supports"."""

    name: str
    port: int
    protocol: str
    hostname: str | None = None
    tls_mode: str | None = None
    certificate_refs: tuple[SecretRef, ...] = ()
    allowed_from: str = "Same"
    allowed_selector: LabelSelector | None = None
    allowed_kinds: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Gateway:
    """A Gateway: a class and its listeners."""

    namespace: str
    name: str
    gateway_class_name: str
    listeners: tuple[Listener, ...]
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def listener(self, name: str) -> Listener | None:
        return next((lst for lst in self.listeners if lst.name == name), None)


@dataclass(frozen=True, slots=True)
class ParentRef:
    """A route's ``parentRefs[]`` entry (``namespace`` None: the route's own)."""

    name: str
    namespace: str | None = None
    section_name: str | None = None
    port: int | None = None
    group: str = GROUP
    kind: str = "Gateway"


@dataclass(frozen=True, slots=True)
class HTTPHeaderMatch:
    """``matches[].headers[]`` (``type`` Exact or RegularExpression; names case-insensitive)."""

    name: str
    value: str
    type: str = "Exact"


@dataclass(frozen=True, slots=True)
class HTTPQueryParamMatch:
    """``matches[].queryParams[]`` (names case-sensitive)."""

    name: str
    value: str
    type: str = "Exact"


@dataclass(frozen=True, slots=True)
class HTTPRouteMatch:
    """One match: a path (``Exact``, ``PathPrefix`` or ``RegularExpression``; default
    ``PathPrefix /``), headers, query parameters and a method, ANDed together."""

    path_type: str = "PathPrefix"
    path: str = "/"
    headers: tuple[HTTPHeaderMatch, ...] = ()
    query_params: tuple[HTTPQueryParamMatch, ...] = ()
    method: str | None = None


@dataclass(frozen=True, slots=True)
class HTTPPathModifier:
    """``path`` of a RequestRedirect or URLRewrite: ``ReplaceFullPath`` or
    ``ReplacePrefixMatch`` with its ``value``."""

    type: str
    value: str


@dataclass(frozen=True, slots=True)
class HTTPFilter:
    """A filter of a rule or of a backendRef. ``type`` says which fields count:

    - ``RequestHeaderModifier`` / ``ResponseHeaderModifier``: ``set``, ``add``
      (``(name, value)`` pairs) and ``remove`` (names);
    - ``RequestRedirect``: ``scheme``, ``hostname``, ``port``, ``path``, ``status_code``
      (default 302);
    - ``URLRewrite``: ``hostname``, ``path``;
    - ``RequestMirror``, ``ExtensionRef``, ``CORS``: accepted, not modelled (the lab says so
      on the hop).
    """

    type: str
    set: tuple[tuple[str, str], ...] = ()
    add: tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = ()
    scheme: str | None = None
    hostname: str | None = None
    port: int | None = None
    path: HTTPPathModifier | None = None
    status_code: int = 302


@dataclass(frozen=True, slots=True)
class BackendRef:
    """``backendRefs[]``: a Service (group ``""``, kind ``Service``) and its *service*
    port, a ``weight`` (default 1) and filters of its own."""

    name: str
    port: int | None = None
    namespace: str | None = None
    weight: int = 1
    group: str = ""
    kind: str = "Service"
    filters: tuple[HTTPFilter, ...] = ()


@dataclass(frozen=True, slots=True)
class HTTPRouteRule:
    """``spec.rules[]``: matches (any one suffices), filters, backends."""

    matches: tuple[HTTPRouteMatch, ...] = (HTTPRouteMatch(),)
    filters: tuple[HTTPFilter, ...] = ()
    backend_refs: tuple[BackendRef, ...] = ()
    name: str | None = None


@dataclass(frozen=True, slots=True)
class HTTPRoute:
    """An HTTPRoute."""

    namespace: str
    name: str
    parent_refs: tuple[ParentRef, ...] = ()
    hostnames: tuple[str, ...] = ()
    rules: tuple[HTTPRouteRule, ...] = (HTTPRouteRule(),)
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class GRPCMethodMatch:
    """``matches[].method``: a gRPC ``service`` and/or ``method`` (Exact or
    RegularExpression)."""

    service: str | None = None
    method: str | None = None
    type: str = "Exact"


@dataclass(frozen=True, slots=True)
class GRPCRouteMatch:
    """One GRPCRoute match: a method and headers, ANDed."""

    method: GRPCMethodMatch | None = None
    headers: tuple[HTTPHeaderMatch, ...] = ()


@dataclass(frozen=True, slots=True)
class GRPCRouteRule:
    """``spec.rules[]`` of a GRPCRoute (no matches: every gRPC request)."""

    matches: tuple[GRPCRouteMatch, ...] = ()
    filters: tuple[HTTPFilter, ...] = ()
    backend_refs: tuple[BackendRef, ...] = ()


@dataclass(frozen=True, slots=True)
class GRPCRoute:
    """A GRPCRoute: gRPC requests (HTTP/2 ``POST /<service>/<method>``) routed by
    service, method and headers."""

    namespace: str
    name: str
    parent_refs: tuple[ParentRef, ...] = ()
    hostnames: tuple[str, ...] = ()
    rules: tuple[GRPCRouteRule, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class ReferenceGrantFrom:
    """Who may refer: ``group``, ``kind`` and ``namespace`` of the referring objects."""

    group: str
    kind: str
    namespace: str


@dataclass(frozen=True, slots=True)
class ReferenceGrantTo:
    """What they may refer to, in the grant's own namespace (``name`` None: all of
    that kind)."""

    group: str
    kind: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ReferenceGrant:
    """A ReferenceGrant, in the namespace of the objects it opens up."""

    namespace: str
    name: str
    from_: tuple[ReferenceGrantFrom, ...]
    to: tuple[ReferenceGrantTo, ...]

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def permits(self, group: str, kind: str, namespace: str, to_group: str, to_kind: str,
                to_name: str) -> bool:
        """Does this grant let a ``group``/``kind`` in ``namespace`` refer to
        ``to_group``/``to_kind`` ``to_name`` here?"""
        return (any(f.group == group and f.kind == kind and f.namespace == namespace
                    for f in self.from_)
                and any(t.group == to_group and t.kind == to_kind
                        and (t.name is None or t.name == to_name) for t in self.to))
