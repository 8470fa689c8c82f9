"""Service pictures: the chain walk and the load-balancing spread."""

import kubenet_lab as kl


def _cluster():
    c = kl.Cluster(workers=2)
    for i in range(3):
        c.add_pod(f"default/w{i}", node=f"node-{1 + i % 2}", labels={"app": "w"})
    c.add_pod("default/client", node="node-1")
    c.add_service("default/w", selector={"app": "w"}, ports=[80])
    return c


def test_spread_is_close_to_one_third_and_seeded():
    c = _cluster()
    counts = c.spread("default/client", "default/w", requests=900)
    assert sorted(counts) == ["default/w0", "default/w1", "default/w2"]
    assert all(240 < n < 360 for n in counts.values())
    assert counts == _cluster().spread("default/client", "default/w", requests=900)


def test_affinity_sends_everything_to_one_endpoint_and_keeps_the_others_listed():
    c = _cluster()
    c.add_service("default/w", selector={"app": "w"}, ports=[80], session_affinity="ClientIP")
    counts = c.spread("default/client", "default/w", requests=50)
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


def _internet_cluster():
    c = kl.Cluster(workers=3)
    for i, node in enumerate(["node-1", "node-1", "node-2"]):
        c.add_pod(f"default/web-{i}", node=node, labels={"app": "web"})
    c.add_cloud_load_balancer()
    c.add_service("default/web", type="LoadBalancer", selector={"app": "web"}, ports=[80])
    c.add_service("default/web-local", type="LoadBalancer", selector={"app": "web"},
                  ports=[80], external_traffic_policy="Local")
    return c


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_internet_traffic_is_drawn_on_the_cluster_picture_cluster_versus_local():
    from kubenet_lab.views.services import EXTRA_HOP

    fig = kl.draw_internet_traffic(_internet_cluster(), ["default/web", "default/web-local"],
                                   clients=60)
    cl, lo = fig.axes
    # eTP Cluster: the LB uses every worker (kubeadm's control plane is excluded), the
    # source is SNATed to the node (client IP lost), pods on other nodes take an extra hop
    assert {"node-1", "node-2", "node-3"} <= set(_texts(cl))
    assert "control-plane" not in _texts(cl)
    first, second = cl.get_title(loc="left").splitlines()
    assert first == "default/web: externalTrafficPolicy Cluster"
    assert second.startswith("client IP kept 0/60, extra node hop ")
    assert int(second.split()[-1].split("/")[0]) > 0
    assert any(t.endswith(" to node-1") or t.endswith(" to node-2") for t in _texts(cl))
    assert any(line.get_color() == EXTRA_HOP for line in cl.lines)
    # eTP Local: only nodes with a ready endpoint get traffic, the client IP is kept
    assert "node-3" not in _texts(lo) and {"node-1", "node-2"} <= set(_texts(lo))
    assert lo.get_title(loc="left").splitlines()[1] == "client IP kept 60/60, extra node hop 0/60"
    assert not any(line.get_color() == EXTRA_HOP for line in lo.lines)
    assert "60 clients" in _texts(lo)


def test_internet_traffic_widths_follow_the_connection_counts_and_are_seeded():
    from kubenet_lab.views.pictures import PATH

    c = _internet_cluster()
    stats = c.internet_spread("default/web-local", clients=60)
    # the LB splits by node: node-2's single pod gets as much as node-1's two together
    assert stats["nodes"]["node-1"] == stats["pods"]["default/web-0"] + stats["pods"][
        "default/web-1"]
    assert sum(stats["flows"].values()) == 60
    fig = kl.draw_internet_traffic(_internet_cluster(), "default/web-local", clients=60)
    ax = fig.axes[0]  # the same seeded cluster: the same connections as ``stats``
    widths = sorted({round(line.get_linewidth(), 3) for line in ax.lines
                     if line.get_color() == PATH})
    counts = sorted({n for n in [60, *stats["nodes"].values(), *stats["pods"].values()]})
    assert len(widths) == len(counts)  # one width per distinct count, in the same order
    labels = [int(t) for t in _texts(ax) if t.isdigit()]
    assert sorted(set(labels)) == sorted(set(stats["nodes"].values())
                                         | set(stats["pods"].values()))
    again = kl.draw_internet_traffic(_internet_cluster(), "default/web-local", clients=60)
    assert _texts(again.axes[0]) == _texts(ax)
    assert again.axes[0].get_title(loc="left") == ax.get_title(loc="left")


def test_internet_traffic_draws_the_busiest_nodes_and_counts_the_others():
    c = kl.Cluster(workers=8)
    for i in range(8):
        c.add_pod(f"default/web-{i}", node=f"node-{i + 1}", labels={"app": "web"})
    c.add_cloud_load_balancer()
    c.add_service("default/web", type="LoadBalancer", selector={"app": "web"}, ports=[80])
    ax = kl.draw_internet_traffic(c, "default/web", clients=40, max_nodes=3).axes[0]
    drawn = [t for t in _texts(ax) if t.startswith("node-")]
    assert len(drawn) == 3
    assert ax.get_title(loc="left").endswith("; 5 more nodes not drawn")
