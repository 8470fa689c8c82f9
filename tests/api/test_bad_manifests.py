"""Bad input never escapes: every malformed manifest ``apply`` is given is refused with one
of the package's own errors, naming the object, the field and the value, in a message a
person can read, quickly, and the cluster is left as it was."""

import os
import time

import pytest

import kubenet_lab as kl
from kubenet_lab.api.load import MAX_BYTES, MAX_DEPTH, MAX_VALUES, load_documents
from kubenet_lab.exceptions import MESSAGE_LIMIT, describe

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}


def pod(**spec):
    container = {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "default"},
            "spec": {"containers": [container], **spec}}


def service(**spec):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}}


@pytest.fixture(scope="module")
def c():
    return kl.Cluster(workers=1)


def state(c):
    return (c.exec("node-1", "kubectl get all -A"), c.iptables_save("node-1"),
            [n.name for n in c.namespaces])


def refused(c, src, error=kl.ManifestError):
    """Apply ``src``: it must fail with ``error`` in under a second, change nothing and
    say so in at most MESSAGE_LIMIT characters."""
    before = state(c)
    start = time.perf_counter()
    with pytest.raises(error) as err:
        c.apply(src)
    assert time.perf_counter() - start < 1
    assert len(str(err.value)) <= MESSAGE_LIMIT
    assert state(c) == before
    return err.value


# ---------------------------------------------------------------- wrong types
def test_a_dict_as_the_kind(c):
    err = refused(c, {"kind": {}})
    assert (err.field, err.value) == ("kind", {})
    assert str(err) == ("manifest: kind: {} Invalid value: must be of type string "
                        "(write kind as a string, e.g. Pod)")


@pytest.mark.parametrize("doc, field", [
    ({"kind": "Pod", "apiVersion": ["v1"]}, "apiVersion"),
    ({"kind": "Pod", "apiVersion": "v1", "metadata": "a"}, "metadata"),
    ({"kind": "List", "apiVersion": "v1", "items": "a"}, "items"),
    ({"kind": "List", "apiVersion": "v1", "items": ["a"]}, "items[0]"),
    ({"kind": "List", "apiVersion": "v1", "items": [{"kind": "List", "items": [{"kind": 1}]}]},
     "items[0].items[0].kind"),
])
def test_the_shape_of_a_document(c, doc, field):
    assert refused(c, doc).field == field


def test_documents_that_are_not_mappings(c):
    err = refused(c, "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n- a\n")
    assert str(err).startswith("document 2: ['a'] is not a mapping")


@pytest.mark.parametrize("doc, field, problem", [
    (pod(containers=[{"name": 5, "image": "nginx"}]), "spec.containers[0].name",
     "5 Invalid value: must be of type string"),
    (pod(containers=[{"name": {"a": 1}, "image": "nginx"}]), "spec.containers[0].name",
     "{'a': 1} Invalid value: must be of type string"),
    (pod(containers=[{"name": "web", "image": "nginx", "ports": [{"containerPort": True}]}]),
     "spec.containers[0].ports[0].containerPort", "True Invalid value: must be of type integer"),
    (pod(containers=[{"name": "web", "image": "nginx", "ports": [{"containerPort": "80"}]}]),
     "spec.containers[0].ports[0].containerPort", "'80' Invalid value: must be of type integer"),
    (pod(containers="web"), "spec.containers", "'web' Invalid value: must be of type array"),
    (pod(nodeName={"name": "node-1"}), "spec.nodeName", "must be of type string"),
    (pod(hostNetwork="yes"), "spec.hostNetwork", "must be of type boolean"),
    (pod(tolerations=[{"key": "a", "operator": "Exists", "value": "b"}]),
     "spec.tolerations[0].operator", "value must be empty when `operator` is 'Exists'"),
    (pod(tolerations=[{"key": "a", "effect": "Sometimes"}]), "spec.tolerations[0].effect",
     'Unsupported value: supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'),
    (pod(tolerations=[{"key": ["a"]}]), "spec.tolerations[0].key", "must be of type string"),
    (service(ports=[{"port": 80, "targetPort": {}}]), "spec.ports[0].targetPort",
     "must be of type integer"),
    (service(ports=[{"port": 80, "targetPort": "²"}]), "spec.ports[0].targetPort",
     "is not a valid port name"),
    (service(ports=[{"port": 80, "targetPort": "9" * 5000}]), "spec.ports[0].targetPort",
     "must be of type integer"),
    (service(clusterIP=["10.96.0.50"]), "spec.clusterIP", "must be of type string"),
    (service(type={"a": 1}), "spec.type", "must be of type string"),
    (service(sessionAffinity="ClientIP", sessionAffinityConfig={
        "clientIP": {"timeoutSeconds": True}}),
     "spec.sessionAffinityConfig.clientIP.timeoutSeconds", "must be greater than 0"),
    (service(selector=[["app", "web"]]), "spec.selector", "must be of type object"),
])
def test_fields_of_the_wrong_type(c, doc, field, problem):
    err = refused(c, doc)
    assert err.field == field
    assert problem in str(err)


@pytest.mark.parametrize("labels, field", [
    ([["app", "web"]], "metadata.labels"),  # dict() would have made {"app": "web"} of it
    ("app=web", "metadata.labels"),
    ({"app": {"a": "b"}}, "metadata.labels.app"),
    ({"app": None}, "metadata.labels.app"),
    ({"app": 10 ** 5000}, "metadata.labels.app"),
])
def test_labels_of_the_wrong_shape(c, labels, field):
    doc = {**NS, "metadata": {"name": "shop", "labels": labels}}
    assert refused(c, doc).field == field


@pytest.mark.parametrize("doc, field", [
    ({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-9"},
      "status": {"addresses": [{"type": {}, "address": "10.0.1.50"}]}}, "status.addresses[0].type"),
    ({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-9"},
      "status": {"addresses": ["10.0.1.50"]}}, "status.addresses[0]"),
    ({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-9", "labels": [1]}},
     "metadata.labels"),
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": 5}}, "metadata.name"),
    ({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
      "metadata": {"name": "p", "namespace": {}}, "spec": {"podSelector": {}}},
     "metadata.namespace"),
    ({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p"},
      "spec": {"podSelector": {"matchExpressions": [{"key": "a", "operator": "In",
                                                     "values": [{}]}]}}},
     "spec.podSelector.matchExpressions[0].values[0].a"),
    ({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p"},
      "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 1.5}]}]}},
     "spec.ingress[0].ports[0].port"),
    ({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
      "metadata": {"name": "p"}, "spec": {"priority": 5, "subject": {"namespaces": {}},
                                          "ingress": [{"name": ["x"], "action": "Allow",
                                                       "from": [{"namespaces": {}}]}]}},
     "spec.ingress[0].name"),
    ({"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
      "metadata": {"name": "p"}, "spec": {"tier": "Admin", "priority": "5",
                                          "subject": {"namespaces": {}}}}, "spec.priority"),
    ({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
      "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}},
               "tls": [{"secretName": ["s"]}]}}, "spec.tls[0].secretName"),
    ({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
      "spec": {"ingressClassName": 1, "defaultBackend": {
          "service": {"name": "web", "port": {"number": 80}}}}}, "spec.ingressClassName"),
    ({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
      "metadata": {"name": "nginx", "annotations": ["a"]},
      "spec": {"controller": "k8s.io/ingress-nginx"}}, "metadata.annotations"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m"},
      "data": {"a b": "c"}}, "data.a b"),
    ({"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "ip-masq-agent", "namespace": "kube-system"},
      "data": {"config": "resyncInterval: [60s]"}}, "data.config.resyncInterval"),
    ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
      "spec": {"selector": {"matchLabels": {"app": "d"}},
               "template": {"metadata": {"labels": "app"}, "spec": {"containers": []}}}},
     "spec.template.metadata.labels"),
    ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
      "spec": {"selector": {"matchLabels": {"app": "d"}},
               "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [
                   {"name": "d", "image": "d", "ports": [{"containerPort": 0}]}]}}}},
     "spec.template.spec.containers[0].ports[0].containerPort"),
])
def test_every_kind_names_the_field(c, doc, field):
    assert refused(c, doc).field == field


def test_null_is_an_absent_field(c):
    [p] = c.apply(pod(nodeName=None, tolerations=None) | {"status": {"podIP": None}})
    assert p.node == "node-1"
    c.delete_pod("default/a")


# ---------------------------------------------------------------- JSON values
@pytest.mark.parametrize("value, problem", [
    (object(), "is a object, not a JSON value"),
    ({"a"}, "is a set, not a JSON value"),
    (b"web", "is a bytes, not a JSON value"),
    (float("nan"), "is not a JSON number"),
    ("\ud800", "is not valid Unicode"),
])
def test_python_values_json_cannot_carry(c, value, problem):
    err = refused(c, {**NS, "metadata": {"name": "shop", "labels": {"app": value}}})
    assert err.field == "metadata.labels.app"
    assert problem in str(err)


def test_a_tuple_is_a_list():
    [doc] = load_documents({"kind": "Pod", "spec": {"containers": ({"name": "a"},)}})
    assert doc["spec"]["containers"] == [{"name": "a"}]


def test_scalar_keys_become_strings_as_sigs_k8s_io_yaml_writes_them():
    [doc] = load_documents("1: a\ntrue: b\n1.5: c\n2001-02-03: d\n")
    assert doc == {"1": "a", "true": "b", "1.5": "c", "2001-02-03": "d"}


@pytest.mark.parametrize("src", ["~: a\n", "? [a]\n: b\n", {(1, 2): "a"}, {None: "a"},
                                 {1: "a", "1": "b"}])
def test_keys_json_cannot_have(c, src):
    refused(c, src)


# ---------------------------------------------------------------- YAML tags
@pytest.mark.parametrize("text, problem", [
    ("bogus: !!timestamp 'x'", "cannot decode !!str `x` as a !!timestamp"),
    ("a: !!int 'abc'", "cannot decode !!str `abc` as a !!int"),
    ("a: !!int ''", "cannot decode !!str `` as a !!int"),
    ("a: !!bool 'maybe'", "cannot decode !!str `maybe` as a !!bool"),
    ("a: !!float 'x'", "cannot decode !!str `x` as a !!float"),
    ("a: 1" + "0" * 5000, "as a !!int"),
    ("a: &a [*a]", "anchor 'a' value contains itself"),
    ("a: *b", "found undefined alias"),
])
def test_yaml_values_the_tags_cannot_describe(c, text, problem):
    assert problem in str(refused(c, text))


def test_yaml_standard_tags_read_as_json():
    [doc] = load_documents("a: 2001-02-03 10:00:00\nb: !!binary aGVsbG8=\nc: 2001-13-45\n"
                           "d: !!omap [x: 1]\n")
    assert doc == {"a": "2001-02-03 10:00:00", "b": "hello", "c": "2001-13-45", "d": [{"x": 1}]}


def test_a_set_of_labels_is_a_map_of_nulls(c):
    err = refused(c, "apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: !!set {a, b}}")
    assert (err.field, err.value) == ("metadata.labels.a", None)


def test_object_tags_are_refused_without_running_anything(c, tmp_path):
    marker = tmp_path / "ran"
    err = refused(c, f"a: !!python/object/apply:os.system ['touch {marker}']")
    assert "could not determine a constructor" in str(err)
    assert not marker.exists()


# ---------------------------------------------------------------- limits
def test_deep_nesting_is_refused_before_anything_recurses(c):
    deep = "[" * 3000 + "]" * 3000
    assert f"nested more than {MAX_DEPTH} levels" in str(refused(
        c, f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {deep}}}"))
    assert f"nested more than {MAX_DEPTH} levels" in str(refused(
        c, "apiVersion: v1\nkind: Namespace\nmetadata:\n" + "".join(
            " " * i + f"k{i}:\n" for i in range(1, 150))))
    nested = "{kind: List, apiVersion: v1, items: [" * 2000 + "]}" * 2000
    assert f"nested more than {MAX_DEPTH} levels" in str(refused(c, nested))
    value = inner = {}
    for _ in range(3000):
        inner["a"] = {}
        inner = inner["a"]
    err = refused(c, {**NS, "metadata": {"name": value}})
    assert err.field.startswith("metadata.name.a.a.a")
    listed = []
    for _ in range(3000):
        listed = [listed]
    refused(c, listed)


def test_an_alias_deep_in_another_anchor_counts_its_depth(c):
    half = "[" * 60 + "]" * 60
    assert "levels deep" in str(refused(c, f"a: &a {half}\nb: {'[' * 60}*a{']' * 60}\n"))


def test_values_that_contain_themselves(c):
    doc = {**NS, "metadata": {"name": "shop"}}
    doc["metadata"]["self"] = doc
    err = refused(c, doc)
    assert err.field == "metadata.self" and "contains itself" in str(err)


def test_an_alias_bomb_is_refused_by_go_yamls_rule(c):
    lines = ["apiVersion: v1", "kind: List", "items:",
             "- &a0 {kind: Namespace, apiVersion: v1, metadata: {name: x}}"]
    lines += [f"- &a{i} {{kind: List, items: [{', '.join([f'*a{i - 1}'] * 9)}]}}"
              for i in range(1, 7)]  # 9^6 namespaces
    assert "document contains excessive aliasing" in str(refused(c, "\n".join(lines)))


def test_shared_python_values_are_counted_as_often_as_they_appear(c):
    shared = [{}]
    for _ in range(6):
        shared = [shared] * 9
    assert f"more than {MAX_VALUES:,} values" in str(refused(c, shared))


def test_a_manifest_over_3_mib(c):
    err = refused(c, "a: '" + "x" * MAX_BYTES + "'")
    assert "kube-apiserver refuses a request body over 3,145,728 bytes" in str(err)


# ---------------------------------------------------------------- files
def test_paths_that_cannot_be_read(c, tmp_path, monkeypatch):
    assert "File name too long" in str(refused(c, "x" * 5000 + ".yaml"))
    assert "NUL" in str(refused(c, "a\0b.yaml"))
    assert "does not exist" in str(refused(c, str(tmp_path / "none.yaml")))
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    assert "is a directory" in str(refused(c, folder))
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("metadata: {name: caf\xe9}".encode("latin-1"))
    assert "is not UTF-8 text (byte 0xe9" in str(refused(c, latin))
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    assert "3,145,729 bytes" in str(refused(c, big))
    locked = tmp_path / "locked.yaml"
    locked.write_text("kind: Namespace\n")
    real_open = open

    def deny(path, *args, **kwargs):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    assert "cannot be read: Permission denied" in str(refused(c, locked))


# ---------------------------------------------------------------- messages
def test_messages_show_a_long_value_by_its_type_and_size():
    err = kl.ManifestError("Pod x/" + "a" * 300, "metadata.labels", {str(i): i for i in range(9)}
                           | {"x": "y" * 5000}, "is bad", fix="fix it")
    assert len(str(err)) <= MESSAGE_LIMIT
    assert "a dict of 10 keys: {'0': 0, '1': 1, '2': 2, ...} is bad (fix it)" in str(err)
    assert describe("a" * 5000) == (
        "a string of 5,000 characters: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…'")
    assert describe(10 ** 5000) == "an integer of 5,001 digits"
    loop: list = []
    loop.append(loop)
    assert describe(loop) == "a list of 1 item: [[[...]]]"


def test_short_messages_are_as_before():
    err = kl.ManifestError("Pod x/a", "spec.containers[0].ports[0].containerPort", 70000,
                           "is not in 1-65535", fix="use a port from 1 to 65535")
    assert str(err) == ("Pod x/a: spec.containers[0].ports[0].containerPort: 70000 is not in "
                        "1-65535 (use a port from 1 to 65535)")


def test_a_notebook_shows_the_message_without_the_traceback(c):
    with pytest.raises(kl.ManifestError) as err:
        c.apply({"kind": {}})
    lines = err.value._render_traceback_()  # the message, its fix, the caller's line
    assert lines[0].startswith("ManifestError: ") and "c.apply(" in lines[-1] and len(lines) <= 3
