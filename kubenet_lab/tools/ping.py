"""``ping -c N`` (iputils): the path a TCP packet to the address takes (the lab's walk
knows TCP, UDP and SCTP), replies with the TTL they arrive with, and round-trip times
derived from the path. The probes run on a fork of the runtime: an ICMP echo matches no
kube-proxy rule, so it moves no random choice of the cluster. A refused TCP connection
still answers a ping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.dataplane.tables import Dataplane
from kubenet_lab.exceptions import KubenetLabError
from kubenet_lab.model.packet import IPv4
from kubenet_lab.tools.context import Context, fmt_ms, rtt_ms
from kubenet_lab.tools.resolver import resolve
from kubenet_lab.walk.trace import trace

if TYPE_CHECKING:
    from kubenet_lab.model.trace import Trace

__all__ = ["ping", "reached"]


def reached(t: Trace) -> bool:
    return t.hops[-1].action in ("deliver", "refuse")


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


def ping(ctx: Context, args: list[str]) -> str:
    count, host = None, None
    i = 0
    while i < len(args):
        if args[i] == "-c" and i + 1 < len(args) and args[i + 1].isdigit():
            count = int(args[i + 1])
            i += 2
        elif args[i].startswith("-c") and args[i][2:].isdigit():
            count = int(args[i][2:])
            i += 1
        elif args[i] in ("-n", "-q"):
            i += 1
        elif args[i].startswith("-"):
            return f"ping: invalid option -- '{args[i][1:2]}'\n" + _PING_USAGE
        else:
            host = args[i]
            i += 1
    if host is None:
        return "ping: usage error: Destination address required"
    if count is None:
        return ("ping: the lab cannot run ping forever: give a count, e.g. ping -c 3 "
                f"{host}")
    dst = resolve(ctx, host)
    if dst is None:
        return f"ping: {host}: Name or service not known"
    t = ctx.send(dst, 80, scratch=True)  # ICMP: no kube-proxy rule balances it
    ctx.remember([("icmp", t)])
    if t.hops[0].action == "drop" and "Network is unreachable" in t.reason:
        return "ping: connect: Network is unreachable"
    lines = [f"PING {host} ({dst}) 56(84) bytes of data."]
    received = reached(t)
    routers = sum(1 for h in t.hops if h.changes and any(c.field == "ttl" for c in h.changes))
    times = []
    if received:
        ttl = _reply_ttl(ctx, t)
        for seq in range(1, count + 1):
            ms = rtt_ms(t.src_ip, dst, seq, base=0.05 + 0.12 * routers)
            times.append(ms)
            name = f"{host} ({dst})" if host != dst else dst
            lines.append(f"64 bytes from {name}: icmp_seq={seq} ttl={ttl} time={fmt_ms(ms)} ms")
    total = (count - 1) * 1000 + (int(sum(times)) + 3 if received else 40)
    lines += ["", f"--- {host} ping statistics ---"]
    got = count if received else 0
    loss = 0 if received else 100
    lines.append(f"{count} packets transmitted, {got} received, {loss}% packet loss, "
                 f"time {total}ms")
    if received:
        avg = sum(times) / len(times)
        mdev = (sum((x - avg) ** 2 for x in times) / len(times)) ** 0.5
        lines.append(f"rtt min/avg/max/mdev = {min(times):.3f}/{avg:.3f}/{max(times):.3f}/"
                     f"{mdev:.3f} ms")
    return "\n".join(lines)


_PING_USAGE = "\nUsage\n  ping [options] <destination>"
