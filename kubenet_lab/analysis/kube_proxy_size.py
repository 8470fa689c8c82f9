"""How large kube-proxy's tables are on one node, and how many of their rules a new
connection meets: the two things that grow with a cluster, measured on the lab's own
tables (``KubeProxySize``).

>>> s = kube_proxy_size(kl.Cluster(workers=1))   # kubernetes, and kube-dns's three ports
>>> s.mode, s.service_ports, s.endpoints
('iptables', 4, 7)
"""

from __future__ import annotations

from typing import Any

from kubenet_lab.dataplane.kube_proxy import endpoint_count, iptables_save, proxied
from kubenet_lab.dataplane.kube_proxy_nftables import nft_list
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.arguments import checked
from kubenet_lab.model.kube_proxy_size import KubeProxySize
from kubenet_lab.walk.netfilter import rules_traversed

__all__ = ["kube_proxy_size"]


@checked
def kube_proxy_size(cluster: Any, node: str = "node-1") -> KubeProxySize:
    """``node``'s kube-proxy tables in ``cluster`` (a ``Cluster``): their listing's
    lines and bytes, and the rules met by the first packet from a pod (the first one in
    name order outside kube-system; without one, from ``node`` itself) to the Service
    port that sorts last, the worst case of iptables mode's list. Read-only."""
    if type(cluster).__name__ != "Cluster":
        raise ManifestError("kube_proxy_size", "cluster", type(cluster).__name__,
                            "is not a Cluster", fix="pass the kl.Cluster to measure")
    view = cluster.store.snapshot()
    where = view.node(node)
    ports = proxied(view)
    mode = view.config.kube_proxy_mode
    text = nft_list(view, where) if mode == "nftables" else iptables_save(view, where)
    client = next((p.ref for p in view.pods if p.namespace != "kube-system"), node)
    svc, sp, _ = ports[-1]
    rules = rules_traversed(cluster, client, svc.cluster_ip, sp.port, sp.protocol)
    return KubeProxySize(mode, view.node_count(), len(view.pods), len(ports),
                         endpoint_count(view), text.count("\n"), len(text.encode()), rules)
