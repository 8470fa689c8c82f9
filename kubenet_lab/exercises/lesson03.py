"""Exercises of lesson 03, Services, kube-proxy and DNS.

The checks compute the right answer from the learner's cluster (chain names with
kube-proxy's own hash), so they stay right if the lesson's cluster changes.

Exercises 3.2 and 3.3 start from ``setup()``: a fresh cluster with a client pod and the
pods (and, for 3.3, the Service with a typo in its selector) the exercise needs, so the
answer cell runs the same however often it runs. Their hints read the learner's Service:
its ports, its selector against the pods' labels, and its ``targetPort``, which "can be a
string, the name of a port in the backend Pods" (kubernetes.io, Service, "Port
definitions"); a chain of another Service is named by its ``namespace/name:port``
comment, as kube-proxy hashes it (pkg/proxy/iptables/proxier.go ``servicePortChainName``).
"""

from __future__ import annotations

from typing import Any

from kubenet_lab.cluster import Cluster
from kubenet_lab.dataplane.kube_proxy import service_chain_name
from kubenet_lab.exercises.base import Check, Exercise
from kubenet_lab.model.pod import Container, ContainerPort

__all__ = ["EXERCISES"]


def _svc_chain(cluster: Cluster) -> str:
    svc = cluster.service("default/web")
    return service_chain_name("KUBE-SVC-", svc.port_name(svc.ports[0]), svc.ports[0].protocol)


def _chain_hint(answer: Any, cluster: Cluster) -> str:
    text = str(answer).strip()
    if text.startswith("KUBE-SEP-"):
        return ("That is an endpoint chain (one per pod). The Service chain is the one "
                "KUBE-SERVICES jumps to for the cluster IP.")
    if not text.startswith("KUBE-SVC-"):
        return "Service chains are named KUBE-SVC- followed by 16 characters."
    others = {service_chain_name("KUBE-SVC-", svc.port_name(sp), sp.protocol):
              svc.port_name(sp) for svc in cluster.services for sp in svc.ports}
    if text in others:
        return (f"That is the Service chain of {others[text]}, another Service: find the "
                "one of default/web:http.")
    return ("Find the rule of KUBE-SERVICES whose comment is \"default/web:http cluster IP\" "
            "and read its -j target.")


def _client_cluster() -> Cluster:
    """A cluster like lesson 03's: two workers and a client pod on node-1."""
    c = Cluster(workers=2)
    c.add_pod("default/client", node="node-1")
    return c


def _backend_cluster() -> Cluster:
    """Exercise 3.2's start: the client and two backend pods listening on a port named
    http (8080), no Service yet."""
    c = _client_cluster()
    for i in (1, 2):
        c.add_pod(f"default/backend-{i}", labels={"app": "backend"},
                  containers=[Container("api", ports=[ContainerPort(8080, "http")])])
    return c


def _frontend_cluster() -> Cluster:
    """Exercise 3.3's start: two frontend pods and a Service whose selector has a typo."""
    c = _client_cluster()
    for i in (1, 2):
        c.add_pod(f"default/frontend-{i}", labels={"app": "frontend"})
    c.add_service("default/broken", selector={"app": "fronted"}, ports=[80])
    return c


def _backend_trace(cluster: Cluster):
    return cluster.trace("default/client", "backend.default", port=80)


def _target_hint(answer: Any, cluster: Cluster) -> str:
    """Why the trace to the Service fails, from its targetPort (never the fix itself
    when the targetPort is already right)."""
    port = next(p for p in cluster.service("default/backend").ports if p.port == 80)
    reason = _backend_trace(cluster).reason
    if port.target_port in (8080, "http"):
        return f"The trace is not delivered: {reason}"
    return (f"The trace fails ({reason.rstrip('.')}). The Service sends port 80 to the "
            f"pods' port {port.target_port!r}, but they listen on the container port named "
            "http: targetPort can name a port.")


def _broken_trace(cluster: Cluster):
    svc = cluster.service("default/broken")
    return cluster.trace("default/client", svc.cluster_ip or "", port=80)


EXERCISES = [
    Exercise(
        "3.1",
        "Which chain does kube-proxy jump to for the cluster IP of default/web? Answer "
        "with its name as iptables-save prints it.",
        checks=[Check(lambda a, c: str(a).strip() == _svc_chain(c), _chain_hint)],
        explanation="KUBE-SERVICES matches the cluster IP and port and jumps to KUBE-SVC-<h>, "
        "where <h> is the first 16 base32 characters of sha256('default/web:http' + 'tcp'). "
        "The name only depends on the Service's name and port, never on its pods.",
        solution="line = next(l for l in c.iptables_save('node-1').splitlines()\n"
        "            if 'default/web:http cluster IP' in l and l.startswith('-A KUBE-SERVICES'))\n"
        "answer = line.split(' -j ')[1]",
    ),
    Exercise(
        "3.2",
        "Create a Service default/backend that sends port 80 to the pods labelled "
        "app=backend, on their container port named http. Then "
        "c.trace('default/client', 'backend.default', port=80) must be delivered.",
        checks=[
            Check(lambda a, c: "default/backend" in {s.ref for s in c.services},
                  "There is no Service default/backend yet: c_backend.add_service(...) or "
                  "c_backend.apply(...) a Service manifest."),
            Check(lambda a, c: any(p.port == 80 for p in c.service("default/backend").ports),
                  lambda a, c: "The Service must listen on port 80 (ports: [{port: 80, "
                  "...}]); it listens on "
                  + ", ".join(str(p.port) for p in c.service("default/backend").ports) + "."),
            Check(lambda a, c: bool(c.endpoint_slices("default/backend")),
                  lambda a, c: "The Service has no endpoints: its selector "
                  f"{c.service('default/backend').selector} matches none of the pods' labels "
                  "(print(kl.kubectl_get_pods(c_backend)) or c_backend.pods)."),
            Check(lambda a, c: _backend_trace(c).delivered, _target_hint),
        ],
        explanation="The selector picks the ready pods labelled app=backend; targetPort 'http' "
        "is looked up in each pod's container ports, so the Service port 80 reaches 8080. "
        "The name backend.default resolves through the pod's search path to the cluster IP.",
        solution="c_backend = kl.exercise('3.2').setup()\n"
        "c_backend.add_service('default/backend', selector={'app': 'backend'},\n"
        "                      ports=[{'port': 80, 'targetPort': 'http'}])\nanswer = 'done'",
        cluster_setup=_backend_cluster,
    ),
    Exercise(
        "3.3",
        "Service default/broken has no endpoints. Find out why (c.endpoint_slices, the pods' "
        "labels) and fix it so that a trace from default/client to its cluster IP, port 80, "
        "is delivered. Set answer = 'done'.",
        checks=[
            Check(lambda a, c: bool(c.endpoint_slices("default/broken")),
                  lambda a, c: "Still no endpoints. The selector is "
                  f"{c.service('default/broken').selector}; compare it with the labels of "
                  "the frontend pods (print(kl.kubectl_get_pods(c_frontend)) or "
                  "c_frontend.pods)."),
            Check(lambda a, c: _broken_trace(c).delivered,
                  lambda a, c: f"The trace is not delivered: {_broken_trace(c).reason}"),
        ],
        explanation="The API server accepts a selector that matches nothing; the Service then "
        "has no endpoints and kube-proxy installs a REJECT rule for it (connection refused). "
        "The selector had a typo; applying the Service again with the pods' real label fixes "
        "it.",
        solution="c_frontend = kl.exercise('3.3').setup()\n"
        "c_frontend.add_service('default/broken', selector={'app': 'frontend'}, ports=[80])"
        "\nanswer = 'done'",
        cluster_setup=_frontend_cluster,
    ),
]
