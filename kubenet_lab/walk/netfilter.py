"""Netfilter on the walk: the packet through the tables the agents wrote.

- **kube-proxy's nat rules** at the ``PREROUTING`` / ``OUTPUT`` hook (``nat_walk``): the
  same ``Rule`` objects ``iptables-save`` prints (``kubenet_lab.dataplane.kube_proxy``),
  first match wins, ``statistic`` matches drawn from the runtime's seeded generator,
  ``recent`` lists kept in the runtime; then the filter rules that REJECT or DROP
  Service traffic without endpoints. ``service_nat`` records the steps as hops.
- **POSTROUTING** (``postrouting``): the agents' jumps in the order ``iptables-save``
  lists them (``dataplane.iptables.postrouting_order``: kube-proxy prepends, flannel
  and ip-masq-agent append, in the lab's start order kube-proxy, CNI plugin,
  ip-masq-agent): kube-proxy's masquerade of marked connections, else the CNI plugin's
  masquerade rule, else ip-masq-agent's; the first MASQUERADE wins.
- **The policy agent's hook** (``admit``): with ``Cluster(network_policy=
  "kube-network-policies")`` the agent's nftables chain on the POSTROUTING hook
  (priority ``srcnat - 5``: after kube-proxy's DNAT, before any masquerade) queues a
  connection's first packet to userspace (NFQUEUE) for a verdict (kube-network-policies
  pkg/dataplane/controller.go). Bridged pod-to-pod frames pass that hook too
  (br_netfilter). The lab checks the source pod's egress where the packet leaves the
  source node's stack and the destination pod's ingress where it leaves the destination
  node towards the pod; Calico and Cilium check at their own places (``ENFORCERS``).
  flannel enforces nothing: policies never drop a packet there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kubenet_lab.dataplane import ip_masq_agent
from kubenet_lab.dataplane.cni import plugin
from kubenet_lab.dataplane.iptables import postrouting_order
from kubenet_lab.dataplane.kube_proxy import (
    HOOK_COMMENT,
    MASQ_MARK,
    NODEPORTS_COMMENT,
    Rule,
    probability,
    proxied,
    service_block,
    service_index,
)
from kubenet_lab.dataplane.policy import Connection, connection_end, enforced, enforcer, evaluate
from kubenet_lab.model.address import cidr_contains
from kubenet_lab.model.arguments import checked
from kubenet_lab.model.packet import IPv4, Packet
from kubenet_lab.model.trace import Location
from kubenet_lab.walk import nftables
from kubenet_lab.walk.engine import Walk, hash_port

if TYPE_CHECKING:
    from kubenet_lab.dataplane.runtime import Runtime
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.route import Route
    from kubenet_lab.model.store import StoreView

__all__ = [
    "NatStep",
    "ServiceDecision",
    "admit",
    "nat_walk",
    "policy_allows",
    "postrouting",
    "resolve_service",
    "rules_traversed",
    "service_nat",
]


# ---------------------------------------------------------------- kube-proxy
@dataclass(frozen=True, slots=True)
class NatStep:
    """One rule that matched on the way: its table and the rule as iptables-save
    prints it."""

    table: str
    chain: str
    rule: str


@dataclass(frozen=True, slots=True)
class ServiceDecision:
    """What kube-proxy's rules do with the first packet of a connection.

    ``verdict`` is ``"dnat"`` (``endpoint`` is ``(ip, port, node, target)``),
    ``"reject"`` or ``"drop"`` (a filter rule, in ``steps``), or ``"none"`` (no
    Service matched). ``masquerade`` is True when a rule set the 0x4000 mark.
    """

    service: str | None
    verdict: str
    steps: tuple[NatStep, ...] = ()
    endpoint: tuple[str, int, str, str] | None = None
    masquerade: bool = False


def nat_walk(
    view: StoreView,
    runtime: Runtime,
    node_name: str,
    hook: str,
    src_ip: str,
    dst_ip: str,
    port: int,
    protocol: str = "TCP",
    local_addresses: set[str] | frozenset[str] | None = None,
) -> ServiceDecision:
    """Run the first packet of a connection through kube-proxy's rules on a node.

    ``hook`` is ``"PREROUTING"`` (the packet arrives from a pod or the network) or
    ``"OUTPUT"`` (a process on the node sends it). ``local_addresses`` are the node's
    own addresses (``addrtype LOCAL``); by default its node IP.
    Random ``statistic`` matches draw from the runtime's generator; ClientIP affinity is
    remembered per node in the runtime, as the kernel's ``recent`` lists are (timeouts
    are not modelled: an entry lasts as long as the cluster).
    """
    if view.config.kube_proxy_mode == "nftables" and not plugin(view).replaces_kube_proxy:
        d = nftables.evaluate(view, runtime, node_name, hook, src_ip, dst_ip, port,
                              protocol, local_addresses)
        return ServiceDecision(d.service, d.verdict, tuple(
            NatStep(s.table, s.chain, s.rule) for s in d.steps), d.endpoint, d.masquerade)
    node = view.node(node_name)
    local = local_addresses if local_addresses is not None else {node.ip}
    if hook == "OUTPUT" and dst_ip.startswith("127."):  # addrtype LOCAL: the loopback
        local = set(local) | {dst_ip}  # addresses too (NodePorts on 127.0.0.1)
    vips, node_ports = service_index(view)
    hook_rule = f'-A {hook} -m comment --comment "{HOOK_COMMENT}" -j KUBE-SERVICES'
    steps = [NatStep("nat", hook, hook_rule)]
    hit = vips.get((dst_ip, protocol, port))
    entry: list[Rule] = []
    b = None
    ext = False
    if hit is not None:
        svc, sp = hit
        b = service_block(view, node, svc, sp)
        entry = [r for r in b.nat_services if r.dst == f"{dst_ip}/32"]
        ext = dst_ip != svc.cluster_ip
    elif dst_ip in local:
        hit = node_ports.get((protocol, port))
        if hit is not None:
            svc, sp = hit
            b = service_block(view, node, svc, sp)
            # the localhost rule (-d 127.0.0.0/8, nfacct) first, then the general one
            entry = [r for r in b.nat_nodeports if r.dst is None or cidr_contains(r.dst, dst_ip)]
            ext = True
            last = (f'-A KUBE-SERVICES -m comment --comment "{NODEPORTS_COMMENT}" '
                    "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
            if entry:
                steps.append(NatStep("nat", "KUBE-SERVICES", last))
    if b is None or hit is None:
        return ServiceDecision(None, "none")
    svc, sp = hit
    name = svc.port_name(sp)
    state: dict[str, Any] = {"masq": False, "dnat": None}

    def matches(r: Rule) -> bool:
        # every match of the rule, as the kernel checks them: a KUBE-SVC chain's
        # "-d CLUSTER-IP --dport PORT -j KUBE-MARK-MASQ" does not match a packet that came
        # in through a NodePort (KUBE-EXT jumps to the same KUBE-SVC chain)
        if r.src is not None and cidr_contains(r.src, src_ip) == r.src_neg:
            return False
        if r.dst is not None and not cidr_contains(r.dst, dst_ip):
            return False
        if r.dport is not None and r.dport != port:
            return False
        if r.addrtype == "--src-type LOCAL" and src_ip not in local:
            return False
        if r.recent and r.recent[0] == "rcheck" and not runtime.recent(
                node.name, r.recent[1], src_ip):
            return False
        if r.statistic is not None and runtime.random() >= probability(r.statistic)[2]:
            return False
        return True

    def run(chain: str, depth: int = 0) -> bool:
        for r in b.chains.get(chain, ()):
            if not matches(r):
                continue
            steps.append(NatStep("nat", chain, r.text()))
            if r.target == "KUBE-MARK-MASQ":  # sets the mark and returns: not a step
                state["masq"] = True
                continue
            if r.target == "DNAT":
                state["dnat"] = b.endpoints[chain]
                if r.recent:
                    runtime.remember(node.name, chain, src_ip)
                return True
            if depth < 8 and run(r.target, depth + 1):
                return True
        return False

    for r in entry:
        steps.append(NatStep("nat", r.chain, r.text()))
        if run(r.target):
            return ServiceDecision(name, "dnat", tuple(steps), state["dnat"], state["masq"])
        break
    # no DNAT: the filter table decides (KUBE-SERVICES for cluster IPs, hooked from
    # FORWARD/OUTPUT; KUBE-EXTERNAL-SERVICES for node ports and LB IPs, from INPUT/FORWARD)
    filters = b.filter_external if ext else b.filter_services
    for r in filters:
        if ext and r.dport != port:
            continue
        steps.append(NatStep("filter", r.chain, r.text()))
        return ServiceDecision(name, r.target.lower(), tuple(steps), None, state["masq"])
    return ServiceDecision(name, "none", tuple(steps), None, state["masq"])


def resolve_service(
    view: StoreView, runtime: Runtime, node_name: str, src_ip: str, dst_ip: str, port: int,
    protocol: str = "TCP",
) -> tuple[str, int] | None:
    """The endpoint ``(ip, port)`` a new connection from ``src_ip`` to the Service
    address ``dst_ip:port`` gets on ``node_name``, or None (no Service there, or it
    is refused or dropped).

    The same choice as the iptables walk (same probabilities, same affinity), without
    the steps: the entry point for a kube-proxy replacement (Cilium's eBPF service
    maps select a backend the same way from the Service's endpoint list).

    >>> c = kl.Cluster()
    >>> resolve_service(c.store, c.runtime, "control-plane", "10.0.1.4", "10.96.0.1", 443)
    ('10.0.1.4', 6443)
    """
    decision = nat_walk(view, runtime, node_name, "OUTPUT", src_ip, dst_ip, port, protocol)
    if decision.endpoint is None:
        return None
    return decision.endpoint[0], decision.endpoint[1]


def service_nat(walk: Walk, node: Node, pkt: Packet, hook: str) -> Packet | None:
    """kube-proxy's rules at the nat ``PREROUTING``/``OUTPUT`` hook (and the filter
    rules that REJECT/DROP Service traffic). Returns the packet (DNATed or not),
    or None when the rules refused or dropped it (the trace is finished)."""
    if walk.dnat is not None:  # conntrack: the connection is already translated
        return pkt
    if walk.dp.plugin.replaces_kube_proxy:  # no KUBE-* rules: Services were resolved
        return pkt                        # in connect() (see walk.ebpf.socket_lb)
    if walk.view.config.kube_proxy_mode == "nftables":
        return nftables.service_nat(walk, node, pkt, hook)
    ip = pkt[IPv4]
    l4 = pkt.layers[-1]
    decision = nat_walk(walk.view, walk.dp.runtime, node.name, hook, ip.src, ip.dst, l4.dport,
                        walk.protocol, walk.dp.local_addresses(node))
    if decision.verdict == "none" and len(decision.steps) <= 1:
        return pkt
    where = Location("node", node.name)
    last = len(decision.steps) - 1
    for i, step in enumerate(decision.steps):
        if i == last and decision.verdict == "dnat":
            ep_ip, ep_port = decision.endpoint[0], decision.endpoint[1]
            new_l4 = replace(l4, dport=ep_port)
            pkt = Packet(pkt.layers[:-2] + (replace(ip, dst=ep_ip), new_l4))
            walk.dnat = (node.name, ip.dst, l4.dport, ep_ip, ep_port)
            walk.port = ep_port
            target = decision.endpoint[3]
            walk.hop(where, node.name, "dnat",
                     f"{step.table} {step.chain}: `{step.rule}`: DNAT to {ep_ip}:{ep_port} "
                     f"({target}); conntrack remembers the translation for the replies",
                     pkt)
        elif i == last and decision.verdict in ("reject", "drop"):
            service = decision.service
            if decision.verdict == "reject":
                answer = {"TCP": "ICMP port unreachable, which the client's TCP reports "
                          "as connection refused", "UDP": "ICMP port unreachable",
                          "SCTP": "ICMP port unreachable"}[walk.protocol]
                walk.hop(where, node.name, "refuse",
                         f"{step.table} {step.chain}: `{step.rule}`: the Service has no "
                         f"ready endpoints, so kube-proxy rejects: {answer}", pkt)
                walk.reason = (f"Connection refused: Service port {service} has no ready "
                               "endpoints (kube-proxy's filter rule REJECTs it).")
            else:
                walk.drop(where, node.name,
                          f"{step.table} {step.chain}: `{step.rule}`: the traffic policy "
                          f"is Local and {node.name} runs no endpoint of {service}", pkt,
                          f"Dropped: {service} has no local endpoints on {node.name} "
                          "(traffic policy Local); kube-proxy drops the packet.")
            return None
        else:
            mark = (f" (KUBE-MARK-MASQ sets the mark {MASQ_MARK}: masquerade on the way "
                    "out)" if step.rule.endswith("-j KUBE-MARK-MASQ") else "")
            walk.hop(where, node.name, "iptables",
                     f"{step.table} {step.chain}: `{step.rule}`{mark}", pkt)
    if decision.masquerade:
        walk.service_masq = True
    return pkt


@checked
def rules_traversed(cluster: Any, src: str, dst: str, port: int = 80,
                    protocol: str = "TCP") -> int:
    """How many of kube-proxy's rules the first packet from ``src`` (a pod ``"ns/name"``,
    or a node) to the Service address ``dst:port`` is matched against before its
    verdict, in the cluster's ``kube_proxy_mode`` (for a lesson's plot of iptables'
    O(n) against nftables' O(1)). Read-only: the random choices are made on a fork of
    the runtime.

    iptables mode: the nat hook rule, every ``KUBE-SERVICES`` rule up to and including
    the Service's (the Services sorted before it come first), then in each chain
    followed the rules up to the one that matched, and one for ``KUBE-MARK-MASQ``.
    nftables mode: every rule evaluated in the base chains of the hook and the chains
    they lead to, a vmap lookup counting as one rule (``walk.nftables.evaluate``).

    >>> c = kl.Cluster(workers=1)
    >>> rules_traversed(c, "node-1", "10.96.0.1", 443)
    7
    >>> rules_traversed(kl.Cluster(workers=1, kube_proxy_mode="nftables"), "node-1",
    ...                 "10.96.0.1", 443)
    14
    """
    view = cluster.store.snapshot()
    runtime = cluster.runtime.fork()
    if "/" in src:
        pod = view.pod(src)
        node_name, src_ip, hook = pod.node, pod.ip, "PREROUTING"
    else:
        node_name, src_ip, hook = src, view.node(src).ip, "OUTPUT"
    if view.config.kube_proxy_mode == "nftables":
        return nftables.evaluate(view, runtime, node_name, hook, src_ip, dst, port,
                                 protocol).rules
    decision = nat_walk(view, runtime, node_name, hook, src_ip, dst, port, protocol)
    node = view.node(node_name)
    count = 1  # the hook rule
    seen: dict[str, int] = {}
    hit = service_index(view)[0].get((dst, protocol, port))
    for step in decision.steps[1:]:
        if step.chain == "KUBE-SERVICES" and hit is not None:
            count += _services_position(view, node).get((f"{dst}/32", protocol.lower(),
                                                          port), 0)
            continue
        if hit is None:
            break
        rules = service_block(view, node, *hit).chains.get(step.chain, [])
        index = next((i for i, r in enumerate(rules) if r.text() == step.rule), -1)
        seen[step.chain] = max(seen.get(step.chain, 0), index + 1)
        if step.rule.endswith("-j KUBE-MARK-MASQ"):
            count += 1
    return count + sum(seen.values())


def _services_position(view: StoreView, node: Node) -> dict[tuple[str, str, int], int]:
    """1-based position of each Service rule in the nat ``KUBE-SERVICES`` chain."""
    def build() -> dict[tuple[str, str, int], int]:
        out: dict[tuple[str, str, int], int] = {}
        for svc, sp, _ in proxied(view):
            for r in service_block(view, node, svc, sp).nat_services:
                out[(r.dst or "", r.proto or "", r.dport or 0)] = len(out) + 1
        return out

    return view.cached(("kp-services-position", node.name), build)


# ---------------------------------------------------------------- POSTROUTING
def postrouting(walk: Walk, node: Node, pkt: Packet, route: Route, how: str
                ) -> tuple[Packet, str]:
    """The nat POSTROUTING chain for a packet leaving by ``route.dev``: the packet
    (masqueraded or not) and the text of the hop so far."""
    ip = pkt[IPv4]
    masq, owner = None, ""
    if walk.service_masq:
        walk.service_masq = False
        new_src = walk.dp.device_address(node, route.dev)
        l4 = pkt.layers[-1]
        walk.client = (ip.src, l4.sport)
        new_l4 = replace(l4, sport=hash_port("masq", new_src, ip.dst, walk.port))
        pkt = Packet(pkt.layers[:-2] + (replace(ip, src=new_src), new_l4))
        if walk.view.config.kube_proxy_mode == "nftables":
            how += (f"; POSTROUTING: ip kube-proxy nat-postrouting `jump masquerading`: "
                    f"the mark {nftables.MASQ_MARK} is set, so `meta mark set meta mark ^ "
                    f"{nftables.MASQ_MARK}` clears it and `masquerade fully-random` "
                    f"rewrites the source to {new_src} (the address of {route.dev})")
            walk.nat_note = (f"masqueraded to {new_src} by {node.name} (kube-proxy's "
                             "masquerading chain)")
        else:
            how += (f"; POSTROUTING: KUBE-POSTROUTING sees the mark {MASQ_MARK} and "
                    f"masquerades the source to {new_src} (the address of {route.dev}; "
                    "--random-fully picks the port)")
            walk.nat_note = (f"masqueraded to {new_src} by {node.name} (kube-proxy's "
                             "KUBE-POSTROUTING)")
        ip = pkt[IPv4]
    else:
        for agent in postrouting_order(walk.view):  # the jumps in POSTROUTING, in order
            if agent == "kube-proxy":
                continue  # KUBE-POSTROUTING RETURNs what carries no mark
            if agent == "ip-masq-agent":
                masq = ip_masq_agent.masquerade(walk.view, node, ip.src, ip.dst)
            else:
                masq = walk.dp.plugin.masquerade(walk.view, node, ip.src, ip.dst)
            if masq is not None:
                owner = agent
                break
    if masq is not None:
        rule, who = masq
        new_src = walk.dp.device_address(node, route.dev)
        l4 = pkt.layers[-1]
        new_l4 = replace(l4, sport=hash_port("masq", new_src, ip.dst, walk.port))
        pkt = Packet(pkt.layers[:-2] + (replace(ip, src=new_src), new_l4))
        how += (f"; POSTROUTING: {owner}'s rule `{rule}` masquerades the "
                f"source to {new_src} (the address of {route.dev})")
        walk.nat_note = f"masqueraded to {new_src} by {node.name} ({who})"
    return pkt, how


# ---------------------------------------------------------------- the policy agent
def policy_allows(walk: Walk, node: Node, direction: str, pkt: Packet, dev: str,
                  peer: Pod | None = None) -> bool:
    """The policy agent's POSTROUTING verdict for one direction; False if dropped."""
    if not walk.policies or not enforced(walk.view):
        return True
    ip = pkt[IPv4]
    if direction == "egress":
        if walk.src.pod is None or walk.egress_checked:
            return True
        walk.egress_checked = True
        subject, other = walk.src.pod, connection_end(walk.view, ip.dst)
    else:
        assert peer is not None
        subject = peer
        other = (Connection(ip.src, None, walk.src.node.name) if walk.src.node is not None
                 else connection_end(walk.view, ip.src))
    verdict = evaluate(walk.view, direction, subject, other, walk.port, walk.protocol)
    if verdict.allowed and verdict.tier == "default":
        return True
    agent = walk.view.network_policy or walk.view.cni
    point = enforcer(walk.view)
    assert point is not None
    hook = f"{point.hook} and checks {direction} of pod {subject.ref}"
    where = Location("node", node.name, dev)
    if verdict.allowed:
        walk.hop(where, node.name, "policy", f"{hook}: accept. {verdict.reason}", pkt)
        return True
    walk.drop(where, node.name, f"{hook}: drop. {verdict.reason}", pkt,
              f"Dropped by network policy on {direction} at {node.name} ({agent}, "
              f"{point.where}, before {dev}): {verdict.reason}")
    return False


def admit(walk: Walk, node: Node, peer: Pod, pkt: Packet, dev: str) -> bool:
    """Called by every plugin as the packet leaves ``node`` through ``dev`` towards
    pod ``peer`` (the bridge port, the cali or lxc veth): the policy checks that
    apply there (egress of a source pod on this node, ingress of ``peer``). False
    after a drop hop was recorded."""
    return policy_allows(walk, node, "egress", pkt, dev) and policy_allows(
        walk, node, "ingress", pkt, dev, peer)
