"""``compare(cluster)``: every probe answered twice, by the lab's walk (``Cluster.trace``)
and by the real kernel (``LinuxLab.probe``), side by side.

Two answers agree when they say the same about:

- **the outcome**: delivered (the kernel: connected; a ping: answered), refused (the
  kernel: a TCP RST or an ICMP port unreachable, ``ECONNREFUSED``; the walk: a
  ``refuse`` hop) or dropped (the kernel: no answer within the timeout, or an ICMP
  host/network unreachable; the walk: a ``drop`` hop);
- when both delivered, **the pod** that answered and **the source address it saw**
  (a ping's source address is not compared: nothing listens for it).

kube-proxy picks a Service's endpoint at random (iptables ``-m statistic --mode
random``, nftables ``numgen random``), and so does the walk, with its own generator; and
which endpoint is picked can decide the outcome (a NodePort whose endpoint on the other
node is unreachable, say). So a probe to a Service address (a ClusterIP, or a node's
address on a NodePort) is answered several times on each side, at least
``MIN_SAMPLES`` and until the two sets of distinct answers are equal or
``MAX_SAMPLES`` were taken, and the sets are compared: what each endpoint the coin can
choose makes of the connection, not which endpoint one coin chose.

A ping has no ``trace`` (the walk knows TCP, UDP and SCTP): the lab's answer is what
``ping`` in the lab answers (``tools.ping``: ``clusterip_icmp`` for a Service address,
else whether a packet to the address reaches its host, ``reached``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubenet_lab.linux.probe import ProbeResult
from kubenet_lab.tools.context import Context
from kubenet_lab.tools.ping import clusterip_icmp, reached

if TYPE_CHECKING:
    from kubenet_lab.cluster import Cluster
    from kubenet_lab.linux.realize import LinuxLab
    from kubenet_lab.model.pod import Pod

__all__ = ["MAX_SAMPLES", "MIN_SAMPLES", "Answer", "CompareReport", "Comparison", "Probe",
           "compare", "default_probes", "simulate"]

#: How many times a probe to a Service address is answered on each side (at least,
#: at most): two endpoints chosen at random are both seen in 8 tries but with
#: probability 1/128, and a side still short of the other's answers goes on to 32.
MIN_SAMPLES, MAX_SAMPLES = 8, 32
#: The client's timeout for a repeated probe (seconds): the namespaces answer in
#: well under a millisecond.
RESAMPLE_TIMEOUT = 0.2
#: The source a probe names for the client on the nodes' subnet.
OUTSIDE = "outside"


@dataclass(frozen=True, slots=True)
class Probe:
    """One connection to try: ``src`` (``ns/pod``, ``ns/pod/container``, a node name or
    ``"outside"``), ``dst`` (``ns/pod``, a node name, an IP, ``"localhost"``), the port
    and protocol (``TCP``, ``UDP``, ``ICMP``), and what it is for (``label``)."""

    src: str
    dst: str
    port: int = 80
    protocol: str = "TCP"
    label: str = ""

    def __str__(self) -> str:
        port = "" if self.protocol == "ICMP" else f":{self.port}"
        return f"{self.label}: {self.protocol} {self.src} -> {self.dst}{port}"


@dataclass(frozen=True, slots=True)
class Answer:
    """One side's answer: ``outcome`` (``delivered``, ``refused``, ``dropped``), the
    pod that answered, the source address it saw, and the words behind it."""

    outcome: str
    pod: str | None
    source_ip_seen: str | None
    detail: str

    def __str__(self) -> str:
        text = self.outcome
        if self.pod:
            text += f" to {self.pod}"
        if self.source_ip_seen:
            text += f", source seen {self.source_ip_seen}"
        return text


@dataclass(frozen=True, slots=True)
class Comparison:
    """A probe with the walk's distinct answers (``lab``) and the kernel's
    (``kernel``), and how many times each side answered (``samples``)."""

    cluster: str
    probe: Probe
    lab: tuple[Answer, ...]
    kernel: tuple[Answer, ...]
    samples: int = 1

    def _keys(self, answers: tuple[Answer, ...]) -> set[tuple[str, str | None, str | None]]:
        if self.probe.protocol == "ICMP":  # nothing listens: no pod, no source seen
            return {(a.outcome, None, None) for a in answers}
        return {(a.outcome, a.pod, a.source_ip_seen) for a in answers}

    @property
    def differences(self) -> tuple[str, ...]:
        lab, kernel = self._keys(self.lab), self._keys(self.kernel)
        if lab == kernel:
            return ()
        out = []
        if {k[0] for k in lab} != {k[0] for k in kernel}:
            out.append("outcome")
        if {k[1] for k in lab} != {k[1] for k in kernel}:
            out.append("pod")
        if {k[2] for k in lab} != {k[2] for k in kernel}:
            out.append("source IP")
        return tuple(out) or ("answers",)

    @property
    def agree(self) -> bool:
        return not self.differences

    def __str__(self) -> str:
        mark = "agree" if self.agree else "DISAGREE (" + ", ".join(self.differences) + ")"
        lab = " / ".join(str(a) for a in self.lab)
        kernel = " / ".join(f"{a} ({a.detail})" if a.outcome != "delivered" else str(a)
                            for a in self.kernel)
        times = f" [{self.samples} samples each]" if self.samples > 1 else ""
        return f"[{self.cluster}] {self.probe}: {mark}; trace: {lab} | kernel: {kernel}{times}"


@dataclass
class CompareReport:
    """Every comparison of one or more clusters; ``disagreements`` are the result."""

    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def disagreements(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.agree]

    @property
    def agreed(self) -> int:
        return sum(1 for c in self.comparisons if c.agree)

    def extend(self, other: CompareReport) -> None:
        self.comparisons += other.comparisons

    def summary(self) -> str:
        return f"linux check: {len(self.comparisons)} probes, {self.agreed} agree"

    def __str__(self) -> str:
        lines = [str(c) for c in self.disagreements]
        if not lines:
            lines = ["every probe agrees"]
        lines.append(self.summary())
        return "\n".join(lines)


# ---------------------------------------------------------------------- the lab's answer
def _trace_outcome(t: object) -> str:
    if getattr(t, "delivered", False):
        return "delivered"
    hops = getattr(t, "hops", ())
    return "refused" if hops and hops[-1].action == "refuse" else "dropped"


def simulate(cluster: Cluster, probe: Probe, outside_ip: str | None) -> Answer:
    """The lab's answer to ``probe`` (``Cluster.trace``; for ICMP, the lab's ``ping``)."""
    src = outside_ip if probe.src == OUTSIDE and outside_ip else probe.src
    if probe.protocol == "ICMP":
        dst = cluster.node(probe.dst).ip if _is_node(cluster, probe.dst) else (
            cluster.pod(probe.dst).ip if "/" in probe.dst else probe.dst)
        if src == outside_ip:
            verdict = None
        else:
            verdict = clusterip_icmp(Context(cluster.dataplane(), src), dst)
        if verdict == "reject":
            return Answer("refused", None, None, "kube-proxy rejects an echo to a ClusterIP")
        if verdict is not None:
            return Answer("dropped", None, None, f"echo to a Service address: {verdict}")
        t = cluster.trace(src, probe.dst, 80, "TCP")
        ok = reached(t)
        return Answer("delivered" if ok else "dropped", t.destination_pod if ok else None,
                      None, t.reason)
    t = cluster.trace(src, probe.dst, probe.port, probe.protocol)
    outcome = _trace_outcome(t)
    return Answer(outcome, t.destination_pod if outcome == "delivered" else None,
                  t.source_ip_seen if outcome == "delivered" else None, t.reason)


def _kernel_answer(result: ProbeResult) -> Answer:
    if result.connected:
        return Answer("delivered", result.responder, result.source_ip_seen, result.detail)
    if result.detail.startswith(("refused", "rejected")):
        return Answer("refused", None, None, result.detail)
    return Answer("dropped", None, None, result.detail)


def _is_node(cluster: Cluster, name: str) -> bool:
    return cluster.store.snapshot().has_node(name)


# ---------------------------------------------------------------------- the probe set
def _user_pods(cluster: Cluster) -> list[Pod]:
    return [p for p in cluster.pods if p.namespace != "kube-system"]


def _declared_port(pod: Pod, protocol: str) -> int | None:
    """The pod's first declared container port of ``protocol``."""
    return next((p.container_port for c in pod.containers for p in c.ports
                 if p.protocol == protocol), None)


def _closed_port(pod: Pod) -> int:
    used = {p.container_port for c in pod.containers for p in c.ports}
    return next(port for port in range(81, 65536) if port not in used)


def default_probes(cluster: Cluster) -> list[Probe]:
    """The standard probes of a cluster (see ``compare``): for the pods outside
    kube-system, a pair on one node and a pair across nodes (TCP, UDP where the
    destination listens on UDP, ICMP), node to pod (own node and another), a closed
    port, localhost inside a pod with two containers, each Service's ClusterIP (TCP, a
    port it does not have, ICMP; from its only endpoint too: hairpin), each NodePort
    from every worker's own address and from outside; and the cluster DNS Service over
    UDP."""
    pods = _user_pods(cluster)
    probes: list[Probe] = []
    same = next(((a, b) for a in pods for b in pods if a is not b and a.node == b.node
                 and _declared_port(b, "TCP")), None)
    cross = next(((a, b) for a in pods for b in pods
                  if a.node != b.node and _declared_port(b, "TCP")),
                 None)
    for kind, pair in (("same node", same), ("cross node", cross)):
        if pair is None:
            continue
        a, b = pair
        probes.append(Probe(a.ref, b.ref, _declared_port(b, "TCP") or 80, "TCP",
                            f"pod to pod, {kind}"))
        udp = _declared_port(b, "UDP")
        if udp:
            probes.append(Probe(a.ref, b.ref, udp, "UDP", f"pod to pod, {kind}, UDP"))
        probes.append(Probe(a.ref, b.ref, 0, "ICMP", f"ping pod to pod, {kind}"))
        probes.append(Probe(a.ref, b.ref, _closed_port(b), "TCP",
                            f"pod to pod, {kind}, closed port"))
    if pods:
        target = cross[1] if cross else pods[0]
        for node in cluster.nodes:
            if node.name == target.node or node.name == (cross[0].node if cross else None):
                where = "own node" if node.name == target.node else "other node"
                probes.append(Probe(node.name, target.ref,
                                    _declared_port(target, "TCP") or 80, "TCP",
                                    f"node to pod, {where}"))
    two = next((p for p in pods if len({c.name for c in p.containers}) > 1), None)
    if two is not None:
        second = two.containers[1]
        for ct in two.containers[:1]:
            port = next((p.container_port for p in second.ports if p.protocol == "TCP"),
                        None) or _declared_port(two, "TCP") or 80
            probes.append(Probe(f"{two.ref}/{ct.name}", "localhost", port, "TCP",
                                "localhost inside a pod, the other container"))
    client = pods[0] if pods else None
    for svc in cluster.services:
        if svc.namespace == "kube-system" and svc.name == "kube-dns" and client is not None:
            probes.append(Probe(client.ref, svc.cluster_ip, 53, "UDP",
                                "pod to the DNS ClusterIP, UDP"))
            continue
        if svc.namespace in ("kube-system",) or svc.name == "kubernetes":
            continue
        if not svc.cluster_ip or svc.cluster_ip == "None":
            continue
        sp = svc.ports[0]
        members = [p for p in pods if svc.selector and all(
            p.labels.get(k) == v for k, v in svc.selector.items())]
        outsider = next((p for p in pods if p not in members), client)
        if outsider is not None:
            probes.append(Probe(outsider.ref, svc.cluster_ip, sp.port, sp.protocol,
                                f"pod to ClusterIP of {svc.ref}"))
            probes.append(Probe(outsider.ref, svc.cluster_ip, 0, "ICMP",
                                f"ping the ClusterIP of {svc.ref}"))
            probes.append(Probe(outsider.ref, svc.cluster_ip, sp.port + 1, sp.protocol,
                                f"pod to ClusterIP of {svc.ref}, a port it does not have"))
        lone = next((p for p in members if not any(
            e.address != p.ip for es in cluster.endpoint_slices(svc.ref) for e in es.endpoints)),
            None)
        if lone is not None:  # the only endpoint: DNAT always picks the client itself
            probes.append(Probe(lone.ref, svc.cluster_ip, sp.port, sp.protocol,
                                f"pod to ClusterIP of {svc.ref}, its own (hairpin)"))
        if sp.node_port:
            policy = svc.external_traffic_policy or "Cluster"
            for node in cluster.nodes:
                if node.name == "control-plane":
                    continue
                probes.append(Probe(node.name, node.ip, sp.node_port, sp.protocol,
                                    f"NodePort ({policy}) from the node itself"))
                probes.append(Probe(OUTSIDE, node.ip, sp.node_port, sp.protocol,
                                    f"NodePort ({policy}) from outside to {node.name}"))
    return probes


# ---------------------------------------------------------------------- compare
def compare(cluster: Cluster, probes: Iterable[Probe] | None = None, *,
            lab: LinuxLab | None = None, name: str = "", keep: bool = False) -> CompareReport:
    """Answer each probe with ``trace`` and with the kernel, in ``lab`` (or in a lab
    built for the call, torn down after unless ``keep``)."""
    if lab is None:
        from kubenet_lab.linux.realize import realize

        with realize(cluster, keep=keep) as built:
            return compare(cluster, probes, lab=built, name=name)
    chosen = list(default_probes(cluster) if probes is None else probes)
    report = CompareReport()
    label = name or repr(cluster)
    for probe in chosen:
        report.comparisons.append(_compare_one(cluster, lab, probe, label))
    return report


def _service_address(cluster: Cluster, probe: Probe) -> bool:
    """Does ``probe`` go to a Service port with more than one ready endpoint (one
    chosen at random)? A ClusterIP and one of its ports, or a node and a NodePort."""
    for svc in cluster.services:
        ports = [sp for sp in svc.ports if sp.protocol == probe.protocol and (
            (probe.dst == svc.cluster_ip and sp.port == probe.port)
            or (sp.node_port == probe.port
                and any(probe.dst in (n.ip, n.name) for n in cluster.nodes)))]
        if ports:
            ready = {e.address for es in cluster.endpoint_slices(svc.ref)
                     for e in es.endpoints if e.ready}
            return len(ready) > 1
    return False


def _compare_one(cluster: Cluster, lab: LinuxLab, probe: Probe, label: str) -> Comparison:
    def kernel(timeout: float) -> Answer:
        return _kernel_answer(lab.probe(probe.src, probe.dst, probe.port, probe.protocol,
                                        timeout=timeout))

    sim = [simulate(cluster, probe, lab.outside_ip)]
    real = [kernel(1.0)]
    if _service_address(cluster, probe) and probe.protocol != "ICMP":
        def keys(answers: list[Answer]) -> set[tuple[str, str | None, str | None]]:
            return {(a.outcome, a.pod, a.source_ip_seen) for a in answers}

        while len(sim) < MAX_SAMPLES and (len(sim) < MIN_SAMPLES
                                           or keys(sim) != keys(real)):
            sim.append(simulate(cluster, probe, lab.outside_ip))
            real.append(kernel(RESAMPLE_TIMEOUT))
    return Comparison(label, probe, _distinct(sim), _distinct(real), len(sim))


def _distinct(answers: list[Answer]) -> tuple[Answer, ...]:
    seen: dict[tuple[str, str | None, str | None], Answer] = {}
    for a in answers:
        seen.setdefault((a.outcome, a.pod, a.source_ip_seen), a)
    return tuple(sorted(seen.values(), key=lambda a: (a.outcome, a.pod or "",
                                                      a.source_ip_seen or "")))
