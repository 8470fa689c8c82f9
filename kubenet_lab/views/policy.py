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


#: The truth tables' colours, from Okabe and Ito's colour-blind-safe palette: allowed is a
#: light bluish green with a check mark, blocked a solid vermillion with a cross, so the
#: two differ in lightness and symbol as well as in hue.
ALLOWED_FACE, ALLOWED_INK = "#cdeee2", "#00664b"
BLOCKED_FACE, BLOCKED_INK = "#D55E00", "#ffffff"
ALLOWED_MARK, BLOCKED_MARK = "\u2713", "\u2717"  # ✓ and ✗


@checked
def reachability_html(r: Reachability, which: str = "combined") -> str:
    """The truth table as an HTML table: ✓ on green for allowed, ✗ on vermillion for
    blocked (a colour-blind-safe pair, with the symbol in every cell), and a legend in
    the caption."""
    rows = r.table(_check_which(which))
    head = "".join(f'<th style="writing-mode:vertical-rl;padding:2px">{html.escape(p)}</th>'
                   for p in r.pods)
    body = []
    for ref, row in zip(r.pods, rows, strict=True):
        cells = "".join(
            f'<td style="background:{ALLOWED_FACE if ok else BLOCKED_FACE};'
            f'color:{ALLOWED_INK if ok else BLOCKED_INK};text-align:center;'
            f'padding:2px 6px">{ALLOWED_MARK if ok else BLOCKED_MARK}</td>' for ok in row)
        body.append(f'<tr><th style="text-align:right;padding:2px">{html.escape(ref)}</th>'
                    f"{cells}</tr>")
    caption = html.escape(_header(r, which)).replace("\n", "<br>") + (
        f'<br><span style="background:{ALLOWED_FACE};color:{ALLOWED_INK};padding:0 4px">'
        f'{ALLOWED_MARK}</span> allowed &nbsp; <span style="background:{BLOCKED_FACE};'
        f'color:{BLOCKED_INK};padding:0 4px">{BLOCKED_MARK}</span> blocked')
    return ('<table style="border-collapse:collapse;font-family:monospace;font-size:12px">'
            f'<caption style="text-align:left">{caption}</caption>'
            f"<tr><th>src \\ dst</th>{head}</tr>{''.join(body)}</table>")


#: Up to this many pods the heatmap names every pod and marks every cell.
MAX_LABELLED = 40


@checked
def draw_reachability(r: Reachability, which: str = "combined", ax: Axes | None = None,
                      ) -> Figure | Axes:
    """A heatmap of the truth table: rows sources, columns destinations; an allowed cell
    light green with a check mark, a blocked one dark vermillion with a cross (a
    colour-blind-safe pair that differs in lightness and symbol too), explained by a
    legend under it with the counts. Returns the figure (or ``ax`` when given).

    The figure is sized to its labels: cells of at most a third of an inch, the whole at
    most as wide as a notebook's text column (``MAX_WIDTH``); beyond 40 pods the cells
    lose their labels and marks.

    Examples
    --------
    >>> c = kl.Cluster(workers=1)
    >>> _ = c.add_pod("default/a"); _ = c.add_pod("default/b")
    >>> fig = draw_reachability(c.reachability())
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['default/a', 'default/b']
    >>> sorted({t.get_text() for t in fig.axes[0].texts})  # every cell is marked
    ['✓']
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from kubenet_lab.views.pictures import (
        MAX_WIDTH,
        MUTED,
        SMALL,
        TEXT,
        show_figures_in_notebooks,
        text_width,
        wrap,
    )

    rows = r.table(_check_which(which))
    n = len(r.pods)
    labelled = n <= MAX_LABELLED
    yes, no = r.count(which)
    note = "" if r.enforced else " (NOT enforced: flannel)"
    title = (f"the lab's {which} truth table, {r.protocol}/{r.port}: {yes} allowed, "
             f"{no} blocked{note}")
    own = ax is None
    if own:
        from matplotlib.figure import Figure

        show_figures_in_notebooks()
        names = max((text_width(p, SMALL) for p in r.pods), default=0.5) if labelled else 0
        margin = names + 0.45  # the pods' names and the axis label ("source", "destination")
        cell = min(0.42, max(0.05, (MAX_WIDTH - margin - 0.2) / max(n, 1)))
        grid = cell * max(n, 1)
        width = max(margin + grid + 0.2, 3.6)
        lines = wrap(title, 9, width - 0.2, 3)
        bottom = 0.45 + 0.17 * lines.count("\n")  # the legend, then the title under it
        height = margin + grid + bottom + 0.15
        fig = Figure(figsize=(width, height), dpi=100)
        ax = fig.add_axes((margin / width, (bottom + 0.15) / height, grid / width,
                           grid / height))
    assert ax is not None
    # the marks as large as the cells allow, and never under 8 points (11 px at 100 dpi)
    cell_pt = ax.get_window_extent().width / max(n, 1) * 72 / ax.figure.dpi
    mark_size = max(SMALL, min(11.0, cell_pt * 0.45))
    data = [[1 if ok else 0 for ok in row] for row in rows] or [[1]]
    ax.imshow(data, cmap=ListedColormap([BLOCKED_FACE, ALLOWED_FACE]), vmin=0, vmax=1,
              interpolation="nearest", aspect="equal")
    if labelled:
        for i, row in enumerate(rows):
            for j, ok in enumerate(row):
                ax.text(j, i, ALLOWED_MARK if ok else BLOCKED_MARK, ha="center",
                        va="center_baseline", fontsize=mark_size, fontweight="bold",
                        color=ALLOWED_INK if ok else BLOCKED_INK)
        ax.set_xticks(range(n), r.pods, rotation=90, fontsize=SMALL)
        ax.set_yticks(range(n), r.pods, fontsize=SMALL)
        ax.xaxis.tick_top()
        ax.set_xticks([x - 0.5 for x in range(1, n)], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, n)], minor=True)
        ax.grid(which="minor", color="white", linewidth=1)
        ax.tick_params(which="minor", length=0)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel("destination", fontsize=SMALL + 1, color=TEXT)
    ax.xaxis.set_label_position("top")
    ax.set_ylabel("source", fontsize=SMALL + 1, color=TEXT)
    legend = [Patch(facecolor=ALLOWED_FACE, edgecolor=ALLOWED_INK,
                    label=f"{ALLOWED_MARK} allowed ({yes})"),
              Patch(facecolor=BLOCKED_FACE, edgecolor=BLOCKED_FACE,
                    label=f"{BLOCKED_MARK} blocked ({no})")]
    if own:
        fig = ax.figure
        fig.legend(handles=legend, loc="upper left", ncol=2, fontsize=SMALL, frameon=False,
                   bbox_to_anchor=(0.1 / width, (bottom + 0.02) / height),
                   borderaxespad=0, borderpad=0, handlelength=1.6)
        fig.text(0.1 / width, (bottom - 0.3) / height, lines, fontsize=9, color=MUTED,
                 va="top", ha="left", linespacing=1.25)
    else:
        ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(0, -0.02), ncol=2,
                  fontsize=SMALL, frameon=False, borderaxespad=0)
        ax.set_title(title, fontsize=9, loc="left", y=-0.2)
    return ax.figure if own else ax
