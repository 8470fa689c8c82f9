"""The Deployment and ReplicaSet controllers: a Deployment's template and replica count
become pods, named ``<deployment>-<pod-template-hash>-<suffix>`` as a ReplicaSet names
them. The hash is FNV-32a of the template, safe-encoded as the Deployment controller
does; the suffix is derived from the ReplicaSet and the replica's index (a real one is
random), so the same manifest always gives the same names.

>>> c = kl.Cluster(workers=1)
>>> [p.name[:8] for p in c.pods]      # CoreDNS: coredns-<hash>-<suffix>
['coredns-', 'coredns-']
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kubenet_lab.controllers.pods import create_pod, remove_pod
from kubenet_lab.model.names import SAFE_ALPHABET, safe_encode, timestamp

if TYPE_CHECKING:
    from kubenet_lab.model.deployment import Deployment
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import Store, StoreView

__all__ = ["create_replica", "delete_deployment", "delete_pod", "deployment_status", "owner_of",
           "replace_pod", "set_deployment", "template_hash"]


def owner_of(dep: Deployment) -> str:
    """The ``owner`` its pods carry: ``"Deployment ns/name"``."""
    return f"Deployment {dep.ref}"


def template_hash(dep: Deployment) -> str:
    """``pod-template-hash``: FNV-32a of the pod template, safe-encoded, 10 characters."""
    template = repr((sorted(dep.template_labels.items()), dep.containers, dep.tolerations))
    fnv = 0x811C9DC5
    for byte in template.encode():
        fnv = ((fnv ^ byte) * 0x01000193) & 0xFFFFFFFF
    return safe_encode(str(fnv))[:10]


def create_replica(store: Store, dep: Deployment) -> Pod:
    """Create one more pod of a Deployment, named as its ReplicaSet would.

    The five-character suffix of ``generateName`` can collide (27^5 names: in a
    Deployment of 150 replicas about once in 1,300); kube-apiserver then draws another
    name, up to seven times (KEP-4420 RetryGenerateName, on by default since 1.31, GA in
    1.32: staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go,
    ``maxNameGenerationCreateAttempts``), and so does the lab.
    """
    count = store.next_replica_index(dep.ref)
    rs = f"{dep.name}-{dep.template_hash}"
    key = f"{dep.namespace}/{rs}#{count}"
    for attempt in range(8):
        digest = hashlib.sha256((key if attempt == 0 else f"{key}/{attempt}").encode()).digest()
        suffix = "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in digest[:5])
        if not store.has_pod(f"{dep.namespace}/{rs}-{suffix}"):
            break
    labels = {**dep.template_labels, "pod-template-hash": dep.template_hash}
    return create_pod(
        store, f"{dep.namespace}/{rs}-{suffix}", labels=labels, containers=dep.containers,
        tolerations=dep.tolerations, owner=owner_of(dep),
    )


def set_deployment(store: Store, dep: Deployment) -> Deployment:
    """Create or update a Deployment and converge its pods: pods of an old template go,
    extra replicas go (the newest first), missing ones are created."""
    dep = replace(dep, template_hash=template_hash(dep))
    store.put(dep)
    owner = owner_of(dep)
    current = store.pods_owned_by(owner)
    for pod in current:
        if pod.labels.get("pod-template-hash") != dep.template_hash:
            remove_pod(store, pod)
    current = [p for p in current if store.has_pod(p.ref)]
    while len(current) > dep.replicas:
        remove_pod(store, current.pop())
    while len(current) < dep.replicas:
        current.append(create_replica(store, dep))
    return dep


def replace_pod(store: Store, pod: Pod) -> Pod | None:
    """The replacement a Deployment's ReplicaSet creates at once for a pod that is gone
    (None for a pod no Deployment owns)."""
    if pod.owner and pod.owner.startswith("Deployment "):
        return create_replica(store, store.deployment(pod.owner.split(" ", 1)[1]))
    return None


def delete_pod(store: Store, ref: str) -> Pod | None:
    """Delete a pod; a Deployment's ReplicaSet creates its replacement at once (returned)."""
    pod = store.pod(ref)
    remove_pod(store, pod)
    return replace_pod(store, pod)


def delete_deployment(store: Store, dep: Deployment) -> None:
    """Delete a Deployment and, as the garbage collector does with the ReplicaSet it
    owns and the pods the ReplicaSet owns (background propagation), its pods."""
    for pod in store.pods_owned_by(owner_of(dep)):
        remove_pod(store, pod)
    store.remove(dep)


def _condition(kind: str, ok: bool, when: str, reason: str, message: str) -> dict[str, Any]:
    return {"lastTransitionTime": when, "lastUpdateTime": when, "message": message,
            "reason": reason, "status": str(ok), "type": kind}


def deployment_status(view: StoreView, dep: Deployment) -> dict[str, Any]:
    """The status the Deployment controller writes (pkg/controller/deployment/sync.go
    ``calculateStatus``, util/deployment_util.go): replica counts (a count of 0 is left
    out, as Go's ``omitempty`` leaves it out), ``observedGeneration`` and two conditions.
    ``Available`` is True when at least ``replicas`` minus ``maxUnavailable`` (the
    default 25%, rounded down) pods are ready (the lab's ``minReadySeconds`` is 0);
    ``Progressing`` says the ReplicaSet ``<name>-<pod-template-hash>`` has progressed,
    or is progressing while some pods are not available. The lab replaces a changed
    template's pods at once, so every pod is updated. The conditions' times are the
    Deployment's creation time.

    >>> c = kl.Cluster()
    >>> s = deployment_status(c.store, c.deployment("kube-system/coredns"))
    >>> s["readyReplicas"], [(k["type"], k["reason"]) for k in s["conditions"]]
    (2, [('Available', 'MinimumReplicasAvailable'), ('Progressing', 'NewReplicaSetAvailable')])
    """
    pods = view.pods_owned_by(owner_of(dep))
    current = [p for p in pods if p.labels.get("pod-template-hash") == dep.template_hash]
    available = sum(p.ready for p in pods)
    when = timestamp(view.created(dep))
    rs = f"{dep.name}-{dep.template_hash}"
    if available >= dep.replicas - dep.replicas * 25 // 100:
        ok = _condition("Available", True, when, "MinimumReplicasAvailable",
                        "Deployment has minimum availability.")
    else:
        ok = _condition("Available", False, when, "MinimumReplicasUnavailable",
                        "Deployment does not have minimum availability.")
    if available >= dep.replicas:
        progress = _condition("Progressing", True, when, "NewReplicaSetAvailable",
                              f'ReplicaSet "{rs}" has successfully progressed.')
    else:
        progress = _condition("Progressing", True, when, "ReplicaSetUpdated",
                              f'ReplicaSet "{rs}" is progressing.')
    counts = {"availableReplicas": available, "readyReplicas": available,
              "replicas": len(pods), "unavailableReplicas": max(dep.replicas - available, 0),
              "updatedReplicas": len(current)}
    return {"conditions": [ok, progress], "observedGeneration": view.generation_of(dep),
            **{k: v for k, v in counts.items() if v}}
