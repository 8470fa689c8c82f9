"""MTU: flannel's VXLAN device and its pods take the uplink's MTU minus 50.

Facts: flannel pkg/backend/vxlan/vxlan_network.go ``encapOverhead = 50`` and ``MTU()``
returns ``nw.mtu - encapOverhead`` (the uplink's MTU); flanneld writes it to
subnet.env as ``FLANNEL_MTU`` and flannel's CNI plugin gives it to the bridge plugin,
so ``cni0``, the veths and the pods' ``eth0`` use it too. 50 = outer Ethernet 14 +
IPv4 20 + UDP 8 + VXLAN 8 (RFC 7348 §5). The lab's nodes are on a 1500-byte network.
"""

from __future__ import annotations

import re

import kubenet_lab as kl
from kubenet_lab.dataplane.cni.base import LINK_MTU
from kubenet_lab.dataplane.cni.flannel import VXLAN_OVERHEAD

UPLINK = 1500


def _mtus(text: str) -> dict[str, int]:
    return {m.group(1).split("@")[0]: int(m.group(2))
            for m in re.finditer(r"^\d+: (\S+): <[^>]*> mtu (\d+)", text, re.M)}


def test_the_lab_network_is_1500_and_the_overhead_is_vxlan_over_ipv4():
    assert LINK_MTU == UPLINK
    assert VXLAN_OVERHEAD == 14 + 20 + 8 + 8 == 50


def test_flannel_devices_and_pods_get_uplink_minus_50():
    c = kl.Cluster(workers=1)
    c.add_pod("default/a", node="node-1")
    node = _mtus(c.exec("node-1", "ip link show"))
    assert node["eth0"] == UPLINK
    assert node["flannel.1"] == UPLINK - 50 == 1450
    assert node["cni0"] == 1450
    assert all(mtu == 1450 for dev, mtu in node.items() if dev.startswith("veth"))
    assert _mtus(c.exec("default/a", "ip link show"))["eth0"] == 1450

