"""Exercises of lesson 05, ingress: from the internet to a Service.

The checks compute the right answer from the learner's cluster.
"""

from __future__ import annotations

from typing import Any

from kubenet_lab.cluster import Cluster
from kubenet_lab.controllers.ingress import handled, route
from kubenet_lab.exercises.base import Check, Exercise

__all__ = ["EXERCISES"]

#: https: shop.example.com has TLS, so ingress-nginx answers plain http with a 308
#: redirect to this URL.
URL = "https://shop.example.com/api/v1/items"


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


def _blog_ingresses(cluster: Cluster) -> list[Any]:
    return [i for i in cluster.ingresses if any(r.host == "blog.example.com" for r in i.rules)]


EXERCISES = [
    Exercise(
        "5.1",
        f"Which Service does the Ingress controller send {URL} to? Answer with its name.",
        checks=[Check(lambda a, c: str(a).strip() == _service(c), _service_hint)],
        explanation="Host shop.example.com selects the rules of that host; of its paths, "
        "Prefix / and Prefix /api both match /api/v1/items, and the longest one wins. "
        "(Over plain http the controller would first answer 308 to this https URL.)",
        solution="answer = c.trace('internet', 'https://shop.example.com/api/v1/items')"
        ".destination_pod  # then read its Service; or: 'api'",
    ),
    Exercise(
        "5.2",
        "Apply an Ingress named blog so that http://blog.example.com/ (any path) reaches the "
        "Service blog on its port 80. c.trace('internet', 'http://blog.example.com/') must "
        "answer HTTP 200.",
        checks=[
            Check(lambda a, c: bool(_blog_ingresses(c)),
                  "No Ingress has a rule with host: blog.example.com."),
            Check(lambda a, c: any(handled(c.store, i) for i in _blog_ingresses(c)),
                  "ingress-nginx ignores your Ingress: its IngressClass nginx is not the "
                  "default class, so add ingressClassName: nginx to the spec."),
            Check(lambda a, c: _blog(c).http_status != 404,
                  "The controller answers 404: no path of the blog.example.com rule matches /. "
                  "Use path: / with pathType: Prefix."),
            Check(lambda a, c: _blog(c).http_status != 308,
                  "The controller answers 308 (redirect to https): your Ingress has a tls: "
                  "section for blog.example.com, and ingress-nginx's ssl-redirect is on by "
                  "default. Leave tls: out here."),
            Check(lambda a, c: _blog(c).http_status == 200,
                  "The controller answers 503: the backend Service or port does not exist "
                  "(service name blog, port number 80)."),
        ],
        explanation="With ingressClassName: nginx the controller serves the Ingress; a rule "
        "with host blog.example.com and a Prefix / path matches every path of that host, "
        "and the controller proxies to the endpoints of Service blog (no tls: section, so "
        "no redirect to https).",
        solution="c.apply('''\napiVersion: networking.k8s.io/v1\nkind: Ingress\n"
        "metadata: {name: blog}\nspec:\n  ingressClassName: nginx\n  rules:\n"
        "  - host: blog.example.com\n    http:\n      paths:\n      - {path: /, pathType: "
        "Prefix, backend: {service: {name: blog, port: {number: 80}}}}\n''')",
    ),
]
