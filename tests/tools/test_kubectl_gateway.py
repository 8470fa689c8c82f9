"""kubectl on the Gateway API kinds, in kubectl's real output format.

- ``kubectl get``: the columns of the CRDs' additionalPrinterColumns (gateway-api v1.6
  config/crd/standard; docs/facts/gateway-api.md §7), through kubectl's tabwriter (cells
  padded to the widest plus 3 spaces, minimum 6, the last column unpadded); a string
  column holding a list (HOSTNAMES) printed as JSON, an absent value as an empty cell;
  AGE as apimachinery's ``duration.HumanDuration`` prints it.
- ``kubectl describe``: the generic describer of k8s.io/kubectl pkg/describe
  (``printUnstructuredContent``, ``smartLabelFor``, Go's tabwriter with padding 2).
- ``kubectl get -o yaml``: the object, keys sorted, strings quoted as go-yaml quotes them.
- The messages: ``Error from server (NotFound): <resource>.<group> "<name>" not found``,
  ``No resources found in <ns> namespace.``
"""

from __future__ import annotations

import pytest
import yaml

import kubenet_lab as kl
from kubenet_lab.tools.kubectl import go_tabwriter, human_duration

SETUP = """
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend}
spec:
  replicas: 1
  selector: {matchLabels: {app: backend}}
  template:
    metadata: {labels: {app: backend}}
    spec:
      containers: [{name: backend, image: "gcr.io/k8s-staging-gateway-api/echo-basic"}]
---
apiVersion: v1
kind: Service
metadata: {name: backend}
spec:
  selector: {app: backend}
  ports: [{port: 3000, targetPort: 3000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend}
spec:
  parentRefs: [{name: eg}]
  hostnames: [www.example.com]
  rules: [{backendRefs: [{name: backend, port: 3000}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: team-a-route, namespace: team-a}
spec:
  parentRefs: [{name: eg, namespace: default}]
  hostnames: [www.team-a.com, api.team-a.com]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc}
spec:
  parentRefs: [{name: eg}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow-team-a}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: team-a}]
  to: [{group: "", kind: Service}]
"""


@pytest.fixture
def c() -> kl.Cluster:
    c = kl.Cluster(workers=1)
    c.add_cloud_load_balancer()
    c.add_gateway_controller()
    c.apply(SETUP)
    for _ in range(67):  # 67 API requests later: 67 s on the cluster's clock
        c.store.tick()
    return c


def kubectl(c: kl.Cluster, args: str) -> str:
    return c.exec("control-plane", f"kubectl {args}")


def lb_ip(c: kl.Cluster) -> str:
    return c.get("Gateway", "default/eg")["status"]["addresses"][0]["value"]


# ---------------------------------------------------------------- get: the tables
def test_get_gatewayclass_columns(c):
    want = ("NAME   CONTROLLER                                      ACCEPTED   AGE\n"
            "eg     gateway.envoyproxy.io/gatewayclass-controller   True       68s")
    for name in ("gatewayclass", "gatewayclasses", "gc", "GatewayClass"):
        assert kubectl(c, f"get {name}") == want
    # cluster-scoped: -n is ignored and -A adds no NAMESPACE column
    assert kubectl(c, "get gc -n team-a") == kubectl(c, "get gc -A") == want


def test_get_gateway_columns(c):
    ip = lb_ip(c)
    want = (f"NAME   CLASS   ADDRESS{' ' * (len(ip) - 4)}PROGRAMMED   AGE\n"
            f"eg     eg      {ip}   True         67s")
    for name in ("gateway", "gateways", "gtw"):
        assert kubectl(c, f"get {name}") == want
    assert kubectl(c, "get gtw -A") == (
        f"NAMESPACE   NAME   CLASS   ADDRESS{' ' * (len(ip) - 4)}PROGRAMMED   AGE\n"
        f"default     eg     eg      {ip}   True         67s")


def test_a_gateway_without_an_address_has_an_empty_address_cell():
    c = kl.Cluster(workers=1)  # no cloud load balancer: the envoy Service stays <pending>
    c.add_gateway_controller()
    c.apply(SETUP)
    assert kubectl(c, "get gtw") == ("NAME   CLASS   ADDRESS   PROGRAMMED   AGE\n"
                                     "eg     eg                False        0s")


def test_get_httproute_hostnames_are_json(c):
    assert kubectl(c, "get httproute") == (
        'NAME      HOSTNAMES             AGE\n'
        'backend   ["www.example.com"]   67s')
    assert kubectl(c, "get httproutes -n team-a") == (
        'NAME           HOSTNAMES                             AGE\n'
        'team-a-route   ["www.team-a.com","api.team-a.com"]   67s')
    assert kubectl(c, "get httproutes -A") == (
        'NAMESPACE   NAME           HOSTNAMES                             AGE\n'
        'default     backend        ["www.example.com"]                   67s\n'
        'team-a      team-a-route   ["www.team-a.com","api.team-a.com"]   67s')


def test_get_grpcroute_without_hostnames_has_an_empty_cell(c):
    for name in ("grpcroute", "grpcroutes"):
        assert kubectl(c, f"get {name}") == ("NAME   HOSTNAMES   AGE\n"
                                             "grpc               67s")


def test_get_referencegrant(c):
    for name in ("referencegrant", "referencegrants", "refgrant"):
        assert kubectl(c, f"get {name}") == ("NAME           AGE\n"
                                             "allow-team-a   67s")
    assert kubectl(c, "get refgrant -A") == ("NAMESPACE   NAME           AGE\n"
                                             "default     allow-team-a   67s")


def test_get_by_name_and_not_found(c):
    assert kubectl(c, "get httproute backend x") == (
        'NAME      HOSTNAMES             AGE\n'
        'backend   ["www.example.com"]   67s\n'
        'Error from server (NotFound): httproutes.gateway.networking.k8s.io "x" not found')
    assert kubectl(c, "get gtw x") == (
        'Error from server (NotFound): gateways.gateway.networking.k8s.io "x" not found')
    assert kubectl(c, "get gc x") == (
        'Error from server (NotFound): gatewayclasses.gateway.networking.k8s.io "x" not found')
    assert kubectl(c, "get httproute backend -A") == (
        "error: a resource cannot be retrieved by name across all namespaces")


def test_no_resources_found(c):
    assert kubectl(c, "get httproutes -n kube-system") == (
        "No resources found in kube-system namespace.")
    assert kubectl(c, "get refgrant -n team-a") == "No resources found in team-a namespace."
    assert kubectl(c, "get gtw -n team-a") == "No resources found in team-a namespace."
    bare = kl.Cluster()
    assert kubectl(bare, "get gc") == "No resources found"
    assert kubectl(bare, "get grpcroutes -A") == "No resources found"


def test_the_columns_are_kubectls_tabwriter(c):
    """Every column but the last is its widest cell plus 3 spaces (at least 6)."""
    lines = kubectl(c, "get httproutes -A").splitlines()
    starts = [i for i in range(len(lines[0])) if lines[0][i] != " " and (
        i == 0 or lines[0][i - 1] == " ")]
    assert starts == [0, 12, 27, 65]  # 27 = 12 + len('team-a-route') + 3
    assert all(line[s - 3:s] == "   " for line in lines for s in starts[1:])


def test_age_moves_with_the_clock(c):
    for _ in range(125 - 67):
        c.store.tick()
    assert kubectl(c, "get refgrant").splitlines()[1].split() == ["allow-team-a", "2m5s"]


@pytest.mark.parametrize("seconds, age", [
    (0, "0s"), (-1, "0s"), (-2, "<invalid>"), (119, "119s"), (120, "2m"), (599, "9m59s"),
    (600, "10m"), (3 * 3600 - 1, "179m"), (3 * 3600, "3h"), (7 * 3600 + 59 * 60, "7h59m"),
    (8 * 3600, "8h"), (47 * 3600, "47h"), (48 * 3600, "2d"), (7 * 86400 + 23 * 3600, "7d23h"),
    (8 * 86400, "8d"), (729 * 86400, "729d"), (730 * 86400, "2y"), (731 * 86400, "2y1d"),
    (8 * 365 * 86400, "8y"),
])
def test_human_duration_is_apimachinerys(seconds, age):
    assert human_duration(seconds) == age


# ---------------------------------------------------------------- describe
def test_describe_httproute_is_kubectls_generic_describer(c):
    meta = c.get("HTTPRoute", "default/backend")["metadata"]
    out = kubectl(c, "describe httproute backend")
    assert out == kubectl(c, "describe httproutes backend -n default")
    assert out.splitlines() == [
        "Name:         backend",
        "Namespace:    default",
        "Labels:       <none>",
        "Annotations:  <none>",
        "API Version:  gateway.networking.k8s.io/v1",
        "Kind:         HTTPRoute",
        "Metadata:",
        f"  Creation Timestamp:  {meta['creationTimestamp']}",
        "  Generation:          1",
        f"  Resource Version:    {meta['resourceVersion']}",
        f"  UID:                 {meta['uid']}",
        "Spec:",
        "  Hostnames:",
        "    www.example.com",
        "  Parent Refs:",
        "    Group:  gateway.networking.k8s.io",
        "    Kind:   Gateway",
        "    Name:   eg",
        "  Rules:",
        "    Backend Refs:",
        "      Group:   ",
        "      Kind:    Service",
        "      Name:    backend",
        "      Port:    3000",
        "      Weight:  1",
        "    Matches:",
        "      Path:",
        "        Type:   PathPrefix",
        "        Value:  /",
        "Status:",
        "  Parents:",
        "    Conditions:",
        f"      Last Transition Time:  {meta['creationTimestamp']}",
        "      Message:               Route is accepted",
        "      Observed Generation:   1",
        "      Reason:                Accepted",
        "      Status:                True",
        "      Type:                  Accepted",
        f"      Last Transition Time:  {meta['creationTimestamp']}",
        "      Message:               Resolved all the Object references for the Route",
        "      Observed Generation:   1",
        "      Reason:                ResolvedRefs",
        "      Status:                True",
        "      Type:                  ResolvedRefs",
        "    Controller Name:         gateway.envoyproxy.io/gatewayclass-controller",
        "    Parent Ref:",
        "      Group:  gateway.networking.k8s.io",
        "      Kind:   Gateway",
        "      Name:   eg",
        "Events:       <none>",
    ]


def test_describe_labels_and_several_objects(c):
    c.apply("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: labelled, namespace: team-a, labels: {team: a, app: web}}
spec:
  parentRefs: [{name: eg, namespace: default}]
""")
    out = kubectl(c, "describe httproute -n team-a")
    first, second = out.split("\n\n\n")
    assert second.startswith("Name:         team-a-route\n")
    assert first.splitlines()[:4] == ["Name:         labelled", "Namespace:    team-a",
                                      "Labels:       app=web", "              team=a"]


def test_describe_errors(c):
    assert kubectl(c, "describe httproute nope") == (
        'Error from server (NotFound): httproutes.gateway.networking.k8s.io "nope" not found')
    assert kubectl(c, "describe httproute -n kube-system") == (
        "No resources found in kube-system namespace.")
    assert kubectl(c, "describe frobs x") == (
        'error: the server doesn\'t have a resource type "frobs"')
    assert kubectl(c, "describe httproute backend -o yaml").startswith(
        "error: unknown shorthand flag: 'o' in -o\nSee 'kubectl describe --help' for usage.")


def test_go_tabwriter_aligns_column_blocks():
    """A line without a tab ends the block: each block has its own width (padding 2),
    and an empty last cell after a tab keeps its padding."""
    assert go_tabwriter(["a:\tx", "long-name:\ty", "Spec:", "  b:\tz", "Events:\t<none>",
                         "Group:\t"]).splitlines() == [
        "a:          x", "long-name:  y", "Spec:", "  b:     z", "Events:  <none>",
        "Group:   "]


# ---------------------------------------------------------------- -o yaml
@pytest.mark.parametrize("args, kind, ref", [
    ("get httproute backend -o yaml", "HTTPRoute", "default/backend"),
    ("get gtw eg -o yaml", "Gateway", "default/eg"),
    ("get gc eg -oyaml", "GatewayClass", "eg"),
    ("get refgrant allow-team-a --output=yaml", "ReferenceGrant", "default/allow-team-a"),
    ("get svc backend -o yaml", "Service", "default/backend"),
    ("get deploy backend -o yaml", "Deployment", "default/backend"),
    ("get ns team-a -o yaml", "Namespace", "team-a"),
    ("get node node-1 -o yaml", "Node", "node-1"),
])
def test_get_o_yaml_is_cluster_get_with_sorted_keys(c, args, kind, ref):
    out = kubectl(c, args)
    assert yaml.safe_load(out) == c.get(kind, ref)
    top = [line.split(":")[0] for line in out.splitlines() if not line.startswith(" ")]
    assert top == sorted(top) and top[:3] == ["apiVersion", "kind", "metadata"]


def test_o_yaml_quotes_as_kubectl_does(c):
    out = kubectl(c, "get httproute backend -o yaml")
    assert '  resourceVersion: "' in out and '      status: "True"' in out
    assert '    - group: ""' in out and "'" not in out
    assert out.splitlines()[:2] == ["apiVersion: gateway.networking.k8s.io/v1",
                                    "kind: HTTPRoute"]


def test_o_yaml_of_several_or_none_is_a_list(c):
    doc = yaml.safe_load(kubectl(c, "get httproutes -A -o yaml"))
    assert doc["kind"] == "List" and doc["metadata"] == {"resourceVersion": ""}
    assert [i["metadata"]["name"] for i in doc["items"]] == ["backend", "team-a-route"]
    out = kubectl(c, "get httproute backend nope -o yaml")
    assert out.endswith(
        '\nError from server (NotFound): httproutes.gateway.networking.k8s.io "nope" not found')
    assert yaml.safe_load(out.rsplit("\n", 1)[0])["items"][0]["metadata"]["name"] == "backend"
    assert kubectl(c, "get grpcroute nope -o yaml") == (
        'Error from server (NotFound): grpcroutes.gateway.networking.k8s.io "nope" not found')


def test_o_yaml_round_trips_through_apply(c):
    """``kubectl get -o yaml > f; kubectl apply -f f``: nothing changes."""
    before = c.get("HTTPRoute", "default/backend")
    c.apply(kubectl(c, "get httproute backend -o yaml"))
    assert c.get("HTTPRoute", "default/backend") == before


def test_a_kind_without_a_table_is_printed_as_yaml_only(c):
    assert kubectl(c, "get deploy") == (
        "error: the lab's kubectl prints deployments.apps only as YAML: "
        "kubectl get deploy NAME -o yaml")
    assert kubectl(c, "get frobs") == 'error: the server doesn\'t have a resource type "frobs"'
    assert kubectl(c, "get Pods") == kubectl(c, "get pods")  # kubectl's names: any case
