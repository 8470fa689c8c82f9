"""Nodes: the machines of the cluster."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CONTAINER_RUNTIME",
    "CONTROL_PLANE_TAINT",
    "KERNEL_VERSION",
    "KUBERNETES_VERSION",
    "NODE_PORTS",
    "OS_IMAGE",
    "Node",
    "Taint",
]

#: The kubelet version of every node (the VERSION column of ``kubectl get nodes``): the
#: lab models Kubernetes 1.35 (a current release: 1.31 reached end of life on 2025-10-28,
#: kubernetes/website ``data/releases/schedule.yaml``; 1.35.0 came out on 2025-12-17,
#: kubernetes.io/blog/2025/12/17/kubernetes-v1-35-release/), and v1.35.4 is the newest
#: 1.35 patch whose changelog kubernetes/kubernetes ``CHANGELOG/CHANGELOG-1.35.md``
#: (commit 008b3652) lists. kube-proxy is the same release (``kubenet_lab.dataplane.kube_proxy`` and
#: ``kube_proxy_nftables`` say which sources they follow).
KUBERNETES_VERSION = "v1.35.4"
#: The lab's fixed node image: ``status.nodeInfo.osImage`` of every node.
OS_IMAGE = "Ubuntu 24.04.1 LTS"
#: ``status.nodeInfo.kernelVersion`` of every node.
KERNEL_VERSION = "6.8.0-51-generic"
#: ``status.nodeInfo.containerRuntimeVersion`` of every node: containerd 2.2.3 (tag
#: ``v2.2.3``, 2026-04-14), of the 2.2 line containerd recommends first for Kubernetes
#: 1.35 ("2.2.0+, 2.1.5+, 1.7.28+": containerd/containerd ``RELEASES.md``, "Kubernetes
#: Support", commit 301026e5). 1.35 is the last release that supports containerd 1.x
#: (kubernetes.io/blog/2025/08/27/kubernetes-v1-34-release/), so a current node shows 2.x.
CONTAINER_RUNTIME = "containerd://2.2.3"


@dataclass(frozen=True, slots=True)
class Taint:
    """A node taint; pods without a matching toleration are not scheduled there."""

    key: str
    effect: str = "NoSchedule"
    value: str = ""

    def __str__(self) -> str:
        value = f"={self.value}" if self.value else ""
        return f"{self.key}{value}:{self.effect}"


#: TCP ports that host-network processes listen on, on every node and on the
#: control plane (kubelet 10250, kube-proxy health 10256, sshd 22; kube-apiserver 6443,
#: etcd 2379-2380). Pods that use the node's own network (kube-proxy, flannel, the
#: control-plane components) are not modelled as pods; these ports stand for them.
#: Source: kubernetes.io/docs/reference/networking/ports-and-protocols/
NODE_PORTS: dict[str, dict[int, str]] = {
    "worker": {22: "sshd", 10250: "kubelet", 10256: "kube-proxy"},
    "control-plane": {
        22: "sshd", 2379: "etcd", 2380: "etcd", 6443: "kube-apiserver",
        10250: "kubelet", 10256: "kube-proxy",
    },
}

#: kubeadm taints its control-plane node so that ordinary pods go to workers.
CONTROL_PLANE_TAINT = Taint("node-role.kubernetes.io/control-plane")


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the cluster.

    Attributes
    ----------
    name : str
    ip : str
        The InternalIP, on the node's ``eth0`` in a VPC subnet.
    pod_cidr : str
        ``spec.podCIDR``: the block its pods' IPs come from (the node's ``cni0`` bridge
        holds its .1).
    subnet : str
        The VPC subnet the node is in.
    public_ip : str or None
        The ExternalIP, when the node has one.
    labels : dict
    taints : tuple of Taint
    """

    name: str
    ip: str
    pod_cidr: str
    subnet: str
    public_ip: str | None = None
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    taints: tuple[Taint, ...] = ()

    @property
    def control_plane(self) -> bool:
        """True for a node with kubeadm's control-plane role label."""
        return "node-role.kubernetes.io/control-plane" in self.labels

    @property
    def roles(self) -> str:
        """The ROLES column of ``kubectl get nodes``."""
        roles = sorted(
            k.split("/", 1)[1] for k in self.labels if k.startswith("node-role.kubernetes.io/")
        )
        return ",".join(roles) or "<none>"
