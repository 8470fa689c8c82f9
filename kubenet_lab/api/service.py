"""Services as the API server validates them, allocating cluster IPs and node ports.

``build_service`` checks every field with the API server's rules and messages and fills
in the defaults and allocations; nothing is stored here (``controllers.services`` does).

``decode_service`` reads every field of a v1 ServiceSpec (k8s.io/api core/v1 types.go,
v1.35) and drops none: each is honoured or refused with a ``ManifestError`` naming it.

- honoured: ``type``, ``ports`` (``name``, ``protocol``, ``port``, ``targetPort``,
  ``nodePort``, ``appProtocol``), ``selector``, ``clusterIP``/``clusterIPs``,
  ``sessionAffinity``/``sessionAffinityConfig``, ``externalTrafficPolicy``,
  ``internalTrafficPolicy``, ``externalName``, ``healthCheckNodePort``,
  ``publishNotReadyAddresses`` (the EndpointSlice controller publishes not-ready pods),
  ``trafficDistribution`` (topology hints, then kube-proxy's choice of endpoints:
  ``controllers.endpointslice``, ``dataplane.kube_proxy.topology_endpoints``),
  ``ipFamilyPolicy``/``ipFamilies`` with one family, IPv4 (the lab's clusters are
  single-stack IPv4: ``PreferDualStack`` stays single-stack as on such a cluster;
  ``RequireDualStack`` and IPv6 are refused with the API server's messages,
  pkg/registry/core/service/storage/alloc.go ``initIPFamilyFields``), and
  ``allocateLoadBalancerNodePorts: true``;
- refused, because the lab does not model what they need: ``externalIPs``,
  ``loadBalancerIP``, ``loadBalancerSourceRanges`` (on AWS the cloud provider writes them
  into the load balancer's security group; the lab's load balancer has none),
  ``loadBalancerClass`` (a load balancer implementation other than the cloud's) and
  ``allocateLoadBalancerNodePorts: false`` (the lab's AWS load balancer targets node
  ports);
- an unknown field is refused as kubectl's strict field validation (the default since
  v1.27) refuses it: ``unknown field "spec.x"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from ipaddress import ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.allocators import NODE_PORT_RANGE, allocate_cluster_ip, allocate_node_port
from kubenet_lab.api.fields import (
    boolean,
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
from kubenet_lab.model.service import (
    SERVICE_TYPES,
    TRAFFIC_DISTRIBUTIONS,
    Service,
    ServicePort,
)

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["APISERVER_PORT", "build_service", "decode_service", "encode_service"]

#: kube-apiserver's secure port, the target of ``default/kubernetes``.
APISERVER_PORT = 6443
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
#: ``spec.ipFamilyPolicy`` values (core/v1 ``IPFamilyPolicy``).
IP_FAMILY_POLICIES = ("SingleStack", "PreferDualStack", "RequireDualStack")
#: Every field of a v1 ServiceSpec and ServicePort (k8s.io/api core/v1 types.go, v1.35).
SPEC_FIELDS = frozenset((
    "ports", "selector", "clusterIP", "clusterIPs", "type", "externalIPs", "sessionAffinity",
    "loadBalancerIP", "loadBalancerSourceRanges", "externalName", "externalTrafficPolicy",
    "healthCheckNodePort", "publishNotReadyAddresses", "sessionAffinityConfig", "ipFamilies",
    "ipFamilyPolicy", "allocateLoadBalancerNodePorts", "loadBalancerClass",
    "internalTrafficPolicy", "trafficDistribution"))
PORT_FIELDS = frozenset(("name", "protocol", "appProtocol", "port", "targetPort", "nodePort"))
#: Fields the lab refuses whenever they are set: why, and what to do instead.
_UNSUPPORTED = {
    "externalIPs": ("is not modelled by the lab (kube-proxy would accept traffic for these "
                    "addresses on every node; many clusters forbid it with the "
                    "DenyServiceExternalIPs admission plugin)",
                    "remove it; use type NodePort or LoadBalancer to reach a Service from "
                    "outside"),
    "loadBalancerIP": ("is not modelled by the lab (deprecated since v1.24; AWS's cloud "
                       "provider does not support it: the load balancer's address is its "
                       "own)", "remove it; read the address from status.loadBalancer"),
    "loadBalancerSourceRanges": (
        "is not modelled by the lab: on AWS the cloud provider enforces it in the load "
        "balancer's security group, and the lab's load balancer has none",
        "remove it, or restrict clients with a NetworkPolicy (lesson 07)"),
    "loadBalancerClass": ("is not modelled by the lab: a class hands the Service to "
                          "another load balancer implementation, and the lab has only the "
                          "cloud's", "remove it to use the cloud's load balancer"),
}


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
    traffic_distribution: str | None = None,
    ip_family_policy: str | None = None,
    ip_families: list[Any] | tuple[Any, ...] = (),
    publish_not_ready_addresses: bool = False,
    health_check_node_port: int | None = None,
) -> Service:
    """Validate a Service as the API server does and allocate its IP and node ports.

    ``ports`` holds ``ServicePort`` objects, dicts in manifest form
    (``{"port": 80, "targetPort": 8080, "name": "http"}``) or plain numbers.
    ``cluster_ip="None"`` makes a headless Service. Nothing is stored here.
    ``traffic_distribution``, ``ip_family_policy``, ``ip_families``,
    ``publish_not_ready_addresses`` and ``health_check_node_port`` are the spec fields of
    the same names (module docstring).
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
    if traffic_distribution is not None and traffic_distribution not in TRAFFIC_DISTRIBUTIONS:
        raise ManifestError(  # validation.go validateServiceTrafficDistribution
            obj, "spec.trafficDistribution", traffic_distribution,
            "Unsupported value: supported values: " + ", ".join(
                f'"{v}"' for v in TRAFFIC_DISTRIBUTIONS),
            fix="use PreferSameZone (PreferClose is its older name) or PreferSameNode, or "
            "leave it out to spread over all endpoints")
    if not isinstance(publish_not_ready_addresses, bool):
        raise ManifestError(obj, "spec.publishNotReadyAddresses", publish_not_ready_addresses,
                            "must be a boolean", fix="write true or false")
    policy = _ip_family_policy(obj, type, cluster_ip, sel, ip_family_policy, ip_families)
    if type == "ExternalName":
        if not external_name:
            raise ManifestError(obj, "spec.externalName", external_name, "Required value",
                                fix="give the DNS name the Service points to")
        return Service(namespace, name, "ExternalName", None, (), sel,
                       dict(sorted(check_labels(obj, "metadata.labels",
                                                dict(labels or {})).items())),
                       external_name=str(external_name).lower(),
                       traffic_distribution=traffic_distribution,
                       publish_not_ready_addresses=publish_not_ready_addresses)
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
                   "name": raw.name, "nodePort": raw.node_port,
                   "appProtocol": raw.app_protocol}
        elif isinstance(raw, int) and not isinstance(raw, bool):
            raw = {"port": raw}
        if not isinstance(raw, Mapping):
            raise ManifestError(obj, path, raw, "is not a port",
                                fix="write {port: 80, targetPort: 8080}")
        _known(obj, path, raw, PORT_FIELDS)
        app_protocol = string(obj, f"{path}.appProtocol", raw.get("appProtocol")) or None
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
        parsed.append(ServicePort(port, target, protocol, pname, node_port, app_protocol))
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
    needs_health_check = type == "LoadBalancer" and external_traffic_policy == "Local"
    if health_check_node_port is not None:
        field = "spec.healthCheckNodePort"
        if not needs_health_check:  # validation.go ValidateService
            raise ManifestError(obj, field, health_check_node_port,
                                "may only be set when `type` is 'LoadBalancer' and "
                                "`externalTrafficPolicy` is 'Local'",
                                fix="remove it; the API server allocates it")
        lo, hi = NODE_PORT_RANGE
        if isinstance(health_check_node_port, bool) or not isinstance(
                health_check_node_port, int) or not lo <= health_check_node_port <= hi:
            raise ManifestError(obj, field, health_check_node_port,
                                f"provided port is not in the valid range. The range of "
                                f"valid ports is {lo}-{hi}", fix="leave it out")
        if health_check_node_port in taken_node_ports:
            raise ConflictError(obj, field, health_check_node_port,
                                f"provided port is already allocated (to Service "
                                f"{taken_node_ports[health_check_node_port]})",
                                fix="leave it out to get a free one")
        hcnp = health_check_node_port
    elif needs_health_check:
        hcnp = (old.health_check_node_port if old and old.health_check_node_port else
                allocate_node_port(f"{key}:healthz", taken_node_ports))
    return Service(
        namespace, name, type, ip, tuple(parsed), dict(sorted(sel.items())) if sel else sel,
        dict(sorted(check_labels(obj, "metadata.labels", dict(labels or {})).items())),
        session_affinity, affinity_timeout, external_traffic_policy, internal_traffic_policy,
        None, lb_ip, hcnp, traffic_distribution, policy, publish_not_ready_addresses,
    )


def _known(obj: str, path: str, raw: Mapping[str, Any], fields: frozenset[str]) -> None:
    """Refuse a field the API does not have, as kubectl's strict field validation does
    (``--validate=strict``, the default since v1.27: ``strict decoding error: unknown
    field "spec.foo"``)."""
    for k in raw:
        if k not in fields:
            raise ManifestError(obj, f"{path}.{k}", raw[k], f'unknown field "{path}.{k}"',
                                fix="check the spelling; known fields: " + ", ".join(
                                    sorted(fields)))


def _ip_family_policy(obj: str, type: str, cluster_ip: str | None,  # noqa: A002
                      selector: Mapping[str, str] | None, policy: str | None,
                      families: list[Any] | tuple[Any, ...]) -> str:
    """``spec.ipFamilyPolicy`` as the API server defaults and checks it on a
    single-stack IPv4 cluster (alloc.go ``initIPFamilyFields``): SingleStack by default,
    RequireDualStack for a headless Service without a selector (which alone may ask for
    two families); PreferDualStack stays single-stack; RequireDualStack and IPv6 are
    refused (the lab models IPv4 only)."""
    if type == "ExternalName":
        for field, value in (("spec.ipFamilyPolicy", policy), ("spec.ipFamilies", families)):
            if value:  # validation.go ValidateServiceClusterIPsRelatedFields
                raise ManifestError(obj, field, value,
                                    "Forbidden: may not be set for ExternalName services",
                                    fix="remove it: an ExternalName Service has no IP")
        return "SingleStack"
    headless_selectorless = cluster_ip == "None" and not selector
    if policy is None:
        policy = "RequireDualStack" if headless_selectorless else "SingleStack"
    if policy not in IP_FAMILY_POLICIES:
        raise ManifestError(obj, "spec.ipFamilyPolicy", policy, "Unsupported value",
                            fix="use SingleStack (the lab models IPv4 only)")
    fams = list(families)
    for i, fam in enumerate(fams):
        if fam not in ("IPv4", "IPv6"):
            raise ManifestError(obj, f"spec.ipFamilies[{i}]", fam,
                                'Unsupported value: supported values: "IPv4", "IPv6"',
                                fix="use IPv4")
    if len(fams) > 2 or len(set(fams)) != len(fams):
        raise ManifestError(obj, "spec.ipFamilies", fams, "Duplicate value",
                            fix="give each family once: [IPv4]")
    if policy == "SingleStack" and len(fams) == 2:
        raise ManifestError(obj, "spec.ipFamilyPolicy", policy,
                            "must be 'RequireDualStack' or 'PreferDualStack' when multiple "
                            "IP families are specified", fix="give ipFamilies: [IPv4]")
    if headless_selectorless:
        return policy  # alloc.go's special case: no IPs, any families
    if policy == "RequireDualStack":
        raise ManifestError(obj, "spec.ipFamilyPolicy", policy,
                            "this cluster is not configured for dual-stack services",
                            fix="use SingleStack or PreferDualStack: the lab's clusters are "
                            "single-stack IPv4")
    for i, fam in enumerate(fams):
        if fam != "IPv4":
            raise ManifestError(obj, f"spec.ipFamilies[{i}]", fam,
                                "not configured on this cluster",
                                fix="use [IPv4]: the lab's clusters are single-stack IPv4")
    return policy


def decode_service(store: StoreView, doc: Mapping[str, Any]) -> Service:
    """A v1 Service manifest, validated and allocated as ``build_service`` does; every
    spec field is honoured or refused (module docstring)."""
    obj, ns, name, labels = meta(doc, "Service", namespaced=True, name_rule=check_dns_label)
    spec = mapping(obj, "spec", doc.get("spec"), required=True)
    _known(obj, "spec", spec, SPEC_FIELDS)
    for key, (problem, fix) in _UNSUPPORTED.items():
        if spec.get(key) not in (None, "", []):
            raise ManifestError(obj, f"spec.{key}", spec[key], problem, fix=fix)
    text = {key: string(obj, f"spec.{key}", spec.get(key)) for key in (
        "type", "clusterIP", "sessionAffinity", "externalTrafficPolicy",
        "internalTrafficPolicy", "externalName", "trafficDistribution", "ipFamilyPolicy")}
    svc_type = text["type"] or "ClusterIP"
    allocate = spec.get("allocateLoadBalancerNodePorts")
    if allocate is not None:
        allocate = boolean(obj, "spec.allocateLoadBalancerNodePorts", allocate)
        if svc_type != "LoadBalancer":  # validation.go ValidateService
            raise ManifestError(obj, "spec.allocateLoadBalancerNodePorts", allocate,
                                "may only be used when `type` is 'LoadBalancer'",
                                fix="remove it")
        if not allocate:
            raise ManifestError(
                obj, "spec.allocateLoadBalancerNodePorts", False,
                "is not modelled by the lab: its AWS load balancer sends to the nodes' node "
                "ports (instance targets), so a LoadBalancer Service needs them",
                fix="remove it (the default is true)")
    status = mapping(obj, "status", doc.get("status"))
    lb = mapping(obj, "status.loadBalancer", status.get("loadBalancer"))
    ingress = sequence(obj, "status.loadBalancer.ingress", lb.get("ingress"))
    lb_ip = string(obj, "status.loadBalancer.ingress[0].ip", mapping(
        obj, "status.loadBalancer.ingress[0]", ingress[0]).get("ip")) if ingress else None
    affinity = mapping(obj, "spec.sessionAffinityConfig", spec.get("sessionAffinityConfig"))
    _known(obj, "spec.sessionAffinityConfig", affinity, frozenset(("clientIP",)))
    client_ip = mapping(obj, "spec.sessionAffinityConfig.clientIP", affinity.get("clientIP"))
    _known(obj, "spec.sessionAffinityConfig.clientIP", client_ip,
           frozenset(("timeoutSeconds",)))
    selector = spec.get("selector")
    if selector is not None:
        selector = dict(mapping(obj, "spec.selector", selector))
    cluster_ip = text["clusterIP"] or None
    ips = [string(obj, f"spec.clusterIPs[{i}]", ip) for i, ip in enumerate(
        sequence(obj, "spec.clusterIPs", spec.get("clusterIPs")))]
    if len(ips) > 1:
        raise ManifestError(obj, "spec.clusterIPs", ips,
                            "this cluster is not configured for dual-stack services",
                            fix="give one address: the lab's clusters are single-stack IPv4")
    if ips:
        if cluster_ip is not None and ips[0] != cluster_ip:
            raise ManifestError(obj, "spec.clusterIPs[0]", ips[0],
                                "must match `clusterIP` if specified",
                                fix="give the same address in both, or only one of them")
        cluster_ip = ips[0] or None
    hcnp = spec.get("healthCheckNodePort")
    timeout = client_ip.get("timeoutSeconds")
    return build_service(
        store, f"{ns}/{name}", type=svc_type,
        ports=sequence(obj, "spec.ports", spec.get("ports")), selector=selector,
        cluster_ip=cluster_ip, labels=labels,
        session_affinity=text["sessionAffinity"] or "None",
        affinity_timeout=10800 if timeout is None else timeout,
        external_traffic_policy=text["externalTrafficPolicy"] or None,
        internal_traffic_policy=text["internalTrafficPolicy"] or "Cluster",
        external_name=text["externalName"], load_balancer_ip=lb_ip,
        traffic_distribution=text["trafficDistribution"] or None,
        ip_family_policy=text["ipFamilyPolicy"] or None,
        ip_families=sequence(obj, "spec.ipFamilies", spec.get("ipFamilies")),
        publish_not_ready_addresses=boolean(obj, "spec.publishNotReadyAddresses",
                                            spec.get("publishNotReadyAddresses")),
        health_check_node_port=None if hcnp in (None, 0) else hcnp,
    )


def encode_service(view: StoreView, svc: Service) -> dict[str, Any]:
    """A Service as the API server stores it, with what its allocators and defaulting
    filled in (pkg/apis/core/v1/defaults.go ``SetDefaults_Service``,
    pkg/registry/core/service/storage/alloc.go); ``decode_service`` reads it back.

    - ``clusterIP`` and ``clusterIPs`` (``None`` for a headless Service), ``ipFamilies:
      [IPv4]`` (the lab's clusters are single-stack IPv4) and ``ipFamilyPolicy``
      (``SingleStack`` or ``PreferDualStack`` as given; ``RequireDualStack`` for a
      headless Service without a selector, which alloc.go gives both families,
      ``[IPv4, IPv6]``, even on a single-stack cluster),
      none of them for ExternalName;
    - ``internalTrafficPolicy`` (ClusterIP, NodePort and LoadBalancer Services),
      ``sessionAffinity`` (and ``sessionAffinityConfig`` for ClientIP),
      ``trafficDistribution`` and ``publishNotReadyAddresses`` when set,
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
        policy = svc.ip_family_policy
        if svc.headless and not svc.selector and policy == "SingleStack":
            policy = "RequireDualStack"  # a record built without the API's defaulting
        families = ["IPv4", "IPv6"] if (svc.headless and not svc.selector
                                        and policy != "SingleStack") else ["IPv4"]
        spec.update(clusterIP=ip, clusterIPs=[ip], ipFamilies=families, ipFamilyPolicy=policy,
                    internalTrafficPolicy=svc.internal_traffic_policy)
    if svc.type in ("NodePort", "LoadBalancer"):
        spec["externalTrafficPolicy"] = svc.external_traffic_policy
    if svc.type == "LoadBalancer":
        spec["allocateLoadBalancerNodePorts"] = True
    if svc.health_check_node_port:
        spec["healthCheckNodePort"] = svc.health_check_node_port
    if svc.traffic_distribution:
        spec["trafficDistribution"] = svc.traffic_distribution
    if svc.publish_not_ready_addresses:
        spec["publishNotReadyAddresses"] = True
    if svc.session_affinity == "ClientIP":
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": svc.affinity_timeout}}
    if svc.selector:
        spec["selector"] = dict(svc.selector)
    if svc.ports:
        spec["ports"] = [{"port": p.port, "protocol": p.protocol, "targetPort": p.target_port,
                          **({"name": p.name} if p.name else {}),
                          **({"appProtocol": p.app_protocol} if p.app_protocol else {}),
                          **({"nodePort": p.node_port} if p.node_port else {})}
                         for p in svc.ports]
    return {"apiVersion": "v1", "kind": "Service", "metadata": labelled(svc.labels),
            "spec": spec}
