"""``ip`` (iproute2 6.1, Ubuntu 24.04's): addresses and links, routes (``show``, ``get``,
and on a node ``add``/``del``/``replace``/``change``, which really change that node's
main routing table in the runtime), and the neighbour table.

The command line is read as iproute2 reads it: ``matches()`` abbreviations (``ip r``,
``ip route s``), ``NEXT_ARG`` (``Command line is not complete. Try option "help"``),
prefixes and addresses as lib/utils.c ``get_prefix_1``/``get_addr_1`` parse them (each
part through ``strtoul(.., 0)``: ``10/8`` is 10.0.0.0/8, a mask may be dotted), and the
messages of ip/iproute.c (``Error: any valid prefix is expected rather than "foo".``,
``Error: either "to" is duplicate, or "x" is a garbage.``, ``Error: argument "abc" is
wrong: "metric" value is invalid``); what the kernel checks is answered with its extack
or errno text (``Error: Invalid prefix for given prefix length.``, ``RTNETLINK answers:
File exists``). The global options ``-4``/``-6`` choose the family; the other formatting
options (``-s``, ``-br``, ...) are accepted and change nothing, except ``-d`` with ``ip
link``: the details of each device (``_link_details``: vxlan, bridge, veth). ``metric`` is
checked and not kept (the lab's routes have no metric); a route of a table other than
main is accepted and forgotten (the lab models the main table only); route types other
than unicast, blackhole, unreachable and prohibit are not modelled, and the lab says so.

IPv6: the lab's nodes and pods are IPv4 only, as a kernel booted with
``ipv6.disable=1`` is (which is also why ``ip addr`` shows no ``inet6`` line): the
kernel registers no IPv6 routing, so every IPv6 route request (``ip route add blackhole
fe80::/64``, ``ip -6 route get ::1``) is refused by rtnetlink with ``EOPNOTSUPP``
(``RTNETLINK answers: Operation not supported``, net/core/rtnetlink.c
``rtnetlink_rcv_msg``), an IPv4 route via an IPv6 gateway with ``Error: IPv6 support not
enabled in kernel.`` (net/ipv6/addrconf_core.c), and ``ip -6 route`` lists nothing.
Refusing keeps every IPv4 lookup as it was, with nothing to store.
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address, IPv6Address, ip_network
from typing import Any

from kubenet_lab.dataplane.cni import mac_address
from kubenet_lab.dataplane.routing import route_lookup
from kubenet_lab.model.route import Route
from kubenet_lab.tools.context import Context
from kubenet_lab.tools.options import strtoul

__all__ = ["ip"]


#: ip/ip.c usage() (iproute2 6.1).
_USAGE = """Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
       ip [ -force ] -batch filename
where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |
                   link | macsec | maddress | monitor | mptcp | mroute | mrule |
                   neighbor | neighbour | netconf | netns | nexthop | ntable |
                   ntbl | route | rule | sr | tap | tcpmetrics |
                   token | tunnel | tuntap | vrf | xfrm }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |
                    -h[uman-readable] | -iec | -j[son] | -p[retty] |
                    -f[amily] { inet | inet6 | mpls | bridge | link } |
                    -4 | -6 | -M | -B | -0 |
                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |
                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |
                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |
                    -c[olor]}"""
_INCOMPLETE = 'Command line is not complete. Try option "help"'
#: The global options that change only the format, as ip/ip.c spells them.
_FORMAT_OPTIONS = {"-s", "-stats", "-statistics", "-d", "-details", "-c", "-color", "-p",
                   "-pretty", "-r", "-resolve", "-a", "-all", "-br", "-brief", "-j", "-json",
                   "-o", "-oneline", "-h", "-human", "-human-readable", "-N", "-numeric"}


class _IpError(Exception):
    """What ip prints before it exits (a local signal, never leaves this module)."""


def matches(word: str, keyword: str) -> bool:
    """lib/utils.c ``matches``: ``word`` is a non-empty abbreviation of ``keyword``."""
    return bool(word) and keyword.startswith(word)


def _next(args: list[str], i: int) -> str:
    """``NEXT_ARG()``: the argument after ``args[i]``."""
    if i + 1 >= len(args):
        raise _IpError(_INCOMPLETE)
    return args[i + 1]


def ip(ctx: Context, args: list[str]) -> str:
    """``ip [-4|-6] address|link|route|neigh``; ``ip route add|del|replace|change`` on a
    node changes its routes (the runtime keeps the edit); in a pod it is not permitted."""
    family = None
    details = False
    while args and args[0].startswith("-") and args[0] != "--":
        opt = "-" + args[0].lstrip("-") if args[0].startswith("--") else args[0]
        if opt in ("-4", "-6"):
            family = "inet" if opt == "-4" else "inet6"
        elif opt in _FORMAT_OPTIONS:
            details = details or opt in ("-d", "-details")
        elif matches(opt, "-Version") and opt != "-":
            return "ip utility, iproute2-6.1.0, libbpf 1.3.0"
        elif matches(opt, "-help") and opt != "-":
            return _USAGE
        else:
            return f'Option "{args[0]}" is unknown, try "ip -help".'
        args = args[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        return _USAGE
    obj, rest = args[0], args[1:]
    try:
        if matches(obj, "address"):
            return "" if family == "inet6" else _ip_addr(ctx, rest)
        if matches(obj, "route"):
            return _ip_route(ctx, rest, family)
        if matches(obj, "neighbor") or matches(obj, "neighbour"):
            return _ip_neigh(ctx, rest, family)
        if matches(obj, "link"):
            # ip link: the first two lines of each device's ip addr block
            blocks = _ip_addr(ctx, rest, word="link", details=details).split("\n")
            return "\n".join(line for line in blocks
                             if not line.startswith(("    inet", "       valid_lft")))
        if matches(obj, "help"):
            return _USAGE
    except _IpError as error:
        return str(error)
    return f'Object "{obj}" is unknown, try "ip help".'


def _netns_id(ref: str) -> str:
    raw = hashlib.sha256(ref.encode()).hexdigest()
    return f"cni-{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"


def _ip_addr(ctx: Context, args: list[str], word: str = "address",
             details: bool = False) -> str:
    dp = ctx.dp
    if args and not (matches(args[0], "show") or matches(args[0], "list")
                     or args[0] == "dev"):
        return f'Command "{args[0]}" is unknown, try "ip {word} help".'
    if ctx.pod:
        ifaces = dp.pod_interfaces(ctx.pod)
    else:
        ifaces = dp.node_interfaces(ctx.host)
    want = None
    words = args[1:] if args and args[0] != "dev" else args
    i = 0
    while i < len(words):  # ipaddr_list: "dev NAME", or a bare NAME, once
        name = _next(words, i) if words[i] == "dev" else words[i]
        if want is not None:
            raise _IpError(f'Error: either "dev" is duplicate, or "{name}" is a garbage.')
        want = name
        i += 2 if words[i] == "dev" else 1
    host_index: dict[str, int] = {}
    if ctx.pod:
        host_ifaces = dp.node_interfaces(ctx.host)
        host_index = {i.name: n for n, i in enumerate(host_ifaces, 1)}
    blocks = []
    for number, iface in enumerate(ifaces, 1):
        if want is not None and iface.name != want:
            continue
        block = _addr_block(number, iface, ctx, host_index)
        if details:
            head, _, rest_lines = block.partition("\n")
            ll, _, addrs = rest_lines.partition("\n")
            block = "\n".join(x for x in (head, ll + _link_details(iface, ctx), addrs) if x)
        blocks.append(block)
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


def _link_details(iface: Any, ctx: Context) -> str:
    """What ``ip -d link`` adds after the link line (ip/ipaddress.c print_linkinfo with
    show_details, iproute2 6.1): promiscuity, the MTU bounds, the kind's own line
    (ip/iplink_vxlan.c, iplink_bridge.c, iplink_bridge_slave.c, link_veth.c,
    link_iptnl.c), the queues and the offload sizes. No ``addrgenmode``: that comes with
    IPv6, which the nodes run without. A real sample (flannel-io/flannel#1757, ``ip -d
    link show flannel.1``): ``vxlan id 1 local 10.0.0.1 dev abc srcport 0 0 dstport 8472
    nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx``. Bridge
    timers (``gc_timer``) are shown at 0.00; the bridge's own ``nf_call_iptables`` is 0
    (the br_netfilter sysctl is what applies); a bridge port shows ``hairpin on`` only
    when the plugin set it (``BridgeFamily.hairpin``: flannel's CNI config's
    ``hairpinMode: true``; the bridge plugin's ``hairpinMode``, false by default)."""
    kind = iface.kind
    mtu = {"loopback": (0, 0), "ether": (68, 9216)}.get(kind, (68, 65535))
    text = f" promiscuity 0 minmtu {mtu[0]} maxmtu {mtu[1]} "
    node = ctx.host
    port = ctx.dp.plugin.tunnel_port or 8472
    if kind == "vxlan":
        if iface.name.startswith("cilium"):
            text += (f"\n    vxlan external id 0 srcport 0 0 dstport {port} nolearning ttl "
                     "auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx ")
        else:
            vni = 1 if iface.name.startswith("flannel") else 4096
            text += (f"\n    vxlan id {vni} local {node.ip} dev eth0 srcport 0 0 dstport "
                     f"{port} nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx "
                     "noudp6zerocsumrx ")
    elif kind == "bridge":
        bid = f"8000.{iface.mac}"
        text += ("\n    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time "
                 f"30000 stp_state 0 priority 32768 vlan_filtering 0 vlan_protocol 802.1Q "
                 f"bridge_id {bid} designated_root {bid} root_port 0 root_path_cost 0 "
                 "topology_change 0 topology_change_detected 0 hello_timer 0.00 tcn_timer "
                 "0.00 topology_change_timer 0.00 gc_timer 0.00 vlan_default_pvid 1 "
                 "vlan_stats_enabled 0 vlan_stats_per_port 0 group_fwd_mask 0 "
                 "group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 "
                 "mcast_vlan_snooping 0 mcast_router 1 mcast_query_use_ifaddr 0 "
                 "mcast_querier 0 mcast_hash_elasticity 16 mcast_hash_max 4096 "
                 "mcast_last_member_count 2 mcast_startup_query_count 2 "
                 "mcast_last_member_interval 100 mcast_membership_interval 26000 "
                 "mcast_querier_interval 25500 mcast_query_interval 12500 "
                 "mcast_query_response_interval 1000 mcast_startup_query_interval 3124 "
                 "mcast_stats_enabled 0 mcast_igmp_version 2 mcast_mld_version 1 "
                 "nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 ")
    elif kind == "veth":
        text += "\n    veth "
        if iface.master and not ctx.pod:
            bridge_mac = next((i.mac for i in ctx.dp.node_interfaces(node)
                               if i.name == iface.master), iface.mac)
            ports = [i.name for i in ctx.dp.node_interfaces(node) if i.master == iface.master]
            number = ports.index(iface.name) + 1 if iface.name in ports else 1
            hairpin = "on" if getattr(ctx.dp.plugin, "hairpin", False) else "off"
            bid = f"8000.{bridge_mac}"
            text += (f"\n    bridge_slave state forwarding priority 32 cost 2 hairpin "
                     f"{hairpin} guard off root_block off fastleave off learning on flood on "
                     f"port_id 0x{0x8000 + number:x} port_no 0x{number:x} designated_port "
                     f"{0x8000 + number} designated_cost 0 designated_bridge {bid} "
                     f"designated_root {bid} hold_timer 0.00 message_age_timer 0.00 "
                     "forward_delay_timer 0.00 topology_change_ack 0 config_pending 0 "
                     "proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off "
                     "mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off "
                     "group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off "
                     "locked off ")
    elif kind == "ipip":
        text += "\n    ipip any remote any local any ttl inherit nopmtudisc "
    queues = 2 if kind == "ether" else 1
    tso = 524280 if kind == "loopback" else 65536
    text += (f"numtxqueues {queues} numrxqueues {queues} gso_max_size 65536 gso_max_segs "
             f"65535 tso_max_size {tso} tso_max_segs 65535 gro_max_size 65536 ")
    if kind == "ether":
        text += "parentbus pci parentdev 0000:00:05.0 "
    return text


#: ip/iproute.c usage() (iproute2 6.1): ``ip route help``, and what ``ip route add``
#: without a destination answers.
_ROUTE_USAGE = """Usage: ip route { list | flush } SELECTOR
       ip route save SELECTOR
       ip route restore
       ip route showdump
       ip route get [ ROUTE_GET_FLAGS ] ADDRESS
                            [ from ADDRESS iif STRING ]
                            [ oif STRING ] [ tos TOS ]
                            [ mark NUMBER ] [ vrf NAME ]
                            [ uid NUMBER ] [ ipproto PROTOCOL ]
                            [ sport NUMBER ] [ dport NUMBER ]
       ip route { add | del | change | append | replace } ROUTE
SELECTOR := [ root PREFIX ] [ match PREFIX ] [ exact PREFIX ]
            [ table TABLE_ID ] [ vrf NAME ] [ proto RTPROTO ]
            [ type TYPE ] [ scope SCOPE ]
ROUTE := NODE_SPEC [ INFO_SPEC ]
NODE_SPEC := [ TYPE ] PREFIX [ tos TOS ]
             [ table TABLE_ID ] [ proto RTPROTO ]
             [ scope SCOPE ] [ metric METRIC ]
             [ ttl-propagate { enabled | disabled } ]
INFO_SPEC := { NH | nhid ID } OPTIONS FLAGS [ nexthop NH ]...
NH := [ encap ENCAPTYPE ENCAPHDR ] [ via [ FAMILY ] ADDRESS ]
      [ dev STRING ] [ weight NUMBER ] NHFLAGS
FAMILY := [ inet | inet6 | mpls | bridge | link ]
OPTIONS := FLAGS [ mtu NUMBER ] [ advmss NUMBER ] [ as [ to ] ADDRESS ]
           [ rtt TIME ] [ rttvar TIME ] [ reordering NUMBER ]
           [ window NUMBER ] [ cwnd NUMBER ] [ initcwnd NUMBER ]
           [ ssthresh NUMBER ] [ realms REALM ] [ src ADDRESS ]
           [ rto_min TIME ] [ hoplimit NUMBER ] [ initrwnd NUMBER ]
           [ features FEATURES ] [ quickack BOOL ] [ congctl NAME ]
           [ pref PREF ] [ expires TIME ] [ fastopen_no_cookie BOOL ]
TYPE := { unicast | local | broadcast | multicast | throw |
          unreachable | prohibit | blackhole | nat }
TABLE_ID := [ local | main | default | all | NUMBER ]
SCOPE := [ host | link | global | NUMBER ]
NHFLAGS := [ onlink | pervasive ]
RTPROTO := [ kernel | boot | static | NUMBER ]
PREF := [ low | medium | high ]
TIME := NUMBER[s|ms]
BOOL := [1|0]
FEATURES := ecn
ENCAPTYPE := [ mpls | ip | ip6 | seg6 | seg6local | rpl | ioam6 | xfrm ]
ENCAPHDR := [ MPLSLABEL | SEG6HDR | SEG6LOCAL | IOAM6HDR | XFRMINFO ]
SEG6HDR := [ mode SEGMODE ] segs ADDR1,ADDRi,ADDRn [hmac HMACKEYID] [cleanup]
SEGMODE := [ encap | encap.red | inline | l2encap | l2encap.red ]
SEG6LOCAL := action ACTION [ OPTIONS ] [ count ]
ACTION := { End | End.X | End.T | End.DX2 | End.DX6 | End.DX4 |
            End.DT6 | End.DT4 | End.DT46 | End.B6 | End.B6.Encaps |
            End.BM | End.S | End.AS | End.AM | End.BPF }
OPTIONS := OPTION [ OPTIONS ]
OPTION := { flavors FLAVORS | srh SEG6HDR | nh4 ADDR | nh6 ADDR | iif DEV | oif DEV |
            table TABLEID | vrftable TABLEID | endpoint PROGNAME }
FLAVORS := { FLAVOR[,FLAVOR] }
FLAVOR := { psp | usp | usd | next-csid }
IOAM6HDR := trace prealloc type IOAM6_TRACE_TYPE ns IOAM6_NAMESPACE size IOAM6_TRACE_SIZE
XFRMINFO := if_id IF_ID [ link_dev LINK ]
ROUTE_GET_FLAGS := [ fibmatch ]"""
#: The route types of lib/rt_names.c ``rtnl_rtntype_a2n``, and those the lab routes.
_TYPES = ("unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit",
          "blackhole", "nat", "anycast")
_MODELLED_TYPES = ("unicast", "blackhole", "unreachable", "prohibit")
#: /etc/iproute2/rt_scopes and rt_protos (Ubuntu 24.04), and the table names.
_SCOPES = {"global": 0, "universe": 0, "nowhere": 255, "host": 254, "link": 253, "site": 200}
_PROTOS = {"unspec": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8,
           "ra": 9, "mrt": 10, "zebra": 11, "bird": 12, "dnrouted": 13, "xorp": 14,
           "ntk": 15, "dhcp": 16, "keepalived": 18, "babel": 42, "openr": 99, "bgp": 186,
           "isis": 187, "ospf": 188, "rip": 189, "eigrp": 192}
_TABLES = {"default": 253, "main": 254, "local": 255}


def _u32(text: str, high: int = 0xFFFFFFFF) -> int | None:
    """lib/utils.c ``get_u32``/``get_unsigned`` (base 0): the value, or None."""
    number = strtoul(text, base=0)
    if not text or number.end == 0 or number.end < len(text) or number.overflow:
        return None
    return number.value if number.value <= high else None


def _invarg(arg: str, message: str) -> _IpError:
    """lib/utils.c ``invarg``: the message ends with its own newline (a blank line)."""
    return _IpError(f'Error: argument "{arg}" is wrong: {message}\n')


def _ipv4(text: str) -> str | None:
    """lib/utils.c ``get_addr_ipv4``: one to four parts (``10`` is 10.0.0.0), each read
    by ``strtoul(.., 0)``; the dotted quad, or None."""
    parts: list[int] = []
    rest = text
    while len(parts) < 4:
        number = strtoul(rest, base=0)
        if number.end == 0 or number.value > 255:
            return None
        parts.append(number.value)
        rest = rest[number.end:]
        if not rest:
            return ".".join(map(str, parts + [0] * (4 - len(parts))))
        if len(parts) == 4 or rest[0] != ".":
            return None
        rest = rest[1:]
    return None  # pragma: no cover - the loop returns


def _address(text: str, family: str | None) -> tuple[str | None, str] | None:
    """lib/utils.c ``get_addr_1``: (family, address) with None for ``default``/``any``,
    or None when ``text`` is no address of ``family``."""
    if text in ("default", "all", "any"):
        return family, "default"
    if ":" in text:
        if family not in (None, "inet6") or "%" in text:
            return None
        try:
            return "inet6", str(IPv6Address(text))
        except ValueError:
            return None
    if family not in (None, "inet"):
        return None
    quad = _ipv4(text)
    return None if quad is None else ("inet", quad)


def _family_name(family: str | None) -> str:
    """lib/utils.c ``family_name_verbose``."""
    return family or "any valid"


def _prefix(text: str, family: str | None) -> tuple[str | None, str]:
    """lib/utils.c ``get_prefix``: (family, canonical prefix as ``Route.dst`` holds it:
    ``default``, an address for a host route, else ``address/len``); the error otherwise."""
    addr_text, slash, plen_text = text.partition("/")
    found = _address(addr_text, family)
    bits = None
    if found is not None and slash:
        bits = _u32(plen_text)
        if bits is None:  # a dotted netmask, 2^n - 1 host bits
            mask = _address(plen_text, "inet")
            if mask is not None and mask[1] != "default":
                host = ~int(IPv4Address(mask[1])) & 0xFFFFFFFF
                bits = None if host & (host + 1) else 32 - host.bit_length()
    max_bits = 128 if found is not None and found[0] == "inet6" else 32
    if found is None or (slash and (found[1] == "default" or bits is None or bits > max_bits)):
        raise _IpError(f'Error: {_family_name(family)} prefix is expected rather than "{text}".')
    fam, addr = found
    if addr == "default":
        return fam, "default"
    length = max_bits if bits is None else bits
    if fam == "inet6":
        return fam, f"{addr}/{length}"
    if length == 0:
        return fam, "default" if addr == "0.0.0.0" else f"{addr}/0"
    return fam, addr if length == 32 else f"{addr}/{length}"


def _host_bits_set(dst: str) -> bool:
    """The kernel's ``fib_valid_key_len``: an address with bits beyond the prefix."""
    if "/" not in dst:
        return False
    try:
        ip_network(dst, strict=True)
    except ValueError:
        return True
    return False


def _ip_route(ctx: Context, args: list[str], family: str | None) -> str:
    if not args or matches(args[0], "list") or matches(args[0], "show") or matches(
            args[0], "lst"):
        return _ip_route_show(ctx, args[1:], family)
    cmd = args[0]
    ops = {"add": "add", "change": "change", "chg": "change", "replace": "replace",
           "prepend": "add", "append": "add", "delete": "del"}
    op = next((v for k, v in ops.items() if k == cmd or (k != "chg" and matches(cmd, k))),
              None)
    if op is not None:
        if ctx.pod:
            return "RTNETLINK answers: Operation not permitted"
        return _ip_route_edit(ctx, op, args[1:], family)
    if matches(cmd, "get"):
        return _ip_route_get(ctx, args[1:], family)
    if matches(cmd, "help"):
        return _ROUTE_USAGE
    return f'Command "{cmd}" is unknown, try "ip route help".'


def _ip_route_show(ctx: Context, args: list[str], family: str | None) -> str:
    """``ip route show [dev DEV] [table TABLE] [PREFIX]``: the main table, or the routes
    of one device or to one prefix."""
    routes = ctx.dp.pod_routes(ctx.pod) if ctx.pod else ctx.dp.node_routes(ctx.host)
    devices = {i.name for i in (ctx.dp.pod_interfaces(ctx.pod) if ctx.pod
                                else ctx.dp.node_interfaces(ctx.host))}
    dev = dst = None
    table = "main"
    i = 0
    while i < len(args):
        word = args[i]
        if word in ("dev", "oif", "table", "proto", "scope", "type", "vrf", "root", "match",
                    "exact", "to", "from", "via", "src"):
            value = _next(args, i)
            i += 2
            if word in ("dev", "oif"):
                dev = value
            elif word == "table":
                if value not in ("all", *_TABLES) and _u32(value) is None:
                    raise _invarg(value, "table id value is invalid")
                table = value
            elif word in ("root", "match", "exact", "to"):
                family, dst = _prefix(value, family)
            continue
        family, dst = _prefix(word, family)
        i += 1
    if dev is not None and dev not in devices:
        return f'Cannot find device "{dev}"'
    if family == "inet6" or table not in ("main", "254", "all"):
        return ""
    return "\n".join(str(r) for r in routes
                     if (dev is None or r.dev == dev) and (dst is None or r.dst == dst))


def _ip_route_get(ctx: Context, args: list[str], family: str | None) -> str:
    """``ip route get ADDRESS [from ADDRESS] [oif DEV] ...``: the route the kernel picks."""
    dst = None
    devices = {i.name for i in (ctx.dp.pod_interfaces(ctx.pod) if ctx.pod
                                else ctx.dp.node_interfaces(ctx.host))}
    i = 0
    while i < len(args):
        word = args[i]
        if word in ("from", "iif", "oif", "mark", "tos", "dsfield", "vrf", "uid", "ipproto",
                    "sport", "dport", "as"):
            value = _next(args, i)
            if word == "from":
                family = _prefix(value, family)[0]
            elif word in ("iif", "oif") and value not in devices:
                return f'Cannot find device "{value}"'
            i += 2
            continue
        if word in ("connected", "fibmatch"):
            i += 1
            continue
        if word == "to":
            word = _next(args, i)
            i += 1
        addr_family, dst = _prefix(word, family)
        family = addr_family or family
        i += 1
    if dst is None:
        return "need at least a destination address"
    if family == "inet6":
        return "RTNETLINK answers: Operation not supported"
    warning = ""
    if "/" in dst:
        warning = (f"Warning: /{dst.partition('/')[2]} as prefix is invalid, only /32 (or none)"
                   " is supported.\n")
        dst = dst.partition("/")[0]
    dst = "0.0.0.0" if dst == "default" else dst
    if ctx.pod:
        route, src = route_lookup(ctx.dp.pod_routes(ctx.pod), dst), ctx.pod.ip
    else:
        route, src = ctx.dp.route(ctx.host, dst), None
    if route is None or route.type != "unicast":
        return warning + ("RTNETLINK answers: Network is unreachable" if route is None else
                          "RTNETLINK answers: Invalid argument")
    src = src or route.src or ctx.dp.device_address(ctx.host, route.dev)
    via = f" via {route.via}" if route.via else ""
    return f"{warning}{dst}{via} dev {route.dev} src {src} uid 0 \n    cache "


def _route_arguments(args: list[str], family: str | None) -> tuple[dict[str, str], str | None]:
    """ip/iproute.c ``iproute_modify``'s loop: the keywords given and the family."""
    opts: dict[str, str] = {}
    i = 0
    while i < len(args):
        word = args[i]
        if word == "onlink":
            opts["onlink"] = ""
            i += 1
            continue
        if word in ("via", "src", "dev", "oif", "metric", "priority", "preference", "scope",
                    "table", "proto", "protocol", "mtu"):
            value = _next(args, i)
            i += 1
            if word == "via":
                if "via" in opts:
                    raise _invarg("via", "use nexthop syntax to specify multiple via\n"[:-1])
                if value in ("inet", "inet6"):
                    via_family, value = value, _next(args, i)
                    i += 1
                else:
                    via_family = family
                found = _address(value, via_family)
                if found is None or found[1] == "default" and via_family is None:
                    raise _IpError(f"Error: {_family_name(via_family)} address is expected "
                                   f'rather than "{value}".')
                family = family or found[0]
                opts["via_family"] = found[0] or "inet"
                value = found[1]
            elif word == "src":
                found = _address(value, family)
                if found is None:
                    raise _IpError(f"Error: {_family_name(family)} address is expected "
                                   f'rather than "{value}".')
                family, value = found[0] or family, found[1]
            elif word in ("metric", "priority", "preference") and _u32(value) is None:
                raise _invarg(value, '"metric" value is invalid')
            elif word == "mtu":
                if value == "lock":
                    value = _next(args, i)
                    i += 1
                if _u32(value) is None:
                    raise _invarg(value, '"mtu" value is invalid')
            elif word == "scope" and value not in _SCOPES and _u32(value, 255) is None:
                raise _invarg(value, 'invalid "scope" value')
            elif word in ("proto", "protocol") and value not in _PROTOS and _u32(
                    value, 255) is None:
                raise _invarg(value, '"protocol" value is invalid')
            elif word == "table" and value not in _TABLES and _u32(value) is None:
                raise _invarg(value, '"table" value is invalid')
            opts[{"oif": "dev", "protocol": "proto", "priority": "metric",
                  "preference": "metric"}.get(word, word)] = value
            i += 1
            continue
        if word == "to":
            word = _next(args, i)
            i += 1
        if not word[:1].isdigit() and word in _TYPES:
            opts["type"] = word
            word = _next(args, i)
            i += 1
        if matches(word, "help"):
            raise _IpError(_ROUTE_USAGE)
        if "dst" in opts:
            raise _IpError(f'Error: either "to" is duplicate, or "{word}" is a garbage.')
        found_family, opts["dst"] = _prefix(word, family)
        family = family or found_family
        i += 1
    return opts, family


def _ip_route_edit(ctx: Context, op: str, args: list[str], family: str | None) -> str:
    """``ip route add|change|replace|del [TYPE] PREFIX [via GW] [dev DEV] [onlink] ...`` on a
    node: iproute2's checks, then the kernel's."""
    node = ctx.host
    opts, family = _route_arguments(args, family)
    if "dst" not in opts:
        return _ROUTE_USAGE
    dst, kind = opts["dst"], opts.get("type", "unicast")
    via, dev = opts.get("via"), opts.get("dev")
    devices = {i.name: i for i in ctx.dp.node_interfaces(node)}
    if dev is not None and dev not in devices:
        return f'Cannot find device "{dev}"'
    if family == "inet6":  # no IPv6 in the kernel (see the module docstring)
        return "RTNETLINK answers: Operation not supported"
    if _host_bits_set(dst):
        return "Error: Invalid prefix for given prefix length."
    if kind not in _MODELLED_TYPES:
        return f"Error: the lab does not model {kind} routes."
    if kind != "unicast" and (via is not None or dev is not None) and op != "del":
        return "Error: Gateway, device and multipath can not be specified for this route type."
    if opts.get("via_family") == "inet6":
        return "Error: IPv6 support not enabled in kernel."
    table = ctx.dp.node_routes(node)
    if op == "del":
        match = [r for r in table if r.dst == dst and r.type == kind
                 and (via is None or r.via == via) and (dev is None or r.dev == dev)]
        if not match:
            return "RTNETLINK answers: No such process"
        if opts.get("table", "main") in ("main", "254"):
            ctx.runtime.edit_routes(node.name, ("del", Route(dst, dev or "", via=via,
                                                              type=kind)))
        return ""
    if kind == "unicast" and via is None and dev is None:
        return "RTNETLINK answers: No such device"
    if kind == "unicast" and via is not None and "onlink" not in opts:
        connected = [r for r in table if r.via is None and r.type == "unicast"
                     and r.dst != "default" and "/" in r.dst
                     and IPv4Address(via) in ip_network(r.dst)]
        if not connected:
            return "Error: Nexthop has invalid gateway."
        dev = dev or connected[0].dev
    src = opts.get("src")
    if src is not None and src not in {i.address.partition("/")[0] for i in devices.values()
                                       if i.address}:
        return "Error: Invalid prefsrc address."
    exists = any(r.dst == dst and r.type == kind for r in table)
    if op == "add" and exists:
        return "RTNETLINK answers: File exists"
    if op == "change" and not exists:
        return "RTNETLINK answers: No such file or directory"
    if opts.get("table", "main") not in ("main", "254"):
        return ""  # another table: the lab models the main table only
    mtu = opts.get("mtu")
    route = Route(dst, dev or "", via=via, proto=opts.get("proto"),
                  scope=opts.get("scope") or ("link" if kind == "unicast" and via is None
                                              else None),
                  src=src, onlink="onlink" in opts, type=kind,
                  mtu=_u32(mtu) if mtu is not None else None)
    if op in ("replace", "change"):
        ctx.runtime.edit_routes(node.name, ("del", Route(dst, "", type=kind)), ("add", route))
    else:
        ctx.runtime.edit_routes(node.name, ("add", route))
    return ""


def _ip_neigh(ctx: Context, args: list[str], family: str | None) -> str:
    dp = ctx.dp
    if args and not (matches(args[0], "show") or matches(args[0], "list")):
        return f'Command "{args[0]}" is unknown, try "ip neigh help".'
    if family == "inet6":
        return ""
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
