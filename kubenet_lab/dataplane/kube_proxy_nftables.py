"""kube-proxy in nftables mode: the table ``ip kube-proxy`` it writes on each node.

Modelled release: **kube-proxy v1.35** (the nodes' v1.35.4, ``kubenet_lab.model.node``).
The ruleset is the one kubernetes/kubernetes ``pkg/proxy/nftables/proxier_test.go``
expects at commit 81810de635aa13aa0a32992f6def3aa9d6025ebc (the 1.34/1.35 code):
``baseRules`` and ``TestOverallNFTablesRules``, the literal ruleset of a fresh sync, give
the base chains, their priorities, the jump rules in each chain, the fixed chains and the
per-Service rule text; ``TestNoEndpointsReject``, ``TestClusterIPGeneral`` and
``TestLoadBalancer`` give the verdicts the walk reproduces. No readable ``proxier.go`` of
1.34-1.36 is stored, so where the fixture does not fix an order the lab follows the
structure of the older ``proxier.go`` (b0f823e6: ``setupNFTables``, ``syncProxyRules``,
``writeServiceToEndpointRules``, ``servicePortChainNameBase``, ``hashAndTruncate``) and
the ``nftablesBaseChains`` order as third-party walkthroughs of the v1.36.2 source quote
it (proxier.go lines 342-356: ``filterPreroutingPreDNATChain, filterOutputPreDNATChain``
at ``DNATPriority+"-10"``, ``filterInputChain, filterForwardChain, filterOutputChain``
at ``FilterPriority``, then the three nat chains), which only fixes the order ``nft
list`` prints the base chains in.

What changed since the v1.31 table the lab modelled before: the filter chains that must
see the destination before DNAT are two, ``filter-prerouting-pre-dnat`` and
``filter-output-pre-dnat`` at ``dstnat - 10`` (-110), each jumping to ``firewall-check``
only; ``filter-input``, ``filter-forward`` and ``filter-output`` moved to the ``filter``
priority (0), after DNAT, and ``filter-output`` took over ``cluster-ips-check`` from the
removed ``filter-output-post-dnat``; a service chain's masquerade rule no longer repeats
the protocol and port (``ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump
mark-for-masquerade``: the chain is reached from that one port's map element). Still
there in 1.35: the ``mark-for-masquerade`` chain (gone from 1.36) and one ``endpoint-``
chain per endpoint.

What is modelled
----------------
- **Base chains** (``nftablesBaseChains``): filter-prerouting-pre-dnat and
  filter-output-pre-dnat at ``dstnat - 10`` (-110), filter-input, filter-forward and
  filter-output at ``filter`` (0), nat-prerouting and nat-output at ``dstnat`` (-100),
  nat-postrouting at ``srcnat`` (100); the jumps of ``nftablesJumpChains``; the fixed
  chains services, masquerading, mark-for-masquerade, cluster-ips-check,
  reject-chain, service-endpoints-check, nodeport-endpoints-check, firewall-check.
- **Sets and maps**: ``cluster-ips``, ``nodeport-ips`` (the node's primary IP:
  kube-proxy's default ``--nodeport-addresses=primary`` in nftables mode; loopback is
  never added), the verdict maps ``service-ips``, ``service-nodeports``,
  ``no-endpoint-services``, ``no-endpoint-nodeports``, ``firewall-ips``, and one
  ``affinity-`` set (flags dynamic,timeout) per endpoint of a ClientIP Service.
- **Per Service port**: ``service-HASH-ns/name/proto/port`` (Cluster policy),
  ``local-`` (Local policy), ``external-`` (NodePort and LoadBalancer traffic),
  ``firewall-`` (``loadBalancerSourceRanges``), ``endpoint-HASH-...__IP/port``; HASH is
  the first 8 characters of base32(sha256(the readable suffix)). Load balancing is
  ``numgen random mod N vmap { 0 : goto endpoint-..., ... }``.

The printing follows ``nft list table ip kube-proxy`` of nft 1.0.x, checked against a
real listing of a v1.31-era kube-proxy table (the format, not the chains): the table's
comment, then the sets and maps, then the chains, each in the order kube-proxy created
them (a fresh sync: ``setupNFTables`` order, then the Service ports); the kernel's
normalised rule text (``meta mark set meta mark | 0x00004000``, a one-element anonymous
set printed without braces); priorities by name only where nft's ``prio2str`` allows the
name for that hook (``filter`` on any hook, ``dstnat`` on prerouting, ``srcnat`` on
postrouting), else as numbers; elements sorted as nft's ``list_expr_sort`` sorts them on
a little-endian host (plain addresses numerically; concatenations by their register
bytes read little-endian, which puts the port's low byte first), two addresses or one
concatenation per line. kube-proxy iterates its Service map in Go's random order; the
lab sorts the Service ports by ``servicePortName`` (as the iptables model does), so a
table whose Services were created over time lists their chains in another order on a
real node. Not confirmed: the ``flags dynamic,timeout`` / ``timeout 3h`` lines of an
affinity set (from nft's source, not from a sample); elements of an affinity set are
printed without ``expires`` (the lab has no clock). The ``Service`` record has no
``externalIPs`` and no ``loadBalancerSourceRanges`` yet: ``service_port_block`` takes
``source_ranges`` as an argument (tests build the firewall chain that way).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple

from kubenet_lab.controllers.endpointslice import service_endpoints
from kubenet_lab.dataplane.kube_proxy import endpoint_count, service_index, topology_endpoints
from kubenet_lab.model.bulk import base32_prefix, paused_collector
from kubenet_lab.model.progress_bar import ProgressBar

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.service import Service, ServicePort
    from kubenet_lab.model.store import StoreView

__all__ = [
    "BASE_CHAINS",
    "JUMP_CHAINS",
    "MASQ_MARK",
    "NftChain",
    "NftRule",
    "NftSet",
    "PortBlock",
    "TABLE",
    "chain_name_base",
    "cluster_ips",
    "endpoint_chain_base",
    "fixed_chains",
    "hash_and_truncate",
    "kube_proxy_table",
    "nft_list",
    "priority_text",
    "service_port_block",
    "vmap_lookup",
]

TABLE = "kube-proxy"
MASQ_MARK = "0x00004000"  # "%#08x" of 1 << 14 as kube-proxy writes it, as nft prints it
NAME_LENGTH_MAX = 256  # knftables.NameLengthMax
CHAIN_NAME_BASE_MAX = NAME_LENGTH_MAX - 16  # chainNameBaseLengthMax

#: ``nftablesBaseChains``: (name, type, hook, priority). The chains and priorities are
#: proxier_test.go's ``baseRules`` at 81810de6 (``add chain ip kube-proxy
#: filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }``, ...).
BASE_CHAINS: tuple[tuple[str, str, str, int], ...] = (
    ("filter-prerouting-pre-dnat", "filter", "prerouting", -110),
    ("filter-output-pre-dnat", "filter", "output", -110),
    ("filter-input", "filter", "input", 0),
    ("filter-forward", "filter", "forward", 0),
    ("filter-output", "filter", "output", 0),
    ("nat-prerouting", "nat", "prerouting", -100),
    ("nat-output", "nat", "output", -100),
    ("nat-postrouting", "nat", "postrouting", 100),
)

#: ``nftablesJumpChains``: (destination, source chain, ``ct state new`` or not), in the
#: order the rules are added. Each base chain's jumps come in the order of baseRules'
#: ``add rule`` lines for it (filter-forward: service-endpoints-check, then
#: cluster-ips-check; filter-input: nodeport-endpoints-check, then
#: service-endpoints-check; filter-output: service-endpoints-check, then
#: cluster-ips-check), which keeps the order within a chain when it compares.
JUMP_CHAINS: tuple[tuple[str, str, bool], ...] = (
    ("nodeport-endpoints-check", "filter-input", True),
    ("service-endpoints-check", "filter-input", True),
    ("service-endpoints-check", "filter-forward", True),
    ("service-endpoints-check", "filter-output", True),
    ("firewall-check", "filter-prerouting-pre-dnat", True),
    ("firewall-check", "filter-output-pre-dnat", True),
    ("services", "nat-output", False),
    ("services", "nat-prerouting", False),
    ("masquerading", "nat-postrouting", False),
    ("cluster-ips-check", "filter-forward", True),
    ("cluster-ips-check", "filter-output", True),
)

#: nft's standard priorities (ip family) and the hooks where nft prints the name.
_STD_PRIOS = (("raw", -300, None), ("mangle", -150, None), ("dstnat", -100, "prerouting"),
              ("filter", 0, None), ("security", 50, None), ("srcnat", 100, "postrouting"))


def priority_text(hook: str, prio: int) -> str:
    """A base chain's priority as nft's ``prio2str`` prints it.

    >>> priority_text("prerouting", -110), priority_text("input", -110)
    ('dstnat - 10', '-110')
    >>> priority_text("postrouting", 100), priority_text("output", -100)
    ('srcnat', '-100')
    """
    for name, value, only in _STD_PRIOS:
        if abs(prio - value) <= 10:
            if only is not None and only != hook:
                break
            off = prio - value
            return name + (f" + {off}" if off > 0 else f" - {-off}" if off < 0 else "")
    return str(prio)


# ---------------------------------------------------------------- names
def hash_and_truncate(name: str) -> str:
    """``hashAndTruncate``: 8 base32 characters of sha256(name), a dash, the name.

    >>> hash_and_truncate("ns1/svc1/tcp/p80")
    'ULMVA6XW-ns1/svc1/tcp/p80'
    """
    out = base32_prefix(hashlib.sha256(name.encode()).digest(), 8) + "-" + name
    if len(out) > CHAIN_NAME_BASE_MAX:
        out = out[:CHAIN_NAME_BASE_MAX - 3] + "..."
    return out


def chain_name_base(namespace: str, name: str, protocol: str, port_name: str | None) -> str:
    """``servicePortChainNameBase``: ``HASH-ns/name/proto/portname``.

    >>> chain_name_base("ns2", "svc2", "TCP", "p80")
    '42NFTM6N-ns2/svc2/tcp/p80'
    """
    return hash_and_truncate(f"{namespace}/{name}/{protocol.lower()}/{port_name or ''}")


def endpoint_chain_base(namespace: str, name: str, protocol: str, port_name: str | None,
                        endpoint: str) -> str:
    """``servicePortEndpointChainNameBase``: ``HASH-ns/name/proto/port__IP/port``
    (``endpoint`` is ``"ip:port"``; an IPv6 address has its colons made dots).

    >>> endpoint_chain_base("ns1", "svc1", "tcp", "p80", "10.180.0.1:80")
    '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80'
    """
    ip, _, port = endpoint.rpartition(":")
    ip = ip.strip("[]").replace(":", ".")
    return hash_and_truncate(f"{namespace}/{name}/{protocol.lower()}/{port_name or ''}"
                             f"__{ip}/{port}")


# ---------------------------------------------------------------- records
class NftRule(NamedTuple):
    """One rule: its text as ``nft list`` prints it, what it matches and what it does
    (the walk follows ``match`` and ``action``, never the text).

    ``match`` is a tuple of conditions, each a tuple: ``("ct_new",)``, ``("daddr", ip)``,
    ``("daddr_in", set)``, ``("daddr_cidr", cidr)``, ``("saddr", ip)``,
    ``("saddr_cidr", cidr)``, ``("saddr_not_cidr", cidr)``, ``("saddr_in", set)``,
    ``("saddr_not_in", (cidr, ...))``, ``("dport", proto, port)``, ``("l4proto",
    proto)``, ``("fib_saddr_local",)``, ``("mark_unset",)``. ``action`` is one of
    ``("jump", chain)``, ``("goto", chain)``, ``("return",)``, ``("drop",)``,
    ``("reject",)``, ``("vmap", map)``, ``("numgen", (chain, ...))``, ``("dnat", ip,
    port)``, ``("update", set)``, ``("mark_set",)``, ``("mark_clear",)``,
    ``("masquerade",)``.
    """

    text: str
    match: tuple[tuple, ...]
    action: tuple


@dataclass(frozen=True, slots=True)
class NftChain:
    """A chain: base chains have ``base = (type, hook, priority)``."""

    name: str
    rules: tuple[NftRule, ...]
    base: tuple[str, str, int] | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class NftSet:
    """A set or a verdict map. ``elements`` maps a key (a tuple: ``(ip,)``, ``(ip,
    proto, port)`` or ``(proto, port)``) to ``(verdict, comment)`` (verdict None in a
    set)."""

    name: str
    type: str
    is_map: bool
    comment: str | None = None
    flags: tuple[str, ...] = ()
    timeout: int | None = None
    elements: dict[tuple, tuple[str | None, str | None]] = field(default_factory=dict)


def _r(text: str, match: tuple[tuple, ...], action: tuple) -> NftRule:
    return NftRule(text, match, action)


_NEW = ("ct_new",)
_L4 = "meta l4proto . th dport"


def _setup(view: StoreView) -> tuple[list[NftChain], list[NftSet]]:
    """``setupNFTables``: the fixed chains (in creation order) and the sets and maps."""
    jump = {c: [] for c, *_ in BASE_CHAINS}
    for dst, src, new in JUMP_CHAINS:
        jump[src].append(_r(("ct state new " if new else "") + f"jump {dst}",
                            (_NEW,) if new else (), ("jump", dst)))
    chains = [NftChain(n, tuple(jump[n]), (t, h, p)) for n, t, h, p in BASE_CHAINS]
    cidr = view.service_cidr
    fixed = {
        "nodeport-endpoints-check": (_r(f"ip daddr @nodeport-ips {_L4} vmap "
                                        "@no-endpoint-nodeports",
                                        (("daddr_in", "nodeport-ips"),),
                                        ("vmap", "no-endpoint-nodeports")),),
        "service-endpoints-check": (_r(f"ip daddr . {_L4} vmap @no-endpoint-services", (),
                                       ("vmap", "no-endpoint-services")),),
        "firewall-check": (_r(f"ip daddr . {_L4} vmap @firewall-ips", (),
                              ("vmap", "firewall-ips")),),
        "services": (_r(f"ip daddr . {_L4} vmap @service-ips", (), ("vmap", "service-ips")),
                     _r(f"ip daddr @nodeport-ips {_L4} vmap @service-nodeports",
                        (("daddr_in", "nodeport-ips"),), ("vmap", "service-nodeports"))),
        "masquerading": (
            _r(f"meta mark & {MASQ_MARK} == 0x00000000 return", (("mark_unset",),),
               ("return",)),
            _r(f"meta mark set meta mark ^ {MASQ_MARK}", (), ("mark_clear",)),
            _r("masquerade fully-random", (), ("masquerade",))),
        "cluster-ips-check": (
            _r('ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of '
               'ClusterIPs"', (("daddr_in", "cluster-ips"),), ("reject",)),
            _r(f'ip daddr {cidr} drop comment "Drop traffic to unallocated ClusterIPs"',
               (("daddr_cidr", cidr),), ("drop",))),
        "mark-for-masquerade": (_r(f"meta mark set meta mark | {MASQ_MARK}", (),
                                   ("mark_set",)),),
    }
    for name in ("nodeport-endpoints-check", "service-endpoints-check", "firewall-check",
                 "services", "masquerading", "cluster-ips-check", "mark-for-masquerade"):
        chains.append(NftChain(name, fixed[name]))
    chains.append(NftChain("reject-chain", (_r("reject", (), ("reject",)),),
                           comment="helper for @no-endpoint-services / "
                           "@no-endpoint-nodeports"))
    addr3 = "ipv4_addr . inet_proto . inet_service : verdict"
    sets = [
        NftSet("cluster-ips", "ipv4_addr", False, "Active ClusterIPs"),
        NftSet("nodeport-ips", "ipv4_addr", False, "IPs that accept NodePort traffic"),
        NftSet("no-endpoint-services", addr3, True,
               "vmap to drop or reject packets to services with no endpoints"),
        NftSet("no-endpoint-nodeports", "inet_proto . inet_service : verdict", True,
               "vmap to drop or reject packets to service nodeports with no endpoints"),
        NftSet("firewall-ips", addr3, True,
               "destinations that are subject to LoadBalancerSourceRanges"),
        NftSet("service-ips", addr3, True, "ClusterIP, ExternalIP and LoadBalancer IP traffic"),
        NftSet("service-nodeports", "inet_proto . inet_service : verdict", True,
               "NodePort traffic"),
    ]
    return chains, sets


def fixed_chains(view: StoreView) -> dict[str, NftChain]:
    """The chains ``setupNFTables`` writes, by name (the same on every node)."""
    return view.cached("kpn-fixed", lambda: {c.name: c for c in _setup(view)[0]})


# ---------------------------------------------------------------- one Service port
@dataclass
class PortBlock:
    """What one Service port adds on one node: its chains (in creation order), its
    affinity sets ``(name, timeout)``, its map and set elements (``{map: {key:
    (verdict, comment)}}``) and the endpoint each ``endpoint-`` chain DNATs to."""

    name: str
    chains: list[NftChain] = field(default_factory=list)
    affinity: list[tuple[str, int]] = field(default_factory=list)
    elements: dict[str, dict[tuple, tuple[str | None, str | None]]] = field(
        default_factory=dict)
    endpoints: dict[str, tuple[str, int, str, str]] = field(default_factory=dict)

    def add(self, map_name: str, key: tuple, verdict: str | None,
            comment: str | None = None) -> None:
        self.elements.setdefault(map_name, {})[key] = (verdict, comment)


def _local_policy(svc: Service, sp: ServicePort) -> bool:
    external = sp.node_port is not None or svc.load_balancer_ip is not None
    return svc.internal_traffic_policy == "Local" or (
        external and svc.external_traffic_policy == "Local") or (
        svc.traffic_distribution is not None)  # topology hints: per node too


def service_port_block(view: StoreView, node: Node, svc: Service, sp: ServicePort,
                       source_ranges: tuple[str, ...] = ()) -> PortBlock:
    """The chains and elements of one Service port on ``node`` (cached per generation,
    shared by all nodes unless a traffic policy is Local). ``source_ranges`` are the
    Service's ``loadBalancerSourceRanges`` (not in the lab's Service record yet)."""
    key = ("kpn-block", svc.ref, sp.port, sp.protocol,
           node.name if _local_policy(svc, sp) or source_ranges else None, source_ranges)
    return view.cached(key, lambda: _build_block(view, node, svc, sp, source_ranges))


def _build_block(view: StoreView, node: Node, svc: Service, sp: ServicePort,
                 source_ranges: tuple[str, ...]) -> PortBlock:
    """proxier.go ``syncProxyRules``, the loop body for one service port."""
    b = PortBlock(svc.port_name(sp))
    proto = sp.protocol.lower()
    base = chain_name_base(svc.namespace, svc.name, proto, sp.name)
    cluster_chain, local_chain = "service-" + base, "local-" + base
    ext_chain, fw_chain = "external-" + base, "firewall-" + base
    all_eps = service_endpoints(view, svc, sp)
    local_eps = tuple(e for e in all_eps if e[2] == node.name)
    lb_vips = (svc.load_balancer_ip,) if svc.load_balancer_ip else ()
    accessible = sp.node_port is not None or bool(lb_vips)
    itp_local = svc.internal_traffic_policy == "Local"
    etp_local = accessible and svc.external_traffic_policy == "Local"
    uses_cluster_eps = not itp_local or (accessible and not etp_local)
    uses_local_eps = itp_local or etp_local
    cluster_eps = topology_endpoints(view, node, svc, sp) if uses_cluster_eps else ()
    local_list = local_eps if uses_local_eps else ()
    wanted = set(cluster_eps) | set(local_list)
    reachable = tuple(e for e in all_eps if e in wanted)
    has_eps = bool(all_eps)
    affinity = svc.session_affinity == "ClientIP"
    ep_names: dict[tuple, tuple[str, str]] = {}
    for ep in reachable:
        ep_base = endpoint_chain_base(svc.namespace, svc.name, proto, sp.name,
                                      f"{ep[0]}:{ep[1]}")
        ep_names[ep] = ("endpoint-" + ep_base, "affinity-" + ep_base)
        if affinity:
            b.affinity.append(("affinity-" + ep_base, svc.affinity_timeout))
    order: list[str] = [ep_names[e][0] for e in reachable]
    rules: dict[str, list[NftRule]] = {c: [] for c in order}
    uses_cluster_chain = bool(cluster_eps)
    uses_local_chain = bool(local_list)
    if uses_cluster_chain:
        order.append(cluster_chain)
        rules[cluster_chain] = []
    if uses_local_chain:
        order.append(local_chain)
        rules[local_chain] = []
    internal_chain, has_internal = cluster_chain, has_eps
    if itp_local:
        internal_chain, has_internal = local_chain, bool(local_eps)
    external_policy_chain, has_external = cluster_chain, has_eps
    if etp_local:
        external_policy_chain, has_external = local_chain, bool(local_eps)
    uses_ext = has_eps and accessible
    if uses_ext:
        order.append(ext_chain)
        rules[ext_chain] = []
    if not has_eps:
        internal_verdict = external_verdict = "goto reject-chain"
    else:
        internal_verdict = "" if has_internal else "drop"
        external_verdict = "" if has_external else "drop"
    name = b.name
    ip = svc.cluster_ip
    b.add("cluster-ips", (ip,), None)
    if has_internal:
        b.add("service-ips", (ip, proto, sp.port), f"goto {internal_chain}")
    else:
        b.add("no-endpoint-services", (ip, proto, sp.port), internal_verdict, name)
    uses_fw = bool(lb_vips) and bool(source_ranges)
    if uses_fw:
        order.append(fw_chain)
        rules[fw_chain] = []
    for lbip in lb_vips:
        if has_eps:
            b.add("service-ips", (lbip, proto, sp.port), f"goto {ext_chain}")
        if uses_fw:
            b.add("firewall-ips", (lbip, proto, sp.port), f"goto {fw_chain}")
    if not has_external:
        for lbip in lb_vips:
            b.add("no-endpoint-services", (lbip, proto, sp.port), external_verdict, name)
    if sp.node_port is not None:
        if has_eps:
            b.add("service-nodeports", (proto, sp.node_port), f"goto {ext_chain}")
        if not has_external:
            b.add("no-endpoint-nodeports", (proto, sp.node_port), external_verdict, name)
    cidr = view.cluster_cidr
    if has_internal:  # 1.35: no "tcp dport 80" (TestOverallNFTablesRules' svc1 chain)
        rules[internal_chain].append(_r(
            f"ip daddr {ip} ip saddr != {cidr} jump mark-for-masquerade",
            (("daddr", ip), ("saddr_not_cidr", cidr)), ("jump", "mark-for-masquerade")))
    if uses_ext:
        ext = rules[ext_chain]
        if not etp_local:
            ext.append(_r("jump mark-for-masquerade", (), ("jump", "mark-for-masquerade")))
        else:
            ext.append(_r(f'ip saddr {cidr} goto {cluster_chain} comment "short-circuit '
                          'pod traffic"', (("saddr_cidr", cidr),), ("goto", cluster_chain)))
            ext.append(_r('fib saddr type local jump mark-for-masquerade comment '
                          '"masquerade local traffic"', (("fib_saddr_local",),),
                          ("jump", "mark-for-masquerade")))
            ext.append(_r(f'fib saddr type local goto {cluster_chain} comment '
                          '"short-circuit local traffic"', (("fib_saddr_local",),),
                          ("goto", cluster_chain)))
        if has_external:
            ext.append(_r(f"goto {external_policy_chain}", (),
                          ("goto", external_policy_chain)))
    if uses_fw:
        sources = list(source_ranges)
        if any(ipaddress.ip_address(node.ip) in ipaddress.ip_network(c, strict=False)
               for c in source_ranges):
            sources += list(lb_vips)
        shown = sorted(sources, key=lambda c: int(ipaddress.ip_network(
            c, strict=False).network_address))
        text = shown[0] if len(shown) == 1 else "{ " + ", ".join(shown) + " }"
        rules[fw_chain].append(_r(f"ip saddr != {text} drop",
                                  (("saddr_not_in", tuple(sources)),), ("drop",)))
    for chain, eps, used in ((cluster_chain, cluster_eps, uses_cluster_chain),
                             (local_chain, local_list, uses_local_chain)):
        if not used:
            continue
        out = rules[chain]
        if affinity:
            for ep in eps:
                sep, aff = ep_names[ep]
                out.append(_r(f"ip saddr @{aff} goto {sep}", (("saddr_in", aff),),
                              ("goto", sep)))
        targets = tuple(ep_names[ep][0] for ep in eps)
        vmap = ", ".join(f"{i} : goto {t}" for i, t in enumerate(targets))
        out.append(_r(f"numgen random mod {len(targets)} vmap {{ {vmap} }}", (),
                      ("numgen", targets)))
    for ep in reachable:
        sep, aff = ep_names[ep]
        out = rules[sep]
        out.append(_r(f"ip saddr {ep[0]} jump mark-for-masquerade", (("saddr", ep[0]),),
                      ("jump", "mark-for-masquerade")))
        if affinity:
            out.append(_r(f"update @{aff} {{ ip saddr }}", (), ("update", aff)))
        out.append(_r(f"meta l4proto {proto} dnat to {ep[0]}:{ep[1]}",
                      (("l4proto", proto),), ("dnat", ep[0], ep[1])))
        b.endpoints[sep] = ep
    b.chains = [NftChain(c, tuple(rules[c])) for c in order]
    return b


# ---------------------------------------------------------------- the table
@dataclass
class KubeProxyTable:
    """The table ``ip kube-proxy`` of one node: sets and maps, chains, both in the
    order ``nft list`` prints them, and the endpoint behind each ``endpoint-`` chain."""

    sets: dict[str, NftSet]
    chains: dict[str, NftChain]
    endpoints: dict[str, tuple[str, int, str, str]]


def _ports(view: StoreView) -> list[tuple[Service, ServicePort]]:
    def build() -> list[tuple[Service, ServicePort]]:
        out = [(s, p) for s in view.services if s.cluster_ip is not None for p in s.ports]
        out.sort(key=lambda t: (t[0].port_name(t[1]), t[1].protocol))
        return out

    return view.cached("kpn-ports", build)


def cluster_ips(view: StoreView) -> frozenset[str]:
    """The ``cluster-ips`` set: every allocated ClusterIP (of a Service kube-proxy
    handles)."""
    return view.cached("kpn-cluster-ips", lambda: frozenset(
        s.cluster_ip for s, _ in _ports(view)))


def _node_specific(view: StoreView) -> bool:
    """Does some Service port have chains of its own on each node (``service_port_block``)?"""
    return view.cached("kpn-node-specific", lambda: any(
        _local_policy(svc, sp) for svc, sp in _ports(view)))


def kube_proxy_table(view: StoreView, node: Node) -> KubeProxyTable:
    """The whole table of ``node`` (cached per Store generation). Unless a port's traffic
    policy is Local, every node's table is the same but for the node's own address in
    ``nodeport-ips``: it is built once, and each node's shares its chains and maps."""
    def build() -> KubeProxyTable:
        if _node_specific(view):
            return _build_table(view, node, f"kube-proxy nftables table of {node.name}")
        shared = _shared_table(view)
        sets = dict(shared.sets)
        nodeport_ips = sets["nodeport-ips"]
        sets["nodeport-ips"] = replace(nodeport_ips, elements={
            **nodeport_ips.elements, (node.ip,): (None, None)})
        return KubeProxyTable(sets, shared.chains, shared.endpoints)

    return view.cached(("kpn-table", node.name), build)


def _shared_table(view: StoreView) -> KubeProxyTable:
    """The table every node has when no port is node-specific, ``nodeport-ips`` empty."""
    return view.cached(("kpn-table", None), lambda: _build_table(
        view, None, "kube-proxy nftables table (every node)"))


def _build_table(view: StoreView, node: Node | None, what: str) -> KubeProxyTable:
    """``syncProxyRules`` for ``node`` (None: any node, the ports being node-neutral)."""
    fixed, sets = _setup(view)
    by_name = {s.name: s for s in sets}
    if node is not None:
        by_name["nodeport-ips"].elements[(node.ip,)] = (None, None)
    where = node if node is not None else view.control_plane()
    chains = {c.name: c for c in fixed}
    endpoints: dict[str, tuple[str, int, str, str]] = {}
    affinity: list[NftSet] = []
    ports = _ports(view)
    with ProgressBar(what, len(ports), unit="Service ports",
                     work=endpoint_count(view) // 4) as bar, paused_collector():
        for svc, sp in ports:
            b = service_port_block(view, where, svc, sp)
            for map_name, elems in b.elements.items():
                by_name[map_name].elements.update(elems)
            for name, timeout in b.affinity:
                affinity.append(NftSet(name, "ipv4_addr", False, None,
                                       ("dynamic", "timeout"), timeout))
            for c in b.chains:
                chains[c.name] = c
            endpoints.update(b.endpoints)
            bar.advance()
    all_sets = {s.name: s for s in sets}
    all_sets.update((s.name, s) for s in affinity)
    return KubeProxyTable(all_sets, chains, endpoints)


# ---------------------------------------------------------------- nft list
_NL = ",\n\t\t\t     "  # nft's calculate_delim for a named set: a new line


def _sort_key(key: tuple) -> int:
    """nft's ``list_expr_sort`` order: a plain address by value; a concatenation by its
    32-bit-padded register bytes read as a little-endian number."""
    if len(key) == 1:
        return int(ipaddress.IPv4Address(key[0]))
    data = b""
    for part in key:
        if isinstance(part, int):
            data += part.to_bytes(2, "big") + b"\0\0"
        elif part in _PROTO_NUMBERS:
            data += bytes((_PROTO_NUMBERS[part], 0, 0, 0))
        else:
            data += ipaddress.IPv4Address(part).packed
    return int.from_bytes(data, "little")


_PROTO_NUMBERS = {"tcp": 6, "udp": 17, "sctp": 132}


def _elements(s: NftSet, extra: tuple[str, ...] = ()) -> str:
    items = sorted(s.elements.items(), key=lambda kv: _sort_key(kv[0]))
    texts = []
    for key, (verdict, comment) in items:
        text = " . ".join(str(k) for k in key)
        if comment is not None:
            text += f' comment "{comment}"'
        if verdict is not None:
            text += f" : {verdict}"
        texts.append(text)
    texts += extra
    if not texts:
        return ""
    if s.is_map:
        return "{ " + _NL.join(texts) + " }"
    out = []
    for i, t in enumerate(texts):  # addresses: two to a line
        out.append(t if i == 0 else (", " if i % 2 else _NL) + t)
    return "{ " + "".join(out) + " }"


def _set_text(s: NftSet, members: tuple[str, ...] = ()) -> list[str]:
    lines = [f"\t{'map' if s.is_map else 'set'} {s.name} {{", f"\t\ttype {s.type}"]
    if s.flags:
        lines.append("\t\tflags " + ",".join(s.flags))
    if s.timeout is not None:
        lines.append(f"\t\ttimeout {_duration(s.timeout)}")
    if s.comment is not None:
        lines.append(f'\t\tcomment "{s.comment}"')
    elements = _elements(s, members)
    if elements:
        lines.append(f"\t\telements = {elements}")
    lines.append("\t}")
    return lines


def _duration(seconds: int) -> str:
    """nft's ``time_print``: ``3h``, ``1d2h``, ``10s``."""
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


def _chain_text(c: NftChain) -> list[str]:
    lines = [f"\tchain {c.name} {{"]
    if c.comment is not None:
        lines.append(f'\t\tcomment "{c.comment}"')
    if c.base is not None:
        kind, hook, prio = c.base
        lines.append(f"\t\ttype {kind} hook {hook} priority {priority_text(hook, prio)}; "
                     "policy accept;")
    lines += [f"\t\t{r.text}" for r in c.rules]
    lines.append("\t}")
    return lines


def _static_text(view: StoreView, node: Node) -> tuple[list[str], dict[int, NftSet]]:
    """The table as text, one object a piece (cached); affinity sets whose members the
    runtime knows are rendered again at listing time. A node whose table is the shared
    one (``kube_proxy_table``) takes the shared pieces with its own ``nodeport-ips``."""
    def render() -> tuple[list[str], dict[int, NftSet]]:
        with paused_collector():
            if _node_specific(view):
                return _render(kube_proxy_table(view, node))[:2]
            own = kube_proxy_table(view, node).sets["nodeport-ips"]
            pieces, dynamic, at = view.cached(("kpn-text", None),
                                              lambda: _render(_shared_table(view)))
            pieces = list(pieces)
            pieces[at] = "\n".join(_set_text(own)) + "\n"
            return pieces, dynamic

    def _render(t: KubeProxyTable) -> tuple[list[str], dict[int, NftSet], int]:
        pieces = ['table ip kube-proxy {\n\tcomment "rules for kube-proxy"\n']
        dynamic: dict[int, NftSet] = {}
        at = 0
        for s in t.sets.values():
            if s.flags:
                dynamic[len(pieces)] = s
            if s.name == "nodeport-ips":
                at = len(pieces)
            pieces.append("\n".join(_set_text(s)) + "\n")
        # a Service port's chains are the same objects on every node that shares them:
        # their text is made once (kept with the chain, so its id stays its own)
        texts: dict[int, tuple[NftChain, str]] = view.cached("kpn-chain-text", dict)
        for c in t.chains.values():
            known = texts.get(id(c))
            if known is None:
                known = texts[id(c)] = (c, "\n".join(_chain_text(c)) + "\n")
            pieces.append(known[1])
        return pieces, dynamic, at

    return view.cached(("kpn-text", node.name), render)


def nft_list(view: StoreView, node: Node, members: dict[str, tuple[str, ...]] | None = None,
             what: str = "table", name: str | None = None) -> str | None:
    """``nft list table ip kube-proxy`` (``what="table"``), or one ``chain``, ``set``
    or ``map`` of it by ``name`` (None if there is none). ``members`` are the addresses
    the kernel holds in the affinity sets (``{set: (ip, ...)}``)."""
    members = members or {}
    if what == "table":
        pieces, dynamic = _static_text(view, node)
        if members:
            pieces = list(pieces)
            for i, s in dynamic.items():
                if members.get(s.name):
                    pieces[i] = "\n".join(_set_text(s, members[s.name])) + "\n"
        return "\n".join(pieces) + "}\n"
    t = kube_proxy_table(view, node)
    if what == "chain":
        c = t.chains.get(name or "")
        if c is None:
            return None
        body = _chain_text(c)
    else:
        s = t.sets.get(name or "")
        if s is None or s.is_map != (what == "map"):
            return None
        body = _set_text(s, members.get(s.name, ()))
    return "table ip kube-proxy {\n" + "\n".join(body) + "\n}\n"


def vmap_lookup(view: StoreView, node: Node, map_name: str, key: tuple
                ) -> tuple[str | None, str | None] | None:
    """The element ``key`` of ``map_name`` on ``node`` — a dict lookup on kube-proxy's
    Service index and the one Service port's elements, never a scan of the table."""
    vips, node_ports = service_index(view)
    if map_name == "service-nodeports" or map_name == "no-endpoint-nodeports":
        hit = node_ports.get((key[0].upper(), key[1]))
    else:
        hit = vips.get((key[0], key[1].upper(), key[2]))
    if hit is None:
        return None
    b = service_port_block(view, node, *hit)
    return b.elements.get(map_name, {}).get(key)
