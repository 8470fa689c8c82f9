"""Secret manifests (v1), checked as the API server checks them (k8s.io/kubernetes
pkg/apis/core/validation/validation.go ``ValidateSecret``, ``ValidateSecretUpdate``):

- ``data`` values base64, as ``encoding/json`` decodes a ``[]byte`` (Go's
  ``base64.StdEncoding``: padding required, ``\\r``/``\\n`` skipped; ``illegal base64
  data at input byte N``), ``stringData`` values strings, merged into ``data`` before
  validation (a ``stringData`` key wins), so every field path is ``data[KEY]``;
- ``type`` immutable on update (``field is immutable``), default ``Opaque``;
- every key a config key (``IsConfigMapKey``);
- at most 1 MiB of data in all (``Too long: may not be more than 1048576 bytes``);
- ``type: kubernetes.io/tls`` requires ``data[tls.crt]`` and ``data[tls.key]``
  (``Required value``). The other types' key checks (basic-auth, ssh-auth, dockercfg,
  dockerconfigjson, service-account-token) are not modelled.

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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import check_config_key, go_value, mapping, meta, string
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
    """A v1 Secret manifest (its namespace must exist), in the API server's order: the
    request body decoded (each ``data`` value base64, ``stringData`` values strings),
    ``stringData`` merged into ``data`` (it wins over a key of the same name: the v1 to
    internal conversion), then ``ValidateSecretUpdate`` (``type`` immutable) and
    ``ValidateSecret`` on the merged ``data``, whose field paths are ``data[KEY]`` for a
    key written in ``stringData`` too."""
    obj, ns, name, _ = meta(doc, "Secret", namespaced=True)
    kind = string(obj, "type", doc.get("type"), "Opaque") or "Opaque"
    data: dict[str, bytes] = {}
    for key, value in mapping(obj, "data", doc.get("data")).items():
        field = f"data[{key}]"
        value = string(obj, field, value, "") or ""
        raw = value.encode("utf-8", "surrogatepass")
        decoded, bad = _go_base64(raw)
        if bad is not None:
            raise ManifestError(obj, field, value, f"illegal base64 data at input byte {bad}",
                                fix="base64-encode the value (base64 -w0), or put it in "
                                "stringData as plain text")
        data[key] = decoded
    for key, value in mapping(obj, "stringData", doc.get("stringData")).items():
        value = string(obj, f"stringData[{key}]", value, "") or ""
        data[key] = _go_utf8(value)
    store.namespace(ns)  # the NamespaceLifecycle admission plugin, before validation
    old = store.find("Secret", f"{ns}/{name}")
    if old is not None and old.type != kind:
        raise ManifestError(obj, "type", kind, f"Invalid value: {go_value(kind)}: field is "
                            "immutable", fix=f"delete the Secret and create it again to "
                            f"change its type (it is {old.type})")
    for key in data:
        check_config_key(obj, f"data[{key}]", key)
    size = sum(len(value) for value in data.values())
    if size > MAX_SECRET_SIZE:
        raise ManifestError(obj, "data", f"{size} bytes",
                            f"Too long: may not be more than {MAX_SECRET_SIZE} bytes",
                            fix="keep a Secret's data under 1 MiB in all")
    if kind == "kubernetes.io/tls":
        for key in TLS_KEYS:
            if key not in data:
                raise ManifestError(obj, f"data[{key}]", None, "Required value",
                                    fix="a kubernetes.io/tls Secret holds tls.crt and tls.key")
    return Secret(ns, name, kind, tuple(sorted(
        (key, base64.b64encode(value).decode()) for key, value in data.items())))


_ALPHABET = {c: i for i, c in enumerate(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def _go_base64(src: bytes) -> tuple[bytes, int | None]:
    """Go's ``base64.StdEncoding.Decode`` (what ``encoding/json`` does to a ``[]byte``):
    the bytes, and None; or the offset its ``CorruptInputError`` reports. Like Go it
    skips ``\\r`` and ``\\n`` anywhere, needs the ``=`` padding and takes nothing after
    it (encoding/base64 ``decodeQuantum``).

    >>> _go_base64(b"QQ=="), _go_base64(b"QUJD\\nREVG"), _go_base64(b"QQ"), _go_base64(b"Q!==")
    ((b'A', None), (b'ABCDEF', None), (b'', 0), (b'', 1))
    """
    out = bytearray()
    si, n = 0, len(src)
    while True:
        quantum: list[int] = []
        while len(quantum) < 4:
            if si == n:
                if not quantum:
                    return bytes(out), None
                return b"", si - len(quantum)
            char = src[si]
            si += 1
            if char in _ALPHABET:
                quantum.append(_ALPHABET[char])
                continue
            if char in b"\r\n":
                continue
            if char != ord("="):
                return b"", si - 1
            if len(quantum) < 2:  # incorrect padding
                return b"", si - 1
            if len(quantum) == 2:  # a second "=" must follow
                while si < n and src[si] in b"\r\n":
                    si += 1
                if si == n:
                    return b"", n
                if src[si] != ord("="):
                    return b"", si - 1
                si += 1
            while si < n and src[si] in b"\r\n":
                si += 1
            if si < n:  # trailing garbage
                return b"", si
            break
        value = 0
        for sextet in quantum + [0] * (4 - len(quantum)):
            value = value << 6 | sextet
        out += value.to_bytes(3, "big")[:len(quantum) - 1]
        if len(quantum) < 4:
            return bytes(out), None


def _go_utf8(text: str) -> bytes:
    """A JSON string as Go reads it into ``[]byte``: UTF-8, a lone surrogate (YAML
    ``"\\ud800"``) replaced by U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()


def encode_secret(view: StoreView, secret: Secret) -> dict[str, Any]:
    """A Secret as ``kubectl get secret -o yaml`` shows it: ``data`` base64, ``type``."""
    out: dict[str, Any] = {"apiVersion": "v1"}
    if secret.data:
        out["data"] = dict(secret.data)
    return {**out, "kind": "Secret", "type": secret.type}
