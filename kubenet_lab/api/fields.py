"""The one set of field helpers every decoder uses: the shape of a manifest (mappings,
lists, ``metadata``) and field values with the API server's rules and messages.

Sources: k8s.io/apimachinery pkg/util/validation/validation.go (DNS-1123 names,
label keys and values, IANA service names) and pkg/apis/core/validation.

>>> check_port("Pod x/a", "spec.containers[0].ports[0].containerPort", 80)
80
>>> mapping("Pod x/a", "spec", None)
{}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from typing import Any

from kubenet_lab.exceptions import ManifestError

__all__ = [
    "PROTOCOLS",
    "check_cidr",
    "check_dns_label",
    "check_dns_subdomain",
    "check_ip",
    "check_labels",
    "check_port",
    "check_port_name",
    "check_protocol",
    "invalid",
    "is_ip",
    "mapping",
    "meta",
    "sequence",
]

PROTOCOLS = ("TCP", "UDP", "SCTP")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def check_dns_label(obj: str, field: str, value: object) -> str:
    """A DNS-1123 label: at most 63 lowercase alphanumerics or '-', alphanumeric at both ends."""
    if not isinstance(value, str) or len(value) > 63 or not _DNS_LABEL.match(value):
        raise ManifestError(
            obj, field, value,
            "is not a valid DNS-1123 label",
            fix="use at most 63 lowercase letters, digits or '-', starting and ending "
            "with a letter or digit, e.g. 'my-name'",
        )
    return value


def check_dns_subdomain(obj: str, field: str, value: object) -> str:
    """A DNS-1123 subdomain: dot-separated labels, at most 253 characters."""
    if not isinstance(value, str) or len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise ManifestError(
            obj, field, value,
            "is not a valid DNS-1123 subdomain",
            fix="use lowercase letters, digits, '-' and '.', starting and ending with a "
            "letter or digit, e.g. 'web-1'",
        )
    return value


def check_labels(obj: str, field: str, labels: object) -> dict[str, str]:
    """A label map: qualified-name keys and values of at most 63 characters."""
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise ManifestError(obj, field, labels, "is not a map of label keys to values",
                            fix="write labels as key: value pairs")
    out: dict[str, str] = {}
    for key, value in labels.items():
        if not isinstance(key, str):
            raise ManifestError(obj, field, key, "is not a string label key")
        prefix, _, name = key.rpartition("/")
        if (prefix and not _DNS_SUBDOMAIN.match(prefix)) or len(name) > 63 or not (
            _LABEL_NAME.match(name)
        ):
            raise ManifestError(
                obj, f"{field}.{key}" if key else field, key,
                "is not a valid label key",
                fix="use an optional DNS prefix and '/', then at most 63 letters, digits, "
                "'-', '_' or '.', e.g. 'app' or 'example.com/tier'",
            )
        if isinstance(value, bool) or value is None:
            raise ManifestError(obj, f"{field}.{key}", value, "is not a string",
                                fix="quote the label value, e.g. \"true\"")
        value = str(value)
        if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
            raise ManifestError(
                obj, f"{field}.{key}", value, "is not a valid label value",
                fix="use at most 63 letters, digits, '-', '_' or '.', starting and ending "
                "with a letter or digit",
            )
        out[key] = value
    return out


def check_port(obj: str, field: str, value: object) -> int:
    """A port number in 1-65535."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ManifestError(obj, field, value, "is not in 1-65535",
                            fix="use a port number from 1 to 65535")
    return value


def check_port_name(obj: str, field: str, value: object) -> str:
    """An IANA service name: at most 15 characters, lowercase, at least one letter."""
    if (
        not isinstance(value, str)
        or len(value) > 15
        or not _PORT_NAME.match(value)
        or "--" in value
        or not re.search(r"[a-z]", value)
    ):
        raise ManifestError(
            obj, field, value, "is not a valid port name (IANA_SVC_NAME)",
            fix="use at most 15 lowercase letters, digits and single '-', with at least "
            "one letter, e.g. 'http'",
        )
    return value


def check_protocol(obj: str, field: str, value: object) -> str:
    """One of TCP, UDP, SCTP (the API's Protocol values, upper case)."""
    if value not in PROTOCOLS:
        raise ManifestError(obj, field, value, "is not a supported protocol",
                            fix="use one of TCP, UDP, SCTP")
    return str(value)


def check_ip(obj: str, field: str, value: object) -> IPv4Address:
    """An IPv4 address."""
    try:
        addr = ip_address(str(value))
    except ValueError:
        addr = None
    if not isinstance(addr, IPv4Address) or isinstance(value, int):
        raise ManifestError(obj, field, value, "is not a valid IPv4 address",
                            fix="write a dotted quad such as 10.244.1.5")
    return addr


def is_ip(text: object) -> bool:
    """Is ``text`` an IPv4 address in dotted-quad form?"""
    if not isinstance(text, str):
        return False
    try:
        IPv4Address(text)
    except ValueError:
        return False
    return True


def check_cidr(obj: str, field: str, value: object) -> IPv4Network:
    """An IPv4 CIDR whose host bits are zero."""
    try:
        net = ip_network(str(value), strict=True)
    except ValueError:
        net = None
    if not isinstance(net, IPv4Network) or "/" not in str(value):
        raise ManifestError(obj, field, value, "is not a valid IPv4 CIDR",
                            fix="write a network address and prefix such as 10.244.3.0/24")
    return net


def invalid(obj: str, field: str, value: Any, problem: str,
            fix: str | None = None) -> ManifestError:
    """The error for an invalid field (to ``raise``)."""
    return ManifestError(obj, field, value, problem, fix=fix)


def mapping(obj: str, field: str, value: Any, required: bool = False) -> Mapping[str, Any]:
    """``value`` as a mapping (None: an empty one, unless ``required``)."""
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise ManifestError(obj, field, value, "Required value" if value is None else
                            "is not a mapping", fix=f"write {field} as key: value pairs")
    return value


def sequence(obj: str, field: str, value: Any, required: bool = False) -> list[Any]:
    """``value`` as a list (None: an empty one, unless ``required``)."""
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ManifestError(obj, field, value, "Required value" if value is None else
                            "is not a list", fix=f"write {field} as a YAML list ('- ...')")
    return value


def meta(doc: Mapping[str, Any], kind: str, namespaced: bool) -> tuple[str, str, str, dict]:
    """``(object, namespace, name, labels)`` of a manifest; ``object`` names it in error
    messages (``"Pod x/a"``, ``"Node node-1"``)."""
    metadata = doc.get("metadata")
    if not isinstance(metadata, Mapping):
        raise ManifestError(kind, "metadata", metadata, "is missing or not a mapping",
                            fix="add metadata: {name: ...}")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise ManifestError(kind, "metadata.name", name, "Required value",
                            fix="give the object a name")
    ns = metadata.get("namespace", "default") if namespaced else ""
    obj = f"{kind} {ns}/{name}" if namespaced else f"{kind} {name}"
    labels = metadata.get("labels") or {}
    return obj, ns, name, labels
