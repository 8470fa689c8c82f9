"""Network policies as records: NetworkPolicy (allow-lists) and the admin tier (deny-lists).

Two APIs control which connections a pod may make or accept:

- ``NetworkPolicy`` (``networking.k8s.io/v1``), namespaced, written by application teams.
  It can only *allow*: a pod selected by a policy for a direction is *isolated* in that
  direction, and then only what some rule of some selecting policy allows gets through.
  Source: kubernetes.io/docs/concepts/services-networking/network-policies/ and the API
  reference (kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1).
- The SIG Network policy API (kubernetes-sigs/network-policy-api), cluster-scoped, written
  by cluster administrators, with explicit actions:
  ``ClusterNetworkPolicy`` (``policy.networking.k8s.io/v1alpha2``; ``spec.tier`` Admin or
  Baseline; actions Accept, Deny, Pass; apis/v1alpha2/clusternetworkpolicy_types.go) and
  the older ``AdminNetworkPolicy`` / ``BaselineAdminNetworkPolicy``
  (``policy.networking.k8s.io/v1alpha1``; Allow, Deny, Pass / Allow, Deny;
  apis/v1alpha1/adminnetworkpolicy_types.go). Tiers are evaluated in the order the API
  defines: Admin, then NetworkPolicy, then Baseline, then the default (allow).

All records are frozen; ``AdminPolicy`` stands for the three admin kinds (``kind`` says
which). Matching a label set against a ``LabelSelector`` is pure data and lives here; the
evaluation of tiers is in ``kubenet_lab.dataplane.policy``.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubenet_lab.model.address import cidr_span, ip_int

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "AdminPeer",
    "AdminPolicy",
    "AdminPort",
    "AdminRule",
    "Explanation",
    "IPBlock",
    "LabelSelector",
    "NetworkPolicy",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "NetworkPolicyRule",
    "Reachability",
    "Verdict",
]


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A ``metav1.LabelSelector``: ``matchLabels`` AND every ``matchExpressions`` entry.

    ``match_expressions`` holds ``(key, operator, values)`` with operator In, NotIn,
    Exists or DoesNotExist. ``NotIn`` matches objects that lack the key, as in
    apimachinery's ``labels.Selector`` (``!=``/``notin`` match a missing key). The empty
    selector matches everything.

    Examples
    --------
    >>> s = kl.LabelSelector((("app", "web"),), (("tier", "NotIn", ("db",)),))
    >>> s.matches({"app": "web"}), s.matches({"app": "web", "tier": "db"})
    (True, False)
    >>> str(s), str(kl.LabelSelector())
    ('app=web,tier notin (db)', '{}')
    """

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        for key, value in self.match_labels:
            if labels.get(key) != value:
                return False
        for key, op, values in self.match_expressions:
            if op == "In":
                if key not in labels or labels[key] not in values:
                    return False
            elif op == "NotIn":
                if key in labels and labels[key] in values:
                    return False
            elif op == "Exists":
                if key not in labels:
                    return False
            elif key in labels:  # DoesNotExist
                return False
        return True

    @property
    def empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in self.match_labels]
        for key, op, values in self.match_expressions:
            if op == "Exists":
                parts.append(key)
            elif op == "DoesNotExist":
                parts.append(f"!{key}")
            else:
                parts.append(f"{key} {op.lower()} ({','.join(values)})")
        return ",".join(parts) or "{}"




@dataclass(frozen=True, slots=True)
class IPBlock:
    """``ipBlock``: the addresses of ``cidr`` except those of each ``except_`` CIDR.

    It matches any address, pod IPs included, as the upstream e2e tests expect
    (test/e2e/network/netpol); some CNIs apply ipBlock to cluster-external traffic only.
    """

    cidr: str
    except_: tuple[str, ...] = ()

    def contains(self, ip: str) -> bool:
        addr = ip_int(ip)
        lo, hi = cidr_span(self.cidr)
        if not lo <= addr <= hi:
            return False
        return not any(a <= addr <= b for a, b in map(cidr_span, self.except_))

    def __str__(self) -> str:
        return self.cidr + (f" except {', '.join(self.except_)}" if self.except_ else "")


@dataclass(frozen=True, slots=True)
class NetworkPolicyPeer:
    """One entry of ``from``/``to``: pod and/or namespace selectors (both: AND), or an
    ipBlock. A ``pod_selector`` alone selects pods of the policy's own namespace."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def __str__(self) -> str:
        if self.ip_block is not None:
            return f"ipBlock {self.ip_block}"
        parts = []
        if self.namespace_selector is not None:
            parts.append(f"namespaceSelector {self.namespace_selector}")
        if self.pod_selector is not None:
            parts.append(f"podSelector {self.pod_selector}")
        return " AND ".join(parts)


def _port_text(protocol: str, port: int | str | None, end_port: int | None) -> str:
    if port is None:
        return f"all {protocol} ports"
    if end_port is not None:
        return f"{protocol} {port}-{end_port}"
    return f"{protocol} {port}"


@dataclass(frozen=True, slots=True)
class NetworkPolicyPort:
    """``ports[]``: protocol (default TCP), a number or a container port name (or None:
    every port), and ``end_port`` for an inclusive range."""

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None

    def __str__(self) -> str:
        return _port_text(self.protocol, self.port, self.end_port)


@dataclass(frozen=True, slots=True)
class NetworkPolicyRule:
    """An ingress or egress rule: ``peers`` (empty: every peer) and ``ports`` (empty:
    every port). Traffic must match a peer AND a port."""

    peers: tuple[NetworkPolicyPeer, ...] = ()
    ports: tuple[NetworkPolicyPort, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """A ``networking.k8s.io/v1`` NetworkPolicy.

    ``policy_types`` is as the API server stores it after defaulting: ``("Ingress",)``
    always, plus ``"Egress"`` when the spec has egress rules, unless the manifest names
    ``policyTypes`` itself. ``ingress = ()`` with ``"Ingress"`` in the types isolates the
    selected pods and allows nothing (``ingress: []``); ``(NetworkPolicyRule(),)`` allows
    everything (``ingress: [{}]``).
    """

    namespace: str
    name: str
    pod_selector: LabelSelector = LabelSelector()
    policy_types: tuple[str, ...] = ("Ingress",)
    ingress: tuple[NetworkPolicyRule, ...] = ()
    egress: tuple[NetworkPolicyRule, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def __repr__(self) -> str:
        return (f"<NetworkPolicy {self.ref} podSelector={self.pod_selector} "
                f"policyTypes={','.join(self.policy_types)}>")


@dataclass(frozen=True, slots=True)
class AdminPeer:
    """A subject or peer of the admin tier: ``namespaces`` (a namespace selector),
    ``pods`` (namespace AND pod selector), ``networks`` (CIDRs, egress only) or ``nodes``
    (a node selector, egress only). Exactly one kind per peer, as the CRDs require."""

    kind: str
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None
    networks: tuple[str, ...] = ()
    node_selector: LabelSelector | None = None

    def __str__(self) -> str:
        if self.kind == "namespaces":
            return f"namespaces {self.namespace_selector}"
        if self.kind == "pods":
            return f"pods {self.pod_selector} in namespaces {self.namespace_selector}"
        if self.kind == "networks":
            return "networks " + ", ".join(self.networks)
        return f"nodes {self.node_selector}"


@dataclass(frozen=True, slots=True)
class AdminPort:
    """A port match of the admin tier: a protocol with a number or an inclusive range,
    or a container port ``name`` (``namedPort`` / ``destinationNamedPort``)."""

    protocol: str = "TCP"
    port: int | None = None
    end_port: int | None = None
    name: str | None = None

    def __str__(self) -> str:
        if self.name is not None:
            return f"named port {self.name}"
        return _port_text(self.protocol, self.port, self.end_port)


@dataclass(frozen=True, slots=True)
class AdminRule:
    """An admin-tier rule: its ``action`` as written (Accept/Allow, Deny, Pass), peers
    (at least one) and ports (empty: every port). Rules apply in the order written."""

    name: str
    action: str
    peers: tuple[AdminPeer, ...]
    ports: tuple[AdminPort, ...] = ()

    @property
    def effect(self) -> str:
        """``"allow"``, ``"deny"`` or ``"pass"`` (Accept and Allow mean the same)."""
        return {"Accept": "allow", "Allow": "allow", "Deny": "deny", "Pass": "pass"}[self.action]


@dataclass(frozen=True, slots=True)
class AdminPolicy:
    """A ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy.

    ``tier`` is ``"Admin"`` (ClusterNetworkPolicy tier Admin, AdminNetworkPolicy) or
    ``"Baseline"`` (ClusterNetworkPolicy tier Baseline, BaselineAdminNetworkPolicy);
    ``priority`` 0-1000, lower first (None for the singleton BaselineAdminNetworkPolicy
    ``default``, which the lab checks after the Baseline ClusterNetworkPolicies).
    """

    kind: str
    name: str
    tier: str
    priority: int | None
    subject: AdminPeer
    ingress: tuple[AdminRule, ...] = ()
    egress: tuple[AdminRule, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def order(self) -> tuple[int, str]:
        return (1001 if self.priority is None else self.priority, self.name)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision for one direction of one connection.

    Attributes
    ----------
    allowed : bool
    direction : str
        ``"egress"`` (may the source send it?) or ``"ingress"`` (may the destination
        accept it?).
    tier : str
        Which tier decided: ``"Admin"``, ``"NetworkPolicy"``, ``"Baseline"`` or
        ``"default"`` (no policy decided: Kubernetes allows).
    policies : tuple of str
        The policies that decided (for NetworkPolicy, every policy isolating the pod in
        this direction; for the admin tiers, the one whose rule matched).
    reason : str
        One sentence, in words.
    """

    allowed: bool
    direction: str
    tier: str
    policies: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True, eq=False)
class Reachability:
    """The truth table of pod-to-pod connections on one port, as policies decide it.

    ``egress[i][j]``: may pod ``i`` send to pod ``j`` (the source's egress policies);
    ``ingress[i][j]``: may pod ``j`` accept from pod ``i``; ``combined`` needs both. Rows
    are sources, columns destinations, as in the upstream e2e tests' tables
    (test/e2e/network/netpol/truthtable.go) and Cyclonus: ``.`` allowed, ``X`` blocked.
    When the cluster does not enforce NetworkPolicy, every entry is allowed and
    ``enforced`` is False. The diagonal is always allowed: a pod that connects to its own
    IP stays on ``lo`` inside its network namespace, where no node hook sees the packet
    ("a pod cannot block access to itself", kubernetes.io network-policies). A pod must
    still listen on the port for a connection to succeed; ``Cluster.trace`` shows that.
    """

    pods: tuple[str, ...]
    port: int
    protocol: str
    egress: tuple[tuple[bool, ...], ...]
    ingress: tuple[tuple[bool, ...], ...]
    enforced: bool = True
    enforcer: str | None = None
    policies: int = 0
    combined: tuple[tuple[bool, ...], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not self.combined and self.pods:
            both = tuple(er if er == ir else tuple(map(operator.and_, er, ir))
                         for er, ir in zip(self.egress, self.ingress, strict=True))
            object.__setattr__(self, "combined", both)

    def _index(self, ref: str) -> int:
        key = ref if "/" in ref else f"default/{ref}"
        try:
            return self.pods.index(key)
        except ValueError:
            from kubenet_lab.exceptions import NotFoundError

            raise NotFoundError(f"Pod {key}", None, ref, "is not in this table",
                                fix="pods are: " + ", ".join(self.pods[:8])) from None

    def allowed(self, src: str, dst: str, direction: str = "both") -> bool:
        """May ``src`` open a connection to ``dst``? ``direction`` is ``"both"``
        (default), ``"egress"`` or ``"ingress"``."""
        i, j = self._index(src), self._index(dst)
        if direction == "egress":
            return self.egress[i][j]
        if direction == "ingress":
            return self.ingress[i][j]
        return self.egress[i][j] and self.ingress[i][j]

    def table(self, which: str = "combined") -> tuple[tuple[bool, ...], ...]:
        """One of the three matrices by name."""
        return {"combined": self.combined, "egress": self.egress,
                "ingress": self.ingress}[which]

    def count(self, which: str = "combined") -> tuple[int, int]:
        """(allowed, blocked) entries."""
        rows = self.table(which)
        yes = sum(sum(r) for r in rows)
        return yes, len(self.pods) ** 2 - yes

    def graph(self, which: str = "combined") -> nx.DiGraph:
        """The table as a networkx directed graph: every pod is a vertex (with its
        ``namespace``), every allowed connection between two different pods an edge
        ``src -> dst``. Graph questions then take one line: who reaches a pod
        (``predecessors``), where a pod gets to (``successors``), whether a pod reaches
        another through others (``nx.has_path``: lateral movement).

        >>> r = kl.Reachability(("x/a", "x/b"), 80, "TCP", ((True, False), (True, True)),
        ...                     ((True, True), (True, True)), True, None, 1)
        >>> sorted(r.graph().edges)
        [('x/b', 'x/a')]
        """
        import networkx as nx

        g = nx.DiGraph(port=self.port, protocol=self.protocol, which=which)
        for ref in self.pods:
            g.add_node(ref, namespace=ref.split("/", 1)[0])
        rows = self.table(which)
        g.add_edges_from((src, dst) for i, src in enumerate(self.pods)
                         for j, dst in enumerate(self.pods) if i != j and rows[i][j])
        return g

    def text(self, which: str = "combined") -> str:
        from kubenet_lab.views.policy import reachability_text

        return reachability_text(self, which)

    def __str__(self) -> str:
        return self.text("combined")

    def __repr__(self) -> str:
        yes, no = self.count()
        return (f"<Reachability {len(self.pods)} pods, {self.protocol}/{self.port}: "
                f"{yes} allowed, {no} blocked>")

    def _repr_html_(self) -> str:
        from kubenet_lab.views.policy import reachability_html

        return reachability_html(self)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why one connection is allowed or not: the egress and ingress verdicts.

    ``egress`` is None when the source is not a pod, ``ingress`` None when the
    destination is not a pod (no policy applies to that end). ``enforced`` says whether
    the cluster's network plugin enforces policy at all.

    A Service destination (a cluster IP, a load-balancer IP, or a DNS name resolving to
    one) is judged as the endpoint the DNAT picks, because the policy agent sees the
    packet after kube-proxy's DNAT: ``service`` names the Service, ``via`` says how the
    destination became the endpoint, and ``endpoints`` holds one ``Explanation`` per
    endpoint the connection can get (its ``dst`` the endpoint pod, its ``port`` the
    target port). With one endpoint ``egress``/``ingress`` are that endpoint's; with
    several they are None and ``allowed`` means allowed whichever endpoint is picked
    (``allowed_endpoints`` lists those that are). With no endpoint kube-proxy refuses or
    drops the connection itself and ``allowed`` is False.
    """

    src: str
    dst: str
    port: int
    protocol: str
    egress: Verdict | None
    ingress: Verdict | None
    enforced: bool
    enforcer: str | None
    via: str = ""
    service: str | None = None
    endpoints: tuple[Explanation, ...] = ()

    def _policies_allow(self) -> bool:
        return all(v is None or v.allowed for v in (self.egress, self.ingress))

    @property
    def allowed(self) -> bool:
        """Would the connection be allowed (by the policies, if they were enforced)?
        For a Service: to every endpoint it may get."""
        if self.service is not None:
            return bool(self.endpoints) and all(e.allowed for e in self.endpoints)
        return self._policies_allow()

    @property
    def allowed_endpoints(self) -> tuple[str, ...]:
        """For a Service destination, the endpoints (``dst`` of each) the policies
        allow; empty otherwise."""
        return tuple(e.dst for e in self.endpoints if e.allowed)

    @property
    def effective(self) -> bool:
        """Is the connection allowed on this cluster (always True if not enforced,
        unless a Service without endpoints refuses it)?"""
        if self.service is not None and not self.endpoints:
            return False
        return self.allowed or not self.enforced

    def __str__(self) -> str:
        many = len(self.endpoints) > 1
        if self.service is not None and not self.endpoints:
            head = "refused by kube-proxy (no endpoint)"
        elif many and self.enforced and 0 < len(self.allowed_endpoints) < len(self.endpoints):
            head = (f"allowed to {len(self.allowed_endpoints)} of {len(self.endpoints)} "
                    "endpoints, DENIED to the others")
        else:
            head = "allowed" if self.effective else "DENIED"
        lines = [f"{self.src} -> {self.dst} {self.protocol}/{self.port}: {head}"]
        if self.via:
            lines.append(f"  {self.via}")
        if many:
            for e in self.endpoints:
                lines.append(f"  endpoint {e.dst} {e.protocol}/{e.port}: "
                             f"{'allowed' if e.effective else 'DENIED'}")
                lines += _verdict_lines(e, "    ")
        elif self.service is None or self.endpoints:
            lines += _verdict_lines(self, "  ")
        if self.allowed or (many and self.allowed_endpoints):
            lines.append("  replies of this connection are allowed too: connection tracking "
                         "marks them established, and they are not checked again.")
        if not self.enforced and (self.service is None or self.endpoints):
            lines.append("  note: this cluster's network plugin (flannel) does not enforce "
                         "NetworkPolicy: the API accepts policies, but they have no effect. "
                         "Use Cluster(network_policy='kube-network-policies').")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Explanation {self.src} -> {self.dst} {self.protocol}/{self.port} "
                f"{'allowed' if self.effective else 'denied'}>")


def _verdict_lines(why: Explanation, indent: str) -> list[str]:
    """The egress and ingress lines of one explanation."""
    lines = []
    for label, v in (("egress ", why.egress), ("ingress", why.ingress)):
        if v is None:
            lines.append(f"{indent}{label}: not a pod, no policy applies")
        else:
            lines.append(f"{indent}{label}: {'allow' if v.allowed else 'deny '} "
                         f"[{v.tier}] {v.reason}")
    return lines
