"""kube-proxy in iptables mode: the rules it writes on each node.

Modelled release: **kube-proxy v1.35** (the nodes' v1.35.4). Sources: kubernetes/
kubernetes ``pkg/proxy/iptables/proxier.go`` ``syncProxyRules`` and ``proxier_test.go``
``TestOverallIPTablesRules``. No 1.35 checkout of that test is stored; the expected
ruleset is the same in a fork at the 1.33 code (aojea/kubernetes 4e7ccb27: the test's
``async.NewBoundedFrequencyRunner(..., 0, 30*time.Second, time.Minute)``) and in one at
the 1.36/1.37 development code (kairosci/kubernetes 235e4894, ``pkg/proxy/runner``, April
2026), so the rules below are those of every release between, 1.35 included. Against
the 1.31-era fixture the lab followed before, the only change in what the lab models is
the localhost NodePort rule below (already in 1.31, not modelled until now); the filter
and nat rules of that 1.36/1.37 fixture are otherwise the lab's. What the lab reproduces:

- **Chain names** (§1.2): ``KUBE-SVC-``/``KUBE-SVL-``/``KUBE-EXT-``/``KUBE-FW-`` plus
  ``base32(sha256(servicePortName + protocol))[:16]``, and ``KUBE-SEP-`` plus
  ``base32(sha256(servicePortName + protocol + "ip:port"))[:16]``; ``servicePortName``
  is ``ns/name:port`` (``ns/name`` for an unnamed port), ``protocol`` lower case.
- **Rules**: for every Service port with ready endpoints, ``KUBE-SERVICES`` jumps from
  the cluster IP to ``KUBE-SVC`` (or ``KUBE-SVL`` with ``internalTrafficPolicy:
  Local``); ``KUBE-NODEPORTS`` jumps from the node port to ``KUBE-EXT``; ``KUBE-SVC``
  marks off-cluster sources for masquerade (``! -s <clusterCIDR>``), then picks an
  endpoint with ``statistic`` rules of probability 1/(n-i); each ``KUBE-SEP`` marks
  hairpin traffic and DNATs. ClientIP affinity adds ``recent`` rules. A Service with
  no endpoints gets only a filter ``REJECT``; a Local policy without local endpoints a
  filter ``DROP``.
- **Text**: ``iptables_save`` prints what ``iptables-save`` shows (the kernel's
  normalised order: ``-s``/``-d`` with ``/32``, ``-p`` first; probabilities with 11
  decimals as the kernel stores them; ``MARK --or-mark`` saved as ``--set-xmark``).
  Chains are listed built-ins first, then user chains in name order, as iptables-save
  does. kube-proxy walks Services in Go map order, which is random; the lab sorts
  them by ``servicePortName`` so the text is deterministic. Rules of other agents
  (flannel, the CNI's portmap) are not included.
- **Fixed rules**: KUBE-FORWARD drops conntrack-INVALID packets through the nfacct
  counter ``ct_state_invalid_dropped_pkts`` (the ``kubeproxy_iptables_ct_state_invalid
  _dropped_packets_total`` metric, PR #122812, since 1.31; kube-proxy uses the counter
  when the kernel has nfnetlink_acct, as Ubuntu's does, and writes the DROP unless
  ``nf_conntrack_tcp_be_liberal`` is set, which Ubuntu leaves at 0).
- **NodePorts on localhost**: before each Service's NodePort rule in KUBE-NODEPORTS, the
  same jump for ``-d 127.0.0.0/8`` counted by the nfacct counter
  ``localhost_nps_accepted_pkts`` (PR #125015, since 1.31): ``localhostNodePorts`` is
  true by default in iptables mode, and ``NewProxier`` turns it off only when
  ``nodePortAddresses`` leaves out loopback (kubeadm sets none: every address), so
  kube-proxy writes it for IPv4 (``syncProxyRules``: ``if proxier.localhostNodePorts &&
  proxier.ipFamily == v1.IPv4Protocol && proxier.nfAcctCounters[metrics.
  LocalhostNodePortAcceptedNFAcctCounter]``, inside ``if hasEndpoints``). A connection
  to 127.0.0.1:NODEPORT from the node matches it; one to the node's address the next.
- **Large clusters**: with more than 1,000 endpoints in all, kube-proxy drops the
  ``-m comment`` of the endpoint rules (``largeClusterEndpointsThreshold``).

The walk (``kubenet_lab.walk.netfilter``) follows the same rule objects that
``iptables_save`` prints, first match wins, drawing ``statistic`` matches from the
runtime's seeded generator.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from kubenet_lab.controllers.endpointslice import endpoint_hints, node_zone, service_endpoints
from kubenet_lab.model.bulk import base32_prefix, paused_collector
from kubenet_lab.model.progress_bar import ProgressBar

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.service import Service, ServicePort
    from kubenet_lab.model.store import StoreView

__all__ = [
    "HOOK_COMMENT",
    "LOCALHOST_NODEPORT_COUNTER",
    "MASQ_MARK",
    "NODEPORTS_COMMENT",
    "Rule",
    "ServiceRules",
    "endpoint_chain_name",
    "endpoint_count",
    "iptables_save",
    "is_service_address",
    "kube_proxy_tables",
    "port_proto_hash",
    "probability",
    "proxied",
    "service_block",
    "service_chain_name",
    "service_index",
    "topology_endpoints",
    "topology_mode",
]

MASQ_MARK = "0x4000"  # 1 << masqueradeBit (14)
LARGE_CLUSTER_ENDPOINTS = 1000
HOOK_COMMENT = "kubernetes service portals"
NODEPORTS_COMMENT = "kubernetes service nodeports; NOTE: this must be the last rule in this chain"
#: The nfacct counter of KUBE-FORWARD's INVALID drop (metrics.go
#: ``IPTablesCTStateInvalidDroppedNFAcctCounter``).
CT_STATE_INVALID_COUNTER = "ct_state_invalid_dropped_pkts"
#: The nfacct counter of the localhost NodePort rules (metrics.go
#: ``LocalhostNodePortAcceptedNFAcctCounter``).
LOCALHOST_NODEPORT_COUNTER = "localhost_nps_accepted_pkts"
#: Where kube-proxy accepts NodePorts besides the node's addresses (iptables mode).
LOCALHOST_NET = "127.0.0.0/8"


@lru_cache(maxsize=200_000)
def port_proto_hash(port_name: str, protocol: str) -> str:
    """``portProtoHash``: 16 base32 characters of sha256(portName + protocol).

    >>> port_proto_hash("ns1/svc1:p80", "tcp")
    'XPGD46QRK7WJZT7O'
    """
    digest = hashlib.sha256((port_name + protocol.lower()).encode()).digest()
    return base32_prefix(digest, 16)


def service_chain_name(prefix: str, port_name: str, protocol: str) -> str:
    """``KUBE-SVC-``, ``KUBE-SVL-``, ``KUBE-EXT-`` or ``KUBE-FW-`` chain of a port.

    >>> service_chain_name("KUBE-SVC-", "default/kubernetes:https", "TCP")
    'KUBE-SVC-NPX46M4PTMTKRN6Y'
    """
    return prefix + port_proto_hash(port_name, protocol)


def endpoint_chain_name(port_name: str, protocol: str, endpoint: str) -> str:
    """``KUBE-SEP-`` chain of one endpoint (``"ip:port"``).

    >>> endpoint_chain_name("ns1/svc1:p80", "tcp", "10.180.0.1:80")
    'KUBE-SEP-SXIVWICOYRO3J4NJ'
    """
    digest = hashlib.sha256((port_name + protocol.lower() + endpoint).encode()).digest()
    return "KUBE-SEP-" + base32_prefix(digest, 16)


@lru_cache(maxsize=1024)
def probability(n: int) -> tuple[str, str, float]:
    """The ``statistic`` probability 1/n: as kube-proxy writes it (``%0.10f``), as
    ``iptables-save`` prints it (the kernel keeps ``lround(2**31 * p)``; ``%.11f`` of
    that over 2**31), and the probability the kernel really applies.

    >>> probability(3)[:2]
    ('0.3333333333', '0.33333333349')
    >>> probability(5)[1]
    '0.20000000019'
    """
    restore = f"{1.0 / n:0.10f}"
    stored = round(0x80000000 * float(restore))
    value = stored / 0x80000000
    return restore, f"{value:.11f}", value




class Rule(NamedTuple):
    """One iptables rule, in the fields ``iptables-save`` prints, in its order (a named
    tuple: 170,000 of them are built for 10,000 Services)."""

    chain: str
    target: str
    target_args: str = ""
    src: str | None = None
    src_neg: bool = False
    dst: str | None = None
    proto: str | None = None
    comment: str | None = None
    addrtype: str | None = None  # "--src-type LOCAL" / "--dst-type LOCAL"
    recent: tuple[str, str, int] | None = None  # ("rcheck"|"set", list name, seconds)
    proto_match: bool = False
    dport: int | None = None
    statistic: int | None = None  # n of 1/n
    raw: str | None = None  # verbatim text for fixed rules
    nfacct: str | None = None  # "-m nfacct --nfacct-name" counter

    def text(self) -> str:
        if self.raw is not None:
            return f"-A {self.chain} {self.raw}"
        parts = ["-A", self.chain]
        if self.src:
            parts += ["!", "-s", self.src] if self.src_neg else ["-s", self.src]
        if self.dst:
            parts += ["-d", self.dst]
        if self.proto:
            parts += ["-p", self.proto]
        if self.comment:
            parts += ["-m", "comment", "--comment", f'"{self.comment}"']
        if self.addrtype:
            parts += ["-m", "addrtype", self.addrtype]
        if self.recent:
            mode, name, seconds = self.recent
            if mode == "rcheck":
                parts += ["-m", "recent", "--rcheck", "--seconds", str(seconds), "--reap",
                          "--name", name, "--mask", "255.255.255.255", "--rsource"]
            else:
                parts += ["-m", "recent", "--set", "--name", name, "--mask",
                          "255.255.255.255", "--rsource"]
        if self.proto_match:
            parts += ["-m", self.proto or "tcp"]
            if self.dport is not None:
                parts += ["--dport", str(self.dport)]
        if self.statistic is not None:
            parts += ["-m", "statistic", "--mode", "random", "--probability",
                      probability(self.statistic)[1]]
        if self.nfacct is not None:  # iptables-save: two spaces before the name
            parts += ["-m", "nfacct", "--nfacct-name", f" {self.nfacct}"]
        parts += ["-j", self.target]
        if self.target_args:
            parts.append(self.target_args)
        return " ".join(parts)


@dataclass
class ServiceRules:
    """The rules of one Service port on one node: the jumps into its chains from the
    shared chains, its own chains, and the endpoint each ``KUBE-SEP`` chain DNATs to."""

    nat_services: list[Rule] = field(default_factory=list)
    nat_nodeports: list[Rule] = field(default_factory=list)
    filter_services: list[Rule] = field(default_factory=list)
    filter_external: list[Rule] = field(default_factory=list)
    filter_nodeports: list[Rule] = field(default_factory=list)
    chains: dict[str, list[Rule]] = field(default_factory=dict)
    endpoints: dict[str, tuple[str, int, str, str]] = field(default_factory=dict)

    def rendered(self) -> tuple[list[tuple[str, str, tuple[str, ...]]],
                                list[tuple[str, str, tuple[str, ...]]]]:
        """This port's rules as ``iptables-save`` prints them: ``(table, shared chain,
        rules)`` for the rules in kube-proxy's shared chains, and ``(chain,
        declaration, rules)`` for the port's own chains (all in the nat table)."""
        text = Rule.text
        shared = [(table, chain, tuple(map(text, rules))) for table, chain, rules in (
            ("nat", "KUBE-SERVICES", self.nat_services),
            ("nat", "KUBE-NODEPORTS", self.nat_nodeports),
            ("filter", "KUBE-SERVICES", self.filter_services),
            ("filter", "KUBE-EXTERNAL-SERVICES", self.filter_external),
            ("filter", "KUBE-NODEPORTS", self.filter_nodeports)) if rules]
        own = [(chain, f":{chain} - [0:0]", tuple(map(text, rules)))
               for chain, rules in self.chains.items()]
        return shared, own


def _proxied(view: StoreView) -> list[tuple[Service, ServicePort, str]]:
    """Every Service port kube-proxy handles, sorted by servicePortName."""
    def build() -> list[tuple[Service, ServicePort, str]]:
        out = []
        for svc in view.services:
            if svc.cluster_ip is None:
                continue  # headless and ExternalName: kube-proxy ignores them
            for sp in svc.ports:
                out.append((svc, sp, svc.port_name(sp)))
        out.sort(key=lambda t: (t[2], t[1].protocol))
        return out

    return view.cached("kp-proxied", build)


def proxied(view: StoreView) -> list[tuple[Service, ServicePort, str]]:
    """Every Service port kube-proxy handles ``(svc, port, servicePortName)``, sorted
    by servicePortName (both modes walk Services in this order)."""
    return _proxied(view)


def endpoint_count(view: StoreView) -> int:
    """The endpoints of every Service port kube-proxy handles, summed."""
    return view.cached("kp-endpoints", lambda: sum(
        len(service_endpoints(view, s, p)) for s, p, _ in _proxied(view)))


def _large(view: StoreView) -> bool:
    return endpoint_count(view) > LARGE_CLUSTER_ENDPOINTS


def topology_mode(view: StoreView, node: Node, svc: Service, sp: ServicePort) -> str:
    """pkg/proxy/topology.go ``topologyModeFromHints`` on ``node``: ``"PreferSameNode"``
    when every ready endpoint has a node hint and one is hinted for this node,
    else ``"PreferSameZone"`` when every ready endpoint has a zone hint and one is hinted
    for the node's ``topology.kubernetes.io/zone``, else ``""`` (all endpoints)."""
    eps = service_endpoints(view, svc, sp)
    if not eps or svc.traffic_distribution is None:
        return ""
    hints = [endpoint_hints(view, svc, e[2]) for e in eps]
    zone = node_zone(view, node.name)
    if all(n for _, n in hints) and any(node.name in n for _, n in hints):
        return "PreferSameNode"
    if all(z for z, _ in hints) and any(zone in z for z, _ in hints):
        return "PreferSameZone"
    return ""


def topology_endpoints(view: StoreView, node: Node, svc: Service, sp: ServicePort
                       ) -> tuple[tuple[str, int, str, str], ...]:
    """The endpoints Cluster traffic policy uses on ``node``: topology.go
    ``CategorizeEndpoints``' clusterEndpoints, the ready endpoints hinted for this node
    (``PreferSameNode``) or its zone (``PreferSameZone``), all of them when a hint is
    missing or none is for this node or zone (``topology_mode``)."""
    eps = service_endpoints(view, svc, sp)
    mode = topology_mode(view, node, svc, sp)
    if mode == "PreferSameNode":
        return tuple(e for e in eps if node.name in endpoint_hints(view, svc, e[2])[1])
    if mode == "PreferSameZone":
        zone = node_zone(view, node.name)
        return tuple(e for e in eps if zone in endpoint_hints(view, svc, e[2])[0])
    return eps


def _block_key(node: Node, svc: Service, sp: ServicePort) -> tuple[str, int, str, str | None]:
    """A port's rules are the same on every node unless a policy keeps traffic local."""
    local_policy = svc.internal_traffic_policy == "Local" or (
        svc.external_traffic_policy == "Local" and sp.node_port is not None) or (
        svc.traffic_distribution is not None)
    return svc.ref, sp.port, sp.protocol, node.name if local_policy else None


def service_block(view: StoreView, node: Node, svc: Service, sp: ServicePort) -> ServiceRules:
    """The rules of one Service port on ``node``, as records the walk evaluates."""
    return view.cached(("kp-block", *_block_key(node, svc, sp)),
                       lambda: _build_block(view, node, svc, sp))


def _service_text(view: StoreView, node: Node, svc: Service, sp: ServicePort
                  ) -> tuple[list[tuple[str, str, tuple[str, ...]]],
                             list[tuple[str, str, tuple[str, ...]]]]:
    """``service_block(...).rendered()``, kept for every node that shares it; the
    records themselves are kept only for the ports a walk has asked about, since
    10,000 Services of 150 endpoints make 4.5 million of them."""
    return view.cached(("kp-text", *_block_key(node, svc, sp)),
                       lambda: _build_block(view, node, svc, sp).rendered())


def _build_block(view: StoreView, node: Node, svc: Service, sp: ServicePort) -> ServiceRules:
    """proxier.go ``syncProxyRules``, the loop body for one service port."""
    b = ServiceRules()
    name = svc.port_name(sp)
    proto = sp.protocol.lower()
    large = _large(view)
    all_eps = service_endpoints(view, svc, sp)
    local_eps = tuple(e for e in all_eps if e[2] == node.name)
    cluster_eps = topology_endpoints(view, node, svc, sp)
    external = sp.node_port is not None or svc.load_balancer_ip is not None
    itp_local = svc.internal_traffic_policy == "Local"
    etp_local = svc.external_traffic_policy == "Local"
    uses_cluster = bool(all_eps) and (not itp_local or (external and not etp_local))
    uses_local = bool(local_eps) and (itp_local or (etp_local and external))
    has_eps = bool(all_eps)
    svc_chain = service_chain_name("KUBE-SVC-", name, proto)
    svl_chain = service_chain_name("KUBE-SVL-", name, proto)
    ext_chain = service_chain_name("KUBE-EXT-", name, proto)
    internal_chain, has_internal = svc_chain, has_eps
    if itp_local:
        internal_chain, has_internal = svl_chain, bool(local_eps)
    external_chain_target, has_external = svc_chain, has_eps
    if etp_local:
        external_chain_target, has_external = svl_chain, bool(local_eps)
    uses_ext = has_eps and external
    if not has_eps:
        filt_target, filt_comment = "REJECT", f"{name} has no endpoints"
        ext_target, ext_comment = filt_target, filt_comment
    else:
        filt_target = filt_comment = ext_target = ext_comment = ""
        if not has_internal:
            filt_target, filt_comment = "DROP", f"{name} has no local endpoints"
        if not has_external:
            ext_target, ext_comment = "DROP", f"{name} has no local endpoints"
    reject_args = "--reject-with icmp-port-unreachable"
    ip32 = f"{svc.cluster_ip}/32"
    if has_internal:
        b.nat_services.append(Rule("KUBE-SERVICES", internal_chain, dst=ip32, proto=proto,
                                   comment=f"{name} cluster IP", proto_match=True,
                                   dport=sp.port))
    else:
        b.filter_services.append(Rule(
            "KUBE-SERVICES", filt_target, reject_args if filt_target == "REJECT" else "",
            dst=ip32, proto=proto, comment=filt_comment, proto_match=True, dport=sp.port))
    if svc.load_balancer_ip:
        lb32 = f"{svc.load_balancer_ip}/32"
        if has_eps:
            b.nat_services.append(Rule("KUBE-SERVICES", ext_chain, dst=lb32, proto=proto,
                                       comment=f"{name} loadbalancer IP", proto_match=True,
                                       dport=sp.port))
        if not has_external:
            b.filter_external.append(Rule(
                "KUBE-EXTERNAL-SERVICES", ext_target,
                reject_args if ext_target == "REJECT" else "", dst=lb32, proto=proto,
                comment=ext_comment, proto_match=True, dport=sp.port))
    if sp.node_port is not None:
        if has_eps:  # localhostNodePorts (IPv4, the counter exists), then every address
            b.nat_nodeports.append(Rule("KUBE-NODEPORTS", ext_chain, dst=LOCALHOST_NET,
                                        proto=proto, comment=name, proto_match=True,
                                        dport=sp.node_port,
                                        nfacct=LOCALHOST_NODEPORT_COUNTER))
            b.nat_nodeports.append(Rule("KUBE-NODEPORTS", ext_chain, proto=proto, comment=name,
                                        proto_match=True, dport=sp.node_port))
        if not has_external:
            b.filter_external.append(Rule(
                "KUBE-EXTERNAL-SERVICES", ext_target,
                reject_args if ext_target == "REJECT" else "", proto=proto,
                comment=ext_comment, addrtype="--dst-type LOCAL", proto_match=True,
                dport=sp.node_port))
    if svc.health_check_node_port:
        b.filter_nodeports.append(Rule(
            "KUBE-NODEPORTS", "ACCEPT", proto="tcp", comment=f"{name} health check node port",
            proto_match=True, dport=svc.health_check_node_port))
    if has_internal:
        b.chains.setdefault(internal_chain, []).append(Rule(
            internal_chain, "KUBE-MARK-MASQ", src=view.cluster_cidr, src_neg=True, dst=ip32,
            proto=proto, comment=f"{name} cluster IP", proto_match=True, dport=sp.port))
    if uses_ext:
        rules = b.chains.setdefault(ext_chain, [])
        if not etp_local:
            rules.append(Rule(ext_chain, "KUBE-MARK-MASQ",
                              comment=f"masquerade traffic for {name} external destinations"))
        else:
            rules.append(Rule(ext_chain, svc_chain, src=view.cluster_cidr,
                              comment=f"pod traffic for {name} external destinations"))
            rules.append(Rule(ext_chain, "KUBE-MARK-MASQ", addrtype="--src-type LOCAL",
                              comment=f"masquerade LOCAL traffic for {name} external "
                              "destinations"))
            rules.append(Rule(ext_chain, svc_chain, addrtype="--src-type LOCAL",
                              comment=f"route LOCAL traffic for {name} external destinations"))
        if has_external:
            rules.append(Rule(ext_chain, external_chain_target))
    reachable: dict[str, tuple[str, int, str, str]] = {}
    for chain, eps, used in ((svc_chain, cluster_eps, uses_cluster),
                             (svl_chain, local_eps, uses_local)):
        if not used:
            continue
        rules = b.chains.setdefault(chain, [])
        names = []
        for ep in eps:
            text = f"{ep[0]}:{ep[1]}"
            sep = endpoint_chain_name(name, proto, text)
            names.append((sep, text))
            reachable[sep] = ep
        if svc.session_affinity == "ClientIP":
            for sep, text in names:
                rules.append(Rule(chain, sep, comment=None if large else f"{name} -> {text}",
                                  recent=("rcheck", sep, svc.affinity_timeout)))
        n = len(names)
        for i, (sep, text) in enumerate(names):
            rules.append(Rule(chain, sep, comment=None if large else f"{name} -> {text}",
                              statistic=n - i if i < n - 1 else None))
    for sep, ep in reachable.items():
        comment = None if large else name
        b.chains[sep] = [
            Rule(sep, "KUBE-MARK-MASQ", src=f"{ep[0]}/32", comment=comment),
            Rule(sep, "DNAT", f"--to-destination {ep[0]}:{ep[1]}", proto=proto,
                 comment=comment, proto_match=True,
                 recent=("set", sep, 0) if svc.session_affinity == "ClientIP" else None),
        ]
    b.endpoints = reachable
    return b


# ---------------------------------------------------------------- iptables-save
_NAT_FIXED = [
    Rule("PREROUTING", "KUBE-SERVICES", raw=f'-m comment --comment "{HOOK_COMMENT}" '
         "-j KUBE-SERVICES"),
    Rule("OUTPUT", "KUBE-SERVICES", raw=f'-m comment --comment "{HOOK_COMMENT}" '
         "-j KUBE-SERVICES"),
    Rule("POSTROUTING", "KUBE-POSTROUTING",
         raw='-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'),
    Rule("KUBE-MARK-MASQ", "MARK", raw=f"-j MARK --set-xmark {MASQ_MARK}/{MASQ_MARK}"),
    Rule("KUBE-POSTROUTING", "RETURN", raw=f"-m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN"),
    Rule("KUBE-POSTROUTING", "MARK", raw=f"-j MARK --set-xmark {MASQ_MARK}/0x0"),
    Rule("KUBE-POSTROUTING", "MASQUERADE",
         raw='-m comment --comment "kubernetes service traffic requiring SNAT" '
         "-j MASQUERADE --random-fully"),
]
_NEW = "-m conntrack --ctstate NEW"
_FILTER_FIXED = [  # proxier.go iptablesJumpChains, each prepended: last listed comes first
    Rule("INPUT", "", raw=f'{_NEW} -m comment --comment "kubernetes load balancer firewall" '
         "-j KUBE-PROXY-FIREWALL"),
    Rule("INPUT", "", raw='-m comment --comment "kubernetes health check service ports" '
         "-j KUBE-NODEPORTS"),
    Rule("INPUT", "", raw=f'{_NEW} -m comment --comment "kubernetes externally-visible service '
         'portals" -j KUBE-EXTERNAL-SERVICES'),
    Rule("INPUT", "", raw="-j KUBE-FIREWALL"),
    Rule("FORWARD", "", raw=f'{_NEW} -m comment --comment "kubernetes load balancer firewall" '
         "-j KUBE-PROXY-FIREWALL"),
    Rule("FORWARD", "", raw='-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD'),
    Rule("FORWARD", "", raw=f'{_NEW} -m comment --comment "{HOOK_COMMENT}" -j KUBE-SERVICES'),
    Rule("FORWARD", "", raw=f'{_NEW} -m comment --comment "kubernetes externally-visible '
         'service portals" -j KUBE-EXTERNAL-SERVICES'),
    Rule("OUTPUT", "", raw=f'{_NEW} -m comment --comment "kubernetes load balancer firewall" '
         "-j KUBE-PROXY-FIREWALL"),
    Rule("OUTPUT", "", raw=f'{_NEW} -m comment --comment "{HOOK_COMMENT}" -j KUBE-SERVICES'),
    Rule("OUTPUT", "", raw="-j KUBE-FIREWALL"),
    Rule("KUBE-FIREWALL", "DROP", raw='! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment '
         '"block incoming localnet connections" -m conntrack ! --ctstate '
         "RELATED,ESTABLISHED,DNAT -j DROP"),
]
_FORWARD_RULES = [
    # The nfacct counter behind kubeproxy_iptables_ct_state_invalid_dropped_packets_total
    # (PR #122812, since 1.31); iptables-save prints two spaces before the counter's name
    # (libxt_nfacct's save, "extra space in iptables-save output": iptables
    # extensions/libxt_nfacct.t).
    Rule("KUBE-FORWARD", "DROP", raw="-m conntrack --ctstate INVALID -m nfacct --nfacct-name "
         f" {CT_STATE_INVALID_COUNTER} -j DROP"),
    Rule("KUBE-FORWARD", "ACCEPT", raw='-m comment --comment "kubernetes forwarding rules" '
         f"-m mark --mark {MASQ_MARK}/{MASQ_MARK} -j ACCEPT"),
    Rule("KUBE-FORWARD", "ACCEPT", raw='-m comment --comment "kubernetes forwarding conntrack '
         'rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'),
]


def kube_proxy_tables(view: StoreView, node: Node) -> dict[str, tuple[tuple[str, ...],
                                                                   tuple[str, ...]]]:
    """kube-proxy's part of a node's tables as ``{table: (chain declarations, rules)}``:
    its chains in name order, then the jumps it adds to the built-in chains followed by
    the rules of its chains, in that order (what ``iptables-save`` lists). Not cached:
    the text made from them is (``iptables_save``), and so are a node's merged tables
    (``dataplane.iptables``)."""
    return _tables(view, node)


def iptables_save(view: StoreView, node: Node) -> str:
    """What ``iptables-save`` prints on ``node`` for kube-proxy's part of the filter and
    nat tables. See ``Cluster.iptables_save``."""
    def render() -> str:
        if view.config.kube_proxy_mode == "nftables":  # its rules are in nftables
            tables: dict = {"filter": ((), ()), "nat": ((), ())}
        else:
            tables = kube_proxy_tables(view, node)
        out: list[str] = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]",
                          ":OUTPUT ACCEPT [0:0]"]
        out += tables["filter"][0]
        out += tables["filter"][1]
        out += ["COMMIT", "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]",
                ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
        out += tables["nat"][0]
        out += tables["nat"][1]
        out.append("COMMIT")
        return "\n".join(out) + "\n"

    # Nodes whose ports all have the same rules (no policy keeps traffic local) have the
    # same text: at 10,000 Services it is hundreds of megabytes, so it is kept once.
    return view.cached(("kp-save", node.name if _node_specific(view) else None), render)


def _node_specific(view: StoreView) -> bool:
    """Does some Service port have rules of its own on each node (``_block_key``)?"""
    return view.cached("kp-node-specific", lambda: any(
        _block_key(view.control_plane(), svc, sp)[3] is not None
        for svc, sp, _ in _proxied(view)))


def _tables(view: StoreView, node: Node) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    nat: dict[str, list[str]] = {c: [] for c in (
        "KUBE-MARK-MASQ", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-PROXY-CANARY",
        "KUBE-SERVICES")}
    filt: dict[str, list[str]] = {c: [] for c in (
        "KUBE-EXTERNAL-SERVICES", "KUBE-FIREWALL", "KUBE-FORWARD", "KUBE-NODEPORTS",
        "KUBE-PROXY-CANARY", "KUBE-PROXY-FIREWALL", "KUBE-SERVICES")}
    builtin_nat: dict[str, list[str]] = {c: [] for c in (
        "PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")}
    builtin_filter: dict[str, list[str]] = {c: [] for c in ("INPUT", "FORWARD", "OUTPUT")}
    for rule in _NAT_FIXED:
        (builtin_nat if rule.chain in builtin_nat else nat)[rule.chain].append(rule.text())
    for rule in _FILTER_FIXED:
        (builtin_filter if rule.chain in builtin_filter else filt)[rule.chain].append(
            rule.text())
    filt["KUBE-FORWARD"].extend(r.text() for r in _FORWARD_RULES)
    tables = {"nat": nat, "filter": filt}
    own: dict[str, tuple[str, tuple[str, ...]]] = {}
    ports = _proxied(view)
    with ProgressBar(f"kube-proxy rules of {node.name}", len(ports), unit="Service ports",
                     work=endpoint_count(view) // 4) as bar, paused_collector():
        for svc, sp, _ in ports:
            shared, chains = _service_text(view, node, svc, sp)
            for table, chain, lines in shared:
                tables[table][chain] += lines
            for chain, declaration, lines in chains:
                own[chain] = (declaration, lines)
            bar.advance()
    nat["KUBE-SERVICES"].append(
        f'-A KUBE-SERVICES -m comment --comment "{NODEPORTS_COMMENT}" -m addrtype '
        "--dst-type LOCAL -j KUBE-NODEPORTS")
    with paused_collector():
        return {"filter": _table(builtin_filter, filt, {}),
                "nat": _table(builtin_nat, nat, own)}


def _table(builtin: dict[str, list[str]], chains: dict[str, list[str]],
           own: dict[str, tuple[str, tuple[str, ...]]]
           ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Declarations and rules, both in chain name order; ``own`` are the Service
    ports' chains, each with its declaration."""
    names = sorted([*chains, *own])
    rules: list[str] = []
    for lines in builtin.values():
        rules += lines
    decls = []
    for c in names:
        lines = chains.get(c)
        if lines is None:
            declaration, lines = own[c]
            decls.append(declaration)
        else:
            decls.append(f":{c} - [0:0]")
        rules += lines
    return tuple(decls), tuple(rules)


def service_index(view: StoreView) -> tuple[dict, dict]:
    """Where kube-proxy's rules catch a packet: ``{(VIP, protocol, port): (svc, port)}``
    for cluster and load-balancer IPs, ``{(protocol, node port): (svc, port)}``."""
    def build() -> tuple[dict, dict]:
        vips: dict[tuple[str, str, int], tuple] = {}
        node_ports: dict[tuple[str, int], tuple] = {}
        for svc, sp, _ in _proxied(view):
            vips[(svc.cluster_ip, sp.protocol, sp.port)] = (svc, sp)
            if svc.load_balancer_ip:
                vips[(svc.load_balancer_ip, sp.protocol, sp.port)] = (svc, sp)
            if sp.node_port is not None:
                node_ports[(sp.protocol, sp.node_port)] = (svc, sp)
        return vips, node_ports

    return view.cached("kp-index", build)


def is_service_address(view: StoreView, ip: str) -> bool:
    """True if ``ip`` is the cluster IP or load-balancer IP of a Service."""
    vips, _ = service_index(view)
    return ip in view.cached("kp-vip-set", lambda: {k[0] for k in vips})
