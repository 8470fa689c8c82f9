"""A node's iptables tables as every agent on it wrote them: kube-proxy's KUBE-* chains
(not on Cilium, which replaces kube-proxy, nor in kube-proxy's nftables mode), the CNI
plugin's chains and ip-masq-agent's chain, merged as data. ``iptables-save``
(``kubenet_lab.tools.iptables_save``) prints them; nothing ever parses the text back.

>>> c = kl.Cluster(workers=1)
>>> [t.name for t in node_tables(c.store, c.node("node-1"))]
['filter', 'nat']
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

__all__ = ["IptablesTable", "node_tables"]

_BUILTIN = {
    "filter": (":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"),
    "nat": (":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
            ":POSTROUTING ACCEPT [0:0]"),
}


@dataclass(frozen=True, slots=True)
class IptablesTable:
    """One table: its chain declarations (built-in chains with their policy first, then
    the user chains in name order) and its rules, as ``iptables-save`` lists them."""

    name: str
    chains: tuple[str, ...]
    rules: tuple[str, ...]


def node_tables(view: StoreView, node: Node) -> tuple[IptablesTable, ...]:
    """The filter and nat tables of ``node``."""
    def build() -> tuple[IptablesTable, ...]:
        cni = plugin(view)
        filt_chains, filt_rules = cni.filter_rules(view, node)
        nat_chains, nat_rules = cni.nat_rules(view, node)
        masq_chains, masq_rules = ip_masq_agent.nat_rules(view)  # appended after the plugin's
        nat_chains, nat_rules = tuple(nat_chains) + masq_chains, tuple(nat_rules) + masq_rules
        if not cni.replaces_kube_proxy and view.config.kube_proxy_mode == "iptables":
            kube = kube_proxy_tables(view, node)  # nftables mode: no KUBE-* rules
            filt_chains = kube["filter"][0] + tuple(filt_chains)
            filt_rules = kube["filter"][1] + tuple(filt_rules)
            nat_chains = kube["nat"][0] + tuple(nat_chains)
            nat_rules = kube["nat"][1] + tuple(nat_rules)
        return (
            IptablesTable("filter", _BUILTIN["filter"] + tuple(sorted(filt_chains)),
                          tuple(filt_rules)),
            IptablesTable("nat", _BUILTIN["nat"] + tuple(sorted(nat_chains)), tuple(nat_rules)),
        )

    return view.cached(("iptables", node.name), build)
