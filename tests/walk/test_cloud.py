"""The cloud around the cluster: egress through the internet gateway and NAT gateway,
ip-masq-agent, internet clients, cloud load balancers (facts sheet §4, §1.5, §2.5)."""

import pytest

import kubenet_lab as kl

WEB = "93.184.216.34"


@pytest.fixture
def c():
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    return c


def test_private_subnet_without_nat_gateway_has_no_internet(c):
    assert c.node("node-1").subnet == "private"
    assert c.route_table("private") == [("10.0.0.0/16", "local")]
    t = c.trace("default/a", WEB)
    assert not t.delivered and "no route" in t.reason and "NAT gateway" in t.reason


def test_nat_gateway_two_stage_egress_and_reply(c):
    gw = c.add_nat_gateway(public_ip="198.51.100.20")
    assert gw.subnet == "public" and gw.private_ip == "10.0.0.4"
    assert c.route_table("private")[-1] == ("0.0.0.0/0", "nat-gw")
    t = c.trace("default/a", WEB)
    assert t.delivered and t.source_ip_seen == "198.51.100.20"  # the EIP, facts §4.2
    sources = [h.packet.inner(kl.IPv4).src for h in t.hops]
    # pod IP -> (node masquerade) node IP -> (NAT gateway) its private IP -> (IGW) EIP
    assert sources[0] == "10.244.1.2" and "10.0.1.5" in sources
    assert sources[-2:] == ["198.51.100.20", "198.51.100.20"] and "10.0.0.4" in sources
    dsts = [h.packet.inner(kl.IPv4).dst for h in t.reply]
    assert dsts == ["198.51.100.20", "10.0.0.4", "10.0.1.5", "10.244.1.2", "10.244.1.2"]
    assert t.reply[-1].location.name == "default/a"


def test_public_node_is_mapped_one_to_one_by_the_internet_gateway(c):
    edge = c.add_node("edge", public_ip="203.0.113.10")
    assert edge.subnet == "public" and edge.ip == "10.0.0.4"
    assert c.route_table("public")[-1] == ("0.0.0.0/0", "igw")
    c.add_pod("default/e", node="edge")
    t = c.trace("default/e", WEB)
    assert t.delivered and t.source_ip_seen == "203.0.113.10"
    assert [h.location.name for h in t.reply][-2:] == ["edge", "default/e"]
    # a node in the public subnet does not use the NAT gateway, even when there is one
    c.add_nat_gateway(public_ip="198.51.100.20")
    assert c.trace("default/e", WEB).source_ip_seen == "203.0.113.10"
    assert c.trace("edge", WEB).source_ip_seen == "203.0.113.10"


def test_the_gateway_maps_to_the_node_not_to_pods(c):
    c.add_node("edge", public_ip="203.0.113.10")
    c.add_pod("default/web", node="edge")
    t = c.trace("internet", "203.0.113.10", port=80)
    assert not t.delivered and t.destination_pod is None and "node edge" in t.reason
    assert t.hops[1].packet.inner(kl.IPv4).dst == "10.0.0.4"
    # Kubernetes' own rules finish the job: a NodePort on the public address
    c.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: w, labels: {app: w}}\nspec:\n"
            "  nodeName: node-1\n  containers: [{name: w, image: nginx, ports: "
            "[{containerPort: 80}]}]\n")
    svc = c.add_service("default/w", type="NodePort", selector={"app": "w"}, ports=[80])
    t = c.trace("internet", f"203.0.113.10:{svc.ports[0].node_port}")
    assert t.delivered and t.destination_pod == "default/w"
    assert t.reply[-1].packet.inner(kl.IPv4).src == "203.0.113.10"


def test_internet_cannot_open_connections_through_a_nat_gateway(c):
    c.add_nat_gateway(public_ip="198.51.100.20")
    t = c.trace("203.0.113.7", "198.51.100.20", port=22)
    assert not t.delivered and "initiated from the internet" in t.reason


def test_internet_client_keyword_cannot_reach_private_addresses(c):
    t = c.trace("internet", "10.0.1.5", port=10250)
    assert not t.delivered and "not reachable from the internet" in t.reason
    # an address-given outside client is still a host in the nodes' subnet (lesson 03)
    assert c.trace("203.0.113.9", "10.0.1.5", port=10250).delivered


def test_ip_masq_agent_defaults_and_configmap():
    c = kl.Cluster(cni="bridge", workers=1)  # the bridge plugin does not masquerade
    c.add_nat_gateway(public_ip="198.51.100.20")
    c.add_pod("default/a", node="node-1")
    t = c.trace("default/a", WEB)
    assert not t.delivered and "source/destination check" in t.reason
    c.add_ip_masq_agent()
    t = c.trace("default/a", WEB)
    assert t.delivered and "ip-masq-agent" in t.reason
    nat = c.exec("node-1", "iptables-save -t nat")
    rules = [line for line in nat.splitlines() if "IP-MASQ-AGENT" in line and line.startswith("-A")]
    assert "--dst-type LOCAL -j IP-MASQ-AGENT" in rules[0]
    assert [r.split()[3] for r in rules[1:5]] == ["169.254.0.0/16", "10.0.0.0/8",
                                                  "172.16.0.0/12", "192.168.0.0/16"]
    assert rules[-1].endswith("-j MASQUERADE")
    c.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ip-masq-agent, namespace: "
            "kube-system}\ndata:\n  config: |\n    nonMasqueradeCIDRs: [10.244.0.0/16]\n"
            "    masqLinkLocal: true\n")
    rules = [line for line in c.exec("node-1", "iptables-save -t nat").splitlines()
             if line.startswith("-A IP-MASQ-AGENT")]
    assert len(rules) == 2 and "-d 10.244.0.0/16" in rules[0]  # replaced, link-local gone


def test_ip_masq_agent_does_not_masquerade_link_local_or_listed_ranges():
    from kubenet_lab.dataplane.ip_masq_agent import masquerade

    c = kl.Cluster(cni="bridge", workers=1)
    c.add_ip_masq_agent()
    a = c.add_pod("default/a", node="node-1")
    node = c.node("node-1")
    assert masquerade(c.store, node, a.ip, "169.254.169.254") is None
    assert masquerade(c.store, node, a.ip, "192.168.3.4") is None
    assert masquerade(c.store, node, a.ip, WEB) is not None


def test_flannel_masquerades_before_ip_masq_agent(c):
    c.add_nat_gateway(public_ip="198.51.100.20")
    c.add_ip_masq_agent()
    assert "FLANNEL-POSTRTG" in c.trace("default/a", WEB).reason


def test_bad_configmap_is_not_half_applied():
    c = kl.Cluster(cni="bridge")
    bad = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ip-masq-agent, namespace: "
           "kube-system}\ndata:\n  config: 'nonMasqueradeCIDRs: [10.0.0.0/33]'\n")
    with pytest.raises(kl.ManifestError, match="nonMasqueradeCIDRs"):
        c.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n" + bad)
    assert "x" not in [n.name for n in c.namespaces]
    assert c.store.config_map("kube-system/ip-masq-agent") is None


@pytest.mark.parametrize("kwargs, error, field", [
    ({}, kl.ManifestError, "public_ip"),
    ({"public_ip": "10.0.0.9"}, kl.ManifestError, "public_ip"),
    ({"public_ip": "not-an-ip"}, kl.ManifestError, "public_ip"),
    ({"public_ip": "203.0.113.10"}, kl.ConflictError, "public_ip"),  # the node's
])
def test_bad_nat_gateway(c, kwargs, error, field):
    c.add_node("edge", public_ip="203.0.113.10")
    before = (c.vpc, c.nat_gateways)
    with pytest.raises(error) as err:
        c.add_nat_gateway(**kwargs)
    assert err.value.field == field
    assert (c.vpc, c.nat_gateways) == before


def test_public_ip_used_twice(c):
    c.add_nat_gateway(public_ip="198.51.100.20")
    with pytest.raises(kl.ConflictError, match="NatGateway nat-gw"):
        c.add_node("edge", public_ip="198.51.100.20")
    assert "edge" not in [n.name for n in c.nodes]


def _web(c, nodes=("node-1", "node-1", "node-2")):
    for i, n in enumerate(nodes):
        c.add_pod(f"default/web-{i}", node=n, labels={"app": "web"})


def test_load_balancer_pending_without_cloud_controller(c):
    svc = c.add_service("default/web", type="LoadBalancer", selector={"app": "web"},
                        ports=[80])
    assert svc.load_balancer_ip is None and not c.load_balancers


def test_cloud_load_balancer_spreads_over_node_ports():
    c = kl.Cluster(workers=3)
    _web(c)
    c.add_cloud_load_balancer()
    svc = c.add_service("default/web", type="LoadBalancer", selector={"app": "web"},
                        ports=[80])
    assert svc.load_balancer_ip == "198.51.100.10"
    assert c.load_balancers == [kl.LoadBalancer("default/web", "198.51.100.10")]
    nodes = set()
    for i in range(1, 30):
        t = c.trace(f"203.0.113.{i}", "198.51.100.10:80")
        assert t.delivered
        lb_hop = t.hops[1]
        assert lb_hop.packet.layers[-1].dport == svc.ports[0].node_port
        nodes.add(t.hops[2 + 1].node)
        # eTP Cluster: the node masquerades, the client IP is lost (facts §1.5 item 4)
        assert t.source_ip_seen != f"203.0.113.{i}"
        assert t.reply[-1].packet.inner(kl.IPv4).src == "198.51.100.10"
    assert nodes == {"node-1", "node-2", "node-3"}  # the control plane is excluded


def test_external_traffic_policy_local_keeps_client_ip_and_skips_empty_nodes():
    c = kl.Cluster(workers=3)
    _web(c)
    c.add_cloud_load_balancer()
    svc = c.add_service("default/web", type="LoadBalancer", selector={"app": "web"},
                        ports=[80], external_traffic_policy="Local")
    assert svc.health_check_node_port
    seen = set()
    for i in range(1, 30):
        t = c.trace(f"203.0.113.{i}", f"{svc.load_balancer_ip}:80")
        assert t.delivered and t.source_ip_seen == f"203.0.113.{i}"
        seen.add(t.hops[3].node)
    assert seen == {"node-1", "node-2"}  # node-3 fails the health check


def test_load_balancer_with_no_endpoints_and_wrong_port():
    c = kl.Cluster(workers=1)
    c.add_cloud_load_balancer()
    svc = c.add_service("default/web", type="LoadBalancer", selector={"app": "web"},
                        ports=[80], external_traffic_policy="Local")
    t = c.trace("internet", f"{svc.load_balancer_ip}:80")
    assert not t.delivered and "no healthy target" in t.reason
    t = c.trace("internet", f"{svc.load_balancer_ip}:8080")
    assert not t.delivered and "listens only on 80" in t.reason


def test_load_balancer_address_is_kept_on_update_and_freed_on_delete():
    c = kl.Cluster(workers=1)
    c.add_cloud_load_balancer()
    a = c.add_service("default/a", type="LoadBalancer", selector={"app": "a"}, ports=[80])
    again = c.add_service("default/a", type="LoadBalancer", selector={"app": "b"}, ports=[80])
    assert again.load_balancer_ip == a.load_balancer_ip
    c.delete_service("default/a")
    assert not c.load_balancers and c.owner_of(a.load_balancer_ip) is None


def test_existing_load_balancer_services_get_an_address_when_the_controller_starts(c):
    c.add_service("default/web", type="LoadBalancer", selector={"app": "web"}, ports=[80])
    c.add_cloud_load_balancer()
    assert c.service("default/web").load_balancer_ip == "198.51.100.10"


def test_many_internet_clients_cluster_versus_local():

    c = kl.Cluster(workers=3)
    _web(c)
    c.add_cloud_load_balancer()
    c.add_service("default/wc", type="LoadBalancer", selector={"app": "web"}, ports=[80])
    c.add_service("default/wl", type="LoadBalancer", selector={"app": "web"}, ports=[80],
                  external_traffic_policy="Local")
    cl = c.internet_spread("default/wc", clients=60)
    lo = c.internet_spread("default/wl", clients=60)
    assert set(cl["nodes"]) == {"node-1", "node-2", "node-3"} and cl["kept_client_ip"] == 0
    assert cl["extra_hop"] > 0 and sum(cl["pods"].values()) == 60
    assert set(lo["nodes"]) == {"node-1", "node-2"} and lo["kept_client_ip"] == 60
    assert lo["extra_hop"] == 0
    # uneven: the LB splits by node, so node-2's single pod gets as much as node-1's two
    assert lo["pods"]["default/web-2"] > lo["pods"]["default/web-0"]
    assert sum(c.internet_spread("default/wl", clients=60)["pods"].values()) == 60
    with pytest.raises(kl.NotFoundError, match="no cloud load balancer"):
        c.internet_spread("kube-system/kube-dns")


def test_curl_follows_the_same_path(c):
    assert "Couldn't connect" in c.exec("default/a", "curl -s 93.184.216.34")
    c.add_nat_gateway(public_ip="198.51.100.20")
    assert c.exec("default/a", "curl -s 93.184.216.34") == "198.51.100.20"


def test_egress_network_policy_ip_block_sees_the_internet_address():
    c = kl.Cluster(workers=1, network_policy="kube-network-policies")
    c.add_nat_gateway(public_ip="198.51.100.20")
    c.add_pod("default/a", node="node-1", labels={"app": "a"})
    c.apply("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: e}\n"
            "spec:\n  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Egress]\n"
            "  egress:\n  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [93.184.216.0/24]}}]\n")
    t = c.trace("default/a", WEB)
    assert not t.delivered and "network policy on egress" in t.reason
    assert c.trace("default/a", "1.1.1.1").source_ip_seen == "198.51.100.20"


def test_kubeadm_control_plane_is_excluded_from_cloud_load_balancers_by_its_label():
    c = kl.Cluster(workers=2)
    assert "node.kubernetes.io/exclude-from-external-load-balancers" in c.node(
        "control-plane").labels
    assert "node.kubernetes.io/exclude-from-external-load-balancers" not in c.node(
        "node-1").labels
