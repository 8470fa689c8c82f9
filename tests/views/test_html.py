"""Tests of kubenet_lab.views.html: a trace as an HTML table, and one hop in detail."""

from __future__ import annotations

import html
import re

import pytest

import kubenet_lab as kl
from kubenet_lab.views.html import MARK_COLOURS, change_kind, hop_html, trace_html

GREEN, RED = "#1a7f37", "#cf222e"


def _rows(page: str) -> list[str]:
    """The body rows of the hop table, in order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>.*?</tr>", body, flags=re.S)


def _badge(page: str) -> tuple[str, str]:
    """(colour, text) of the summary line's badge."""
    match = re.search(r'<span style="background:(#[0-9a-f]{6});[^"]*">(\w+)</span>', page)
    assert match is not None
    return match.group(1), match.group(2)


@pytest.mark.parametrize(
    ("dst", "port", "expected"),
    [
        ("default/b", 80, (GREEN, "delivered")),
        ("default/b", 81, (RED, "refused")),
        ("8.8.8.8", 80, (RED, "dropped")),
    ],
)
def test_trace_html_badge(cluster: kl.Cluster, dst: str, port: int,
                          expected: tuple[str, str]) -> None:
    assert _badge(trace_html(cluster.trace("default/a", dst, port=port))) == expected


def test_trace_html_summary_line(cross: kl.Trace) -> None:
    page = trace_html(cross)
    summary = page.split("<table", 1)[0]
    assert "<code>default/a</code> &rarr; <code>default/b:80/TCP</code>" in summary
    assert "source IP seen: <code>10.244.1.2</code>" in summary


def test_trace_html_summary_line_points_out_nat(cluster: kl.Cluster) -> None:
    page = trace_html(cluster.trace("default/a", "node-2", port=10250))
    assert ("source IP seen: <code>10.0.1.5</code> (sent as <code>10.244.1.2</code>: NAT)"
            in page)


def test_trace_html_has_a_row_per_hop_with_where_action_and_detail(cross: kl.Trace) -> None:
    rows = _rows(trace_html(cross))
    assert len(rows) == len(cross.hops)
    for row, hop in zip(rows, cross.hops, strict=True):
        assert f">{hop.index}</td>" in row
        assert f"<code>{hop.location}</code>" in row
        assert f">{hop.action}<" in row
        assert html.escape(hop.detail) in row


def test_trace_html_ends_with_the_reason(cross: kl.Trace) -> None:
    page = trace_html(cross)
    assert page.rstrip().endswith(f"<b>&rArr;</b> {cross.reason}</div>\n</div>")


def test_trace_html_marks_the_fields_changed_at_a_hop(cross: kl.Trace) -> None:
    rows = _rows(trace_html(cross))
    ttl = f'<mark style="background:{MARK_COLOURS["TTL"]};color:#000000">62</mark>'
    assert ttl in rows[8]  # hop 9 routes: TTL 63 -> 62
    assert "ttl=" + ttl in rows[8]
    encap = MARK_COLOURS["encapsulation"]
    assert f'<mark style="background:{encap};color:#000000">VXLAN vni=1</mark>' in rows[3]


def test_trace_html_marks_nothing_in_a_hop_without_changes(cross: kl.Trace) -> None:
    rows = _rows(trace_html(cross))
    for row, hop in zip(rows, cross.hops, strict=True):
        added_or_changed = any(c.field != "-" for c in hop.changes)
        assert ("<mark" in row) == added_or_changed, hop.index
        assert ("<del>" in row) == any(c.field == "-" for c in hop.changes), hop.index


def test_trace_html_marks_the_masqueraded_source_as_nat(cluster: kl.Cluster) -> None:
    rows = _rows(trace_html(cluster.trace("default/a", "node-2", port=10250)))
    nat = f'<mark style="background:{MARK_COLOURS["NAT"]};color:#000000">10.0.1.5</mark>'
    assert f"IP {nat} &gt; 10.0.1.6" in rows[3]


def test_trace_html_shows_removed_layers(cross: kl.Trace) -> None:
    decap = _rows(trace_html(cross))[7]
    assert "removed: <del>Ether " in decap
    assert "<del>VXLAN vni=1</del>" in decap


def _evil_trace() -> kl.Trace:
    packet = kl.Packet((kl.IPv4("10.0.0.1", "10.0.0.2"), kl.TCP(40000, 80)))
    hop = kl.Hop(1, kl.Location("pod", "ns/<img src=x>", "eth0"), "node-1", "send",
                 "a <b>bold</b> & 'quoted' detail", packet)
    return kl.Trace(
        src="ns/<img src=x>", dst='"dst"&co', port=80, protocol="TCP",
        src_ip="10.0.0.1", dst_ip="10.0.0.2", delivered=False, destination_pod=None,
        source_ip_seen=None, reason="<script>alert(1)</script>", hops=(hop,),
    )


def test_trace_html_escapes_all_text() -> None:
    page = trace_html(_evil_trace())
    for raw in ("<script>", "<img", "<b>bold", '"dst"'):
        assert raw not in page
    for escaped in ("&lt;script&gt;alert(1)&lt;/script&gt;", "ns/&lt;img src=x&gt;",
                    "a &lt;b&gt;bold&lt;/b&gt; &amp; &#x27;quoted&#x27; detail",
                    "&quot;dst&quot;&amp;co"):
        assert escaped in page


def test_trace_html_is_deterministic_and_self_contained(cluster: kl.Cluster,
                                                        cross: kl.Trace) -> None:
    page = trace_html(cross)
    assert page == trace_html(cluster.trace("default/a", "default/b", port=80))
    assert page == cross._repr_html_()
    for forbidden in (" id=", " class=", "<script", "<style", "0x"):
        assert forbidden not in page


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (kl.Change("IP", "ttl", 64, 63), "TTL"),
        (kl.Change("IP", "src", "10.244.1.2", "10.0.1.5"), "NAT"),
        (kl.Change("TCP", "sport", 40000, 50000), "NAT"),
        (kl.Change("Ether", "dst", "aa", "bb"), "MAC"),
        (kl.Change("outer IP", "+", None, "IP 10.0.1.5 > 10.0.1.6 ttl=64"), "encapsulation"),
        (kl.Change("VXLAN", "-", "VXLAN vni=1", None), "decapsulation"),
        (kl.Change("outer Ether", "+", None, "Ether a > b"), "framing"),
        (kl.Change("TCP", "flags", "S", "R."), "changed"),
    ],
)
def test_change_kind(change: kl.Change, kind: str) -> None:
    assert change_kind(change) == kind


def test_hop_html_tags_each_change_with_its_kind(cross: kl.Trace) -> None:
    panel = hop_html(cross, 4)
    assert "<b>hop 4 of 11</b>" in panel
    assert "what changed since hop 3" in panel
    for kind, text in (("TTL", "IP.ttl: 64 -&gt; 63"), ("encapsulation", "added VXLAN vni=1")):
        assert f">{kind}</span> <code " in panel
        assert text in panel


def test_hop_html_shows_every_header_field(cross: kl.Trace) -> None:
    panel = hop_html(cross, 9)
    assert "###[ Ether ]###" in panel and "###[ TCP ]###" in panel
    assert f'ttl    = <mark style="background:{MARK_COLOURS["TTL"]};' in panel


def test_hop_html_says_nothing_changed(cross: kl.Trace) -> None:
    assert "<div>nothing</div>" in hop_html(cross, 2)


def test_hop_html_of_the_last_hop_has_the_outcome_and_reason(cross: kl.Trace) -> None:
    panel = hop_html(cross, 11)
    assert ">delivered</span>" in panel and cross.reason in panel


def test_hop_html_rejects_a_hop_number_outside_the_trace(cross: kl.Trace) -> None:
    with pytest.raises(kl.NotFoundError):
        hop_html(cross, 12)


def test_a_trace_to_localhost_is_not_called_nat():
    """To 127.0.0.1 the kernel picks the source 127.0.0.1 (the loopback route's src): the
    receiver sees the address the sender used, so there is no NAT to report; a
    masqueraded connection still says which address it was sent from."""
    c = kl.Cluster(workers=1)
    c.add_pod("default/a", containers=[kl.Container("web", ports=[80])])
    page = kl.trace_html(c.trace("default/a", "localhost", port=80))
    assert "source IP seen: <code>127.0.0.1</code> &middot;" in page and ": NAT)" not in page
    svc = c.add_service("default/web-np", type="NodePort", selector={"x": "y"}, ports=[80])
    c.add_pod("default/b", labels={"x": "y"}, containers=[kl.Container("web", ports=[80])])
    # from outside the cluster to a NodePort (externalTrafficPolicy: Cluster): masqueraded
    # to the node's address on cni0
    t = c.trace("10.0.1.200", f"{c.node('node-1').ip}:{svc.ports[0].node_port}")
    assert ("source IP seen: <code>10.244.1.1</code> (sent as <code>10.0.1.200</code>: NAT)"
            in kl.trace_html(t))
