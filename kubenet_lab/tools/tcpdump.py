"""``tcpdump -n -i IFACE`` (4.99): the packets of the last command that sent traffic
(``ping``, ``curl``, ``traceroute``, ``nslookup``) on this host and interface, as a capture
running during it would have seen them. Timestamps count from 00:00:00 of the lab's
day (there is no clock); VXLAN on port 8472 is decoded as tcpdump does (as OTV).

The command line is read as tcpdump 4.99 reads it (tcpdump.c: getopt_long with its
SHORTOPTS and longopts; ``tcpdump: invalid packet count abc``, ``tcpdump: invalid snaplen
..``, and on a usage error the version lines and usage text of ``print_usage``, as
Ubuntu 24.04's build prints them). ``-i``, ``-c`` (at most that many packets) and ``-s``
change the output; the other options, and a filter expression, are accepted and change
nothing (every packet of the capture is shown).
"""

from __future__ import annotations

import hashlib

from kubenet_lab.model.packet import UDP, VXLAN, IPv4, Packet
from kubenet_lab.tools.context import Context, rtt_ms
from kubenet_lab.tools.options import getopt, strtol

__all__ = ["tcpdump"]


_SHORTOPTS = "aAbB:c:C:dDeE:fF:G:hHi:Ij:JKlLm:M:nNOpqQ:r:s:StT:uUvV:w:W:xXy:Yz:Z:#"
#: tcpdump.c longopts: the name, and whether it takes an argument.
_LONGOPTS = {"buffer-size": True, "list-interfaces": False, "help": False,
             "interface": True, "monitor-mode": False, "time-stamp-type": True,
             "list-time-stamp-types": False, "direction": True, "snapshot-length": True,
             "relinquish-privileges": True, "count": False, "immediate-mode": False,
             "number": False, "print": False, "version": False,
             "time-stamp-precision": True, "micro": False, "nano": False, "lengths": False}
_SHORT_OF = {"interface": "i", "snapshot-length": "s", "help": "h"}
MAXIMUM_SNAPLEN = 262144
_VERSION = ("tcpdump version 4.99.4\nlibpcap version 1.10.4 (with TPACKET_V3)\n"
            "OpenSSL 3.0.13 30 Jan 2024")
_USAGE = """Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ] [--count]
\t\t[ -C file_size ] [ -E algo:secret ] [ -F file ] [ -G seconds ]
\t\t[ -i interface ] [ --immediate-mode ] [ -j tstamptype ]
\t\t[ -M secret ] [ --number ] [ --print ] [ -Q in|out|inout ]
\t\t[ -r file ] [ -s snaplen ] [ -T type ] [ --version ]
\t\t[ -V file ] [ -w file ] [ -W filecount ] [ -y datalinktype ]
\t\t[ --time-stamp-precision precision ] [ --micro ] [ --nano ]
\t\t[ -z postrotate-command ] [ -Z user ] [ expression ]"""


def _options(args: list[str]) -> dict[str, str] | str:
    """The options tcpdump keeps (the last of each), or what it prints and exits with."""
    parsed = getopt(args, _SHORTOPTS, _LONGOPTS)
    if isinstance(parsed, str):
        return f"tcpdump: {parsed}\n{_VERSION}\n{_USAGE}"
    opts: dict[str, str] = {}
    for opt, value in parsed[0]:
        opt = _SHORT_OF.get(opt, opt)
        if opt == "h":
            return f"{_VERSION}\n{_USAGE}"
        if opt == "version":
            return _VERSION
        if opt == "c":  # atoi(optarg) <= 0
            count = strtol(value or "").value
            if not 0 < (count + 2**31) % 2**32 - 2**31:
                return f"tcpdump: invalid packet count {value}"
        if opt == "s":
            number = strtol(value or "", base=0)
            if (number.end == 0 or number.end < len(value or "") or number.overflow
                    or not 0 <= number.value <= MAXIMUM_SNAPLEN):
                return (f"tcpdump: invalid snaplen {value} (must be >= 0 and <= "
                        f"{MAXIMUM_SNAPLEN})")
        opts[opt] = value or ""
    return opts


def tcpdump(ctx: Context, args: list[str]) -> str:
    """``tcpdump [-n] [-i IFACE] [-c COUNT] [-s SNAPLEN]``: the last command's packets."""
    opts = _options(args)
    if isinstance(opts, str):
        return opts
    iface = opts.get("i", "any")
    count = strtol(opts["c"]).value if "c" in opts else None
    snaplen = strtol(opts.get("s", "0"), base=0).value or MAXIMUM_SNAPLEN
    if ctx.pod:
        names = {i.name for i in ctx.dp.pod_interfaces(ctx.pod)}
        here = ctx.pod.ref
    else:
        names = {i.name for i in ctx.dp.node_interfaces(ctx.host)}
        here = ctx.where
    if iface != "any" and iface not in names:
        return (f"tcpdump: {iface}: No such device exists\n(No such device exists)")
    link = "LINUX_SLL2 (Linux cooked v2)" if iface == "any" else "EN10MB (Ethernet)"
    if iface.startswith("tunl"):
        link = "RAW (Raw IP)"
    lines = ["tcpdump: verbose output suppressed, use -v[v]... for full protocol decode",
             f"listening on {iface}, link-type {link}, snapshot length {snaplen} bytes"]
    packets = 0
    clock = 0
    for kind, t in ctx.runtime.captured:
        owner = ctx.view.owner_of(t.src_ip) or ""
        mss = (ctx.dp.plugin.mtu if owner.startswith("Pod ") else 1500) - 40
        last = None
        for hop in t.hops:
            loc = hop.location
            if loc.name != here or (iface != "any" and loc.interface != iface):
                continue
            pkt = hop.packet
            if hop.action == "encapsulate":  # the tunnel device sees the packet it wraps
                pkt = _inner_frame(pkt)
            if last == (loc.interface, pkt) or packets == count:
                continue
            last = (loc.interface, pkt)
            clock += int(rtt_ms(hop.index, t.src_ip, base=60))
            stamp = f"00:00:00.{clock:06d}"
            prefix = f"{loc.interface} Out " if iface == "any" else ""
            lines.append(f"{stamp} {prefix}{_tcpdump_line(pkt, kind, mss)}")
            packets += 1
    lines += ["", f"{packets} packets captured", f"{packets} packets received by filter",
              "0 packets dropped by kernel"]
    return "\n".join(lines)


def _inner_frame(pkt: Packet) -> Packet:
    """What enters a tunnel device: the layers inside VXLAN, or inside the outer IP."""
    layers = pkt.layers
    for i, layer in enumerate(layers):
        if isinstance(layer, VXLAN):
            return Packet(layers[i + 1:])
    ips = [i for i, layer in enumerate(layers) if isinstance(layer, IPv4)]
    return Packet(layers[ips[-1]:]) if len(ips) > 1 else pkt


def _l4_text(pkt: Packet, start: int, kind: str, mss: int) -> str:
    layers = pkt.layers[start:]
    ip = layers[0]
    l4 = layers[1] if len(layers) > 1 else None
    if kind == "icmp":
        return f"IP {ip.src} > {ip.dst}: ICMP echo request, id 1, seq 1, length 64"
    if isinstance(l4, UDP):
        if kind == "dns":
            return f"IP {ip.src}.{l4.sport} > {ip.dst}.{l4.dport}: 1+ A? lab. (32)"
        return f"IP {ip.src}.{l4.sport} > {ip.dst}.{l4.dport}: UDP, length 32"
    if l4 is not None and l4.name == "TCP":
        # Linux's SYN: MSS = the sender's MTU - 40, window = 65535 rounded down to MSS
        seq = int.from_bytes(hashlib.sha256(f"{ip.src}{l4.sport}".encode()).digest()[:4], "big")
        win = 65535 // mss * mss
        return (f"IP {ip.src}.{l4.sport} > {ip.dst}.{l4.dport}: Flags [{l4.flags}], seq {seq}, "
                f"win {win}, options [mss {mss},sackOK,TS val 1 ecr 0,nop,wscale 7], length 0")
    if l4 is not None:
        return f"IP {ip.src}.{l4.sport} > {ip.dst}.{l4.dport}: sctp (1) [INIT]"
    return f"IP {ip.src} > {ip.dst}"


def _tcpdump_line(pkt: Packet, kind: str, mss: int) -> str:
    """One packet as ``tcpdump -n`` prints it; VXLAN (port 8472, which tcpdump decodes as
    OTV) and IP-in-IP show the outer header, then the inner packet."""
    layers = pkt.layers
    ips = [i for i, layer in enumerate(layers) if isinstance(layer, IPv4)]
    if not ips:
        return "unknown"
    first = ips[0]
    if len(ips) > 1 and VXLAN in pkt:
        outer, udp = layers[first], layers[first + 1]
        vni = pkt[VXLAN].vni
        label = "OTV, flags [I] (0x08), overlay 0, instance" if udp.dport == 8472 else (
            "VXLAN, flags [I] (0x08), vni")
        return (f"IP {outer.src}.{udp.sport} > {outer.dst}.{udp.dport}: {label} {vni}\n"
                f"{_l4_text(pkt, ips[-1], kind, mss)}")
    if len(ips) > 1:
        outer = layers[first]
        return f"IP {outer.src} > {outer.dst}: {_l4_text(pkt, ips[-1], kind, mss)} (ipip-proto-4)"
    return _l4_text(pkt, first, kind, mss)
