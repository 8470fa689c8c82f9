"""Exercises of lesson 03, Services, kube-proxy and DNS.

The checks compute the right answer from the learner's cluster (chain names with
kube-proxy's own hash), so they stay right if the lesson's cluster changes.
"""

from __future__ import annotations

from typing import Any

from kubenet_lab.cluster import Cluster
from kubenet_lab.dataplane.kube_proxy import service_chain_name
from kubenet_lab.exercises.base import Check, Exercise

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
    return ("Find the rule of KUBE-SERVICES whose comment is \"default/web:http cluster IP\" "
            "and read its -j target.")


def _backend_trace(cluster: Cluster):
    return cluster.trace("default/client", "backend.default", port=80)


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
                  "There is no Service default/backend yet: c.add_service(...) or "
                  "c.apply(...) a Service manifest."),
            Check(lambda a, c: any(p.port == 80 for p in c.service("default/backend").ports),
                  "The Service must listen on port 80 (ports: [{port: 80, ...}])."),
            Check(lambda a, c: bool(c.endpoint_slices("default/backend")),
                  "The Service has no endpoints: its selector must match the pods' labels "
                  "(app: backend)."),
            Check(lambda a, c: _backend_trace(c).delivered,
                  "The trace is refused: the pods listen on the port named http (8080), not "
                  "80. Set targetPort to 'http'."),
        ],
        explanation="The selector picks the ready pods labelled app=backend; targetPort 'http' "
        "is looked up in each pod's container ports, so the Service port 80 reaches 8080. "
        "The name backend.default resolves through the pod's search path to the cluster IP.",
        solution="c.add_service('default/backend', selector={'app': 'backend'},\n"
        "              ports=[{'port': 80, 'targetPort': 'http'}])",
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
                  "the frontend pods (print(kl.kubectl_get_pods(c)) or c.pods)."),
            Check(lambda a, c: _broken_trace(c).delivered,
                  lambda a, c: f"The trace is not delivered: {_broken_trace(c).reason}"),
        ],
        explanation="The API server accepts a selector that matches nothing; the Service then "
        "has no endpoints and kube-proxy installs a REJECT rule for it (connection refused). "
        "The selector had a typo; applying the Service again with the pods' real label fixes "
        "it.",
        solution="c.add_service('default/broken', selector={'app': 'frontend'}, ports=[80])",
    ),
]
