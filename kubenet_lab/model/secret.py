"""Secrets (v1), as far as networking needs them: a ``kubernetes.io/tls`` Secret holds
the certificate (``tls.crt``) and key (``tls.key``) an Ingress ``tls`` entry or a
Gateway listener's ``certificateRefs`` name.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Secret"]


@dataclass(frozen=True, slots=True)
class Secret:
    """A Secret (v1): its type and its ``data``, each key's value base64-encoded as the
    API server stores it (``stringData`` is merged into ``data`` on write).

    >>> Secret("web", "tls", "kubernetes.io/tls", (("tls.crt", "Qw=="), ("tls.key", "Sw=="))).keys
    ('tls.crt', 'tls.key')
    """

    namespace: str
    name: str
    type: str = "Opaque"
    data: tuple[tuple[str, str], ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def keys(self) -> tuple[str, ...]:
        """The names of its data keys."""
        return tuple(key for key, _ in self.data)
