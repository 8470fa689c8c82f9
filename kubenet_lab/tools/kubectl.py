"""``kubectl get``, as kubectl prints it: pods, nodes, Services, Ingresses and network
policies, and the command line of ``kubectl get ...`` on a node (``Cluster.exec``).

kubectl prints its tables through Go's ``text/tabwriter`` with a minimum cell width of 6
and a padding of 3 (``k8s.io/cli-runtime/pkg/printers/tabwriter.go``): every column but the
last is as wide as its longest cell plus three spaces, cells are left-aligned and the last
column is not padded.

The lab keeps no clock, so the AGE column shows ``<unknown>``, which is what kubectl prints
for an object without a ``creationTimestamp``. Nodes all run the same fixed image
(``kubenet_lab.model.node``: ``KUBERNETES_VERSION``, ``OS_IMAGE``, ``KERNEL_VERSION``,
``CONTAINER_RUNTIME``).

Each function takes a ``Cluster`` or any read-only view of one (a ``Snapshot``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kubenet_lab.controllers.ingress import SERVICE, handled
from kubenet_lab.model.node import CONTAINER_RUNTIME, KERNEL_VERSION, KUBERNETES_VERSION, OS_IMAGE

if TYPE_CHECKING:
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView

__all__ = [
    "kubectl_command",
    "kubectl_get_ingresses",
    "kubectl_get_networkpolicies",
    "kubectl_get_nodes",
    "kubectl_get_pods",
    "kubectl_get_services",
]

#: What kubectl prints in the AGE column for an object without a creationTimestamp.
UNKNOWN_AGE = "<unknown>"
# k8s.io/cli-runtime/pkg/printers/tabwriter.go
_TABWRITER_MIN_WIDTH = 6
_TABWRITER_PADDING = 3


# --------------------------------------------------------------------------- kubectl
def tabwriter(rows: Sequence[Sequence[str]]) -> str:
    """Cells aligned as kubectl's tabwriter does (min width 6, padding 3, last unpadded)."""
    ncols = len(rows[0])
    widths = [
        max(_TABWRITER_MIN_WIDTH, max(len(row[j]) for row in rows) + _TABWRITER_PADDING)
        for j in range(ncols - 1)
    ]
    lines = []
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)]
        lines.append("".join(cells) + row[-1])
    return "\n".join(lines)


def _pod_status(pod: Pod) -> tuple[str, str, str]:
    """READY, STATUS and RESTARTS of a pod."""
    total = len(pod.containers)
    running = total - len(pod.crashing)
    # The Ready condition is True only when every container is ready; a pod marked not
    # ready without a crashing container (a failing readiness probe) has none ready.
    ready = running if (pod.ready or pod.crashing) else 0
    if pod.crashing:
        return f"{ready}/{total}", "CrashLoopBackOff", "1"
    return f"{ready}/{total}", "Running", "0"


def kubectl_get_pods(
    cluster: StoreView,
    namespace: str = "default",
    *,
    all_namespaces: bool = False,
    wide: bool = False,
) -> str:
    """``kubectl get pods`` as kubectl prints it.

    Parameters
    ----------
    cluster : Cluster
    namespace : str, optional
        The namespace to list (``-n``); ignored with ``all_namespaces``.
    all_namespaces : bool, optional
        ``-A``: list every namespace's pods, with a NAMESPACE column first.
    wide : bool, optional
        ``-o wide``: add the IP, NODE, NOMINATED NODE and READINESS GATES columns (the
        lab has neither nominated nodes nor readiness gates: both are ``<none>``).

    Returns
    -------
    str
        The table without a trailing newline, pods in ``cluster.pods`` order (namespace,
        then natural name order), or kubectl's message when there are none: ``No
        resources found in <namespace> namespace.`` (``No resources found`` with ``-A``).
        Real kubectl writes that message to stderr; here it is the return value.

    Notes
    -----
    READY counts the containers that run and are ready; a container that crash-loops
    (``pod.crashing``) is not ready, and the pod's STATUS is then ``CrashLoopBackOff``.
    The lab does not model time: a crash-looping pod always shows 1 restart (kubectl
    would add how long ago, ``1 (5s ago)``), other pods 0, and AGE is ``<unknown>``,
    what kubectl prints for an object without a ``creationTimestamp``.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
    >>> print(kubectl_get_pods(c, wide=True))
    NAME   READY   STATUS    RESTARTS   AGE         IP           NODE     NOMINATED NODE   READINESS GATES
    a      1/1     Running   0          <unknown>   10.244.1.2   node-1   <none>           <none>
    b      1/1     Running   0          <unknown>   10.244.2.2   node-2   <none>           <none>
    >>> print(kubectl_get_pods(c, "kube-public"))
    No resources found in kube-public namespace.
    """  # noqa: E501 - kubectl -o wide tables are wider than a source line
    pods = [p for p in cluster.pods if all_namespaces or p.namespace == namespace]
    if not pods:
        if all_namespaces:
            return "No resources found"
        return f"No resources found in {namespace} namespace."
    header = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    if all_namespaces:
        header.insert(0, "NAMESPACE")
    if wide:
        header += ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    rows = [header]
    for pod in pods:
        ready, status, restarts = _pod_status(pod)
        row = [pod.name, ready, status, restarts, UNKNOWN_AGE]
        if all_namespaces:
            row.insert(0, pod.namespace)
        if wide:
            row += [pod.ip, pod.node, "<none>", "<none>"]
        rows.append(row)
    return tabwriter(rows)


def kubectl_get_nodes(cluster: StoreView, *, wide: bool = False) -> str:
    """``kubectl get nodes`` as kubectl prints it.

    Parameters
    ----------
    cluster : Cluster
    wide : bool, optional
        ``-o wide``: add INTERNAL-IP, EXTERNAL-IP (``<none>`` for a node without a public
        address), OS-IMAGE, KERNEL-VERSION and CONTAINER-RUNTIME.

    Returns
    -------
    str
        The table without a trailing newline, nodes in ``cluster.nodes`` order (control
        plane first). Every node is ``Ready``; ROLES is ``node.roles``; AGE is
        ``<unknown>`` (the lab keeps no clock); VERSION, OS-IMAGE, KERNEL-VERSION and
        CONTAINER-RUNTIME are the lab's fixed node image (``KUBERNETES_VERSION``,
        ``OS_IMAGE``, ``KERNEL_VERSION``, ``CONTAINER_RUNTIME``).

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> print(kubectl_get_nodes(c))
    NAME            STATUS   ROLES           AGE         VERSION
    control-plane   Ready    control-plane   <unknown>   v1.31.4
    node-1          Ready    <none>          <unknown>   v1.31.4
    node-2          Ready    <none>          <unknown>   v1.31.4
    """
    if not cluster.nodes:  # pragma: no cover - a Cluster always has its control plane
        return "No resources found"
    header = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    if wide:
        header += ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION",
                   "CONTAINER-RUNTIME"]
    rows = [header]
    for node in cluster.nodes:
        row = [node.name, "Ready", node.roles, UNKNOWN_AGE, KUBERNETES_VERSION]
        if wide:
            row += [node.ip, node.public_ip or "<none>", OS_IMAGE, KERNEL_VERSION,
                    CONTAINER_RUNTIME]
        rows.append(row)
    return tabwriter(rows)


# --------------------------------------------------------------------------- kubectl commands
def kubectl_get_services(cluster: StoreView, namespace: str = "default", *,
                         all_namespaces: bool = False, wide: bool = False) -> str:
    """``kubectl get svc`` as kubectl prints it (``-A`` adds NAMESPACE, ``-o wide``
    adds SELECTOR).

    PORT(S) lists ``port/protocol``, with ``:nodePort`` for NodePort and LoadBalancer
    Services; CLUSTER-IP is ``None`` for a headless Service; EXTERNAL-IP is the load
    balancer's address, ``<pending>`` while no cloud controller gave one, the external
    name of an ExternalName Service, else ``<none>`` (kubectl's service printer,
    k8s.io/kubernetes pkg/printers/internalversion/printers.go ``printService``).

    >>> print(kubectl_get_services(kl.Cluster(), "kube-system"))
    NAME       TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)                  AGE
    kube-dns   ClusterIP   10.96.0.10   <none>        53/UDP,53/TCP,9153/TCP   <unknown>
    """
    services = [s for s in cluster.services if all_namespaces or s.namespace == namespace]
    if not services:
        return ("No resources found" if all_namespaces
                else f"No resources found in {namespace} namespace.")
    head = ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    head = (["NAMESPACE"] if all_namespaces else []) + head + (["SELECTOR"] if wide else [])
    rows = [head]
    for s in services:
        if s.type == "ExternalName":
            cluster_ip, external = "<none>", s.external_name or "<none>"
        else:
            cluster_ip = s.cluster_ip or "None"
            external = (s.load_balancer_ip or "<pending>") if s.type == "LoadBalancer" else "<none>"
        ports = ",".join(
            f"{p.port}{f':{p.node_port}' if p.node_port else ''}/{p.protocol}" for p in s.ports
        ) or "<none>"
        row = [s.name, s.type, cluster_ip, external, ports, UNKNOWN_AGE]
        if all_namespaces:
            row.insert(0, s.namespace)
        if wide:
            selector = ",".join(f"{k}={v}" for k, v in sorted((s.selector or {}).items()))
            row.append(selector or "<none>")
        rows.append(row)
    return tabwriter(rows)


def kubectl_get_ingresses(cluster: StoreView, namespace: str = "default", *,
                          all_namespaces: bool = False, wide: bool = False) -> str:
    """``kubectl get ingress`` as kubectl prints it (``-A`` adds NAMESPACE; ``-o wide``
    adds no column for Ingresses).

    CLASS is ``spec.ingressClassName`` or ``<none>``; HOSTS the rules' hosts joined by
    commas (the first three, then ``+ N more...``), ``*`` when no rule has one; ADDRESS
    ``status.loadBalancer``, which ingress-nginx (``--publish-service``) fills with its
    controller Service's load-balancer IP for the Ingresses of its class, else empty;
    PORTS ``80``, or ``80, 443`` when the Ingress has TLS (kubectl's ingress printer,
    k8s.io/kubernetes pkg/printers/internalversion/printers.go ``printIngress``,
    ``formatHosts``, ``formatPorts``).

    >>> c = kl.Cluster()
    >>> print(kubectl_get_ingresses(c))
    No resources found in default namespace.
    """
    cluster = cluster.snapshot()
    ingresses = [i for i in cluster.ingresses if all_namespaces or i.namespace == namespace]
    if not ingresses:
        return ("No resources found" if all_namespaces
                else f"No resources found in {namespace} namespace.")
    ctrl = next((s for s in cluster.services if s.ref == SERVICE), None)
    address = (ctrl.load_balancer_ip or "") if ctrl is not None else ""
    rows = [(["NAMESPACE"] if all_namespaces else [])
            + ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]]
    for ing in sorted(ingresses, key=lambda i: (i.namespace, i.name)):
        hosts: list[str] = []
        more = False
        for rule in ing.rules:  # formatHosts: the first 3 hosts, then "+ N more..."
            more = more or len(hosts) == 3
            if not more and rule.host:
                hosts.append(rule.host)
        text = ",".join(hosts) or "*"
        if more:
            text += f" + {len(ing.rules) - 3} more..."
        row = [ing.name, ing.ingress_class_name or "<none>", text,
               address if handled(cluster, ing) else "", "80, 443" if ing.tls else "80",
               UNKNOWN_AGE]
        rows.append(([ing.namespace] if all_namespaces else []) + row)
    return tabwriter(rows)


def kubectl_command(cluster: StoreView, args: list[str]) -> str:
    """``kubectl get pods|nodes|svc|ingress [-A] [-n NS] [-o wide]``, for ``Cluster.exec``.

    >>> print(kubectl_command(kl.Cluster(), ["get", "nodes"]))
    NAME            STATUS   ROLES           AGE         VERSION
    control-plane   Ready    control-plane   <unknown>   v1.31.4
    >>> print(kubectl_command(kl.Cluster(), ["get", "gateways"]))
    error: the server doesn't have a resource type "gateways"
    """
    if len(args) < 2 or args[0] != "get":
        return ("error: unknown command \"" + (args[0] if args else "") + "\" for \"kubectl\""
                if args and args[0] != "get" else
                "You must specify the type of resource to get. Use \"kubectl api-resources\" "
                "for a complete list of supported resources.")
    what = args[1]
    flags = args[2:]
    all_ns = "-A" in flags or "--all-namespaces" in flags
    wide = "wide" in flags and ("-o" in flags or "--output" in flags) or "-owide" in flags
    namespace = "default"
    if "-n" in flags:
        i = flags.index("-n")
        namespace = flags[i + 1] if i + 1 < len(flags) else namespace
    if what in ("pods", "pod", "po"):
        return kubectl_get_pods(cluster, namespace, all_namespaces=all_ns, wide=wide)
    if what in ("nodes", "node", "no"):
        return kubectl_get_nodes(cluster, wide=wide)
    if what in ("svc", "service", "services"):
        return kubectl_get_services(cluster, namespace, all_namespaces=all_ns, wide=wide)
    if what in ("ingress", "ingresses", "ing"):
        return kubectl_get_ingresses(cluster, namespace, all_namespaces=all_ns, wide=wide)
    return f'error: the server doesn\'t have a resource type "{what}"'


# --------------------------------------------------------------------------- policies
def _age_free_selector(sel: Any) -> str:
    return "<none>" if sel.empty else str(sel)


def kubectl_get_networkpolicies(cluster: StoreView) -> str:
    """``kubectl get networkpolicies -A`` (without the AGE column), then the admin tier
    as ``kubectl get clusternetworkpolicies,adminnetworkpolicies,baselineadminnetworkpolicies``
    would list it.

    Examples
    --------
    >>> c = kl.Cluster()
    >>> _ = c.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    ...              "metadata": {"name": "deny-all"}, "spec": {"podSelector": {}}})
    >>> print(kubectl_get_networkpolicies(c))
    NAMESPACE   NAME       POD-SELECTOR
    default     deny-all   <none>
    """
    rows = [("NAMESPACE", "NAME", "POD-SELECTOR")]
    rows += [(p.namespace, p.name, _age_free_selector(p.pod_selector))
             for p in cluster.network_policies]
    out = [_columns(rows)] if len(rows) > 1 else ["No NetworkPolicies."]
    admin = cluster.admin_network_policies
    if admin:
        arows = [("KIND", "NAME", "TIER", "PRIORITY", "SUBJECT")]
        arows += [(a.kind, a.name, a.tier, "-" if a.priority is None else str(a.priority),
                   str(a.subject)) for a in admin]
        out.append(_columns(arows))
    return "\n\n".join(out)


def _columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)
