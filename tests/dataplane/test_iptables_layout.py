"""iptables-save's layout and the order of the agents' jumps in the built-in chains.

Facts asserted (not the lab's output copied back):
- iptables-save walks a table chain by chain: the built-in chains in their fixed order,
  then the user chains sorted by name (iptables 1.8.7 "nft: cache: Sort custom chains by
  name", aligned with legacy iptables); one chain's ``-A`` lines are contiguous.
- kube-proxy prepends its jumps: ``EnsureRule(utiliptables.Prepend, ...)`` for every
  ``iptablesJumpChains`` entry (kubernetes pkg/proxy/iptables/proxier.go).
- flanneld appends: ``Action: "-A"`` for ``POSTROUTING -> FLANNEL-POSTRTG`` and
  ``FORWARD -> FLANNEL-FWD`` (flannel-io/flannel pkg/trafficmngr/iptables/iptables.go).
- ip-masq-agent appends: ``EnsureRule(utiliptables.Append, utiliptables.TableNAT,
  utiliptables.ChainPostrouting, ...)`` (kubernetes-sigs/ip-masq-agent
  cmd/ip-masq-agent/ip-masq-agent.go, ``ensurePostroutingJump``).
- ``iptables -I CHAIN`` inserts at position 1, ``-A`` at the end (iptables(8)).
- the kubelet (pkg/kubelet/kubelet_network_linux.go since KEP-3178, 1.28) monitors the
  canary ``KUBE-KUBELET-CANARY`` in mangle, nat and filter and keeps ``KUBE-FIREWALL``
  ("block incoming localnet connections", ``--dst 127.0.0.0/8 ! --src 127.0.0.0/8 -m
  conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP``) with INPUT and OUTPUT
  jumps, whatever the proxy; kube-proxy writes an identical copy ("kube-proxy (in
  iptables mode) creates an identical copy of this rule"), and ``EnsureRule`` adds a
  rule only if ``-C`` does not find it, so the node holds one.
"""

from __future__ import annotations

import pytest

import kubenet_lab as kl
from kubenet_lab.dataplane import iptables
from kubenet_lab.dataplane.cni.flannel import Flannel

BUILTIN = {"filter": ["INPUT", "FORWARD", "OUTPUT"],
           "nat": ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]}


def _tables(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("*"):
            current = line[1:]
            out[current] = []
        elif line.startswith(("-A ", ":")) and current:
            out[current].append(line)
    return out


def _chain_sequence(lines: list[str]) -> list[str]:
    seq: list[str] = []
    for line in lines:
        if line.startswith("-A "):
            chain = line.split()[1]
            if not seq or seq[-1] != chain:
                seq.append(chain)
    return seq


def _cluster(cni: str = "flannel", **kw) -> kl.Cluster:
    c = kl.Cluster(workers=2, cni=cni, **kw)
    c.add_pod("default/a", node="node-1", labels={"app": "a"})
    c.apply("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
            "spec: {selector: {app: a}, ports: [{port: 80}], type: NodePort}\n")
    return c


@pytest.mark.parametrize("cni", ["flannel", "bridge"])
@pytest.mark.parametrize("masq_agent", [False, True])
def test_each_chain_is_listed_once_built_ins_first_then_user_chains_by_name(cni, masq_agent):
    c = _cluster(cni, cni_config={"ipMasq": True} if cni == "bridge" else None)
    if masq_agent:
        c.add_ip_masq_agent()
    for table, lines in _tables(c.exec("node-1", "iptables-save")).items():
        seq = _chain_sequence(lines)
        assert len(seq) == len(set(seq)), f"{table}: a chain's rules in two places: {seq}"
        builtins = [ch for ch in seq if ch in BUILTIN[table]]
        assert builtins == [b for b in BUILTIN[table] if b in builtins]
        assert seq[:len(builtins)] == builtins  # built-in chains before any user chain
        user = seq[len(builtins):]
        assert user == sorted(user)
        declared = [line[1:].split()[0] for line in lines if line.startswith(":")]
        assert declared[:len(BUILTIN[table])] == BUILTIN[table]
        assert declared[len(BUILTIN[table]):] == sorted(declared[len(BUILTIN[table]):])


def _rules(c: kl.Cluster, table: str, chain: str) -> list[str]:
    return [line for line in _tables(c.exec("node-1", f"iptables-save -t {table}"))[table]
            if line.startswith(f"-A {chain} ")]


def test_kube_proxy_jumps_on_top_flannel_appended_below():
    c = _cluster()
    forward = _rules(c, "filter", "FORWARD")
    assert forward[-1].endswith("-j FLANNEL-FWD")  # flanneld -A
    assert all("-j KUBE-" in r for r in forward[:-1])  # kube-proxy's, prepended
    post = _rules(c, "nat", "POSTROUTING")
    assert [r.split("-j ")[-1] for r in post] == ["KUBE-POSTROUTING", "FLANNEL-POSTRTG"]


def test_ip_masq_agent_appends_after_the_plugin_that_started_before_it():
    c = _cluster()
    c.add_ip_masq_agent()
    post = [r.split("-j ")[-1] for r in _rules(c, "nat", "POSTROUTING")]
    assert post == ["KUBE-POSTROUTING", "FLANNEL-POSTRTG", "IP-MASQ-AGENT"]
    assert iptables.postrouting_order(c.store) == ("kube-proxy", "flannel", "ip-masq-agent")


def test_the_agents_append_or_prepend_as_their_sources_do():
    assert iptables.KUBE_PROXY_JUMPS == iptables.PREPEND  # utiliptables.Prepend
    assert iptables.IP_MASQ_AGENT_JUMPS == iptables.APPEND  # utiliptables.Append
    assert Flannel.iptables_jumps == iptables.APPEND  # Action: "-A"
    assert iptables.KUBELET_JUMPS == iptables.PREPEND  # kubelet: utiliptables.Prepend
    assert iptables.START_ORDER == ("kubelet", "kube-proxy", "cni", "ip-masq-agent")


def test_merge_follows_insert_and_append_semantics():
    """A later agent that prepends (-I) lands above the earlier ones; one that appends
    (-A) below; user chains are listed after the built-in ones, by name."""
    parts = [
        ("first", iptables.APPEND, (":B-CHAIN - [0:0]",),
         ("-A POSTROUTING -j B-CHAIN", "-A B-CHAIN -j RETURN")),
        ("second", iptables.PREPEND, (":A-CHAIN - [0:0]",),
         ("-A POSTROUTING -j A-CHAIN", "-A A-CHAIN -j ACCEPT", "-A PREROUTING -j A-CHAIN")),
        ("third", iptables.APPEND, (), ("-A POSTROUTING -j MASQUERADE",)),
    ]
    table = iptables.merge("nat", parts)
    assert table.rules == ("-A PREROUTING -j A-CHAIN", "-A POSTROUTING -j A-CHAIN",
                           "-A POSTROUTING -j B-CHAIN", "-A POSTROUTING -j MASQUERADE",
                           "-A A-CHAIN -j ACCEPT", "-A B-CHAIN -j RETURN")
    assert table.chains[4:] == (":A-CHAIN - [0:0]", ":B-CHAIN - [0:0]")


def test_the_walk_takes_the_first_masquerade_in_postrouting_order():
    """flannel's FLANNEL-POSTRTG comes before IP-MASQ-AGENT: a pod's packet to another
    node's address (10.0.1.x, which ip-masq-agent's 10.0.0.0/8 RETURN would leave alone)
    is masqueraded by flannel's rule."""
    c = _cluster()
    c.add_ip_masq_agent()
    t = c.trace("default/a", c.node("node-2").ip, port=10250)
    assert t.source_ip_seen == c.node("node-1").ip
    assert "FLANNEL-POSTRTG" in " ".join(h.detail for h in t.hops)
    t = c.trace("default/a", "93.184.216.34")
    hop = next(h for h in t.hops if "masquerades" in h.detail)
    assert "flannel's rule `-A FLANNEL-POSTRTG" in hop.detail


def test_bridge_plugin_masquerade_before_ip_masq_agent():
    """The bridge plugin appends its per-pod jump (AppendUnique, ipmasq_linux.go), and
    ran before the agent: its MASQUERADE wins for a VPC address."""
    c = _cluster("bridge", cni_config={"ipMasq": True})
    c.add_ip_masq_agent()
    post = [r.split("-j ")[-1] for r in _rules(c, "nat", "POSTROUTING")]
    assert post[0] == "KUBE-POSTROUTING" and post[-1] == "IP-MASQ-AGENT"
    assert all(p.startswith("CNI-") for p in post[1:-1])
    t = c.trace("default/a", c.node("node-2").ip, port=10250)
    assert t.source_ip_seen == c.node("node-1").ip


LOCALNET = ('-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment '
            '"block incoming localnet connections" -m conntrack ! --ctstate '
            "RELATED,ESTABLISHED,DNAT -j DROP")


@pytest.mark.parametrize("kw", [{}, {"kube_proxy_mode": "nftables"},
                                {"cni": "cilium",
                                 "cni_config": {"kubeProxyReplacement": True}}])
def test_the_kubelet_canary_and_firewall_are_on_every_node(kw):
    """The kubelet's chains do not depend on the proxy: in iptables mode, in nftables
    mode and with Cilium replacing kube-proxy, filter and nat hold the empty
    KUBE-KUBELET-CANARY, and filter holds KUBE-FIREWALL's localnet rule once, jumped to
    from INPUT and OUTPUT."""
    c = kl.Cluster(workers=1, **kw)
    text = c.exec("node-1", "iptables-save")
    tables = _tables(text)
    for table in ("filter", "nat"):
        assert ":KUBE-KUBELET-CANARY - [0:0]" in tables[table]
        assert not any(r.startswith("-A KUBE-KUBELET-CANARY") for r in tables[table])
    assert tables["filter"].count(LOCALNET) == 1
    assert tables["filter"].count("-A INPUT -j KUBE-FIREWALL") == 1
    assert tables["filter"].count("-A OUTPUT -j KUBE-FIREWALL") == 1


def test_merge_writes_a_rule_an_earlier_agent_wrote_once():
    parts = [("kubelet", iptables.PREPEND, (":KUBE-FIREWALL - [0:0]",),
              ("-A INPUT -j KUBE-FIREWALL", LOCALNET)),
             ("kube-proxy", iptables.PREPEND, (":KUBE-FIREWALL - [0:0]",),
              ("-A INPUT -j KUBE-PROXY-FIREWALL", "-A INPUT -j KUBE-FIREWALL", LOCALNET))]
    table = iptables.merge("filter", parts)
    assert table.rules == ("-A INPUT -j KUBE-PROXY-FIREWALL", "-A INPUT -j KUBE-FIREWALL",
                           LOCALNET)
