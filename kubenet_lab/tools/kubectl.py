"""``kubectl get``, as kubectl prints it: pods, nodes, Services, Ingresses, network
policies and the Gateway API kinds (GatewayClasses, Gateways, HTTPRoutes, GRPCRoutes,
ReferenceGrants), ``kubectl get KIND NAME -o yaml`` for any kind, ``kubectl describe``
of the custom resources, and the command line of ``kubectl ...`` on a node
(``Cluster.exec``).

kubectl prints its tables through Go's ``text/tabwriter`` with a minimum cell width of 6
and a padding of 3 (``k8s.io/cli-runtime/pkg/printers/tabwriter.go``): every column but the
last is as wide as its longest cell plus three spaces, cells are left-aligned and the last
column is not padded.

Every table's AGE column is the object's age on the cluster's clock (``StoreView.clock``,
one second per API request, minus its creation time ``StoreView.created``), as kubectl's
``duration.HumanDuration`` prints it (``human_duration``); a crash-looping pod's RESTARTS
adds how long ago its container last terminated, ``1 (5s ago)``. Nodes all run the same
fixed image (``kubenet_lab.model.node``: ``KUBERNETES_VERSION``, ``OS_IMAGE``,
``KERNEL_VERSION``, ``CONTAINER_RUNTIME``).

Each function takes a ``Cluster`` or any read-only view of one (a ``Snapshot``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kubenet_lab.controllers import objects
from kubenet_lab.controllers.endpointslice import endpoint_slices, slice_name
from kubenet_lab.controllers.ingress import SERVICE, handled
from kubenet_lab.exceptions import NotFoundError
from kubenet_lab.model.arguments import checked
from kubenet_lab.model.node import CONTAINER_RUNTIME, KERNEL_VERSION, KUBERNETES_VERSION, OS_IMAGE

if TYPE_CHECKING:
    from kubenet_lab.cluster import Cluster
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.store import StoreView

__all__ = [
    "human_duration",
    "kubectl_command",
    "kubectl_describe",
    "kubectl_get_endpointslices",
    "kubectl_get_gateway_api",
    "kubectl_get_ingresses",
    "kubectl_get_networkpolicies",
    "kubectl_get_nodes",
    "kubectl_get_pods",
    "kubectl_get_services",
    "kubectl_get_yaml",
]

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


def _age(view: StoreView, obj: Any) -> str:
    """The AGE cell of a stored object: ``translateTimestampSince(creationTimestamp)``
    (k8s.io/kubernetes pkg/printers/internalversion/printers.go), on the cluster's clock."""
    return human_duration(view.clock - view.created(obj))


def _pod_status(view: StoreView, pod: Pod) -> tuple[str, str, str]:
    """READY, STATUS and RESTARTS of a pod."""
    total = len(pod.containers)
    running = total - len(pod.crashing)
    # The Ready condition is True only when every container is ready; a pod marked not
    # ready without a crashing container (a failing readiness probe) has none ready.
    ready = running if (pod.ready or pod.crashing) else 0
    if pod.crashing:
        # printPod sums the containers' restartCount (1 for each crash-looping one, in
        # controllers.pods.pod_status) and adds the age of the latest
        # lastState.terminated.finishedAt: the pod's creation time in the lab.
        restarts = sum(c.name in pod.crashing for c in pod.containers)
        return f"{ready}/{total}", "CrashLoopBackOff", f"{restarts} ({_age(view, pod)} ago)"
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
    AGE is the pod's age on the cluster's clock (``human_duration``). The lab does not
    replay the kubelet's history: a crash-looping container has restarted once and last
    terminated when the pod was created (``controllers.pods.pod_status``), so RESTARTS
    is the number of crash-looping containers and how long ago, ``1 (5s ago)`` (the
    pod's age); other pods show 0.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
    >>> print(kubectl_get_pods(c, wide=True))
    NAME   READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES
    a      1/1     Running   0          1s    10.244.1.2   node-1   <none>           <none>
    b      1/1     Running   0          0s    10.244.2.2   node-2   <none>           <none>
    >>> print(kubectl_get_pods(c, "kube-public"))
    No resources found in kube-public namespace.
    """  # noqa: E501 - kubectl -o wide tables are wider than a source line
    view = cluster.snapshot()
    pods = [p for p in view.pods if all_namespaces or p.namespace == namespace]
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
        ready, status, restarts = _pod_status(view, pod)
        row = [pod.name, ready, status, restarts, _age(view, pod)]
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
        plane first). Every node is ``Ready``; ROLES is ``node.roles``; AGE is the
        node's age on the cluster's clock (``human_duration``); VERSION, OS-IMAGE,
        KERNEL-VERSION and CONTAINER-RUNTIME are the lab's fixed node image
        (``KUBERNETES_VERSION``, ``OS_IMAGE``, ``KERNEL_VERSION``, ``CONTAINER_RUNTIME``).

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> print(kubectl_get_nodes(c))
    NAME            STATUS   ROLES           AGE   VERSION
    control-plane   Ready    control-plane   0s    v1.35.4
    node-1          Ready    <none>          0s    v1.35.4
    node-2          Ready    <none>          0s    v1.35.4
    """
    view = cluster.snapshot()
    if not view.nodes:  # pragma: no cover - a Cluster always has its control plane
        return "No resources found"
    header = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    if wide:
        header += ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION",
                   "CONTAINER-RUNTIME"]
    rows = [header]
    for node in view.nodes:
        row = [node.name, "Ready", node.roles, _age(view, node), KUBERNETES_VERSION]
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
    kube-dns   ClusterIP   10.96.0.10   <none>        53/UDP,53/TCP,9153/TCP   0s
    """
    view = cluster.snapshot()
    services = [s for s in view.services if all_namespaces or s.namespace == namespace]
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
        row = [s.name, s.type, cluster_ip, external, ports, _age(view, s)]
        if all_namespaces:
            row.insert(0, s.namespace)
        if wide:
            selector = ",".join(f"{k}={v}" for k, v in sorted((s.selector or {}).items()))
            row.append(selector or "<none>")
        rows.append(row)
    return tabwriter(rows)


#: The labels the EndpointSlice controller puts on its slices (pkg/controller/
#: endpointslice/reconciler.go; the API server's slice of default/kubernetes has only the
#: first).
SLICE_SERVICE_LABEL = "kubernetes.io/service-name"
SLICE_MANAGED_BY = ("endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io")


def _slice_labels(svc: Any) -> dict[str, str]:
    labels = {SLICE_SERVICE_LABEL: svc.name}
    if svc.selector is not None:
        labels[SLICE_MANAGED_BY[0]] = SLICE_MANAGED_BY[1]
    return labels


def _more(items: list[str], limit: int = 3) -> str:
    """kubectl's ``listWithMoreString``: the first three, ``+ N more...``, or ``<unset>``."""
    shown = ",".join(items[:limit])
    if len(items) > limit:
        return f"{shown} + {len(items) - limit} more..."
    return shown or "<unset>"


def label_selector(text: str) -> list[tuple[str, str, str | None]] | str:
    """A kubectl ``-l`` selector of equality requirements (``k=v``, ``k==v``, ``k!=v``,
    ``k``, ``!k``, comma-separated) as ``(key, op, value)``, or kubectl's error message.

    >>> label_selector("kubernetes.io/service-name=web,!canary")
    [('kubernetes.io/service-name', '=', 'web'), ('canary', '!', None)]
    """
    out: list[tuple[str, str, str | None]] = []
    for part in text.split(","):
        part = part.strip()
        match = re.fullmatch(r"(!?)([A-Za-z0-9][-A-Za-z0-9_./]*)(?:(==|=|!=)(.*))?", part)
        if match is None or (match.group(1) and match.group(3)):
            return f"error: unable to parse requirement: found '{part}', expected: identifier"
        bang, key, op, value = match.groups()
        out.append((key, "!" if bang else {"==": "=", None: "exists"}.get(op, op),
                    value if op else None))
    return out


def _selected(labels: dict[str, str], selector: list[tuple[str, str, str | None]]) -> bool:
    for key, op, value in selector:
        have = labels.get(key)
        if ((op == "=" and have != value) or (op == "!=" and have == value)
                or (op == "exists" and have is None) or (op == "!" and have is not None)):
            return False
    return True


@checked
def kubectl_get_endpointslices(cluster: Cluster | StoreView, namespace: str = "default", *,
                               all_namespaces: bool = False, selector: str | None = None
                               ) -> str:
    """``kubectl get endpointslices [-l kubernetes.io/service-name=NAME]`` as kubectl
    prints it: NAME ADDRESSTYPE PORTS ENDPOINTS AGE (pkg/printers/internalversion/
    printers.go ``printEndpointSlice``: the first three ports and addresses, then ``+ N
    more...``; ``<unset>`` for none). A Service whose selector matches no pod has one
    placeholder slice without ports or endpoints, as the controller makes it. A slice's
    AGE is its Service's: the controller creates it as soon as the Service exists.

    >>> c = kl.Cluster()
    >>> print(kubectl_get_endpointslices(c, "kube-system"))
    NAME             ADDRESSTYPE   PORTS        ENDPOINTS               AGE
    kube-dns-jcjps   IPv4          53,53,9153   10.244.0.2,10.244.0.3   0s
    """
    view = cluster.snapshot()
    wanted = label_selector(selector) if selector else []
    if isinstance(wanted, str):
        return wanted
    rows: list[list[str]] = []
    for svc in view.services:
        if not (all_namespaces or svc.namespace == namespace) or not _selected(
                _slice_labels(svc), wanted) or svc.type == "ExternalName":
            continue
        slices = endpoint_slices(view, svc)
        cells = [(sl.name, _more([str(p) for _, p, _ in sl.ports]),
                  _more([e.address for e in sl.endpoints])) for sl in slices]
        if not slices and svc.selector is not None:
            cells = [(slice_name(svc, 0), "<unset>", "<unset>")]
        for name, ports, eps in cells:
            rows.append(([svc.namespace] if all_namespaces else [])
                        + [name, "IPv4", ports, eps, _age(view, svc)])
    if not rows:
        return ("No resources found" if all_namespaces
                else f"No resources found in {namespace} namespace.")
    head = (["NAMESPACE"] if all_namespaces else []) + ["NAME", "ADDRESSTYPE", "PORTS",
                                                        "ENDPOINTS", "AGE"]
    return tabwriter([head, *sorted(rows)])


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
               _age(cluster, ing)]
        rows.append(([ing.namespace] if all_namespaces else []) + row)
    return tabwriter(rows)


#: kubectl get's flags that the lab reads: long name -> (shorthand, takes a value).
_GET_FLAGS = {"all-namespaces": ("A", False), "namespace": ("n", True), "output": ("o", True),
              "selector": ("l", True), "help": ("h", False)}
#: The formats ``kubectl get -o`` knows, sorted as ``NoCompatiblePrinterError`` sorts them
#: (k8s.io/cli-runtime v0.35.4 pkg/genericclioptions/print_flags.go; kubectl pkg/cmd/get
#: get_flags.go ``AllowedFormats``). ``kyaml`` is listed unless ``KUBECTL_KYAML=false``
#: from kubectl 1.35 (json_yaml_flags.go; 1.34 listed it only with ``KUBECTL_KYAML=true``).
_OUTPUT_FORMATS = ("custom-columns,custom-columns-file,go-template,go-template-file,json,"
                   "jsonpath,jsonpath-as-json,jsonpath-file,kyaml,name,template,templatefile,"
                   "wide,yaml")
#: kubectl's names for EndpointSlices (discovery.k8s.io; no short name).
_SLICE_NAMES = ("endpointslice", "endpointslices", "endpointslice.discovery.k8s.io",
                "endpointslices.discovery.k8s.io")
#: The kinds ``get`` prints a table of (besides the Gateway API's), by their resource.
_TABLES = {"Pod": "pods", "Node": "nodes", "Service": "services",
           "Ingress": "ingresses.networking.k8s.io"}


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
    """``kubectl get KIND [NAME...] [-A] [-n NS] [-o wide|yaml]`` and ``kubectl describe
    KIND [NAME...] [-n NS]``, for ``Cluster.exec``: flags are read as spf13/pflag reads
    them and a bad one is answered as kubectl answers it; another command, flag or
    output format than these is answered as unknown.

    ``get`` prints the tables of pods, nodes, services, ingresses and the Gateway API
    kinds (gatewayclasses, gateways, httproutes, grpcroutes, referencegrants, by any of
    kubectl's names for them), and ``-o yaml`` of any kind the lab models; ``describe``
    the custom resources (``kubectl_describe``).

    >>> print(kubectl_command(kl.Cluster(), ["get", "nodes"]))
    NAME            STATUS   ROLES           AGE   VERSION
    control-plane   Ready    control-plane   0s    v1.35.4
    >>> print(kubectl_command(kl.Cluster(), ["get", "gateways"]))
    No resources found in default namespace.
    >>> print(kubectl_command(kl.Cluster(), ["get", "gateway", "eg"]))
    Error from server (NotFound): gateways.gateway.networking.k8s.io "eg" not found
    """
    parsed = _parse_flags(args)
    words = [a for a in args if not a.startswith("-")]
    command = f"kubectl {words[0]}" if words[:1] in (["get"], ["describe"]) else "kubectl"
    if isinstance(parsed, str):
        return _flag_error(command, parsed)
    flags, positional = parsed
    if not positional:  # kubectl prints its help; the lab, the first lines and what it knows
        return ("kubectl controls the Kubernetes cluster manager.\n\n"
                " Find more information at: https://kubernetes.io/docs/reference/kubectl/\n\n"
                "The lab's kubectl knows two commands: get (pods, nodes, services, ingresses, "
                "the Gateway API kinds; -o yaml of any kind) and describe (custom resources).")
    if positional[0] not in ("get", "describe"):
        return f'error: unknown command "{positional[0]}" for "kubectl"'
    if len(positional) < 2:
        if positional[0] == "describe":
            return ("error: You must specify the type of resource to describe. Use "
                    "\"kubectl api-resources\" for a complete list of supported resources.")
        return ("You must specify the type of resource to get. Use \"kubectl api-resources\" "
                "for a complete list of supported resources.")
    what, names = positional[1], positional[2:]
    output = flags.get("output")
    all_ns = _BOOLEANS.get(flags.get("all-namespaces", "false"), False)
    namespace = flags.get("namespace", "default")
    if positional[0] == "describe":
        if output is not None:  # describe has no -o flag
            return _flag_error(command, "unknown shorthand flag: 'o' in -o")
        kind = _resolve(what)
        if kind is None:
            return f'error: the server doesn\'t have a resource type "{what}"'
        if all_ns and objects.KINDS[kind].namespaced:  # every namespace's, one by one
            spaces = sorted({o.namespace for o in _listed(cluster.snapshot(), kind, "", True)})
            return "\n\n\n".join(kubectl_describe(cluster, kind, names, ns)
                                  for ns in spaces) or "No resources found"
        return kubectl_describe(cluster, kind, names, namespace)
    if output is not None and output not in ("wide", "", "yaml"):
        known = _OUTPUT_FORMATS.split(",")
        reason = ("the lab prints only the table, -o wide and -o yaml" if output in known else
                  f"unable to match a printer suitable for the output format \"{output}\", "
                  f"allowed formats are: {_OUTPUT_FORMATS}")
        return f"error: {reason}"
    wide = output == "wide"
    if output == "yaml":
        kind = _resolve(what)
        if kind is None:
            return f'error: the server doesn\'t have a resource type "{what}"'
        return kubectl_get_yaml(cluster, kind, names, namespace, all_namespaces=all_ns)
    if what.lower() in _SLICE_NAMES:
        if names:
            return (f"error: the lab's kubectl lists endpointslices.discovery.k8s.io: "
                    f"kubectl get {what} -l {SLICE_SERVICE_LABEL}=NAME")
        return kubectl_get_endpointslices(cluster, namespace, all_namespaces=all_ns,
                                          selector=flags.get("selector"))
    if "selector" in flags:
        return "error: the lab's kubectl takes -l only for endpointslices"
    resolved = _resolve(what)
    if resolved in _PRINTER_COLUMNS:
        if names and all_ns:
            return "error: a resource cannot be retrieved by name across all namespaces"
        return _gateway_table(cluster.snapshot(), resolved, namespace, all_ns, names, wide)
    kind = _TABLES.get(resolved or "")
    if resolved is None:
        return f'error: the server doesn\'t have a resource type "{what}"'
    if kind is None:
        return (f"error: the lab's kubectl prints {RESOURCES[resolved]} only as YAML: "
                f"kubectl get {what} NAME -o yaml")
    if names:
        return _named(cluster, kind, names, namespace, all_ns=all_ns, wide=wide)
    if kind == "pods":
        return kubectl_get_pods(cluster, namespace, all_namespaces=all_ns, wide=wide)
    if kind == "nodes":
        return kubectl_get_nodes(cluster, wide=wide)
    if kind == "services":
        return kubectl_get_services(cluster, namespace, all_namespaces=all_ns, wide=wide)
    return kubectl_get_ingresses(cluster, namespace, all_namespaces=all_ns, wide=wide)


def _resolve(what: str) -> str | None:
    """The kind of one of kubectl's resource names (any case, as kubectl's REST mapper
    takes them), or None."""
    try:
        return objects.resolve_kind(what)
    except NotFoundError:
        return None


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


# --------------------------------------------------------------------------- any kind
#: The resource kubectl names each kind by in its messages (``plural.group``; the core
#: group has no suffix).
RESOURCES = {
    "Namespace": "namespaces", "Node": "nodes", "Pod": "pods", "Service": "services",
    "ConfigMap": "configmaps", "Secret": "secrets", "Deployment": "deployments.apps",
    "NetworkPolicy": "networkpolicies.networking.k8s.io",
    "Ingress": "ingresses.networking.k8s.io",
    "IngressClass": "ingressclasses.networking.k8s.io",
    "ClusterNetworkPolicy": "clusternetworkpolicies.policy.networking.k8s.io",
    "AdminNetworkPolicy": "adminnetworkpolicies.policy.networking.k8s.io",
    "BaselineAdminNetworkPolicy": "baselineadminnetworkpolicies.policy.networking.k8s.io",
    "GatewayClass": "gatewayclasses.gateway.networking.k8s.io",
    "Gateway": "gateways.gateway.networking.k8s.io",
    "HTTPRoute": "httproutes.gateway.networking.k8s.io",
    "GRPCRoute": "grpcroutes.gateway.networking.k8s.io",
    "ReferenceGrant": "referencegrants.gateway.networking.k8s.io",
}
#: The custom resources (CRDs) among them: ``kubectl describe`` prints them with its
#: generic describer.
CUSTOM_RESOURCES = ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
                    "GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant")


@checked
def human_duration(seconds: int) -> str:
    """An age as kubectl's AGE column prints it (k8s.io/apimachinery
    pkg/util/duration ``HumanDuration``): seconds under 2 minutes, minutes under 3
    hours (with seconds under 10 minutes), hours under 2 days (with minutes under 8
    hours), days under 2 years (with hours under 8 days), then years (with days under 8
    years); -1 (a second of clock skew) is ``0s``, less is ``<invalid>``.

    >>> [human_duration(s) for s in (0, 119, 125, 600, 3 * 3600 + 60, 9 * 3600, 3 * 86400)]
    ['0s', '119s', '2m5s', '10m', '3h1m', '9h', '3d']
    """
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _listed(view: StoreView, kind: str, namespace: str, all_namespaces: bool) -> list[Any]:
    """The objects of ``kind`` ``kubectl get`` lists (by namespace, then name)."""
    spec = objects.KINDS[kind]
    found = [o for o in view.objects(spec.table)
             if (spec.table != "AdminPolicy" or o.kind == kind)
             and (not spec.namespaced or all_namespaces or o.namespace == namespace)]
    return sorted(found, key=lambda o: (o.namespace if spec.namespaced else "", o.name))


def _ref(kind: str, obj: Any) -> str:
    return f"{obj.namespace}/{obj.name}" if objects.KINDS[kind].namespaced else obj.name


def _none_found(kind: str, namespace: str, all_namespaces: bool) -> str:
    if all_namespaces or not objects.KINDS[kind].namespaced:
        return "No resources found"
    return f"No resources found in {namespace} namespace."


def _condition_status(doc: dict[str, Any], kind: str) -> str:
    """``.status.conditions[?(@.type=="KIND")].status``, or an empty cell."""
    return next((c["status"] for c in doc.get("status", {}).get("conditions", [])
                 if c.get("type") == kind), "")


#: The CRDs' additionalPrinterColumns (gateway-api v1.6 config/crd/standard), before AGE.
_PRINTER_COLUMNS: dict[str, tuple[tuple[str, Any], ...]] = {
    "GatewayClass": (("CONTROLLER", lambda d: d["spec"].get("controllerName", "")),
                     ("ACCEPTED", lambda d: _condition_status(d, "Accepted"))),
    "Gateway": (("CLASS", lambda d: d["spec"].get("gatewayClassName", "")),
                ("ADDRESS", lambda d: next((a["value"] for a in
                                            d.get("status", {}).get("addresses", [])), "")),
                ("PROGRAMMED", lambda d: _condition_status(d, "Programmed"))),
    # a string column holding a list prints it as JSON (apiextensions tableconvertor)
    "HTTPRoute": (("HOSTNAMES", lambda d: json.dumps(d["spec"]["hostnames"],
                                                     separators=(",", ":"))
                   if d["spec"].get("hostnames") else ""),),
    "ReferenceGrant": (),
}
_PRINTER_COLUMNS["GRPCRoute"] = _PRINTER_COLUMNS["HTTPRoute"]


@checked
def kubectl_get_gateway_api(cluster: Cluster | StoreView, kind: str,
                            namespace: str = "default", *,
                            all_namespaces: bool = False) -> str:
    """``kubectl get gatewayclasses|gateways|httproutes|grpcroutes|referencegrants``,
    in the columns of the CRDs' additionalPrinterColumns (docs/facts/gateway-api.md §7):

    - GatewayClass: NAME, CONTROLLER, ACCEPTED, AGE (cluster-scoped: no NAMESPACE column
      with ``-A``, and ``namespace`` is ignored);
    - Gateway: NAME, CLASS, ADDRESS (the first of ``status.addresses``), PROGRAMMED, AGE;
    - HTTPRoute, GRPCRoute: NAME, HOSTNAMES (``spec.hostnames`` as JSON, empty when
      there are none), AGE;
    - ReferenceGrant: NAME, AGE.

    ``kind`` is any name kubectl takes (``gtw``, ``httproutes``...); ``-A``
    (``all_namespaces``) adds NAMESPACE first. AGE is on the cluster's clock.

    >>> c = kl.Cluster(workers=1)
    >>> print(kubectl_get_gateway_api(c.snapshot(), "gc"))
    No resources found
    >>> _ = c.add_gateway_controller()
    >>> print(kubectl_get_gateway_api(c, "gatewayclasses"))
    NAME   CONTROLLER                                      ACCEPTED   AGE
    eg     gateway.envoyproxy.io/gatewayclass-controller   True       0s
    """
    view = cluster.snapshot()
    kind = objects.resolve_kind(kind)
    if kind not in _PRINTER_COLUMNS:
        raise NotFoundError(f"kind {kind}", "kind", kind, "is not a Gateway API kind",
                            fix="use one of " + ", ".join(_PRINTER_COLUMNS))
    return _gateway_table(view, kind, namespace, all_namespaces, (), False)


def _gateway_table(view: StoreView, kind: str, namespace: str, all_namespaces: bool,
                   names: Sequence[str], wide: bool) -> str:
    """The table of ``kubectl_get_gateway_api``; with ``names``, their rows and a
    NotFound line for each missing one; ``wide`` adds a GatewayClass's DESCRIPTION."""
    found = _listed(view, kind, namespace, all_namespaces)
    missing: list[str] = []
    if names:
        by_name = {o.name: o for o in found}
        wanted = list(dict.fromkeys(names))
        missing = [n for n in wanted if n not in by_name]
        found = [by_name[n] for n in wanted if n in by_name]
    elif not found:
        return _none_found(kind, namespace, all_namespaces)
    columns = _PRINTER_COLUMNS[kind]
    extra: tuple[tuple[str, Any], ...] = ()
    if wide and kind == "GatewayClass":  # the one priority-1 column of the five CRDs
        extra = (("DESCRIPTION", lambda d: d["spec"].get("description", "")),)
    with_ns = all_namespaces and objects.KINDS[kind].namespaced
    rows = [(["NAMESPACE"] if with_ns else []) + ["NAME", *(h for h, _ in columns), "AGE",
                                                  *(h for h, _ in extra)]]
    for obj in found:
        doc = objects.get(view, kind, _ref(kind, obj))
        rows.append(([obj.namespace] if with_ns else []) + [obj.name]
                    + [cell(doc) for _, cell in columns]
                    + [human_duration(view.clock - view.created(obj))]
                    + [cell(doc) for _, cell in extra])
    out = [tabwriter(rows)] if found else []
    out += [f'Error from server (NotFound): {RESOURCES[kind]} "{n}" not found'
            for n in missing]
    return "\n".join(out)


class _YamlDumper:
    """PyYAML's safe dumper, quoting as go-yaml (sigs.k8s.io/yaml) quotes: a string that
    cannot be written plain is double-quoted (``status: "True"``, ``group: ""``)."""

    @staticmethod
    def dump(doc: Any) -> str:
        import yaml

        class Dumper(yaml.SafeDumper):
            def choose_scalar_style(self) -> str:
                style = super().choose_scalar_style()
                return '"' if style == "'" else style

        return yaml.dump(doc, Dumper=Dumper, sort_keys=True, default_flow_style=False,
                         allow_unicode=True, width=1 << 30)


@checked
def kubectl_get_yaml(cluster: Cluster | StoreView, kind: str, names: Sequence[str] = (),
                     namespace: str = "default", *, all_namespaces: bool = False) -> str:
    """``kubectl get KIND [NAME...] -o yaml`` for any kind the lab models: one object as
    ``Cluster.get`` returns it, several (or none named: every one in the namespace) as
    a ``kind: List``; keys sorted, as kubectl's YAML printer sorts them. A missing name
    is reported after the objects found, as kubectl reports it.

    >>> c = kl.Cluster()
    >>> print(kubectl_get_yaml(c, "ns", ["kube-public"]))
    apiVersion: v1
    kind: Namespace
    metadata:
      creationTimestamp: "2026-12-01T09:00:01Z"
      labels:
        kubernetes.io/metadata.name: kube-public
      name: kube-public
      resourceVersion: "4"
      uid: 11f19256-61fc-551e-a98e-77bb78de6167
    spec:
      finalizers:
      - kubernetes
    status:
      phase: Active
    >>> print(kubectl_get_yaml(c, "httproute", ["web"]))
    Error from server (NotFound): httproutes.gateway.networking.k8s.io "web" not found
    """
    view = cluster.snapshot()
    kind = objects.resolve_kind(kind)
    spec = objects.KINDS[kind]
    if names and all_namespaces:
        return "error: a resource cannot be retrieved by name across all namespaces"
    docs, missing = [], []
    if names:
        for name in dict.fromkeys(names):
            ref = f"{namespace}/{name}" if spec.namespaced else name
            try:
                docs.append(objects.get(view, kind, ref))
            except NotFoundError:
                missing.append(name)
    else:
        docs = [objects.get(view, kind, _ref(kind, o))
                for o in _listed(view, kind, namespace, all_namespaces)]
    out = []
    if len(names) == 1 and docs:
        out.append(_YamlDumper.dump(docs[0]).rstrip("\n"))
    elif docs or not names:
        out.append(_YamlDumper.dump({"apiVersion": "v1", "items": docs, "kind": "List",
                                     "metadata": {"resourceVersion": ""}}).rstrip("\n"))
    out += [f'Error from server (NotFound): {RESOURCES[kind]} "{n}" not found'
            for n in missing]
    return "\n".join(out)


def _camel_split(word: str) -> list[str]:
    """github.com/fatih/camelcase ``Split``: runs of one character class (lower, upper,
    digit, other), an upper run before a lower one giving its last letter away."""
    runs: list[list[str]] = []
    last = None
    for ch in word:
        cls = ("l" if ch.islower() else "u" if ch.isupper() else "d" if ch.isdigit()
               else "o")
        if cls == last:
            runs[-1].append(ch)
        else:
            runs.append([ch])
        last = cls
    for i in range(len(runs) - 1):
        if runs[i] and runs[i][0].isupper() and runs[i + 1][0].islower():
            runs[i + 1].insert(0, runs[i].pop())
    return ["".join(r) for r in runs if r]


def _smart_label(field: str) -> str:
    """kubectl describe's ``smartLabelFor``: ``apiVersion`` -> ``API Version``,
    ``lastTransitionTime`` -> ``Last Transition Time``; a field with other characters
    than letters and ``-`` is left as it is."""
    if any(not (ch.isalpha() or ch == "-") for ch in field):
        return field
    acronyms = ("API", "URL", "UID", "OSB", "GUID")
    parts = [p.upper() if p.upper() in acronyms else p[:1].upper() + p[1:].lower()
             for p in _camel_split(field) if p != "_"]
    return " ".join(parts)


def _go_value(value: Any) -> str:
    """Go's ``%v`` of a JSON value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _unstructured(lines: list[str], level: int, content: dict[str, Any], prefix: str,
                  skip: tuple[str, ...]) -> None:
    """kubectl describe's ``printUnstructuredContent``: sorted fields, a map or a list
    under its label one level deeper, a scalar after ``label:<tab>``."""
    pad = "  " * level
    for field in sorted(content):
        value, path = content[field], f"{prefix}.{field}"
        if path in skip:
            continue
        if isinstance(value, dict):
            lines.append(f"{pad}{_smart_label(field)}:")
            _unstructured(lines, level + 1, value, path, skip)
        elif isinstance(value, list):
            lines.append(f"{pad}{_smart_label(field)}:")
            for child in value:
                if isinstance(child, dict):
                    _unstructured(lines, level + 1, child, path, skip)
                else:
                    lines.append(f"{pad}  {_go_value(child)}")
        else:
            lines.append(f"{pad}{_smart_label(field)}:\t{_go_value(value)}")


def go_tabwriter(lines: Sequence[str], minwidth: int = 0, padding: int = 2) -> str:
    """Go's ``text/tabwriter`` (padchar ' ', no flags) over ``lines``: a cell ended by a
    tab is padded to the widest cell of its column block, the consecutive lines that
    have a cell in that column; the text after the last tab is not padded. kubectl
    describe writes through ``tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)``.

    >>> print(go_tabwriter(["Name:\\tweb", "Namespace:\\tdefault", "Spec:", "  Port:\\t80"]))
    Name:       web
    Namespace:  default
    Spec:
      Port:  80
    """
    cells = [line.split("\t") for line in lines]
    widths: list[list[int]] = [[0] * (len(row) - 1) for row in cells]

    def block(line0: int, line1: int, column: int) -> None:
        this = line0
        while this < line1:
            if column >= len(cells[this]) - 1:
                this += 1
                continue
            start = this
            width = minwidth
            while this < line1 and column < len(cells[this]) - 1:
                width = max(width, len(cells[this][column]) + padding)
                this += 1
            for i in range(start, this):
                widths[i][column] = width
            block(start, this, column + 1)

    block(0, len(cells), 0)
    return "\n".join("".join(c.ljust(w) for c, w in zip(row[:-1], widths[i], strict=True))
                     + row[-1] for i, row in enumerate(cells))


def _describe_one(doc: dict[str, Any]) -> list[str]:
    meta = doc["metadata"]
    lines = [f"Name:\t{meta['name']}", f"Namespace:\t{meta.get('namespace', '')}"]
    labels = sorted(meta.get("labels", {}).items())
    lines += [f"{'Labels:' if i == 0 else ''}\t{k}={v}" for i, (k, v) in enumerate(labels)] \
        or ["Labels:\t<none>"]
    notes = sorted(meta.get("annotations", {}).items())
    lines += [f"{'Annotations:' if i == 0 else ''}\t{k}: {v}" for i, (k, v) in
              enumerate(notes)] or ["Annotations:\t<none>"]
    _unstructured(lines, 0, doc, "", (".metadata.name", ".metadata.namespace",
                                      ".metadata.labels", ".metadata.annotations",
                                      ".metadata.managedFields"))
    lines.append("Events:\t<none>")  # the lab records no events
    return lines


@checked
def kubectl_describe(cluster: Cluster | StoreView, kind: str, names: Sequence[str] = (),
                     namespace: str = "default") -> str:
    """``kubectl describe KIND [NAME...]`` of a custom resource (the Gateway API kinds and
    the admin network policies), in the layout of kubectl's generic describer
    (k8s.io/kubectl pkg/describe ``genericDescriber``): Name, Namespace, Labels,
    Annotations, then every field of the object, sorted, under labels kubectl derives
    from the field names (``API Version``, ``Creation Timestamp``, ``Parent Refs``), and
    ``Events:  <none>`` (the lab records no events). Without a name, every object of the
    kind in the namespace, separated by a blank line.

    >>> c = kl.Cluster(workers=1)
    >>> print(kubectl_describe(c, "gc", ["eg"]))
    Error from server (NotFound): gatewayclasses.gateway.networking.k8s.io "eg" not found
    >>> _ = c.add_gateway_controller()
    >>> print(kubectl_describe(c, "gc", ["eg"]))  # doctest: +ELLIPSIS
    Name:         eg
    Namespace:...
    Labels:       <none>
    Annotations:  <none>
    API Version:  gateway.networking.k8s.io/v1
    Kind:         GatewayClass
    Metadata:
      Creation Timestamp:  2026-12-01T09:00:02Z
      Generation:          1
      Resource Version:    ...
      UID:                 ...
    Spec:
      Controller Name:  gateway.envoyproxy.io/gatewayclass-controller
    Status:
      Conditions:
        Last Transition Time:  2026-12-01T09:00:02Z
        Message:               Valid GatewayClass
        Observed Generation:   1
        Reason:                Accepted
        Status:                True
        Type:                  Accepted
    Events:                    <none>
    """
    view = cluster.snapshot()
    kind = objects.resolve_kind(kind)
    spec = objects.KINDS[kind]
    if kind not in CUSTOM_RESOURCES:
        return (f"error: the lab's kubectl describes only custom resources "
                f"({', '.join(CUSTOM_RESOURCES)}); use kubectl get {kind.lower()} -o yaml")
    if names:
        out, missing = [], []
        for name in dict.fromkeys(names):
            ref = f"{namespace}/{name}" if spec.namespaced else name
            try:
                out.append(go_tabwriter(_describe_one(objects.get(view, kind, ref))))
            except NotFoundError:
                missing.append(name)
        text = "\n\n\n".join(out)
        errors = [f'Error from server (NotFound): {RESOURCES[kind]} "{n}" not found'
                  for n in missing]
        return "\n".join(([text] if out else []) + errors)
    found = _listed(view, kind, namespace, False)
    if not found:
        return _none_found(kind, namespace, False)
    return "\n\n\n".join(go_tabwriter(_describe_one(objects.get(view, kind, _ref(kind, o))))
                         for o in found)


# --------------------------------------------------------------------------- policies
def _age_free_selector(sel: Any) -> str:
    return "<none>" if sel.empty else str(sel)


@checked
def kubectl_get_networkpolicies(cluster: Cluster | StoreView, namespace: str | None = None
                                ) -> str:
    """``kubectl get networkpolicies -A`` (or ``-n namespace``), then the admin tier as
    ``kubectl get clusternetworkpolicies,adminnetworkpolicies,baselineadminnetworkpolicies``
    prints it.

    NetworkPolicy columns are kubectl's NAME, POD-SELECTOR (``<none>`` for the empty
    selector) and AGE, with NAMESPACE first for ``-A`` (kubernetes
    pkg/printers/internalversion/printers.go, ``networkPolicyColumnDefinitions``). The
    admin kinds are CRDs, printed with their ``additionalPrinterColumns``
    (kubernetes-sigs/network-policy-api): ClusterNetworkPolicy NAME, TIER, PRIORITY, AGE
    (apis/v1alpha2); AdminNetworkPolicy NAME, PRIORITY, AGE; BaselineAdminNetworkPolicy
    NAME, AGE (apis/v1alpha1). One table per kind found, after a blank line; when
    objects of more than one kind are listed kubectl names each ``kind.group/name``.
    With nothing to list: kubectl's ``No resources found`` (stderr in a real shell).

    Examples
    --------
    >>> c = kl.Cluster()
    >>> _ = c.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    ...              "metadata": {"name": "deny-all"}, "spec": {"podSelector": {}}})
    >>> print(kubectl_get_networkpolicies(c))
    NAMESPACE   NAME       POD-SELECTOR   AGE
    default     deny-all   <none>         0s
    """
    view = cluster.snapshot()
    if namespace is not None:
        view.namespace(namespace)
    policies = [p for p in view.network_policies
                if namespace is None or p.namespace == namespace]
    out = []
    if policies:
        head = ["NAME", "POD-SELECTOR", "AGE"]
        rows = [(["NAMESPACE"] if namespace is None else []) + head]
        rows += [([p.namespace] if namespace is None else [])
                 + [p.name, _age_free_selector(p.pod_selector), _age(view, p)]
                 for p in policies]
        out.append(tabwriter(rows))
    admin = view.admin_network_policies
    kinds = [k for k in ("ClusterNetworkPolicy", "AdminNetworkPolicy",
                         "BaselineAdminNetworkPolicy") if any(a.kind == k for a in admin)]
    for kind in kinds:
        listed = [a for a in admin if a.kind == kind]
        prefix = (f"{kind.lower()}.policy.networking.k8s.io/"
                  if len(kinds) > 1 else "")
        head = {"ClusterNetworkPolicy": ["NAME", "TIER", "PRIORITY", "AGE"],
                "AdminNetworkPolicy": ["NAME", "PRIORITY", "AGE"],
                "BaselineAdminNetworkPolicy": ["NAME", "AGE"]}[kind]
        rows = [head]
        for a in listed:
            cells = [prefix + a.name]
            if kind == "ClusterNetworkPolicy":
                cells.append(a.tier)
            if a.priority is not None:
                cells.append(str(a.priority))
            rows.append([*cells, _age(view, a)])
        out.append(tabwriter(rows))
    if not out:
        return ("No resources found" if namespace is None
                else f"No resources found in {namespace} namespace.")
    return "\n\n".join(out)


