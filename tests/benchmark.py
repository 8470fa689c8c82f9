"""Benchmark figures asked for by the issues (a script, not a test).

Run:  python tests/benchmark.py
      python tests/benchmark.py --compare OTHER_CHECKOUT   (issue 9: before and after)

Prints:
- the time of ``import kubenet_lab`` in a fresh interpreter (median of 5, minus the
  interpreter's own start-up);
- the time to build a 100-node cluster with 3,000 pods;
- the median time of one cross-node pod-to-pod trace in that cluster;
- ``verify_network_model()`` on that cluster: healthy, then with one node's route to
  another node's podCIDR deleted (``ip route del``), with the number of traces each used;
- ``traffic()`` of 500 random flows in that cluster.
- the network-policy truth table (``Cluster.reachability``) for 1,000 pods in 50
  namespaces with 200 NetworkPolicies on one port, and the pod pairs per second.
- building a cluster with 10,000 Services of 5 endpoints each (issue 4: the size where
  iptables mode starts to hurt), rendering ``iptables_save`` for one node, rendering it
  again for a second node, and the median time of one trace to a cluster IP there.
- issue 5: in a 100-node cluster with 3,000 pods, a NAT gateway, a cloud load balancer and
  an ingress controller: applying 500 Ingresses, and the median egress trace, internet to
  LoadBalancer trace and HTTP trace through the Ingress controller; and lesson 05's
  internet-traffic picture (60 clients on eTP Cluster and Local, drawn and rendered to PNG).
- issue 11: in that cluster with Envoy Gateway: applying 10 Gateways with 500 HTTPRoutes
  (50 per Gateway, each with its own hostname and path rule) in one request, and the median
  HTTP trace through a Gateway to its last route; the same with 50 routes, for the growth.
  ``--gateway`` prints only these.
- issue 12: ``nft list table ip kube-proxy`` at 10,000 Services x 5 endpoints on a first
  and a second node, and the median trace to a ClusterIP at 10 and at 10,000 Services in
  each kube-proxy mode, with the rules the first packet meets. ``--nftables``.

- issue 16: ``--scale``: the documented large-cluster limits against a small cluster, in one
  run, each size in its own interpreter (so its peak memory is its own): 100 nodes, 3,000
  pods, 200 Services and 5,000 nodes, 150,000 pods, 10,000 Services (Deployments of 150
  replicas, ten Services selecting each). Build cost per pod, the median pod-to-pod and
  ClusterIP traces, ``iptables_save`` on a first and a second node, ``nft list table ip
  kube-proxy`` (the same workload in nftables mode), ``verify_network_model``, the peak
  memory, and the ratios large/small; then ``tests/benchmark_policies.py``'s truth table
  with 2,000 NetworkPolicies over 150,000 pods, checked pair by pair on 100,000 pairs.
  ``--scale-size SIZE MODE`` prints one size's figures in one kube-proxy mode as JSON
  (what ``--scale`` runs four times).

``--compare`` runs the redesign's figures (issue 9) for another checkout (say, a ``git
worktree`` of the commit before) and for this one, each in a fresh interpreter,
alternating between the two, and prints a table of the medians and their ratios; ``import
kubenet_lab`` runs with bytecode caching as a learner's Python has it.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: The source tree to measure (``--tree``; this checkout by default).
TREE = Path(os.environ.get("KUBENET_LAB_TREE", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(TREE))


def _fresh(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(TREE)!r}); {code}"],
                   check=True)
    return time.perf_counter() - start


def import_time(runs: int = 5) -> float:
    base = statistics.median(_fresh("pass") for _ in range(runs))
    full = statistics.median(_fresh("import kubenet_lab") for _ in range(runs))
    return full - base


def build(nodes: int = 100, pods: int = 3000):
    import kubenet_lab as kl

    kl.Cluster()  # the modules load on first use: outside the timing
    start = time.perf_counter()
    c = kl.Cluster(workers=nodes - 1)
    for i in range(pods):
        c.add_pod(f"default/pod-{i}")
    return c, time.perf_counter() - start


def trace_median(c, runs: int = 200) -> float:
    pods = [p for p in c.pods if p.namespace == "default"]
    times = []
    for i in range(runs):
        a = pods[i % len(pods)]
        b = next(p for p in pods[(i * 7 + 1) % len(pods):] + pods if p.node != a.node)
        start = time.perf_counter()
        t = c.trace(a.ref, b.ref, port=80)
        times.append(time.perf_counter() - start)
        assert t.delivered and len(t.nodes) == 2
    return statistics.median(times)


def policy_cluster(namespaces: int = 50, pods_per_ns: int = 20, policies: int = 200):
    """1,000 pods in 50 namespaces, 200 NetworkPolicies (4 per namespace) of mixed kinds."""
    import kubenet_lab as kl

    c = kl.Cluster(workers=10, network_policy="kube-network-policies")
    apps = ("web", "api", "db", "cache")
    for n in range(namespaces):
        ns = f"ns-{n}"
        c.add_namespace(ns, labels={"team": f"team-{n % 5}", "env": ("prod", "dev")[n % 2]})
        for i in range(pods_per_ns):
            c.add_pod(f"{ns}/pod-{i}", labels={"app": apps[i % 4], "tier": ("a", "b")[i % 2]})
    docs = []
    for k in range(policies):
        ns = f"ns-{k % namespaces}"
        app = apps[k % 4]
        spec = [
            {"podSelector": {"matchLabels": {"app": app}}, "ingress": [
                {"from": [{"podSelector": {"matchLabels": {"app": apps[(k + 1) % 4]}}}],
                 "ports": [{"port": 80}]}]},
            {"podSelector": {"matchLabels": {"app": app}}, "ingress": [
                {"from": [{"namespaceSelector": {"matchLabels": {"team": f"team-{k % 5}"}},
                           "podSelector": {"matchExpressions": [
                               {"key": "tier", "operator": "In", "values": ["a"]}]}}]}]},
            {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
                {"to": [{"namespaceSelector": {"matchLabels": {"env": "prod"}}}]},
                {"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.244.0.0/16"]}}]}]},
            {"podSelector": {"matchLabels": {"tier": "b"}}, "ingress": [
                {"ports": [{"port": 80, "endPort": 90}]}]},
        ][(k // namespaces) % 4]
        docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": f"np-{k}", "namespace": ns}, "spec": spec})
    c.apply(docs)
    return c


def policy_table() -> tuple[float, int, float]:
    c = policy_cluster()
    c.reachability(port=1)  # modules and the snapshot ready: the table itself is timed
    start = time.perf_counter()
    r = c.reachability(port=80)
    seconds = time.perf_counter() - start
    pairs = len(r.pods) ** 2
    return seconds, pairs, r.count()[0] / pairs


def build_services(services: int = 10_000, endpoints: int = 5, groups: int = 1_000,
                   mode: str = "iptables"):
    """``services`` Services, each selecting ``endpoints`` pods; pods are shared by groups
    (``services / groups`` Services select the same 5 pods), so the cluster stays within
    one /16 of pod addresses while kube-proxy still writes 5 endpoint chains per Service."""
    import kubenet_lab as kl

    kl.Cluster()  # the modules load on first use: outside the timing
    start = time.perf_counter()
    c = kl.Cluster(workers=50, kube_proxy_mode=mode)
    for g in range(groups):
        for e in range(endpoints):
            c.add_pod(f"default/g{g}-{e}", labels={"group": f"g{g}"},
                      containers=[kl.Container("app", ports=[8080])])
    for i in range(services):
        c.add_service(f"default/svc-{i}", selector={"group": f"g{i % groups}"},
                      ports=[{"name": "http", "port": 80, "targetPort": 8080}])
    return c, time.perf_counter() - start


def service_figures() -> None:
    c, seconds = build_services()
    print(f"build 10,000 services x 5 endpoints: {seconds * 1000:8.1f} ms  ({c!r})")
    start = time.perf_counter()
    text = c.iptables_save("node-1")
    first = time.perf_counter() - start
    start = time.perf_counter()
    c.iptables_save("node-2")
    second = time.perf_counter() - start
    lines = text.count("\n")
    print(f"iptables_save node-1 (first):       {first * 1000:8.1f} ms  ({lines:,} lines)")
    print(f"iptables_save node-2 (rules cached): {second * 1000:8.1f} ms")
    client = c.add_pod("default/bench-client", node="node-1")
    c.iptables_save("node-1")  # rebuild caches after the change, outside the timing
    services = c.services
    times = []
    for i in range(200):
        svc = services[(i * 37) % len(services)]
        if svc.cluster_ip is None or svc.namespace != "default" or svc.name == "kubernetes":
            continue
        start = time.perf_counter()
        t = c.trace(client.ref, svc.cluster_ip, port=80)
        times.append(time.perf_counter() - start)
        assert t.delivered
    print(f"median trace to a cluster IP:        {statistics.median(times) * 1000:8.3f} ms")


def verify_time(c) -> tuple[float, object]:
    start = time.perf_counter()
    report = c.verify_network_model()
    return time.perf_counter() - start, report


def _timed_median(calls) -> float:
    """The median seconds of the calls, each timed on its own."""
    times = []
    for call in calls:
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _median_ms(fn, runs: int) -> float:
    return _timed_median(fn for _ in range(runs)) * 1000


def cloud_figures(nodes: int = 100, pods: int = 3000, ingresses: int = 500) -> None:
    """Issue 5: egress and internet-to-Service traces in the 100-node cluster, with a NAT
    gateway, a cloud load balancer, an ingress controller and ``ingresses`` Ingresses."""
    import kubenet_lab as kl

    c = kl.Cluster(workers=nodes - 1)
    c.add_nat_gateway(public_ip="198.51.100.20")
    for i in range(pods):
        c.add_pod(f"default/pod-{i}", labels={"app": f"a{i % 100}"})
    c.add_cloud_load_balancer()
    svc = c.add_service("default/web", type="LoadBalancer", selector={"app": "a1"}, ports=[80])
    c.add_ingress_controller()
    for i in range(100):
        c.add_service(f"default/s{i}", selector={"app": f"a{i}"}, ports=[80])
    start = time.perf_counter()
    c.apply("---\n".join(
        f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: i{i}}}\nspec:\n"
        f"  rules:\n  - host: h{i}.example.com\n    http:\n      paths:\n"
        f"      - {{path: /p{i}, pathType: Prefix, backend: {{service: {{name: s{i % 100}, "
        f"port: {{number: 80}}}}}}}}\n" for i in range(ingresses)))
    seconds = time.perf_counter() - start
    print(f"apply {ingresses} Ingresses:               {seconds * 1000:8.1f} ms")
    egress = _median_ms(lambda: c.trace("default/pod-5", "93.184.216.34"), 50)
    print(f"median egress trace via NAT gateway: {egress:8.3f} ms")
    lb = _median_ms(lambda: c.trace("internet", f"{svc.load_balancer_ip}:80"), 50)
    print(f"median internet -> LoadBalancer:     {lb:8.3f} ms")
    url = f"http://h{ingresses - 1}.example.com/p{ingresses - 1}/x"
    http = _median_ms(lambda: c.trace("internet", url), 20)
    print(f"median HTTP trace ({ingresses} Ingresses):  {http:8.3f} ms")
    lesson = kl.Cluster(workers=3)  # lesson 05's traffic picture: 60 clients on each side
    for i, node in enumerate(["node-1", "node-1", "node-2"]):
        lesson.add_pod(f"default/web-{i}", node=node, labels={"app": "web"})
    lesson.add_cloud_load_balancer()
    for name, policy in (("web", "Cluster"), ("web-local", "Local")):
        lesson.add_service(f"default/{name}", type="LoadBalancer", selector={"app": "web"},
                           ports=[80], external_traffic_policy=policy)
    kl.draw_cluster(kl.Cluster())  # import matplotlib and load the fonts first
    start = time.perf_counter()
    fig = kl.draw_internet_traffic(lesson, ["default/web", "default/web-local"], clients=60)
    fig.savefig(io.BytesIO(), format="png")
    print(f"internet traffic picture + PNG:    {(time.perf_counter() - start) * 1000:8.1f} ms")


def _gateway_manifests(gateways: int, routes: int) -> str:
    docs = [f"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
            f"metadata: {{name: gw{g}}}\n"
            f"spec:\n  gatewayClassName: eg\n  listeners:\n"
            f"  - {{name: http, port: 80, protocol: HTTP}}\n" for g in range(gateways)]
    docs += [f"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
             f"metadata: {{name: r{i}}}\n"
             f"spec:\n  parentRefs: [{{name: gw{i % gateways}}}]\n"
             f"  hostnames: [h{i}.example.com]\n  rules:\n"
             f"  - matches: [{{path: {{type: PathPrefix, value: /p{i}}}}}, "
             f"{{headers: [{{name: x-canary, value: 'yes'}}]}}]\n"
             f"    backendRefs: [{{name: s{i % 100}, port: 80, weight: 90}}, "
             f"{{name: s{(i + 1) % 100}, port: 80, weight: 10}}]\n" for i in range(routes)]
    return "---\n".join(docs)


def gateway_figures(nodes: int = 100, pods: int = 3000, gateways: int = 10,
                    routes: tuple[int, ...] = (50, 500)) -> None:
    """Issue 11: HTTPRoutes on Gateways in the 100-node cluster of ``cloud_figures``."""
    import kubenet_lab as kl

    results = {}
    for count in routes:
        c = kl.Cluster(workers=nodes - 1)
        for i in range(pods):
            c.add_pod(f"default/pod-{i}", labels={"app": f"a{i % 100}"})
        c.add_cloud_load_balancer()
        c.add_gateway_controller()
        for i in range(100):
            c.add_service(f"default/s{i}", selector={"app": f"a{i}"}, ports=[80])
        text = _gateway_manifests(gateways, count)
        start = time.perf_counter()
        c.apply(text)
        applied = time.perf_counter() - start
        last = count - 1
        address = c.get("Gateway", f"default/gw{last % gateways}")["status"]["addresses"][0]
        url = f"http://{address['value']}/p{last}/x"
        headers = {"Host": f"h{last}.example.com"}
        assert c.trace("internet", url, headers=headers).http_status == 200
        http = _median_ms(lambda c=c, url=url, headers=headers: c.trace(
            "internet", url, headers=headers), 20)
        results[count] = (applied * 1000, http)
        print(f"apply {gateways} Gateways + {count} HTTPRoutes:  {applied * 1000:8.1f} ms")
        print(f"median HTTP trace ({count} HTTPRoutes):    {http:8.3f} ms")
    small, large = min(routes), max(routes)
    print(f"growth {small} -> {large} routes: apply x{results[large][0] / results[small][0]:.2f}, "
          f"trace x{results[large][1] / results[small][1]:.2f}")


def _clusterip_median(c, runs: int = 200) -> float:
    client = c.add_pod("default/bench-client", node="node-1")
    services = [s for s in c.services if s.namespace == "default" and s.name != "kubernetes"]
    c.trace(client.ref, services[0].cluster_ip, port=80)  # caches of this generation
    times = []
    for i in range(runs):
        svc = services[(i * 37) % len(services)]
        start = time.perf_counter()
        t = c.trace(client.ref, svc.cluster_ip, port=80)
        times.append(time.perf_counter() - start)
        assert t.delivered
    return statistics.median(times) * 1000


def nftables_figures() -> None:
    """Issue 12: ``nft list table ip kube-proxy`` at 10,000 Services x 5 endpoints (first
    node, second node), and the median trace to a ClusterIP and the rules its first
    packet meets at 10 and at 10,000 Services, in each mode."""
    from kubenet_lab.walk.netfilter import rules_traversed

    c, seconds = build_services(mode="nftables")
    print(f"build 10,000 services x 5 endpoints, nftables mode: {seconds * 1000:8.1f} ms")
    for node in ("node-1", "node-2"):
        start = time.perf_counter()
        text = c.exec(node, "nft list table ip kube-proxy")
        print(f"nft list table ip kube-proxy, {node}: "
              f"{(time.perf_counter() - start) * 1000:8.1f} ms  ({text.count(chr(10)):,} lines)")
    medians = {}
    for mode in ("iptables", "nftables"):
        for services, groups in ((10, 10), (10_000, 1_000)):
            c, _ = build_services(services, groups=groups, mode=mode)
            medians[mode, services] = _clusterip_median(c)
            svc = c.service(f"default/svc-{services - 1}")
            rules = rules_traversed(c, "default/bench-client", svc.cluster_ip, 80)
            print(f"{mode:8} {services:6,} Services: median ClusterIP trace "
                  f"{medians[mode, services]:7.3f} ms, first packet meets {rules:,} rules")
    for mode in ("iptables", "nftables"):
        print(f"{mode}: trace at 10,000 / at 10 Services = "
              f"{medians[mode, 10_000] / medians[mode, 10]:.2f}")


# ---------------------------------------------------------------- issue 16: scale
#: (nodes, Deployments of 150 replicas, Services per Deployment) of the two sizes.
SCALE_SIZES = {"small": (100, 20, 10), "large": (5000, 1000, 10)}


def scale_cluster(size: str, mode: str = "iptables"):
    """The cluster of one size, the seconds its nodes take to join, and the seconds of
    its build: the apply of every Deployment and Service (``kl.scale_manifests``)."""
    import kubenet_lab as kl
    from kubenet_lab.scenarios import SCALE_SUBNETS

    nodes, deployments, services = SCALE_SIZES[size]
    kl.Cluster()  # the modules load on first use: outside the timing
    docs = kl.scale_manifests(deployments, services_per_deployment=services)
    start = time.perf_counter()  # kl.scale_cluster(nodes, deployments), in two timed steps
    c = kl.Cluster(workers=nodes - 1, kube_proxy_mode=mode, **SCALE_SUBNETS)
    joined = time.perf_counter()
    for doc in docs:
        c.apply(doc)
    return c, joined - start, time.perf_counter() - joined


def _pairs(c, runs: int, seed: int = 16) -> list[tuple[Any, Any]]:
    import random

    rng = random.Random(seed)
    pods = [p for p in c.pods if p.namespace == "default"]
    return [(rng.choice(pods), rng.choice(pods)) for _ in range(runs)]


def _clusterip_traces(c, pairs) -> float:
    """The median trace from each pair's first pod to a Service's cluster IP."""
    ips = [s.cluster_ip for s in c.services if s.namespace == "default" and s.name != "kubernetes"]
    chosen = [(a, ips[i * 7919 % len(ips)]) for i, (a, _) in enumerate(pairs)]
    return _timed_median(lambda a=a, ip=ip: c.trace(a.ref, ip, port=80) for a, ip in chosen)


def scale_size(size: str, mode: str) -> dict[str, float]:
    """One size's figures in one kube-proxy mode (seconds, counts, peak memory in MB)."""
    import resource

    out: dict[str, float] = {}
    c, out[f"nodes join ({mode})"], out[f"build ({mode})"] = scale_cluster(size, mode)
    pods = len([p for p in c.pods if p.namespace == "default"])
    out[f"build per pod ({mode})"] = out[f"build ({mode})"] / pods
    # the tables first, from nothing, as kube-proxy's first sync: a trace before them
    # would build the rules of the Services it touches (a larger share in the small one)
    if mode == "iptables":
        for key, node in (("iptables_save first node", "node-1"),
                          ("iptables_save second node", "node-2")):
            start = time.perf_counter()
            text = c.iptables_save(node)
            out[key] = time.perf_counter() - start
        out["iptables_save lines"] = text.count("\n")
    else:
        for key, node in (("nft list first node", "node-1"), ("nft list second node", "node-2")):
            start = time.perf_counter()
            text = c.exec(node, "nft list table ip kube-proxy")
            out[key] = time.perf_counter() - start
        out["nft list lines"] = text.count("\n")
    del text
    pairs = _pairs(c, 300)
    c.trace(pairs[0][0].ref, pairs[0][1].ref, port=8080)  # the snapshot: outside the medians
    if mode == "iptables":
        out["pods"], out["services"] = pods, len(c.services)
        out["pod-to-pod trace"] = _timed_median(
            lambda a=a, b=b: c.trace(a.ref, b.ref, port=8080) for a, b in pairs)
        out["ClusterIP trace (iptables)"] = _clusterip_traces(c, pairs)
        start = time.perf_counter()
        report = c.verify_network_model()
        out["verify_network_model"] = time.perf_counter() - start
        out["verify traces"] = report.traces
        out["verify holds"] = float(report.ok)
    else:
        out["ClusterIP trace (nftables)"] = _clusterip_traces(c, pairs)
    out[f"peak MB ({mode})"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


#: Figures the issue bounds: (name, what the ratio large/small may be at most, and why).
SCALE_BOUNDS = {
    "build per pod (iptables)": (1.5, "cost per pod"),
    "build per pod (nftables)": (1.5, "cost per pod"),
    "pod-to-pod trace": (1.5, "median"),
    "ClusterIP trace (iptables)": (1.5, "median"),
    "ClusterIP trace (nftables)": (1.5, "median"),
    "iptables_save first node": (60.0, "50x the Services"),
    "nft list first node": (60.0, "50x the Services"),
}


def _shown(key: str, value: float) -> str:
    if any(w in key for w in ("lines", "traces", "holds", "MB", "pods", "services")):
        return f"{value:,.0f}"
    return f"{value * 1000:,.3f} ms"


def scale_figures() -> None:
    """Issue 16: both sizes in fresh interpreters, then the table of figures and ratios."""
    import json

    results: dict[str, dict[str, float]] = {size: {} for size in SCALE_SIZES}
    for size in SCALE_SIZES:
        for mode in ("iptables", "nftables"):  # one cluster per interpreter: its own peak
            done = subprocess.run([sys.executable, __file__, "--scale-size", size, mode],
                                  check=True, stdout=subprocess.PIPE, text=True)
            results[size].update(json.loads(done.stdout.strip().splitlines()[-1]))
    small, large = results["small"], results["large"]
    print("| figure | 100 nodes, 3,000 pods, 200 Services | 5,000 nodes, 150,000 pods, "
          "10,000 Services | large / small | bound |")
    print("| --- | ---: | ---: | ---: | --- |")
    for key in small:
        a, b = small[key], large[key]
        ratio = b / a if a else float("nan")
        bound = SCALE_BOUNDS.get(key)
        mark = "" if bound is None else (
            f"<= {bound[0]:g} ({bound[1]}): {'ok' if ratio <= bound[0] else 'EXCEEDED'}")
        print(f"| {key} | {_shown(key, a)} | {_shown(key, b)} | {ratio:.2f} | {mark} |")
    for size, r in results.items():
        print(f"{size}: second node / first node: iptables_save "
              f"{r['iptables_save second node'] / r['iptables_save first node']:.3f}, nft "
              f"{r['nft list second node'] / r['nft list first node']:.3f}")
    print("peak memory of the large cluster and its tables: "
          f"{large['peak MB (iptables)']:,.0f} MB in iptables mode, "
          f"{large['peak MB (nftables)']:,.0f} MB in nftables mode (bound: 4,096 MB)")
    from benchmark_policies import main as policy_main  # the policy world builds its own

    policy_main([])


# ---------------------------------------------------------------- issue 9: before / after
def _figures() -> dict[str, Any]:
    """The redesign's figures, each a function returning seconds."""
    def build_time() -> float:
        return build()[1]

    def trace_time() -> float:
        return trace_median(build()[0])

    def policy_time() -> float:
        return policy_table()[0]

    def save_times() -> tuple[float, float]:
        c, _ = build_services()
        start = time.perf_counter()
        c.iptables_save("node-1")
        first = time.perf_counter() - start
        others = []
        for i in range(2, 12):  # the median of ten more nodes: each renders from the cache
            start = time.perf_counter()
            c.iptables_save(f"node-{i}")
            others.append(time.perf_counter() - start)
        return first, statistics.median(others)

    def first_use() -> float:
        code = ("import kubenet_lab as kl; c = kl.Cluster(workers=2); "
                "c.trace('kube-system/' + c.pods[0].name, c.pods[1].ref)")
        return _fresh(code) - _fresh("pass")

    return {
        "import kubenet_lab": lambda: import_time(),
        "import, Cluster(workers=2), first trace": first_use,
        "build 100 nodes / 3,000 pods": build_time,
        "median cross-node trace": trace_time,
        "policy truth table, 1,000 pods / 200 policies": policy_time,
        "iptables_save, 10,000 Services (first node)": lambda: save_times()[0],
        "iptables_save, 10,000 Services (next nodes, median)": lambda: save_times()[1],
    }


def compare(before: Path, rounds: int = 5) -> None:
    """Each figure in a fresh interpreter, alternating between ``before`` and this
    checkout, ``rounds`` times; the table of medians (ms) and their ratio."""
    after = Path(__file__).resolve().parents[1]
    names = list(_figures())
    results: dict[tuple[str, Path], list[float]] = {}
    for _ in range(rounds):
        for name in names:
            for tree in (before, after):
                out = subprocess.run(
                    [sys.executable, __file__, "--figure", name],
                    env={**os.environ, "KUBENET_LAB_TREE": str(tree)},
                    capture_output=True, text=True, check=True).stdout
                results.setdefault((name, tree), []).append(float(out.split()[-1]))
    print("| figure | before (ms) | after (ms) | after / before |")
    print("| --- | ---: | ---: | ---: |")
    for name in names:
        old = statistics.median(results[(name, before)]) * 1000
        new = statistics.median(results[(name, after)]) * 1000
        print(f"| {name} | {old:,.1f} | {new:,.1f} | {new / old:.2f} |")


def main() -> None:
    print(f"import kubenet_lab:                 {import_time() * 1000:8.1f} ms")
    c, seconds = build()
    print(f"build 100 nodes / 3,000 pods:       {seconds * 1000:8.1f} ms  ({c!r})")
    print(f"median cross-node trace (200 runs): {trace_median(c) * 1000:8.3f} ms")
    seconds, pairs, share = policy_table()
    print(f"policy truth table, 1,000 pods / 50 namespaces / 200 policies, TCP/80: "
          f"{seconds * 1000:8.1f} ms, {pairs / seconds:,.0f} pod pairs/s "
          f"({share:.0%} allowed)")
    service_figures()
    cloud_figures()
    gateway_figures()
    nftables_figures()
    seconds, report = verify_time(c)
    print(f"verify_network_model, healthy:      {seconds * 1000:8.1f} ms  ({report!r}, "
          f"{report.pairs:,} pairs)")
    c.exec("node-7", "ip route del " + c.node("node-8").pod_cidr)
    seconds, report = verify_time(c)
    print(f"verify_network_model, 1 route gone: {seconds * 1000:8.1f} ms  ({report!r})")
    start = time.perf_counter()
    flows = c.traffic(requests=500, seed=1)
    print(f"traffic, 500 random flows:          {(time.perf_counter() - start) * 1000:8.1f} ms  "
          f"({flows!r})")


if __name__ == "__main__":
    if "--scale-size" in sys.argv:
        import json

        at = sys.argv.index("--scale-size")
        print(json.dumps(scale_size(sys.argv[at + 1], sys.argv[at + 2])))
    elif "--scale" in sys.argv:
        scale_figures()
    elif "--figure" in sys.argv:
        print(_figures()[sys.argv[sys.argv.index("--figure") + 1]]())
    elif "--gateway" in sys.argv:
        gateway_figures()
    elif "--nftables" in sys.argv:
        nftables_figures()
    elif "--compare" in sys.argv:
        compare(Path(sys.argv[sys.argv.index("--compare") + 1]).resolve())
    else:
        main()
