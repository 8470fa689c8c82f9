"""Check the Kubernetes network model on a cluster as it stands.

The rules, in the words of the networking concept page (facts sheet §6, current text):

1. each pod in a cluster gets its own unique cluster-wide IP address;
2. all pods can communicate with all other pods, on the same node or on different
   nodes, directly, without proxies or address translation (NAT);
3. agents on a node (system daemons, the kubelet) can communicate with all pods on that
   node.

The page states rules 2 and 3 "barring intentional network segmentation": NetworkPolicies
and the admin tier (ClusterNetworkPolicy and its v1alpha1 predecessors) restrict
connections on purpose, so the traces set them aside (the policy agent's hook lets every
packet through) and check the pod network under them; ``explain`` and ``reachability``
judge the policies.

Rules 2 and 3 are checked with real traces (first packet of a TCP connection to port 80;
a refusal counts as reaching the pod: the packet got there, nothing listened). Tracing
all P² pairs would take hours on a large cluster, so pods are grouped:

- a node is **regular** when its routing table is the one its CNI plugin generates (no
  ``ip route add/del``) and its podCIDR overlaps no other node's; a pod is regular when
  it is on a regular node, its IP is inside its node's podCIDR and no edited route
  singles out its address. Every regular node's table is made by one rule from the list
  of nodes, so the paths between regular pods are the same up to renaming: one
  same-node pair and one cross-node pair stand for all of them (and one node-to-pod
  trace for rule 3);
- every pair involving an irregular node or pod is traced against one representative of
  every other node (both directions).

So the check costs O(P + N log N) to classify plus 2 + 2·I·N traces, where I is the
number of irregular nodes and pods: a healthy cluster of any size needs a handful of
traces; each broken node adds about 2·N.
"""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.policy import enforced
from kubenet_lab.dataplane.tables import Dataplane
from kubenet_lab.model.packet import IPv4
from kubenet_lab.model.verification import NetworkModelReport, Problem, RuleCheck
from kubenet_lab.walk.packet import trace_packet

if TYPE_CHECKING:
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView
    from kubenet_lab.model.trace import Trace

__all__ = ["RULES", "verify_network_model"]

RULES = (
    "Each pod gets its own unique cluster-wide IP address.",
    "All pods can communicate with all other pods, on the same node or on different nodes, "
    "without NAT.",
    "Agents on a node (system daemons, the kubelet) can communicate with all pods on that node.",
)


def _n(count: int, one: str, many: str | None = None) -> str:
    """``1 trace``, ``2 traces``."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _overlaps(view: StoreView) -> list[tuple[str, str, str, str]]:
    """Pairs of nodes whose podCIDRs overlap: sort by start, compare neighbours."""
    spans = sorted(
        (int(net.network_address), int(net.broadcast_address), n.name, n.pod_cidr)
        for n in view.nodes for net in [ip_network(n.pod_cidr)])
    found = []
    reach_end, reach = -1, None
    for start, end, name, cidr in spans:
        if reach is not None and start <= reach_end:
            found.append((reach[0], reach[1], name, cidr))
        if end > reach_end:
            reach_end, reach = end, (name, cidr)
    return found


def _problem(t: Trace, src: Pod | str, src_ip: str, dst: Pod, pairs: int) -> Problem | None:
    """None when the packet reached ``dst`` with its source unchanged."""
    found = _find(t, src, src_ip, dst, pairs)
    if found is None:
        return None
    return replace(found, src_node=src if isinstance(src, str) else src.node, dst_node=dst.node)


def _find(t: Trace, src: Pod | str, src_ip: str, dst: Pod, pairs: int) -> Problem | None:
    src_name = src if isinstance(src, str) else src.ref
    reached = (t.destination_pod == dst.ref and t.hops[-1].action in ("deliver", "refuse"))
    if not reached:
        last = t.hops[-1]
        return Problem(src_name, dst.ref, last.index, str(last.location), t.reason, pairs)
    for hop in t.hops:
        seen = hop.packet.inner(IPv4).src
        if seen != src_ip:
            rule = hop.detail.partition("POSTROUTING: ")[2].partition(" masquerades")[0]
            by = f" by {rule}" if rule else ""
            return Problem(src_name, dst.ref, hop.index, str(hop.location),
                           f"the source address is rewritten from {src_ip} to {seen}{by}", pairs)
    return None


def verify_network_model(dp: Dataplane) -> NetworkModelReport:
    """See ``Cluster.verify_network_model``. The traces run on a fork of the runtime:
    checking changes nothing."""
    view = dp.view
    dp = Dataplane(dp.view, dp.runtime.fork())
    runtime = dp.runtime
    pods = view.pods
    nodes = view.nodes
    traces = 0

    # ---------------------------------------------------------------- rule 1
    problems1: list[Problem] = []
    by_ip: dict[str, str] = {}
    for pod in pods:
        if pod.ip in by_ip:
            problems1.append(Problem(by_ip[pod.ip], pod.ref, None, "",
                                     f"both pods have the address {pod.ip}", 1,
                                     view.pod(by_ip[pod.ip]).node, pod.node))
        else:
            by_ip[pod.ip] = pod.ref
    overlaps = _overlaps(view)
    bad_nodes = {n.name for n in nodes if runtime.route_edits(n.name)}
    for a, a_cidr, b, b_cidr in overlaps:
        bad_nodes |= {a, b}
        problems1.append(Problem(a, b, None, "", (
            f"the podCIDRs overlap: {a} has {a_cidr}, {b} has {b_cidr}; both nodes hand out "
            "addresses from the shared block and each routes it to itself"), 1, a, b))
    rule1 = RuleCheck(RULES[0], not problems1,
                      f"{len(pods)} pod addresses and {len(nodes)} podCIDRs", tuple(problems1))

    # ---------------------------------------------------------------- classes
    edited_prefixes = []
    for name in runtime.edited_nodes:
        for _, route in runtime.route_edits(name):
            if route.dst != "default":
                edited_prefixes.append(ip_network(route.dst))
    regular: dict[str, list[Pod]] = {}
    on_bad: dict[str, list[Pod]] = {}
    loners: list[Pod] = []  # pods irregular on their own: each is traced
    for pod in pods:
        node = view.node(pod.node)
        block = ip_network(node.pod_cidr)
        addr = IPv4Address(pod.ip)
        if addr not in block or any(addr in p and p.prefixlen > block.prefixlen
                                    for p in edited_prefixes):
            loners.append(pod)
        elif pod.node in bad_nodes:
            on_bad.setdefault(pod.node, []).append(pod)
        else:
            regular.setdefault(pod.node, []).append(pod)
    # one representative per node with pods, and how many pods each one stands for
    weight: dict[str, int] = {}
    reps: dict[str, Pod] = {}
    for group in (*regular.values(), *on_bad.values()):
        reps[group[0].node] = group[0]
        weight[group[0].ref] = len(group)
    for pod in loners:
        reps.setdefault(pod.node, pod)
        weight[pod.ref] = 1
    node_order = [n.name for n in nodes if n.name in reps]
    odd = [reps[n] for n in node_order if n in on_bad] + loners

    # ---------------------------------------------------------------- rule 2
    problems2: list[Problem] = []
    sizes = [len(v) for v in regular.values()]
    total = sum(sizes)
    same_pairs = sum(s * (s - 1) for s in sizes)
    cross_pairs = total * total - sum(s * s for s in sizes)

    def check(src: Pod, dst: Pod, pairs: int) -> None:
        nonlocal traces
        traces += 1
        found = _problem(trace_packet(dp, src.ref, dst.ref, port=80, policies=False), src,
                         src.ip, dst, pairs)
        if found is not None:
            problems2.append(found)

    same = next((v for v in regular.values() if len(v) >= 2), None)
    if same is not None:
        check(same[0], same[1], same_pairs)
    reg_nodes = [n for n in node_order if n in regular]
    if len(reg_nodes) >= 2:
        check(regular[reg_nodes[0]][0], regular[reg_nodes[1]][0], cross_pairs)
    seen: set[tuple[str, str]] = set()
    for one in odd:
        for other in node_order:
            peer = reps[other]
            for s, d in ((one, peer), (peer, one)):
                if s.ref != d.ref and (s.ref, d.ref) not in seen:
                    seen.add((s.ref, d.ref))
                    check(s, d, weight[s.ref] * weight[d.ref])
        group = on_bad.get(one.node, [])
        if one in group and len(group) >= 2:
            check(group[0], group[1], len(group) * (len(group) - 1))
    pairs = len(pods) * (len(pods) - 1)
    rule2 = RuleCheck(RULES[1], not problems2,
                      f"{pairs:,} ordered pairs of pods, by {_n(traces, 'representative trace')}",
                      tuple(problems2))

    # ---------------------------------------------------------------- rule 3
    problems3: list[Problem] = []
    node_traces = 0
    targets = []
    if reg_nodes:
        targets.append(regular[reg_nodes[0]][0])
    targets += odd
    for pod in targets:
        node_traces += 1
        t = trace_packet(dp, pod.node, pod.ref, port=80, policies=False)
        found = _problem(t, pod.node, t.src_ip, pod, 1)
        if found is not None:
            problems3.append(found)
    rule3 = RuleCheck(RULES[2], not problems3,
                      f"{len(pods):,} node-to-pod paths, by {_n(node_traces, 'trace')}",
                      tuple(problems3))
    traces += node_traces
    irregular = len(bad_nodes) + len(loners)
    note = (f"{len(pods):,} pods on {len(nodes)} nodes: {len(regular)} regular nodes share one "
            f"path shape, so 2 traces stand for their {same_pairs + cross_pairs:,} pairs; "
            f"{_n(irregular, 'irregular node or pod', 'irregular nodes or pods')} traced "
            "against every node. Cost: "
            "O(P + N log N) to classify, plus 2 + 2*I*N traces (I irregular), instead of P^2.")
    policies = len(view.network_policies) + len(view.admin_network_policies)
    if policies and enforced(view):
        note += (f" {_n(policies, 'network policy', 'network policies')} set aside: the "
                 "model holds barring intentional network segmentation (explain() and "
                 "reachability() judge the policies).")
    return NetworkModelReport(view.cni, (rule1, rule2, rule3), len(pods), pairs, traces,
                              note, tuple(n.name for n in nodes))
