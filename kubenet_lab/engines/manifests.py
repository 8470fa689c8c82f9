"""Kubernetes manifests (YAML or dicts) to the lab's model, with the API server's checks.

``apply_manifests`` reads YAML text, a path, a dict or a list of those; multi-document
YAML and ``kind: List`` (what ``kubectl get ... -o yaml`` prints) both work. Fields the
lab does not model (volumes, resources, ...) are ignored, as ``kubectl apply`` keeps
them without the network caring. ``Cluster.apply`` wraps this so that a failure
anywhere leaves the cluster as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kubenet_lab.exceptions import ConflictError, ManifestError, UnsupportedKindError
from kubenet_lab.model.deployment import Deployment
from kubenet_lab.model.pod import Container, ContainerPort, Pod, Toleration

if TYPE_CHECKING:
    from kubenet_lab.model.cluster import Cluster

__all__ = ["SUPPORTED_KINDS", "apply_manifests", "load_documents"]

#: (apiVersion, kind) pairs ``apply`` accepts.
SUPPORTED_KINDS = (
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "Pod"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy"),
)
_LATER = {"EndpointSlice", "Gateway", "HTTPRoute"}


def load_documents(src: Any) -> list[dict[str, Any]]:
    """Every object in ``src`` as a dict, ``kind: List`` unpacked, empty documents skipped.

    >>> [d["kind"] for d in load_documents("kind: Namespace\\n---\\nkind: Pod\\n")]
    ['Namespace', 'Pod']
    """
    docs: list[Any] = []
    if isinstance(src, (list, tuple)):
        for item in src:
            docs.extend(load_documents(item))
        return docs
    if isinstance(src, Mapping):
        docs = [dict(src)]
    elif isinstance(src, Path) or (
        isinstance(src, str) and "\n" not in src and src.endswith((".yaml", ".yml", ".json"))
    ):
        path = Path(src)
        if not path.is_file():
            raise ManifestError("manifest", None, str(src), "is not a file",
                                fix="check the path, or pass the YAML text itself")
        docs = _parse_yaml(path.read_text(), str(path))
    elif isinstance(src, str):
        docs = _parse_yaml(src, "manifest")
    else:
        raise ManifestError("manifest", None, type(src).__name__, "is not a manifest",
                            fix="pass YAML text, a path, a dict or a list of those")
    out: list[dict[str, Any]] = []
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            raise ManifestError(f"document {i + 1}", None, doc, "is not a mapping",
                                fix="each YAML document must be an object with apiVersion and kind")
        if doc.get("kind") == "List":
            items = doc.get("items")
            if not isinstance(items, list):
                raise ManifestError("List", "items", items, "is not a list")
            out.extend(load_documents(items))
        else:
            out.append(dict(doc))
    return out


def _parse_yaml(text: str, where: str) -> list[Any]:
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "cannot be parsed"
        raise ManifestError(
            where, None, f"YAML{at}", f"is malformed: {problem}",
            fix="check the indentation and the ':' after each key",
        ) from err


def apply_manifests(cluster: Cluster, src: Any) -> list[Any]:
    """Apply every object of ``src`` to ``cluster`` in order; return what was applied.

    Not atomic by itself: ``Cluster.apply`` restores the cluster on failure.
    """
    applied: list[Any] = []
    for doc in load_documents(src):
        kind, version = doc.get("kind"), doc.get("apiVersion")
        handler = _HANDLERS.get((version, kind))
        if handler is None:
            supported = ", ".join(f"{k} ({v})" for v, k in SUPPORTED_KINDS)
            name = (doc.get("metadata") or {}).get("name", "?") if isinstance(
                doc.get("metadata"), Mapping) else "?"
            if kind in dict((k, v) for v, k in SUPPORTED_KINDS):
                want = dict((k, v) for v, k in SUPPORTED_KINDS)[kind]
                raise UnsupportedKindError(
                    f"{kind} {name}", "apiVersion", version, f"is not the apiVersion of {kind}",
                    fix=f"use apiVersion: {want}",
                )
            later = " (a later lesson adds it)" if kind in _LATER else ""
            raise UnsupportedKindError(
                f"{kind or '<no kind>'} {name}", "kind", kind,
                f"is not a kind the lab models{later}",
                fix=f"supported kinds: {supported}",
            )
        applied.append(handler(cluster, doc))
    return applied


# ---------------------------------------------------------------- field helpers
def _meta(doc: Mapping[str, Any], kind: str, namespaced: bool) -> tuple[str, str, str, dict]:
    meta = doc.get("metadata")
    if not isinstance(meta, Mapping):
        raise ManifestError(kind, "metadata", meta, "is missing or not a mapping",
                            fix="add metadata: {name: ...}")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise ManifestError(kind, "metadata.name", name, "Required value",
                            fix="give the object a name")
    ns = meta.get("namespace", "default") if namespaced else ""
    obj = f"{kind} {ns}/{name}" if namespaced else f"{kind} {name}"
    labels = meta.get("labels") or {}
    return obj, ns, name, labels


def _mapping(obj: str, field: str, value: Any, required: bool = False) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise ManifestError(obj, field, value, "Required value" if value is None else
                            "is not a mapping", fix=f"write {field} as key: value pairs")
    return value


def _list(obj: str, field: str, value: Any, required: bool = False) -> list[Any]:
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ManifestError(obj, field, value, "Required value" if value is None else
                            "is not a list", fix=f"write {field} as a YAML list ('- ...')")
    return value


def _containers(obj: str, field: str, raw: Any) -> list[Container]:
    out = []
    for i, c in enumerate(_list(obj, field, raw, required=True)):
        path = f"{field}[{i}]"
        c = _mapping(obj, path, c, required=True)
        name = c.get("name")
        if name is None:
            raise ManifestError(obj, f"{path}.name", None, "Required value",
                                fix="give every container a name")
        image = c.get("image")
        if not isinstance(image, str) or not image:
            raise ManifestError(obj, f"{path}.image", image, "Required value",
                                fix="give the container an image, e.g. nginx:1.27")
        ports = []
        for j, p in enumerate(_list(obj, f"{path}.ports", c.get("ports"))):
            p = _mapping(obj, f"{path}.ports[{j}]", p, required=True)
            if "containerPort" not in p:
                raise ManifestError(obj, f"{path}.ports[{j}].containerPort", None,
                                    "Required value", fix="add containerPort: <1-65535>")
            ports.append(ContainerPort(p["containerPort"], p.get("name"),
                                       p.get("protocol", "TCP")))
        out.append(Container(name, image, tuple(ports)))
    return out


def _tolerations(obj: str, field: str, raw: Any) -> tuple[Toleration, ...]:
    out = []
    for i, t in enumerate(_list(obj, field, raw)):
        t = _mapping(obj, f"{field}[{i}]", t, required=True)
        op = t.get("operator", "Equal")
        if op not in ("Equal", "Exists"):
            raise ManifestError(obj, f"{field}[{i}].operator", op, "is not supported",
                                fix="use Equal or Exists")
        out.append(Toleration(t.get("key", ""), op, str(t.get("value", "")), t.get("effect", "")))
    return tuple(out)


# ---------------------------------------------------------------- kinds
def _apply_namespace(cluster: Cluster, doc: Mapping[str, Any]):
    obj, _, name, labels = _meta(doc, "Namespace", namespaced=False)
    return cluster.add_namespace(name, labels=labels)


def _apply_node(cluster: Cluster, doc: Mapping[str, Any]):
    obj, _, name, labels = _meta(doc, "Node", namespaced=False)
    spec = _mapping(obj, "spec", doc.get("spec"))
    status = _mapping(obj, "status", doc.get("status"))
    addresses = {
        a.get("type"): a.get("address")
        for a in _list(obj, "status.addresses", status.get("addresses"))
        if isinstance(a, Mapping)
    }
    pod_cidr = spec.get("podCIDR")
    if name in {n.name for n in cluster.nodes}:
        node = cluster.node(name)
        if pod_cidr is not None and pod_cidr != node.pod_cidr:
            raise ConflictError(
                obj, "spec.podCIDR", pod_cidr,
                f"Forbidden: node updates may not change podCIDR (it is {node.pod_cidr})",
                fix="delete and re-create the node to give it another podCIDR",
            )
        return node
    control_plane = "node-role.kubernetes.io/control-plane" in labels
    return cluster.add_node(
        name, ip=addresses.get("InternalIP"), pod_cidr=pod_cidr,
        public_ip=addresses.get("ExternalIP"),
        labels={k: v for k, v in labels.items()
                if k != "node-role.kubernetes.io/control-plane"},
        control_plane=control_plane,
    )


def _apply_pod(cluster: Cluster, doc: Mapping[str, Any]) -> Pod:
    obj, ns, name, labels = _meta(doc, "Pod", namespaced=True)
    spec = _mapping(obj, "spec", doc.get("spec"), required=True)
    status = _mapping(obj, "status", doc.get("status"))
    if spec.get("hostNetwork"):
        raise UnsupportedKindError(
            obj, "spec.hostNetwork", True, "is not modelled: the lab's pods have their own "
            "network namespace", fix="leave hostNetwork out",
        )
    containers = _containers(obj, "spec.containers", spec.get("containers"))
    ready = True
    for cond in _list(obj, "status.conditions", status.get("conditions")):
        if isinstance(cond, Mapping) and cond.get("type") == "Ready":
            ready = str(cond.get("status")) == "True"
    node, ip = spec.get("nodeName"), status.get("podIP")
    ref = f"{ns}/{name}"
    if ref in {p.ref for p in cluster.pods}:
        return _update_pod(cluster, obj, cluster.pod(ref), containers, node, ip, labels)
    return cluster._create_pod(
        ref, node=node, labels=labels, containers=containers, ip=ip, ready=ready,
        tolerations=_tolerations(obj, "spec.tolerations", spec.get("tolerations")), owner=None,
    )


def _update_pod(cluster, obj, pod: Pod, containers, node, ip, labels) -> Pod:
    """Re-applying a pod may change its labels only (the network-relevant part of the
    API server's rule that pod specs are immutable)."""
    from dataclasses import replace

    from kubenet_lab.engines.validation import check_labels

    if tuple(containers) != pod.containers or (node and node != pod.node) or (
        ip and ip != pod.ip
    ):
        raise ManifestError(
            obj, "spec", "<changed>",
            "Forbidden: pod updates may not change fields other than spec.containers[*].image "
            "and a few others",
            fix="delete the pod (delete_pod) and apply it again, or use a Deployment",
        )
    labels = check_labels(obj, "metadata.labels", labels)
    new = replace(pod, labels=dict(sorted(labels.items())))
    cluster._pods[pod.ref] = new
    cluster._changed()
    return new


def _apply_deployment(cluster: Cluster, doc: Mapping[str, Any]) -> Deployment:
    from kubenet_lab.engines.validation import check_containers, check_dns_subdomain, check_labels

    obj, ns, name, _ = _meta(doc, "Deployment", namespaced=True)
    check_dns_subdomain(obj, "metadata.name", name)
    cluster.namespace(ns)
    spec = _mapping(obj, "spec", doc.get("spec"), required=True)
    replicas = spec.get("replicas", 1)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise ManifestError(obj, "spec.replicas", replicas, "must be a whole number >= 0")
    selector = _mapping(obj, "spec.selector", spec.get("selector"), required=True)
    match = check_labels(obj, "spec.selector.matchLabels",
                         dict(_mapping(obj, "spec.selector.matchLabels",
                                       selector.get("matchLabels"), required=True)))
    template = _mapping(obj, "spec.template", spec.get("template"), required=True)
    tmeta = _mapping(obj, "spec.template.metadata", template.get("metadata"))
    tlabels = check_labels(obj, "spec.template.metadata.labels", dict(tmeta.get("labels") or {}))
    if any(tlabels.get(k) != v for k, v in match.items()):
        raise ManifestError(
            obj, "spec.template.metadata.labels", tlabels,
            "Invalid value: `selector` does not match template `labels`",
            fix="give the template every label of spec.selector.matchLabels",
        )
    tspec = _mapping(obj, "spec.template.spec", template.get("spec"), required=True)
    containers = _containers(obj, "spec.template.spec.containers", tspec.get("containers"))
    check_containers(obj, containers)
    dep = Deployment(
        ns, name, replicas, dict(sorted(match.items())), dict(sorted(tlabels.items())),
        tuple(containers), _tolerations(obj, "spec.template.spec.tolerations",
                                        tspec.get("tolerations")),
    )
    cluster._set_deployment(dep)
    return cluster.deployment(dep.ref)


def _apply_service(cluster: Cluster, doc: Mapping[str, Any]):
    """A v1 Service; see ``kubenet_lab.engines.services.build_service`` for the checks."""
    from kubenet_lab.engines.services import build_service

    obj, ns, name, labels = _meta(doc, "Service", namespaced=True)
    spec = _mapping(obj, "spec", doc.get("spec"), required=True)
    status = _mapping(obj, "status", doc.get("status"))
    lb = _mapping(obj, "status.loadBalancer", status.get("loadBalancer"))
    ingress = _list(obj, "status.loadBalancer.ingress", lb.get("ingress"))
    lb_ip = ingress[0].get("ip") if ingress and isinstance(ingress[0], Mapping) else None
    affinity = _mapping(obj, "spec.sessionAffinityConfig", spec.get("sessionAffinityConfig"))
    client_ip = _mapping(obj, "spec.sessionAffinityConfig.clientIP", affinity.get("clientIP"))
    selector = spec.get("selector")
    if selector is not None:
        selector = dict(_mapping(obj, "spec.selector", selector))
    ports = _list(obj, "spec.ports", spec.get("ports"))
    cluster_ip = spec.get("clusterIP")
    svc = build_service(
        cluster, f"{ns}/{name}", type=spec.get("type", "ClusterIP"), ports=ports,
        selector=selector, cluster_ip=cluster_ip, labels=labels,
        session_affinity=spec.get("sessionAffinity", "None"),
        affinity_timeout=client_ip.get("timeoutSeconds", 10800),
        external_traffic_policy=spec.get("externalTrafficPolicy"),
        internal_traffic_policy=spec.get("internalTrafficPolicy", "Cluster"),
        external_name=spec.get("externalName"), load_balancer_ip=lb_ip,
    )
    cluster._store_service(svc)
    return cluster._services[svc.ref]


def _apply_network_policy(cluster: Cluster, doc: Mapping[str, Any]):
    from kubenet_lab.engines.policy import network_policy_from_manifest

    policy = network_policy_from_manifest(doc)
    cluster.namespace(policy.namespace)
    return cluster._set_policy(policy)


def _apply_admin_policy(cluster: Cluster, doc: Mapping[str, Any]):
    from kubenet_lab.engines.policy import admin_policy_from_manifest

    return cluster._set_policy(admin_policy_from_manifest(doc))


def _apply_config_map(cluster: Cluster, doc: Mapping[str, Any]):
    """A ConfigMap: stored; ``kube-system/ip-masq-agent``'s ``config`` key is what
    ip-masq-agent reads (engines.cloud, facts sheet §4.1)."""
    from kubenet_lab.engines.cloud import parse_ip_masq_config
    from kubenet_lab.model.cloud import ConfigMap

    obj, ns, name, _ = _meta(doc, "ConfigMap", namespaced=True)
    data = dict(_mapping(obj, "data", doc.get("data")))
    for key, value in data.items():
        if not isinstance(value, str):
            raise ManifestError(obj, f"data.{key}", value, "is not a string",
                                fix="quote the value; ConfigMap data values are strings")
    cluster.namespace(ns)
    entry: dict[str, Any] = {"data": data}
    if (ns, name) == ("kube-system", "ip-masq-agent"):
        entry["parsed"] = parse_ip_masq_config(obj, data.get("config", ""))
    cluster._config_maps[f"{ns}/{name}"] = entry
    cluster._changed()
    return ConfigMap(ns, name, dict(sorted(data.items())))


def _apply_ingress(cluster: Cluster, doc: Mapping[str, Any]):
    from kubenet_lab.engines.ingress import ingress_from_manifest

    ing = ingress_from_manifest(cluster, doc)
    cluster._ingresses[ing.ref] = ing
    cluster._changed()
    return ing


def _apply_ingress_class(cluster: Cluster, doc: Mapping[str, Any]):
    from kubenet_lab.model.ingress import IngressClass

    obj, _, name, _ = _meta(doc, "IngressClass", namespaced=False)
    spec = _mapping(obj, "spec", doc.get("spec"))
    controller = spec.get("controller")
    if not isinstance(controller, str) or "/" not in controller:
        raise ManifestError(obj, "spec.controller", controller,
                            "Required value: a domain-prefixed path",
                            fix="e.g. controller: k8s.io/ingress-nginx")
    notes = (doc.get("metadata") or {}).get("annotations") or {}
    default = notes.get("ingressclass.kubernetes.io/is-default-class") == "true"
    cls = IngressClass(name, controller, default)
    cluster._ingress_classes[name] = cls
    cluster._changed()
    return cls


_HANDLERS = {
    ("networking.k8s.io/v1", "Ingress"): _apply_ingress,
    ("networking.k8s.io/v1", "IngressClass"): _apply_ingress_class,
    ("v1", "ConfigMap"): _apply_config_map,
    ("v1", "Namespace"): _apply_namespace,
    ("v1", "Node"): _apply_node,
    ("v1", "Pod"): _apply_pod,
    ("apps/v1", "Deployment"): _apply_deployment,
    ("v1", "Service"): _apply_service,
    ("networking.k8s.io/v1", "NetworkPolicy"): _apply_network_policy,
    ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"): _apply_admin_policy,
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"): _apply_admin_policy,
    ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy"): _apply_admin_policy,
}
