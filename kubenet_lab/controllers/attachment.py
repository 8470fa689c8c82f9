"""Which Routes attach to which listeners, and with which hostnames, as Envoy Gateway
decides it (EG internal/gatewayapi/route.go ``processAllowedListenersForParentRefs``,
helpers.go ``computeHosts``; the rules are the specification's, gateway-api v1.6.1
``apis/v1/shared_types.go`` and ``httproute_types.go``; see docs/facts/gateway-api.md
sections 2-4).

For each ``parentRef`` of a Route, in EG's order:

1. the Gateway must exist and be of a class this controller owns, else the parentRef
   gets no status entry at all ("parent references that cannot be resolved by an
   implementation of this API will not be added to this list");
2. ``sectionName`` and ``port`` pick listeners; none: ``Accepted`` False,
   ``NoMatchingParent``;
3. the listeners' ``allowedRoutes`` (namespaces ``Same`` / ``All`` / ``Selector``, and the
   kinds) must admit the Route; none: ``NotAllowedByListeners``;
4. the backendRefs are resolved (``ResolvedRefs``; a cross-namespace reference needs a
   ReferenceGrant in the target namespace) - a failure does not un-accept the Route,
   its traffic gets 500;
5. the Route's hostnames are intersected with each listener's; none left anywhere:
   ``NoMatchingListenerHostname``.

Examples
--------
>>> from kubenet_lab.controllers.attachment import intersect
>>> intersect("*.example.com", ("test.example.com", "example.com", "*.example.com"))
('test.example.com', '*.example.com')
>>> intersect("very.specific.com", ("*.specific.com",))
('very.specific.com',)
>>> intersect(None, ())
('*',)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubenet_lab.controllers.gateway import PROTOCOLS, owned
from kubenet_lab.model.gateway import GROUP, BackendRef, Gateway, Listener, ParentRef

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["Attachment", "BackendCheck", "attached_routes", "attachments", "backend_checks",
           "hostname_matches", "intersect", "listener_problems", "supported_kinds"]

#: The route kinds each listener protocol takes (EG listener.go ``allowedRouteKindsForProtocol``).
KINDS_FOR_PROTOCOL = {
    "HTTP": ("HTTPRoute", "GRPCRoute"), "HTTPS": ("HTTPRoute", "GRPCRoute"),
    "TCP": ("TCPRoute",), "UDP": ("UDPRoute",),
}


def supported_kinds(listener: Listener) -> tuple[str, ...]:
    """The route kinds the listener accepts: its protocol's, narrowed by
    ``allowedRoutes.kinds`` (kinds of another group, or unknown ones, are dropped)."""
    if listener.protocol == "TLS":
        own: tuple[str, ...] = (("TLSRoute",) if listener.tls_mode == "Passthrough"
                                else ("TCPRoute", "TLSRoute"))
    else:
        own = KINDS_FOR_PROTOCOL.get(listener.protocol, ())
    if not listener.allowed_kinds:
        return own
    return tuple(k for k in own if (GROUP, k) in listener.allowed_kinds)


# ---------------------------------------------------------------- hostnames
def hostname_matches(pattern: str, host: str) -> bool:
    """Does ``host`` match a listener or route hostname? ``*.example.com`` matches any
    number of labels in front of ``example.com``, not ``example.com`` itself.

    >>> hostname_matches("*.example.com", "a.b.example.com"), hostname_matches(
    ...     "*.example.com", "example.com")
    (True, False)
    """
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


def intersect(listener_host: str | None, route_hosts: tuple[str, ...]) -> tuple[str, ...]:
    """The hostnames a route serves on a listener (EG ``computeHosts``): the route's
    own, narrowed to the listener's; ``("*",)`` when neither names one."""
    if not route_hosts:
        return (listener_host,) if listener_host else ("*",)
    if not listener_host:
        return route_hosts
    out: list[str] = []
    for host in route_hosts:
        if host == listener_host:
            out.append(host)
        elif host.startswith("*.") and listener_host.startswith("*."):
            if host.endswith(listener_host[1:]):
                out.append(host)
            elif listener_host.endswith(host[1:]):
                out.append(listener_host)
        elif listener_host.startswith("*."):
            if hostname_matches(listener_host, host):
                out.append(host)
        elif host.startswith("*.") and hostname_matches(host, listener_host):
            out.append(listener_host)
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------- references
def _granted(view: StoreView, from_kind: str, from_ns: str, to_kind: str, to_ns: str,
             to_name: str) -> bool:
    return any(g.namespace == to_ns and g.permits(GROUP, from_kind, from_ns, "", to_kind,
                                                    to_name)
               for g in view.objects("ReferenceGrant"))


@dataclass(frozen=True, slots=True)
class BackendCheck:
    """One backendRef, resolved: ``reason`` None if it is valid, else the
    ``ResolvedRefs`` reason and EG's message."""

    rule: int
    index: int
    ref: BackendRef
    namespace: str
    reason: str | None = None
    message: str = ""


def _check_backend(view: StoreView, kind: str, ns: str, rule: int, i: int,
                   ref: BackendRef) -> BackendCheck:
    target_ns = ref.namespace or ns
    where = f"Failed to process route rule {rule} backendRef {i}: "

    def bad(reason: str, message: str) -> BackendCheck:
        return BackendCheck(rule, i, ref, target_ns, reason, where + message)

    if ref.group != "":
        return bad("InvalidKind", "Group is invalid, only the core API group (specified "
                   "by omitting the group field or setting it to an empty string), "
                   "multicluster.x-k8s.io and gateway.envoyproxy.io are supported.")
    if ref.kind != "Service":
        return bad("InvalidKind", "Kind is invalid, only Service, MCS ServiceImport and "
                   "Envoy Gateway Backend are supported.")
    if target_ns != ns and not _granted(view, kind, ns, "Service", target_ns, ref.name):
        return bad("RefNotPermitted", f"Backend ref to Service {target_ns}/{ref.name} not "
                   "permitted by any ReferenceGrant.")
    svc_ref = f"{target_ns}/{ref.name}"
    if not view.has_service(svc_ref):
        return bad("BackendNotFound", f"service {svc_ref} not found.")
    svc = view.service(svc_ref)
    if ref.port is not None and not any(p.port == ref.port and p.protocol == "TCP"
                                        for p in svc.ports):
        return bad("PortNotFound", f"TCP Port {ref.port} not found on Service {svc_ref}")
    return BackendCheck(rule, i, ref, target_ns)


def backend_checks(view: StoreView, route: Any) -> tuple[BackendCheck, ...]:
    """Every backendRef of every rule of ``route``, resolved."""
    kind = type(route).__name__
    return tuple(_check_backend(view, kind, route.namespace, r, i, ref)
                 for r, rule in enumerate(route.rules)
                 for i, ref in enumerate(rule.backend_refs))


# ---------------------------------------------------------------- listeners
def _secret_problem(view: StoreView, gw: Gateway, i: int, ref: Any) -> tuple[str, str] | None:
    where = f"No valid secrets exist: certificate refs {i}: "
    if ref.group != "":
        return "InvalidCertificateRef", (f"certificate refs {i}: Listener's TLS "
                                         "certificate ref group must be unspecified/empty.")
    if ref.kind != "Secret":
        return "InvalidCertificateRef", (f"certificate refs {i}: Listener's TLS "
                                         "certificate ref kind must be Secret.")
    ns = ref.namespace or gw.namespace
    if ns != gw.namespace and not _granted(view, "Gateway", gw.namespace, "Secret", ns,
                                           ref.name):
        return "RefNotPermitted", (f"{where}Certificate ref to secret {ns}/{ref.name} not "
                                   "permitted by any ReferenceGrant.")
    secret = view.find("Secret", f"{ns}/{ref.name}")
    if secret is None:
        return "InvalidCertificateRef", f"{where}Secret {ns}/{ref.name} does not exist."
    if secret.type != "kubernetes.io/tls":
        return "InvalidCertificateRef", (f"{where}Secret {ns}/{ref.name} must be of type "
                                         "kubernetes.io/tls.")
    if not {"tls.crt", "tls.key"} <= set(secret.keys):
        return "InvalidCertificateRef", (f"{where}Secret {ns}/{ref.name} must contain "
                                         "tls.crt and tls.key.")
    return None


def listener_problems(view: StoreView, gw: Gateway, listener: Listener
                      ) -> dict[str, tuple[str, str]]:
    """What is wrong with a listener, by condition type (``Accepted``,
    ``ResolvedRefs``, ``Conflicted``, ``Programmed``): ``(reason, message)``. Empty for
    a healthy listener."""
    out: dict[str, tuple[str, str]] = {}
    if listener.protocol not in PROTOCOLS:
        out["Accepted"] = ("UnsupportedProtocol", f"Protocol {listener.protocol} is "
                           "unsupported, must be HTTP, HTTPS, TCP or UDP.")
    bad_kinds = [k for g, k in listener.allowed_kinds
                 if g != GROUP or k not in supported_kinds(
                     Listener(listener.name, listener.port, listener.protocol,
                              tls_mode=listener.tls_mode))]
    if bad_kinds:
        allowed = " ".join(supported_kinds(Listener(listener.name, listener.port,
                                                    listener.protocol)))
        out["ResolvedRefs"] = ("InvalidRouteKinds", f"{bad_kinds[0]} is not supported, "
                               f"kind must be one of [{allowed}]")
    for i, ref in enumerate(listener.certificate_refs):
        problem = _secret_problem(view, gw, i, ref)
        if problem is not None:
            out.setdefault("ResolvedRefs", problem)
            break
    same_port = [lst for lst in gw.listeners if lst.port == listener.port]
    clash = [lst for lst in same_port if lst.hostname == listener.hostname
             and lst.protocol == listener.protocol]
    families = {("HTTP" if lst.protocol == "HTTP" else "TLS" if lst.protocol in (
        "HTTPS", "TLS") else lst.protocol) for lst in same_port}
    names = ", ".join(f"{gw.namespace}/{gw.name}/{lst.name}" for lst in same_port)
    if len(families) > 1:
        out["Conflicted"] = ("ProtocolConflict", "All listeners for a given port must use a "
                             f"compatible protocol, conflicting listeners: {names}")
    elif len(clash) > 1:
        out["Conflicted"] = ("HostnameConflict", "All listeners for a given port must use a "
                             f"unique hostname, conflicting listeners: {names}")
    if listener.allowed_from == "Selector" and listener.allowed_selector is None:
        out["Programmed"] = ("Invalid", "The allowedRoutes.namespaces.selector field must "
                             'be specified when allowedRoutes.namespaces.from is set to '
                             '"Selector".')
    return out


def _admits(view: StoreView, gw: Gateway, listener: Listener, kind: str, ns: str) -> bool:
    if kind not in supported_kinds(listener):
        return False
    if listener.allowed_from == "All":
        return True
    if listener.allowed_from == "Same":
        return ns == gw.namespace
    if listener.allowed_selector is None or view.find("Namespace", ns) is None:
        return False
    return listener.allowed_selector.matches(view.namespace(ns).labels)


# ---------------------------------------------------------------- attachment
@dataclass(frozen=True, slots=True)
class Attachment:
    """A Route's ``parentRef`` as the controller sees it: the Gateway, the
    ``Accepted`` verdict (reason and message) and the listeners it attached to, each
    with the hostnames it serves there."""

    parent: ParentRef
    gateway: Gateway
    accepted: bool
    reason: str
    message: str
    listeners: tuple[tuple[Listener, tuple[str, ...]], ...] = ()


def _attach(view: StoreView, route: Any, parent: ParentRef) -> Attachment | None:
    if parent.group != GROUP or parent.kind != "Gateway":
        return None
    gw = view.find("Gateway", f"{parent.namespace or route.namespace}/{parent.name}")
    if gw is None or not owned(view, gw):
        return None
    candidates = [lst for lst in gw.listeners
                  if (parent.section_name is None or lst.name == parent.section_name)
                  and (parent.port is None or lst.port == parent.port)]
    if not candidates:
        return Attachment(parent, gw, False, "NoMatchingParent",
                          "No listeners match this parent ref")
    kind = type(route).__name__
    allowed = [lst for lst in candidates if _admits(view, gw, lst, kind, route.namespace)]
    if not allowed:
        return Attachment(parent, gw, False, "NotAllowedByListeners",
                          "No listeners included by this parent ref allowed this attachment.")
    served = []
    for lst in allowed:
        others = {o.hostname for o in gw.listeners
                  if o is not lst and o.port == lst.port and o.hostname}
        hosts = tuple(h for h in intersect(lst.hostname, route.hostnames)
                      if h not in others or h == lst.hostname)
        if hosts:
            served.append((lst, hosts))
    if not served:
        return Attachment(parent, gw, False, "NoMatchingListenerHostname",
                          f"There were no hostname intersections between the {kind} and "
                          "this parent ref's Listener(s).")
    return Attachment(parent, gw, True, "Accepted", "Route is accepted", tuple(served))


def attachments(view: StoreView, route: Any) -> tuple[Attachment, ...]:
    """Each parentRef of ``route`` this controller resolves, attached or not."""
    return view.cached(("attachments", type(route).__name__, route.ref), lambda: tuple(
        a for a in (_attach(view, route, p) for p in route.parent_refs) if a is not None))


def routes(view: StoreView) -> list[Any]:
    """Every HTTPRoute and GRPCRoute, oldest first, then by ``namespace/name`` (the
    order the specification breaks ties in)."""
    return sorted([*view.objects("HTTPRoute"), *view.objects("GRPCRoute")],
                  key=lambda r: (view.created(r), r.namespace, r.name))


def attached_routes(view: StoreView, gw: Gateway, listener: Listener) -> int:
    """``status.listeners[].attachedRoutes``: Routes accepted on this listener."""
    return sum(1 for r in routes(view) for a in attachments(view, r)
               if a.gateway.ref == gw.ref and any(lst.name == listener.name
                                                  for lst, _ in a.listeners))
