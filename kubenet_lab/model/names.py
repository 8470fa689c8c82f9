"""Names as Kubernetes and its tools treat them: natural sort order, references
(``"namespace/name"``), close-name suggestions for error messages, and the vowel-free
alphabet of generated suffixes.

>>> sorted(["node-10", "node-2"], key=natural_key)
['node-2', 'node-10']
>>> split_ref("web"), split_ref("x/web")
(('default', 'web'), ('x', 'web'))
>>> suggest("node-9", ["node-1", "node-2"], "nodes")
"did you mean 'node-2' or 'node-1'?"
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

__all__ = ["EPOCH", "SAFE_ALPHABET", "natural_key", "safe_encode", "split_ref", "suggest",
           "timestamp"]

#: k8s.io/apimachinery/pkg/util/rand: the characters of generated name suffixes.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@lru_cache(maxsize=65536)
def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key that orders embedded numbers by value: ``node-2`` before ``node-10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def safe_encode(text: str) -> str:
    """apimachinery's ``rand.SafeEncodeString``: map each byte into ``SAFE_ALPHABET``."""
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in text.encode())


def split_ref(ref: str) -> tuple[str, str]:
    """``"namespace/name"`` as a pair; a bare ``"name"`` is in namespace ``default``."""
    if "/" in ref:
        namespace, _, name = ref.rpartition("/")
        return namespace, name
    return "default", ref


def suggest(wanted: str, names: list[str], what: str) -> str:
    """The fix of a "does not exist" error: close names, or the names there are."""
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(repr(n) for n in close) + "?"
    if not names:
        return f"there are no {what} yet"
    shown = sorted(names, key=natural_key)
    more = f", ... ({len(shown)} in all)" if len(shown) > 8 else ""
    return f"{what} are: " + ", ".join(shown[:8]) + more


#: The moment a lab cluster's clock starts (``StoreView.clock`` counts seconds from it).
EPOCH = datetime(2026, 12, 1, 9, 0, 0, tzinfo=timezone.utc)


def timestamp(seconds: int) -> str:
    """A time on the cluster's clock as the API prints it (RFC 3339, UTC, seconds).

    >>> timestamp(0), timestamp(61)
    ('2026-12-01T09:00:00Z', '2026-12-01T09:01:01Z')
    """
    return (EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
