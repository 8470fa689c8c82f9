"""Errors that kubenet_lab raises on bad input.

A dropped packet or a denied connection is a *result* (``Trace(delivered=False)``),
never an exception. Exceptions are for input the lab cannot accept: a malformed
manifest, a name that does not exist, an address range that has run out.

Hierarchy::

    KubenetLabError                     base of every error the package raises
    ├── ManifestError (ValueError)      a manifest or argument is malformed or invalid
    │   └── UnsupportedKindError        apply() got a kind the lab does not model (yet)
    ├── NotFoundError (LookupError)     a pod, node, namespace, ... does not exist
    ├── ConflictError (ValueError)      a name or address is already taken
    ├── AddressExhaustedError (ValueError)
    │                                   a CIDR has no free block or address left
    ├── UnschedulableError (RuntimeError)
    │                                   no node can run a pod
    ├── ProgressFileError (ValueError)  the learner's progress file is not the lab's
    └── LinuxUnavailableError (RuntimeError)
                                        kubenet_lab.linux needs Linux, root and its tools

Every error carries the object it is about (``obj``, e.g. ``"Pod x/a"``), the field
(``field``, e.g. ``"spec.containers[0].ports[0].containerPort"``) and the offending
``value``, and its message says how to fix the problem. A message is for a person: it
stays under about 500 characters, whatever the value (a long or deep value is shown by
its type, its size and its start, ``describe``), and in a notebook it renders as that
message, its fix and the line of the learner's cell that called the lab, without the
package's traceback (``_render_traceback_``).

Examples
--------
>>> err = kl.ManifestError("Pod x/a", "spec.containers[0].ports[0].containerPort",
...                        70000, "is not in 1-65535", fix="use a port from 1 to 65535")
>>> print(err)  # doctest: +NORMALIZE_WHITESPACE
Pod x/a: spec.containers[0].ports[0].containerPort: 70000 is not in 1-65535
(use a port from 1 to 65535)
>>> isinstance(err, ValueError)
True
"""

from __future__ import annotations

import itertools
import linecache
import math
import os
import reprlib
from types import TracebackType
from typing import Any

__all__ = [
    "AddressExhaustedError",
    "ConflictError",
    "KubenetLabError",
    "LinuxUnavailableError",
    "ManifestError",
    "NotFoundError",
    "ProgressFileError",
    "UnschedulableError",
    "UnsupportedKindError",
]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: The longest message (characters); longer parts are cut, the user's parts first.
MESSAGE_LIMIT = 500
#: A value whose text is longer is described: its type, its size and its start.
_VALUE_LIMIT = 120
_OBJ_LIMIT, _FIELD_LIMIT = 80, 120
#: The most elements and levels of a value ``describe`` reads to decide it is short.
_SMALL_ITEMS, _SMALL_DEPTH = 24, 5
_NOUNS = {dict: ("dict", "key"), list: ("list", "item"), tuple: ("tuple", "item"),
          set: ("set", "item"), frozenset: ("frozenset", "item")}


class _Short(reprlib.Repr):
    """``reprlib``'s bounded repr (depth, items and string lengths capped), with a dict's
    keys in their order (``reprlib`` sorts them) and integers too long for ``repr`` (over
    4,300 digits) shown by their size."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxdict, self.maxlist, self.maxtuple = 2, 3, 4, 4
        self.maxset, self.maxfrozenset, self.maxstring, self.maxother = 4, 4, 30, 30

    def repr_int(self, x: int, level: int) -> str:
        return describe(x) if _huge(x) else super().repr_int(x, level)

    def repr_dict(self, x: dict, level: int) -> str:
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        pieces = [f"{self.repr1(k, level - 1)}: {self.repr1(x[k], level - 1)}"
                  for k in itertools.islice(x, self.maxdict)]
        return "{" + ", ".join(pieces + ["..."] * (len(x) > self.maxdict)) + "}"


_SHORT = _Short()


def _huge(number: int) -> bool:
    return not -10 ** _VALUE_LIMIT < number < 10 ** _VALUE_LIMIT


def _digits(number: int) -> int:
    """How many decimal digits ``number`` has (``str`` refuses over 4,300 of them)."""
    number = abs(number)
    digits = int(math.log10(number)) + 1 if number else 1
    if 10 ** (digits - 1) > number:  # log10 rounds near powers of ten
        digits -= 1
    elif 10 ** digits <= number:
        digits += 1
    return digits


def _small(value: Any) -> bool:
    """Is ``value`` (a container) few elements and levels, so that ``str`` of it is short
    and safe? Reads at most ``_SMALL_ITEMS`` elements, however big or cyclic it is."""
    budget = _SMALL_ITEMS
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0 or depth > _SMALL_DEPTH:
            return False
        if isinstance(item, dict):
            if len(item) > _SMALL_ITEMS:
                return False
            stack.extend((x, depth + 1) for pair in item.items() for x in pair)
        elif isinstance(item, (list, tuple, set, frozenset)):
            if len(item) > _SMALL_ITEMS:
                return False
            stack.extend((x, depth + 1) for x in item)
        elif (isinstance(item, str) and len(item) > _VALUE_LIMIT) or (
                isinstance(item, int) and _huge(item)):
            return False
    return True


def describe(value: Any) -> str:
    """How a message shows ``value``: ``repr`` of a string, ``str`` of anything else, and,
    when that would be long (or deep, or recursive), the value's type, size and start.

    >>> describe("web"), describe(80), describe({"a": 1})
    ("'web'", '80', "{'a': 1}")
    >>> describe("a" * 5000)
    "a string of 5,000 characters: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…'"
    >>> describe({str(i): i for i in range(50)})
    "a dict of 50 keys: {'0': 0, '1': 1, '2': 2, ...}"
    >>> describe(10 ** 5000)
    'an integer of 5,001 digits'
    """
    if isinstance(value, str):
        shown = repr(value)
        if len(shown) <= _VALUE_LIMIT:
            return shown
        start = repr(value[:40])
        return f"a string of {len(value):,} characters: {start[:-1]}…{start[-1]}"
    if isinstance(value, int) and not isinstance(value, bool) and _huge(value):
        return f"an integer of {_digits(value):,} digits"
    kind = type(value)
    if kind in _NOUNS:
        if _small(value):
            shown = str(value)
            if len(shown) <= _VALUE_LIMIT:
                return shown
        noun, member = _NOUNS[kind]
        count = len(value)
        start = _clip(_SHORT.repr(value), _VALUE_LIMIT)
        return f"a {noun} of {count:,} {member}{'' if count == 1 else 's'}: {start}"
    try:
        shown = str(value)
    except Exception:  # a broken or recursive __str__ must not hide the error itself
        shown = _SHORT.repr(value)
    if len(shown) <= _VALUE_LIMIT:
        return shown
    return f"a {kind.__name__} of {len(shown):,} characters: {shown[:40]}…"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class KubenetLabError(Exception):
    """Base class of every error kubenet_lab raises on bad input.

    Parameters
    ----------
    obj : str
        The object the error is about, as Kubernetes names it (``"Pod x/a"``,
        ``"Node node-1"``, ``"trace"``).
    field : str or None
        The field at fault, in the API's path notation, or None.
    value : object
        The offending value (shown with ``repr`` for strings).
    problem : str
        What is wrong with the value, as a phrase (``"is not in 1-65535"``).
    fix : str or None
        How to fix it.
    """

    def __init__(
        self,
        obj: str,
        field: str | None,
        value: Any,
        problem: str,
        *,
        fix: str | None = None,
    ) -> None:
        self.obj = obj
        self.field = field
        self.value = value
        self.problem = problem
        self.fix = fix
        where = _clip(str(obj), _OBJ_LIMIT) + ": "
        if field:
            where += _clip(str(field), _FIELD_LIMIT) + ": "
        head = f"{where}{describe(value)} "
        problem, fix = str(problem), str(fix) if fix else ""
        room = MESSAGE_LIMIT - len(head)
        if len(problem) + len(fix) + 3 > room:  # the package's own words are cut last
            fix = _clip(fix, max(room - len(problem) - 3, 60)) if fix else ""
            problem = _clip(problem, max(room - len(fix) - 3, 60))
        self._shown = (head + problem, fix)  # the message as cut, for _render_traceback_
        super().__init__(head + problem + (f" ({fix})" if fix else ""))

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for the error in a notebook: a few lines instead of the
        traceback through the package's internals.

        IPython's ``InteractiveShell.showtraceback`` (IPython/core/interactiveshell.py)
        uses the list this hook returns as the structured traceback of an exception that
        has one, and ipykernel sends it as the error's ``traceback``; ``ename`` and
        ``evalue`` (what nbval compares in a ``raises-exception`` cell) stay the class
        name and ``str(err)``. Plain Python (a script, pytest) never calls the hook and
        prints the whole traceback.

        The lines: the class and the message; the fix, when there is one; and the call
        site, the learner's line that called into the package (the last frame before the
        first frame of ``kubenet_lab``), named "your cell" in a notebook.

        >>> kl.ManifestError("Pod x/a", "spec", None, "Required value")._render_traceback_()
        ['ManifestError: Pod x/a: spec: None Required value']
        >>> kl.NotFoundError("Node node-9", None, "node-9", "does not exist",
        ...                  fix="did you mean node-1?")._render_traceback_()
        ["NotFoundError: Node node-9: 'node-9' does not exist", '  fix: did you mean node-1?']
        """
        message, fix = getattr(self, "_shown", (str(self), ""))
        lines = [f"{type(self).__name__}: {message}"]
        if fix:
            lines.append(f"  fix: {fix}")
        site = _call_site(self.__traceback__)
        if site is not None:
            lines.append(site)
        return lines


#: The longest source line the call site shows.
_SOURCE_LIMIT = 100


def _call_site(tb: TracebackType | None) -> str | None:
    """``"  in your cell, line 2: c.add_pod(...)"``: the frame that called into the
    package (the last one before the first ``kubenet_lab`` frame, walking from the
    outermost), or the innermost frame when the error never went through the package;
    None for an error that was never raised."""
    site = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if os.path.abspath(filename).startswith(_PACKAGE_DIR):
            break
        site = (filename, tb.tb_lineno)
        tb = tb.tb_next
    if site is None:
        return None
    filename, lineno = site
    # IPython names a cell "<ipython-input-N-...>"; ipykernel, "/tmp/ipykernel_PID/HASH.py"
    cell = filename.startswith("<ipython-input") or "ipykernel_" in filename
    where = "your cell" if cell else os.path.basename(filename)
    source = _clip(linecache.getline(filename, lineno).strip(), _SOURCE_LIMIT)
    return f"  in {where}, line {lineno}" + (f": {source}" if source else "")


class ManifestError(KubenetLabError, ValueError):
    """A manifest or an argument is malformed, or a field has an invalid value.

    Raised by ``Cluster.apply`` (nothing is applied), by the ``add_*`` verbs and by
    ``Cluster.trace`` for an out-of-range port or unknown protocol.
    """


class UnsupportedKindError(ManifestError):
    """``Cluster.apply`` got a ``kind`` (or ``apiVersion``) the lab does not model."""


class NotFoundError(KubenetLabError, LookupError):
    """A pod, node, namespace or other named object does not exist."""


class ConflictError(KubenetLabError, ValueError):
    """A name or an address is already in use by another object."""


class AddressExhaustedError(KubenetLabError, ValueError):
    """An address range has no free block or address left (podCIDRs, pod IPs, node IPs)."""


class UnschedulableError(KubenetLabError, RuntimeError):
    """No node can run a pod (taints, or every node already runs ``maxPods`` pods).

    A real cluster would leave the pod ``Pending``; the lab refuses it at once with the
    scheduler's own explanation.
    """


class ProgressFileError(KubenetLabError, ValueError):
    """The file ``kl.progress()`` keeps the solved exercises in cannot be read or is not
    the lab's JSON; the message names the file and how to start it anew."""


class LinuxUnavailableError(KubenetLabError, RuntimeError):
    """``kubenet_lab.linux`` cannot build the cluster from real kernel objects here: it
    needs Linux, root (network namespaces, veth pairs, bridges, VXLAN devices) and the
    tools ``ip``, ``iptables-restore`` and ``nft``; the message names what is missing.
    Also raised when a command inside one of the lab's namespaces fails."""
