"""Exercises of lesson 05, ingress: from the internet to a Service.

The checks compute the right answer from the learner's cluster. Exercise 5.2 starts
from ``setup()`` (the cloud, ingress-nginx with its IngressClass nginx, and the pod and
Service blog), and its hints are what the controller does with the learner's Ingress:
why it ignores it (``controllers.ingress.ignored``, ingress-nginx ``GetIngressClass``),
the 404 of no matching path, the 308 of a ``tls:`` host, and the 503 of a backend
Service or port that does not exist (ingress-nginx answers 503 when an upstream has no
endpoints). "Any path" is checked with ``BLOG_PATHS``, / and two deeper paths: an
``Exact /`` path takes / itself only and the others fall to the default backend's 404
(ingress-nginx ``getBackendServers`` keeps its default ``location /`` beside a path of
the same value and another type), while ``Prefix /`` matches every path, element by
element (Kubernetes docs, Ingress, "Examples": ``Prefix /`` matches all paths, ``Exact
/foo`` does not match ``/foo/``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubenet_lab.cluster import Cluster
from kubenet_lab.controllers.ingress import handled, ignored, route
from kubenet_lab.exercises.base import Check, Exercise
from kubenet_lab.model.pod import Container, ContainerPort

__all__ = ["EXERCISES"]

#: https: shop.example.com has TLS, so ingress-nginx answers plain http with a 308
#: redirect to this URL.
URL = "https://shop.example.com/api/v1/items"


def _service(cluster: Cluster) -> str:
    _, ing, target = route(cluster.store, "shop.example.com", "/api/v1/items")
    backend = getattr(target, "backend", target)
    return getattr(backend, "service", "")


def _shop_services(cluster: Cluster) -> dict[str, str]:
    """Service name -> the path (type and value) that sends to it, of the rules of
    shop.example.com."""
    return {p.backend.service: f"{p.path_type} {p.path}" for ing in cluster.ingresses
            for rule in ing.rules if rule.host == "shop.example.com" for p in rule.paths}


def _service_hint(answer: Any, cluster: Cluster) -> str:
    text = str(answer).strip()
    paths = _shop_services(cluster)
    if "/" in text or "." in text:
        return "Answer with the Service's name only, as the Ingress's backend names it."
    if text in paths and paths[text].startswith("Exact"):
        return (f"{text}'s path is {paths[text]}: Exact matches that path only, not the "
                "paths under it.")
    if text in paths:
        return (f"{text}'s path ({paths[text]}) matches, but so does another: of the Prefix "
                "paths that match (element by element), the longest one wins.")
    return (f"No path of shop.example.com sends to {text!r}: its rules send to "
            f"{', '.join(sorted(paths))}. Which of their paths match /api/v1/items?")


#: Exercise 5.2's "any path": the root, a path under it, and one two elements deep.
BLOG_PATHS = ("/", "/about", "/a/b")


def _blog(cluster: Cluster, path: str = "/"):
    return cluster.trace("internet", f"http://blog.example.com{path}")


def _first_failing(cluster: Cluster, ok: Callable[[int | None], bool]) -> str | None:
    """The first of ``BLOG_PATHS`` whose HTTP status ``ok`` refuses, or None."""
    return next((p for p in BLOG_PATHS if not ok(_blog(cluster, p).http_status)), None)


def _not_404(status: int | None) -> bool:
    return status != 404


def _is_200(status: int | None) -> bool:
    return status == 200


def _blog_ingresses(cluster: Cluster) -> list[Any]:
    return [i for i in cluster.ingresses if any(r.host == "blog.example.com" for r in i.rules)]


def _ignored_hint(answer: Any, cluster: Cluster) -> str:
    return "ingress-nginx ignores your Ingress: " + next(
        ignored(cluster.store, i) for i in _blog_ingresses(cluster)) + "."


def _blog_paths(cluster: Cluster) -> list[Any]:
    return [p for i in _blog_ingresses(cluster) for r in i.rules
            if r.host == "blog.example.com" for p in r.paths]


def _not_found_hint(answer: Any, cluster: Cluster) -> str:
    path = _first_failing(cluster, _not_404) or "/"
    paths = ", ".join(f"{p.path_type} {p.path}" for p in _blog_paths(cluster)) or "none"
    if path != "/" and any(p.path_type == "Exact" for p in _blog_paths(cluster)):
        return (f"GET http://blog.example.com{path} gets 404 (its paths: {paths}): an Exact "
                "path matches itself only, so Exact / takes / alone. Prefix / matches every "
                "path, element by element (/, /about, /a/b).")
    return (f"The controller answers 404: no path of the blog.example.com rule matches "
            f"{path} (its paths: {paths}). A Prefix path takes every path under it.")


def _unavailable_hint(answer: Any, cluster: Cluster) -> str:
    path = _first_failing(cluster, _is_200) or "/"
    _, _, target = route(cluster.store, "blog.example.com", path)
    backend = getattr(target, "backend", target)
    name = getattr(backend, "service", "")
    port = getattr(backend, "port_number", None) or getattr(backend, "port_name", None)
    services = {s.name: s for s in cluster.services if s.namespace == "default"}
    if name not in services:
        return (f"The controller answers 503: the rule sends to Service {name!r}, which does "
                "not exist in namespace default.")
    ports = [sp.port for sp in services[name].ports] + [sp.name for sp in services[name].ports]
    if port not in ports:
        return (f"The controller answers 503: Service {name} has no port {port!r} (its ports: "
                f"{', '.join(str(sp.port) for sp in services[name].ports)}).")
    return (f"The controller answers {_blog(cluster, path).http_status} to {path}: "
            f"{_blog(cluster, path).reason}")


def _blog_cluster() -> Cluster:
    """Exercise 5.2's start: lesson 05's cloud with the ingress controller (IngressClass
    nginx, not the default class) and a pod and Service blog, no Ingress yet."""
    c = Cluster(workers=3)
    c.add_cloud_load_balancer()
    c.add_ingress_controller()
    c.add_pod("default/blog", labels={"app": "blog"},
              containers=[Container("web", ports=[ContainerPort(80)])])
    c.add_service("default/blog", selector={"app": "blog"}, ports=[80])
    return c


EXERCISES = [
    Exercise(
        "5.1",
        f"Which Service does the Ingress controller send {URL} to? Answer with its name.",
        checks=[Check(lambda a, c: str(a).strip() == _service(c), _service_hint)],
        explanation="Host shop.example.com selects the rules of that host; of its paths, "
        "Prefix / and Prefix /api both match /api/v1/items, and the longest one wins. "
        "(Over plain http the controller would first answer 308 to this https URL.)",
        solution="answer = 'api'  # Prefix /api is the longest path that matches; check:\n"
        "# c.trace('internet', 'https://shop.example.com/api/v1/items').destination_pod",
    ),
    Exercise(
        "5.2",
        "Apply an Ingress named blog so that http://blog.example.com/ (any path) reaches the "
        "Service blog on its port 80. c.trace('internet', 'http://blog.example.com/') must "
        "answer HTTP 200, and so must /about and /a/b.",
        checks=[
            Check(lambda a, c: bool(_blog_ingresses(c)),
                  "No Ingress has a rule with host: blog.example.com."),
            Check(lambda a, c: any(handled(c.store, i) for i in _blog_ingresses(c)),
                  _ignored_hint),
            Check(lambda a, c: _first_failing(c, _not_404) is None, _not_found_hint),
            Check(lambda a, c: _blog(c).http_status != 308,
                  "The controller answers 308 (redirect to https): your Ingress has a tls: "
                  "section for blog.example.com, and ingress-nginx's ssl-redirect is on by "
                  "default. Leave tls: out here."),
            Check(lambda a, c: _first_failing(c, _is_200) is None, _unavailable_hint),
        ],
        explanation="With ingressClassName: nginx the controller serves the Ingress; a rule "
        "with host blog.example.com and a Prefix / path matches every path of that host "
        "(/, /about, /a/b: Prefix matches element by element, where Exact / would take / "
        "only), and the controller proxies to the endpoints of Service blog (no tls: "
        "section, so no redirect to https).",
        solution="c_blog = kl.exercise('5.2').setup()\n"
        "c_blog.apply('''\napiVersion: networking.k8s.io/v1\nkind: Ingress\n"
        "metadata: {name: blog}\nspec:\n  ingressClassName: nginx\n  rules:\n"
        "  - host: blog.example.com\n    http:\n      paths:\n      - {path: /, pathType: "
        "Prefix, backend: {service: {name: blog, port: {number: 80}}}}\n''')\n"
        "answer = 'done'",
        cluster_setup=_blog_cluster,
    ),
]
