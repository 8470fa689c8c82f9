"""The lab's scheduler: among the nodes a pod tolerates and that have room under
kubelet's maxPods, the one with the fewest pods, natural name order breaking ties; the
control plane's ``node-role.kubernetes.io/control-plane:NoSchedule`` taint (kubeadm)
keeps pods off it. Checked against that rule written as a plain scan, over a random
history of creations, deletions, placements by hand, nodes joining and failed applies."""

from __future__ import annotations

import random

import pytest

import kubenet_lab as kl
from kubenet_lab.model.names import natural_key


def _rule(c: kl.Cluster) -> str | None:
    fit = [n for n in c.nodes if not n.taints and len(c.pods_on(n.name)) < c.max_pods]
    if not fit:
        return None
    return min(fit, key=lambda n: (len(c.pods_on(n.name)), natural_key(n.name))).name


@pytest.mark.parametrize("seed", range(4))
def test_each_placement_is_the_least_loaded_node(seed):
    rng = random.Random(seed)
    c = kl.Cluster(workers=6)
    made = 0
    for step in range(300):
        roll = rng.random()
        pods = [p for p in c.pods if p.namespace == "default"]
        if roll < 0.15 and pods:
            c.delete_pod(rng.choice(pods).ref)
        elif roll < 0.2:
            c.add_pod(f"default/x{made}", node=f"node-{rng.randint(1, 6)}")
            made += 1
        elif roll < 0.22 and len(c.nodes) < 10:
            c.add_node(f"node-{len(c.nodes)}")
        elif roll < 0.25:
            bad = {"kind": "List", "items": [
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"y{step}"},
                 "spec": {"containers": [{"name": "a", "image": "nginx"}]}},
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name"}}]}
            with pytest.raises(kl.KubenetLabError):
                c.apply(bad)  # the first pod was scheduled, then rolled back
        else:
            expected = _rule(c)
            pod = c.add_pod(f"default/p{made}")
            made += 1
            assert pod.node == expected, step


def test_a_full_node_is_passed_over_and_a_full_cluster_says_why():
    c = kl.Cluster(workers=2)
    for i in range(c.max_pods):
        c.add_pod(f"default/a{i}", node="node-1")
    assert c.add_pod("default/b").node == "node-2"
    for i in range(c.max_pods - 1):
        c.add_pod(f"default/c{i}")
    with pytest.raises(kl.UnschedulableError, match=r"0/3 nodes are available: "
                       r"2 node\(s\) Too many pods, 1 node\(s\) had untolerated taint"):
        c.add_pod("default/d")
    c.delete_pod("default/a0")
    assert c.add_pod("default/e").node == "node-1"
