"""The types of what a public function is given, checked before it runs.

Every public entry point (``kl.*`` callables, ``Cluster`` methods, widget constructors) is
decorated with ``checked``: it reads the function's own type hints and refuses an
argument of the wrong type with a ``ManifestError`` that names the function, the
parameter and the value and shows a value that would do, before any work starts (so a
wrong type never reaches ``dict()``, ``int()`` or a set deep inside, and never leaves a
half-made change). A call with a missing or unknown argument is refused the same way.
Ranges and formats (a port in 1-65535, a DNS-1123 name) are the business of the function
itself, with the API server's wording (``kubenet_lab.api.fields``).

The hints are read as text (``from __future__ import annotations``), never evaluated, so
the check needs no import of the classes it names: a class named in a hint matches any
object whose class, or one of its bases, has that name.

Examples
--------
>>> @checked
... def scale(name: str, n: int = 1) -> str:
...     return f"{name}={n}"
>>> scale("web", n=3)
'web=3'
>>> scale("web", n="3")
Traceback (most recent call last):
kubenet_lab.exceptions.ManifestError: scale(): n: '3' is not an integer (for example n=1)
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, TypeVar

from kubenet_lab.exceptions import ManifestError

__all__ = ["Kind", "check_count", "check_fields", "check_value", "checked", "kind_of"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Kind:
    """A type hint, compiled: ``accepts(value)``, how to name it (``noun``, ``nouns``)
    and a value to show as an example."""

    accepts: Callable[[Any], bool]
    noun: str
    nouns: str
    example: str
    #: Materialise a one-shot iterator into a tuple before checking it.
    iterable: bool = False


def _plain(cls: type | tuple[type, ...], noun: str, nouns: str, example: str) -> Kind:
    return Kind(lambda v: isinstance(v, cls) and not isinstance(v, bool), noun, nouns, example)


_ANY = Kind(lambda v: True, "any value", "any values", "...")
_SIMPLE: dict[str, Kind] = {
    "str": Kind(lambda v: isinstance(v, str), "a string", "strings", "'...'"),
    "int": _plain(int, "an integer", "integers", "1"),
    "float": _plain((int, float), "a number", "numbers", "1.0"),
    "bool": Kind(lambda v: isinstance(v, bool), "True or False", "True or False", "True"),
    "None": Kind(lambda v: v is None, "None", "None", "None"),
    "Any": _ANY,
    "object": _ANY,
    "bytes": Kind(lambda v: isinstance(v, bytes), "bytes", "bytes", "b''"),
    "Callable": Kind(callable, "a function", "functions", "print"),
}
_MAPPINGS = {"Mapping", "MutableMapping", "dict"}
_SEQUENCES = {"list", "Sequence", "MutableSequence"}
_ITERABLES = {"Iterable", "Collection", "Iterator", "set", "frozenset", "AbstractSet", "Set"}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):  # typing.Any, nx.Graph
        return node.attr
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _name(ast.parse(node.value, mode="eval").body)  # a quoted forward reference
    return ast.unparse(node)


def _example(kind: Kind, word: str) -> str:
    return f"'{word}'" if kind is _SIMPLE["str"] else kind.example


def _union(kinds: list[Kind]) -> Kind:
    if any(k is _ANY for k in kinds):
        return _ANY
    real = [k for k in kinds if k.noun != "None"] or kinds
    return Kind(
        lambda v: any(k.accepts(v) for k in kinds),
        " or ".join(k.noun for k in kinds), " or ".join(k.nouns for k in kinds),
        real[0].example, any(k.iterable for k in kinds),
    )


def _class(name: str) -> Kind:
    article = "an" if name[:1] in "AEIOU" else "a"

    def accepts(value: Any) -> bool:
        return any(c.__name__ == name for c in type(value).__mro__)

    return Kind(accepts, f"{article} {name}", f"{name}s", f"kl.{name}(...)")


def _elements(outer: Callable[[Any], bool], item: Kind) -> Callable[[Any], bool]:
    return lambda v: outer(v) and all(item.accepts(x) for x in v)


def _compile(node: ast.expr) -> Kind:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([_compile(node.left), _compile(node.right)])
    if isinstance(node, ast.Subscript):
        outer = _name(node.value)
        args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer in ("Optional", "Union"):
            kinds = [_compile(a) for a in args]
            return _union(kinds + ([_SIMPLE["None"]] if outer == "Optional" else []))
        if outer == "Literal":
            values = tuple(ast.literal_eval(a) for a in args)
            return Kind(lambda v: any(v == x and type(v) is type(x) for x in values),
                        "one of " + ", ".join(map(repr, values)),
                        "values among " + ", ".join(map(repr, values)), repr(values[0]))
        if outer in _MAPPINGS:
            key, value = (_compile(args[0]), _compile(args[1])) if len(args) == 2 else (
                _ANY, _ANY)
            return Kind(
                lambda v: isinstance(v, Mapping) and all(
                    key.accepts(k) and value.accepts(x) for k, x in v.items()),
                f"a mapping of {key.nouns} to {value.nouns}",
                f"mappings of {key.nouns} to {value.nouns}",
                "{" + f"{_example(key, 'key')}: {_example(value, 'value')}" + "}",
            )
        if outer == "tuple" and len(args) == 2 and isinstance(args[1], ast.Constant) \
                and args[1].value is Ellipsis:
            args = args[:1]
            outer = "Sequence"
        if outer == "tuple":
            items = [_compile(a) for a in args]
            return Kind(
                lambda v: isinstance(v, (tuple, list)) and len(v) == len(items)
                and all(k.accepts(x) for k, x in zip(items, v, strict=True)),
                f"a tuple of {len(items)}", f"tuples of {len(items)}",
                "(" + ", ".join(k.example for k in items) + ")",
            )
        item = _compile(args[0])
        if item is _ANY:
            return _compile(ast.Name(outer))
        if outer in _SEQUENCES:
            return Kind(_elements(lambda v: isinstance(v, (list, tuple)), item),
                        f"a list of {item.nouns}", f"lists of {item.nouns}",
                        f"[{item.example}]")
        if outer in _ITERABLES:
            return Kind(
                _elements(lambda v: isinstance(v, (list, tuple, AbstractSet))
                          or isinstance(v, Iterator), item),
                f"a list of {item.nouns}", f"lists of {item.nouns}", f"[{item.example}]",
                iterable=True,
            )
        return _class(outer)
    name = _name(node)
    if name in _SIMPLE:
        return _SIMPLE[name]
    if name in _MAPPINGS:
        return Kind(lambda v: isinstance(v, Mapping), "a mapping", "mappings", "{}")
    if name in _SEQUENCES or name == "tuple":
        return Kind(lambda v: isinstance(v, (list, tuple)), "a list", "lists", "[]")
    if name in _ITERABLES:
        return Kind(lambda v: isinstance(v, (list, tuple, AbstractSet, Iterator)),
                    "a list", "lists", "[]", iterable=True)
    return _class(name)


@functools.cache
def kind_of(hint: str) -> Kind:
    """The ``Kind`` of a type hint written as text.

    >>> kind_of("Mapping[str, str] | None").noun
    'a mapping of strings to strings or None'
    >>> kind_of("list[int]").accepts([80, 443]), kind_of("list[int]").accepts([True])
    (True, False)
    """
    return _compile(ast.parse(hint, mode="eval").body)


def check_value(owner: str, field: str, value: Any, hint: str) -> Any:
    """``value`` if it is of type ``hint``; a one-shot iterator comes back as a tuple.

    >>> check_value("Cluster.add_pod", "labels", {"app": "web"}, "Mapping[str, str] | None")
    {'app': 'web'}
    """
    kind = kind_of(hint)
    if kind.iterable and isinstance(value, Iterator):
        value = tuple(value)
    if not kind.accepts(value):
        raise ManifestError(owner, field, value, f"is not {kind.noun}",
                            fix=f"for example {field}={kind.example}")
    return value


def _owner(fn: Callable[..., Any]) -> str:
    name = fn.__qualname__.replace(".<locals>", "")
    return name[: -len(".__init__")] if name.endswith(".__init__") else f"{name}()"


def checked(fn: F | None = None, /, **ranges: tuple[float, float]) -> Any:
    """Decorate a public function: its arguments are checked against its type hints
    (see the module's docstring) before it runs; ``@checked(width=(40, 1000))`` also
    bounds a number (None passes).

    On a record class (a dataclass a learner builds by hand, whose ``__post_init__``
    calls ``check_fields``), it turns a call with missing or unknown arguments into a
    ``ManifestError``, at no cost to a good call.

    >>> @checked(width=(40, 1000))
    ... def text(width: int = 96) -> int:
    ...     return width
    >>> text(width=10)
    Traceback (most recent call last):
    kubenet_lab.exceptions.ManifestError: text(): width: 10 is not in 40-1000
    """
    if fn is None:
        return functools.partial(_checked, ranges=ranges)
    return _checked(fn, ranges)


def _checked(fn: F, ranges: dict[str, tuple[float, float]]) -> F:
    if isinstance(fn, type):
        return _checked_record(fn)  # type: ignore[return-value]
    signature = inspect.signature(fn)
    owner = _owner(fn)
    hints = {
        name: p.annotation if isinstance(p.annotation, str)
        else inspect.formatannotation(p.annotation)
        for name, p in signature.parameters.items()
        if p.annotation is not p.empty and name not in ("self", "cls")
        and p.annotation not in ("Any", "object", Any, object)
    }
    variadic = {name: p.kind for name, p in signature.parameters.items()
                if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as err:
            raise ManifestError(owner, None, err, "— so the call is refused",
                                fix=f"call it as {_shown(fn.__name__, signature)}") from None
        arguments = bound.arguments
        for name, hint in hints.items():
            if name not in arguments:
                continue
            if name in variadic:
                _check_variadic(owner, name, arguments[name], hint, variadic[name])
            else:
                arguments[name] = check_value(owner, name, arguments[name], hint)
        for name, (low, high) in ranges.items():
            value = arguments.get(name)
            if value is not None and not low <= value <= high:  # NaN fails both
                raise ManifestError(owner, name, value, f"is not in {low:g}-{high:g}")
        return fn(*bound.args, **bound.kwargs)

    return wrapper  # type: ignore[return-value]


def _checked_record(cls: type) -> type:
    init = cls.__init__
    signature = inspect.signature(cls)

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except TypeError:
            try:
                signature.bind(*args, **kwargs)
            except TypeError as err:
                raise ManifestError(
                    cls.__name__, None, err, "— so the call is refused",
                    fix=f"call it as {_shown(cls.__name__, signature)}") from None
            raise

    cls.__init__ = __init__  # type: ignore[misc]
    return cls


def _check_variadic(owner: str, name: str, values: Any, hint: str, kind: Any) -> None:
    items: Iterable[tuple[str, Any]] = (
        values.items() if kind is inspect.Parameter.VAR_KEYWORD
        else ((f"{name}[{i}]", v) for i, v in enumerate(values)))
    for field, value in items:
        check_value(owner, field, value, hint)


def _shown(name: str, signature: inspect.Signature) -> str:
    """``add_pod(ref, *, node=..., labels=...)``: the parameters, without their hints."""
    words, star = [], False
    for p in signature.parameters.values():
        if p.name in ("self", "cls"):
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            words.append("*")
            star = True
        prefix = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "")
        star = star or p.kind is p.VAR_POSITIONAL
        words.append(prefix + p.name + ("=..." if p.default is not p.empty else ""))
    return f"{name}({', '.join(words)})"


@functools.cache
def _record_kinds(cls: type) -> tuple[tuple[str, str], ...]:
    return tuple((f.name, f.type if isinstance(f.type, str) else inspect.formatannotation(f.type))
                 for f in dataclasses.fields(cls))


def check_fields(record: Any, *, skip: tuple[str, ...] = ()) -> None:
    """Check every field of a dataclass ``record`` against its type hint (for records a
    learner builds by hand, from their ``__post_init__``).

    >>> from kubenet_lab.model.traffic import Flow
    >>> Flow("default/a", "default/b", port="80")
    Traceback (most recent call last):
    kubenet_lab.exceptions.ManifestError: Flow: port: '80' is not an integer (for example port=1)
    """
    owner = type(record).__name__
    for name, hint in _record_kinds(type(record)):
        if name not in skip:
            check_value(owner, name, getattr(record, name), hint)


def check_count(owner: str, field: str, value: int, low: int, high: int,
                why: str = "") -> int:
    """``value`` if ``low <= value <= high``: counts the lab simulates one by one
    (requests, clients, worker nodes) have a ceiling, so that no call runs for minutes.

    >>> check_count("Cluster.spread()", "requests", 0, 1, 100_000)
    Traceback (most recent call last):
    kubenet_lab.exceptions.ManifestError: Cluster.spread(): requests: 0 is not in 1-100000
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ManifestError(owner, field, value, f"is not in {low}-{high}",
                            fix=why or None)
    return value
