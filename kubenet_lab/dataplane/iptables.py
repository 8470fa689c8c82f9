"""A node's iptables tables as every agent on it wrote them: the kubelet's chains,
kube-proxy's KUBE-* chains (not on Cilium, which replaces kube-proxy, nor in
kube-proxy's nftables mode), the CNI plugin's chains and ip-masq-agent's chain, merged
as data. ``iptables-save``
(``kubenet_lab.tools.iptables_save``) prints them; nothing ever parses the text back.

**The layout.** ``iptables-save`` walks a table chain by chain, as the kernel keeps it:
the built-in chains first, in their fixed order (filter: INPUT, FORWARD, OUTPUT; nat:
PREROUTING, INPUT, OUTPUT, POSTROUTING), then the user chains sorted by name (iptables
1.8.7+ nf_tables, "nft: cache: Sort custom chains by name", as legacy iptables always
did), each chain's ``-A`` lines together and in the order the kernel evaluates them.

**Who comes first in a built-in chain** depends on how each agent hooks in, and on
when it started:

- kube-proxy *prepends* its jumps (``EnsureRule(utiliptables.Prepend, ...)`` for each
  of ``iptablesJumpChains`` and ``iptablesKubeletJumpChains``, pkg/proxy/iptables/
  proxier.go ``syncProxyRules``), so they stay at the top whoever started before it;
- flanneld *appends* (``Action: "-A"`` in ``masqRules`` / ``forwardRules``, restored
  with iptables-restore without a flush: flannel pkg/trafficmngr/iptables/iptables.go),
  and so does the bridge plugin (``ipt.AppendUnique("nat", "POSTROUTING", ...)``,
  containernetworking/plugins pkg/ip/ipmasq_linux.go);
- ip-masq-agent *appends* its POSTROUTING jump (``m.iptables.EnsureRule(utiliptables.
  Append, utiliptables.TableNAT, utiliptables.ChainPostrouting, ...)``,
  kubernetes-sigs/ip-masq-agent cmd/ip-masq-agent/ip-masq-agent.go
  ``ensurePostroutingJump``).

**The kubelet** (pkg/kubelet/kubelet_network_linux.go ``initNetworkUtil`` and
``syncIPTablesRules``, as they are since the IPTablesOwnershipCleanup cleanup of 1.28,
KEP-3178) runs on every node whatever the proxy: it creates the empty chain
``KUBE-KUBELET-CANARY`` in the mangle, nat and filter tables (``iptClient.Monitor``
re-creates its rules when the canary disappears), ``KUBE-FIREWALL`` in filter with the
"block incoming localnet connections" rule, jumped to from INPUT and OUTPUT
(``EnsureRule(utiliptables.Prepend, ...)``), and ``KUBE-IPTABLES-HINT`` in mangle.
kube-proxy in iptables mode writes the same KUBE-FIREWALL rule and jumps
(``iptablesKubeletJumpChains``); ``EnsureRule`` checks before it adds and
iptables-restore rewrites the chain, so the node holds one copy: ``merge`` skips a
line an earlier agent already wrote in that chain. The lab prints the filter and nat
tables only, so the mangle table's chains (the kubelet's canary and
``KUBE-IPTABLES-HINT``, kube-proxy's ``KUBE-PROXY-CANARY`` there) are not shown. When
kube-proxy does not run in iptables mode the walk does not evaluate the kubelet's
KUBE-FIREWALL rule (it drops only packets to 127.0.0.0/8 that come from elsewhere).

Between two agents that both append, the one that started first comes first. The lab
models one fixed start order, ``START_ORDER``: the kubelet (which starts kube-proxy's
pod), kube-proxy, then the CNI plugin, then ip-masq-agent (added later, with
``Cluster.add_ip_masq_agent``). So in POSTROUTING kube-proxy's ``KUBE-POSTROUTING``
jump comes first, flannel's ``FLANNEL-POSTRTG`` next and ``IP-MASQ-AGENT`` last; the
walk's POSTROUTING (``walk.netfilter.postrouting``) evaluates them in that order
(``postrouting_order``). On a real node that started ip-masq-agent before flanneld (or
where flanneld re-created its rules, which it does by deleting and appending them all
again when one is missing) the two appended jumps swap.

>>> c = kl.Cluster(workers=1)
>>> [t.name for t in node_tables(c.store, c.node("node-1"))]
['filter', 'nat']
>>> postrouting_order(c.store)
('kube-proxy', 'flannel')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubenet_lab.dataplane import ip_masq_agent
from kubenet_lab.dataplane.cni import plugin
from kubenet_lab.dataplane.kube_proxy import kube_proxy_tables

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.store import StoreView

__all__ = ["APPEND", "PREPEND", "START_ORDER", "IptablesTable", "node_tables",
           "postrouting_order"]

#: How an agent puts its jumps into a built-in chain: ``-A`` (at the end) or ``-I``
#: (at the top).
APPEND, PREPEND = "append", "prepend"
#: The order the lab's agents start in on every node (see the module docstring).
START_ORDER = ("kubelet", "kube-proxy", "cni", "ip-masq-agent")
#: kube-proxy's and ip-masq-agent's way (the CNI plugin says its own:
#: ``CNIPlugin.iptables_jumps``).
KUBE_PROXY_JUMPS = PREPEND
KUBELET_JUMPS = PREPEND
IP_MASQ_AGENT_JUMPS = APPEND

#: The kubelet's part of the filter and nat tables (see the module docstring): its
#: chains and rules, the same on every node.
KUBELET_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "filter": ((":KUBE-FIREWALL - [0:0]", ":KUBE-KUBELET-CANARY - [0:0]"),
               ("-A INPUT -j KUBE-FIREWALL", "-A OUTPUT -j KUBE-FIREWALL",
                '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment '
                '"block incoming localnet connections" -m conntrack ! --ctstate '
                "RELATED,ESTABLISHED,DNAT -j DROP")),
    "nat": ((":KUBE-KUBELET-CANARY - [0:0]",), ()),
}

_BUILTIN = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}

#: One agent's part of a table: (its name, append or prepend, chain declarations, rules).
_Part = tuple[str, str, tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class IptablesTable:
    """One table: its chain declarations (built-in chains with their policy first, then
    the user chains in name order) and its rules, chain by chain in the same order, as
    ``iptables-save`` lists them."""

    name: str
    chains: tuple[str, ...]
    rules: tuple[str, ...]


def _kube_proxy_runs(view: StoreView) -> bool:
    return not plugin(view).replaces_kube_proxy and view.config.kube_proxy_mode == "iptables"


def _agents(view: StoreView) -> list[str]:
    """The agents that write iptables rules on every node, in ``START_ORDER``."""
    present = {"kubelet": True, "kube-proxy": _kube_proxy_runs(view), "cni": True,
               "ip-masq-agent": view.has_addon(ip_masq_agent.ADDON)}
    return [a for a in START_ORDER if present[a]]


def postrouting_order(view: StoreView) -> tuple[str, ...]:
    """Whose jumps a packet meets in nat POSTROUTING, first to last: ``"kube-proxy"``,
    the CNI plugin's name, ``"ip-masq-agent"`` (those that run), as ``node_tables`` lays
    out the built-in chain."""
    cni = plugin(view)
    order: list[str] = []
    for agent in _agents(view):
        if agent == "kubelet":  # no POSTROUTING rule since 1.28 (KEP-3178)
            continue
        if agent == "kube-proxy":
            name, how = "kube-proxy", KUBE_PROXY_JUMPS
        elif agent == "cni":
            name, how = cni.name, cni.iptables_jumps
        else:
            name, how = "ip-masq-agent", IP_MASQ_AGENT_JUMPS
        if how == PREPEND:
            order.insert(0, name)
        else:
            order.append(name)
    return tuple(order)


def _chain_of(rule: str) -> str:
    """The chain of an ``-A CHAIN ...`` line (the agents' own rule text)."""
    return rule.split(" ", 2)[1]


def merge(table: str, parts: list[_Part]) -> IptablesTable:
    """Lay out one table from the agents' parts, taken in the order the agents started:
    a part's rules in a built-in chain go on top of what is there (prepend) or below it
    (append), as one block in the part's own order; user chains keep their rules in
    order; a line an earlier part already wrote in the same chain is not repeated
    (``EnsureRule`` checks first); then every chain's rules are listed together,
    built-in chains first."""
    builtin: dict[str, list[str]] = {c: [] for c in _BUILTIN[table]}
    user: dict[str, list[str]] = {}
    declared: set[str] = set()
    for _name, how, chains, rules in parts:
        declared.update(chains)
        mine: dict[str, list[str]] = {}
        earlier = {c: set(lines) for c, lines in (builtin | user).items()}
        for rule in rules:
            chain = _chain_of(rule)
            if rule in earlier.get(chain, ()):
                continue
            if chain in builtin:
                mine.setdefault(chain, []).append(rule)
            else:
                user.setdefault(chain, []).append(rule)
        for chain, lines in mine.items():
            builtin[chain] = lines + builtin[chain] if how == PREPEND else builtin[chain] + lines
    names = sorted(declared | {f":{c} - [0:0]" for c in user},
                   key=lambda d: d[1:].split(" ", 1)[0])
    rules: list[str] = []
    for chain in builtin:
        rules += builtin[chain]
    for decl in names:
        rules += user.get(decl[1:].split(" ", 1)[0], [])
    return IptablesTable(table, tuple(f":{c} ACCEPT [0:0]" for c in _BUILTIN[table])
                         + tuple(names), tuple(rules))


def node_tables(view: StoreView, node: Node) -> tuple[IptablesTable, ...]:
    """The filter and nat tables of ``node``."""
    def build() -> tuple[IptablesTable, ...]:
        cni = plugin(view)
        parts: dict[str, list[_Part]] = {"filter": [], "nat": []}
        for agent in _agents(view):
            if agent == "kubelet":
                for table in parts:
                    parts[table].append(("kubelet", KUBELET_JUMPS, *KUBELET_TABLES[table]))
            elif agent == "kube-proxy":
                kube = kube_proxy_tables(view, node)
                for table in parts:
                    parts[table].append(("kube-proxy", KUBE_PROXY_JUMPS, *kube[table]))
            elif agent == "cni":
                filt_chains, filt_rules = cni.filter_rules(view, node)
                nat_chains, nat_rules = cni.nat_rules(view, node)
                parts["filter"].append((cni.name, cni.iptables_jumps, tuple(filt_chains),
                                        tuple(filt_rules)))
                parts["nat"].append((cni.name, cni.iptables_jumps, tuple(nat_chains),
                                     tuple(nat_rules)))
            else:
                masq_chains, masq_rules = ip_masq_agent.nat_rules(view)
                parts["nat"].append(("ip-masq-agent", IP_MASQ_AGENT_JUMPS, masq_chains,
                                     masq_rules))
        return merge("filter", parts["filter"]), merge("nat", parts["nat"])

    return view.cached(("iptables", node.name), build)
