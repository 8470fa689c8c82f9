"""Progress bars for long work: shown by the size of the work (so a notebook's stored
outputs do not depend on the machine's speed), on standard error in a terminal, as an
ipywidgets bar in a Jupyter kernel; none for a lesson-sized cluster."""

from __future__ import annotations

import pytest

import kubenet_lab as kl
from kubenet_lab.model import progress_bar
from kubenet_lab.model.progress_bar import ProgressBar

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 12
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
"""


def test_small_work_shows_no_bar(capsys):
    c = kl.Cluster(workers=3)
    c.apply(DEPLOYMENT)
    c.iptables_save("node-1")
    assert capsys.readouterr().err == ""


def test_large_work_shows_a_bar_on_stderr(monkeypatch, capsys):
    monkeypatch.setattr(progress_bar, "SHOW_FROM", 3)
    c = kl.Cluster(workers=3)
    c.apply(DEPLOYMENT)
    c.add_service("default/web", selector={"app": "web"}, ports=[80])  # 12 endpoints
    c.iptables_save("node-1")
    assert capsys.readouterr().err.splitlines() == [  # not a terminal: one line each
        "kubeadm join: 3/3 nodes", "apply: 1/1 objects",
        "kube-proxy rules of node-1: 5/5 Service ports"]  # kubernetes, kube-dns x3, web


def test_in_a_terminal_the_bar_is_redrawn_in_place(monkeypatch, capsys):
    monkeypatch.setattr(progress_bar, "SHOW_FROM", 3)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    kl.Cluster(workers=3)
    err = capsys.readouterr().err
    assert err.startswith("\rkubeadm join: [..............................] 0/3 nodes\r")
    assert err.endswith("\rkubeadm join: [##############################] 3/3 nodes\n")


def test_a_failed_apply_says_the_bar_stopped(monkeypatch, capsys):
    monkeypatch.setattr(progress_bar, "SHOW_FROM", 10)
    c = kl.Cluster(workers=2)
    capsys.readouterr()
    with pytest.raises(kl.KubenetLabError):
        c.apply(DEPLOYMENT + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\n")
    assert capsys.readouterr().err == "apply: 1/2 objects (stopped)\n"


def test_in_a_kernel_the_bar_is_a_widget(monkeypatch):
    shown = []
    monkeypatch.setattr(progress_bar, "_in_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", shown.append)
    with ProgressBar("apply", 40, unit="objects", work=10**6) as bar:
        for _ in range(40):
            bar.advance()
    shown_as, = shown
    assert shown_as._repr_mimebundle_()["text/plain"] == "apply: 40 objects"
    progress, label = shown_as.widget.children
    assert (progress.value, progress.max, progress.bar_style) == (40, 40, "success")
    assert label.value == "40/40 objects"
