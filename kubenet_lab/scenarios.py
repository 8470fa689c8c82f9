"""Ready-made clusters for the lessons: a healthy one and broken ones to troubleshoot.

Each broken cluster reproduces a mistake seen on real clusters (Kubernetes the Hard Way
and its issue tracker, the CNI plugins' docs). All have three workers and the same pods:
``default/client`` and ``default/web-1`` on node-1, ``default/web-2`` on node-2 and
``default/web-3`` on node-3 (nginx, TCP 80).

- ``"missing-route"`` (bridge plugin): node-1 lost its host route to node-2's podCIDR (a
  reboot, a forgotten ``ip route add`` in KTHW's "Provisioning Pod Network Routes").
- ``"overlapping-podcidr"`` (flannel): node-3 was given node-2's podCIDR by hand
  (kubelet ``--pod-cidr``), so two nodes claim one block; flanneld on node-1 can only
  install one route for it (the kernel refuses the second: File exists).
- ``"wrong-node-cidr"`` (flannel): pod ``default/web-2`` runs on node-2 but has an
  address of node-1's block (host-local on node-2 configured with the wrong subnet).
- ``"masquerade"`` (bridge with ``"ipMasq": true``, as KTHW's 10-bridge.conf): pod
  traffic to other nodes' pods leaves with the node's address.

Examples
--------
>>> c = broken_cluster("missing-route")
>>> c.verify_network_model().ok
False
>>> healthy_cluster().verify_network_model().ok
True
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address

from kubenet_lab.exceptions import NotFoundError
from kubenet_lab.model.cluster import Cluster

__all__ = ["BROKEN_CLUSTERS", "broken_cluster", "healthy_cluster"]

#: The names ``broken_cluster`` accepts, and what is wrong (for the lesson's table).
BROKEN_CLUSTERS = {
    "missing-route": "a node lost its route to another node's podCIDR",
    "overlapping-podcidr": "two nodes were given the same podCIDR",
    "wrong-node-cidr": "a pod has an address from another node's podCIDR",
    "masquerade": "the CNI masquerades pod-to-pod traffic between nodes",
}


def healthy_cluster(cni: str = "flannel", **kwargs: object) -> Cluster:
    """Three workers with the four pods of the module docstring, on plugin ``cni``."""
    c = Cluster(workers=3, cni=cni, **kwargs)  # type: ignore[arg-type]
    c.add_pod("default/client", node="node-1", labels={"app": "client"})
    for i in (1, 2, 3):
        c.add_pod(f"default/web-{i}", node=f"node-{i}", labels={"app": "web"})
    return c


def broken_cluster(problem: str) -> Cluster:
    """A cluster with one of the problems of ``BROKEN_CLUSTERS``.

    Raises
    ------
    NotFoundError
        An unknown problem name; the message lists the known ones.
    """
    if problem not in BROKEN_CLUSTERS:
        raise NotFoundError(
            "broken_cluster", "problem", problem, "is not a broken cluster of the lab",
            fix="use one of " + ", ".join(BROKEN_CLUSTERS),
        )
    if problem == "missing-route":
        c = healthy_cluster("bridge")
        c.exec("node-1", f"ip route del {c.node('node-2').pod_cidr}")
        return c
    if problem == "masquerade":
        return healthy_cluster("bridge", cni_config={"ipMasq": True})
    if problem == "overlapping-podcidr":
        c = Cluster(workers=2)
        node3 = c.add_node("node-3")
        # kubelet --pod-cidr set by hand: the record now claims node-2's block
        c._nodes["node-3"] = replace(node3, pod_cidr=c.node("node-2").pod_cidr)
        c._node_order = None
        c._changed()
        c.add_pod("default/client", node="node-1", labels={"app": "client"})
        for i in (1, 2, 3):
            c.add_pod(f"default/web-{i}", node=f"node-{i}", labels={"app": "web"})
        return c
    c = healthy_cluster()
    pod = c.pod("default/web-2")
    wrong = str(IPv4Address(c.node("node-1").pod_cidr.split("/")[0]) + 200)
    c._ip_owner.pop(int(IPv4Address(pod.ip)))
    c._ip_owner[int(IPv4Address(wrong))] = f"Pod {pod.ref}"
    c._pods[pod.ref] = replace(pod, ip=wrong)
    c._changed()
    return c
