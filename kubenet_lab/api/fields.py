"""The one set of field helpers every decoder uses: the shape of a manifest (mappings,
lists, ``metadata``) and field values with the API server's rules and messages.

Sources: k8s.io/apimachinery pkg/util/validation/validation.go (DNS-1123 names,
label keys and values, IANA service names) and pkg/apis/core/validation.

A field of the wrong JSON type (``string``, ``boolean``, ``mapping``, ``sequence``) is
refused with kube-openapi's words (pkg/validation/errors/schema.go: "... must be of type
string"), which the API server returns for a custom resource; for a built-in kind it
says the same in Go's (``json: cannot unmarshal number into Go struct field
Container.spec.containers.name of type string``). A null is an absent field, as Go's
encoding/json leaves the field at its zero value.

>>> check_port("Pod x/a", "spec.containers[0].ports[0].containerPort", 80)
80
>>> mapping("Pod x/a", "spec", None)
{}
>>> print(invalid_type("Pod x/a", "spec.containers[0].name", 5, "string"))
Pod x/a: spec.containers[0].name: 5 Invalid value: must be of type string (quote it, e.g. "5")
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from typing import Any

from kubenet_lab.exceptions import ManifestError, describe

__all__ = [
    "PROTOCOLS",
    "boolean",
    "check_cidr",
    "check_config_key",
    "check_dns_label",
    "check_dns_subdomain",
    "check_ip",
    "check_labels",
    "check_port",
    "check_port_name",
    "check_protocol",
    "go_value",
    "integer",
    "invalid",
    "invalid_type",
    "is_decimal",
    "is_ip",
    "mapping",
    "meta",
    "sequence",
    "string",
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


_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")


def check_config_key(obj: str, field: str, key: object) -> str:
    """A key of a ConfigMap's or a Secret's data, by apimachinery's ``IsConfigMapKey``
    (pkg/util/validation/validation.go): at most 253 characters of ``[-._a-zA-Z0-9]``,
    not ``.`` or ``..`` and not starting with ``..``; the first of its messages.

    >>> check_config_key("Secret x/s", "data[tls.crt]", "tls.crt")
    'tls.crt'
    >>> try:
    ...     check_config_key("Secret x/s", "data[..a]", "..a")
    ... except ManifestError as err:
    ...     print(err.problem)
    Invalid value: "..a": must not start with '..'
    """
    if not isinstance(key, str):
        raise invalid_type(obj, field, key, "string")
    if len(key) > 253:
        message = "must be no more than 253 characters"
    elif not _CONFIG_KEY.fullmatch(key):
        message = ("a valid config key must consist of alphanumeric characters, '-', '_' or "
                   "'.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
                   "validation is '[-._a-zA-Z0-9]+')")
    elif key in (".", ".."):
        message = f"must not be '{key}'"
    elif key.startswith(".."):
        message = "must not start with '..'"
    else:
        return key
    raise ManifestError(obj, field, key, f"Invalid value: {go_value(key)}: {message}",
                        fix="e.g. 'key.name', 'KEY_NAME' or 'key-name'")


def check_labels(obj: str, field: str, labels: object) -> dict[str, str]:
    """A label map: qualified-name keys and values of at most 63 characters."""
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
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
        if not isinstance(value, (str, int, float)):
            raise invalid_type(obj, f"{field}.{key}", value, "string")
        value = value if isinstance(value, str) else describe(value)  # 1.5 is "1.5"
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
    if value is None:
        raise ManifestError(obj, field, value, "Required value",
                            fix="use a port number from 1 to 65535")
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(obj, field, value, "integer", fix="use a port number from 1 to 65535")
    if not 1 <= value <= 65535:
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


def is_decimal(text: object) -> bool:
    """Is ``text`` a string of ASCII digits, as ``strtol`` and Go's ``strconv.Atoi`` read
    them? (``str.isdigit`` also accepts '²' and other digits ``int()`` refuses.)

    >>> is_decimal("80"), is_decimal("²"), is_decimal("")
    (True, False, False)
    """
    return isinstance(text, str) and text.isascii() and text.isdigit()


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


def go_value(value: Any) -> str:
    """A value as apimachinery's ``field.Error`` prints it in "Invalid value: ...": a
    string quoted (Go's ``%q``), a number or a boolean bare; a long string cut short.

    >>> go_value("Prefix"), go_value(0), go_value(True)
    ('"Prefix"', '0', 'true')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...", ensure_ascii=False)
    return describe(value)


def invalid(obj: str, field: str, value: Any, problem: str,
            fix: str | None = None) -> ManifestError:
    """The error for an invalid field (to ``raise``)."""
    return ManifestError(obj, field, value, problem, fix=fix)


def invalid_type(obj: str, field: str, value: Any, expected: str,
                 fix: str | None = None) -> ManifestError:
    """The error for a value of the wrong JSON type (``expected``: string, boolean,
    integer, object, array), in kube-openapi's words (to ``raise``)."""
    if fix is None:
        shown = describe(value)
        if expected == "string" and isinstance(value, (bool, int, float)) and len(shown) < 30:
            fix = f'quote it, e.g. "{shown.lower() if isinstance(value, bool) else shown}"'
        else:
            fix = {"string": "write one string here", "boolean": "use true or false",
                   "integer": "write a whole number", "object": f"write {field} as key: "
                   "value pairs", "array": f"write {field} as a YAML list ('- ...')"}[expected]
    return ManifestError(obj, field, value, f"Invalid value: must be of type {expected}",
                         fix=fix)


def string(obj: str, field: str, value: Any, default: str | None = None) -> str | None:
    """A string field: the string, or ``default`` when it is absent (None).

    >>> string("Pod x/a", "spec.nodeName", None), string("Pod x/a", "spec.nodeName", "n")
    (None, 'n')
    """
    if value is None:
        return default
    if not isinstance(value, str):
        raise invalid_type(obj, field, value, "string")
    return value


def integer(obj: str, field: str, value: Any, default: int | None = None) -> int | None:
    """An integer field (its range is checked where it is used), or ``default`` when it
    is absent (None)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(obj, field, value, "integer")
    return value


def boolean(obj: str, field: str, value: Any, default: bool = False) -> bool:
    """A boolean field: True or False, or ``default`` when it is absent (None)."""
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid_type(obj, field, value, "boolean")
    return value


def mapping(obj: str, field: str, value: Any, required: bool = False) -> Mapping[str, Any]:
    """``value`` as a mapping (None: an empty one, unless ``required``)."""
    if value is None and not required:
        return {}
    if value is None:
        raise ManifestError(obj, field, value, "Required value",
                            fix=f"write {field} as key: value pairs")
    if not isinstance(value, Mapping):
        raise invalid_type(obj, field, value, "object")
    return value


def sequence(obj: str, field: str, value: Any, required: bool = False) -> list[Any]:
    """``value`` as a list (None: an empty one, unless ``required``)."""
    if value is None and not required:
        return []
    if value is None:
        raise ManifestError(obj, field, value, "Required value",
                            fix=f"write {field} as a YAML list ('- ...')")
    if not isinstance(value, list):
        raise invalid_type(obj, field, value, "array")
    return value


def meta(
    doc: Mapping[str, Any], kind: str, namespaced: bool,
    name_rule: Callable[[str, str, object], str] = check_dns_subdomain,
) -> tuple[str, str, str, dict]:
    """``(object, namespace, name, labels)`` of a manifest; ``object`` names it in error
    messages (``"Pod x/a"``, ``"Node node-1"``). The name must pass ``name_rule`` (a
    DNS-1123 subdomain for most kinds, a label for Namespaces and Services), a namespace
    must be a DNS-1123 label (absent or empty: ``default``, as kubectl fills it in), and
    the labels a mapping (``check_labels`` checks them)."""
    metadata = doc.get("metadata")
    if not isinstance(metadata, Mapping):
        raise ManifestError(kind, "metadata", metadata, "is missing or not a mapping",
                            fix="add metadata: {name: ...}")
    name = metadata.get("name")
    if name is None or name == "":
        raise ManifestError(kind, "metadata.name", name, "Required value",
                            fix="give the object a name")
    if not isinstance(name, str):
        raise invalid_type(kind, "metadata.name", name, "string")
    ns = ""
    if namespaced:
        ns = string(f"{kind} {name}", "metadata.namespace", metadata.get("namespace")) or (
            "default")
    obj = f"{kind} {ns}/{name}" if namespaced else f"{kind} {name}"
    name_rule(obj, "metadata.name", name)
    if namespaced:
        check_dns_label(obj, "metadata.namespace", ns)
    labels = dict(mapping(obj, "metadata.labels", metadata.get("labels")))
    return obj, ns, name, labels
