"""The cloud around the cluster: route tables, internet gateway, NAT gateway, the
internet, ip-masq-agent and the cloud load balancer.

Sources (facts sheet §4, §1.5, §2.5):

- AWS VPC: a subnet is *public* when its route table sends ``0.0.0.0/0`` to the
  internet gateway; the internet gateway performs one-to-one NAT between an instance's
  private IPv4 address and its public IPv4 address
  (https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html).
  A *private* subnet has only the ``local`` route until a NAT gateway is added; the
  public NAT gateway rewrites the source to its own private address and the internet
  gateway maps that to the NAT gateway's Elastic IP; hosts on the internet cannot
  open connections through it
  (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html).
- ip-masq-agent (kubernetes-sigs/ip-masq-agent, cmd/ip-masq-agent/ip-masq-agent.go):
  chain ``IP-MASQ-AGENT``, jumped to with ``-m addrtype ! --dst-type LOCAL``; a RETURN
  for 169.254.0.0/16 unless ``masqLinkLocal``, one RETURN per non-masquerade CIDR
  (default RFC 1918), then ``-j MASQUERADE``. The ConfigMap's ``config`` key replaces
  only the keys it sets, so ``nonMasqueradeCIDRs`` replaces the whole default list.
- Source/destination check: "each EC2 instance performs source/destination checks by
  default: the instance must be the source or destination of any traffic it sends or
  receives" (https://docs.aws.amazon.com/vpc/latest/userguide/VPC_NAT_Instance.html),
  so an unmasqueraded pod address never leaves the VPC.
- Cloud load balancer: the service controller of the cloud-controller-manager
  registers every node as a target on the Service's NodePort; for
  ``externalTrafficPolicy: Local`` its health check asks each node's
  ``healthCheckNodePort`` ``/healthz`` and only nodes with a local endpoint answer 200.

Simplification (said in lessons 04 and 05): the internet is a set of hosts that
answer on every port; public addresses are handed out in order from a small pool.
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.engines import cni
from kubenet_lab.model.cloud import LoadBalancer, Subnet
from kubenet_lab.model.packet import Ethernet, IPv4, Packet, packet_changes
from kubenet_lab.model.trace import Hop, Location

if TYPE_CHECKING:  # pragma: no cover
    from kubenet_lab.model.cluster import Cluster
    from kubenet_lab.model.node import Node

__all__ = [
    "INTERNET",
    "INTERNET_CLIENT",
    "IP_MASQ_AGENT_DEFAULTS",
    "PUBLIC_SUBNET",
    "is_internet",
    "route_table",
]

#: The location name of the internet in traces and pictures.
INTERNET = "internet"
#: The address ``trace("internet", ...)`` uses as its client (RFC 5737 TEST-NET-3).
INTERNET_CLIENT = "203.0.113.50"
#: The public subnet the lab adds for nodes with a public IP and for NAT gateways.
PUBLIC_SUBNET = Subnet("public", "10.0.0.0/24", "10.0.0.1", public=True)
#: Where the simulated cloud hands out Elastic IPs for load balancers (RFC 5737).
LB_POOL = "198.51.100.0/24"
#: ip-masq-agent's defaults when no config exists (facts sheet §4.1).
IP_MASQ_AGENT_DEFAULTS: dict[str, Any] = {
    "nonMasqueradeCIDRs": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
    "masqLinkLocal": False,
    "resyncInterval": "60s",
}
_NOT_INTERNET = tuple(ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/3",
))
IGW_ID = "igw"


def is_internet(cluster: Cluster, ip: str) -> bool:
    """True for an address on the internet: not private (RFC 1918), shared (RFC 6598),
    link-local, loopback or multicast, and not one of the cluster's own networks. The
    documentation ranges (RFC 5737, e.g. 203.0.113.0/24) count as internet hosts."""
    addr = IPv4Address(ip)
    if any(addr in net for net in _NOT_INTERNET):
        return False
    return not any(addr in ip_network(n) for n in (cluster.cluster_cidr, cluster.service_cidr,
                                                  cluster.vpc.cidr))


def _has_cloud(cluster: Cluster) -> bool:
    """Has the VPC more than the private subnet (a public subnet or a NAT gateway)?"""
    return len(cluster.vpc.subnets) > 1 or bool(cluster._nat_gateways)


def route_table(cluster: Cluster, subnet: str) -> list[tuple[str, str]]:
    """The (destination, target) routes of a VPC subnet's route table."""
    sub = cluster.vpc.subnet(subnet)
    rows = [(cluster.vpc.cidr, "local")]
    if sub.public:
        rows.append(("0.0.0.0/0", IGW_ID))
    elif cluster._nat_gateways:
        rows.append(("0.0.0.0/0", next(iter(cluster._nat_gateways.values())).name))
    return rows


def public_owner(cluster: Cluster, ip: str) -> tuple[str, Any] | None:
    """What answers for a public address: ``("node", Node)``, ``("nat", NatGateway)``
    or ``("lb", LoadBalancer)``; None for any other (an internet host)."""
    for node in cluster.nodes:
        if node.public_ip == ip:
            return "node", node
    for gw in cluster._nat_gateways.values():
        if gw.public_ip == ip:
            return "nat", gw
    for lb in cluster._load_balancers.values():
        if lb.public_ip == ip:
            return "lb", lb
    return None


def check_public_ip(cluster: Cluster, obj: str, field: str, value: Any) -> IPv4Address:
    """A public IPv4 address that nothing else uses (the cloud refuses an Elastic IP
    that is already associated, and private addresses are not Elastic IPs)."""
    from kubenet_lab.engines.validation import check_ip
    from kubenet_lab.exceptions import ManifestError

    addr = check_ip(obj, field, value)
    if not is_internet(cluster, str(addr)):
        raise ManifestError(obj, field, value,
                            "is not a public address (private, link-local or one of the "
                            "cluster's own networks)",
                            fix="use a public address such as 198.51.100.20")
    cluster._check_ip_free(obj, field, addr)
    return addr


def provision_load_balancer(cluster: Cluster, svc: Any, old: Any) -> Any:
    """The cloud load balancer for a LoadBalancer Service: the next free address of
    the cloud's pool (kept when the Service is updated) goes into its status."""
    if svc.load_balancer_ip is None:
        keep = old.load_balancer_ip if old is not None and old.ref == svc.ref else None
        if keep is None or cluster.owner_of(keep) is not None:
            pool = ip_network(LB_POOL)
            start = int(pool.network_address) + 10
            free = next(a for a in range(start, int(pool.broadcast_address))
                        if a not in cluster._ip_owner)
            keep = str(IPv4Address(free))
        svc = replace(svc, load_balancer_ip=keep)
    cluster._load_balancers[svc.ref] = LoadBalancer(svc.ref, svc.load_balancer_ip)
    cluster._ip_owner[int(IPv4Address(svc.load_balancer_ip))] = f"LoadBalancer {svc.ref}"
    return svc


def lb_targets(cluster: Cluster, svc: Any) -> list[tuple[Node, bool]]:
    """The load balancer's target nodes and whether each passes the health check.

    All nodes except those labelled ``node.kubernetes.io/exclude-from-external-load-balancers``
    (the service controller skips them; kubeadm labels its control-plane node so). With
    ``externalTrafficPolicy: Cluster`` the check is kube-proxy's ``:10256/healthz``
    (healthy everywhere); with ``Local`` it is the ``healthCheckNodePort``, which
    answers 200 only where a ready endpoint runs (facts sheet §2.5)."""
    from kubenet_lab.engines.services import service_endpoints

    local: set[str] = set()
    for sp in svc.ports:
        local |= {e[2] for e in service_endpoints(cluster, svc, sp)}
    out = []
    for node in cluster.nodes:
        if "node.kubernetes.io/exclude-from-external-load-balancers" in node.labels:
            continue
        healthy = svc.external_traffic_policy != "Local" or node.name in local
        out.append((node, healthy))
    return out


# ---------------------------------------------------------------- ip-masq-agent
def ip_masq_config(cluster: Cluster) -> dict[str, Any]:
    """The agent's effective config: the defaults, overwritten key by key by the
    ``kube-system/ip-masq-agent`` ConfigMap's ``config``."""
    conf = dict(IP_MASQ_AGENT_DEFAULTS)
    conf.update(cluster._config_maps.get("kube-system/ip-masq-agent", {}).get("parsed", {}))
    return conf


def ip_masq_rules(cluster: Cluster) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The nat chains and rules ip-masq-agent installs (none without the agent)."""
    if not cluster._ip_masq_agent:
        return (), ()
    conf = ip_masq_config(cluster)
    comment = '-m comment --comment "ip-masq-agent: '
    rules = [f'-A POSTROUTING {comment}ensure nat POSTROUTING directs all non-LOCAL '
             'destination traffic to our custom IP-MASQ-AGENT chain" -m addrtype ! '
             "--dst-type LOCAL -j IP-MASQ-AGENT"]
    if not conf["masqLinkLocal"]:
        rules.append(f'-A IP-MASQ-AGENT -d 169.254.0.0/16 {comment}local traffic is not '
                     'subject to MASQUERADE" -j RETURN')
    for cidr in conf["nonMasqueradeCIDRs"]:
        rules.append(f'-A IP-MASQ-AGENT -d {cidr} {comment}local traffic is not subject to '
                     'MASQUERADE" -j RETURN')
    rules.append(f'-A IP-MASQ-AGENT {comment}outbound traffic is subject to MASQUERADE '
                 '(must be last in chain)" -j MASQUERADE')
    return (":IP-MASQ-AGENT - [0:0]",), tuple(rules)


def ip_masq_masquerade(cluster: Cluster, node: Node, src: str, dst: str) -> tuple[str, str] | None:
    """The ip-masq-agent rule that masquerades a pod's packet to ``dst``, or None when a
    RETURN rule leaves it alone (or there is no agent). The node's own traffic keeps its
    address anyway (MASQUERADE to the address it already has)."""
    if not cluster._ip_masq_agent:
        return None
    owner = cluster.owner_of(src)
    if not owner or not owner.startswith("Pod "):
        return None
    conf = ip_masq_config(cluster)
    addr = IPv4Address(dst)
    if not conf["masqLinkLocal"] and addr in ip_network("169.254.0.0/16"):
        return None
    if any(addr in ip_network(c) for c in conf["nonMasqueradeCIDRs"]):
        return None
    return ('-A IP-MASQ-AGENT -m comment --comment "ip-masq-agent: outbound traffic is '
            'subject to MASQUERADE (must be last in chain)" -j MASQUERADE', "ip-masq-agent")


def parse_ip_masq_config(obj: str, text: Any) -> dict[str, Any]:
    """Parse the ConfigMap's ``data.config`` (YAML or JSON) as the agent does."""
    import yaml

    from kubenet_lab.engines.validation import check_cidr
    from kubenet_lab.exceptions import ManifestError

    try:
        raw = yaml.safe_load(text) if isinstance(text, str) else text
    except yaml.YAMLError as err:
        raise ManifestError(obj, "data.config", "<yaml>", f"is not valid YAML ({err})",
                            fix="write the config as YAML: nonMasqueradeCIDRs: [...]") from None
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ManifestError(obj, "data.config", text, "is not a mapping",
                            fix="write nonMasqueradeCIDRs, masqLinkLocal, resyncInterval keys")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "nonMasqueradeCIDRs":
            if not isinstance(value, list):
                raise ManifestError(obj, "data.config.nonMasqueradeCIDRs", value,
                                    "is not a list", fix="write a YAML list of CIDRs")
            out[key] = [str(check_cidr(obj, f"data.config.nonMasqueradeCIDRs[{i}]", v))
                        for i, v in enumerate(value)]
        elif key == "masqLinkLocal":
            if not isinstance(value, bool):
                raise ManifestError(obj, "data.config.masqLinkLocal", value, "is not a boolean",
                                    fix="use true or false")
            out[key] = value
        elif key in ("resyncInterval", "masqLinkLocalIPv6"):
            out[key] = value
        else:
            raise ManifestError(obj, f"data.config.{key}", value,
                                "is not a key ip-masq-agent reads",
                                fix="use nonMasqueradeCIDRs, masqLinkLocal, resyncInterval")
    return out


# ---------------------------------------------------------------- egress
def leave_vpc(walk: Any, node: Node, pkt: Packet, how: str) -> None:
    """A packet leaves ``node`` for the VPC router: the subnet's route table decides."""
    from kubenet_lab.engines.datapath import _hash_port, _ip_part

    c = walk.c
    ip = pkt[IPv4]
    subnet = c.subnet_of(node)
    framed = Packet((Ethernet(cni.mac_address(f"{node.name}/eth0"),
                              cni.mac_address(f"vpc-router/{subnet.name}")),) + _ip_part(pkt))
    walk.hop(Location("node", node.name, "eth0"), node.name, "transmit",
             f"{how}; the next hop is the VPC router {subnet.router}", framed)
    table = "; ".join(f"{d} -> {t}" for d, t in route_table(c, subnet.name))
    where = Location("network", subnet.cidr)
    if not is_internet(c, ip.dst) and not _has_cloud(c):
        # a VPC with only the private subnet: the wording lessons 02 and 07 show
        walk.drop(where, None,
                  f"the VPC route table has no route to {ip.dst}: this cluster's VPC has no "
                  "internet gateway", framed,
                  f"Dropped: the VPC has no route to {ip.dst} (no internet gateway in this "
                  "lab's VPC).")
        return
    if not is_internet(c, ip.dst):
        walk.drop(where, None,
                  f"the route table of the {subnet.name} subnet ({table}) has no route to "
                  f"{ip.dst}", framed,
                  f"Dropped: the VPC has no route to {ip.dst} (nothing in the VPC has it and "
                  "it is not an internet address).")
        return
    if ip.src != node.ip:
        walk.drop(where, None,
                  f"the source {ip.src} is not {node.name}'s address: the cloud's "
                  "source/destination check drops it (nothing masqueraded the pod's packet)",
                  framed,
                  f"Dropped: the VPC's source/destination check drops a packet from {ip.src}, "
                  f"which is not {node.name}'s address {node.ip}; pod traffic leaving the VPC "
                  "must be masqueraded (ip-masq-agent, or the CNI plugin's masquerade rule).")
        return
    steps: list[tuple[str, str, int, str, int, str]] = []  # where, old, oport, new, nport, why
    bare = Packet(_ip_part(pkt))
    l4 = bare.layers[-1]
    if subnet.public:
        public = node.public_ip or ""
        walk.hop(where, None, "carry",
                 f"the {subnet.name} subnet's route table ({table}) sends {ip.dst} to the "
                 f"internet gateway", framed)
    else:
        gw = next(iter(c._nat_gateways.values()), None)
        if gw is None:
            walk.drop(where, None,
                      f"the route table of the {subnet.name} subnet ({table}) has no route to "
                      f"{ip.dst}: a private subnet reaches the internet only through a NAT "
                      "gateway", framed,
                      f"Dropped: the {subnet.name} subnet has no route to {ip.dst}: no "
                      "internet gateway route and no NAT gateway.")
            return
        walk.hop(where, None, "carry",
                 f"the {subnet.name} subnet's route table ({table}) sends {ip.dst} to the "
                 f"NAT gateway {gw.name} ({gw.private_ip})", framed)
        nport = _hash_port("natgw", gw.private_ip, ip.src, l4.sport)
        new = bare.replace(bare[IPv4], replace(bare[IPv4], src=gw.private_ip))
        new = Packet(new.layers[:-1] + (replace(l4, sport=nport),))
        steps.append((f"NAT gateway {gw.name}", ip.src, l4.sport, gw.private_ip, nport,
                      "the NAT gateway"))
        walk.hop(Location("network", f"NAT gateway {gw.name}"), None, "nat",
                 f"the NAT gateway {gw.name} rewrites the source {ip.src}:{l4.sport} to its own "
                 f"address {gw.private_ip}:{nport} (conntrack remembers it) and sends it on to "
                 "the internet gateway (its public subnet's default route)", new)
        bare, public = new, gw.public_ip
    src_now = bare[IPv4].src
    out = bare.replace(bare[IPv4], replace(bare[IPv4], src=public))
    steps.append(("internet gateway", src_now, bare.layers[-1].sport, public,
                  bare.layers[-1].sport, "the internet gateway"))
    walk.hop(Location("network", "internet gateway"), None, "nat",
             f"the internet gateway maps {src_now} one to one to its public IPv4 address "
             f"{public} (static NAT, ports unchanged)", out)
    walk.hop(Location("network", INTERNET), None, "deliver",
             f"the internet host {ip.dst} receives the packet from {public}; hosts on the "
             "internet answer on every port in this lab", out)
    walk.delivered = True
    walk.receiver = f"internet/{ip.dst}"
    walk.source_seen = public
    walk.nat_note = (walk.nat_note + ", then " if walk.nat_note else "") + (
        ", then ".join(f"{old} to {new} by {who}" for _, old, _, new, _, who in steps))
    walk.reason = (f"Delivered to the internet host {ip.dst}; it sees the source {public} "
                   f"(the source was {walk.nat_note}).")
    walk.egress = (steps, out)


def cloud_reply(walk: Any) -> None:
    """The reply of a connection that crossed the cloud's translations."""
    if walk.egress is not None:
        _egress_reply(walk)
    else:
        _ingress_reply(walk)


def _ingress_reply(walk: Any) -> None:
    """The reply to an internet client: after the node's conntrack (if kube-proxy
    translated), the load balancer or the internet gateway maps the source back to
    the public address the client called."""
    from kubenet_lab.engines.datapath import _reply_l4

    who, public, pport, private, nport = walk.lb
    reply = list(walk.reply)
    if reply and reply[-1].action == "deliver":
        reply.pop()
    if reply:
        last = reply[-1].packet
    else:
        req = walk.hops[-1].packet
        ip, l4 = req[IPv4], req.layers[-1]
        last = Packet((IPv4(ip.dst, ip.src, ip.proto, 64, 60),
                       _reply_l4(ip.proto, l4.dport, l4.sport)))
        reply.append(Hop(1, walk.hops[-1].location, walk.hops[-1].node, "reply",
                         f"{walk.receiver} answers from {ip.dst}:{l4.dport} to "
                         f"{ip.src}:{l4.sport}", last))
    back = Packet((replace(last[IPv4], src=public), replace(last.layers[-1], sport=pport)))
    reply.append(Hop(len(reply) + 1, Location("network", who), None, "conntrack",
                     f"{who} maps the source {private}:{nport} back to {public}:{pport}",
                     back, packet_changes(last, back)))
    reply.append(Hop(len(reply) + 1, Location("network", INTERNET), None, "deliver",
                     f"the internet client {back[IPv4].dst} receives a reply from "
                     f"{public}:{pport}, the address it connected to", back))
    walk.reply = reply


def from_internet(walk: Any, kind: str, obj: Any) -> None:
    """An internet host opens a connection to a public address of the VPC."""
    c = walk.c
    src, dst = walk.src.ip or "", walk.dst.ip or ""
    pkt = walk.first_packet(src, dst, None)
    walk.hop(Location("network", INTERNET), None, "send",
             f"the internet host {src} sends to {dst}; the internet routes it to the VPC's "
             "internet gateway", pkt)
    l4 = pkt.layers[-1]
    if kind == "nat":
        walk.drop(Location("network", f"NAT gateway {obj.name}"), None,
                  f"{dst} is the Elastic IP of the NAT gateway {obj.name}; it has no "
                  "connection in its table for this packet", pkt,
                  f"Dropped: the NAT gateway {obj.name} does not accept connections "
                  "initiated from the internet.")
        return
    if kind == "node":
        node = obj
        new = pkt.replace(pkt[IPv4], replace(pkt[IPv4], dst=node.ip))
        walk.hop(Location("network", "internet gateway"), None, "nat",
                 f"the internet gateway maps {dst} one to one to {node.name}'s private "
                 f"address {node.ip} (the gateway maps to the node, not to its pods)", new)
        walk.lb = ("internet gateway", dst, l4.dport, node.ip, l4.dport)
        _enter_node(walk, node, new, f"the public subnet {c.subnet_of(node).cidr}")
        return
    svc = c.service(obj.service)
    sp = next((p for p in svc.ports if p.port == l4.dport and p.protocol == walk.protocol),
              None)
    where = Location("network", f"load balancer {svc.ref}")
    if sp is None or sp.node_port is None:
        walk.drop(where, None, f"the load balancer of {svc.ref} has no listener on "
                  f"{walk.protocol} port {l4.dport}", pkt,
                  f"Dropped: the load balancer {dst} listens only on "
                  f"{', '.join(str(p.port) for p in svc.ports)}.")
        return
    targets = lb_targets(c, svc)
    healthy = [n for n, ok in targets if ok]
    check = (f"health check on the healthCheckNodePort {svc.health_check_node_port} "
             "(/healthz answers 200 only where a ready endpoint runs)"
             if svc.external_traffic_policy == "Local" else
             "health check on kube-proxy's :10256/healthz")
    status = ", ".join(f"{n.name} {'healthy' if ok else 'unhealthy'}" for n, ok in targets)
    if not healthy:
        walk.drop(where, None, f"targets: {status or 'none'} ({check}): no healthy target",
                  pkt, f"Dropped: the load balancer of {svc.ref} has no healthy target node.")
        return
    from kubenet_lab.engines.datapath import _hash_port

    node = healthy[_hash_port("lb", src, l4.sport) % len(healthy)]
    new = Packet((replace(pkt[IPv4], dst=node.ip), replace(l4, dport=sp.node_port)))
    walk.hop(where, None, "dnat",
             f"the cloud load balancer of {svc.ref} (targets: {status}; {check}) picks "
             f"{node.name} and sends the connection to its NodePort {node.ip}:{sp.node_port}, "
             f"keeping the client's source address", new)
    walk.lb = (f"load balancer {svc.ref}", dst, l4.dport, node.ip, sp.node_port)
    _enter_node(walk, node, new, f"the {c.subnet_of(node).name} subnet "
                f"{c.subnet_of(node).cidr}")


def _enter_node(walk: Any, node: Node, pkt: Packet, via: str) -> None:
    from kubenet_lab.engines.datapath import _unframed

    framed = Packet((Ethernet(cni.mac_address(f"vpc-router/{node.subnet}"),
                              cni.mac_address(f"{node.name}/eth0")),) + _unframed(pkt))
    walk.hop(Location("network", walk.c.subnet_of(node).cidr), None, "carry",
             f"the VPC router delivers it across {via} to {node.name}", framed)
    walk.hop(Location("node", node.name, "eth0"), node.name, "receive",
             f"{node.name}'s eth0 receives the frame", framed)
    walk.ip_input(node, Packet(_unframed(framed)))


def _egress_reply(walk: Any) -> None:
    """The internet host's reply comes back through each translation in reverse."""
    steps, out = walk.egress
    ip, l4 = out[IPv4], out.layers[-1]
    from kubenet_lab.engines.datapath import _reply_l4

    pkt = Packet((IPv4(ip.dst, ip.src, ip.proto, 64, 60),
                  _reply_l4(ip.proto, l4.dport, l4.sport)))
    reply = [Hop(1, Location("network", INTERNET), None, "reply",
                 f"the internet host {ip.dst} answers {ip.src}:{l4.sport}", pkt)]
    for where, old, oport, new, nport, who in reversed(steps):
        back = Packet((replace(pkt[IPv4], dst=old),
                       replace(pkt.layers[-1], dport=oport)))
        reply.append(Hop(len(reply) + 1, Location("network", where), None, "conntrack",
                         f"{who} maps the destination {new}:{nport} back to {old}:{oport}",
                         back, packet_changes(pkt, back)))
        pkt = back
    client = walk.src.ip or ""
    first = walk.hops[0].packet if walk.hops[0].action != "dns" else walk.hops[1].packet
    cport = first.layers[-1].sport
    node = walk.egress_node
    if pkt[IPv4].dst != client:
        back = Packet((replace(pkt[IPv4], dst=client), replace(pkt.layers[-1], dport=cport)))
        reply.append(Hop(len(reply) + 1, Location("node", node), node, "conntrack",
                         f"conntrack on {node} undoes the masquerade: destination "
                         f"{pkt[IPv4].dst}:{pkt.layers[-1].dport} back to {client}:{cport}",
                         back, packet_changes(pkt, back)))
        pkt = back
    reply.append(Hop(len(reply) + 1, Location("pod", walk.src.text, "eth0") if walk.src.pod
                     else Location("node", node), node, "deliver",
                     f"{walk.src.text} receives the reply from {ip.dst}", pkt))
    walk.reply = reply


def internet_spread(cluster: Cluster, service: str, clients: int = 60,
                    port: int | None = None) -> dict[str, Any]:
    """``clients`` internet hosts (198.18.0.1, ...: RFC 2544 benchmark addresses) each
    open one connection to a LoadBalancer Service's address; count the node the load
    balancer picked, the pod that answered, how many kept their client IP and how many
    took an extra node hop (the pod on another node than the one the LB picked);
    ``flows`` counts each (node the LB picked, pod that answered) pair."""
    from kubenet_lab.exceptions import NotFoundError

    svc = cluster.service(service)
    if svc.load_balancer_ip is None or svc.ref not in cluster._load_balancers:
        raise NotFoundError(f"Service {svc.ref}", "status.loadBalancer.ingress", None,
                            "has no cloud load balancer",
                            fix="use a LoadBalancer Service after add_cloud_load_balancer()")
    port = svc.ports[0].port if port is None else port
    out: dict[str, Any] = {"nodes": {}, "pods": {}, "flows": {}, "kept_client_ip": 0,
                           "extra_hop": 0, "dropped": 0, "clients": clients}
    base = int(IPv4Address("198.18.0.1"))
    for i in range(clients):
        ip = str(IPv4Address(base + i))
        t = cluster.trace(ip, f"{svc.load_balancer_ip}:{port}")
        lb_node = next((h.node for h in t.hops if h.node), None)
        if lb_node is not None:
            out["nodes"][lb_node] = out["nodes"].get(lb_node, 0) + 1
        if not t.delivered:
            out["dropped"] += 1
            continue
        out["pods"][t.destination_pod] = out["pods"].get(t.destination_pod, 0) + 1
        flow = (lb_node, t.destination_pod)
        out["flows"][flow] = out["flows"].get(flow, 0) + 1
        out["kept_client_ip"] += t.source_ip_seen == ip
        out["extra_hop"] += len(t.nodes) > 1
    out["nodes"] = dict(sorted(out["nodes"].items()))
    out["pods"] = dict(sorted(out["pods"].items()))
    out["flows"] = dict(sorted(out["flows"].items()))
    return out
