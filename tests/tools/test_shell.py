"""Cluster.exec: the networking tools, in their real output format.

Each expected format is taken from the real tool (iproute2 6.x, iputils, BIND nslookup,
curl 8, tcpdump 4.99, kubelet's resolv.conf: facts sheet §2.6), not from the code.
"""

import re

import pytest

import kubenet_lab as kl


@pytest.fixture
def c():
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-2")
    return c


def test_ip_route_on_a_node(c):
    assert c.exec("node-1", "ip route").splitlines() == [
        "default via 10.0.1.1 dev eth0",
        "10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.5",
        "10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink",
        "10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1",
        "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
    ]


def test_ip_addr_blocks_have_iproute2_shape(c):
    out = c.exec("node-1", "ip addr")
    # iproute2: "N: NAME: <FLAGS> mtu M qdisc Q [master B] state S group default [qlen L]"
    heads = re.findall(r"^(\d+): (\S+): <([A-Z_,]+)> mtu (\d+) qdisc \S+ .*state (\S+) group "
                       r"default", out, re.M)
    assert [(h[0], h[1], h[3]) for h in heads][:4] == [
        ("1", "lo", "65536"), ("2", "eth0", "1500"), ("3", "flannel.1", "1450"),
        ("4", "cni0", "1450")]
    assert "    inet 10.244.1.0/32 scope global flannel.1" in out
    assert "    inet 10.244.1.1/24 brd 10.244.1.255 scope global cni0" in out
    assert "       valid_lft forever preferred_lft forever" in out
    veth = re.search(r"^5: (veth[0-9a-f]{8})@if2: .* master cni0 state UP", out, re.M)
    assert veth
    pod = c.exec("default/a", "ip addr")
    assert re.search(r"^2: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450", pod, re.M)
    assert "inet 10.244.1.2/24 brd 10.244.1.255 scope global eth0" in pod
    assert c.exec("node-1", "ip addr show dev nope") == 'Device "nope" does not exist.'


def test_resolv_conf_as_kubelet_writes_it(c):
    assert c.exec("default/a", "cat /etc/resolv.conf") == (
        # kubelet dns.go: the cluster's three domains, then the node's (EC2, eu-west-1)
        "search default.svc.cluster.local svc.cluster.local cluster.local "
        "eu-west-1.compute.internal\n"
        "nameserver 10.96.0.10\n"
        "options ndots:5")
    assert c.exec("default/a", "cat /etc/nothing") == (
        "cat: /etc/nothing: No such file or directory")


def test_ping_reports_like_iputils(c):
    out = c.exec("default/a", "ping -c 3 10.244.2.2").splitlines()
    assert out[0] == "PING 10.244.2.2 (10.244.2.2) 56(84) bytes of data."
    for seq, line in enumerate(out[1:4], 1):
        # two routers (node-1, node-2) on the way back: 64 - 2
        assert re.fullmatch(rf"64 bytes from 10\.244\.2\.2: icmp_seq={seq} ttl=62 "
                            r"time=\d\.\d{3} ms", line)
    assert out[4:6] == ["", "--- 10.244.2.2 ping statistics ---"]
    assert re.fullmatch(r"3 packets transmitted, 3 received, 0% packet loss, time 20\d\dms",
                        out[6])
    assert re.fullmatch(r"rtt min/avg/max/mdev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms", out[7])
    assert c.exec("default/a", "ping -c 1 nowhere") == (
        "ping: nowhere: Name or service not known")


def test_same_node_ping_keeps_ttl_64(c):
    c.add_pod("default/d", node="node-1")
    assert "ttl=64" in c.exec("default/a", "ping -c 1 10.244.1.3")


def test_traceroute_shows_the_routers_flannel_answers_from(c):
    out = c.exec("default/a", "traceroute -n 10.244.2.2").splitlines()
    assert out[0] == "traceroute to 10.244.2.2 (10.244.2.2), 30 hops max, 60 byte packets"
    assert [line.split()[:2] for line in out[1:]] == [
        ["1", "10.244.1.1"], ["2", "10.244.2.0"], ["3", "10.244.2.2"]]
    assert all(re.fullmatch(r" \d  [\d.]+  (\d\.\d{3} ms  ){2}\d\.\d{3} ms", x) for x in out[1:])


def test_nslookup_pod_record_and_nxdomain(c):
    ok = c.exec("default/a", "nslookup 10-244-2-2.default.pod.cluster.local")
    assert ok == ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n"
                  "Name:\t10-244-2-2.default.pod.cluster.local\nAddress: 10.244.2.2\n")
    bad = c.exec("default/a", "nslookup web")
    assert bad.endswith("** server can't find web: NXDOMAIN\n")


def test_nslookup_times_out_when_coredns_is_unreachable(c):
    for node in ("node-1",):
        c.exec(node, f"ip route del {c.node('control-plane').pod_cidr}")
    assert c.exec("default/a", "nslookup web") == (
        ";; connection timed out; no servers could be reached\n")


def test_curl_answers_refuses_and_times_out(c):
    assert "<title>Welcome to nginx!</title>" in c.exec("default/a", "curl -s http://10.244.2.2/")
    assert c.exec("default/a", "curl 10.244.2.2:8080") == (
        "curl: (7) Failed to connect to 10.244.2.2 port 8080 after 0 ms: "
        "Couldn't connect to server")
    assert c.exec("default/a", "curl http://web/") == "curl: (6) Could not resolve host: web"
    c.exec("node-1", "ip route del 10.244.2.0/24")
    assert c.exec("default/a", "curl -m 5 10.244.2.2") == (
        "curl: (28) Connection timed out after 5001 milliseconds")


def test_tcpdump_decodes_flannel_vxlan_as_tcpdump_does(c):
    c.exec("default/a", "curl -s 10.244.2.2")
    out = c.exec("node-1", "tcpdump -n -i eth0").splitlines()
    assert out[:2] == [
        "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode",
        "listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes"]
    # tcpdump prints UDP 8472 as OTV, then the inner packet on its own line
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{6} IP 10\.0\.1\.5\.\d+ > 10\.0\.1\.6\.8472: OTV, "
                        r"flags \[I\] \(0x08\), overlay 0, instance 1", out[2])
    assert re.match(r"IP 10\.244\.1\.2\.\d+ > 10\.244\.2\.2\.80: Flags \[S\], seq \d+, win 64860, "
                    r"options \[mss 1410,", out[3])
    assert out[-3:] == ["1 packets captured", "1 packets received by filter",
                        "0 packets dropped by kernel"]
    inner = c.exec("node-2", "tcpdump -n -i cni0").splitlines()
    assert "IP 10.244.1.2." in inner[2] and "OTV" not in inner[2]
    assert c.exec("node-1", "tcpdump -n -i eth9").startswith("tcpdump: eth9: No such device")


def test_kubectl_on_a_node(c):
    assert c.exec("node-1", "kubectl get pods -A -o wide") == kl.kubectl_get_pods(
        c, all_namespaces=True, wide=True)
    assert c.exec("node-1", "kubectl get nodes") == kl.kubectl_get_nodes(c)
    # a kubeadm cluster starts with the API server's Service in default (kubectl's format),
    # as old as the API requests made since (one second each: at least the two pods')
    since = c.store.clock - c.store.created(c.service("default/kubernetes"))
    assert since >= 2
    assert c.exec("node-1", "kubectl get svc") == (
        "NAME         TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE\n"
        f"kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   {since}s")
    for _ in range(200 - since):
        c.store.tick()
    assert c.exec("node-1", "kubectl get svc").endswith("   443/TCP   3m20s")
    assert c.exec("node-1", "kubectl get svc -n kube-public") == (
        "No resources found in kube-public namespace.")
    assert c.exec("default/a", "kubectl get pods") == "sh: 1: kubectl: not found"


def test_ip_neigh_and_bridge_fdb_show_flannels_static_entries(c):
    neigh = c.exec("node-1", "ip neigh").splitlines()
    assert any(re.fullmatch(r"10\.244\.2\.0 dev flannel\.1 lladdr [0-9a-f:]{17} PERMANENT", x)
               for x in neigh)
    fdb = c.exec("node-1", "bridge fdb")
    assert re.search(r"^[0-9a-f:]{17} dev flannel\.1 dst 10\.0\.1\.6 self permanent$", fdb, re.M)


def test_iptables_save_prints_flanneld_chains(c):
    out = c.exec("node-1", "iptables-save")
    assert "*nat\n:PREROUTING ACCEPT [0:0]" in out
    assert ":FLANNEL-POSTRTG - [0:0]" in out and ":FLANNEL-FWD - [0:0]" in out
    assert ('-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment '
            '"flanneld masq" -j RETURN') in out
    assert out.count("COMMIT") == 2
    assert c.exec("default/a", "iptables-save").endswith("Permission denied (you must be root)")


def test_unknown_commands_answer_like_a_shell(c):
    assert c.exec("node-1", "ipconfig") == "bash: ipconfig: command not found"
    assert c.exec("default/a", "ifconfig -a") == "sh: 1: ifconfig: not found"
    assert c.exec("node-1", "ip foo") == 'Object "foo" is unknown, try "ip help".'
    assert c.exec("node-1", "ping").startswith("ping: usage error")
    assert c.exec("node-1", "curl --bogus x").startswith("curl: option --bogus: is unknown")
    assert c.exec("node-1", "") == ""
    assert c.exec("node-1", "echo 'oops").startswith("bash: unexpected EOF")


def test_exec_on_an_unknown_place_is_an_error(c):
    with pytest.raises(kl.NotFoundError, match="default/zz"):
        c.exec("default/zz", "ip route")
    with pytest.raises(kl.NotFoundError, match="node-9"):
        c.exec("node-9", "ip route")


# ------------------------------------------------------------------ ip route add/del
def test_ip_route_del_and_add_really_change_the_path(c):
    assert c.exec("node-1", "ip route del 10.244.2.0/24") == ""
    assert "10.244.2.0/24" not in c.exec("node-1", "ip route")
    assert not c.trace("default/a", "default/b").delivered
    assert c.exec("node-1", "ip route add 10.244.2.0/24 via 10.0.1.6") == ""
    assert "10.244.2.0/24 via 10.0.1.6 dev eth0" in c.exec("node-1", "ip route")
    # routed like the bridge plugin now: EC2's source/destination check drops the pod
    # address at node-1's interface until it is off on both instances
    assert "source/destination check" in c.trace("default/a", "default/b").reason
    for node in ("node-1", "node-2"):
        c.set_source_dest_check(node, False)
    t = c.trace("default/a", "default/b")
    assert t.delivered and not t.encapsulated
    assert c.verify_network_model().ok


def test_bad_route_edits_answer_like_iproute2_and_change_nothing(c):
    before = c.exec("node-1", "ip route")
    cases = {
        "ip route del 10.99.0.0/16": "RTNETLINK answers: No such process",
        "ip route add 10.244.2.0/24 via 10.0.1.6": "RTNETLINK answers: File exists",
        "ip route add 10.99.0.0/16 via 192.0.2.1": "Error: Nexthop has invalid gateway.",
        "ip route add 10.99.0.0/16 dev eth7": 'Cannot find device "eth7"',
        "ip route add banana via 10.0.1.6": 'Error: any valid prefix is expected rather than '
                                            '"banana".',
        "ip route add 10.99.0.0/16 via pear": 'Error: inet address is expected rather than '
                                              '"pear".',
    }
    for command, answer in cases.items():
        assert c.exec("node-1", command) == answer, command
    assert c.exec("node-1", "ip route") == before
    assert c.exec("default/a", "ip route del default") == (
        "RTNETLINK answers: Operation not permitted")


def test_route_edits_are_cluster_state_that_a_failed_apply_keeps(c):
    c.exec("node-1", "ip route del 10.244.2.0/24")
    edited = c.exec("node-1", "ip route")
    with pytest.raises(kl.ManifestError):
        c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
                 "spec": {"containers": [{"name": "x", "ports": [{"containerPort": 0}]}]}})
    assert c.exec("node-1", "ip route") == edited


def test_same_input_same_text(c):
    def run():
        d = kl.Cluster(workers=2)
        d.add_pod("default/a", node="node-1")
        d.add_pod("default/b", node="node-2")
        return [d.exec("default/a", x) for x in ("ping -c 2 10.244.2.2", "traceroute -n "
                                                 "10.244.2.2", "ip addr")]
    assert run() == run()


def test_tcpdump_on_the_tunnel_device_sees_the_inner_packet(c):
    c.exec("default/a", "curl -s 10.244.2.2")
    out = c.exec("node-1", "tcpdump -n -i flannel.1").splitlines()
    assert "OTV" not in out[2] and re.search(r"IP 10\.244\.1\.2\.\d+ > 10\.244\.2\.2\.80:", out[2])
    calico = kl.Cluster(workers=2, cni="calico", cni_config={"ipipMode": "Always"})
    calico.add_pod("default/a", node="node-1")
    calico.add_pod("default/b", node="node-2")
    calico.exec("default/a", "curl -s 192.168.0.130")
    wire = calico.exec("node-1", "tcpdump -n -i eth0").splitlines()[2]
    assert re.search(r"IP 10\.0\.1\.5 > 10\.0\.1\.6: IP 192\.168\.0\.66\.\d+ > "
                     r"192\.168\.0\.130\.80: Flags \[S\].* \(ipip-proto-4\)$", wire)


def test_ip_link_and_short_forms(c):
    link = c.exec("node-1", "ip link").splitlines()
    assert link[0].startswith("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536")
    assert not any("inet " in line for line in link)
    assert c.exec("node-1", "ip r") == c.exec("node-1", "ip route")
    assert c.exec("node-1", "ip a") == c.exec("node-1", "ip addr")


def test_iptables_save_on_a_node_has_kube_proxy_and_flannel_chains(c):
    nat = c.exec("node-1", "iptables-save -t nat")
    # kube-proxy's chain for default/kubernetes:https (hash from the facts sheet, §1.2)
    assert "-j KUBE-SVC-NPX46M4PTMTKRN6Y" in nat
    assert "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\"" in nat
    assert "FLANNEL-POSTRTG" in nat


def test_iptables_save_on_cilium_keeps_kube_proxy_unless_replaced():
    """Cilium on kubeadm keeps kube-proxy (Helm kubeProxyReplacement defaults to false:
    cilium Documentation/network/kubernetes/kubeproxy-free.rst); with the replacement
    kube-proxy's KUBE-* chains are gone and Cilium's own CILIUM_* chains remain."""
    kept = kl.Cluster(workers=1, cni="cilium").exec("node-1", "iptables-save")
    assert "-j KUBE-SERVICES" in kept and "CILIUM_POST_nat" in kept
    replaced = kl.Cluster(workers=1, cni="cilium", cni_config={"kubeProxyReplacement": True})
    text = replaced.exec("node-1", "iptables-save")
    assert "cilium masquerade non-cluster" in text
    # the kubelet's KUBE- chains stay (pkg/kubelet/kubelet_network_linux.go)
    assert {w.split()[0] for w in text.split(":") if w.startswith("KUBE-")} == {
        "KUBE-FIREWALL", "KUBE-KUBELET-CANARY"}


def test_nslookup_of_a_service_from_a_pod(c):
    out = c.exec("default/a", "nslookup kubernetes")
    assert "Server:\t\t10.96.0.10" in out
    assert "Name:\tkubernetes.default.svc.cluster.local\nAddress: 10.96.0.1" in out


def test_traceroute_on_cilium_gets_no_answer_from_ebpf_routing():
    # Cilium decrements the TTL in eBPF and sends no ICMP time exceeded (cilium #27616)
    c = kl.Cluster(workers=2, cni="cilium")
    c.add_pod("default/a", node="node-1")
    b = c.add_pod("default/b", node="node-2")
    lines = c.exec("default/a", f"traceroute -n {b.ip}").splitlines()
    assert lines[1] == " 1  * * *"
    assert lines[2].startswith(f" 2  {b.ip}  ")


def test_traceroute_to_the_internet_shows_the_node_then_the_host():
    # the VPC router and internet gateway do not decrement the TTL: no hop of their own;
    # the pod's first hop is its node (cni0's address), then the internet host answers
    c = kl.Cluster(workers=1)
    c.add_nat_gateway(public_ip="198.51.100.20")
    c.add_pod("default/a", node="node-1")
    out = c.exec("default/a", "traceroute -n 93.184.216.34").splitlines()
    assert out[0] == "traceroute to 93.184.216.34 (93.184.216.34), 30 hops max, 60 byte packets"
    assert [line.split()[:2] for line in out[1:]] == [["1", "10.244.1.1"],
                                                     ["2", "93.184.216.34"]]
