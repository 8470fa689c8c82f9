"""``Cluster.trace``: an HTTP(S) URL goes through a proxy, a Gateway's or the ingress
controller's (``walk.http``); anything else is one packet (``walk.packet``). The
connection is then entered into the conntrack tables of the nodes it passed
(``walk.conntrack.record``); the analyses that walk many packets call the walks below
on a fork of the runtime, so they leave the tables alone.

>>> c = kl.Cluster(workers=1)
>>> from kubenet_lab.dataplane.tables import Dataplane
>>> t = trace(Dataplane(c.store.snapshot(), c.runtime), "node-1", "control-plane", port=6443)
>>> t.delivered, t.receiver
(True, 'control-plane/kube-apiserver')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.walk.conntrack import record
from kubenet_lab.walk.http import trace_http
from kubenet_lab.walk.packet import trace_packet

if TYPE_CHECKING:
    from kubenet_lab.dataplane.tables import Dataplane
    from kubenet_lab.model.trace import Trace

__all__ = ["trace"]


def trace(dp: Dataplane, src: str, dst: str, *, port: int = 80, protocol: str = "TCP",
          method: str = "GET", headers: dict[str, str] | None = None) -> Trace:
    """Walk a packet, or an HTTP request when ``dst`` is an ``http(s)://`` URL."""
    if isinstance(dst, str) and dst.startswith(("http://", "https://")):
        t = trace_http(dp, src, dst, method, headers)
    else:
        t = trace_packet(dp, src, dst, port=port, protocol=protocol)
    record(dp, t)
    return t
