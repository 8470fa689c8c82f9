"""Exercises of lesson 07, network policies.

The learner writes a policy (YAML text, a dict, or a list of those). Each check applies it
to a copy of the lesson's cluster with every policy removed, runs the truth table and
compares it with the table the task asks for, entry by entry; the hint names the first
connection that is wrong. The lesson's own cluster never changes.

The expected tables are written out from the tasks (who may talk to whom), not computed by
the policy engine.
"""

from __future__ import annotations

import copy
from typing import Any

from kubenet_lab.api.load import load_documents
from kubenet_lab.cluster import Cluster
from kubenet_lab.exceptions import KubenetLabError
from kubenet_lab.exercises.base import Check, Exercise
from kubenet_lab.model.pod import Container, ContainerPort

__all__ = ["EXERCISES", "lesson_cluster"]


def lesson_cluster() -> Cluster:
    """The lesson's cluster: shop (web, api), payments (db), dev (tester), with
    kube-network-policies enforcing policies beside flannel.

    >>> [p.ref for p in lesson_cluster().pods if p.namespace != "kube-system"]
    ['dev/tester', 'payments/db', 'shop/api', 'shop/web']
    """
    c = Cluster(workers=2, network_policy="kube-network-policies")
    c.add_namespace("shop", labels={"team": "shop", "env": "prod"})
    c.add_namespace("payments", labels={"team": "payments", "env": "prod"})
    c.add_namespace("dev", labels={"env": "dev"})
    c.add_pod("shop/web", node="node-1", labels={"app": "web"})
    c.add_pod("shop/api", node="node-2", labels={"app": "api"}, containers=[
        Container("api", "registry.k8s.io/e2e-test-images/agnhost:2.53",
                  (ContainerPort(8080, "http"),))])
    c.add_pod("payments/db", node="node-2", labels={"app": "db"}, containers=[
        Container("postgres", "postgres:17", (ContainerPort(5432, "postgres"),))])
    c.add_pod("dev/tester", node="node-1", labels={"app": "tester"})
    return c


def _fresh(cluster: Cluster) -> Cluster:
    c = copy.deepcopy(cluster)
    for policy in [*c.network_policies, *c.admin_network_policies]:
        c.store.remove(policy)
    return c


def _applied(answer: Any, cluster: Cluster, extra: Any = None) -> Cluster:
    c = _fresh(cluster)
    c.apply(answer)
    if extra is not None:
        c.apply(extra)
    return c


def _error(answer: Any, cluster: Cluster) -> str | None:
    if answer in ("", [], {}):
        return "Write a policy: YAML text (or a dict) with apiVersion, kind, metadata, spec."
    try:
        _applied(answer, cluster)
    except KubenetLabError as err:
        return f"The API server would reject it: {err}"
    except Exception as err:  # noqa: BLE001 - anything else the learner typed
        return f"That is not a manifest: {err}"
    return None


def _table_check(expected, port: int, protocol: str = "TCP", extra: Any = None):
    """A test and a hint comparing the truth table with ``expected(src, dst) -> bool``."""

    def wrong(answer: Any, cluster: Cluster) -> tuple[str, str, bool] | None:
        c = _applied(answer, cluster, extra)
        r = c.reachability(port, protocol, namespaces=["shop", "payments", "dev", "kube-system"])
        for src in r.pods:
            for dst in r.pods:
                if src == dst:
                    continue
                want = expected(src, dst)
                if want is not None and r.allowed(src, dst) != want:
                    return src, dst, want
        return None

    def hint(answer: Any, cluster: Cluster) -> str:
        err = _error(answer, cluster)
        if err:
            return err
        src, dst, want = wrong(answer, cluster)  # type: ignore[misc]
        why = _applied(answer, cluster, extra).explain(src, dst, port, protocol)
        return (f"{src} -> {dst} on {protocol}/{port} should be "
                f"{'allowed' if want else 'blocked'}, but your policy "
                f"{'blocks' if want else 'allows'} it. The lab explains: "
                + " ".join(v.reason for v in (why.egress, why.ingress) if v is not None))

    return Check(lambda a, c: _error(a, c) is None and wrong(a, c) is None, hint)


def _ns(ref: str) -> str:
    return ref.split("/", 1)[0]


def _apps(expected):
    """``expected`` for pairs of the lesson's own pods; CoreDNS pairs are not judged."""
    return lambda s, d: None if "kube-system" in (_ns(s), _ns(d)) else expected(s, d)


def _from_ns(ns: str, expected):
    """``expected`` for connections from namespace ``ns`` only."""
    return lambda s, d: expected(s, d) if _ns(s) == ns else None


def _kinds(answer: Any) -> set[str]:
    return {d.get("kind") for d in load_documents(answer)}


def _kind_hint_7_4(answer: Any, cluster: Cluster) -> str:
    if "AdminNetworkPolicy" in _kinds(answer):
        return ("AdminNetworkPolicy (v1alpha1) is the older API: network-policy-api v0.2.0 "
                "replaced it and BaselineAdminNetworkPolicy with ClusterNetworkPolicy "
                "(apiVersion policy.networking.k8s.io/v1alpha2). Use kind: "
                "ClusterNetworkPolicy with tier: Admin.")
    return ("A NetworkPolicy cannot deny: use a ClusterNetworkPolicy (apiVersion "
            "policy.networking.k8s.io/v1alpha2) with tier: Admin.")


#: First check of every exercise: the answer is a manifest the API server accepts.
_VALID = Check(lambda a, c: _error(a, c) is None, lambda a, c: _error(a, c) or "")

EXERCISES = [
    Exercise(
        "7.1",
        "Write a NetworkPolicy in namespace payments that denies all ingress to its pods "
        "and changes nothing else (the 'default deny ingress' recipe).",
        checks=[
            _VALID,
            Check(lambda a, c: _kinds(a) == {"NetworkPolicy"},
                  "Use kind: NetworkPolicy (apiVersion networking.k8s.io/v1)."),
            _table_check(_apps(lambda s, d: _ns(d) != "payments"), 5432),
            _table_check(_apps(lambda s, d: _ns(d) != "payments"), 80),
        ],
        explanation="podSelector: {} selects every pod of the namespace; policyTypes defaults "
        "to [Ingress], and with no ingress rules nothing is allowed in. Egress is untouched, "
        "so db may still open connections.",
        solution="answer = '''\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: default-deny-ingress, namespace: payments}\n"
        "spec: {podSelector: {}}\n'''",
    ),
    Exercise(
        "7.2",
        "Let only pods labelled app=api in namespace shop reach payments/db, on TCP 5432 "
        "only. Everything else into db is blocked; other pods are not affected.",
        checks=[
            _VALID,
            _table_check(_apps(lambda s, d: d != "payments/db" or s == "shop/api"), 5432),
            _table_check(_apps(lambda s, d: d != "payments/db"), 80),
        ],
        explanation="One peer with both namespaceSelector and podSelector means AND: pods "
        "with app=api in namespaces labelled team=shop. Two separate peers would mean OR "
        "(every pod of shop, or every app=api pod of payments). The port entry limits the "
        "rule to TCP 5432 (or the named port 'postgres').",
        solution="answer = '''\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: db-from-api, namespace: payments}\nspec:\n"
        "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from:\n"
        "    - namespaceSelector: {matchLabels: {team: shop}}\n"
        "      podSelector: {matchLabels: {app: api}}\n    ports: [{port: 5432}]\n'''",
    ),
    Exercise(
        "7.3",
        "Deny all egress from the pods of namespace dev, except DNS: UDP and TCP port 53 to "
        "the CoreDNS pods (label k8s-app=kube-dns in kube-system).",
        checks=[
            _VALID,
            _table_check(_from_ns("dev", lambda s, d: _ns(d) == "kube-system"), 53, "UDP"),
            _table_check(_from_ns("dev", lambda s, d: _ns(d) == "kube-system"), 53, "TCP"),
            _table_check(_from_ns("dev", lambda s, d: False), 80),
        ],
        explanation="policyTypes: [Egress] isolates the pods' egress; the one rule allows "
        "port 53 (UDP and TCP) to the CoreDNS pods only. The namespaceSelector uses the "
        "label every namespace carries, kubernetes.io/metadata.name.",
        solution="answer = '''\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny-egress-except-dns, namespace: dev}\nspec:\n"
        "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to:\n"
        "    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n"
        "      podSelector: {matchLabels: {k8s-app: kube-dns}}\n"
        "    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n'''",
    ),
    Exercise(
        "7.4",
        "As the cluster admin, block every connection from namespace dev into the namespaces "
        "labelled env=prod, in a way no NetworkPolicy can undo. The check also applies an "
        "'allow everything' NetworkPolicy in shop and payments.",
        checks=[
            _VALID,
            Check(lambda a, c: "ClusterNetworkPolicy" in _kinds(a), _kind_hint_7_4),
            _table_check(_apps(lambda s, d: not (_ns(s) == "dev"
                                                 and _ns(d) in ("shop", "payments"))), 80,
                         extra=[{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                 "metadata": {"name": "allow-all", "namespace": ns},
                                 "spec": {"podSelector": {}, "ingress": [{}]}}
                                for ns in ("shop", "payments")]),
        ],
        explanation="A ClusterNetworkPolicy with tier: Admin is checked before every "
        "NetworkPolicy: its Deny is final, and namespace owners cannot override it. Pass "
        "would hand the decision back to them; tier: Baseline comes after their policies, "
        "so the 'allow everything' NetworkPolicies would win.",
        solution="answer = '''\napiVersion: policy.networking.k8s.io/v1alpha2\n"
        "kind: ClusterNetworkPolicy\nmetadata: {name: no-dev-to-prod}\nspec:\n"
        "  tier: Admin\n  priority: 10\n"
        "  subject: {namespaces: {matchLabels: {env: prod}}}\n  ingress:\n"
        "  - {name: deny-dev, action: Deny, from: [{namespaces: {matchLabels: {env: dev}}}]}\n'''",
    ),
]
