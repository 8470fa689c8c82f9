"""The settings a cluster is built with: kubeadm's and the CNI plugin's.

>>> cfg = ClusterConfig()
>>> cfg.cluster_cidr, cfg.service_cidr, cfg.max_pods
('10.244.0.0/16', '10.96.0.0/12', 110)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubenet_lab.exceptions import ManifestError

__all__ = ["ClusterConfig"]


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """What ``kubeadm init`` and the CNI manifest set, fixed for the cluster's life.

    Attributes
    ----------
    cni : str
        The CNI plugin (``flannel``, ``bridge``, ``calico``, ``cilium``).
    cni_config : dict
        The plugin's own settings, named as in its real configuration.
    network_policy : str or None
        A policy agent beside the plugin (``kube-network-policies``).
    seed : int
        Seed of the kernels' random choices (kube-proxy's ``statistic`` rules).
    cluster_cidr : str
        kubeadm's ``podSubnet`` (flannel's ``Network``).
    node_cidr_mask : int
        kube-controller-manager's ``--node-cidr-mask-size-ipv4``.
    service_cidr : str
        kubeadm's ``serviceSubnet``.
    cluster_domain : str
        kubelet's ``clusterDomain``.
    max_pods : int
        kubelet's ``maxPods``.
    kube_proxy_mode : str
        kube-proxy's ``mode`` (``iptables``, kubeadm's explicit default, or
        ``nftables``, GA since 1.33).
    vpc_cidr : str
        The VPC's CIDR block (``aws ec2 create-vpc --cidr-block``).
    private_subnet : str
        The CIDR of the VPC subnet the nodes are in (``aws ec2 create-subnet``).
    public_subnet : str
        The CIDR of the public subnet, added on first use (nodes with an ExternalIP,
        NAT gateways).
    """

    cni: str = "flannel"
    cni_config: dict[str, Any] = field(default_factory=dict, hash=False)
    network_policy: str | None = None
    seed: int = 0
    cluster_cidr: str = "10.244.0.0/16"
    node_cidr_mask: int = 24
    service_cidr: str = "10.96.0.0/12"
    cluster_domain: str = "cluster.local"
    max_pods: int = 110
    kube_proxy_mode: str = "iptables"
    vpc_cidr: str = "10.0.0.0/16"
    private_subnet: str = "10.0.1.0/24"
    public_subnet: str = "10.0.0.0/24"

    def __post_init__(self) -> None:
        """Settings that only make sense together (each plugin's ``options`` check the
        single values). Cilium's eBPF masquerading needs its eBPF NodePort, that is the
        kube-proxy replacement (docs.cilium.io "Masquerading": "The eBPF-based
        implementation ... requires BPF NodePort"); on without it, the agent refuses."""
        if (self.cni == "cilium" and self.cni_config.get("bpf.masquerade")
                and not self.cni_config.get("kubeProxyReplacement")):
            raise ManifestError(
                "Cluster", "cni_config.bpf.masquerade", True,
                "needs Cilium's kube-proxy replacement (eBPF masquerading depends on "
                "its eBPF NodePort)",
                fix='add "kubeProxyReplacement": True, or leave bpf.masquerade False '
                    "(iptables masquerading, CILIUM_POST_nat)")
