"""Service pictures: the chain walk and the load-balancing spread."""

import kubenet_lab as kl
from kubenet_lab.engines.kube_proxy import spread


def _cluster():
    c = kl.Cluster(workers=2)
    for i in range(3):
        c.add_pod(f"default/w{i}", node=f"node-{1 + i % 2}", labels={"app": "w"})
    c.add_pod("default/client", node="node-1")
    c.add_service("default/w", selector={"app": "w"}, ports=[80])
    return c


def test_spread_is_close_to_one_third_and_seeded():
    c = _cluster()
    counts = spread(c, "default/client", "default/w", requests=900)
    assert sorted(counts) == ["default/w0", "default/w1", "default/w2"]
    assert all(240 < n < 360 for n in counts.values())
    assert counts == spread(_cluster(), "default/client", "default/w", requests=900)


def test_affinity_sends_everything_to_one_endpoint_and_keeps_the_others_listed():
    c = _cluster()
    c.add_service("default/w", selector={"app": "w"}, ports=[80], session_affinity="ClientIP")
    counts = spread(c, "default/client", "default/w", requests=50)
    assert len(counts) == 3 and sorted(counts.values()) == [0, 0, 50]


def test_load_balancing_figure_has_a_bar_per_endpoint_and_node(tmp_path):
    c = _cluster()
    fig = kl.draw_load_balancing(c, "default/client", "default/w", requests=300)
    left, right = fig.axes
    assert len(left.patches) == 3 and len(right.patches) == 2
    fig.savefig(tmp_path / "lb.png")


def test_chain_walk_of_a_pod_to_pod_trace_says_no_rule_matched():
    c = _cluster()
    t = c.trace("default/client", "default/w1", port=80)
    texts = [x.get_text() for x in kl.draw_chain_walk(t).axes[0].texts]
    assert any("no kube-proxy rule matched" in x for x in texts)
