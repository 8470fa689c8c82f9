"""Services and EndpointSlices, named and shaped as in the Kubernetes API (core/v1,
discovery.k8s.io/v1).

A ``Service`` is stored in the cluster; its ``EndpointSlice``s are derived from the
pods (the EndpointSlice controller's job) each time they are asked for, so they can
never go stale. Facts sheet §2 lists the API server's rules that these records follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubenet_lab.model.arguments import check_fields, checked

__all__ = ["Endpoint", "EndpointSlice", "Service", "ServicePort"]

#: ``spec.type`` values.
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
#: ``spec.trafficDistribution`` values (core/v1 types.go; ``PreferSameZone`` and
#: ``PreferSameNode`` GA in v1.35, KEP-3015; ``PreferClose`` is the older name of
#: ``PreferSameZone`` and is handled the same way).
TRAFFIC_DISTRIBUTIONS = ("PreferClose", "PreferSameNode", "PreferSameZone")
#: ``topology.kubernetes.io/zone``, the label kube-proxy and the EndpointSlice controller
#: read a node's zone from (``v1.LabelTopologyZone``).
ZONE_LABEL = "topology.kubernetes.io/zone"


@checked
@dataclass(frozen=True, slots=True)
class ServicePort:
    """``spec.ports[]``: ``port`` on the cluster IP, ``target_port`` on the pods (a
    number or the *name* of a container port, resolved per pod), ``node_port`` on
    every node for NodePort and LoadBalancer Services."""

    port: int
    target_port: int | str
    protocol: str = "TCP"
    name: str | None = None
    node_port: int | None = None
    app_protocol: str | None = None

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True)
class Service:
    """A Service.

    ``cluster_ip`` is None for a headless Service (``clusterIP: None``) and for
    ExternalName. ``load_balancer_ip`` is ``status.loadBalancer.ingress[0].ip`` when a
    manifest gives one (without a cloud controller it stays pending, as on kubeadm).
    ``traffic_distribution`` is ``spec.trafficDistribution`` (None, or one of
    ``TRAFFIC_DISTRIBUTIONS``); ``ip_family_policy`` is ``spec.ipFamilyPolicy`` as the API
    server stored it (``SingleStack`` or ``PreferDualStack``: the lab's clusters are
    single-stack IPv4; ``RequireDualStack`` only for a headless Service without a
    selector); ``publish_not_ready_addresses`` publishes not-ready pods as ready.

    Examples
    --------
    >>> c = kl.Cluster()
    >>> svc = c.service("default/kubernetes")
    >>> svc.cluster_ip, svc.ports[0].name, svc.ports[0].port, svc.ports[0].target_port
    ('10.96.0.1', 'https', 443, 6443)
    """

    namespace: str
    name: str
    type: str = "ClusterIP"
    cluster_ip: str | None = None
    ports: tuple[ServicePort, ...] = ()
    selector: dict[str, str] | None = field(default=None, hash=False)
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    session_affinity: str = "None"
    affinity_timeout: int = 10800
    external_traffic_policy: str = "Cluster"
    internal_traffic_policy: str = "Cluster"
    external_name: str | None = None
    load_balancer_ip: str | None = None
    health_check_node_port: int | None = None
    traffic_distribution: str | None = None
    ip_family_policy: str = "SingleStack"
    publish_not_ready_addresses: bool = False

    @property
    def ref(self) -> str:
        """``"namespace/name"``."""
        return f"{self.namespace}/{self.name}"

    @property
    def headless(self) -> bool:
        """``clusterIP: None``: no virtual IP; DNS returns the pods' addresses."""
        return self.type != "ExternalName" and self.cluster_ip is None

    def port_name(self, port: ServicePort) -> str:
        """kube-proxy's ``ServicePortName``: ``ns/name:port`` (``ns/name`` if unnamed)."""
        return f"{self.ref}:{port.name}" if port.name else self.ref


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint of an EndpointSlice: a pod's address, the node it runs on, its
    readiness (``conditions.ready``), its ``zone`` (the node's
    ``topology.kubernetes.io/zone``) and its ``hints``: ``for_zones`` and ``for_nodes``,
    which the EndpointSlice controller sets for a Service with a ``trafficDistribution``
    (k8s.io/endpointslice ``trafficdist``)."""

    address: str
    node: str
    target: str
    ready: bool = True
    zone: str | None = None
    for_zones: tuple[str, ...] = ()
    for_nodes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EndpointSlice:
    """``discovery.k8s.io/v1`` EndpointSlice: endpoints that share one set of ports.

    Pods that resolve a named ``targetPort`` to different numbers land in different
    slices, as the EndpointSlice controller groups them.
    """

    namespace: str
    name: str
    service: str
    ports: tuple[tuple[str | None, int, str], ...]
    endpoints: tuple[Endpoint, ...]

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"
