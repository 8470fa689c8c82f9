"""Pods, their containers and the ports the containers declare.

In the lab a container listens on exactly the ports it declares. In a real cluster
``ports`` is informational: a process may listen on a port it does not declare. The
lessons say so where it matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubenet_lab.model.arguments import check_fields, check_value, checked
from kubenet_lab.model.node import Taint

__all__ = ["Container", "ContainerPort", "Pod", "Toleration"]


@checked
@dataclass(frozen=True, slots=True)
class ContainerPort:
    """``spec.containers[].ports[]``: a port number, an optional name, a protocol."""

    container_port: int
    name: str | None = None
    protocol: str = "TCP"

    def __post_init__(self) -> None:
        check_fields(self)


@checked
@dataclass(frozen=True, slots=True)
class Container:
    """A container of a pod.

    ``ports`` accepts ``ContainerPort`` objects or plain port numbers (TCP).

    Examples
    --------
    >>> kl.Container("web", ports=[80]).ports
    (ContainerPort(container_port=80, name=None, protocol='TCP'),)
    """

    name: str
    image: str = "nginx:1.27"
    ports: tuple[ContainerPort, ...] = ()

    def __post_init__(self) -> None:
        ports = check_value("Container", "ports", self.ports, "Iterable[ContainerPort | int]")
        object.__setattr__(self, "ports", tuple(
            p if isinstance(p, ContainerPort) else ContainerPort(p) for p in ports))
        check_fields(self, skip=("ports",))


@checked
@dataclass(frozen=True, slots=True)
class Toleration:
    """A toleration; an empty ``key`` with operator ``Exists`` tolerates every taint."""

    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: str = ""

    def __post_init__(self) -> None:
        check_fields(self)

    def tolerates(self, taint: Taint) -> bool:
        if self.effect and self.effect != taint.effect:
            return False
        if not self.key:
            return self.operator == "Exists"
        if self.key != taint.key:
            return False
        return self.operator == "Exists" or self.value == taint.value


@dataclass(frozen=True, slots=True)
class Pod:
    """A pod: one network namespace shared by its containers, one IP.

    Attributes
    ----------
    namespace, name : str
    node : str
        ``spec.nodeName``.
    ip : str
        ``status.podIP``, from the node's podCIDR.
    labels : dict
    containers : tuple of Container
    owner : str or None
        ``"Deployment ns/name"`` for pods a Deployment made.
    ready : bool
        The ``Ready`` condition (False while a container crash-loops).
    crashing : tuple of str
        Containers that cannot start, e.g. because another container of the pod
        already listens on their port.
    warnings : tuple of str
        The warnings the API server returned when the pod was created.
    tolerations : tuple of Toleration
    """

    namespace: str
    name: str
    node: str
    ip: str
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    containers: tuple[Container, ...] = ()
    owner: str | None = None
    ready: bool = True
    crashing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    tolerations: tuple[Toleration, ...] = ()

    @property
    def ref(self) -> str:
        """``"namespace/name"``, the form ``Cluster.pod`` and ``Cluster.trace`` take."""
        return f"{self.namespace}/{self.name}"

    def listener(self, port: int, protocol: str = "TCP") -> str | None:
        """The name of the running container listening on ``port``/``protocol``, or None.

        When two containers declare the same port, the first one in spec order binds it
        and the other crash-loops (see ``crashing``).
        """
        for container in self.containers:
            if container.name in self.crashing:
                continue
            for p in container.ports:
                if p.container_port == port and p.protocol == protocol:
                    return container.name
        return None

    def container(self, name: str) -> Container:
        for c in self.containers:
            if c.name == name:
                return c
        raise KeyError(name)
