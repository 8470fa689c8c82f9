"""The EndpointSlice controller: a Service's endpoints, derived from the pods each time
they are asked for (cached per Store generation), so they never go stale.

Endpoints (facts sheet §2.3, §2.4) are ready pods of the Service's namespace whose labels
match the selector; a named ``targetPort`` is looked up per pod among its container
ports (same name and protocol); a pod without it is not an endpoint of that port.
``default/kubernetes`` has no selector: the API server maintains its endpoint (the
control-plane node's IP, port 6443).

A Service with ``publishNotReadyAddresses: true`` publishes every selected pod as ready
(pkg/controller/endpointslice: ``ready := service.Spec.PublishNotReadyAddresses ||
podutil.IsPodReady(pod)``). A Service with ``trafficDistribution`` (``PreferClose``,
``PreferSameZone``, ``PreferSameNode``) gets topology hints on each ready endpoint, as
k8s.io/endpointslice ``trafficdist.preferCloseHeuristic`` writes them: ``forZones`` the
endpoint's own zone (when its node has a ``topology.kubernetes.io/zone`` label) and, for
``PreferSameNode`` only, ``forNodes`` its own node (``endpoint_hints``).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.service import APISERVER_PORT
from kubenet_lab.model.names import SAFE_ALPHABET
from kubenet_lab.model.service import (
    TRAFFIC_DISTRIBUTIONS,
    ZONE_LABEL,
    Endpoint,
    EndpointSlice,
    Service,
    ServicePort,
)

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["endpoint_hints", "endpoint_slices", "listening_container", "node_zone",
           "service_endpoints", "slice_name"]


def _label_index(view: StoreView) -> dict[tuple[str, str, str], list[str]]:
    """(namespace, key, value) -> pod refs, in the cluster's pod order."""
    def build() -> dict[tuple[str, str, str], list[str]]:
        index: dict[tuple[str, str, str], list[str]] = {}
        for pod in view.pods:
            for k, v in pod.labels.items():
                index.setdefault((pod.namespace, k, v), []).append(pod.ref)
        return index

    return view.cached("service-label-index", build)


def _selected(view: StoreView, svc: Service) -> list[Any]:
    if not svc.selector:
        return []
    index = _label_index(view)
    sets = [index.get((svc.namespace, k, v), []) for k, v in svc.selector.items()]
    smallest = min(sets, key=len)
    others = [set(s) for s in sets if s is not smallest]
    return [view.pod(r) for r in smallest if all(r in o for o in others)]


def listening_container(view: StoreView, pod: Any, port: int, protocol: str) -> str | None:
    """The container of ``pod`` with a socket on ``port``/``protocol``, or None.

    A container listens on the ports it declares (``Pod.listener``). ``ports`` is
    informational in Kubernetes, and real manifests often declare none (the Gateway API
    conformance backends do not): a pod whose containers declare no port at all is
    taken to listen, in its first running container, on the numeric ``targetPort`` of
    every Service that selects it.
    """
    container = pod.listener(port, protocol)
    if container is not None or any(c.ports for c in pod.containers):
        return container
    running = [c.name for c in pod.containers if c.name not in pod.crashing]
    if not running:
        return None
    for svc in view.services:
        if svc.namespace == pod.namespace and svc.selector and all(
                pod.labels.get(k) == v for k, v in svc.selector.items()):
            if any(sp.target_port == port and sp.protocol == protocol for sp in svc.ports):
                return running[0]
    return None


def _target_port(pod: Any, sp: ServicePort) -> int | None:
    if isinstance(sp.target_port, int):
        return sp.target_port
    for container in pod.containers:
        for p in container.ports:
            if p.name == sp.target_port and p.protocol == sp.protocol:
                return p.container_port
    return None


def node_zone(view: StoreView, node: str) -> str | None:
    """The ``topology.kubernetes.io/zone`` label of a node (None without one): the
    EndpointSlice controller copies it into each endpoint's ``zone``."""
    return view.node(node).labels.get(ZONE_LABEL) if view.has_node(node) else None


def endpoint_hints(view: StoreView, svc: Service, node: str, ready: bool = True
                   ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(forZones, forNodes)`` of one endpoint on ``node``: trafficdist.go
    ``preferCloseHeuristic.update`` for a ready endpoint of a Service whose
    ``trafficDistribution`` is PreferClose, PreferSameZone or PreferSameNode (node hints
    for PreferSameNode only); no hints otherwise (``defaultHeuristic``)."""
    if not ready or svc.traffic_distribution not in TRAFFIC_DISTRIBUTIONS:
        return (), ()
    zone = node_zone(view, node)
    return ((zone,) if zone else (),
            (node,) if svc.traffic_distribution == "PreferSameNode" else ())


def service_endpoints(view: StoreView, svc: Service, sp: ServicePort
                      ) -> tuple[tuple[str, int, str, str], ...]:
    """Ready endpoints of one Service port as kube-proxy orders them: sorted by
    address *string* (EndpointSliceCache ``byAddress``, facts §1.3).

    Each entry is ``(ip, port, node, target)``; ``target`` is ``"Pod ns/name"`` or
    ``"Node name"``.
    """
    # What the list depends on: Services that select the same pods to the same target
    # port share one (ten Services of one Deployment, 150 endpoints each, are one list)
    key: tuple[Any, ...] = ("service-endpoints", svc.ref, sp.name, sp.protocol, sp.port)
    if svc.selector and svc.type != "ExternalName":
        key = ("service-endpoints-of", svc.namespace, tuple(sorted(svc.selector.items())),
               svc.publish_not_ready_addresses, sp.target_port, sp.protocol)

    def build() -> tuple[tuple[str, int, str, str], ...]:
        if svc.type == "ExternalName":
            return ()
        if svc.selector is None and svc.ref == "default/kubernetes":
            cp = view.control_plane()
            return ((cp.ip, APISERVER_PORT, cp.name, f"Node {cp.name}"),)
        out = []
        for pod in _selected(view, svc):
            if not (pod.ready or svc.publish_not_ready_addresses):
                continue
            port = _target_port(pod, sp)
            if port is not None:
                out.append((pod.ip, port, pod.node, f"Pod {pod.ref}"))
        out.sort(key=lambda e: e[0])
        return tuple(out)

    return view.cached(key, build)


def endpoint_slices(view: StoreView, svc: Service) -> list[EndpointSlice]:
    """The Service's EndpointSlices: pods grouped by the port numbers they resolve to.

    Not-ready pods are listed with ``ready=False`` (the controller publishes them;
    kube-proxy skips them), unless the Service sets ``publishNotReadyAddresses``.
    """
    if svc.type == "ExternalName" or (svc.selector is None and svc.ref != "default/kubernetes"):
        return []
    if svc.selector is None:
        cp = view.control_plane()
        return [EndpointSlice(svc.namespace, slice_name(svc, 0), svc.ref,
                              (("https", APISERVER_PORT, "TCP"),),
                              (Endpoint(cp.ip, cp.name, f"Node {cp.name}"),))]
    groups: dict[tuple[tuple[str | None, int, str], ...], list[Endpoint]] = {}
    for pod in _selected(view, svc):
        ports = []
        for sp in svc.ports:
            port = _target_port(pod, sp)
            if port is not None:
                ports.append((sp.name, port, sp.protocol))
        ready = pod.ready or svc.publish_not_ready_addresses
        zones, nodes = endpoint_hints(view, svc, pod.node, ready)
        groups.setdefault(tuple(ports), []).append(
            Endpoint(pod.ip, pod.node, f"Pod {pod.ref}", ready, node_zone(view, pod.node),
                     zones, nodes))
    return [EndpointSlice(svc.namespace, slice_name(svc, i), svc.ref, ports,
                          tuple(sorted(eps, key=lambda e: e.address)))
            for i, (ports, eps) in enumerate(sorted(groups.items(), key=lambda kv: repr(kv[0])))]


def slice_name(svc: Service, index: int) -> str:
    """The name of a Service's ``index``-th slice: the controller's ``generateName``
    ``<service>-`` and five characters of apimachinery's alphabet (drawn at random by the
    API server; derived from the Service and the index in the lab, so it stays the same)."""
    if svc.selector is None:  # the API server's own slice of default/kubernetes
        return svc.name
    digest = hashlib.sha256(f"{svc.ref}#{index}".encode()).hexdigest()
    return f"{svc.name}-" + "".join(SAFE_ALPHABET[int(ch, 16)] for ch in digest[:5])
