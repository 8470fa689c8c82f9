"""kubenet_lab: a simulated Kubernetes cluster to see how its networking works.

>>> import kubenet_lab as kl
>>> c = kl.Cluster(workers=2)
>>> c.add_pod("default/a", node="node-1").ip
'10.244.1.2'

Every public name is here, in one flat namespace (``kl.Cluster``, ``kl.draw_trace``, ...),
whichever module of the layers holds it (``_EXPORTS`` says which). A module is imported
the first time one of its names is used, so ``import kubenet_lab`` itself is quick and
a lesson pays only for what it uses (widgets, for instance, need ipywidgets and IPython,
which take most of a second to import).
"""

from __future__ import annotations

import importlib
from typing import Any as _Any

__version__ = "0.1.0"

#: Public name -> the module (under ``kubenet_lab.``) that defines it.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "capstone": ("CAPSTONE_FAULTS", "ShopCheck", "ShopReport", "capstone_cluster", "check_shop",),
    "cluster": ("CNI_PLUGINS", "Cluster", "NETWORK_POLICY_AGENTS",),
    "course": ("EnvironmentReport", "Requirement", "environment_report",),
    "dataplane.runtime": ("Runtime",),
    "exceptions": (
        "AddressExhaustedError", "ConflictError", "KubenetLabError", "LinuxUnavailableError",
        "ManifestError",
        "NotFoundError", "ProgressFileError", "UnschedulableError", "UnsupportedKindError",
    ),
    "analysis.kube_proxy_size": ("kube_proxy_size",),
    "exercises": ("NOT_ANSWERED", "exercise", "exercise_list",),
    "exercises.base": ("Check", "Exercise", "Feedback",),
    "exercises.progress": ("Progress", "progress", "reset_progress",),
    "model.cloud": ("ConfigMap", "LoadBalancer", "NatGateway", "Subnet", "Vpc",),
    "model.config": ("ClusterConfig",),
    "model.deployment": ("Deployment",),
    "model.kube_proxy_size": ("KubeProxySize",),
    "model.ingress": (
        "Ingress", "IngressBackend", "IngressClass", "IngressPath", "IngressRule", "IngressTLS",
    ),
    "model.namespace": ("Namespace",),
    "model.networkpolicy": (
        "AdminPeer", "AdminPolicy", "AdminPort", "AdminRule", "Explanation", "IPBlock",
        "LabelSelector", "NetworkPolicy", "NetworkPolicyPeer", "NetworkPolicyPort",
        "NetworkPolicyRule", "Reachability", "Verdict",
    ),
    "model.node": (
        "CONTAINER_RUNTIME", "CONTROL_PLANE_TAINT", "KERNEL_VERSION", "KUBERNETES_VERSION",
        "NODE_PORTS", "Node", "OS_IMAGE", "Taint",
    ),
    "model.packet": (
        "Change", "Ethernet", "IPv4", "Layer", "Packet", "SCTP", "TCP", "UDP", "VXLAN",
        "packet_changes",
    ),
    "model.pod": ("Container", "ContainerPort", "Pod", "Toleration",),
    "model.route": ("Interface", "Route",),
    "model.service": ("Endpoint", "EndpointSlice", "Service", "ServicePort",),
    "model.store": ("Snapshot", "Store", "StoreView",),
    "model.trace": ("Hop", "Location", "Trace",),
    "model.traffic": ("Flow", "TrafficReport",),
    "model.verification": ("NetworkModelReport", "Problem", "RuleCheck",),
    "scenarios": (
        "BROKEN_CLUSTERS", "CniComparison", "CniComparisonRow", "broken_cluster",
        "compare_cni_plugins", "healthy_cluster", "scale_cluster", "scale_manifests",
    ),
    "tools.kubectl": (
        "human_duration", "kubectl_command", "kubectl_describe", "kubectl_get_endpointslices",
        "kubectl_get_gateway_api",
        "kubectl_get_ingresses", "kubectl_get_networkpolicies", "kubectl_get_nodes",
        "kubectl_get_pods", "kubectl_get_services", "kubectl_get_yaml",
    ),
    "views.gateway": ("draw_canary", "draw_gateway", "draw_gateway_roles",),
    "views.html": ("hop_html", "network_model_html", "trace_html",),
    "views.network": ("draw_network_model", "draw_traffic", "human_bytes",),
    "views.pictures": ("cluster_layout", "draw_cluster", "draw_pod", "draw_trace",),
    "views.policy": ("draw_reachability", "reachability_html", "reachability_text",),
    "views.policy_widgets": ("PolicyPlayground",),
    "views.services": (
        "draw_chain_walk", "draw_internet_traffic", "draw_kube_proxy_growth",
        "draw_kube_proxy_scaling", "draw_load_balancing", "kube_proxy_scaling",
    ),
    "views.text": ("hop_text", "network_model_text", "trace_text", "traffic_text",),
    "views.widgets": ("TraceExplorer", "TraceStepper",),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> _Any:
    if name == "linux":  # the lab on the real kernel (kubenet_lab.linux), on first use
        return importlib.import_module("kubenet_lab.linux")
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'kubenet_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"kubenet_lab.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = sorted([*_WHERE, "__version__"])
