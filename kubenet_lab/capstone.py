"""The capstone's cluster: a three-tier shop behind a Gateway, broken in six places.

``capstone_cluster()`` builds it fresh on every call, deterministically (the same pod
names, addresses and answers every time): a kubeadm cluster with three workers, flannel
VXLAN and kube-network-policies (``Cluster(workers=3,
network_policy="kube-network-policies")``), the cloud's load balancers and Envoy
Gateway v1.9, and the shop:

- ``infra/shop``: a Gateway of class ``eg`` with one listener, HTTP port 80, hostname
  ``shop.example.com``; its HTTPRoute ``web/shop`` sends ``/`` to Service ``web/web``
  and ``/api`` to Service ``api/api`` in another namespace;
- ``web/web``: two nginx:1.27 pods (port 80), which call the API at ``http://api.api/``;
  the NetworkPolicy ``web/web-egress`` lets them send only to the API and to DNS;
- ``api/api``: two pods of the Gateway API conformance echo server
  (``registry.k8s.io/gateway-api/echo-basic:v1.5.1``, which listens on port 3000 for
  HTTP and 3001 for h2c: gateway-api ``conformance/echo-basic/echo-basic.go`` reads
  ``HTTP_PORT`` and ``H2C_PORT``, defaults 3000 and 3001), declared as container ports
  ``http`` and ``h2c``; the Service ``api/api`` (port 80) for the
  cluster, the LoadBalancer Service ``api/api-public`` (port 80) for partners, whose
  requests the API rate-limits per client address, so it must see that address; the API
  calls a payment provider on the internet, ``93.184.216.34:443``, which accepts only
  the Elastic IP registered with it, ``198.51.100.20``;
- ``db/db``: one postgres:17 pod (port 5432, ``postgres``), which only the API may
  reach: the NetworkPolicy ``db/db-ingress`` and the ClusterNetworkPolicy
  ``protect-db`` (Admin tier: ``Pass`` from namespace ``api`` to the NetworkPolicy
  tier, ``Deny`` from every other namespace);
- egress from the private subnet through the NAT gateway ``nat-gw`` with the Elastic IP
  ``198.51.100.20``.

The faults (``CAPSTONE_FAULTS``), each one a mistake real clusters show, found with the
tools of one lesson:

- ``"missing-route"`` (lesson 02): node-1 lost flannel's route to the control plane's
  podCIDR ``10.244.0.0/24``, where the CoreDNS pods run, so the API pod on node-1
  cannot resolve ``db.db``. flanneld's VXLAN backend installs a route when a subnet
  lease appears and never checks the routing table again (flannel-io/flannel
  ``pkg/backend/vxlan/vxlan_network.go`` ``Run``: lease events and the VXLAN device
  only; only the host-gw backend re-checks its routes, ``pkg/backend/route_network.go``
  ``routeCheck``), so a route that a network restart or a hand-made ``ip route del``
  removed stays gone until flanneld restarts (flannel issues #1070 and #958, the latter
  with exactly this symptom: DNS failing from one node's pods).
- ``"target-port"`` (lesson 03): Service ``api/api`` has ``targetPort: 8080``, a port
  no container of the API's pods listens on: every connection to it is refused (the
  pod's kernel answers RST), through the ClusterIP and through Envoy, which answers
  503.
- ``"dns-policy"`` (lesson 07): ``web/web-egress`` isolates the web pods for egress
  and allows only the API's pods, not the CoreDNS pods on UDP and TCP 53, so the
  web pods resolve no names (kubernetes.io, *Network Policies*: egress isolation covers
  DNS too).
- ``"reference-grant"`` (lesson 06): ``web/shop``'s ``/api`` rule names Service
  ``api/api`` in another namespace, and namespace ``api`` has no ReferenceGrant: the
  route's ``ResolvedRefs`` is False with reason ``RefNotPermitted`` and Envoy answers
  500 for that rule (gateway-api
  ``conformance/tests/httproute-invalid-cross-namespace-backend-ref.go``).
- ``"client-ip"`` (lesson 05): ``api/api-public`` keeps the default
  ``externalTrafficPolicy: Cluster``, so kube-proxy masquerades every connection from the
  internet and the API sees a node's address instead of the partner's (kubernetes.io,
  *Create an External Load Balancer*, "Preserving the client source IP").
- ``"no-nat"`` (lesson 04): the private subnet's route table has only the ``local``
  route: there is no NAT gateway, so the API's call to the payment provider dies at the
  VPC router (AWS, *NAT gateways*: a private subnet reaches the internet through a route
  ``0.0.0.0/0`` to a NAT gateway in a public subnet).

``capstone_cluster(fixed=True)`` is the intended architecture, every fault repaired as
the lesson repairs it; ``faults=[...]`` builds only some faults (for a shorter class).

Examples
--------
>>> broken = capstone_cluster()
>>> broken.trace("internet", "http://shop.example.com/api/products").http_status
500
>>> fixed = capstone_cluster(fixed=True)
>>> fixed.trace("internet", "http://shop.example.com/api/products").http_status
200
>>> fixed.verify_network_model().ok
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubenet_lab.analysis.verify import verify_network_model
from kubenet_lab.cluster import Cluster
from kubenet_lab.dataplane.policy import enforced, explain
from kubenet_lab.dataplane.tables import Dataplane
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.arguments import checked
from kubenet_lab.scenarios import workload_yaml
from kubenet_lab.tools.shell import run
from kubenet_lab.walk.trace import trace

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from kubenet_lab.model.trace import Trace

__all__ = ["CAPSTONE_FAULTS", "ShopCheck", "ShopReport", "capstone_cluster", "check_shop"]

#: The faults ``capstone_cluster`` builds: name -> (lesson, what is wrong).
CAPSTONE_FAULTS = {
    "reference-grant": ("06", "the Gateway may not send /api to Service api/api: namespace "
                        "api has no ReferenceGrant"),
    "dns-policy": ("07", "the web pods' egress policy blocks DNS"),
    "target-port": ("03", "Service api/api sends to a port nothing listens on"),
    "missing-route": ("02", "node-1 lost its route to the control plane's podCIDR, where "
                      "CoreDNS runs"),
    "no-nat": ("04", "the private subnet has no route to a NAT gateway"),
    "client-ip": ("05", "the partners' load balancer hides their address from the API"),
}

#: The payment provider the API calls, as ``ip:port``.
PAYMENT_PROVIDER = "93.184.216.34:443"
#: The Elastic IP the payment provider accepts connections from.
SHOP_ELASTIC_IP = "198.51.100.20"
#: A partner's server on the internet that calls the API's load balancer.
PARTNER = "203.0.113.77"
#: The shop's URLs on the Gateway.
SHOP_URL, API_URL = "http://shop.example.com/", "http://shop.example.com/api/products"

_NAMESPACES = """
apiVersion: v1
kind: Namespace
metadata: {name: infra}
---
apiVersion: v1
kind: Namespace
metadata: {name: web, labels: {app.kubernetes.io/part-of: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: api, labels: {app.kubernetes.io/part-of: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: db, labels: {app.kubernetes.io/part-of: shop}}
"""

_GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shop, namespace: infra}
spec:
  gatewayClassName: eg
  listeners:
  - name: http
    protocol: HTTP
    port: 80
    hostname: shop.example.com
    allowedRoutes: {namespaces: {from: All}}
"""


def _workload(name: str, replicas: int, container: str, image: str, port: str,
              number: int) -> str:
    """Deployment ``name`` of namespace ``name`` and its Service, port ``number`` to the
    container's port ``number`` named ``port``."""
    return workload_yaml(name, name, replicas=replicas, container=container, image=image,
                         port=number, target_port=port, container_port=number)


_WORKLOADS = """apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: registry.k8s.io/gateway-api/echo-basic:v1.5.1
        ports: [{name: http, containerPort: 3000}, {name: h2c, containerPort: 3001}]
---""" + _workload("web", 2, "nginx", "nginx:1.27", "http", 80) + "---" + _workload(
    "db", 1, "postgres", "postgres:17", "postgres", 5432)

_API_SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: api, namespace: api}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: %s}]
"""

_API_PUBLIC = """
apiVersion: v1
kind: Service
metadata: {name: api-public, namespace: api}
spec:
  type: LoadBalancer
  selector: {app: api}
  ports: [{port: 80, targetPort: http}]
"""

_ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: web}
spec:
  parentRefs: [{name: shop, namespace: infra, sectionName: http}]
  hostnames: [shop.example.com]
  rules:
  - backendRefs: [{name: web, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: api, namespace: api, port: 80}]
"""

#: The fix of "reference-grant": namespace api lets HTTPRoutes of namespace web refer
#: to its Service api.
REFERENCE_GRANT = """
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: web-routes, namespace: api}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}]
  to: [{group: "", kind: Service, name: api}]
"""

_WEB_EGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: web}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: api}}
      podSelector: {matchLabels: {app: api}}
"""

_DNS_RULE = """
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
"""

_DB_POLICIES = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: db}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: api}}
      podSelector: {matchLabels: {app: api}}
    ports: [{port: postgres}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: protect-db}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: db}}}
  ingress:
  - name: pass-api
    action: Pass
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: api}}}]
  - name: deny-others
    action: Deny
    from: [{namespaces: {}}]
"""

#: The podCIDR whose route node-1 lost in "missing-route" (the control plane's).
_LOST_ROUTE = ("node-1", "control-plane")


def web_egress_policy(dns: bool) -> str:
    """The NetworkPolicy ``web/web-egress`` as YAML, with or without its DNS rule."""
    return _WEB_EGRESS + (_DNS_RULE.lstrip("\n") if dns else "")


def api_service(target_port: str | int) -> str:
    """The Service ``api/api`` as YAML, with the given ``targetPort``."""
    return _API_SERVICE % target_port


def api_public_service(external_traffic_policy: str | None) -> str:
    """The Service ``api/api-public`` as YAML (``None``: the field left out, Cluster)."""
    if external_traffic_policy is None:
        return _API_PUBLIC
    return _API_PUBLIC.replace("  type: LoadBalancer\n", "  type: LoadBalancer\n"
                               f"  externalTrafficPolicy: {external_traffic_policy}\n")


@checked
def capstone_cluster(fixed: bool = False, faults: Iterable[str] | None = None) -> Cluster:
    """The capstone's shop (see the module docstring): every fault of
    ``CAPSTONE_FAULTS`` by default, none with ``fixed=True``, or exactly ``faults``.

    Raises
    ------
    ManifestError
        An unknown fault name, or ``fixed=True`` together with faults.

    Examples
    --------
    >>> c = capstone_cluster(faults=["client-ip"])
    >>> lb = c.service("api/api-public").load_balancer_ip
    >>> c.trace("203.0.113.50", lb).source_ip_seen   # node-1's flannel.1: masqueraded
    '10.244.1.0'
    """
    chosen = set(CAPSTONE_FAULTS) if faults is None and not fixed else set(faults or ())
    unknown = sorted(chosen - set(CAPSTONE_FAULTS))
    if unknown:
        raise ManifestError("capstone_cluster", "faults", unknown[0],
                            "is not a fault of the capstone",
                            fix="use some of " + ", ".join(CAPSTONE_FAULTS))
    if fixed and chosen:
        raise ManifestError("capstone_cluster", "faults", sorted(chosen),
                            "cannot go with fixed=True, which has no fault",
                            fix="pass either fixed=True or faults=[...]")
    c = Cluster(workers=3, network_policy="kube-network-policies")
    c.add_cloud_load_balancer()
    c.add_gateway_controller()
    c.apply(_NAMESPACES)
    c.apply(_GATEWAY)
    c.apply(_WORKLOADS)
    c.apply(api_service(8080 if "target-port" in chosen else "http"))
    c.apply(api_public_service(None if "client-ip" in chosen else "Local"))
    c.apply(_ROUTE)
    if "reference-grant" not in chosen:
        c.apply(REFERENCE_GRANT)
    c.apply(web_egress_policy(dns="dns-policy" not in chosen))
    c.apply(_DB_POLICIES)
    if "no-nat" not in chosen:
        c.add_nat_gateway(public_ip=SHOP_ELASTIC_IP)
    if "missing-route" in chosen:
        node, owner = _LOST_ROUTE
        c.exec(node, f"ip route del {c.node(owner).pod_cidr}")
    return c


# ---------------------------------------------------------------------------- the checks
@dataclass(frozen=True, slots=True)
class ShopCheck:
    """One thing the shop must do, and whether it does.

    Attributes
    ----------
    key : str
        A short name (``"gateway-api"``).
    flow : str
        What is checked, in a few words (``"internet -> Gateway -> API"``).
    lesson : str
        The lesson whose tools show it (``"06"``).
    ok : bool
    detail : str
        What the check saw: the answer when it works, the first failure when not.
    exercise : str
        The capstone exercises that repair it when it fails (``"9.1, 9.3"``).
    """

    key: str
    flow: str
    lesson: str
    ok: bool
    detail: str
    exercise: str = ""


@dataclass(frozen=True, slots=True)
class ShopReport:
    """Everything the shop must do (``check_shop``): ``ok``, ``checks``, ``failing``;
    ``str()`` is a table, ``draw()`` the picture of the shop with each flow green or red.
    """

    checks: tuple[ShopCheck, ...]
    gateway_ip: str | None
    public_api_ip: str | None
    nat_ip: str | None

    @property
    def ok(self) -> bool:
        """Does every check pass?"""
        return all(c.ok for c in self.checks)

    @property
    def failing(self) -> tuple[ShopCheck, ...]:
        """The checks that fail, in the order of the request's path."""
        return tuple(c for c in self.checks if not c.ok)

    def check(self, key: str) -> ShopCheck:
        """The check named ``key``."""
        return next(c for c in self.checks if c.key == key)

    def __str__(self) -> str:
        from kubenet_lab.views.capstone import shop_report_text

        return shop_report_text(self)

    def __repr__(self) -> str:
        passed = sum(c.ok for c in self.checks)
        return f"<ShopReport {passed} of {len(self.checks)} checks pass>"

    def draw(self, ax: Axes | None = None) -> Figure:
        """The shop as a picture, each flow green (works) or red (with why not)."""
        from kubenet_lab.views.capstone import draw_shop

        return draw_shop(self, ax)


def _fork(c: Cluster) -> Dataplane:
    """The cluster's state on a copy of its kernels' memory: checking changes nothing."""
    dp = c.dataplane()
    return Dataplane(dp.view, dp.runtime.fork())


def _pods(c: Cluster, namespace: str) -> list[str]:
    return [p.ref for p in c.pods if p.namespace == namespace]


def _symptom(t: Trace) -> str:
    """What the client of a failed connection sees (a probe's view, not the diagnosis):
    the refusal a kernel answered, or a timeout for a packet lost on the way."""
    return "connection refused" if t.outcome == "refused" else "connection timed out"


def _http(c: Cluster, url: str, namespace: str) -> tuple[bool, str]:
    t = trace(_fork(c), "internet", url)
    short = url.removeprefix("http://shop.example.com")
    if t.http_status == 200 and (t.destination_pod or "").startswith(f"{namespace}/"):
        return True, f"GET {short}: 200 from {t.destination_pod}"
    if t.http_status is None:
        return False, f"GET {short}: {_symptom(t)}"
    who = t.destination_pod or ""
    who = "the Gateway's Envoy" if who.startswith("envoy-gateway-system/") or not who else who
    return False, f"GET {short}: {t.http_status} from {who}"


def _dns(c: Cluster, namespace: str, name: str) -> tuple[bool, str]:
    pods = _pods(c, namespace)
    for pod in pods:
        out = run(_fork(c), pod, f"nslookup {name}")
        if "Address: " not in out.split("Name:", 1)[-1]:
            return False, f"nslookup {name} in {pod}: {out.strip().splitlines()[-1]}"
    return bool(pods), f"{name} resolves in each of {len(pods)} pods of {namespace}"


def _connect(c: Cluster, namespace: str, dst: str, what: str,
             seen: str | None = None) -> tuple[bool, str]:
    """Does every pod of ``namespace`` reach ``dst`` (``ip:port``), seen as ``seen``?"""
    pods = _pods(c, namespace)
    for pod in pods:
        t = trace(_fork(c), pod, dst)
        if not t.delivered:
            return False, f"{pod} -> {what}: {_symptom(t)}"
        if seen is not None and t.source_ip_seen != seen:
            return False, f"{pod} -> {what}: seen as {t.source_ip_seen}, not {seen}"
    return bool(pods), f"each of {len(pods)} pods of {namespace} reaches {what}" + (
        f", seen as {seen}" if seen else "")


def _partner(c: Cluster) -> tuple[bool, str]:
    if not c.store.has_service("api/api-public"):
        return False, "Service api/api-public does not exist"
    lb = c.service("api/api-public").load_balancer_ip
    if lb is None:
        return False, "Service api/api-public has no load-balancer address"
    t = trace(_fork(c), PARTNER, lb, port=80)
    if not t.delivered:
        return False, f"{PARTNER} -> {lb}:80: {_symptom(t)}"
    if t.source_ip_seen != PARTNER:
        return False, f"the API sees {t.source_ip_seen}, not the partner's {PARTNER}"
    return True, f"{PARTNER} -> {lb}:80: {t.destination_pod} sees {PARTNER}"


def _guardrails(c: Cluster) -> tuple[bool, str]:
    view = c.store.snapshot()
    if not enforced(view):
        return False, "nothing enforces network policies"
    db = _pods(c, "db")
    sources = [*_pods(c, "web"), *_pods(c, "envoy-gateway-system")]
    for src in sources:
        for dst in db:
            if explain(view, src, dst, 5432).allowed:
                return False, f"{src} may connect to the database {dst}"
    for src in _pods(c, "web"):
        host, port = PAYMENT_PROVIDER.split(":")
        if explain(view, src, host, int(port)).allowed:
            return False, f"{src} may connect to the internet ({PAYMENT_PROVIDER})"
    return True, "only the API reaches the database; the web pods reach only the API and DNS"


#: The checks of ``check_shop``: key -> (flow, lesson, the exercises that repair it).
SHOP_CHECKS = {
    "gateway-web": ("internet -> Gateway -> web", "06", ""),
    "gateway-api": ("internet -> Gateway -> API", "06", "9.1, 9.3"),
    "web-dns": ("web -> DNS (api.api)", "07", "9.2"),
    "web-api": ("web -> API", "03", "9.3"),
    "api-dns": ("API -> DNS (db.db)", "02", "9.4"),
    "api-db": ("API -> database", "03", ""),
    "api-egress": ("API -> payment provider", "04", "9.5"),
    "partner": ("partner -> public API", "05", "9.6"),
    "guardrails": ("policies guard the database", "07", ""),
    "network-model": ("the network model", "02", "9.4"),
}


def _model(c: Cluster) -> tuple[bool, str]:
    model = verify_network_model(c.dataplane())
    if model.ok:
        return True, "every rule holds"
    first = model.problems[0]
    return False, (f"verify_network_model(): {len(model.problems)} problem(s), the first "
                   f"{first.src} -> {first.dst}, lost at {first.where}")


def _run(c: Cluster, key: str) -> tuple[bool, str]:
    """One check of ``SHOP_CHECKS`` on ``c``."""
    if key == "gateway-web":
        return _http(c, SHOP_URL, "web")
    if key == "gateway-api":
        return _http(c, API_URL, "api")
    if key == "web-dns":
        return _dns(c, "web", "api.api")
    if key == "api-dns":
        return _dns(c, "api", "db.db")
    if key == "web-api":
        ip = c.service("api/api").cluster_ip
        return _connect(c, "web", f"{ip}:80", f"Service api/api ({ip}:80)")
    if key == "api-db":
        ip = c.service("db/db").cluster_ip
        return _connect(c, "api", f"{ip}:5432", f"Service db/db ({ip}:5432)")
    if key == "api-egress":
        return _connect(c, "api", PAYMENT_PROVIDER, PAYMENT_PROVIDER, SHOP_ELASTIC_IP)
    if key == "partner":
        return _partner(c)
    if key == "guardrails":
        return _guardrails(c)
    return _model(c)


@checked
def check_shop(cluster: Cluster, only: Iterable[str] | None = None) -> ShopReport:
    """Check everything the capstone's shop must do, as the shop's monitoring would probe
    it (a probe sees what fails, not why), on a copy of the cluster's kernel state: the
    checks change nothing. In the order of ``SHOP_CHECKS``: the Gateway's two routes
    from the internet, DNS and each tier's connections from every pod of the tier,
    egress to the payment provider through the NAT gateway (seen as the Elastic IP), the
    partners' client address at ``api/api-public``, the policies that guard the
    database, and the network model. ``only`` runs just the checks it names.

    Raises
    ------
    NotFoundError
        The cluster is not the capstone's shop (it lacks one of its Services).
    ManifestError
        ``only`` names an unknown check.

    Examples
    --------
    >>> check_shop(capstone_cluster(fixed=True)).ok
    True
    >>> [c.key for c in check_shop(capstone_cluster()).failing]  # doctest: +NORMALIZE_WHITESPACE
    ['gateway-api', 'web-dns', 'web-api', 'api-dns', 'api-egress', 'partner', 'network-model']
    """
    keys = list(SHOP_CHECKS) if only is None else list(only)
    unknown = [k for k in keys if k not in SHOP_CHECKS]
    if unknown:
        raise ManifestError("check_shop", "only", unknown[0], "is not a check of the shop",
                            fix="use some of " + ", ".join(SHOP_CHECKS))
    cluster.service("api/api")  # NotFoundError: not the capstone's shop
    cluster.service("db/db")
    # the Gateway's address is its Envoy Service's load-balancer address
    gateway_ip = next((s.load_balancer_ip for s in cluster.services
                       if s.namespace == "envoy-gateway-system" and s.load_balancer_ip), None)
    public = (cluster.service("api/api-public").load_balancer_ip
              if cluster.store.has_service("api/api-public") else None)
    nat = cluster.nat_gateways[0].public_ip if cluster.nat_gateways else None
    checks = []
    for key in keys:
        flow, lesson, exercise = SHOP_CHECKS[key]
        ok, detail = _run(cluster, key)
        checks.append(ShopCheck(key, flow, lesson, ok, detail, "" if ok else exercise))
    return ShopReport(tuple(checks), gateway_ip, public, nat)
