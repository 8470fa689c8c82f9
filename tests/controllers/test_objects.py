"""``Cluster.get`` and ``Cluster.delete`` for every kind of
``kubenet_lab.controllers.objects.KINDS``: the manifest ``kubectl get KIND NAME -o yaml``
prints (apiVersion, kind, the API server's metadata, the controller's status), the round
trip a kubectl user makes (``kubectl get -o yaml > f; kubectl apply -f f`` changes
nothing), and what the controllers do after a delete.

Sources: k8s.io/apimachinery ObjectMeta (uid, creationTimestamp, resourceVersion,
generation only where the kind's strategy sets it: pkg/registry/*/strategy.go
``PrepareForCreate``, and every custom resource), the NamespaceLifecycle admission plugin
(default, kube-system and kube-public are immortal), the garbage collector (a Deployment's
pods go with it), podgc (a deleted Node's pods), Envoy Gateway's infrastructure
(one envoy Deployment and Service per Gateway in envoy-gateway-system).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

import kubenet_lab as kl
from kubenet_lab.api.meta import uid
from kubenet_lab.controllers import gateway as envoy_gateway
from kubenet_lab.controllers.objects import KINDS
from kubenet_lab.model.names import timestamp

#: One object of every kind the lab models (with its add-ons' own objects around them).
MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data: {key: value}
---
apiVersion: v1
kind: Secret
metadata: {name: web-tls, namespace: shop}
type: kubernetes.io/tls
data: {tls.crt: SGVsbG8=, tls.key: SGVsbG8=}
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: shop, labels: {app: solo}}
spec:
  containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-solo, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: solo}}}], ports: [{port: 80}]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing, namespace: shop}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: shop}
spec:
  gatewayClassName: eg
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - name: https
    port: 443
    protocol: HTTPS
    hostname: shop.example.com
    tls: {certificateRefs: [{name: web-tls}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: eg}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}, {headers: [{name: v, value: x}]}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: a, value: b}]}}]
    backendRefs: [{name: web, port: 80}]
  - matches: [{path: {type: Exact, value: /old}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc, namespace: shop}
spec:
  parentRefs: [{name: eg, sectionName: http}]
  rules:
  - matches: [{method: {service: foo.Bar, method: Baz}}]
    backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: grant, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
  to: [{group: "", kind: Service}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: anp}
spec:
  priority: 5
  subject: {namespaces: {matchLabels: {team: a}}}
  ingress: [{action: Allow, from: [{namespaces: {matchLabels: {team: a}}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: cnp}
spec:
  tier: Admin
  priority: 3
  subject: {namespaces: {}}
  ingress: [{action: Accept, from: [{namespaces: {}}]}]
"""

API_VERSIONS = {
    "Namespace": "v1", "Node": "v1", "Pod": "v1", "Service": "v1", "ConfigMap": "v1",
    "Secret": "v1", "Deployment": "apps/v1", "NetworkPolicy": "networking.k8s.io/v1",
    "Ingress": "networking.k8s.io/v1", "IngressClass": "networking.k8s.io/v1",
    "ClusterNetworkPolicy": "policy.networking.k8s.io/v1alpha2",
    "AdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    "BaselineAdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    **dict.fromkeys(("GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant"),
                    "gateway.networking.k8s.io/v1"),
}
CLUSTER_SCOPED = {"Namespace", "Node", "IngressClass", "GatewayClass", "ClusterNetworkPolicy",
                  "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}
#: The kinds whose API strategy sets metadata.generation (every custom resource too);
#: Services, Nodes, Namespaces, ConfigMaps and Secrets have none.
WITH_GENERATION = {"Pod", "Deployment", "NetworkPolicy", "Ingress", "IngressClass",
                   "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
                   "GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant"}
#: The keys of ``status`` (None: the kind has no status, as ConfigMaps, Secrets,
#: NetworkPolicies, IngressClasses, the admin policies and ReferenceGrants have none).
STATUS_KEYS: dict[str, set[str] | None] = {
    "Namespace": {"phase"},
    "Node": {"addresses", "allocatable", "capacity", "conditions", "daemonEndpoints",
             "nodeInfo"},
    "Pod": {"conditions", "containerStatuses", "hostIP", "hostIPs", "observedGeneration",
            "phase", "podIP", "podIPs", "qosClass", "startTime"},
    "Deployment": {"availableReplicas", "conditions", "observedGeneration", "readyReplicas",
                   "replicas", "updatedReplicas"},
    "Service": {"loadBalancer"}, "Ingress": {"loadBalancer"},
    "GatewayClass": {"conditions"}, "Gateway": {"addresses", "conditions", "listeners"},
    "HTTPRoute": {"parents"}, "GRPCRoute": {"parents"},
    **dict.fromkeys(("ConfigMap", "Secret", "NetworkPolicy", "IngressClass", "ReferenceGrant",
                     "ClusterNetworkPolicy", "AdminNetworkPolicy",
                     "BaselineAdminNetworkPolicy")),
}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def build() -> kl.Cluster:
    c = kl.Cluster(workers=2)
    c.add_cloud_load_balancer()
    c.add_ingress_controller()
    c.add_gateway_controller()
    c.apply(MANIFESTS)
    return c


@pytest.fixture(scope="module")
def world() -> kl.Cluster:
    """Read-only: the tests that change a cluster build their own."""
    return build()


@pytest.fixture
def c() -> kl.Cluster:
    return build()


def refs(c: kl.Cluster, kind: str) -> list[str]:
    """What ``get``/``delete`` take for each object of ``kind``."""
    spec = KINDS[kind]
    return [o.ref if spec.namespaced else o.name for o in c.store.objects(spec.table)
            if spec.table != "AdminPolicy" or o.kind == kind]


def dump(c: kl.Cluster) -> dict[tuple[str, str], dict[str, Any]]:
    """``kubectl get`` of every object, with the one field that moves by itself: a
    Node's ``lastHeartbeatTime`` is the kubelet's last report, which is now."""
    out = {}
    for kind in KINDS:
        for ref in refs(c, kind):
            doc = c.get(kind, ref)
            if kind == "Node":
                for cond in doc["status"]["conditions"]:
                    cond.pop("lastHeartbeatTime")
            out[kind, ref] = doc
    return out


def test_the_fixture_has_an_object_of_every_kind(world):
    assert {kind for kind in KINDS if refs(world, kind)} == set(KINDS)
    assert set(KINDS) == set(API_VERSIONS) == set(STATUS_KEYS)


# ---------------------------------------------------------------- get
@pytest.mark.parametrize("kind", list(KINDS))
def test_get_prints_the_api_servers_metadata(world, kind):
    for ref in refs(world, kind):
        doc = world.get(kind, ref)
        obj = world.store.find(KINDS[kind].table, ref if KINDS[kind].table != "AdminPolicy"
                               else f"{kind}/{ref}")
        assert doc["apiVersion"] == API_VERSIONS[kind] and doc["kind"] == kind
        assert list(doc)[:3] == ["apiVersion", "kind", "metadata"]
        meta = doc["metadata"]
        namespace = ref.split("/")[0] if kind not in CLUSTER_SCOPED else None
        assert meta["name"] == ref.split("/")[-1]
        assert meta.get("namespace") == namespace
        assert ("generation" in meta) == (kind in WITH_GENERATION)
        if kind in WITH_GENERATION:
            assert meta["generation"] == world.store.generation_of(obj) >= 1
        assert RFC3339.match(meta["creationTimestamp"])
        assert meta["creationTimestamp"] == timestamp(world.store.created(obj))
        assert meta["uid"] == uid(kind, meta["name"], namespace)
        assert meta["resourceVersion"] == str(world.store.revision_of(obj))
        assert list(meta) == sorted(meta)


@pytest.mark.parametrize("kind", list(KINDS))
def test_get_prints_the_status_its_controller_writes(world, kind):
    for ref in refs(world, kind):
        doc = world.get(kind, ref)
        want = STATUS_KEYS[kind]
        if want is None:
            assert "status" not in doc
        else:
            assert set(doc["status"]) == want, ref


def test_statuses_say_what_the_controllers_did(world):
    assert world.get("ns", "shop")["status"] == {"phase": "Active"}
    node = world.get("node", "node-1")["status"]
    assert [(c["type"], c["status"]) for c in node["conditions"]][-1] == ("Ready", "True")
    dep = world.get("deploy", "shop/web")["status"]
    assert (dep["replicas"], dep["readyReplicas"], dep["availableReplicas"]) == (2, 2, 2)
    lb = world.get("svc", "shop/lb")["status"]["loadBalancer"]["ingress"][0]
    assert lb["ipMode"] == "VIP" and lb["ip"] == world.service("shop/lb").load_balancer_ip
    assert world.get("svc", "shop/web")["status"] == {"loadBalancer": {}}
    gc = world.get("gc", "eg")["status"]["conditions"]
    assert [(x["type"], x["status"], x["reason"]) for x in gc] == [("Accepted", "True",
                                                                    "Accepted")]
    gw = world.get("gtw", "shop/eg")["status"]
    assert {x["type"]: x["status"] for x in gw["conditions"]} == {"Accepted": "True",
                                                                  "Programmed": "True"}
    assert gw["addresses"][0]["type"] == "IPAddress"
    assert [(x["name"], x["attachedRoutes"]) for x in gw["listeners"]] == [("http", 2),
                                                                           ("https", 1)]
    route = world.get("httproutes", "shop/web")["status"]["parents"][0]
    assert route["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    assert route["parentRef"] == {"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                  "name": "eg"}
    assert {x["type"]: (x["status"], x["observedGeneration"]) for x in route["conditions"]} \
        == {"Accepted": ("True", 1), "ResolvedRefs": ("True", 1)}


def test_the_gateway_api_kinds_keep_their_labels():
    c = kl.Cluster(workers=1)
    c.add_gateway_controller()
    c.apply("""
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, labels: {team: a}}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, labels: {app: web}}
spec:
  parentRefs: [{name: eg}]
""")
    assert c.get("gtw", "eg")["metadata"]["labels"] == {"team": "a"}
    assert c.get("httproute", "web")["metadata"]["labels"] == {"app": "web"}
    before = c.get("httproute", "web")
    c.apply(before)
    assert c.get("httproute", "web") == before


def test_get_is_stable_and_reads_only(world):
    before = world.store.generation
    assert world.get("Pod", "shop/solo") == world.get("pods", "shop/solo")
    assert world.store.generation == before


def test_a_bare_name_is_in_default_and_aliases_are_kubectls():
    c = kl.Cluster()
    assert c.get("svc", "kubernetes") == c.get("Service", "default/kubernetes")
    assert c.get("SERVICES", "kubernetes")["kind"] == "Service"


@pytest.mark.parametrize("kind, ref, words", [
    ("gateways", "shop/eeg", "did you mean 'shop/eg'"),
    ("svc", "shop/nope", "does not exist"),
    ("foo", "x", "is not a kind the lab models"),
    ("HTTPRoute", "default/web", "the HTTPRoute objects are: shop/web"),
])
def test_get_of_nothing_is_not_found_with_suggestions(world, kind, ref, words):
    with pytest.raises(kl.NotFoundError, match=re.escape(words)):
        world.get(kind, ref)


# ---------------------------------------------------------------- the round trip
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("as_yaml", [False, True], ids=["dict", "yaml"])
def test_applying_what_get_prints_changes_nothing(c, kind, as_yaml):
    """``kubectl get KIND NAME -o yaml > f && kubectl apply -f f``: accepted, and every
    object reads the same afterwards (generation, resourceVersion, creationTimestamp,
    spec and status), the applied one and all the others."""
    for ref in refs(c, kind):
        before = dump(c)
        doc = c.get(kind, ref)
        c.apply(yaml.safe_dump(doc) if as_yaml else doc)
        after = dump(c)
        changed = sorted(k for k in before if before[k] != after.get(k))
        assert changed == [] and set(after) == set(before), (ref, changed)


def test_a_real_change_after_the_round_trip_bumps_generation(c):
    doc = c.get("httproute", "shop/web")
    doc["spec"]["hostnames"] = ["www.example.com"]
    c.apply(doc)
    after = c.get("httproute", "shop/web")
    assert after["metadata"]["generation"] == 2
    assert after["metadata"]["creationTimestamp"] == doc["metadata"]["creationTimestamp"]
    assert {x["observedGeneration"] for x in after["status"]["parents"][0]["conditions"]} \
        == {2}


# ---------------------------------------------------------------- delete
def _pods(c: kl.Cluster, namespace: str) -> list[str]:
    return [p.ref for p in c.pods if p.namespace == namespace]


def test_a_deployment_takes_its_pods(c):
    c.delete("deploy", "shop/web")
    assert _pods(c, "shop") == ["shop/solo"]
    with pytest.raises(kl.NotFoundError):
        c.get("Deployment", "shop/web")


def test_a_deleted_pod_of_a_deployment_is_replaced(c):
    old = [p for p in _pods(c, "shop") if p.startswith("shop/web-")]
    c.delete("po", old[0])
    new = [p for p in _pods(c, "shop") if p.startswith("shop/web-")]
    assert len(new) == 2 and old[0] not in new and old[1] in new
    c.delete("pod", "shop/solo")  # a bare pod has no controller to bring it back
    assert "shop/solo" not in _pods(c, "shop")


def test_a_deleted_nodes_pods_are_rescheduled(c):
    on_node = [p for p in c.pods if p.node == "node-1"]
    assert on_node
    c.delete("node", "node-1")
    assert [n.name for n in c.nodes] == ["control-plane", "node-2"]
    assert all(p.node != "node-1" for p in c.pods)
    assert c.get("deploy", "shop/web")["status"]["readyReplicas"] == 2


def test_a_namespace_takes_everything_in_it(c):
    envoy = envoy_gateway.envoy_name("shop", "eg")
    assert c.store.has_service(f"{envoy_gateway.NAMESPACE}/{envoy}")
    c.delete("ns", "shop")
    left = [(kind, ref) for kind in KINDS for ref in refs(c, kind)
            if ref.startswith("shop/") or ref == "shop"]
    assert left == []
    assert not c.store.has_service(f"{envoy_gateway.NAMESPACE}/{envoy}")
    assert refs(c, "AdminNetworkPolicy") == ["anp"]  # cluster-scoped: not in it


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public"])
def test_the_immortal_namespaces_are_refused_and_nothing_changes(c, name):
    before, clock = dump(c), c.store.clock
    with pytest.raises(kl.ConflictError, match="forbidden"):
        c.delete("namespace", name)
    assert dump(c) == before and c.store.clock == clock


@pytest.mark.parametrize("kind, ref, words", [
    ("foo", "x", "kinds are: "),
    ("svc", "shop/nope", "did you mean 'shop/web' or 'shop/lb'"),
    ("gtw", "shop/egg", "did you mean 'shop/eg'"),
    ("node", "node-9", "'node-1'"),
])
def test_deleting_nothing_is_not_found_and_changes_nothing(c, kind, ref, words):
    before, clock, pods = dump(c), c.store.clock, [p.ref for p in c.pods]
    with pytest.raises(kl.NotFoundError, match=re.escape(words)):
        c.delete(kind, ref)
    assert dump(c) == before and c.store.clock == clock and [p.ref for p in c.pods] == pods


def test_deleting_a_gateway_removes_its_envoy(c):
    envoy = f"{envoy_gateway.NAMESPACE}/{envoy_gateway.envoy_name('shop', 'eg')}"
    assert c.store.has_service(envoy) and c.get("deploy", envoy)
    c.delete("gtw", "shop/eg")
    assert not c.store.has_service(envoy)
    with pytest.raises(kl.NotFoundError):
        c.get("Deployment", envoy)
    assert not [p for p in _pods(c, envoy_gateway.NAMESPACE) if "envoy-shop-eg" in p]
    # the route stays, with no parent left to accept it
    assert c.get("httproutes", "shop/web")["status"]["parents"] == []


def test_envoy_gateway_recreates_a_deleted_envoy_service(c):
    envoy = f"{envoy_gateway.NAMESPACE}/{envoy_gateway.envoy_name('shop', 'eg')}"
    c.delete("svc", envoy)
    assert c.store.has_service(envoy)
    status = c.get("Gateway", "shop/eg")["status"]
    assert status["addresses"] and {x["type"]: x["status"] for x in status["conditions"]}[
        "Programmed"] == "True"


def test_deleting_a_route_or_grant_by_kubectls_names(c):
    c.delete("httproutes", "shop/web")
    c.delete("grpcroute", "shop/grpc")
    c.delete("refgrant", "shop/grant")
    assert refs(c, "HTTPRoute") == refs(c, "GRPCRoute") == refs(c, "ReferenceGrant") == []
    assert [x["attachedRoutes"] for x in c.get("gtw", "shop/eg")["status"]["listeners"]] \
        == [0, 0]


@pytest.mark.parametrize("kind, ref, words", [
    ("ns", "ingress-nginx", "holds the lab's add-on ingress-nginx"),
    ("ns", "envoy-gateway-system", "holds the lab's add-on envoy-gateway"),
    ("node", "control-plane", "control"),
])
def test_a_refused_delete_changes_nothing(c, kind, ref, words):
    before, clock = dump(c), c.store.clock
    with pytest.raises(kl.KubenetLabError, match=re.escape(words)):
        c.delete(kind, ref)
    assert dump(c) == before and c.store.clock == clock
