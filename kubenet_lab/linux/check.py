"""``python -m kubenet_lab linux-check``: ``compare`` over the standard clusters.

The clusters (``standard_clusters``), each with the same workload (``add_workload``):
a client pod with two containers on node-1, a Service ``web`` (NodePort,
externalTrafficPolicy Cluster) with endpoints on node-1 and node-2, and a Service
``web-local`` (NodePort, externalTrafficPolicy Local) whose one endpoint is on node-2:

- flannel with kube-proxy in iptables mode, and in nftables mode;
- the bridge plugin with host routes (Kubernetes the Hard Way), EC2's
  source/destination check turned off on every node, as routed pod addresses need;
- the same with ``ipMasq: true`` (KTHW's setting: pod-to-pod traffic across nodes is
  masqueraded);
- the same with ``hairpinMode: true`` (the veth ports in hairpin mode, as flannel's
  configuration sets them: a pod reaches itself through its Service);
- the bridge plugin with the source/destination check left on (EC2's default).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from kubenet_lab.cluster import Cluster
from kubenet_lab.linux.compare import CompareReport, compare
from kubenet_lab.linux.realize import realize
from kubenet_lab.model.pod import Container, ContainerPort

__all__ = ["add_workload", "check", "standard_clusters"]


def add_workload(c: Cluster) -> Cluster:
    """The pods and Services every standard cluster gets (see the module docstring)."""
    web = [ContainerPort(80), ContainerPort(5353, protocol="UDP")]
    c.add_pod("default/client", node="node-1", labels={"app": "client"},
              containers=[Container("shell", ports=(ContainerPort(8080),)),
                          Container("sidecar", ports=(ContainerPort(9090),))])
    c.add_pod("default/web-1", node="node-1", labels={"app": "web"},
              containers=[Container("web", ports=tuple(web))])
    c.add_pod("default/web-2", node="node-2", labels={"app": "web"},
              containers=[Container("web", ports=tuple(web))])
    c.add_pod("default/local-1", node="node-2", labels={"app": "local"},
              containers=[Container("web", ports=(ContainerPort(80),))])
    c.add_service("default/web", selector={"app": "web"}, ports=[80], type="NodePort",
                  external_traffic_policy="Cluster")
    c.add_service("default/web-local", selector={"app": "local"}, ports=[80],
                  type="NodePort", external_traffic_policy="Local")
    return c


def _bridge(*, ip_masq: bool = False, hairpin: bool = False, check_off: bool = True
            ) -> Cluster:
    c = Cluster(workers=2, cni="bridge", cni_config={"ipMasq": ip_masq,
                                                      "hairpinMode": hairpin})
    if check_off:
        for node in c.nodes:
            c.set_source_dest_check(node.name, False)
    return add_workload(c)


def standard_clusters() -> Iterator[tuple[str, Callable[[], Cluster]]]:
    """``(name, builder)`` of each standard cluster, built on demand."""
    yield "flannel/iptables", lambda: add_workload(Cluster(workers=2))
    yield "flannel/nftables", lambda: add_workload(Cluster(workers=2,
                                                           kube_proxy_mode="nftables"))
    yield "bridge/iptables", lambda: _bridge()
    yield "bridge/ipMasq", lambda: _bridge(ip_masq=True)
    yield "bridge/hairpinMode", lambda: _bridge(hairpin=True)
    yield "bridge/src-dst-check-on", lambda: _bridge(check_off=False)


def check(*, keep: bool = False, out: Callable[[str], None] | None = None,
          progress: Callable[[str], None] | None = None) -> CompareReport:
    """Run ``compare`` over ``standard_clusters``; ``out`` gets one line per
    disagreement as it is found, ``progress`` one line per cluster. ``keep`` leaves the
    last cluster's namespaces."""
    report = CompareReport()
    clusters = list(standard_clusters())
    for i, (name, build) in enumerate(clusters):
        cluster = build()
        start = time.perf_counter()
        with realize(cluster, keep=keep and i == len(clusters) - 1) as lab:
            part = compare(cluster, lab=lab, name=name)
        part_time = time.perf_counter() - start
        if out is not None:
            for c in part.disagreements:
                out(str(c))
        if progress is not None:
            progress(f"{name}: {len(part.comparisons)} probes, {part.agreed} agree "
                f"({part_time:.1f} s)")
        report.extend(part)
    return report
