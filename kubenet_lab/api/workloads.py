"""Namespaces and Deployments as the API server validates them.

>>> decode_namespace({"metadata": {"name": "shop", "labels": {"team": "a"}}}).labels
{'kubernetes.io/metadata.name': 'shop', 'team': 'a'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import check_dns_label, check_labels, mapping, meta
from kubenet_lab.api.meta import labelled
from kubenet_lab.api.pod import check_containers, decode_containers, decode_tolerations, pod_spec
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.deployment import Deployment
from kubenet_lab.model.namespace import Namespace

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["build_namespace", "decode_deployment", "decode_namespace", "encode_deployment",
           "encode_namespace"]


def build_namespace(name: str, labels: Mapping[str, str] | None = None) -> Namespace:
    """A namespace; the label ``kubernetes.io/metadata.name`` is always set to the name."""
    check_dns_label(f"Namespace {name}", "metadata.name", name)
    checked = check_labels(f"Namespace {name}", "metadata.labels", dict(labels or {}))
    checked["kubernetes.io/metadata.name"] = name
    return Namespace(name, dict(sorted(checked.items())))


def decode_namespace(doc: Mapping[str, Any]) -> Namespace:
    """A v1 Namespace manifest."""
    _, _, name, labels = meta(doc, "Namespace", namespaced=False, name_rule=check_dns_label)
    return build_namespace(name, labels)


def decode_deployment(store: StoreView, doc: Mapping[str, Any]) -> Deployment:
    """An apps/v1 Deployment manifest: the selector must match the template's labels."""
    obj, ns, name, _ = meta(doc, "Deployment", namespaced=True)
    store.namespace(ns)
    spec = mapping(obj, "spec", doc.get("spec"), required=True)
    replicas = spec.get("replicas")
    replicas = 1 if replicas is None else replicas  # defaulting: apps/v1 defaults.go
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise ManifestError(obj, "spec.replicas", replicas, "must be a whole number >= 0")
    selector = mapping(obj, "spec.selector", spec.get("selector"), required=True)
    match = check_labels(obj, "spec.selector.matchLabels",
                         dict(mapping(obj, "spec.selector.matchLabels",
                                      selector.get("matchLabels"), required=True)))
    template = mapping(obj, "spec.template", spec.get("template"), required=True)
    tmeta = mapping(obj, "spec.template.metadata", template.get("metadata"))
    tlabels = check_labels(obj, "spec.template.metadata.labels", dict(mapping(
        obj, "spec.template.metadata.labels", tmeta.get("labels"))))
    if any(tlabels.get(k) != v for k, v in match.items()):
        raise ManifestError(
            obj, "spec.template.metadata.labels", tlabels,
            "Invalid value: `selector` does not match template `labels`",
            fix="give the template every label of spec.selector.matchLabels",
        )
    tspec = mapping(obj, "spec.template.spec", template.get("spec"), required=True)
    containers = decode_containers(obj, "spec.template.spec.containers", tspec.get("containers"))
    check_containers(obj, containers, "spec.template.spec.containers")
    return Deployment(
        ns, name, replicas, dict(sorted(match.items())), dict(sorted(tlabels.items())),
        tuple(containers), decode_tolerations(obj, "spec.template.spec.tolerations",
                                              tspec.get("tolerations")),
    )


def encode_namespace(view: StoreView, ns: Namespace) -> dict[str, Any]:
    """A namespace as ``kubectl get namespace -o yaml`` shows it: its labels and the
    ``kubernetes`` finalizer the API server gives every namespace
    (pkg/registry/core/namespace/strategy.go ``PrepareForCreate``).

    >>> encode_namespace(None, decode_namespace({"metadata": {"name": "shop"}}))["spec"]
    {'finalizers': ['kubernetes']}
    """
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": labelled(ns.labels),
            "spec": {"finalizers": ["kubernetes"]}}


def encode_deployment(view: StoreView, dep: Deployment) -> dict[str, Any]:
    """A Deployment's spec as the API server stores it (``decode_deployment`` reads it
    back): replicas, selector and the pod template (``api.pod.pod_spec``). The defaults
    of what the lab does not model (``strategy``, ``revisionHistoryLimit``,
    ``progressDeadlineSeconds``) are left out.

    >>> c = kl.Cluster()
    >>> spec = encode_deployment(c.store, c.deployment("kube-system/coredns"))["spec"]
    >>> spec["replicas"], spec["selector"], spec["template"]["metadata"]
    (2, {'matchLabels': {'k8s-app': 'kube-dns'}}, {'labels': {'k8s-app': 'kube-dns'}})
    """
    return {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {
        "replicas": dep.replicas, "selector": {"matchLabels": dict(dep.selector)},
        "template": {"metadata": {"labels": dict(dep.template_labels)},
                     "spec": pod_spec(dep.containers, dep.tolerations)}}}
