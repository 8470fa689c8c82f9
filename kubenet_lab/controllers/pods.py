"""Pods: created (the API server's checks, the scheduler, the kubelet's admission and the
CNI plugin's host-local IPAM) and deleted (a Deployment's ReplicaSet replaces its pods).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.pod import allocate_pod_ip, validate_pod
from kubenet_lab.controllers.scheduler import schedule
from kubenet_lab.exceptions import NotFoundError, UnschedulableError
from kubenet_lab.model.names import suggest
from kubenet_lab.model.pod import Container, Pod, Toleration

if TYPE_CHECKING:
    from kubenet_lab.model.store import Store

__all__ = ["create_pod", "remove_pod"]


def create_pod(
    store: Store,
    ref: str,
    *,
    node: str | None = None,
    labels: Mapping[str, str] | None = None,
    containers: Iterable[Container | Mapping[str, Any]] | None = None,
    ip: str | None = None,
    ready: bool = True,
    tolerations: tuple[Toleration, ...] = (),
    owner: str | None = None,
) -> Pod:
    """Create a pod; see ``Cluster.add_pod``. Nothing changes when a check fails."""
    namespace, name, labels, conts, crashing, warnings = validate_pod(
        store, ref, labels, containers)
    obj = f"Pod {namespace}/{name}"
    if node is None:
        node = schedule(store, obj, tolerations)
    if not store.has_node(node):
        raise NotFoundError(
            obj, "spec.nodeName", node, "is not a node of this cluster",
            fix=suggest(str(node), [n.name for n in store.nodes], "nodes"),
        )
    host = store.node(node)
    if store.pod_count(node) >= store.max_pods:
        raise UnschedulableError(
            obj, "spec.nodeName", node,
            f"already runs {store.max_pods} pods (kubelet maxPods); the kubelet rejects "
            "the pod with OutOfpods",
            fix="put the pod on another node",
        )
    addr = allocate_pod_ip(store, obj, host, ip)
    pod = Pod(
        namespace=namespace, name=name, node=node, ip=str(addr), labels=labels,
        containers=conts, owner=owner, ready=ready and not crashing, crashing=crashing,
        warnings=warnings, tolerations=tolerations,
    )
    store.put(pod)
    store.set_last_pod_ip(node, int(addr))
    return pod


def remove_pod(store: Store, pod: Pod) -> None:
    """Delete the pod record (its address goes back to the pool, not reused at once)."""
    store.remove(pod)
