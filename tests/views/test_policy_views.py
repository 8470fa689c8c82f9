"""Truth table views (text, HTML, heatmap), kubectl listing, and the policy playground."""

from pathlib import Path

import pytest

import kubenet_lab as kl

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"

DENY_B = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "deny-b", "namespace": "x"},
          "spec": {"podSelector": {"matchLabels": {"app": "b"}}}}


@pytest.fixture
def c():
    c = kl.Cluster(workers=1, network_policy="kube-network-policies")
    c.add_namespace("x")
    for name in "abc":
        c.add_pod(f"x/{name}", labels={"app": name})
    c.apply(DENY_B)
    return c


def test_text_is_deterministic_and_marks_blocked_cells(c):
    text = kl.reachability_text(c.reachability())
    assert text == kl.reachability_text(c.reachability())
    assert text.splitlines()[2:] == ["x/a .   X   .", "x/b .   .   .", "x/c .   X   ."]


def test_text_of_each_direction_and_bad_name(c):
    r = c.reachability()
    assert "0 blocked" in r.text("egress").splitlines()[0]
    assert "2 blocked" in r.text("ingress").splitlines()[0]
    with pytest.raises(kl.ManifestError, match="combined"):
        r.text("both")


def test_html_escapes_and_colours(c):
    html = c.reachability()._repr_html_()
    assert html.count("✗</td>") == 2 and "<table" in html and "0x" not in html
    assert "✓</span> allowed" in html and "✗</span> blocked" in html  # the legend


def test_heatmap_picture(c):
    ARTIFACTS.mkdir(exist_ok=True)
    fig = kl.draw_reachability(c.reachability())
    fig.savefig(ARTIFACTS / "policy_heatmap.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x/a", "x/b", "x/c"]
    flannel = kl.Cluster(workers=1)
    flannel.add_pod("default/a")
    fig = kl.draw_reachability(flannel.reachability())
    assert any("NOT enforced" in t.get_text() for t in fig.texts)


def test_heatmap_on_a_given_axes(c):
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    assert kl.draw_reachability(c.reachability(), "ingress", ax=ax) is ax


def test_kubectl_get_networkpolicies_lists_both_apis(c):
    """kubectl's NetworkPolicy columns NAME, POD-SELECTOR, AGE (NAMESPACE first with -A;
    kubernetes pkg/printers/internalversion/printers.go); the CRDs' printer columns
    (network-policy-api: ClusterNetworkPolicy Tier, Priority, Age; AdminNetworkPolicy
    Priority, Age; BaselineAdminNetworkPolicy Age)."""
    c.apply({"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
             "metadata": {"name": "guard"},
             "spec": {"tier": "Admin", "priority": 3, "subject": {"namespaces": {}}}})
    text = kl.kubectl_get_networkpolicies(c)
    lines = text.splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "POD-SELECTOR", "AGE"]
    assert lines[1].split()[:3] == ["x", "deny-b", "app=b"]
    assert lines[1].split()[3].endswith("s")  # an age, as kubectl's ShortHumanDuration
    assert lines[2] == "" and lines[3].split() == ["NAME", "TIER", "PRIORITY", "AGE"]
    assert lines[4].split()[:3] == ["guard", "Admin", "3"]
    one_ns = kl.kubectl_get_networkpolicies(c, "x").splitlines()
    assert one_ns[0].split() == ["NAME", "POD-SELECTOR", "AGE"]
    c.apply({"apiVersion": "policy.networking.k8s.io/v1alpha1",
             "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"},
             "spec": {"subject": {"namespaces": {}}}})
    text = kl.kubectl_get_networkpolicies(c)
    # more than one kind listed: kubectl names each kind.group/name
    assert "clusternetworkpolicy.policy.networking.k8s.io/guard" in text
    banp = text.split("\n\n")[-1].splitlines()
    assert banp[0].split() == ["NAME", "AGE"]
    assert banp[1].split()[0] == "baselineadminnetworkpolicy.policy.networking.k8s.io/default"
    assert kl.kubectl_get_networkpolicies(kl.Cluster()) == "No resources found"


def test_playground_follows_edits_and_keeps_the_cluster(c):
    c.delete_network_policy("x/deny-b")
    pg = kl.PolicyPlayground(c, {"none": "", "deny b": DENY_B_YAML}, namespaces=["x"])
    assert repr(pg) == ("Policy playground: run this cell to edit the policy "
                        "(3 pods, TCP/80: 9 allowed, 0 blocked)")
    pg.select("deny b")
    assert pg.reachability.count() == (7, 2)
    pg.edit(DENY_B_YAML.replace("app: b", "app: c"))
    assert not pg.reachability.allowed("x/a", "x/c") and pg.reachability.allowed("x/a", "x/b")
    pg.edit("kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: p}\n"
            "spec: {podSelector: {matchLabels: [1]}}")
    assert pg.reachability is None and "matchLabels" in pg.status
    assert repr(pg) == ("Policy playground: run this cell to edit the policy "
                        "(the YAML is not applied)")
    assert not c.network_policies  # the playground worked on its own copy


DENY_B_YAML = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-b, namespace: x}
spec:
  podSelector:
    matchLabels:
      app: b
"""
