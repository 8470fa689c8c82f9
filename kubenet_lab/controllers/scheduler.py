"""The scheduler, reduced to what the lab's lessons need: taints and tolerations, and
kubelet's ``maxPods``; among the nodes that fit, the one with the fewest pods (natural
name order breaks ties). A real scheduler scores more than that; lesson 01 says so.

The choice is the same as a scan of every node, found in a priority queue of (pods,
node order) instead, so a 5,000-node cluster schedules a pod in about the time a 5-node
one does. kube-scheduler itself avoids the scan differently: it scores only a share of
the nodes (``percentageOfNodesToScore``, about 10% of 5,000) and starts each cycle where
the last one stopped (pkg/scheduler/schedule_one.go, ``numFeasibleNodesToFind``), which
would make the lab's placements depend on that rotation.

>>> c = kl.Cluster(workers=2)
>>> schedule(c.store, "Pod default/a", ())
'node-1'
"""

from __future__ import annotations

import heapq
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


def _queue(store: StoreView, tolerations: tuple[Toleration, ...]) -> list[tuple[int, int, str]]:
    """(pods, rank, node) of every node the pod tolerates, as a heap."""
    queue = [(store.pod_count(node.name), rank, node.name)
             for rank, node in enumerate(store.nodes)
             if not node.taints or tolerated(node, tolerations)]
    heapq.heapify(queue)
    return queue


def schedule(store: StoreView, obj: str, tolerations: tuple[Toleration, ...]) -> str:
    """The node for a new pod; UnschedulableError with the scheduler's own summary
    ("0/3 nodes are available: ...") when none fits."""
    # The queue is kept while the nodes stay the same and no pod leaves a node, so a
    # node's load there is at most its real load: an entry whose load is out of date
    # goes back in with the real one, and the first entry that is up to date is the
    # least loaded node (first in name order among equals).
    queue = store.cached_for("Node", ("scheduler-queue", tolerations, store.pod_removals),
                             lambda: _queue(store, tolerations))
    while queue:
        load, rank, name = queue[0]
        real = store.pod_count(name)
        if real >= store.max_pods:
            heapq.heappop(queue)
        elif real != load:
            heapq.heapreplace(queue, (real, rank, name))
        else:
            return name
    nodes = store.nodes
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
