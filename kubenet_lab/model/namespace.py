"""Namespaces."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Namespace"]


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace. Since Kubernetes 1.21 every namespace carries the immutable label
    ``kubernetes.io/metadata.name: <name>``, which network policies select on."""

    name: str
    labels: dict[str, str] = field(default_factory=dict, hash=False)
