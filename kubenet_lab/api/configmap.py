"""ConfigMaps, and the one the lab reads: ``kube-system/ip-masq-agent``, whose ``config``
key ip-masq-agent parses (kubernetes-sigs/ip-masq-agent cmd/ip-masq-agent, facts sheet
§4.1). The API server accepts any ConfigMap; the lab checks that one at apply, as the
agent would refuse it, so that a typo shows at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.fields import check_cidr, mapping, meta
from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.cloud import ConfigMap

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["IP_MASQ_AGENT", "decode_config_map", "parse_ip_masq_config"]

#: The ConfigMap ip-masq-agent reads.
IP_MASQ_AGENT = "kube-system/ip-masq-agent"


def decode_config_map(store: StoreView, doc: Mapping[str, Any]) -> ConfigMap:
    """A v1 ConfigMap manifest (string values only)."""
    obj, ns, name, _ = meta(doc, "ConfigMap", namespaced=True)
    data = dict(mapping(obj, "data", doc.get("data")))
    for key, value in data.items():
        if not isinstance(value, str):
            raise ManifestError(obj, f"data.{key}", value, "is not a string",
                                fix="quote the value; ConfigMap data values are strings")
    store.namespace(ns)
    if f"{ns}/{name}" == IP_MASQ_AGENT:
        parse_ip_masq_config(obj, data.get("config", ""))
    return ConfigMap(ns, name, dict(sorted(data.items())))


def parse_ip_masq_config(obj: str, text: Any) -> dict[str, Any]:
    """Parse the ConfigMap's ``data.config`` (YAML or JSON) as the agent does."""
    import yaml  # on first use: ``import kubenet_lab`` stays fast

    try:
        raw = yaml.safe_load(text) if isinstance(text, str) else text
    except yaml.YAMLError as err:
        raise ManifestError(obj, "data.config", "<yaml>", f"is not valid YAML ({err})",
                            fix="write the config as YAML: nonMasqueradeCIDRs: [...]") from None
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ManifestError(obj, "data.config", text, "is not a mapping",
                            fix="write nonMasqueradeCIDRs, masqLinkLocal, resyncInterval keys")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "nonMasqueradeCIDRs":
            if not isinstance(value, list):
                raise ManifestError(obj, "data.config.nonMasqueradeCIDRs", value,
                                    "is not a list", fix="write a YAML list of CIDRs")
            out[key] = [str(check_cidr(obj, f"data.config.nonMasqueradeCIDRs[{i}]", v))
                        for i, v in enumerate(value)]
        elif key == "masqLinkLocal":
            if not isinstance(value, bool):
                raise ManifestError(obj, "data.config.masqLinkLocal", value, "is not a boolean",
                                    fix="use true or false")
            out[key] = value
        elif key in ("resyncInterval", "masqLinkLocalIPv6"):
            out[key] = value
        else:
            raise ManifestError(obj, f"data.config.{key}", value,
                                "is not a key ip-masq-agent reads",
                                fix="use nonMasqueradeCIDRs, masqLinkLocal, resyncInterval")
    return out
