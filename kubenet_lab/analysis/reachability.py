"""The network-policy truth table: which pods reach which, on one port, through the
same evaluation as the enforcing agent (``kubenet_lab.dataplane.policy``).

Rows are sources, columns destinations, as the upstream e2e tests and Cyclonus print
them. ``reachability`` groups pods that no policy can tell apart (same namespace,
labels, ipBlock memberships and named-port resolution) and evaluates each group pair
once, with Python integers as bit sets over the groups, so it stays exact and fast as the
cluster grows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import check_port, check_protocol
from kubenet_lab.dataplane.policy import (
    Connection,
    admin_kinds,
    admin_peer_matches,
    enforced,
    named_port,
    np_peer_matches,
    port_matches,
    selects,
)
from kubenet_lab.model.address import cidr_contains
from kubenet_lab.model.networkpolicy import AdminPolicy, IPBlock, Reachability

if TYPE_CHECKING:
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView

__all__ = ["reachability"]


def _bits(flags: Iterable[bool]) -> int:
    out = 0
    for i, f in enumerate(flags):
        if f:
            out |= 1 << i
    return out


def reachability(view: StoreView, port: int = 80, protocol: str = "TCP",
                 pods: Iterable[str] | None = None,
                 namespaces: Iterable[str] | None = None) -> Reachability:
    """The truth table; see ``Cluster.reachability``."""
    protocol = check_protocol("reachability", "protocol", protocol)
    check_port("reachability", "port", port)
    if pods is not None:
        chosen = [view.pod(r) for r in pods]
    else:
        wanted = set(namespaces) if namespaces is not None else None
        if wanted is not None:
            for ns in wanted:
                view.namespace(ns)
        chosen = [p for p in view.pods
                  if (p.namespace in wanted if wanted is not None
                      else p.namespace != "kube-system")]
    refs = tuple(p.ref for p in chosen)
    n = len(chosen)
    if not enforced(view):
        everything = ((True,) * n,) * n
        return Reachability(refs, port, protocol, everything, everything, False, None,
                            len(view.network_policies) + len(view.admin_network_policies))

    # -- group pods that no policy can tell apart
    blocks: list[IPBlock | str] = []
    for p in view.network_policies:
        for rule in p.ingress + p.egress:
            blocks.extend(peer.ip_block for peer in rule.peers if peer.ip_block is not None)
    for a in view.admin_network_policies:
        for rule in a.ingress + a.egress:
            for peer in rule.peers:
                blocks.extend(peer.networks)
    blocks = list(dict.fromkeys(blocks))
    names = sorted({pp.port for p in view.network_policies for r in p.ingress + p.egress
                    for pp in r.ports if isinstance(pp.port, str)}
                   | {pp.name for a in view.admin_network_policies
                      for r in a.ingress + a.egress for pp in r.ports if pp.name})

    def signature(pod: Pod) -> tuple[Any, ...]:
        member = tuple(b.contains(pod.ip) if isinstance(b, IPBlock)
                       else cidr_contains(b, pod.ip) for b in blocks)
        named = tuple(named_port(pod, nm, protocol) == port for nm in names)
        return (pod.namespace, tuple(sorted(pod.labels.items())), member, named)

    groups: dict[tuple[Any, ...], int] = {}
    group_of = []
    reps: list[Pod] = []
    for pod in chosen:
        sig = signature(pod)
        if sig not in groups:
            groups[sig] = len(reps)
            reps.append(pod)
        group_of.append(groups[sig])
    g = len(reps)
    full = (1 << g) - 1
    ends = [Connection(p.ip, p) for p in reps]

    def peer_set(fn) -> int:
        return _bits(fn(e) for e in ends)

    memo: dict[Any, int] = {}

    def cached(key: Any, fn) -> int:
        if key not in memo:
            memo[key] = peer_set(fn)
        return memo[key]

    def allowed_sets(direction: str) -> list[int]:
        """For each subject group, the bit set of peer groups allowed in ``direction``."""
        key = direction
        ptype = "Egress" if direction == "egress" else "Ingress"
        kinds = admin_kinds(view)
        admin = {t: sorted((a for a in view.admin_network_policies
                            if a.tier == t and a.kind in kinds), key=lambda a: a.order)
                 for t in ("Admin", "Baseline")}
        np_rules = []
        for p in view.network_policies:
            if ptype not in p.policy_types:
                continue
            rules = []
            for rule in getattr(p, key):
                if rule.peers:
                    peers = 0
                    for peer in rule.peers:
                        peers |= cached(("np", p.namespace, peer),
                                        lambda e, pe=peer, ns=p.namespace:
                                        np_peer_matches(view, ns, pe, e))
                else:
                    peers = full
                if direction == "egress":  # ports resolve against each destination group
                    ports = cached(("npports", rule.ports),
                                   lambda e, r=rule: port_matches(r.ports, e.pod, port,
                                                                      protocol))
                    rules.append(peers & ports)
                else:
                    rules.append((peers, rule.ports))
            np_rules.append((p, rules))

        def admin_rules(policy: AdminPolicy) -> list[tuple[str, int, Any]]:
            out = []
            for rule in getattr(policy, key):
                peers = 0
                for peer in rule.peers:
                    peers |= cached(("admin", peer),
                                    lambda e, pe=peer: admin_peer_matches(view, pe, e))
                if direction == "egress":
                    ports = cached(("adports", rule.ports),
                                   lambda e, r=rule: port_matches(r.ports, e.pod, port,
                                                                         protocol))
                    out.append((rule.effect, peers & ports, None))
                else:
                    out.append((rule.effect, peers, rule.ports))
            return out

        admin_compiled = {t: [(a, admin_rules(a)) for a in admin[t]] for t in admin}
        result = []
        def first_match(tier: str, rep: Pod, undecided: int) -> tuple[int, int, int]:
            allow = deny = 0
            for a, rules in admin_compiled[tier]:
                if not selects(view, a, rep):
                    continue
                for effect, m, ports in rules:
                    if ports is not None and not port_matches(ports, rep, port,
                                                                     protocol):
                        continue
                    m &= undecided
                    if effect == "allow":
                        allow |= m
                    elif effect == "deny":
                        deny |= m
                    undecided &= ~m
            return allow, deny, undecided

        for rep in reps:
            allow, deny, _ = first_match("Admin", rep, full)
            rest = full & ~(allow | deny)  # undecided, or passed on to the next tier
            selecting = [rules for p, rules in np_rules if selects(view, p, rep)]
            if selecting:
                np_allow = 0
                for rules in selecting:
                    for r in rules:
                        if isinstance(r, tuple):
                            peers, ports = r
                            if port_matches(ports, rep, port, protocol):
                                np_allow |= peers
                        else:
                            np_allow |= r
                allow |= rest & np_allow
            else:
                _, b_deny, _ = first_match("Baseline", rep, rest)
                allow |= rest & ~b_deny  # accepted, passed or undecided: allowed
            result.append(allow)
        return result

    egress_sets = allowed_sets("egress")
    ingress_sets = allowed_sets("ingress")
    # rows depend only on the source's group; a pod's traffic to itself stays on lo
    # inside the pod (no hook sees it), so the diagonal is allowed
    egress_rows = [[bool(egress_sets[gs] >> group_of[j] & 1) for j in range(n)]
                   for gs in range(g)]
    ingress_rows = [[bool(ingress_sets[group_of[j]] >> gs & 1) for j in range(n)]
                    for gs in range(g)]

    def rows(per_group: list[list[bool]]) -> tuple[tuple[bool, ...], ...]:
        out = []
        for i in range(n):
            row = per_group[group_of[i]]
            if not row[i]:
                row = row.copy()
                row[i] = True
            out.append(tuple(row))
        return tuple(out)

    egress, ingress = rows(egress_rows), rows(ingress_rows)
    return Reachability(refs, port, protocol, egress, ingress, True, view.network_policy,
                        len(view.network_policies) + len(view.admin_network_policies))
