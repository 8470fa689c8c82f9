"""Benchmark figures asked for by the issues (a script, not a test).

Run:  python tests/benchmark.py

Prints:
- the time of ``import kubenet_lab`` in a fresh interpreter (median of 5, minus the
  interpreter's own start-up);
- the time to build a 100-node cluster with 3,000 pods;
- the median time of one cross-node pod-to-pod trace in that cluster;
- ``verify_network_model()`` on that cluster: healthy, then with one node's route to
  another node's podCIDR deleted (``ip route del``), with the number of traces each used;
- ``traffic()`` of 500 random flows in that cluster.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _fresh(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def import_time(runs: int = 5) -> float:
    base = statistics.median(_fresh("pass") for _ in range(runs))
    full = statistics.median(_fresh("import kubenet_lab") for _ in range(runs))
    return full - base


def build(nodes: int = 100, pods: int = 3000):
    import kubenet_lab as kl

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


def verify_time(c) -> tuple[float, object]:
    start = time.perf_counter()
    report = c.verify_network_model()
    return time.perf_counter() - start, report


def main() -> None:
    print(f"import kubenet_lab:                 {import_time() * 1000:8.1f} ms")
    c, seconds = build()
    print(f"build 100 nodes / 3,000 pods:       {seconds * 1000:8.1f} ms  ({c!r})")
    print(f"median cross-node trace (200 runs): {trace_median(c) * 1000:8.3f} ms")
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
    main()
