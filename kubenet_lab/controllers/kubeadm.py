"""What ``kubeadm init`` leaves behind, as a new ``Cluster()`` starts:

- the namespaces kubeadm creates (``default``, ``kube-system``, ``kube-public``,
  ``kube-node-lease``);
- one node, ``control-plane``, labelled and tainted
  ``node-role.kubernetes.io/control-plane:NoSchedule`` so ordinary pods go to workers;
- the CoreDNS Deployment in ``kube-system`` (two replicas, which tolerate the
  control-plane taint and so land on the control-plane node);
- the Services ``default/kubernetes`` at the first address of the service CIDR and
  ``kube-system/kube-dns`` at the tenth (facts sheet §2.1).
"""

from __future__ import annotations

from ipaddress import ip_network
from typing import TYPE_CHECKING

from kubenet_lab.api.node import build_node
from kubenet_lab.api.service import APISERVER_PORT
from kubenet_lab.api.workloads import build_namespace
from kubenet_lab.controllers.cloud import add_subnet
from kubenet_lab.controllers.replicaset import set_deployment
from kubenet_lab.controllers.services import store_service
from kubenet_lab.model.arguments import check_count
from kubenet_lab.model.deployment import Deployment
from kubenet_lab.model.pod import Container, ContainerPort, Toleration
from kubenet_lab.model.service import Service, ServicePort

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.store import Store

__all__ = ["COREDNS_IMAGE", "KUBEADM_NAMESPACES", "add_node", "bootstrap"]

KUBEADM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.11.3"


def add_node(store: Store, name: str, **kwargs: object) -> Node:
    """Join a node (``api.node.build_node`` checks it and allocates its addresses)."""
    node, subnet = build_node(store, name, **kwargs)  # type: ignore[arg-type]
    add_subnet(store, subnet)
    return store.put(node)


def init(store: Store, workers: int) -> None:
    """``kubeadm init`` on the control-plane node, then ``kubeadm join`` on ``workers``
    nodes (``node-1``, ``node-2``, ...); refused before any work when the VPC's private
    subnet has no address for that many nodes (AWS reserves five addresses of it)."""
    subnet = ip_network(store.vpc.subnet("private").cidr)
    room = subnet.num_addresses - 5 - 1
    check_count("Cluster", "workers", workers, 0, room,
                f"the VPC subnet {subnet} holds {room + 1} nodes, one of them the "
                "control plane")
    bootstrap(store)
    for i in range(1, workers + 1):
        add_node(store, f"node-{i}")


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
    store_service(store, Service(
        "default", "kubernetes", "ClusterIP", "10.96.0.1",
        (ServicePort(443, APISERVER_PORT, "TCP", "https"),), None,
        {"component": "apiserver", "provider": "kubernetes"},
    ))
    store_service(store, Service(
        "kube-system", "kube-dns", "ClusterIP", "10.96.0.10",
        (ServicePort(53, 53, "UDP", "dns"), ServicePort(53, 53, "TCP", "dns-tcp"),
         ServicePort(9153, 9153, "TCP", "metrics")),
        {"k8s-app": "kube-dns"},
        {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
         "kubernetes.io/name": "CoreDNS"},
    ))
