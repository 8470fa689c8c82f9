"""Bulk work: building a million records at once.

CPython's cyclic garbage collector runs after every 700 net allocations of container
objects, and each third-generation run walks every live object; while a 10,000-Service
table is built, millions of new tuples and lists keep triggering it over a heap that
only grows, so the build costs more than its size. The records the lab builds hold no
reference cycles (frozen records and tuples of strings), so nothing is lost by pausing
the collector while they are made, as ``gc.disable`` is used around bulk loads (the
CPython ``gc`` docs: "if you are sure your program does not create reference cycles").

>>> import gc
>>> with paused_collector():
...     gc.isenabled()
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["base32_prefix", "paused_collector"]

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_PAIRS = tuple(a + b for a in _B32 for b in _B32)  # every 10 bits as two characters


@contextmanager
def paused_collector() -> Iterator[None]:
    """No cyclic garbage collection inside (nested uses keep it off until the outermost
    one ends; it stays off if it was off)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def base32_prefix(raw: bytes, chars: int) -> str:
    """The first ``chars`` characters of ``base64.b32encode(raw)`` (``chars`` a multiple
    of 8), without encoding the rest: kube-proxy's chain names take 8 or 16 characters of
    a SHA-256, a million times for a large cluster.

    >>> import base64, hashlib
    >>> d = hashlib.sha256(b"x").digest()
    >>> base32_prefix(d, 16) == base64.b32encode(d).decode()[:16]
    True
    """
    p = _PAIRS
    if chars == 8:  # the two sizes kube-proxy uses, spelled out: no loop
        n = int.from_bytes(raw[:5], "big")
        return p[n >> 30] + p[n >> 20 & 1023] + p[n >> 10 & 1023] + p[n & 1023]
    if chars == 16:
        n = int.from_bytes(raw[:10], "big")
        return (p[n >> 70] + p[n >> 60 & 1023] + p[n >> 50 & 1023] + p[n >> 40 & 1023]
                + p[n >> 30 & 1023] + p[n >> 20 & 1023] + p[n >> 10 & 1023] + p[n & 1023])
    size = chars * 5 // 8
    n = int.from_bytes(raw[:size], "big")
    return "".join(p[(n >> shift) & 1023] for shift in range(size * 8 - 10, -1, -10))
