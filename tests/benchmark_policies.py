"""Issue 16: the network-policy truth table at the documented limits (a script, not a test).

Run:  python tests/benchmark_policies.py            (5,000 nodes, 150,000 pods, 2,000 policies)
      python tests/benchmark_policies.py --small    (a quick run: 50 nodes, 3,000 pods)

``tests/benchmark.py`` imports this module and calls ``policy_world(cluster)`` on its own
large cluster, then ``policy_scale_figures(cluster)``.

- ``workloads(cluster, ...)``: namespaces and Deployments of ``replicas`` pods (the
  Kubernetes large-cluster guide's 150,000 pods as 1,000 Deployments of 150), applied in
  chunks (``apply`` reads at most 50,000 values per call).
- ``policy_world(cluster, policies=2000)``: labels the namespaces (team, env) and applies a
  realistic mix of NetworkPolicies over the pods the cluster has: a default deny per
  namespace, allow-from-the-same-app, namespaceSelector AND podSelector peers,
  matchExpressions (In, NotIn, Exists), ipBlocks with ``except`` (inside and outside the
  pod network), numbered, named and ``endPort`` ports, egress rules (DNS to kube-system,
  to prod namespaces, to the internet), plus a few ClusterNetworkPolicies (v1alpha2, Admin
  and Baseline tiers: Accept, Deny, Pass) when the cluster's enforcer implements them.
- ``policy_scale_figures(cluster, pairs=100_000, seed=0)``: the time of
  ``Cluster.reachability()``, its number of classes, and ``pairs`` sampled pod pairs
  checked one by one against the agent's own per-connection decision
  (``kubenet_lab.dataplane.policy.explain``, what ``Cluster.explain`` and the trace use):
  both directions and the combined answer must agree (``mismatches`` must be 0).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: The large cluster of issue 16 (kubernetes.io/docs/setup/best-practices/cluster-large:
#: 5,000 nodes, 150,000 pods).
NODES, NAMESPACES, DEPLOYMENTS, REPLICAS, POLICIES = 5000, 100, 1000, 150, 2000
TIERS = ("web", "api", "db", "cache")
#: Deployments per ``apply`` call (each is about 30 values of the 50,000 budget).
CHUNK = 500


def _ns(i: int) -> str:
    return f"ns-{i}"


def _namespace_labels(i: int) -> dict[str, str]:
    return {"team": f"team-{i % 10}", "env": ("prod", "dev", "staging")[i % 3]}


def workloads(cluster: Any, namespaces: int = NAMESPACES, deployments: int = DEPLOYMENTS,
              replicas: int = REPLICAS) -> None:
    """``deployments`` Deployments of ``replicas`` pods over ``namespaces`` namespaces.

    Deployment ``d<k>`` in ``ns-<k % namespaces>``: labels ``app: d<k>``, ``tier`` (web,
    api, db, cache by turns), ``role: frontend`` on every third; one container with the
    named ports ``http`` (80 on odd k, 8080 on even: a named-port rule resolves
    differently per Deployment) and ``metrics`` (9090).
    """
    for i in range(namespaces):
        cluster.add_namespace(_ns(i), labels=_namespace_labels(i))
    docs = []
    for k in range(deployments):
        labels = {"app": f"d{k}", "tier": TIERS[k % 4]}
        if k % 3 == 0:
            labels["role"] = "frontend"
        docs.append({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"d{k}", "namespace": _ns(k % namespaces)},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": f"d{k}"}},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": "app", "image": "nginx:1.27", "ports": [
                             {"name": "http", "containerPort": 80 if k % 2 else 8080},
                             {"name": "metrics", "containerPort": 9090}]}]}}}})
    for start in range(0, len(docs), CHUNK):
        cluster.apply(docs[start:start + CHUNK])


def _np(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def _cnp(name: str, tier: str, priority: int, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
            "metadata": {"name": name}, "spec": {"tier": tier, "priority": priority, **spec}}


def _match(**labels: str) -> dict[str, Any]:
    return {"matchLabels": labels}


def _namespace_policies(i: int, ns: str, apps: list[str], names: list[str],
                        inside: str, hole: str) -> list[dict[str, Any]]:
    """The policies of namespace ``ns`` (the ``i``-th), most common kinds first.

    ``inside`` is a block holding the pod network and ``hole`` a /22 of it with pods in
    it (an ipBlock's ``except`` that splits some Deployments' pods by address)."""
    a0, a1, a2 = apps[0], apps[1 % len(apps)], apps[2 % len(apps)]
    team = f"team-{(i + 1) % 10}"
    out = [("default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})]
    if i % 2 == 0:
        out.append(("default-deny-egress-but-dns", {
            "podSelector": {}, "policyTypes": ["Egress"], "egress": [
                {"to": [{"namespaceSelector": _match(**{
                    "kubernetes.io/metadata.name": "kube-system"})}],
                 "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                {"to": [{"namespaceSelector": _match(env="prod")}], "ports": [{"port": 80}]},
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}]}))
    else:
        out.append(("egress-to-team", {
            "podSelector": {"matchLabels": {"app": a0}}, "policyTypes": ["Egress"],
            "egress": [
                {"to": [{"namespaceSelector": _match(team=team), "podSelector": {
                    "matchExpressions": [{"key": "tier", "operator": "In",
                                          "values": ["web", "api"]}]}}]},
                {"to": [{"podSelector": {}}]}]}))
    out += [(f"allow-same-app-{a}", {"podSelector": _match(app=a), "ingress": [
        {"from": [{"podSelector": _match(app=a)}]}]}) for a in apps]
    extra = [
        ("web-from-team-api", {"podSelector": _match(tier="web"), "ingress": [
            {"from": [{"namespaceSelector": _match(team=team),
                       "podSelector": _match(tier="api")}], "ports": [{"port": 80}]}]}),
        ("api-db-expressions", {
            "podSelector": {"matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["api", "db"]}]},
            "ingress": [{"from": [{"podSelector": {"matchExpressions": [
                {"key": "app", "operator": "NotIn", "values": [a0]},
                {"key": "role", "operator": "Exists"}]}}]}]}),
        ("db-from-pod-network", {"podSelector": _match(tier="db"), "ingress": [
            {"from": [{"ipBlock": {"cidr": inside, "except": [hole]}}],
             "ports": [{"port": 5432}, {"port": 80}]}]}),
        ("http-from-anywhere", {"podSelector": _match(app=a1), "ingress": [
            {"from": [{"namespaceSelector": {}}], "ports": [{"port": "http"}]}]}),
        ("api-port-range-from-prod", {"podSelector": _match(tier="api"), "ingress": [
            {"from": [{"namespaceSelector": _match(env="prod")}],
             "ports": [{"port": 80, "endPort": 90}]}]}),
        ("metrics-from-monitoring", {"podSelector": {}, "ingress": [
            {"from": [{"namespaceSelector": _match(**{
                "kubernetes.io/metadata.name": names[0]}),
                       "podSelector": _match(role="frontend")}],
             "ports": [{"port": "metrics"}, {"port": 9090}]}]}),
        ("web-egress-named-http", {"podSelector": _match(tier="web"),
                                   "policyTypes": ["Egress"], "egress": [
            {"to": [{"podSelector": _match(tier="api")}], "ports": [{"port": "http"}]},
            {"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": [hole]}}],
             "ports": [{"port": 80, "endPort": 8080}]}]}),
        ("frontend-open", {"podSelector": _match(role="frontend"), "ingress": [{}]}),
        (f"no-egress-{a2}", {"podSelector": _match(app=a2), "policyTypes": ["Egress"],
                             "egress": []}),
        ("cache-udp-only", {"podSelector": _match(tier="cache"), "ingress": [
            {"ports": [{"protocol": "UDP", "port": 53}]}]}),
        ("from-outside-only", {"podSelector": _match(tier="web"), "ingress": [
            {"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}]}),
    ]
    k = 0
    while len(out) < len(apps) + 2 + 2 * len(extra):
        name, spec = extra[k % len(extra)]
        out.append((name if k < len(extra) else f"{name}-{k // len(extra)}", spec))
        k += 1
    return [_np(ns, name, spec) for name, spec in out]


def _admin_policies(names: list[str], hole: str) -> list[dict[str, Any]]:
    """A few ClusterNetworkPolicies (policy.networking.k8s.io/v1alpha2)."""
    return [
        _cnp("deny-dev-to-prod-http", "Admin", 10, {
            "subject": {"namespaces": _match(env="prod")},
            "ingress": [{"action": "Deny", "from": [{"namespaces": _match(env="dev")}],
                         "protocols": [{"tcp": {"destinationPort": {"number": 80}}}]}]}),
        _cnp("pass-monitoring", "Admin", 20, {
            "subject": {"namespaces": {}},
            "ingress": [{"action": "Pass", "from": [{"namespaces": _match(**{
                "kubernetes.io/metadata.name": names[0]})}]}]}),
        _cnp("accept-team-0-web", "Admin", 30, {
            "subject": {"pods": {"namespaceSelector": _match(team="team-0"),
                                 "podSelector": _match(tier="web")}},
            "ingress": [{"action": "Accept", "from": [{"namespaces": _match(team="team-0")}]}]}),
        _cnp("staging-not-to-quarantine", "Admin", 40, {
            "subject": {"namespaces": _match(env="staging")},
            "egress": [{"action": "Deny", "to": [{"networks": [hole]}]}]}),
        _cnp("baseline-dev-isolated", "Baseline", 10, {
            "subject": {"namespaces": _match(env="dev")},
            "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}]}),
    ]


def policy_world(cluster: Any, policies: int = POLICIES) -> int:
    """Label the namespaces of the cluster's pods (outside kube-system) and apply
    ``policies`` policies over them (a few ClusterNetworkPolicies among them when the
    cluster's enforcer implements that kind). The pods' ``app`` labels name the apps
    (pods without one count by their first label). Returns how many were applied."""
    apps: dict[str, dict[str, None]] = {}
    first_ip = None
    for p in cluster.pods:
        if p.namespace == "kube-system":
            continue
        first_ip = first_ip or p.ip
        label = p.labels.get("app") or next(iter(p.labels.values()), p.name)
        apps.setdefault(p.namespace, {})[label] = None
    if not apps:
        raise ValueError("policy_world: the cluster has no pods outside kube-system; "
                         "call workloads(cluster) first")
    names = sorted(apps, key=lambda n: (len(n), n))
    for i, ns in enumerate(names):
        old = dict(cluster.get("Namespace", ns)["metadata"].get("labels") or {})
        cluster.add_namespace(ns, labels={**old, **_namespace_labels(i)})
    a, b, c = (int(x) for x in first_ip.split(".")[:3])
    inside, hole = f"{a}.0.0.0/8", f"{a}.{b}.{c & ~3}.0/22"  # a /22 with pods in it
    from kubenet_lab.dataplane.policy import enforcer

    found = enforcer(cluster.store.snapshot())
    admin = (_admin_policies(names, hole)
             if found is not None and "ClusterNetworkPolicy" in found.kinds else [])
    wanted = policies - len(admin)
    per_ns = [_namespace_policies(i, ns, list(apps[ns]), names, inside, hole)
              for i, ns in enumerate(names)]
    docs: list[dict[str, Any]] = []
    depth = 0
    while len(docs) < wanted and depth < max(len(x) for x in per_ns):
        for i in range(len(per_ns)):
            if depth < len(per_ns[i]) and len(docs) < wanted:
                docs.append(per_ns[i][depth])
        depth += 1
    docs += admin
    for start in range(0, len(docs), 500):
        cluster.apply(docs[start:start + 500])
    return len(docs)


def _sample(refs: list[str], namespaces: list[str], pairs: int, seed: int
            ) -> list[tuple[str, str]]:
    """``pairs`` pod pairs: a third uniform, a third within one namespace (where the
    pod selectors and same-app rules bite), a third between neighbours in the pod list
    (mostly one Deployment), and a few pods to themselves."""
    rnd = random.Random(seed)
    by_ns: dict[str, list[str]] = {}
    for ref, ns in zip(refs, namespaces, strict=True):
        by_ns.setdefault(ns, []).append(ref)
    n = len(refs)
    out = []
    for k in range(pairs):
        i = rnd.randrange(n)
        if k % 100 == 99:
            j = i
        elif k % 3 == 0:
            j = rnd.randrange(n)
        elif k % 3 == 1:
            out.append((refs[i], rnd.choice(by_ns[namespaces[i]])))
            continue
        else:
            j = min(n - 1, i + rnd.randrange(1, 40))
        out.append((refs[i], refs[j]))
    return out


def policy_scale_figures(cluster: Any, pairs: int = 100_000, seed: int = 0, port: int = 80,
                         protocol: str = "TCP") -> dict[str, Any]:
    """Time ``cluster.reachability(port, protocol)`` and check ``pairs`` sampled pairs
    against the per-connection decision. Returns a dict: ``pods``, ``policies``,
    ``classes``, ``reachability_seconds``, ``table_mb`` (memory the table holds, traced),
    ``peak_mb``, ``count_seconds`` and ``allowed_fraction`` (from ``count()``),
    ``pairs_checked``, ``mismatches`` (must be 0), ``first_mismatch``,
    ``reference_pairs_per_second``, ``table_pairs_per_second``."""
    from kubenet_lab.dataplane.policy import explain

    cluster.reachability(port=port + 1 if port < 65535 else 1)  # snapshot and modules
    start = time.perf_counter()
    r = cluster.reachability(port=port, protocol=protocol)
    seconds = time.perf_counter() - start
    del r
    tracemalloc.start()  # again, traced (slower): what the table holds, and the peak
    r = cluster.reachability(port=port, protocol=protocol)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    start = time.perf_counter()
    yes, no = r.count()
    count_seconds = time.perf_counter() - start
    view = cluster.store.snapshot()
    refs = list(r.pods)
    sample = _sample(refs, [ref.split("/", 1)[0] for ref in refs], pairs, seed)
    start = time.perf_counter()
    answers = [(r.allowed(a, b, "egress"), r.allowed(a, b, "ingress"), r.allowed(a, b))
               for a, b in sample]
    table_seconds = time.perf_counter() - start
    mismatches, first = 0, None
    start = time.perf_counter()
    for (a, b), (e, i, both) in zip(sample, answers, strict=True):
        why = explain(view, a, b, port, protocol)
        want = (why.egress.allowed or not why.enforced, why.ingress.allowed or not why.enforced,
                why.effective)
        if want != (e, i, both):
            mismatches += 1
            first = first or (a, b, want, (e, i, both))
    ref_seconds = time.perf_counter() - start
    return {"pods": len(refs), "policies": r.policies, "classes": r.classes,
            "reachability_seconds": seconds, "table_mb": held / 2**20,
            "peak_mb": peak / 2**20, "count_seconds": count_seconds,
            "allowed_fraction": yes / max(yes + no, 1),
            "pairs_checked": len(sample), "mismatches": mismatches, "first_mismatch": first,
            "reference_pairs_per_second": len(sample) / ref_seconds,
            "table_pairs_per_second": len(sample) / max(table_seconds, 1e-9)}


def build(nodes: int = NODES, namespaces: int = NAMESPACES, deployments: int = DEPLOYMENTS,
          replicas: int = REPLICAS, policies: int = POLICIES) -> tuple[Any, float, float]:
    """The cluster of ``main``: returns it, the build time and the policies' apply time."""
    import kubenet_lab as kl

    start = time.perf_counter()
    big = nodes > 251
    c = kl.Cluster(workers=nodes - 1, network_policy="kube-network-policies",
                   **({"cluster_cidr": "10.128.0.0/11", "private_subnet": "10.0.32.0/19"}
                      if big else {}))
    workloads(c, namespaces, deployments, replicas)
    built = time.perf_counter() - start
    start = time.perf_counter()
    policy_world(c, policies)
    return c, built, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--small", action="store_true",
                        help="50 nodes, 20 namespaces, 100 Deployments of 30, 400 policies")
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = (dict(nodes=50, namespaces=20, deployments=100, replicas=30, policies=400)
             if args.small else {})
    c, built, applied = build(**sizes)
    print(f"build: {c!r} in {built:.1f} s; policies applied in {applied:.1f} s")
    f = policy_scale_figures(c, args.pairs, args.seed)
    print(f"reachability(): {f['pods']:,} pods, {f['policies']:,} policies, "
          f"{f['classes']:,} classes in {f['reachability_seconds']:.2f} s; the table holds "
          f"{f['table_mb']:.1f} MB (peak while computing {f['peak_mb']:.1f} MB); "
          f"count() in {f['count_seconds'] * 1000:.0f} ms: "
          f"{f['allowed_fraction']:.1%} of pairs allowed")
    print(f"checked {f['pairs_checked']:,} sampled pairs against the agent's per-connection "
          f"decision: {f['mismatches']} mismatches; reference "
          f"{f['reference_pairs_per_second']:,.0f} pairs/s, table "
          f"{f['table_pairs_per_second']:,.0f} pairs/s")
    if f["mismatches"]:
        print("first mismatch:", f["first_mismatch"])
    return 1 if f["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
