"""The settings a cluster is installed with, checked against what the lab models: the CNI
plugin and its options, the policy agent beside it, and the pod network (kubeadm's
``podSubnet`` and kube-controller-manager's node mask, by default the plugin's own).

>>> cluster_config(cni="calico").cluster_cidr, cluster_config(cni="calico").node_cidr_mask
('192.168.0.0/16', 26)
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Network, ip_network
from typing import Any

from kubenet_lab.api.fields import check_cidr
from kubenet_lab.api.ipam import AWS_LARGEST_PREFIX, AWS_SMALLEST_PREFIX, suggest_subnet
from kubenet_lab.dataplane.cni import PLUGINS, check_cni
from kubenet_lab.dataplane.policy import ENFORCERS
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.config import ClusterConfig

__all__ = ["NETWORK_POLICY_AGENTS", "check_vpc", "cluster_config"]

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
    vpc_cidr: str = "10.0.0.0/16",
    private_subnet: str = "10.0.1.0/24",
    public_subnet: str = "10.0.0.0/24",
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
    vpc, private, public = check_vpc(vpc_cidr, private_subnet, public_subnet)
    for name, other in (("vpc_cidr", vpc), ("the service CIDR", ip_network(SERVICE_CIDR))):
        if cidr.overlaps(other):
            raise ManifestError(
                "Cluster", "cluster_cidr", str(cluster_cidr or cidr),
                f"overlaps {name} {other}: pod addresses would be ambiguous with "
                + ("node addresses" if name == "vpc_cidr" else "ClusterIPs"),
                fix="choose a pod network outside both, such as 10.244.0.0/16 or "
                    "10.128.0.0/11")
    return ClusterConfig(cni, settings, network_policy, seed, str(cidr), mask,
                         vpc_cidr=str(vpc), private_subnet=str(private),
                         public_subnet=str(public))


def check_vpc(vpc_cidr: object, private_subnet: object,
              public_subnet: object) -> tuple[IPv4Network, IPv4Network, IPv4Network]:
    """The VPC and its two subnets, checked as ``aws ec2 create-vpc`` and
    ``create-subnet`` check them: block sizes /16 to /28, each subnet inside the VPC
    ("The CIDR block of a subnet must be a subset of the VPC CIDR block") and the
    subnets not overlapping ("The CIDR blocks of the subnets within a VPC must not
    overlap"; AWS VPC user guide, "Subnet CIDR blocks")."""
    vpc = check_cidr("Cluster", "vpc_cidr", vpc_cidr)
    nets = {"vpc_cidr": vpc}
    for field, value in (("private_subnet", private_subnet), ("public_subnet", public_subnet)):
        nets[field] = check_cidr("Cluster", field, value)
    for field, net in nets.items():
        if not AWS_LARGEST_PREFIX <= net.prefixlen <= AWS_SMALLEST_PREFIX:
            raise ManifestError(
                "Cluster", field, str(net),
                f"is a /{net.prefixlen}: AWS allows blocks from /16 to /28",
                fix=f"use a prefix from /{AWS_LARGEST_PREFIX} to /{AWS_SMALLEST_PREFIX}")
    for field in ("private_subnet", "public_subnet"):
        if not nets[field].subnet_of(vpc):
            raise ManifestError(
                "Cluster", field, str(nets[field]),
                f"is not inside the VPC {vpc}",
                fix=f"choose a block of {vpc}, or a vpc_cidr that contains it")
    private, public = nets["private_subnet"], nets["public_subnet"]
    if private.overlaps(public):
        other = suggest_subnet(vpc, public.prefixlen, private)
        raise ManifestError(
            "Cluster", "public_subnet", str(public),
            f"overlaps the private subnet {private}",
            fix=f"use public_subnet={str(other)!r}" if other is not None
            else "choose a VPC with room for both subnets")
    return vpc, private, public


SERVICE_CIDR = ClusterConfig.__dataclass_fields__["service_cidr"].default
