"""Gateway API manifests (gateway.networking.k8s.io/v1, standard channel of v1.6.1) to the
records of ``kubenet_lab.model.gateway``, and back.

The API server checks a custom resource against its CRD: the OpenAPI schema first (types,
``required``, ``enum``, ``pattern``, lengths, ``minimum``/``maximum``, ``min/maxItems``,
``maxProperties``), then the uniqueness of ``x-kubernetes-list-type: map`` keys and
``set`` items, then the CEL rules (``x-kubernetes-validations``), which it skips on an
object that failed the schema (apiextensions-apiserver ``customResourceStrategy.Validate``).
The decoders do the same in that order: a schema error is raised at once, a failed CEL
rule is kept and raised once the whole object has passed the schema. kubectl lists every
error; the lab names the first. Before validation, the CRDs' ``default:`` markers fill in
what ``kubectl get -o yaml`` shows back (docs/facts/gateway-api.md §1.7).

Messages are the API server's (apimachinery ``field.Error``, kube-openapi, k8s 1.35 for
CEL rules on objects, whose value it leaves out): ``Required value``, ``Invalid value:
"x": spec.hostnames[0] in body should match '<pattern>'``, ``Unsupported value: "Prefix":
supported values: "Exact", "PathPrefix", "RegularExpression"``, ``Too long: may not be
more than 253 bytes``, ``Too many: 17: must have at most 16 items``, ``Duplicate value:
...``, ``Invalid value: RequestRedirect filter must not be used together with
backendRefs``.

What a controller refuses later, the decoders accept as the CRD does: a listener
``protocol: INVALID``, an unknown kind in ``allowedRoutes.kinds``, a backendRef to a kind
other than Service (the controller reports them in status). Fields the records do not
keep (a Gateway's ``addresses``, ``infrastructure``, ``allowedListeners`` and ``tls``,
a listener's ``tls.options``, a rule's ``timeouts``, the bodies of
RequestMirror, ExtensionRef and CORS filters, a GatewayClass's ``parametersRef``, a
GRPCRoute rule's ``name``) are validated all the same.

Sources (kubernetes-sigs/gateway-api v1.6.1): config/crd/standard/
gateway.networking.k8s.io_{gatewayclasses,gateways,httproutes,grpcroutes,referencegrants}
.yaml; apis/v1/*_types.go; the expected messages of tests/cel/*_test.go. v1beta1 of
GatewayClass, Gateway, HTTPRoute and ReferenceGrant is served with the same schema.

Examples
--------
>>> from kubenet_lab.api.gateway import decode_http_route, encode_http_route
>>> c = kl.Cluster()
>>> route = decode_http_route(c.store, {"metadata": {"name": "web"}, "spec": {
...     "parentRefs": [{"name": "eg"}],
...     "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]}})
>>> route.parent_refs[0].kind, route.rules[0].matches[0].path, route.rules[0].backend_refs[0].weight
('Gateway', '/', 1)
>>> encode_http_route(c.store, route)["spec"]["rules"][0]["matches"]
[{'path': {'type': 'PathPrefix', 'value': '/'}}]
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any, NamedTuple

from kubenet_lab.api.fields import (
    boolean,
    check_labels,
    go_value,
    integer,
    mapping,
    meta,
    sequence,
    string,
)
from kubenet_lab.api.meta import labelled
from kubenet_lab.api.networkpolicy import parse_selector
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.gateway import (
    GROUP,
    BackendRef,
    Gateway,
    GatewayClass,
    GRPCMethodMatch,
    GRPCRoute,
    GRPCRouteMatch,
    GRPCRouteRule,
    HTTPFilter,
    HTTPHeaderMatch,
    HTTPPathModifier,
    HTTPQueryParamMatch,
    HTTPRoute,
    HTTPRouteMatch,
    HTTPRouteRule,
    Listener,
    ParentRef,
    ReferenceGrant,
    ReferenceGrantFrom,
    ReferenceGrantTo,
    SecretRef,
)

if TYPE_CHECKING:
    from kubenet_lab.model.networkpolicy import LabelSelector
    from kubenet_lab.model.store import StoreView

__all__ = [
    "API_VERSIONS", "decode_gateway", "decode_gateway_class", "decode_grpc_route",
    "decode_http_route", "decode_reference_grant", "encode_gateway",
    "encode_gateway_class", "encode_grpc_route", "encode_http_route",
    "encode_reference_grant",
]

#: The apiVersions each kind is served at (CRD yaml ``served: true``); ``kubectl get``
#: shows the first, the preferred one.
API_VERSIONS = {
    "GatewayClass": (f"{GROUP}/v1", f"{GROUP}/v1beta1"),
    "Gateway": (f"{GROUP}/v1", f"{GROUP}/v1beta1"),
    "HTTPRoute": (f"{GROUP}/v1", f"{GROUP}/v1beta1"),
    "GRPCRoute": (f"{GROUP}/v1",),
    "ReferenceGrant": (f"{GROUP}/v1", f"{GROUP}/v1beta1"),
}


# ------------------------------------------------------------------ the schema's types
class _Pattern(NamedTuple):
    """A CRD ``pattern`` (or a CEL ``matches()`` regex): its text as the message quotes
    it, the regex, and how to write a value that matches."""

    text: str
    regex: re.Pattern[str]
    fix: str


def _pattern(text: str, fix: str) -> _Pattern:
    """Go's RE2 ``$`` matches only at the very end, Python's also before a final newline:
    each ``$`` that ends an alternative becomes ``\\Z``. (kube-openapi and CEL search for
    the pattern, as ``regexp.MatchString`` does.)"""
    python = re.sub(r"(?<!\\)\$(?=[|)]|$)", r"\\Z", text)
    return _Pattern(text, re.compile(python.replace("^(?i)", "(?i)^")), fix)


_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#: apis/v1/shared_types.go
HOSTNAME = _pattern(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$",
                    "a lowercase DNS name, optionally starting with '*.' (no IP address, "
                    "no port), e.g. www.example.com or *.example.com")
PRECISE_HOSTNAME = _pattern(rf"^{_LABEL}(\.{_LABEL})*$",
                            "a lowercase DNS name without wildcard, e.g. www.example.com")
SECTION_NAME = _pattern(rf"^{_LABEL}(\.{_LABEL})*$",
                        "lowercase letters, digits, '-' and '.', e.g. http or https-1")
NAMESPACE = _pattern(rf"^{_LABEL}$", "a namespace name: lowercase letters, digits and '-'")
KIND = _pattern(r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$", "a kind, e.g. Service or Gateway")
GROUP_NAME = _pattern(rf"^$|^{_LABEL}(\.{_LABEL})*$",
                      'an API group: "" for the core group (Service, Secret), or a DNS '
                      "name such as gateway.networking.k8s.io")
CONTROLLER = _pattern(rf"^{_LABEL}(\.{_LABEL})*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$",
                      "a domain-prefixed path, e.g. "
                      "gateway.envoyproxy.io/gatewayclass-controller")
HEADER_NAME = _pattern(r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$",
                       "an HTTP header name (RFC 7230 token), e.g. X-Version")
PROTOCOL = _pattern(rf"^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|{_LABEL}(\.{_LABEL})*"
                    r"\/[A-Za-z0-9]+$", "HTTP, HTTPS, TLS, TCP or UDP (or domain/NAME)")
DURATION = _pattern(r"^([0-9]{1,5}(h|m|s|ms)){1,4}$",
                    "a Gateway API duration (GEP-2257), e.g. 10s, 1m30s or 500ms")
ADDRESS_TYPE = _pattern(rf"^Hostname|IPAddress|NamedAddress|{_LABEL}(\.{_LABEL})*"
                        r"\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$",
                        "IPAddress, Hostname or NamedAddress")
ORIGIN = _pattern(r"(^\*$)|(^(http(s)?):\/\/(((\*\.)?([a-zA-Z0-9\-]+\.)*[a-zA-Z0-9-]+|\*)"
                  r"(:([0-9]{1,5}))?)$)", "*, or scheme://host[:port], e.g. https://example.com")
#: The CEL regexes of HTTPPathMatch and GRPCMethodMatch.
PATH_CHARS = _pattern(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$",
                      "URL path characters, with other bytes %-encoded")
GRPC_SERVICE = _pattern(r"^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$",
                        "a protobuf service name, e.g. grpc.health.v1.Health")
GRPC_METHOD = _pattern(r"^[A-Za-z_][A-Za-z_0-9]*$", "a protobuf method name, e.g. Check")

PATH_TYPES = ("Exact", "PathPrefix", "RegularExpression")
MATCH_TYPES = ("Exact", "RegularExpression")
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
REDIRECT_CODES = (301, 302, 303, 307, 308)
_MS = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}


class _Checks:
    """The API server's checks of one object: a schema check raises at once, a CEL rule
    that fails is kept until ``done`` (run only when the whole object passed the
    schema, as apiextensions-apiserver runs them)."""

    def __init__(self, obj: str) -> None:
        self.obj = obj
        self._failed: list[ManifestError] = []

    def error(self, field: str, value: Any, problem: str, fix: str | None) -> ManifestError:
        return ManifestError(self.obj, field, value, problem, fix=fix)

    def invalid(self, field: str, value: Any, detail: str, fix: str | None) -> ManifestError:
        """``Invalid value: <value>: <detail>`` (kube-openapi's failures)."""
        return self.error(field, value, f"Invalid value: {go_value(value)}: {detail}", fix)

    def string(self, field: str, value: Any, *, required: bool = False,
               default: str | None = None, min_length: int = 0,
               max_length: int | None = None, pattern: _Pattern | None = None,
               enum: tuple[str, ...] | None = None, fix: str | None = None) -> str | None:
        """A string property: absent (None) is ``default`` or ``Required value``; then
        kube-openapi's maxLength, minLength, pattern and enum, in that order."""
        if value is None and required:
            raise self.error(field, None, "Required value", fix or f"add {field}")
        value = string(self.obj, field, value, default)
        if value is None:
            return None
        if max_length is not None and len(value) > max_length:
            raise self.error(field, value, f"Too long: may not be more than {max_length} "
                             "bytes", fix or f"use at most {max_length} characters")
        if len(value) < min_length:
            raise self.invalid(field, value, f"{field} in body should be at least "
                               f"{min_length} chars long", fix or "give a value")
        if pattern is not None and not pattern.regex.search(value):
            raise self.invalid(field, value, f"{field} in body should match "
                               f"'{pattern.text}'", fix or pattern.fix)
        if enum is not None and value not in enum:
            raise _unsupported(self, field, value, enum, fix)
        return value

    def integer(self, field: str, value: Any, *, required: bool = False,
                default: int | None = None, minimum: int | None = None,
                maximum: int | None = None, enum: tuple[int, ...] | None = None,
                fix: str | None = None) -> int | None:
        """An integer property: ``required``/``default``, then maximum, minimum, enum."""
        if value is None and required:
            raise self.error(field, None, "Required value", fix or f"add {field}")
        value = integer(self.obj, field, value, default)
        if value is None:
            return None
        if maximum is not None and value > maximum:
            raise self.invalid(field, value, f"{field} in body should be less than or equal "
                               f"to {maximum}", fix or f"use at most {maximum}")
        if minimum is not None and value < minimum:
            raise self.invalid(field, value, f"{field} in body should be greater than or "
                               f"equal to {minimum}", fix or f"use at least {minimum}")
        if enum is not None and value not in enum:
            raise _unsupported(self, field, value, enum, fix)
        return value

    def items(self, field: str, value: Any, *, required: bool = False, min_items: int = 0,
              max_items: int | None = None) -> list[Any]:
        """An array property: maxItems (``Too many``), then minItems."""
        value = sequence(self.obj, field, value, required=required)
        if max_items is not None and len(value) > max_items:
            raise self.error(field, value, f"Too many: {len(value)}: must have at most "
                             f"{max_items} items", f"keep {max_items} or fewer")
        if len(value) < min_items:
            raise self.error(field, value, f"Invalid value: {len(value)}: {field} in body "
                             f"should have at least {min_items} items",
                             f"give at least {min_items}")
        return value

    def object(self, field: str, value: Any, *, required: bool = False) -> Mapping[str, Any]:
        """An object property (None: absent, an empty one unless ``required``)."""
        return mapping(self.obj, field, value, required=required)

    def unique(self, field: str, keys: list[Hashable], map_key: str | None,
               fix: str) -> None:
        """``x-kubernetes-list-type: map`` (keyed by ``map_key``) or ``set``: the first
        repeated item is a ``Duplicate value`` (apiextensions-apiserver
        schema/listtype/validation.go, the key printed with Go's ``%#v``)."""
        seen: set[Hashable] = set()
        for i, key in enumerate(keys):
            if key in seen:
                shown = (f'map[string]interface {{}}{{"{map_key}":{json.dumps(key)}}}'
                         if map_key else go_value(key))
                raise self.error(f"{field}[{i}]", key, f"Duplicate value: {shown}", fix)
            seen.add(key)

    def rule(self, ok: bool, field: str, value: Any, message: str,
             fix: str | None = None) -> None:
        """A CEL rule of the CRD: when ``ok`` is false, ``Invalid value: <message>``
        (the value printed only when it is a scalar), raised by ``done``."""
        if not ok:
            shown = "" if isinstance(value, (Mapping, list, tuple)) else f"{go_value(value)}: "
            self._failed.append(self.error(field, value, f"Invalid value: {shown}{message}",
                                           fix))

    def done(self) -> None:
        """Raise the first CEL rule that failed."""
        if self._failed:
            raise self._failed[0]


def _unsupported(c: _Checks, field: str, value: Any, enum: tuple[Any, ...],
                 fix: str | None) -> ManifestError:
    """``Unsupported value: "X": supported values: "A", "B"`` (``field.NotSupported``; an
    integer enum's values are quoted too, as their JSON)."""
    values = ", ".join(f'"{v}"' for v in enum)
    return c.error(field, value, f"Unsupported value: {go_value(value)}: supported values: "
                   f"{values}", fix or "use one of " + ", ".join(map(str, enum)))


def _group(c: _Checks, field: str, value: Any, *, default: str | None = None,
           required: bool = False) -> str:
    """``Group`` (shared_types.go): ``""`` (core) or a DNS subdomain, at most 253."""
    return c.string(field, value, required=required, default=default, max_length=253,
                    pattern=GROUP_NAME) or ""


def _kind(c: _Checks, field: str, value: Any, *, default: str | None = None,
          required: bool = False) -> str:
    """``Kind``: 1-63 characters, a letter first."""
    return c.string(field, value, required=required, default=default, min_length=1,
                    max_length=63, pattern=KIND) or ""


def _object_name(c: _Checks, field: str, value: Any, *, required: bool = False) -> str | None:
    """``ObjectName``: 1-253 characters, no pattern."""
    return c.string(field, value, required=required, min_length=1, max_length=253)


def _namespace(c: _Checks, field: str, value: Any, *, required: bool = False) -> str | None:
    """``Namespace``: a DNS-1123 label."""
    return c.string(field, value, required=required, min_length=1, max_length=63,
                    pattern=NAMESPACE)


def _section_name(c: _Checks, field: str, value: Any, *, required: bool = False) -> str | None:
    """``SectionName`` (a listener's name, a parentRef's sectionName, a rule's name)."""
    return c.string(field, value, required=required, min_length=1, max_length=253,
                    pattern=SECTION_NAME)


def _port(c: _Checks, field: str, value: Any, *, required: bool = False) -> int | None:
    """``PortNumber``: 1-65535."""
    return c.integer(field, value, required=required, minimum=1, maximum=65535)


def _start(store: StoreView, doc: Mapping[str, Any], kind: str,
           namespaced: bool) -> tuple[_Checks, str, str, tuple[tuple[str, str], ...],
                                      Mapping[str, Any]]:
    """The checks, namespace, name and labels of a manifest, and its ``spec`` (required
    by every Gateway API CRD). The namespace must exist (the NamespaceLifecycle admission
    plugin refuses the request before validation)."""
    obj, ns, name, labels = meta(doc, kind, namespaced)
    if namespaced:
        store.namespace(ns)
    labels = check_labels(obj, "metadata.labels", labels)
    spec = mapping(obj, "spec", doc.get("spec"), required=True)
    return _Checks(obj), ns, name, tuple(sorted(labels.items())), spec


def _drop(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without the absent (None) ones, in key order, as kubectl prints them."""
    return {key: fields[key] for key in sorted(fields) if fields[key] is not None}


def _manifest(kind: str, spec: dict[str, Any],
              labels: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    return {"apiVersion": API_VERSIONS[kind][0], "kind": kind,
            "metadata": labelled(dict(labels)), "spec": spec}


# ------------------------------------------------------------------ GatewayClass
def decode_gateway_class(store: StoreView, doc: Mapping[str, Any]) -> GatewayClass:
    """A GatewayClass (cluster-scoped): ``spec.controllerName`` (required, a
    domain-prefixed path, immutable: CEL ``self == oldSelf``, "Value is immutable"),
    ``description`` (at most 64), ``parametersRef`` (group, kind, name; validated, not
    kept).

    >>> from kubenet_lab.api.gateway import decode_gateway_class
    >>> decode_gateway_class(kl.Cluster().store, {"metadata": {"name": "eg"}, "spec": {
    ...     "controllerName": "gateway.envoyproxy.io/gatewayclass-controller"}})
    GatewayClass(name='eg', controller_name='gateway.envoyproxy.io/gatewayclass-controller',
                 description=None)
    """
    c, _, name, _, spec = _start(store, doc, "GatewayClass", namespaced=False)
    controller = c.string("spec.controllerName", spec.get("controllerName"), required=True,
                          min_length=1, max_length=253, pattern=CONTROLLER,
                          fix="e.g. controllerName: gateway.envoyproxy.io/"
                          "gatewayclass-controller") or ""
    description = c.string("spec.description", spec.get("description"), max_length=64)
    if spec.get("parametersRef") is not None:
        ref = c.object("spec.parametersRef", spec["parametersRef"])
        _group(c, "spec.parametersRef.group", ref.get("group"), required=True)
        _kind(c, "spec.parametersRef.kind", ref.get("kind"), required=True)
        _object_name(c, "spec.parametersRef.name", ref.get("name"), required=True)
        _namespace(c, "spec.parametersRef.namespace", ref.get("namespace"))
    old = store.find("GatewayClass", name)
    c.rule(old is None or old.controller_name == controller, "spec.controllerName",
           controller, "Value is immutable",
           f"delete the GatewayClass and create it again to change its controller "
           f"(it is {old.controller_name if old else ''})")
    c.done()
    return GatewayClass(name, controller, description)


def encode_gateway_class(view: StoreView, obj: GatewayClass) -> dict[str, Any]:
    """``apiVersion``, ``kind`` and ``spec`` of a GatewayClass as ``kubectl get -o yaml``
    prints them (``view``: the cluster, for the encoders' common signature).

    >>> from kubenet_lab.api.gateway import encode_gateway_class
    >>> from kubenet_lab.model.gateway import GatewayClass
    >>> encode_gateway_class(None, GatewayClass("eg", "example.com/gw"))["spec"]
    {'controllerName': 'example.com/gw'}
    """
    return _manifest("GatewayClass", _drop({"controllerName": obj.controller_name,
                                            "description": obj.description}))


# ------------------------------------------------------------------ Gateway
_GATEWAY_PROTOCOLS_WITHOUT_TLS = ("HTTP", "TCP", "UDP")


def decode_gateway(store: StoreView, doc: Mapping[str, Any]) -> Gateway:
    """A Gateway: ``gatewayClassName`` and 1-64 ``listeners`` (a list-map keyed by
    name), with the CRD's rules on the list (gateways.yaml ``spec.listeners``
    x-kubernetes-validations):

    - ``tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']``
    - ``tls mode must be Terminate for protocol HTTPS``
    - ``tls mode must be set for protocol TLS``
    - ``hostname must not be specified for protocols ['TCP', 'UDP']``
    - ``Combination of port, protocol and hostname must be unique for each listener``

    A repeated listener name is first a ``Duplicate value`` of the list-map (the rule
    "Listener name must be unique within the Gateway" says it again after it; its words
    are in the fix). Defaults: ``allowedRoutes: {namespaces: {from: Same}}``, ``tls.mode:
    Terminate``, a certificateRef's group ``""`` and kind ``Secret``, an allowed kind's
    group ``gateway.networking.k8s.io``. ``spec.addresses`` is checked (at most 16; an
    IPAddress must be one; Hostname values valid; values unique), not kept.

    >>> from kubenet_lab.api.gateway import decode_gateway
    >>> gw = decode_gateway(kl.Cluster().store, {"metadata": {"name": "eg"}, "spec": {
    ...     "gatewayClassName": "eg",
    ...     "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]}})
    >>> gw.listeners[0].allowed_from, gw.listeners[0].tls_mode
    ('Same', None)
    """
    c, ns, name, labels, spec = _start(store, doc, "Gateway", namespaced=True)
    class_name = _object_name(c, "spec.gatewayClassName", spec.get("gatewayClassName"),
                              required=True) or ""
    raw = c.items("spec.listeners", spec.get("listeners"), required=True, min_items=1,
                  max_items=64)
    listeners = tuple(_listener(c, f"spec.listeners[{i}]", item)
                      for i, item in enumerate(raw))
    c.unique("spec.listeners", [lst.name for lst in listeners], "name",
             "Listener name must be unique within the Gateway: give each its own name")
    c.rule(all(lst.tls_mode is None for lst in listeners
               if lst.protocol in _GATEWAY_PROTOCOLS_WITHOUT_TLS), "spec.listeners", raw,
           "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
           "drop tls from that listener, or make it HTTPS or TLS")
    c.rule(all(lst.tls_mode in (None, "Terminate") for lst in listeners
               if lst.protocol == "HTTPS"), "spec.listeners", raw,
           "tls mode must be Terminate for protocol HTTPS",
           "use protocol TLS for Passthrough (a TLSRoute), or mode Terminate")
    c.rule(all(lst.tls_mode is not None for lst in listeners if lst.protocol == "TLS"),
           "spec.listeners", raw, "tls mode must be set for protocol TLS",
           "add tls: {mode: Passthrough} (or Terminate with certificateRefs)")
    c.rule(all(lst.hostname is None for lst in listeners if lst.protocol in ("TCP", "UDP")),
           "spec.listeners", raw, "hostname must not be specified for protocols ['TCP', 'UDP']",
           "drop hostname: TCP and UDP carry no host name")
    c.rule(len({(lst.port, lst.protocol, lst.hostname) for lst in listeners})
           == len(listeners), "spec.listeners", raw,
           "Combination of port, protocol and hostname must be unique for each listener",
           "give the listeners different ports or hostnames")
    _addresses(c, "spec.addresses", spec.get("addresses"))
    _infrastructure(c, "spec.infrastructure", spec.get("infrastructure"))
    _allowed_listeners(c, "spec.allowedListeners", spec.get("allowedListeners"))
    _gateway_tls(c, "spec.tls", spec.get("tls"))
    c.done()
    return Gateway(ns, name, class_name, listeners, labels)


def _listener(c: _Checks, f: str, raw: Any) -> Listener:
    item = c.object(f, raw, required=True)
    name = _section_name(c, f"{f}.name", item.get("name"), required=True) or ""
    hostname = c.string(f"{f}.hostname", item.get("hostname"), min_length=1, max_length=253,
                        pattern=HOSTNAME)
    port = _port(c, f"{f}.port", item.get("port"), required=True) or 0
    protocol = c.string(f"{f}.protocol", item.get("protocol"), required=True, min_length=1,
                        max_length=255, pattern=PROTOCOL) or ""
    tls_mode, certificates = None, ()
    if item.get("tls") is not None:
        tls_mode, certificates = _listener_tls(c, f"{f}.tls", item["tls"])
    routes = c.object(f"{f}.allowedRoutes", item.get("allowedRoutes"))
    kinds = []
    for i, kind in enumerate(c.items(f"{f}.allowedRoutes.kinds", routes.get("kinds"),
                                     max_items=8)):
        kf = f"{f}.allowedRoutes.kinds[{i}]"
        kind = c.object(kf, kind, required=True)
        kinds.append((_group(c, f"{kf}.group", kind.get("group"), default=GROUP),
                      _kind(c, f"{kf}.kind", kind.get("kind"), required=True)))
    spaces = c.object(f"{f}.allowedRoutes.namespaces", routes.get("namespaces"))
    allowed_from = c.string(f"{f}.allowedRoutes.namespaces.from", spaces.get("from"),
                            default="Same", enum=("All", "Selector", "Same")) or "Same"
    selector = (parse_selector(c.obj, f"{f}.allowedRoutes.namespaces.selector",
                               spaces["selector"])
                if spaces.get("selector") is not None else None)
    return Listener(name, port, protocol, hostname, tls_mode, certificates, allowed_from,
                    selector, tuple(kinds))


def _listener_tls(c: _Checks, f: str, raw: Any) -> tuple[str, tuple[SecretRef, ...]]:
    tls = c.object(f, raw)
    mode = c.string(f"{f}.mode", tls.get("mode"), default="Terminate",
                    enum=("Terminate", "Passthrough")) or "Terminate"
    refs = []
    for i, r in enumerate(c.items(f"{f}.certificateRefs", tls.get("certificateRefs"),
                                  max_items=64)):
        rf = f"{f}.certificateRefs[{i}]"
        r = c.object(rf, r, required=True)
        refs.append(SecretRef(_object_name(c, f"{rf}.name", r.get("name"), required=True) or "",
                              _namespace(c, f"{rf}.namespace", r.get("namespace")),
                              _group(c, f"{rf}.group", r.get("group"), default=""),
                              _kind(c, f"{rf}.kind", r.get("kind"), default="Secret")))
    options = c.object(f"{f}.options", tls.get("options"))
    if len(options) > 16:
        raise c.error(f"{f}.options", dict(options), f"Too many: {len(options)}: must have "
                      "at most 16 items", "keep 16 options or fewer")
    for key, value in options.items():
        c.string(f"{f}.options.{key}", value, max_length=4096)
    c.rule(mode != "Terminate" or bool(refs) or bool(options), f, tls,
           "certificateRefs or options must be specified when mode is Terminate",
           "name the certificate's Secret: certificateRefs: [{name: my-cert}]")
    return mode, tuple(refs)


def _addresses(c: _Checks, field: str, raw: Any) -> None:
    """``spec.addresses``: checked as the CRD does (type default IPAddress; an IPAddress
    value must be an IPv4 or IPv6 address, kube-openapi's ``format``), not kept."""
    items = c.items(field, raw, max_items=16)
    given = []
    for i, item in enumerate(items):
        f = f"{field}[{i}]"
        item = c.object(f, item, required=True)
        kind = c.string(f"{f}.type", item.get("type"), default="IPAddress", min_length=1,
                        max_length=253, pattern=ADDRESS_TYPE)
        value = c.string(f"{f}.value", item.get("value"), max_length=253)
        if kind == "IPAddress" and value is not None and not _is_ip(value):
            raise c.invalid(f"{f}.value", value, f"{f}.value in body must be of type ipv4",
                            "write an IPv4 or IPv6 address, without a port")
        c.rule(kind != "Hostname" or value is None or bool(HOSTNAME.regex.search(value)), f,
               item, "Hostname value must be empty or contain only valid characters "
               f"(matching {HOSTNAME.text})", HOSTNAME.fix)
        given.append((kind, value))
    for kind in ("IPAddress", "Hostname"):
        values = [v for k, v in given if k == kind and v is not None]
        c.rule(len(values) == len(set(values)), field, items,
               f"{kind} values must be unique", "list each address once")


#: GatewayInfrastructure's CEL on label and annotation keys (gateway_types.go).
_META_KEY = _pattern(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                     r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$",
                     "an optional DNS prefix and '/', then up to 63 letters, digits, '-', "
                     "'_' or '.', e.g. example.com/team")
_LABEL_VALUE = _pattern(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
                        "letters, digits, '-', '_' and '.', starting and ending with a "
                        "letter or digit")


def _infrastructure(c: _Checks, field: str, raw: Any) -> None:
    """GatewayInfrastructure (checked, not kept): ``labels`` (at most 8, values 0-63
    characters of a label value), ``annotations`` (at most 16, values up to 4096), each
    map's two CEL rules on its keys, and ``parametersRef`` (group, kind, name)."""
    body = c.object(field, raw)
    for key, most, value_max, pattern, what in (
            ("labels", 8, 63, _LABEL_VALUE, ("Label", "label")),
            ("annotations", 16, 4096, None, ("Annotation", "annotation"))):
        f = f"{field}.{key}"
        pairs = c.object(f, body.get(key))
        if len(pairs) > most:
            raise c.error(f, dict(pairs), f"Too many: {len(pairs)}: must have at most "
                          f"{most} items", f"keep {most} {key} or fewer")
        for name, value in pairs.items():
            c.string(f"{f}.{name}", value, max_length=value_max, pattern=pattern)
        c.rule(all(_META_KEY.regex.search(name) for name in pairs), f, pairs,
               f"{what[0]} keys must be in the form of an optional DNS subdomain prefix "
               "followed by a required name segment of up to 63 characters.", _META_KEY.fix)
        c.rule(all(len(name.split("/")[0]) < 253 for name in pairs), f, pairs,
               f"If specified, the {what[1]} key's prefix must be a DNS subdomain not longer "
               "than 253 characters in total.", "shorten the key's prefix")
    if body.get("parametersRef") is not None:
        f = f"{field}.parametersRef"
        ref = c.object(f, body["parametersRef"])
        _group(c, f"{f}.group", ref.get("group"), required=True)
        _kind(c, f"{f}.kind", ref.get("kind"), required=True)
        _object_name(c, f"{f}.name", ref.get("name"), required=True)


def _allowed_listeners(c: _Checks, field: str, raw: Any) -> None:
    """AllowedListeners (ListenerSets; checked, not kept): ``namespaces.from`` All,
    Selector, Same or None (the default), and a label selector."""
    spaces = c.object(f"{field}.namespaces", c.object(field, raw).get("namespaces"))
    c.string(f"{field}.namespaces.from", spaces.get("from"), default="None",
             enum=("All", "Selector", "Same", "None"))
    if spaces.get("selector") is not None:
        parse_selector(c.obj, f"{field}.namespaces.selector", spaces["selector"])


def _secret_ref(c: _Checks, f: str, raw: Any) -> None:
    """SecretObjectReference: group ``""`` and kind Secret by default, a name."""
    ref = c.object(f, raw, required=True)
    _object_name(c, f"{f}.name", ref.get("name"), required=True)
    _namespace(c, f"{f}.namespace", ref.get("namespace"))
    _group(c, f"{f}.group", ref.get("group"), default="")
    _kind(c, f"{f}.kind", ref.get("kind"), default="Secret")


def _tls_validation(c: _Checks, f: str, raw: Any) -> None:
    """FrontendTLSValidation: 1-16 ``caCertificateRefs`` (group, kind and name
    required) and ``mode`` AllowValidOnly (the default) or AllowInsecureFallback."""
    body = c.object(f, raw)
    refs = c.items(f"{f}.caCertificateRefs", body.get("caCertificateRefs"), required=True,
                   min_items=1, max_items=16)
    for i, ref in enumerate(refs):
        rf = f"{f}.caCertificateRefs[{i}]"
        ref = c.object(rf, ref, required=True)
        _group(c, f"{rf}.group", ref.get("group"), required=True)
        _kind(c, f"{rf}.kind", ref.get("kind"), required=True)
        _object_name(c, f"{rf}.name", ref.get("name"), required=True)
        _namespace(c, f"{rf}.namespace", ref.get("namespace"))
    c.string(f"{f}.mode", body.get("mode"), default="AllowValidOnly",
             enum=("AllowValidOnly", "AllowInsecureFallback"))


def _gateway_tls(c: _Checks, field: str, raw: Any) -> None:
    """GatewayTLSConfig (checked, not kept): ``backend.clientCertificateRef`` and
    ``frontend`` (``default`` required, ``perPort`` a list-map keyed by port, at most
    64, with its CEL rule "Port for TLS configuration must be unique within the
    Gateway")."""
    body = c.object(field, raw)
    backend = c.object(f"{field}.backend", body.get("backend"))
    if backend.get("clientCertificateRef") is not None:
        _secret_ref(c, f"{field}.backend.clientCertificateRef", backend["clientCertificateRef"])
    if body.get("frontend") is None:
        return
    f = f"{field}.frontend"
    frontend = c.object(f, body["frontend"])
    default = c.object(f"{f}.default", frontend.get("default"), required=True)
    if default.get("validation") is not None:
        _tls_validation(c, f"{f}.default.validation", default["validation"])
    items = c.items(f"{f}.perPort", frontend.get("perPort"), max_items=64)
    ports = []
    for i, item in enumerate(items):
        pf = f"{f}.perPort[{i}]"
        item = c.object(pf, item, required=True)
        ports.append(_port(c, f"{pf}.port", item.get("port"), required=True))
        tls = c.object(f"{pf}.tls", item.get("tls"), required=True)
        if tls.get("validation") is not None:
            _tls_validation(c, f"{pf}.tls.validation", tls["validation"])
    c.unique(f"{f}.perPort", list(ports), "port", "configure each port once")
    c.rule(len(ports) == len(set(ports)), f"{f}.perPort", items,
           "Port for TLS configuration must be unique within the Gateway",
           "configure each port once")


def _is_ip(text: str) -> bool:
    """strfmt's ipv4 or ipv6 (Go's ``net.ParseIP``, which takes no zone)."""
    try:
        ip_address(text)
    except ValueError:
        return False
    return "%" not in text


def encode_gateway(view: StoreView, obj: Gateway) -> dict[str, Any]:
    """``apiVersion``, ``kind`` and ``spec`` of a Gateway, with its defaults, as
    ``kubectl get -o yaml`` prints them.

    >>> from kubenet_lab.api.gateway import encode_gateway
    >>> from kubenet_lab.model.gateway import Gateway, Listener
    >>> encode_gateway(None, Gateway("default", "eg", "eg", (Listener("http", 80, "HTTP"),)))
    {'apiVersion': 'gateway.networking.k8s.io/v1', 'kind': 'Gateway', 'metadata': {},
     'spec': {'gatewayClassName': 'eg', 'listeners': [{'allowedRoutes': {'namespaces':
     {'from': 'Same'}}, 'name': 'http', 'port': 80, 'protocol': 'HTTP'}]}}
    """
    return _manifest("Gateway", {"gatewayClassName": obj.gateway_class_name,
                                 "listeners": [_listener_manifest(lst)
                                               for lst in obj.listeners]}, obj.labels)


def _listener_manifest(lst: Listener) -> dict[str, Any]:
    routes = _drop({
        "kinds": [{"group": g, "kind": k} for g, k in lst.allowed_kinds] or None,
        "namespaces": _drop({"from": lst.allowed_from,
                             "selector": _selector_manifest(lst.allowed_selector)})})
    tls = None
    if lst.tls_mode is not None:
        tls = _drop({"mode": lst.tls_mode, "certificateRefs": [
            _drop({"group": r.group, "kind": r.kind, "name": r.name, "namespace": r.namespace})
            for r in lst.certificate_refs] or None})
    return _drop({"allowedRoutes": routes, "hostname": lst.hostname, "name": lst.name,
                  "port": lst.port, "protocol": lst.protocol, "tls": tls})


def _selector_manifest(selector: LabelSelector | None) -> dict[str, Any] | None:
    if selector is None:
        return None
    return _drop({
        "matchLabels": dict(selector.match_labels) or None,
        "matchExpressions": [_drop({"key": k, "operator": op, "values": list(v) or None})
                             for k, op, v in selector.match_expressions] or None})


# ------------------------------------------------------------------ routes: shared parts
def _parent_refs(c: _Checks, field: str, raw: Any) -> tuple[ParentRef, ...]:
    """``spec.parentRefs`` (CommonRouteSpec, at most 32; group and kind default to
    ``gateway.networking.k8s.io`` and ``Gateway``) with the standard channel's two rules
    on the list: two references to the same parent (group, kind, name and namespace,
    unset namespaces equal) must both have a sectionName, and different ones."""
    items = c.items(field, raw, max_items=32)
    refs = []
    for i, item in enumerate(items):
        f = f"{field}[{i}]"
        item = c.object(f, item, required=True)
        refs.append(ParentRef(
            _object_name(c, f"{f}.name", item.get("name"), required=True) or "",
            _namespace(c, f"{f}.namespace", item.get("namespace")),
            _section_name(c, f"{f}.sectionName", item.get("sectionName")),
            _port(c, f"{f}.port", item.get("port")),
            _group(c, f"{f}.group", item.get("group"), default=GROUP),
            _kind(c, f"{f}.kind", item.get("kind"), default="Gateway")))

    def same(a: ParentRef, b: ParentRef) -> bool:
        return (a.group, a.kind, a.name, a.namespace) == (b.group, b.kind, b.name, b.namespace)

    c.rule(all((a.section_name is None) == (b.section_name is None)
               for a in refs for b in refs if same(a, b)), field, items,
           "sectionName must be specified when parentRefs includes 2 or more references to "
           "the same parent", "name the listener of each reference in sectionName")
    c.rule(all(sum(same(a, b) and a.section_name == b.section_name for b in refs) == 1
               for a in refs), field, items,
           "sectionName must be unique when parentRefs includes 2 or more references to the "
           "same parent", "refer to the parent once, or to different listeners")
    return tuple(refs)


def _hostnames(c: _Checks, field: str, raw: Any) -> tuple[str, ...]:
    return tuple(c.string(f"{field}[{i}]", h, required=True, min_length=1, max_length=253,
                          pattern=HOSTNAME) or ""
                 for i, h in enumerate(c.items(field, raw, max_items=16)))


def _backend_object(c: _Checks, f: str, raw: Mapping[str, Any]
                    ) -> tuple[str, str, str, str | None, int | None]:
    """A BackendObjectReference (object_reference_types.go): ``(group, kind, name,
    namespace, port)``, group ``""`` and kind ``Service`` by default, and its rule
    ``Must have port for Service reference``."""
    group = _group(c, f"{f}.group", raw.get("group"), default="")
    kind = _kind(c, f"{f}.kind", raw.get("kind"), default="Service")
    name = _object_name(c, f"{f}.name", raw.get("name"), required=True) or ""
    namespace = _namespace(c, f"{f}.namespace", raw.get("namespace"))
    port = _port(c, f"{f}.port", raw.get("port"))
    c.rule(not (group == "" and kind == "Service") or port is not None, f, raw,
           "Must have port for Service reference",
           "give the Service's port (the port it exposes, not the pods' targetPort)")
    return group, kind, name, namespace, port


def _backend_refs(c: _Checks, field: str, raw: Any, kinds: _Filters) -> tuple[BackendRef, ...]:
    """``backendRefs`` (at most 16): a BackendObjectReference, ``weight`` 0-1000000
    (default 1) and filters of its own."""
    refs = []
    for i, item in enumerate(c.items(field, raw, max_items=16)):
        f = f"{field}[{i}]"
        item = c.object(f, item, required=True)
        group, kind, name, namespace, port = _backend_object(c, f, item)
        weight = c.integer(f"{f}.weight", item.get("weight"), default=1, minimum=0,
                           maximum=1_000_000)
        refs.append(BackendRef(name, port, namespace, weight if weight is not None else 1,
                               group, kind, _filters(c, f"{f}.filters", item.get("filters"),
                                                     kinds)))
    return tuple(refs)


def _name_values(c: _Checks, field: str, raw: Any, record: type, value_max: int) -> tuple:
    """Header (or query parameter) matches: a list-map keyed by ``name`` (at most 16),
    each ``name`` (HeaderName), ``value`` (1 to ``value_max``) and ``type`` (Exact, the
    default, or RegularExpression)."""
    out = []
    for i, item in enumerate(c.items(field, raw, max_items=16)):
        f = f"{field}[{i}]"
        item = c.object(f, item, required=True)
        out.append(record(
            c.string(f"{f}.name", item.get("name"), required=True, min_length=1,
                     max_length=256, pattern=HEADER_NAME),
            c.string(f"{f}.value", item.get("value"), required=True, min_length=1,
                     max_length=value_max),
            c.string(f"{f}.type", item.get("type"), default="Exact", enum=MATCH_TYPES)))
    c.unique(field, [m.name for m in out], "name", "match each name once")
    return tuple(out)


def _name_values_manifest(matches: tuple) -> list[dict[str, Any]] | None:
    return [{"name": m.name, "type": m.type, "value": m.value} for m in matches] or None


def _total_matches(c: _Checks, field: str, raw: Any, counts: list[int]) -> None:
    c.rule(sum(counts) <= 128, field, raw, "While 16 rules and 64 matches per rule are "
           "allowed, the total number of matches across all rules in a route must be less "
           "than 128", "split the route in two")


# ------------------------------------------------------------------ filters
@dataclass(frozen=True)
class _Filters:
    """The filters a route kind takes: ``types`` (the enum, in the CRD's order),
    ``members`` (each type's field, in the order of the union rules), the types that
    ``cannot be repeated``, and whether RequestRedirect excludes URLRewrite."""

    types: tuple[str, ...]
    members: tuple[tuple[str, str], ...]
    once: tuple[str, ...]
    exclusive: bool


_HTTP = _Filters(
    ("RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "RequestRedirect",
     "URLRewrite", "ExtensionRef", "CORS"),
    (("CORS", "cors"), ("RequestHeaderModifier", "requestHeaderModifier"),
     ("ResponseHeaderModifier", "responseHeaderModifier"), ("RequestMirror", "requestMirror"),
     ("RequestRedirect", "requestRedirect"), ("URLRewrite", "urlRewrite"),
     ("ExtensionRef", "extensionRef")),
    ("CORS", "RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect",
     "URLRewrite"), exclusive=True)
_GRPC = _Filters(
    ("ResponseHeaderModifier", "RequestHeaderModifier", "RequestMirror", "ExtensionRef"),
    (("RequestHeaderModifier", "requestHeaderModifier"),
     ("ResponseHeaderModifier", "responseHeaderModifier"), ("RequestMirror", "requestMirror"),
     ("ExtensionRef", "extensionRef")),
    ("RequestHeaderModifier", "ResponseHeaderModifier"), exclusive=False)
_MEMBER = dict(_HTTP.members)


def _filters(c: _Checks, field: str, raw: Any, kinds: _Filters) -> tuple[HTTPFilter, ...]:
    """A rule's or a backendRef's ``filters`` (at most 16), each's union rules
    (``filter.<member> must be nil if the filter.type is not <type>``, ``... must be
    specified for <type> filter.type``) and the list's (``May specify either
    httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both``,
    ``<type> filter cannot be repeated``)."""
    items = c.items(field, raw, max_items=16)
    out = []
    for i, item in enumerate(items):
        f = f"{field}[{i}]"
        item = c.object(f, item, required=True)
        kind = c.string(f"{f}.type", item.get("type"), required=True, enum=kinds.types,
                        fix="e.g. type: RequestHeaderModifier") or ""
        body: dict[str, Any] = {}
        for member_type, member in kinds.members:
            given = item.get(member) is not None
            if given:
                found = _BODIES[member](c, f"{f}.{member}", item[member])
                body = found if member_type == kind else body
            c.rule(not (given and kind != member_type), f, item,
                   f"filter.{member} must be nil if the filter.type is not {member_type}",
                   f"move {member} to a filter of type {member_type}")
            c.rule(not (not given and kind == member_type), f, item,
                   f"filter.{member} must be specified for {member_type} filter.type",
                   f"add {member}: {{...}} to this filter")
        out.append(HTTPFilter(kind, **body))
    types = [x.type for x in out]
    if kinds.exclusive:
        c.rule(not ("RequestRedirect" in types and "URLRewrite" in types), field, items,
               "May specify either httpRouteFilterRequestRedirect or "
               "httpRouteFilterRequestRewrite, but not both",
               "a redirect answers the client itself: keep one of the two")
    for kind in kinds.once:
        c.rule(types.count(kind) <= 1, field, items, f"{kind} filter cannot be repeated",
               f"merge the {kind} filters into one")
    return tuple(out)


def _header_modifier(c: _Checks, f: str, raw: Any) -> dict[str, Any]:
    """HTTPHeaderFilter: ``set`` and ``add`` (list-maps of name/value, at most 16) and
    ``remove`` (a set of names, at most 16)."""
    body = c.object(f, raw)
    out: dict[str, Any] = {}
    for key in ("set", "add"):
        pairs = []
        for i, item in enumerate(c.items(f"{f}.{key}", body.get(key), max_items=16)):
            hf = f"{f}.{key}[{i}]"
            item = c.object(hf, item, required=True)
            pairs.append((c.string(f"{hf}.name", item.get("name"), required=True,
                                   min_length=1, max_length=256, pattern=HEADER_NAME) or "",
                          c.string(f"{hf}.value", item.get("value"), required=True,
                                   min_length=1, max_length=4096) or ""))
        c.unique(f"{f}.{key}", [name for name, _ in pairs], "name",
                 "one entry per header name")
        out[key] = tuple(pairs)
    out["remove"] = tuple(c.string(f"{f}.remove[{i}]", name, required=True) or ""
                          for i, name in enumerate(c.items(f"{f}.remove", body.get("remove"),
                                                           max_items=16)))
    c.unique(f"{f}.remove", list(out["remove"]), None, "name each header once")
    return out


def _path_modifier(c: _Checks, f: str, raw: Any) -> HTTPPathModifier:
    """HTTPPathModifier: ``type`` ReplaceFullPath or ReplacePrefixMatch and the field
    of that name, by its four rules."""
    body = c.object(f, raw)
    kind = c.string(f"{f}.type", body.get("type"), required=True,
                    enum=("ReplaceFullPath", "ReplacePrefixMatch")) or ""
    values = {key: c.string(f"{f}.{key}", body.get(key), max_length=1024)
              for key in ("replaceFullPath", "replacePrefixMatch")}
    for key, name in (("replaceFullPath", "ReplaceFullPath"),
                      ("replacePrefixMatch", "ReplacePrefixMatch")):
        c.rule(kind != name or values[key] is not None, f, body,
               f"{key} must be specified when type is set to '{name}'", f"add {key}: /...")
        c.rule(values[key] is None or kind == name, f, body,
               f"type must be '{name}' when {key} is set", f"set type: {name}")
    return HTTPPathModifier(kind, values[_PATH_FIELD.get(kind, "replaceFullPath")] or "")


_PATH_FIELD = {"ReplaceFullPath": "replaceFullPath", "ReplacePrefixMatch": "replacePrefixMatch"}


def _redirect(c: _Checks, f: str, raw: Any) -> dict[str, Any]:
    """HTTPRequestRedirectFilter: scheme, hostname, path, port, statusCode (302)."""
    body = c.object(f, raw)
    return {
        "scheme": c.string(f"{f}.scheme", body.get("scheme"), enum=("http", "https")),
        "hostname": c.string(f"{f}.hostname", body.get("hostname"), min_length=1,
                             max_length=253, pattern=PRECISE_HOSTNAME),
        "path": (_path_modifier(c, f"{f}.path", body["path"])
                 if body.get("path") is not None else None),
        "port": _port(c, f"{f}.port", body.get("port")),
        "status_code": c.integer(f"{f}.statusCode", body.get("statusCode"), default=302,
                                 enum=REDIRECT_CODES),
    }


def _rewrite(c: _Checks, f: str, raw: Any) -> dict[str, Any]:
    """HTTPURLRewriteFilter: hostname and path."""
    body = c.object(f, raw)
    return {
        "hostname": c.string(f"{f}.hostname", body.get("hostname"), min_length=1,
                             max_length=253, pattern=PRECISE_HOSTNAME),
        "path": (_path_modifier(c, f"{f}.path", body["path"])
                 if body.get("path") is not None else None),
    }


def _mirror(c: _Checks, f: str, raw: Any) -> dict[str, Any]:
    """HTTPRequestMirrorFilter (checked, not kept): a backendRef, and ``percent``
    (0-100) or ``fraction`` (numerator <= denominator, default 100), not both."""
    body = c.object(f, raw)
    _backend_object(c, f"{f}.backendRef",
                    c.object(f"{f}.backendRef", body.get("backendRef"), required=True))
    percent = c.integer(f"{f}.percent", body.get("percent"), minimum=0, maximum=100)
    if body.get("fraction") is not None:
        fraction = c.object(f"{f}.fraction", body["fraction"])
        numerator = c.integer(f"{f}.fraction.numerator", fraction.get("numerator"),
                              required=True, minimum=0) or 0
        denominator = c.integer(f"{f}.fraction.denominator", fraction.get("denominator"),
                                default=100, minimum=1) or 100
        c.rule(numerator <= denominator, f"{f}.fraction", fraction,
               "numerator must be less than or equal to denominator")
    c.rule(percent is None or body.get("fraction") is None, f, body,
           "Only one of percent or fraction may be specified in HTTPRequestMirrorFilter",
           "keep percent or fraction")
    return {}


def _extension_ref(c: _Checks, f: str, raw: Any) -> dict[str, Any]:
    """LocalObjectReference (checked, not kept): group, kind, name, all required."""
    body = c.object(f, raw)
    _group(c, f"{f}.group", body.get("group"), required=True)
    _kind(c, f"{f}.kind", body.get("kind"), required=True)
    _object_name(c, f"{f}.name", body.get("name"), required=True)
    return {}


def _cors(c: _Checks, f: str, raw: Any) -> dict[str, Any]:
    """HTTPCORSFilter (checked, not kept): sets of origins, methods and headers, a
    ``'*'`` alone in its list, ``maxAge`` at least 1 (default 5)."""
    body = c.object(f, raw)
    boolean(c.obj, f"{f}.allowCredentials", body.get("allowCredentials"))
    lists: tuple[tuple[str, int, Callable[[str, Any], Any], str | None], ...] = (
        ("allowOrigins", 64, lambda p, v: c.string(p, v, required=True, min_length=1,
                                                   max_length=253, pattern=ORIGIN), "origins"),
        ("allowMethods", 9, lambda p, v: c.string(p, v, required=True,
                                                  enum=(*METHODS, "*")), "methods"),
        ("allowHeaders", 64, lambda p, v: c.string(p, v, required=True, min_length=1,
                                                   max_length=256, pattern=HEADER_NAME),
         "methods"),
        ("exposeHeaders", 64, lambda p, v: c.string(p, v, required=True, min_length=1,
                                                    max_length=256, pattern=HEADER_NAME), None))
    for key, most, check, others in lists:
        values = [check(f"{f}.{key}[{i}]", v)
                  for i, v in enumerate(c.items(f"{f}.{key}", body.get(key), max_items=most))]
        c.unique(f"{f}.{key}", values, None, "list each value once")
        if others:  # "alongside other methods" for headers too, as the CRD says
            c.rule(not ("*" in values and len(values) > 1), f"{f}.{key}", values,
                   f"{key[0].upper()}{key[1:]} cannot contain '*' alongside other {others}",
                   "'*' allows all: give it alone")
    c.integer(f"{f}.maxAge", body.get("maxAge"), default=5, minimum=1)
    return {}


_BODIES: dict[str, Callable[[_Checks, str, Any], dict[str, Any]]] = {
    "requestHeaderModifier": _header_modifier, "responseHeaderModifier": _header_modifier,
    "requestRedirect": _redirect, "urlRewrite": _rewrite, "requestMirror": _mirror,
    "extensionRef": _extension_ref, "cors": _cors,
}


def _filter_manifest(f: HTTPFilter) -> dict[str, Any]:
    """A filter as stored. The lab keeps only the type of a RequestMirror, ExtensionRef
    or CORS filter, so it shows only ``type`` for them (not a manifest the API server
    takes back: their bodies are required)."""
    body: dict[str, Any] | None = None
    if f.type in ("RequestHeaderModifier", "ResponseHeaderModifier"):
        body = _drop({"set": [{"name": n, "value": v} for n, v in f.set] or None,
                      "add": [{"name": n, "value": v} for n, v in f.add] or None,
                      "remove": list(f.remove) or None})
    elif f.type == "RequestRedirect":
        body = _drop({"scheme": f.scheme, "hostname": f.hostname, "port": f.port,
                      "path": _path_modifier_manifest(f.path), "statusCode": f.status_code})
    elif f.type == "URLRewrite":
        body = _drop({"hostname": f.hostname, "path": _path_modifier_manifest(f.path)})
    return _drop({"type": f.type, _MEMBER[f.type]: body})


def _path_modifier_manifest(path: HTTPPathModifier | None) -> dict[str, Any] | None:
    if path is None:
        return None
    return {_PATH_FIELD.get(path.type, "replaceFullPath"): path.value, "type": path.type}


def _backend_ref_manifest(ref: BackendRef) -> dict[str, Any]:
    return _drop({"group": ref.group, "kind": ref.kind, "name": ref.name,
                  "namespace": ref.namespace, "port": ref.port, "weight": ref.weight,
                  "filters": [_filter_manifest(f) for f in ref.filters] or None})


def _route_spec(parent_refs: tuple[ParentRef, ...], hostnames: tuple[str, ...],
                rules: list[dict[str, Any]] | None) -> dict[str, Any]:
    return _drop({
        "parentRefs": [_drop({"group": p.group, "kind": p.kind, "name": p.name,
                              "namespace": p.namespace, "port": p.port,
                              "sectionName": p.section_name}) for p in parent_refs] or None,
        "hostnames": list(hostnames) or None,
        "rules": rules})


# ------------------------------------------------------------------ HTTPRoute
#: HTTPPathMatch's CEL rules for Exact and PathPrefix, in the CRD's order. (Its rule
#: "type must be one of [...]" never fails: the enum refuses any other type first.)
_PATH_RULES: tuple[tuple[Callable[[str], bool], str], ...] = (
    (lambda v: v.startswith("/"), "value must be an absolute path and start with '/'"),
    (lambda v: "//" not in v, "must not contain '//'"),
    (lambda v: "/./" not in v, "must not contain '/./'"),
    (lambda v: "/../" not in v, "must not contain '/../'"),
    (lambda v: "%2f" not in v, "must not contain '%2f'"),
    (lambda v: "%2F" not in v, "must not contain '%2F'"),
    (lambda v: "#" not in v, "must not contain '#'"),
    (lambda v: not v.endswith("/.."), "must not end with '/..'"),
    (lambda v: not v.endswith("/."), "must not end with '/.'"),
)


def decode_http_route(store: StoreView, doc: Mapping[str, Any]) -> HTTPRoute:
    """An HTTPRoute (httproutes.yaml): parentRefs, hostnames and 1-16 rules (default one
    rule matching ``PathPrefix /``), with the CEL rules of a rule (RequestRedirect and
    backendRefs exclude each other; a ``replacePrefixMatch`` needs exactly one PathPrefix
    match, in the rule's filters or its backendRefs'), of its filters, paths, header
    and query matches, timeouts, and the route's total of 128 matches. A rule without
    ``matches`` matches ``PathPrefix /``; a match without ``path`` gets ``PathPrefix /``.

    >>> from kubenet_lab.api.gateway import decode_http_route
    >>> decode_http_route(kl.Cluster().store, {"metadata": {"name": "r"}, "spec": {}}).rules
    (HTTPRouteRule(matches=(HTTPRouteMatch(path_type='PathPrefix', path='/', headers=(),
                                           query_params=(), method=None),),
                   filters=(), backend_refs=(), name=None),)
    """
    c, ns, name, labels, spec = _start(store, doc, "HTTPRoute", namespaced=True)
    parent_refs = _parent_refs(c, "spec.parentRefs", spec.get("parentRefs"))
    hostnames = _hostnames(c, "spec.hostnames", spec.get("hostnames"))
    raw = spec.get("rules")
    rules = (HTTPRouteRule(),) if raw is None else tuple(
        _http_rule(c, f"spec.rules[{i}]", r)
        for i, r in enumerate(c.items("spec.rules", raw, min_items=1, max_items=16)))
    _total_matches(c, "spec.rules", raw, [len(r.matches) for r in rules])
    c.done()
    return HTTPRoute(ns, name, parent_refs, hostnames, rules, labels)


def _http_rule(c: _Checks, f: str, raw: Any) -> HTTPRouteRule:
    rule = c.object(f, raw, required=True)
    matches = (HTTPRouteMatch(),) if rule.get("matches") is None else tuple(
        _http_match(c, f"{f}.matches[{j}]", m)
        for j, m in enumerate(c.items(f"{f}.matches", rule["matches"], max_items=64)))
    filters = _filters(c, f"{f}.filters", rule.get("filters"), _HTTP)
    backends = _backend_refs(c, f"{f}.backendRefs", rule.get("backendRefs"), _HTTP)
    name = _section_name(c, f"{f}.name", rule.get("name"))
    _timeouts(c, f"{f}.timeouts", rule.get("timeouts"))
    raw_filters = sequence(c.obj, f"{f}.filters", rule.get("filters"))
    raw_backends = sequence(c.obj, f"{f}.backendRefs", rule.get("backendRefs"))
    c.rule(not backends or not any(x.get("requestRedirect") is not None for x in raw_filters),
           f, rule, "RequestRedirect filter must not be used together with backendRefs",
           "a redirect answers the client itself: put it in a rule of its own, without "
           "backendRefs")
    one_prefix = len(matches) == 1 and matches[0].path_type == "PathPrefix"
    fix = "give the rule exactly one match, of type PathPrefix"
    for member, name_of in (("requestRedirect", "RequestRedirect"), ("urlRewrite", "URLRewrite")):
        c.rule(one_prefix or sum(_replaces_prefix(x, member) for x in raw_filters) != 1, f,
               rule, f"When using {name_of} filter with path.replacePrefixMatch, exactly one "
               "PathPrefix match must be specified", fix)
    for member, words in (("requestRedirect", "when using RequestRedirect"),
                          ("urlRewrite", "When using URLRewrite")):  # sic: "When"
        c.rule(one_prefix or sum(
            sum(_replaces_prefix(x, member) for x in b.get("filters") or []) == 1
            for b in raw_backends) != 1, f, rule,
            f"Within backendRefs, {words} filter with path.replacePrefixMatch, exactly one "
            "PathPrefix match must be specified", fix)
    return HTTPRouteRule(matches, filters, backends, name)


def _replaces_prefix(raw_filter: Mapping[str, Any], member: str) -> bool:
    """``has(f.<member>) && has(f.<member>.path) && f.<member>.path.type ==
    'ReplacePrefixMatch' && has(f.<member>.path.replacePrefixMatch)`` (on a filter the
    schema has passed)."""
    path = (raw_filter.get(member) or {}).get("path") or {}
    return path.get("type") == "ReplacePrefixMatch" and path.get("replacePrefixMatch") is not None


def _http_match(c: _Checks, f: str, raw: Any) -> HTTPRouteMatch:
    match = c.object(f, raw, required=True)
    path = c.object(f"{f}.path", match.get("path"))
    kind = c.string(f"{f}.path.type", path.get("type"), default="PathPrefix", enum=PATH_TYPES,
                    fix="use PathPrefix (Ingress's Prefix), Exact or RegularExpression") or ""
    value = c.string(f"{f}.path.value", path.get("value"), default="/", max_length=1024) or ""
    if kind in ("Exact", "PathPrefix"):
        shown = {"type": kind, "value": value}
        for test, words in _PATH_RULES:
            c.rule(test(value), f"{f}.path", shown,
                   f"{words} when type one of ['Exact', 'PathPrefix']",
                   "write a normalized absolute path such as /api/v1")
        c.rule(bool(PATH_CHARS.regex.search(value)), f"{f}.path", shown,
               f"must only contain valid characters (matching {PATH_CHARS.text}) for types "
               "['Exact', 'PathPrefix']", PATH_CHARS.fix)
    return HTTPRouteMatch(
        kind, value,
        _name_values(c, f"{f}.headers", match.get("headers"), HTTPHeaderMatch, 4096),
        _name_values(c, f"{f}.queryParams", match.get("queryParams"), HTTPQueryParamMatch, 1024),
        c.string(f"{f}.method", match.get("method"), enum=METHODS))


def _timeouts(c: _Checks, f: str, raw: Any) -> None:
    """HTTPRouteTimeouts (checked, not kept): two Durations, ``backendRequest`` no
    longer than ``request`` unless that is ``0s`` (no timeout)."""
    body = c.object(f, raw)
    request = c.string(f"{f}.request", body.get("request"), pattern=DURATION)
    backend = c.string(f"{f}.backendRequest", body.get("backendRequest"), pattern=DURATION)
    c.rule(request is None or backend is None or _milliseconds(request) == 0
           or _milliseconds(backend) <= _milliseconds(request), f, body,
           "backendRequest timeout cannot be longer than request timeout",
           "shorten backendRequest, or lengthen request")


def _milliseconds(duration: str) -> int:
    """A Duration that matched its pattern, e.g. ``1m30s``, in milliseconds."""
    return sum(int(n) * _MS[unit] for n, unit in re.findall(r"(\d+)(ms|h|m|s)", duration))


def encode_http_route(view: StoreView, obj: HTTPRoute) -> dict[str, Any]:
    """``apiVersion``, ``kind`` and ``spec`` of an HTTPRoute, with every default, as
    ``kubectl get -o yaml`` prints them.

    >>> from kubenet_lab.api.gateway import encode_http_route
    >>> from kubenet_lab.model.gateway import HTTPRoute, ParentRef
    >>> encode_http_route(None, HTTPRoute("default", "r", (ParentRef("eg"),)))["spec"]
    {'parentRefs': [{'group': 'gateway.networking.k8s.io', 'kind': 'Gateway', 'name': 'eg'}],
     'rules': [{'matches': [{'path': {'type': 'PathPrefix', 'value': '/'}}]}]}
    """
    rules = [_drop({
        "matches": [_drop({"path": {"type": m.path_type, "value": m.path},
                           "headers": _name_values_manifest(m.headers),
                           "queryParams": _name_values_manifest(m.query_params),
                           "method": m.method}) for m in r.matches],
        "filters": [_filter_manifest(f) for f in r.filters] or None,
        "backendRefs": [_backend_ref_manifest(b) for b in r.backend_refs] or None,
        "name": r.name}) for r in obj.rules]
    return _manifest("HTTPRoute", _route_spec(obj.parent_refs, obj.hostnames, rules),
                     obj.labels)


# ------------------------------------------------------------------ GRPCRoute
def decode_grpc_route(store: StoreView, doc: Mapping[str, Any]) -> GRPCRoute:
    """A GRPCRoute (grpcroutes.yaml, v1 only): parentRefs, hostnames and at most 16
    rules (no default: no rules, or a rule without matches, matches every gRPC request),
    each match a method (``service`` and/or ``method``, Exact by default, by the CRD's
    three rules) and headers; RequestHeaderModifier, ResponseHeaderModifier,
    RequestMirror and ExtensionRef filters.

    >>> from kubenet_lab.api.gateway import decode_grpc_route
    >>> r = decode_grpc_route(kl.Cluster().store, {"metadata": {"name": "g"}, "spec": {
    ...     "rules": [{"matches": [{"method": {"service": "echo.Echo"}}]}]}})
    >>> r.rules[0].matches[0].method
    GRPCMethodMatch(service='echo.Echo', method=None, type='Exact')
    """
    c, ns, name, labels, spec = _start(store, doc, "GRPCRoute", namespaced=True)
    parent_refs = _parent_refs(c, "spec.parentRefs", spec.get("parentRefs"))
    hostnames = _hostnames(c, "spec.hostnames", spec.get("hostnames"))
    raw = spec.get("rules")
    rules = tuple(_grpc_rule(c, f"spec.rules[{i}]", r)
                  for i, r in enumerate(c.items("spec.rules", raw, max_items=16)))
    _total_matches(c, "spec.rules", raw, [len(r.matches) for r in rules])
    c.done()
    return GRPCRoute(ns, name, parent_refs, hostnames, rules, labels)


def _grpc_rule(c: _Checks, f: str, raw: Any) -> GRPCRouteRule:
    rule = c.object(f, raw, required=True)
    matches = tuple(_grpc_match(c, f"{f}.matches[{j}]", m)
                    for j, m in enumerate(c.items(f"{f}.matches", rule.get("matches"),
                                                  max_items=64)))
    filters = _filters(c, f"{f}.filters", rule.get("filters"), _GRPC)
    backends = _backend_refs(c, f"{f}.backendRefs", rule.get("backendRefs"), _GRPC)
    _section_name(c, f"{f}.name", rule.get("name"))  # GRPCRouteRule keeps no name
    return GRPCRouteRule(matches, filters, backends)


def _grpc_match(c: _Checks, f: str, raw: Any) -> GRPCRouteMatch:
    match = c.object(f, raw, required=True)
    method = None
    if match.get("method") is not None:
        mf = f"{f}.method"
        body = c.object(mf, match["method"])
        kind = c.string(f"{mf}.type", body.get("type"), default="Exact",
                        enum=MATCH_TYPES) or "Exact"
        service = c.string(f"{mf}.service", body.get("service"), max_length=1024)
        name = c.string(f"{mf}.method", body.get("method"), max_length=1024)
        c.rule(service is not None or name is not None, mf, body,
               "One or both of 'service' or 'method' must be specified",
               "e.g. service: grpc.health.v1.Health, method: Check")
        for value, pattern, what in ((service, GRPC_SERVICE, "service"),
                                     (name, GRPC_METHOD, "method")):
            c.rule(kind != "Exact" or value is None or bool(pattern.regex.search(value)), mf,
                   body, f"{what} must only contain valid characters (matching "
                   f"{pattern.text})", pattern.fix)
        method = GRPCMethodMatch(service, name, kind)
    return GRPCRouteMatch(method, _name_values(c, f"{f}.headers", match.get("headers"),
                                               HTTPHeaderMatch, 4096))


def encode_grpc_route(view: StoreView, obj: GRPCRoute) -> dict[str, Any]:
    """``apiVersion``, ``kind`` and ``spec`` of a GRPCRoute as ``kubectl get -o yaml``
    prints them.

    >>> from kubenet_lab.api.gateway import encode_grpc_route
    >>> from kubenet_lab.model.gateway import GRPCRoute
    >>> encode_grpc_route(None, GRPCRoute("default", "g"))
    {'apiVersion': 'gateway.networking.k8s.io/v1', 'kind': 'GRPCRoute', 'metadata': {},
     'spec': {}}
    """
    rules = [_drop({
        "matches": [_drop({
            "headers": _name_values_manifest(m.headers),
            "method": m.method and _drop({"method": m.method.method,
                                          "service": m.method.service,
                                          "type": m.method.type})}) for m in r.matches] or None,
        "filters": [_filter_manifest(f) for f in r.filters] or None,
        "backendRefs": [_backend_ref_manifest(b) for b in r.backend_refs] or None})
        for r in obj.rules]
    return _manifest("GRPCRoute", _route_spec(obj.parent_refs, obj.hostnames, rules or None),
                     obj.labels)


# ------------------------------------------------------------------ ReferenceGrant
def decode_reference_grant(store: StoreView, doc: Mapping[str, Any]) -> ReferenceGrant:
    """A ReferenceGrant (referencegrants.yaml): ``from`` (1-16 of group, kind,
    namespace, all required; group ``""`` is the core group) and ``to`` (1-16 of group,
    kind, optional name).

    >>> from kubenet_lab.api.gateway import decode_reference_grant
    >>> g = decode_reference_grant(kl.Cluster().store, {"metadata": {"name": "g"}, "spec": {
    ...     "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
    ...               "namespace": "x"}], "to": [{"group": "", "kind": "Service"}]}})
    >>> g.permits("gateway.networking.k8s.io", "HTTPRoute", "x", "", "Service", "web")
    True
    """
    c, ns, name, _, spec = _start(store, doc, "ReferenceGrant", namespaced=True)
    from_ = []
    for i, item in enumerate(c.items("spec.from", spec.get("from"), required=True,
                                     min_items=1, max_items=16)):
        f = f"spec.from[{i}]"
        item = c.object(f, item, required=True)
        from_.append(ReferenceGrantFrom(
            _group(c, f"{f}.group", item.get("group"), required=True),
            _kind(c, f"{f}.kind", item.get("kind"), required=True),
            _namespace(c, f"{f}.namespace", item.get("namespace"), required=True) or ""))
    to = []
    for i, item in enumerate(c.items("spec.to", spec.get("to"), required=True, min_items=1,
                                     max_items=16)):
        f = f"spec.to[{i}]"
        item = c.object(f, item, required=True)
        to.append(ReferenceGrantTo(_group(c, f"{f}.group", item.get("group"), required=True),
                                   _kind(c, f"{f}.kind", item.get("kind"), required=True),
                                   _object_name(c, f"{f}.name", item.get("name"))))
    c.done()
    return ReferenceGrant(ns, name, tuple(from_), tuple(to))


def encode_reference_grant(view: StoreView, obj: ReferenceGrant) -> dict[str, Any]:
    """``apiVersion``, ``kind`` and ``spec`` of a ReferenceGrant (v1, the version
    ``kubectl get`` prefers, though v1beta1 is the one stored).

    >>> from kubenet_lab.api.gateway import encode_reference_grant
    >>> from kubenet_lab.model.gateway import (ReferenceGrant, ReferenceGrantFrom,
    ...                                        ReferenceGrantTo)
    >>> encode_reference_grant(None, ReferenceGrant("web", "g", (
    ...     ReferenceGrantFrom("gateway.networking.k8s.io", "HTTPRoute", "x"),),
    ...     (ReferenceGrantTo("", "Service"),)))["spec"]
    {'from': [{'group': 'gateway.networking.k8s.io', 'kind': 'HTTPRoute', 'namespace': 'x'}],
     'to': [{'group': '', 'kind': 'Service'}]}
    """
    return _manifest("ReferenceGrant", {
        "from": [{"group": f.group, "kind": f.kind, "namespace": f.namespace}
                 for f in obj.from_],
        "to": [_drop({"group": t.group, "kind": t.kind, "name": t.name}) for t in obj.to]})
