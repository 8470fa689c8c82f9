"""HTML views for notebooks: what ``Trace._repr_html_`` shows, and one hop in detail.

The HTML is self-contained: inline CSS only, no ``id`` or ``class`` attributes, no
scripts, no timestamps. The same trace always gives byte-identical HTML, because nbval
compares ``text/html`` outputs. Every piece of text from the model goes through
``html.escape``.

Header fields that a hop rewrote (``hop.changes``) are wrapped in ``<mark>``, coloured by
kind of change:

- ``NAT``: an address or port rewritten (masquerade, DNAT);
- ``TTL``: the time-to-live decremented by a router;
- ``encapsulation`` / ``decapsulation``: overlay headers added or removed (VXLAN);
- ``framing``: an Ethernet header added or removed;
- ``MAC``: new Ethernet addresses for the next link.
"""

from __future__ import annotations

import dataclasses
import html
from typing import TYPE_CHECKING

from kubenet_lab.model.arguments import checked
from kubenet_lab.model.packet import IPv4
from kubenet_lab.views.text import hop_at

if TYPE_CHECKING:
    from kubenet_lab.model.packet import Change, Layer, Packet
    from kubenet_lab.model.trace import Hop, Trace
    from kubenet_lab.model.verification import NetworkModelReport

__all__ = ["hop_html", "network_model_html", "trace_html"]

_FONT = ("font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;"
         "font-size:13px;line-height:1.45")
_MONO = "font-family:SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace;font-size:12px"
_BADGE_COLOURS = {"delivered": "#1a7f37", "refused": "#cf222e", "dropped": "#cf222e"}
_CELL = ("text-align:left;vertical-align:top;padding:3px 8px;"
         "border-bottom:1px solid rgba(127,127,127,0.3)")
#: Background of ``<mark>`` for each kind of change (see ``change_kind``).
MARK_COLOURS = {
    "NAT": "#ffc078",
    "TTL": "#a5d8ff",
    "encapsulation": "#d0bfff",
    "decapsulation": "#d0bfff",
    "framing": "#dee2e6",
    "MAC": "#dee2e6",
    "changed": "#ffec99",
}
_NAT_FIELDS = {"src", "dst", "sport", "dport"}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _badge(text: str, colour: str) -> str:
    return (f'<span style="background:{colour};color:#ffffff;padding:1px 8px;'
            f'border-radius:9px;font-weight:600;font-size:12px">{_e(text)}</span>')


def _mark(text_html: str, kind: str) -> str:
    return f'<mark style="background:{MARK_COLOURS[kind]};color:#000000">{text_html}</mark>'


def change_kind(change: Change) -> str:
    """What kind of rewrite a ``Change`` is, for highlighting.

    Returns
    -------
    str
        ``"encapsulation"`` / ``"decapsulation"`` (a header other than Ethernet added /
        removed), ``"framing"`` (an Ethernet header added or removed), ``"TTL"``,
        ``"NAT"`` (an IP address or a port rewritten), ``"MAC"`` (Ethernet addresses
        rewritten) or ``"changed"`` (anything else).

    Examples
    --------
    >>> [change_kind(kl.Change("IP", "ttl", 64, 63)), change_kind(kl.Change("IP", "src",
    ...  "10.244.1.2", "10.0.1.5")), change_kind(kl.Change("VXLAN", "+", None, "VXLAN vni=1"))]
    ['TTL', 'NAT', 'encapsulation']
    """
    base = change.layer.rsplit(" ", 1)[-1]
    if change.field in ("+", "-"):
        if base == "Ether":
            return "framing"
        return "encapsulation" if change.field == "+" else "decapsulation"
    if change.field == "ttl":
        return "TTL"
    if base == "Ether" and change.field in ("src", "dst"):
        return "MAC"
    if change.field in _NAT_FIELDS:
        return "NAT"
    return "changed"



def _marks(packet: Packet, changes: tuple[Change, ...]) -> list[dict[str, str]]:
    """For each layer of ``packet``: ``{field: kind}`` of the changed fields; the key
    ``"+"`` means the whole layer is new."""
    labels = packet.labels()
    marks: list[dict[str, str]] = [{} for _ in packet.layers]
    for change in changes:
        if change.field == "-" or change.layer not in labels:
            continue
        marks[labels.index(change.layer)][change.field] = change_kind(change)
    return marks


def _marked_summary(layer: Layer, marks: dict[str, str]) -> str:
    """``layer.summary()`` as HTML, with the changed fields in ``<mark>``."""
    if "+" in marks:
        return _mark(_e(layer.summary()), marks["+"])
    if not marks:
        return _e(layer.summary())
    names = [f.name for f in dataclasses.fields(layer)]
    sentinels = {name: f"\x00{i}\x00" for i, name in enumerate(names) if name in marks}
    try:
        text = dataclasses.replace(layer, **sentinels).summary()
    except Exception:  # a layer that checks its fields: mark it whole
        return _mark(_e(layer.summary()), next(iter(marks.values())))
    out = _e(text)
    hidden = []
    for name, sentinel in sentinels.items():
        value = _mark(_e(getattr(layer, name)), marks[name])
        if sentinel in out:
            out = out.replace(sentinel, value)
        else:  # a field the one-line summary does not show
            hidden.append(_mark(f"{_e(name)}={_e(getattr(layer, name))}", marks[name]))
    return " ".join([out, *hidden])


def _removed(changes: tuple[Change, ...]) -> list[str]:
    return [str(c.old) for c in changes if c.field == "-"]


def _headers_cell(hop: Hop) -> str:
    marks = _marks(hop.packet, hop.changes)
    layers = " / ".join(f'<span style="white-space:nowrap">{_marked_summary(layer, m)}</span>'
                        for layer, m in zip(hop.packet.layers, marks, strict=True))
    out = f'<code style="{_MONO};white-space:normal">{layers}</code>'
    removed = _removed(hop.changes)
    if removed:
        out += ('<div style="font-size:11px;opacity:0.75">removed: '
                + ", ".join(f"<del>{_e(r)}</del>" for r in removed) + "</div>")
    return out


def _route_line(trace: Trace) -> str:
    return f"<code>{_e(trace.src)}</code> &rarr; <code>{_e(trace.target)}</code>"


@checked
def trace_html(trace: Trace) -> str:
    """A packet's walk as an HTML block: what a notebook shows for a ``Trace``.

    A summary line (a green ``delivered`` or red ``refused`` / ``dropped`` badge, source
    -> destination:port/protocol, the source IP the receiver saw), a table with one row
    per hop (#, where, action, what happened, the headers with the fields changed at
    that hop in ``<mark>``), and the reason.

    Parameters
    ----------
    trace : Trace
        The result of ``Cluster.trace``.

    Returns
    -------
    str
        Self-contained HTML (inline CSS, no ids, classes or scripts), deterministic.

    See Also
    --------
    kubenet_lab.views.text.trace_text : the same walk as plain text.
    hop_html : one hop in detail.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
    >>> page = trace_html(c.trace("default/a", "default/b", port=80))
    >>> page.count("<tr>"), page.count("<mark"), ">delivered</span>" in page
    (12, 10, True)
    >>> trace_html(c.trace("default/a", "default/b", port=81)).count(">refused</span>")
    1
    """
    state = trace.outcome
    seen = trace.source_ip_seen
    # the address the sender put on the packet: a pod's own, or 127.0.0.1 to localhost
    sent = trace.hops[0].packet.inner(IPv4).src if trace.hops else trace.src_ip
    if seen is None:
        seen_html = "source IP seen: &mdash; (nothing received it)"
    elif seen != sent:
        seen_html = (f"source IP seen: <code>{_e(seen)}</code> (sent as "
                     f"<code>{_e(sent)}</code>: NAT)")
    else:
        seen_html = f"source IP seen: <code>{_e(seen)}</code>"
    hops = "hop" if len(trace.hops) == 1 else "hops"
    parts = [
        f'<div style="{_FONT}">',
        f'<div style="margin:0 0 6px 0">{_badge(state, _BADGE_COLOURS[state])} '
        f"{_route_line(trace)} &middot; {seen_html} &middot; {len(trace.hops)} {hops}</div>",
        '<table style="border-collapse:collapse;table-layout:auto;margin:0;width:100%;'
        'font-size:12px">',
        "<thead><tr>"
        + "".join(f'<th style="{_CELL};font-weight:600">{h}</th>'
                  for h in ("#", "where", "action", "what happened", "headers"))
        + "</tr></thead>",
        "<tbody>",
    ]
    for hop in trace.hops:
        action = _e(hop.action)
        if hop.action in ("drop", "refuse"):
            action = f'<b style="color:#cf222e">{action}</b>'
        elif hop.action == "deliver":
            action = f'<b style="color:#1a7f37">{action}</b>'
        parts.append(
            "<tr>"
            f'<td style="{_CELL}">{hop.index}</td>'
            f'<td style="{_CELL};white-space:nowrap"><code>{_e(hop.location)}</code></td>'
            f'<td style="{_CELL}">{action}</td>'
            # the prose a learner reads: wide enough that it does not wrap word by word
            # beside the headers column (a trace table of 11 hops was 2,000 px tall)
            f'<td style="{_CELL};min-width:16em">{_e(hop.detail)}</td>'
            f'<td style="{_CELL}">{_headers_cell(hop)}</td>'
            "</tr>"
        )
    parts += [
        "</tbody></table>",
        f'<div style="margin-top:6px"><b>&rArr;</b> {_e(trace.reason)}</div>',
        "</div>",
    ]
    return "\n".join(parts)


def _show_html(packet: Packet, marks: list[dict[str, str]]) -> str:
    """``packet.show()`` as HTML, with changed fields (and new layers) in ``<mark>``."""
    lines = []
    for layer, mark in zip(packet.layers, marks, strict=True):
        title = _e(f"###[ {layer.name} ]###")
        whole = mark.get("+")
        lines.append(_mark(title, whole) if whole else title)
        for f in dataclasses.fields(layer):
            value = _e(getattr(layer, f.name))
            kind = whole or mark.get(f.name)
            if kind:
                value = _mark(value, kind)
            lines.append(f"  {_e(f.name):<6} = {value}")
    return "\n".join(lines)


@checked
def hop_html(trace: Trace, index: int) -> str:
    """One hop in detail, as HTML: where, the action, what happened, the headers per layer
    (as ``Packet.show()`` prints them) and what changed since the previous hop.

    Changed fields are marked and each change is tagged with its kind (``NAT``, ``TTL``,
    ``encapsulation``, ... see ``change_kind``). ``TraceStepper`` shows this panel.

    Parameters
    ----------
    trace : Trace
    index : int
        The hop's number, from 1.

    Returns
    -------
    str
        Self-contained, deterministic HTML.

    Raises
    ------
    NotFoundError
        If the trace has no hop with that number.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
    >>> t = c.trace("default/a", "default/b", port=80)
    >>> panel = hop_html(t, 4)
    >>> "hop 4 of 11" in panel, ">encapsulation</span>" in panel, ">TTL</span>" in panel
    (True, True, True)
    >>> "nothing" in hop_html(t, 2)
    True
    """
    hop = hop_at(trace, index)
    n = len(trace.hops)
    marks = _marks(hop.packet, hop.changes)
    if index == 1:
        changed = "<div>nothing: this is the packet as it is sent</div>"
    elif not hop.changes:
        changed = "<div>nothing</div>"
    else:
        items = []
        for change in hop.changes:
            kind = change_kind(change)
            tag = (f'<span style="background:{MARK_COLOURS[kind]};color:#000000;'
                   f'padding:0 5px;border-radius:4px;font-size:11px">{_e(kind)}</span>')
            items.append(f'<li style="margin:1px 0">{tag} <code style="{_MONO}">'
                         f"{_e(change)}</code></li>")
        changed = '<ul style="margin:2px 0;padding-left:18px">' + "".join(items) + "</ul>"
    since = "since the previous hop" if index == 1 else f"since hop {index - 1}"
    pre = (f'<pre style="{_MONO};margin:2px 0;padding:6px 8px;'
           f'background:rgba(127,127,127,0.08);border-radius:4px">'
           f"{_show_html(hop.packet, marks)}</pre>")
    state = ""
    if index == n:
        outcome = trace.outcome
        state = f" {_badge(outcome, _BADGE_COLOURS[outcome])}"
    parts = [
        f'<div style="{_FONT}">',
        f"<div><b>hop {hop.index} of {n}</b> &middot; <code>{_e(hop.location)}</code>"
        f" &middot; <b>{_e(hop.action)}</b>{state}</div>",
        f'<div style="margin:4px 0">{_e(hop.detail)}</div>',
        '<div style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">',
        f'<div><div style="font-weight:600">headers at this hop</div>{pre}</div>',
        f'<div style="min-width:260px"><div style="font-weight:600">what changed {since}'
        f"</div>{changed}</div>",
        "</div>",
    ]
    if index == n:
        parts.append(f'<div style="margin-top:4px"><b>&rArr;</b> {_e(trace.reason)}</div>')
    parts.append("</div>")
    return "\n".join(parts)


@checked
def network_model_html(report: NetworkModelReport) -> str:
    """The verification report as an HTML table: one row per rule with a badge, what
    was checked, and the problems (pair, hop, what happened)."""
    rows = []
    for number, rule in enumerate(report.rules, 1):
        badge = _badge("ok", "#1a7f37") if rule.ok else _badge("FAIL", "#cf222e")
        items = "".join(
            f"<li><b>{_e(p.src)} &rarr; {_e(p.dst)}</b>"
            + (f" (and {p.pairs - 1:,} more like it)" if p.pairs > 1 else "")
            + (f": hop {p.hop} at <code>{_e(p.where)}</code>" if p.hop else "")
            + f": {_e(p.detail)}</li>"
            for p in rule.problems)
        problems = f'<ul style="margin:2px 0 0 0">{items}</ul>' if items else ""
        rows.append(f'<tr><td style="{_CELL}">{badge}</td><td style="{_CELL}">{number}. '
                    f'{_e(rule.rule)}<br><small>checked: {_e(rule.checked)}</small>{problems}'
                    "</td></tr>")
    verdict = ("the cluster follows the network model" if report.ok
               else f"{len(report.problems)} problem(s): the cluster breaks the network model")
    return (f'<div style="{_FONT}"><b>Kubernetes network model</b>, cni={_e(report.cni)}: '
            f"{len(report.nodes)} nodes, {report.pods} pods"
            f'<table style="border-collapse:collapse;margin:4px 0">{"".join(rows)}</table>'
            f"<small>How it scales: {_e(report.note)}</small><br><b>Verdict:</b> {_e(verdict)}"
            "</div>")
