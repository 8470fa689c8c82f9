"""Exercises of lesson 08, networking tools and troubleshooting.

Each troubleshooting exercise is checked against the broken cluster the learner works
on, and its hints read that cluster's state (routes, podCIDRs, pod addresses, nat
rules, kernel modules and sysctls) to point at the tool that shows what is wrong.

Exercise 8.1 asks about the plugins as the lab models them. Cilium replaces kube-proxy
with ``kubeProxyReplacement: true`` (cilium/cilium
Documentation/network/kubernetes/kubeproxy-free.rst). Calico's eBPF data plane has
"native support for Kubernetes services (without needing kube-proxy)" too
(docs.tigera.io/calico/latest/operations/ebpf/enabling-ebpf), but the lab models Calico
v3.30's iptables data plane (the operator's ``linuxDataplane: Iptables``), which leaves
Services to kube-proxy.
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network
from typing import Any

from kubenet_lab.cluster import Cluster
from kubenet_lab.dataplane.cni.bridge import cni_chain
from kubenet_lab.dataplane.tables import Dataplane
from kubenet_lab.exercises.base import Check, Exercise
from kubenet_lab.scenarios import broken_cluster

__all__ = ["EXERCISES"]


def _missing(cluster: Cluster) -> list[tuple[str, str]]:
    """(node, podCIDR) pairs where the node has no route for another node's block."""
    dp = cluster.dataplane()
    found = []
    for node in cluster.nodes:
        table = {r.dst for r in dp.node_routes(node)}
        for other in cluster.nodes:
            if other.name != node.name and other.pod_cidr not in table:
                found.append((node.name, other.pod_cidr))
    return found


def _route_hint(answer: Any, c: Cluster) -> str:
    if not (isinstance(answer, tuple) and len(answer) == 2):
        return "Answer with a tuple (node name, podCIDR), e.g. ('node-9', '10.244.9.0/24')."
    node, cidr = answer
    names = {n.name for n in c.nodes}
    if node not in names:
        return f"{node!r} is no node here: kubectl get nodes lists them."
    wrong = [(n, x) for n, x in _missing(c) if n == node]
    if not wrong:
        return (f"{node}'s routing table has a route for every other node's podCIDR: run "
                "c_lab_a.exec(<node>, 'ip route') on each node and compare.")
    if "/" not in str(cidr) and any(x.split("/")[0] == str(cidr) for _, x in wrong):
        return ("Right node, right block: write it with its prefix length, as ip route and "
                "the Node's spec.podCIDR print it.")
    if cidr == c.node(node).pod_cidr:
        return (f"Right node, but {cidr} is {node}'s own block: it is on cni0. Which other "
                "node's block has no line in its 'ip route'?")
    return (f"Right node. Which block has no line in {node}'s 'ip route'? Compare with the "
            "podCIDRs of the other nodes (traceroute from a pod shows where packets go).")


def _overlap_hint(answer: Any, c: Cluster) -> str:
    if not isinstance(answer, set | frozenset | tuple | list) or len(answer) != 2:
        return "Answer with a set of two node names, e.g. {'node-1', 'node-9'}."
    cidrs = {n.name: n.pod_cidr for n in c.nodes}
    unknown = [a for a in answer if a not in cidrs]
    if unknown:
        return f"{unknown[0]!r} is no node here."
    a, b = sorted(answer)
    return (f"{a} has {cidrs[a]} and {b} has {cidrs[b]}: those do not overlap. Look at "
            "every node's podCIDR (the lesson prints them) and at which node a traceroute "
            "from a pod ends on.")


def _wrong_pod(c: Cluster) -> list[str]:
    return [p.ref for p in c.pods
            if IPv4Address(p.ip) not in ip_network(c.node(p.node).pod_cidr)]


def _pod_hint(answer: Any, c: Cluster) -> str:
    text = str(answer).strip()
    if "/" not in text:
        named = sorted(p.namespace for p in c.pods if p.name == text)
        where = (f" (a pod {text} runs in namespace {', '.join(named)})" if named else "")
        return ("Answer with the namespace too, as 'namespace/name'" + where
                + ": kubectl get pods -A -o wide lists both.")
    try:
        pod = c.pod(text)
    except Exception:  # noqa: BLE001 - any unknown name
        return (f"There is no pod {text}: kubectl get pods -A -o wide lists them, as "
                "'namespace/name'.")
    return (f"{pod.ref} has {pod.ip} on {pod.node}, whose podCIDR is "
            f"{c.node(pod.node).pod_cidr}: that fits. Compare each pod's IP with its NODE's "
            "podCIDR in kubectl get pods -o wide.")


def _masq_chain(c: Cluster) -> str:
    return cni_chain(c.pod("default/client"))


def _chain_hint(answer: Any, c: Cluster) -> str:
    text = str(answer).strip()
    client = c.pod("default/client")
    others = {cni_chain(p): p.ref for p in c.pods_on(client.node) if p.ref != client.ref}
    if text == "POSTROUTING":
        return ("POSTROUTING only jumps: find the rule with -s <client's IP>/32 and the chain "
                "it jumps to (-j ...).")
    if text in others:
        return (f"That is the chain of {others[text]}, another pod: match client's address "
                f"({client.ip}) in the -s of the POSTROUTING rules.")
    if text.startswith("CNI-"):
        return ("node-1 has no chain of that name: copy it from the -j of client's "
                "POSTROUTING rule (c_masq.exec('node-1', 'iptables -t nat -S POSTROUTING')).")
    if text == "KUBE-POSTROUTING":
        return ("kube-proxy's KUBE-POSTROUTING masquerades only the packets its Service rules "
                "marked (0x4000), and this one went to a pod's own address.")
    if text == "MASQUERADE":
        return "MASQUERADE is the target; the question is the chain whose rule has it."
    return ("Look at c_masq.exec('node-1', 'iptables -t nat -S POSTROUTING'): which chain "
            "does the rule for client's address jump to?")


_KEY = "net.bridge.bridge-nf-call-iptables"


def _bridge_problem(c: Cluster) -> str | None:
    """The first worker whose bridged frames skip iptables, and why (None: none)."""
    rt = c.runtime
    for node in c.nodes:
        if not rt.module_loaded(node.name, "br_netfilter"):
            return (f"{node.name} still has no br_netfilter: c_br.exec('{node.name}', "
                    f"'sysctl {_KEY}') says 'cannot stat', the key exists only while the "
                    "module is loaded (sysctl -w cannot create it). Load the module with "
                    "modprobe.")
        if not rt.bridge_nf_call_iptables(node.name):
            return (f"br_netfilter is loaded on {node.name}, but {_KEY} = 0 there: frames "
                    "bridged on cni0 still skip iptables. Set it to 1 with sysctl -w.")
        if not rt.ip_forward(node.name):
            return (f"net.ipv4.ip_forward = 0 on {node.name}: it no longer forwards at all. "
                    "Set it back to 1.")
    return None


def _local_endpoints(c: Cluster) -> list[str]:
    """The ready pods behind default/web on the client's node."""
    node = c.pod("default/client").node
    selector = c.service("default/web").selector or {}
    return [p.ref for p in c.pods if p.node == node and p.ready and selector
            and all(p.labels.get(k) == v for k, v in selector.items())]


def _local_trace_ok(c: Cluster) -> bool:
    """A connection from client to the ClusterIP that kube-proxy sends to the endpoint on
    client's own node is delivered (walked on a fork: the learner's cluster keeps its
    random choices and conntrack table)."""
    dp = c.dataplane()
    scratch = Dataplane(dp.view, dp.runtime.fork())
    from kubenet_lab.walk.trace import trace

    vip = c.service("default/web").cluster_ip
    local = set(_local_endpoints(c))
    for _ in range(60):
        t = trace(scratch, "default/client", vip)
        if t.destination_pod in local:
            return t.delivered
    return False


def _br_hint(answer: Any, c: Cluster) -> str:
    problem = _bridge_problem(c) or ""
    node = c.pod("default/client").node
    if problem.startswith(f"{node} still has no br_netfilter"):
        return ("The Service works from the pods of other nodes but not from client's: look "
                f"at the node client runs on (kubectl get pods -o wide) and compare 'sysctl "
                f"{_KEY}' there with another node's. " + problem)
    return problem


def _endpoint_hint(answer: Any, c: Cluster) -> str:
    return ("default/web has no endpoint on client's node any more: moving web-1 away (or "
            "changing its labels) hides the fault, it does not fix the node. Put web-1 back "
            "on node-1 with app=web: kubectl get endpointslices -l "
            "kubernetes.io/service-name=web should list 10.244.1.3 again.")


_PLUGINS = ("bridge", "flannel", "calico", "cilium")


def _proxy_hint(answer: Any, c: Any) -> str:
    name = answer[0]
    if not isinstance(name, str):
        return "The first item is one plugin's name, as kl.Cluster(cni=...) takes it."
    if name.strip().lower() == "cilium":
        return "Write the name as kl.Cluster(cni=...) takes it: 'cilium', in lower case."
    if name == "calico":
        return ("Calico's eBPF data plane can replace kube-proxy, but the lab models its "
                "iptables data plane, which leaves Services to kube-proxy (section 1's "
                "table, column Services). Which plugin has a cni_config option for it?")
    if name in ("flannel", "bridge"):
        return (f"{name} connects pods and nothing more: Services stay with kube-proxy on "
                "its nodes. Which plugin can resolve Services itself, in eBPF?")
    return f"{name!r} is none of the lab's plugins: {', '.join(_PLUGINS)}."


def _policy_hint(answer: Any, c: Any) -> str:
    names = answer[1]
    if isinstance(names, str) or not isinstance(names, set | frozenset | list | tuple):
        return "The second item is a set of names, e.g. {'bridge', 'flannel'}."
    unknown = sorted(str(n) for n in names if n not in _PLUGINS)
    if unknown:
        return f"{unknown[0]!r} is none of the lab's plugins: {', '.join(_PLUGINS)}."
    wrong = sorted(set(names) & {"bridge", "flannel"})
    if wrong:
        verbs = ("connects", "does") if len(wrong) == 1 else ("connect", "do")
        return (f"{' and '.join(wrong)} {verbs[0]} pods but {verbs[1]} not implement "
                "NetworkPolicy: the API accepts policies, and they have no effect.")
    return ("One more of the four enforces NetworkPolicy itself (section 1's table, column "
            "NetworkPolicy).")


EXERCISES = [
    Exercise(
        "8.1",
        "Of the lab's four CNI plugins, as section 1 describes them, which one can replace "
        "kube-proxy (when installed with that option), and which ones enforce "
        "NetworkPolicy? Answer with a tuple (name, set of names).",
        checks=[
            Check(lambda a, c: isinstance(a, tuple) and len(a) == 2,
                  "Answer with a tuple: ('plugin', {'plugin', ...})."),
            Check(lambda a, c: a[0] == "cilium", _proxy_hint),
            Check(lambda a, c: set(a[1]) == {"calico", "cilium"}, _policy_hint),
        ],
        explanation="Cilium can replace kube-proxy (kubeProxyReplacement: true; on kubeadm it "
        "keeps kube-proxy by default and only load-balances pods' ClusterIP traffic in eBPF) "
        "and enforces policy; Calico enforces policy (felix) and, with the iptables data "
        "plane the lab models, leaves Services to kube-proxy (its eBPF data plane, which the "
        "lab does not model, would replace kube-proxy too); flannel and the bridge plugin do "
        "neither, so a cluster with them needs another policy engine.",
        solution="answer = ('cilium', {'calico', 'cilium'})",
    ),
    Exercise(
        "8.2",
        "Lab A: in c_lab_a, pods on one node cannot reach the pods of one other node. Which "
        "node lacks a route, and to which podCIDR? Answer (node, podCIDR).",
        checks=[Check(lambda a, c: tuple(a) in _missing(c), _route_hint)],
        explanation="The bridge plugin relies on one host route per other node; the node "
        "without it sends those packets to its default route, and the VPC router drops "
        "them. ip route on each node shows the gap; traceroute stops after the first hop.",
        solution="answer = ('node-1', '10.244.2.0/24')",
    ),
    Exercise(
        "8.3",
        "Lab B: in c_lab_b, web-3 is unreachable from everywhere but its own node. Which "
        "two nodes were given the same podCIDR? Answer with a set of two node names.",
        checks=[Check(lambda a, c: set(a) == {n for pair in [
            (x.name, y.name) for x in c.nodes for y in c.nodes
            if x.name < y.name and ip_network(x.pod_cidr).overlaps(ip_network(y.pod_cidr))]
            for n in pair}, _overlap_hint)],
        explanation="Two nodes with one block: both hand out its addresses, and every other "
        "node can hold only one route for it, so traffic for the second node's pods lands on "
        "the first, which has no such pod.",
        solution="answer = {'node-2', 'node-3'}",
    ),
    Exercise(
        "8.4",
        "Lab C: in c_lab_c one pod has an address from another node's podCIDR. Which pod? "
        "Answer 'namespace/name'.",
        checks=[Check(lambda a, c: str(a) in _wrong_pod(c), _pod_hint)],
        explanation="Routes send each block to the node that owns it, so a pod holding an "
        "address of node-1's block while running on node-2 never receives anything: packets "
        "for it go to node-1. Its own outgoing traffic even gets masqueraded by flannel, "
        "whose rules do not treat its address as local.",
        solution="answer = 'default/web-2'",
    ),
    Exercise(
        "8.5",
        "Lab D: in c_masq, which iptables chain on node-1 masquerades the traffic of "
        "default/client? Answer with the chain's name.",
        checks=[Check(lambda a, c: str(a) == _masq_chain(c), _chain_hint)],
        explanation="With ipMasq the bridge plugin adds, per pod, POSTROUTING -s <pod IP>/32 "
        "-j CNI-<hash>, and that chain ACCEPTs only the node's own podCIDR before "
        "MASQUERADE: every other destination, other nodes' pods included, sees the node's "
        "address.",
        solution="# c_masq.exec('node-1', 'iptables -t nat -S POSTROUTING') has the rule\n"
        "# '-A POSTROUTING -s 10.244.1.2/32 ... -j CNI-...' for client's address:\n"
        "answer = 'CNI-1f5372d7c743764ef404b61c'",
    ),
    Exercise(
        "8.6",
        "Lab E: in c_br, default/client cannot always reach the Service web, while pods on "
        "other nodes can. Repair the node with c_br.exec(<node>, ...) so that a "
        "connection from client to web's ClusterIP is delivered whichever endpoint "
        "kube-proxy picks, web-1 on client's own node included. Set answer = 'done'.",
        checks=[
            Check(lambda a, c: bool(_local_endpoints(c)), _endpoint_hint),
            Check(lambda a, c: _bridge_problem(c) is None, _br_hint),
            Check(lambda a, c: _local_trace_ok(c),
                  "The node's settings look right, but a trace from client to the ClusterIP "
                  "that lands on web-1 still fails: print(c_br.trace('default/client', "
                  "'web')) until it picks web-1, and read its reply hops."),
        ],
        explanation="Without br_netfilter, frames that cni0 bridges never pass iptables or "
        "conntrack. client's request to the ClusterIP is routed (it leaves the bridge for the "
        "node's stack, where kube-proxy DNATs it to web-1), but web-1's reply to client is "
        "bridged straight back on cni0: nothing un-DNATs it, so it arrives from 10.244.1.3 "
        "instead of the ClusterIP and client's socket drops it. From another node the reply "
        "is routed through node-1's stack and un-DNATed. kubeadm stopped checking for the "
        "module in 1.30; flannel still needs it: load it at boot "
        "(/etc/modules-load.d/k8s.conf) and set net.bridge.bridge-nf-call-iptables = 1 in "
        "/etc/sysctl.d.",
        solution="print(c_br.exec('node-1', 'sysctl net.bridge.bridge-nf-call-iptables'))  "
        "# cannot stat: no module\n"
        "c_br.exec('node-1', 'modprobe br_netfilter')\n"
        "print(c_br.exec('node-1', 'sysctl net.bridge.bridge-nf-call-iptables'))  # = 1\n"
        "answer = 'done'",
        cluster_setup=lambda: broken_cluster("no-br-netfilter"),
    ),
]
