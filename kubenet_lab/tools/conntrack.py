"""``conntrack -L`` (conntrack-tools 1.4.8, Ubuntu 24.04's ``conntrack_1.4.8-1ubuntu1``):
the node's connection tracking table as the runtime keeps it (``walk.conntrack``: one
entry per connection ``Cluster.trace``, ``curl``, ``ping``, ``nslookup``, ``dig`` made
through the node), with the original and the reply tuple, so a DNAT (the reply comes
from the endpoint) and a masquerade (the reply goes to the masquerade address) show.

Format: libnetfilter_conntrack's ``snprintf_default`` as ``conntrack -L`` prints it::

    tcp      6 86399 ESTABLISHED src=10.244.1.2 dst=10.96.0.1 sport=41022 dport=443 \
src=10.0.1.4 dst=10.244.1.2 sport=6443 dport=41022 [ASSURED] mark=0 use=1
    conntrack v1.4.8 (conntrack-tools): 1 flow entries have been shown.

(the protocol name padded to 8, its number, the seconds left, the TCP state, the two
tuples with ``[UNREPLIED]`` between them while no reply was seen, ``[ASSURED]``,
``mark=``, ``use=``; the zone only when not 0, so never here). ``-o extended`` puts
``ipv4     2`` first. The last line goes to stderr, which the lab's shell shows after
stdout, as a terminal does. Sources: conntrack-tools ``src/conntrack.c`` (1.4.8:
``exit_msg``, ``exit_error``, ``usage``, ``err2str``, the option table and getopt
string, ``extensions/libct_proto_tcp.c`` for ``--sport``/``--dport``/``--state``, which
exist only after ``-p tcp``/``udp``/``sctp``); manpages.ubuntu.com noble conntrack(8);
the sample line of the brief (``tcp 6 431999 ESTABLISHED ... [ASSURED] mark=0 use=1``).

Commands: ``-L``/``--dump`` (filters ``-s``, ``-d``, ``-r``, ``-q``, ``-p``,
``--sport``, ``--dport``, ``--reply-port-src``, ``--reply-port-dst``, ``--state``,
``-n``/``--src-nat``, ``-g``/``--dst-nat``, ``-j``/``--any-nat``, ``-m``, ``-u``,
``-f ipv4``, ``-o extended``), ``-C`` (the count), ``-D`` (delete what the filters
match), ``-F`` (flush), ``-V``, ``-h``. ``-E`` (events) would run until interrupted: the
lab says so; ``-I``, ``-U``, ``-G``, ``-S`` and the ``expect``/``dying``/``unconfirmed``
tables are not modelled, and the lab says so. In a pod: a pod has no CAP_NET_ADMIN, and
ctnetlink refuses the dump with EPERM, which conntrack words as ``Operation failed:
sorry, you must be root or get CAP_NET_ADMIN capability to do this``.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address

from kubenet_lab.dataplane.runtime import ConntrackEntry
from kubenet_lab.tools.context import Context
from kubenet_lab.tools.options import strtoul

__all__ = ["VERSION", "conntrack", "format_entry"]

VERSION = "1.4.8"
_PREFIX = f"conntrack v{VERSION} (conntrack-tools): "
_TRY = "Try `conntrack -h' or 'conntrack --help' for more information."
_PROTOCOLS = {"TCP": ("tcp", 6), "UDP": ("udp", 17), "ICMP": ("icmp", 1),
              "SCTP": ("sctp", 132)}
#: conntrack's protocol handlers (``findproto``): name -> number.
_KNOWN = {"tcp": 6, "udp": 17, "udplite": 136, "sctp": 132, "dccp": 33, "icmp": 1,
          "icmpv6": 58, "gre": 47}
_PORT_PROTOCOLS = {"tcp", "udp", "udplite", "sctp", "dccp"}
_TCP_STATES = ("NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT",
               "LAST_ACK", "TIME_WAIT", "CLOSE", "LISTEN", "SYN_SENT2")
#: The long options of src/conntrack.c (``original_opts``): name -> (short, argument:
#: 0 none, 1 required, 2 optional).
_LONG = {"dump": ("L", 2), "create": ("I", 2), "add": ("A", 2), "delete": ("D", 2),
         "update": ("U", 2), "get": ("G", 2), "flush": ("F", 2), "event": ("E", 2),
         "counter": ("C", 2), "stats": ("S", 0), "version": ("V", 0), "help": ("h", 0),
         "orig-src": ("s", 1), "src": ("s", 1), "orig-dst": ("d", 1), "dst": ("d", 1),
         "reply-src": ("r", 1), "reply-dst": ("q", 1), "protonum": ("p", 1),
         "timeout": ("t", 1), "status": ("u", 1), "zero": ("z", 0),
         "event-mask": ("e", 1), "mark": ("m", 1), "secmark": ("c", 1), "family": ("f", 1),
         "src-nat": ("n", 2), "dst-nat": ("g", 2), "output": ("o", 1),
         "buffer-size": ("b", 1), "any-nat": ("j", 2), "zone": ("w", 1), "label": ("l", 1)}
#: The protocol extension's options (libct_proto_tcp.c, _udp.c, _sctp.c).
_PORT_LONG = {"orig-port-src": "sport", "sport": "sport", "orig-port-dst": "dport",
              "dport": "dport", "reply-port-src": "reply-port-src",
              "reply-port-dst": "reply-port-dst", "state": "state"}
_SHORT_ARG = {"s": 1, "d": 1, "r": 1, "q": 1, "p": 1, "t": 1, "u": 1, "e": 1, "m": 1,
              "c": 1, "f": 1, "o": 1, "b": 1, "w": 1, "l": 1, "n": 2, "g": 2, "j": 2,
              "C": 2}
_COMMANDS = "LIUDGEFAhVCS"
#: src/conntrack.c ``usage()`` (stdout).
_USAGE = f"""Command line interface for the connection tracking system. Version {VERSION}
Usage: conntrack [commands] [options]

Commands:
  -L [table] [options]\t\tList conntrack or expectation table
  -G [table] parameters\t\tGet conntrack or expectation
  -D [table] parameters\t\tDelete conntrack or expectation
  -I [table] parameters\t\tCreate a conntrack or expectation
  -U [table] parameters\t\tUpdate a conntrack
  -E [table] [options]\t\tShow events
  -F [table]\t\t\tFlush table
  -C [table]\t\t\tShow counter
  -S\t\t\t\tShow statistics

Tables: conntrack, expect, dying, unconfirmed

Conntrack parameters and options:
  -n, --src-nat ip\t\t\tsource NAT ip
  -g, --dst-nat ip\t\t\tdestination NAT ip
  -j, --any-nat ip\t\t\tsource or destination NAT ip
  -m, --mark mark\t\t\tSet mark
  -c, --secmark secmark\t\t\tSet selinux secmark
  -e, --event-mask eventmask\t\tEvent mask, eg. NEW,DESTROY
  -z, --zero \t\t\t\tZero counters while listing
  -o, --output type[,...]\t\tOutput format, eg. xml
  -l, --label label[,...]\t\tconntrack labels

Expectation parameters and options:
  --tuple-src ip\tSource address in expect tuple
  --tuple-dst ip\tDestination address in expect tuple

Updating parameters and options:
  --label-add label\tAdd label
  --label-del label\tDelete label

Common parameters and options:
  -s, --src, --orig-src ip\t\tSource address from original direction
  -d, --dst, --orig-dst ip\t\tDestination address from original direction
  -r, --reply-src ip\t\tSource address from reply direction
  -q, --reply-dst ip\t\tDestination address from reply direction
  -p, --protonum proto\t\tLayer 4 Protocol, eg. 'tcp'
  -f, --family proto\t\tLayer 3 Protocol, eg. 'ipv6'
  -t, --timeout timeout\t\tSet timeout
  -u, --status status\t\tSet status, eg. ASSURED
  -w, --zone value\t\tSet conntrack zone
  --orig-zone value\t\tSet zone for original direction
  --reply-zone value\t\tSet zone for reply direction
  -b, --buffer-size\t\tNetlink socket buffer size
  --mask-src ip\t\t\tSource mask address
  --mask-dst ip\t\t\tDestination mask address
"""


class _Exit(Exception):
    """What conntrack prints before it exits (a local signal)."""


def _param_problem(message: str) -> _Exit:
    return _Exit(f"{_PREFIX}{message}\n{_TRY}")


def format_entry(e: ConntrackEntry, extended: bool = False) -> str:
    """One entry as ``conntrack -L`` prints it (see the module docstring)."""
    name, number = _PROTOCOLS.get(e.protocol, (e.protocol.lower(), 0))
    parts = ["ipv4     2 "] if extended else []
    parts.append(f"{name:<8} {number} {e.timeout} ")
    if e.state:
        parts.append(f"{e.state} ")

    def tuple_text(t: tuple[str, str, int, int], icmp_type: int) -> str:
        if e.protocol == "ICMP":
            return f"src={t[0]} dst={t[1]} type={icmp_type} code=0 id={t[2]} "
        return f"src={t[0]} dst={t[1]} sport={t[2]} dport={t[3]} "

    parts.append(tuple_text(e.orig, 8))
    if not e.replied:
        parts.append("[UNREPLIED] ")
    parts.append(tuple_text(e.reply, 0))
    if e.assured:
        parts.append("[ASSURED] ")
    parts.append(f"mark={e.mark} use=1")
    return "".join(parts)


def _parse(args: list[str]) -> tuple[str, dict[str, list[str | None]]]:
    """The command (its short letter) and the options, as do_parse reads them."""
    command = ""
    opts: dict[str, list[str | None]] = {}
    proto = None
    i = 0

    def set_command(c: str) -> None:
        nonlocal command
        if command:
            raise _param_problem("Invalid commands combination")
        command = c

    def optional(i: int) -> tuple[str | None, int]:
        if i < len(args) and not args[i].startswith("-"):
            return args[i], i + 1
        return None, i

    while i < len(args):
        arg = args[i]
        i += 1
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            ext = _PORT_LONG if proto in _PORT_PROTOCOLS else {}
            matches = [o for o in list(_LONG) + list(ext) if o.startswith(name)]
            exact = [o for o in matches if o == name]
            if not matches or (len(set(matches)) > 1 and not exact):
                raise _param_problem(f"unknown option `{arg}'")
            found = exact[0] if exact else matches[0]
            if found in _LONG:
                short, kind = _LONG[found]
            else:
                short, kind = _PORT_LONG[found], 1
            if kind == 1 and not eq:
                if i >= len(args):
                    raise _param_problem(f"option `{arg}' requires an argument")
                value, i = args[i], i + 1
            elif kind == 2 and not eq:
                got, i = optional(i)
                value = got or ""
            elif kind == 0 and eq:
                raise _param_problem(f"unknown option `{arg}'")
            letters = [(short, value if (kind or eq) else None)]
        elif arg.startswith("-") and len(arg) > 1:
            letters = []
            j = 1
            while j < len(arg):
                c = arg[j]
                if c in _COMMANDS:
                    if c == "C" and j + 1 < len(arg):  # -C takes an optional table
                        letters.append((c, arg[j + 1:]))
                        break
                    letters.append((c, None))
                    j += 1
                    continue
                kind = _SHORT_ARG.get(c)
                if kind is None:
                    raise _param_problem(f"unknown option `{arg}'")
                if j + 1 < len(arg):
                    letters.append((c, arg[j + 1:]))
                elif kind == 1:
                    if i >= len(args):
                        raise _param_problem(f"option `{arg}' requires an argument")
                    letters.append((c, args[i]))
                    i += 1
                else:
                    got, i = optional(i)
                    letters.append((c, got))
                break
        else:
            continue  # a table name after -L, or a stray word (getopt permutes it)
        for c, value in letters:
            if c in _COMMANDS:
                if c in "LDFCE" and value is None:
                    table, i = optional(i)
                    value = table
                if value and value not in ("conntrack", "expect", "expectation", "dying",
                                           "unconfirmed"):
                    raise _param_problem(f"unknown type `{value}'")
                set_command(c)
                opts.setdefault("table", []).append(value or "conntrack")
                continue
            if c == "p":
                text = (value or "").lower()
                number = strtoul(text)
                if text not in _KNOWN and not (number.end == len(text) and text):
                    raise _param_problem(f"`{value}' unsupported protocol")
                proto = text if text in _KNOWN else next(
                    (n for n, v in _KNOWN.items() if v == number.value), "unknown")
                value = proto
            if c in "sdrq" and value is not None:
                try:
                    IPv4Address(value)
                except ValueError:
                    raise _param_problem(f"Invalid IP address `{value}'") from None
            if c == "state" and (value or "") not in _TCP_STATES:
                raise _param_problem(f"unknown TCP state `{value}'")
            opts.setdefault(c, []).append(value)
    return command, opts


def _matcher(opts: dict[str, list[str | None]]) -> Callable[[ConntrackEntry], bool]:
    def last(key: str) -> str | None:
        return opts[key][-1] if key in opts else None

    proto = last("p")
    filters = {"s": lambda e: e.orig[0], "d": lambda e: e.orig[1],
               "r": lambda e: e.reply[0], "q": lambda e: e.reply[1]}

    def port(text: str | None) -> int:
        return strtoul(text or "0").value % 65536

    def keep(e: ConntrackEntry) -> bool:
        if proto is not None and _PROTOCOLS.get(e.protocol, ("",))[0] != proto:
            return False
        for key, field in filters.items():
            if last(key) is not None and field(e) != last(key):
                return False
        checks = {"sport": e.orig[2], "dport": e.orig[3], "reply-port-src": e.reply[2],
                  "reply-port-dst": e.reply[3]}
        for key, value in checks.items():
            if key in opts and value != port(last(key)):
                return False
        if "state" in opts and e.state != last("state"):
            return False
        snat, dnat = e.reply[1] != e.orig[0], e.reply[0] != e.orig[1]
        for key, nat, addr in (("n", snat, e.reply[1]), ("g", dnat, e.reply[0])):
            if key in opts and (not nat or (last(key) and last(key) != addr)):
                return False
        if "j" in opts and not (snat or dnat) or (
                last("j") and last("j") not in (e.reply[0], e.reply[1])):
            return False
        if "m" in opts and strtoul(last("m") or "0", 0).value != e.mark:
            return False
        status = (last("u") or "").upper()
        if status:
            wanted = set(status.split(","))
            have = {"SEEN_REPLY"} if e.replied else {"UNSET"}
            if e.assured:
                have.add("ASSURED")
            if not wanted <= have:
                return False
        return True

    return keep


def conntrack(ctx: Context, args: list[str]) -> str:
    """``conntrack -L|-C|-D|-F [filters]`` on a node (see the module docstring)."""
    try:
        command, opts = _parse(args)
        if not command:
            return _USAGE.rstrip("\n")
        if command == "V":
            return f"conntrack v{VERSION} (conntrack-tools)"
        if command == "h":
            return _USAGE.rstrip("\n")
        table = (opts.get("table") or ["conntrack"])[-1]
        if ctx.pod:
            raise _Exit(f"{_PREFIX}Operation failed: sorry, you must be root or get "
                        "CAP_NET_ADMIN capability to do this")
        family = (opts.get("f") or ["ipv4"])[-1] or ""
        if not family.startswith(("ipv4", "ipv6")):
            raise _param_problem(f"`{family}' unsupported protocol")
        output = ",".join(v or "" for v in opts.get("o", []))
        for kind in filter(None, output.split(",")):
            if kind not in ("extended", "xml", "timestamp", "id", "ktimestamp", "labels",
                            "userspace", "save"):
                raise _param_problem(f"Bad parameter `{kind}'")
        if command == "E":
            return ("conntrack: the lab cannot show events until interrupted: list the "
                    "table instead, e.g. conntrack -L")
        if command in "IUGSA" or table not in ("conntrack",):
            return (f"conntrack: the lab models the conntrack table's -L, -C, -D and -F "
                    f"only, not {'-' + command if command in 'IUGSA' else table}")
        node = ctx.where
        entries = list(ctx.runtime.conntrack(node))
        if family.startswith("ipv6"):
            entries = []
        keep = _matcher(opts)
        if command == "F":
            ctx.runtime.flush_conntrack(node)
            return f"{_PREFIX}connection tracking table has been emptied."
        if command == "C":
            return str(len(ctx.runtime.conntrack(node)))
        shown = [e for e in entries if keep(e)]
        lines = [format_entry(e, "extended" in output.split(",")) for e in shown]
        if command == "D":
            ctx.runtime.flush_conntrack(node, lambda e: not keep(e))
            lines.append(f"{_PREFIX}{len(shown)} flow entries have been deleted.")
        else:
            lines.append(f"{_PREFIX}{len(shown)} flow entries have been shown.")
        return "\n".join(lines)
    except _Exit as done:
        return str(done)
