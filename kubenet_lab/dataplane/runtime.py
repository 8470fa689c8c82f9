"""The kernels' mutable state: what the nodes remember between one connection and the
next, apart from the objects of the API (those are in the ``Store``).

- **route edits**: ``ip route add/del`` run on a node (``Cluster.exec``);
- **recent lists**: the ``-m recent`` lists of kube-proxy's ClientIP affinity rules,
  per node (timeouts are not modelled: an entry lasts as long as the cluster);
- **the random generator** that the kernel's ``statistic`` matches draw from (seeded,
  so a cluster always makes the same choices in the same order);
- **captures**: the packets of the last command that sent traffic, for ``tcpdump``;
- **conntrack**: each node's connection tracking table (``ConntrackEntry``), filled by
  the connections ``Cluster.trace`` and the tools that send make (``walk.conntrack``);
- **sysctls and modules**: ``sysctl -w`` on a node and kernel modules unloaded there
  (``br_netfilter``), which the walk reads (``bridge_nf_call_iptables``,
  ``ip_forward``).

Helper computations (the reply TTL of a ping, a picture of many connections) run on a
``fork()`` and leave the cluster's own runtime as it was.

>>> rt = Runtime(seed=0)
>>> scratch = rt.fork()
>>> scratch.random() == rt.random()
True
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

__all__ = ["Runtime"]


@dataclass(frozen=True, slots=True)
class ConntrackEntry:
    """One connection in a node's conntrack table: the original and reply tuples
    ``(src, dst, sport, dport)`` (for ICMP, ``sport`` is the echo id and ``dport`` 0),
    whether a reply was seen, the TCP/SCTP state (``""`` for UDP and ICMP), the timeout
    left in seconds, ASSURED, and the mark."""

    protocol: str
    orig: tuple[str, str, int, int]
    reply: tuple[str, str, int, int]
    replied: bool
    state: str
    timeout: int
    assured: bool = False
    mark: int = 0


class Runtime:
    """The mutable kernel state of a cluster's nodes (see the module docstring)."""

    def __init__(self, seed: int = 0, *, rng: random.Random | None = None,
                 route_edits: dict[str, tuple[tuple[str, Any], ...]] | None = None,
                 recent: dict[tuple[str, str, str], None] | None = None,
                 captures: tuple[tuple[str, Any], ...] = ()) -> None:
        self.rng = rng if rng is not None else random.Random(seed)
        self._route_edits = dict(route_edits or {})
        self._recent = dict(recent or {})
        self._captures = captures
        self._conntrack: dict[str, dict[tuple[Any, ...], ConntrackEntry]] = {}
        self._sysctls: dict[str, dict[str, str]] = {}
        self._unloaded: set[tuple[str, str]] = set()

    def __repr__(self) -> str:
        return (f"<Runtime {len(self._route_edits)} nodes with route edits, "
                f"{len(self._recent)} affinity entries>")

    def fork(self, salt: str | None = None) -> Runtime:
        """An independent copy: what happens on it never reaches this runtime.

        With ``salt`` (a client's address, say) the copy's random draws are reseeded from
        this runtime's next draw and the salt, so two forks for two clients draw
        independently, as two clients' connections do on a real node, and a fork for the
        same client in the same state draws the same again.
        """
        forked = Runtime(rng=copy.deepcopy(self.rng), route_edits=self._route_edits,
                         recent=self._recent, captures=self._captures)
        if salt is not None:
            forked.rng.seed(f"{forked.rng.random()!r}/{salt}")
        forked.adopt_kernel_tables(*self.kernel_tables())
        return forked

    # ------------------------------------------------------------------ random
    def random(self) -> float:
        """The next draw of the kernel's random generator, in [0, 1)."""
        return self.rng.random()

    # ------------------------------------------------------------------ routes
    def route_edits(self, node: str) -> tuple[tuple[str, Any], ...]:
        """The ``("add"|"del", Route)`` edits made on ``node``, in order."""
        return self._route_edits.get(node, ())

    @property
    def edited_nodes(self) -> list[str]:
        """The nodes whose routes were edited, by name."""
        return sorted(n for n, edits in self._route_edits.items() if edits)

    def edit_routes(self, node: str, *edits: tuple[str, Any]) -> None:
        """Record ``ip route add/del`` on ``node`` (``tools.ip`` checks them first)."""
        self._route_edits[node] = self.route_edits(node) + tuple(edits)

    # ------------------------------------------------------------------ recent
    def recent(self, node: str, name: str, ip: str) -> bool:
        """Is ``ip`` on the ``recent`` list ``name`` of ``node``?"""
        return (node, name, ip) in self._recent

    def remember(self, node: str, name: str, ip: str) -> None:
        """``-m recent --set``: put ``ip`` on the list ``name`` of ``node``."""
        self._recent[(node, name, ip)] = None

    def recent_members(self, node: str) -> dict[str, tuple[str, ...]]:
        """The ``recent`` lists (and nftables affinity sets) of ``node``: ``{name: (ip,
        ...)}``, each in the order the addresses were put on it."""
        out: dict[str, list[str]] = {}
        for n, name, ip in self._recent:
            if n == node:
                out.setdefault(name, []).append(ip)
        return {name: tuple(ips) for name, ips in out.items()}

    # ------------------------------------------------------------------ captures
    def capture(self, traces: tuple[tuple[str, Any], ...]) -> None:
        """Keep the packets of the last command that sent traffic (``(kind, Trace)``)."""
        self._captures = tuple(traces)

    @property
    def captured(self) -> tuple[tuple[str, Any], ...]:
        return self._captures

    # ------------------------------------------------------------------ conntrack
    def kernel_tables(self) -> tuple[dict[str, dict[tuple[Any, ...], ConntrackEntry]],
                                     dict[str, dict[str, str]], set[tuple[str, str]]]:
        """Copies of the conntrack tables, the written sysctls and the unloaded modules
        (what ``fork`` hands to the copy)."""
        return ({node: dict(table) for node, table in self._conntrack.items()},
                {node: dict(values) for node, values in self._sysctls.items()},
                set(self._unloaded))

    def adopt_kernel_tables(self, conntrack: dict[str, dict[tuple[Any, ...], ConntrackEntry]],
                            sysctls: dict[str, dict[str, str]],
                            unloaded: set[tuple[str, str]]) -> None:
        """Take the tables ``kernel_tables`` returned (``fork``)."""
        self._conntrack, self._sysctls, self._unloaded = conntrack, sysctls, unloaded

    def conntrack(self, node: str) -> tuple[ConntrackEntry, ...]:
        """The conntrack table of ``node``, oldest connection first."""
        return tuple(self._conntrack.get(node, {}).values())

    def track(self, node: str, entry: ConntrackEntry) -> None:
        """Record (or refresh) a connection in ``node``'s table, keyed by its original
        tuple, as nf_conntrack does."""
        table = self._conntrack.setdefault(node, {})
        table[(entry.protocol, entry.orig)] = entry

    def flush_conntrack(self, node: str, keep: Any = None) -> int:
        """``conntrack -F`` (``keep`` None) or ``-D`` (keep the entries for which
        ``keep(entry)`` is true): the number of entries removed."""
        table = self._conntrack.get(node, {})
        kept = {k: e for k, e in table.items() if keep is not None and keep(e)}
        self._conntrack[node] = kept
        return len(table) - len(kept)

    # ------------------------------------------------------------------ sysctls
    def sysctl(self, node: str, key: str) -> str | None:
        """The value ``sysctl -w`` gave ``key`` on ``node``, or None (never written)."""
        return self._sysctls.get(node, {}).get(key)

    def set_sysctl(self, node: str, key: str, value: str) -> None:
        """``sysctl -w key=value`` on ``node`` (``tools.sysctl`` checks it first)."""
        self._sysctls.setdefault(node, {})[key] = value

    def module_loaded(self, node: str, module: str) -> bool:
        """Is the kernel module ``module`` loaded on ``node``? (All are, unless unloaded.)"""
        return (node, module) not in self._unloaded

    def set_module(self, node: str, module: str, loaded: bool) -> None:
        """``modprobe`` / ``modprobe -r``: loading a module again resets its sysctls to
        the module's defaults."""
        if loaded:
            self._unloaded.discard((node, module))
        else:
            self._unloaded.add((node, module))
        prefix = _MODULE_SYSCTLS.get(module)
        if prefix:
            values = self._sysctls.get(node, {})
            for key in [k for k in values if k.startswith(prefix)]:
                del values[key]

    def bridge_nf_call_iptables(self, node: str) -> bool:
        """Do frames bridged on ``node`` (cni0) pass iptables and conntrack? Only with
        br_netfilter loaded and ``net.bridge.bridge-nf-call-iptables = 1`` (the
        module's default)."""
        return self.module_loaded(node, "br_netfilter") and self.sysctl(
            node, "net.bridge.bridge-nf-call-iptables") in (None, "1")

    def ip_forward(self, node: str) -> bool:
        """Does ``node`` forward packets between its interfaces
        (``net.ipv4.ip_forward``, 1 on a kubeadm node)?"""
        return self.sysctl(node, "net.ipv4.ip_forward") not in ("0", "-0")


#: The sysctls a kernel module brings (gone while it is unloaded).
_MODULE_SYSCTLS = {"br_netfilter": "net.bridge."}
