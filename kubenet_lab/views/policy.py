"""Views of network policy: the truth table as text, HTML and a heatmap; policies as text.

The text table copies the layout of the upstream e2e tests' truth tables
(kubernetes test/e2e/network/netpol/truthtable.go ``PrettyPrint``), which Cyclonus and
policy-assistant print too: a header row of destinations, one row per source, ``.`` for
allowed and ``X`` for blocked.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from kubenet_lab.model.arguments import checked

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from kubenet_lab.model.networkpolicy import Reachability

__all__ = ["draw_reachability", "reachability_html", "reachability_text"]

_WHICH = ("combined", "egress", "ingress")


def _check_which(which: str) -> str:
    if which not in _WHICH:
        from kubenet_lab.exceptions import ManifestError

        raise ManifestError("reachability", "which", which, "is not a table",
                            fix="use 'combined', 'egress' or 'ingress'")
    return which


def _header(r: Reachability, which: str) -> str:
    yes, no = r.count(which)
    # the lab's own view (e2e/Cyclonus layout): no kubectl command prints this table
    head = (f"the lab's {which} truth table (not kubectl output), {r.protocol}/{r.port}: "
            f"{yes} allowed, {no} blocked")
    if not r.enforced:
        head += ("\nnot enforced: flannel does not implement NetworkPolicy; "
                 f"{r.policies} polic{'y' if r.policies == 1 else 'ies'} accepted "
                 "by the API, with no effect")
    return head


@checked
def reachability_text(r: Reachability, which: str = "combined") -> str:
    """The truth table in the e2e tests' layout (rows: sources, columns: destinations).

    Examples
    --------
    >>> c = kl.Cluster(workers=1, network_policy="kube-network-policies")
    >>> _ = c.add_namespace("x"); _ = c.add_pod("x/a")
    >>> _ = c.add_pod("x/b", labels={"app": "b"})
    >>> _ = c.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    ...     "metadata": {"name": "deny", "namespace": "x"},
    ...     "spec": {"podSelector": {"matchLabels": {"app": "b"}}}})
    >>> print(reachability_text(c.reachability()))
    the lab's combined truth table (not kubectl output), TCP/80: 3 allowed, 1 blocked
    -   x/a x/b
    x/a .   X
    x/b .   .
    """
    rows = r.table(_check_which(which))
    width = max([1, *(len(p) for p in r.pods)])
    lines = [_header(r, which), " ".join(["-".ljust(width), *(p.ljust(width) for p in r.pods)])
             .rstrip()]
    for ref, row in zip(r.pods, rows, strict=True):
        cells = [("." if ok else "X").ljust(width) for ok in row]
        lines.append(" ".join([ref.ljust(width), *cells]).rstrip())
    return "\n".join(lines)


@checked
def reachability_html(r: Reachability, which: str = "combined") -> str:
    """The truth table as an HTML table (green allowed, red blocked)."""
    rows = r.table(_check_which(which))
    head = "".join(f'<th style="writing-mode:vertical-rl;padding:2px">{html.escape(p)}</th>'
                   for p in r.pods)
    body = []
    for ref, row in zip(r.pods, rows, strict=True):
        cells = "".join(
            f'<td style="background:{"#d1f7d6" if ok else "#ffd7d5"};text-align:center;'
            f'padding:2px 6px">{"." if ok else "X"}</td>' for ok in row)
        body.append(f'<tr><th style="text-align:right;padding:2px">{html.escape(ref)}</th>'
                    f"{cells}</tr>")
    caption = html.escape(_header(r, which)).replace("\n", "<br>")
    return ('<table style="border-collapse:collapse;font-family:monospace;font-size:12px">'
            f'<caption style="text-align:left">{caption}</caption>'
            f"<tr><th>src \\ dst</th>{head}</tr>{''.join(body)}</table>")


@checked
def draw_reachability(r: Reachability, which: str = "combined", ax: Axes | None = None,
                      ) -> Figure | Axes:
    """A heatmap of the truth table: rows sources, columns destinations, green allowed,
    red blocked. Returns the figure (or ``ax`` when given).

    Examples
    --------
    >>> c = kl.Cluster(workers=1)
    >>> _ = c.add_pod("default/a"); _ = c.add_pod("default/b")
    >>> draw_reachability(c.reachability())
    <Figure size 400x400 with 1 Axes>
    """
    from matplotlib.colors import ListedColormap

    rows = r.table(_check_which(which))
    n = len(r.pods)
    own = ax is None
    if own:
        from matplotlib.figure import Figure

        from kubenet_lab.views.pictures import show_figures_in_notebooks

        show_figures_in_notebooks()
        side = min(12.0, max(4.0, 1.2 + 0.32 * n))
        fig = Figure(figsize=(side, side), dpi=100)
        ax = fig.add_axes((0.3, 0.1, 0.62, 0.6))
    assert ax is not None
    data = [[1 if ok else 0 for ok in row] for row in rows] or [[1]]
    ax.imshow(data, cmap=ListedColormap(["#e5534b", "#57ab5a"]), vmin=0, vmax=1,
              interpolation="nearest", aspect="equal")
    if n <= 40:
        ax.set_xticks(range(n), r.pods, rotation=90, fontsize=8)
        ax.set_yticks(range(n), r.pods, fontsize=8)
        ax.xaxis.tick_top()
        ax.set_xticks([x - 0.5 for x in range(1, n)], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, n)], minor=True)
        ax.grid(which="minor", color="white", linewidth=1)
        ax.tick_params(which="minor", length=0)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel("destination")
    ax.xaxis.set_label_position("top")
    ax.set_ylabel("source")
    yes, no = r.count(which)
    note = "" if r.enforced else " (NOT enforced: flannel)"
    title = (f"the lab's {which} truth table, {r.protocol}/{r.port}: {yes} allowed, "
             f"{no} blocked{note}")
    if own:
        ax.figure.text(0.03, 0.03, title, fontsize=9)
    else:
        ax.set_title(title, fontsize=9, loc="left", y=-0.1)
    return ax.figure if own else ax
