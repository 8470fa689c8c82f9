"""Pictures follow the cluster's CNI plugin; the cluster-wide pictures draw their data."""

import pytest

import kubenet_lab as kl


def texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


@pytest.mark.parametrize("cni, mode, device", [
    ("bridge", "routed", "host routes via eth0"), ("calico", "routed", "BGP routes via eth0"),
    ("cilium", "VXLAN", "cilium_vxlan"), ("flannel", "VXLAN", "flannel.1 10.244.1.0/32")])
def test_cluster_picture_names_the_plugins_devices(cni, mode, device):
    fig = kl.draw_cluster(kl.healthy_cluster(cni))
    assert fig.axes[0].get_title().endswith(f"CNI {cni} ({mode})")
    assert device in texts(fig)


def test_pod_picture_has_no_cni0_under_calico():
    fig = kl.draw_pod(kl.healthy_cluster("calico"), "default/client")
    assert "cni0" not in texts(fig) and "proxy-ARP" in texts(fig)


def test_ipip_trace_legend_says_ip_in_ip():
    c = kl.healthy_cluster("calico", cni_config={"ipipMode": "Always"})
    fig = kl.draw_trace(c, c.trace("default/client", "default/web-2"))
    assert "IP-in-IP (protocol 4)" in texts(fig)


def test_network_model_picture_marks_the_failing_nodes():
    fig = kl.broken_cluster("missing-route").verify_network_model().draw()
    shown = texts(fig)
    assert "[FAIL] 2." in shown and "hop 5: network 10.0.1.0/24" in shown


def test_traffic_picture_labels_volumes_and_overlay_share():
    r = kl.healthy_cluster().traffic(requests=40, seed=2)
    fig = r.draw()
    assert len(fig.axes) == 2
    assert "overlay headers:" in texts(fig) and kl.human_bytes(r.overlay_total) in texts(fig)
