"""The capstone's shop (lesson 09) as text and as a picture.

- :func:`shop_report_text`: the checks of a ``ShopReport`` (``kl.check_shop``) as a table.
- :func:`draw_shop`: the shop's architecture, left to right as a request travels it
  (internet, the Gateway's load balancer and Envoy, the web tier, the API tier, the
  database), with CoreDNS, the NAT gateway and the payment provider under them, and
  each flow the report checks drawn as a numbered arrow: green when it works, red and
  dashed when it does not. The legend lists each check with its mark.

The picture is made without pyplot at 100 dpi, at most 10 inches (1,000 pixels) wide,
its smallest text 6.5 points (9 pixels).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from kubenet_lab.views.pictures import (
    BAD,
    GOOD,
    MUTED,
    PALETTE,
    TEXT,
    TITLE,
    draw_line,
    make_canvas,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["draw_shop", "shop_report_text"]

WIDTH = 100  # characters of the text table
FONT, HEAD, SMALL = 7.5, 8, 6.5
Point = tuple[float, float]


def shop_report_text(report: Any) -> str:
    """The checks of a ``ShopReport`` as a table, ``[ok]`` or ``[FAIL]`` first (as the
    network model's report marks its rules), the detail wrapped in its column."""
    left = 7 + 30 + 7 + 10
    lines = [f"{'':7}{'CHECK':<30}{'LESSON':<7}{'FIX':<10}WHAT THE CHECK SAW"]
    for c in report.checks:
        mark = "[ok]" if c.ok else "[FAIL]"
        detail = textwrap.wrap(c.detail, WIDTH - left, break_on_hyphens=False) or [""]
        lines.append(f"{mark:<7}{c.flow:<30}{c.lesson:<7}{c.exercise:<10}{detail[0]}")
        lines += [" " * left + more for more in detail[1:]]
    passed = sum(c.ok for c in report.checks)
    lines.append(f"{passed} of {len(report.checks)} checks pass.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- geometry
#: The boxes: key -> (x, y, w, h, palette kind); inches, origin at the bottom left.
BOXES: dict[str, tuple[float, float, float, float, str]] = {
    "shopper": (0.05, 3.95, 1.45, 0.7, "cloud"),
    "gateway": (1.9, 3.75, 1.65, 1.1, "network"),
    "web": (4.05, 3.75, 1.45, 1.1, "pod"),
    "api": (6.0, 3.6, 1.7, 1.25, "pod"),
    "db": (8.2, 3.75, 1.5, 1.1, "pod"),
    "partner": (0.05, 0.85, 1.45, 0.7, "cloud"),
    "dns": (4.05, 1.95, 1.45, 0.8, "node"),
    "nat": (8.2, 1.95, 1.5, 0.8, "cloud"),
    "provider": (8.2, 0.55, 1.5, 0.8, "cloud"),
}

#: The flows: check key -> (number, the polyline, the point the number is drawn at).
FLOWS: dict[str, tuple[int, list[Point], Point]] = {
    "gateway-web": (1, [(3.55, 4.45), (4.05, 4.45)], (3.8, 4.45)),
    "gateway-api": (2, [(2.95, 4.85), (2.95, 5.15), (6.85, 5.15), (6.85, 4.85)],
                    (4.8, 5.15)),
    "web-dns": (3, [(4.55, 3.75), (4.55, 2.75)], (4.55, 3.25)),
    "web-api": (4, [(5.5, 4.3), (6.0, 4.3)], (5.75, 4.3)),
    "api-dns": (5, [(6.3, 3.6), (6.3, 2.35), (5.5, 2.35)], (6.3, 2.95)),
    "api-db": (6, [(7.7, 4.3), (8.2, 4.3)], (7.95, 4.3)),
    "api-egress": (7, [(7.4, 3.6), (7.4, 2.35), (8.2, 2.35)], (7.4, 2.95)),
    "partner": (8, [(1.5, 1.2), (6.85, 1.2), (6.85, 3.6)], (3.4, 1.2)),
}


def _lines(report: Any) -> dict[str, list[str]]:
    """The text of each box, from the report's addresses."""
    return {
        "shopper": ["shoppers", "internet, 203.0.113.50"],
        "gateway": ["Gateway infra/shop", f"LB {report.gateway_ip or 'none'}",
                    "Envoy pods in", "envoy-gateway-system"],
        "web": ["namespace web", "Service web :80", "2 nginx pods",
                "egress: API and DNS only"],
        "api": ["namespace api", "Service api :80", f"LB api-public {report.public_api_ip}",
                "2 echo-basic pods :3000"],
        "db": ["namespace db", "Service db :5432", "1 postgres pod",
               "ingress: the API only"],
        "partner": ["partners' servers", "internet, 203.0.113.77"],
        "dns": ["CoreDNS", "kube-system, 10.96.0.10"],
        "nat": ["NAT gateway", f"Elastic IP {report.nat_ip}" if report.nat_ip
                else "none in the VPC"],
        "provider": ["payment provider", "93.184.216.34:443"],
    }


def _box(ax: Axes, key: str, lines: list[str]) -> None:
    from matplotlib.patches import FancyBboxPatch

    x, y, w, h, kind = BOXES[key]
    face, edge = PALETTE[kind]
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.06",
                                facecolor=face, edgecolor=edge, linewidth=1.2, zorder=2))
    top = y + h / 2 + (len(lines) - 1) * 0.085
    for i, line in enumerate(lines):
        ax.text(x + 0.08, top - i * 0.17, line, fontsize=HEAD if i == 0 else FONT,
                fontweight="bold" if i == 0 else "normal", va="center", ha="left",
                color=TEXT, zorder=4)


def _color(ok: bool | None) -> str:
    """Green for a flow that works, red for one that fails, grey for one not checked."""
    return MUTED if ok is None else GOOD if ok else BAD


def _flow(ax: Axes, number: int, pts: list[Point], label: Point, ok: bool | None) -> None:
    color = _color(ok)
    style = "-" if ok or ok is None else (0, (4, 2.5))
    if len(pts) > 2:
        draw_line(ax, pts[:-1], color=color, lw=1.6, ls=style, z=1.5)
    ax.annotate("", xy=pts[-1], xytext=pts[-2], zorder=1.6,
                arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.6,
                            "linestyle": style, "shrinkA": 0, "shrinkB": 0,
                            "mutation_scale": 10})
    ax.text(*label, str(number), fontsize=FONT, fontweight="bold", ha="center", va="center",
            color="white", zorder=5,
            bbox={"boxstyle": "circle,pad=0.22", "facecolor": color, "edgecolor": "none"})


def draw_shop(report: Any, ax: Axes | None = None) -> Figure:
    """Draw the capstone's shop with each flow of ``report`` (a ``ShopReport``) green or
    red; see the module docstring.

    >>> import kubenet_lab as kl
    >>> fig = kl.check_shop(kl.capstone_cluster(fixed=True)).draw()
    >>> fig.axes[0].get_title(loc="left")
    'The shop: all 10 checks pass'
    """
    canvas = make_canvas(ax, 0, 9.8, 0.35, 5.45, top=0.3)
    ax = canvas.ax
    for key, lines in _lines(report).items():
        _box(ax, key, lines)
    # the load balancer's leg, shared by flows 1 and 2; NAT gateway -> provider, with 7
    ok = {c.key: c.ok for c in report.checks}
    front = [ok[k] for k in ("gateway-web", "gateway-api") if k in ok]
    _flow_leg(ax, [(1.5, 4.3), (1.9, 4.3)], any(front) if front else None)
    _flow_leg(ax, [(8.95, 1.95), (8.95, 1.35)], ok.get("api-egress"))
    for key, (number, pts, label) in FLOWS.items():
        _flow(ax, number, pts, label, ok.get(key))
    _legend(ax, report)
    passed = sum(c.ok for c in report.checks)
    title = (f"The shop: all {passed} checks pass" if passed == len(report.checks)
             else f"The shop: {passed} of {len(report.checks)} checks pass")
    ax.set_title(title, fontsize=TITLE, fontweight="bold", loc="left", color=TEXT)
    return canvas.finish()


def _flow_leg(ax: Axes, pts: list[Point], ok: bool | None) -> None:
    ax.annotate("", xy=pts[-1], xytext=pts[0], zorder=1.6,
                arrowprops={"arrowstyle": "-|>", "color": _color(ok), "lw": 1.6,
                            "linestyle": "-" if ok or ok is None else (0, (4, 2.5)),
                            "shrinkA": 0,
                            "shrinkB": 0, "mutation_scale": 10})


def _legend(ax: Axes, report: Any) -> None:
    """The checks, one line each, in the free corner left of CoreDNS."""
    numbers = {key: number for key, (number, _, _) in FLOWS.items()}
    extra = 9
    y = 3.45
    for c in report.checks:
        number = numbers.get(c.key)
        if number is None:
            number, extra = extra, extra + 1
        mark = "\u2713" if c.ok else "\u2717"
        flow = c.flow.replace(" -> ", " \u2192 ")
        ax.text(0.1, y, f"{number:>2} {mark} {flow}", fontsize=SMALL + 0.5, ha="left",
                va="center", color=GOOD if c.ok else BAD, zorder=4,
                fontweight="normal" if c.ok else "bold")
        y -= 0.165
