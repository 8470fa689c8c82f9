"""Lesson 07 exercises: the worked solutions pass, and each hint fits its mistake."""

import pytest

import kubenet_lab as kl
from kubenet_lab.exercises.lesson07 import EXERCISES, lesson_cluster


@pytest.fixture(scope="module")
def c():
    return lesson_cluster()


def _solution(key: str) -> str:
    ex = kl.exercise(key)
    scope: dict = {}
    exec(ex.solution, scope)  # noqa: S102 - our own worked solution
    return scope["answer"]


@pytest.mark.parametrize("key", [ex.key for ex in EXERCISES])
def test_solutions_pass_and_leave_the_cluster_alone(c, key):
    fb = kl.exercise(key).check(_solution(key), c)
    assert fb.passed, fb.message
    assert not c.network_policies and not c.admin_network_policies


DENY_ALL_PAYMENTS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: d, namespace: payments}
spec: {podSelector: {}}
"""


def test_7_1_hints(c):
    ex = kl.exercise("7.1")
    assert "Write a policy" in ex.check("", c).message
    assert "reject" in ex.check(DENY_ALL_PAYMENTS.replace("{}}", "{matchLabels: [a]}}"),
                                c).message
    wrong_ns = DENY_ALL_PAYMENTS.replace("payments", "shop")
    fb = ex.check(wrong_ns, c)
    assert not fb.passed and "should be" in fb.message and "payments/db" in fb.message
    anp = ("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
           "metadata: {name: a}\nspec: {priority: 1, subject: {namespaces: {}}}\n")
    assert "kind: NetworkPolicy" in ex.check(anp, c).message


def test_7_2_or_instead_of_and_is_caught(c):
    ex = kl.exercise("7.2")
    or_peers = _solution("7.2").replace(
        "      podSelector: {matchLabels: {app: api}}",
        "    - podSelector: {matchLabels: {app: api}}")
    fb = ex.check(or_peers, c)
    assert not fb.passed and "shop/web -> payments/db" in fb.message and "blocked" in fb.message
    no_port = _solution("7.2").replace("    ports: [{port: 5432}]\n", "")
    fb = ex.check(no_port, c)
    assert not fb.passed and "TCP/80" in fb.message


def test_7_3_forgetting_tcp_or_dns_is_caught(c):
    ex = kl.exercise("7.3")
    udp_only = _solution("7.3").replace(", {protocol: TCP, port: 53}", "")
    fb = ex.check(udp_only, c)
    assert not fb.passed and "TCP/53" in fb.message
    no_dns = _solution("7.3").split("  egress:")[0]
    fb = ex.check(no_dns, c)
    assert not fb.passed and "UDP/53" in fb.message and "allowed" in fb.message


def test_7_4_needs_the_admin_tier(c):
    ex = kl.exercise("7.4")
    np = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
          "metadata: {name: d, namespace: shop}\nspec: {podSelector: {}}\n")
    assert "cannot deny" in ex.check(np, c).message
    passing = _solution("7.4").replace("action: Deny", "action: Pass")
    fb = ex.check(passing, c)
    assert not fb.passed and "dev/tester" in fb.message


def test_7_4_is_a_cluster_network_policy(c):
    """network-policy-api v0.2.0: ClusterNetworkPolicy (v1alpha2) replaces
    AdminNetworkPolicy; tier Admin is evaluated before NetworkPolicy, tier Baseline
    after it (apis/v1alpha2/clusternetworkpolicy_types.go, ``Tier``)."""
    ex = kl.exercise("7.4")
    solution = _solution("7.4")
    assert "kind: ClusterNetworkPolicy" in solution and "tier: Admin" in solution
    anp = ("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
           "metadata: {name: no-dev-to-prod}\nspec:\n  priority: 10\n"
           "  subject: {namespaces: {matchLabels: {env: prod}}}\n  ingress:\n"
           "  - {action: Deny, from: [{namespaces: {matchLabels: {env: dev}}}]}\n")
    fb = ex.check(anp, c)
    assert not fb.passed and "ClusterNetworkPolicy" in fb.message
    baseline = solution.replace("tier: Admin", "tier: Baseline")
    fb = ex.check(baseline, c)  # the allow-all NetworkPolicies decide before Baseline
    assert not fb.passed and "should be blocked" in fb.message
