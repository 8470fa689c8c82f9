"""Pods as the API server validates them: names, labels, containers and their ports,
tolerations, and a pod's address.

The checks on containers follow pkg/apis/core/validation (unique container names and
port names; a port held by two containers is accepted with a warning, and the second
container crash-loops because it cannot bind it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import (
    boolean,
    check_dns_label,
    check_dns_subdomain,
    check_ip,
    check_labels,
    check_port,
    check_port_name,
    check_protocol,
    integer,
    mapping,
    meta,
    sequence,
    string,
)
from kubenet_lab.api.ipam import check_ip_free, next_pod_ip, pod_ip_range
from kubenet_lab.api.meta import controller_ref, labelled
from kubenet_lab.exceptions import ConflictError, ManifestError, UnsupportedKindError
from kubenet_lab.model.names import split_ref
from kubenet_lab.model.pod import Container, ContainerPort, Pod, Toleration

if TYPE_CHECKING:
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.store import StoreView

__all__ = [
    "TAINT_EFFECTS",
    "allocate_pod_ip",
    "check_containers",
    "check_pod_update",
    "decode_containers",
    "decode_pod",
    "decode_tolerations",
    "encode_pod",
    "image_pull_policy",
    "pod_spec",
    "validate_pod",
]

#: The effects a taint or toleration may name (pkg/apis/core/validation ``validateTaintEffect``).
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def check_containers(
    obj: str, containers: list[Container | Mapping[str, Any]], field: str = "spec.containers",
) -> tuple[tuple[Container, ...], tuple[str, ...], tuple[str, ...]]:
    """Validate containers (``field``, a Deployment's are in its template) as the API
    server does; find port clashes between them.

    Returns the containers, the names of those that crash-loop because an earlier
    container already holds their port, and the API server's warnings.
    """
    if not containers:
        raise ManifestError(obj, field, [], "is empty: a pod needs a container",
                            fix="add at least one container")
    out: list[Container] = []
    names: dict[str, int] = {}
    port_names: dict[str, str] = {}
    bound: dict[tuple[int, str], tuple[str, str]] = {}
    crashing: list[str] = []
    warnings: list[str] = []
    for i, c in enumerate(containers):
        if isinstance(c, Mapping):
            raise ManifestError(obj, f"{field}[{i}]", dict(c),
                                "is a dict; pass kl.Container objects or use apply()")
        if not isinstance(c, Container):
            raise ManifestError(obj, f"{field}[{i}]", c, "is not a Container")
        path = f"{field}[{i}]"
        check_dns_label(obj, f"{path}.name", c.name)
        if c.name in names:
            raise ManifestError(obj, f"{path}.name", c.name, "Duplicate value",
                                fix="give every container of a pod its own name")
        names[c.name] = i
        for j, p in enumerate(c.ports):
            ppath = f"{path}.ports[{j}]"
            check_port(obj, f"{ppath}.containerPort", p.container_port)
            check_protocol(obj, f"{ppath}.protocol", p.protocol)
            if p.name is not None:
                check_port_name(obj, f"{ppath}.name", p.name)
                if p.name in port_names:
                    raise ManifestError(
                        obj, f"{ppath}.name", p.name, "Duplicate value",
                        fix=f"{port_names[p.name]} already uses this port name; port names "
                        "must be unique within a pod",
                    )
                port_names[p.name] = ppath
            key = (p.container_port, p.protocol)
            if key in bound and bound[key][0] != c.name:
                warnings.append(f"{ppath}: duplicate port definition with {bound[key][1]}")
                if c.name not in crashing:
                    crashing.append(c.name)
            else:
                bound.setdefault(key, (c.name, ppath))
        out.append(c)
    return tuple(out), tuple(crashing), tuple(warnings)


def decode_containers(obj: str, field: str, raw: Any) -> list[Container]:
    """``spec.containers`` of a manifest as Containers (``check_containers`` validates
    them); a port's protocol defaults to TCP, an empty port name is no name."""
    out = []
    for i, c in enumerate(sequence(obj, field, raw, required=True)):
        path = f"{field}[{i}]"
        c = mapping(obj, path, c, required=True)
        name = c.get("name")
        if name is None:
            raise ManifestError(obj, f"{path}.name", None, "Required value",
                                fix="give every container a name")
        image = c.get("image")
        if image is None or image == "":
            raise ManifestError(obj, f"{path}.image", image, "Required value",
                                fix="give the container an image, e.g. nginx:1.27")
        ports = []
        for j, p in enumerate(sequence(obj, f"{path}.ports", c.get("ports"))):
            ppath = f"{path}.ports[{j}]"
            p = mapping(obj, ppath, p, required=True)
            number = integer(obj, f"{ppath}.containerPort", p.get("containerPort"))
            if number is None:
                raise ManifestError(obj, f"{ppath}.containerPort", None,
                                    "Required value", fix="add containerPort: <1-65535>")
            ports.append(ContainerPort(
                number, string(obj, f"{ppath}.name", p.get("name")) or None,
                string(obj, f"{ppath}.protocol", p.get("protocol")) or "TCP"))
        out.append(Container(string(obj, f"{path}.name", name),
                             string(obj, f"{path}.image", image), tuple(ports)))
    return out


def decode_tolerations(obj: str, field: str, raw: Any) -> tuple[Toleration, ...]:
    """``tolerations`` with the API server's checks (pkg/apis/core/validation
    ``ValidateTolerations``): operator Equal or Exists, no value with Exists, a known
    effect or none."""
    out = []
    for i, t in enumerate(sequence(obj, field, raw)):
        path = f"{field}[{i}]"
        t = mapping(obj, path, t, required=True)
        key, value, effect = (string(obj, f"{path}.{k}", t.get(k), "")
                              for k in ("key", "value", "effect"))
        op = string(obj, f"{path}.operator", t.get("operator")) or "Equal"
        if op not in ("Equal", "Exists"):
            raise ManifestError(obj, f"{path}.operator", op, "is not supported",
                                fix="use Equal or Exists")
        if op == "Exists" and value:
            raise ManifestError(obj, f"{path}.operator", op,
                                "Invalid value: value must be empty when `operator` is "
                                "'Exists'", fix="drop the value, or use operator: Equal")
        if effect not in ("", *TAINT_EFFECTS):
            raise ManifestError(obj, f"{path}.effect", effect,
                                "Unsupported value: supported values: " + ", ".join(
                                    f'"{e}"' for e in TAINT_EFFECTS),
                                fix="leave effect out to tolerate every effect")
        out.append(Toleration(key, op, value, effect))
    return tuple(out)


def decode_pod(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A v1 Pod manifest as the keyword arguments of ``controllers.pods.create_pod``:
    ``spec.nodeName``, ``status.podIP`` and the Ready condition are
    honoured; ``hostNetwork`` pods are not modelled."""
    obj, ns, name, labels = meta(doc, "Pod", namespaced=True)
    spec = mapping(obj, "spec", doc.get("spec"), required=True)
    status = mapping(obj, "status", doc.get("status"))
    if boolean(obj, "spec.hostNetwork", spec.get("hostNetwork")):
        raise UnsupportedKindError(
            obj, "spec.hostNetwork", True, "is not modelled: the lab's pods have their own "
            "network namespace", fix="leave hostNetwork out",
        )
    containers = decode_containers(obj, "spec.containers", spec.get("containers"))
    ready = True
    for cond in sequence(obj, "status.conditions", status.get("conditions")):
        if isinstance(cond, Mapping) and cond.get("type") == "Ready":
            ready = cond.get("status") == "True" or cond.get("status") is True
    return dict(
        ref=f"{ns}/{name}", node=string(obj, "spec.nodeName", spec.get("nodeName")) or None,
        labels=labels, containers=containers,
        ip=string(obj, "status.podIP", status.get("podIP")) or None, ready=ready,
        tolerations=decode_tolerations(obj, "spec.tolerations", spec.get("tolerations")),
        owner=None)


def validate_pod(
    store: StoreView, ref: str, labels: Mapping[str, str] | None,
    containers: Iterable[Container | Mapping[str, Any]] | None,
) -> tuple[str, str, dict[str, str], tuple[Container, ...], tuple[str, ...], tuple[str, ...]]:
    """The checks of a new pod: ``(namespace, name, labels, containers, crashing,
    warnings)``; by default one container named after the pod, listening on TCP 80."""
    namespace, name = split_ref(str(ref))
    obj = f"Pod {namespace}/{name}"
    check_dns_subdomain(obj, "metadata.name", name)
    store.namespace(namespace)
    if store.has_pod(f"{namespace}/{name}"):
        raise ConflictError(obj, "metadata.name", name, "already exists",
                            fix="choose another name, or delete_pod() the old one first")
    checked = check_labels(obj, "metadata.labels", dict(labels or {}))
    if containers is None:
        containers = [Container(name, ports=(ContainerPort(80),))]
    conts, crashing, warnings = check_containers(obj, list(containers))
    return namespace, name, dict(sorted(checked.items())), conts, crashing, warnings


def allocate_pod_ip(store: StoreView, obj: str, host: Node, ip: str | None) -> IPv4Address:
    """The pod's address: ``ip`` checked against the node's podCIDR, or host-local's
    next free one (``kubenet_lab.api.ipam``)."""
    cidr = ip_network(host.pod_cidr)
    if ip is None:
        # every address in use is in the index; only this node's pods fall in its podCIDR
        return next_pod_ip(cidr, store.address_owners(), store.last_pod_ip(host.name))
    addr = check_ip(obj, "status.podIP", ip)
    first, last = pod_ip_range(cidr)
    if not first <= int(addr) <= last:
        raise ManifestError(
            obj, "status.podIP", ip,
            f"is not a pod address of node {host.name}'s podCIDR {host.pod_cidr}",
            fix=f"use an address from {IPv4Address(first)} to {IPv4Address(last)} "
            "(the .1 belongs to the cni0 bridge), or leave it out",
        )
    check_ip_free(store, obj, "status.podIP", addr)
    return addr


def check_pod_update(obj: str, pod: Pod, request: Mapping[str, Any]) -> dict[str, str]:
    """Re-applying a pod may change its labels only (the network-relevant part of the
    API server's rule that pod specs are immutable); returns the new labels."""
    node, ip = request["node"], request["ip"]
    if tuple(request["containers"]) != pod.containers or (node and node != pod.node) or (
        ip and ip != pod.ip
    ):
        raise ManifestError(
            obj, "spec", "<changed>",
            "Forbidden: pod updates may not change fields other than spec.containers[*].image "
            "and a few others",
            fix="delete the pod (delete_pod) and apply it again, or use a Deployment",
        )
    return dict(sorted(check_labels(obj, "metadata.labels", request["labels"]).items()))


# ---------------------------------------------------------------- encoding
def image_pull_policy(image: str) -> str:
    """The ``imagePullPolicy`` the API server fills in (pkg/apis/core/v1/defaults.go
    ``SetDefaults_Container``): ``Always`` for the tag ``latest``, which an image without
    a tag or digest has, else ``IfNotPresent``.

    >>> image_pull_policy("nginx"), image_pull_policy("nginx:1.27"), image_pull_policy(
    ...     "registry.k8s.io/pause@sha256:9001")
    ('Always', 'IfNotPresent', 'IfNotPresent')
    """
    name, digest, _ = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2] if ":" in last else ("" if digest else "latest")
    return "Always" if tag == "latest" else "IfNotPresent"


def _container(c: Container) -> dict[str, Any]:
    out: dict[str, Any] = {"image": c.image, "imagePullPolicy": image_pull_policy(c.image),
                           "name": c.name}
    if c.ports:
        out["ports"] = [{"containerPort": p.container_port, "protocol": p.protocol,
                         **({"name": p.name} if p.name else {})} for p in c.ports]
    return out


def _toleration(t: Toleration) -> dict[str, Any]:
    """A toleration as written; ``operator: Equal`` is what an absent operator means,
    and is left out as kubeadm's CoreDNS manifest leaves it out."""
    fields = {"key": t.key, "operator": "" if t.operator == "Equal" else t.operator,
              "value": t.value, "effect": t.effect}
    return {k: v for k, v in fields.items() if v}


def pod_spec(containers: Iterable[Container], tolerations: Iterable[Toleration],
             node: str | None = None) -> dict[str, Any]:
    """A pod's ``spec`` (or a template's) as the API server stores it: the containers,
    tolerations and node the lab models, with the defaults it fills in for them
    (``SetDefaults_PodSpec``: ``dnsPolicy: ClusterFirst``, which is the resolv.conf the
    lab writes; ``restartPolicy: Always``, which restarts a crash-looping container;
    ``schedulerName: default-scheduler``). Defaults of what the lab does not model
    (``securityContext``, ``terminationGracePeriodSeconds``, ``enableServiceLinks``,
    ``terminationMessagePath``, resources, volumes and the service-account token, the
    DefaultTolerationSeconds tolerations) are left out.

    >>> pod_spec([Container("web", "nginx:1.27", (ContainerPort(80),))], ())["containers"]
    [{'image': 'nginx:1.27', 'imagePullPolicy': 'IfNotPresent', 'name': 'web', \
'ports': [{'containerPort': 80, 'protocol': 'TCP'}]}]
    """
    out: dict[str, Any] = {"containers": [_container(c) for c in containers],
                           "dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
                           "schedulerName": "default-scheduler"}
    if node is not None:
        out["nodeName"] = node
    tolerations = [_toleration(t) for t in tolerations]
    if tolerations:
        out["tolerations"] = tolerations
    return out


def encode_pod(view: StoreView, pod: Pod) -> dict[str, Any]:
    """A pod as ``kubectl get pod -o yaml`` shows its spec (``decode_pod`` reads it back)
    and the metadata it carries: labels, and for a pod of a Deployment the
    ``generateName`` and ``ownerReferences`` its ReplicaSet gave it
    (``<deployment>-<pod-template-hash>``, k8s.io/kubernetes pkg/controller/replicaset).

    >>> c = kl.Cluster()
    >>> doc = encode_pod(c.store, c.pods[0])
    >>> doc["metadata"]["ownerReferences"][0]["kind"], doc["spec"]["nodeName"]
    ('ReplicaSet', 'control-plane')
    """
    meta = labelled(pod.labels)
    if pod.owner and pod.owner.startswith("Deployment ") and "pod-template-hash" in pod.labels:
        rs = f"{split_ref(pod.owner.split(' ', 1)[1])[1]}-{pod.labels['pod-template-hash']}"
        meta["generateName"] = f"{rs}-"
        meta["ownerReferences"] = [controller_ref("apps/v1", "ReplicaSet", rs, pod.namespace)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": pod_spec(pod.containers, pod.tolerations, pod.node)}
