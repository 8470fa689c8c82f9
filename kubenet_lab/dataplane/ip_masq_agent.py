"""ip-masq-agent (kubernetes-sigs/ip-masq-agent, cmd/ip-masq-agent/ip-masq-agent.go): a
DaemonSet whose ``IP-MASQ-AGENT`` chain, jumped to with ``-m addrtype ! --dst-type
LOCAL``, has a RETURN for 169.254.0.0/16 unless ``masqLinkLocal``, one RETURN per
non-masquerade CIDR (default RFC 1918), then ``-j MASQUERADE``. The
``kube-system/ip-masq-agent`` ConfigMap's ``config`` key replaces only the keys it sets,
so ``nonMasqueradeCIDRs`` replaces the whole default list (facts sheet §4.1).

>>> c = kl.Cluster(cni="bridge", workers=1)
>>> c.add_ip_masq_agent()
>>> config(c.store)["nonMasqueradeCIDRs"]
['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.configmap import IP_MASQ_AGENT, parse_ip_masq_config

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.store import StoreView

__all__ = ["ADDON", "DEFAULTS", "config", "masquerade", "nat_rules"]

#: The add-on's name in the Store.
ADDON = "ip-masq-agent"
#: ip-masq-agent's defaults when no config exists (facts sheet §4.1).
DEFAULTS: dict[str, Any] = {
    "nonMasqueradeCIDRs": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
    "masqLinkLocal": False,
    "resyncInterval": "60s",
}


def config(view: StoreView) -> dict[str, Any]:
    """The agent's effective config: the defaults, overwritten key by key by the
    ``kube-system/ip-masq-agent`` ConfigMap's ``config``."""
    def build() -> dict[str, Any]:
        conf = dict(DEFAULTS)
        cm = view.config_map(IP_MASQ_AGENT)
        if cm is not None:  # checked when it was applied
            conf.update(parse_ip_masq_config(f"ConfigMap {IP_MASQ_AGENT}",
                                             cm.data.get("config", "")))
        return conf

    return view.cached("ip-masq-agent-config", build)


def nat_rules(view: StoreView) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The nat chains and rules ip-masq-agent installs (none without the agent)."""
    if not view.has_addon(ADDON):
        return (), ()
    conf = config(view)
    comment = '-m comment --comment "ip-masq-agent: '
    rules = [f'-A POSTROUTING {comment}ensure nat POSTROUTING directs all non-LOCAL '
             'destination traffic to our custom IP-MASQ-AGENT chain" -m addrtype ! '
             "--dst-type LOCAL -j IP-MASQ-AGENT"]
    if not conf["masqLinkLocal"]:
        rules.append(f'-A IP-MASQ-AGENT -d 169.254.0.0/16 {comment}local traffic is not '
                     'subject to MASQUERADE" -j RETURN')
    for cidr in conf["nonMasqueradeCIDRs"]:
        rules.append(f'-A IP-MASQ-AGENT -d {cidr} {comment}local traffic is not subject to '
                     'MASQUERADE" -j RETURN')
    rules.append(f'-A IP-MASQ-AGENT {comment}outbound traffic is subject to MASQUERADE '
                 '(must be last in chain)" -j MASQUERADE')
    return (":IP-MASQ-AGENT - [0:0]",), tuple(rules)


def masquerade(view: StoreView, node: Node, src: str, dst: str) -> tuple[str, str] | None:
    """The ip-masq-agent rule that masquerades a pod's packet to ``dst``, or None when a
    RETURN rule leaves it alone (or there is no agent). The node's own traffic keeps its
    address anyway (MASQUERADE to the address it already has)."""
    if not view.has_addon(ADDON):
        return None
    owner = view.owner_of(src)
    if not owner or not owner.startswith("Pod "):
        return None
    conf = config(view)
    addr = IPv4Address(dst)
    if not conf["masqLinkLocal"] and addr in ip_network("169.254.0.0/16"):
        return None
    if any(addr in ip_network(c) for c in conf["nonMasqueradeCIDRs"]):
        return None
    return ('-A IP-MASQ-AGENT -m comment --comment "ip-masq-agent: outbound traffic is '
            'subject to MASQUERADE (must be last in chain)" -j MASQUERADE', "ip-masq-agent")
