"""Errors that kubenet_lab raises on bad input.

A dropped packet or a denied connection is a *result* (``Trace(delivered=False)``),
never an exception. Exceptions are for input the lab cannot accept: a malformed
manifest, a name that does not exist, an address range that has run out.

Hierarchy::

    KubenetLabError                     base of every error the package raises
    ├── ManifestError (ValueError)      a manifest or argument is malformed or invalid
    │   └── UnsupportedKindError        apply() got a kind the lab does not model (yet)
    ├── NotFoundError (LookupError)     a pod, node, namespace, ... does not exist
    ├── ConflictError (ValueError)      a name or address is already taken
    ├── AddressExhaustedError (ValueError)
    │                                   a CIDR has no free block or address left
    └── UnschedulableError (RuntimeError)
                                        no node can run a pod

Every error carries the object it is about (``obj``, e.g. ``"Pod x/a"``), the field
(``field``, e.g. ``"spec.containers[0].ports[0].containerPort"``) and the offending
``value``, and its message says how to fix the problem.

Examples
--------
>>> err = kl.ManifestError("Pod x/a", "spec.containers[0].ports[0].containerPort",
...                        70000, "is not in 1-65535", fix="use a port from 1 to 65535")
>>> print(err)  # doctest: +NORMALIZE_WHITESPACE
Pod x/a: spec.containers[0].ports[0].containerPort: 70000 is not in 1-65535
(use a port from 1 to 65535)
>>> isinstance(err, ValueError)
True
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AddressExhaustedError",
    "ConflictError",
    "KubenetLabError",
    "ManifestError",
    "NotFoundError",
    "UnschedulableError",
    "UnsupportedKindError",
]


class KubenetLabError(Exception):
    """Base class of every error kubenet_lab raises on bad input.

    Parameters
    ----------
    obj : str
        The object the error is about, as Kubernetes names it (``"Pod x/a"``,
        ``"Node node-1"``, ``"trace"``).
    field : str or None
        The field at fault, in the API's path notation, or None.
    value : object
        The offending value (shown with ``repr`` for strings).
    problem : str
        What is wrong with the value, as a phrase (``"is not in 1-65535"``).
    fix : str or None
        How to fix it.
    """

    def __init__(
        self,
        obj: str,
        field: str | None,
        value: Any,
        problem: str,
        *,
        fix: str | None = None,
    ) -> None:
        self.obj = obj
        self.field = field
        self.value = value
        self.problem = problem
        self.fix = fix
        shown = repr(value) if isinstance(value, str) else str(value)
        where = f"{obj}: {field}: " if field else f"{obj}: "
        message = f"{where}{shown} {problem}"
        if fix:
            message += f" ({fix})"
        super().__init__(message)


class ManifestError(KubenetLabError, ValueError):
    """A manifest or an argument is malformed, or a field has an invalid value.

    Raised by ``Cluster.apply`` (nothing is applied), by the ``add_*`` verbs and by
    ``Cluster.trace`` for an out-of-range port or unknown protocol.
    """


class UnsupportedKindError(ManifestError):
    """``Cluster.apply`` got a ``kind`` (or ``apiVersion``) the lab does not model."""


class NotFoundError(KubenetLabError, LookupError):
    """A pod, node, namespace or other named object does not exist."""


class ConflictError(KubenetLabError, ValueError):
    """A name or an address is already in use by another object."""


class AddressExhaustedError(KubenetLabError, ValueError):
    """An address range has no free block or address left (podCIDRs, pod IPs, node IPs)."""


class UnschedulableError(KubenetLabError, RuntimeError):
    """No node can run a pod (taints, or every node already runs ``maxPods`` pods).

    A real cluster would leave the pod ``Pending``; the lab refuses it at once with the
    scheduler's own explanation.
    """
