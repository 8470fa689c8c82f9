"""The scheduler, reduced to what the lab's lessons need: taints and tolerations, and
kubelet's ``maxPods``; among the nodes that fit, the one with the fewest pods (natural
name order breaks ties). A real scheduler scores more than that; lesson 01 says so.

>>> c = kl.Cluster(workers=2)
>>> schedule(c.store, "Pod default/a", ())
'node-1'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.exceptions import UnschedulableError

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Toleration
    from kubenet_lab.model.store import StoreView

__all__ = ["schedule", "tolerated"]


def tolerated(node: Node, tolerations: tuple[Toleration, ...]) -> bool:
    """Does the pod tolerate every taint of the node?"""
    return all(any(tol.tolerates(t) for tol in tolerations) for t in node.taints)


def schedule(store: StoreView, obj: str, tolerations: tuple[Toleration, ...]) -> str:
    """The node for a new pod; UnschedulableError with the scheduler's own summary
    ("0/3 nodes are available: ...") when none fits."""
    nodes = store.nodes
    loads = store.pod_counts()
    best, best_load = None, store.max_pods
    for node in nodes:
        if node.taints and not tolerated(node, tolerations):
            continue
        load = loads.get(node.name, 0)
        if load < best_load:
            best, best_load = node.name, load
    if best is not None:
        return best
    reasons: dict[str, int] = {}
    for node in nodes:
        if node.taints and not tolerated(node, tolerations):
            taint = node.taints[0]
            text = f"had untolerated taint {{{taint.key}: {taint.value}}}"
        else:
            text = "Too many pods"
        reasons[text] = reasons.get(text, 0) + 1
    detail = ", ".join(f"{n} node(s) {r}" for r, n in sorted(reasons.items()))
    raise UnschedulableError(
        obj, "spec.nodeName", None,
        f"cannot be scheduled: 0/{len(nodes)} nodes are available: {detail}",
        fix="add a worker node with add_node(), or set the node explicitly",
    )
