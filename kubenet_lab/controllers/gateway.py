"""The Gateway controller: Envoy Gateway v1.9 (envoyproxy/gateway, Envoy 1.39,
Gateway API v1.6.1), as ``Cluster.add_gateway_controller`` installs it.

- The control plane: namespace ``envoy-gateway-system``, Deployment and Service
  ``envoy-gateway``, and the GatewayClass ``eg`` whose ``controllerName`` is
  ``gateway.envoyproxy.io/gatewayclass-controller`` (EG examples/kubernetes/quickstart.yaml).
- For each Gateway of a class with that controllerName, the data plane, in
  ``envoy-gateway-system``: a Deployment (one replica) and a Service named
  ``envoy-<namespace>-<name>-<hash>`` (EG internal/infrastructure/kubernetes/proxy/
  resource.go ``ExpectedResourceHashedName``: the first 8 hex digits of the SHA-256 of
  ``"<namespace>/<name>"``), the Service of type LoadBalancer with
  ``externalTrafficPolicy: Local``, one port per listener port, named
  ``<protocol>-<port>``; a privileged listener port (< 1024) maps to the container port
  + 10000 (80 -> 10080; EG internal/gatewayapi/translator.go ``wellKnownPortShift``).
- The Gateway gets the Service's load-balancer address in ``status.addresses`` and is
  ``Programmed`` once it has one (``kubenet_lab.controllers.gateway_status``).

The lab's one liberty: the envoy container declares its listener ports (``http-80`` on
10080...) besides ``metrics`` 19001 and ``readiness`` 19003, because a container in the
lab listens on what it declares; Envoy Gateway declares only the last two, and Envoy
binds the listener ports from its xDS configuration.

Examples
--------
>>> from kubenet_lab.controllers.gateway import envoy_name
>>> envoy_name("default", "eg")
'envoy-default-eg-e41e7b31'
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING

from kubenet_lab.api.service import build_service
from kubenet_lab.api.workloads import build_namespace
from kubenet_lab.controllers.replicaset import set_deployment
from kubenet_lab.controllers.services import delete_service, store_service
from kubenet_lab.exceptions import ConflictError
from kubenet_lab.model.deployment import Deployment
from kubenet_lab.model.gateway import Gateway, GatewayClass, Listener
from kubenet_lab.model.pod import Container, ContainerPort

if TYPE_CHECKING:
    from kubenet_lab.model.service import Service
    from kubenet_lab.model.store import Store, StoreView

__all__ = ["ADDON", "CLASS_NAME", "CONTROLLER_NAME", "ENVOY_IMAGE", "NAMESPACE",
           "add_controller", "container_port", "envoy_name", "envoy_service",
           "owned", "reconcile"]

CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
ADDON = "envoy-gateway"
NAMESPACE = "envoy-gateway-system"
CLASS_NAME = "eg"
IMAGE = "docker.io/envoyproxy/gateway:v1.9.0"
ENVOY_IMAGE = "docker.io/envoyproxy/envoy:distroless-v1.39.0"
#: EG's ports: the xDS server, rate limit, Wasm, metrics (charts/gateway-helm values).
CONTROL_PLANE_PORTS = (("grpc", 18000), ("ratelimit", 18001), ("wasm", 18002),
                       ("metrics", 19001))
#: The envoy container's own ports (proxy/resource.go).
ENVOY_PORTS = (("metrics", 19001), ("readiness", 19003))
#: Listener protocols Envoy Gateway serves (listener.go); others are UnsupportedProtocol.
PROTOCOLS = ("HTTP", "HTTPS", "TLS", "TCP", "UDP")


def envoy_name(namespace: str, name: str) -> str:
    """The name of a Gateway's envoy Deployment and Service (EG ``GetHashedName``)."""
    key = f"{namespace}/{name}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    base = key.replace("/", "-")
    if len(base) > 48:
        base = base[:48].rstrip("-")
    return f"envoy-{base}-{digest}"


def container_port(port: int) -> int:
    """The envoy container port of a listener port: privileged ports move up by 10000."""
    return port + 10000 if port < 1024 else port


def owned(view: StoreView, gateway: Gateway) -> bool:
    """Is ``gateway`` of a class this controller implements (and is it running)?"""
    cls = view.find("GatewayClass", gateway.gateway_class_name)
    return (view.has_addon(ADDON) and cls is not None
            and cls.controller_name == CONTROLLER_NAME)


def envoy_service(view: StoreView, gateway: Gateway) -> Service | None:
    """The envoy LoadBalancer Service of a Gateway, or None."""
    ref = f"{NAMESPACE}/{envoy_name(gateway.namespace, gateway.name)}"
    return view.service(ref) if view.has_service(ref) else None


def _labels(gateway: Gateway) -> dict[str, str]:
    return {"app.kubernetes.io/component": "proxy",
            "app.kubernetes.io/managed-by": "envoy-gateway",
            "app.kubernetes.io/name": "envoy",
            "gateway.envoyproxy.io/owning-gateway-name": gateway.name,
            "gateway.envoyproxy.io/owning-gateway-namespace": gateway.namespace}


def _served(listeners: tuple[Listener, ...]) -> list[tuple[str, int]]:
    """``(protocol, port)`` of each listener port the data plane opens, once per port."""
    seen: dict[int, str] = {}
    for lst in listeners:
        if lst.protocol in PROTOCOLS:
            seen.setdefault(lst.port, lst.protocol)
    return sorted(((proto, port) for port, proto in seen.items()), key=lambda p: p[1])


def _infrastructure(store: Store, gateway: Gateway) -> None:
    """Create or update the envoy Deployment and Service of ``gateway``."""
    name = envoy_name(gateway.namespace, gateway.name)
    labels = _labels(gateway)
    served = _served(gateway.listeners)
    ports = tuple(ContainerPort(container_port(port), f"{proto.lower()}-{port}",
                                "UDP" if proto == "UDP" else "TCP") for proto, port in served)
    envoy = Container("envoy", ENVOY_IMAGE, ports + tuple(
        ContainerPort(number, port_name) for port_name, number in ENVOY_PORTS))
    dep = Deployment(NAMESPACE, name, 1, dict(labels), dict(labels),
                     (envoy, Container("shutdown-manager", IMAGE)))
    old = store.find("Deployment", dep.ref)
    if old is None or replace(old, template_hash="") != dep:
        set_deployment(store, dep)
    svc = build_service(
        store, f"{NAMESPACE}/{name}", type="LoadBalancer", selector=labels, labels=labels,
        external_traffic_policy="Local",
        ports=[{"name": f"{proto.lower()}-{port}", "port": port,
                "targetPort": container_port(port),
                "protocol": "UDP" if proto == "UDP" else "TCP"} for proto, port in served])
    current = store.find("Service", svc.ref)
    if current is None or [(p.name, p.port) for p in current.ports] != [
            (p.name, p.port) for p in svc.ports]:
        store_service(store, svc)


def _remove_infrastructure(store: Store, name: str) -> None:
    dep = store.find("Deployment", f"{NAMESPACE}/{name}")
    if dep is not None:
        set_deployment(store, replace(dep, replicas=0))
        store.remove(store.find("Deployment", dep.ref))
    if store.has_service(f"{NAMESPACE}/{name}"):
        delete_service(store, f"{NAMESPACE}/{name}")


def reconcile(store: Store) -> None:
    """Converge the data planes on the Gateways: each owned Gateway has its envoy
    Deployment and Service, and nothing else has one."""
    if not store.has_addon(ADDON):
        return
    wanted = {}
    for gw in store.objects("Gateway"):
        if owned(store, gw):
            wanted[envoy_name(gw.namespace, gw.name)] = gw
    for gw in wanted.values():
        _infrastructure(store, gw)
    for dep in store.deployments:
        if (dep.namespace == NAMESPACE and dep.name not in wanted
                and dep.template_labels.get("app.kubernetes.io/managed-by") == "envoy-gateway"):
            _remove_infrastructure(store, dep.name)


def add_controller(store: Store) -> GatewayClass:
    """Install Envoy Gateway and its GatewayClass ``eg``; returns the class."""
    if not store.has_addon(ADDON):
        store.put(build_namespace(NAMESPACE))
        labels = {"app.kubernetes.io/name": "gateway-helm",
                  "app.kubernetes.io/instance": "eg", "control-plane": "envoy-gateway"}
        ports = tuple(ContainerPort(number, name) for name, number in CONTROL_PLANE_PORTS)
        set_deployment(store, Deployment(NAMESPACE, "envoy-gateway", 1, dict(labels),
                                         dict(labels), (Container("envoy-gateway", IMAGE,
                                                                  ports),)))
        store_service(store, build_service(
            store, f"{NAMESPACE}/envoy-gateway", selector=labels,
            ports=[{"name": name, "port": number, "targetPort": number}
                   for name, number in CONTROL_PLANE_PORTS]))
        store.add_addon(ADDON)
    cls = store.find("GatewayClass", CLASS_NAME)
    if cls is not None and cls.controller_name != CONTROLLER_NAME:
        raise ConflictError(f"GatewayClass {CLASS_NAME}", "spec.controllerName",
                            cls.controller_name, "belongs to another controller",
                            fix="delete that GatewayClass first (c.delete('GatewayClass', "
                            f"'{CLASS_NAME}'))")
    if cls is None:
        cls = store.put(GatewayClass(CLASS_NAME, CONTROLLER_NAME))
    reconcile(store)
    return cls
