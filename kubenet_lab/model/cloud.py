"""The cloud network the nodes live in: a VPC, its subnets and gateways.

The lab's cloud follows AWS's rules (the usual setting for kubeadm on VMs): in every
subnet the first four addresses and the last one are reserved (network address, VPC
router at .1, DNS at .2, one for future use, broadcast), so the first node of
10.0.1.0/24 gets 10.0.1.4.
Source: https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html

A *public* subnet is one whose route table sends ``0.0.0.0/0`` to the internet
gateway; a *private* subnet's route table has only the VPC's ``local`` route, plus
``0.0.0.0/0`` to a NAT gateway once there is one (facts sheet §4.2;
https://docs.aws.amazon.com/vpc/latest/userguide/configure-subnets.html).

Two more pieces of cloud state the walk reads: the routes a learner adds to a subnet's
route table (``VpcRoute``: a destination CIDR whose target is an instance, as
``aws ec2 create-route --instance-id``), and which instances have their
``sourceDestCheck`` attribute turned off (``aws ec2 modify-instance-attribute
--no-source-dest-check``; on by default:
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ConfigMap", "LoadBalancer", "NatGateway", "Subnet", "Vpc"]


@dataclass(frozen=True, slots=True)
class ConfigMap:
    """A ConfigMap; the lab reads one: ``kube-system/ip-masq-agent`` (key ``config``)."""

    namespace: str
    name: str
    data: dict[str, str]

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Subnet:
    """A subnet of the VPC; ``router`` is the VPC router's address in it (its .1).

    ``public`` is True for a subnet whose route table has the internet gateway as its
    default route.
    """

    name: str
    cidr: str
    router: str
    public: bool = False


@dataclass(frozen=True, slots=True)
class NatGateway:
    """A public NAT gateway: an address in a public subnet and an Elastic IP.

    It rewrites the source of the private subnets' internet traffic to its private
    address, and the internet gateway maps that to ``public_ip`` (facts sheet §4.2).
    """

    name: str
    private_ip: str
    public_ip: str
    subnet: str


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    """The cloud load balancer provisioned for a ``type: LoadBalancer`` Service.

    It listens on ``public_ip`` and spreads connections over every node's NodePort
    (the cloud controller's service controller registers all nodes as targets); for
    ``externalTrafficPolicy: Local`` it health-checks ``health_check_node_port`` and
    sends only to the nodes that answer 200.
    """

    service: str
    public_ip: str


@dataclass(frozen=True, slots=True)
class VpcRoute:
    """A route added to the route table of ``subnet``: ``destination`` (a CIDR) goes to
    the instance (node) ``target``, as ``aws ec2 create-route --route-table-id ...
    --destination-cidr-block <cidr> --instance-id <instance>`` adds it."""

    subnet: str
    destination: str
    target: str


@dataclass(frozen=True, slots=True)
class Vpc:
    """A virtual private cloud: one CIDR split into subnets.

    ``routes`` are the routes added to the subnets' route tables (besides ``local`` and
    the gateways' default routes); ``source_dest_check_off`` names the instances whose
    ``sourceDestCheck`` attribute is false (every other instance has it true, EC2's
    default).
    """

    cidr: str
    subnets: tuple[Subnet, ...]
    routes: tuple[VpcRoute, ...] = ()
    source_dest_check_off: tuple[str, ...] = ()

    def subnet(self, name: str) -> Subnet:
        for subnet in self.subnets:
            if subnet.name == name:
                return subnet
        raise KeyError(name)
