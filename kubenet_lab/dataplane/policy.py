"""Network policy as the agents that enforce it decide: which tier, policy and rule
allows or denies one direction of a connection, and who enforces it where.

Evaluation order, for each direction of a connection (egress at the source pod, ingress
at the destination pod), as network-policy-api defines it
(apis/v1alpha2/clusternetworkpolicy_types.go, ``Tier``) and kube-network-policies
implements it (pkg/networkpolicy/controller.go, ``evaluatePacket``):

1. **Admin tier**: ClusterNetworkPolicies with ``tier: Admin`` and AdminNetworkPolicies
   whose subject selects the pod, by ascending priority, rules in written order; the
   first rule that matches decides: Accept/Allow (allowed, lower tiers skipped), Deny
   (dropped), Pass (go on to the NetworkPolicy tier).
2. **NetworkPolicy tier**: if any NetworkPolicy selects the pod for this direction the
   pod is isolated and the connection is allowed only if a rule of one of them allows it
   (policies are additive; they never deny). That decision is final.
3. **Baseline tier**: ClusterNetworkPolicies with ``tier: Baseline`` by priority, then
   the BaselineAdminNetworkPolicy ``default``; first matching rule decides.
4. **Default**: allowed.

A connection needs egress allowed at the source AND ingress allowed at the destination.
Traffic to and from the pod's own node is always allowed, and a pod cannot block access
to itself (kubernetes.io, concepts/services-networking/network-policies). Named ports
resolve against the destination pod's container ports, for egress rules too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubenet_lab.api.adminpolicy import ADMIN_KINDS
from kubenet_lab.api.fields import check_port, check_protocol, is_ip
from kubenet_lab.controllers.endpointslice import service_endpoints
from kubenet_lab.dataplane.cni import plugin
from kubenet_lab.dataplane.dns import lookup
from kubenet_lab.dataplane.kube_proxy import service_block, service_index
from kubenet_lab.exceptions import NotFoundError
from kubenet_lab.model.address import cidr_contains
from kubenet_lab.model.networkpolicy import (
    AdminPeer,
    AdminPolicy,
    AdminPort,
    AdminRule,
    Explanation,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Verdict,
)

if TYPE_CHECKING:
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.service import Service, ServicePort
    from kubenet_lab.model.store import StoreView

__all__ = [
    "ENFORCERS",
    "Connection",
    "Enforcer",
    "admin_kinds",
    "admin_peer_matches",
    "connection_end",
    "enforced",
    "enforcer",
    "evaluate",
    "explain",
    "named_port",
    "np_peer_matches",
    "port_matches",
    "selects",
    "service_endpoints_for",
]


@dataclass(frozen=True, slots=True)
class Enforcer:
    """Something that enforces policies: the kinds it enforces and where it hooks in.

    ``hook`` is the sentence a trace shows at the hop where the verdict is made, ``where``
the short name of that place for the trace's reason. A CNI
    plugin that enforces policies itself (Calico, Cilium) adds its own entry to
    ``ENFORCERS`` under its ``Cluster.cni`` name.
    """

    kinds: tuple[str, ...]
    hook: str
    where: str = "POSTROUTING hook"


#: What each enforcer enforces, keyed by ``Cluster.network_policy`` (or ``Cluster.cni``).
#: kube-network-policies (sigs.k8s.io/kube-network-policies; the agent kind's kindnet
#: embeds) ships separate binaries (cmd/kube-network-policies/): ``standard``
#: (NetworkPolicy), ``npa-v1alpha1`` (AdminNetworkPolicy, NetworkPolicy,
#: BaselineAdminNetworkPolicy) and ``npa-v1alpha2`` (ClusterNetworkPolicy tier Admin,
#: NetworkPolicy, ClusterNetworkPolicy tier Baseline). The lab's agent enforces every
#: kind at once (a simplification: a cluster runs one binary). It queues each
#: connection's first packet to userspace (NFQUEUE) from its nftables chain
#: ``postrouting`` (``type filter hook postrouting priority srcnat - 5``: after
#: kube-proxy's DNAT, before SNAT) and accepts ``ct state established,related`` packets
#: before that (pkg/dataplane/controller.go).
ENFORCERS: dict[str, Enforcer] = {
    "kube-network-policies": Enforcer(
        ("NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
         "ClusterNetworkPolicy"),
        "POSTROUTING (nftables, priority srcnat - 5: after DNAT, before SNAT): "
        "kube-network-policies "
        "takes the connection's first packet (ct state new) from NFQUEUE",
    ),
    # Calico's Felix programs iptables chains for each workload interface: cali-fw-<iface>
    # for traffic from the pod, cali-tw-<iface> for traffic to it, jumped to from the
    # FORWARD chain (docs.tigera.io, "Calico iptables chains"). The lab models its
    # Kubernetes NetworkPolicy support only.
    "calico": Enforcer(
        ("NetworkPolicy",),
        "Felix's iptables chains for the pod's cali interface (cali-fw-* from the pod, "
        "cali-tw-* to it) check the connection's first packet",
        "Felix's iptables chains",
    ),
    # Cilium enforces NetworkPolicy in eBPF on the pod's lxc device, by security
    # identity, before the packet enters the pod (docs.cilium.io, "Network Policy").
    "cilium": Enforcer(
        ("NetworkPolicy",),
        "Cilium's eBPF policy program on the pod's lxc device checks the connection's "
        "first packet by security identity",
        "eBPF policy on the lxc device",
    ),
}


def enforced(view: StoreView) -> bool:
    """Does anything enforce network policies: a policy agent, or a CNI plugin that
    enforces them itself? flannel alone does not: "the API exists but it will have no
    effect" (kubernetes.io, services-networking)."""
    return view.network_policy is not None or plugin(view).enforces_network_policy


def enforcer(view: StoreView) -> Enforcer | None:
    """The cluster's enforcer, or None when nothing enforces policies."""
    if not enforced(view):
        return None
    name = view.network_policy or view.cni
    return ENFORCERS.get(name, Enforcer(
        ("NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
         "ClusterNetworkPolicy"), f"{name} checks the connection's first packet"))


def admin_kinds(view: StoreView) -> tuple[str, ...]:
    """Admin-tier kinds that count: all when nothing enforces (to say what *would*
    happen), else those the enforcer supports."""
    found = enforcer(view)
    return found.kinds if found is not None else tuple(k for _, k in ADMIN_KINDS)


@dataclass(frozen=True, slots=True)
class Connection:
    """The endpoints of a connection for policy purposes: a pod, or a bare address (a
    node or outside the cluster)."""

    ip: str
    pod: Pod | None = None
    node: str | None = None

    def __str__(self) -> str:
        if self.pod is not None:
            return f"pod {self.pod.ref}"
        return f"node {self.node} ({self.ip})" if self.node else self.ip


def _ns_labels(view: StoreView, ns: str) -> Mapping[str, str]:
    return view.namespace(ns).labels


def np_peer_matches(view: StoreView, policy_ns: str, peer: NetworkPolicyPeer,
                     other: Connection) -> bool:
    if peer.ip_block is not None:
        return peer.ip_block.contains(other.ip)
    pod = other.pod
    if pod is None:
        return False
    if peer.namespace_selector is None:
        if pod.namespace != policy_ns:
            return False
    elif not peer.namespace_selector.matches(_ns_labels(view, pod.namespace)):
        return False
    return peer.pod_selector is None or peer.pod_selector.matches(pod.labels)


def named_port(dst: Pod | None, name: str, protocol: str) -> int | None:
    if dst is None:
        return None
    for c in dst.containers:
        for p in c.ports:
            if p.name == name and p.protocol == protocol:
                return p.container_port
    return None


def port_matches(ports: tuple[NetworkPolicyPort, ...] | tuple[AdminPort, ...],
                  dst: Pod | None, port: int, protocol: str) -> bool:
    """Does one of ``ports`` match (empty: every port)? A name is looked up among the
    destination pod's container ports (an AdminPort's name matches any protocol)."""
    if not ports:
        return True
    for p in ports:
        name = p.port if isinstance(p.port, str) else getattr(p, "name", None)
        if name is not None:
            wanted = protocol if isinstance(p, AdminPort) else p.protocol
            if wanted == protocol and named_port(dst, name, protocol) == port:
                return True
        elif p.protocol == protocol and (
            p.port is None or p.port <= port <= (p.end_port or p.port)
        ):
            return True
    return False


def admin_peer_matches(view: StoreView, peer: AdminPeer, other: Connection) -> bool:
    if peer.kind == "networks":
        return any(cidr_contains(n, other.ip) for n in peer.networks)
    if peer.kind == "nodes":
        return other.node is not None and peer.node_selector is not None and (
            peer.node_selector.matches(view.node(other.node).labels))
    pod = other.pod
    if pod is None:
        return False
    assert peer.namespace_selector is not None
    if not peer.namespace_selector.matches(_ns_labels(view, pod.namespace)):
        return False
    return peer.kind == "namespaces" or (
        peer.pod_selector is not None and peer.pod_selector.matches(pod.labels))


def selects(view: StoreView, policy: NetworkPolicy | AdminPolicy, pod: Pod) -> bool:
    if isinstance(policy, NetworkPolicy):
        return policy.namespace == pod.namespace and policy.pod_selector.matches(pod.labels)
    return admin_peer_matches(view, policy.subject, Connection(pod.ip, pod))


def _admin_tier(view: StoreView, tier: str, direction: str, pod: Pod, other: Connection,
                dst: Pod | None, port: int, protocol: str) -> tuple[str, AdminPolicy, AdminRule,
                                                                     int] | None:
    kinds = admin_kinds(view)
    policies = sorted((p for p in view.admin_network_policies
                       if p.tier == tier and p.kind in kinds), key=lambda p: p.order)
    for policy in policies:
        if not selects(view, policy, pod):
            continue
        for i, rule in enumerate(getattr(policy, direction)):
            if any(admin_peer_matches(view, peer, other) for peer in rule.peers) and (
                port_matches(rule.ports, dst, port, protocol)
            ):
                return rule.effect, policy, rule, i
    return None


def _rule_text(policy: AdminPolicy, direction: str, rule: AdminRule, i: int) -> str:
    label = f" ({rule.name})" if rule.name else ""
    return f"{policy.ref} {direction}[{i}]{label} action {rule.action}"


def evaluate(view: StoreView, direction: str, pod: Pod, other: Connection, port: int,
             protocol: str) -> Verdict:
    """The verdict for one direction: ``direction="egress"``: may ``pod`` send to
    ``other``? ``"ingress"``: may ``pod`` accept from ``other``?"""
    dst = other.pod if direction == "egress" else pod
    key = "egress" if direction == "egress" else "ingress"
    what = (f"egress from pod {pod.ref} to {other}" if direction == "egress"
            else f"ingress to pod {pod.ref} from {other}")
    where = f"{protocol}/{port}"
    passed = ""
    hit = _admin_tier(view, "Admin", key, pod, other, dst, port, protocol)
    if hit is not None:
        effect, policy, rule, i = hit
        text = _rule_text(policy, key, rule, i)
        if effect == "allow":
            return Verdict(True, direction, "Admin", (policy.ref,),
                           f"Admin tier: {text} accepts {what} on {where}; the NetworkPolicy "
                           "and Baseline tiers are skipped.")
        if effect == "deny":
            return Verdict(False, direction, "Admin", (policy.ref,),
                           f"Admin tier: {text} denies {what} on {where}.")
        passed = f"Admin tier: {text} passes it on. "
    if other.node is not None and other.node == pod.node:
        # concepts/services-networking/network-policies: "traffic to and from the node
        # where a Pod is running is always allowed, regardless of the IP address"
        return Verdict(True, direction, "default", (),
                       f"{passed}Traffic {'to' if direction == 'egress' else 'from'} the pod's "
                       f"own node ({other.node}) is always allowed.")
    ptype = "Egress" if direction == "egress" else "Ingress"
    selecting = [p for p in view.network_policies
                 if ptype in p.policy_types and selects(view, p, pod)]
    if selecting:
        names = tuple(p.ref for p in selecting)
        for p in selecting:
            for i, rule in enumerate(getattr(p, key)):
                peers_ok = not rule.peers or any(
                    np_peer_matches(view, p.namespace, peer, other) for peer in rule.peers)
                if peers_ok and port_matches(rule.ports, dst, port, protocol):
                    return Verdict(True, direction, "NetworkPolicy", names,
                                   f"{passed}NetworkPolicy {p.ref} {key}[{i}] allows {what} "
                                   f"on {where}.")
        listed = ", ".join(names)
        return Verdict(False, direction, "NetworkPolicy", names,
                       f"{passed}Pod {pod.ref} is isolated for {key} by NetworkPolicy "
                       f"{listed}, and no rule of them allows {what} on {where}.")
    hit = _admin_tier(view, "Baseline", key, pod, other, dst, port, protocol)
    if hit is not None:
        effect, policy, rule, i = hit
        text = _rule_text(policy, key, rule, i)
        if effect != "pass":
            ok = effect == "allow"
            return Verdict(ok, direction, "Baseline", (policy.ref,),
                           f"{passed}No NetworkPolicy selects pod {pod.ref} for {key}; "
                           f"Baseline tier: {text} {'accepts' if ok else 'denies'} {what} "
                           f"on {where}.")
    return Verdict(True, direction, "default", (),
                   f"{passed}No policy decides {what} on {where}: Kubernetes allows it "
                   "by default.")


def connection_end(view: StoreView, ref: str) -> Connection:
    """A pod ref, a node name or an IP as a ``Connection`` end."""
    if is_ip(ref):
        owner = view.owner_of(ref) or ""
        if owner.startswith("Pod "):
            return Connection(ref, view.pod(owner[4:]))
        return Connection(ref, None, owner[5:] if owner.startswith("Node ") else None)
    if "/" not in ref and view.has_node(ref):
        return Connection(view.node(ref).ip, None, ref)
    pod = view.pod(ref)
    return Connection(pod.ip, pod)


def _resolve_name(view: StoreView, src: Connection, dst: str) -> tuple[str, str]:
    """A DNS name as the source pod's resolver answers it (CoreDNS, the pod's search
    path): the address and the words saying so."""
    if src.pod is None:
        raise NotFoundError(
            "explain", "dst", dst, "is a DNS name, and only pods use the cluster DNS (a "
            "node's resolv.conf points at the VPC resolver, which knows no cluster names)",
            fix="explain from a pod, or give the Service's cluster IP")
    answered, records = lookup(view, dst, "A", src.pod.ref)
    addresses = [r.value for r in records if r.type == "A"]
    if not addresses:
        raise NotFoundError(
            "explain", "dst", dst, f"does not resolve from pod {src.pod.ref} (NXDOMAIN, or "
            "an ExternalName Service whose CNAME leaves the cluster)",
            fix="check the Service name and namespace: <service>.<namespace> works from "
            "any namespace")
    return addresses[0], f"{dst} resolves to {addresses[0]} ({answered}). "


def _is_dns_name(view: StoreView, ref: str) -> bool:
    """As ``trace`` reads a destination (walk.endpoints.resolve_destination): a name
    without a slash that is no node, and has a dot or names no pod of ``default``."""
    return ("/" not in ref and not is_ip(ref) and not view.has_node(ref)
            and ("." in ref or not view.has_pod(f"default/{ref}")))


def service_endpoints_for(view: StoreView, node_name: str, ip: str, port: int,
                          protocol: str) -> tuple[Service, ServicePort,
                                                  tuple[tuple[str, int, str, str], ...]] | None:
    """The endpoints kube-proxy's rules on ``node_name`` can DNAT a new connection to
    the Service address ``ip:port`` to: ``(svc, port, endpoints)``, or None when
    ``ip:port`` is no Service port. ``endpoints`` follows the chains the node has
    (``KUBE-SERVICES`` -> ``KUBE-SVC-*``/``KUBE-SVL-*``/``KUBE-EXT-*`` -> ``KUBE-SEP-*``,
    kube-proxy ``pkg/proxy/iptables/proxier.go``), so ``internalTrafficPolicy: Local``
    leaves the node's own endpoints only; empty when the rules REJECT or DROP it.
    nftables mode and Cilium's socket LB choose among the same endpoints."""
    vips, _ = service_index(view)
    hit = vips.get((ip, protocol, port))
    if hit is None:
        return None
    svc, sp = hit
    block = service_block(view, view.node(node_name), svc, sp)
    starts = [r.target for r in block.nat_services if r.dst == f"{ip}/32"]
    found: dict[str, tuple[str, int, str, str]] = {}
    seen: set[str] = set()
    while starts:
        chain = starts.pop(0)
        if chain in seen:
            continue
        seen.add(chain)
        if chain in block.endpoints:
            found.setdefault(chain, block.endpoints[chain])
            continue
        starts.extend(r.target for r in block.chains.get(chain, ())
                      if r.target in block.chains)
    return svc, sp, tuple(sorted(found.values(), key=lambda e: e[0]))


def _judge(view: StoreView, src: str, dst: str, a: Connection, b: Connection, port: int,
           protocol: str, *, via: str = "", through_service: bool = False) -> Explanation:
    """One connection from ``a`` to ``b`` as the agent sees it. A pod's connection to
    its own address stays on lo; through a Service it is DNATed back to the pod on the
    node (hairpin), where the hooks see it like any other."""
    if a.pod is not None and a.pod == b.pod and not through_service:
        why = ("The pod sends to its own address: the packet stays on lo inside the pod's "
               "network namespace and never reaches a node's hooks, so no policy applies.")
        return Explanation(src, dst, port, protocol, Verdict(True, "egress", "default", (), why),
                           Verdict(True, "ingress", "default", (), why),
                           enforced(view), view.network_policy, via=via)
    egress = evaluate(view, "egress", a.pod, b, port, protocol) if a.pod else None
    ingress = evaluate(view, "ingress", b.pod, a, port, protocol) if b.pod else None
    return Explanation(src, dst, port, protocol, egress, ingress,
                       enforced(view), view.network_policy, via=via)


def explain(view: StoreView, src: str, dst: str, port: int = 80,
            protocol: str = "TCP") -> Explanation:
    """Explain the policy decision for one connection; see ``Cluster.explain``.

    A Service destination (its cluster IP or load-balancer IP, or a DNS name that
    resolves to one) is judged as the endpoint pod kube-proxy DNATs it to, since every
    enforcer the lab models sees the packet after that DNAT: kube-network-policies in
    its nftables chain ``postrouting`` (``type filter hook postrouting priority srcnat -
    5``: pkg/dataplane/controller.go), where the destination is already the pod;
    Calico's Felix in the filter FORWARD chain, after nat PREROUTING; Cilium after its
    socket LB or its eBPF service translation. kubernetes.io network-policies: "cluster
    ingress and egress mechanisms often require rewriting the source or destination IP
    of packets"; policies select pods, not Services. With several endpoints each is
    judged (``Explanation.endpoints``): a connection gets one of them.
    """
    protocol = check_protocol("explain", "protocol", protocol)
    check_port("explain", "port", port)
    a = connection_end(view, src)
    target, said = dst, ""
    if _is_dns_name(view, dst):
        target, said = _resolve_name(view, a, dst)
    b = connection_end(view, target)
    node = a.pod.node if a.pod is not None else a.node
    hit = (service_endpoints_for(view, node, target, port, protocol)
           if b.pod is None and b.node is None and node is not None else None)
    if hit is None:
        return _judge(view, src, dst, a, b, port, protocol, via=said.strip())
    svc, sp, endpoints = hit
    translator = ("Cilium's socket load balancer rewrites the connection (in connect()) to"
                  if plugin(view).replaces_kube_proxy else "kube-proxy's DNAT sends the "
                  "connection to")
    agent = view.network_policy or (view.cni if enforced(view) else "the policy agent")
    what = f"{target} is Service {svc.ref} (port {sp.port}/{sp.protocol})"
    if not endpoints:
        rejected = not service_endpoints(view, svc, sp)
        why = (f"{said}{what}: it has no ready endpoints, so kube-proxy's filter rule "
               "REJECTs the connection (ICMP port unreachable: connection refused)"
               if rejected else
               f"{said}{what}: its internalTrafficPolicy is Local and {node} runs none of "
               "its endpoints, so kube-proxy's filter rule DROPs the connection")
        return Explanation(src, dst, port, protocol, None, None, enforced(view),
                           view.network_policy, via=why + "; no policy is consulted.",
                           service=svc.ref)
    judged = []
    for ip, ep_port, _, owner in endpoints:
        judged.append(_judge(view, src, owner.split(" ", 1)[1] if owner.startswith("Pod ")
                             else ip, a, connection_end(view, ip), ep_port, protocol,
                             through_service=True))
    if len(endpoints) == 1:
        ip, ep_port, _, owner = endpoints[0]
        via = (f"{said}{what}: {translator} endpoint {ip}:{ep_port} ({owner}) before "
               f"{agent} sees it; judged as that {owner.split(' ', 1)[0].lower()} on "
               f"{protocol}/{ep_port}.")
        one = judged[0]
        return Explanation(src, dst, port, protocol, one.egress, one.ingress,
                           enforced(view), view.network_policy, via=via, service=svc.ref,
                           endpoints=tuple(judged))
    listed = ", ".join(f"{ip}:{p} ({o})" for ip, p, _, o in endpoints)
    via = (f"{said}{what}: {translator} one of its {len(endpoints)} endpoints, chosen at "
           f"random for each new connection, before {agent} sees it: {listed}; each is "
           "judged as that pod.")
    return Explanation(src, dst, port, protocol, None, None, enforced(view),
                       view.network_policy, via=via, service=svc.ref, endpoints=tuple(judged))
