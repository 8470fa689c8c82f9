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
- EC2 source/destination check: "each EC2 instance performs source/destination checks by
  default. This means that the instance must be the source or destination of any traffic
  it sends or receives" (https://docs.aws.amazon.com/vpc/latest/userguide/VPC_NAT_Instance.html);
  the instance attribute ``sourceDestCheck`` (default true) turns it off
  (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html).
  Calico's AWS guide: with the check disabled, routes between nodes of one subnet work
  "without using an overlay or any of the limited VPC routing table entries"; a packet
  that goes through the VPC router (another subnet, or a host without the node routes)
  needs a route-table entry for its destination
  (https://docs.tigera.io/calico/latest/reference/public-cloud/AWS).
- A route with an instance target: ``aws ec2 create-route --destination-cidr-block
  --instance-id`` (https://docs.aws.amazon.com/vpc/latest/userguide/route-table-options.html);
  the most specific route wins; a second route with the same destination in one table
  is ``RouteAlreadyExists``.

Simplification (said in lessons 04 and 05): public addresses are handed out in order
from a small pool.
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.cloud import LB_POOL, check_public_ip
from kubenet_lab.api.fields import check_cidr, check_dns_subdomain
from kubenet_lab.api.ipam import next_node_ip
from kubenet_lab.api.node import public_subnet
from kubenet_lab.controllers.endpointslice import service_endpoints
from kubenet_lab.exceptions import ConflictError, ManifestError, NotFoundError
from kubenet_lab.model.address import cidr_contains
from kubenet_lab.model.cloud import LoadBalancer, NatGateway, VpcRoute

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
    "add_vpc_route",
    "has_cloud",
    "lb_targets",
    "provision_load_balancer",
    "public_owner",
    "route_lookup",
    "route_table",
    "set_source_dest_check",
    "source_dest_check",
]

#: The add-on name of the cloud's load-balancer controller.
CLOUD_LOAD_BALANCER = "cloud-load-balancer"
IGW_ID = "igw"
EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"


def add_subnet(store: Store, subnet: Subnet) -> None:
    """Add ``subnet`` to the VPC if it is not there yet."""
    vpc = store.vpc
    if subnet not in vpc.subnets:
        store.set_vpc(replace(vpc, subnets=vpc.subnets + (subnet,)))


def has_cloud(view: StoreView) -> bool:
    """Has the VPC more than the private subnet (a public subnet or a NAT gateway)?"""
    return len(view.vpc.subnets) > 1 or bool(view.nat_gateways)


def _subnet(view: StoreView, subnet: str) -> Subnet:
    try:
        return view.vpc.subnet(subnet)
    except KeyError:
        raise NotFoundError("Vpc", "subnets", subnet, "is not a subnet of the VPC",
                            fix="subnets are: " + ", ".join(
                                s.name for s in view.vpc.subnets)) from None


def route_table(view: StoreView, subnet: str) -> list[tuple[str, str]]:
    """The (destination, target) routes of a VPC subnet's route table: ``local``, the
    routes added with ``add_vpc_route`` (target: the instance), the default route.

    Raises
    ------
    NotFoundError
        No such subnet.
    """
    sub = _subnet(view, subnet)
    rows = [(view.vpc.cidr, "local")]
    rows += [(r.destination, r.target) for r in view.vpc.routes if r.subnet == sub.name]
    if sub.public:
        rows.append(("0.0.0.0/0", IGW_ID))
    elif view.nat_gateways:
        rows.append(("0.0.0.0/0", view.nat_gateways[0].name))
    return rows


def route_lookup(view: StoreView, subnet: str, ip: str) -> tuple[str, str] | None:
    """The route of ``subnet``'s table that ``ip`` takes (the most specific one), or
    None."""
    rows = [r for r in route_table(view, subnet) if cidr_contains(r[0], ip)]
    return max(rows, key=lambda r: int(r[0].split("/")[1]), default=None)


def source_dest_check(view: StoreView, node: str) -> bool:
    """The instance attribute ``sourceDestCheck`` of ``node`` (true unless turned off)."""
    return node not in view.vpc.source_dest_check_off


def set_source_dest_check(store: Store, node: str, enabled: bool) -> None:
    """``aws ec2 modify-instance-attribute --[no-]source-dest-check``; see
    ``Cluster.set_source_dest_check``."""
    store.node(node)  # NotFoundError for an unknown node
    vpc = store.vpc
    off = set(vpc.source_dest_check_off) - {node} if enabled else (
        set(vpc.source_dest_check_off) | {node})
    store.set_vpc(replace(vpc, source_dest_check_off=tuple(sorted(off))))


def add_vpc_route(store: Store, cidr: str, node: str, subnet: str | None) -> VpcRoute:
    """``aws ec2 create-route``: ``cidr`` to the instance ``node`` in the route table of
    ``subnet`` (by default the node's own subnet); see ``Cluster.add_vpc_route``."""
    obj = "VpcRoute"
    net = check_cidr(obj, "destination", cidr)
    target = store.node(node)  # NotFoundError for an unknown node
    sub = _subnet(store, subnet if subnet is not None else target.subnet)
    vpc = ip_network(store.vpc.cidr)
    if net.subnet_of(vpc):  # type: ignore[arg-type]
        raise ManifestError(obj, "destination", cidr,
                            f"is inside the VPC's own range {vpc}, which the local route "
                            "covers",
                            fix="route a block outside the VPC, such as the node's podCIDR "
                            f"{target.pod_cidr}")
    for dest, tgt in route_table(store, sub.name):
        if ip_network(dest) == net:
            raise ConflictError(obj, "destination", cidr,
                                f"RouteAlreadyExists: the {sub.name} route table already "
                                f"sends it to {tgt}",
                                fix="route another block, or keep the route there is")
    route = VpcRoute(sub.name, str(net), target.name)
    store.set_vpc(replace(store.vpc, routes=store.vpc.routes + (route,)))
    return route


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
