"""The capstone (lesson 09): the broken shop shows each fault as a real cluster would, each
fix repairs exactly its fault, the fixed shop passes every check, and each exercise's
checks and hints answer the right and the typical wrong answers.

The facts asserted come from upstream, cited at each test: the Gateway API conformance
suite, Envoy Gateway's and the echo server's sources, flannel's VXLAN backend, the AWS
VPC documentation and kubernetes.io.
"""

from __future__ import annotations

import pytest

import kubenet_lab as kl
from kubenet_lab.capstone import PARTNER, PAYMENT_PROVIDER, SHOP_ELASTIC_IP

#: What each fault alone breaks, as the shop's probes (check_shop) see it.
BREAKS = {
    "reference-grant": {"gateway-api"},
    "dns-policy": {"web-dns"},
    "target-port": {"gateway-api", "web-api"},
    "missing-route": {"api-dns", "network-model"},
    "no-nat": {"api-egress"},
    "client-ip": {"partner"},
}
#: The exercise that repairs each fault.
FIXED_BY = {"reference-grant": "9.1", "dns-policy": "9.2", "target-port": "9.3",
            "missing-route": "9.4", "no-nat": "9.5", "client-ip": "9.6"}


def solve(c: kl.Cluster, key: str) -> None:
    """Run the worked solution of exercise ``key`` on ``c``, as a learner would paste it."""
    exec(kl.exercise(key).solution, {"c": c, "kl": kl, "print": lambda *a: None})  # noqa: S102


def failing(c: kl.Cluster) -> set[str]:
    return {check.key for check in kl.check_shop(c).failing}


def pods(c: kl.Cluster, namespace: str, node: str | None = None) -> list[str]:
    return [p.ref for p in c.pods if p.namespace == namespace and node in (None, p.node)]


@pytest.fixture
def broken() -> kl.Cluster:
    return kl.capstone_cluster()


# ---------------------------------------------------------------------------- the cluster
def test_a_fresh_deterministic_cluster_each_call():
    a, b = kl.capstone_cluster(), kl.capstone_cluster()
    assert a is not b
    listing = "kubectl get pods -A -o wide"
    assert a.exec("control-plane", listing) == b.exec("control-plane", listing)
    a.apply(kl.exercise("9.1").solution.split("'''")[1])
    assert b.store.objects("ReferenceGrant") == []


def test_the_intended_architecture_passes_every_check():
    c = kl.capstone_cluster(fixed=True)
    report = kl.check_shop(c)
    assert report.ok, str(report)
    assert c.verify_network_model().ok
    assert c.network_policy_enforced
    # the Gateway keeps the shopper's address: Envoy Gateway's Service defaults to
    # externalTrafficPolicy Local (envoyproxy/gateway api/v1alpha1/shared_types.go,
    # KubernetesServiceSpec "+kubebuilder:default:=Local"), and Envoy appends the
    # downstream address to X-Forwarded-For (lowercase on HTTP/1.1, as Envoy writes names)
    t = c.trace("internet", "http://shop.example.com/api/products")
    assert ("x-forwarded-for", "203.0.113.50") in t.request_headers


def test_every_fault_at_once_fails_exactly_the_union(broken):
    assert failing(broken) == set().union(*BREAKS.values())
    assert "guardrails" not in failing(broken)  # the broken shop's policies still guard


@pytest.mark.parametrize("fault", list(BREAKS))
def test_each_fault_alone_and_its_fix(fault):
    """Each fault alone breaks what it should, and its exercise's solution repairs it."""
    c = kl.capstone_cluster(faults=[fault])
    assert failing(c) == BREAKS[fault]
    solve(c, FIXED_BY[fault])
    assert failing(c) == set()
    assert kl.exercise(FIXED_BY[fault]).check("done", c).passed


@pytest.mark.parametrize("fault", list(BREAKS))
def test_each_fix_repairs_exactly_its_fault_among_all(broken, fault):
    """On the shop with all six faults, one fix leaves the other faults' symptoms."""
    solve(broken, FIXED_BY[fault])
    others = set().union(*(keys for f, keys in BREAKS.items() if f != fault))
    assert failing(broken) == others


def test_the_six_fixes_in_any_order_make_the_shop_work(broken):
    for key in ["9.6", "9.4", "9.2", "9.5", "9.3", "9.1"]:
        solve(broken, key)
    assert kl.check_shop(broken).ok
    assert kl.exercise("9.7").check("done", broken).passed


def test_checking_changes_nothing():
    """check_shop probes on a copy of the kernels' state (design.md, determinism: a
    read-only call never changes what later calls return)."""
    checked, untouched = kl.capstone_cluster(), kl.capstone_cluster()
    kl.check_shop(checked)
    for node in ("node-1", "node-2", "node-3"):
        assert checked.exec(node, "conntrack -L") == untouched.exec(node, "conntrack -L")
    web = pods(checked, "web")[0]
    vip = checked.service("api/api").cluster_ip
    assert str(checked.trace(web, vip)) == str(untouched.trace(web, vip))


# ---------------------------------------------------------------------------- each fault
def test_reference_grant_fault_is_refnotpermitted_and_500(broken):
    """gateway-api conformance/tests/httproute-invalid-cross-namespace-backend-ref.go: a
    cross-namespace backendRef without a ReferenceGrant has ResolvedRefs False, reason
    RefNotPermitted, and its requests receive a 500."""
    parent = broken.get("HTTPRoute", "web/shop")["status"]["parents"][0]
    resolved = next(k for k in parent["conditions"] if k["type"] == "ResolvedRefs")
    assert (resolved["status"], resolved["reason"]) == ("False", "RefNotPermitted")
    accepted = next(k for k in parent["conditions"] if k["type"] == "Accepted")
    assert accepted["status"] == "True"  # the route is attached; only its reference fails
    assert broken.trace("internet", "http://shop.example.com/api/products").http_status == 500
    assert broken.trace("internet", "http://shop.example.com/").http_status == 200


def test_dns_policy_fault_denies_the_query_to_coredns(broken):
    """kubernetes.io, Network Policies: an egress-isolated pod may send only what a rule
    allows; a DNS query to a CoreDNS pod is such a packet."""
    web = pods(broken, "web")[0]
    dns = [p.ref for p in broken.pods if p.labels.get("k8s-app") == "kube-dns"][0]
    e = broken.explain(web, dns, 53, "UDP")
    assert not e.allowed and e.egress.tier == "NetworkPolicy"
    assert "web/web-egress" in e.egress.reason
    assert "connection timed out; no servers could be reached" in broken.exec(
        web, "nslookup api.api")
    # the API tier is not isolated for egress: its DNS works (on node-3)
    assert "Address: " in broken.exec(pods(broken, "api", "node-3")[0], "nslookup db.db")


def test_target_port_fault_is_refused_at_the_pod(broken):
    """The endpoints carry the Service's targetPort; a SYN to a port nothing listens on
    is answered with a reset (connection refused); echo-basic listens on HTTP_PORT, 3000
    by default (gateway-api conformance/echo-basic/echo-basic.go)."""
    slices = broken.endpoint_slices("api/api")
    assert {port for s in slices for _, port, _ in s.ports} == {8080}
    t = broken.trace(pods(broken, "web")[0], broken.service("api/api").cluster_ip)
    assert t.outcome == "refused"
    assert ":3000" in broken.exec(pods(broken, "api")[0], "ss -tlnp")
    # the partners' Service targets the named port http and works
    lb = broken.service("api/api-public").load_balancer_ip
    assert broken.trace(PARTNER, lb).delivered


def test_missing_route_fault_breaks_dns_on_one_node_only(broken):
    """flannel's VXLAN backend (flannel-io/flannel pkg/backend/vxlan/vxlan_network.go,
    Run) re-adds routes only on lease events; the pods of the node without the route to
    CoreDNS's podCIDR lose DNS (flannel issue #958), the others keep it."""
    cidr = broken.node("control-plane").pod_cidr
    assert cidr not in broken.exec("node-1", "ip route")
    assert f"{cidr} via {cidr.split('/')[0]} dev flannel.1 onlink" in broken.exec(
        "node-3", "ip route")
    on_1, on_3 = pods(broken, "api", "node-1"), pods(broken, "api", "node-3")
    assert on_1 and on_3
    assert "timed out" in broken.exec(on_1[0], "nslookup db.db")
    assert "Address: " in broken.exec(on_3[0], "nslookup db.db").split("Name:")[1]
    report = broken.verify_network_model()
    assert not report.ok and all(p.src_node == "node-1" or p.dst_node == "node-1"
                                 for p in report.problems)


def test_no_nat_fault_is_a_private_subnet_with_only_the_local_route(broken):
    """AWS VPC, NAT gateways: a private subnet reaches the internet through a route
    0.0.0.0/0 to a NAT gateway; with only the local route the packet has nowhere to go."""
    assert broken.route_table("private") == [("10.0.0.0/16", "local")]
    t = broken.trace(pods(broken, "api")[0], PAYMENT_PROVIDER)
    assert not t.delivered and t.outcome == "dropped"


def test_client_ip_fault_is_kube_proxys_masquerade(broken):
    """kubernetes.io, Create an External Load Balancer, "Preserving the client source IP":
    with externalTrafficPolicy Cluster the source is rewritten to a node's address; with
    Local it is the client's."""
    lb = broken.service("api/api-public").load_balancer_ip
    t = broken.trace(PARTNER, lb)
    assert t.delivered and t.source_ip_seen != PARTNER
    assert broken.owner_of(t.source_ip_seen) is None or t.source_ip_seen.startswith("10.")
    solve(broken, "9.6")
    t = broken.trace(PARTNER, lb)
    assert t.delivered and t.source_ip_seen == PARTNER


def test_the_network_model_sets_policies_aside():
    """kubernetes.io, Services, Load Balancing, and Networking: the pod network ensures
    that "(barring intentional network segmentation)" all pods can communicate; a
    NetworkPolicy is such segmentation, so it is no break of the model, while trace still
    enforces it."""
    c = kl.Cluster(workers=2, network_policy="kube-network-policies")
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-2")
    c.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "deny-all"}, "spec": {"podSelector": {}}})
    assert not c.trace("default/a", "default/b").delivered
    report = c.verify_network_model()
    assert report.ok
    assert "1 network policy set aside" in report.note
    c.exec("node-1", "ip route del 10.244.2.0/24")  # a real fault is still found
    assert not c.verify_network_model().ok


# ---------------------------------------------------------------------------- bad input
def test_bad_arguments_raise_the_labs_errors():
    with pytest.raises(kl.ManifestError, match="not a fault of the capstone"):
        kl.capstone_cluster(faults=["no-such-fault"])
    with pytest.raises(kl.ManifestError, match="fixed=True"):
        kl.capstone_cluster(fixed=True, faults=["no-nat"])
    with pytest.raises(kl.ManifestError, match="not a check of the shop"):
        kl.check_shop(kl.capstone_cluster(fixed=True), only=["nope"])
    with pytest.raises(kl.NotFoundError):
        kl.check_shop(kl.Cluster(workers=1))
    with pytest.raises(kl.KubenetLabError):
        kl.capstone_cluster(faults="no-nat")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- exercises
def hint(key: str, c: kl.Cluster) -> str:
    feedback = kl.exercise(key).check("done", c)
    assert not feedback.passed
    return feedback.message


def test_unanswered_exercises_say_so(broken):
    for key in ["9.1", "9.2", "9.3", "9.4", "9.5", "9.6", "9.7"]:
        feedback = kl.exercise(key).check(None, broken)
        assert not feedback.answered and not feedback.passed


def test_9_1_hints(broken):
    assert "No ReferenceGrant yet" in hint("9.1", broken)
    wrong_side = kl.exercise("9.1").solution.split("'''")[1].replace(
        "namespace: api}", "namespace: web}")
    broken.apply(wrong_side)
    assert "namespace of the object referred TO" in hint("9.1", broken)
    broken.delete("ReferenceGrant", "web/web-routes")
    wrong_kind = kl.exercise("9.1").solution.split("'''")[1].replace(
        "kind: HTTPRoute", "kind: Gateway")
    broken.apply(wrong_kind)
    assert "kind HTTPRoute" in hint("9.1", broken)
    broken.delete("ReferenceGrant", "api/web-routes")
    # dodging the reference: the route sends /api to web's own Service
    route = broken.get("HTTPRoute", "web/shop")
    for rule in route["spec"]["rules"]:
        for ref in rule["backendRefs"]:
            ref.pop("namespace", None)
            ref["name"] = "web"
    broken.apply({k: route[k] for k in ("apiVersion", "kind", "metadata", "spec")})
    assert "Keep web/shop" in hint("9.1", broken)


def test_9_1_right_answer_passes_even_before_the_target_port_fix(broken):
    solve(broken, "9.1")
    feedback = kl.exercise("9.1").check("done", broken)
    assert feedback.passed and "9.3" in feedback.message
    assert broken.trace("internet", "http://shop.example.com/api/products").http_status == 503


def _web_egress(*rules: str) -> str:
    head = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            "metadata: {name: web-egress, namespace: web}\nspec:\n  podSelector: {}\n"
            "  policyTypes: [Egress]\n  egress:\n")
    return head + "".join(rules)


API_RULE = ("  - to:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
            "api}}\n      podSelector: {matchLabels: {app: api}}\n")


def test_9_2_hints(broken):
    broken.delete("NetworkPolicy", "web/web-egress")
    assert "web/web-egress is gone" in hint("9.2", broken)
    broken.apply(_web_egress(API_RULE, "  - to:\n    - ipBlock: {cidr: 10.96.0.10/32}\n"
                             "    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n"))
    assert "ipBlock with the kube-dns ClusterIP never matches" in hint("9.2", broken)
    broken.apply(_web_egress(API_RULE, "  - to:\n    - podSelector: {matchLabels: "
                             "{k8s-app: kube-dns}}\n    ports: [{protocol: UDP, port: 53}]\n"))
    assert "A podSelector alone selects pods of the policy's own namespace" in hint(
        "9.2", broken)
    dns = ("  - to:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
           "kube-system}}\n      podSelector: {matchLabels: {k8s-app: kube-dns}}\n")
    broken.apply(_web_egress(API_RULE, dns + "    ports: [{protocol: UDP, port: 53}]\n"))
    assert "TCP 53 is not" in hint("9.2", broken)
    broken.apply(_web_egress(API_RULE, dns))  # every port of the CoreDNS pods
    assert "Narrow the rule to UDP and TCP 53" in hint("9.2", broken)
    broken.apply(_web_egress(dns + "    ports: [{protocol: UDP, port: 53}, "
                             "{protocol: TCP, port: 53}]\n"))
    assert "The rule for the API went missing" in hint("9.2", broken)
    solve(broken, "9.2")
    assert kl.exercise("9.2").check("done", broken).passed


def test_9_3_hints(broken):
    svc = "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: api}\nspec:\n" \
          "  selector: {app: api}\n  ports: [{port: %s, targetPort: %s}]\n"
    broken.apply(svc % (3000, 3000))  # the port changed instead of the targetPort
    assert "Keep the Service's port 80" in hint("9.3", broken)
    broken.apply(svc % (80, 3001))  # the h2c port: a socket, but not the HTTP one
    assert "PORTS 3001" in hint("9.3", broken)
    broken.apply(svc % (80, 8080))
    dep = broken.get("Deployment", "api/api")
    dep["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"name": "http", "containerPort": 8080}]
    broken.apply({k: dep[k] for k in ("apiVersion", "kind", "metadata", "spec")})
    assert "Put the Deployment api back" in hint("9.3", broken)


def test_9_4_hints(broken):
    assert "Compare that node's ip route" in hint("9.4", broken)
    # host-gw style, over eth0: EC2's source/destination check drops the pod's packets
    broken.exec("node-1", "ip route add 10.244.0.0/24 via 10.0.1.4 dev eth0")
    message = hint("9.4", broken)
    assert "dev flannel.1 onlink" in message and "ip route replace" in message
    broken.exec("node-1", "ip route replace 10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink")
    assert kl.exercise("9.4").check("done", broken).passed


def test_9_5_hints(broken):
    assert "add_nat_gateway" in hint("9.5", broken)
    broken.add_nat_gateway(public_ip="198.51.100.40")
    message = hint("9.5", broken)
    assert "198.51.100.40" in message and SHOP_ELASTIC_IP in message
    assert "kl.capstone_cluster()" in message


def test_9_6_hints(broken):
    svc = broken.get("Service", "api/api-public")
    spec = {k: svc["spec"][k] for k in ("type", "selector", "ports")}
    doc = {"apiVersion": "v1", "kind": "Service", "metadata":
           {"name": "api-public", "namespace": "api"}, "spec": spec}
    broken.apply({**doc, "spec": {**spec, "internalTrafficPolicy": "Local"}})
    assert "internalTrafficPolicy is about connections from inside" in hint("9.6", broken)
    broken.delete("Service", "api/api-public")
    assert "Keep Service api/api-public a LoadBalancer" in hint("9.6", broken)


def test_9_7_hints(broken):
    assert "internet -> Gateway -> API" in hint("9.7", broken)
    for key in ["9.1", "9.2", "9.3", "9.4", "9.5", "9.6"]:
        solve(broken, key)
    broken.delete("ClusterNetworkPolicy", "protect-db")
    broken.delete("NetworkPolicy", "db/db-ingress")
    broken.delete("NetworkPolicy", "web/web-egress")
    assert "the policies no longer guard the database" in hint("9.7", broken)


# ---------------------------------------------------------------------------- the picture
@pytest.mark.parametrize("fixed", [True, False])
def test_the_picture_is_readable_and_fits(fixed, tmp_path):
    """At most 1,000 pixels wide at 100 dpi, no text under 9 pixels at that size, and
    every flow coloured by its check."""
    import matplotlib.image as mpimg

    fig = kl.check_shop(kl.capstone_cluster(fixed=fixed)).draw()
    path = tmp_path / "shop.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    height, width = mpimg.imread(path).shape[:2]
    assert width <= 1000 and height < 700
    ax = fig.axes[0]
    sizes = [t.get_fontsize() * 100 / 72 for t in ax.texts]
    assert sizes and min(sizes) >= 9
    assert ax.get_title(loc="left") == ("The shop: all 10 checks pass" if fixed
                                        else "The shop: 3 of 10 checks pass")
    text = " ".join(t.get_text() for t in ax.texts)
    assert "Gateway infra/shop" in text and "93.184.216.34:443" in text
    assert ("Elastic IP 198.51.100.20" in text) is fixed


def test_the_report_as_text():
    text = str(kl.check_shop(kl.capstone_cluster()))
    lines = text.splitlines()
    assert lines[-1] == "3 of 10 checks pass."
    assert all(len(line) <= 100 for line in lines)
    assert "[FAIL] partner -> public API" in text


@pytest.mark.parametrize("fault", list(BREAKS))
def test_setup_builds_the_fault_alone_and_the_fix_runs_twice(fault):
    """Each exercise's setup() is a fresh shop with its fault alone; its solution can run
    any number of times (apply, ip route replace, one NAT gateway)."""
    ex = kl.exercise(FIXED_BY[fault])
    first, second = ex.setup(), ex.setup()
    assert first is not second and not ex.check("done", first).passed
    assert failing(first) == BREAKS[fault]
    solve(first, ex.key)
    solve(first, ex.key)
    assert ex.check("done", first).passed and kl.check_shop(first).ok
    assert kl.exercise("9.7").setup().exec("node-1", "ip route") == kl.capstone_cluster().exec(
        "node-1", "ip route")


def test_a_deleted_part_of_the_shop_is_a_hint_not_a_crash(broken):
    broken.delete("Service", "db/db")
    assert "lost a part it needs: Service db/db" in hint("9.7", broken)
    with pytest.raises(kl.NotFoundError, match="db/db"):
        kl.check_shop(broken)
