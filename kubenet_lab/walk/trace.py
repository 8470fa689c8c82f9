"""``Cluster.trace``: an HTTP(S) URL goes through a proxy, a Gateway's or the ingress
controller's (``walk.http``); anything else is one packet (``walk.packet``).

>>> c = kl.Cluster(workers=1)
>>> from kubenet_lab.dataplane.tables import Dataplane
>>> t = trace(Dataplane(c.store.snapshot(), c.runtime), "node-1", "control-plane", port=6443)
>>> t.delivered, t.receiver
(True, 'control-plane/kube-apiserver')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
        return trace_http(dp, src, dst, method, headers)
    return trace_packet(dp, src, dst, port=port, protocol=protocol)
