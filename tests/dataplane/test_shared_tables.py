"""kube-proxy's tables are built once for all the nodes they are the same on: the text
each node lists is the text a build for that node alone gives (only ``nodeport-ips``,
the node's own address, differs in nftables mode), and a Service whose traffic policy is
Local still gives each node its own rules."""

from __future__ import annotations

import pytest

import kubenet_lab as kl
from kubenet_lab.dataplane import kube_proxy, kube_proxy_nftables


def _cluster(mode: str, local: bool) -> kl.Cluster:
    c = kl.Cluster(workers=3, kube_proxy_mode=mode)
    for i in range(4):
        c.add_pod(f"default/web-{i}", node=f"node-{i % 2 + 1}", labels={"app": "web"},
                  containers=[kl.Container("web", ports=[8080])])
    c.add_service("default/web", selector={"app": "web"}, ports=[{"port": 80,
                  "targetPort": 8080}], type="NodePort")
    if local:
        c.add_service("default/web-local", selector={"app": "web"}, type="NodePort",
                      ports=[{"port": 80, "targetPort": 8080}], external_traffic_policy="Local")
    return c


def _listing(c: kl.Cluster, mode: str, node: str) -> str:
    if mode == "nftables":
        return c.exec(node, "nft list table ip kube-proxy")
    return c.iptables_save(node)


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_shared_tables_list_what_each_node_alone_has(mode, monkeypatch):
    shared = {n: _listing(_cluster(mode, False), mode, n) for n in ("node-1", "node-3")}
    module = kube_proxy_nftables if mode == "nftables" else kube_proxy
    monkeypatch.setattr(module, "_node_specific", lambda view: True)
    alone = {n: _listing(_cluster(mode, False), mode, n) for n in ("node-1", "node-3")}
    assert shared == alone
    if mode == "nftables":
        one, three = (t.splitlines() for t in shared.values())
        differ = [(a, b) for a, b in zip(one, three, strict=True) if a != b]
        c = _cluster(mode, False)
        assert differ == [(f"\t\telements = {{ {c.node('node-1').ip} }}",
                           f"\t\telements = {{ {c.node('node-3').ip} }}")]
    else:
        assert shared["node-1"] == shared["node-3"]


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_a_local_traffic_policy_gives_each_node_its_rules(mode):
    """kube-proxy: a node without a local endpoint of an externalTrafficPolicy Local
    NodePort drops its traffic (iptables: a filter rule "has no local endpoints";
    nftables: an element of no-endpoint-nodeports), a node with one does not."""
    c = _cluster(mode, True)
    port = c.service("default/web-local").ports[0].node_port
    drop = (f'-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "default/web-local has '
            f'no local endpoints" -m addrtype --dst-type LOCAL -m tcp --dport {port} -j DROP'
            if mode == "iptables"
            else f'elements = {{ tcp . {port} comment "default/web-local" : drop }}')
    assert drop not in _listing(c, mode, "node-1")
    assert drop in _listing(c, mode, "node-3")
