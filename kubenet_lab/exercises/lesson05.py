"""Exercises of lesson 05, ingress: from the internet to a Service.

The checks compute the right answer from the learner's cluster.
"""

from __future__ import annotations

from typing import Any

from kubenet_lab.cluster import Cluster
from kubenet_lab.controllers.ingress import route
from kubenet_lab.exercises.base import Check, Exercise

__all__ = ["EXERCISES"]

URL = "http://shop.example.com/api/v1/items"


def _service(cluster: Cluster) -> str:
    _, ing, target = route(cluster.store, "shop.example.com", "/api/v1/items")
    backend = getattr(target, "backend", target)
    return getattr(backend, "service", "")


def _service_hint(answer: Any, cluster: Cluster) -> str:
    if str(answer).strip() == "shop":
        return ("Both / and /api match (Prefix, element by element); the longest matching "
                "path wins.")
    return "Answer with the Service name the matching path sends to (e.g. 'shop')."


def _blog(cluster: Cluster):
    return cluster.trace("internet", "http://blog.example.com/")


EXERCISES = [
    Exercise(
        "5.1",
        f"Which Service does the Ingress controller send {URL} to? Answer with its name.",
        checks=[Check(lambda a, c: str(a).strip() == _service(c), _service_hint)],
        explanation="Host shop.example.com selects the rules of that host; of its paths, "
        "Prefix / and Prefix /api both match /api/v1/items, and the longest one wins.",
        solution="answer = c.trace('internet', 'http://shop.example.com/api/v1/items')"
        ".destination_pod  # then read its Service; or: 'api'",
    ),
    Exercise(
        "5.2",
        "Apply an Ingress named blog so that http://blog.example.com/ (any path) reaches the "
        "Service blog on its port 80. c.trace('internet', 'http://blog.example.com/') must "
        "answer HTTP 200.",
        checks=[
            Check(lambda a, c: any(r.host == "blog.example.com" for i in c.ingresses
                                   for r in i.rules),
                  "No Ingress has a rule with host: blog.example.com."),
            Check(lambda a, c: _blog(c).http_status != 404,
                  "The controller answers 404: no path of the blog.example.com rule matches /. "
                  "Use path: / with pathType: Prefix."),
            Check(lambda a, c: _blog(c).http_status == 200,
                  "The controller answers 503: the backend Service or port does not exist "
                  "(service name blog, port number 80)."),
        ],
        explanation="A rule with host blog.example.com and a Prefix / path matches every "
        "path of that host; the controller proxies to the endpoints of Service blog.",
        solution="c.apply('''\napiVersion: networking.k8s.io/v1\nkind: Ingress\n"
        "metadata: {name: blog}\nspec:\n  rules:\n  - host: blog.example.com\n    http:\n"
        "      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: blog, "
        "port: {number: 80}}}}\n''')",
    ),
]
