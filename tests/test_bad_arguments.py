"""Bad arguments to the public API are refused before any work starts, with the package's
own error naming the function, the parameter and the value (issue 10's examples), and a
refused call changes nothing."""

from __future__ import annotations

import inspect

import pytest

import kubenet_lab as kl


@pytest.fixture
def c() -> kl.Cluster:
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-2")
    return c


@pytest.mark.parametrize("call, words", [
    (lambda c: c.reachability(1, namespaces=5),
     "Cluster.reachability(): namespaces: 5 is not a list of strings or None"),
    (lambda c: c.traffic(flows="a\nb"), "Cluster.traffic(): flows: 'a\\nb' is not a list"),
    (lambda c: kl.Cluster(workers="2"), "Cluster: workers: '2' is not an integer"),
    (lambda c: c.add_pod("x/a", labels="a"),
     "Cluster.add_pod(): labels: 'a' is not a mapping of strings to strings"),
    (lambda c: c.add_node("n", pod_cidr=5), "Cluster.add_node(): pod_cidr: 5 is not a string"),
    (lambda c: c.trace("default/a", "http://[x"), "trace: dst: 'http://[x' is not a URL"),
    (lambda c: c.trace("node-1", "10.0.1.5:²"),
     "trace: dst: '10.0.1.5:²' has a port that is not a number in 1-65535"),
    (lambda c: c.trace("node-1", "10.0.1.5:" + "9" * 5000), "a string of 5,009 characters"),
    (lambda c: c.trace("default/a", "default/b", port=True),
     "Cluster.trace(): port: True is not an integer"),
    (lambda c: c.add_pod(), "Cluster.add_pod(): missing a required argument: 'ref'"),
    (lambda c: c.add_pod("default/x", nodes="node-1"),
     "got an unexpected keyword argument 'nodes'"),
    (lambda c: kl.Container("web", ports="80"), "Container: ports: '80' is not a list"),
    (lambda c: kl.Container("web", ports=["80"]), "Container: ports: ['80'] is not a list"),
    (lambda c: kl.Container("web", bogus=1), "Container: got an unexpected keyword"),
    (lambda c: kl.Flow("default/a", "default/b", requests="3"), "Flow: requests: '3'"),
    (lambda c: kl.draw_trace(c, "default/a"), "draw_trace(): trace: 'default/a' is not a Trace"),
    (lambda c: kl.exercise({}), "exercise(): key: {} is not a string"),
    (lambda c: kl.exercise("1.1").check("10.244.2.9"),
     "Exercise 1.1: context: None is not what this exercise checks the answer against"),
    (lambda c: kl.TraceExplorer(c, bogus=1), "TraceExplorer: bogus: 1 is not an option"),
    (lambda c: kl.kubectl_get_pods(c, wide="yes"), "wide: 'yes' is not True or False"),
])
def test_a_bad_argument_is_refused_with_its_name(c, call, words):
    with pytest.raises(kl.ManifestError) as err:
        call(c)
    assert words in str(err.value)
    assert len(str(err.value)) < 500


@pytest.mark.parametrize("call, words", [
    (lambda c: kl.Cluster(workers=-1), "workers: -1 is not in 0-250"),
    (lambda c: kl.Cluster(workers=10**6), "workers: 1000000 is not in 0-250 (the VPC subnet "
     "10.0.1.0/24 holds 251 nodes"),
    (lambda c: c.spread("default/a", "default/kubernetes", requests=10**8),
     "spread: requests: 100000000 is not in 1-100000"),
    (lambda c: c.traffic(requests=10**8), "traffic: requests: 100000000 is not in 0-100000"),
    (lambda c: c.traffic(flows=[("default/a",)]), "traffic: flows[0]: ('default/a',) is not"),
])
def test_counts_the_lab_simulates_one_by_one_have_a_ceiling(c, call, words):
    """Refused at once, not after minutes of work (AWS keeps 5 addresses of a subnet)."""
    with pytest.raises(kl.ManifestError) as err:
        call(c)
    assert words in str(err.value)


def test_a_refused_ingress_controller_leaves_the_cloud_controller_off(c):
    """The issue's example: replicas=-1 was refused after switching the cloud
    load-balancer controller on, so a pending LoadBalancer Service got an address."""
    c.add_service("default/lb", type="LoadBalancer", selector={"app": "a"}, ports=[80])
    with pytest.raises(kl.ManifestError, match="spec.replicas"):
        c.add_ingress_controller(replicas=-1)
    assert c.service("default/lb").load_balancer_ip is None
    assert c.load_balancers == [] and "ingress-nginx" not in [n.name for n in c.namespaces]


@pytest.mark.parametrize("call", [
    lambda c: c.add_namespace("Bad_Name"),
    lambda c: c.delete_service("default/nope"),
    lambda c: c.delete_network_policy("default/nope"),
    lambda c: c.add_service("default/s", ports=[{"port": 80}, {"port": 81}]),
    lambda c: c.add_node("node-1"),
    lambda c: c.add_nat_gateway(public_ip="10.0.0.9"),
])
def test_every_refused_mutation_changes_nothing(c, call):
    before = _views(c)
    with pytest.raises(kl.KubenetLabError):
        call(c)
    assert _views(c) == before


def _views(c: kl.Cluster) -> tuple:
    return (c.exec("node-1", "kubectl get pods -A -o wide"), c.exec("node-1", "kubectl get svc -A"),
            c.iptables_save("node-1"), c.nodes, c.nat_gateways, c.namespaces)


def test_the_checks_keep_signatures_and_docstrings():
    """``help(c.add_pod)`` and the docs still show the real parameters."""
    assert list(inspect.signature(kl.Cluster.add_pod).parameters)[:3] == ["self", "ref", "node"]
    assert "podCIDR" in kl.Cluster.add_pod.__doc__
    assert kl.draw_trace.__module__ == "kubenet_lab.views.pictures"


def test_errors_render_short_in_a_notebook(c):
    with pytest.raises(kl.KubenetLabError) as err:
        c.add_pod("x/a", labels="a")
    lines = err.value._render_traceback_()  # the message, its fix, the caller's line
    assert lines[0].startswith("ManifestError: Cluster.add_pod(): labels: ") and len(lines) <= 3
    assert lines[-1].startswith("  in test_bad_arguments.py, line ")
    assert 'c.add_pod("x/a"' in lines[-1]
