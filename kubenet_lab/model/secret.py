"""Secrets (v1), as far as networking needs them: a ``kubernetes.io/tls`` Secret holds
the certificate (``tls.crt``) and key (``tls.key``) an Ingress ``tls`` entry or a
Gateway listener's ``certificateRefs`` name.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Secret"]


@dataclass(frozen=True, slots=True)
class Secret:
    """A Secret (v1). The lab keeps its type and the names of its data keys, never the
    values (a ``kubernetes.io/tls`` Secret has ``tls.crt`` and ``tls.key``)."""

    namespace: str
    name: str
    type: str = "Opaque"
    keys: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"
