"""``ip -d link``: the details iproute2 prints for vxlan, bridge and veth devices."""

import kubenet_lab as kl

#: flannel-io/flannel#1757, ``ip -d link show flannel.1`` (a real sample; its node's
#: address and device there were 10.0.0.1 and abc).
REAL_VXLAN = ("vxlan id 1 local 10.0.0.1 dev abc srcport 0 0 dstport 8472 nolearning ttl "
              "auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx")


def test_flannel_vxlan_details():
    c = kl.Cluster(workers=1)
    lines = c.exec("node-1", "ip -d link show dev flannel.1").splitlines()
    assert lines[0].startswith("3: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450")
    assert lines[1].endswith("promiscuity 0 minmtu 68 maxmtu 65535 ")
    expected = REAL_VXLAN.replace("10.0.0.1", "10.0.1.5").replace("dev abc", "dev eth0")
    assert lines[2].startswith("    " + expected + " numtxqueues 1 numrxqueues 1")


def test_bridge_and_veth_details():
    c = kl.Cluster(workers=1)
    c.add_pod("default/a", node="node-1")
    out = c.exec("node-1", "ip -d link show")
    assert "\n    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 " \
           "stp_state 0 priority 32768 vlan_filtering 0 vlan_protocol 802.1Q " in out
    assert "\n    veth \n    bridge_slave state forwarding priority 32 cost 2 hairpin on " in out
    pod = c.exec("default/a", "ip -d link show eth0").splitlines()
    assert pod[2].startswith("    veth numtxqueues 1")


def test_without_d_nothing_changes():
    c = kl.Cluster(workers=1)
    assert "vxlan id" not in c.exec("node-1", "ip link show")
    assert c.exec("node-1", "ip -d link show dev nope") == 'Device "nope" does not exist.'
