"""Cluster.reachability() by classes of pods (issue 16): exact against the agent's
per-connection decision, pair by pair; ``allowed`` without the n x n matrices; ``count``
from class sizes; a clear error for the matrices of a table too large to build.

The reference is ``kubenet_lab.dataplane.policy.explain``, the decision ``trace`` and
``Cluster.explain`` use for one connection (the tiers of kubernetes-sigs/network-policy-api
and the NetworkPolicy semantics of kubernetes.io/docs/concepts/services-networking/
network-policies); the policies are the mix of ``tests/benchmark_policies.py``.
"""

from __future__ import annotations

import pickle
import random

import pytest
from benchmark_policies import policy_world, workloads

import kubenet_lab as kl
from kubenet_lab.dataplane.policy import explain
from kubenet_lab.model.networkpolicy import MAX_MATRIX_PODS


@pytest.fixture(scope="module")
def world() -> kl.Cluster:
    """192 pods (8 namespaces x 3 Deployments x 8 replicas) on 8 nodes, 200 policies:
    195 NetworkPolicies and 5 ClusterNetworkPolicies (Admin and Baseline tiers)."""
    c = kl.Cluster(workers=7, network_policy="kube-network-policies")
    workloads(c, namespaces=8, deployments=24, replicas=8)
    assert policy_world(c, policies=200) == 200
    return c


def _agent(view, a: str, b: str, port: int, protocol: str) -> tuple[bool, bool, bool]:
    why = explain(view, a, b, port, protocol)
    return why.egress.allowed, why.ingress.allowed, why.effective


def test_every_pair_agrees_with_the_agents_decision(world):
    r = world.reachability(80)
    view = world.store.snapshot()
    assert len(r.pods) == 192 and r.policies == 200
    assert 24 <= r.classes < 192  # the Deployments, some split by the ipBlock's except
    wrong = [(a, b) for a in r.pods for b in r.pods
             if _agent(view, a, b, 80, "TCP")
             != (r.allowed(a, b, "egress"), r.allowed(a, b, "ingress"), r.allowed(a, b))]
    assert wrong == []
    yes, no = r.count()
    assert 0 < yes < yes + no == 192 ** 2
    assert yes == sum(map(sum, r.combined))


@pytest.mark.parametrize(("port", "protocol"), [(8080, "TCP"), (9090, "TCP"), (5432, "TCP"),
                                                (53, "UDP"), (85, "TCP")])
def test_other_ports_agree_on_a_sample(world, port, protocol):
    """Named ports (``http`` is 80 or 8080 by Deployment, ``metrics`` 9090), endPort
    ranges and UDP: 1,500 pairs each."""
    r = world.reachability(port, protocol)
    view = world.store.snapshot()
    rnd = random.Random(port)
    for _ in range(1500):
        a, b = rnd.choice(r.pods), rnd.choice(r.pods)
        assert _agent(view, a, b, port, protocol) == (
            r.allowed(a, b, "egress"), r.allowed(a, b, "ingress"), r.allowed(a, b)), (a, b)


def test_the_table_keeps_classes_not_pairs(world):
    r = world.reachability(80)
    assert len(r.pod_class) == len(r.pods) and max(r.pod_class) == r.classes - 1
    assert sum(r.class_sizes) == len(r.pods)
    assert not any(k in r._cache for k in ("egress", "ingress", "combined"))
    r.allowed(r.pods[0], r.pods[-1])
    r.count("egress")
    assert not any(k in r._cache for k in ("egress", "ingress", "combined"))
    assert r.egress is r.egress  # built once, on first use
    # pods of one Deployment at addresses outside the except are one class
    d0 = [ref for ref in r.pods if ref.startswith("ns-0/d0-")]
    assert len({r.class_of(ref) for ref in d0}) <= 2


def _hand_built() -> kl.Reachability:
    """Three classes: a1, a2 (class 0), b1, b2, b3 (class 1), c (class 2).
    egress: 0 -> {1}; 1 -> {0, 1, 2}; 2 -> {} (class_egress bit d: may send to d).
    ingress: 0 accepts from {0, 1, 2}; 1 from {2}; 2 from {0}."""
    pods = ("x/a1", "x/a2", "x/b1", "x/b2", "x/b3", "x/c")
    return kl.Reachability.from_classes(pods, 80, "TCP", (0, 0, 1, 1, 1, 2),
                                        (0b010, 0b111, 0b000), (0b111, 0b100, 0b001))


def test_count_is_class_arithmetic():
    r = _hand_built()
    # egress: a-pods reach the 3 b-pods and themselves (4 each, 8); b-pods reach all 6
    # (18); c only itself (1): 27 of 36
    assert r.count("egress") == (27, 9)
    # ingress, by source: a-pods are accepted by both a-pods and c (3 each, 6); b-pods by
    # the a-pods and themselves (3 each, 9); c by the a-pods, the b-pods and itself (6)
    assert r.count("ingress") == (21, 15)
    # both: a-pods only themselves (2); b-pods the a-pods and themselves (3 each, 9); c
    # itself (1)
    assert r.count() == (12, 24)
    assert [sum(map(sum, r.table(w))) for w in ("egress", "ingress", "combined")] == [27, 21, 12]
    assert not r.allowed("x/a1", "x/a2", "egress")  # class 0 does not send to class 0
    assert r.allowed("x/a1", "x/a1")               # but a pod reaches itself
    assert r.allowed("x/b1", "x/a2") and not r.allowed("x/b1", "x/b2")
    assert r.classes == 3 and r.class_sizes == (2, 3, 1) and r.class_of("x/b3") == 1


def test_the_matrix_constructor_is_the_same_table():
    r = _hand_built()
    again = kl.Reachability(r.pods, 80, "TCP", r.egress, r.ingress, True, None, 0)
    assert again == r and hash(again) == hash(r)
    assert again.classes == 6 and again.count() == r.count()
    assert pickle.loads(pickle.dumps(r)) == r
    other = kl.Reachability(r.pods, 80, "TCP", r.egress, r.egress, True, None, 0)
    assert other != r
    with pytest.raises(AttributeError):
        r.port = 81  # type: ignore[misc]


def test_the_matrix_constructor_refuses_a_blocked_diagonal_and_a_wrong_shape():
    with pytest.raises(kl.ManifestError, match="itself"):
        kl.Reachability(("x/a", "x/b"), 80, "TCP", ((False, True), (True, True)),
                        ((True, True), (True, True)))
    with pytest.raises(kl.ManifestError, match="2 x 2"):
        kl.Reachability(("x/a", "x/b"), 80, "TCP", ((True,), (True, True)),
                        ((True, True), (True, True)))
    r = _hand_built()
    with pytest.raises(kl.ManifestError, match="direction"):
        r.allowed("x/a1", "x/b1", "sideways")
    with pytest.raises(kl.NotFoundError):
        r.allowed("x/a1", "x/zz")


def test_a_20000_pod_table_answers_without_its_matrices():
    n = 20_000
    pods = tuple(f"ns-{i % 10}/p{i}" for i in range(n))
    classes = tuple(i % 200 for i in range(n))  # 200 classes of 100 pods
    egress = tuple((1 << 200) - 1 if c % 2 else 1 << c for c in range(200))
    ingress = tuple((1 << 200) - 1 for _ in range(200))
    r = kl.Reachability.from_classes(pods, 80, "TCP", classes, egress, ingress)
    assert r.allowed("ns-1/p1", "ns-0/p0") and r.allowed("ns-0/p0", "ns-0/p200")
    assert not r.allowed("ns-0/p0", "ns-1/p1") and r.allowed("ns-0/p0", "ns-0/p0")
    # odd classes (100 x 100 pods) reach everyone; an even class reaches its own 100
    assert r.count() == (100 * 100 * n + 100 * 100 * 100, n * n - 100 * 100 * n - 100 ** 3)
    assert not any(k in r._cache for k in ("egress", "ingress", "combined"))
    for get in (lambda: r.egress, lambda: r.combined, lambda: r.table("ingress"),
                lambda: r.graph(), lambda: r.text(), lambda: kl.draw_reachability(r)):
        with pytest.raises(kl.ManifestError, match="20,000") as err:
            get()
        assert "allowed(" in str(err.value) and "count()" in str(err.value)
    assert "20000 pods" in repr(r) and "too many pods to print" in str(r)
    assert r._repr_html_() is None  # IPython shows the repr
    assert MAX_MATRIX_PODS == 5000


def test_a_cluster_over_the_matrix_limit():
    """6,000 pods: the analysis itself, by classes; a sample against the agent."""
    c = kl.Cluster(workers=59, network_policy="kube-network-policies")
    workloads(c, namespaces=10, deployments=40, replicas=150)
    policy_world(c, policies=300)
    r = c.reachability(80)
    assert len(r.pods) == 6000 and r.classes < 200
    view = c.store.snapshot()
    rnd = random.Random(0)
    for _ in range(600):
        a, b = rnd.choice(r.pods), rnd.choice(r.pods)
        assert _agent(view, a, b, 80, "TCP") == (
            r.allowed(a, b, "egress"), r.allowed(a, b, "ingress"), r.allowed(a, b)), (a, b)
    with pytest.raises(kl.ManifestError, match="6,000"):
        _ = r.combined


def test_without_an_enforcer_one_class_allows_everything():
    c = kl.Cluster(workers=2)
    workloads(c, namespaces=2, deployments=4, replicas=3)
    r = c.reachability()
    assert not r.enforced and r.classes == 1 and r.count() == (144, 0)
    assert kl.Cluster(workers=1).reachability(namespaces=["default"]).count() == (0, 0)
