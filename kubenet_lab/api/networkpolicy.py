"""NetworkPolicy (networking.k8s.io/v1) manifests to records, with the API server's
validation (pkg/apis/networking/validation) and defaulting (pkg/apis/networking/v1
defaults.go), and the label selectors every policy API shares (apimachinery's
``ValidateLabelSelector``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import (
    PROTOCOLS,
    check_cidr,
    check_labels,
    check_port,
    check_port_name,
    invalid,
    mapping,
    meta,
    sequence,
)
from kubenet_lab.model.networkpolicy import (
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
)

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["encode_network_policy", "encode_selector", "network_policy_from_manifest",
           "parse_protocol", "parse_selector"]

_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def parse_selector(obj: str, field: str, raw: Any) -> LabelSelector:
    """A ``metav1.LabelSelector`` with apimachinery's checks
    (``ValidateLabelSelector``): known operators; values required for In/NotIn and
    forbidden for Exists/DoesNotExist; valid label keys and values."""

    sel = mapping(obj, field, raw)
    unknown = sorted(set(sel) - {"matchLabels", "matchExpressions"})
    if unknown:
        raise invalid(obj, f"{field}.{unknown[0]}", unknown[0],
                      "is not a field of a label selector",
                      "a selector has matchLabels and/or matchExpressions")
    labels = check_labels(obj, f"{field}.matchLabels", mapping(
        obj, f"{field}.matchLabels", sel.get("matchLabels")) and dict(sel["matchLabels"]))
    exprs = []
    for i, e in enumerate(sequence(obj, f"{field}.matchExpressions", sel.get("matchExpressions"))):
        path = f"{field}.matchExpressions[{i}]"
        e = mapping(obj, path, e)
        key, op = e.get("key"), e.get("operator")
        if not isinstance(key, str) or not key:
            raise invalid(obj, f"{path}.key", key, "Required value", "give the label key to test")
        check_labels(obj, f"{path}.key", {key: ""})
        if op not in _OPERATORS:
            raise invalid(obj, f"{path}.operator", op, "is not a valid selector operator",
                          "use In, NotIn, Exists or DoesNotExist")
        values = sequence(obj, f"{path}.values", e.get("values"))
        if op in ("In", "NotIn") and not values:
            raise invalid(obj, f"{path}.values", values,
                          "Required value: must be specified when `operator` is 'In' or 'NotIn'")
        if op in ("Exists", "DoesNotExist") and values:
            raise invalid(obj, f"{path}.values", values,
                          "Forbidden: may not be specified when `operator` is 'Exists' or "
                          "'DoesNotExist'")
        for j, v in enumerate(values):
            check_labels(obj, f"{path}.values[{j}]", {key: v})
        exprs.append((key, op, tuple(str(v) for v in values)))
    return LabelSelector(tuple(sorted(labels.items())), tuple(exprs))


def parse_protocol(obj: str, field: str, value: Any) -> str:
    if value is None:
        return "TCP"
    if value not in PROTOCOLS:
        raise invalid(obj, field, value,
                      'Unsupported value: supported values: "SCTP", "TCP", "UDP"',
                      "NetworkPolicy matches TCP, UDP and SCTP only (TCP is the default)")
    return str(value)


def _np_port(obj: str, path: str, raw: Any) -> NetworkPolicyPort:

    p = mapping(obj, path, raw)
    protocol = parse_protocol(obj, f"{path}.protocol", p.get("protocol"))
    port, end = p.get("port"), p.get("endPort")
    if isinstance(port, str):  # an IntOrString given as a string is a name, "80" too
        check_port_name(obj, f"{path}.port", port)
    elif port is not None:
        check_port(obj, f"{path}.port", port)
    if end is not None:
        # k8s.io/kubernetes pkg/apis/networking/validation ValidateNetworkPolicyPort
        if port is None:
            raise invalid(obj, f"{path}.port", None,
                          "Required value: must be specified when endPort is specified",
                          "give the first port of the range in port")
        if isinstance(port, str):
            raise invalid(obj, f"{path}.endPort", end,
                          "Forbidden: may not be specified when `port` is non-numeric",
                          "use a numbered port with endPort, or drop endPort")
        check_port(obj, f"{path}.endPort", end)
        if end < port:
            raise invalid(obj, f"{path}.endPort", end,
                          "Invalid value: must be greater than or equal to `port`",
                          f"use an endPort of at least {port}")
    return NetworkPolicyPort(protocol, port, end)


def _ip_block(obj: str, path: str, raw: Any) -> IPBlock:

    b = mapping(obj, path, raw)
    if b.get("cidr") is None:
        raise invalid(obj, f"{path}.cidr", None, "Required value", "give the block a cidr")
    cidr = check_cidr(obj, f"{path}.cidr", b.get("cidr"))
    excepts = []
    for i, e in enumerate(sequence(obj, f"{path}.except", b.get("except"))):
        net = check_cidr(obj, f"{path}.except[{i}]", e)
        if not (net.subnet_of(cidr) and net != cidr):
            raise invalid(obj, f"{path}.except[{i}]", e,
                          "Invalid value: must be a strict subset of `cidr`",
                          f"use a CIDR inside {cidr} (and smaller than it)")
        excepts.append(str(net))
    return IPBlock(str(cidr), tuple(excepts))


def _np_peer(obj: str, path: str, raw: Any) -> NetworkPolicyPeer:
    p = mapping(obj, path, raw)
    unknown = sorted(set(p) - {"podSelector", "namespaceSelector", "ipBlock"})
    if unknown:
        raise invalid(obj, f"{path}.{unknown[0]}", unknown[0], "is not a field of a peer",
                      "a peer has podSelector and/or namespaceSelector, or ipBlock")
    if not p:
        raise invalid(obj, path, {}, "Required value: must specify a peer",
                      "give podSelector, namespaceSelector or ipBlock")
    if "ipBlock" in p:
        if len(p) > 1:
            raise invalid(obj, path, sorted(p), "Forbidden: may not specify more than 1 peer type "
                          "when ipBlock is specified", "put the ipBlock in a peer of its own")
        return NetworkPolicyPeer(ip_block=_ip_block(obj, f"{path}.ipBlock", p["ipBlock"]))
    pod = parse_selector(obj, f"{path}.podSelector", p["podSelector"]) if (
        "podSelector" in p) else None
    ns = parse_selector(obj, f"{path}.namespaceSelector", p["namespaceSelector"]) if (
        "namespaceSelector" in p) else None
    return NetworkPolicyPeer(pod, ns)


def _np_rules(obj: str, field: str, peers_key: str, raw: Any) -> tuple[NetworkPolicyRule, ...]:
    rules = []
    for i, r in enumerate(sequence(obj, field, raw)):
        path = f"{field}[{i}]"
        r = mapping(obj, path, r)
        peers = tuple(_np_peer(obj, f"{path}.{peers_key}[{j}]", p)
                      for j, p in enumerate(sequence(obj, f"{path}.{peers_key}", r.get(peers_key))))
        ports = tuple(_np_port(obj, f"{path}.ports[{j}]", p)
                      for j, p in enumerate(sequence(obj, f"{path}.ports", r.get("ports"))))
        rules.append(NetworkPolicyRule(peers, ports))
    return tuple(rules)


def network_policy_from_manifest(doc: Mapping[str, Any]) -> NetworkPolicy:
    """A NetworkPolicy from its manifest, with the API server's validation and defaults.

    Raises
    ------
    ManifestError
        A field the API server would reject; the message names it.

    Examples
    --------
    >>> from kubenet_lab.api.networkpolicy import network_policy_from_manifest
    >>> p = network_policy_from_manifest({"metadata": {"name": "deny", "namespace": "x"},
    ...                                   "spec": {"podSelector": {}}})
    >>> p.policy_types, p.ingress
    (('Ingress',), ())
    """
    obj, ns, name, _ = meta(doc, "NetworkPolicy", namespaced=True)
    spec = mapping(obj, "spec", doc.get("spec"))
    if "podSelector" not in spec and doc.get("spec") is None:
        spec = {}
    pod_selector = parse_selector(obj, "spec.podSelector", spec.get("podSelector"))
    ingress = _np_rules(obj, "spec.ingress", "from", spec.get("ingress"))
    egress = _np_rules(obj, "spec.egress", "to", spec.get("egress"))
    types = sequence(obj, "spec.policyTypes", spec.get("policyTypes"))
    for i, t in enumerate(types):
        if t not in ("Ingress", "Egress"):
            raise invalid(obj, f"spec.policyTypes[{i}]", t,
                          'Unsupported value: supported values: "Ingress", "Egress"')
    if not types:  # defaulting: pkg/apis/networking/v1/defaults.go
        types = ["Ingress"] + (["Egress"] if egress else [])
    ordered = tuple(t for t in ("Ingress", "Egress") if t in types)
    return NetworkPolicy(ns, name, pod_selector, ordered, ingress, egress)


# ---------------------------------------------------------------- encoding
def encode_selector(sel: LabelSelector) -> dict[str, Any]:
    """A ``metav1.LabelSelector`` as the API stores it (``{}`` selects everything);
    ``parse_selector`` reads it back.

    >>> encode_selector(LabelSelector((("app", "db"),), (("tier", "In", ("a",)),)))
    {'matchLabels': {'app': 'db'}, 'matchExpressions': [{'key': 'tier', 'operator': 'In', \
'values': ['a']}]}
    """
    out: dict[str, Any] = {}
    if sel.match_labels:
        out["matchLabels"] = dict(sel.match_labels)
    if sel.match_expressions:
        out["matchExpressions"] = [{"key": k, "operator": op, **({"values": list(v)} if v else {})}
                                   for k, op, v in sel.match_expressions]
    return out


def _peer(peer: NetworkPolicyPeer) -> dict[str, Any]:
    if peer.ip_block is not None:
        block = peer.ip_block
        return {"ipBlock": {"cidr": block.cidr, **({"except": list(block.except_)}
                                                   if block.except_ else {})}}
    out = {}
    if peer.pod_selector is not None:
        out["podSelector"] = encode_selector(peer.pod_selector)
    if peer.namespace_selector is not None:
        out["namespaceSelector"] = encode_selector(peer.namespace_selector)
    return out


def _rule(rule: NetworkPolicyRule, peers_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rule.peers:
        out[peers_key] = [_peer(p) for p in rule.peers]
    if rule.ports:
        out["ports"] = [{"protocol": p.protocol, **({"port": p.port} if p.port is not None else {}),
                         **({"endPort": p.end_port} if p.end_port is not None else {})}
                        for p in rule.ports]
    return out


def encode_network_policy(view: StoreView, policy: NetworkPolicy) -> dict[str, Any]:
    """A NetworkPolicy as the API server stores it after defaulting (every port's
    ``protocol``, ``policyTypes``); it has no status. An empty rule list is left out, as
    Go's ``omitempty`` leaves it out: ``ingress: []`` (allow nothing) reads back the same,
    since ``policyTypes`` keeps the direction isolated.

    >>> p = network_policy_from_manifest({"metadata": {"name": "deny", "namespace": "x"},
    ...                                   "spec": {"podSelector": {}, "ingress": [{}]}})
    >>> encode_network_policy(None, p)["spec"]
    {'podSelector': {}, 'policyTypes': ['Ingress'], 'ingress': [{}]}
    """
    spec: dict[str, Any] = {"podSelector": encode_selector(policy.pod_selector),
                            "policyTypes": list(policy.policy_types)}
    if policy.ingress:
        spec["ingress"] = [_rule(r, "from") for r in policy.ingress]
    if policy.egress:
        spec["egress"] = [_rule(r, "to") for r in policy.egress]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "spec": spec}
