"""Pods: created (the API server's checks, the scheduler, the kubelet's admission and the
CNI plugin's host-local IPAM), deleted (a Deployment's ReplicaSet replaces its pods), and
the status their kubelet reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.meta import uid
from kubenet_lab.api.pod import allocate_pod_ip, validate_pod
from kubenet_lab.controllers.scheduler import schedule
from kubenet_lab.exceptions import NotFoundError, UnschedulableError
from kubenet_lab.model.names import suggest, timestamp
from kubenet_lab.model.pod import Container, Pod, Toleration

if TYPE_CHECKING:
    from kubenet_lab.model.store import Store, StoreView

__all__ = ["create_pod", "pod_status", "remove_pod", "reported_image"]


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


def reported_image(image: str) -> str:
    """The image a container's status reports: the reference as containerd normalizes
    it (distribution/reference ``ParseNormalizedNamed``: Docker Hub's domain and
    ``library/`` filled in, the tag ``latest`` when there is neither tag nor digest).

    >>> reported_image("nginx"), reported_image("registry.k8s.io/coredns/coredns:v1.11.3")
    ('docker.io/library/nginx:latest', 'registry.k8s.io/coredns/coredns:v1.11.3')
    """
    first, _, rest = image.partition("/")
    if not rest:
        image = f"docker.io/library/{image}"
    elif "." not in first and ":" not in first and first != "localhost":
        image = f"docker.io/{image}"
    last = image.rsplit("/", 1)[1]
    return image if ":" in last or "@" in last else f"{image}:latest"


def _condition(kind: str, ok: bool, when: str, generation: int,
               unready: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"lastProbeTime": None, "lastTransitionTime": when,
                           "observedGeneration": generation, "status": str(ok), "type": kind}
    if not ok:
        out["message"] = f"containers with unready status: [{' '.join(unready)}]"
        out["reason"] = "ContainersNotReady"
    return out


def pod_status(view: StoreView, pod: Pod) -> dict[str, Any]:
    """The status the pod's kubelet reports (pkg/kubelet/kubelet_pods.go
    ``generateAPIPodStatus``, pkg/kubelet/status), as Kubernetes 1.35 shows it.

    - ``phase: Running``: every container has started; one that crash-loops is
      restarted (``restartPolicy: Always``) and its pod stays Running.
    - ``conditions``: PodReadyToStartContainers, Initialized, Ready, ContainersReady,
      PodScheduled, each with the ``observedGeneration`` it was set for (1.35's
      PodObservedGenerationTracking); Ready and ContainersReady are False, reason
      ``ContainersNotReady``, when a container is not ready (``Pod.ready``).
    - ``containerStatuses``, by name as the kubelet sorts them: a crash-looping container
      (``Pod.crashing``) is ``waiting`` in ``CrashLoopBackOff`` after one failed start
      (``restartCount`` 1, ``lastState.terminated`` exit code 1), the others
      ``running``.
    - ``podIP``/``podIPs`` (host-local's address), ``hostIP``/``hostIPs`` (the node's
      InternalIP), ``qosClass: BestEffort`` (the lab's containers request nothing).

    Every time is the pod's creation time: the lab does not replay the kubelet's
    history. Fields the lab does not model (``containerID``, ``imageID``, volume mounts,
    the user) are left out.

    >>> c = kl.Cluster(workers=1)
    >>> s = pod_status(c.store, c.add_pod("default/a"))
    >>> s["phase"], s["podIP"], s["hostIP"], [(k["type"], k["status"]) for k in s["conditions"]][2]
    ('Running', '10.244.1.2', '10.0.1.5', ('Ready', 'True'))
    """
    when = timestamp(view.created(pod))
    generation = view.generation_of(pod)
    who = f"{pod.name}_{pod.namespace}({uid('Pod', pod.name, pod.namespace)})"
    crashing = set(pod.crashing)
    ready = {c.name: pod.ready and c.name not in crashing for c in pod.containers}
    unready = [name for name, ok in ready.items() if not ok]
    conditions = [_condition("PodReadyToStartContainers", True, when, generation, []),
                  _condition("Initialized", True, when, generation, []),
                  _condition("Ready", pod.ready, when, generation, unready),
                  _condition("ContainersReady", pod.ready, when, generation, unready),
                  _condition("PodScheduled", True, when, generation, [])]
    statuses = []
    for c in sorted(pod.containers, key=lambda c: c.name):
        status: dict[str, Any] = {"image": reported_image(c.image), "lastState": {},
                                  "name": c.name, "ready": ready[c.name], "restartCount": 0,
                                  "started": True, "state": {"running": {"startedAt": when}}}
        if c.name in crashing:
            status.update(
                lastState={"terminated": {"exitCode": 1, "finishedAt": when,
                                          "reason": "Error", "startedAt": when}},
                restartCount=1, started=False, state={"waiting": {
                    "message": f"back-off 10s restarting failed container={c.name} pod={who}",
                    "reason": "CrashLoopBackOff"}})
        statuses.append(status)
    host = view.node(pod.node).ip
    return {"conditions": conditions, "containerStatuses": statuses, "hostIP": host,
            "hostIPs": [{"ip": host}], "observedGeneration": generation, "phase": "Running",
            "podIP": pod.ip, "podIPs": [{"ip": pod.ip}], "qosClass": "BestEffort",
            "startTime": when}
