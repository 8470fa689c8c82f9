"""Secret manifests (v1), checked as the API server checks them (k8s.io/kubernetes
pkg/apis/core/validation/validation.go ``ValidateSecret``):

- every key of ``data`` and ``stringData`` a config key (``IsConfigMapKey``);
- ``data`` values base64 (the JSON decoding of ``[]byte``), ``stringData`` values
  strings, merged into ``data`` (base64-encoded) as the API server does on write;
- at most 1 MiB of data in all;
- ``type: kubernetes.io/tls`` requires ``data[tls.crt]`` and ``data[tls.key]``
  (``Required value``); the type defaults to ``Opaque``.

The lab keeps the values but never reads a certificate: a TLS listener or an Ingress
``tls`` entry needs only that the Secret exists with both keys.

Examples
--------
>>> s = decode_secret(kl.Cluster().store, {"apiVersion": "v1", "kind": "Secret",
...     "metadata": {"name": "tls"}, "type": "kubernetes.io/tls",
...     "stringData": {"tls.crt": "C", "tls.key": "K"}})
>>> s.keys, encode_secret(None, s)["data"]
(('tls.crt', 'tls.key'), {'tls.crt': 'Qw==', 'tls.key': 'Sw=='})
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import check_config_key, mapping, meta, string
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.secret import Secret

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["MAX_SECRET_SIZE", "TLS_KEYS", "decode_secret", "encode_secret"]

#: ``corev1.MaxSecretSize``.
MAX_SECRET_SIZE = 1024 * 1024
#: The keys a ``kubernetes.io/tls`` Secret must have.
TLS_KEYS = ("tls.crt", "tls.key")


def decode_secret(store: StoreView, doc: Mapping[str, Any]) -> Secret:
    """A v1 Secret manifest (its namespace must exist)."""
    obj, ns, name, _ = meta(doc, "Secret", namespaced=True)
    kind = string(obj, "type", doc.get("type"), "Opaque") or "Opaque"
    data: dict[str, str] = {}
    size = 0
    for key, value in mapping(obj, "data", doc.get("data")).items():
        field = f"data[{key}]"
        check_config_key(obj, field, key)
        value = string(obj, field, value, "")
        try:
            size += len(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raise ManifestError(obj, field, value, "illegal base64 data",
                                fix="base64-encode the value, or put it in stringData "
                                "as plain text") from None
        data[key] = value
    for key, value in mapping(obj, "stringData", doc.get("stringData")).items():
        field = f"stringData[{key}]"
        check_config_key(obj, field, key)
        raw = (string(obj, field, value, "") or "").encode()
        size += len(raw)
        data[key] = base64.b64encode(raw).decode()
    if size > MAX_SECRET_SIZE:
        raise ManifestError(obj, "data", f"{size} bytes",
                            f"Too long: must have at most {MAX_SECRET_SIZE} bytes",
                            fix="keep a Secret's data under 1 MiB")
    if kind == "kubernetes.io/tls":
        for key in TLS_KEYS:
            if key not in data:
                raise ManifestError(obj, f"data[{key}]", None, "Required value",
                                    fix="a kubernetes.io/tls Secret holds tls.crt and tls.key")
    store.namespace(ns)
    return Secret(ns, name, kind, tuple(sorted(data.items())))


def encode_secret(view: StoreView, secret: Secret) -> dict[str, Any]:
    """A Secret as ``kubectl get secret -o yaml`` shows it: ``data`` base64, ``type``."""
    out: dict[str, Any] = {"apiVersion": "v1"}
    if secret.data:
        out["data"] = dict(secret.data)
    return {**out, "kind": "Secret", "type": secret.type}
