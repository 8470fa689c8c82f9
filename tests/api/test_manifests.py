"""apply(): YAML, dicts, lists, kind: List; all or nothing; errors naming the field."""

import textwrap

import pytest

import kubenet_lab as kl

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  nodeName: node-2
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - containerPort: 80
      name: http
status:
  podIP: 10.244.2.9
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: a}}\n"


@pytest.fixture
def c():
    return kl.Cluster(workers=2)


def test_multi_document_yaml_applies_in_order(c):
    ns, pod = c.apply(NAMESPACE + "---" + POD)
    assert ns.labels == {"kubernetes.io/metadata.name": "shop", "team": "a"}
    assert (pod.ref, pod.node, pod.ip) == ("shop/web", "node-2", "10.244.2.9")
    assert pod.containers[0].ports[0] == kl.ContainerPort(80, "http", "TCP")


def test_kind_list_as_kubectl_get_prints_it(c):
    import yaml

    doc = {"apiVersion": "v1", "kind": "List",
           "items": [yaml.safe_load(NAMESPACE), yaml.safe_load(POD)]}
    applied = c.apply(yaml.safe_dump(doc))
    assert [type(o).__name__ for o in applied] == ["Namespace", "Pod"]


def test_a_path_and_a_list_of_dicts(c, tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text(NAMESPACE + "---" + POD)
    assert len(c.apply(str(path))) == 2
    c2 = kl.Cluster(workers=2)
    import yaml

    assert len(c2.apply([yaml.safe_load(NAMESPACE), yaml.safe_load(POD)])) == 2


def test_deployment_makes_pods_named_as_a_replicaset_does(c):
    [dep] = c.apply(textwrap.dedent("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 3
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: nginx, image: nginx:1.27, ports: [{containerPort: 80}]}]
    """))
    pods = [p for p in c.pods if p.owner == "Deployment default/web"]
    assert len(pods) == 3
    for p in pods:
        name, template_hash, suffix = p.name.rsplit("-", 2)
        assert name == "web" and template_hash == dep.template_hash and len(suffix) == 5
        assert p.labels == {"app": "web", "pod-template-hash": dep.template_hash}
    assert sorted(p.node for p in pods) == ["node-1", "node-1", "node-2"]


def test_same_manifest_gives_same_pod_names():
    manifest = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n"
                "  replicas: 2\n  selector: {matchLabels: {app: api}}\n  template:\n"
                "    metadata: {labels: {app: api}}\n    spec:\n"
                "      containers: [{name: api, image: api:1}]\n")
    names = []
    for _ in range(2):
        c = kl.Cluster(workers=1)
        c.apply(manifest)
        names.append([p.name for p in c.pods if p.namespace == "default"])
    assert names[0] == names[1]


def test_scaling_a_deployment_down_and_changing_its_template(c):
    base = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n"
            "  replicas: %d\n  selector: {matchLabels: {app: api}}\n  template:\n"
            "    metadata: {labels: {app: api}}\n    spec:\n"
            "      containers: [{name: api, image: %s}]\n")
    c.apply(base % (3, "api:1"))
    c.apply(base % (1, "api:1"))
    assert len([p for p in c.pods if p.namespace == "default"]) == 1
    old = {p.name for p in c.pods if p.namespace == "default"}
    c.apply(base % (1, "api:2"))
    new = {p.name for p in c.pods if p.namespace == "default"}
    assert len(new) == 1 and new != old


def test_node_manifest_honours_pod_cidr_and_internal_ip(c):
    [node] = c.apply({"apiVersion": "v1", "kind": "Node",
                      "metadata": {"name": "node-9"},
                      "spec": {"podCIDR": "10.244.9.0/24"},
                      "status": {"addresses": [{"type": "InternalIP", "address": "10.0.1.50"}]}})
    assert (node.ip, node.pod_cidr) == ("10.0.1.50", "10.244.9.0/24")


def test_ready_condition_false_is_kept(c):
    not_ready = "  conditions: [{type: Ready, status: 'False'}]"
    [pod] = c.apply(POD.replace("  podIP: 10.244.2.9", not_ready)
                    .replace("namespace: shop", "namespace: default"))
    assert pod.ready is False


@pytest.mark.parametrize("bad, field, value", [
    (POD.replace("containerPort: 80", "containerPort: 70000"),
     "spec.containers[0].ports[0].containerPort", 70000),
    (POD.replace("containerPort: 80", "containerPort: 0"),
     "spec.containers[0].ports[0].containerPort", 0),
    (POD.replace("name: web\n", "name: Web_1\n"), "metadata.name", "Web_1"),
    (POD.replace("    image: nginx:1.27\n", ""), "spec.containers[0].image", None),
    (POD.replace("name: http", "name: this-name-is-far-too-long"),
     "spec.containers[0].ports[0].name", "this-name-is-far-too-long"),
    (POD.replace("containerPort: 80\n", "containerPort: 80\n      protocol: ICMP\n"),
     "spec.containers[0].ports[0].protocol", "ICMP"),
    (POD.replace("podIP: 10.244.2.9", "podIP: 10.244.1.9"), "status.podIP", "10.244.1.9"),
    (POD.replace("podIP: 10.244.2.9", "podIP: 10.244.2.1"), "status.podIP", "10.244.2.1"),
])
def test_invalid_pods_name_the_field_and_value(c, bad, field, value):
    with pytest.raises(kl.ManifestError) as err:
        c.apply(NAMESPACE + "---" + bad)
    assert err.value.field == field
    assert err.value.value == value
    assert field in str(err.value) and str(err.value).startswith("Pod shop/")


def test_failed_apply_changes_nothing_even_after_valid_documents(c):
    before = ([p.ref for p in c.pods], [n.name for n in c.nodes], [n.name for n in c.namespaces])
    bad = POD.replace("containerPort: 80", "containerPort: 70000")
    with pytest.raises(kl.ManifestError):
        c.apply(NAMESPACE + "---\napiVersion: v1\nkind: Node\nmetadata: {name: node-5}\n---" + bad)
    after = ([p.ref for p in c.pods], [n.name for n in c.nodes], [n.name for n in c.namespaces])
    assert after == before
    # and the allocators did not advance: the next node still gets the next block
    assert c.add_node("node-3").pod_cidr == "10.244.3.0/24"


def test_ip_already_in_use_is_a_conflict(c):
    c.apply(NAMESPACE + "---" + POD)
    with pytest.raises(kl.ConflictError, match="already used by Pod shop/web"):
        c.apply(POD.replace("name: web\n", "name: web2\n"))


def test_malformed_yaml_says_where():
    with pytest.raises(kl.ManifestError, match="line 2, column 15.*mapping values"):
        kl.Cluster().apply("kind: Pod\nmetadata: name: web\n")


def test_unsupported_kind_lists_the_supported_ones(c):
    with pytest.raises(kl.UnsupportedKindError) as err:
        c.apply("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web}\n")
    msg = str(err.value)
    assert "is not a kind the lab models" in msg
    for kind in ("Namespace", "Node", "Pod", "Deployment", "Service", "NetworkPolicy",
                 "Secret", "Gateway", "HTTPRoute", "ReferenceGrant"):
        assert kind in msg


def test_wrong_api_version_for_a_known_kind(c):
    with pytest.raises(kl.UnsupportedKindError, match="apiVersion: apps/v1"):
        c.apply("apiVersion: v1\nkind: Deployment\nmetadata: {name: web}\n")


def test_unknown_node_in_a_pod(c):
    with pytest.raises(kl.NotFoundError, match="spec.nodeName"):
        c.apply(POD.replace("node-2", "node-7").replace("namespace: shop", "namespace: default"))


def test_missing_namespace(c):
    with pytest.raises(kl.NotFoundError, match="Namespace shop"):
        c.apply(POD)


def test_selector_must_match_template_labels(c):
    with pytest.raises(kl.ManifestError, match="selector"):
        c.apply("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n"
                "  selector: {matchLabels: {app: api}}\n  template:\n"
                "    metadata: {labels: {app: other}}\n    spec:\n"
                "      containers: [{name: api, image: api:1}]\n")


def test_duplicate_container_port_is_a_warning_and_the_second_container_crash_loops(c):
    pod = c.add_pod("default/clash", node="node-1", containers=[
        kl.Container("web", ports=[80]), kl.Container("metrics", ports=[80])])
    assert pod.warnings == ("spec.containers[1].ports[0]: duplicate port definition with "
                            "spec.containers[0].ports[0]",)
    assert pod.crashing == ("metrics",)
    assert pod.ready is False
    assert pod.listener(80) == "web"


def test_duplicate_port_names_are_rejected(c):
    with pytest.raises(kl.ManifestError, match="Duplicate value"):
        c.add_pod("default/x", node="node-1", containers=[
            kl.Container("a", ports=[kl.ContainerPort(80, "http")]),
            kl.Container("b", ports=[kl.ContainerPort(81, "http")])])


def test_reapplying_a_pod_may_change_labels_only(c):
    c.apply(NAMESPACE + "---" + POD)
    [pod] = c.apply(POD.replace("{app: web}", "{app: web, tier: front}"))
    assert pod.labels == {"app": "web", "tier": "front"}
    with pytest.raises(kl.ManifestError, match="Forbidden"):
        c.apply(POD.replace("containerPort: 80", "containerPort: 81"))


def test_domain_names_is_named_as_a_peer_the_lab_does_not_model():
    """ClusterNetworkPolicy v1alpha2 has an egress peer ``domainNames``
    (network-policy-api apis/v1alpha2): the lab says it does not model it, instead of
    calling it an unknown field."""
    with pytest.raises(kl.ManifestError, match="domainNames.*does not model"):
        kl.Cluster().apply("""
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: dns}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {}}
  egress:
  - action: Accept
    to: [{domainNames: ["*.example.com"]}]
""")
