"""The datapath walks packets as a kubeadm + flannel (VXLAN) node does (facts sheet §3)."""

import pytest

import kubenet_lab as kl
from kubenet_lab.dataplane import cni


@pytest.fixture
def c():
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-2")
    c.add_pod("default/d", node="node-1")
    c.add_pod("default/duo", node="node-2", containers=[
        kl.Container("web", ports=[80]), kl.Container("sidecar", ports=[9090])])
    return c


def where(t):
    return [(h.location.kind, h.location.name, h.location.interface) for h in t.hops]


def test_same_node_goes_eth0_veth_bridge_veth_eth0(c):
    t = c.trace("default/a", "default/d", port=80)
    a, d = c.pod("default/a"), c.pod("default/d")
    assert where(t) == [
        ("pod", "default/a", "eth0"),
        ("node", "node-1", cni.BridgeFamily().veth_name(a)),
        ("node", "node-1", "cni0"),
        ("node", "node-1", cni.BridgeFamily().veth_name(d)),
        ("pod", "default/d", "eth0"),
    ]
    assert t.delivered and t.destination_pod == "default/d"


def test_same_node_is_bridged_not_routed(c):
    t = c.trace("default/a", "default/d")
    assert {h.packet[kl.IPv4].ttl for h in t.hops} == {64}
    assert not t.encapsulated
    # the frame goes straight to d's MAC: ARP for an on-link neighbour
    assert t.hops[0].packet[kl.Ethernet].dst == cni.mac_address("default/d/eth0")


def test_no_nat_between_pods(c):
    for dst in ("default/d", "default/b"):
        t = c.trace("default/a", dst)
        assert t.source_ip_seen == c.pod("default/a").ip
        assert t.hops[-1].packet.inner(kl.IPv4).src == c.pod("default/a").ip


def test_cross_node_uses_flannel_vxlan(c):
    t = c.trace("default/a", "default/b", port=80)
    n1, n2 = c.node("node-1"), c.node("node-2")
    assert ("node", "node-1", "flannel.1") in where(t)
    assert ("node", "node-2", "flannel.1") in where(t)
    assert ("network", "10.0.1.0/24", "") in where(t)
    wire = next(h for h in t.hops if h.location.kind == "network").packet
    outer, udp, vxlan = wire[kl.IPv4], wire[kl.UDP], wire[kl.VXLAN]
    assert (outer.src, outer.dst, outer.proto) == (n1.ip, n2.ip, "UDP")
    assert udp.dport == 8472 and vxlan.vni == 1
    inner = wire.inner(kl.IPv4)
    assert (inner.src, inner.dst) == (c.pod("default/a").ip, c.pod("default/b").ip)
    assert outer.length - inner.length == 50  # flannel's encapOverhead
    assert t.nodes == ("node-1", "node-2")


def test_cross_node_is_routed_twice(c):
    t = c.trace("default/a", "default/b")
    assert t.hops[0].packet[kl.IPv4].ttl == 64
    assert t.hops[-1].packet[kl.IPv4].ttl == 62
    assert not t.hops[-1].packet.encapsulated


def test_first_hop_goes_to_the_cni0_gateway_for_another_node(c):
    t = c.trace("default/a", "default/b")
    assert t.hops[0].packet[kl.Ethernet].dst == cni.mac_address("node-1/cni0")
    assert "10.244.0.0/16 via 10.244.1.1 dev eth0" in t.hops[0].detail


def test_flannel_devices_and_mtu():
    c = kl.Cluster(workers=1)
    c.add_pod("default/a", node="node-1")
    devs = {i.name: i for i in c.dataplane().node_interfaces(c.node("node-1"))}
    assert devs["flannel.1"].mtu == 1450 and devs["flannel.1"].address == "10.244.1.0/32"
    assert devs["cni0"].address == "10.244.1.1/24"
    assert devs["eth0"].mtu == 1500
    pod_eth0 = c.dataplane().pod_interfaces(c.pod("default/a"))[1]
    veth = cni.BridgeFamily().veth_name(c.pod("default/a"))
    assert pod_eth0.mtu == 1450 and pod_eth0.peer == f"node-1:{veth}"


def test_cni0_appears_with_the_first_pod():
    c = kl.Cluster(workers=1)
    assert "cni0" not in {i.name for i in c.dataplane().node_interfaces(c.node("node-1"))}
    c.add_pod("default/a", node="node-1")
    assert "cni0" in {i.name for i in c.dataplane().node_interfaces(c.node("node-1"))}


def test_localhost_between_containers_stays_on_lo(c):
    t = c.trace("default/duo/sidecar", "localhost", port=80)
    assert t.delivered and t.receiver == "default/duo/web"
    assert {h.location for h in t.hops} == {kl.Location("pod", "default/duo", "lo")}
    assert t.hops[0].packet[kl.IPv4].src == "127.0.0.1"
    assert kl.Ethernet not in t.hops[0].packet


def test_localhost_reaches_the_other_containers_port_too(c):
    assert c.trace("default/duo/web", "127.0.0.1:9090").receiver == "default/duo/sidecar"


def test_localhost_closed_port_is_refused(c):
    t = c.trace("default/duo/web", "localhost", port=8080)
    assert not t.delivered and t.hops[-1].action == "refuse"


def test_closed_port_gives_connection_refused(c):
    t = c.trace("default/a", "default/b", port=81)
    assert not t.delivered
    assert t.destination_pod == "default/b"
    assert t.reason.startswith("Connection refused")
    assert "RST" in t.hops[-1].detail


def test_udp_to_a_closed_port_gets_icmp_port_unreachable(c):
    t = c.trace("default/a", "default/b", port=53, protocol="UDP")
    assert not t.delivered and "ICMP port unreachable" in t.hops[-1].detail


def test_crash_looping_container_does_not_answer():
    c = kl.Cluster(workers=1)
    c.add_pod("default/clash", node="node-1", containers=[
        kl.Container("web", ports=[80]), kl.Container("metrics", ports=[80, 9100])])
    assert c.trace("node-1", "default/clash", port=80).receiver == "default/clash/web"
    t = c.trace("node-1", "default/clash", port=9100)
    assert not t.delivered and "crash-loops" in t.reason


def test_node_to_local_pod_uses_the_bridge_address(c):
    t = c.trace("node-1", "default/a")
    assert t.delivered and t.source_ip_seen == "10.244.1.1"
    assert not t.encapsulated


def test_node_to_remote_pod_uses_the_flannel_address_without_nat(c):
    t = c.trace("node-1", "default/b")
    assert t.delivered and t.source_ip_seen == "10.244.1.0"
    assert t.encapsulated


def test_node_to_node(c):
    t = c.trace("node-1", "node-2", port=10250)
    assert t.delivered and t.receiver == "node-2/kubelet"
    assert t.source_ip_seen == c.node("node-1").ip


def test_pod_to_its_own_node_keeps_the_pod_ip(c):
    t = c.trace("default/a", "node-1", port=10250)
    assert t.delivered and t.source_ip_seen == c.pod("default/a").ip


def test_pod_to_another_node_is_masqueraded_by_flannel(c):
    # FLANNEL-POSTRTG: -s 10.244.0.0/16 ! -d 224.0.0.0/4 -j MASQUERADE
    t = c.trace("default/a", "node-2", port=10250)
    assert t.delivered and t.source_ip_seen == c.node("node-1").ip
    assert "MASQUERADE" in " ".join(h.detail for h in t.hops)


def test_control_plane_listens_on_the_api_server_port(c):
    assert c.trace("default/a", "control-plane", port=6443).delivered
    assert not c.trace("default/a", "node-2", port=6443).delivered


def test_missing_pod_ip_on_another_node_is_unreachable(c):
    t = c.trace("default/a", "10.244.2.99")
    assert not t.delivered and "Destination Host Unreachable" in t.reason
    assert t.hops[-1].node == "node-2"


def test_the_vpc_has_no_internet_yet(c):
    t = c.trace("default/a", "93.184.216.34")
    assert not t.delivered and "no route" in t.reason


def test_ip_port_destination(c):
    t = c.trace("default/a", f"{c.pod('default/b').ip}:80", port=1234)
    assert t.port == 80 and t.delivered


def test_source_ports_are_ephemeral_and_deterministic(c):
    t1 = c.trace("default/a", "default/b")
    t2 = c.trace("default/a", "default/b")
    assert t1 == t2
    assert 32768 <= t1.hops[0].packet[kl.TCP].sport <= 60999


def test_hop_changes_record_the_rewrites(c):
    t = c.trace("default/a", "default/b")
    encap = next(h for h in t.hops if h.action == "encapsulate")
    changed = {str(ch) for ch in encap.changes}
    assert "IP.ttl: 64 -> 63" in changed
    assert any(s.startswith("added VXLAN vni=1") for s in changed)
    decap = next(h for h in t.hops if h.action == "decapsulate")
    assert any(s.startswith("removed VXLAN") for s in map(str, decap.changes))


@pytest.mark.parametrize("src, dst, kwargs, error, field", [
    ("default/nope", "default/b", {}, kl.NotFoundError, None),
    ("default/a", "default/nope", {}, kl.NotFoundError, None),
    ("node-9", "default/b", {}, kl.NotFoundError, None),
    ("default/a/nope", "default/b", {}, kl.NotFoundError, "spec.containers"),
    ("default/a", "default/b", {"port": 0}, kl.ManifestError, "port"),
    ("default/a", "default/b", {"port": 70000}, kl.ManifestError, "port"),
    ("default/a", "default/b", {"protocol": "ICMP"}, kl.ManifestError, "protocol"),
    ("10.244.9.9", "default/b", {}, kl.NotFoundError, "src"),
    ("10.96.9.9", "default/b", {}, kl.NotFoundError, "src"),
])
def test_bad_trace_input(c, src, dst, kwargs, error, field):
    before = [(p.ref, p.ip) for p in c.pods]
    with pytest.raises(error) as err:
        c.trace(src, dst, **kwargs)
    assert err.value.field == field
    assert [(p.ref, p.ip) for p in c.pods] == before


def test_unknown_pod_error_suggests_close_names(c):
    with pytest.raises(kl.NotFoundError, match="did you mean 'default/b'"):
        c.trace("default/a", "default/bb")
