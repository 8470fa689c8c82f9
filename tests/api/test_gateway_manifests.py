"""Gateway API manifests (GatewayClass, Gateway, HTTPRoute, GRPCRoute, ReferenceGrant) are
checked as the API server checks them against the CRDs of kubernetes-sigs/gateway-api
v1.6.1 (standard channel), and stored with the CRDs' defaults.

What each test expects comes from upstream, never from the lab's own output:

- the defaults from the ``default:`` markers of config/crd/standard/
  gateway.networking.k8s.io_*.yaml (docs/facts/gateway-api.md §1.7);
- the CEL messages from the ``wantErrors`` of tests/cel/*_test.go (the test case is named
  in each case's id or comment);
- the schema messages in the API server's words (apiextensions-apiserver
  ``kubeOpenAPIResultToFieldErrors`` and apimachinery ``field.Error.ErrorBody``, k8s 1.35:
  a CEL rule on an object or a list leaves the value out; facts §1.0), with the patterns
  copied from the CRD yaml.
"""

from __future__ import annotations

import copy

import pytest

import kubenet_lab as kl

GROUP = "gateway.networking.k8s.io"
V1 = f"{GROUP}/v1"
V1BETA1 = f"{GROUP}/v1beta1"

# Patterns as the CRD yaml writes them (apis/v1/shared_types.go).
HOSTNAME = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$"
CONTROLLER = (r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
              r"\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$")
SECTION_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


# ------------------------------------------------------------------ manifests
def gateway_class(name="eg", controller="example.net/gateway-controller", **spec):
    return {"apiVersion": V1, "kind": "GatewayClass", "metadata": {"name": name},
            "spec": {"controllerName": controller, **spec}}


def gateway(*listeners, **spec):
    listeners = listeners or ({"name": "http", "protocol": "HTTP", "port": 80},)
    return {"apiVersion": V1, "kind": "Gateway", "metadata": {"name": "eg"},
            "spec": {"gatewayClassName": "eg", "listeners": list(listeners), **spec}}


def http_route(*rules, **spec):
    doc = {"apiVersion": V1, "kind": "HTTPRoute", "metadata": {"name": "web"},
           "spec": {"parentRefs": [{"name": "eg"}], **spec}}
    if rules:
        doc["spec"]["rules"] = list(rules)
    return doc


def grpc_route(*rules, **spec):
    doc = {"apiVersion": V1, "kind": "GRPCRoute", "metadata": {"name": "echo"},
           "spec": {"parentRefs": [{"name": "eg"}], **spec}}
    if rules:
        doc["spec"]["rules"] = list(rules)
    return doc


def reference_grant(**spec):
    body = {"from": [{"group": GROUP, "kind": "HTTPRoute", "namespace": "default"}],
            "to": [{"group": "", "kind": "Service"}]}
    body.update(spec)
    return {"apiVersion": V1, "kind": "ReferenceGrant",
            "metadata": {"name": "allow", "namespace": "default"}, "spec": body}


BACKEND = {"name": "web", "port": 80}


def match(path_type="PathPrefix", value="/"):
    return {"path": {"type": path_type, "value": value}}


def rewrite_prefix(prefix="/new"):
    return {"type": "URLRewrite",
            "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": prefix}}}


def redirect_prefix(prefix="/new"):
    return {"type": "RequestRedirect", "requestRedirect": {
        "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": prefix}}}


def spec_of(c, kind, ref):
    return c.get(kind, ref)["spec"]


# ------------------------------------------------------------------ defaults
def test_gateway_class_is_stored_as_written():
    c = kl.Cluster()
    c.apply(gateway_class(description="the lab's class"))
    assert spec_of(c, "GatewayClass", "eg") == {
        "controllerName": "example.net/gateway-controller", "description": "the lab's class"}
    # gatewayclasses.yaml status default: Accepted Unknown, Pending, "Waiting for controller"
    [cond] = c.get("GatewayClass", "eg")["status"]["conditions"]
    assert (cond["type"], cond["status"], cond["reason"], cond["message"]) == (
        "Accepted", "Unknown", "Pending", "Waiting for controller")


def test_gateway_listener_defaults():
    c = kl.Cluster()
    c.apply(gateway(
        {"name": "http", "protocol": "HTTP", "port": 80},
        {"name": "https", "protocol": "HTTPS", "port": 443, "hostname": "*.example.com",
         "tls": {"certificateRefs": [{"name": "cert"}]},
         "allowedRoutes": {"kinds": [{"kind": "HTTPRoute"}]}}))
    http, https = spec_of(c, "Gateway", "default/eg")["listeners"]
    # allowedRoutes default {namespaces: {from: Same}}
    assert http == {"allowedRoutes": {"namespaces": {"from": "Same"}}, "name": "http",
                    "port": 80, "protocol": "HTTP"}
    # tls.mode default Terminate; certificateRefs group "" and kind Secret; an allowed
    # kind's group gateway.networking.k8s.io; namespaces from Same within a given
    # allowedRoutes
    assert https["tls"] == {"mode": "Terminate",
                            "certificateRefs": [{"group": "", "kind": "Secret", "name": "cert"}]}
    assert https["allowedRoutes"] == {"kinds": [{"group": GROUP, "kind": "HTTPRoute"}],
                                      "namespaces": {"from": "Same"}}
    assert https["hostname"] == "*.example.com"


def test_https_listener_without_tls_is_accepted():
    # gateway_test.go "tls config not set with https protocol": no error from the CRD
    c = kl.Cluster()
    c.apply(gateway({"name": "https", "protocol": "HTTPS", "port": 8443}))
    [listener] = spec_of(c, "Gateway", "default/eg")["listeners"]
    assert "tls" not in listener


def test_gateway_infrastructure_allowed_listeners_and_tls_are_accepted():
    # gateway_experimental_test.go "valid label keys and values", and the frontend TLS
    # and ListenerSet fields of gateways.yaml (v1.6.1 standard)
    c = kl.Cluster()
    c.apply(gateway(
        infrastructure={"labels": {"app": "gateway", "example.com/path.html": ""},
                        "annotations": {"example.com/owner": "team a"}},
        allowedListeners={"namespaces": {"from": "Selector",
                                         "selector": {"matchLabels": {"team": "a"}}}},
        tls={"backend": {"clientCertificateRef": {"name": "client"}},
             "frontend": {"default": {"validation": {"caCertificateRefs": [
                 {"group": "", "kind": "ConfigMap", "name": "ca"}]}},
                          "perPort": [{"port": 443, "tls": {}}]}}))
    assert c.get("Gateway", "default/eg")["spec"]["gatewayClassName"] == "eg"


def test_gateway_protocol_the_crd_takes_but_a_controller_refuses():
    # ProtocolType pattern: any DNS-label-like word, e.g. GRPC (facts §1.3)
    c = kl.Cluster()
    c.apply(gateway({"name": "x", "protocol": "GRPC", "port": 9000}))
    assert spec_of(c, "Gateway", "default/eg")["listeners"][0]["protocol"] == "GRPC"


def test_http_route_defaults():
    c = kl.Cluster()
    c.apply(http_route(
        {"backendRefs": [BACKEND]},
        {"matches": [{"headers": [{"name": "X-Version", "value": "2"}]},
                     {"path": {"type": "Exact"}}],
         "filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https"}}]}))
    spec = spec_of(c, "HTTPRoute", "default/web")
    # parentRefs group/kind default
    assert spec["parentRefs"] == [{"group": GROUP, "kind": "Gateway", "name": "eg"}]
    first, second = spec["rules"]
    # a rule without matches: [{path: {type: PathPrefix, value: /}}]
    assert first["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    # backendRef group "", kind Service, weight 1
    assert first["backendRefs"] == [{"group": "", "kind": "Service", "name": "web",
                                     "port": 80, "weight": 1}]
    # header-only match gets path PathPrefix /, header type Exact; path value default /
    assert second["matches"] == [
        {"headers": [{"name": "X-Version", "type": "Exact", "value": "2"}],
         "path": {"type": "PathPrefix", "value": "/"}},
        {"path": {"type": "Exact", "value": "/"}}]
    # requestRedirect statusCode default 302
    assert second["filters"] == [{"type": "RequestRedirect",
                                  "requestRedirect": {"scheme": "https", "statusCode": 302}}]


def test_http_route_without_rules_gets_the_default_rule():
    # httproutes.yaml spec.rules default
    c = kl.Cluster()
    c.apply(http_route())
    assert spec_of(c, "HTTPRoute", "default/web")["rules"] == [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}]


def test_http_route_regular_expression_path_is_not_checked_as_a_path():
    # httproute_test.go "valid because type is RegularExpression but would not be valid
    # for Exact"
    c = kl.Cluster()
    c.apply(http_route({"matches": [match("RegularExpression", "/foo/./bar")]}))
    assert spec_of(c, "HTTPRoute", "default/web")["rules"][0]["matches"] == [
        {"path": {"type": "RegularExpression", "value": "/foo/./bar"}}]


def test_grpc_route_defaults():
    c = kl.Cluster()
    c.apply(grpc_route({"matches": [{"method": {"service": "echo.Echo"},
                                     "headers": [{"name": "x-tenant", "value": "a"}]}],
                        "backendRefs": [{"name": "echo", "port": 9000}]}))
    spec = spec_of(c, "GRPCRoute", "default/echo")
    assert spec["parentRefs"] == [{"group": GROUP, "kind": "Gateway", "name": "eg"}]
    [rule] = spec["rules"]
    # GRPCMethodMatch type default Exact; GRPCHeaderMatch type default Exact
    assert rule["matches"] == [{"headers": [{"name": "x-tenant", "type": "Exact", "value": "a"}],
                                "method": {"service": "echo.Echo", "type": "Exact"}}]
    assert rule["backendRefs"] == [{"group": "", "kind": "Service", "name": "echo",
                                    "port": 9000, "weight": 1}]


def test_grpc_route_without_rules_has_none():
    # grpcroutes.yaml: spec.rules has no default (unlike HTTPRoute)
    c = kl.Cluster()
    c.apply(grpc_route())
    assert "rules" not in spec_of(c, "GRPCRoute", "default/echo")


def test_reference_grant_is_stored_as_written():
    c = kl.Cluster()
    c.add_namespace("backends")
    doc = reference_grant(to=[{"group": "", "kind": "Service", "name": "web"}])
    doc["metadata"]["namespace"] = "backends"
    c.apply(doc)
    got = c.get("ReferenceGrant", "backends/allow")
    assert got["apiVersion"] == V1
    assert got["spec"] == {"from": [{"group": GROUP, "kind": "HTTPRoute", "namespace": "default"}],
                           "to": [{"group": "", "kind": "Service", "name": "web"}]}


@pytest.mark.parametrize("doc, kind, ref", [
    (gateway_class(), "GatewayClass", "eg"),
    (gateway(), "Gateway", "default/eg"),
    (http_route({"backendRefs": [BACKEND]}), "HTTPRoute", "default/web"),
    (reference_grant(), "ReferenceGrant", "default/allow"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_v1beta1_is_served_and_read_back_as_v1(doc, kind, ref):
    # each CRD serves v1 and v1beta1 with the same schema; kubectl prefers v1
    doc = copy.deepcopy(doc)
    doc["apiVersion"] = V1BETA1
    c = kl.Cluster()
    c.apply(doc)
    assert c.get(kind, ref)["apiVersion"] == V1


def test_grpc_route_is_not_served_as_v1beta1():
    # grpcroutes.yaml (standard, v1.6.1) has only v1
    doc = grpc_route()
    doc["apiVersion"] = V1BETA1
    with pytest.raises(kl.KubenetLabError):
        kl.Cluster().apply(doc)


# ------------------------------------------------------------------ invalid manifests
def _rules(n, matches_per_rule):
    return [{"matches": [match()] * matches_per_rule} for _ in range(n)]


def _listeners(n):
    return [{"name": f"l{i}", "protocol": "HTTP", "port": 1000 + i} for i in range(n)]


# (id, manifest, field, problem): problem is the whole ``field.Error`` body.
INVALID = [
    # ---------------- GatewayClass
    ("gatewayclass-controllerName-pattern (domain-prefixed path)",
     gateway_class(controller="example.com"), "spec.controllerName",
     f'Invalid value: "example.com": spec.controllerName in body should match '
     f"'{CONTROLLER}'"),
    ("gatewayclass-controllerName-required", gateway_class(controller=None),
     "spec.controllerName", "Required value"),
    ("gatewayclass-description-maxLength-64", gateway_class(description="d" * 65),
     "spec.description", "Too long: may not be more than 64 bytes"),
    ("gatewayclass-parametersRef-kind-required",
     gateway_class(parametersRef={"group": "example.net", "name": "p"}),
     "spec.parametersRef.kind", "Required value"),
    # ---------------- Gateway
    ("gateway-gatewayClassName-required", gateway(gatewayClassName=None),
     "spec.gatewayClassName", "Required value"),
    ("gateway-listeners-minItems-1", gateway(listeners=[]), "spec.listeners",
     "Invalid value: 0: spec.listeners in body should have at least 1 items"),
    ("gateway-listeners-maxItems-64", gateway(listeners=_listeners(65)), "spec.listeners",
     "Too many: 65: must have at most 64 items"),
    # gateway_test.go "names are not unique within the Gateway": the listener list is a
    # list-map keyed by name, whose Duplicate value comes before the CEL rule's
    # "Listener name must be unique within the Gateway"
    ("gateway_test: names are not unique within the Gateway",
     gateway({"name": "http", "protocol": "HTTP", "port": 80},
             {"name": "http", "protocol": "HTTP", "port": 8080}),
     "spec.listeners[1]", 'Duplicate value: map[string]interface {}{"name":"http"}'),
    ("gateway_test: hostname present with tcp protocol",
     gateway({"name": "tcp", "protocol": "TCP", "port": 8080, "hostname": "foo.com"}),
     "spec.listeners",
     "Invalid value: hostname must not be specified for protocols ['TCP', 'UDP']"),
    ("gateway_test: hostname present with udp protocol",
     gateway({"name": "udp", "protocol": "UDP", "port": 8080, "hostname": "foo.com"}),
     "spec.listeners",
     "Invalid value: hostname must not be specified for protocols ['TCP', 'UDP']"),
    ("gateway_test: certificateRefs not set with HTTPS protocol and TLS terminate mode",
     gateway({"name": "https", "protocol": "HTTPS", "port": 443,
              "tls": {"mode": "Terminate"}}),
     "spec.listeners[0].tls",
     "Invalid value: certificateRefs or options must be specified when mode is Terminate"),
    ("gateway_test: certificateRefs not set (tls: {}, mode defaulted to Terminate)",
     gateway({"name": "https", "protocol": "HTTPS", "port": 443, "tls": {}}),
     "spec.listeners[0].tls",
     "Invalid value: certificateRefs or options must be specified when mode is Terminate"),
    ("gateway_test: certificateRefs not set with TLS protocol and TLS terminate mode",
     gateway({"name": "tls", "protocol": "TLS", "port": 443, "tls": {"mode": "Terminate"}}),
     "spec.listeners[0].tls",
     "Invalid value: certificateRefs or options must be specified when mode is Terminate"),
    ("gateway_test: tls config present with http protocol",
     gateway({"name": "http", "protocol": "HTTP", "port": 80,
              "tls": {"certificateRefs": [{"name": "c"}]}}),
     "spec.listeners",
     "Invalid value: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"),
    ("gateway_test: https protocol with Passthrough tls mode",
     gateway({"name": "https", "protocol": "HTTPS", "port": 443,
              "tls": {"mode": "Passthrough"}}),
     "spec.listeners", "Invalid value: tls mode must be Terminate for protocol HTTPS"),
    ("gateway_test: tls config not set with tls protocol",
     gateway({"name": "tls", "protocol": "TLS", "port": 443}),
     "spec.listeners", "Invalid value: tls mode must be set for protocol TLS"),
    ("gateway_test: combination of port and protocol are not unique for each listener "
     "when hostnames not set",
     gateway({"name": "a", "protocol": "HTTP", "port": 80},
             {"name": "b", "protocol": "HTTP", "port": 80}),
     "spec.listeners", "Invalid value: Combination of port, protocol and hostname must be "
     "unique for each listener"),
    ("gateway_test: ip address and hostname in addresses are invalid",
     gateway(addresses=[{"type": "IPAddress", "value": "1.2.3.4:8080"}]),
     "spec.addresses[0].value",
     'Invalid value: "1.2.3.4:8080": spec.addresses[0].value in body must be of type ipv4'),
    ("gateway_test: duplicate ip address or hostname",
     gateway(addresses=[{"value": "1.2.3.4"}, {"type": "IPAddress", "value": "1.2.3.4"}]),
     "spec.addresses", "Invalid value: IPAddress values must be unique"),
    ("gateway-listener-hostname-pattern (uppercase)",
     gateway({"name": "h", "protocol": "HTTP", "port": 80, "hostname": "Foo.com"}),
     "spec.listeners[0].hostname",
     f"Invalid value: \"Foo.com\": spec.listeners[0].hostname in body should match "
     f"'{HOSTNAME}'"),
    ("gateway-listener-hostname-pattern (bare *)",
     gateway({"name": "h", "protocol": "HTTP", "port": 80, "hostname": "*"}),
     "spec.listeners[0].hostname",
     f"Invalid value: \"*\": spec.listeners[0].hostname in body should match '{HOSTNAME}'"),
    ("gateway-listener-name-pattern",
     gateway({"name": "HTTP_1", "protocol": "HTTP", "port": 80}),
     "spec.listeners[0].name",
     f"Invalid value: \"HTTP_1\": spec.listeners[0].name in body should match "
     f"'{SECTION_NAME}'"),
    ("gateway-listener-port-minimum-1",
     gateway({"name": "h", "protocol": "HTTP", "port": 0}), "spec.listeners[0].port",
     "Invalid value: 0: spec.listeners[0].port in body should be greater than or equal to 1"),
    ("gateway-listener-port-maximum-65535",
     gateway({"name": "h", "protocol": "HTTP", "port": 65536}), "spec.listeners[0].port",
     "Invalid value: 65536: spec.listeners[0].port in body should be less than or equal to "
     "65535"),
    ("gateway-listener-protocol-required", gateway({"name": "h", "port": 80}),
     "spec.listeners[0].protocol", "Required value"),
    ("gateway-allowedRoutes-from-enum",
     gateway({"name": "h", "protocol": "HTTP", "port": 80,
              "allowedRoutes": {"namespaces": {"from": "Others"}}}),
     "spec.listeners[0].allowedRoutes.namespaces.from",
     'Unsupported value: "Others": supported values: "All", "Selector", "Same"'),
    ("gateway-tls-mode-enum",
     gateway({"name": "t", "protocol": "TLS", "port": 443, "tls": {"mode": "Terminated"}}),
     "spec.listeners[0].tls.mode",
     'Unsupported value: "Terminated": supported values: "Terminate", "Passthrough"'),
    ("gateway_experimental_test: invalid label key with invalid DNS prefix",
     gateway(infrastructure={"labels": {"Example.com/key": "value"}}),
     "spec.infrastructure.labels",
     "Invalid value: Label keys must be in the form of an optional DNS subdomain prefix "
     "followed by a required name segment of up to 63 characters."),
    ("gateway_experimental_test: invalid label key with name too long",
     gateway(infrastructure={"labels": {"a" * 64: "value"}}), "spec.infrastructure.labels",
     "Invalid value: Label keys must be in the form of an optional DNS subdomain prefix "
     "followed by a required name segment of up to 63 characters."),
    ("gateway_experimental_test: invalid label key with DNS prefix too long",
     gateway(infrastructure={"labels": {"a" * 254 + "/key": "value"}}),
     "spec.infrastructure.labels",
     "Invalid value: If specified, the label key's prefix must be a DNS subdomain not "
     "longer than 253 characters in total."),
    ("gateway_experimental_test: invalid label value with too many characters",
     gateway(infrastructure={"labels": {"key": "a" * 64}}), "spec.infrastructure.labels.key",
     "Too long: may not be more than 63 bytes"),
    ("gateway_experimental_test: invalid label value with invalid characters",
     gateway(infrastructure={"labels": {"key": "v a l u e"}}),
     "spec.infrastructure.labels.key",
     "Invalid value: \"v a l u e\": spec.infrastructure.labels.key in body should match "
     "'^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$'"),
    ("gateway-infrastructure-labels-maxProperties-8",
     gateway(infrastructure={"labels": {f"k{i}": "v" for i in range(9)}}),
     "spec.infrastructure.labels", "Too many: 9: must have at most 8 items"),
    ("gateway-infrastructure-annotation-key (CEL)",
     gateway(infrastructure={"annotations": {"bad key": "v"}}),
     "spec.infrastructure.annotations",
     "Invalid value: Annotation keys must be in the form of an optional DNS subdomain "
     "prefix followed by a required name segment of up to 63 characters."),
    ("gateway-infrastructure-parametersRef-name-required",
     gateway(infrastructure={"parametersRef": {"group": "example.net", "kind": "Config"}}),
     "spec.infrastructure.parametersRef.name", "Required value"),
    ("gateway-allowedListeners-from-enum",
     gateway(allowedListeners={"namespaces": {"from": "Bogus"}}),
     "spec.allowedListeners.namespaces.from",
     'Unsupported value: "Bogus": supported values: "All", "Selector", "Same", "None"'),
    ("gateway-tls-frontend-default-required", gateway(tls={"frontend": {}}),
     "spec.tls.frontend.default", "Required value"),
    ("gateway-tls-frontend-caCertificateRefs-minItems-1",
     gateway(tls={"frontend": {"default": {"validation": {"caCertificateRefs": []}}}}),
     "spec.tls.frontend.default.validation.caCertificateRefs",
     "Invalid value: 0: spec.tls.frontend.default.validation.caCertificateRefs in body "
     "should have at least 1 items"),
    ("gateway-tls-frontend-perPort-list-map-duplicate",
     gateway(tls={"frontend": {"default": {}, "perPort": [
         {"port": 443, "tls": {}}, {"port": 443, "tls": {}}]}}),
     "spec.tls.frontend.perPort[1]", 'Duplicate value: map[string]interface {}{"port":443}'),
    ("gateway-tls-backend-clientCertificateRef-name-required",
     gateway(tls={"backend": {"clientCertificateRef": {"kind": "Secret"}}}),
     "spec.tls.backend.clientCertificateRef.name", "Required value"),
    # ---------------- HTTPRoute
    ("httproute-hostname-pattern (uppercase)", http_route(hostnames=["Foo.Example.com"]),
     "spec.hostnames[0]",
     f"Invalid value: \"Foo.Example.com\": spec.hostnames[0] in body should match "
     f"'{HOSTNAME}'"),
    ("httproute-hostname-pattern (with a port)", http_route(hostnames=["example.com:80"]),
     "spec.hostnames[0]",
     f"Invalid value: \"example.com:80\": spec.hostnames[0] in body should match "
     f"'{HOSTNAME}'"),
    ("httproute-hostname-pattern (wildcard not first)", http_route(hostnames=["foo.*.com"]),
     "spec.hostnames[0]",
     f"Invalid value: \"foo.*.com\": spec.hostnames[0] in body should match '{HOSTNAME}'"),
    ("httproute-hostnames-maxItems-16",
     http_route(hostnames=[f"h{i}.example.com" for i in range(17)]), "spec.hostnames",
     "Too many: 17: must have at most 16 items"),
    ("httproute-parentRefs-maxItems-32",
     http_route(parentRefs=[{"name": f"g{i}"} for i in range(33)]), "spec.parentRefs",
     "Too many: 33: must have at most 32 items"),
    ("httproute_standard_test: invalid because duplicate parent refs without section name",
     http_route(parentRefs=[{"name": "example"}, {"name": "example"}]), "spec.parentRefs",
     "Invalid value: sectionName must be unique when parentRefs includes 2 or more "
     "references to the same parent"),
    ("httproute_standard_test: invalid because duplicate parent refs with only one "
     "section name",
     http_route(parentRefs=[{"name": "example"}, {"name": "example", "sectionName": "foo"}]),
     "spec.parentRefs",
     "Invalid value: sectionName must be specified when parentRefs includes 2 or more "
     "references to the same parent"),
    ("httproute_test: invalid because path does not start with '/'",
     http_route({"matches": [match("PathPrefix", "foo")]}),
     "spec.rules[0].matches[0].path",
     "Invalid value: value must be an absolute path and start with '/' when type one of "
     "['Exact', 'PathPrefix']"),
    ("httproute_test: invalid httpRoute prefix (/.)",
     http_route({"matches": [match("PathPrefix", "/foo/.")]}),
     "spec.rules[0].matches[0].path",
     "Invalid value: must not end with '/.' when type one of ['Exact', 'PathPrefix']"),
    ("httproute_test: invalid exact (/./)",
     http_route({"matches": [match("Exact", "/foo/./bar")]}),
     "spec.rules[0].matches[0].path",
     "Invalid value: must not contain '/./' when type one of ['Exact', 'PathPrefix']"),
    ("httproute_test: invalid type (Ingress's Prefix)",
     http_route({"matches": [match("Prefix", "/")]}),
     "spec.rules[0].matches[0].path.type",
     'Unsupported value: "Prefix": supported values: "Exact", "PathPrefix", '
     '"RegularExpression"'),
    ("httproute_test: invalid prefix path (/[])",
     http_route({"matches": [match("PathPrefix", "/[]")]}),
     "spec.rules[0].matches[0].path",
     "Invalid value: must only contain valid characters (matching "
     "^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types "
     "['Exact', 'PathPrefix']"),
    ("httproute-path-value-maxLength-1024",
     http_route({"matches": [match("PathPrefix", "/" + "a" * 1024)]}),
     "spec.rules[0].matches[0].path.value", "Too long: may not be more than 1024 bytes"),
    ("httproute_test: backendref with request redirect httpRoute filter",
     http_route({"filters": [{"type": "RequestRedirect",
                              "requestRedirect": {"scheme": "https", "statusCode": 301}}],
                 "backendRefs": [BACKEND]}),
     "spec.rules[0]",
     "Invalid value: RequestRedirect filter must not be used together with backendRefs"),
    ("httproute_test: invalid URLRewrite filter because wrong path match type",
     http_route({"matches": [match("Exact", "/foo")], "filters": [rewrite_prefix()]}),
     "spec.rules[0]",
     "Invalid value: When using URLRewrite filter with path.replacePrefixMatch, exactly "
     "one PathPrefix match must be specified"),
    ("httproute_test: invalid URLRewrite filter because too many path matches",
     http_route({"matches": [match("PathPrefix", "/foo"), match("PathPrefix", "/bar")],
                 "filters": [rewrite_prefix()]}),
     "spec.rules[0]",
     "Invalid value: When using URLRewrite filter with path.replacePrefixMatch, exactly "
     "one PathPrefix match must be specified"),
    ("httproute_test: invalid RequestRedirect filter because path match has type "
     "RegularExpression",
     http_route({"matches": [match("RegularExpression", "/foo.*")],
                 "filters": [redirect_prefix()]}),
     "spec.rules[0]",
     "Invalid value: When using RequestRedirect filter with path.replacePrefixMatch, "
     "exactly one PathPrefix match must be specified"),
    ("httproute_test: invalid URLRewrite filter (within backendRefs) because path match "
     "has type RegularExpression",
     http_route({"matches": [match("RegularExpression", "/foo.*")],
                 "backendRefs": [{**BACKEND, "filters": [rewrite_prefix()]}]}),
     "spec.rules[0]",
     "Invalid value: Within backendRefs, When using URLRewrite filter with "
     "path.replacePrefixMatch, exactly one PathPrefix match must be specified"),
    ("httproute_test: invalid RequestRedirect filter (within backendRefs) because too "
     "many path matches",
     http_route({"matches": [match("PathPrefix", "/foo"), match("PathPrefix", "/bar")],
                 "backendRefs": [{**BACKEND, "filters": [redirect_prefix()]}]}),
     "spec.rules[0]",
     "Invalid value: Within backendRefs, when using RequestRedirect filter with "
     "path.replacePrefixMatch, exactly one PathPrefix match must be specified"),
    ("httproute_test: rewrite and redirect filters combined (invalid)",
     http_route({"filters": [{"type": "RequestRedirect", "requestRedirect": {"port": 8080}},
                             {"type": "URLRewrite", "urlRewrite": {"hostname": "x.com"}}]}),
     "spec.rules[0].filters",
     "Invalid value: May specify either httpRouteFilterRequestRedirect or "
     "httpRouteFilterRequestRewrite, but not both"),
    ("httproute_test: invalid because repeated URLRewrite filter",
     http_route({"filters": [{"type": "URLRewrite", "urlRewrite": {"hostname": "a.com"}},
                             {"type": "URLRewrite", "urlRewrite": {"hostname": "b.com"}}]}),
     "spec.rules[0].filters", "Invalid value: URLRewrite filter cannot be repeated"),
    ("httproute_test: invalid HTTPRouteFilterRequestHeaderModifier type filter with "
     "non-matching field",
     http_route({"filters": [{"type": "RequestHeaderModifier",
                              "requestMirror": {"backendRef": BACKEND}}]}),
     "spec.rules[0].filters[0]",
     "Invalid value: filter.requestHeaderModifier must be specified for "
     "RequestHeaderModifier filter.type"),
    ("httproute_test: invalid HTTPRouteFilterRequestRedirect type filter with empty "
     "value field",
     http_route({"filters": [{"type": "RequestRedirect"}]}), "spec.rules[0].filters[0]",
     "Invalid value: filter.requestRedirect must be specified for RequestRedirect "
     "filter.type"),
    ("httproute_test: replaceFullPath must be specified when type is set to "
     "'ReplaceFullPath'",
     http_route({"filters": [{"type": "URLRewrite",
                              "urlRewrite": {"path": {"type": "ReplaceFullPath"}}}]}),
     "spec.rules[0].filters[0].urlRewrite.path",
     "Invalid value: replaceFullPath must be specified when type is set to 'ReplaceFullPath'"),
    ("httproute_test: type must be 'ReplacePrefixMatch' when replacePrefixMatch is set",
     http_route({"filters": [{"type": "URLRewrite", "urlRewrite": {"path": {
         "type": "ReplaceFullPath", "replaceFullPath": "/a", "replacePrefixMatch": "/b"}}}]}),
     "spec.rules[0].filters[0].urlRewrite.path",
     "Invalid value: type must be 'ReplacePrefixMatch' when replacePrefixMatch is set"),
    ("httproute-filter-type-required", http_route({"filters": [{}]}),
     "spec.rules[0].filters[0].type", "Required value"),
    ("httproute-filter-type-enum", http_route({"filters": [{"type": "Redirect"}]}),
     "spec.rules[0].filters[0].type",
     'Unsupported value: "Redirect": supported values: "RequestHeaderModifier", '
     '"ResponseHeaderModifier", "RequestMirror", "RequestRedirect", "URLRewrite", '
     '"ExtensionRef", "CORS"'),
    ("httproute-redirect-statusCode-enum",
     http_route({"filters": [{"type": "RequestRedirect",
                              "requestRedirect": {"statusCode": 304}}]}),
     "spec.rules[0].filters[0].requestRedirect.statusCode",
     'Unsupported value: 304: supported values: "301", "302", "303", "307", "308"'),
    ("httproute-redirect-scheme-enum",
     http_route({"filters": [{"type": "RequestRedirect",
                              "requestRedirect": {"scheme": "HTTPS"}}]}),
     "spec.rules[0].filters[0].requestRedirect.scheme",
     'Unsupported value: "HTTPS": supported values: "http", "https"'),
    ("httproute-rules-maxItems-16", http_route(*_rules(17, 1)), "spec.rules",
     "Too many: 17: must have at most 16 items"),
    ("httproute-rules-minItems-1", http_route(rules=[]), "spec.rules",
     "Invalid value: 0: spec.rules in body should have at least 1 items"),
    ("httproute-matches-maxItems-64", http_route(*_rules(1, 65)), "spec.rules[0].matches",
     "Too many: 65: must have at most 64 items"),
    ("httproute_test: too many matches and rules (7 rules of 20 matches)",
     http_route(*_rules(7, 20)), "spec.rules",
     "Invalid value: While 16 rules and 64 matches per rule are allowed, the total number "
     "of matches across all rules in a route must be less than 128"),
    ("httproute-weight-maximum-1000000",
     http_route({"backendRefs": [{**BACKEND, "weight": 1_000_001}]}),
     "spec.rules[0].backendRefs[0].weight",
     "Invalid value: 1000001: spec.rules[0].backendRefs[0].weight in body should be less "
     "than or equal to 1000000"),
    ("httproute-weight-minimum-0", http_route({"backendRefs": [{**BACKEND, "weight": -1}]}),
     "spec.rules[0].backendRefs[0].weight",
     "Invalid value: -1: spec.rules[0].backendRefs[0].weight in body should be greater "
     "than or equal to 0"),
    ("httproute_test: default groupkind with no port",
     http_route({"backendRefs": [{"name": "web"}]}), "spec.rules[0].backendRefs[0]",
     "Invalid value: Must have port for Service reference"),
    ("httproute-backendRefs-name-required", http_route({"backendRefs": [{"port": 80}]}),
     "spec.rules[0].backendRefs[0].name", "Required value"),
    ("httproute-header-name-pattern",
     http_route({"matches": [{"headers": [{"name": "X Version", "value": "2"}]}]}),
     "spec.rules[0].matches[0].headers[0].name",
     f"Invalid value: \"X Version\": spec.rules[0].matches[0].headers[0].name in body "
     f"should match '{HEADER_NAME}'"),
    ("httproute-header-value-required",
     http_route({"matches": [{"headers": [{"name": "X-Version"}]}]}),
     "spec.rules[0].matches[0].headers[0].value", "Required value"),
    ("httproute-header-matches-list-map-duplicate",
     http_route({"matches": [{"headers": [{"name": "X-Version", "value": "1"},
                                          {"name": "X-Version", "value": "2"}]}]}),
     "spec.rules[0].matches[0].headers[1]",
     'Duplicate value: map[string]interface {}{"name":"X-Version"}'),
    ("httproute-queryParams-list-map-duplicate",
     http_route({"matches": [{"queryParams": [{"name": "v", "value": "1"},
                                              {"name": "v", "value": "2"}]}]}),
     "spec.rules[0].matches[0].queryParams[1]",
     'Duplicate value: map[string]interface {}{"name":"v"}'),
    ("httproute-headerModifier-set-list-map-duplicate",
     http_route({"filters": [{"type": "RequestHeaderModifier", "requestHeaderModifier": {
         "set": [{"name": "X-A", "value": "1"}, {"name": "X-A", "value": "2"}]}}]}),
     "spec.rules[0].filters[0].requestHeaderModifier.set[1]",
     'Duplicate value: map[string]interface {}{"name":"X-A"}'),
    ("httproute-method-enum", http_route({"matches": [{"method": "get"}]}),
     "spec.rules[0].matches[0].method",
     'Unsupported value: "get": supported values: "GET", "HEAD", "POST", "PUT", "DELETE", '
     '"CONNECT", "OPTIONS", "TRACE", "PATCH"'),
    ("httproute-timeouts: backendRequest timeout cannot be longer than request timeout",
     http_route({"timeouts": {"request": "10s", "backendRequest": "1m"}}),
     "spec.rules[0].timeouts",
     "Invalid value: backendRequest timeout cannot be longer than request timeout"),
    ("httproute_test: Wildcard and other hosts on the same origin list should be denied",
     http_route({"filters": [{"type": "CORS", "cors": {
         "allowOrigins": ["*", "https://xpto.com"]}}]}),
     "spec.rules[0].filters[0].cors.allowOrigins",
     "Invalid value: AllowOrigins cannot contain '*' alongside other origins"),
    # ---------------- GRPCRoute
    ("grpcroute_test: invalid GRPCRoute missing service or method in GRPCMethodMatch field",
     grpc_route({"matches": [{"method": {"type": "Exact"}}]}),
     "spec.rules[0].matches[0].method",
     "Invalid value: One or both of 'service' or 'method' must be specified"),
    ("grpcroute: method: {} (type defaulted to Exact) needs service or method",
     grpc_route({"matches": [{"method": {}}]}), "spec.rules[0].matches[0].method",
     "Invalid value: One or both of 'service' or 'method' must be specified"),
    ("grpcroute_test: GRPCRoute uses regex in service with match type Exact",
     grpc_route({"matches": [{"method": {"type": "Exact", "service": "foo.*.bar"}}]}),
     "spec.rules[0].matches[0].method",
     "Invalid value: service must only contain valid characters (matching "
     r"^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$)"),
    ("grpcroute_test: GRPCRoute uses regex in method with undefined match type",
     grpc_route({"matches": [{"method": {"method": "Get.*"}}]}),
     "spec.rules[0].matches[0].method",
     "Invalid value: method must only contain valid characters (matching "
     "^[A-Za-z_][A-Za-z_0-9]*$)"),
    ("grpcroute-method-type-enum",
     grpc_route({"matches": [{"method": {"type": "Prefix", "service": "a.B"}}]}),
     "spec.rules[0].matches[0].method.type",
     'Unsupported value: "Prefix": supported values: "Exact", "RegularExpression"'),
    ("grpcroute_test: invalid because multiple filters are repeated",
     grpc_route({"filters": [
         {"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [
             {"name": "a", "value": "1"}]}},
         {"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [
             {"name": "b", "value": "2"}]}}]}),
     "spec.rules[0].filters", "Invalid value: RequestHeaderModifier filter cannot be repeated"),
    ("grpcroute-filter-type-enum (no URLRewrite)",
     grpc_route({"filters": [{"type": "URLRewrite", "urlRewrite": {}}]}),
     "spec.rules[0].filters[0].type",
     'Unsupported value: "URLRewrite": supported values: "ResponseHeaderModifier", '
     '"RequestHeaderModifier", "RequestMirror", "ExtensionRef"'),
    ("grpcroute_test: too many matches and rules (7 rules of 20 matches)",
     grpc_route(*[{"matches": [{"method": {"service": "a.B"}}] * 20} for _ in range(7)]),
     "spec.rules",
     "Invalid value: While 16 rules and 64 matches per rule are allowed, the total number "
     "of matches across all rules in a route must be less than 128"),
    ("grpcroute-rules-maxItems-16", grpc_route(*[{} for _ in range(17)]), "spec.rules",
     "Too many: 17: must have at most 16 items"),
    ("grpcroute-header-matches-list-map-duplicate",
     grpc_route({"matches": [{"headers": [{"name": "x", "value": "1"},
                                          {"name": "x", "value": "2"}]}]}),
     "spec.rules[0].matches[0].headers[1]",
     'Duplicate value: map[string]interface {}{"name":"x"}'),
    ("grpcroute-hostname-pattern", grpc_route(hostnames=["1.2.3.4:50051"]),
     "spec.hostnames[0]",
     f"Invalid value: \"1.2.3.4:50051\": spec.hostnames[0] in body should match "
     f"'{HOSTNAME}'"),
    ("grpcroute-backendRef-weight-maximum",
     grpc_route({"backendRefs": [{"name": "echo", "port": 9000, "weight": 2_000_000}]}),
     "spec.rules[0].backendRefs[0].weight",
     "Invalid value: 2000000: spec.rules[0].backendRefs[0].weight in body should be less "
     "than or equal to 1000000"),
    # ---------------- ReferenceGrant
    ("referencegrant-from-required", reference_grant(**{"from": None}), "spec.from",
     "Required value"),
    ("referencegrant-to-required", reference_grant(to=None), "spec.to", "Required value"),
    ("referencegrant-from-minItems-1", reference_grant(**{"from": []}), "spec.from",
     "Invalid value: 0: spec.from in body should have at least 1 items"),
    ("referencegrant-to-minItems-1", reference_grant(to=[]), "spec.to",
     "Invalid value: 0: spec.to in body should have at least 1 items"),
    ("referencegrant-from-namespace-required",
     reference_grant(**{"from": [{"group": GROUP, "kind": "HTTPRoute"}]}),
     "spec.from[0].namespace", "Required value"),
    ("referencegrant-from-group-required (\"\" is the core group, absent is not)",
     reference_grant(**{"from": [{"kind": "HTTPRoute", "namespace": "x"}]}),
     "spec.from[0].group", "Required value"),
    ("referencegrant-to-kind-required", reference_grant(to=[{"group": ""}]),
     "spec.to[0].kind", "Required value"),
    ("referencegrant-from-maxItems-16",
     reference_grant(**{"from": [{"group": GROUP, "kind": "HTTPRoute", "namespace": f"n{i}"}
                                 for i in range(17)]}),
     "spec.from", "Too many: 17: must have at most 16 items"),
]


def _drop_none(doc):
    """The manifests above write None for "leave the field out"."""
    if isinstance(doc, dict):
        return {k: _drop_none(v) for k, v in doc.items() if v is not None}
    if isinstance(doc, list):
        return [_drop_none(v) for v in doc]
    return doc


@pytest.mark.parametrize("doc, field, problem", [case[1:] for case in INVALID],
                         ids=[case[0] for case in INVALID])
def test_invalid_manifest_is_refused_with_the_api_servers_message(doc, field, problem):
    c = kl.Cluster()
    doc = _drop_none(doc)
    with pytest.raises(kl.ManifestError) as err:
        c.apply(doc)
    assert (err.value.field, err.value.problem) == (field, problem)
    assert doc["kind"] in str(err.value.obj)
    with pytest.raises(kl.NotFoundError):
        ref = doc["metadata"]["name"]
        if doc["kind"] != "GatewayClass":
            ref = f"default/{ref}"
        c.get(doc["kind"], ref)


def test_duplicate_listener_names_name_the_cel_rule_too():
    # gateway_test.go "names are not unique within the Gateway" wants
    # "Listener name must be unique within the Gateway"; kubectl lists it after the
    # list-map's Duplicate value, and the lab, which names the first error, says it in
    # the fix
    with pytest.raises(kl.ManifestError) as err:
        kl.Cluster().apply(gateway({"name": "http", "protocol": "HTTP", "port": 80},
                                   {"name": "http", "protocol": "HTTP", "port": 8080}))
    assert "Listener name must be unique within the Gateway" in str(err.value)


def test_gateway_class_controller_name_is_immutable():
    # gatewayclass_test.go "cannot upgrade controllerName": "Value is immutable"
    c = kl.Cluster()
    c.apply(gateway_class(controller="example.net/gateway-controller-1"))
    with pytest.raises(kl.ManifestError) as err:
        c.apply(gateway_class(controller="example.net/gateway-controller-2"))
    assert err.value.field == "spec.controllerName"
    # a CEL rule on a scalar prints the value (facts §1.0)
    assert err.value.problem == ('Invalid value: "example.net/gateway-controller-2": '
                                 "Value is immutable")
    assert spec_of(c, "GatewayClass", "eg")["controllerName"] == (
        "example.net/gateway-controller-1")
    # the same controllerName again is no change
    c.apply(gateway_class(controller="example.net/gateway-controller-1",
                          description="now described"))
    assert spec_of(c, "GatewayClass", "eg")["description"] == "now described"


def test_a_namespaced_kind_needs_its_namespace():
    doc = http_route()
    doc["metadata"]["namespace"] = "nowhere"
    with pytest.raises(kl.NotFoundError):
        kl.Cluster().apply(doc)


def test_one_invalid_document_applies_nothing():
    c = kl.Cluster()
    before = c.exec("control-plane", "kubectl get all -A")
    bad = http_route({"matches": [match("PathPrefix", "api")]})
    bad["metadata"]["name"] = "bad"
    docs = [gateway_class(), gateway(), http_route({"backendRefs": [BACKEND]}),
            reference_grant(), bad]
    with pytest.raises(kl.ManifestError) as err:
        c.apply(docs)
    assert err.value.field == "spec.rules[0].matches[0].path"
    for kind, ref in (("GatewayClass", "eg"), ("Gateway", "default/eg"),
                      ("HTTPRoute", "default/web"), ("ReferenceGrant", "default/allow"),
                      ("HTTPRoute", "default/bad")):
        with pytest.raises(kl.NotFoundError):
            c.get(kind, ref)
    assert c.exec("control-plane", "kubectl get all -A") == before


def test_one_invalid_document_in_yaml_text_applies_nothing():
    c = kl.Cluster()
    text = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg}
spec:
  gatewayClassName: eg
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: eg}]
  rules:
  - filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]
    backendRefs: [{name: web, port: 80}]
"""
    with pytest.raises(kl.ManifestError, match="must not be used together with backendRefs"):
        c.apply(text)
    with pytest.raises(kl.NotFoundError):
        c.get("Gateway", "default/eg")
