"""``bridge fdb`` (iproute2): the forwarding databases of the node's bridges and VXLAN
devices, as the CNI plugin set them up."""

from __future__ import annotations

from kubenet_lab.tools.context import Context
from kubenet_lab.tools.ip import matches

__all__ = ["bridge"]


def bridge(ctx: Context, args: list[str]) -> str:
    """``bridge fdb [show]``: the bridges' and VXLAN devices' forwarding entries; the other
    objects of bridge/bridge.c are not modelled and answer with the usage."""
    usage = ("Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }\n"
             "where  OBJECT := { link | fdb | mdb | vlan | vni | monitor }")
    if not args or not matches(args[0], "fdb"):
        if args and not any(matches(args[0], o) for o in _OBJECTS):
            return f'Object "{args[0]}" is unknown, try "bridge help".'
        return usage
    if args[1:] and not (matches(args[1], "show") or matches(args[1], "list")):
        return f'Command "{args[1]}" is unknown, try "bridge fdb help".'
    if ctx.pod:
        return "33:33:00:00:00:01 dev eth0 self permanent"
    lines = ["33:33:00:00:00:01 dev eth0 self permanent",
             "01:00:5e:00:00:01 dev eth0 self permanent"]
    return "\n".join(lines + list(ctx.dp.fdb(ctx.host)))


_OBJECTS = ("link", "fdb", "mdb", "vlan", "vni", "monitor", "help")
