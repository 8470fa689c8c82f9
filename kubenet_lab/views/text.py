"""Plain-text views, in the style of the real tools.

Every function returns a string (the library never prints); the same input gives the same
text, byte for byte, so the output can be compared by doctests and by nbval.

- ``trace_text`` and ``hop_text``: a packet's walk, as ``str(trace)`` shows it.
- ``kubectl_get_pods`` and ``kubectl_get_nodes``: ``kubectl get pods`` / ``kubectl get
  nodes`` in kubectl's own table format (``-A`` and ``-o wide`` included); likewise
  ``kubectl_get_services`` and ``kubectl_get_ingresses``.

kubectl prints its tables through Go's ``text/tabwriter`` with a minimum cell width of 6
and a padding of 3 (``k8s.io/cli-runtime/pkg/printers/tabwriter.go``): every column but the
last is as wide as its longest cell plus three spaces, cells are left-aligned and the last
column is not padded. ``kubectl_get_pods`` and ``kubectl_get_nodes`` do the same.

The lab keeps no clock, so the AGE column shows ``<unknown>``, which is what kubectl prints
for an object without a ``creationTimestamp``. Nodes all run the same fixed image, described
by the module constants ``KUBERNETES_VERSION``, ``OS_IMAGE``, ``KERNEL_VERSION`` and
``CONTAINER_RUNTIME``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubenet_lab.model.cluster import Cluster
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.trace import Hop, Trace
    from kubenet_lab.model.traffic import TrafficReport
    from kubenet_lab.model.verification import NetworkModelReport
    from kubenet_lab.scenarios import CniComparison

__all__ = [
    "CONTAINER_RUNTIME",
    "KERNEL_VERSION",
    "KUBERNETES_VERSION",
    "OS_IMAGE",
    "hop_text",
    "kubectl_command",
    "kubectl_get_ingresses",
    "kubectl_get_nodes",
    "kubectl_get_pods",
    "kubectl_get_services",
    "network_model_text",
    "trace_text",
    "traffic_text",
]

#: The kubelet version of every node (the VERSION column of ``kubectl get nodes``).
KUBERNETES_VERSION = "v1.31.4"
#: The lab's fixed node image: ``status.nodeInfo.osImage`` of every node.
OS_IMAGE = "Ubuntu 24.04.1 LTS"
#: ``status.nodeInfo.kernelVersion`` of every node.
KERNEL_VERSION = "6.8.0-51-generic"
#: ``status.nodeInfo.containerRuntimeVersion`` of every node.
CONTAINER_RUNTIME = "containerd://1.7.24"

#: What kubectl prints in the AGE column for an object without a creationTimestamp.
UNKNOWN_AGE = "<unknown>"
#: Width that ``trace_text`` wraps its lines to by default (a 100-column terminal, and a
#: doctest line of this width still fits the project's 100-character source lines).
TEXT_WIDTH = 96
#: Width that ``hop_text`` wraps a hop's ``detail`` sentence to by default.
DETAIL_WIDTH = 88

# k8s.io/cli-runtime/pkg/printers/tabwriter.go
_TABWRITER_MIN_WIDTH = 6
_TABWRITER_PADDING = 3


# --------------------------------------------------------------------------- traces
def _pack(items: Sequence[str], sep: str, width: int, first: str, rest: str,
          *, lead: str = "", trail: str = "") -> list[str]:
    """Pack ``items`` greedily into lines no wider than ``width`` (when they fit).

    ``first`` / ``rest`` prefix the first / following lines. Items are joined by ``sep``
    within a line; a line that continues is ended by ``trail`` and the next one starts
    with ``lead`` (so ``" / "`` can become ``"/ "`` at the start of a continuation line).
    An item never breaks, so a single long item may overflow.
    """
    lines: list[str] = []
    current = ""
    for item in items:
        prefix = first if not lines else rest
        if not current:
            current = (lead if lines else "") + item
            continue
        candidate = current + sep + item
        if len(prefix) + len(candidate) + len(trail) <= width:
            current = candidate
        else:
            lines.append(prefix + current + trail)
            current = lead + item
    if current or not lines:
        lines.append((first if not lines else rest) + current)
    return lines


def _change_list(hop: Hop) -> list[str]:
    return [str(change) for change in hop.changes]


def trace_text(trace: Trace, *, width: int = TEXT_WIDTH) -> str:
    """A packet's walk as plain text: what ``str(trace)`` shows.

    The first line is ``repr(trace)``. Then one row per hop: its number, where it is
    (``str(hop.location)``), the action and the headers (``hop.packet.summary()``), in
    aligned columns. Headers that do not fit in ``width`` continue on the next line at a
    layer boundary (``/ ...``). Below a hop that changed headers, an indented
    ``changed: ...`` line lists the changes. The last line is ``=> `` and the reason.

    Parameters
    ----------
    trace : Trace
        The result of ``Cluster.trace``.
    width : int, optional
        The width to wrap lines to (a single header layer or change is never broken).

    Returns
    -------
    str
        The text, without a trailing newline.

    See Also
    --------
    hop_text : every header field of one hop.
    kubenet_lab.views.html.trace_html : the same walk as an HTML table.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> pod = c.add_pod("default/a", node="node-1")
    >>> print(trace_text(c.trace("default/a", "localhost", port=80)))
    <Trace default/a -> localhost:80/TCP delivered, 2 hops>
     1  pod default/a lo  send     IP 127.0.0.1 > 127.0.0.1 ttl=64 / TCP 43313 > 80 [S]
     2  pod default/a lo  deliver  IP 127.0.0.1 > 127.0.0.1 ttl=64 / TCP 43313 > 80 [S]
    => Delivered to container a of pod default/a on TCP port 80; the source address 127.0.0.1
       arrived unchanged (no NAT).
    """
    hops = trace.hops
    index_w = max([2] + [len(str(h.index)) for h in hops])
    where_w = max((len(str(h.location)) for h in hops), default=0)
    action_w = max((len(h.action) for h in hops + trace.reply), default=0)
    lines = [repr(trace)]
    header_col = " " * (index_w + 2 + where_w + 2 + action_w + 2)
    change_col = " " * (index_w + 2)
    for hop in hops:
        row = (f"{hop.index:>{index_w}}  {str(hop.location):<{where_w}}  "
               f"{hop.action:<{action_w}}  ")
        layers = [layer.summary() for layer in hop.packet.layers] or [""]
        lines.extend(_pack(layers, " / ", width, row, header_col, lead="/ "))
        if hop.changes:
            first = change_col + "changed: "
            lines.extend(_pack(_change_list(hop), ", ", width, first,
                               " " * len(first), trail=","))
    reason = textwrap.wrap(trace.reason or "", width=max(width - 3, 20),
                           break_long_words=False, break_on_hyphens=False) or [""]
    lines.append("=> " + reason[0])
    lines.extend("   " + line for line in reason[1:])
    if trace.reply:  # a Service connection: the first reply, translated back by conntrack
        lines.append("reply:")
        for hop in trace.reply:
            row = f"<{hop.index:>{index_w - 1}}  {hop.location!s:<{where_w}}  " \
                  f"{hop.action:<{action_w}}  "
            layers = [layer.summary() for layer in hop.packet.layers]
            lines.extend(_pack(layers, " / ", width, row, header_col, lead="/ "))
    return "\n".join(line.rstrip() for line in lines)


def _hop(trace: Trace, index: int) -> Hop:
    """The hop numbered ``index`` (1-based), or NotFoundError."""
    from kubenet_lab.exceptions import NotFoundError

    n = len(trace.hops)
    if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= n:
        raise NotFoundError(
            f"Trace {trace.src} -> {trace.dst}", "hops", index, "is not a hop of this trace",
            fix=f"hops are numbered 1 to {n}",
        )
    return trace.hops[index - 1]


def hop_text(trace: Trace, index: int, *, width: int = DETAIL_WIDTH) -> str:
    """One hop in detail: where, what happened, every header field, and what changed.

    Parameters
    ----------
    trace : Trace
        The result of ``Cluster.trace``.
    index : int
        The hop's number, from 1 (``hop.index``).
    width : int, optional
        The width to wrap the detail sentence to.

    Returns
    -------
    str
        A title line (hop number, location, action), the ``detail`` sentence, the headers
        as ``hop.packet.show()`` prints them, and the changes since the previous hop
        (``nothing`` when the hop left the headers alone).

    Raises
    ------
    NotFoundError
        If the trace has no hop with that number.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> pod = c.add_pod("default/a", node="node-1")
    >>> t = c.trace("default/a", "localhost", port=80)
    >>> print(hop_text(t, 2))  # doctest: +ELLIPSIS
    hop 2 of 2: pod default/a lo [deliver]
      container a of pod default/a listens on TCP port 80; the socket accepts the packet
    headers:
    ###[ IP ]###
      src    = 127.0.0.1
    ...
    ###[ TCP ]###
      sport  = 43313
      dport  = 80
      flags  = S
    changed since hop 1: nothing
    """
    hop = _hop(trace, index)
    lines = [f"hop {hop.index} of {len(trace.hops)}: {hop.location} [{hop.action}]"]
    lines.extend(textwrap.wrap(hop.detail, width=width, initial_indent="  ",
                               subsequent_indent="  ", break_long_words=False,
                               break_on_hyphens=False))
    lines.append("headers:")
    lines.append(hop.packet.show())
    if index == 1:
        lines.append("changed: nothing (the first hop: the packet as it is sent)")
    elif not hop.changes:
        lines.append(f"changed since hop {index - 1}: nothing")
    else:
        lines.append(f"changed since hop {index - 1}:")
        lines.extend(f"  {change}" for change in _change_list(hop))
    return "\n".join(lines)


# --------------------------------------------------------------------------- kubectl
def _kubectl_table(rows: Sequence[Sequence[str]]) -> str:
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
    cluster: Cluster,
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
    return _kubectl_table(rows)


def kubectl_get_nodes(cluster: Cluster, *, wide: bool = False) -> str:
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
    return _kubectl_table(rows)


# --------------------------------------------------------------------------- network model
def network_model_text(report: NetworkModelReport, *, width: int = TEXT_WIDTH) -> str:
    """The verification report as text: each rule with ``[ok]`` or ``[FAIL]``, what was
    checked, and for each problem the pair and the hop where the packet was lost or
    rewritten.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> print(network_model_text(c.verify_network_model()))  # doctest: +ELLIPSIS
    Kubernetes network model, cni=flannel: 3 nodes, 2 pods
    [ok]   1. Each pod gets its own unique cluster-wide IP address.
              checked: 2 pod addresses and 3 podCIDRs
    ...
    Verdict: the cluster follows the network model.
    """
    lines = [f"Kubernetes network model, cni={report.cni}: {len(report.nodes)} nodes, "
             f"{report.pods} pods"]
    for number, rule in enumerate(report.rules, 1):
        mark = "[ok]  " if rule.ok else "[FAIL]"
        lines += textwrap.wrap(f"{mark} {number}. {rule.rule}", width,
                               subsequent_indent=" " * 10)
        lines.append(f"          checked: {rule.checked}")
        for problem in rule.problems:
            more = problem.pairs - 1
            many = f" (and {more:,} more pair{'s' if more > 1 else ''} like it)" if more else ""
            where = f" hop {problem.hop} at {problem.where}:" if problem.hop else ""
            lines += textwrap.wrap(
                f"x {problem.src} -> {problem.dst}{many}:{where} {problem.detail}", width,
                initial_indent=" " * 10, subsequent_indent=" " * 12)
    lines += textwrap.wrap(f"How it scales: {report.note}", width, subsequent_indent="  ")
    if report.ok:
        lines.append("Verdict: the cluster follows the network model.")
    else:
        count = len(report.problems)
        lines.append(f"Verdict: {count} problem{'s' if count != 1 else ''}: the cluster breaks "
                     "the network model.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- kubectl commands
def kubectl_get_services(cluster: Cluster, namespace: str = "default", *,
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
    return _kubectl_table(rows)


def kubectl_get_ingresses(cluster: Cluster, namespace: str = "default", *,
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
    from kubenet_lab.engines.ingress import SERVICE, _handled

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
               address if _handled(cluster, ing) else "", "80, 443" if ing.tls else "80",
               UNKNOWN_AGE]
        rows.append(([ing.namespace] if all_namespaces else []) + row)
    return _kubectl_table(rows)


def kubectl_command(cluster: Cluster, args: list[str]) -> str:
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


# --------------------------------------------------------------------------- traffic
def traffic_text(report: TrafficReport, *, top: int = 10) -> str:
    """Node-to-node bytes on the wire (with the overlay's share), the busiest pod pairs,
    and the flows that did not arrive.

    >>> c = kl.Cluster(workers=2)
    >>> a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
    >>> print(traffic_text(c.traffic([kl.Flow("default/a", "default/b", requests=10)])))
    1 flows, 10 requests; 44,000 bytes of payload
    FROM     TO       ON THE WIRE   OVERLAY HEADERS
    node-1   node-2   55,440        5,500 (9.9%)
    Busiest pod pairs (payload):
      default/a -> default/b   44,000
    Wire total 55,440 bytes, of which 5,500 (9.9%) are VXLAN headers.
    """
    flows = len(report.flows)
    requests = sum(f.requests for f in report.flows)
    payload = sum(report.pod_bytes.values())
    lines = [f"{flows:,} flows, {requests:,} requests; {payload:,} bytes of payload"]
    rows = [["FROM", "TO", "ON THE WIRE", "OVERLAY HEADERS"]]
    for (a, b), size in sorted(report.node_bytes.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
        over = report.overlay_bytes.get((a, b), 0)
        rows.append([a, b, f"{size:,}", f"{over:,} ({100 * over / size:.1f}%)" if size else "0"])
    if len(rows) > 1:
        lines.append(_kubectl_table(rows))
    for node, size in report.local_bytes.items():
        lines.append(f"{node}: {size:,} bytes between its own pods (never on the wire)")
    pairs = sorted(report.pod_bytes.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    if pairs:
        lines.append("Busiest pod pairs (payload):")
        width = max(len(f"{a} -> {b}") for (a, b), _ in pairs)
        lines += [f"  {f'{a} -> {b}':<{width}}   {size:,}" for (a, b), size in pairs]
    for item in report.dropped[:top]:
        lines.append(f"not delivered: {item}")
    total, over = report.wire_total, report.overlay_total
    kind = {"flannel": "VXLAN", "cilium": "VXLAN"}.get(report.cni, "overlay")
    share = f", of which {over:,} ({100 * over / total:.1f}%) are {kind} headers" if over else (
        ", no overlay headers")
    lines.append(f"Wire total {total:,} bytes{share}.")
    return "\n".join(lines)


def cni_comparison_text(comparison: CniComparison) -> str:
    """The table ``str(kl.compare_cni_plugins())`` prints."""
    head = ["CNI", "hops", "between nodes", "node devices on the path", "overhead",
            "pod MTU", "source seen"]
    rows = [[r.plugin, str(r.hops), r.mode, ", ".join(r.devices), f"{r.overhead} B",
             str(r.mtu), r.source_seen or "-"] for r in comparison.rows]
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
    right = {1, 4, 5}
    lines = []
    for row in [head, *rows]:
        cells = [cell.rjust(w) if i in right else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
