"""The ``status`` Envoy Gateway writes on GatewayClasses, Gateways and Routes, computed
from the Store each time it is asked for (so it never goes stale), with EG v1.9's
reasons and messages (EG internal/gatewayapi/status/*.go, route.go, listener.go;
docs/facts/gateway-api.md section 4).

A condition's ``lastTransitionTime`` is the object's creation time in the lab (the
lab does not replay the controller's history); ``observedGeneration`` is the object's
``metadata.generation``. Before a controller owns an object its conditions are the
CRD defaults: ``Unknown``, reason ``Pending``, "Waiting for controller".

Examples
--------
>>> c = kl.Cluster(workers=1)
>>> _ = c.add_gateway_controller()
>>> [(k["type"], k["status"]) for k in c.get("GatewayClass", "eg")["status"]["conditions"]]
[('Accepted', 'True')]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubenet_lab.controllers.attachment import (
    attached_routes,
    attachments,
    backend_checks,
    listener_problems,
    supported_kinds,
)
from kubenet_lab.controllers.endpointslice import service_endpoints
from kubenet_lab.controllers.gateway import CONTROLLER_NAME, envoy_service, owned
from kubenet_lab.model.gateway import GROUP, Gateway, GatewayClass, ParentRef
from kubenet_lab.model.names import timestamp

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["gateway_class_status", "gateway_status", "route_status"]


def _condition(view: StoreView, obj: Any, kind: str, ok: bool | None, reason: str,
               message: str) -> dict[str, Any]:
    return {"lastTransitionTime": timestamp(view.created(obj)), "message": message,
            "observedGeneration": view.generation_of(obj), "reason": reason,
            "status": "Unknown" if ok is None else str(ok), "type": kind}


def _pending(view: StoreView, obj: Any, *kinds: str) -> list[dict[str, Any]]:
    return [_condition(view, obj, kind, None, "Pending", "Waiting for controller")
            for kind in kinds]


def gateway_class_status(view: StoreView, cls: GatewayClass) -> dict[str, Any]:
    """``Accepted`` True ("Valid GatewayClass") when this controller owns the class."""
    if cls.controller_name != CONTROLLER_NAME or not view.has_addon("envoy-gateway"):
        return {"conditions": _pending(view, cls, "Accepted")}
    return {"conditions": [_condition(view, cls, "Accepted", True, "Accepted",
                                      "Valid GatewayClass")]}


def _ready_replicas(view: StoreView, gw: Gateway) -> int:
    svc = envoy_service(view, gw)
    if svc is None or not svc.ports:
        return 0
    return len({e[3] for e in service_endpoints(view, svc, svc.ports[0])})


def _listener_status(view: StoreView, gw: Gateway, lst: Any) -> dict[str, Any]:
    problems = listener_problems(view, gw, lst)
    conditions = []
    invalid = bool(problems)
    conditions.append(_condition(view, gw, "Programmed", not invalid,
                                 "Invalid" if invalid else "Programmed",
                                 "Listener is invalid, see other Conditions for details."
                                 if invalid else "Sending translated listener configuration "
                                 "to the data plane"))
    reason, message = problems.get("Accepted", ("Accepted", "Listener has been successfully "
                                                "translated"))
    conditions.append(_condition(view, gw, "Accepted", "Accepted" not in problems, reason,
                                 message))
    reason, message = problems.get("ResolvedRefs", ("ResolvedRefs", "Listener references "
                                                    "have been resolved"))
    conditions.append(_condition(view, gw, "ResolvedRefs", "ResolvedRefs" not in problems,
                                 reason, message))
    if "Conflicted" in problems:
        conditions.append(_condition(view, gw, "Conflicted", True, *problems["Conflicted"]))
    kinds = [] if "Accepted" in problems else [
        {"group": GROUP, "kind": k} for k in supported_kinds(lst)]
    return {"attachedRoutes": attached_routes(view, gw, lst), "conditions": conditions,
            "name": lst.name, "supportedKinds": kinds}


def gateway_status(view: StoreView, gw: Gateway) -> dict[str, Any]:
    """``addresses``, ``Accepted``/``Programmed`` and each listener's status."""
    if not owned(view, gw):
        return {"conditions": _pending(view, gw, "Accepted", "Programmed")}
    bad = [lst.name for lst in gw.listeners if "Accepted" in listener_problems(view, gw, lst)]
    if bad and len(bad) == len(gw.listeners):
        accepted = _condition(view, gw, "Accepted", False, "ListenersNotValid",
                              "No listeners are valid: " + ", ".join(bad))
    elif bad:
        accepted = _condition(view, gw, "Accepted", True, "ListenersNotValid",
                              "Listeners not valid: " + ", ".join(bad))
    else:
        accepted = _condition(view, gw, "Accepted", True, "Accepted",
                              "The Gateway has been scheduled by Envoy Gateway")
    svc = envoy_service(view, gw)
    address = svc.load_balancer_ip if svc is not None else None
    ready = _ready_replicas(view, gw)
    if address is None:
        programmed = _condition(view, gw, "Programmed", False, "AddressNotAssigned",
                                "No addresses have been assigned to the Gateway")
    elif not ready:
        programmed = _condition(view, gw, "Programmed", False, "NoResources",
                                "Envoy replicas unavailable")
    else:
        programmed = _condition(view, gw, "Programmed", True, "Programmed",
                                f"Address assigned to the Gateway, {ready}/1 envoy "
                                "replicas available")
    out: dict[str, Any] = {}
    if address is not None:
        out["addresses"] = [{"type": "IPAddress", "value": address}]
    out["conditions"] = [accepted, programmed]
    out["listeners"] = [_listener_status(view, gw, lst) for lst in gw.listeners]
    return out


def _parent_ref(parent: ParentRef) -> dict[str, Any]:
    out: dict[str, Any] = {"group": parent.group, "kind": parent.kind, "name": parent.name}
    if parent.namespace is not None:
        out["namespace"] = parent.namespace
    if parent.port is not None:
        out["port"] = parent.port
    if parent.section_name is not None:
        out["sectionName"] = parent.section_name
    return out


def route_status(view: StoreView, route: Any) -> dict[str, Any]:
    """``parents[]``: for each parentRef this controller resolves, ``Accepted`` and
    ``ResolvedRefs`` (the failures' messages, one per line, EG's way)."""
    failures = [b for b in backend_checks(view, route) if b.reason is not None]
    if failures:
        resolved = (False, failures[0].reason, "\n".join(b.message for b in failures))
    else:
        resolved = (True, "ResolvedRefs", "Resolved all the Object references for the Route")
    parents = []
    for att in attachments(view, route):
        conditions = [_condition(view, route, "Accepted", att.accepted, att.reason,
                                 att.message),
                      _condition(view, route, "ResolvedRefs", *resolved)]
        parents.append({"conditions": conditions, "controllerName": CONTROLLER_NAME,
                        "parentRef": _parent_ref(att.parent)})
    return {"parents": parents}

