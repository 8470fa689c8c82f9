"""The network-policy truth table: which pods reach which, on one port, through the
same evaluation as the enforcing agent (``kubenet_lab.dataplane.policy``).

Rows are sources, columns destinations, as the upstream e2e tests and Cyclonus print
them. ``reachability`` groups pods that no policy can tell apart into **classes** and
evaluates each class pair once, with Python integers as bit sets over the classes; the
``Reachability`` it returns keeps the classes, not the pairs, so 150,000 pods (the
Kubernetes large-cluster guide's limit) in a thousand classes take megabytes and
``allowed(a, b)`` stays two lookups.

Two pods are in one class when they have the same namespace, the same values for every
label key some selector reads (``LabelSelector.matches`` reads nothing else), the same
membership in every ipBlock and admin ``networks`` CIDR, and the same resolution of every
named port the policies use (kubernetes.io network-policies: ``port`` "can be either a
numerical or named port on a pod"). Then every rule of every tier treats them alike, so
evaluating one representative per class is the agent's per-connection decision
(``evaluate``) for each of them; ``tests/benchmark_policies.py`` checks that pair by pair.

What keeps it fast at that size:

- the ipBlock memberships come from one sorted list of the CIDRs' boundaries: the pods
  between two boundaries are in the same blocks, so each such segment is tested once, with
  ``IPBlock.contains`` on one of its pods (not every block against every pod);
- a policy's subject, a peer's pod selector and a namespace selector are matched once per
  class (label sets repeat, so once per label set), only against the classes of the
  namespaces in question: a podSelector peer against its own namespace, a
  namespaceSelector against each namespace's labels once;
- the NetworkPolicies are grouped by namespace, so a class looks only at its own.
"""

from __future__ import annotations

import socket
from bisect import bisect_right
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import check_port, check_protocol
from kubenet_lab.dataplane.policy import admin_kinds, enforced, named_port, port_matches
from kubenet_lab.model.address import cidr_contains, cidr_span
from kubenet_lab.model.networkpolicy import (
    AdminPeer,
    AdminPort,
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Reachability,
)

if TYPE_CHECKING:
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView

__all__ = ["reachability"]

Ports = tuple[NetworkPolicyPort, ...] | tuple[AdminPort, ...]


def _ipv4(ip: str) -> int:
    return int.from_bytes(socket.inet_aton(ip), "big")


def _spans(block: IPBlock | str) -> list[tuple[int, int]]:
    if isinstance(block, IPBlock):
        return [cidr_span(c) for c in (block.cidr, *block.except_)]
    return [cidr_span(block)]


def _contains(block: IPBlock | str, ip: str) -> bool:
    return block.contains(ip) if isinstance(block, IPBlock) else cidr_contains(block, ip)


def _selector_keys(selectors: Iterable[LabelSelector | None]) -> frozenset[str]:
    keys: set[str] = set()
    for s in selectors:
        if s is not None:
            keys.update(k for k, _ in s.match_labels)
            keys.update(k for k, _, _ in s.match_expressions)
    return frozenset(keys)


def _named(ports: Ports) -> bool:
    return any(isinstance(p.port, str) or getattr(p, "name", None) for p in ports)


class _Classes:
    """The classes of a set of pods under a set of policies, and the bit sets of classes
    that selectors, peers and ports pick out (each computed once, memoized)."""

    def __init__(self, view: StoreView, pods: list[Pod], nps: list[NetworkPolicy],
                 admin: list[Any], port: int, protocol: str) -> None:
        self.view, self.port, self.protocol = view, port, protocol
        rules = [r for p in nps for r in p.ingress + p.egress]
        admin_rules = [r for a in admin for r in a.ingress + a.egress]
        keys = _selector_keys(
            [p.pod_selector for p in nps] + [peer.pod_selector for r in rules for peer in r.peers]
            + [a.subject.pod_selector for a in admin]
            + [peer.pod_selector for r in admin_rules for peer in r.peers])
        blocks: list[IPBlock | str] = [peer.ip_block for r in rules for peer in r.peers
                                       if peer.ip_block is not None]
        blocks += [n for r in admin_rules for peer in r.peers for n in peer.networks]
        self.blocks = list(dict.fromkeys(blocks))
        self.block_index = {b: k for k, b in enumerate(self.blocks)}
        bounds = sorted({x for b in self.blocks for lo, hi in _spans(b) for x in (lo, hi + 1)})
        names = sorted({pp.port for r in rules for pp in r.ports if isinstance(pp.port, str)}
                       | {pp.name for r in admin_rules for pp in r.ports if pp.name})

        segments: dict[int, tuple[int, ...]] = {}  # segment between bounds -> blocks in
        named: dict[Any, tuple[bool, ...]] = {}    # named ports declared -> resolved
        sigs: dict[tuple[Any, ...], int] = {}
        self.reps: list[Pod] = []
        self.label_sig: list[tuple[tuple[str, str], ...]] = []
        self.member: list[tuple[int, ...]] = []
        pod_class = []
        for pod in pods:
            labels = tuple(sorted((k, v) for k, v in pod.labels.items() if k in keys))
            if bounds:
                seg = bisect_right(bounds, _ipv4(pod.ip))
                inside = segments.get(seg)
                if inside is None:  # every address of the segment is in the same blocks
                    inside = segments[seg] = tuple(k for k, b in enumerate(self.blocks)
                                                   if _contains(b, pod.ip))
            else:
                inside = ()
            if names:  # named_port reads the named container ports, in spec order
                declared = tuple((p.name, p.protocol, p.container_port)
                                 for ct in pod.containers for p in ct.ports if p.name)
                resolved = named.get(declared)
                if resolved is None:
                    resolved = named[declared] = tuple(
                        named_port(pod, nm, protocol) == port for nm in names)
            else:
                resolved = ()
            sig = (pod.namespace, labels, inside, resolved)
            c = sigs.get(sig)
            if c is None:
                c = sigs[sig] = len(self.reps)
                self.reps.append(pod)
                self.label_sig.append(labels)
                self.member.append(inside)
            pod_class.append(c)
        self.pod_class = pod_class
        self.count = len(self.reps)
        self.full = (1 << self.count) - 1
        self.ns_classes: dict[str, list[int]] = {}
        for c, rep in enumerate(self.reps):
            self.ns_classes.setdefault(rep.namespace, []).append(c)
        self.ns_bits = {ns: sum(1 << c for c in cs) for ns, cs in self.ns_classes.items()}
        self.block_bits = [0] * len(self.blocks)
        for c, inside in enumerate(self.member):
            for k in inside:
                self.block_bits[k] |= 1 << c
        self._ns_match: dict[LabelSelector, list[str]] = {}
        self._label_match: dict[tuple[LabelSelector, Any], bool] = {}
        self._memo: dict[Any, int] = {}

    # -- selectors
    def namespaces(self, selector: LabelSelector) -> list[str]:
        """The namespaces (of the table's pods) whose labels ``selector`` matches."""
        found = self._ns_match.get(selector)
        if found is None:
            found = self._ns_match[selector] = [
                ns for ns in self.ns_classes
                if selector.matches(self.view.namespace(ns).labels)]
        return found

    def select(self, selector: LabelSelector, namespaces: Iterable[str]) -> int:
        """The classes of ``namespaces`` whose pods' labels ``selector`` matches."""
        if selector.empty:
            return sum(self.ns_bits[ns] for ns in namespaces)
        out = 0
        memo = self._label_match
        for ns in namespaces:
            for c in self.ns_classes[ns]:
                key = (selector, self.label_sig[c])
                hit = memo.get(key)
                if hit is None:
                    hit = memo[key] = selector.matches(self.reps[c].labels)
                if hit:
                    out |= 1 << c
        return out

    def np_subject(self, policy: NetworkPolicy) -> int:
        """``selects``: the policy's own namespace AND its podSelector."""
        return self._cached(("subject", policy.namespace, policy.pod_selector), lambda: (
            self.select(policy.pod_selector, [policy.namespace])
            if policy.namespace in self.ns_classes else 0))

    def np_peer(self, policy_ns: str, peer: NetworkPolicyPeer) -> int:
        """``np_peer_matches`` for every class: an ipBlock, or pods of the policy's
        namespace (no namespaceSelector) or of the namespaces the selector matches, AND
        the podSelector when there is one."""
        if peer.ip_block is not None:
            return self.block_bits[self.block_index[peer.ip_block]]
        local = peer.namespace_selector is None
        key = ("np", policy_ns if local else None, peer)

        def compute() -> int:
            spaces = (([policy_ns] if policy_ns in self.ns_classes else []) if local
                      else self.namespaces(peer.namespace_selector))  # type: ignore[arg-type]
            if peer.pod_selector is None:
                return sum(self.ns_bits[ns] for ns in spaces)
            return self.select(peer.pod_selector, spaces)

        return self._cached(key, compute)

    def admin_peer(self, peer: AdminPeer) -> int:
        """``admin_peer_matches`` for every class (also an admin policy's subject)."""
        def compute() -> int:
            if peer.kind == "networks":
                out = 0
                for n in peer.networks:
                    out |= self.block_bits[self.block_index[n]]
                return out
            if peer.kind == "nodes" or peer.namespace_selector is None:
                return 0  # a pod is never a node
            spaces = self.namespaces(peer.namespace_selector)
            if peer.kind == "namespaces":
                return sum(self.ns_bits[ns] for ns in spaces)
            if peer.pod_selector is None:
                return 0
            return self.select(peer.pod_selector, spaces)

        return self._cached(("admin", peer), compute)

    def ports(self, ports: Ports) -> int:
        """The classes (as destinations) that ``port_matches`` ``ports`` on the table's
        port; without named ports the answer does not depend on the pod."""
        def compute() -> int:
            if not _named(ports):
                return self.full if port_matches(ports, None, self.port, self.protocol) else 0
            return sum(1 << c for c, rep in enumerate(self.reps)
                       if port_matches(ports, rep, self.port, self.protocol))

        return self._cached(("ports", ports), compute)

    def _cached(self, key: Any, fn: Any) -> int:
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = fn()
        return hit


def _allowed_sets(k: _Classes, nps: list[NetworkPolicy], admin: list[Any],
                  direction: str) -> list[int]:
    """For each subject class, the bit set of peer classes allowed in ``direction``:
    the tiers of ``dataplane.policy.evaluate`` (Admin, NetworkPolicy, Baseline,
    default allow) over the classes."""
    egress = direction == "egress"
    ptype = "Egress" if egress else "Ingress"
    full = k.full
    # NetworkPolicy tier: per namespace, (subject classes, [(peers, ports)]) per policy;
    # egress ports resolve against the destination (the peer), ingress against the subject
    by_ns: dict[str, list[tuple[int, list[tuple[int, int]]]]] = {}
    for p in nps:
        if ptype not in p.policy_types:
            continue
        subject = k.np_subject(p)
        if not subject:
            continue
        rules = []
        for rule in getattr(p, direction):
            peers = 0
            if rule.peers:
                for peer in rule.peers:
                    peers |= k.np_peer(p.namespace, peer)
            else:
                peers = full
            ports = k.ports(rule.ports)
            rules.append((peers & ports, full) if egress else (peers, ports))
        by_ns.setdefault(p.namespace, []).append((subject, rules))

    tiers: dict[str, list[tuple[int, list[tuple[str, int, int]]]]] = {}
    for tier in ("Admin", "Baseline"):
        compiled = []
        for a in sorted((a for a in admin if a.tier == tier), key=lambda a: a.order):
            subject = k.admin_peer(a.subject)
            if not subject:
                continue
            rules = []
            for rule in getattr(a, direction):
                peers = 0
                for peer in rule.peers:
                    peers |= k.admin_peer(peer)
                ports = k.ports(rule.ports)
                rules.append((rule.effect, peers & ports, full) if egress
                             else (rule.effect, peers, ports))
            compiled.append((subject, rules))
        tiers[tier] = compiled

    def first_match(tier: str, c: int, undecided: int) -> tuple[int, int]:
        """The first matching rule decides, per peer class: (allowed, denied); a Pass
        leaves its peers to the next tier."""
        allow = deny = 0
        for subject, rules in tiers[tier]:
            if not subject >> c & 1:
                continue
            for effect, peers, ports in rules:
                if not ports >> c & 1:
                    continue
                m = peers & undecided
                if effect == "allow":
                    allow |= m
                elif effect == "deny":
                    deny |= m
                undecided &= ~m
        return allow, deny

    result = []
    for c, rep in enumerate(k.reps):
        allow, deny = first_match("Admin", c, full)
        rest = full & ~(allow | deny)  # undecided, or passed on to the next tier
        isolated = False
        np_allow = 0
        for subject, rules in by_ns.get(rep.namespace, ()):
            if subject >> c & 1:
                isolated = True
                for peers, ports in rules:
                    if ports >> c & 1:
                        np_allow |= peers
        if isolated:
            allow |= rest & np_allow
        else:
            _, b_deny = first_match("Baseline", c, rest)
            allow |= rest & ~b_deny  # accepted, passed or undecided: allowed
        result.append(allow)
    return result


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
    nps = view.network_policies
    total = len(nps) + len(view.admin_network_policies)
    if not enforced(view):
        one = (1,) if chosen else ()
        return Reachability.from_classes(refs, port, protocol, (0,) * len(chosen), one, one,
                                         False, None, total)
    kinds = admin_kinds(view)
    admin = [a for a in view.admin_network_policies if a.kind in kinds]
    k = _Classes(view, chosen, nps, admin, port, protocol)
    egress = _allowed_sets(k, nps, admin, "egress")
    ingress = _allowed_sets(k, nps, admin, "ingress")
    return Reachability.from_classes(refs, port, protocol, k.pod_class, egress, ingress,
                                     True, view.network_policy, total)
