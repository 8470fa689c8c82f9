"""Exercises check the learner's result and hint at what is wrong."""

import pytest

import kubenet_lab as kl


@pytest.fixture
def c():
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-2")
    c.add_pod("default/c", node="node-2")
    return c


def test_unanswered_is_neither_right_nor_a_hint(c):
    fb = kl.exercise("1.1").check(None, c)
    assert not fb.passed and not fb.answered and "Replace None" in str(fb)


def test_1_1_accepts_the_next_ip_and_explains(c):
    fb = kl.exercise("1.1").check("10.244.2.4", c)
    assert fb.passed and "host-local" in fb.message


# host-local (containernetworking/plugins plugins/ipam/host-local/backend/allocator):
# the range runs from the subnet's .1 (here the bridge's, so pods start at .2) to the last
# address before the broadcast; Get() starts after lastReservedIP and takes the first free.
@pytest.mark.parametrize("answer, hint", [
    ("10.244.1.4", "own podCIDR"),
    ("10.244.2.0", "network address"),
    ("10.244.2.1", "cni0 bridge"),
    ("10.244.2.255", "broadcast address"),
    ("10.244.2.3", "already taken by pod default/c"),
    ("10.244.2.9", "Too far"),
    ("ten", "as a string"),
])
def test_1_1_hints_fit_the_mistake(c, answer, hint):
    fb = kl.exercise("1.1").check(answer, c)
    assert not fb.passed and hint in fb.message
    assert "10.244.2.4" not in fb.message and "10.244.2.3)" not in fb.message


def test_1_1_a_freed_address_below_the_last_reserved_is_not_the_next(c):
    # host-local does not go back to an address freed below its last reservation
    c.delete_pod("default/b")  # frees 10.244.2.2; the last reserved is still .3
    ex = kl.exercise("1.1")
    fb = ex.check("10.244.2.2", c)
    assert not fb.passed and "does not go back" in fb.message
    assert "10.244.2.4" not in fb.message
    assert ex.check("10.244.2.4", c).passed


def test_1_2_checks_the_resulting_cluster(c):
    ex = kl.exercise("1.2")
    assert "no pod default/pair" in ex.check("done", c).message
    c.add_pod("default/pair", node="node-1", containers=[kl.Container("app", ports=[8081]),
                                                          kl.Container("probe")])
    assert "8080" in ex.check("done", c).message
    c.delete_pod("default/pair")
    c.add_pod("default/pair", node="node-1", containers=[kl.Container("app", ports=[8080]),
                                                          kl.Container("probe")])
    assert ex.check("done", c).passed


def test_1_3_requires_the_clash_to_be_fixed(c):
    ex = kl.exercise("1.3")
    c.add_pod("default/clash", node="node-1", containers=[
        kl.Container("web", ports=[80]), kl.Container("metrics", ports=[80])])
    fb = ex.check("done", c)
    assert not fb.passed and "duplicate port definition" in fb.message
    c.delete_pod("default/clash")
    c.add_pod("default/clash", node="node-1", containers=[
        kl.Container("web", ports=[9090]), kl.Container("metrics", ports=[80])])
    assert "web must be" in ex.check("done", c).message
    c.delete_pod("default/clash")
    c.add_pod("default/clash", node="node-1", containers=[
        kl.Container("web", ports=[80]), kl.Container("metrics", ports=[9090])])
    assert ex.check("done", c).passed


def test_1_4_reads_the_trace():
    c = kl.Cluster(workers=1)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/d", node="node-1")
    t = c.trace("default/a", "default/d")
    ex = kl.exercise("1.4")
    assert ex.check((5, 64), t).passed
    assert "rows" in ex.check((4, 64), t).message
    assert "bridge" in ex.check((5, 63), t).message
    assert "tuple" in ex.check(5, t).message


def test_unknown_exercise():
    with pytest.raises(kl.NotFoundError, match="exercises are: 1.1"):
        kl.exercise("9.9")


def test_feedback_html_is_escaped():
    ex = kl.Exercise("0.1", "t", [kl.Check(lambda a, ctx: False, "<b>no</b>")])
    assert "&lt;b&gt;" in ex.check(1)._repr_html_()


# ---------------------------------------------------------------- lesson 03
@pytest.fixture
def c3():
    c = kl.Cluster(workers=2)
    c.add_pod("default/client", node="node-1")
    c.add_pod("default/web-1", node="node-2", labels={"app": "web"},
              containers=[kl.Container("nginx", ports=[kl.ContainerPort(8080, "http")])])
    c.add_service("default/web", selector={"app": "web"},
                  ports=[{"name": "http", "port": 80, "targetPort": "http"}])
    for i in (1, 2):
        c.add_pod(f"default/backend-{i}", labels={"app": "backend"},
                  containers=[kl.Container("api", ports=[kl.ContainerPort(8080, "http")])])
        c.add_pod(f"default/frontend-{i}", labels={"app": "frontend"})
    c.add_service("default/broken", selector={"app": "fronted"}, ports=[80])
    return c


def test_3_1_chain_name_and_hints(c3):
    ex = kl.exercise("3.1")
    assert ex.check("KUBE-SVC-" + kl.exercise("3.1").key, c3).passed is False
    line = next(x for x in c3.iptables_save("node-1").splitlines()
                if "default/web:http cluster IP" in x and x.startswith("-A KUBE-SERVICES"))
    assert ex.check(line.split(" -j ")[1], c3).passed
    assert "endpoint chain" in ex.check("KUBE-SEP-ABC", c3).message
    assert "16 characters" in ex.check("web", c3).message
    assert "-j target" in ex.check("KUBE-SVC-WRONG", c3).message


def test_3_2_backend_service_and_hints(c3):
    ex = kl.exercise("3.2")
    assert "no Service default/backend" in ex.check("done", c3).message
    c3.add_service("default/backend", selector={"app": "backend"}, ports=[81])
    assert "port 80" in ex.check("done", c3).message
    c3.add_service("default/backend", selector={"app": "nope"}, ports=[80])
    assert "no endpoints" in ex.check("done", c3).message
    c3.add_service("default/backend", selector={"app": "backend"}, ports=[80])
    assert "targetPort" in ex.check("done", c3).message
    c3.add_service("default/backend", selector={"app": "backend"},
                   ports=[{"port": 80, "targetPort": "http"}])
    assert ex.check("done", c3).passed


def test_3_3_broken_selector_and_hints(c3):
    ex = kl.exercise("3.3")
    assert "fronted" in ex.check("done", c3).message
    c3.add_service("default/broken", selector={"app": "frontend"}, ports=[81])
    assert "not delivered" in ex.check("done", c3).message
    c3.add_service("default/broken", selector={"app": "frontend"}, ports=[80])
    assert ex.check("done", c3).passed
