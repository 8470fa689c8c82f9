"""The model: plain records named as in Kubernetes, and the ``Store`` that holds them."""

from kubenet_lab.model.cloud import *  # noqa: F403
from kubenet_lab.model.config import *  # noqa: F403
from kubenet_lab.model.deployment import *  # noqa: F403
from kubenet_lab.model.ingress import *  # noqa: F403
from kubenet_lab.model.namespace import *  # noqa: F403
from kubenet_lab.model.networkpolicy import *  # noqa: F403
from kubenet_lab.model.node import *  # noqa: F403
from kubenet_lab.model.packet import *  # noqa: F403
from kubenet_lab.model.pod import *  # noqa: F403
from kubenet_lab.model.route import *  # noqa: F403
from kubenet_lab.model.service import *  # noqa: F403
from kubenet_lab.model.store import *  # noqa: F403
from kubenet_lab.model.trace import *  # noqa: F403
from kubenet_lab.model.traffic import *  # noqa: F403
from kubenet_lab.model.verification import *  # noqa: F403
