"""The cloud's controllers: the load balancers of ``type: LoadBalancer`` Services (the
service controller of a cloud-controller-manager), NAT gateways, and the VPC's route
tables (facts sheet §4, §2.5).

- AWS VPC: a subnet is *public* when its route table sends ``0.0.0.0/0`` to the
  internet gateway; a *private* subnet has only the ``local`` route until a NAT gateway
  is added (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html).
- Cloud load balancer: the service controller registers every node as a target on the
  Service's NodePort, except nodes labelled
  ``node.kubernetes.io/exclude-from-external-load-balancers`` (kubeadm labels its control
  plane so); for ``externalTrafficPolicy: Local`` its health check asks each node's
  ``healthCheckNodePort`` ``/healthz`` and only nodes with a local endpoint answer 200.

Simplification (said in lessons 04 and 05): public addresses are handed out in order
from a small pool.
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.cloud import LB_POOL, check_public_ip
from kubenet_lab.api.fields import check_dns_subdomain
from kubenet_lab.api.ipam import next_node_ip
from kubenet_lab.api.node import public_subnet
from kubenet_lab.controllers.endpointslice import service_endpoints
from kubenet_lab.exceptions import ConflictError, ManifestError, NotFoundError
from kubenet_lab.model.cloud import LoadBalancer, NatGateway, Vpc

if TYPE_CHECKING:
    from kubenet_lab.model.cloud import Subnet
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.service import Service
    from kubenet_lab.model.store import Store, StoreView

__all__ = [
    "CLOUD_LOAD_BALANCER",
    "IGW_ID",
    "add_nat_gateway",
    "add_subnet",
    "has_cloud",
    "lb_targets",
    "provision_load_balancer",
    "public_owner",
    "route_table",
]

#: The add-on name of the cloud's load-balancer controller.
CLOUD_LOAD_BALANCER = "cloud-load-balancer"
IGW_ID = "igw"
EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"


def add_subnet(store: Store, subnet: Subnet) -> None:
    """Add ``subnet`` to the VPC if it is not there yet."""
    vpc = store.vpc
    if subnet not in vpc.subnets:
        store.set_vpc(Vpc(vpc.cidr, vpc.subnets + (subnet,)))


def has_cloud(view: StoreView) -> bool:
    """Has the VPC more than the private subnet (a public subnet or a NAT gateway)?"""
    return len(view.vpc.subnets) > 1 or bool(view.nat_gateways)


def route_table(view: StoreView, subnet: str) -> list[tuple[str, str]]:
    """The (destination, target) routes of a VPC subnet's route table.

    Raises
    ------
    NotFoundError
        No such subnet.
    """
    try:
        sub = view.vpc.subnet(subnet)
    except KeyError:
        raise NotFoundError("Vpc", "subnets", subnet, "is not a subnet of the VPC",
                            fix="subnets are: " + ", ".join(
                                s.name for s in view.vpc.subnets)) from None
    rows = [(view.vpc.cidr, "local")]
    if sub.public:
        rows.append(("0.0.0.0/0", IGW_ID))
    elif view.nat_gateways:
        rows.append(("0.0.0.0/0", view.nat_gateways[0].name))
    return rows


def public_owner(view: StoreView, ip: str) -> tuple[str, Any] | None:
    """What answers for a public address: ``("node", Node)``, ``("nat", NatGateway)``
    or ``("lb", LoadBalancer)``; None for any other (an internet host)."""
    for node in view.nodes:
        if node.public_ip == ip:
            return "node", node
    for gw in view.nat_gateways:
        if gw.public_ip == ip:
            return "nat", gw
    for lb in view.load_balancers:
        if lb.public_ip == ip:
            return "lb", lb
    return None


def add_nat_gateway(store: Store, public_ip: str | None, name: str) -> NatGateway:
    """A public NAT gateway in the public subnet; see ``Cluster.add_nat_gateway``."""
    obj = f"NatGateway {name}"
    check_dns_subdomain(obj, "name", name)
    names = [g.name for g in store.nat_gateways]
    if name in names:
        raise ConflictError(obj, "name", name, "already exists", fix="choose another name")
    if names:
        raise ConflictError(obj, "name", name,
                            "the private subnet's route table already sends 0.0.0.0/0 to "
                            f"{names[0]}",
                            fix="one NAT gateway is enough for the lab's one private subnet")
    if public_ip is None:
        raise ManifestError(obj, "public_ip", None,
                            "Required value: a public NAT gateway needs an Elastic IP",
                            fix="pass public_ip='198.51.100.20' (any public address)")
    check_public_ip(store, obj, "public_ip", public_ip)
    subnet = public_subnet(store)
    private = next_node_ip(ip_network(subnet.cidr), store.address_owners())
    gw = NatGateway(name, str(private), public_ip, subnet.name)
    add_subnet(store, subnet)
    return store.put(gw)


def provision_load_balancer(store: Store, svc: Service, old: Service | None) -> Service:
    """The cloud load balancer for a LoadBalancer Service: the next free address of
    the cloud's pool (kept when the Service is updated) goes into its status."""
    if svc.load_balancer_ip is None:
        keep = old.load_balancer_ip if old is not None and old.ref == svc.ref else None
        if keep is None or store.owner_of(keep) is not None:
            pool = ip_network(LB_POOL)
            start = int(pool.network_address) + 10
            used = store.address_owners()
            free = next(a for a in range(start, int(pool.broadcast_address)) if a not in used)
            keep = str(IPv4Address(free))
        svc = replace(svc, load_balancer_ip=keep)
    store.put(LoadBalancer(svc.ref, svc.load_balancer_ip))
    return svc


def lb_targets(view: StoreView, svc: Service) -> list[tuple[Node, bool]]:
    """The load balancer's target nodes and whether each passes the health check
    (``externalTrafficPolicy: Cluster``: kube-proxy's ``:10256/healthz``, healthy
    everywhere; ``Local``: the ``healthCheckNodePort``, 200 only where a ready endpoint
    runs)."""
    local: set[str] = set()
    for sp in svc.ports:
        local |= {e[2] for e in service_endpoints(view, svc, sp)}
    out = []
    for node in view.nodes:
        if EXCLUDE_LABEL in node.labels:
            continue
        healthy = svc.external_traffic_policy != "Local" or node.name in local
        out.append((node, healthy))
    return out
