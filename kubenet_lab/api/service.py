"""Services as the API server validates them, allocating cluster IPs and node ports.

``build_service`` checks every field with the API server's rules and messages and fills
in the defaults and allocations; nothing is stored here (``controllers.services`` does).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from ipaddress import ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.allocators import NODE_PORT_RANGE, allocate_cluster_ip, allocate_node_port
from kubenet_lab.api.fields import (
    check_dns_label,
    check_ip,
    check_labels,
    check_port,
    check_port_name,
    check_protocol,
    is_decimal,
    mapping,
    meta,
    sequence,
    string,
)
from kubenet_lab.api.meta import labelled
from kubenet_lab.exceptions import ConflictError, ManifestError
from kubenet_lab.model.service import SERVICE_TYPES, Service, ServicePort

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["APISERVER_PORT", "build_service", "decode_service", "encode_service"]

#: kube-apiserver's secure port, the target of ``default/kubernetes``.
APISERVER_PORT = 6443
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def build_service(
    store: StoreView,
    ref: str,
    *,
    type: str = "ClusterIP",  # noqa: A002 - the API's field name
    ports: list[Any] | tuple[Any, ...] = (),
    selector: Mapping[str, str] | None = None,
    cluster_ip: str | None = None,
    labels: Mapping[str, str] | None = None,
    session_affinity: str = "None",
    affinity_timeout: int = 10800,
    external_traffic_policy: str | None = None,
    internal_traffic_policy: str = "Cluster",
    external_name: str | None = None,
    load_balancer_ip: str | None = None,
) -> Service:
    """Validate a Service as the API server does and allocate its IP and node ports.

    ``ports`` holds ``ServicePort`` objects, dicts in manifest form
    (``{"port": 80, "targetPort": 8080, "name": "http"}``) or plain numbers.
    ``cluster_ip="None"`` makes a headless Service. Nothing is stored here.
    """
    namespace, _, name = ref.rpartition("/") if "/" in str(ref) else ("default", "", ref)
    obj = f"Service {namespace}/{name}"
    check_dns_label(obj, "metadata.name", name)
    store.namespace(namespace)
    key = f"{namespace}/{name}"
    old = store.service(key) if store.has_service(key) else None
    if type not in SERVICE_TYPES:
        raise ManifestError(obj, "spec.type", type, "Unsupported value",
                            fix="use one of " + ", ".join(SERVICE_TYPES))
    if session_affinity not in ("None", "ClientIP"):
        raise ManifestError(obj, "spec.sessionAffinity", session_affinity, "Unsupported value",
                            fix="use None or ClientIP")
    if isinstance(affinity_timeout, bool) or not isinstance(affinity_timeout, int) or not (
            0 < affinity_timeout <= 86400):
        raise ManifestError(
            obj, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", affinity_timeout,
            "must be greater than 0 and less than 86400", fix="leave it out for 10800")
    external = type in ("NodePort", "LoadBalancer")
    if external_traffic_policy is None:
        external_traffic_policy = "Cluster"
    for field, value in (("spec.externalTrafficPolicy", external_traffic_policy),
                         ("spec.internalTrafficPolicy", internal_traffic_policy)):
        if value not in ("Cluster", "Local"):
            raise ManifestError(obj, field, value, "Unsupported value",
                                fix="use Cluster or Local")
    if external_traffic_policy == "Local" and not external:
        raise ManifestError(
            obj, "spec.externalTrafficPolicy", "Local",
            "may only be set on NodePort and LoadBalancer Services",
            fix="remove it, or use type NodePort")
    sel = check_labels(obj, "spec.selector", dict(selector)) if selector is not None else None
    if type == "ExternalName":
        if not external_name:
            raise ManifestError(obj, "spec.externalName", external_name, "Required value",
                                fix="give the DNS name the Service points to")
        return Service(namespace, name, "ExternalName", None, (), sel,
                       dict(sorted(check_labels(obj, "metadata.labels",
                                                dict(labels or {})).items())),
                       external_name=str(external_name).lower())
    if not ports:
        raise ManifestError(obj, "spec.ports", [], "Required value",
                            fix="give at least one port, e.g. ports: [{port: 80}]")
    taken_node_ports = {p: o for p, o in store.node_port_owners().items() if o != key}
    parsed: list[ServicePort] = []
    seen: set[tuple[int, str]] = set()
    names: set[str] = set()
    for i, raw in enumerate(ports):
        path = f"spec.ports[{i}]"
        if isinstance(raw, ServicePort):
            raw = {"port": raw.port, "targetPort": raw.target_port, "protocol": raw.protocol,
                   "name": raw.name, "nodePort": raw.node_port}
        elif isinstance(raw, int) and not isinstance(raw, bool):
            raw = {"port": raw}
        if not isinstance(raw, Mapping):
            raise ManifestError(obj, path, raw, "is not a port",
                                fix="write {port: 80, targetPort: 8080}")
        port = check_port(obj, f"{path}.port", raw.get("port"))
        protocol = check_protocol(obj, f"{path}.protocol", raw.get("protocol") or "TCP")
        pname = raw.get("name")
        if pname in ("", None):
            pname = None
            if len(ports) > 1:
                raise ManifestError(obj, f"{path}.name", "", "Required value",
                                    fix="a Service with more than one port must name every "
                                    "port")
        else:
            if not isinstance(pname, str) or len(pname) > 63 or not _DNS_LABEL.match(pname):
                raise ManifestError(obj, f"{path}.name", pname, "is not a valid port name",
                                    fix="use lowercase letters, digits and '-' (a DNS label)")
            if pname in names:
                raise ManifestError(obj, f"{path}.name", pname, "Duplicate value",
                                    fix="give each port its own name")
            names.add(pname)
        if (port, protocol) in seen:
            raise ManifestError(obj, f"{path}", f"{port}/{protocol}", "Duplicate value",
                                fix="each port and protocol may appear once")
        seen.add((port, protocol))
        target = raw.get("targetPort")
        if target is None:  # defaulting: the port itself
            target = port
        elif isinstance(target, str) and not is_decimal(target):
            check_port_name(obj, f"{path}.targetPort", target)
        else:  # the lab reads "8080" as a number (the API server wants a name or a number)
            target = check_port(obj, f"{path}.targetPort",
                                int(target) if is_decimal(target) and len(target) <= 5 else target)
        node_port = raw.get("nodePort")
        if node_port is not None:
            if not external:
                raise ManifestError(obj, f"{path}.nodePort", node_port,
                                    "may not be used when `type` is 'ClusterIP'",
                                    fix="use type: NodePort, or remove nodePort")
            lo, hi = NODE_PORT_RANGE
            if isinstance(node_port, bool) or not isinstance(node_port, int) or not (
                    lo <= node_port <= hi):
                raise ManifestError(obj, f"{path}.nodePort", node_port,
                                    f"provided port is not in the valid range. The range of "
                                    f"valid ports is {lo}-{hi}",
                                    fix="choose a port in the range, or leave it out")
            if node_port in taken_node_ports:
                raise ConflictError(obj, f"{path}.nodePort", node_port,
                                    f"provided port is already allocated (to Service "
                                    f"{taken_node_ports[node_port]})",
                                    fix="leave nodePort out to get a free one")
        elif external:
            old_port = next((p.node_port for p in (old.ports if old else ())
                             if p.port == port and p.protocol == protocol), None)
            node_port = old_port or allocate_node_port(f"{key}:{i}", taken_node_ports)
        if node_port is not None:
            taken_node_ports[node_port] = key
        parsed.append(ServicePort(port, target, protocol, pname, node_port))
    headless = cluster_ip == "None"
    if headless:
        if external:
            raise ManifestError(obj, "spec.clusterIP", "None",
                                f"may not be set to 'None' for {type} services",
                                fix="remove clusterIP, or use type ClusterIP")
        ip = None
    elif cluster_ip:
        addr = check_ip(obj, "spec.clusterIP", cluster_ip)
        if addr not in ip_network(store.service_cidr):
            raise ManifestError(
                obj, "spec.clusterIPs", str(addr),
                f"provided IP is not in the valid range. The range of valid IPs is "
                f"{store.service_cidr}", fix="choose an address in the service CIDR, or "
                "leave clusterIP out")
        owner = store.service_ip_owners().get(int(addr))
        if owner is not None and owner != key:
            raise ConflictError(obj, "spec.clusterIPs", str(addr),
                                f"provided IP is already allocated (to Service {owner})",
                                fix="leave clusterIP out to get a free one")
        if old is not None and old.cluster_ip and old.cluster_ip != str(addr):
            raise ManifestError(obj, "spec.clusterIP", str(addr),
                                "field is immutable", fix="delete the Service first")
        ip = str(addr)
    elif old is not None and old.cluster_ip:
        ip = old.cluster_ip
    else:
        ip = allocate_cluster_ip(store, key)
    lb_ip = None
    if load_balancer_ip is not None:
        lb_ip = str(check_ip(obj, "status.loadBalancer.ingress[0].ip", load_balancer_ip))
    hcnp = None
    if type == "LoadBalancer" and external_traffic_policy == "Local":
        hcnp = (old.health_check_node_port if old and old.health_check_node_port else
                allocate_node_port(f"{key}:healthz", taken_node_ports))
    return Service(
        namespace, name, type, ip, tuple(parsed), dict(sorted(sel.items())) if sel else sel,
        dict(sorted(check_labels(obj, "metadata.labels", dict(labels or {})).items())),
        session_affinity, affinity_timeout, external_traffic_policy, internal_traffic_policy,
        None, lb_ip, hcnp,
    )


def decode_service(store: StoreView, doc: Mapping[str, Any]) -> Service:
    """A v1 Service manifest, validated and allocated as ``build_service`` does."""
    obj, ns, name, labels = meta(doc, "Service", namespaced=True, name_rule=check_dns_label)
    spec = mapping(obj, "spec", doc.get("spec"), required=True)
    status = mapping(obj, "status", doc.get("status"))
    lb = mapping(obj, "status.loadBalancer", status.get("loadBalancer"))
    ingress = sequence(obj, "status.loadBalancer.ingress", lb.get("ingress"))
    lb_ip = string(obj, "status.loadBalancer.ingress[0].ip", mapping(
        obj, "status.loadBalancer.ingress[0]", ingress[0]).get("ip")) if ingress else None
    affinity = mapping(obj, "spec.sessionAffinityConfig", spec.get("sessionAffinityConfig"))
    client_ip = mapping(obj, "spec.sessionAffinityConfig.clientIP", affinity.get("clientIP"))
    selector = spec.get("selector")
    if selector is not None:
        selector = dict(mapping(obj, "spec.selector", selector))
    text = {key: string(obj, f"spec.{key}", spec.get(key)) for key in (
        "type", "clusterIP", "sessionAffinity", "externalTrafficPolicy",
        "internalTrafficPolicy", "externalName")}
    timeout = client_ip.get("timeoutSeconds")
    return build_service(
        store, f"{ns}/{name}", type=text["type"] or "ClusterIP",
        ports=sequence(obj, "spec.ports", spec.get("ports")), selector=selector,
        cluster_ip=text["clusterIP"] or None, labels=labels,
        session_affinity=text["sessionAffinity"] or "None",
        affinity_timeout=10800 if timeout is None else timeout,
        external_traffic_policy=text["externalTrafficPolicy"] or None,
        internal_traffic_policy=text["internalTrafficPolicy"] or "Cluster",
        external_name=text["externalName"], load_balancer_ip=lb_ip,
    )


def encode_service(view: StoreView, svc: Service) -> dict[str, Any]:
    """A Service as the API server stores it, with what its allocators and defaulting
    filled in (pkg/apis/core/v1/defaults.go ``SetDefaults_Service``,
    pkg/registry/core/service/storage/alloc.go); ``decode_service`` reads it back.

    - ``clusterIP`` and ``clusterIPs`` (``None`` for a headless Service), ``ipFamilies:
      [IPv4]`` (the lab's clusters are single-stack IPv4) and ``ipFamilyPolicy``
      (``SingleStack``; ``RequireDualStack`` for a headless Service without a selector),
      none of them for ExternalName;
    - ``internalTrafficPolicy`` (ClusterIP, NodePort and LoadBalancer Services),
      ``sessionAffinity`` (and ``sessionAffinityConfig`` for ClientIP),
      ``externalTrafficPolicy`` (NodePort and LoadBalancer), ``allocateLoadBalancerNodePorts:
      true`` and ``healthCheckNodePort`` (LoadBalancer);
    - every port with its ``protocol``, ``targetPort`` and, outside ClusterIP, ``nodePort``.

    >>> spec = encode_service(None, kl.Cluster().service("kube-system/kube-dns"))["spec"]
    >>> spec["clusterIPs"], spec["ipFamilyPolicy"], spec["internalTrafficPolicy"]
    (['10.96.0.10'], 'SingleStack', 'Cluster')
    >>> spec["ports"][0]
    {'port': 53, 'protocol': 'UDP', 'targetPort': 53, 'name': 'dns'}
    """
    spec: dict[str, Any] = {"sessionAffinity": svc.session_affinity, "type": svc.type}
    if svc.type == "ExternalName":
        spec["externalName"] = svc.external_name
    else:
        ip = svc.cluster_ip or "None"
        policy = "RequireDualStack" if svc.headless and not svc.selector else "SingleStack"
        spec.update(clusterIP=ip, clusterIPs=[ip], ipFamilies=["IPv4"], ipFamilyPolicy=policy,
                    internalTrafficPolicy=svc.internal_traffic_policy)
    if svc.type in ("NodePort", "LoadBalancer"):
        spec["externalTrafficPolicy"] = svc.external_traffic_policy
    if svc.type == "LoadBalancer":
        spec["allocateLoadBalancerNodePorts"] = True
    if svc.health_check_node_port:
        spec["healthCheckNodePort"] = svc.health_check_node_port
    if svc.session_affinity == "ClientIP":
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": svc.affinity_timeout}}
    if svc.selector:
        spec["selector"] = dict(svc.selector)
    if svc.ports:
        spec["ports"] = [{"port": p.port, "protocol": p.protocol, "targetPort": p.target_port,
                          **({"name": p.name} if p.name else {}),
                          **({"nodePort": p.node_port} if p.node_port else {})}
                         for p in svc.ports]
    return {"apiVersion": "v1", "kind": "Service", "metadata": labelled(svc.labels),
            "spec": spec}
