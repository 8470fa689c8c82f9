"""``kubectl apply``: each document's kind goes to its decoder (``kubenet_lab.api``) and
then to the controller that stores and runs it, all in one transaction: if any document
is invalid, nothing is applied.

Fields the lab does not model (volumes, resources, ...) are ignored, as ``kubectl apply``
keeps them without the network caring.

>>> c = kl.Cluster()
>>> [ns] = apply(c.store, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}})
>>> ns.labels
{'kubernetes.io/metadata.name': 'x'}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kubenet_lab.api import gateway as gateway_api
from kubenet_lab.api.adminpolicy import admin_policy_from_manifest
from kubenet_lab.api.configmap import decode_config_map
from kubenet_lab.api.ingress import decode_ingress, decode_ingress_class
from kubenet_lab.api.load import load_documents
from kubenet_lab.api.networkpolicy import network_policy_from_manifest
from kubenet_lab.api.node import decode_node
from kubenet_lab.api.pod import check_pod_update, decode_pod
from kubenet_lab.api.secret import decode_secret
from kubenet_lab.api.service import decode_service
from kubenet_lab.api.workloads import decode_deployment, decode_namespace
from kubenet_lab.controllers import gateway
from kubenet_lab.controllers.kubeadm import add_node
from kubenet_lab.controllers.pods import create_pod
from kubenet_lab.controllers.replicaset import set_deployment
from kubenet_lab.controllers.services import store_service
from kubenet_lab.exceptions import NotFoundError, UnsupportedKindError
from kubenet_lab.model.bulk import paused_collector
from kubenet_lab.model.names import suggest
from kubenet_lab.model.progress_bar import ProgressBar

if TYPE_CHECKING:
    from kubenet_lab.model.store import Store

__all__ = ["SUPPORTED_KINDS", "apply", "delete_ingress", "delete_network_policy"]

#: (apiVersion, kind) pairs ``apply`` accepts.
SUPPORTED_KINDS = (
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "Pod"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy"),
    *((version, kind) for kind, versions in gateway_api.API_VERSIONS.items()
      for version in versions),
)


def apply(store: Store, src: Any) -> list[Any]:
    """Apply every object of ``src`` in order, all or nothing; return what was applied."""
    with store.transaction():
        applied: list[Any] = []
        docs = list(load_documents(src))
        with ProgressBar("apply", len(docs), unit="objects",
                         work=sum(map(_work, docs))) as bar, paused_collector():
            for doc in docs:
                applied.append(_handler(doc)(store, doc))
                bar.advance()
        gateway.reconcile(store)
        return applied


def _work(doc: Mapping[str, Any]) -> int:
    """About how much work a document is: a Deployment is its pods."""
    spec = doc.get("spec")
    replicas = spec.get("replicas") if isinstance(spec, Mapping) else None
    return replicas if isinstance(replicas, int) and replicas > 0 else 1


def _handler(doc: Mapping[str, Any]) -> Callable[[Store, Mapping[str, Any]], Any]:
    """The handler of a document's kind; ``load_documents`` made ``kind`` and
    ``apiVersion`` strings or None."""
    kind, version = doc.get("kind"), doc.get("apiVersion")
    handler = _HANDLERS.get((version, kind))
    if handler is not None:
        return handler
    supported = ", ".join(dict.fromkeys(k for _, k in SUPPORTED_KINDS))
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    name = name if isinstance(name, str) and name else "?"
    versions: dict[str, str] = {}
    for v, k in SUPPORTED_KINDS:
        versions.setdefault(k, v)
    if kind in versions:
        raise UnsupportedKindError(
            f"{kind} {name}", "apiVersion", version, f"is not the apiVersion of {kind}",
            fix=f"use apiVersion: {versions[kind]}",
        )
    raise UnsupportedKindError(
        f"{kind or '<no kind>'} {name}", "kind", kind,
        "is not a kind the lab models",
        fix=f"supported kinds: {supported}",
    )


# ---------------------------------------------------------------- kinds
def _namespace(store: Store, doc: Mapping[str, Any]) -> Any:
    return store.put(decode_namespace(doc))


def _node(store: Store, doc: Mapping[str, Any]) -> Any:
    found = decode_node(store, doc)
    return found if not isinstance(found, dict) else add_node(store, **found)


def _pod(store: Store, doc: Mapping[str, Any]) -> Any:
    request = decode_pod(doc)
    ref = request["ref"]
    if not store.has_pod(ref):
        return create_pod(store, **request)
    pod = store.pod(ref)
    labels = check_pod_update(f"Pod {ref}", pod, request)
    return store.put(replace(pod, labels=labels))


def _deployment(store: Store, doc: Mapping[str, Any]) -> Any:
    return set_deployment(store, decode_deployment(store, doc))


def _service(store: Store, doc: Mapping[str, Any]) -> Any:
    return store_service(store, decode_service(store, doc))


def _network_policy(store: Store, doc: Mapping[str, Any]) -> Any:
    policy = network_policy_from_manifest(doc)
    store.namespace(policy.namespace)
    return store.put(policy)


def _admin_policy(store: Store, doc: Mapping[str, Any]) -> Any:
    return store.put(admin_policy_from_manifest(doc))


def _ingress(store: Store, doc: Mapping[str, Any]) -> Any:
    return store.put(decode_ingress(store, doc))


def _ingress_class(store: Store, doc: Mapping[str, Any]) -> Any:
    return store.put(decode_ingress_class(doc))


def _decoded(decode: Callable[[Store, Mapping[str, Any]], Any]
             ) -> Callable[[Store, Mapping[str, Any]], Any]:
    """A handler that stores what ``decode`` makes of the document (the kinds no
    controller acts on at once: the Gateway API's reconciles after the whole request)."""
    return lambda store, doc: store.put(decode(store, doc))


_HANDLERS: dict[tuple[str, str], Callable[[Store, Mapping[str, Any]], Any]] = {
    ("networking.k8s.io/v1", "Ingress"): _ingress,
    ("networking.k8s.io/v1", "IngressClass"): _ingress_class,
    ("v1", "ConfigMap"): _decoded(decode_config_map),
    ("v1", "Namespace"): _namespace,
    ("v1", "Node"): _node,
    ("v1", "Pod"): _pod,
    ("apps/v1", "Deployment"): _deployment,
    ("v1", "Service"): _service,
    ("networking.k8s.io/v1", "NetworkPolicy"): _network_policy,
    ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"): _admin_policy,
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"): _admin_policy,
    ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy"): _admin_policy,
    ("v1", "Secret"): _decoded(decode_secret),
    **{(version, kind): _decoded(decode) for kind, decode in (
        ("GatewayClass", gateway_api.decode_gateway_class),
        ("Gateway", gateway_api.decode_gateway),
        ("HTTPRoute", gateway_api.decode_http_route),
        ("GRPCRoute", gateway_api.decode_grpc_route),
        ("ReferenceGrant", gateway_api.decode_reference_grant),
    ) for version in gateway_api.API_VERSIONS[kind]},
}


# ---------------------------------------------------------------- deletions
def delete_network_policy(store: Store, ref: str) -> None:
    """Delete a NetworkPolicy ``"namespace/name"`` or an admin policy ``"Kind/name"``."""
    policy = store.policy(ref) if isinstance(ref, str) else None
    if policy is None:
        raise NotFoundError(f"NetworkPolicy {ref}", None, ref, "does not exist",
                            fix=suggest(ref, store.policy_refs, "policies"))
    store.remove(policy)


def delete_ingress(store: Store, ref: str) -> None:
    """Delete an Ingress (``"ns/name"``)."""
    store.remove(store.ingress(ref))
