"""Manifests in, documents out: YAML text, a path, a dict or a list of those; multi-document
YAML and ``kind: List`` (what ``kubectl get ... -o yaml`` prints) both work.

What comes out is what kubectl sends the API server: JSON. kubectl reads YAML with
sigs.k8s.io/yaml, which decodes it with go-yaml v2 and converts the result to JSON
(yaml.go ``convertToJSONableObject``); the lab does the same to every document, YAML or
a Python dict:

- a map key that is a number or a boolean becomes a string (``1: a`` is ``"1": a``); a
  null key, or a list or map as a key, is refused;
- a timestamp stays the text it was written as, ``!!binary`` is its decoded bytes as
  text (bytes that are not UTF-8 become U+FFFD, as Go's encoding/json writes them), a
  ``!!set`` is a map of nulls, an ``!!omap`` or ``!!pairs`` a list of maps;
- a scalar its tag cannot describe (``!!int abc``) is refused, as go-yaml does
  ("cannot decode !!str `abc` as a !!int"), and so are NaN and infinities, which JSON
  cannot carry (Go: "json: unsupported value: NaN");
- tuples become lists; anything that is not a dict, list, str, int, float, bool or None
  (a set, bytes, an object) is refused. Object tags (``!!python/...``) are refused
  without running anything (the safe loader has no constructor for them).

Limits, each checked in linear time before anything is built:

- ``MAX_BYTES``: a manifest over 3 MiB is refused, as kube-apiserver refuses a request
  body over ``MaxRequestBodyBytes`` = 3 * 1024 * 1024 (k8s.io/apiserver
  pkg/server/config.go; HTTP 413 "Request entity too large: limit is 3145728",
  pkg/endpoints/handlers/rest.go ``limitedReadBody``);
- ``MAX_DEPTH``: nothing may nest more than 100 levels deep. The kinds the lab models
  nest about 15 levels; go-yaml v3 stops at 10,000 ("exceeded max depth of 10000",
  scannerc.go), as does Go's encoding/json;
- aliases: an anchor whose value contains an alias to itself is refused ("anchor 'a'
  value contains itself"), and so is a document whose aliases expand it too much, by
  go-yaml's own rule (decode.go ``allowedAliasRatio``: over 100 values from aliases and
  1,000 in all, at most 99% of them from aliases up to 400,000 values, falling to 10% at
  4,000,000: "document contains excessive aliasing");
- ``MAX_VALUES``: at most 50,000 values (keys, scalars, lists and maps, aliases
  expanded) in one ``apply``: a List of a thousand pods, far more than the lab's lessons
  need, and few enough for PyYAML (pure Python past the parser) to build or refuse in
  well under a second.

YAML is parsed with libyaml when PyYAML has it (the C library go-yaml was ported from,
with the same error messages), else with PyYAML's own parser.
"""

from __future__ import annotations

import math
import os
import stat
import struct
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from kubenet_lab.api.fields import invalid_type, sequence
from kubenet_lab.exceptions import ManifestError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_VALUES", "load_documents", "load_yaml"]

#: kube-apiserver's ``MaxRequestBodyBytes`` (k8s.io/apiserver pkg/server/config.go).
MAX_BYTES = 3 * 1024 * 1024
#: The deepest nesting the lab accepts (its kinds nest about 15 levels).
MAX_DEPTH = 100
#: The most values one ``apply`` may hold, aliases expanded.
MAX_VALUES = 50_000
_ALIAS_LOW, _ALIAS_HIGH = 400_000, 4_000_000  # go-yaml decode.go alias_ratio_range_*
_DEPTH_FIX = "check the indentation and the brackets"
_DEPTH_WHY = ("the lab's limit, as its kinds nest about 15 levels (go-yaml and Go's "
              "encoding/json stop at 10,000)")


def load_documents(src: Any) -> list[dict[str, Any]]:
    """Every object in ``src`` as a dict of JSON values, ``kind: List`` unpacked, empty
    documents skipped.

    >>> [d["kind"] for d in load_documents("kind: Namespace\\n---\\nkind: Pod\\n")]
    ['Namespace', 'Pod']
    >>> load_documents({"kind": "Pod", "metadata": {"labels": {1: True}}})[0]["metadata"]
    {'labels': {'1': True}}
    """
    budget = _Budget()
    out: list[dict[str, Any]] = []
    for where, doc in _sources(src, budget, 0):
        _unpack(where, doc, out)
    return out


def load_yaml(text: str, where: str) -> list[Any]:
    """The documents of YAML ``text`` as JSON values, within the module's limits;
    ``where`` names the text in errors.

    >>> load_yaml("a: 2001-02-03\\n? 1\\n: !!set {x}\\n", "config")
    [{'a': '2001-02-03', '1': {'x': None}}]
    """
    return _parse_yaml(text, where, _Budget())


# ---------------------------------------------------------------- sources
class _Budget:
    """The values one ``apply`` may still hold (``MAX_VALUES``)."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_VALUES

    def spend(self, count: int, where: str, field: str | None, value: Any) -> None:
        self.left -= count
        if self.left < 0:
            raise ManifestError(
                where, field, value,
                f"holds more than {MAX_VALUES:,} values (keys, scalars, lists and maps, "
                "aliases expanded): the lab's limit, far above what its objects need",
                fix="apply fewer or smaller objects at a time")


def _sources(src: Any, budget: _Budget, depth: int) -> Iterator[tuple[str, Any]]:
    """``(where, document)`` for each document of ``src``, in order."""
    if isinstance(src, (list, tuple)):
        if depth >= MAX_DEPTH:
            raise ManifestError("manifest", None, src,
                                f"is a list nested more than {MAX_DEPTH} levels deep",
                                fix="pass a flat list of manifests")
        budget.spend(len(src), "manifest", None, src)
        for item in src:
            yield from _sources(item, budget, depth + 1)
    elif isinstance(src, Mapping):
        yield "manifest", _Plain("manifest", budget).value(src, [])
    elif isinstance(src, (Path, os.PathLike)) or (
        isinstance(src, str) and "\n" not in src and src.endswith((".yaml", ".yml", ".json"))
    ):
        path = os.fsdecode(src)
        docs = _parse_yaml(_read(path), path, budget)
        for n, doc in enumerate(docs, 1):
            yield (path if len(docs) == 1 else f"{path}, document {n}"), doc
    elif isinstance(src, str):
        docs = _parse_yaml(src, "manifest", budget)
        for n, doc in enumerate(docs, 1):
            yield ("manifest" if len(docs) == 1 else f"document {n}"), doc
    else:
        raise ManifestError("manifest", None, type(src).__name__, "is not a manifest",
                            fix="pass YAML text, a path, a dict or a list of those")


def _unpack(where: str, doc: Any, out: list[dict[str, Any]], item: str | None = None) -> None:
    """Add ``doc`` (a document, or ``items[i]`` of a List) to ``out``, a List's items in
    its place (its depth is bounded by ``MAX_DEPTH``, and so is this recursion)."""
    if doc is None and item is None:
        return
    if not isinstance(doc, dict):
        raise ManifestError(where, item, doc, "is not a mapping",
                            fix="each YAML document must be an object with apiVersion and kind")
    for field, example in (("apiVersion", "v1"), ("kind", "Pod")):
        if not isinstance(doc.get(field), (str, type(None))):
            raise invalid_type(where, f"{item}.{field}" if item else field, doc[field],
                               "string", fix=f"write {field} as a string, e.g. {example}")
    if doc.get("kind") != "List":
        out.append(doc)
        return
    items = sequence("List", f"{item}.items" if item else "items", doc.get("items"),
                     required=True)
    for i, entry in enumerate(items):
        _unpack(where, entry, out, f"{item}.items[{i}]" if item else f"items[{i}]")


def _read(path: str) -> str:
    """The text of the file at ``path``, refused with the reason when it cannot be read."""
    problem, data = None, b""
    if "\0" in path:
        problem = "is not a path: it contains a NUL character"
    else:
        try:
            info = os.stat(path)
            if stat.S_ISDIR(info.st_mode):
                problem = "is a directory, not a file"
            elif not stat.S_ISREG(info.st_mode):
                problem = "is not a regular file"
            else:
                with open(path, "rb") as f:
                    data = f.read(MAX_BYTES + 1)
                if len(data) > MAX_BYTES:
                    problem = _too_large(max(len(data), info.st_size))
        except FileNotFoundError:
            problem = "is not a file (it does not exist)"
        except OSError as err:
            problem = f"cannot be read: {err.strerror or err}"
    if problem is not None:
        raise ManifestError("manifest", None, path, problem,
                            fix="check the path, or pass the YAML text itself")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ManifestError(
            "manifest", None, path,
            f"is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start:,})",
            fix="save the file as UTF-8, as kubectl expects") from None


def _too_large(size: int) -> str:
    return (f"is {size:,} bytes: kube-apiserver refuses a request body over "
            f"{MAX_BYTES:,} bytes (3 MiB; HTTP 413 Request entity too large)")


# ---------------------------------------------------------------- YAML
def _parse_yaml(text: str, where: str, budget: _Budget) -> list[Any]:
    """The documents of ``text`` as JSON values, each checked (``_check_events``) before
    it is built."""
    import yaml  # on first use: ``import kubenet_lab`` stays fast

    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as err:
        raise ManifestError(where, None, text, f"is not valid Unicode (a lone surrogate at "
                            f"{err.start:,})", fix="write the character itself, not half of "
                            "a surrogate pair") from None
    if size > MAX_BYTES:
        raise ManifestError(where, None, text, _too_large(size),
                            fix="split it into smaller manifests")
    loader = _loader()
    try:
        _check_events(yaml.parse(text, Loader=loader), where, budget)
        docs = list(yaml.load_all(text, Loader=loader))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "cannot be parsed"
        if problem == "exceeded maximum nesting depth":  # libyaml's own limit, 1,000
            raise ManifestError(where, None, f"YAML{at}", f"is nested more than {MAX_DEPTH} "
                                f"levels deep, {_DEPTH_WHY}", fix=_DEPTH_FIX) from None
        raise ManifestError(where, None, f"YAML{at}", f"is malformed: {problem}",
                            fix=_YAML_FIXES.get(type(err).__name__, _YAML_FIXES[""])) from None
    # the events were counted already; a document expands to no more values than that
    return [_Plain(where, _Budget()).value(doc, []) for doc in docs]


_YAML_FIXES = {
    "": "check the indentation and the ':' after each key",
    "ReaderError": "remove the control characters, or save the text as UTF-8",
    "ComposerError": "define each anchor (&name) before its aliases (*name)",
    "ConstructorError": "check the tags (the lab reads YAML's standard ones only) and the "
    "keys (strings, numbers or booleans)",
}


def _check_events(events: Iterator[Any], where: str, budget: _Budget) -> None:
    """Depth, size and aliasing of each document, from the parser's events: the parser
    is iterative, while the composer and constructor that follow recurse, so they only
    see a stream that passed. An anchor's size is the values it expands to and its
    height the levels it adds, so an alias costs what it expands to in O(1)."""
    from yaml import events as ev

    anchors: dict[str, tuple[int, int]] = {}  # anchor: (values, height)
    stack: list[list[Any]] = []  # open collections: [anchor, values before, deepest]
    opened: dict[str, int] = {}  # anchors of the open collections
    values = aliased = 0
    for event in events:
        kind = type(event)
        if kind is ev.DocumentStartEvent:
            anchors, values, aliased = {}, 1, 0
            continue
        if kind is ev.SequenceEndEvent or kind is ev.MappingEndEvent:
            anchor, before, deepest = stack.pop()
            if anchor is not None:
                anchors[anchor] = (values - before, deepest - len(stack))
                opened[anchor] -= 1
            if stack:
                stack[-1][2] = max(stack[-1][2], deepest)
            continue
        if kind is ev.AliasEvent:
            if opened.get(event.anchor):
                _refuse(where, event, f"is refused: anchor '{event.anchor}' value contains itself",
                        "an alias may only refer to an anchor defined before it")
            size, height = anchors.get(event.anchor, (0, 0))  # undefined: the composer says so
            count, aliased, reached = 1 + size, aliased + size, len(stack) + height
        elif kind is ev.ScalarEvent:
            count, reached = 1, len(stack)
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
        elif kind is ev.SequenceStartEvent or kind is ev.MappingStartEvent:
            count, reached = 1, len(stack) + 1
            stack.append([event.anchor, values + 1, reached])
            if event.anchor is not None:
                opened[event.anchor] = opened.get(event.anchor, 0) + 1
        else:
            continue
        values += count
        if reached > MAX_DEPTH:
            _refuse(where, event, f"is nested more than {MAX_DEPTH} levels deep, "
                    f"{_DEPTH_WHY}", _DEPTH_FIX)
        if stack:
            stack[-1][2] = max(stack[-1][2], reached)
        if aliased > 100 and values > 1000 and aliased / values > _alias_ratio(values):
            _refuse(where, event, f"is refused: document contains excessive aliasing (its "
                    f"aliases expand to {aliased:,} of its {values:,} values; go-yaml's rule)",
                    "write the values out rather than repeating anchors")
        if count > budget.left:  # (the message's value is only made for the error)
            budget.spend(count, where, None, _at(event))
        budget.left -= count


def _alias_ratio(values: int) -> float:
    """go-yaml decode.go ``allowedAliasRatio``: the share of a document's values that
    may come from aliases."""
    if values <= _ALIAS_LOW:
        return 0.99
    if values >= _ALIAS_HIGH:
        return 0.10
    return 0.99 - 0.89 * (values - _ALIAS_LOW) / (_ALIAS_HIGH - _ALIAS_LOW)


def _at(event: Any) -> str:
    mark = event.start_mark
    return f"YAML at line {mark.line + 1}, column {mark.column + 1}"


def _refuse(where: str, event: Any, problem: str, fix: str) -> None:
    raise ManifestError(where, None, _at(event), problem, fix=fix)


@cache
def _loader() -> type:
    """The safe loader (libyaml's when PyYAML has it), reading what go-yaml v2 reads
    differently from PyYAML as go-yaml does (see the module's docstring)."""
    import yaml
    from yaml.constructor import ConstructorError

    def undecodable(node: Any) -> ConstructorError:
        """go-yaml resolve.go: "cannot decode !!str `abc` as a !!int"."""
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        text = node.value if isinstance(node.value, str) else "..."
        text = text if len(text) <= 40 else text[:40] + "…"
        return ConstructorError(None, None, f"cannot decode !!str `{text}` as a {tag}",
                                node.start_mark)

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep)
            except yaml.YAMLError:
                raise
            except Exception:  # PyYAML's constructors fail on a bad value in many ways
                raise undecodable(node) from None

        def construct_yaml_timestamp(self, node: Any) -> str:
            # go-yaml v2 decode.go: a timestamp decoded into interface{} stays its text
            if self.timestamp_regexp.match(node.value) is None:
                raise undecodable(node)
            return node.value

        def construct_yaml_binary(self, node: Any) -> str:
            return super().construct_yaml_binary(node).decode("utf-8", "replace")

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[str, Any]:
            # keys as JSON writes them before they meet in a dict: True and 1 are
            # two keys to go-yaml ("true", "1"), one to Python
            if not isinstance(node, yaml.MappingNode):
                raise ConstructorError(None, None, f"expected a mapping node, but found "
                                       f"{node.id}", node.start_mark)
            self.flatten_mapping(node)  # merge keys (<<), as SafeConstructor does
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = _json_key(self.construct_object(key_node, deep=deep))
                if key is None:
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           "found a key JSON cannot have", key_node.start_mark)
                out[key] = self.construct_object(value_node, deep=deep)
            return out

    Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)
    Loader.add_constructor("tag:yaml.org,2002:binary", Loader.construct_yaml_binary)
    Loader.add_constructor("tag:yaml.org,2002:set", Loader.construct_yaml_map)
    for tag in ("omap", "pairs"):
        Loader.add_constructor(f"tag:yaml.org,2002:{tag}", Loader.construct_yaml_seq)
    return Loader


# ---------------------------------------------------------------- JSON values
class _Plain:
    """A value as JSON values (dicts with string keys, lists, str, int, float, bool,
    None), or a ManifestError naming the field's path; depth, cycles and the number of
    values are bounded, so the recursion is too."""

    __slots__ = ("budget", "open", "where")

    def __init__(self, where: str, budget: _Budget) -> None:
        self.where, self.budget, self.open = where, budget, set()

    def fail(self, path: list[str], value: Any, problem: str, fix: str) -> None:
        raise ManifestError(self.where, "".join(path).lstrip(".") or None, value, problem,
                            fix=fix)

    def value(self, value: Any, path: list[str]) -> Any:
        if self.budget.left <= 0:
            self.budget.spend(1, self.where, "".join(path).lstrip(".") or None, value)
        self.budget.left -= 1
        kind = type(value)
        if value is None or kind is bool or kind is int or kind is float and math.isfinite(
                value):
            return value
        if isinstance(value, str):
            return self.text(value, path)
        if isinstance(value, (Mapping, list, tuple)):
            if len(path) >= MAX_DEPTH:
                self.fail(path, value, f"is nested more than {MAX_DEPTH} levels deep, "
                          f"{_DEPTH_WHY}", _DEPTH_FIX)
            if id(value) in self.open:
                self.fail(path, value, "contains itself", "pass a value that ends somewhere")
            self.open.add(id(value))
            if isinstance(value, Mapping):
                out: Any = {}
                for key, item in value.items():
                    name = self.key(key, path)
                    if name in out:
                        self.fail(path + [f".{name}"], key, "Duplicate value: another key "
                                  "of this map is the same string", "write each key once")
                    out[name] = self.value(item, path + [f".{name}"])
            else:
                out = [self.value(item, path + [f"[{i}]"]) for i, item in enumerate(value)]
            self.open.discard(id(value))
            return out
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            if math.isfinite(value):
                return float(value)
            self.fail(path, value, "is not a JSON number (Go's encoding/json: unsupported "
                      "value)", "JSON has no NaN or infinity; write a number")
        self.fail(path, value, f"is a {kind.__name__}, not a JSON value",
                  "use dicts, lists, strings, numbers, true/false and None")
        return None  # unreachable: fail raises

    def text(self, value: str, path: list[str]) -> str:
        if value.isascii():
            return str.__str__(value)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            self.fail(path, value, f"is not valid Unicode (a lone surrogate at {err.start:,})",
                      "write the character itself, not half of a surrogate pair")
        return str.__str__(value)

    def key(self, key: Any, path: list[str]) -> str:
        name = _json_key(key)
        if name is None:
            self.fail(path, key, _BAD_KEY, "quote the key")
        return self.text(name, path)


_BAD_KEY = ("is not a valid map key: JSON keys are strings, and only a string, number or "
            "boolean is written as one (sigs.k8s.io/yaml: unsupported map key)")


def _json_key(key: Any) -> str | None:
    """A map key as sigs.k8s.io/yaml writes it in JSON (yaml.go
    ``convertToJSONableObject``): a string, an int, a float (``strconv.FormatFloat(f,
    'g', -1, 32)``) or a boolean; None for anything else (refused)."""
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int) and -2 ** 63 <= key < 2 ** 63:
        return str(int(key))
    if isinstance(key, float):
        return _go_float32(key)
    return None


def _go_float32(number: float) -> str:
    """Go's ``strconv.FormatFloat(number, 'g', -1, 32)``: the shortest digits that read
    back as the same float32, in exponent form below 1e-4 and from 1e6 on; the
    infinities and NaN as YAML writes them.

    >>> [_go_float32(x) for x in (1.0, 0.1, 1.5e-5, 1234567.0, float("inf"))]
    ['1', '0.1', '1.5e-05', '1.234567e+06', '.inf']
    """
    try:
        single = struct.unpack("f", struct.pack("f", number))[0]
    except OverflowError:  # beyond float32: Go's conversion gives an infinity
        single = math.copysign(math.inf, number)
    if math.isnan(single):
        return ".nan"
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    for digits in range(1, 10):
        text = f"{single:.{digits - 1}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    mantissa, exponent = text.split("e")
    exp = int(exponent)
    if exp < -4 or exp >= 6:
        return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return f"{float(text):.{max(digits - 1 - exp, 0)}f}"
