"""kubenet_lab.linux: the lab against the real kernel.

The facts asserted come from the kernel and the tools, not from the code's output:
an interface name holds at most 15 characters (IFNAMSIZ 16 with its NUL,
include/uapi/linux/if.h; ``dev_valid_name`` in net/core/dev.c); creating network
namespaces needs root (CAP_SYS_ADMIN); a namespace's devices and routes are its own
(network_namespaces(7)), so building and tearing a lab down leaves the host's ``ip
link`` and ``ip route`` as they were. The realize test runs only as root on Linux with
iproute2, iptables and nftables installed, and is skipped elsewhere with the reason.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys

import pytest

import kubenet_lab as kl
from kubenet_lab.linux import netns

# the module (the package's ``compare`` is its function)
cmp = importlib.import_module("kubenet_lab.linux.compare")

IFNAMSIZ = 16  # include/uapi/linux/if.h, with the terminating NUL


# ---------------------------------------------------------------------- the error path
def test_not_linux_is_refused_with_what_is_needed(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(kl.LinuxUnavailableError, match="Linux") as err:
        netns.require()
    assert isinstance(err.value, kl.KubenetLabError)


def test_not_root_is_refused_with_what_is_needed(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(kl.LinuxUnavailableError, match="root"):
        netns.require()


def test_a_missing_tool_names_its_package(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == "nft" else "/x")
    with pytest.raises(kl.LinuxUnavailableError, match="apt-get install -y nftables"):
        netns.require()


def test_realize_checks_before_it_makes_anything(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    made = []
    monkeypatch.setattr(netns.Runner, "add_netns", lambda self, ns: made.append(ns))
    with pytest.raises(kl.LinuxUnavailableError):
        with kl.linux.realize(kl.Cluster(workers=1)):
            pass  # pragma: no cover
    assert made == []


def test_only_the_labs_namespaces_are_ever_entered():
    with pytest.raises(kl.LinuxUnavailableError, match="not one of the lab's"):
        netns.Runner().run("default", ["true"])
    assert netns.cleanup(["default", "host"]) == []  # never deletes another namespace


def test_main_reports_the_error_with_exit_code_2(monkeypatch, capsys):
    from kubenet_lab.__main__ import main

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["linux-check"]) == 2
    assert "root" in capsys.readouterr().err


# ---------------------------------------------------------------------- names
@pytest.mark.parametrize("name", [
    "veth1a2b3c4d", "eth0", "flannel.1", "vpc-node-1", "vpc-a-very-long-node-name",
    "vpc-ip-10-0-1-5.eu-west-1.compute.internal"])
def test_interface_names_fit_ifnamsiz(name):
    short = netns.short_name(name)
    assert len(short) <= IFNAMSIZ - 1
    assert short == netns.short_name(name)  # stable
    if len(name) <= IFNAMSIZ - 1:
        assert short == name  # a name that fits is kept as it is


def test_long_names_sharing_a_prefix_stay_distinct():
    names = [f"vpc-worker-node-{i}" for i in range(200)]
    assert len({netns.short_name(n) for n in names}) == len(names)


def test_namespace_names():
    assert netns.node_netns("node-1") == "kln-node-1"
    assert netns.pod_netns("default", "a") == "klp-default-a"
    long = netns.pod_netns("ns" * 100, "pod" * 100)
    assert len(long) <= 255 and long.startswith("klp-")  # NAME_MAX of /run/netns


# ---------------------------------------------------------------------- the probe set
def _cluster() -> kl.Cluster:
    from kubenet_lab.linux.check import add_workload

    return add_workload(kl.Cluster(workers=2))


def test_default_probes_cover_every_class():
    c = _cluster()
    probes = cmp.default_probes(c)
    labels = " | ".join(p.label for p in probes)
    for want in ("pod to pod, same node", "pod to pod, cross node", "node to pod",
                 "pod to ClusterIP", "NodePort (Cluster) from the node itself",
                 "NodePort (Cluster) from outside", "NodePort (Local) from outside",
                 "closed port", "localhost inside a pod", "ping", "DNS ClusterIP, UDP"):
        assert want in labels, want
    same = next(p for p in probes if p.label == "pod to pod, same node")
    assert c.pod(same.src).node == c.pod(same.dst).node
    cross = next(p for p in probes if p.label == "pod to pod, cross node")
    assert c.pod(cross.src).node != c.pod(cross.dst).node
    closed = next(p for p in probes if "closed port" in p.label)
    assert c.pod(closed.dst).listener(closed.port, "TCP") is None
    local = next(p for p in probes if "localhost" in p.label)
    assert local.dst == "localhost" and local.src.count("/") == 2
    # a NodePort is probed at each worker's own address
    np = c.service("default/web").ports[0].node_port
    assert {p.dst for p in probes if p.port == np and p.src == "outside"} == {
        c.node("node-1").ip, c.node("node-2").ip}


def test_the_standard_check_has_at_least_40_probes():
    from kubenet_lab.linux.check import standard_clusters

    total = sum(len(cmp.default_probes(build())) for _, build in standard_clusters())
    assert total >= 40


def test_a_comparison_compares_outcome_pod_and_source():
    probe = cmp.Probe("default/a", "default/b", 80, "TCP", "pod to pod")
    got = cmp.Answer("delivered", "default/b", "10.244.1.2", "")
    masq = cmp.Answer("delivered", "default/b", "10.0.1.5", "")
    dropped = cmp.Answer("dropped", None, None, "timeout")
    assert cmp.Comparison("c", probe, (got,), (got,)).agree
    assert cmp.Comparison("c", probe, (got,), (masq,)).differences == ("source IP",)
    assert "outcome" in cmp.Comparison("c", probe, (got,), (dropped,)).differences
    ping = cmp.Probe("default/a", "default/b", 0, "ICMP", "ping")
    assert cmp.Comparison("c", ping, (got,), (cmp.Answer("delivered", None, None, ""),)).agree
    report = cmp.CompareReport([cmp.Comparison("c", probe, (got,), (masq,))])
    assert str(report).splitlines()[-1] == "linux check: 1 probes, 0 agree"


# ---------------------------------------------------------------------- on the kernel
def _can_realize() -> str | None:
    try:
        netns.require()
    except kl.LinuxUnavailableError as err:
        return str(err)
    return None


def _host_state() -> tuple[str, str]:
    def run(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout

    return run("ip", "-o", "link"), run("ip", "route")


@pytest.mark.skipif(_can_realize() is not None, reason=f"needs {_can_realize()}")
def test_realize_probe_and_teardown_leave_the_host_alone():
    before = _host_state()
    c = kl.Cluster(workers=1)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-1")
    with kl.linux.realize(c) as lab:
        assert set(lab.namespaces.values()) <= set(netns.lab_namespaces())
        ok = lab.probe("default/a", "default/b", 80)
        assert ok.connected and ok.responder == "default/b"
        assert ok.source_ip_seen == c.pod("default/a").ip  # same node: no NAT
        assert not lab.probe("default/a", "default/b", 81).connected  # nothing listens
    assert netns.lab_namespaces() == []
    assert _host_state() == before


@pytest.mark.skipif(_can_realize() is not None, reason=f"needs {_can_realize()}")
def test_an_error_inside_the_block_still_tears_down():
    c = kl.Cluster(workers=1)
    with pytest.raises(KeyboardInterrupt):
        with kl.linux.realize(c):
            raise KeyboardInterrupt
    assert netns.lab_namespaces() == []
