"""crictl pods / inspectp, and the bridge plugin's sandbox ids (containernetworking/plugins
pkg/utils/utils.go FormatChainName, FormatComment; pkg/ip/ipmasq_iptables_linux.go)."""

import hashlib
import json
import re

import kubenet_lab as kl


def bridge():
    c = kl.Cluster(workers=1, cni="bridge", cni_config={"ipMasq": True})
    c.add_pod("default/client", node="node-1")
    return c


def test_crictl_pods_columns_and_short_ids():
    out = bridge().exec("node-1", "crictl pods").splitlines()
    assert out[0].split() == ["POD", "ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT",
                              "RUNTIME"]
    row = out[1].split()
    assert re.fullmatch(r"[0-9a-f]{13}", row[0]) and row[-1] == "(default)"
    assert "client" in row and "default" in row


def test_sandbox_id_maps_iptables_comment_and_chain_to_the_pod():
    c = bridge()
    sid = c.exec("node-1", "crictl pods -q --no-trunc").splitlines()[0]
    assert re.fullmatch(r"[0-9a-f]{64}", sid)
    status = json.loads(c.exec("node-1", f"crictl inspectp {sid[:13]}"))["status"]
    assert status["id"] == sid and status["metadata"]["name"] == "client"
    assert status["metadata"]["namespace"] == "default"
    assert status["network"]["ip"] == c.pod("default/client").ip
    assert status["metadata"]["uid"] == c.get("Pod", "default/client")["metadata"]["uid"]
    chain = ("CNI-" + hashlib.sha512(("bridge" + sid).encode()).hexdigest())[:28]
    comment = f'-m comment --comment "name: \\"bridge\\" id: \\"{sid}\\""'
    rule = f"-A POSTROUTING -s {status['network']['ip']}/32 {comment} -j {chain}"
    assert rule in c.exec("node-1", "iptables-save -t nat").splitlines()


def test_crictl_is_not_in_a_pod():
    assert bridge().exec("default/client", "crictl pods") == "sh: 1: crictl: not found"
