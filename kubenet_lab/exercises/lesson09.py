"""Exercises of lesson 09, the capstone: one broken shop (``kl.capstone_cluster()``),
six faults from six lessons, and a last exercise for the whole shop.

The lesson fixes one cluster, ``c``, exercise after exercise; ``kl.exercise("9.3").setup()``
builds a fresh shop with that exercise's fault alone, to practise it on its own (9.7's
setup has all six). Every fix is idempotent: ``apply``, ``ip route replace``, and a NAT
gateway added only when there is none.

Each exercise is checked against the learner's cluster ``c``. The checks look at what
the fix must do (the shop's own probes, ``kl.check_shop(c, only=[...])``, which run on a
copy of the kernels' state and change nothing) and at what it must leave alone (the web
team's route, the policies' purpose, the API's process, the Service's type), and each
hint is chosen from what the cluster shows: the usual wrong turns of each fault.
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network
from typing import Any

from kubenet_lab.capstone import (
    PARTNER,
    PAYMENT_PROVIDER,
    SHOP_ELASTIC_IP,
    capstone_cluster,
    check_shop,
)
from kubenet_lab.cluster import Cluster
from kubenet_lab.exceptions import KubenetLabError
from kubenet_lab.exercises.base import Check, Exercise

__all__ = ["EXERCISES"]

GATEWAY_API = "gateway.networking.k8s.io"


def _alone(fault: str) -> Any:
    """A setup: a fresh shop with ``fault`` alone."""
    return lambda: capstone_cluster(faults=[fault])


def _probe(c: Cluster, key: str) -> bool:
    return check_shop(c, only=[key]).checks[0].ok


def _seen(c: Cluster, key: str) -> str:
    try:
        return check_shop(c, only=[key]).checks[0].detail
    except KubenetLabError as err:  # a Service of the shop was deleted
        return f"the shop lost a part it needs: {err}"


def _pods(c: Cluster, namespace: str) -> list[str]:
    return [p.ref for p in c.pods if p.namespace == namespace]


def _coredns(c: Cluster) -> list[str]:
    return [p.ref for p in c.pods if p.namespace == "kube-system"
            and p.labels.get("k8s-app") == "kube-dns"]


# ---------------------------------------------------------------------------- 9.1
def _api_rule_kept(c: Cluster) -> bool:
    """web/shop still sends /api to Service api in namespace api, port 80."""
    rules = c.get("HTTPRoute", "web/shop")["spec"]["rules"]
    return any(any(m.get("path", {}).get("value") == "/api" for m in rule.get("matches", []))
               and any(b.get("name") == "api" and b.get("namespace") == "api"
                       and b.get("port") == 80 for b in rule.get("backendRefs", []))
               for rule in rules)


def _resolved(c: Cluster) -> bool:
    parents = c.get("HTTPRoute", "web/shop").get("status", {}).get("parents", [])
    return any(k["type"] == "ResolvedRefs" and k["status"] == "True"
               for p in parents for k in p["conditions"])


def _grant_hint(answer: Any, c: Cluster) -> str:
    grants = c.store.objects("ReferenceGrant")
    if not grants:
        return ("No ReferenceGrant yet. print(c.exec('control-plane', 'kubectl describe "
                "httproute shop -n web')): ResolvedRefs is False with reason RefNotPermitted. "
                "A route may name a Service in another namespace only if that namespace "
                "agrees (lesson 06, section 7).")
    here = [g for g in grants if g.namespace == "api"]
    if not here:
        where = ", ".join(sorted({g.namespace for g in grants}))
        return (f"Your ReferenceGrant is in namespace {where}. A grant lives in the namespace "
                "of the object referred TO: the owners of Service api/api (namespace api) "
                "decide who may refer to it. A grant in web would let others refer to web's "
                "objects.")
    for g in here:
        sources = [(f.group, f.kind, f.namespace) for f in g.from_]
        if (GATEWAY_API, "HTTPRoute", "web") not in sources:
            return (f"ReferenceGrant {g.ref} lets {sources} refer to namespace api; the "
                    "reference comes from an HTTPRoute (group gateway.networking.k8s.io, "
                    "kind HTTPRoute) in namespace web: put exactly that in from.")
        targets = [(t.group, t.kind, t.name) for t in g.to]
        if not any(t[:2] == ("", "Service") and t[2] in (None, "api") for t in targets):
            return (f"ReferenceGrant {g.ref} opens {targets}; the route refers to a Service "
                    "(group '' for the core API, kind Service), named api: to: [{group: '', "
                    "kind: Service, name: api}] (or leave out name for every Service).")
    return ("The grant looks right but the route still says RefNotPermitted: print "
            "kubectl describe httproute shop -n web and compare its backendRef with the grant.")


# ---------------------------------------------------------------------------- 9.2
def _policy(c: Cluster) -> dict[str, Any] | None:
    try:
        return c.get("NetworkPolicy", "web/web-egress")
    except Exception:  # noqa: BLE001 - NotFoundError: the learner deleted it
        return None


def _isolated(c: Cluster) -> bool:
    """The web pods may still not connect to the internet or to the database."""
    host, port = PAYMENT_PROVIDER.split(":")
    return all(not c.explain(w, host, int(port)).allowed
               and not any(c.explain(w, d, 5432).allowed for d in _pods(c, "db"))
               for w in _pods(c, "web"))


def _dns_allowed(c: Cluster, protocol: str) -> bool:
    return all(c.explain(w, d, 53, protocol).allowed
               for w in _pods(c, "web") for d in _coredns(c))


def _peers(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [peer for rule in policy["spec"].get("egress", []) for peer in rule.get("to", [])]


def _isolation_hint(answer: Any, c: Cluster) -> str:
    if _policy(c) is None:
        return ("web/web-egress is gone: DNS works again, and so does everything else, "
                "the internet and the database included, which is what the policy is there "
                "to prevent (the web tier faces the internet: it is the first one an "
                "attacker reaches). Apply it again, with a rule for DNS.")
    return ("web/web-egress no longer keeps the web pods from the internet or the database "
            "(c.explain(<web pod>, '93.184.216.34', 443) says why): keep its podSelector {} "
            "and policyTypes [Egress], and allow only the API and DNS.")


def _dns_hint(answer: Any, c: Cluster) -> str:
    policy = _policy(c) or {"spec": {}}
    for peer in _peers(policy):
        cidr = peer.get("ipBlock", {}).get("cidr")
        if cidr and ip_address("10.96.0.10") in ip_network(cidr, strict=False):
            return ("An ipBlock with the kube-dns ClusterIP never matches: kube-proxy's DNAT "
                    "runs before the agent's POSTROUTING hook, which sees the packet addressed "
                    "to a CoreDNS pod (lesson 07, section 8). Select the pods instead: "
                    "namespaceSelector kubernetes.io/metadata.name: kube-system and "
                    "podSelector k8s-app: kube-dns, in one peer.")
        labels = peer.get("podSelector", {}).get("matchLabels", {})
        if labels.get("k8s-app") == "kube-dns" and "namespaceSelector" not in peer:
            return ("A podSelector alone selects pods of the policy's own namespace, web, "
                    "where no pod is labelled k8s-app: kube-dns. AND it with a "
                    "namespaceSelector for kube-system in the same peer (no '-' before "
                    "podSelector).")
    udp, tcp = _dns_allowed(c, "UDP"), _dns_allowed(c, "TCP")
    if udp and not tcp:
        return ("UDP 53 is allowed, TCP 53 is not: a resolver asks again over TCP when the "
                "answer does not fit in a UDP message (it comes back truncated), and CoreDNS "
                "serves both. Allow both, as lesson 07's recipe does.")
    if tcp and not udp:
        return "TCP 53 is allowed, UDP 53 is not: a resolver asks over UDP first."
    web, dns = _pods(c, "web")[0], _coredns(c)[0]
    return (f"print(c.explain('{web}', '{dns}', 53, 'UDP')) says which policy denies the "
            "query: web/web-egress allows only the API. Add an egress rule to the kube-dns "
            "pods of kube-system on UDP and TCP 53.")


def _narrow(c: Cluster) -> bool:
    """The DNS rule opens DNS only: CoreDNS's metrics port stays closed to the web pods."""
    return not any(c.explain(w, d, 9153).allowed for w in _pods(c, "web") for d in _coredns(c))


def _api_allowed(c: Cluster) -> bool:
    return all(c.explain(w, a, 3000).allowed for w in _pods(c, "web") for a in _pods(c, "api"))


# ---------------------------------------------------------------------------- 9.3
def _process_kept(c: Cluster) -> bool:
    """The API's pods still run echo-basic declaring 3000 (it binds 3000 whatever the
    manifest says: ``ports`` is informational)."""
    dep = c.deployment("api/api")
    return [(p.container_port, p.name) for ct in dep.containers for p in ct.ports][:1] == [
        (3000, "http")]


def _service_port(c: Cluster) -> bool:
    svc = c.service("api/api")
    return [p.port for p in svc.ports] == [80] and svc.selector == {"app": "api"}


def _endpoint_ports(c: Cluster) -> list[int]:
    return sorted({port for s in c.endpoint_slices("api/api") for _, port, _ in s.ports})


def _endpoint_hint(answer: Any, c: Cluster) -> str:
    ports = _endpoint_ports(c)
    shown = ", ".join(map(str, ports)) or "none"
    return (f"print(c.exec('control-plane', 'kubectl get endpointslices -n api -l "
            f"kubernetes.io/service-name=api')): PORTS {shown}. kube-proxy and Envoy send "
            "there, and ss -tlnp in an API pod shows what the process listens on. The "
            "Service's targetPort decides the endpoints' port.")


# ---------------------------------------------------------------------------- 9.4
def _flannel_routes_missing(c: Cluster) -> list[tuple[str, str, str]]:
    """(node, podCIDR, what the node has instead) for every other node's podCIDR that
    does not go ``via <block's first address> dev flannel.1 onlink``."""
    dp = c.dataplane()
    out = []
    for node in c.nodes:
        routes = {r.dst: r for r in dp.node_routes(node)}
        for other in c.nodes:
            if other.name == node.name:
                continue
            cidr = other.pod_cidr
            gateway = cidr.split("/")[0]
            r = routes.get(cidr)
            if r is None:
                out.append((node.name, cidr, "no route"))
            elif (r.dev, r.via, r.onlink) != ("flannel.1", gateway, True):
                out.append((node.name, cidr, f"as '{r}'"))
    return out


def _route_hint(answer: Any, c: Cluster) -> str:
    node, cidr, has = _flannel_routes_missing(c)[0]
    gateway = cidr.split("/")[0]
    if has == "no route":
        return ("One API pod resolves db.db and the other does not: which node runs the one "
                "that fails (kubectl get pods -n api -o wide)? Compare that node's ip route "
                "with another worker's: one podCIDR has no line. Whose pods live in it "
                "(kubectl get pods -A -o wide)?")
    return (f"{node} sends {cidr} {has}. flannel's routes go over its VXLAN device, "
            f"'{cidr} via {gateway} dev flannel.1 onlink', as on the other nodes: the pod's "
            "packet must be wrapped node to node, or EC2's source/destination check drops "
            "it as it leaves eth0. ip route replace changes a route in place.")


# ---------------------------------------------------------------------------- 9.5
def _nat_hint(answer: Any, c: Cluster) -> str:
    return ("print(c.route_table('private')): the private subnet sends only the VPC's own "
            "range anywhere (local); a packet to the internet dies at the VPC router. A "
            "private subnet reaches the internet through a NAT gateway in a public subnet "
            "(lesson 04): c.add_nat_gateway(public_ip=...).")


def _eip_hint(answer: Any, c: Cluster) -> str:
    ip = c.nat_gateways[0].public_ip
    return (f"The NAT gateway has the Elastic IP {ip}; the provider accepts only "
            f"{SHOP_ELASTIC_IP}. A NAT gateway keeps the Elastic IP it was created with, and "
            "the lab's VPC holds one NAT gateway: start again from c = kl.capstone_cluster() "
            f"and add the NAT gateway with public_ip='{SHOP_ELASTIC_IP}' (each fix of this "
            "lesson is one cell to run again).")


# ---------------------------------------------------------------------------- 9.6
def _public_kept(c: Cluster) -> bool:
    if not c.store.has_service("api/api-public"):
        return False
    svc = c.service("api/api-public")
    return (svc.type == "LoadBalancer" and svc.selector == {"app": "api"}
            and [p.port for p in svc.ports] == [80])


def _etp_hint(answer: Any, c: Cluster) -> str:
    svc = c.service("api/api-public")
    if svc.internal_traffic_policy == "Local":
        return ("internalTrafficPolicy is about connections from inside the cluster to the "
                "ClusterIP; the partners come from outside, through the load balancer and a "
                "NodePort, where externalTrafficPolicy decides.")
    return (f"c.get('Service', 'api/api-public')['spec'] says externalTrafficPolicy: "
            f"{svc.external_traffic_policy or 'Cluster'}. Trace "
            f"c.trace('{PARTNER}', '{svc.load_balancer_ip}') and read the source address the "
            "pod gets: which rule rewrote it (lesson 05)?")


# ---------------------------------------------------------------------------- 9.7
def _all_hint(answer: Any, c: Cluster) -> str:
    try:
        report = check_shop(c)
    except KubenetLabError as err:
        return f"The shop lost a part it needs: {err}"
    first = report.failing[0]
    if first.key == "guardrails":
        return (f"Everything answers, but the policies no longer guard the database: "
                f"{first.detail}. Put back what exercise 9.2 kept (web/web-egress, "
                "db/db-ingress, ClusterNetworkPolicy protect-db).")
    more = f" ({len(report.failing) - 1} more after it)" if len(report.failing) > 1 else ""
    which = first.exercise or "9.1 to 9.6"
    return (f"print(kl.check_shop(c)): '{first.flow}' fails{more}: {first.detail}. See "
            f"exercise{'s' if ',' in which else ''} {which}.")


EXERCISES = [
    Exercise(
        "9.1",
        "GET http://shop.example.com/api/products answers 500. Without changing the web "
        "team's route web/shop, give the Gateway the permission it lacks, so that Envoy "
        "sends /api to Service api/api. Set answer = 'done'.",
        checks=[
            Check(lambda a, c: _api_rule_kept(c),
                  "Keep web/shop as the web team wrote it: its /api rule must still name "
                  "Service api in namespace api, port 80 (re-apply the route from "
                  "c.get('HTTPRoute', 'web/shop') with that backendRef). Moving the API "
                  "into web is not the fix: the API team owns namespace api."),
            Check(lambda a, c: _resolved(c), _grant_hint),
            Check(lambda a, c: "500" not in _seen(c, "gateway-api"),
                  lambda a, c: "The route resolves its references, but: "
                  + _seen(c, "gateway-api")),
        ],
        explanation="A reference into another namespace needs that namespace's consent: a "
        "ReferenceGrant in namespace api (the side referred to) lets HTTPRoutes of namespace "
        "web refer to its Service api. Without it Envoy Gateway marks the route ResolvedRefs "
        "False, RefNotPermitted, and answers 500 for that rule (Gateway API's BackendRef "
        "rules). Now Envoy sends /api to the API's pods, on their endpoints: if it answers "
        "503 instead, it reached them and nothing listened, which is exercise 9.3.",
        solution="c.apply('''\n"
        "apiVersion: gateway.networking.k8s.io/v1\n"
        "kind: ReferenceGrant\n"
        "metadata: {name: web-routes, namespace: api}\n"
        "spec:\n"
        "  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}]\n"
        "  to: [{group: \"\", kind: Service, name: api}]\n"
        "''')\n"
        "answer = 'done'",
        cluster_setup=_alone("reference-grant"),
    ),
    Exercise(
        "9.2",
        "The web pods resolve no names. Change the NetworkPolicy web/web-egress (apply it "
        "again) so that they can resolve names, and still send nothing anywhere but to the "
        "API and to DNS. Set answer = 'done'.",
        checks=[
            Check(lambda a, c: _policy(c) is not None and _isolated(c), _isolation_hint),
            Check(lambda a, c: _dns_allowed(c, "UDP") and _dns_allowed(c, "TCP"), _dns_hint),
            Check(lambda a, c: _narrow(c),
                  "DNS works, and more: the web pods may now reach other ports of the "
                  "CoreDNS pods (9153, its metrics). Narrow the rule to UDP and TCP 53."),
            Check(lambda a, c: _api_allowed(c),
                  "The rule for the API went missing: the web pods must still reach the API "
                  "pods (namespace api, app: api) on their port."),
            Check(lambda a, c: _probe(c, "web-dns"),
                  lambda a, c: "The policies allow DNS, but the probe still fails: "
                  + _seen(c, "web-dns")),
        ],
        explanation="Egress isolation covers every packet a pod sends, and a DNS query is a "
        "packet to a CoreDNS pod: a policy that allows only the API leaves the web pods "
        "without names (kubernetes.io, Network Policies). The agent sees the query after "
        "kube-proxy's DNAT, addressed to a CoreDNS pod, so the rule selects those pods "
        "(namespace kube-system, k8s-app: kube-dns), not the ClusterIP 10.96.0.10, on UDP 53 "
        "and TCP 53 (for answers too large for UDP). Everything else stays closed.",
        solution="c.apply('''\n"
        "apiVersion: networking.k8s.io/v1\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: web-egress, namespace: web}\n"
        "spec:\n"
        "  podSelector: {}\n"
        "  policyTypes: [Egress]\n"
        "  egress:\n"
        "  - to:\n"
        "    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: api}}\n"
        "      podSelector: {matchLabels: {app: api}}\n"
        "  - to:\n"
        "    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n"
        "      podSelector: {matchLabels: {k8s-app: kube-dns}}\n"
        "    ports:\n"
        "    - {protocol: UDP, port: 53}\n"
        "    - {protocol: TCP, port: 53}\n"
        "''')\n"
        "answer = 'done'",
        cluster_setup=_alone("dns-policy"),
    ),
    Exercise(
        "9.3",
        "Connections to Service api/api on port 80 are refused, from the web pods and "
        "through the Gateway. Make them reach the API's pods. Set answer = 'done'.",
        checks=[
            Check(lambda a, c: _process_kept(c),
                  "Put the Deployment api back as it was. echo-basic binds port 3000 (its "
                  "HTTP_PORT, 3000 by default) whatever the manifest declares: a container's "
                  "ports are informational (ss -tlnp in the pod shows the real socket). The "
                  "Service must point at the process, not the other way round."),
            Check(lambda a, c: _service_port(c),
                  "Keep the Service's port 80 and its selector app: api: the web pods and "
                  "the route call api:80. port is what clients use; targetPort is the pod's "
                  "side."),
            Check(lambda a, c: _endpoint_ports(c) == [3000], _endpoint_hint),
            Check(lambda a, c: _probe(c, "web-api"),
                  lambda a, c: "The endpoints look right, but: " + _seen(c, "web-api")),
        ],
        explanation="A Service's targetPort is the port its traffic reaches on the pods: the "
        "EndpointSlice controller writes it into the endpoints, kube-proxy DNATs the ClusterIP "
        "to it, and Envoy connects to it. 8080 was no port of the API's pods, so each pod's "
        "kernel answered the SYN with a reset: 'connection refused' from the ClusterIP, 503 "
        "from Envoy. A named targetPort (http) follows the container's declaration, so the "
        "Service stays right when the image's port changes in the Deployment.",
        solution="c.apply('''\n"
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata: {name: api, namespace: api}\n"
        "spec:\n"
        "  selector: {app: api}\n"
        "  ports: [{port: 80, targetPort: http}]\n"
        "''')\n"
        "answer = 'done'",
        cluster_setup=_alone("target-port"),
    ),
    Exercise(
        "9.4",
        "One API pod resolves db.db, the other does not. Find the node that lost a route "
        "and put the route back as flannel wrote it, with c.exec(node, 'ip route replace "
        "...') (replace adds a missing route, and running it again changes nothing). "
        "Set answer = 'done'.",
        checks=[
            Check(lambda a, c: not _flannel_routes_missing(c), _route_hint),
            Check(lambda a, c: _probe(c, "api-dns"),
                  lambda a, c: "The routes are back, but: " + _seen(c, "api-dns")),
            Check(lambda a, c: _probe(c, "network-model"),
                  lambda a, c: _seen(c, "network-model")),
        ],
        explanation="flannel's VXLAN backend installs one route per other node's podCIDR "
        "when it learns the node's lease, and never looks at the routing table again "
        "(only its host-gw backend re-checks its routes), so a route that a network restart "
        "or a stray ip route del removed stays gone. Without it node-1 sent its pods' "
        "packets for the control plane's podCIDR, where both CoreDNS pods run, to its "
        "default route, and EC2 dropped them: a pod address is not the instance's. Every "
        "pod of node-1 lost DNS; on a real cluster restarting flanneld's pod on that node "
        "re-adds all of its routes. verify_network_model() finds such a gap at once.",
        solution="print(c.exec('node-1', 'ip route'))   # no line for 10.244.0.0/24\n"
        "print(c.exec('node-3', 'ip route'))   # ... via 10.244.0.0 dev flannel.1 onlink\n"
        "c.exec('node-1', 'ip route replace 10.244.0.0/24 via 10.244.0.0 dev flannel.1 "
        "onlink')\n"
        "answer = 'done'",
        cluster_setup=_alone("missing-route"),
    ),
    Exercise(
        "9.5",
        f"The API's calls to the payment provider {PAYMENT_PROVIDER} time out. The provider "
        f"accepts connections only from the shop's Elastic IP {SHOP_ELASTIC_IP}. Give the "
        "private subnet its way to the internet. Set answer = 'done'.",
        checks=[
            Check(lambda a, c: bool(c.nat_gateways), _nat_hint),
            Check(lambda a, c: c.nat_gateways[0].public_ip == SHOP_ELASTIC_IP, _eip_hint),
            Check(lambda a, c: _probe(c, "api-egress"),
                  lambda a, c: "The NAT gateway is there, but: " + _seen(c, "api-egress")),
        ],
        explanation="The nodes are in a private subnet, whose route table knew only the "
        "VPC's own range: the VPC router dropped the packet to the provider. A NAT gateway "
        "in the public subnet, with the private route table sending 0.0.0.0/0 to it, gives "
        "the way out: flannel masquerades the pod's address to its node's, the NAT gateway "
        "rewrites the node's to its own, and the internet gateway maps that to the Elastic "
        "IP, which is what the provider sees and allow-lists. Every pod of every private "
        "node leaves with that one address; the replies come back through each translation "
        "in reverse.",
        solution="if not c.nat_gateways:   # the VPC's one NAT gateway, once\n"
        f"    c.add_nat_gateway(public_ip='{SHOP_ELASTIC_IP}')\n"
        "print(c.route_table('private'))   # 0.0.0.0/0 -> nat-gw\n"
        "answer = 'done'",
        cluster_setup=_alone("no-nat"),
    ),
    Exercise(
        "9.6",
        "The API limits each partner by the address it connects from, and every partner "
        "arrives from the cluster's own addresses. Make the API's pods see the partner's "
        f"address (the check connects from {PARTNER}) through the load balancer of Service "
        "api/api-public, which stays a LoadBalancer on port 80. Set answer = 'done'.",
        checks=[
            Check(lambda a, c: _public_kept(c),
                  "Keep Service api/api-public a LoadBalancer for the API's pods (selector "
                  "app: api) on port 80: the partners have its address."),
            Check(lambda a, c: c.service("api/api-public").external_traffic_policy == "Local",
                  _etp_hint),
            Check(lambda a, c: _probe(c, "partner"),
                  lambda a, c: "externalTrafficPolicy is Local, but: " + _seen(c, "partner")),
        ],
        explanation="With externalTrafficPolicy: Cluster (the default) every node accepts the "
        "load balancer's connections and may forward them to a pod on another node, so "
        "kube-proxy masquerades them (the reply must come back through the same node) and "
        "the pod sees a node's address. Local sends them only to pods on the node that "
        "received them, without masquerade: the cloud's health check (healthCheckNodePort) "
        "keeps nodes without an API pod out of the load balancer. The cost: the spread "
        "follows the pods per node, not per pod. Envoy Gateway's own Service is Local by "
        "default, which is why the Gateway path keeps the shopper's address in "
        "X-Forwarded-For.",
        solution="c.apply('''\n"
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata: {name: api-public, namespace: api}\n"
        "spec:\n"
        "  type: LoadBalancer\n"
        "  externalTrafficPolicy: Local\n"
        "  selector: {app: api}\n"
        "  ports: [{port: 80, targetPort: http}]\n"
        "''')\n"
        "answer = 'done'",
        cluster_setup=_alone("client-ip"),
    ),
    Exercise(
        "9.7",
        "The whole shop: when every check of kl.check_shop(c) passes, set answer = 'done'.",
        checks=[Check(lambda a, c: check_shop(c).ok, _all_hint)],
        explanation="Six faults from six lessons, each found with the tools of its lesson and "
        "fixed where it lives: a ReferenceGrant (06), a DNS rule in an egress policy (07), a "
        "targetPort (03), a route (02), a NAT gateway (04) and externalTrafficPolicy (05). "
        "The monitoring said what failed; the tools said why.",
        solution="The solutions of exercises 9.1 to 9.6, in any order:\n"
        "print(kl.exercise('9.1').show_solution())  # ... to 9.6\n"
        "answer = 'done'",
        cluster_setup=capstone_cluster,
    ),
]
