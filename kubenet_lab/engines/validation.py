"""Field validation with the API server's rules and messages.

Sources: k8s.io/apimachinery pkg/util/validation/validation.go (DNS-1123 names,
label keys and values, IANA service names) and pkg/apis/core/validation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from typing import Any

from kubenet_lab.exceptions import ManifestError
from kubenet_lab.model.pod import Container

__all__ = [
    "PROTOCOLS",
    "check_cidr",
    "check_containers",
    "check_dns_label",
    "check_dns_subdomain",
    "check_ip",
    "check_labels",
    "check_port",
    "check_port_name",
    "check_protocol",
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


def check_containers(
    obj: str, containers: list[Container | Mapping[str, Any]]
) -> tuple[tuple[Container, ...], tuple[str, ...], tuple[str, ...]]:
    """Validate containers as the API server does; find port clashes between them.

    Returns the containers, the names of those that crash-loop because an earlier
    container already holds their port, and the API server's warnings.
    """
    if not containers:
        raise ManifestError(obj, "spec.containers", [], "is empty: a pod needs a container",
                            fix="add at least one container")
    out: list[Container] = []
    names: dict[str, int] = {}
    port_names: dict[str, str] = {}
    bound: dict[tuple[int, str], tuple[str, str]] = {}
    crashing: list[str] = []
    warnings: list[str] = []
    for i, c in enumerate(containers):
        if isinstance(c, Mapping):
            raise ManifestError(obj, f"spec.containers[{i}]", dict(c),
                                "is a dict; pass kl.Container objects or use apply()")
        if not isinstance(c, Container):
            raise ManifestError(obj, f"spec.containers[{i}]", c, "is not a Container")
        path = f"spec.containers[{i}]"
        check_dns_label(obj, f"{path}.name", c.name)
        if c.name in names:
            raise ManifestError(obj, f"{path}.name", c.name, "Duplicate value",
                                fix="give every container of a pod its own name")
        names[c.name] = i
        for j, p in enumerate(c.ports):
            ppath = f"{path}.ports[{j}]"
            check_port(obj, f"{ppath}.containerPort", p.container_port)
            check_protocol(obj, f"{ppath}.protocol", p.protocol)
            if p.name is not None:
                check_port_name(obj, f"{ppath}.name", p.name)
                if p.name in port_names:
                    raise ManifestError(
                        obj, f"{ppath}.name", p.name, "Duplicate value",
                        fix=f"{port_names[p.name]} already uses this port name; port names "
                        "must be unique within a pod",
                    )
                port_names[p.name] = ppath
            key = (p.container_port, p.protocol)
            if key in bound and bound[key][0] != c.name:
                warnings.append(f"{ppath}: duplicate port definition with {bound[key][1]}")
                if c.name not in crashing:
                    crashing.append(c.name)
            else:
                bound.setdefault(key, (c.name, ppath))
        out.append(c)
    return tuple(out), tuple(crashing), tuple(warnings)
