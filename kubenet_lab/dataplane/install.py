"""The settings a cluster is installed with, checked against what the lab models: the CNI
plugin and its options, the policy agent beside it, and the pod network (kubeadm's
``podSubnet`` and kube-controller-manager's node mask, by default the plugin's own).

>>> cluster_config(cni="calico").cluster_cidr, cluster_config(cni="calico").node_cidr_mask
('192.168.0.0/16', 26)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubenet_lab.api.fields import check_cidr
from kubenet_lab.dataplane.cni import PLUGINS, check_cni
from kubenet_lab.dataplane.policy import ENFORCERS
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.config import ClusterConfig

__all__ = ["NETWORK_POLICY_AGENTS", "cluster_config"]

#: Policy agents that can run beside the CNI plugin and enforce policies (the enforcers
#: that are not CNI plugins themselves).
NETWORK_POLICY_AGENTS = tuple(sorted(set(ENFORCERS) - set(PLUGINS)))


def cluster_config(
    *,
    cni: str = "flannel",
    seed: int = 0,
    cluster_cidr: str | None = None,
    node_cidr_mask: int | None = None,
    cni_config: Mapping[str, Any] | None = None,
    network_policy: str | None = None,
) -> ClusterConfig:
    """The checked settings of ``Cluster(...)``; ManifestError names a wrong one."""
    settings = check_cni(cni, cni_config)
    if network_policy is not None and network_policy not in NETWORK_POLICY_AGENTS:
        raise ManifestError(
            "Cluster", "network_policy", network_policy,
            "is not a network policy agent the lab models",
            fix=f"use None or one of {', '.join(NETWORK_POLICY_AGENTS)}",
        )
    kind = PLUGINS[cni]
    cidr = check_cidr("Cluster", "cluster_cidr",
                      kind.default_cluster_cidr if cluster_cidr is None else cluster_cidr)
    mask = kind.default_node_cidr_mask if node_cidr_mask is None else node_cidr_mask
    if isinstance(mask, bool) or not isinstance(mask, int) or not (
            cidr.prefixlen <= mask <= 30):
        raise ManifestError(
            "Cluster", "node_cidr_mask", mask,
            f"must be between the cluster CIDR's /{cidr.prefixlen} and /30",
            fix="use 24, the kube-controller-manager default",
        )
    return ClusterConfig(cni, settings, network_policy, seed, str(cidr), mask)
