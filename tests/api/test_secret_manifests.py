"""Secret manifests (v1) are checked as the API server checks them and stored as it
stores them.

Expected behaviour from upstream (kubernetes/kubernetes):

- pkg/apis/core/validation/validation.go ``ValidateSecret``: every ``data`` key passes
  ``IsConfigMapKey`` (``field.Invalid(dataPath.Key(key), key, msg)``); the values total
  at most ``MaxSecretSize`` (1 MiB, ``field.TooLong(dataPath, "", MaxSecretSize)``); a
  ``kubernetes.io/tls`` Secret has ``data[tls.crt]`` and ``data[tls.key]``
  (``field.Required``, checked in that order; empty values pass, contents are not
  parsed: docs/facts/gateway-api.md §8);
- ``ValidateSecretUpdate``: ``type`` is immutable (``ValidateImmutableField``: ``Invalid
  value: <new>: field is immutable``);
- pkg/apis/core/v1/conversion.go ``Convert_v1_Secret_To_core_Secret``: ``stringData``
  overwrites ``data`` before validation (so the internal object, and every error, knows
  only ``data``);
- ``data`` values are ``[]byte``, which ``encoding/json`` decodes with Go's
  ``base64.StdEncoding`` (padding required, ``\\r``/``\\n`` ignored); a bad value fails the
  request's decoding with ``illegal base64 data at input byte N`` (``CorruptInputError``);
- apimachinery field errors: ``Required value``, ``Too long: may not be more than N bytes``
  (k8s >= 1.32).
"""

from __future__ import annotations

import base64

import pytest

import kubenet_lab as kl

MiB = 1024 * 1024
CONFIG_KEY_MESSAGE = ("a valid config key must consist of alphanumeric characters, '-', '_' "
                      "or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used "
                      "for validation is '[-._a-zA-Z0-9]+')")


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


def secret(name="web-tls", type_="kubernetes.io/tls", data=None, string_data=None,
           namespace=None):
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}}
    if namespace:
        doc["metadata"]["namespace"] = namespace
    if type_ is not None:
        doc["type"] = type_
    if data is not None:
        doc["data"] = data
    if string_data is not None:
        doc["stringData"] = string_data
    return doc


def refused(doc, c=None):
    c = c or kl.Cluster()
    with pytest.raises(kl.ManifestError) as err:
        c.apply(doc)
    return err.value


# ------------------------------------------------------------------ kubernetes.io/tls
def test_tls_secret_with_both_keys_is_stored():
    c = kl.Cluster()
    c.apply(secret(data={"tls.crt": b64("CERT"), "tls.key": b64("KEY")}))
    got = c.get("Secret", "default/web-tls")
    assert got["type"] == "kubernetes.io/tls"
    assert got["data"] == {"tls.crt": b64("CERT"), "tls.key": b64("KEY")}


def test_tls_contents_are_not_parsed_and_may_be_empty():
    # facts §8: the conformance "malformed-certificate" Secret (base64 "Hello world") is
    # accepted; only the keys' presence is checked
    c = kl.Cluster()
    c.apply(secret(data={"tls.crt": b64("Hello world"), "tls.key": ""}))
    assert c.get("Secret", "default/web-tls")["data"] == {"tls.crt": b64("Hello world"),
                                                          "tls.key": ""}


@pytest.mark.parametrize("data, field", [
    ({"tls.key": b64("K")}, "data[tls.crt]"),
    ({"tls.crt": b64("C")}, "data[tls.key]"),
    ({}, "data[tls.crt]"),                  # both missing: tls.crt is checked first
    (None, "data[tls.crt]"),
    ({"tls.cert": b64("C"), "tls.key": b64("K")}, "data[tls.crt]"),
])
def test_tls_secret_needs_both_keys(data, field):
    err = refused(secret(data=data))
    assert (err.field, err.problem) == (field, "Required value")
    assert str(err.obj) == "Secret default/web-tls"


def test_tls_keys_may_come_from_string_data():
    c = kl.Cluster()
    c.apply(secret(data={"tls.crt": b64("C")}, string_data={"tls.key": "K"}))
    assert c.get("Secret", "default/web-tls")["data"] == {"tls.crt": b64("C"),
                                                          "tls.key": b64("K")}


def test_an_opaque_secret_needs_no_keys():
    c = kl.Cluster()
    c.apply(secret(name="empty", type_=None))
    got = c.get("Secret", "default/empty")
    assert got["type"] == "Opaque"          # the default type
    assert "data" not in got


# ------------------------------------------------------------------ stringData
def test_string_data_is_merged_into_data_base64_encoded():
    c = kl.Cluster()
    c.apply(secret(name="app", type_="Opaque", data={"a": b64("1")},
                   string_data={"b": "two", "c": "drei ü"}))
    got = c.get("Secret", "default/app")
    assert got["data"] == {"a": b64("1"), "b": b64("two"), "c": b64("drei ü")}
    assert "stringData" not in got


def test_string_data_wins_over_data():
    # Convert_v1_Secret_To_core_Secret: "StringData overwrites Data"
    c = kl.Cluster()
    c.apply(secret(name="app", type_="Opaque", data={"k": b64("old")},
                   string_data={"k": "new"}))
    assert c.get("Secret", "default/app")["data"] == {"k": b64("new")}


def test_a_key_in_data_and_string_data_is_counted_once():
    # ValidateSecret sums the merged data: 0.6 MiB in data replaced by 0.6 MiB in
    # stringData is 0.6 MiB, not 1.2
    c = kl.Cluster()
    big = "x" * (600 * 1024)
    c.apply(secret(name="app", type_="Opaque", data={"k": b64(big)}, string_data={"k": big}))
    assert c.get("Secret", "default/app")["data"] == {"k": b64(big)}


def test_string_data_null_value_is_empty():
    c = kl.Cluster()
    c.apply(secret(name="app", type_="Opaque", string_data={"k": None}))
    assert c.get("Secret", "default/app")["data"] == {"k": ""}


# ------------------------------------------------------------------ base64
@pytest.mark.parametrize("value, byte", [
    ("not base64!", 3),     # the space
    ("QQ", 0),              # padding required: the quantum that ends early
    ("QQ=", 3),             # one "=" where two are needed
    ("Q===", 1),            # "=" too early
    ("QQ==QQ==", 4),        # nothing may follow the padding
    ("QUJD!", 4),
    ("é", 0),
])
def test_bad_base64_is_refused_where_go_stops(value, byte):
    err = refused(secret(name="app", type_="Opaque", data={"k": value}))
    assert err.field == "data[k]"
    assert err.problem == f"illegal base64 data at input byte {byte}"


def test_base64_split_over_lines_is_accepted():
    # Go's decoder skips \r and \n (a value pasted from `base64` without -w0)
    c = kl.Cluster()
    c.apply(secret(name="app", type_="Opaque", data={"k": "QUJD\nREVG\r\n"}))
    assert c.get("Secret", "default/app")["data"] == {"k": b64("ABCDEF")}


# ------------------------------------------------------------------ keys and values
@pytest.mark.parametrize("key, message", [
    ("bad key", CONFIG_KEY_MESSAGE),
    ("a/b", CONFIG_KEY_MESSAGE),
    ("..secret", "must not start with '..'"),
    (".", "must not be '.'"),
    ("k" * 254, "must be no more than 253 characters"),
])
@pytest.mark.parametrize("where", ["data", "stringData"])
def test_bad_key_names_are_refused_at_data(key, message, where):
    # the key's path is data[KEY] either way: stringData is merged before validation
    kw = {"data": {key: b64("v")}} if where == "data" else {"string_data": {key: "v"}}
    err = refused(secret(name="app", type_="Opaque", **kw))
    assert err.field == f"data[{key}]"
    assert err.problem.startswith(f'Invalid value: "{key[:40]}')  # a long value is cut
    assert err.problem.endswith(f'": {message}')


@pytest.mark.parametrize("where", ["data", "stringData"])
@pytest.mark.parametrize("mapping", [{"k": 1}, {"k": ["QQ=="]}, {"k": True},
                                     {"k": {"a": "b"}}, {None: "QQ=="}, {("t",): "QQ=="}])
def test_non_string_keys_and_values_are_refused(where, mapping):
    doc = secret(name="app", type_="Opaque")
    doc[where] = mapping
    err = refused(doc)
    assert err.field.startswith(where)
    assert str(err.obj) in ("Secret default/app", "manifest")


@pytest.mark.parametrize("where, value", [("data", b64("v")), ("stringData", "v")])
def test_a_number_as_a_key_is_its_json_text(where, value):
    # sigs.k8s.io/yaml (what kubectl converts YAML with) writes a YAML key 1 as "1"
    c = kl.Cluster()
    c.apply(secret(name="app", type_="Opaque", **{
        "data" if where == "data" else "string_data": {1: value}}))
    assert c.get("Secret", "default/app")["data"] == {"1": b64("v")}


@pytest.mark.parametrize("where, value", [("data", ["a"]), ("stringData", "k=v"),
                                          ("type", 7)])
def test_wrong_types_of_fields_are_refused(where, value):
    doc = secret(name="app", type_="Opaque")
    doc[where] = value
    err = refused(doc)
    assert err.field == where


# ------------------------------------------------------------------ size
def test_one_mebibyte_of_data_is_allowed():
    c = kl.Cluster()
    c.apply(secret(name="big", type_="Opaque",
                   data={"a": b64(b"\0" * (MiB - 10))}, string_data={"b": "x" * 10}))
    assert c.get("Secret", "default/big")["data"]["b"] == b64("x" * 10)


@pytest.mark.parametrize("data, string_data", [
    ({"a": b64(b"\0" * (MiB + 1))}, None),
    ({"a": b64(b"\0" * MiB)}, {"b": "x"}),          # data and stringData together
    (None, {"a": "x" * (MiB // 2), "b": "y" * (MiB // 2 + 1)}),
])
def test_more_than_one_mebibyte_of_data_is_refused(data, string_data):
    err = refused(secret(name="big", type_="Opaque", data=data, string_data=string_data))
    assert err.field == "data"
    # field.TooLong(dataPath, "", core.MaxSecretSize), k8s >= 1.32 wording
    assert err.problem == "Too long: may not be more than 1048576 bytes"


def test_size_counts_decoded_bytes_not_base64_text():
    # 0.9 MiB of bytes is 1.2 MiB of base64 text: allowed
    c = kl.Cluster()
    c.apply(secret(name="big", type_="Opaque", data={"a": b64(b"\1" * (9 * MiB // 10))}))


# ------------------------------------------------------------------ updates
def test_type_is_immutable():
    c = kl.Cluster()
    c.apply(secret(data={"tls.crt": b64("C"), "tls.key": b64("K")}))
    err = refused(secret(type_=None, data={"tls.crt": b64("C")}), c)
    # the type defaults to Opaque, so the update changes it
    assert (err.field, err.problem) == ("type", 'Invalid value: "Opaque": field is immutable')
    assert c.get("Secret", "default/web-tls")["type"] == "kubernetes.io/tls"
    # same type, new data: allowed
    c.apply(secret(data={"tls.crt": b64("C2"), "tls.key": b64("K2")}))
    assert c.get("Secret", "default/web-tls")["data"]["tls.crt"] == b64("C2")


def test_a_secret_needs_its_namespace():
    with pytest.raises(kl.NotFoundError):
        kl.Cluster().apply(secret(namespace="nowhere", data={"tls.crt": "", "tls.key": ""}))


def test_a_refused_secret_in_a_list_applies_nothing():
    c = kl.Cluster()
    good = secret(name="good", type_="Opaque", string_data={"k": "v"})
    bad = secret(name="bad")                 # tls without keys
    with pytest.raises(kl.ManifestError):
        c.apply([good, bad])
    with pytest.raises(kl.NotFoundError):
        c.get("Secret", "default/good")
