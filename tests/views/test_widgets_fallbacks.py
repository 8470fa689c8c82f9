"""What the lab's widgets leave behind for a viewer without a kernel, and the policy
playground's stale result.

A widget's display bundle holds the widget view, ``text/plain`` (what JupyterLab writes in
its place until the model exists, and with "Model not found for this kernel:" when no
kernel runs: jupyterlab_widgets ``src/renderer.ts``) and ``image/png`` (what nbconvert's
HTML and PDF show when the notebook stores no widget state:
``nbconvert/filters/widgetsdatatypefilter.py`` skips the view and the priority list puts
``image/png`` before ``text/plain``).
"""

from __future__ import annotations

import base64

import pytest

import kubenet_lab as kl
from kubenet_lab.views.widgets import figure_png

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

DENY_B = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-b, namespace: default}
spec: {podSelector: {matchLabels: {app: b}}}
"""
INVALID = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\n" \
          "spec: {podSelector: {matchLabels: [1]}}"


def _png(bundle: dict) -> bytes:
    return base64.b64decode(bundle["image/png"])


@pytest.fixture
def policed() -> kl.Cluster:
    c = kl.Cluster(workers=1, network_policy="kube-network-policies")
    c.add_pod("default/a", labels={"app": "a"})
    c.add_pod("default/b", labels={"app": "b"})
    return c


def test_the_explorer_bundle_carries_the_picture_it_shows(cluster: kl.Cluster) -> None:
    explorer = kl.TraceExplorer(cluster)
    bundle = explorer._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and bundle["text/plain"] == repr(explorer)
    assert bundle["text/plain"].startswith("Trace explorer: run this cell to use it (")
    assert _png(bundle)[:8] == PNG_SIGNATURE
    assert _png(bundle) == explorer.children[1].value == figure_png(
        kl.draw_trace(cluster, explorer.trace))


def test_the_stepper_bundle_follows_the_step(cluster: kl.Cluster) -> None:
    trace = cluster.trace("default/a", "default/b")
    stepper = kl.TraceStepper(cluster, trace)
    first = _png(stepper._repr_mimebundle_())
    stepper.next()
    bundle = stepper._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Trace stepper: run this cell to step through it (")
    assert _png(bundle) != first
    assert _png(bundle) == figure_png(kl.draw_trace(cluster, trace, step=2))


def test_the_bundles_are_the_same_for_the_same_cluster(cluster: kl.Cluster) -> None:
    """Deterministic: only the widget's model id (which nbval skips) differs."""
    def bundle(c: kl.Cluster) -> dict:
        b = kl.TraceExplorer(c)._repr_mimebundle_()
        b.pop(WIDGET_VIEW)
        return b

    other = kl.Cluster(workers=2)
    other.add_pod("default/a", node="node-1")
    other.add_pod("default/b", node="node-2")
    assert bundle(cluster) == bundle(other)


def test_an_explorer_that_cannot_trace_leaves_text_only(cluster: kl.Cluster) -> None:
    explorer = kl.TraceExplorer(cluster)
    cluster.delete("Pod", "default/b")
    explorer.select(port=81)  # traces again, towards a pod that is gone
    bundle = explorer._repr_mimebundle_()
    assert "not traced" in bundle["text/plain"] and "image/png" not in bundle


def test_the_playground_bundle_carries_its_heatmap(policed: kl.Cluster) -> None:
    pg = kl.PolicyPlayground(policed, {"deny b": DENY_B})
    bundle = pg._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Policy playground: run this cell to edit the policy (")
    assert _png(bundle) == figure_png(kl.draw_reachability(pg.reachability))


def test_invalid_yaml_keeps_the_last_heatmap_and_says_so_above_it(policed: kl.Cluster) -> None:
    pg = kl.PolicyPlayground(policed, {"deny b": DENY_B, "nothing": ""})
    status, image = pg.children[2], pg.children[3].children[0]
    heatmap, table = image.value, pg.children[3].children[1].value
    assert not pg.stale and "last valid policy" not in status.value
    pg.edit(INVALID)
    assert pg.stale and pg.reachability is None
    assert image.value == heatmap and pg.children[3].children[1].value == table  # kept
    notice, error = status.value.split("</div>", 1)
    assert "still those of the last valid policy" in notice
    assert "NetworkPolicy default/deny-b" in notice  # which policy the picture is of
    assert "matchLabels" in error  # the API server's complaint comes after the notice
    assert _png(pg._repr_mimebundle_()) == heatmap
    pg.select("nothing")
    assert not pg.stale and "last valid policy" not in status.value
    assert image.value != heatmap


def test_invalid_yaml_from_the_start_has_no_picture_to_call_stale(policed: kl.Cluster) -> None:
    pg = kl.PolicyPlayground(policed, {"broken": INVALID})
    assert not pg.stale and pg.reachability is None
    assert "last valid policy" not in pg.children[2].value
    bundle = pg._repr_mimebundle_()
    assert "image/png" not in bundle and "(the YAML is not applied)" in bundle["text/plain"]
