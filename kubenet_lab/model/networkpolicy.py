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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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


#: The largest table (in pods) whose n x n matrices, text, HTML, heatmap and graph the
#: lab builds: 5,000 pods are 25 million entries. Beyond it ask ``allowed`` (one pair)
#: or ``count`` (the totals), which read the classes.
MAX_MATRIX_PODS = 5000


def _bits_of(flags: Iterable[bool]) -> int:
    out = 0
    for k, f in enumerate(flags):
        if f:
            out |= 1 << k
    return out


def _transpose(rows: tuple[int, ...]) -> tuple[int, ...]:
    """The transpose of a square bit matrix given as one int per row: rows with the same
    value are transposed together, so a table with few distinct rows costs little."""
    same: dict[int, int] = {}
    for k, row in enumerate(rows):
        same[row] = same.get(row, 0) | 1 << k
    out = [0] * len(rows)
    for row, who in same.items():
        while row:
            low = row & -row
            out[low.bit_length() - 1] |= who
            row ^= low
    return tuple(out)


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

    The record holds **classes** of pods, not pairs: pods no policy can tell apart (same
    namespace, the labels selectors read, ipBlock memberships, named ports) share a class,
    ``pod_class[i]`` is pod ``i``'s, and per class ``class_egress[c]`` is the bit set of
    the classes it may send to and ``class_ingress[c]`` of those it accepts from. Two
    different pods of one class are judged like any two pods; only a pod to itself is the
    diagonal rule. So 150,000 pods in 1,000 classes take a few megabytes, ``allowed`` is
    two dict lookups and two bit tests, and ``count`` sums class sizes. The n x n
    matrices ``egress``, ``ingress`` and ``combined`` (and ``table``, ``graph``, the text,
    HTML and heatmap views) are built on first use and kept, up to ``MAX_MATRIX_PODS``
    pods; beyond that they raise ``ManifestError`` naming the size.

    ``Reachability(pods, port, protocol, egress, ingress, enforced, enforcer, policies)``
    takes explicit n x n matrices (each pod its own class); the analysis builds it with
    ``Reachability.from_classes``. The record is frozen; two tables are equal when they
    cover the same pods, port, protocol and enforcement and agree on every pair.

    >>> r = kl.Reachability.from_classes(("x/a", "x/b", "x/c"), 80, "TCP", (0, 0, 1),
    ...                                  (0b10, 0b11), (0b11, 0b11))
    >>> r.classes, r.allowed("x/a", "x/b"), r.allowed("x/a", "x/a"), r.allowed("x/c", "x/a")
    (2, False, True, True)
    >>> r.count(), r.egress[0]
    ((7, 2), (True, False, True))
    """

    __slots__ = ("_cache", "_index", "class_egress", "class_ingress", "class_sizes",
                 "enforced", "enforcer", "pod_class", "pods", "policies", "port", "protocol")

    pods: tuple[str, ...]
    port: int
    protocol: str
    enforced: bool
    enforcer: str | None
    policies: int
    pod_class: tuple[int, ...]
    class_egress: tuple[int, ...]
    class_ingress: tuple[int, ...]
    class_sizes: tuple[int, ...]

    def __init__(self, pods: Iterable[str], port: int, protocol: str,
                 egress: Sequence[Sequence[bool]], ingress: Sequence[Sequence[bool]],
                 enforced: bool = True, enforcer: str | None = None, policies: int = 0,
                 combined: Sequence[Sequence[bool]] | None = None) -> None:
        refs = tuple(pods)
        n = len(refs)
        given = {"egress": egress, "ingress": ingress}
        if combined:
            given["combined"] = combined
        rows: dict[str, tuple[tuple[bool, ...], ...]] = {}
        for which, matrix in given.items():
            m = tuple(tuple(bool(x) for x in row) for row in matrix)
            if len(m) != n or any(len(row) != n for row in m):
                raise _error(which, [len(row) for row in m][:4] or 0,
                             f"is not a {n} x {n} matrix (one row and one column per pod)",
                             "give one row of booleans per pod, one entry per pod")
            bad = next((k for k in range(n) if not m[k][k]), None)
            if bad is not None:
                raise _error(f"{which}[{bad}][{bad}]", False,
                             f"would block pod {refs[bad]} from itself",
                             "the diagonal is always allowed: a pod's traffic to its own "
                             "IP stays on lo, where no policy applies")
            rows[which] = m
        if "combined" in rows and rows["combined"] != tuple(
                tuple(a and b for a, b in zip(er, ir, strict=True))
                for er, ir in zip(rows["egress"], rows["ingress"], strict=True)):
            raise _error("combined", "(a matrix)", "is not egress AND ingress",
                         "leave combined out: it is computed from egress and ingress")
        out_e = tuple(_bits_of(row) for row in rows["egress"])
        in_by_src = tuple(_bits_of(row) for row in rows["ingress"])
        self._set(refs, port, protocol, enforced, enforcer, policies, tuple(range(n)),
                  out_e, _transpose(in_by_src))
        self._cache.update(rows)

    @classmethod
    def from_classes(cls, pods: Iterable[str], port: int, protocol: str,
                     pod_class: Iterable[int], class_egress: Iterable[int],
                     class_ingress: Iterable[int], enforced: bool = True,
                     enforcer: str | None = None, policies: int = 0) -> Reachability:
        """The table from classes: ``pod_class[i]`` is pod ``i``'s class (0 to k-1);
        bit ``d`` of ``class_egress[s]``: may class ``s`` send to class ``d``; bit ``s``
        of ``class_ingress[d]``: may class ``d`` accept from class ``s``."""
        self = cls.__new__(cls)
        self._set(tuple(pods), port, protocol, enforced, enforcer, policies,
                  tuple(pod_class), tuple(class_egress), tuple(class_ingress))
        return self

    def _set(self, pods: tuple[str, ...], port: int, protocol: str, enforced: bool,
             enforcer: str | None, policies: int, pod_class: tuple[int, ...],
             class_egress: tuple[int, ...], class_ingress: tuple[int, ...]) -> None:
        k = len(class_egress)
        if len(pod_class) != len(pods) or len(class_ingress) != k or any(
                not 0 <= c < k for c in set(pod_class)):
            raise _error("pod_class", len(pod_class), f"does not fit {len(pods)} pods in "
                         f"{k} classes", "give one class per pod, each below the number "
                         "of classes, and one egress and one ingress set per class")
        sizes = [0] * k
        for c in pod_class:
            sizes[c] += 1
        index: dict[str, int] = {}
        for i, ref in enumerate(pods):
            index.setdefault(ref, i)
        put = object.__setattr__
        for name, value in (("pods", pods), ("port", port), ("protocol", protocol),
                            ("enforced", enforced), ("enforcer", enforcer),
                            ("policies", policies), ("pod_class", pod_class),
                            ("class_egress", class_egress), ("class_ingress", class_ingress),
                            ("class_sizes", tuple(sizes)), ("_index", index),
                            ("_cache", {})):
            put(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Reachability is frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Reachability is frozen: cannot delete {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Reachability.from_classes, (self.pods, self.port, self.protocol,
                                            self.pod_class, self.class_egress,
                                            self.class_ingress, self.enforced,
                                            self.enforcer, self.policies))

    # ------------------------------------------------------------------ one pair
    @property
    def classes(self) -> int:
        """How many classes of pods the table holds."""
        return len(self.class_egress)

    def _position(self, ref: str) -> int:
        key = ref if isinstance(ref, str) and "/" in ref else f"default/{ref}"
        try:
            return self._index[key]
        except KeyError:
            from kubenet_lab.exceptions import NotFoundError

            raise NotFoundError(f"Pod {key}", None, ref, "is not in this table",
                                fix="pods are: " + ", ".join(self.pods[:8])) from None

    def class_of(self, ref: str) -> int:
        """The class of pod ``ref``: pods of one class are judged alike."""
        return self.pod_class[self._position(ref)]

    def allowed(self, src: str, dst: str, direction: str = "both") -> bool:
        """May ``src`` open a connection to ``dst``? ``direction`` is ``"both"``
        (default), ``"egress"`` or ``"ingress"``. Two dict lookups and bit tests, however
        large the table."""
        i, j = self._position(src), self._position(dst)
        if direction not in _DIRECTIONS:
            raise _error("direction", direction, "is not a direction",
                         "use 'both', 'egress' or 'ingress'")
        if i == j:
            return True
        s, d = self.pod_class[i], self.pod_class[j]
        if direction == "egress":
            return bool(self.class_egress[s] >> d & 1)
        if direction == "ingress":
            return bool(self.class_ingress[d] >> s & 1)
        return bool(self.class_egress[s] >> d & 1 and self.class_ingress[d] >> s & 1)

    # ------------------------------------------------------------------ totals
    def _class_rows(self, which: str) -> tuple[int, ...]:
        """Per source class, the bit set of destination classes allowed in ``which``."""
        _which(which)
        if which == "egress":
            return self.class_egress
        key = ("rows", which)
        if key not in self._cache:
            by_src = _transpose(self.class_ingress)
            self._cache[key] = by_src if which == "ingress" else tuple(
                e & i for e, i in zip(self.class_egress, by_src, strict=True))
        return self._cache[key]

    def count(self, which: str = "combined") -> tuple[int, int]:
        """(allowed, blocked) entries of the n x n table, from the class sizes: each
        allowed class pair counts size x size, and a class not allowed to itself still
        has its pods' diagonal allowed."""
        key = ("count", which)
        if key not in self._cache:
            rows = self._class_rows(which)
            by_size: dict[int, int] = {}
            for c, s in enumerate(self.class_sizes):
                by_size[s] = by_size.get(s, 0) | 1 << c
            masks = list(by_size.items())
            yes = 0
            for c, row in enumerate(rows):
                if row:
                    yes += self.class_sizes[c] * sum(s * (row & m).bit_count()
                                                     for s, m in masks)
                if not row >> c & 1:
                    yes += self.class_sizes[c]
            self._cache[key] = (yes, len(self.pods) ** 2 - yes)
        return self._cache[key]

    # ------------------------------------------------------------------ n x n views
    def _matrix(self, which: str) -> tuple[tuple[bool, ...], ...]:
        _which(which)
        if which in self._cache:
            return self._cache[which]
        n = len(self.pods)
        if n > MAX_MATRIX_PODS:
            raise _error(which, n, f"pods make a {n:,} x {n:,} matrix ({n * n:,} entries); "
                         f"the lab builds the n x n tables, text, HTML, heatmap and graph "
                         f"up to {MAX_MATRIX_PODS:,} pods",
                         "ask r.allowed(src, dst) for a pair or r.count() for the totals "
                         "(both read the classes), or narrow the table with "
                         "reachability(pods=...) or namespaces=[...]")
        rows, k = self._class_rows(which), self.classes
        shared: dict[int, tuple[bool, ...]] = {}  # one row per class, shared by its pods
        out = []
        for i, c in enumerate(self.pod_class):
            row = shared.get(c)
            if row is None:
                flags = [bool(rows[c] >> d & 1) for d in range(k)]
                row = shared[c] = tuple([flags[d] for d in self.pod_class])
            if not row[i]:  # the pod to itself: the diagonal rule
                row = (*row[:i], True, *row[i + 1:])
            out.append(row)
        self._cache[which] = table = tuple(out)
        return table

    @property
    def egress(self) -> tuple[tuple[bool, ...], ...]:
        """``egress[i][j]``: may pod ``i`` send to pod ``j``? (Built on first use.)"""
        return self._matrix("egress")

    @property
    def ingress(self) -> tuple[tuple[bool, ...], ...]:
        """``ingress[i][j]``: may pod ``j`` accept from pod ``i``? (Built on first use.)"""
        return self._matrix("ingress")

    @property
    def combined(self) -> tuple[tuple[bool, ...], ...]:
        """Both: the connection from pod ``i`` to pod ``j`` is allowed."""
        return self._matrix("combined")

    def table(self, which: str = "combined") -> tuple[tuple[bool, ...], ...]:
        """One of the three matrices by name."""
        return self._matrix(which)

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

        rows = self.table(which)
        g = nx.DiGraph(port=self.port, protocol=self.protocol, which=which)
        for ref in self.pods:
            g.add_node(ref, namespace=ref.split("/", 1)[0])
        g.add_edges_from((src, dst) for i, src in enumerate(self.pods)
                         for j, dst in enumerate(self.pods) if i != j and rows[i][j])
        return g

    # ------------------------------------------------------------------ equality, text
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reachability):
            return NotImplemented
        if self is other:
            return True
        if _identity(self) != _identity(other):
            return False
        joint: dict[tuple[int, int], int] = {}  # (class here, class there): pods
        for pair in zip(self.pod_class, other.pod_class, strict=True):
            joint[pair] = joint.get(pair, 0) + 1
        for (a, b), size in joint.items():
            for (c, d) in joint:
                if (a, b) == (c, d) and size == 1:
                    continue  # a single pod to itself: the diagonal, allowed in both
                if (self.class_egress[a] >> c & 1) != (other.class_egress[b] >> d & 1) or (
                        self.class_ingress[c] >> a & 1) != (other.class_ingress[d] >> b & 1):
                    return False
        return True

    def __hash__(self) -> int:
        return hash(_identity(self))

    def text(self, which: str = "combined") -> str:
        from kubenet_lab.views.policy import reachability_text

        return reachability_text(self, which)

    def __str__(self) -> str:
        if len(self.pods) > MAX_MATRIX_PODS:
            return (f"{self!r}: {self.classes:,} classes; too many pods to print "
                    f"(over {MAX_MATRIX_PODS:,}): ask allowed(src, dst) or count()")
        return self.text("combined")

    def __repr__(self) -> str:
        yes, no = self.count()
        return (f"<Reachability {len(self.pods)} pods, {self.protocol}/{self.port}: "
                f"{yes} allowed, {no} blocked>")

    def _repr_html_(self) -> str | None:
        if len(self.pods) > MAX_MATRIX_PODS:
            return None  # IPython shows the repr instead
        from kubenet_lab.views.policy import reachability_html

        return reachability_html(self)


_DIRECTIONS = ("both", "combined", "egress", "ingress")


def _identity(r: Reachability) -> tuple[Any, ...]:
    """What a table is about: two tables are equal when these match and every pair does."""
    return (r.pods, r.port, r.protocol, r.enforced, r.enforcer, r.policies)


def _which(which: str) -> str:
    if which not in ("combined", "egress", "ingress"):
        raise _error("which", which, "is not a table", "use 'combined', 'egress' or 'ingress'")
    return which


def _error(where: str, value: object, problem: str, fix: str) -> Exception:
    from kubenet_lab.exceptions import ManifestError

    return ManifestError("Reachability", where, value, problem, fix=fix)


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
