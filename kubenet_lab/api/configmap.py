"""ConfigMaps, and the one the lab reads: ``kube-system/ip-masq-agent``, whose ``config``
key ip-masq-agent parses (kubernetes-sigs/ip-masq-agent cmd/ip-masq-agent, facts sheet
§4.1). The API server accepts any ConfigMap; the lab checks that one at apply, as the
agent would refuse it, so that a typo shows at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import check_cidr, check_config_key, mapping, meta, string
from kubenet_lab.api.load import load_yaml
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.cloud import ConfigMap

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["IP_MASQ_AGENT", "decode_config_map", "encode_config_map", "parse_ip_masq_config"]

#: The ConfigMap ip-masq-agent reads.
IP_MASQ_AGENT = "kube-system/ip-masq-agent"


def decode_config_map(store: StoreView, doc: Mapping[str, Any]) -> ConfigMap:
    """A v1 ConfigMap manifest (string values only, under keys the API server accepts:
    apimachinery ``IsConfigMapKey``)."""
    obj, ns, name, _ = meta(doc, "ConfigMap", namespaced=True)
    data = dict(mapping(obj, "data", doc.get("data")))
    for key, value in data.items():
        check_config_key(obj, f"data.{key}", key)
        if not isinstance(value, str):
            raise ManifestError(obj, f"data.{key}", value, "is not a string",
                                fix="quote the value; ConfigMap data values are strings")
    store.namespace(ns)
    if f"{ns}/{name}" == IP_MASQ_AGENT:
        parse_ip_masq_config(obj, data.get("config", ""))
    return ConfigMap(ns, name, dict(sorted(data.items())))


def parse_ip_masq_config(obj: str, text: Any) -> dict[str, Any]:
    """Parse the ConfigMap's ``data.config`` (YAML or JSON) as the agent does, into
    ``MasqConfig``'s fields (cmd/ip-masq-agent: nonMasqueradeCIDRs a list of CIDRs,
    masqLinkLocal and masqLinkLocalIPv6 booleans, resyncInterval a duration)."""
    docs = load_yaml(text, f"{obj}: data.config") if isinstance(text, str) else [text]
    raw = docs[0] if docs else None
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ManifestError(obj, "data.config", text, "is not a mapping",
                            fix="write nonMasqueradeCIDRs, masqLinkLocal, resyncInterval keys")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        field = f"data.config.{key}"
        if key == "nonMasqueradeCIDRs":
            if not isinstance(value, list):
                raise ManifestError(obj, field, value, "is not a list",
                                    fix="write a YAML list of CIDRs")
            out[key] = [str(check_cidr(obj, f"{field}[{i}]", v)) for i, v in enumerate(value)]
        elif key in ("masqLinkLocal", "masqLinkLocalIPv6"):
            if not isinstance(value, bool):
                raise ManifestError(obj, field, value, "is not a boolean",
                                    fix="use true or false")
            out[key] = value
        elif key == "resyncInterval":
            out[key] = string(obj, field, value)
        else:
            raise ManifestError(obj, field, value, "is not a key ip-masq-agent reads",
                                fix="use nonMasqueradeCIDRs, masqLinkLocal, resyncInterval")
    return out


def encode_config_map(view: StoreView, cm: ConfigMap) -> dict[str, Any]:
    """A ConfigMap: its ``data`` (left out when empty, as Go's ``omitempty`` does); no
    spec and no status.

    >>> encode_config_map(None, ConfigMap("default", "cfg", {"a": "1"}))
    {'apiVersion': 'v1', 'data': {'a': '1'}, 'kind': 'ConfigMap'}
    """
    return {"apiVersion": "v1", **({"data": dict(cm.data)} if cm.data else {}),
            "kind": "ConfigMap"}
