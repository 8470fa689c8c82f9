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

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kubenet_lab.controllers.ingress import SERVICE, handled
from kubenet_lab.model.arguments import checked
from kubenet_lab.model.node import CONTAINER_RUNTIME, KERNEL_VERSION, KUBERNETES_VERSION, OS_IMAGE

if TYPE_CHECKING:
    from kubenet_lab.cluster import Cluster
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


@checked
def kubectl_get_pods(
    cluster: Cluster | StoreView,
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


@checked
def kubectl_get_nodes(cluster: Cluster | StoreView, *, wide: bool = False) -> str:
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
@checked
def kubectl_get_services(cluster: Cluster | StoreView, namespace: str = "default", *,
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


@checked
def kubectl_get_ingresses(cluster: Cluster | StoreView, namespace: str = "default", *,
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


#: kubectl get's flags that the lab reads: long name -> (shorthand, takes a value).
_GET_FLAGS = {"all-namespaces": ("A", False), "namespace": ("n", True), "output": ("o", True),
              "help": ("h", False)}
#: k8s.io/cli-runtime pkg/genericclioptions/print_flags.go: the formats ``-o`` knows.
_OUTPUT_FORMATS = ("custom-columns,custom-columns-file,go-template,go-template-file,json,"
                   "jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,"
                   "yaml")
_KINDS = {("pods", "pod", "po"): "pods", ("nodes", "node", "no"): "nodes",
          ("svc", "service", "services"): "services",
          ("ingress", "ingresses", "ing"): "ingresses.networking.k8s.io"}


def _flag_error(command: str, message: str) -> str:
    """A pflag error, as kubectl's templater.FlagErrorFunc words it
    (k8s.io/kubectl/pkg/util/templates/templater.go)."""
    return f"error: {message}\nSee '{command} --help' for usage."


def _parse_flags(args: list[str]) -> tuple[dict[str, str], list[str]] | str:
    """spf13/pflag's parse of ``args`` against ``_GET_FLAGS``: the flags set (the last
    value wins) and the positional arguments, or pflag's message."""
    shorthands = {short: name for name, (short, _) in _GET_FLAGS.items()}
    flags: dict[str, str] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positional += args[i:]
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if not name or name[0] in "-=":
                return f"bad flag syntax: {arg}"
            if name not in _GET_FLAGS:
                return f"unknown flag: --{name}"
            takes_value = _GET_FLAGS[name][1]
            if takes_value and not eq:
                if i >= len(args):
                    return f"flag needs an argument: --{name}"
                value, i = args[i], i + 1
            flags[name] = value if takes_value or eq else "true"
            continue
        j = 1
        while j < len(arg):
            letter = arg[j]
            if letter not in shorthands:
                return f"unknown shorthand flag: '{letter}' in {arg}"
            name = shorthands[letter]
            if not _GET_FLAGS[name][1]:
                value = arg[j + 2:] if arg[j + 1:j + 2] == "=" else "true"
                flags[name] = value
                if arg[j + 1:j + 2] == "=":
                    break
                j += 1
                continue
            if arg[j + 1:j + 2] == "=":
                flags[name] = arg[j + 2:]
            elif j + 1 < len(arg):
                flags[name] = arg[j + 1:]
            elif i < len(args):
                flags[name], i = args[i], i + 1
            else:
                return f"flag needs an argument: '{letter}' in {arg}"
            break
    for name, value in flags.items():
        if not _GET_FLAGS[name][1] and value not in _BOOLEANS:
            short = _GET_FLAGS[name][0]
            return (f'invalid argument "{value}" for "-{short}, --{name}" flag: '
                    f'strconv.ParseBool: parsing "{value}": invalid syntax')
    return flags, positional


#: Go's strconv.ParseBool.
_BOOLEANS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
             "0": False, "f": False, "F": False, "FALSE": False, "false": False,
             "False": False}


@checked
def kubectl_command(cluster: Cluster | StoreView, args: list[str]) -> str:
    """``kubectl get pods|nodes|svc|ingress [NAME] [-A] [-n NS] [-o wide]``, for
    ``Cluster.exec``: flags are read as spf13/pflag reads them and a bad one is answered
    as kubectl answers it; another command, flag or output format than these is
    answered as unknown (the lab's kubectl knows only ``get``, and prints no other format
    than the table and ``-o wide``; for ``-o json`` and the like it says so).

    >>> print(kubectl_command(kl.Cluster(), ["get", "nodes"]))
    NAME            STATUS   ROLES           AGE         VERSION
    control-plane   Ready    control-plane   <unknown>   v1.31.4
    >>> print(kubectl_command(kl.Cluster(), ["get", "gateways"]))
    error: the server doesn't have a resource type "gateways"
    """
    parsed = _parse_flags(args)
    words = [a for a in args if not a.startswith("-")]
    command = "kubectl get" if words[:1] == ["get"] else "kubectl"
    if isinstance(parsed, str):
        return _flag_error(command, parsed)
    flags, positional = parsed
    if not positional:  # kubectl prints its help; the lab, the first lines and what it knows
        return ("kubectl controls the Kubernetes cluster manager.\n\n"
                " Find more information at: https://kubernetes.io/docs/reference/kubectl/\n\n"
                "The lab's kubectl knows one command: get (pods, nodes, services, ingresses).")
    if positional[0] != "get":
        return f'error: unknown command "{positional[0]}" for "kubectl"'
    if len(positional) < 2:
        return ("You must specify the type of resource to get. Use \"kubectl api-resources\" "
                "for a complete list of supported resources.")
    what, names = positional[1], positional[2:]
    output = flags.get("output")
    if output is not None and output not in ("wide", ""):
        known = _OUTPUT_FORMATS.split(",")
        reason = ("the lab prints only the table and -o wide" if output in known else
                  f"unable to match a printer suitable for the output format \"{output}\", "
                  f"allowed formats are: {_OUTPUT_FORMATS}")
        return f"error: {reason}"
    all_ns = _BOOLEANS.get(flags.get("all-namespaces", "false"), False)
    wide = output == "wide"
    namespace = flags.get("namespace", "default")
    kind = next((k for aliases, k in _KINDS.items() if what in aliases), None)
    if kind is None:
        return f'error: the server doesn\'t have a resource type "{what}"'
    if names:
        return _named(cluster, kind, names, namespace, all_ns=all_ns, wide=wide)
    if kind == "pods":
        return kubectl_get_pods(cluster, namespace, all_namespaces=all_ns, wide=wide)
    if kind == "nodes":
        return kubectl_get_nodes(cluster, wide=wide)
    if kind == "services":
        return kubectl_get_services(cluster, namespace, all_namespaces=all_ns, wide=wide)
    return kubectl_get_ingresses(cluster, namespace, all_namespaces=all_ns, wide=wide)


def _named(cluster: StoreView, kind: str, names: list[str], namespace: str, *,
           all_ns: bool, wide: bool) -> str:
    """``kubectl get KIND NAME...``: the named objects' rows, and a NotFound line for each
    missing one (kubectl prints the found ones first)."""
    if all_ns:
        return "error: a resource cannot be retrieved by name across all namespaces"
    if kind == "pods":
        table = kubectl_get_pods(cluster, namespace, wide=wide)
    elif kind == "nodes":
        table = kubectl_get_nodes(cluster, wide=wide)
    elif kind == "services":
        table = kubectl_get_services(cluster, namespace, wide=wide)
    else:
        table = kubectl_get_ingresses(cluster, namespace, wide=wide)
    lines = table.split("\n")
    # the cells, cut at the header's columns (tabwriter pads every column by 3 or more)
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=   ))\S", lines[0])]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    rows = {line[:starts[1]].rstrip(): [line[a:b].rstrip() for a, b in bounds]
            for line in lines[1:]} if len(lines) > 1 and len(starts) > 1 else {}
    wanted = list(dict.fromkeys(names))
    found = [rows[n] for n in wanted if n in rows]
    out = [tabwriter([[line_cell.rstrip() for line_cell in (lines[0][a:b] for a, b in bounds)],
                      *found])] if found else []
    out += [f'Error from server (NotFound): {kind} "{n}" not found' for n in wanted
            if n not in rows]
    return "\n".join(out)


# --------------------------------------------------------------------------- policies
def _age_free_selector(sel: Any) -> str:
    return "<none>" if sel.empty else str(sel)


@checked
def kubectl_get_networkpolicies(cluster: Cluster | StoreView) -> str:
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
