"""Ready-made clusters for the lessons: a healthy one and broken ones to troubleshoot.

Each broken cluster reproduces a mistake seen on real clusters (Kubernetes the Hard Way
and its issue tracker, the CNI plugins' docs). All have three workers and the same pods:
``default/client`` and ``default/web-1`` on node-1, ``default/web-2`` on node-2 and
``default/web-3`` on node-3 (nginx, TCP 80).

- ``"missing-route"`` (bridge plugin): node-1 lost its host route to node-2's podCIDR (a
  reboot, a forgotten ``ip route add`` in KTHW's "Provisioning Pod Network Routes").
- ``"overlapping-podcidr"`` (flannel): node-3 was registered from a hand-written Node
  manifest whose ``spec.podCIDR`` copies node-2's block (a Node re-created from another's
  saved YAML). The API server accepts it: it checks a podCIDR's syntax, not overlaps;
  kube-controller-manager's node IPAM (``--allocate-node-cidrs``) avoids overlaps only
  among the blocks it hands out and marks a given one used without a check (cidrset
  ``Occupy``). The same happens with ``--allocate-node-cidrs=false`` and an external
  allocator that gets it wrong. (kubelet's ``--pod-cidr`` is not the cause: it is used
  only in standalone mode, without an API server.) Two nodes claim one block; flanneld on
  node-1 can only install one route for it (the kernel refuses the second: File exists).
- ``"wrong-node-cidr"`` (flannel): pod ``default/web-2`` runs on node-2 but has an
  address of node-1's block (host-local on node-2 configured with the wrong subnet).
- ``"masquerade"`` (bridge with ``"ipMasq": true``, as KTHW's 10-bridge.conf): pod
  traffic to other nodes' pods leaves with the node's address.
- ``"no-br-netfilter"`` (flannel, with Service ``default/web`` over the three web pods):
  node-1 booted without the br_netfilter module (no ``modules-load.d`` entry; kubeadm
  stopped checking for it in 1.30, kubernetes PR #123464; flannel still needs
  ``bridge-nf-call-iptables=1``), so
  ``net.bridge.bridge-nf-call-iptables`` does not exist there. A client pod on node-1
  that connects to the Service and is given the endpoint on node-1 gets the reply
  bridged straight back on cni0 with the endpoint's own address, not un-DNATed: the
  connection fails, while the endpoints on other nodes answer (facts-2026 §2,
  br_netfilter; the classic "works from other nodes but not from this one"). The fix:
  ``modprobe br_netfilter`` (and ``sysctl -w net.bridge.bridge-nf-call-iptables=1``).

Examples
--------
>>> c = broken_cluster("missing-route")
>>> c.verify_network_model().ok
False
>>> healthy_cluster().verify_network_model().ok
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Address

from kubenet_lab.cluster import Cluster
from kubenet_lab.dataplane.cni import plugin
from kubenet_lab.exceptions import NotFoundError
from kubenet_lab.model.arguments import check_count, checked

__all__ = [
    "BROKEN_CLUSTERS",
    "CniComparison",
    "CniComparisonRow",
    "broken_cluster",
    "compare_cni_plugins",
    "healthy_cluster",
    "scale_cluster",
    "scale_manifests",
]

#: The plugin setups ``compare_cni_plugins`` compares by default.
CNI_SETUPS: tuple[tuple[str, dict], ...] = (
    ("bridge", {}), ("flannel", {}), ("calico", {}), ("calico", {"ipipMode": "Always"}),
    ("cilium", {}),
)

#: The names ``broken_cluster`` accepts, and what is wrong (for the lesson's table).
BROKEN_CLUSTERS = {
    "missing-route": "a node lost its route to another node's podCIDR",
    "overlapping-podcidr": "two nodes were given the same podCIDR",
    "wrong-node-cidr": "a pod has an address from another node's podCIDR",
    "masquerade": "the CNI masquerades pod-to-pod traffic between nodes",
    "no-br-netfilter": "a node without br_netfilter: replies bridged on cni0 skip conntrack",
}


def workload_yaml(namespace: str, name: str, *, replicas: int, container: str, image: str,
                  port: int, target_port: int | str, container_port: int | None = None,
                  services: int = 1) -> str:
    """A Deployment ``name`` of one container and its Service ``name`` (``port`` to
    ``target_port``), as two YAML documents; with ``container_port`` the container declares
    it, named ``target_port``; with ``services`` above 1, more Services of the same pods,
    ``name-1``, ``name-2``, ... The scenarios' and the lessons' workloads are all of this
    shape (``app: NAME`` labels, the selector of all).
    """
    ports = (f", ports: [{{name: {target_port}, containerPort: {container_port}}}]"
             if container_port is not None else "")
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: {container}, image: "{image}"{ports}}}]
""" + "".join(f"""---
apiVersion: v1
kind: Service
metadata: {{name: {name}{f"-{i}" if i else ""}, namespace: {namespace}}}
spec:
  selector: {{app: {name}}}
  ports: [{{port: {port}, targetPort: {target_port}}}]
""" for i in range(services))


#: The subnets of ``scale_cluster``: a /19 of the VPC holds 8,187 nodes (AWS reserves five
#: addresses), a /11 cluster CIDR 8,192 podCIDRs of /24: room for the 5,000 nodes of the
#: large-cluster guide ("Considerations for large clusters": at most 5,000 nodes, 150,000
#: pods, 110 pods per node).
SCALE_SUBNETS = {"private_subnet": "10.0.32.0/19", "cluster_cidr": "10.128.0.0/11"}


@checked
def scale_manifests(deployments: int, *, replicas: int = 150,
                    services_per_deployment: int = 10) -> list[str]:
    """The YAML documents of ``scale_cluster``'s workload, ten Deployments with their
    Services to a document list (one ``apply`` each: an apply holds at most 50,000
    values). Deployment ``d<i>`` runs ``replicas`` nginx pods listening on 8080; its
    Services ``d<i>``, ``d<i>-1``, ... send port 80 to them.

    >>> docs = scale_manifests(12, replicas=3, services_per_deployment=2)
    >>> len(docs), docs[0].count("kind: Deployment"), docs[0].count("kind: Service")
    (2, 10, 20)
    """
    check_count("scale_manifests", "deployments", deployments, 1, 100_000)
    check_count("scale_manifests", "replicas", replicas, 1, 10_000)
    check_count("scale_manifests", "services_per_deployment", services_per_deployment, 1, 100)
    one = [workload_yaml("default", f"d{i}", replicas=replicas, container="web",
                         image="nginx:1.27", port=80, target_port="http", container_port=8080,
                         services=services_per_deployment) for i in range(deployments)]
    return ["---".join(one[i:i + 10]) for i in range(0, deployments, 10)]


@checked
def scale_cluster(nodes: int = 500, deployments: int = 100, *, replicas: int = 150,
                  services_per_deployment: int = 10, kube_proxy_mode: str = "iptables",
                  ) -> Cluster:
    """A cluster at scale: ``nodes`` nodes (the control plane one of them) in
    ``SCALE_SUBNETS``, and ``scale_manifests``' Deployments and Services. The defaults
    make 15,000 pods and 1,000 Services; ``scale_cluster(5000, 1000)`` is the large-cluster
    guide's limits, 150,000 pods, with 10,000 Services (kube-proxy's rule of thumb), which
    ``tests/benchmark.py --scale`` measures.

    >>> c = scale_cluster(4, 2, replicas=3, services_per_deployment=2)
    >>> len(c.nodes), c.get("Deployment", "d1")["status"]["readyReplicas"], len(c.services)
    (4, 3, 6)
    """
    check_count("scale_cluster", "nodes", nodes, 2, 8187)
    c = Cluster(workers=nodes - 1, kube_proxy_mode=kube_proxy_mode,  # type: ignore[arg-type]
                **SCALE_SUBNETS)
    for doc in scale_manifests(deployments, replicas=replicas,
                               services_per_deployment=services_per_deployment):
        c.apply(doc)
    return c


@checked
def healthy_cluster(cni: str = "flannel", **kwargs: object) -> Cluster:
    """Three workers with the four pods of the module docstring, on plugin ``cni``.

    A plugin that routes pod addresses between nodes unencapsulated (the bridge plugin's
    host routes, Calico within a subnet) works on AWS only with EC2's source/destination
    check off on every node, so this cluster has it off, as an installer for such a
    plugin does (kops' ``k8s-ec2-srcdst`` controller, Calico Felix's ``awsSrcDstCheck:
    Disable``); a ``Cluster`` built by hand keeps it on (``Cluster.set_source_dest_check``).
    """
    c = Cluster(workers=3, cni=cni, **kwargs)  # type: ignore[arg-type]
    if plugin(c.store).mode == "routed":
        for node in c.nodes:
            c.set_source_dest_check(node.name, False)
    c.add_pod("default/client", node="node-1", labels={"app": "client"})
    for i in (1, 2, 3):
        c.add_pod(f"default/web-{i}", node=f"node-{i}", labels={"app": "web"})
    return c


@checked
def broken_cluster(problem: str) -> Cluster:
    """A cluster with one of the problems of ``BROKEN_CLUSTERS``.

    Raises
    ------
    NotFoundError
        An unknown problem name; the message lists the known ones.
    """
    if problem not in BROKEN_CLUSTERS:
        raise NotFoundError(
            "broken_cluster", "problem", problem, "is not a broken cluster of the lab",
            fix="use one of " + ", ".join(BROKEN_CLUSTERS),
        )
    if problem == "missing-route":
        c = healthy_cluster("bridge")
        c.exec("node-1", f"ip route del {c.node('node-2').pod_cidr}")
        return c
    if problem == "masquerade":
        return healthy_cluster("bridge", cni_config={"ipMasq": True})
    if problem == "no-br-netfilter":
        c = healthy_cluster()
        c.add_service("default/web", selector={"app": "web"}, ports=[80])
        c.exec("node-1", "modprobe -r br_netfilter")
        return c
    if problem == "overlapping-podcidr":
        c = Cluster(workers=2)
        # node-3 created from a hand-written manifest with node-2's spec.podCIDR: the API
        # server and the node IPAM controller accept it (see the module docstring)
        c.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-3"},
                 "spec": {"podCIDR": c.node("node-2").pod_cidr}})
        c.add_pod("default/client", node="node-1", labels={"app": "client"})
        for i in (1, 2, 3):
            c.add_pod(f"default/web-{i}", node=f"node-{i}", labels={"app": "web"})
        return c
    c = healthy_cluster()
    pod = c.pod("default/web-2")
    wrong = str(IPv4Address(c.node("node-1").pod_cidr.split("/")[0]) + 200)
    c.store.put(replace(pod, ip=wrong))
    return c


@dataclass(frozen=True, slots=True)
class CniComparisonRow:
    """One plugin's path from ``default/client`` (node-1) to ``default/web-2`` (node-2)."""

    plugin: str
    hops: int
    mode: str
    devices: tuple[str, ...]
    overhead: int
    mtu: int
    source_seen: str | None


@dataclass(frozen=True, slots=True)
class CniComparison:
    """The same packet under several CNI plugins; ``str()`` is a table."""

    rows: tuple[CniComparisonRow, ...]

    def __str__(self) -> str:
        from kubenet_lab.views.text import cni_comparison_text

        return cni_comparison_text(self)

    def __repr__(self) -> str:
        return f"<CniComparison {', '.join(r.plugin for r in self.rows)}>"


@checked
def compare_cni_plugins(
    setups: tuple[tuple[str, dict], ...] | list[tuple[str, dict]] = CNI_SETUPS,
) -> CniComparison:
    """Trace one packet from a pod on node-1 to a pod on node-2 in ``healthy_cluster``
    under each ``(plugin, cni_config)`` and compare: hops, how it crosses between nodes,
    the node devices it passes, the overlay's bytes of overhead on this path (0 when the
    packet is not wrapped: Calico's VXLANCrossSubnet routes within a subnet), the pods'
    MTU (sized for the encapsulation the plugin may use, so Calico's pods keep 1450) and
    the source address the receiver sees.

    >>> print(compare_cni_plugins([("flannel", {}), ("bridge", {})]))
    CNI       hops  between nodes  node devices on the path   overhead  pod MTU  source seen
    flannel     11  VXLAN          cni0, eth0, flannel.1          50 B     1450  10.244.1.2
    bridge       9  routed         cni0, eth0                      0 B     1500  10.244.1.2
    """
    rows = []
    for name, config in setups:
        c = healthy_cluster(name, cni_config=config)
        cni = plugin(c.store)
        t = c.trace("default/client", "default/web-2")
        devices = sorted({h.location.interface for h in t.hops if h.location.kind == "node"
                          and h.location.interface
                          and not h.location.interface.startswith(("veth", "cali", "lxc"))})
        label = name + "".join(f" {k}={v}" for k, v in sorted(config.items()))
        wrapped = any(h.action == "encapsulate" for h in t.hops)
        rows.append(CniComparisonRow(label, len(t.hops), cni.mode, tuple(devices),
                                     cni.overhead if wrapped else 0, cni.mtu,
                                     t.source_ip_seen))
    return CniComparison(tuple(rows))
