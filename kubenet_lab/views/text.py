"""Plain-text views, in the style of the real tools.

Every function returns a string (the library never prints); the same input gives the same
text, byte for byte, so the output can be compared by doctests and by nbval.

- ``trace_text`` and ``hop_text``: a packet's walk, as ``str(trace)`` shows it.
- ``network_model_text``, ``traffic_text`` and ``cni_comparison_text``: reports as tables
  (kubectl's tabwriter layout).

``kubectl get`` listings are in ``kubenet_lab.tools.kubectl``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kubenet_lab.model.arguments import checked
from kubenet_lab.tools.kubectl import tabwriter

if TYPE_CHECKING:
    from kubenet_lab.model.trace import Hop, Trace
    from kubenet_lab.model.traffic import TrafficReport
    from kubenet_lab.model.verification import NetworkModelReport
    from kubenet_lab.scenarios import CniComparison

__all__ = [
    "hop_text",
    "network_model_text",
    "trace_text",
    "traffic_text",
]

#: Width that ``trace_text`` wraps its lines to by default (a 100-column terminal, and a
#: doctest line of this width still fits the project's 100-character source lines).
TEXT_WIDTH = 96
#: Width that ``hop_text`` wraps a hop's ``detail`` sentence to by default.
DETAIL_WIDTH = 88


# --------------------------------------------------------------------------- traces
def _pack(items: Sequence[str], sep: str, width: int, first: str, rest: str,
          *, lead: str = "", trail: str = "") -> list[str]:
    """Pack ``items`` greedily into lines no wider than ``width`` (when they fit).

    ``first`` / ``rest`` prefix the first / following lines. Items are joined by ``sep``
    within a line; a line that continues is ended by ``trail`` and the next one starts
    with ``lead`` (so ``" / "`` can become ``"/ "`` at the start of a continuation line).
    An item never breaks, so a single long item may overflow.
    """
    lines: list[str] = []
    current = ""
    for item in items:
        prefix = first if not lines else rest
        if not current:
            current = (lead if lines else "") + item
            continue
        candidate = current + sep + item
        if len(prefix) + len(candidate) + len(trail) <= width:
            current = candidate
        else:
            lines.append(prefix + current + trail)
            current = lead + item
    if current or not lines:
        lines.append((first if not lines else rest) + current)
    return lines


def _change_list(hop: Hop) -> list[str]:
    return [str(change) for change in hop.changes]


@checked(width=(40, 1000))
def trace_text(trace: Trace, *, width: int = TEXT_WIDTH) -> str:
    """A packet's walk as plain text: what ``str(trace)`` shows.

    The first line is ``repr(trace)``. Then one row per hop: its number, where it is
    (``str(hop.location)``), the action and the headers (``hop.packet.summary()``), in
    aligned columns. Headers that do not fit in ``width`` continue on the next line at a
    layer boundary (``/ ...``). Below a hop that changed headers, an indented
    ``changed: ...`` line lists the changes. The last line is ``=> `` and the reason.

    Parameters
    ----------
    trace : Trace
        The result of ``Cluster.trace``.
    width : int, optional
        The width to wrap lines to (a single header layer or change is never broken).

    Returns
    -------
    str
        The text, without a trailing newline.

    See Also
    --------
    hop_text : every header field of one hop.
    kubenet_lab.views.html.trace_html : the same walk as an HTML table.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> pod = c.add_pod("default/a", node="node-1")
    >>> print(trace_text(c.trace("default/a", "localhost", port=80)))
    <Trace default/a -> localhost:80/TCP delivered, 2 hops>
     1  pod default/a lo  send     IP 127.0.0.1 > 127.0.0.1 ttl=64 / TCP 43313 > 80 [S]
     2  pod default/a lo  deliver  IP 127.0.0.1 > 127.0.0.1 ttl=64 / TCP 43313 > 80 [S]
    => Delivered to container a of pod default/a on TCP port 80; the source address 127.0.0.1
       arrived unchanged (no NAT).
    """
    hops = trace.hops
    index_w = max([2] + [len(str(h.index)) for h in hops])
    where_w = max((len(str(h.location)) for h in hops), default=0)
    action_w = max((len(h.action) for h in hops + trace.reply), default=0)
    lines = [repr(trace)]
    header_col = " " * (index_w + 2 + where_w + 2 + action_w + 2)
    change_col = " " * (index_w + 2)
    for hop in hops:
        row = (f"{hop.index:>{index_w}}  {str(hop.location):<{where_w}}  "
               f"{hop.action:<{action_w}}  ")
        layers = [layer.summary() for layer in hop.packet.layers] or [""]
        lines.extend(_pack(layers, " / ", width, row, header_col, lead="/ "))
        if hop.changes:
            first = change_col + "changed: "
            lines.extend(_pack(_change_list(hop), ", ", width, first,
                               " " * len(first), trail=","))
    reason = textwrap.wrap(trace.reason or "", width=max(width - 3, 20),
                           break_long_words=False, break_on_hyphens=False) or [""]
    lines.append("=> " + reason[0])
    lines.extend("   " + line for line in reason[1:])
    if trace.reply:  # a Service connection: the first reply, translated back by conntrack
        lines.append("reply:")
        for hop in trace.reply:
            row = f"<{hop.index:>{index_w - 1}}  {hop.location!s:<{where_w}}  " \
                  f"{hop.action:<{action_w}}  "
            layers = [layer.summary() for layer in hop.packet.layers]
            lines.extend(_pack(layers, " / ", width, row, header_col, lead="/ "))
    return "\n".join(line.rstrip() for line in lines)


def hop_at(trace: Trace, index: int) -> Hop:
    """The hop numbered ``index`` (1-based), or NotFoundError."""
    from kubenet_lab.exceptions import NotFoundError

    n = len(trace.hops)
    if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= n:
        raise NotFoundError(
            f"Trace {trace.src} -> {trace.dst}", "hops", index, "is not a hop of this trace",
            fix=f"hops are numbered 1 to {n}",
        )
    return trace.hops[index - 1]


@checked(width=(40, 1000))
def hop_text(trace: Trace, index: int, *, width: int = DETAIL_WIDTH) -> str:
    """One hop in detail: where, what happened, every header field, and what changed.

    Parameters
    ----------
    trace : Trace
        The result of ``Cluster.trace``.
    index : int
        The hop's number, from 1 (``hop.index``).
    width : int, optional
        The width to wrap the detail sentence to.

    Returns
    -------
    str
        A title line (hop number, location, action), the ``detail`` sentence, the headers
        as ``hop.packet.show()`` prints them, and the changes since the previous hop
        (``nothing`` when the hop left the headers alone).

    Raises
    ------
    NotFoundError
        If the trace has no hop with that number.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> pod = c.add_pod("default/a", node="node-1")
    >>> t = c.trace("default/a", "localhost", port=80)
    >>> print(hop_text(t, 2))  # doctest: +ELLIPSIS
    hop 2 of 2: pod default/a lo [deliver]
      container a of pod default/a listens on TCP port 80; the socket accepts the packet
    headers:
    ###[ IP ]###
      src    = 127.0.0.1
    ...
    ###[ TCP ]###
      sport  = 43313
      dport  = 80
      flags  = S
    changed since hop 1: nothing
    """
    hop = hop_at(trace, index)
    lines = [f"hop {hop.index} of {len(trace.hops)}: {hop.location} [{hop.action}]"]
    lines.extend(textwrap.wrap(hop.detail, width=width, initial_indent="  ",
                               subsequent_indent="  ", break_long_words=False,
                               break_on_hyphens=False))
    lines.append("headers:")
    lines.append(hop.packet.show())
    if index == 1:
        lines.append("changed: nothing (the first hop: the packet as it is sent)")
    elif not hop.changes:
        lines.append(f"changed since hop {index - 1}: nothing")
    else:
        lines.append(f"changed since hop {index - 1}:")
        lines.extend(f"  {change}" for change in _change_list(hop))
    return "\n".join(lines)


# --------------------------------------------------------------------------- network model
@checked(width=(40, 1000))
def network_model_text(report: NetworkModelReport, *, width: int = TEXT_WIDTH) -> str:
    """The verification report as text: each rule with ``[ok]`` or ``[FAIL]``, what was
    checked, and for each problem the pair and the hop where the packet was lost or
    rewritten.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> print(network_model_text(c.verify_network_model()))  # doctest: +ELLIPSIS
    Kubernetes network model, cni=flannel: 3 nodes, 2 pods
    [ok]   1. Each pod gets its own unique cluster-wide IP address.
              checked: 2 pod addresses and 3 podCIDRs
    ...
    Verdict: the cluster follows the network model.
    """
    lines = [f"Kubernetes network model, cni={report.cni}: {len(report.nodes)} nodes, "
             f"{report.pods} pods"]
    for number, rule in enumerate(report.rules, 1):
        mark = "[ok]  " if rule.ok else "[FAIL]"
        lines += textwrap.wrap(f"{mark} {number}. {rule.rule}", width,
                               subsequent_indent=" " * 10)
        lines.append(f"          checked: {rule.checked}")
        for problem in rule.problems:
            more = problem.pairs - 1
            many = f" (and {more:,} more pair{'s' if more > 1 else ''} like it)" if more else ""
            where = f" hop {problem.hop} at {problem.where}:" if problem.hop else ""
            lines += textwrap.wrap(
                f"x {problem.src} -> {problem.dst}{many}:{where} {problem.detail}", width,
                initial_indent=" " * 10, subsequent_indent=" " * 12)
    lines += textwrap.wrap(f"How it scales: {report.note}", width, subsequent_indent="  ")
    if report.ok:
        lines.append("Verdict: the cluster follows the network model.")
    else:
        count = len(report.problems)
        lines.append(f"Verdict: {count} problem{'s' if count != 1 else ''}: the cluster breaks "
                     "the network model.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- traffic
@checked(top=(0, 1000))
def traffic_text(report: TrafficReport, *, top: int = 10) -> str:
    """Node-to-node bytes on the wire (with the overlay's share), the busiest pod pairs,
    and the flows that did not arrive.

    >>> c = kl.Cluster(workers=2)
    >>> a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
    >>> print(traffic_text(c.traffic([kl.Flow("default/a", "default/b", requests=10)])))
    1 flows, 10 requests; 44,000 bytes of payload
    FROM     TO       ON THE WIRE   OVERLAY HEADERS
    node-1   node-2   55,440        5,500 (9.9%)
    Busiest pod pairs (payload):
      default/a -> default/b   44,000
    Wire total 55,440 bytes, of which 5,500 (9.9%) are VXLAN headers.
    """
    flows = len(report.flows)
    requests = sum(f.requests for f in report.flows)
    payload = sum(report.pod_bytes.values())
    lines = [f"{flows:,} flows, {requests:,} requests; {payload:,} bytes of payload"]
    rows = [["FROM", "TO", "ON THE WIRE", "OVERLAY HEADERS"]]
    for (a, b), size in sorted(report.node_bytes.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
        over = report.overlay_bytes.get((a, b), 0)
        rows.append([a, b, f"{size:,}", f"{over:,} ({100 * over / size:.1f}%)" if size else "0"])
    if len(rows) > 1:
        lines.append(tabwriter(rows))
    for node, size in report.local_bytes.items():
        lines.append(f"{node}: {size:,} bytes between its own pods (never on the wire)")
    pairs = sorted(report.pod_bytes.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    if pairs:
        lines.append("Busiest pod pairs (payload):")
        width = max(len(f"{a} -> {b}") for (a, b), _ in pairs)
        lines += [f"  {f'{a} -> {b}':<{width}}   {size:,}" for (a, b), size in pairs]
    for item in report.dropped[:top]:
        lines.append(f"not delivered: {item}")
    total, over = report.wire_total, report.overlay_total
    kind = {"flannel": "VXLAN", "cilium": "VXLAN"}.get(report.cni, "overlay")
    share = f", of which {over:,} ({100 * over / total:.1f}%) are {kind} headers" if over else (
        ", no overlay headers")
    lines.append(f"Wire total {total:,} bytes{share}.")
    return "\n".join(lines)


def cni_comparison_text(comparison: CniComparison) -> str:
    """The table ``str(kl.compare_cni_plugins())`` prints."""
    head = ["CNI", "hops", "between nodes", "node devices on the path", "overhead",
            "pod MTU", "source seen"]
    rows = [[r.plugin, str(r.hops), r.mode, ", ".join(r.devices), f"{r.overhead} B",
             str(r.mtu), r.source_seen or "-"] for r in comparison.rows]
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
    right = {1, 4, 5}
    lines = []
    for row in [head, *rows]:
        cells = [cell.rjust(w) if i in right else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
