"""``ip`` (iproute2 6.x): addresses and links, routes (``show``, ``get``, and on a node
``add``/``del``/``replace``, which really change that node's routes in the runtime), and
the neighbour table.
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address, ip_network
from typing import Any

from kubenet_lab.dataplane.cni import mac_address
from kubenet_lab.dataplane.routing import route_lookup
from kubenet_lab.model.route import Route
from kubenet_lab.tools.context import Context

__all__ = ["ip"]


def ip(ctx: Context, args: list[str]) -> str:
    """``ip address|link|route|neigh``; ``ip route add|del|replace`` on a node changes
    its routes (the runtime keeps the edit); in a pod it is not permitted."""
    usage = ('Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n'
             'where  OBJECT := { address | link | neighbor | route | rule | ... }')
    if not args:
        return usage
    obj, rest = args[0], args[1:]
    if "address".startswith(obj) or obj == "addr":
        return _ip_addr(ctx, rest)
    if "route".startswith(obj) and obj:
        return _ip_route(ctx, rest)
    if "neighbour".startswith(obj) or "neighbor".startswith(obj):
        return _ip_neigh(ctx)
    if "link".startswith(obj):
        # ip link: the first two lines of each device's ip addr block
        blocks = _ip_addr(ctx, rest).split("\n")
        return "\n".join(line for line in blocks
                         if not line.startswith(("    inet", "       valid_lft")))
    return f'Object "{obj}" is unknown, try "ip help".'


def _netns_id(ref: str) -> str:
    raw = hashlib.sha256(ref.encode()).hexdigest()
    return f"cni-{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"


def _ip_addr(ctx: Context, args: list[str]) -> str:
    dp = ctx.dp
    if args and args[0] not in ("show", "list", "dev"):
        return f'Command "{args[0]}" is unknown, try "ip address help".'
    if ctx.pod:
        ifaces = dp.pod_interfaces(ctx.pod)
    else:
        ifaces = dp.node_interfaces(ctx.host)
    want = None
    if "dev" in args:
        i = args.index("dev")
        want = args[i + 1] if i + 1 < len(args) else None
    elif len(args) >= 2 and args[0] == "show":
        want = args[1]
    host_index: dict[str, int] = {}
    if ctx.pod:
        host_ifaces = dp.node_interfaces(ctx.host)
        host_index = {i.name: n for n, i in enumerate(host_ifaces, 1)}
    blocks = []
    for number, iface in enumerate(ifaces, 1):
        if want is not None and iface.name != want:
            continue
        blocks.append(_addr_block(number, iface, ctx, host_index))
    if want is not None and not blocks:
        return f'Device "{want}" does not exist.'
    return "\n".join(blocks)


def _addr_block(number: int, iface: Any, ctx: Context, host_index: dict[str, int]) -> str:
    name = iface.name
    link = ""
    if iface.kind == "veth" and iface.peer:
        peer_where, _, peer_dev = iface.peer.partition(":")
        if ctx.pod:
            name += f"@if{host_index.get(peer_dev, 0)}"
            link = " link-netnsid 0"
        elif "/" in peer_where:
            name += "@if2"
            link = f" link-netns {_netns_id(peer_where)}"
        else:
            name += f"@{peer_dev}"
    if iface.kind == "loopback":
        flags, state, qdisc = "<LOOPBACK,UP,LOWER_UP>", "UNKNOWN", "noqueue"
        ll = "link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"
    elif iface.kind == "ipip":
        name += "@NONE"
        flags, state, qdisc = "<NOARP,UP,LOWER_UP>", "UNKNOWN", "noqueue"
        ll = "link/ipip 0.0.0.0 brd 0.0.0.0"
    else:
        flags = "<BROADCAST,MULTICAST,UP,LOWER_UP>"
        state = "UNKNOWN" if iface.kind == "vxlan" else "UP"
        qdisc = "mq" if iface.kind == "ether" else "noqueue"
        ll = f"link/ether {iface.mac} brd ff:ff:ff:ff:ff:ff{link}"
    master = f" master {iface.master}" if iface.master else ""
    qlen = " qlen 1000" if iface.kind in ("loopback", "ether", "bridge", "ipip") else " "
    lines = [f"{number}: {name}: {flags} mtu {iface.mtu} qdisc {qdisc}{master} state {state} "
             f"group default{qlen}".rstrip(" ") + ("" if qlen.strip() else " "), f"    {ll}"]
    if iface.address:
        net = ip_network(iface.address, strict=False)
        scope = "host" if iface.kind == "loopback" else "global"
        brd = (f" brd {net.broadcast_address}"
               if net.prefixlen < 31 and iface.kind != "loopback" else "")
        lines.append(f"    inet {iface.address}{brd} scope {scope} {iface.name}")
        lines.append("       valid_lft forever preferred_lft forever")
    return "\n".join(lines)


def _ip_route(ctx: Context, args: list[str]) -> str:
    if not args or args[0] in ("show", "list"):
        routes = (ctx.dp.pod_routes(ctx.pod) if ctx.pod
                  else ctx.dp.node_routes(ctx.host))
        return "\n".join(str(r) for r in routes)
    if args[0] == "get" and len(args) >= 2:
        return _ip_route_get(ctx, args[1])
    if args[0] in ("add", "del", "delete", "replace"):
        if ctx.pod:
            return "RTNETLINK answers: Operation not permitted"
        return _ip_route_edit(ctx, args[0], args[1:])
    return f'Command "{args[0]}" is unknown, try "ip route help".'


def _ip_route_get(ctx: Context, dst: str) -> str:
    try:
        IPv4Address(dst)
    except ValueError:
        return f'Error: any valid address is expected rather than "{dst}".'
    if ctx.pod:
        routes, src = ctx.dp.pod_routes(ctx.pod), ctx.pod.ip
    else:
        routes, src = ctx.dp.node_routes(ctx.host), None
    route = route_lookup(routes, dst)
    if route is None or route.type != "unicast":
        return "RTNETLINK answers: Network is unreachable" if route is None else (
            "RTNETLINK answers: Invalid argument")
    src = src or route.src or ctx.dp.device_address(ctx.host, route.dev)
    via = f" via {route.via}" if route.via else ""
    return f"{dst}{via} dev {route.dev} src {src} uid 0 \n    cache "


def _ip_route_edit(ctx: Context, op: str, args: list[str]) -> str:
    """``ip route add|replace|del PREFIX [via GW] [dev DEV] [onlink]`` on a node."""
    node = ctx.host
    if not args:
        return "Error: any valid prefix is expected rather than \"\"."
    kind = "unicast"
    if args[0] in ("blackhole", "unreachable", "prohibit"):
        kind, args = args[0], args[1:]
    dst = args[0] if args else ""
    try:
        if dst != "default":
            net = ip_network(dst, strict=True)
            dst = str(net.network_address) if net.prefixlen == 32 and "/" not in dst else str(net)
    except ValueError:
        return f'Error: any valid prefix is expected rather than "{dst}".'
    opts: dict[str, str] = {}
    onlink = False
    rest = args[1:]
    i = 0
    while i < len(rest):
        key = rest[i]
        if key == "onlink":
            onlink = True
            i += 1
            continue
        if key not in ("via", "dev", "proto", "scope", "src", "metric") or i + 1 >= len(rest):
            return f'Error: either "to" is duplicate, or "{key}" is a garbage.'
        opts[key] = rest[i + 1]
        i += 2
    via, dev = opts.get("via"), opts.get("dev")
    if via is not None:
        try:
            IPv4Address(via)
        except ValueError:
            return f'Error: inet address is expected rather than "{via}".'
    devices = {i.name for i in ctx.dp.node_interfaces(node)}
    if dev is not None and dev not in devices:
        return f'Cannot find device "{dev}"'
    table = ctx.dp.node_routes(node)
    op = "del" if op == "delete" else op
    if op == "del":
        match = [r for r in table if r.dst == dst and r.type == kind
                 and (via is None or r.via == via) and (dev is None or r.dev == dev)]
        if not match:
            return "RTNETLINK answers: No such process"
        ctx.runtime.edit_routes(node.name, ("del", Route(dst, dev or "", via=via, type=kind)))
        return ""
    if kind == "unicast" and via is None and dev is None:
        return "RTNETLINK answers: No such device"
    if kind == "unicast" and via is not None and not onlink:
        connected = [r for r in table if r.via is None and r.type == "unicast"
                     and r.dst != "default" and IPv4Address(via) in ip_network(r.dst)]
        if not connected:
            return "Error: Nexthop has invalid gateway."
        dev = dev or connected[0].dev
    if op == "add" and any(r.dst == dst and r.type == kind for r in table):
        return "RTNETLINK answers: File exists"
    route = Route(dst, dev or "", via=via, proto=opts.get("proto"),
                  scope=opts.get("scope") or ("link" if kind == "unicast" and via is None
                                              else None),
                  src=opts.get("src"), onlink=onlink, type=kind)
    if op == "replace":
        ctx.runtime.edit_routes(node.name, ("del", Route(dst, "", type=kind)), ("add", route))
    else:
        ctx.runtime.edit_routes(node.name, ("add", route))
    return ""


def _ip_neigh(ctx: Context) -> str:
    dp = ctx.dp
    if ctx.pod:
        entries = [(ip, "eth0", mac, "REACHABLE") for ip, mac in
                   dp.pod_neighbours(ctx.pod)]
    else:
        node = ctx.host
        subnet = ctx.view.subnet_of(node)
        entries = [(subnet.router, "eth0", mac_address(f"vpc-router/{subnet.name}"),
                    "REACHABLE")]
        entries += [(o.ip, "eth0", mac_address(f"{o.name}/eth0"), "STALE")
                    for o in ctx.view.nodes if o.name != node.name]
        entries += list(dp.node_neighbours(node))
    return "\n".join(f"{ip} dev {dev} lladdr {mac} {state}" for ip, dev, mac, state in entries)
