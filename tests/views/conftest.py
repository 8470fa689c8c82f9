"""Shared fixtures of the view tests: two pods on two workers, and the trace between them."""

import pytest

import kubenet_lab as kl


@pytest.fixture
def cluster() -> kl.Cluster:
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-2")
    return c


@pytest.fixture
def cross(cluster: kl.Cluster) -> kl.Trace:
    """default/a (node-1) -> default/b (node-2): through flannel's VXLAN overlay."""
    return cluster.trace("default/a", "default/b", port=80)
