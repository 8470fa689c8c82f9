"""``ping -c N`` (iputils): the path a TCP packet to the address takes (the lab's walk
knows TCP, UDP and SCTP), replies with the TTL they arrive with, and round-trip times
derived from the path. The probes run on a fork of the runtime: an ICMP echo matches no
kube-proxy rule, so it moves no random choice of the cluster. A refused TCP connection
still answers a ping.

A Service's cluster IP answers no ping in iptables mode: kube-proxy DNATs only the
Service's protocol and ports, so an ICMP echo to the virtual address is routed as it is
(out of the default route, where nothing owns the address): every probe is lost and
ping prints ``100% packet loss`` after the count (kubernetes.io "Debug Services": "a
ClusterIP ... will not respond to ping"). In nftables mode kube-proxy's
``cluster-ips-check`` chain rejects it instead (facts-2026 §1), and the ICMP port
unreachable comes from the sender's node (``From 10.244.1.1`` in a flannel pod, the
node's address on the node itself), which routes the echo, not from the cluster IP,
which no interface owns: that answer is asked of
``clusterip_icmp``, the hook where the nftables walk (``walk.nftables``, built
separately) gives its verdict; until it does, the hook models the reject itself. A ping
enters an ICMP entry (echo id 1, as ``tcpdump`` shows it) into the conntrack tables of
the nodes it passes (``walk.conntrack.record``).

``-i INTERVAL`` spaces the probes (the ``time`` of the summary), ``-W TIMEOUT`` is the
time a probe waits for its reply (it changes nothing the lab shows: a reply either
comes back within the path's round trip or never), ``-s SIZE`` sets the data bytes (the
header's ``56(84)``, the reply's ``64 bytes``; fewer than 16 carry no timestamp, so the
replies show no ``time=``), as iputils prints them.

The command line is read as iputils 20240905 reads it (ping/ping.c, iputils_common.c):
GNU getopt, counts and sizes through ``strtol_or_err`` (``ping: invalid argument: '0':
out of range: 1 <= value <= 9223372036854775807``), intervals through ``ping_strtod``,
and the usage text of ping/ping_common.c. The options that change the output are
``-c`` (the count), ``-q`` (no reply lines), ``-s`` (the data size) and ``-i`` (the
interval); the others are checked as ping checks them and change nothing. The nodes
run with IPv6 disabled (see ``tools.ip``), so an IPv6 destination is refused as ping
refuses it without an IPv6 socket. There is no clock: without ``-c`` (ping would run
until interrupted), or with more than ``MAX_COUNT`` probes, the lab says so instead of pinging.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.dataplane.kube_proxy import service_index
from kubenet_lab.dataplane.runtime import ConntrackEntry
from kubenet_lab.dataplane.tables import Dataplane
from kubenet_lab.exceptions import KubenetLabError
from kubenet_lab.model.address import cidr_contains
from kubenet_lab.model.packet import IPv4
from kubenet_lab.tools.context import Context, fmt_ms, rtt_ms
from kubenet_lab.tools.options import LONG_MAX, getopt, strtod, strtol, strtoul
from kubenet_lab.tools.resolver import is_ipv6, name_error, resolve
from kubenet_lab.walk.conntrack import conntrack_sysctls, record
from kubenet_lab.walk.trace import trace

if TYPE_CHECKING:
    from kubenet_lab.model.trace import Trace

__all__ = ["MAX_COUNT", "clusterip_icmp", "ping", "reached"]

#: The most probes the lab sends for one ``ping -c``.
MAX_COUNT = 10_000


def reached(t: Trace) -> bool:
    return t.hops[-1].action in ("deliver", "refuse")


def clusterip_icmp(ctx: Context, dst: str) -> str | None:
    """What an ICMP echo to ``dst`` meets in kube-proxy's rules: None when ``dst`` is
    no Service virtual address (the ping walks as usual), ``"lost"`` (iptables mode:
    not DNATed, no answer), ``"reject"`` (nftables mode, an allocated cluster IP: the
    ``cluster-ips-check`` chain rejects it with ICMP port unreachable) or ``"drop"``
    (nftables mode, an unallocated address of the service CIDR).

    This is the hook for the nftables walk: when ``walk.nftables`` gives a verdict for
    ICMP, ask it here instead of deciding from the mode."""
    view = ctx.view
    if ctx.dp.plugin.replaces_kube_proxy:
        return None
    vips, _ = service_index(view)
    allocated = any(vip == dst for vip, _, _ in vips)
    mode = getattr(view.config, "kube_proxy_mode", "iptables")
    if mode == "nftables":
        if allocated:
            return "reject"
        return "drop" if cidr_contains(view.service_cidr, dst) else None
    return "lost" if allocated else None


def _record_unanswered(ctx: Context, dst: str) -> None:
    """The conntrack entry of an echo to a cluster IP, on the sender's node: not
    DNATed, never answered (masqueraded when the plugin masquerades that traffic)."""
    node = ctx.host
    src = ctx.pod.ip if ctx.pod else node.ip
    masq = ctx.dp.plugin.masquerade(ctx.view, node, src, dst) if ctx.pod else None
    reply_dst = node.ip if masq is not None else src
    timeout = int(conntrack_sysctls(ctx.dp, node.name)[
        "net.netfilter.nf_conntrack_icmp_timeout"]) - 1
    ctx.runtime.track(node.name, ConntrackEntry("ICMP", (src, dst, 1, 0),
                                                (dst, reply_dst, 1, 0), False, "",
                                                max(timeout, 0)))


def _reply_ttl(ctx: Context, t: Trace) -> int:
    """The TTL of the answer as the sender receives it: 64 minus the routers back (the
    reply's walk is a helper computation: it runs on a fork of the runtime)."""
    back_src = t.destination_pod or (t.receiver or "").split("/")[0] or t.dst_ip
    scratch = Dataplane(ctx.view, ctx.runtime.fork())
    try:
        back = trace(scratch, back_src, t.src_ip if ctx.pod else ctx.where, port=t.port)
    except KubenetLabError:  # a reply path the lab cannot walk: assume symmetric
        return t.hops[-1].packet.inner(IPv4).ttl
    return back.hops[-1].packet.inner(IPv4).ttl


_OPTSTRING = "h?4bRT:6F:N:3aABc:CdDe:fHi:I:l:Lm:M:nOp:qQ:rs:S:t:UvVw:W:"
INT_MAX = 2**31 - 1
#: ICMP_MAX_DATALEN of ping/ping.c: MAXPACKET (65535) less the IP and ICMP headers.
_MAX_DATALEN = 65535 - 20 - 8
#: The integer options: (signed?, min, max), as ping/ping.c's getopt loop checks them.
_INTEGERS = {"c": (True, 1, LONG_MAX), "e": (False, 0, 0xFFFF), "l": (True, 1, 0x10000),
             "m": (False, 0, 2**32 - 1), "s": (True, 0, INT_MAX), "S": (True, 1, INT_MAX),
             "t": (True, 0, 255), "w": (True, 0, INT_MAX)}
_CHOICES = {"M": (("do", "dont", "want", "probe"), "invalid -M argument"),
            "T": (("tsonly", "tsandaddr", "tsprespec"), "invalid timestamp type")}
_FLOATS = {"i": "bad timing interval", "W": "bad linger time"}


class _Refused(Exception):
    """What ping prints before it exits (a local signal, never leaves this module)."""


def strtol_or_err(text: str, low: int, high: int, *, signed: bool = True) -> int:
    """iputils_common.c ``strtol_or_err`` / ``strtoul_or_err`` with "invalid argument"."""
    number = strtol(text) if signed else strtoul(text)
    if number.overflow:
        raise _Refused(f"ping: invalid argument: '{text}': Numerical result out of range")
    if not text or number.end == 0 or number.end < len(text):
        raise _Refused(f"ping: invalid argument: '{text}'")
    if not low <= number.value <= high:
        raise _Refused(f"ping: invalid argument: '{text}': out of range: {low} <= value <= "
                       f"{high}")
    return number.value


def _ping_strtod(text: str, message: str) -> tuple[float, list[str]]:
    """ping/ping.c ``ping_strtod``: garbage after the number is only warned about."""
    value, end, overflow = strtod(text)
    warnings = []
    if overflow or not text or end == 0 or end < len(text):
        warnings = [f"ping: option argument contains garbage: {text[end:]}",
                    "ping: this will become fatal error in the future"]
    if overflow or value != value or value in (float("inf"), float("-inf")):
        raise _Refused(f"ping: {message}: {text}: Numerical result out of range")
    if value < 0 or value > INT_MAX / 1000:
        raise _Refused(f"ping: {message}: {text}")
    return value, warnings


def _options(args: list[str]) -> tuple[dict[str, str], str | None, list[str]]:
    """The options ping keeps (the last of each), the destination and the warnings."""
    parsed = getopt(args, _OPTSTRING)
    if isinstance(parsed, str):
        raise _Refused(f"ping: {parsed}\n{_PING_USAGE}")
    opts, operands = parsed
    seen: dict[str, str] = {}
    warnings: list[str] = []
    for opt, value in opts:
        text = value or ""
        if opt in "h?":
            raise _Refused(_PING_USAGE)
        if opt == "V":
            raise _Refused(f"ping from iputils 20240905\n{_PING_CONFIG}")
        if opt in "46" and ("4" if opt == "6" else "6") in seen:
            raise _Refused("ping: only one -4 or -6 option may be specified")
        if opt in "RT" and ("T" if opt == "R" else "R") in seen:
            raise _Refused("ping: only one of -T or -R may be used")
        if opt in _INTEGERS:
            signed, low, high = _INTEGERS[opt]
            text = str(strtol_or_err(text, low, high, signed=signed))
        elif opt in _FLOATS:
            warnings += _ping_strtod(text, _FLOATS[opt])[1]
        elif opt in _CHOICES and text not in _CHOICES[opt][0]:
            raise _Refused(f"ping: {_CHOICES[opt][1]}: {text}")
        seen[opt] = text
    if not operands:
        raise _Refused("ping: usage error: Destination address required")
    return seen, operands[-1], warnings


def ping(ctx: Context, args: list[str]) -> str:
    """``ping [options] destination``, as iputils answers (see the module docstring)."""
    try:
        opts, host, warnings = _options(args)
        if "6" in opts:
            raise _Refused("ping: socktype: SOCK_DGRAM\n"
                           "ping: socket: Address family not supported by protocol")
        datalen = int(opts.get("s", "56"))
        if datalen > _MAX_DATALEN:
            raise _Refused(f"ping: invalid -s value: '{datalen}': out of range: 0 <= value <= "
                           f"{_MAX_DATALEN}")
        if is_ipv6(host):
            raise _Refused(f"ping: {host}: Address family for hostname not supported")
    except _Refused as refused:
        return str(refused)
    lines = warnings + _ping(ctx, host, opts, datalen)
    return "\n".join(lines)


def _ping(ctx: Context, host: str, opts: dict[str, str], datalen: int) -> list[str]:
    dst = resolve(ctx, host)
    if dst is None:
        return [f"ping: {host}: {name_error(ctx)}"]
    if "c" not in opts:
        return [f"ping: the lab cannot run ping forever: give a count, e.g. ping -c 3 {host}"]
    count = int(opts["c"])
    if count > MAX_COUNT:
        return [f"ping: the lab sends at most {MAX_COUNT} probes: give a smaller count, e.g. "
                f"ping -c 3 {host}"]
    interval = _ping_strtod(opts["i"], "bad timing interval")[0] if "i" in opts else 1.0
    verdict = clusterip_icmp(ctx, dst)
    t = ctx.send(dst, 80, scratch=True)  # ICMP: no kube-proxy rule balances it
    ctx.remember([("icmp", t)])
    if t.hops[0].action == "drop" and "Network is unreachable" in t.reason:
        return ["ping: connect: Network is unreachable"]
    lines = [f"PING {host} ({dst}) {datalen}({datalen + 28}) bytes of data."]
    if verdict is not None:
        if verdict == "lost":  # a rejected or dropped echo is never confirmed
            _record_unanswered(ctx, dst)
        return lines + _unanswered(host, _rejecter(ctx), count, interval, verdict, opts)
    record(ctx.dp, t, protocol="ICMP", ident=1)
    received = reached(t)
    routers = sum(1 for h in t.hops if h.changes and any(c.field == "ttl" for c in h.changes))
    times = []
    if received:
        ttl = _reply_ttl(ctx, t)
        for seq in range(1, count + 1):
            ms = rtt_ms(t.src_ip, dst, seq, base=0.05 + 0.12 * routers)
            times.append(ms)
            name = f"{host} ({dst})" if host != dst else dst
            # the time travels in the data: fewer than 16 bytes (a timeval) carry none
            time = f" time={fmt_ms(ms)} ms" if datalen >= 16 else ""
            if "q" not in opts:
                lines.append(f"{datalen + 8} bytes from {name}: icmp_seq={seq} ttl={ttl}{time}")
    total = int((count - 1) * interval * 1000) + (int(sum(times)) + 3 if received else 40)
    lines += ["", f"--- {host} ping statistics ---"]
    got = count if received else 0
    loss = 0 if received else 100
    lines.append(f"{count} packets transmitted, {got} received, {loss}% packet loss, "
                 f"time {total}ms")
    if received and datalen >= 16:
        avg = sum(times) / len(times)
        mdev = (sum((x - avg) ** 2 for x in times) / len(times)) ** 0.5
        lines.append(f"rtt min/avg/max/mdev = {min(times):.3f}/{avg:.3f}/{max(times):.3f}/"
                     f"{mdev:.3f} ms")
    return lines


def _rejecter(ctx: Context) -> str:
    """The source of the ICMP port unreachable that nftables' ``reject`` sends for the
    sender's node. The cluster IP is no local address of the node (nftables mode has no
    ``kube-ipvs0``), so icmp_send (net/ipv4/icmp.c) leaves the source to the route back
    to the sender: the node's address on that route (a pod's: its gateway, ``cni0``'s
    address under flannel), as a router that rejects a packet answers from its own
    address, not from the one the packet was sent to."""
    node = ctx.host
    if ctx.pod is None:
        return node.ip
    back = ctx.dp.route(node, ctx.pod.ip)
    return (back.src or ctx.dp.device_address(node, back.dev)) if back else node.ip


def _unanswered(host: str, source: str, count: int, interval: float, verdict: str,
                opts: dict[str, str]) -> list[str]:
    """The probes to a cluster IP: lost, or rejected (``From SOURCE ... Destination Port
    Unreachable`` and ``+N errors``, as ping_common.c prints an ICMP error; SOURCE is
    the node that rejected it, see ``_rejecter``)."""
    lines: list[str] = []
    errors = ""
    if verdict == "reject":
        if "q" not in opts:
            lines += [f"From {source} icmp_seq={seq} Destination Port Unreachable"
                      for seq in range(1, count + 1)]
        errors = f" +{count} errors,"
    total = int((count - 1) * interval * 1000) + (4 if verdict == "reject" else 40)
    return lines + ["", f"--- {host} ping statistics ---",
                    f"{count} packets transmitted, 0 received,{errors} 100% packet loss, "
                    f"time {total}ms"]


#: ping/ping_common.c ``usage()`` (20240905).
_PING_USAGE = """
Usage
  ping [options] <destination>

Options:
  <destination>      DNS name or IP address
  -3                 RTT precision (do not round up the result time)
  -a                 use audible ping
  -A                 use adaptive ping
  -B                 sticky source address
  -c <count>         stop after <count> replies
  -C                 call connect() syscall on socket creation
  -D                 print timestamps
  -d                 use SO_DEBUG socket option
  -e <identifier>    define identifier for ping session, default is random for
                     SOCK_RAW and kernel defined for SOCK_DGRAM
                     Imply using SOCK_RAW (for IPv4 only for identifier 0)
  -f                 flood ping
  -h                 print help and exit
  -H                 force reverse DNS name resolution (useful for numeric
                     destinations or for -f), override -n
  -I <interface>     either interface name or address
  -i <interval>      seconds between sending each packet
  -L                 suppress loopback of multicast packets
  -l <preload>       send <preload> number of packages while waiting replies
  -m <mark>          tag the packets going out
  -M <pmtud opt>     define path MTU discovery, can be one of <do|dont|want|probe>
  -n                 no reverse DNS name resolution, override -H
  -O                 report outstanding replies
  -p <pattern>       contents of padding byte
  -q                 quiet output
  -Q <tclass>        use quality of service <tclass> bits
  -s <size>          use <size> as number of data bytes to be sent
  -S <size>          use <size> as SO_SNDBUF socket option value
  -t <ttl>           define time to live
  -U                 print user-to-user latency
  -v                 verbose output
  -V                 print version and exit
  -w <deadline>      reply wait <deadline> in seconds
  -W <timeout>       time to wait for response

IPv4 options:
  -4                 use IPv4
  -b                 allow pinging broadcast
  -R                 record route
  -T <timestamp>     define timestamp, can be one of <tsonly|tsandaddr|tsprespec>

IPv6 options:
  -6                 use IPv6
  -F <flowlabel>     define flow label, default is random
  -N <nodeinfo opt>  use IPv6 node info query, try <help> as argument

For more details see ping(8)."""
#: iputils_common.c ``print_config()`` for Ubuntu's build (``ping -V``).
_PING_CONFIG = ("libcap: yes, IDN: yes, NLS: no, error.h: yes, getrandom(): yes, "
                "__fpending(): yes")
