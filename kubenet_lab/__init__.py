"""kubenet_lab: a simulated Kubernetes cluster to see how its networking works.

>>> import kubenet_lab as kl
>>> c = kl.Cluster(workers=2)
>>> c.add_pod("default/a", node="node-1").ip
'10.244.1.2'
"""

from kubenet_lab.course import *  # noqa: F403
from kubenet_lab.exceptions import *  # noqa: F403
from kubenet_lab.exercises import *  # noqa: F403
from kubenet_lab.model import *  # noqa: F403
from kubenet_lab.scenarios import *  # noqa: F403
from kubenet_lab.views.html import *  # noqa: F403
from kubenet_lab.views.network import *  # noqa: F403
from kubenet_lab.views.pictures import *  # noqa: F403
from kubenet_lab.views.policy import *  # noqa: F403
from kubenet_lab.views.services import *  # noqa: F403
from kubenet_lab.views.text import *  # noqa: F403

__version__ = "0.1.0"

# The widgets need ipywidgets (and IPython), which take most of a second to import;
# they are loaded on first use so that ``import kubenet_lab`` stays fast.
_LAZY = {"TraceExplorer": "kubenet_lab.views.widgets", "TraceStepper": "kubenet_lab.views.widgets",
         "PolicyPlayground": "kubenet_lab.views.policy_widgets"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kubenet_lab' has no attribute {name!r}")

__all__ = [
    "AddressExhaustedError",
    "AdminPeer",
    "AdminPolicy",
    "AdminPort",
    "AdminRule",
    "BROKEN_CLUSTERS",
    "CNI_PLUGINS",
    "CONTAINER_RUNTIME",
    "CONTROL_PLANE_TAINT",
    "Change",
    "Check",
    "Cluster",
    "CniComparison",
    "CniComparisonRow",
    "ConfigMap",
    "ConflictError",
    "Container",
    "ContainerPort",
    "Deployment",
    "Endpoint",
    "EndpointSlice",
    "EnvironmentReport",
    "Ethernet",
    "Exercise",
    "Explanation",
    "Feedback",
    "Flow",
    "Hop",
    "IPBlock",
    "IPv4",
    "Ingress",
    "IngressBackend",
    "IngressClass",
    "IngressPath",
    "IngressRule",
    "IngressTLS",
    "Interface",
    "KERNEL_VERSION",
    "KUBERNETES_VERSION",
    "KubenetLabError",
    "LabelSelector",
    "Layer",
    "LoadBalancer",
    "Location",
    "ManifestError",
    "NETWORK_POLICY_AGENTS",
    "NODE_PORTS",
    "NOT_ANSWERED",
    "Namespace",
    "NatGateway",
    "NetworkModelReport",
    "NetworkPolicy",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "NetworkPolicyRule",
    "Node",
    "NotFoundError",
    "OS_IMAGE",
    "Packet",
    "Pod",
    "PolicyPlayground",
    "Problem",
    "Reachability",
    "Requirement",
    "Route",
    "RuleCheck",
    "SCTP",
    "Service",
    "ServicePort",
    "Subnet",
    "TCP",
    "Taint",
    "Toleration",
    "Trace",
    "TraceExplorer",
    "TraceStepper",
    "TrafficReport",
    "UDP",
    "UnschedulableError",
    "UnsupportedKindError",
    "VXLAN",
    "Verdict",
    "Vpc",
    "__version__",
    "broken_cluster",
    "cluster_layout",
    "compare_cni_plugins",
    "draw_chain_walk",
    "draw_cluster",
    "draw_internet_traffic",
    "draw_load_balancing",
    "draw_network_model",
    "draw_pod",
    "draw_reachability",
    "draw_trace",
    "draw_traffic",
    "environment_report",
    "exercise",
    "healthy_cluster",
    "hop_html",
    "hop_text",
    "human_bytes",
    "kubectl_command",
    "kubectl_get_ingresses",
    "kubectl_get_networkpolicies",
    "kubectl_get_nodes",
    "kubectl_get_pods",
    "kubectl_get_services",
    "network_model_html",
    "network_model_text",
    "reachability_html",
    "reachability_text",
    "trace_html",
    "trace_text",
    "traffic_text",
]
