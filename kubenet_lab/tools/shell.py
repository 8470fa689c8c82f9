"""A small shell on a node or in a pod: the networking tools, in their real output format.

Every answer is computed from the dataplane (devices, routes, rules, traces), in the
format of the real tool on a current Linux (iproute2 6.x, iptables 1.8 nf_tables, iputils
ping and traceroute, BIND's nslookup, curl 8, tcpdump 4.99, kubectl 1.31), one module per
tool; each renders the tables it reads and never parses another tool's text. Where the
real tool prints something the lab cannot know, the tool's module says what it prints
instead. Anything else answers as a shell does (``command not found``, a usage line),
never with a Python error.

``ip route add`` / ``ip route del`` on a node change that node's routes (runtime state);
in a pod they answer ``RTNETLINK answers: Operation not permitted`` (a pod has no
CAP_NET_ADMIN).

Examples
--------
>>> from kubenet_lab.dataplane.tables import Dataplane
>>> c = kl.Cluster(workers=1)
>>> print(run(Dataplane(c.store.snapshot(), c.runtime), "node-1", "ipconfig"))
bash: ipconfig: command not found
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.dns import node_resolv_conf, resolv_conf
from kubenet_lab.tools.bridge import bridge
from kubenet_lab.tools.context import Context
from kubenet_lab.tools.curl import curl
from kubenet_lab.tools.ip import ip
from kubenet_lab.tools.iptables_save import iptables_save
from kubenet_lab.tools.kubectl import kubectl_command
from kubenet_lab.tools.nslookup import nslookup
from kubenet_lab.tools.ping import ping
from kubenet_lab.tools.tcpdump import tcpdump
from kubenet_lab.tools.traceroute import traceroute

if TYPE_CHECKING:
    from kubenet_lab.dataplane.tables import Dataplane

__all__ = ["COMMANDS", "run"]


def run(dp: Dataplane, where: str, command: str) -> str:
    """See ``Cluster.exec``."""
    ctx = Context(dp, where)
    if not isinstance(command, str):
        return ctx.not_found(str(command))
    try:
        argv = shlex.split(command)
    except ValueError:
        return f"{ctx.shell}: Syntax error: Unterminated quoted string" if ctx.pod else (
            "bash: unexpected EOF while looking for matching quote")
    if not argv:
        return ""
    name, args = argv[0], argv[1:]
    if ctx.pod and name == "sudo":
        return ctx.not_found("sudo")
    if name == "sudo":
        name, args = (args[0], args[1:]) if args else ("", [])
        if not name:
            return "usage: sudo -h | -K | -k | -V"
    if name == "kubectl" and ctx.node is not None:
        return kubectl_command(ctx.view, args)
    handler = COMMANDS.get(name)
    if handler is None:
        return ctx.not_found(name)
    return handler(ctx, args)


def hostname(ctx: Context, args: list[str]) -> str:
    """``hostname``: the pod's name, or the node's."""
    return ctx.pod.name if ctx.pod else ctx.where


def cat(ctx: Context, args: list[str]) -> str:
    """``cat /etc/resolv.conf`` and ``cat /etc/hostname``; other files do not exist."""
    out = []
    for path in args:
        if path == "/etc/resolv.conf":
            out.append(resolv_conf(ctx.view, ctx.pod.ref) if ctx.pod else node_resolv_conf())
        elif path == "/etc/hostname":
            out.append(hostname(ctx, []))
        else:
            out.append(f"cat: {path}: No such file or directory")
    return "\n".join(out)


#: The commands the shell knows, by name.
COMMANDS: dict[str, Callable[[Context, list[str]], str]] = {
    "bridge": bridge,
    "cat": cat,
    "curl": curl,
    "hostname": hostname,
    "ip": ip,
    "iptables-save": iptables_save,
    "nslookup": nslookup,
    "ping": ping,
    "tcpdump": tcpdump,
    "traceroute": traceroute,
}
