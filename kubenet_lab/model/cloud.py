"""The cloud network the nodes live in: a VPC and its subnets.

The lab's cloud follows AWS's rules (the usual setting for kubeadm on VMs): in every
subnet the first four addresses and the last one are reserved (network address, VPC
router at .1, DNS at .2, one for future use, broadcast), so the first node of
10.0.1.0/24 gets 10.0.1.4.
Source: https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Subnet", "Vpc"]


@dataclass(frozen=True, slots=True)
class Subnet:
    """A subnet of the VPC; ``router`` is the VPC router's address in it (its .1)."""

    name: str
    cidr: str
    router: str


@dataclass(frozen=True, slots=True)
class Vpc:
    """A virtual private cloud: one CIDR split into subnets."""

    cidr: str
    subnets: tuple[Subnet, ...]

    def subnet(self, name: str) -> Subnet:
        for subnet in self.subnets:
            if subnet.name == name:
                return subnet
        raise KeyError(name)
