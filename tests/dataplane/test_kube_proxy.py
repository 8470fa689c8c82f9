"""kube-proxy (iptables mode): chain names, rule shapes, probabilities and the walk.

Expected values come from the facts sheet §1 (upstream proxier tests, real dumps).
"""

import collections

import pytest

import kubenet_lab as kl
from kubenet_lab.dataplane import kube_proxy as kp
from kubenet_lab.walk.netfilter import resolve_service

WEB = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  clusterIP: 10.96.45.10
  ports: [{name: http, port: 80, targetPort: 8080}]
"""


@pytest.mark.parametrize("name, proto, expected", [
    ("ns1/svc1:p80", "tcp", "XPGD46QRK7WJZT7O"),
    ("ns2/svc2:p80", "tcp", "GNZBNJ2PO5MGZ6GT"),
    ("ns2/svc2:p8080", "tcp", "2VJB64SDSIJUP5T6"),
    ("default/kubernetes:https", "TCP", "NPX46M4PTMTKRN6Y"),
    ("kube-system/kube-dns:dns", "udp", "TCOU7JCQXEZGVUNU"),
])
def test_port_proto_hash_matches_upstream(name, proto, expected):
    assert kp.port_proto_hash(name, proto) == expected


@pytest.mark.parametrize("endpoint, expected", [
    ("10.180.0.1:80", "KUBE-SEP-SXIVWICOYRO3J4NJ"),
    ("10.180.2.1:80", "KUBE-SEP-ZX7GRIZKSNUQ3LAJ"),
])
def test_endpoint_chain_matches_upstream(endpoint, expected):
    assert kp.endpoint_chain_name("ns1/svc1:p80", "tcp", endpoint) == expected


@pytest.mark.parametrize("n, restore, saved", [
    (2, "0.5000000000", "0.50000000000"),
    (3, "0.3333333333", "0.33333333349"),
    (4, "0.2500000000", "0.25000000000"),
    (5, "0.2000000000", "0.20000000019"),
    (6, "0.1666666667", "0.16666666651"),
    (10, "0.1000000000", "0.10000000009"),
])
def test_probabilities_as_iptables_save_prints_them(n, restore, saved):
    assert kp.probability(n)[:2] == (restore, saved)


def _web_cluster(replicas=2):
    c = kl.Cluster(workers=2)
    c.add_pod("default/web-a", node="node-1", labels={"app": "web"},
              containers=[kl.Container("app", ports=[8080])], ip="10.244.1.5")
    c.add_pod("default/web-b", node="node-2", labels={"app": "web"},
              containers=[kl.Container("app", ports=[8080])], ip="10.244.2.7")
    c.apply(WEB)
    return c


def test_facts_sheet_example_rules_appear_verbatim():
    c = _web_cluster()
    text = c.iptables_save("node-1")
    expected = """\
-A KUBE-SEP-2RIJ5GIYXEFH6G4D -s 10.244.2.7/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-2RIJ5GIYXEFH6G4D -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.7:8080
-A KUBE-SEP-AFGSLHOD2HFNCBX4 -s 10.244.1.5/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-AFGSLHOD2HFNCBX4 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SERVICES -d 10.96.45.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL
-A KUBE-SVC-CDGGSHYLG3RE2FKL ! -s 10.244.0.0/16 -d 10.96.45.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-AFGSLHOD2HFNCBX4
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.2.7:8080" -j KUBE-SEP-2RIJ5GIYXEFH6G4D
"""  # noqa: E501
    lines = text.splitlines()
    for line in expected.splitlines():
        assert line in lines
    for fixed in [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
    ]:
        assert fixed in lines
    # the nodeports jump is the last rule of nat KUBE-SERVICES
    services = [x for x in lines if x.startswith("-A KUBE-SERVICES")]
    assert services[-1].endswith("-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
    # chains are declared in name order after the built-ins
    nat = text.split("*nat\n")[1]
    decl = [x for x in nat.splitlines() if x.startswith(":KUBE")]
    assert decl == sorted(decl)


def test_endpoints_sorted_by_address_string():
    c = kl.Cluster(workers=1)
    for ip in ("10.244.1.9", "10.244.1.10", "10.244.1.11"):
        c.add_pod(f"default/p{ip.rsplit('.', 1)[1]}", node="node-1", labels={"app": "x"},
                  ip=ip)
    c.add_service("default/x", selector={"app": "x"}, ports=[80])
    svc_rules = [x for x in c.iptables_save("node-1").splitlines()
                 if x.startswith("-A KUBE-SVC-") and "default/x -> " in x]
    order = [x.split(" -> ")[1].split('"')[0] for x in svc_rules]
    assert order == ["10.244.1.10:80", "10.244.1.11:80", "10.244.1.9:80"]
    assert "--probability 0.33333333349" in svc_rules[0]


def test_service_without_endpoints_is_rejected_in_filter_and_absent_from_nat():
    c = kl.Cluster(workers=1)
    c.add_pod("default/client", node="node-1")
    svc = c.add_service("default/empty", selector={"app": "none"}, ports=[80])
    text = c.iptables_save("node-1")
    filt = text.split("*nat")[0]
    assert (f'-A KUBE-SERVICES -d {svc.cluster_ip}/32 -p tcp -m comment --comment '
            f'"default/empty has no endpoints" -m tcp --dport 80 -j REJECT --reject-with '
            "icmp-port-unreachable") in filt
    assert kp.service_chain_name("KUBE-SVC-", "default/empty", "tcp") not in text
    t = c.trace("default/client", svc.cluster_ip, port=80)
    assert t.outcome == "refused" and "no ready endpoints" in t.reason


def test_not_ready_pod_is_not_an_endpoint():
    c = kl.Cluster(workers=1)
    c.add_pod("default/a", node="node-1", labels={"app": "a"}, ready=False)
    c.add_service("default/a", selector={"app": "a"}, ports=[80])
    assert "default/a has no endpoints" in c.iptables_save("node-1")
    [s] = c.endpoint_slices("default/a")
    assert [e.ready for e in s.endpoints] == [False]


def test_trace_walks_the_chains_and_dnats():
    c = _web_cluster()
    c.add_pod("default/client", node="node-1")
    t = c.trace("default/client", "10.96.45.10", port=80)
    assert t.delivered and t.destination_pod in ("default/web-a", "default/web-b")
    chains = [h.detail.split(":")[0] for h in t.hops if h.action in ("iptables", "dnat")]
    assert chains[:2] == ["nat PREROUTING", "nat KUBE-SERVICES"]
    assert chains[2] == "nat KUBE-SVC-CDGGSHYLG3RE2FKL"
    assert chains[-1].startswith("nat KUBE-SEP-")
    dnat = next(h for h in t.hops if h.action == "dnat")
    assert {ch.field for ch in dnat.changes} >= {"dst", "dport"}
    assert t.source_ip_seen == c.pod("default/client").ip  # ClusterIP from a pod: no SNAT
    assert [h.action for h in t.reply] == ["reply", "conntrack", "deliver"]
    assert t.reply[1].packet.summary().startswith("IP 10.96.45.10 > ")


def test_repeated_traces_spread_close_to_uniform_and_are_seeded():
    def spread(seed):
        c = _web_cluster()
        c.runtime.rng.seed(seed)
        c.add_pod("default/client", node="node-1")
        return collections.Counter(
            c.trace("default/client", "10.96.45.10", port=80).destination_pod
            for _ in range(400))

    first = spread(1)
    assert first == spread(1)
    assert set(first) == {"default/web-a", "default/web-b"}
    assert all(150 < n < 250 for n in first.values())


def test_client_ip_affinity_sticks():
    c = _web_cluster()
    c.apply(WEB.replace("  selector:", "  sessionAffinity: ClientIP\n  selector:"))
    c.add_pod("default/client", node="node-1")
    text = c.iptables_save("node-1")
    assert "-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-" in text
    assert "-m recent --set --name KUBE-SEP-" in text
    dests = {c.trace("default/client", "10.96.45.10", port=80).destination_pod
             for _ in range(20)}
    assert len(dests) == 1


def test_hairpin_is_masqueraded_to_the_bridge():
    c = kl.Cluster(workers=1)
    c.add_pod("default/self", node="node-1", labels={"app": "s"})
    svc = c.add_service("default/s", selector={"app": "s"}, ports=[80])
    t = c.trace("default/self", svc.cluster_ip, port=80)
    assert t.delivered and t.destination_pod == "default/self"
    assert t.source_ip_seen == "10.244.1.1"


def test_nodeport_from_outside_is_masqueraded_with_cluster_policy():
    c = _web_cluster()
    svc = c.add_service("default/np", selector={"app": "web"},
                        ports=[{"port": 80, "targetPort": 8080}], type="NodePort")
    node_port = svc.ports[0].node_port
    assert 30086 <= node_port <= 32767  # dynamic band first
    t = c.trace("192.168.7.7", f"10.0.1.5:{node_port}")
    assert t.delivered and t.source_ip_seen != "192.168.7.7"
    ext = kp.service_chain_name("KUBE-EXT-", "default/np", "tcp")
    assert (f'-A KUBE-EXT-{ext[9:]} -m comment --comment "masquerade traffic for default/np '
            'external destinations" -j KUBE-MARK-MASQ') in c.iptables_save("node-1")


def test_external_traffic_policy_local_keeps_client_ip_or_drops():
    c = _web_cluster()
    c.add_node("node-3")
    svc = c.add_service("default/np", selector={"app": "web"},
                        ports=[{"port": 80, "targetPort": 8080, "nodePort": 30080}],
                        type="NodePort", external_traffic_policy="Local")
    assert svc.ports[0].node_port == 30080
    t = c.trace("192.168.7.7", "10.0.1.5:30080")
    assert t.delivered and t.destination_pod == "default/web-a"
    assert t.source_ip_seen == "192.168.7.7"
    node3 = c.node("node-3").ip
    t = c.trace("192.168.7.7", f"{node3}:30080")
    assert not t.delivered and t.outcome == "dropped"
    assert ('-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "default/np has no local '
            'endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 30080 -j DROP'
            ) in c.iptables_save("node-3")


def test_internal_traffic_policy_local_drops_without_local_endpoint():
    c = _web_cluster()
    c.add_node("node-3")
    c.add_pod("default/client", node="node-3")
    c.apply(WEB.replace("  selector:", "  internalTrafficPolicy: Local\n  selector:"))
    t = c.trace("default/client", "10.96.45.10", port=80)
    assert t.outcome == "dropped"
    assert "has no local endpoints" in c.iptables_save("node-3")
    assert kp.service_chain_name("KUBE-SVL-", "default/web:http", "tcp") in c.iptables_save(
        "node-1")


def test_large_cluster_mode_drops_endpoint_comments():
    c = kl.Cluster(workers=10)
    for i in range(1001):
        c.add_pod(f"default/p{i}", labels={"app": "big"})
    c.add_service("default/big", selector={"app": "big"}, ports=[80])
    text = c.iptables_save("node-1")
    seps = [x for x in text.splitlines() if x.startswith("-A KUBE-SEP-")]
    assert seps and not any("comment" in x for x in seps)
    assert '"default/big cluster IP"' in text


def test_resolve_service_matches_walk():
    c = kl.Cluster()
    view, rt = c.store, c.runtime
    assert resolve_service(view, rt, "control-plane", "10.0.1.4", "10.96.0.1", 443) == (
        "10.0.1.4", 6443)
    assert resolve_service(view, rt, "control-plane", "10.0.1.4", "10.96.0.99", 443) is None


def test_iptables_save_is_pure():
    c = _web_cluster()
    before = c.iptables_save("node-1")
    c.trace("default/web-a", "10.96.45.10", port=80)
    assert c.iptables_save("node-1") == before == _web_cluster().iptables_save("node-1")


def test_load_balancer_ip_from_a_pod_goes_through_kube_ext():
    c = _web_cluster()
    c.add_pod("default/client", node="node-1")
    [svc] = c.apply(WEB.replace("metadata: {name: web,", "metadata: {name: lb,")
                    .replace("  clusterIP: 10.96.45.10\n", "  type: LoadBalancer\n")
                    + "status:\n  loadBalancer:\n    ingress: [{ip: 203.0.113.10}]\n")
    assert svc.load_balancer_ip == "203.0.113.10" and svc.ports[0].node_port
    assert ('-d 203.0.113.10/32 -p tcp -m comment --comment "default/lb:http loadbalancer IP"'
            in c.iptables_save("node-1"))
    t = c.trace("default/client", "203.0.113.10:80")
    assert t.delivered and t.source_ip_seen != c.pod("default/client").ip  # eTP Cluster
    assert "reply:" in str(t) and "conntrack" in str(t)


def test_node_to_its_own_node_port_goes_through_output_and_is_masqueraded():
    c = _web_cluster()
    c.add_service("default/np", selector={"app": "web"}, type="NodePort",
                  external_traffic_policy="Local",
                  ports=[{"port": 80, "targetPort": 8080, "nodePort": 30082}])
    t = c.trace("control-plane", f"{c.node('control-plane').ip}:30082")
    assert t.delivered  # "route LOCAL traffic" short-circuits to KUBE-SVC despite eTP Local
    assert t.hops[1].detail.startswith("nat OUTPUT")
    assert t.source_ip_seen == "10.244.0.0"  # masqueraded to flannel.1's address
    assert c.trace("node-1", "10.0.1.5:10250").receiver == "node-1/kubelet"


def test_kube_forward_drops_invalid_through_the_nfacct_counter():
    """kube-proxy 1.31+ counts KUBE-FORWARD's INVALID drops with nfacct (PR #122812,
    CHANGELOG-1.31): upstream proxier_test.go TestOverallIPTablesRules expects
    ``-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name
    ct_state_invalid_dropped_pkts -j DROP`` as the first KUBE-FORWARD rule, and
    iptables-save prints it with two spaces before the name (libxt_nfacct.t "extra
    space in iptables-save output"; AKS AgentBaker's expected iptables-save pattern
    ``--nfacct-name  ct_state_invalid_dropped_pkts``)."""
    c = kl.Cluster(workers=1)
    forward = [r for r in c.exec("node-1", "iptables-save").splitlines()
               if r.startswith("-A KUBE-FORWARD ")]
    assert forward == [
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name  "
        "ct_state_invalid_dropped_pkts -j DROP",
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark '
        "--mark 0x4000/0x4000 -j ACCEPT",
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m '
        "conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]


# TestOverallIPTablesRules' KUBE-NODEPORTS lines (iptables-restore input, verbatim), the
# same in the 1.33 code (aojea/kubernetes 4e7ccb27) and the 1.36/1.37 development code
# (kairosci/kubernetes 235e4894) of pkg/proxy/iptables/proxier_test.go, so also in 1.35.
UPSTREAM_NODEPORTS = """\
-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3003 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-X27LE4BHSL4DOUIK
-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
"""  # noqa: E501

# The same rules as a real node's iptables-save prints them (a kind cluster's default/nginx,
# nodePort 30606; published KUBE-NODEPORTS listing): -d and -p first, the comment quoted,
# two spaces before the nfacct counter's name.
REAL_NODEPORTS = """\
-A KUBE-NODEPORTS -d 127.0.0.0/8 -p tcp -m comment --comment "default/nginx" -m tcp --dport 30606 -m nfacct --nfacct-name  localhost_nps_accepted_pkts -j KUBE-EXT-2CMXP7HKUVJN7L6M
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/nginx" -m tcp --dport 30606 -j KUBE-EXT-2CMXP7HKUVJN7L6M
"""  # noqa: E501


def _nodeport_rules(c, node="node-1"):
    return [x for x in c.iptables_save(node).splitlines() if x.startswith("-A KUBE-NODEPORTS")
            and "-j KUBE-EXT-" in x]


def test_localhost_node_ports_are_counted_as_upstream_writes_them():
    """kube-proxy 1.31+ (PR #125015) writes, before each NodePort rule, the same jump for
    127.0.0.0/8 counted by nfacct ``localhost_nps_accepted_pkts``: the upstream lines'
    words, in iptables-save's order (the lab's node ports are 30001/30003, the hashes
    depend only on ns/name:port and the protocol)."""
    c = kl.Cluster(workers=2)
    for ns, name, node_port in (("ns2", "svc2", 30001), ("ns3", "svc3", 30003)):
        c.add_namespace(ns)
        c.add_pod(f"{ns}/{name}", node="node-2", labels={"app": name},
                  containers=[kl.Container("app", ports=[80])])
        c.add_service(f"{ns}/{name}", selector={"app": name}, type="NodePort",
                      ports=[{"name": "p80", "port": 80, "nodePort": node_port}])
    lab = _nodeport_rules(c)
    upstream = UPSTREAM_NODEPORTS.replace(" 3001 ", " 30001 ").replace(" 3003 ", " 30003 ")
    assert len(lab) == 4
    for ours, theirs in zip(lab, upstream.splitlines(), strict=True):
        words = theirs.replace("--comment ", '--comment "').split()
        words = [w + '"' if w.endswith(":p80") else w for w in words]
        assert sorted(ours.replace("  ", " ").split()) == sorted(words)
        assert ours.startswith("-A KUBE-NODEPORTS -d 127.0.0.0/8 -p tcp " if "127.0.0.0/8"
                               in theirs else "-A KUBE-NODEPORTS -p tcp ")


def test_localhost_node_ports_match_a_real_listing():
    c = kl.Cluster(workers=1)
    c.add_pod("default/nginx", node="node-1", labels={"app": "nginx"},
              containers=[kl.Container("nginx", ports=[80])])
    c.add_service("default/nginx", selector={"app": "nginx"}, type="NodePort",
                  ports=[{"port": 80, "targetPort": 80, "nodePort": 30606}])
    assert _nodeport_rules(c) == REAL_NODEPORTS.splitlines()


def test_a_connection_to_localhost_takes_the_counted_rule():
    """From the node to 127.0.0.1:NODEPORT the first rule matches (-d 127.0.0.0/8); to
    the node's own address the second. Both reach the Service (nftables mode does not
    serve NodePorts on 127.0.0.1: tests/walk/test_nftables_walk.py)."""
    c = kl.Cluster(workers=1)
    c.add_pod("default/nginx", node="node-1", labels={"app": "nginx"},
              containers=[kl.Container("nginx", ports=[80])])
    c.add_service("default/nginx", selector={"app": "nginx"}, type="NodePort",
                  ports=[{"port": 80, "targetPort": 80, "nodePort": 30606}])
    local, general = REAL_NODEPORTS.splitlines()
    for dst, rule in (("127.0.0.1", local), (c.node("node-1").ip, general)):
        t = c.trace("node-1", f"{dst}:30606")
        assert t.delivered and t.destination_pod == "default/nginx"
        nodeports = [h.detail for h in t.hops if h.detail.startswith("nat KUBE-NODEPORTS")]
        assert nodeports == [f"nat KUBE-NODEPORTS: `{rule}`"]


def test_no_localhost_rule_without_endpoints():
    """The localhost rule comes with the NodePort jump, only when the Service has
    endpoints (proxier.go ``if hasEndpoints``); without, KUBE-EXTERNAL-SERVICES rejects."""
    c = kl.Cluster(workers=1)
    c.add_service("default/np", selector={"app": "none"}, type="NodePort",
                  ports=[{"port": 80, "nodePort": 30607}])
    assert _nodeport_rules(c) == []
    assert "localhost_nps_accepted_pkts" not in c.iptables_save("node-1")


def test_a_nodeport_connection_skips_the_cluster_ip_masquerade_rule():
    """KUBE-EXT jumps to the same KUBE-SVC chain, whose first rule is ``! -s PODCIDR -d
    CLUSTER-IP/32 -p tcp --dport 80 -j KUBE-MARK-MASQ``: iptables checks every match, so a
    packet addressed to NODE-IP:NODEPORT does not match it (its mark comes from KUBE-EXT's
    own "masquerade traffic for ... external destinations" rule). A node's connection to
    the cluster IP itself does match it."""
    c = kl.Cluster(workers=1)
    c.add_pod("default/nginx", node="node-1", labels={"app": "nginx"},
              containers=[kl.Container("nginx", ports=[80])])
    svc = c.add_service("default/nginx", selector={"app": "nginx"}, type="NodePort",
                        ports=[{"port": 80, "targetPort": 80, "nodePort": 30606}])
    masq = f"-d {svc.cluster_ip}/32 -p tcp"

    def svc_rules(t):
        return [h.detail for h in t.hops if h.detail.startswith("nat KUBE-SVC-")]

    via_nodeport = c.trace("control-plane", f"{c.node('node-1').ip}:30606")
    assert via_nodeport.delivered
    assert svc_rules(via_nodeport) and not any(masq in d for d in svc_rules(via_nodeport))
    to_cluster_ip = c.trace("control-plane", f"{svc.cluster_ip}:80")
    assert to_cluster_ip.delivered and any(masq in d for d in svc_rules(to_cluster_ip))
