"""Deployments: a template and a replica count that the lab turns into pods."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubenet_lab.model.pod import Container, Toleration

__all__ = ["Deployment"]


@dataclass(frozen=True, slots=True)
class Deployment:
    """A Deployment.

    Its pods are named ``<name>-<pod-template-hash>-<suffix>`` as a ReplicaSet names
    them; here the hash and the suffix are derived from the template and the replica's
    index, so the same manifest always gives the same names.
    """

    namespace: str
    name: str
    replicas: int
    selector: dict[str, str] = field(default_factory=dict, hash=False)
    template_labels: dict[str, str] = field(default_factory=dict, hash=False)
    containers: tuple[Container, ...] = ()
    tolerations: tuple[Toleration, ...] = ()
    template_hash: str = ""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"
