"""What the tools share to read their command lines as the C programs do: numbers as
``strtol``/``strtoul``/``strtod`` read them (glibc), and options as GNU ``getopt`` reads
them.

A number is read from ASCII digits only (``'²'`` is no digit for C), and a run of more
digits than any 64-bit value has is an overflow, found without converting it (Python's
``int()`` refuses more than 4300 digits, and would be slow long before).

>>> strtol("42"), strtol(" -7x"), strtol("abc")
(CNumber(value=42, end=2, overflow=False), CNumber(value=-7, end=3, overflow=False), \
CNumber(value=0, end=0, overflow=False))
>>> strtoul("0x10", base=0).value, strtoul("-1").value == 2**64 - 1
(16, True)
>>> getopt(["-nc3", "host", "-q"], "c:nq")
([('n', None), ('c', '3'), ('q', None)], ['host'])
>>> getopt(["-c"], "c:")
"option requires an argument -- 'c'"
"""

from __future__ import annotations

import re
from typing import NamedTuple

from kubenet_lab.api.fields import is_decimal

__all__ = ["LONG_MAX", "LONG_MIN", "ULONG_MAX", "CNumber", "c_number", "getopt", "strtod",
           "strtol", "strtoul"]

LONG_MAX = 2**63 - 1
LONG_MIN = -(2**63)
ULONG_MAX = 2**64 - 1
#: More significant digits than any 64-bit value has in base 8 (the longest).
_MAX_DIGITS = 23
#: C's isspace() in the C locale.
_SPACE = " \t\n\v\f\r"
_DIGITS = {8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}
_STRTOD = re.compile(
    r"[ \t\n\v\f\r]*[+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)"
    r"(?:[pP][+-]?[0-9]+)?|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)")


class CNumber(NamedTuple):
    """What a C conversion read: the value, where it stopped (``end == 0``: nothing was
    converted, as ``endptr == str``) and whether the value overflowed (``ERANGE``)."""

    value: int
    end: int
    overflow: bool


def _scan(text: str, base: int) -> tuple[int, bool, int, int]:
    """Sign, digits' start and end, and the base, as glibc's ``strtol`` finds them."""
    i = len(text) - len(text.lstrip(_SPACE))
    negative = text[i:i + 1] == "-"
    i += text[i:i + 1] in ("+", "-")
    if base in (0, 16) and text[i:i + 2] in ("0x", "0X") and text[i + 2:i + 3] and (
            text[i + 2] in _DIGITS[16]):
        i, base = i + 2, 16
    elif base == 0:
        base = 8 if text[i:i + 1] == "0" else 10
    start = end = i
    while end < len(text) and text[end] in _DIGITS[base]:
        end += 1
    return (-1 if negative else 1), base, start, end


def _magnitude(digits: str, base: int) -> int | None:
    """The value of ``digits``, or None when it has more digits than 64 bits hold."""
    digits = digits.lstrip("0")
    return None if len(digits) > _MAX_DIGITS else int(digits or "0", base)


def strtol(text: str, base: int = 10) -> CNumber:
    """``strtol(text, &end, base)``: a signed long, clamped on overflow."""
    sign, base, start, end = _scan(text, base)
    if start == end:
        return CNumber(0, 0, False)
    magnitude = _magnitude(text[start:end], base)
    value = None if magnitude is None else sign * magnitude
    if value is None or not LONG_MIN <= value <= LONG_MAX:
        return CNumber(LONG_MAX if sign > 0 else LONG_MIN, end, True)
    return CNumber(value, end, False)


def strtoul(text: str, base: int = 10) -> CNumber:
    """``strtoul(text, &end, base)``: an unsigned long; a negative number wraps around
    (``"-1"`` is ``ULONG_MAX``), a too large one is ``ULONG_MAX`` with ``ERANGE``."""
    sign, base, start, end = _scan(text, base)
    if start == end:
        return CNumber(0, 0, False)
    magnitude = _magnitude(text[start:end], base)
    if magnitude is None or magnitude > ULONG_MAX:
        return CNumber(ULONG_MAX, end, True)
    return CNumber(magnitude if sign > 0 else -magnitude % 2**64, end, False)


def strtod(text: str) -> tuple[float, int, bool]:
    """``strtod(text, &end)``: the value, where it stopped (0: nothing converted) and
    whether it overflowed (``ERANGE``: too large for a double)."""
    match = _STRTOD.match(text)
    if match is None:
        return 0.0, 0, False
    number = match.group().lstrip(_SPACE)
    lower = number.lower().lstrip("+-")
    if lower.startswith("nan"):
        return float("nan"), match.end(), False
    try:
        value = float.fromhex(number) if lower.startswith("0x") else float(number)
    except OverflowError:  # a hexadecimal float beyond a double
        value = float("-inf") if number.startswith("-") else float("inf")
    overflow = value in (float("inf"), float("-inf")) and not lower.startswith("inf")
    return value, match.end(), overflow


def c_number(text: str, low: int, high: int) -> int | None:
    """A plain decimal ``text`` (ASCII digits only) in ``low..high``, else None: the
    common case of a tool that wants a count or a port."""
    if not is_decimal(text) or len(text.lstrip("0")) > _MAX_DIGITS:
        return None
    value = int(text)
    return value if low <= value <= high else None


def getopt(args: list[str], optstring: str, longopts: dict[str, bool] | None = None,
           ) -> tuple[list[tuple[str, str | None]], list[str]] | str:
    """GNU ``getopt_long(argc, argv, optstring, longopts)`` over ``args`` (argv without
    the program's name), permuting as glibc does: the options found, in order, with
    their arguments (a long option by its name, ``longopts`` telling which take one), and
    the operands; or the error glibc prints (without the program's name). A byte that is
    no ASCII letter shows as the terminal shows a lone UTF-8 byte, U+FFFD."""
    opts: list[tuple[str, str | None]] = []
    operands: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            operands += args[i:]
            break
        if not arg.startswith("-") or arg == "-":
            operands.append(arg)
            continue
        if arg.startswith("--"):
            found = _long_option(arg, longopts or {})
            if isinstance(found, str):
                return found
            name, value = found
            if (longopts or {})[name] and value is None:
                if i >= len(args):
                    return f"option '--{name}' requires an argument"
                value, i = args[i], i + 1
            opts.append((name, value))
            continue
        j = 1
        while j < len(arg):
            ch = arg[j]
            spec = optstring.find(ch) if ch != ":" else -1
            shown = ch if ch.isascii() else "\ufffd"
            if spec < 0:
                return f"invalid option -- '{shown}'"
            if optstring[spec + 1:spec + 2] != ":":
                opts.append((ch, None))
                j += 1
                continue
            if j + 1 < len(arg):
                opts.append((ch, arg[j + 1:]))
            elif i < len(args):
                opts.append((ch, args[i]))
                i += 1
            else:
                return f"option requires an argument -- '{shown}'"
            break
    return opts, operands


def _long_option(arg: str, longopts: dict[str, bool]) -> tuple[str, str | None] | str:
    """A ``--name[=value]``: the long option it names (exactly, or as the one option it
    abbreviates) and its attached value, or glibc's message."""
    name, eq, value = arg[2:].partition("=")
    candidates = [name] if name in longopts else [o for o in longopts if o.startswith(name)]
    if not name or not candidates:
        return f"unrecognized option '{arg}'"
    if len(candidates) > 1:
        return (f"option '--{name}' is ambiguous; possibilities: "
                + " ".join(f"'--{c}'" for c in candidates))
    found = candidates[0]
    if eq and not longopts[found]:
        return f"option '--{found}' doesn't allow an argument"
    return found, value if eq else None
