"""``tcpdump -n -i IFACE`` (4.99): the packets of the last command that sent traffic
(``ping``, ``curl``, ``traceroute``, ``nslookup``) on this host and interface, as a capture
running during it would have seen them. Timestamps count from 00:00:00 of the lab's
day (there is no clock); VXLAN on port 8472 is decoded as tcpdump does (as OTV)."""

from __future__ import annotations

import hashlib

from kubenet_lab.model.packet import UDP, VXLAN, IPv4, Packet
from kubenet_lab.tools.context import Context, rtt_ms

__all__ = ["tcpdump"]


def tcpdump(ctx: Context, args: list[str]) -> str:
    iface = "any"
    if "-i" in args:
        i = args.index("-i")
        if i + 1 >= len(args):
            return "tcpdump: option requires an argument -- 'i'"
        iface = args[i + 1]
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
             f"listening on {iface}, link-type {link}, snapshot length 262144 bytes"]
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
            if last == (loc.interface, pkt):
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
