"""``traceroute -n``: a line per router that decrements the TTL and answers ICMP time
exceeded (the nodes), then the destination."""

from __future__ import annotations

from kubenet_lab.dataplane.routing import route_lookup
from kubenet_lab.tools.context import Context, fmt_ms, rtt_ms
from kubenet_lab.tools.ping import reached
from kubenet_lab.tools.resolver import resolve

__all__ = ["traceroute"]


def traceroute(ctx: Context, args: list[str]) -> str:
    """``traceroute -n``: a line per router that decrements the TTL and answers ICMP time
    exceeded (the nodes), then the destination. The VPC's router and internet gateway
    forward without decrementing the TTL, so they are no hop (AWS; e.g. "Why traceroute
    ignores route table in AWS EC2 with VPC", cloudaffaire.com). Whether an AWS NAT
    gateway answers as a hop is not documented: it is shown as no hop either, and the
    internet is one flat network (no routers between the gateway and the host)."""
    hosts = [a for a in args if not a.startswith("-")]
    max_hops = 30
    if "-m" in args:
        i = args.index("-m")
        if i + 1 < len(args) and args[i + 1].isdigit():
            max_hops = int(args[i + 1])
            hosts = [h for h in hosts if h != args[i + 1]]
    if not hosts:
        return "Usage:\n  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] ... host [ packetlen ]"
    host = hosts[0]
    dst = resolve(ctx, host)
    if dst is None:
        return f"{host}: Name or service not known\nCannot handle \"host\" cmdline arg " \
               f"`{host}' on position 1 (argc {len(args)})"
    t = ctx.send(dst, 33434, "UDP")
    ctx.remember([("udp", t)])
    lines = [f"traceroute to {host} ({dst}), {max_hops} hops max, 60 byte packets"]
    if t.hops[0].action == "drop" and "Network is unreachable" in t.reason:
        return "connect: Network is unreachable"
    src_ip = t.src_ip
    number = 0
    for hop in t.hops:
        if not any(c.field == "ttl" for c in hop.changes) or hop.node is None:
            continue
        node = ctx.view.node(hop.node)
        back = route_lookup(ctx.dp.node_routes(node), src_ip)
        addr = (back.src or ctx.dp.device_address(node, back.dev)
                if back else node.ip)
        number += 1
        if not ctx.dp.plugin.icmp_time_exceeded:
            lines.append(f"{number:>2}  * * *")
            continue
        lines.append(_probe_line(number, addr, src_ip))
    if reached(t):
        number += 1
        lines.append(_probe_line(number, dst, src_ip))
    else:
        while number < max_hops:
            number += 1
            lines.append(f"{number:>2}  * * *")
    return "\n".join(lines)


def _probe_line(number: int, addr: str, src: str) -> str:
    base = 0.04 + 0.12 * number
    probes = "  ".join(f"{fmt_ms(rtt_ms(addr, src, number, k, base=base))} ms" for k in range(3))
    return f"{number:>2}  {addr}  {probes}"
