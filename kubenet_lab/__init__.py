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

__version__ = "0.1.0"

__all__ = [
    "AddressExhaustedError",
    "CNI_PLUGINS",
    "CONTROL_PLANE_TAINT",
    "Change",
    "Check",
    "Cluster",
    "ConflictError",
    "Container",
    "ContainerPort",
    "Deployment",
    "EnvironmentReport",
    "Ethernet",
    "Exercise",
    "Feedback",
    "Hop",
    "IPv4",
    "Interface",
    "KubenetLabError",
    "Layer",
    "Location",
    "ManifestError",
    "NODE_PORTS",
    "NOT_ANSWERED",
    "Namespace",
    "Node",
    "NotFoundError",
    "Packet",
    "Pod",
    "Requirement",
    "Route",
    "SCTP",
    "Subnet",
    "TCP",
    "Taint",
    "Toleration",
    "Trace",
    "UDP",
    "UnschedulableError",
    "UnsupportedKindError",
    "VXLAN",
    "Vpc",
    "__version__",
    "environment_report",
    "exercise",
]
