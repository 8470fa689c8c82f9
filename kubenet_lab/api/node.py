"""Nodes as the API server and kube-controller-manager's IPAM set them up: the name, the
InternalIP from the VPC subnet, the podCIDR from the cluster CIDR, kubeadm's labels.

>>> c = kl.Cluster()
>>> node, subnet = build_node(c.store, "node-1")
>>> node.ip, node.pod_cidr, subnet.name
('10.0.1.5', '10.244.1.0/24', 'private')
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.cloud import PUBLIC_SUBNET, check_public_ip
from kubenet_lab.api.fields import (
    check_cidr,
    check_dns_subdomain,
    check_ip,
    check_labels,
    mapping,
    meta,
    sequence,
    string,
)
from kubenet_lab.api.ipam import check_ip_free, first_free_block, next_node_ip, next_pod_cidr
from kubenet_lab.api.meta import labelled
from kubenet_lab.exceptions import ConflictError, ManifestError
from kubenet_lab.model.cloud import Subnet
from kubenet_lab.model.node import CONTROL_PLANE_TAINT, Node

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["build_node", "decode_node", "encode_node", "public_subnet"]


@lru_cache(maxsize=65536)
def _span(cidr: str) -> tuple[int, int]:
    """A node's podCIDR as its first and last address, parsed once (a 5,000-node
    cluster asks for each at every join)."""
    net = ip_network(cidr)
    return int(net.network_address), int(net.broadcast_address)


def public_subnet(store: StoreView) -> Subnet:
    """The VPC's public subnet (the lab adds ``Cluster(public_subnet=...)``, 10.0.0.0/24,
    on first use); its VPC router is the subnet's .1."""
    found = next((s for s in store.vpc.subnets if s.public), None)
    if found is not None:
        return found
    cidr = store.config.public_subnet
    if cidr == PUBLIC_SUBNET.cidr:
        return PUBLIC_SUBNET
    net = ip_network(cidr)
    return Subnet("public", cidr, str(net.network_address + 1), public=True)


def build_node(
    store: StoreView,
    name: str,
    *,
    ip: str | None = None,
    pod_cidr: str | None = None,
    public_ip: str | None = None,
    labels: Mapping[str, str] | None = None,
    control_plane: bool = False,
) -> tuple[Node, Subnet]:
    """A new node, checked and with its addresses allocated, and the subnet it is in;
    nothing is stored here. See ``Cluster.add_node``.

    Without ``pod_cidr`` the node gets the next free block of the cluster CIDR, as
    kube-controller-manager's range allocator gives it (``--allocate-node-cidrs=true``,
    kubeadm's default with a pod network CIDR). A given ``pod_cidr`` (a Node manifest's
    ``spec.podCIDR``) must be a valid block of the cluster CIDR, but it may overlap another
    node's, as a real API server allows.
    """
    obj = f"Node {name}"
    check_dns_subdomain(obj, "metadata.name", name)
    if store.has_node(name):
        raise ConflictError(obj, "metadata.name", name, "already exists",
                            fix="choose another name")
    subnet = store.vpc.subnets[0] if public_ip is None else public_subnet(store)
    subnet_net = ip_network(subnet.cidr)
    if ip is None:
        addr = next_node_ip(subnet_net, store.address_owners())
    else:
        addr = check_ip(obj, "status.addresses[InternalIP]", ip)
        first, last = int(subnet_net.network_address) + 4, int(subnet_net.broadcast_address) - 1
        if not first <= int(addr) <= last:
            raise ManifestError(
                obj, "status.addresses[InternalIP]", ip,
                f"is not a usable address of the VPC subnet {subnet.cidr}",
                fix=f"use an address from {IPv4Address(first)} to {IPv4Address(last)}",
            )
        check_ip_free(store, obj, "status.addresses[InternalIP]", addr)
    cluster_net = ip_network(store.cluster_cidr)
    if pod_cidr is None:
        # None when full: next_pod_cidr of a full CIDR raises the allocator's error
        block = first_free_block(cluster_net, store.node_cidr_mask, [
            _span(n.pod_cidr) for n in store.objects("Node")]) or next_pod_cidr(
            cluster_net, store.node_cidr_mask, [cluster_net])
    else:
        block = check_cidr(obj, "spec.podCIDR", pod_cidr)
        if not block.subnet_of(cluster_net):
            raise ManifestError(
                obj, "spec.podCIDR", pod_cidr,
                f"is not inside the cluster CIDR {store.cluster_cidr}",
                fix="choose a block of the cluster CIDR, or leave it out to get the next "
                "free one",
            )
        if block.prefixlen > 30:
            raise ManifestError(obj, "spec.podCIDR", pod_cidr,
                                "is too small to allocate pod IPs from",
                                fix="use a /30 or larger block")
        # No overlap check: the API server accepts any valid CIDR in spec.podCIDR
        # (pkg/apis/core/validation ValidateNode checks only its syntax). Only
        # kube-controller-manager's node IPAM (--allocate-node-cidrs, the range
        # allocator) avoids overlaps, and only among the blocks it hands out itself: a
        # Node created with a hand-written spec.podCIDR is marked used (cidrset
        # Occupy), overlapping or not. verify_network_model() reports the overlap.
    if public_ip is not None:
        check_public_ip(store, obj, "status.addresses[ExternalIP]", public_ip)
    all_labels = {
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        **check_labels(obj, "metadata.labels", dict(labels or {})),
    }
    taints: tuple = ()
    if control_plane:
        # kubeadm's mark-control-plane phase sets both labels and the taint
        all_labels["node-role.kubernetes.io/control-plane"] = ""
        all_labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        taints = (CONTROL_PLANE_TAINT,)
    node = Node(
        name=name, ip=str(addr), pod_cidr=str(block), subnet=subnet.name,
        public_ip=public_ip, labels=dict(sorted(all_labels.items())), taints=taints,
    )
    return node, subnet


def decode_node(store: StoreView, doc: Mapping[str, Any]) -> Node | dict[str, Any]:
    """A v1 Node manifest: the node itself when it exists (re-applying it may not change
    its podCIDR), else the keyword arguments of ``build_node``."""
    obj, _, name, labels = meta(doc, "Node", namespaced=False)
    spec = mapping(obj, "spec", doc.get("spec"))
    status = mapping(obj, "status", doc.get("status"))
    addresses: dict[str | None, str | None] = {}
    for i, a in enumerate(sequence(obj, "status.addresses", status.get("addresses"))):
        a = mapping(obj, f"status.addresses[{i}]", a, required=True)
        addresses[string(obj, f"status.addresses[{i}].type", a.get("type"))] = string(
            obj, f"status.addresses[{i}].address", a.get("address"))
    pod_cidr = string(obj, "spec.podCIDR", spec.get("podCIDR")) or None
    if store.has_node(name):
        node = store.node(name)
        if pod_cidr is not None and pod_cidr != node.pod_cidr:
            raise ConflictError(
                obj, "spec.podCIDR", pod_cidr,
                f"Forbidden: node updates may not change podCIDR (it is {node.pod_cidr})",
                fix="delete and re-create the node to give it another podCIDR",
            )
        return node
    return dict(
        name=name, ip=addresses.get("InternalIP") or None, pod_cidr=pod_cidr,
        public_ip=addresses.get("ExternalIP") or None,
        labels={k: v for k, v in labels.items()
                if k != "node-role.kubernetes.io/control-plane"},
        control_plane="node-role.kubernetes.io/control-plane" in labels,
    )


def encode_node(view: StoreView, node: Node) -> dict[str, Any]:
    """A node's labels and spec as ``kubectl get node -o yaml`` shows them:
    ``podCIDR`` and ``podCIDRs`` (the node IPAM controller's block) and the taints.
    ``decode_node`` reads them back, with the addresses of the status.

    >>> encode_node(None, kl.Cluster().node("control-plane"))["spec"]
    {'podCIDR': '10.244.0.0/24', 'podCIDRs': ['10.244.0.0/24'],
     'taints': [{'effect': 'NoSchedule', 'key': 'node-role.kubernetes.io/control-plane'}]}
    """
    spec: dict[str, Any] = {"podCIDR": node.pod_cidr, "podCIDRs": [node.pod_cidr]}
    if node.taints:
        spec["taints"] = [{"effect": t.effect, "key": t.key, **({"value": t.value} if t.value
                                                                 else {})} for t in node.taints]
    return {"apiVersion": "v1", "kind": "Node", "metadata": labelled(node.labels), "spec": spec}
