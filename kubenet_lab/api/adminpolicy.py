"""The admin tier's manifests to records: ClusterNetworkPolicy (v1alpha2) and the older
AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1), with the CRDs' validation
(kubernetes-sigs/network-policy-api apis/v1alpha2/clusternetworkpolicy_types.go,
apis/v1alpha1/adminnetworkpolicy_types.go).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import (
    check_cidr,
    check_port,
    check_port_name,
    invalid,
    mapping,
    meta,
    sequence,
    string,
)
from kubenet_lab.api.networkpolicy import encode_selector, parse_protocol, parse_selector
from kubenet_lab.model.networkpolicy import (
    AdminPeer,
    AdminPolicy,
    AdminPort,
    AdminRule,
    LabelSelector,
)

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["ADMIN_KINDS", "admin_policy_from_manifest", "encode_admin_policy"]

ADMIN_KINDS = {
    ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"): ("Accept", "Deny", "Pass"),
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"): ("Allow", "Deny", "Pass"),
    ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy"): ("Allow", "Deny"),
}


def _admin_peer(obj: str, path: str, raw: Any, egress: bool, subject: bool = False) -> AdminPeer:
    p = mapping(obj, path, raw)
    allowed = ["namespaces", "pods"] + ([] if subject or not egress else ["networks", "nodes"])
    unknown = sorted(set(p) - set(allowed))
    if unknown == ["domainNames"] and egress and not subject:
        raise invalid(obj, f"{path}.domainNames", "domainNames", "is a v1alpha2 egress peer "
                      "the lab does not model (it resolves no names outside the cluster)",
                      "use networks with the addresses instead")
    if unknown:
        raise invalid(obj, f"{path}.{unknown[0]}", unknown[0], "is not a field here",
                      "use exactly one of " + ", ".join(allowed))
    if len(p) != 1:
        raise invalid(obj, path, sorted(p), "Invalid value: exactly one field must be set",
                      "use exactly one of " + ", ".join(allowed))
    (kind, value), = p.items()
    if kind == "namespaces":
        return AdminPeer("namespaces", parse_selector(obj, f"{path}.namespaces", value))
    if kind == "pods":
        v = mapping(obj, f"{path}.pods", value)
        if "podSelector" not in v:
            raise invalid(obj, f"{path}.pods.podSelector", None, "Required value",
                          "give podSelector ({} selects every pod)")
        return AdminPeer(
            "pods", parse_selector(obj, f"{path}.pods.namespaceSelector",
                                   v.get("namespaceSelector")),
            parse_selector(obj, f"{path}.pods.podSelector", v.get("podSelector")))
    if kind == "nodes":
        return AdminPeer("nodes", node_selector=parse_selector(obj, f"{path}.nodes", value))

    nets = sequence(obj, f"{path}.networks", value)
    if not nets:
        raise invalid(obj, f"{path}.networks", nets, "Required value: at least 1 item")
    return AdminPeer("networks", networks=tuple(
        str(check_cidr(obj, f"{path}.networks[{i}]", n)) for i, n in enumerate(nets)))


def _range(obj: str, path: str, start: Any, end: Any, strict: bool) -> tuple[int, int]:
    check_port(obj, f"{path}.start", start)
    check_port(obj, f"{path}.end", end)
    if end < start or (strict and end == start):
        raise invalid(obj, f"{path}.end", end,
                      "Invalid value: Start port must be less than End port",
                      f"use an end greater than {start}")
    return start, end


def _admin_ports_v1alpha1(obj: str, path: str, raw: Any) -> tuple[AdminPort, ...]:
    out = []
    for i, p in enumerate(sequence(obj, path, raw)):
        where = f"{path}[{i}]"
        p = mapping(obj, where, p)
        if len(p) != 1 or next(iter(p)) not in ("portNumber", "namedPort", "portRange"):
            raise invalid(obj, where, sorted(p), "Invalid value: exactly one of portNumber, "
                          "namedPort, portRange must be set")
        (kind, v), = p.items()
        if kind == "namedPort":

            out.append(AdminPort(name=check_port_name(obj, f"{where}.namedPort", v)))
            continue
        v = mapping(obj, f"{where}.{kind}", v)
        proto = parse_protocol(obj, f"{where}.{kind}.protocol", v.get("protocol"))
        if kind == "portNumber":
            out.append(AdminPort(proto, check_port(obj, f"{where}.portNumber.port", v.get("port"))))
        else:
            start, end = _range(obj, f"{where}.portRange", v.get("start"), v.get("end"), False)
            out.append(AdminPort(proto, start, end))
    return tuple(out)


def _admin_ports_v1alpha2(obj: str, path: str, raw: Any) -> tuple[AdminPort, ...]:
    out = []
    for i, p in enumerate(sequence(obj, path, raw)):
        where = f"{path}[{i}]"
        p = mapping(obj, where, p)
        keys = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}
        if len(p) != 1 or next(iter(p)) not in (*keys, "destinationNamedPort"):
            bad = next(iter(p), None)
            raise invalid(obj, f"{where}.{bad}" if bad else where, bad,
                          'Unsupported value: supported values: "tcp", "udp", "sctp", '
                          '"destinationNamedPort" (exactly one)',
                          "the admin tier matches TCP, UDP and SCTP only")
        (kind, v), = p.items()
        if kind == "destinationNamedPort":

            out.append(AdminPort(name=check_port_name(obj, f"{where}.{kind}", v)))
            continue
        dport = mapping(obj, f"{where}.{kind}.destinationPort",
                        mapping(obj, f"{where}.{kind}", v).get("destinationPort"))
        if "number" in dport:
            out.append(AdminPort(keys[kind], check_port(
                obj, f"{where}.{kind}.destinationPort.number", dport["number"])))
        elif "range" in dport:
            r = mapping(obj, f"{where}.{kind}.destinationPort.range", dport["range"])
            start, end = _range(obj, f"{where}.{kind}.destinationPort.range",
                                r.get("start"), r.get("end"), True)
            out.append(AdminPort(keys[kind], start, end))
        else:
            out.append(AdminPort(keys[kind], None))
    return tuple(out)


def admin_policy_from_manifest(doc: Mapping[str, Any]) -> AdminPolicy:
    """A ClusterNetworkPolicy (v1alpha2), AdminNetworkPolicy or BaselineAdminNetworkPolicy
    (v1alpha1) from its manifest, with the CRDs' validation (priority 0-1000, the
    actions of each kind, exactly one field per subject, peer and port).

    Raises
    ------
    ManifestError
        A field the API server would reject.
    """
    version, kind = doc.get("apiVersion"), doc.get("kind")
    actions = ADMIN_KINDS[(version, kind)]
    obj, _, name, _ = meta(doc, kind, namespaced=False)
    spec = mapping(obj, "spec", doc.get("spec"))
    if kind == "BaselineAdminNetworkPolicy":
        if name != "default":
            raise invalid(obj, "metadata.name", name, "Invalid value: Only one baseline admin "
                          "network policy with metadata.name=\"default\" can be created in the "
                          "cluster", "name it default")
        tier, priority = "Baseline", None
    else:
        if kind == "ClusterNetworkPolicy":
            tier = spec.get("tier")
            if tier not in ("Admin", "Baseline"):
                raise invalid(obj, "spec.tier", tier,
                              'Unsupported value: supported values: "Admin", "Baseline"')
        else:
            tier = "Admin"
        priority = spec.get("priority")
        if isinstance(priority, bool) or not isinstance(priority, int) or not (
            0 <= priority <= 1000
        ):
            raise invalid(obj, "spec.priority", priority,
                          "Invalid value: spec.priority in body should be an integer from 0 "
                          "to 1000",
                          "use a priority from 0 (checked first) to 1000")
    if "subject" not in spec:
        raise invalid(obj, "spec.subject", None, "Required value",
                      "select pods with subject: {namespaces: {...}} or {pods: {...}}")
    subject = _admin_peer(obj, "spec.subject", spec["subject"], False, subject=True)
    v2 = kind == "ClusterNetworkPolicy"
    rules: dict[str, tuple[AdminRule, ...]] = {}
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        out = []
        for i, r in enumerate(sequence(obj, f"spec.{direction}", spec.get(direction))):
            path = f"spec.{direction}[{i}]"
            r = mapping(obj, path, r)
            action = r.get("action")
            if action not in actions:
                raise invalid(obj, f"{path}.action", action, "Unsupported value: supported "
                              "values: " + ", ".join(f'"{a}"' for a in actions))
            peers = sequence(obj, f"{path}.{peers_key}", r.get(peers_key))
            if not peers:
                raise invalid(obj, f"{path}.{peers_key}", peers, "Required value: at least 1 item",
                              "name the peers this rule is about")
            parsed = tuple(_admin_peer(obj, f"{path}.{peers_key}[{j}]", p, direction == "egress")
                           for j, p in enumerate(peers))
            if v2:
                ports = _admin_ports_v1alpha2(obj, f"{path}.protocols", r.get("protocols"))
            else:
                ports = _admin_ports_v1alpha1(obj, f"{path}.ports", r.get("ports"))
            out.append(AdminRule(string(obj, f"{path}.name", r.get("name"), ""), action,
                                 parsed, ports))
        rules[direction] = tuple(out)
    return AdminPolicy(kind, name, tier, priority, subject, rules["ingress"], rules["egress"])


# ---------------------------------------------------------------- encoding
def _encode_peer(peer: AdminPeer) -> dict[str, Any]:
    if peer.kind == "namespaces":
        return {"namespaces": encode_selector(peer.namespace_selector or LabelSelector())}
    if peer.kind == "pods":
        return {"pods": {
            "namespaceSelector": encode_selector(peer.namespace_selector or LabelSelector()),
            "podSelector": encode_selector(peer.pod_selector or LabelSelector())}}
    if peer.kind == "nodes":
        return {"nodes": encode_selector(peer.node_selector or LabelSelector())}
    return {"networks": list(peer.networks)}


def _encode_port(port: AdminPort, v2: bool) -> dict[str, Any]:
    """v1alpha2 ``protocols[]`` (``{tcp: {destinationPort: {number | range}}}``) or
    v1alpha1 ``ports[]`` (``portNumber``, ``portRange``, ``namedPort``); the CRDs default
    a v1alpha1 protocol to TCP, so it is always there."""
    if port.name is not None:
        return {"destinationNamedPort" if v2 else "namedPort": port.name}
    if v2:
        if port.port is None:
            return {port.protocol.lower(): {}}
        dport = ({"range": {"start": port.port, "end": port.end_port}}
                 if port.end_port is not None else {"number": port.port})
        return {port.protocol.lower(): {"destinationPort": dport}}
    if port.end_port is not None:
        return {"portRange": {"protocol": port.protocol, "start": port.port,
                              "end": port.end_port}}
    return {"portNumber": {"protocol": port.protocol, "port": port.port}}


def encode_admin_policy(view: StoreView, policy: AdminPolicy) -> dict[str, Any]:
    """A ClusterNetworkPolicy (v1alpha2), AdminNetworkPolicy or BaselineAdminNetworkPolicy
    (v1alpha1) as the API server stores it; ``admin_policy_from_manifest`` reads it back.
    No status: the implementation would write one, and kube-network-policies writes none.

    >>> p = admin_policy_from_manifest({"apiVersion": "policy.networking.k8s.io/v1alpha1",
    ...     "kind": "AdminNetworkPolicy", "metadata": {"name": "a"}, "spec": {
    ...     "priority": 5, "subject": {"namespaces": {}}, "ingress": [{"action": "Deny",
    ...     "from": [{"namespaces": {}}], "ports": [{"portNumber": {"port": 80}}]}]}})
    >>> encode_admin_policy(None, p)["spec"]["ingress"]
    [{'action': 'Deny', 'from': [{'namespaces': {}}], 'ports': [{'portNumber': {'protocol': \
'TCP', 'port': 80}}]}]
    """
    version = next(v for v, k in ADMIN_KINDS if k == policy.kind)
    v2 = policy.kind == "ClusterNetworkPolicy"
    spec: dict[str, Any] = {"subject": _encode_peer(policy.subject)}
    if v2:
        spec["tier"] = policy.tier
    if policy.priority is not None:
        spec["priority"] = policy.priority
    for direction, peers_key, rules in (("ingress", "from", policy.ingress),
                                        ("egress", "to", policy.egress)):
        if rules:
            spec[direction] = [{
                **({"name": r.name} if r.name else {}), "action": r.action,
                peers_key: [_encode_peer(p) for p in r.peers],
                **({"protocols" if v2 else "ports": [_encode_port(p, v2) for p in r.ports]}
                   if r.ports else {})} for r in rules]
    return {"apiVersion": version, "kind": policy.kind, "spec": spec}
