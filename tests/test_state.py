"""The state rules of design.md: read-only calls change nothing later calls see; calls
that open connections advance only what a kernel advances; a Trace keeps the cluster it
walked; a failed or rolled-back change leaves the Store as it was."""

from __future__ import annotations

import pytest

import kubenet_lab as kl


def _cluster() -> kl.Cluster:
    """Three endpoints behind a Service (kube-proxy picks one at random per connection),
    a LoadBalancer Service, and a client."""
    c = kl.Cluster(workers=3)
    c.add_cloud_load_balancer()
    for i, node in enumerate(("node-1", "node-2", "node-3")):
        c.add_pod(f"default/web-{i}", node=node, labels={"app": "web"})
    c.add_pod("default/client", node="node-1", labels={"app": "client"})
    c.add_service("default/web", selector={"app": "web"}, ports=[80])
    c.add_service("default/lb", type="LoadBalancer", selector={"app": "web"}, ports=[80])
    return c


def _to_service(c: kl.Cluster) -> kl.Trace:
    return c.trace("default/client", c.service("default/web").cluster_ip or "", port=80)


READ_ONLY = {
    "ping a ClusterIP": lambda c: c.exec("default/client", "ping -c 2 web"),
    "ping a pod": lambda c: c.exec("default/client", "ping -c 1 " + c.pod("default/web-1").ip),
    "traceroute": lambda c: c.exec("default/client", "traceroute -n 10.0.1.5"),
    "reachability": lambda c: c.reachability(),
    "explain": lambda c: c.explain("default/client", "default/web-0"),
    "ip route": lambda c: c.exec("node-1", "ip route"),
    "iptables-save": lambda c: c.exec("node-1", "iptables-save"),
    "kubectl get": lambda c: c.exec("node-1", "kubectl get pods -A -o wide"),
    "iptables_save": lambda c: c.iptables_save("node-2"),
    "resolve": lambda c: c.resolve("web", from_pod="default/client"),
    "verify_network_model": lambda c: c.verify_network_model(),
    "traffic": lambda c: c.traffic(requests=20),
    "spread": lambda c: c.spread("default/client", "default/web", 50),
    "draw_cluster": lambda c: kl.draw_cluster(c),
    "draw_trace": lambda c: kl.draw_trace(c, c.trace("default/client", "default/web-1")),
    "draw_load_balancing": lambda c: kl.draw_load_balancing(c, "default/client",
                                                            "default/web", requests=50),
    "draw_internet_traffic": lambda c: kl.draw_internet_traffic(c, "default/lb", clients=10),
}


@pytest.mark.parametrize("name", list(READ_ONLY))
def test_a_read_only_call_between_two_traces_leaves_the_second_unchanged(name):
    quiet, busy = _cluster(), _cluster()
    first = [_to_service(c) for c in (quiet, busy)]
    assert first[0] == first[1]
    READ_ONLY[name](busy)
    second = _to_service(quiet), _to_service(busy)
    assert second[0] == second[1], name
    # and the check is not vacuous: the endpoints really are drawn at random
    assert len({_to_service(quiet).destination_pod for _ in range(30)}) > 1


def test_a_connection_advances_the_random_choice_of_an_endpoint():
    """curl opens a TCP connection through kube-proxy's statistic rules: the next trace
    draws the next random number, as a real kernel's next connection would."""
    quiet, busy = _cluster(), _cluster()
    _to_service(quiet), _to_service(busy)
    busy.exec("default/client", "curl -s web")
    later_quiet = [_to_service(quiet).destination_pod for _ in range(10)]
    later_busy = [_to_service(busy).destination_pod for _ in range(10)]
    assert later_quiet != later_busy


def test_a_trace_keeps_the_cluster_it_walked():
    c = _cluster()
    t = c.trace("default/client", "default/web-2")
    c.delete_pod("default/web-2")
    c.add_pod("default/later", node="node-1")
    assert t.snapshot.has_pod("default/web-2") and not t.snapshot.has_pod("default/later")
    texts = " ".join(x.get_text() for x in kl.draw_trace(c, t).axes[0].texts)
    assert "web-2" in texts and "later" not in texts
    step = " ".join(x.get_text() for x in kl.draw_trace(c, t, step=3).axes[0].texts)
    assert "web-2" in step and "later" not in step


def test_the_stepper_draws_the_traced_cluster():
    from kubenet_lab.views.widgets import TraceStepper, figure_png

    c = _cluster()
    t = c.trace("default/client", "default/web-2")
    before = figure_png(kl.draw_trace(c, t, step=2))
    stepper = TraceStepper(c, t)
    c.delete_pod("default/web-2")
    for i in range(8):
        c.add_pod(f"default/extra-{i}", node="node-3")
    stepper.go(2)
    assert stepper._image.value == before


def test_a_failed_apply_changes_nothing_and_keeps_the_order_of_pods():
    c = _cluster()
    before = (c.exec("node-1", "ip addr"), [p.ref for p in c.pods_on("node-1")],
              c.exec("node-1", "iptables-save"), c.store.snapshot().address_owners().copy())
    bad = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: big}\nspec:\n  replicas: 3\n"
           "  selector: {matchLabels: {app: big}}\n  template:\n    metadata: {labels: {app: "
           "big}}\n    spec: {containers: [{name: c, image: x}]}\n---\n"
           "apiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec: {containers: "
           "[{name: other, image: x}]}\n")
    with pytest.raises(kl.ManifestError):
        c.apply(bad)
    after = (c.exec("node-1", "ip addr"), [p.ref for p in c.pods_on("node-1")],
             c.exec("node-1", "iptables-save"), c.store.snapshot().address_owners().copy())
    assert after == before


def test_a_rolled_back_transaction_restores_deleted_objects_in_place():
    c = _cluster()
    order = [p.ref for p in c.pods_on("node-1")]
    with c.store.transaction(rollback=True):
        c.delete_pod("default/web-0")
        c.add_pod("default/new", node="node-1")
        assert [p.ref for p in c.pods_on("node-1")] == ["default/client", "default/new"]
    assert [p.ref for p in c.pods_on("node-1")] == order
    assert c.owner_of(c.pod("default/web-0").ip) == "Pod default/web-0"


def test_an_inner_transaction_undoes_only_its_own_changes():
    c = _cluster()
    with c.store.transaction():
        c.add_pod("default/kept", node="node-2")
        with pytest.raises(kl.ConflictError), c.store.transaction():
            c.add_pod("default/gone", node="node-2")
            c.add_pod("default/gone", node="node-2")
    assert c.store.has_pod("default/kept") and not c.store.has_pod("default/gone")
