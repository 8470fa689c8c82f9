"""What ``kubeadm init`` leaves behind, as a new ``Cluster()`` starts:

- the namespaces kubeadm creates (``default``, ``kube-system``, ``kube-public``,
  ``kube-node-lease``);
- one node, ``control-plane``, labelled and tainted
  ``node-role.kubernetes.io/control-plane:NoSchedule`` so ordinary pods go to workers;
- the CoreDNS Deployment in ``kube-system`` (two replicas, which tolerate the
  control-plane taint and so land on the control-plane node);
- the Services ``default/kubernetes`` at the first address of the service CIDR and
  ``kube-system/kube-dns`` at the tenth (facts sheet §2.1).

Every node joins with the topology labels of the AWS region the lab's VPC is in
(``REGION``, eu-west-1): ``topology.kubernetes.io/region`` and
``topology.kubernetes.io/zone``, the zones ``eu-west-1a``, ``-1b``, ``-1c`` in turn as
the nodes join (the control plane in ``a``, ``node-1`` in ``b``, ``node-2`` in ``c``,
``node-3`` in ``a``, ...), as an autoscaling group spreads instances over its zones. On
AWS the cloud-controller-manager's node controller (cloud-provider-aws) sets these labels
from the instance's placement (k8s.io/cloud-provider ``node_controller.go``); a label given
to ``add_node`` wins. A simplification: on AWS a subnet lives in one zone, so such a
cluster has a subnet per zone; the lab keeps all its nodes in one private subnet.
"""

from __future__ import annotations

from ipaddress import ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.ipam import (
    free_blocks,
    free_node_ips,
    prefix_for_nodes,
    subnet_nodes,
    suggest_subnet,
)
from kubenet_lab.api.node import build_node
from kubenet_lab.api.workloads import build_namespace
from kubenet_lab.controllers.cloud import add_subnet
from kubenet_lab.controllers.pods import remove_pod
from kubenet_lab.controllers.replicaset import replace_pod, set_deployment
from kubenet_lab.controllers.services import api_server_service, store_service
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.arguments import check_count
from kubenet_lab.model.deployment import Deployment
from kubenet_lab.model.names import timestamp
from kubenet_lab.model.node import (
    CONTAINER_RUNTIME,
    KERNEL_VERSION,
    KUBERNETES_VERSION,
    NODE_PORTS,
    OS_IMAGE,
)
from kubenet_lab.model.pod import Container, ContainerPort, Toleration
from kubenet_lab.model.progress_bar import ProgressBar
from kubenet_lab.model.service import Service, ServicePort

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.store import Store, StoreView

__all__ = ["COREDNS_IMAGE", "KUBEADM_NAMESPACES", "REGION", "ZONES", "add_node", "bootstrap",
           "delete_node", "node_status"]

KUBEADM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
#: The AWS region of the lab's VPC (the nodes' ``topology.kubernetes.io/region`` and
#: their resolv.conf search domain ``eu-west-1.compute.internal``).
REGION = "eu-west-1"
#: The region's zones the nodes are spread over, in turn.
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
#: The CoreDNS image kubeadm 1.35 deploys (``CoreDNSVersion`` v1.13.1 in
#: cmd/kubeadm/app/constants; kubernetes/test-infra PR #35922 "Bump CoreDNS to v1.13.1
#: for Kubernetes 1.35"; kubeadm 1.31 and 1.32 deployed v1.11.3, coredns/deployment
#: ``kubernetes/CoreDNS-k8s_version.md``).
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.13.1"


def add_node(store: Store, name: str, **kwargs: object) -> Node:
    """Join a node (``api.node.build_node`` checks it and allocates its addresses), with
    the region and zone labels of the module docstring.

    >>> c = kl.Cluster(workers=3)
    >>> [c.node(n).labels["topology.kubernetes.io/zone"] for n in ("control-plane", "node-3")]
    ['eu-west-1a', 'eu-west-1a']
    """
    topology = {"topology.kubernetes.io/region": REGION,
                "topology.kubernetes.io/zone": ZONES[store.node_count() % len(ZONES)]}
    given = kwargs.get("labels")
    kwargs["labels"] = {**topology, **(dict(given) if given else {})}  # type: ignore[arg-type]
    node, subnet = build_node(store, name, **kwargs)  # type: ignore[arg-type]
    add_subnet(store, subnet)
    return store.put(node)


def delete_node(store: Store, node: Node) -> None:
    """Delete a Node, and converge as a real cluster does: the pod garbage collector
    deletes the pods bound to a node that no longer exists (kube-controller-manager's
    podgc, pkg/controller/podgc ``gcOrphaned``), and each Deployment's ReplicaSet
    replaces its own, which the scheduler puts on the nodes that remain. The node's
    addresses and podCIDR go back to their pools.

    A replacement that fits no node is refused (UnschedulableError, nothing deleted)
    where a real cluster would leave it Pending; the last control-plane node is refused
    too: the lab's API server, etcd and the ``default/kubernetes`` endpoint run there.

    >>> c = kl.Cluster(workers=2)
    >>> _ = c.add_pod("default/a", node="node-1")
    >>> delete_node(c.store, c.node("node-1"))
    >>> [n.name for n in c.nodes], c.store.has_pod("default/a")
    (['control-plane', 'node-2'], False)
    """
    if node.control_plane and not any(n.control_plane and n.name != node.name
                                      for n in store.nodes):
        raise ManifestError(
            f"Node {node.name}", None, node.name,
            "is the cluster's only control-plane node: the lab's API server, etcd and the "
            "default/kubernetes endpoint run there", fix="delete a worker node instead")
    pods = store.pods_on(node.name)
    for pod in pods:
        remove_pod(store, pod)
    store.remove(node)
    for pod in pods:
        replace_pod(store, pod)


def _node_condition(kind: str, ok: bool, reason: str, message: str, since: str,
                    now: str) -> dict[str, Any]:
    return {"lastHeartbeatTime": now, "lastTransitionTime": since, "message": message,
            "reason": reason, "status": str(ok), "type": kind}


def node_status(view: StoreView, node: Node) -> dict[str, Any]:
    """The status a node's kubelet reports (pkg/kubelet/nodestatus/setters.go):

    - ``addresses``: InternalIP, ExternalIP (a node with a public address), Hostname;
    - ``capacity`` and ``allocatable``: ``pods``, kubelet's ``maxPods`` (the lab models
      no CPU, memory or storage);
    - ``conditions``: no memory, disk or PID pressure, and ``Ready`` (every lab node is
      ready), last heard from now (the cluster's clock), ready since its creation;
    - ``daemonEndpoints``: the kubelet's port 10250;
    - ``nodeInfo``: the lab's node image (``kubenet_lab.model.node``) and the
      architecture and OS of its labels (no machine or boot ids).

    >>> c = kl.Cluster()
    >>> s = node_status(c.store, c.node("control-plane"))
    >>> s["addresses"], s["nodeInfo"]["kubeletVersion"]  # doctest: +NORMALIZE_WHITESPACE
    ([{'address': '10.0.1.4', 'type': 'InternalIP'},
      {'address': 'control-plane', 'type': 'Hostname'}], 'v1.35.4')
    """
    since, now = timestamp(view.created(node)), timestamp(view.clock)
    addresses = [{"address": node.ip, "type": "InternalIP"}]
    if node.public_ip is not None:
        addresses.append({"address": node.public_ip, "type": "ExternalIP"})
    addresses.append({"address": node.name, "type": "Hostname"})
    pods = {"pods": str(view.max_pods)}
    return {
        "addresses": addresses, "allocatable": dict(pods), "capacity": dict(pods),
        "conditions": [
            _node_condition("MemoryPressure", False, "KubeletHasSufficientMemory",
                            "kubelet has sufficient memory available", since, now),
            _node_condition("DiskPressure", False, "KubeletHasNoDiskPressure",
                            "kubelet has no disk pressure", since, now),
            _node_condition("PIDPressure", False, "KubeletHasSufficientPID",
                            "kubelet has sufficient PID available", since, now),
            _node_condition("Ready", True, "KubeletReady", "kubelet is posting ready status",
                            since, now)],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": next(
            port for port, who in NODE_PORTS["worker"].items() if who == "kubelet")}},
        "nodeInfo": {"architecture": node.labels.get("kubernetes.io/arch", "amd64"),
                     "containerRuntimeVersion": CONTAINER_RUNTIME,
                     "kernelVersion": KERNEL_VERSION, "kubeletVersion": KUBERNETES_VERSION,
                     "operatingSystem": node.labels.get("kubernetes.io/os", "linux"),
                     "osImage": OS_IMAGE},
    }


def init(store: Store, workers: int) -> None:
    """``kubeadm init`` on the control-plane node, then ``kubeadm join`` on ``workers``
    nodes (``node-1``, ``node-2``, ...); refused before any work when the VPC's private
    subnet has no address for that many nodes (AWS reserves five addresses of it)."""
    subnet = ip_network(store.vpc.subnet("private").cidr)
    room = subnet_nodes(subnet) - 1
    fits = isinstance(workers, int) and not isinstance(workers, bool) and 0 <= workers <= room
    why = f"the VPC subnet {subnet} holds {room + 1} nodes, one of them the control plane"
    if not fits and isinstance(workers, int) and not isinstance(workers, bool) and workers > 0:
        prefix = prefix_for_nodes(workers + 1)
        vpc = ip_network(store.vpc.cidr)
        public = ip_network(store.config.public_subnet)
        other = None if prefix is None else suggest_subnet(vpc, prefix, public)
        if prefix is None:
            why += "; AWS's largest subnet, a /16, holds 65531"
        elif other is not None:
            why += f"; for {workers + 1} nodes choose private_subnet={str(other)!r} (a /{prefix})"
        else:
            why += (f"; for {workers + 1} nodes choose a /{prefix} private_subnet, in a "
                    "vpc_cidr large enough for it and the public subnet")
    check_count("Cluster", "workers", workers, 0, room, why)
    cluster = ip_network(store.cluster_cidr)
    blocks = 2 ** (store.node_cidr_mask - cluster.prefixlen)
    if workers + 1 > blocks:
        need = store.node_cidr_mask - (workers + 1 - 1).bit_length()
        raise ManifestError(
            "Cluster", "workers", workers,
            f"needs {workers + 1} podCIDRs but the cluster CIDR {cluster} holds {blocks} "
            f"blocks of /{store.node_cidr_mask} (kube-controller-manager gives each node "
            f"one), so it fits {blocks - 1} worker" + ("" if blocks == 2 else "s"),
            fix=(f"choose a /{need} or larger cluster_cidr"
                 + (f" (such as 10.128.0.0/{need})" if need >= 9 else "")
                 + " or a longer node_cidr_mask"))
    bootstrap(store)
    # the allocators' next answers, walked once for all the joins (what add_node alone
    # would find for each: the first free address and podCIDR), so 5,000 joins are linear
    taken = [ip_network(n.pod_cidr) for n in store.objects("Node")]
    blocks = free_blocks(cluster, store.node_cidr_mask, [
        (int(n.network_address), int(n.broadcast_address)) for n in taken])
    addresses = free_node_ips(subnet, store.address_owners())
    with ProgressBar("kubeadm join", workers, unit="nodes") as bar:
        for i in range(1, workers + 1):
            add_node(store, f"node-{i}", ip=str(next(addresses)), pod_cidr=str(next(blocks)))
            bar.advance()


def bootstrap(store: Store) -> None:
    """Fill an empty store as ``kubeadm init`` (with a CNI plugin) leaves a cluster."""
    for name in KUBEADM_NAMESPACES:
        store.put(build_namespace(name))
    add_node(store, "control-plane", control_plane=True)
    dns = Container(
        "coredns", COREDNS_IMAGE,
        (ContainerPort(53, "dns", "UDP"), ContainerPort(53, "dns-tcp", "TCP"),
         ContainerPort(9153, "metrics", "TCP")),
    )
    set_deployment(store, Deployment(
        "kube-system", "coredns", 2, {"k8s-app": "kube-dns"}, {"k8s-app": "kube-dns"},
        (dns,),
        (Toleration("CriticalAddonsOnly", "Exists"),
         Toleration("node-role.kubernetes.io/control-plane", effect="NoSchedule")),
    ))
    store_service(store, api_server_service(store))
    store_service(store, Service(
        "kube-system", "kube-dns", "ClusterIP", "10.96.0.10",
        (ServicePort(53, 53, "UDP", "dns"), ServicePort(53, 53, "TCP", "dns-tcp"),
         ServicePort(9153, 9153, "TCP", "metrics")),
        {"k8s-app": "kube-dns"},
        {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
         "kubernetes.io/name": "CoreDNS"},
    ))
