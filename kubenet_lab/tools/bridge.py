"""``bridge fdb`` (iproute2): the forwarding databases of the node's bridges and VXLAN
devices, as the CNI plugin set them up."""

from __future__ import annotations

from kubenet_lab.tools.context import Context

__all__ = ["bridge"]


def bridge(ctx: Context, args: list[str]) -> str:
    """``bridge fdb``: the bridges' and VXLAN devices' forwarding entries."""
    if not args or args[0] != "fdb":
        return ("Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }\n"
                "where  OBJECT := { link | fdb | mdb | vlan | vni | monitor }")
    if ctx.pod:
        return "33:33:00:00:00:01 dev eth0 self permanent"
    lines = ["33:33:00:00:00:01 dev eth0 self permanent",
             "01:00:5e:00:00:01 dev eth0 self permanent"]
    return "\n".join(lines + list(ctx.dp.fdb(ctx.host)))
