"""Services as the API server and the EndpointSlice controller handle them.

- **Cluster IPs** (facts sheet §2.1): kubeadm's ``serviceSubnet`` 10.96.0.0/12. The
  allocator works on the range without its network and broadcast addresses, index 0
  being 10.96.0.1 (``default/kubernetes``). The first ``min(max(16, size/16), 256)``
  addresses are the *static band* (10.96.0.1-10.96.1.0 for a /12); automatic
  allocation scans the upper (dynamic) band first, from a random start, then the lower
  band (pkg/registry/core/service/ipallocator, ``randomScanStrategyWithOffset``). The
  lab derives the "random" start from a hash of the Service's name, so the same
  manifest gets the same IP in every run.
- **NodePorts** (§2.2): 30000-32767; static band 30000-30085 (offset
  ``min(max(16, size/32), 128)`` = 86), dynamic band 30086-32767 tried first, same
  scan (pkg/registry/core/service/portallocator).
- **Endpoints** (§2.3, §2.4): ready pods of the Service's namespace whose labels
  match the selector; a named ``targetPort`` is looked up per pod among its container
  ports (same name and protocol); a pod without it is not an endpoint of that port.
  ``default/kubernetes`` has no selector: the API server maintains its endpoint (the
  control-plane node's IP, port 6443).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.engines.validation import (
    check_dns_label,
    check_ip,
    check_labels,
    check_port,
    check_port_name,
    check_protocol,
)
from kubenet_lab.exceptions import AddressExhaustedError, ConflictError, ManifestError
from kubenet_lab.model.service import SERVICE_TYPES, Endpoint, EndpointSlice, Service, ServicePort

if TYPE_CHECKING:
    from kubenet_lab.model.cluster import Cluster

__all__ = [
    "NODE_PORT_RANGE",
    "allocate_cluster_ip",
    "allocate_node_port",
    "endpoint_slices",
    "service_endpoints",
]

#: ``--service-node-port-range`` default.
NODE_PORT_RANGE = (30000, 32767)
APISERVER_PORT = 6443
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _band_offset(size: int, step: int, low: int, high: int) -> int:
    if size < low:
        return 0
    return min(max(low, size // step), high)


def _scan(start_key: str, lo: int, hi: int, used: Mapping[int, Any], base: int = 0) -> int | None:
    """First index of [lo, hi) whose ``base + index`` is not in ``used``, scanning from a
    hashed start and wrapping around."""
    span = hi - lo
    if span <= 0:
        return None
    start = int.from_bytes(hashlib.sha256(start_key.encode()).digest()[:8], "big") % span
    for i in range(span):
        value = lo + (start + i) % span
        if base + value not in used:
            return value
    return None


def _allocate(key: str, offset: int, size: int, used: Mapping[int, Any], base: int) -> int | None:
    """The upper (dynamic) band [offset, size) first, then the static band [0, offset)."""
    index = _scan(key, offset, size, used, base)
    return index if index is not None else _scan(key, 0, offset, used, base)


def allocate_cluster_ip(cluster: Cluster, ref: str) -> str:
    """The next cluster IP for Service ``ref``: dynamic band first, then static.

    >>> c = kl.Cluster()
    >>> ip = allocate_cluster_ip(c, "default/web")
    >>> IPv4Address(ip) in ip_network("10.96.0.0/12"), IPv4Address(ip) > IPv4Address("10.96.1.0")
    (True, True)
    """
    net = ip_network(cluster.service_cidr)
    base = int(net.network_address) + 1
    size = net.num_addresses - 2
    offset = _band_offset(size, 16, 16, 256)
    index = _allocate(ref, offset, size, cluster._service_ips, base)
    if index is None:
        raise AddressExhaustedError(
            f"Service {ref}", "spec.clusterIP", None,
            f"cannot be allocated: the service CIDR {cluster.service_cidr} is full",
            fix="delete Services you no longer need",
        )
    return str(IPv4Address(base + index))


def allocate_node_port(cluster: Cluster, key: str, taken: Mapping[int, Any]) -> int:
    """The next NodePort: the dynamic band 30086-32767 first, then 30000-30085."""
    lo, hi = NODE_PORT_RANGE
    size = hi - lo + 1
    offset = _band_offset(size, 32, 16, 128)
    index = _allocate(key, offset, size, taken, lo)
    if index is None:
        raise AddressExhaustedError(
            f"Service {key}", "spec.ports[].nodePort", None,
            "cannot be allocated: every port of 30000-32767 is in use",
            fix="use ClusterIP Services where you do not need a node port",
        )
    return lo + index


def _label_index(cluster: Cluster) -> dict[tuple[str, str, str], list[str]]:
    """(namespace, key, value) -> pod refs, in the cluster's pod order."""
    def build() -> dict[tuple[str, str, str], list[str]]:
        index: dict[tuple[str, str, str], list[str]] = {}
        for pod in cluster.pods:
            for k, v in pod.labels.items():
                index.setdefault((pod.namespace, k, v), []).append(pod.ref)
        return index

    return cluster._memo("service-label-index", build)


def _selected(cluster: Cluster, svc: Service) -> list[Any]:
    if not svc.selector:
        return []
    index = _label_index(cluster)
    sets = [index.get((svc.namespace, k, v), []) for k, v in svc.selector.items()]
    smallest = min(sets, key=len)
    others = [set(s) for s in sets if s is not smallest]
    return [cluster._pods[r] for r in smallest if all(r in o for o in others)]


def _target_port(pod: Any, sp: ServicePort) -> int | None:
    if isinstance(sp.target_port, int):
        return sp.target_port
    for container in pod.containers:
        for p in container.ports:
            if p.name == sp.target_port and p.protocol == sp.protocol:
                return p.container_port
    return None


def service_endpoints(cluster: Cluster, svc: Service, sp: ServicePort
                      ) -> tuple[tuple[str, int, str, str], ...]:
    """Ready endpoints of one Service port as kube-proxy orders them: sorted by
    address *string* (EndpointSliceCache ``byAddress``, facts §1.3).

    Each entry is ``(ip, port, node, target)``; ``target`` is ``"Pod ns/name"`` or
    ``"Node name"``.
    """
    key = ("service-endpoints", svc.ref, sp.name, sp.protocol, sp.port)

    def build() -> tuple[tuple[str, int, str, str], ...]:
        if svc.type == "ExternalName":
            return ()
        if svc.selector is None and svc.ref == "default/kubernetes":
            cp = next(n for n in cluster.nodes if n.control_plane)
            return ((cp.ip, APISERVER_PORT, cp.name, f"Node {cp.name}"),)
        out = []
        for pod in _selected(cluster, svc):
            if not pod.ready:
                continue
            port = _target_port(pod, sp)
            if port is not None:
                out.append((pod.ip, port, pod.node, f"Pod {pod.ref}"))
        out.sort(key=lambda e: e[0])
        return tuple(out)

    return cluster._memo(key, build)


def endpoint_slices(cluster: Cluster, svc: Service) -> list[EndpointSlice]:
    """The Service's EndpointSlices: pods grouped by the port numbers they resolve to.

    Not-ready pods are listed with ``ready=False`` (the controller publishes them;
    kube-proxy skips them).
    """
    if svc.type == "ExternalName" or (svc.selector is None and svc.ref != "default/kubernetes"):
        return []
    if svc.selector is None:
        cp = next(n for n in cluster.nodes if n.control_plane)
        return [EndpointSlice(svc.namespace, svc.name, svc.ref,
                              (("https", APISERVER_PORT, "TCP"),),
                              (Endpoint(cp.ip, cp.name, f"Node {cp.name}"),))]
    groups: dict[tuple[tuple[str | None, int, str], ...], list[Endpoint]] = {}
    for pod in _selected(cluster, svc):
        ports = []
        for sp in svc.ports:
            port = _target_port(pod, sp)
            if port is not None:
                ports.append((sp.name, port, sp.protocol))
        groups.setdefault(tuple(ports), []).append(
            Endpoint(pod.ip, pod.node, f"Pod {pod.ref}", pod.ready))
    slices = []
    for i, (ports, eps) in enumerate(sorted(groups.items(), key=lambda kv: repr(kv[0]))):
        digest = hashlib.sha256(f"{svc.ref}#{i}".encode()).hexdigest()
        suffix = "".join("bcdfghjklmnpqrstvwxz2456789"[int(ch, 16)] for ch in digest[:5])
        slices.append(EndpointSlice(svc.namespace, f"{svc.name}-{suffix}", svc.ref, ports,
                                    tuple(sorted(eps, key=lambda e: e.address))))
    return slices


# ---------------------------------------------------------------- validation
def build_service(
    cluster: Cluster,
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
    cluster.namespace(namespace)
    key = f"{namespace}/{name}"
    old = cluster._services.get(key)
    if type not in SERVICE_TYPES:
        raise ManifestError(obj, "spec.type", type, "Unsupported value",
                            fix="use one of " + ", ".join(SERVICE_TYPES))
    if session_affinity not in ("None", "ClientIP"):
        raise ManifestError(obj, "spec.sessionAffinity", session_affinity, "Unsupported value",
                            fix="use None or ClientIP")
    if not isinstance(affinity_timeout, int) or not 0 < affinity_timeout <= 86400:
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
    taken_node_ports = {p: o for p, o in cluster._node_ports.items() if o != key}
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
        protocol = check_protocol(obj, f"{path}.protocol", raw.get("protocol", "TCP"))
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
        target = raw.get("targetPort", port)
        if isinstance(target, str) and not target.isdigit():
            check_port_name(obj, f"{path}.targetPort", target)
        else:
            target = check_port(obj, f"{path}.targetPort", int(target))
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
            node_port = old_port or allocate_node_port(cluster, f"{key}:{i}", taken_node_ports)
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
        if addr not in ip_network(cluster.service_cidr):
            raise ManifestError(
                obj, "spec.clusterIPs", str(addr),
                f"provided IP is not in the valid range. The range of valid IPs is "
                f"{cluster.service_cidr}", fix="choose an address in the service CIDR, or "
                "leave clusterIP out")
        owner = cluster._service_ips.get(int(addr))
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
        ip = allocate_cluster_ip(cluster, key)
    lb_ip = None
    if load_balancer_ip is not None:
        lb_ip = str(check_ip(obj, "status.loadBalancer.ingress[0].ip", load_balancer_ip))
    hcnp = None
    if type == "LoadBalancer" and external_traffic_policy == "Local":
        hcnp = (old.health_check_node_port if old and old.health_check_node_port else
                allocate_node_port(cluster, f"{key}:healthz", taken_node_ports))
    return Service(
        namespace, name, type, ip, tuple(parsed), dict(sorted(sel.items())) if sel else sel,
        dict(sorted(check_labels(obj, "metadata.labels", dict(labels or {})).items())),
        session_affinity, affinity_timeout, external_traffic_policy, internal_traffic_policy,
        None, lb_ip, hcnp,
    )
