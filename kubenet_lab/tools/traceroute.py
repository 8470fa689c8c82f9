"""``traceroute -n``: a line per router that decrements the TTL and answers ICMP time
exceeded (the nodes), then the destination.

The command line is read as traceroute 2.1.x (Dmitry Butskoy's, the Debian and Ubuntu
``traceroute`` package) reads it, through its CLIF library (libsupp/clif.c:
``Bad option `-x' (argc 1)``, ``Cannot handle `-m' option with arg `abc' (argc 2)``,
``Specify "host" missing argument.``) and the checks of traceroute/traceroute.c's
``main`` (``first hop out of range``, ``max hops cannot be more than 255``); the wording
and the help text are those of the 2.1.2 binary. Numbers are read as ``strtoul(arg, &end,
0)`` into an ``unsigned int`` (so ``-m 0x10`` is 16 and ``-m -1`` is 4294967295).
``-m``, ``-f``, ``-q`` and the packet length change the output; the other options are
checked as traceroute checks them and change nothing (the probes are always the default
UDP method's). The nodes run with IPv6 disabled (see ``tools.ip``): an IPv6 destination
fails when traceroute opens its socket.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

from kubenet_lab.tools.context import Context, fmt_ms, rtt_ms
from kubenet_lab.tools.options import strtod, strtol, strtoul
from kubenet_lab.tools.ping import reached
from kubenet_lab.tools.resolver import is_ipv6, name_error, resolve

__all__ = ["traceroute"]

MAX_HOPS = 255
MAX_PROBES = 10
MAX_PACKET_LEN = 65000
#: The options: short name -> (long name, argument name or None, kind of argument).
_OPTIONS: dict[str, tuple[str | None, str | None, str]] = {
    "4": (None, None, "flag"), "6": (None, None, "flag"), "d": ("debug", None, "flag"),
    "F": ("dont-fragment", None, "flag"), "f": ("first", "first_ttl", "uint"),
    "g": ("gateway", "gate,...", "string"), "I": ("icmp", None, "flag"),
    "T": ("tcp", None, "flag"), "i": ("interface", "device", "string"),
    "m": ("max-hops", "max_ttl", "uint"), "N": ("sim-queries", "squeries", "uint"),
    "n": (None, None, "flag"), "p": ("port", "port", "uint"), "t": ("tos", "tos", "uint"),
    "l": ("flowlabel", "flow_label", "uint"), "w": ("wait", "MAX,HERE,NEAR", "wait"),
    "q": ("queries", "nqueries", "uint"), "r": (None, None, "flag"),
    "s": ("source", "src_addr", "address"), "z": ("sendwait", "sendwait", "double"),
    "e": ("extensions", None, "flag"), "A": ("as-path-lookups", None, "flag"),
    "M": ("module", "name", "string"), "O": ("options", "OPTS,...", "string"),
    "U": ("udp", None, "flag"), "D": ("dccp", None, "flag"),
    "P": ("protocol", "prot", "uint"), "V": ("version", None, "flag"),
}
_LONG_ONLY = {"sport": ("num", "uint"), "fwmark": ("num", "uint"), "mtu": (None, "flag"),
              "back": (None, "flag"), "help": (None, "flag")}
_MODULES = ("default", "icmp", "tcp", "tcpconn", "udp", "udplite", "dccp", "raw")


class _Settings:
    """What the command line set, with traceroute's defaults."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {"f": 1, "m": 30, "q": 3, "w": (5.0, 3.0, 10.0),
                                          "z": 0.0, "M": "default"}
        self.operands: list[tuple[str, int]] = []
        self.exit: str | None = None


def _convert(kind: str, arg: str) -> object | None:
    """CLIF_set_uint, CLIF_set_double, set_wait_specs, set_source: the value or None."""
    if kind == "uint":
        number = strtoul(arg, base=0)
        return None if number.end == 0 or number.end < len(arg) else number.value % 2**32
    if kind == "double":
        value, end, _ = strtod(arg)
        return None if end == 0 or end < len(arg) else value
    if kind == "wait":  # set_wait_specs: MAX[,HERE[,NEAR]], any one character between
        values: list[float] = []
        rest = arg
        for _ in range(3):
            value, end, _ = strtod(rest)
            if end == 0:
                return None
            values.append(value)
            if end == len(rest):
                return tuple(values + [0.0] * (3 - len(values)))
            rest = rest[end + 1:]
        return None
    if kind == "address":
        try:
            return str(IPv4Address(arg))
        except ValueError:
            return None
    return arg


def _option(settings: _Settings, name: str, spelled: str, arg: str | None, argc: int,
            kind: str) -> str | None:
    """Apply one option, or CLIF's message for a bad argument."""
    if kind == "flag":
        settings.values[name] = True
        return None
    value = _convert(kind, arg or "")
    if value is None:
        prefix = f"{arg}: Name or service not known\n" if kind == "address" else ""
        return f"{prefix}Cannot handle `{spelled}' option with arg `{arg}' (argc {argc})"
    settings.values[name] = value
    return None


def _parse(args: list[str]) -> _Settings | str:
    """CLIF_parse with traceroute's options (CLIF_MAY_JOIN_ARG): the settings, or the
    message of the first error."""
    settings = _Settings()
    argv = ["traceroute", *args]
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            settings.operands += [(a, n) for n, a in enumerate(argv[i + 1:], i + 1)]
            break
        if not arg.startswith("-") or arg == "-":
            settings.operands.append((arg, i))
        elif arg == "-UL":
            settings.values["M"] = "udplite"
        elif arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            short = next((s for s, (long, _, _) in _OPTIONS.items() if long == name), None)
            argname, kind = (_OPTIONS[short][1:] if short else _LONG_ONLY.get(name, (None, "")))
            if not kind or (eq and argname is None):
                with_arg = f" (with arg `{value}')" if eq else ""
                return f"Bad option `{arg}'{with_arg} (argc {i})"
            if argname is not None and not eq:
                return (f"Option `--{name}' (argc {i}) requires an argument: "
                        f"`--{name}={argname}'")
            error = _option(settings, short or name, f"--{name}", value if eq else None, i,
                            kind)
            if error:
                return error
        else:
            for j in range(1, len(arg)):
                letter = arg[j]
                if letter not in _OPTIONS:
                    return f"Bad option `-{letter}' (argc {i})"
                _, argname, kind = _OPTIONS[letter]
                if argname is None:
                    _option(settings, letter, "", None, i, "flag")
                    continue
                if j + 1 < len(arg):
                    if j > 1:  # inside a group, an option cannot take the group's rest
                        return (f"Option `-{letter}' (argc {i}) requires an argument: "
                                f"`-{letter} {argname}'")
                    value = arg[j + 1:]
                elif i + 1 < len(argv):
                    i += 1
                    value = argv[i]
                else:
                    return (f"Option `-{letter}' (argc {i}) requires an argument: "
                            f"`-{letter} {argname}'")
                error = _option(settings, letter, f"-{letter}", value, i, kind)
                if error:
                    return error
                break
        if settings.values.get("V"):
            settings.exit = _VERSION
            return settings
        if settings.values.get("help"):
            settings.exit = _HELP
            return settings
        i += 1
    return settings


def traceroute(ctx: Context, args: list[str]) -> str:
    """``traceroute -n``: a line per router that decrements the TTL and answers ICMP time
    exceeded (the nodes), then the destination. The VPC's router and internet gateway
    forward without decrementing the TTL, so they are no hop (AWS; e.g. "Why traceroute
    ignores route table in AWS EC2 with VPC", cloudaffaire.com). Whether an AWS NAT
    gateway answers as a hop is not documented: it is shown as no hop either, and the
    internet is one flat network (no routers between the gateway and the host)."""
    if not args:
        return _HELP
    settings = _parse(args)
    if isinstance(settings, str):
        return settings
    if settings.exit:
        return settings.exit
    operands = settings.operands
    if not operands:
        return 'Specify "host" missing argument.'
    if len(operands) > 2:
        return f"Extra arg `{operands[2][0]}' (position 3, argc {operands[2][1]})"
    (host, position), values = operands[0], settings.values
    dst = host if is_ipv6(host) and not values.get("4") else (
        None if values.get("6") else resolve(ctx, host))
    if dst is None:
        reason = ("Address family for hostname not supported" if values.get("6")
                  and resolve(ctx, host) else name_error(ctx))
        return f"{host}: {reason}\nCannot handle \"host\" cmdline arg `{host}' on position 1 " \
               f"(argc {position})"
    packet_len = -1
    if len(operands) == 2:
        text, argc = operands[1]
        number = strtol(text, base=0)
        if number.end == 0 or number.end < len(text):
            return (f"Cannot handle \"packetlen\" cmdline arg `{text}' on position 2 "
                    f"(argc {argc})")
        packet_len = (number.value + 2**31) % 2**32 - 2**31  # the (int) cast
    error = _check(values, packet_len, ipv6=is_ipv6(dst))
    if error:
        return error
    header_len = (40 if is_ipv6(dst) else 20) + 8
    size = header_len + (32 if packet_len < 0 else max(packet_len - header_len, 0))
    header = f"traceroute to {host} ({dst}), {values['m']} hops max, {size} byte packets"
    if is_ipv6(dst):
        return f"{header}\n\nsocket: Address family not supported by protocol"
    return _trace(ctx, header, dst, values["f"], values["m"], values["q"])


def _check(values: dict[str, Any], packet_len: int, *, ipv6: bool) -> str | None:
    """traceroute.c's checks after the command line, in their order."""
    first, max_hops, probes, wait = values["f"], values["m"], values["q"], values["w"]
    if values["M"] not in _MODULES:
        return f"Unknown traceroute module {values['M']}"
    if not first or first > max_hops:
        return "first hop out of range"
    if max_hops > MAX_HOPS:
        return f"max hops cannot be more than {MAX_HOPS}"
    if not probes or probes > MAX_PROBES:
        return f"no more than {MAX_PROBES} probes per hop"
    if any(v < 0 for v in wait):
        return "bad wait specifications `{:g},{:g},{:g}' used".format(*wait)
    if packet_len > MAX_PACKET_LEN:
        return f"too big packetlen {packet_len} specified"
    if "s" in values and ipv6:
        return "IP version mismatch in addresses specified"
    if values["z"] < 0:
        return f"bad sendtime `{values['z']:g}' specified"
    return None


def _trace(ctx: Context, header: str, dst: str, first: int, max_hops: int,
           probes: int) -> str:
    t = ctx.send(dst, 33434, "UDP")
    ctx.remember([("udp", t)])
    if t.hops[0].action == "drop" and "Network is unreachable" in t.reason:
        return "connect: Network is unreachable"
    lines = [header]
    src_ip = t.src_ip
    number = 0
    for hop in t.hops:
        if not any(c.field == "ttl" for c in hop.changes) or hop.node is None:
            continue
        number += 1
        if number > max_hops:
            return "\n".join(lines)
        if number < first:
            continue
        node = ctx.view.node(hop.node)
        back = ctx.dp.route(node, src_ip)
        addr = (back.src or ctx.dp.device_address(node, back.dev)
                if back else node.ip)
        if not ctx.dp.plugin.icmp_time_exceeded:
            lines.append(f"{number:>2} " + " *" * probes)
            continue
        lines.append(_probe_line(number, addr, src_ip, probes))
    if reached(t):
        number = max(number + 1, first)
        if number <= max_hops:
            lines.append(_probe_line(number, dst, src_ip, probes))
    else:
        number = max(number, first - 1)
        while number < max_hops:
            number += 1
            lines.append(f"{number:>2} " + " *" * probes)
    return "\n".join(lines)


def _probe_line(number: int, addr: str, src: str, probes: int = 3) -> str:
    base = 0.04 + 0.12 * number
    times = "  ".join(f"{fmt_ms(rtt_ms(addr, src, number, k, base=base))} ms"
                      for k in range(probes))
    return f"{number:>2}  {addr}  {times}"


_VERSION = ("Modern traceroute for Linux, version 2.1.2\n"
            "Copyright (c) 2016  Dmitry Butskoy,   License: GPL v2 or any later")
#: ``traceroute --help`` (and a bare ``traceroute``), as traceroute 2.1.2 prints it.
_HELP = ("Usage:\n  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] [ -g gate,... ] "
         "[ -i device ] [ -m max_ttl ] [ -N squeries ] [ -p port ] [ -t tos ] "
         "[ -l flow_label ] [ -w MAX,HERE,NEAR ] [ -q nqueries ] [ -s src_addr ] "
         "[ -z sendwait ] [ --fwmark=num ] host [ packetlen ]\n") + """Options:
  -4                          Use IPv4
  -6                          Use IPv6
  -d  --debug                 Enable socket level debugging
  -F  --dont-fragment         Do not fragment packets
  -f first_ttl  --first=first_ttl
                              Start from the first_ttl hop (instead from 1)
  -g gate,...  --gateway=gate,...
                              Route packets through the specified gateway
                              (maximum 8 for IPv4 and 127 for IPv6)
  -I  --icmp                  Use ICMP ECHO for tracerouting
  -T  --tcp                   Use TCP SYN for tracerouting (default port is 80)
  -i device  --interface=device
                              Specify a network interface to operate with
  -m max_ttl  --max-hops=max_ttl
                              Set the max number of hops (max TTL to be
                              reached). Default is 30
  -N squeries  --sim-queries=squeries
                              Set the number of probes to be tried
                              simultaneously (default is 16)
  -n                          Do not resolve IP addresses to their domain names
  -p port  --port=port        Set the destination port to use. It is either
                              initial udp port value for "default" method
                              (incremented by each probe, default is 33434), or
                              initial seq for "icmp" (incremented as well,
                              default from 1), or some constant destination
                              port for other methods (with default of 80 for
                              "tcp", 53 for "udp", etc.)
  -t tos  --tos=tos           Set the TOS (IPv4 type of service) or TC (IPv6
                              traffic class) value for outgoing packets
  -l flow_label  --flowlabel=flow_label
                              Use specified flow_label for IPv6 packets
  -w MAX,HERE,NEAR  --wait=MAX,HERE,NEAR
                              Wait for a probe no more than HERE (default 3)
                              times longer than a response from the same hop,
                              or no more than NEAR (default 10) times than some
                              next hop, or MAX (default 5.0) seconds (float
                              point values allowed too)
  -q nqueries  --queries=nqueries
                              Set the number of probes per each hop. Default is
                              3
  -r                          Bypass the normal routing and send directly to a
                              host on an attached network
  -s src_addr  --source=src_addr
                              Use source src_addr for outgoing packets
  -z sendwait  --sendwait=sendwait
                              Minimal time interval between probes (default 0).
                              If the value is more than 10, then it specifies a
                              number in milliseconds, else it is a number of
                              seconds (float point values allowed too)
  -e  --extensions            Show ICMP extensions (if present), including MPLS
  -A  --as-path-lookups       Perform AS path lookups in routing registries and
                              print results directly after the corresponding
                              addresses
  -M name  --module=name      Use specified module (either builtin or external)
                              for traceroute operations. Most methods have
                              their shortcuts (`-I' means `-M icmp' etc.)
  -O OPTS,...  --options=OPTS,...
                              Use module-specific option OPTS for the
                              traceroute module. Several OPTS allowed,
                              separated by comma. If OPTS is "help", print info
                              about available options
  --sport=num                 Use source port num for outgoing packets. Implies
                              `-N 1'
  --fwmark=num                Set firewall mark for outgoing packets
  -U  --udp                   Use UDP to particular port for tracerouting
                              (instead of increasing the port per each probe),
                              default port is 53
  -UL                         Use UDPLITE for tracerouting (default dest port
                              is 53)
  -D  --dccp                  Use DCCP Request for tracerouting (default port
                              is 33434)
  -P prot  --protocol=prot    Use raw packet of protocol prot for tracerouting
  --mtu                       Discover MTU along the path being traced. Implies
                              `-F -N 1'
  --back                      Guess the number of hops in the backward path and
                              print if it differs
  -V  --version               Print version info and exit
  --help                      Read this help and exit

Arguments:
+     host          The host to traceroute to
      packetlen     The full packet length (default is the length of an IP
                    header plus 40). Can be ignored or increased to a minimal
                    allowed value"""
