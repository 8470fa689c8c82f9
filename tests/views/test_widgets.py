"""Tests of kubenet_lab.views.widgets: TraceExplorer and TraceStepper."""

from __future__ import annotations

import warnings

import pytest

import kubenet_lab as kl
from kubenet_lab.views.html import hop_html, trace_html
from kubenet_lab.views.widgets import TraceExplorer, TraceStepper, figure_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def explorer(cluster: kl.Cluster) -> TraceExplorer:
    return TraceExplorer(cluster)


@pytest.fixture
def stepper(cluster: kl.Cluster) -> TraceStepper:
    return TraceStepper(cluster, cluster.trace("default/a", "default/b"))


def _controls(explorer: TraceExplorer) -> tuple:
    """source, destination, port and protocol widgets, as a user sees them."""
    return explorer.children[0].children


def _stepper_parts(stepper: TraceStepper) -> tuple:
    """back, next, slider, label, image, html."""
    back, nxt, slider, label = stepper.children[0].children
    image, panel = stepper.children[1:]
    return back, nxt, slider, label, image, panel


# --------------------------------------------------------------------------- TraceExplorer
def test_explorer_traces_the_default_pair(explorer: TraceExplorer) -> None:
    assert explorer.trace is not None
    assert explorer.trace.delivered
    assert (explorer.trace.src, explorer.trace.dst) == ("default/a", "default/b")


def test_explorer_repr_is_short_and_deterministic(cluster: kl.Cluster,
                                                  explorer: TraceExplorer) -> None:
    assert repr(explorer) == ("Trace explorer: run this cell to use it "
                              "(default/a -> default/b:80/TCP delivered)")
    assert repr(TraceExplorer(cluster)) == repr(explorer)
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == repr(explorer)


def test_explorer_dropdowns_list_pods_containers_nodes_and_localhost(
    cluster: kl.Cluster,
) -> None:
    cluster.add_pod("default/duo", node="node-1", containers=[
        kl.Container("web", ports=[80]), kl.Container("metrics", ports=[9090])])
    src, dst, _port, _protocol = _controls(TraceExplorer(cluster))
    pods = [p.ref for p in cluster.pods]
    nodes = ["control-plane", "node-1", "node-2"]
    assert list(src.options) == (
        ["default/a", "default/b", "default/duo", "default/duo/web", "default/duo/metrics"]
        + pods[3:] + nodes)
    assert list(dst.options) == pods + nodes + ["localhost"]


def test_explorer_port_and_protocol_controls(explorer: TraceExplorer) -> None:
    _src, _dst, port, protocol = _controls(explorer)
    assert (port.min, port.max, port.value) == (1, 65535, 80)
    assert list(protocol.options) == ["TCP", "UDP", "SCTP"]


def test_explorer_select_changes_the_trace_and_the_html(explorer: TraceExplorer) -> None:
    before = explorer.children[2].value
    explorer.select(port=81)
    assert explorer.trace.port == 81 and not explorer.trace.delivered
    assert explorer.children[2].value == trace_html(explorer.trace) != before
    assert repr(explorer) == ("Trace explorer: run this cell to use it "
                              "(default/a -> default/b:81/TCP refused)")


def test_explorer_select_sets_the_controls(explorer: TraceExplorer) -> None:
    explorer.select(src="node-1", dst="default/a", port=10250, protocol="UDP")
    assert [c.value for c in _controls(explorer)] == ["node-1", "default/a", 10250, "UDP"]
    assert (explorer.trace.src, explorer.trace.dst, explorer.trace.protocol) == (
        "node-1", "default/a", "UDP")


def test_explorer_select_adds_an_address_to_the_destinations(explorer: TraceExplorer) -> None:
    explorer.select(dst="8.8.8.8")
    assert _controls(explorer)[1].options[-1] == "8.8.8.8"
    assert repr(explorer) == ("Trace explorer: run this cell to use it "
                              "(default/a -> 8.8.8.8:80/TCP dropped)")


def test_explorer_reacts_to_a_control_changed_by_the_user(explorer: TraceExplorer) -> None:
    _src, _dst, port, _protocol = _controls(explorer)
    port.value = 8080
    assert explorer.trace.port == 8080
    assert "8080" in explorer.children[2].value


def test_explorer_select_traces_once(explorer: TraceExplorer,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = explorer.cluster.trace
    monkeypatch.setattr(explorer.cluster, "trace",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    explorer.select(src="default/b", dst="default/a", port=81, protocol="UDP")
    assert calls == [("default/b", "default/a")]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"src": "default/nope"}, kl.NotFoundError), ({"port": 70000}, kl.ManifestError),
     ({"protocol": "ICMP"}, kl.ManifestError)],
)
def test_explorer_select_rejects_bad_input_and_keeps_the_controls(
    explorer: TraceExplorer, kwargs: dict, error: type[Exception]
) -> None:
    before = [c.value for c in _controls(explorer)]
    with pytest.raises(error):
        explorer.select(dst="node-2", **kwargs)
    assert [c.value for c in _controls(explorer)] == before


def test_explorer_image_is_a_png(explorer: TraceExplorer) -> None:
    image = explorer.children[1]
    assert image.format == "png"
    assert bytes(image.value[:8]) == PNG_SIGNATURE


def test_explorer_uses_no_output_widget(explorer: TraceExplorer,
                                        stepper: TraceStepper) -> None:
    import ipywidgets

    def walk(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from walk(child)

    for root in (explorer, stepper):
        assert not any(isinstance(w, ipywidgets.Output) for w in walk(root))


# --------------------------------------------------------------------------- TraceStepper
def test_stepper_starts_at_the_first_hop(stepper: TraceStepper) -> None:
    back, nxt, slider, label, image, panel = _stepper_parts(stepper)
    assert stepper.step == 1
    assert (slider.min, slider.max, slider.value) == (1, 11, 1)
    assert label.value == "hop 1 of 11"
    assert panel.value == hop_html(stepper.trace, 1)
    assert bytes(image.value[:8]) == PNG_SIGNATURE


def test_stepper_next_and_back_move_one_hop(stepper: TraceStepper) -> None:
    stepper.next()
    stepper.next()
    assert stepper.step == 3
    stepper.back()
    assert stepper.step == 2
    assert _stepper_parts(stepper)[3].value == "hop 2 of 11"


@pytest.mark.parametrize(("target", "expected"), [(4, 4), (0, 1), (-5, 1), (11, 11), (99, 11)])
def test_stepper_go_clamps(stepper: TraceStepper, target: int, expected: int) -> None:
    stepper.go(target)
    assert stepper.step == expected


def test_stepper_next_stays_on_the_last_hop_and_back_on_the_first(
    stepper: TraceStepper,
) -> None:
    stepper.back()
    assert stepper.step == 1
    stepper.go(11)
    stepper.next()
    assert stepper.step == 11


@pytest.mark.parametrize(("step", "back_disabled", "next_disabled"),
                         [(1, True, False), (5, False, False), (11, False, True)])
def test_stepper_buttons_disable_at_the_ends(stepper: TraceStepper, step: int,
                                             back_disabled: bool, next_disabled: bool) -> None:
    stepper.go(step)
    back, nxt, *_ = _stepper_parts(stepper)
    assert (back.disabled, nxt.disabled) == (back_disabled, next_disabled)


def test_stepper_buttons_and_slider_move_the_step(stepper: TraceStepper) -> None:
    back, nxt, slider, *_ = _stepper_parts(stepper)
    assert (back.description, nxt.description) == ("◀ Back", "Next ▶")
    nxt.click()
    nxt.click()
    back.click()
    assert stepper.step == 2
    slider.value = 7
    assert stepper.step == 7
    assert _stepper_parts(stepper)[5].value == hop_html(stepper.trace, 7)


def test_stepper_picture_follows_the_step(stepper: TraceStepper) -> None:
    image = _stepper_parts(stepper)[4]
    first = bytes(image.value)
    stepper.go(4)
    assert bytes(image.value[:8]) == PNG_SIGNATURE
    assert bytes(image.value) != first


def test_stepper_repr_is_short_and_deterministic(cluster: kl.Cluster,
                                                 stepper: TraceStepper) -> None:
    assert repr(stepper) == ("Trace stepper: run this cell to step through it "
                             "(default/a -> default/b:80/TCP, hop 1 of 11: "
                             "send at pod default/a eth0)")  # the pod's own eth0 first
    stepper.go(4)
    assert repr(stepper) == ("Trace stepper: run this cell to step through it "
                             "(default/a -> default/b:80/TCP, hop 4 of 11: "
                             "encapsulate at node node-1 flannel.1)")  # flannel's VXLAN device
    assert stepper._repr_mimebundle_()["text/plain"] == repr(stepper)


def test_stepper_of_a_one_hop_trace_disables_both_buttons(cluster: kl.Cluster) -> None:
    trace = cluster.trace("default/a", "10.244.1.77")  # no such pod: dropped at once
    assert len(trace.hops) == 1
    back, nxt, *_ = _stepper_parts(TraceStepper(cluster, trace))
    assert back.disabled and nxt.disabled


# --------------------------------------------------------------------------- side effects
def test_widgets_print_nothing_warn_nothing_and_leave_no_figure_open(
    cluster: kl.Cluster, capfd: pytest.CaptureFixture[str]
) -> None:
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer = TraceExplorer(cluster)
        explorer.select(port=81)
        stepper = TraceStepper(cluster, explorer.trace)
        stepper.next()
    assert capfd.readouterr() == ("", "")
    assert plt.get_fignums() == []


def test_figure_png_closes_a_pyplot_figure() -> None:
    import matplotlib.pyplot as plt

    fig, _ax = plt.subplots()
    assert figure_png(fig)[:8] == PNG_SIGNATURE
    assert plt.get_fignums() == []


KERNEL_CELL = """\
import kubenet_lab as kl
from kubenet_lab.views.widgets import TraceExplorer, TraceStepper
c = kl.Cluster(workers=2)
a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
explorer = TraceExplorer(c)
explorer.select(port=81)
stepper = TraceStepper(c, c.trace("default/a", "default/b"))
stepper.next()
stepper
"""


def test_a_notebook_cell_building_widgets_outputs_only_the_widget() -> None:
    """In a real kernel (inline matplotlib backend, as in a lesson), the cell's only
    output is the widget itself: no stream, no extra figure, no warning."""
    pytest.importorskip("ipykernel")
    manager = pytest.importorskip("jupyter_client.manager")
    km, kc = manager.start_new_kernel(kernel_name="python3")
    outputs: list[dict] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
            outputs.append({"type": msg["msg_type"], **msg["content"]})

    try:
        reply = kc.execute_interactive(KERNEL_CELL, output_hook=hook, timeout=120)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", outputs
    assert [o["type"] for o in outputs] == ["execute_result"], outputs
    data = outputs[0]["data"]
    assert data["text/plain"].startswith(
        "Trace stepper: run this cell to step through it "
        "(default/a -> default/b:80/TCP, hop 2 of 11: veth at node node-1 ")
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG signature
