"""The packet through kube-proxy's nftables table (``Cluster(kube_proxy_mode=
"nftables")``), as the kernel evaluates it.

The table is the one ``nft list table ip kube-proxy`` prints
(``kubenet_lab.dataplane.kube_proxy_nftables``, kube-proxy v1.35: proxier_test.go at
81810de6); the walk follows its rule objects, never their text:

- **Hooks and priorities** (lower runs first on a hook; netfilter's order): the first
  packet of a connection arriving from a pod or the network (``PREROUTING``) passes
  filter-prerouting-pre-dnat (-110: ``firewall-check``, on the destination before
  DNAT), nat-prerouting (-100: ``services``, the DNAT), then after routing
  filter-input (0) if the address is the node's own, else filter-forward (0), both on
  the translated packet; a packet a process of the node sends (``OUTPUT``) passes
  filter-output-pre-dnat (-110), nat-output (-100) and filter-output (0:
  ``service-endpoints-check`` and ``cluster-ips-check`` after DNAT). A connection that
  was DNATed no longer matches the no-endpoint and ClusterIP checks (its destination is
  the endpoint now); one that was not is rejected or dropped there. The masquerade mark
  is acted on in nat-postrouting (``masquerading``, see ``walk.netfilter.postrouting``).
- **Rules in order**; ``jump`` returns to the next rule of the caller, ``goto`` does
  not (when the chain reached by ``goto`` ends, evaluation goes back to the chain that
  jumped to the one that did the ``goto``); a base chain that ends accepts (policy
  accept).
- **vmap**: one dict lookup of ``ip daddr . meta l4proto . th dport`` (or ``meta l4proto
  . th dport``) in the map, through kube-proxy's Service index: the cost of a first
  packet does not grow with the number of Services (``rules_traversed`` counts it).
- ``numgen random mod N`` draws from the runtime's seeded generator; the ``affinity-``
  sets of ClientIP Services are kept in the runtime beside the iptables ``recent``
  lists (no timeouts: an entry lasts as long as the cluster).

Each chain where a rule matched is one step (``NftStep``: table ``ip kube-proxy``, the
chain, the matching rules as nft prints them); chains entered and left without a match
are counted but not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.kube_proxy import service_index
from kubenet_lab.dataplane.kube_proxy_nftables import (
    MASQ_MARK,
    cluster_ips,
    fixed_chains,
    service_port_block,
)
from kubenet_lab.model.address import cidr_contains
from kubenet_lab.model.packet import IPv4, Packet
from kubenet_lab.model.trace import Location

if TYPE_CHECKING:
    from kubenet_lab.dataplane.runtime import Runtime
    from kubenet_lab.model.node import Node
    from kubenet_lab.walk.engine import Walk

__all__ = ["MASQ_MARK", "NftDecision", "NftStep", "evaluate", "service_nat"]

TABLE = "ip kube-proxy"
_MAX_DEPTH = 16


@dataclass(frozen=True, slots=True)
class NftStep:
    """One chain where rules matched: the table, the chain, the rules (``; ``-joined)."""

    table: str
    chain: str
    rule: str


@dataclass(frozen=True, slots=True)
class NftDecision:
    """What the table does with the first packet of a connection: ``verdict`` is
    ``"dnat"`` (``endpoint`` is ``(ip, port, node, target)``), ``"reject"``, ``"drop"``
    or ``"none"``; ``cause`` is ``(chain, rule)`` of a reject or drop, the rule as its
    step prints it (through a vmap: ``<rule>: drop``); ``rules`` the number of rules
    evaluated (a vmap lookup is one rule)."""

    service: str | None
    verdict: str
    steps: tuple[NftStep, ...] = ()
    endpoint: tuple[str, int, str, str] | None = None
    masquerade: bool = False
    cause: tuple[str, str] | None = None
    rules: int = 0


class _Eval:
    def __init__(self, view, node: Node, runtime: Runtime, src: str, dst: str, port: int,
                 protocol: str, local: set[str] | frozenset[str]) -> None:
        self.view, self.node, self.runtime = view, node, runtime
        self.src, self.dst, self.port, self.proto = src, dst, port, protocol.lower()
        self.local = local
        self.table = kube_proxy_chains(view, node)
        self.steps: list[NftStep] = []
        self.count = 0
        self.mark = False
        self.endpoint: tuple[str, int, str, str] | None = None
        self.cause: tuple[str, str] | None = None
        self.service_port = None

    # a condition of a rule
    def holds(self, cond: tuple) -> bool:
        kind = cond[0]
        if kind == "ct_new":
            return True  # the walk follows first packets (conntrack answers the rest)
        if kind == "daddr":
            return self.dst == cond[1]
        if kind == "daddr_in":
            if cond[1] == "nodeport-ips":
                return self.dst == self.node.ip
            return self.dst in cluster_ips(self.view)
        if kind == "daddr_cidr":
            return cidr_contains(cond[1], self.dst)
        if kind == "saddr":
            return self.src == cond[1]
        if kind == "saddr_cidr":
            return cidr_contains(cond[1], self.src)
        if kind == "saddr_not_cidr":
            return not cidr_contains(cond[1], self.src)
        if kind == "saddr_in":
            return self.runtime.recent(self.node.name, cond[1], self.src)
        if kind == "saddr_not_in":
            return not any(cidr_contains(c if "/" in c else c + "/32", self.src)
                           for c in cond[1])
        if kind == "dport":
            return self.proto == cond[1] and self.port == cond[2]
        if kind == "l4proto":
            return self.proto == cond[1]
        if kind == "fib_saddr_local":
            return self.src in self.local
        if kind == "mark_unset":
            return not self.mark
        raise AssertionError(kind)  # pragma: no cover

    def lookup(self, map_name: str) -> str | None:
        if map_name in ("service-nodeports", "no-endpoint-nodeports"):
            key: tuple = (self.proto, self.port)
        else:
            key = (self.dst, self.proto, self.port)
        vips, node_ports = service_index(self.view)
        hit = (node_ports.get((key[0].upper(), key[1])) if len(key) == 2 else
               vips.get((key[0], key[1].upper(), key[2])))
        if hit is None:
            return None
        self.table.extend(*hit)
        b = service_port_block(self.view, self.node, *hit)
        self.service_port = hit
        element = b.elements.get(map_name, {}).get(key)
        return None if element is None else element[0]

    def run(self, name: str, depth: int = 0) -> str | None:
        """Evaluate chain ``name``: a final verdict (``accept`` after a DNAT, ``drop``,
        ``reject``) or None (the chain ended or returned)."""
        chain = self.table.get(name)
        if chain is None or depth > _MAX_DEPTH:  # pragma: no cover - the table is whole
            return None
        matched: list[str] = []
        at = len(self.steps)
        acted = False  # a rule did something (a jump into a chain that did nothing: no)

        def leave(verdict: str | None) -> str | None:
            if acted or verdict is not None:
                self.steps.insert(at, NftStep(TABLE, name, "; ".join(matched)))
            return verdict

        for rule in chain.rules:
            self.count += 1
            if not all(self.holds(c) for c in rule.match):
                continue
            action = rule.action
            kind = action[0]
            if kind == "vmap":
                verdict = self.lookup(action[1])
                if verdict is None:
                    continue
                matched.append(f"{rule.text}: {verdict}")
                kind, _, target = verdict.partition(" ")
                action = (kind, target) if target else (kind,)
            elif kind == "numgen":
                targets = action[1]
                i = int(self.runtime.random() * len(targets))
                matched.append(f"{rule.text}: {i} : goto {targets[i]}")
                action = ("goto", targets[i])
            else:
                matched.append(rule.text)
            kind = action[0]
            before = len(self.steps)
            if kind == "jump":
                out = self.run(action[1], depth + 1)
                acted = acted or len(self.steps) > before or action[1] == (
                    "mark-for-masquerade")
                if out is not None:
                    return leave(out)
                continue
            acted = True
            if kind == "goto":
                return leave(self.run(action[1], depth + 1))
            elif kind == "return":
                return leave(None)
            elif kind in ("drop", "reject"):
                # the rule as the step shows it: a verdict reached through a vmap is
                # ``<rule>: drop`` (the element's verdict appended above), so that the
                # step holding it is found again (``service_nat``)
                self.cause = (name, matched[-1])
                return leave(kind)
            elif kind == "mark_set":
                self.mark = True
            elif kind == "update":
                self.runtime.remember(self.node.name, action[1], self.src)
            elif kind == "dnat":
                self.endpoint = self.table_endpoint(name)
                return leave("accept")
        return leave(None)

    def table_endpoint(self, chain: str) -> tuple[str, int, str, str] | None:
        assert self.service_port is not None  # an endpoint chain is reached from a vmap
        return service_port_block(self.view, self.node, *self.service_port).endpoints[chain]


def kube_proxy_chains(view, node: Node) -> _Chains:
    """The chains of ``node``'s table, looked up by name without building the whole
    table: the fixed chains, then the chains of the one Service port the packet's
    destination belongs to (added by ``_Chains.extend``)."""
    return _Chains(view, node)


class _Chains:
    def __init__(self, view, node: Node) -> None:
        self.view, self.node = view, node
        self.chains = dict(fixed_chains(view))
        self.extended: set = set()

    def extend(self, svc, sp) -> None:
        key = (svc.ref, sp.port, sp.protocol)
        if key in self.extended:
            return
        self.extended.add(key)
        for c in service_port_block(self.view, self.node, svc, sp).chains:
            self.chains[c.name] = c

    def get(self, name: str):
        return self.chains.get(name)


def _service_of(view, dst: str, proto: str, port: int, node: Node):
    vips, node_ports = service_index(view)
    hit = vips.get((dst, proto.upper(), port))
    if hit is None and dst == node.ip:
        hit = node_ports.get((proto.upper(), port))
    return hit


def evaluate(view, runtime: Runtime, node_name: str, hook: str, src_ip: str, dst_ip: str,
             port: int, protocol: str = "TCP",
             local_addresses: set[str] | frozenset[str] | None = None) -> NftDecision:
    """Run the first packet of a connection through ``node_name``'s table ``ip
    kube-proxy``: ``hook`` is ``"PREROUTING"`` (from a pod or the network) or
    ``"OUTPUT"`` (from a process of the node); ``local_addresses`` are the node's own
    addresses (``fib saddr type local``, and where a packet is delivered locally).

    >>> import kubenet_lab as kl
    >>> c = kl.Cluster(kube_proxy_mode="nftables")
    >>> d = evaluate(c.store, c.runtime, "control-plane", "OUTPUT", "10.0.1.4",
    ...              "10.96.0.1", 443)
    >>> d.verdict, d.endpoint[:2], [s.chain for s in d.steps][:2]
    ('dnat', ('10.0.1.4', 6443), ['nat-output', 'services'])
    >>> evaluate(c.store, c.runtime, "control-plane", "OUTPUT", "10.0.1.4",
    ...          "10.96.0.99", 443).verdict
    'drop'
    """
    node = view.node(node_name)
    local = local_addresses if local_addresses is not None else {node.ip}
    ev = _Eval(view, node, runtime, src_ip, dst_ip, port, protocol, local)
    hit = _service_of(view, dst_ip, protocol, port, node)
    service = hit[0].port_name(hit[1]) if hit is not None else None
    chains = (("filter-prerouting-pre-dnat", "nat-prerouting") if hook == "PREROUTING" else
              ("filter-output-pre-dnat", "nat-output", "filter-output"))
    verdict: str | None = None
    for chain in chains:
        verdict = ev.run(chain)
        if verdict in ("drop", "reject"):
            break
        if ev.endpoint is not None:
            ev.dst, ev.port = ev.endpoint[0], ev.endpoint[1]  # later chains see the DNAT
    if verdict not in ("drop", "reject") and hook == "PREROUTING":
        verdict = ev.run("filter-input" if ev.dst in local else "filter-forward")
    if verdict in ("drop", "reject"):
        final = verdict
    else:
        final = "dnat" if ev.endpoint is not None else "none"
    return NftDecision(service, final, tuple(ev.steps), ev.endpoint, ev.mark, ev.cause,
                       ev.count)


def service_nat(walk: Walk, node: Node, pkt: Packet, hook: str) -> Packet | None:
    """``walk.netfilter.service_nat`` in nftables mode: the packet (DNATed or not), or
    None when the table rejected or dropped it (the trace is finished)."""
    ip = pkt[IPv4]
    l4 = pkt.layers[-1]
    d = evaluate(walk.view, walk.dp.runtime, node.name, hook, ip.src, ip.dst, l4.dport,
                 walk.protocol, walk.dp.local_addresses(node))
    if not d.steps:
        return pkt
    where = Location("node", node.name)
    for step in d.steps:
        text = f"{step.table} {step.chain}: `{step.rule}`"
        if "dnat to" in step.rule and d.endpoint is not None:
            ep_ip, ep_port = d.endpoint[0], d.endpoint[1]
            pkt = Packet(pkt.layers[:-2] + (replace(ip, dst=ep_ip), replace(l4, dport=ep_port)))
            walk.dnat = (node.name, ip.dst, l4.dport, ep_ip, ep_port)
            walk.port = ep_port
            walk.hop(where, node.name, "dnat",
                     f"{text}: DNAT to {ep_ip}:{ep_port} ({d.endpoint[3]}); conntrack "
                     "remembers the translation for the replies", pkt)
            continue
        if d.cause is not None and step.chain == d.cause[0] and step.rule.endswith(
                d.cause[1]):
            _refuse(walk, node, where, pkt, d, text, ip.dst, l4.dport)
            return None
        mark = (f" (sets the mark {MASQ_MARK}: masquerade on the way out)"
                if "jump mark-for-masquerade" in step.rule else "")
        walk.hop(where, node.name, "nftables", f"{text}{mark}", pkt)
    if d.masquerade:
        walk.service_masq = True
    return pkt


def _refuse(walk: Walk, node: Node, where: Location, pkt: Packet, d: NftDecision,
            text: str, dst: str, port: int) -> None:
    chain, rule = d.cause or ("", "")
    proto = walk.protocol
    unreachable = ("ICMP port unreachable, which the client's TCP reports as connection "
                   "refused" if proto == "TCP" else "ICMP port unreachable")
    if d.verdict == "reject":
        if chain == "cluster-ips-check":
            why = (f"{dst} is an allocated ClusterIP but no Service has port "
                   f"{port}/{proto} on it")
            walk.reason = (f"Connection refused: {dst} is a ClusterIP without port "
                           f"{port}/{proto} (kube-proxy's nftables rule rejects traffic to "
                           "invalid ports of ClusterIPs).")
        else:
            why = f"Service port {d.service} has no ready endpoints"
            walk.reason = (f"Connection refused: Service port {d.service} has no ready "
                           "endpoints (kube-proxy's reject-chain rejects it).")
        walk.hop(where, node.name, "refuse", f"{text}: {why}, so the kernel answers "
                 f"{unreachable}", pkt)
        return
    if chain == "cluster-ips-check":
        detail = f"{dst} is in the Service CIDR but no Service has it"
        reason = (f"Dropped: {dst} is an unallocated address of the Service CIDR "
                  f"{walk.view.service_cidr} (kube-proxy's nftables rule drops traffic to "
                  "unallocated ClusterIPs).")
    elif chain.startswith("firewall-"):
        detail = f"the source {pkt[IPv4].src} is not in the loadBalancerSourceRanges"
        reason = (f"Dropped: {pkt[IPv4].src} is not in the loadBalancerSourceRanges of "
                  f"{d.service}.")
    else:
        detail = f"the traffic policy is Local and {node.name} runs no endpoint of {d.service}"
        reason = (f"Dropped: {d.service} has no local endpoints on {node.name} (traffic "
                  "policy Local); kube-proxy drops the packet.")
    walk.drop(where, node.name, f"{text}: {detail}", pkt, reason)
