"""Any object of any kind the lab models, read as ``kubectl get KIND NAME -o yaml`` prints
it (``get``) and deleted as ``kubectl delete`` deletes it (``delete``), with what the
controllers do next.

``get`` builds the manifest from three parts: the kind's encoder in ``kubenet_lab.api``
(``apiVersion``, ``kind``, ``spec`` or ``data``, labels), the API server's ``metadata``
(``kubenet_lab.api.meta``: name, namespace, uid, creationTimestamp, resourceVersion,
generation), and the ``status`` its controller writes (the kubelet's for a Pod and a
Node, the Deployment controller's, the cloud's for a LoadBalancer Service, Envoy
Gateway's for the Gateway API kinds), computed from the cluster as it is now.

``delete`` then converges as a real cluster does: a Deployment's pods go with it (the
garbage collector), a deleted pod of a Deployment is replaced, a Node's pods are
re-created elsewhere, a Namespace takes everything in it, and Envoy Gateway removes the
data plane of a deleted Gateway (or re-creates one deleted under it).

Examples
--------
>>> c = kl.Cluster()
>>> doc = get(c.store, "Service", "default/kubernetes")
>>> doc["metadata"]["name"], doc["spec"]["clusterIP"], doc["status"]
('kubernetes', '10.96.0.1', {'loadBalancer': {}})
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubenet_lab.api import gateway as gateway_api
from kubenet_lab.api.adminpolicy import ADMIN_KINDS, encode_admin_policy
from kubenet_lab.api.configmap import encode_config_map
from kubenet_lab.api.ingress import encode_ingress, encode_ingress_class
from kubenet_lab.api.meta import object_meta
from kubenet_lab.api.networkpolicy import encode_network_policy
from kubenet_lab.api.node import encode_node
from kubenet_lab.api.pod import encode_pod
from kubenet_lab.api.secret import encode_secret
from kubenet_lab.api.service import encode_service
from kubenet_lab.api.workloads import encode_deployment, encode_namespace
from kubenet_lab.controllers import gateway
from kubenet_lab.controllers.gateway_status import (
    gateway_class_status,
    gateway_status,
    route_status,
)
from kubenet_lab.controllers.kubeadm import delete_node, node_status
from kubenet_lab.controllers.pods import pod_status
from kubenet_lab.controllers.replicaset import delete_deployment, delete_pod, deployment_status
from kubenet_lab.controllers.services import delete_service, service_status
from kubenet_lab.exceptions import ConflictError, NotFoundError
from kubenet_lab.model.names import split_ref, suggest

if TYPE_CHECKING:
    from kubenet_lab.model.store import Store, StoreView

__all__ = ["IMMORTAL_NAMESPACES", "KINDS", "delete", "get", "resolve_kind"]

#: The namespaces the NamespaceLifecycle admission plugin never lets go
#: (plugin/pkg/admission/namespace/lifecycle: default, kube-system, kube-public).
IMMORTAL_NAMESPACES = ("default", "kube-public", "kube-system")
#: The namespaces the lab's add-ons run in.
_ADDON_NAMESPACES = {"ingress-nginx": ("ingress-nginx",),
                     gateway.NAMESPACE: (gateway.ADDON,)}


class _Kind:
    """How the lab stores, shows and deletes one kind."""

    def __init__(self, table: str, namespaced: bool, encode: Callable[..., dict[str, Any]],
                 status: Callable[..., dict[str, Any]] | None = None,
                 generation: bool = False) -> None:
        self.table, self.namespaced, self.encode = table, namespaced, encode
        self.status, self.generation = status, generation


def _ingress_status(view: StoreView, ing: Any) -> dict[str, Any]:
    """ingress-nginx publishes its controller Service's address on each Ingress it
    serves (``--publish-service``)."""
    from kubenet_lab.controllers.ingress import SERVICE, handled

    if handled(view, ing) and view.has_service(SERVICE):
        published = service_status(view, view.service(SERVICE))["loadBalancer"]
        return {"loadBalancer": {"ingress": [{"ip": i["ip"]} for i in
                                             published.get("ingress", [])]}
                if published else {}}
    return {"loadBalancer": {}}


#: Each kind ``get`` and ``delete`` know, by the name kubectl prints in ``kind:``.
KINDS: dict[str, _Kind] = {
    "Namespace": _Kind("Namespace", False, encode_namespace,
                       lambda view, ns: {"phase": "Active"}),
    "Node": _Kind("Node", False, encode_node, node_status),
    "Pod": _Kind("Pod", True, encode_pod, pod_status, generation=True),
    "Deployment": _Kind("Deployment", True, encode_deployment, deployment_status,
                        generation=True),
    "Service": _Kind("Service", True, encode_service, service_status),
    "ConfigMap": _Kind("ConfigMap", True, encode_config_map),
    "Secret": _Kind("Secret", True, encode_secret),
    "NetworkPolicy": _Kind("NetworkPolicy", True, encode_network_policy, generation=True),
    **{kind: _Kind("AdminPolicy", False, encode_admin_policy, generation=True)
       for _, kind in ADMIN_KINDS},
    "Ingress": _Kind("Ingress", True, encode_ingress, _ingress_status, generation=True),
    "IngressClass": _Kind("IngressClass", False, encode_ingress_class, generation=True),
    "GatewayClass": _Kind("GatewayClass", False, gateway_api.encode_gateway_class,
                          gateway_class_status, generation=True),
    "Gateway": _Kind("Gateway", True, gateway_api.encode_gateway, gateway_status,
                     generation=True),
    "HTTPRoute": _Kind("HTTPRoute", True, gateway_api.encode_http_route, route_status,
                       generation=True),
    "GRPCRoute": _Kind("GRPCRoute", True, gateway_api.encode_grpc_route, route_status,
                       generation=True),
    "ReferenceGrant": _Kind("ReferenceGrant", True, gateway_api.encode_reference_grant,
                            generation=True),
}
#: kubectl's names for each kind: plural, singular and short names, any case.
_ALIASES = {alias.lower(): kind for kind, aliases in {
    "Namespace": ("namespaces", "ns"), "Node": ("nodes", "no"), "Pod": ("pods", "po"),
    "Deployment": ("deployments", "deploy"), "Service": ("services", "svc"),
    "ConfigMap": ("configmaps", "cm"), "Secret": ("secrets",),
    "NetworkPolicy": ("networkpolicies", "netpol"),
    "ClusterNetworkPolicy": ("clusternetworkpolicies", "cnp"),
    "AdminNetworkPolicy": ("adminnetworkpolicies", "anp"),
    "BaselineAdminNetworkPolicy": ("baselineadminnetworkpolicies", "banp"),
    "Ingress": ("ingresses", "ing"), "IngressClass": ("ingressclasses",),
    "GatewayClass": ("gatewayclasses", "gc"), "Gateway": ("gateways", "gtw"),
    "HTTPRoute": ("httproutes",), "GRPCRoute": ("grpcroutes",),
    "ReferenceGrant": ("referencegrants", "refgrant"),
}.items() for alias in (kind, *aliases)}


def resolve_kind(kind: str) -> str:
    """The kind a kubectl resource name means (``svc``, ``httproutes``, ``Gateway``...).

    >>> resolve_kind("svc"), resolve_kind("gtw"), resolve_kind("HTTPRoute")
    ('Service', 'Gateway', 'HTTPRoute')
    """
    found = _ALIASES.get(kind.lower())
    if found is None:
        raise NotFoundError(f"kind {kind}", "kind", kind,
                            "is not a kind the lab models",
                            fix=suggest(kind, sorted(KINDS), "kinds"))
    return found


def _key(kind: str, ref: str) -> tuple[_Kind, str]:
    """The table entry and Store key of ``ref``; a namespaced kind's bare name is in
    ``default``, as kubectl takes it without ``-n``."""
    spec = KINDS[kind]
    if spec.table == "AdminPolicy":
        return spec, f"{kind}/{ref}"
    if spec.namespaced:
        ns, name = split_ref(ref) if "/" in ref else ("default", ref)
        return spec, f"{ns}/{name}"
    return spec, ref


def _find(view: StoreView, kind: str, ref: str) -> tuple[_Kind, Any]:
    kind = resolve_kind(kind)
    spec, key = _key(kind, ref)
    obj = view.find(spec.table, key)
    if obj is None or (spec.table == "AdminPolicy" and obj.kind != kind):
        names = [k.split("/", 1)[1] if spec.table == "AdminPolicy" else k
                 for k, o in ((_key_of(o), o) for o in view.objects(spec.table))
                 if spec.table != "AdminPolicy" or o.kind == kind]
        raise NotFoundError(f"{kind} {ref}", None, ref, "does not exist",
                            fix=suggest(ref, names, f"the {kind} objects"))
    return spec, obj


def _key_of(obj: Any) -> str:
    ref = getattr(obj, "ref", None)
    return ref if isinstance(ref, str) else obj.name


def get(view: StoreView, kind: str, ref: str) -> dict[str, Any]:
    """``kubectl get KIND REF -o yaml``: ``ref`` is ``"namespace/name"`` (a bare name is
    in ``default``) or a cluster-scoped object's name; NotFoundError if there is none."""
    spec, obj = _find(view, kind, ref)
    doc = spec.encode(view, obj)
    namespace = obj.namespace if spec.namespaced else None
    metadata = object_meta(doc["kind"], obj.name, namespace, created=view.created(obj),
                           revision=view.revision_of(obj),
                           generation=view.generation_of(obj) if spec.generation else None)
    metadata.update(doc.get("metadata", {}))
    out = {"apiVersion": doc["apiVersion"], "kind": doc["kind"],
           "metadata": dict(sorted(metadata.items()))}
    out.update({k: v for k, v in doc.items() if k not in out})
    if spec.status is not None:
        out["status"] = spec.status(view, obj)
    return out


def _delete_namespace(store: Store, ns: Any) -> None:
    """The namespace controller: every object in it goes, then the namespace."""
    if ns.name in IMMORTAL_NAMESPACES:
        raise ConflictError(f"Namespace {ns.name}", None, ns.name,
                            "is forbidden: this namespace may not be deleted",
                            fix="delete the objects in it instead")
    hosted = [addon for addon in _ADDON_NAMESPACES.get(ns.name, ()) if store.has_addon(addon)]
    if hosted:
        raise ConflictError(f"Namespace {ns.name}", None, ns.name,
                            f"holds the lab's add-on {hosted[0]}, which the lab cannot "
                            "uninstall", fix="build a new Cluster without the add-on")
    for dep in store.deployments:
        if dep.namespace == ns.name:
            delete_deployment(store, dep)
    for pod in store.pods:
        if pod.namespace == ns.name:
            store.remove(pod)
    for svc in store.services:
        if svc.namespace == ns.name:
            delete_service(store, svc.ref)
    for spec in KINDS.values():
        if spec.namespaced and spec.table not in ("Pod", "Deployment", "Service"):
            for obj in store.objects(spec.table):
                if obj.namespace == ns.name:
                    store.remove(obj)
    store.remove(ns)


def delete(store: Store, kind: str, ref: str) -> None:
    """``kubectl delete KIND REF``, and what the controllers do next (see the module)."""
    spec, obj = _find(store, kind, ref)
    if spec.table == "Pod":
        delete_pod(store, obj.ref)
    elif spec.table == "Deployment":
        delete_deployment(store, obj)
    elif spec.table == "Service":
        delete_service(store, obj.ref)
    elif spec.table == "Node":
        delete_node(store, obj)
    elif spec.table == "Namespace":
        _delete_namespace(store, obj)
    else:
        store.remove(obj)
    gateway.reconcile(store)
