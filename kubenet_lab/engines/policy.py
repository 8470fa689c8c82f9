"""Network policy: manifests to records (with the API server's checks), verdicts, truth tables.

Evaluation order, for each direction of a connection (egress at the source pod, ingress
at the destination pod), as network-policy-api defines it
(apis/v1alpha2/clusternetworkpolicy_types.go, ``Tier``) and kube-network-policies
implements it (pkg/networkpolicy/controller.go, ``evaluatePacket``):

1. **Admin tier**: ClusterNetworkPolicies with ``tier: Admin`` and AdminNetworkPolicies
   whose subject selects the pod, by ascending priority, rules in written order; the
   first rule that matches decides: Accept/Allow (allowed, lower tiers skipped), Deny
   (dropped), Pass (go on to the NetworkPolicy tier).
2. **NetworkPolicy tier**: if any NetworkPolicy selects the pod for this direction the
   pod is isolated and the connection is allowed only if a rule of one of them allows it
   (policies are additive; they never deny). That decision is final.
3. **Baseline tier**: ClusterNetworkPolicies with ``tier: Baseline`` by priority, then
   the BaselineAdminNetworkPolicy ``default``; first matching rule decides.
4. **Default**: allowed.

A connection needs egress allowed at the source AND ingress allowed at the destination.
Replies of an allowed connection are allowed (connection tracking: kube-network-policies
accepts ``ct state established,related`` before it queues anything). Traffic to and from
the pod's own node is always allowed, and a pod cannot block access to itself
(kubernetes.io, concepts/services-networking/network-policies).
Named ports resolve against the destination pod's container ports, for egress rules too.

``reachability`` groups pods that no policy can tell apart (same namespace, labels,
ipBlock memberships and named-port resolution) and evaluates each group pair once, with
Python integers as bit sets over the groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubenet_lab.engines.validation import PROTOCOLS, check_dns_subdomain, check_port
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.address import cidr_contains
from kubenet_lab.model.networkpolicy import (
    AdminPeer,
    AdminPolicy,
    AdminPort,
    AdminRule,
    Explanation,
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicyRule,
    Reachability,
    Verdict,
)

if TYPE_CHECKING:
    from kubenet_lab.model.cluster import Cluster
    from kubenet_lab.model.pod import Pod

__all__ = [
    "ENFORCERS",
    "Connection",
    "Enforcer",
    "admin_policy_from_manifest",
    "enforcer",
    "evaluate",
    "explain",
    "network_policy_from_manifest",
    "reachability",
]

@dataclass(frozen=True, slots=True)
class Enforcer:
    """Something that enforces policies: the kinds it enforces and where it hooks in.

    ``hook`` is the sentence a trace shows at the hop where the verdict is made, ``where``
the short name of that place for the trace's reason. A CNI
    plugin that enforces policies itself (Calico, Cilium) adds its own entry to
    ``ENFORCERS`` under its ``Cluster.cni`` name.
    """

    kinds: tuple[str, ...]
    hook: str
    where: str = "POSTROUTING hook"


#: What each enforcer enforces, keyed by ``Cluster.network_policy`` (or ``Cluster.cni``).
#: kube-network-policies (sigs.k8s.io/kube-network-policies; the agent kind's kindnet
#: embeds) enforces NetworkPolicy and, with its admin flags, AdminNetworkPolicy and
#: BaselineAdminNetworkPolicy (install-anp.yaml) and ClusterNetworkPolicy
#: (pkg/networkpolicy/clusternetworkpolicy.go). It queues each connection's first packet
#: from nftables' POSTROUTING hook (filter priority -5, before SNAT) to userspace
#: (NFQUEUE) and accepts ``ct state established,related`` packets before that
#: (pkg/networkpolicy/controller.go, syncNFTablesRules).
ENFORCERS: dict[str, Enforcer] = {
    "kube-network-policies": Enforcer(
        ("NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
         "ClusterNetworkPolicy"),
        "POSTROUTING (nftables, filter priority -5, before SNAT): kube-network-policies "
        "takes the connection's first packet (ct state new) from NFQUEUE",
    ),
    # Calico's Felix programs iptables chains for each workload interface: cali-fw-<iface>
    # for traffic from the pod, cali-tw-<iface> for traffic to it, jumped to from the
    # FORWARD chain (docs.tigera.io, "Calico iptables chains"). The lab models its
    # Kubernetes NetworkPolicy support only.
    "calico": Enforcer(
        ("NetworkPolicy",),
        "Felix's iptables chains for the pod's cali interface (cali-fw-* from the pod, "
        "cali-tw-* to it) check the connection's first packet",
        "Felix's iptables chains",
    ),
    # Cilium enforces NetworkPolicy in eBPF on the pod's lxc device, by security
    # identity, before the packet enters the pod (docs.cilium.io, "Network Policy").
    "cilium": Enforcer(
        ("NetworkPolicy",),
        "Cilium's eBPF policy program on the pod's lxc device checks the connection's "
        "first packet by security identity",
        "eBPF policy on the lxc device",
    ),
}


def enforcer(cluster: Cluster) -> Enforcer | None:
    """The cluster's enforcer, or None when nothing enforces policies."""
    if not cluster.network_policy_enforced:
        return None
    name = cluster.network_policy or cluster.cni
    return ENFORCERS.get(name, Enforcer(
        ("NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
         "ClusterNetworkPolicy"), f"{name} checks the connection's first packet"))


def _admin_kinds(cluster: Cluster) -> tuple[str, ...]:
    """Admin-tier kinds that count: all when nothing enforces (to say what *would*
    happen), else those the enforcer supports."""
    found = enforcer(cluster)
    return found.kinds if found is not None else tuple(k for _, k in _ADMIN_KINDS)


_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


# ================================================================ manifests
def _err(obj: str, field: str, value: Any, problem: str, fix: str | None = None) -> ManifestError:
    return ManifestError(obj, field, value, problem, fix=fix)


def _as_map(obj: str, field: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _err(obj, field, value, "is not a mapping", f"write {field} as key: value pairs")
    return value


def _as_list(obj: str, field: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _err(obj, field, value, "is not a list", f"write {field} as a YAML list ('- ...')")
    return value


def parse_selector(obj: str, field: str, raw: Any) -> LabelSelector:
    """A ``metav1.LabelSelector`` with apimachinery's checks
    (``ValidateLabelSelector``): known operators; values required for In/NotIn and
    forbidden for Exists/DoesNotExist; valid label keys and values."""
    from kubenet_lab.engines.validation import check_labels

    sel = _as_map(obj, field, raw)
    unknown = sorted(set(sel) - {"matchLabels", "matchExpressions"})
    if unknown:
        raise _err(obj, f"{field}.{unknown[0]}", unknown[0], "is not a field of a label selector",
                   "a selector has matchLabels and/or matchExpressions")
    labels = check_labels(obj, f"{field}.matchLabels", _as_map(
        obj, f"{field}.matchLabels", sel.get("matchLabels")) and dict(sel["matchLabels"]))
    exprs = []
    for i, e in enumerate(_as_list(obj, f"{field}.matchExpressions", sel.get("matchExpressions"))):
        path = f"{field}.matchExpressions[{i}]"
        e = _as_map(obj, path, e)
        key, op = e.get("key"), e.get("operator")
        if not isinstance(key, str) or not key:
            raise _err(obj, f"{path}.key", key, "Required value", "give the label key to test")
        check_labels(obj, f"{path}.key", {key: ""})
        if op not in _OPERATORS:
            raise _err(obj, f"{path}.operator", op, "is not a valid selector operator",
                       "use In, NotIn, Exists or DoesNotExist")
        values = _as_list(obj, f"{path}.values", e.get("values"))
        if op in ("In", "NotIn") and not values:
            raise _err(obj, f"{path}.values", values,
                       "Required value: must be specified when `operator` is 'In' or 'NotIn'")
        if op in ("Exists", "DoesNotExist") and values:
            raise _err(obj, f"{path}.values", values,
                       "Forbidden: may not be specified when `operator` is 'Exists' or "
                       "'DoesNotExist'")
        for j, v in enumerate(values):
            check_labels(obj, f"{path}.values[{j}]", {key: v})
        exprs.append((key, op, tuple(str(v) for v in values)))
    return LabelSelector(tuple(sorted(labels.items())), tuple(exprs))


def _protocol(obj: str, field: str, value: Any) -> str:
    if value is None:
        return "TCP"
    if value not in PROTOCOLS:
        raise _err(obj, field, value,
                   'Unsupported value: supported values: "SCTP", "TCP", "UDP"',
                   "NetworkPolicy matches TCP, UDP and SCTP only (TCP is the default)")
    return str(value)


def _np_port(obj: str, path: str, raw: Any) -> NetworkPolicyPort:
    from kubenet_lab.engines.validation import check_port_name

    p = _as_map(obj, path, raw)
    protocol = _protocol(obj, f"{path}.protocol", p.get("protocol"))
    port, end = p.get("port"), p.get("endPort")
    if isinstance(port, str):  # an IntOrString given as a string is a name, "80" too
        check_port_name(obj, f"{path}.port", port)
    elif port is not None:
        check_port(obj, f"{path}.port", port)
    if end is not None:
        # k8s.io/kubernetes pkg/apis/networking/validation ValidateNetworkPolicyPort
        if port is None:
            raise _err(obj, f"{path}.port", None,
                       "Required value: must be specified when endPort is specified",
                       "give the first port of the range in port")
        if isinstance(port, str):
            raise _err(obj, f"{path}.endPort", end,
                       "Forbidden: may not be specified when `port` is non-numeric",
                       "use a numbered port with endPort, or drop endPort")
        check_port(obj, f"{path}.endPort", end)
        if end < port:
            raise _err(obj, f"{path}.endPort", end,
                       "Invalid value: must be greater than or equal to `port`",
                       f"use an endPort of at least {port}")
    return NetworkPolicyPort(protocol, port, end)


def _ip_block(obj: str, path: str, raw: Any) -> IPBlock:
    from kubenet_lab.engines.validation import check_cidr

    b = _as_map(obj, path, raw)
    if b.get("cidr") is None:
        raise _err(obj, f"{path}.cidr", None, "Required value", "give the block a cidr")
    cidr = check_cidr(obj, f"{path}.cidr", b.get("cidr"))
    excepts = []
    for i, e in enumerate(_as_list(obj, f"{path}.except", b.get("except"))):
        net = check_cidr(obj, f"{path}.except[{i}]", e)
        if not (net.subnet_of(cidr) and net != cidr):
            raise _err(obj, f"{path}.except[{i}]", e,
                       "Invalid value: must be a strict subset of `cidr`",
                       f"use a CIDR inside {cidr} (and smaller than it)")
        excepts.append(str(net))
    return IPBlock(str(cidr), tuple(excepts))


def _np_peer(obj: str, path: str, raw: Any) -> NetworkPolicyPeer:
    p = _as_map(obj, path, raw)
    unknown = sorted(set(p) - {"podSelector", "namespaceSelector", "ipBlock"})
    if unknown:
        raise _err(obj, f"{path}.{unknown[0]}", unknown[0], "is not a field of a peer",
                   "a peer has podSelector and/or namespaceSelector, or ipBlock")
    if not p:
        raise _err(obj, path, {}, "Required value: must specify a peer",
                   "give podSelector, namespaceSelector or ipBlock")
    if "ipBlock" in p:
        if len(p) > 1:
            raise _err(obj, path, sorted(p), "Forbidden: may not specify more than 1 peer type "
                       "when ipBlock is specified", "put the ipBlock in a peer of its own")
        return NetworkPolicyPeer(ip_block=_ip_block(obj, f"{path}.ipBlock", p["ipBlock"]))
    pod = parse_selector(obj, f"{path}.podSelector", p["podSelector"]) if (
        "podSelector" in p) else None
    ns = parse_selector(obj, f"{path}.namespaceSelector", p["namespaceSelector"]) if (
        "namespaceSelector" in p) else None
    return NetworkPolicyPeer(pod, ns)


def _np_rules(obj: str, field: str, peers_key: str, raw: Any) -> tuple[NetworkPolicyRule, ...]:
    rules = []
    for i, r in enumerate(_as_list(obj, field, raw)):
        path = f"{field}[{i}]"
        r = _as_map(obj, path, r)
        peers = tuple(_np_peer(obj, f"{path}.{peers_key}[{j}]", p)
                      for j, p in enumerate(_as_list(obj, f"{path}.{peers_key}", r.get(peers_key))))
        ports = tuple(_np_port(obj, f"{path}.ports[{j}]", p)
                      for j, p in enumerate(_as_list(obj, f"{path}.ports", r.get("ports"))))
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
    >>> from kubenet_lab.engines.policy import network_policy_from_manifest
    >>> p = network_policy_from_manifest({"metadata": {"name": "deny", "namespace": "x"},
    ...                                   "spec": {"podSelector": {}}})
    >>> p.policy_types, p.ingress
    (('Ingress',), ())
    """
    meta = _as_map("NetworkPolicy", "metadata", doc.get("metadata"))
    name = meta.get("name")
    ns = meta.get("namespace", "default")
    obj = f"NetworkPolicy {ns}/{name}"
    check_dns_subdomain(obj, "metadata.name", name)
    spec = _as_map(obj, "spec", doc.get("spec"))
    if "podSelector" not in spec and doc.get("spec") is None:
        spec = {}
    pod_selector = parse_selector(obj, "spec.podSelector", spec.get("podSelector"))
    ingress = _np_rules(obj, "spec.ingress", "from", spec.get("ingress"))
    egress = _np_rules(obj, "spec.egress", "to", spec.get("egress"))
    types = _as_list(obj, "spec.policyTypes", spec.get("policyTypes"))
    for i, t in enumerate(types):
        if t not in ("Ingress", "Egress"):
            raise _err(obj, f"spec.policyTypes[{i}]", t,
                       'Unsupported value: supported values: "Ingress", "Egress"')
    if not types:  # defaulting: pkg/apis/networking/v1/defaults.go
        types = ["Ingress"] + (["Egress"] if egress else [])
    ordered = tuple(t for t in ("Ingress", "Egress") if t in types)
    return NetworkPolicy(ns, name, pod_selector, ordered, ingress, egress)


# ---------------------------------------------------------------- admin tier manifests
_ADMIN_KINDS = {
    ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"): ("Accept", "Deny", "Pass"),
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"): ("Allow", "Deny", "Pass"),
    ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy"): ("Allow", "Deny"),
}


def _admin_peer(obj: str, path: str, raw: Any, egress: bool, subject: bool = False) -> AdminPeer:
    p = _as_map(obj, path, raw)
    allowed = ["namespaces", "pods"] + ([] if subject or not egress else ["networks", "nodes"])
    unknown = sorted(set(p) - set(allowed))
    if unknown:
        raise _err(obj, f"{path}.{unknown[0]}", unknown[0], "is not a field here",
                   "use exactly one of " + ", ".join(allowed))
    if len(p) != 1:
        raise _err(obj, path, sorted(p), "Invalid value: exactly one field must be set",
                   "use exactly one of " + ", ".join(allowed))
    (kind, value), = p.items()
    if kind == "namespaces":
        return AdminPeer("namespaces", parse_selector(obj, f"{path}.namespaces", value))
    if kind == "pods":
        v = _as_map(obj, f"{path}.pods", value)
        if "podSelector" not in v:
            raise _err(obj, f"{path}.pods.podSelector", None, "Required value",
                       "give podSelector ({} selects every pod)")
        return AdminPeer(
            "pods", parse_selector(obj, f"{path}.pods.namespaceSelector",
                                   v.get("namespaceSelector")),
            parse_selector(obj, f"{path}.pods.podSelector", v.get("podSelector")))
    if kind == "nodes":
        return AdminPeer("nodes", node_selector=parse_selector(obj, f"{path}.nodes", value))
    from kubenet_lab.engines.validation import check_cidr

    nets = _as_list(obj, f"{path}.networks", value)
    if not nets:
        raise _err(obj, f"{path}.networks", nets, "Required value: at least 1 item")
    return AdminPeer("networks", networks=tuple(
        str(check_cidr(obj, f"{path}.networks[{i}]", n)) for i, n in enumerate(nets)))


def _range(obj: str, path: str, start: Any, end: Any, strict: bool) -> tuple[int, int]:
    check_port(obj, f"{path}.start", start)
    check_port(obj, f"{path}.end", end)
    if end < start or (strict and end == start):
        raise _err(obj, f"{path}.end", end,
                   "Invalid value: Start port must be less than End port",
                   f"use an end greater than {start}")
    return start, end


def _admin_ports_v1alpha1(obj: str, path: str, raw: Any) -> tuple[AdminPort, ...]:
    out = []
    for i, p in enumerate(_as_list(obj, path, raw)):
        where = f"{path}[{i}]"
        p = _as_map(obj, where, p)
        if len(p) != 1 or next(iter(p)) not in ("portNumber", "namedPort", "portRange"):
            raise _err(obj, where, sorted(p), "Invalid value: exactly one of portNumber, "
                       "namedPort, portRange must be set")
        (kind, v), = p.items()
        if kind == "namedPort":
            from kubenet_lab.engines.validation import check_port_name

            out.append(AdminPort(name=check_port_name(obj, f"{where}.namedPort", v)))
            continue
        v = _as_map(obj, f"{where}.{kind}", v)
        proto = _protocol(obj, f"{where}.{kind}.protocol", v.get("protocol"))
        if kind == "portNumber":
            out.append(AdminPort(proto, check_port(obj, f"{where}.portNumber.port", v.get("port"))))
        else:
            start, end = _range(obj, f"{where}.portRange", v.get("start"), v.get("end"), False)
            out.append(AdminPort(proto, start, end))
    return tuple(out)


def _admin_ports_v1alpha2(obj: str, path: str, raw: Any) -> tuple[AdminPort, ...]:
    out = []
    for i, p in enumerate(_as_list(obj, path, raw)):
        where = f"{path}[{i}]"
        p = _as_map(obj, where, p)
        keys = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}
        if len(p) != 1 or next(iter(p)) not in (*keys, "destinationNamedPort"):
            bad = next(iter(p), None)
            raise _err(obj, f"{where}.{bad}" if bad else where, bad,
                       'Unsupported value: supported values: "tcp", "udp", "sctp", '
                       '"destinationNamedPort" (exactly one)',
                       "the admin tier matches TCP, UDP and SCTP only")
        (kind, v), = p.items()
        if kind == "destinationNamedPort":
            from kubenet_lab.engines.validation import check_port_name

            out.append(AdminPort(name=check_port_name(obj, f"{where}.{kind}", v)))
            continue
        dport = _as_map(obj, f"{where}.{kind}.destinationPort",
                        _as_map(obj, f"{where}.{kind}", v).get("destinationPort"))
        if "number" in dport:
            out.append(AdminPort(keys[kind], check_port(
                obj, f"{where}.{kind}.destinationPort.number", dport["number"])))
        elif "range" in dport:
            r = _as_map(obj, f"{where}.{kind}.destinationPort.range", dport["range"])
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
    actions = _ADMIN_KINDS[(version, kind)]
    meta = _as_map(kind, "metadata", doc.get("metadata"))
    name = meta.get("name")
    obj = f"{kind} {name}"
    check_dns_subdomain(obj, "metadata.name", name)
    spec = _as_map(obj, "spec", doc.get("spec"))
    if kind == "BaselineAdminNetworkPolicy":
        if name != "default":
            raise _err(obj, "metadata.name", name, "Invalid value: Only one baseline admin "
                       "network policy with metadata.name=\"default\" can be created in the "
                       "cluster", "name it default")
        tier, priority = "Baseline", None
    else:
        if kind == "ClusterNetworkPolicy":
            tier = spec.get("tier")
            if tier not in ("Admin", "Baseline"):
                raise _err(obj, "spec.tier", tier,
                           'Unsupported value: supported values: "Admin", "Baseline"')
        else:
            tier = "Admin"
        priority = spec.get("priority")
        if isinstance(priority, bool) or not isinstance(priority, int) or not (
            0 <= priority <= 1000
        ):
            raise _err(obj, "spec.priority", priority,
                       "Invalid value: spec.priority in body should be an integer from 0 to 1000",
                       "use a priority from 0 (checked first) to 1000")
    if "subject" not in spec:
        raise _err(obj, "spec.subject", None, "Required value",
                   "select pods with subject: {namespaces: {...}} or {pods: {...}}")
    subject = _admin_peer(obj, "spec.subject", spec["subject"], False, subject=True)
    v2 = kind == "ClusterNetworkPolicy"
    rules: dict[str, tuple[AdminRule, ...]] = {}
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        out = []
        for i, r in enumerate(_as_list(obj, f"spec.{direction}", spec.get(direction))):
            path = f"spec.{direction}[{i}]"
            r = _as_map(obj, path, r)
            action = r.get("action")
            if action not in actions:
                raise _err(obj, f"{path}.action", action, "Unsupported value: supported "
                           "values: " + ", ".join(f'"{a}"' for a in actions))
            peers = _as_list(obj, f"{path}.{peers_key}", r.get(peers_key))
            if not peers:
                raise _err(obj, f"{path}.{peers_key}", peers, "Required value: at least 1 item",
                           "name the peers this rule is about")
            parsed = tuple(_admin_peer(obj, f"{path}.{peers_key}[{j}]", p, direction == "egress")
                           for j, p in enumerate(peers))
            if v2:
                ports = _admin_ports_v1alpha2(obj, f"{path}.protocols", r.get("protocols"))
            else:
                ports = _admin_ports_v1alpha1(obj, f"{path}.ports", r.get("ports"))
            out.append(AdminRule(str(r.get("name", "")), action, parsed, ports))
        rules[direction] = tuple(out)
    return AdminPolicy(kind, name, tier, priority, subject, rules["ingress"], rules["egress"])


# ================================================================ evaluation
@dataclass(frozen=True, slots=True)
class Connection:
    """The endpoints of a connection for policy purposes: a pod, or a bare address (a
    node or outside the cluster)."""

    ip: str
    pod: Pod | None = None
    node: str | None = None

    def __str__(self) -> str:
        if self.pod is not None:
            return f"pod {self.pod.ref}"
        return f"node {self.node} ({self.ip})" if self.node else self.ip


def _ns_labels(cluster: Cluster, ns: str) -> Mapping[str, str]:
    return cluster.namespace(ns).labels


def _np_peer_matches(cluster: Cluster, policy_ns: str, peer: NetworkPolicyPeer,
                     other: Connection) -> bool:
    if peer.ip_block is not None:
        return peer.ip_block.contains(other.ip)
    pod = other.pod
    if pod is None:
        return False
    if peer.namespace_selector is None:
        if pod.namespace != policy_ns:
            return False
    elif not peer.namespace_selector.matches(_ns_labels(cluster, pod.namespace)):
        return False
    return peer.pod_selector is None or peer.pod_selector.matches(pod.labels)


def _named(dst: Pod | None, name: str, protocol: str) -> int | None:
    if dst is None:
        return None
    for c in dst.containers:
        for p in c.ports:
            if p.name == name and p.protocol == protocol:
                return p.container_port
    return None


def _port_matches(ports: tuple[NetworkPolicyPort, ...] | tuple[AdminPort, ...],
                  dst: Pod | None, port: int, protocol: str) -> bool:
    """Does one of ``ports`` match (empty: every port)? A name is looked up among the
    destination pod's container ports (an AdminPort's name matches any protocol)."""
    if not ports:
        return True
    for p in ports:
        name = p.port if isinstance(p.port, str) else getattr(p, "name", None)
        if name is not None:
            wanted = protocol if isinstance(p, AdminPort) else p.protocol
            if wanted == protocol and _named(dst, name, protocol) == port:
                return True
        elif p.protocol == protocol and (
            p.port is None or p.port <= port <= (p.end_port or p.port)
        ):
            return True
    return False


def _admin_peer_matches(cluster: Cluster, peer: AdminPeer, other: Connection) -> bool:
    if peer.kind == "networks":
        return any(cidr_contains(n, other.ip) for n in peer.networks)
    if peer.kind == "nodes":
        return other.node is not None and peer.node_selector is not None and (
            peer.node_selector.matches(cluster.node(other.node).labels))
    pod = other.pod
    if pod is None:
        return False
    assert peer.namespace_selector is not None
    if not peer.namespace_selector.matches(_ns_labels(cluster, pod.namespace)):
        return False
    return peer.kind == "namespaces" or (
        peer.pod_selector is not None and peer.pod_selector.matches(pod.labels))


def _selects(cluster: Cluster, policy: NetworkPolicy | AdminPolicy, pod: Pod) -> bool:
    if isinstance(policy, NetworkPolicy):
        return policy.namespace == pod.namespace and policy.pod_selector.matches(pod.labels)
    return _admin_peer_matches(cluster, policy.subject, Connection(pod.ip, pod))


def _admin_tier(cluster: Cluster, tier: str, direction: str, pod: Pod, other: Connection,
                dst: Pod | None, port: int, protocol: str) -> tuple[str, AdminPolicy, AdminRule,
                                                                     int] | None:
    kinds = _admin_kinds(cluster)
    policies = sorted((p for p in cluster._admin_policies.values()
                       if p.tier == tier and p.kind in kinds), key=lambda p: p.order)
    for policy in policies:
        if not _selects(cluster, policy, pod):
            continue
        for i, rule in enumerate(getattr(policy, direction)):
            if any(_admin_peer_matches(cluster, peer, other) for peer in rule.peers) and (
                _port_matches(rule.ports, dst, port, protocol)
            ):
                return rule.effect, policy, rule, i
    return None


def _rule_text(policy: AdminPolicy, direction: str, rule: AdminRule, i: int) -> str:
    label = f" ({rule.name})" if rule.name else ""
    return f"{policy.ref} {direction}[{i}]{label} action {rule.action}"


def evaluate(cluster: Cluster, direction: str, pod: Pod, other: Connection, port: int,
             protocol: str) -> Verdict:
    """The verdict for one direction: ``direction="egress"``: may ``pod`` send to
    ``other``? ``"ingress"``: may ``pod`` accept from ``other``?"""
    dst = other.pod if direction == "egress" else pod
    key = "egress" if direction == "egress" else "ingress"
    what = (f"egress from pod {pod.ref} to {other}" if direction == "egress"
            else f"ingress to pod {pod.ref} from {other}")
    where = f"{protocol}/{port}"
    passed = ""
    hit = _admin_tier(cluster, "Admin", key, pod, other, dst, port, protocol)
    if hit is not None:
        effect, policy, rule, i = hit
        text = _rule_text(policy, key, rule, i)
        if effect == "allow":
            return Verdict(True, direction, "Admin", (policy.ref,),
                           f"Admin tier: {text} accepts {what} on {where}; the NetworkPolicy "
                           "and Baseline tiers are skipped.")
        if effect == "deny":
            return Verdict(False, direction, "Admin", (policy.ref,),
                           f"Admin tier: {text} denies {what} on {where}.")
        passed = f"Admin tier: {text} passes it on. "
    if other.node is not None and other.node == pod.node:
        # concepts/services-networking/network-policies: "traffic to and from the node
        # where a Pod is running is always allowed, regardless of the IP address"
        return Verdict(True, direction, "default", (),
                       f"{passed}Traffic {'to' if direction == 'egress' else 'from'} the pod's "
                       f"own node ({other.node}) is always allowed.")
    ptype = "Egress" if direction == "egress" else "Ingress"
    selecting = [p for p in cluster.network_policies
                 if ptype in p.policy_types and _selects(cluster, p, pod)]
    if selecting:
        names = tuple(p.ref for p in selecting)
        for p in selecting:
            for i, rule in enumerate(getattr(p, key)):
                peers_ok = not rule.peers or any(
                    _np_peer_matches(cluster, p.namespace, peer, other) for peer in rule.peers)
                if peers_ok and _port_matches(rule.ports, dst, port, protocol):
                    return Verdict(True, direction, "NetworkPolicy", names,
                                   f"{passed}NetworkPolicy {p.ref} {key}[{i}] allows {what} "
                                   f"on {where}.")
        listed = ", ".join(names)
        return Verdict(False, direction, "NetworkPolicy", names,
                       f"{passed}Pod {pod.ref} is isolated for {key} by NetworkPolicy "
                       f"{listed}, and no rule of them allows {what} on {where}.")
    hit = _admin_tier(cluster, "Baseline", key, pod, other, dst, port, protocol)
    if hit is not None:
        effect, policy, rule, i = hit
        text = _rule_text(policy, key, rule, i)
        if effect != "pass":
            ok = effect == "allow"
            return Verdict(ok, direction, "Baseline", (policy.ref,),
                           f"{passed}No NetworkPolicy selects pod {pod.ref} for {key}; "
                           f"Baseline tier: {text} {'accepts' if ok else 'denies'} {what} "
                           f"on {where}.")
    return Verdict(True, direction, "default", (),
                   f"{passed}No policy decides {what} on {where}: Kubernetes allows it "
                   "by default.")


def connection_end(cluster: Cluster, ref: str) -> Connection:
    """A pod ref, a node name or an IP as a ``Connection`` end."""
    from kubenet_lab.engines.datapath import _is_ip

    if _is_ip(ref):
        owner = cluster.owner_of(ref) or ""
        if owner.startswith("Pod "):
            return Connection(ref, cluster.pod(owner[4:]))
        return Connection(ref, None, owner[5:] if owner.startswith("Node ") else None)
    if "/" not in ref and ref in {n.name for n in cluster.nodes}:
        return Connection(cluster.node(ref).ip, None, ref)
    pod = cluster.pod(ref)
    return Connection(pod.ip, pod)


def explain(cluster: Cluster, src: str, dst: str, port: int = 80,
            protocol: str = "TCP") -> Explanation:
    """Explain the policy decision for one connection; see ``Cluster.explain``."""
    from kubenet_lab.engines.validation import check_protocol

    protocol = check_protocol("explain", "protocol", protocol)
    check_port("explain", "port", port)
    a, b = connection_end(cluster, src), connection_end(cluster, dst)
    if a.pod is not None and a.pod == b.pod:
        why = ("The pod sends to its own address: the packet stays on lo inside the pod's "
               "network namespace and never reaches a node's hooks, so no policy applies.")
        return Explanation(src, dst, port, protocol, Verdict(True, "egress", "default", (), why),
                           Verdict(True, "ingress", "default", (), why),
                           cluster.network_policy_enforced, cluster.network_policy)
    egress = evaluate(cluster, "egress", a.pod, b, port, protocol) if a.pod else None
    ingress = evaluate(cluster, "ingress", b.pod, a, port, protocol) if b.pod else None
    return Explanation(src, dst, port, protocol, egress, ingress,
                       cluster.network_policy_enforced, cluster.network_policy)


# ================================================================ truth table
def _bits(flags: Iterable[bool]) -> int:
    out = 0
    for i, f in enumerate(flags):
        if f:
            out |= 1 << i
    return out


def reachability(cluster: Cluster, port: int = 80, protocol: str = "TCP",
                 pods: Iterable[str] | None = None,
                 namespaces: Iterable[str] | None = None) -> Reachability:
    """The truth table; see ``Cluster.reachability``."""
    from kubenet_lab.engines.validation import check_protocol

    protocol = check_protocol("reachability", "protocol", protocol)
    check_port("reachability", "port", port)
    if pods is not None:
        chosen = [cluster.pod(r) for r in pods]
    else:
        wanted = set(namespaces) if namespaces is not None else None
        if wanted is not None:
            for ns in wanted:
                cluster.namespace(ns)
        chosen = [p for p in cluster.pods
                  if (p.namespace in wanted if wanted is not None
                      else p.namespace != "kube-system")]
    refs = tuple(p.ref for p in chosen)
    n = len(chosen)
    if not cluster.network_policy_enforced:
        everything = ((True,) * n,) * n
        return Reachability(refs, port, protocol, everything, everything, False, None,
                            len(cluster.network_policies) + len(cluster._admin_policies))

    # -- group pods that no policy can tell apart
    blocks: list[IPBlock | str] = []
    for p in cluster.network_policies:
        for rule in p.ingress + p.egress:
            blocks.extend(peer.ip_block for peer in rule.peers if peer.ip_block is not None)
    for a in cluster._admin_policies.values():
        for rule in a.ingress + a.egress:
            for peer in rule.peers:
                blocks.extend(peer.networks)
    blocks = list(dict.fromkeys(blocks))
    names = sorted({pp.port for p in cluster.network_policies for r in p.ingress + p.egress
                    for pp in r.ports if isinstance(pp.port, str)}
                   | {pp.name for a in cluster._admin_policies.values()
                      for r in a.ingress + a.egress for pp in r.ports if pp.name})

    def signature(pod: Pod) -> tuple[Any, ...]:
        member = tuple(b.contains(pod.ip) if isinstance(b, IPBlock)
                       else cidr_contains(b, pod.ip) for b in blocks)
        named = tuple(_named(pod, nm, protocol) == port for nm in names)
        return (pod.namespace, tuple(sorted(pod.labels.items())), member, named)

    groups: dict[tuple[Any, ...], int] = {}
    group_of = []
    reps: list[Pod] = []
    for pod in chosen:
        sig = signature(pod)
        if sig not in groups:
            groups[sig] = len(reps)
            reps.append(pod)
        group_of.append(groups[sig])
    g = len(reps)
    full = (1 << g) - 1
    ends = [Connection(p.ip, p) for p in reps]

    def peer_set(fn) -> int:
        return _bits(fn(e) for e in ends)

    memo: dict[Any, int] = {}

    def cached(key: Any, fn) -> int:
        if key not in memo:
            memo[key] = peer_set(fn)
        return memo[key]

    def allowed_sets(direction: str) -> list[int]:
        """For each subject group, the bit set of peer groups allowed in ``direction``."""
        key = direction
        ptype = "Egress" if direction == "egress" else "Ingress"
        kinds = _admin_kinds(cluster)
        admin = {t: sorted((a for a in cluster._admin_policies.values()
                            if a.tier == t and a.kind in kinds), key=lambda a: a.order)
                 for t in ("Admin", "Baseline")}
        np_rules = []
        for p in cluster.network_policies:
            if ptype not in p.policy_types:
                continue
            rules = []
            for rule in getattr(p, key):
                if rule.peers:
                    peers = 0
                    for peer in rule.peers:
                        peers |= cached(("np", p.namespace, peer),
                                        lambda e, pe=peer, ns=p.namespace:
                                        _np_peer_matches(cluster, ns, pe, e))
                else:
                    peers = full
                if direction == "egress":  # ports resolve against each destination group
                    ports = cached(("npports", rule.ports),
                                   lambda e, r=rule: _port_matches(r.ports, e.pod, port,
                                                                      protocol))
                    rules.append(peers & ports)
                else:
                    rules.append((peers, rule.ports))
            np_rules.append((p, rules))

        def admin_rules(policy: AdminPolicy) -> list[tuple[str, int, Any]]:
            out = []
            for rule in getattr(policy, key):
                peers = 0
                for peer in rule.peers:
                    peers |= cached(("admin", peer),
                                    lambda e, pe=peer: _admin_peer_matches(cluster, pe, e))
                if direction == "egress":
                    ports = cached(("adports", rule.ports),
                                   lambda e, r=rule: _port_matches(r.ports, e.pod, port,
                                                                         protocol))
                    out.append((rule.effect, peers & ports, None))
                else:
                    out.append((rule.effect, peers, rule.ports))
            return out

        admin_compiled = {t: [(a, admin_rules(a)) for a in admin[t]] for t in admin}
        result = []
        def first_match(tier: str, rep: Pod, undecided: int) -> tuple[int, int, int]:
            allow = deny = 0
            for a, rules in admin_compiled[tier]:
                if not _selects(cluster, a, rep):
                    continue
                for effect, m, ports in rules:
                    if ports is not None and not _port_matches(ports, rep, port,
                                                                     protocol):
                        continue
                    m &= undecided
                    if effect == "allow":
                        allow |= m
                    elif effect == "deny":
                        deny |= m
                    undecided &= ~m
            return allow, deny, undecided

        for rep in reps:
            allow, deny, _ = first_match("Admin", rep, full)
            rest = full & ~(allow | deny)  # undecided, or passed on to the next tier
            selecting = [rules for p, rules in np_rules if _selects(cluster, p, rep)]
            if selecting:
                np_allow = 0
                for rules in selecting:
                    for r in rules:
                        if isinstance(r, tuple):
                            peers, ports = r
                            if _port_matches(ports, rep, port, protocol):
                                np_allow |= peers
                        else:
                            np_allow |= r
                allow |= rest & np_allow
            else:
                _, b_deny, _ = first_match("Baseline", rep, rest)
                allow |= rest & ~b_deny  # accepted, passed or undecided: allowed
            result.append(allow)
        return result

    egress_sets = allowed_sets("egress")
    ingress_sets = allowed_sets("ingress")
    # rows depend only on the source's group; a pod's traffic to itself stays on lo
    # inside the pod (no hook sees it), so the diagonal is allowed
    egress_rows = [[bool(egress_sets[gs] >> group_of[j] & 1) for j in range(n)]
                   for gs in range(g)]
    ingress_rows = [[bool(ingress_sets[group_of[j]] >> gs & 1) for j in range(n)]
                    for gs in range(g)]

    def rows(per_group: list[list[bool]]) -> tuple[tuple[bool, ...], ...]:
        out = []
        for i in range(n):
            row = per_group[group_of[i]]
            if not row[i]:
                row = row.copy()
                row[i] = True
            out.append(tuple(row))
        return tuple(out)

    egress, ingress = rows(egress_rows), rows(ingress_rows)
    return Reachability(refs, port, protocol, egress, ingress, True, cluster.network_policy,
                        len(cluster.network_policies) + len(cluster._admin_policies))
