"""The registry of the walk's handlers, and the loop that runs them.

Each handler is registered under the name of the place it handles (``ip_input``,
``output``, ``bridge_out``, ``vxlan_out``, ``eth0_out``, ``leave_vpc``, ...). It takes the
walk and the arguments of its step, records its hops and returns the next step or None.
The CNI plugins name the handlers of their own devices (``CNIPlugin.devices``,
``CNIPlugin.pod_egress``), so choosing the next handler is a lookup, not a call back into
the plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubenet_lab.walk.engine import Step, Walk

__all__ = ["HANDLERS", "handles", "run"]

#: Handler name -> handler.
HANDLERS: dict[str, Callable[..., Step | None]] = {}


def handles(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the handler of ``name``."""
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in HANDLERS:  # pragma: no cover - a programming error
            raise ValueError(f"two handlers for {name!r}")
        HANDLERS[name] = fn
        return fn

    return register


def run(walk: Walk, step: Step | None) -> Walk:
    """Follow the packet from ``step`` until a handler returns None."""
    while step is not None:
        name, args = step
        step = HANDLERS[name](walk, *args)
    return walk
