"""``metadata`` as the API server fills it in, for what ``Cluster.get`` shows
(``kubectl get -o yaml``): who an object is and when it was written.

- ``creationTimestamp``: the Store's clock when the object was created
  (``StoreView.created``), in seconds after ``kubenet_lab.model.names.EPOCH``
  (2026-12-01T09:00:00Z), printed as the API prints times (RFC 3339, UTC).
- ``uid``: a UUID 5 of ``UID_NAMESPACE`` and ``"<Kind>/<namespace>/<name>"``, so the same
  object always has the same uid. (A real API server draws a random UUID 4 at each
  creation: an object deleted and created again gets a new one; in the lab it gets the
  same one.)
- ``resourceVersion``: the Store's generation after the object's last write
  (``StoreView.revision_of``). A real one is etcd's revision of that write, a counter of
  every write in the cluster: it grows the same way, and only a change of the object
  moves it.
- ``generation``: only for the kinds whose API strategy sets it (``PrepareForCreate``
  sets ``Generation = 1``, each change of the spec adds one: Pods since 1.35,
  Deployments, NetworkPolicies, Ingresses, IngressClasses, EndpointSlices and every
  custom resource; not Services, Nodes, Namespaces, ConfigMaps or Secrets).
- ``managedFields`` are left out, as kubectl leaves them out without
  ``--show-managed-fields``.

Source: k8s.io/apimachinery pkg/apis/meta/v1/types.go (ObjectMeta), pkg/registry/*/
strategy.go (``PrepareForCreate``).

>>> object_meta("Namespace", "shop", None, created=2, revision=7)
{'creationTimestamp': '2026-12-01T09:00:02Z', 'name': 'shop', 'resourceVersion': '7',
 'uid': '...'}
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from kubenet_lab.model.names import timestamp

__all__ = ["UID_NAMESPACE", "controller_ref", "labelled", "object_meta", "uid"]

#: The namespace of the lab's uids (``uuid5(NAMESPACE_DNS, "kubenet-lab.invalid")``).
UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "kubenet-lab.invalid")


def uid(kind: str, name: str, namespace: str | None = None) -> str:
    """The uid of an object: the same kind, namespace and name, the same uid.

    >>> uid("Pod", "web", "default") == uid("Pod", "web", "default") != uid("Pod", "web", "x")
    True
    """
    return str(uuid.uuid5(UID_NAMESPACE, f"{kind}/{namespace or ''}/{name}"))


def object_meta(kind: str, name: str, namespace: str | None, *, created: int, revision: int,
                generation: int | None = None) -> dict[str, Any]:
    """The identity and times of an object (``namespace`` None for a cluster-scoped
    kind, ``generation`` None for a kind without one)."""
    out: dict[str, Any] = {"creationTimestamp": timestamp(created), "name": name,
                           "resourceVersion": str(revision), "uid": uid(kind, name, namespace)}
    if namespace is not None:
        out["namespace"] = namespace
    if generation is not None:
        out["generation"] = generation
    return out


def controller_ref(api_version: str, kind: str, name: str,
                   namespace: str | None = None) -> dict[str, Any]:
    """An ``ownerReferences`` entry for an object's controller, as
    ``metav1.NewControllerRef`` makes it (``controller`` and ``blockOwnerDeletion``
    true); ``namespace`` only names the owner's uid.

    >>> sorted(controller_ref("v1", "Service", "web", "default"))
    ['apiVersion', 'blockOwnerDeletion', 'controller', 'kind', 'name', 'uid']
    """
    return {"apiVersion": api_version, "blockOwnerDeletion": True, "controller": True,
            "kind": kind, "name": name, "uid": uid(kind, name, namespace)}


def labelled(labels: Mapping[str, str]) -> dict[str, Any]:
    """``metadata`` with the labels, if there are any (an empty map is not shown).

    >>> labelled({"app": "web"}), labelled({})
    ({'labels': {'app': 'web'}}, {})
    """
    return {"labels": dict(labels)} if labels else {}
