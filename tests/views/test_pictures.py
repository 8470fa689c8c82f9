"""The pictures: cluster, trace and pod drawings (kubenet_lab.views.pictures)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import kubenet_lab as kl  # noqa: E402
from kubenet_lab.dataplane import cni  # noqa: E402
from kubenet_lab.views.pictures import (  # noqa: E402
    POD_W,
    SMALL,
    cluster_layout,
    draw_cluster,
    draw_pod,
    draw_trace,
    text_width,
)


@pytest.fixture
def figures():
    """Collects the figures a test makes and closes them afterwards."""
    made = []
    yield made.append
    for fig in made:
        fig.clf()
        plt.close(fig)


@pytest.fixture
def cluster():
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/a2", node="node-1")
    c.add_pod("default/b", node="node-2")
    c.add_pod("default/two", node="node-1", containers=[
        kl.Container("web", ports=[80]), kl.Container("sidecar", ports=[80])])
    return c


TRACES = {
    "cross-node": ("default/a", "default/b", 80),
    "same-node": ("default/a", "default/a2", 80),
    "node-to-pod": ("node-1", "default/b", 80),
    "node-to-node": ("node-1", "node-2", 22),
    "loopback": ("default/a/a", "localhost", 80),
    "refused": ("default/a", "default/b", 81),
    "to-the-internet": ("default/a", "8.8.8.8", 80),
}


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def drawing(fig):
    """Everything that identifies a drawing: each text with its position, size and alpha,
    and the number, positions and colours of its patches and lines."""
    ax = fig.axes[0]
    return (
        ax.get_title(),
        [(t.get_text(), t.get_position(), t.get_fontsize(), t.get_alpha()) for t in ax.texts],
        [(type(p).__name__, p.get_facecolor(), p.get_alpha(), p.get_extents().bounds)
         for p in ax.patches],
        [(tuple(line.get_xdata()), tuple(line.get_ydata()), line.get_alpha())
         for line in ax.lines],
    )


def number_texts(fig):
    return {t.get_text(): t for t in fig.axes[0].texts if t.get_text().isdigit()}


# ---------------------------------------------------------------------------- figures and axes
@pytest.mark.parametrize("draw", [
    lambda c: draw_cluster(c),
    lambda c: draw_trace(c, c.trace("default/a", "default/b")),
    lambda c: draw_pod(c, "default/two"),
], ids=["cluster", "trace", "pod"])
def test_returns_a_figure(cluster, figures, draw):
    fig = draw(cluster)
    figures(fig)
    assert isinstance(fig, Figure)
    assert fig.axes and texts(fig)


@pytest.mark.parametrize("draw", [
    lambda c, ax: draw_cluster(c, ax),
    lambda c, ax: draw_trace(c, c.trace("default/a", "default/b"), ax),
    lambda c, ax: draw_pod(c, "default/two", ax),
], ids=["cluster", "trace", "pod"])
def test_draws_on_a_given_axes(cluster, figures, draw):
    fig = Figure(figsize=(6, 4))
    figures(fig)
    ax = fig.add_subplot()
    assert draw(cluster, ax) is fig
    assert len(fig.axes) == 1 and ax.texts


def test_no_pyplot_figure_is_left_open(cluster):
    before = plt.get_fignums()
    for fig in (draw_cluster(cluster), draw_pod(cluster, "default/a"),
                draw_trace(cluster, cluster.trace("default/a", "default/b"))):
        fig.clf()
    assert plt.get_fignums() == before


# ---------------------------------------------------------------------------- draw_cluster
def test_cluster_shows_every_node_pod_ip_and_pod_cidr(cluster, figures):
    fig = draw_cluster(cluster)
    figures(fig)
    text = "\n".join(texts(fig))
    for node in cluster.nodes:
        assert node.name in text
        assert f"podCIDR {node.pod_cidr}" in text
        assert f"eth0 {node.ip}/24" in text
    for pod in cluster.pods:
        assert pod.ip in text
        assert cni.BridgeFamily().veth_name(pod) in text
    assert "VPC subnet 10.0.1.0/24" in text


def test_cluster_draws_nodes_in_the_models_order(cluster, figures):
    fig = draw_cluster(cluster)
    figures(fig)
    x = {t.get_text(): t.get_position()[0] for t in fig.axes[0].texts}
    assert x["control-plane"] < x["node-1"] < x["node-2"]


def test_namespaces_filter_the_pods(cluster, figures):
    cluster.add_namespace("x")
    cluster.add_pod("x/q", node="node-2")
    fig = draw_cluster(cluster, namespaces="x")
    figures(fig)
    shown = texts(fig)
    assert cluster.pod("x/q").ip in shown
    assert cluster.pod("default/b").ip not in shown
    assert not any(p.ip in shown for p in cluster.pods if p.namespace == "kube-system")
    assert set(cluster_layout(cluster, namespaces=["x"])) >= {("pod", "x/q", "eth0")}
    assert ("pod", "default/b", "eth0") not in cluster_layout(cluster, namespaces=["x"])


def test_max_pods_notes_how_many_more(cluster, figures):
    fig = draw_cluster(cluster, max_pods=1)
    figures(fig)
    shown = texts(fig)
    assert "+2 more pods" in shown  # node-1 runs a, a2 and two
    assert cluster.pod("default/a").ip in shown
    assert cluster.pod("default/two").ip not in shown


def test_long_pod_names_are_shortened_not_overflowing(figures):
    c = kl.Cluster(workers=1)
    fig = draw_cluster(c)
    figures(fig)
    names = [t for t in texts(fig) if t.startswith("cored")]
    full = {p.name for p in c.pods if p.name.startswith("coredns")}
    # each label is its pod's name, shortened in the middle when the name is wider than
    # the pod's box (both are, at the label's bold 7 pt, but for a character or two)
    assert len(names) == 2 and any("…" in n for n in names)
    for name in names:
        assert name in full or any(n.startswith(name.split("…")[0]) and
                                   n.endswith(name.split("…")[1]) for n in full)
        assert text_width(name, SMALL, True) <= POD_W - 0.06


def test_same_input_gives_the_same_drawing(cluster, figures):
    one, two = draw_cluster(cluster), draw_cluster(cluster)
    figures(one), figures(two)
    assert drawing(one) == drawing(two)
    t = cluster.trace("default/a", "default/b")
    one, two = draw_trace(cluster, t, step=4), draw_trace(cluster, t, step=4)
    figures(one), figures(two)
    assert drawing(one) == drawing(two)


# ---------------------------------------------------------------------------- layout
@pytest.mark.parametrize("src,dst,port", TRACES.values(), ids=list(TRACES))
def test_layout_has_a_point_for_every_hop(cluster, src, dst, port):
    points = cluster_layout(cluster)
    for hop in cluster.trace(src, dst, port=port).hops:
        loc = hop.location
        assert (loc.kind, loc.name, loc.interface) in points, hop.summary()


def test_layout_places_a_pod_above_its_veth_bridge_and_eth0(cluster):
    p = cluster_layout(cluster)
    veth = cni.BridgeFamily().veth_name(cluster.pod("default/a"))
    ys = [p[("pod", "default/a", "eth0")][1], p[("node", "node-1", veth)][1],
          p[("node", "node-1", "cni0")][1], p[("node", "node-1", "eth0")][1],
          p[("network", "10.0.1.0/24", "")][1]]
    assert ys == sorted(ys, reverse=True)


def test_no_two_places_share_a_point(cluster):
    points = list(cluster_layout(cluster).values())
    assert len(set(points)) == len(points)


# ---------------------------------------------------------------------------- draw_trace
@pytest.mark.parametrize("src,dst,port", TRACES.values(), ids=list(TRACES))
def test_trace_numbers_every_hop(cluster, figures, src, dst, port):
    t = cluster.trace(src, dst, port=port)
    fig = draw_trace(cluster, t)
    figures(fig)
    assert sorted(number_texts(fig), key=int) == [str(i) for i in range(1, len(t.hops) + 1)]


def test_trace_title_names_the_endpoints_and_the_reason(cluster, figures):
    t = cluster.trace("default/a", "default/b", port=81)
    fig = draw_trace(cluster, t)
    figures(fig)
    title = fig.axes[0].get_title()
    assert title.splitlines()[0] == "default/a -> default/b:81/TCP"
    assert "Connection refused" in title


def test_trace_draws_only_the_nodes_it_visits(cluster, figures):
    fig = draw_trace(cluster, cluster.trace("default/a", "default/b"))
    figures(fig)
    shown = texts(fig)
    assert "node-1" in shown and "node-2" in shown and "control-plane" not in shown


def test_trace_always_draws_its_own_pods(cluster, figures):
    fig = draw_trace(cluster, cluster.trace("default/a", "default/two"), max_pods=1)
    figures(fig)
    shown = texts(fig)
    assert cluster.pod("default/two").ip in shown and "+1 more pods" in shown


def test_hops_at_the_same_place_are_drawn_apart(cluster, figures):
    t = cluster.trace("default/a/a", "localhost")
    assert t.hops[0].location == t.hops[1].location
    fig = draw_trace(cluster, t)
    figures(fig)
    numbers = number_texts(fig)
    assert numbers["1"].get_position() != numbers["2"].get_position()


def test_the_network_hop_sits_between_the_nodes_it_joins(cluster, figures):
    t = cluster.trace("default/a", "default/b")
    fig = draw_trace(cluster, t)
    figures(fig)
    numbers = number_texts(fig)
    x = {i: numbers[str(i)].get_position()[0] for i in (5, 6, 7)}
    assert t.hops[5].location.kind == "network"
    assert x[5] < x[6] < x[7]


def test_the_vxlan_stretch_is_labelled(cluster, figures):
    fig = draw_trace(cluster, cluster.trace("default/a", "default/b"))
    figures(fig)
    assert "VXLAN (UDP 8472)" in texts(fig)
    fig = draw_trace(cluster, cluster.trace("default/a", "default/a2"))
    figures(fig)
    assert "VXLAN (UDP 8472)" not in texts(fig)


def test_step_highlights_that_hop_and_fades_the_later_ones(cluster, figures):
    t = cluster.trace("default/a", "default/b")
    plain, stepped = draw_trace(cluster, t), draw_trace(cluster, t, step=5)
    figures(plain), figures(stepped)
    assert drawing(plain) != drawing(stepped)
    before, after = number_texts(plain), number_texts(stepped)
    assert after["5"].get_fontsize() > before["5"].get_fontsize()
    assert after["4"].get_fontsize() == before["4"].get_fontsize()
    assert after["6"].get_alpha() < 1 and after["4"].get_alpha() in (None, 1)
    assert any(text.startswith("step 5 of 11") for text in texts(stepped))


@pytest.mark.parametrize("step", [0, 12, 2.5])
def test_step_must_be_a_hop_number(cluster, step):
    with pytest.raises(kl.ManifestError, match="step"):
        draw_trace(cluster, cluster.trace("default/a", "default/b"), step=step)


# ---------------------------------------------------------------------------- draw_pod
def test_pod_shows_containers_devices_and_the_veth(cluster, figures):
    fig = draw_pod(cluster, "default/two")
    figures(fig)
    shown = texts(fig)
    pod = cluster.pod("default/two")
    assert f"network namespace of pod default/two (IP {pod.ip})" in shown
    assert "pause: holds the network namespace" in shown
    assert {"web", "sidecar", "ports 80/TCP", "lo 127.0.0.1/8", f"eth0 {pod.ip}/24"} <= set(shown)
    assert cni.BridgeFamily().veth_name(pod) in shown and "veth pair" in shown
    assert any(t.startswith("cni0 10.244.1.1/24") and "node-1" in t for t in shown)


def test_pod_marks_the_crashing_container(cluster, figures):
    fig = draw_pod(cluster, "default/two")
    figures(fig)
    crash = [t for t in fig.axes[0].texts if t.get_text().startswith("CrashLoopBackOff")]
    assert len(crash) == 1
    assert crash[0].get_text() == "CrashLoopBackOff: port already in use"


def test_pod_that_does_not_exist_is_an_error(cluster):
    with pytest.raises(kl.NotFoundError):
        draw_pod(cluster, "default/nope")


def test_cloud_band_only_when_the_cluster_has_a_cloud():
    from kubenet_lab.views.pictures import cluster_layout, draw_cluster

    plain = kl.Cluster(workers=1)
    assert ("network", "internet", "") not in cluster_layout(plain)
    c = kl.Cluster(workers=1)
    c.add_nat_gateway(public_ip="198.51.100.20")
    points = cluster_layout(c)
    assert points[("network", "internet", "")][1] < points[("network", "NAT gateway nat-gw",
                                                             "")][1]
    texts = " ".join(t.get_text() for t in draw_cluster(c).axes[0].texts)
    # the NAT gateway translates to its private address, the internet gateway to the EIP
    assert "internet gateway" in texts and "SNAT to 10.0.0.4" in texts
    assert "Elastic IP 198.51.100.20" in texts and "10.0.0.4 -> 198.51.100.20" not in texts


def test_a_node_with_a_public_ip_shows_it_in_its_header_and_others_are_unchanged():
    c = kl.Cluster(workers=1)
    before = kl.cluster_layout(c)
    texts = [t.get_text() for t in kl.draw_cluster(c).axes[0].texts]
    assert "IP 10.0.1.5 · podCIDR 10.244.1.0/24" in texts
    assert not any("public" in t for t in texts)
    c.add_node("edge", public_ip="203.0.113.10")  # first usable address: 10.0.0.4 (AWS
    texts = [t.get_text() for t in kl.draw_cluster(c).axes[0].texts]  # keeps .0-.3)
    assert "IP 10.0.0.4 · podCIDR 10.244.2.0/24" in texts  # not cut
    assert "public IP 203.0.113.10" in texts  # on a line of its own: the columns stay narrow
    assert "IP 10.0.1.5 · podCIDR 10.244.1.0/24" in texts
    assert kl.draw_cluster(c).get_figwidth() <= 3 * 2.7 + 0.3
    c2 = kl.Cluster(workers=1)
    c2.add_node("edge")  # no public IP: the picture keeps its widths
    after = kl.cluster_layout(c2)
    step = before[("node", "node-1", "eth0")][0] - before[("node", "control-plane", "eth0")][0]
    assert after[("node", "edge", "eth0")][0] - after[("node", "control-plane", "eth0")][0] in (
        pytest.approx(step), pytest.approx(2 * step))
