"""A Node's spec.podCIDR as a real API server takes it (issue 13, item 8): only its syntax
is validated (pkg/apis/core/validation ``ValidateNode``); kube-controller-manager's node
IPAM avoids overlaps only among the CIDRs it allocates, and marks a given one used without
checking (pkg/controller/nodeipam/ipam/cidrset ``Occupy``: "Occupy succeeds even if the
CIDR range was previously used")."""

import pytest

import kubenet_lab as kl


def _node(name, cidr):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "spec": {"podCIDR": cidr}}


def test_an_overlapping_pod_cidr_is_accepted():
    c = kl.Cluster(workers=2)
    c.apply(_node("node-3", c.node("node-2").pod_cidr))
    assert c.node("node-3").pod_cidr == c.node("node-2").pod_cidr == "10.244.2.0/24"
    report = c.verify_network_model()
    assert not report.ok  # the lab still reports the overlap (rule 1)


def test_the_allocator_skips_blocks_in_use():
    c = kl.Cluster(workers=1)
    c.apply(_node("node-5", "10.244.2.0/24"))
    c.add_node("node-6")
    assert c.node("node-6").pod_cidr == "10.244.3.0/24"


def test_an_invalid_pod_cidr_is_still_refused():
    c = kl.Cluster(workers=1)
    with pytest.raises(kl.ManifestError, match="spec.podCIDR"):
        c.apply(_node("node-3", "10.244.2.0/33"))
