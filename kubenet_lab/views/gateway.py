"""Pictures of the Gateway API (lesson 06): who owns what, where a Gateway sends
requests, and how a canary's weights split them.

- :func:`draw_gateway_roles`: the role-oriented resource model, GatewayClass (the
  infrastructure provider's) <- Gateway (the cluster operator's) <- HTTPRoute -> Service
  (the application developers'), naming a cluster's own objects when one is given.
- :func:`draw_gateway`: one Gateway, left to right: its listeners (with
  ``attachedRoutes`` from its status), the routes attached to each (hostnames, each
  rule's matches, filters and weighted backendRefs), the backend Services and the pods
  behind them. A route the Gateway did not accept is greyed, with its reason; a
  backendRef that does not resolve is red, with its reason.
- :func:`draw_canary`: many requests to one URL, the share each backend Service of the
  matched rule got against the share its weight asks for (``Cluster.http_spread``).

All return a matplotlib ``Figure`` made without pyplot, and are deterministic for a
given cluster (and seed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubenet_lab.controllers.attachment import attachments, backend_checks, routes
from kubenet_lab.controllers.endpointslice import service_endpoints
from kubenet_lab.controllers.gateway_status import gateway_class_status, gateway_status
from kubenet_lab.exceptions import NotFoundError
from kubenet_lab.model.arguments import check_count, checked
from kubenet_lab.model.gateway import GRPCRouteMatch, HTTPRouteMatch
from kubenet_lab.views.pictures import (
    BAD,
    BAD_TEXT,
    MAX_WIDTH,
    MUTED,
    PALETTE,
    TEXT,
    TITLE,
    WIRE,
    draw_line,
    fit,
    make_canvas,
    show_figures_in_notebooks,
    text_width,
    wrap_lines,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from kubenet_lab.cluster import Cluster
    from kubenet_lab.model.gateway import Gateway, Listener
    from kubenet_lab.model.store import StoreView

__all__ = ["draw_canary", "draw_gateway", "draw_gateway_roles"]

#: Text sizes in points: at 100 dpi the smallest, TINY, is 9.7 px (no picture here is
#: wider than ``MAX_WIDTH``, so a notebook shows it at that size).
FONT, HEAD_FONT, TINY = 7.5, 8, 7
LINE = 0.155  # between lines of text in a box
PAD = 0.07  # inside a box
SAFE = 0.05  # text stays this far inside a box's right edge
GREY_TEXT = "#8a8a8a"


# ---------------------------------------------------------------------------- text
def _fit(text: str, size: float, width: float, bold: bool = False) -> str:
    """``fit`` inside a box: hinting at 100 dpi draws a little wider than measured."""
    return fit(text, size, width - SAFE, bold)


def _wrap(text: str, size: float, width: float, lines: int) -> list[str]:
    """``wrap_lines`` inside a box."""
    return wrap_lines(text, size, width - SAFE, lines)


def match_text(match: Any) -> str:
    """One route match in a few words: its path (left out when it is the default
    ``PathPrefix /`` beside other conditions), method, headers and query parameters,
    ANDed with ``,``.

    >>> from kubenet_lab.model.gateway import HTTPHeaderMatch, HTTPRouteMatch
    >>> match_text(HTTPRouteMatch("PathPrefix", "/api"))
    'PathPrefix /api'
    >>> match_text(HTTPRouteMatch(headers=(HTTPHeaderMatch("version", "two"),)))
    'header version=two'
    """
    if match is None:
        return "every request"
    if isinstance(match, GRPCRouteMatch):
        parts = []
        if match.method is not None:
            parts.append(f"gRPC {match.method.service or '*'}/{match.method.method or '*'}")
    else:
        assert isinstance(match, HTTPRouteMatch)
        extra = match.method or match.headers or match.query_params
        parts = ([] if extra and (match.path_type, match.path) == ("PathPrefix", "/")
                 else [f"{match.path_type} {match.path}"])
        if match.method:
            parts.append(f"method {match.method}")
    parts += [f"header {h.name}{'~' if h.type == 'RegularExpression' else '='}{h.value}"
              for h in match.headers]
    parts += [f"query {q.name}{'~' if q.type == 'RegularExpression' else '='}{q.value}"
              for q in getattr(match, "query_params", ())]
    return ", ".join(parts) or "every request"


def filter_text(f: Any) -> str:
    """One filter in a few words (``request headers set X-A=1``, ``redirect 301
    https://...``, ``rewrite path /new``...).

    >>> from kubenet_lab.model.gateway import HTTPFilter
    >>> filter_text(HTTPFilter("RequestHeaderModifier", set=(("X-A", "1"),), remove=("X-B",)))
    'request headers set X-A=1, remove X-B'
    """
    if f.type in ("RequestHeaderModifier", "ResponseHeaderModifier"):
        parts = [f"set {k}={v}" for k, v in f.set] + [f"add {k}={v}" for k, v in f.add]
        parts += [f"remove {n}" for n in f.remove]
        side = "request" if f.type.startswith("Request") else "response"
        return f"{side} headers " + ", ".join(parts)
    if f.type == "RequestRedirect":
        where = (f"{f.scheme}://" if f.scheme else "") + (f.hostname or "") + (
            f":{f.port}" if f.port else "") + (f.path.value if f.path else "")
        return f"redirect {f.status_code} {where}".rstrip()
    if f.type == "URLRewrite":
        parts = ([f"host {f.hostname}"] if f.hostname else []) + (
            [f"path {f.path.value}" + (" (prefix)" if f.path.type == "ReplacePrefixMatch"
                                        else "")] if f.path else [])
        return "rewrite " + ", ".join(parts) if parts else "URLRewrite"
    return f.type


# ---------------------------------------------------------------------------- drawing
def _rect(ax: Axes, x: float, top: float, w: float, h: float, kind: str, *,
          ls: str = "-", lw: float = 1.1, z: float = 2, round_: float = 0.06) -> None:
    """A rounded box with its top-left corner at ``(x, top)``, coloured as ``kind``
    (a ``PALETTE`` name)."""
    from matplotlib.patches import FancyBboxPatch

    face, edge = PALETTE[kind]
    ax.add_patch(FancyBboxPatch((x, top - h), w, h, boxstyle=f"round,pad=0,rounding_size="
                                f"{round_}", facecolor=face, edgecolor=edge, linewidth=lw,
                                linestyle=ls, zorder=z))


def _text(ax: Axes, x: float, y: float, text: str, *, size: float = FONT, bold: bool = False,
          color: str = TEXT, ha: str = "left", italic: bool = False, z: float = 4) -> None:
    ax.text(x, y, text, fontsize=size, fontweight="bold" if bold else "normal", color=color,
            ha=ha, va="center", style="italic" if italic else "normal", zorder=z)


def _arrow(ax: Axes, a: tuple[float, float], b: tuple[float, float], *, color: str = WIRE,
           ls: str = "-", lw: float = 1.0) -> None:
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=10, color=color,
                                 linewidth=lw, linestyle=ls, zorder=3, shrinkA=0, shrinkB=0))


#: A line of a box: (text, bold, colour, key of the point an edge leaves from, or None).
Row = tuple[str, bool, str, Any]


def _draw_rows(ax: Axes, x: float, top: float, rows: list[Row],
               size: float = FONT) -> list[float]:
    """Write ``rows`` from ``top`` down; returns the y of each row's centre in order."""
    ys = []
    for i, (text, bold, color, _) in enumerate(rows):
        y = top - PAD - LINE / 2 - i * LINE
        _text(ax, x + PAD, y, text, bold=bold, color=color, size=size)
        ys.append(y)
    return ys


def _height(rows: list[Any]) -> float:
    return 2 * PAD + LINE * len(rows)


# ---------------------------------------------------------------------------- roles
ROLE_URL = "https://gateway-api.sigs.k8s.io/concepts/roles-and-personas/"
_KINDS = (
    ("GatewayClass", "which controller implements Gateways of this class "
     "(spec.controllerName); cluster-scoped"),
    ("Gateway", "where traffic enters: listeners (protocol, port, hostname, TLS) and "
     "which namespaces' routes may attach (allowedRoutes)"),
    ("HTTPRoute", "parentRefs to Gateways, hostnames, rules: matches, filters and "
     "weighted backendRefs"),
    ("Service", "the backends the routes name: their endpoints are the pods Envoy "
     "proxies to"),
)
_PERSONAS = (("Infrastructure provider (Ian)", 0, 1, "cloud"),
             ("Cluster operator (Chihiro)", 1, 2, "network"),
             ("Application developers (Ana)", 2, 4, "pod"))
_BOX_KIND = ("cloud", "network", "overlay", "bridge")
_REFS = ("gatewayClassName", "parentRefs", "backendRefs")  # the fields the arrows stand for


def _role_objects(view: StoreView) -> list[list[tuple[str, bool]]]:
    """What each of the four boxes lists of a cluster: (line, bold) pairs."""
    classes = []
    for cls in sorted(view.objects("GatewayClass"), key=lambda c: c.name):
        ok = gateway_class_status(view, cls)["conditions"][0]
        classes.append((f"{cls.name}  (Accepted {ok['status']})", True))
        classes.append((cls.controller_name, False))
    gateways = []
    for gw in sorted(view.objects("Gateway"), key=lambda g: g.ref):
        status = gateway_status(view, gw)
        address = (status.get("addresses") or [{}])[0].get("value", "no address")
        gateways.append((gw.ref, True))
        gateways.append((f"class {gw.gateway_class_name} · {address} · "
                         f"{len(gw.listeners)} listener" + "s" * (len(gw.listeners) != 1),
                         False))
    by_ns: dict[str, list[str]] = {}
    services: dict[str, list[str]] = {}
    for rt in routes(view):
        kind = "" if type(rt).__name__ == "HTTPRoute" else f" ({type(rt).__name__})"
        by_ns.setdefault(rt.namespace, []).append(rt.name + kind)
        for b in backend_checks(view, rt):
            names = services.setdefault(b.namespace, [])
            if b.ref.name not in names:
                names.append(b.ref.name)
    route_lines = [(f"{ns}: " + ", ".join(names), False) for ns, names in sorted(by_ns.items())]
    svc_lines = [(f"{ns}: " + ", ".join(names), False)
                 for ns, names in sorted(services.items())]
    return [classes, gateways, route_lines, svc_lines]


@checked
def draw_gateway_roles(cluster: Cluster | StoreView | None = None,
                       ax: Axes | None = None) -> Figure:
    """The Gateway API's role-oriented resource model: GatewayClass <- Gateway <-
    HTTPRoute -> Service, each kind under the role that owns it.

    The Gateway API splits what Ingress kept in one object by who is responsible for
    it (gateway-api.sigs.k8s.io, "Roles and Personas",
    https://gateway-api.sigs.k8s.io/concepts/roles-and-personas/, and kubernetes.io,
    "Gateway API", design principles "Role-oriented" and "Resource model"): the
    *infrastructure provider* (Ian) runs the controller and offers a GatewayClass; the
    *cluster operator* (Chihiro) creates Gateways of that class and says which
    namespaces may attach routes; *application developers* (Ana) write HTTPRoutes in
    their own namespaces that attach to a Gateway (``parentRefs``) and send to their
    Services (``backendRefs``). Each arrow is a reference, from the object that holds
    it to the object it names.

    Parameters
    ----------
    cluster : Cluster or StoreView, optional
        With a cluster, the boxes name its objects: each GatewayClass and its
        ``controllerName``, each Gateway (class, address, listeners), the routes by
        namespace and the Services they send to.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new figure.

    Examples
    --------
    >>> c = kl.Cluster(workers=1)
    >>> _ = c.add_gateway_controller()
    >>> fig = kl.draw_gateway_roles(c)
    >>> texts = [t.get_text() for t in fig.axes[0].texts]
    >>> texts[texts.index("eg (Accepted True)") + 1:][:2]  # its controllerName, wrapped
    ['gateway.envoyproxy.io/', 'gatewayclass-controller']
    >>> [t for t in texts if t.startswith("Cluster operator")]
    ['Cluster operator (Chihiro)']
    """
    view = cluster.snapshot() if cluster is not None else None
    x0 = 0.15
    gaps = [max(0.6, text_width(label, TINY) + 0.2) for label in _REFS]
    # as wide as a notebook's column: a role with one kind gets a box as wide as its name
    # (bold), the developers' two kinds share what is left
    free = MAX_WIDTH - 2 * x0 - sum(gaps)
    widths = [text_width(name, FONT, True) + 2 * PAD + SAFE + 0.05
              for name, first, last, _ in _PERSONAS if last - first == 1]
    widths += [(free - sum(widths)) / 2] * 2
    xs = [x0]
    for gap, w in zip(gaps, widths, strict=False):
        xs.append(xs[-1] + w + gap)
    columns: list[list[Row]] = []
    objects = _role_objects(view) if view is not None else [[], [], [], []]
    for (kind, what), found, box_w in zip(_KINDS, objects, widths, strict=True):
        inner = box_w - 2 * PAD
        rows: list[Row] = [(kind, True, TEXT, None)]
        rows += [(line, False, MUTED, "italic") for line in _wrap(what, TINY, inner, 5)]
        if view is not None:
            rows.append(("in this cluster:", False, MUTED, "label"))
            lines: list[Row] = []
            for text, bold in found:
                for line in _wrap(text, FONT, inner, 3):
                    lines.append((line, bold, TEXT, None))
            if len(lines) > 10:
                more = len(lines) - 9
                lines = lines[:9] + [(f"… {more} more lines", False, MUTED, None)]
            rows += lines or [("none yet", False, MUTED, None)]
        columns.append(rows)
    box_h = max(_height(rows) for rows in columns)
    band_h, top = 0.42, -0.45
    right_edge = xs[-1] + widths[-1]
    caption = _wrap("Each arrow is a reference held by the object it starts from. A route "
                    "only attaches if the Gateway's listener allows its namespace "
                    "(allowedRoutes): the operator and the developers both consent.",
                    TINY + 0.5, right_edge - x0, 2)
    bottom = top - band_h - 0.12 - box_h - 0.2 - LINE * len(caption)
    canvas = make_canvas(ax, 0, right_edge + 0.15, bottom - 0.05, 0.05)
    ax = canvas.ax
    _text(ax, x0, -0.17, "Gateway API: one kind per role", size=TITLE, bold=True)
    for name, first, last, kind in _PERSONAS:
        left, right = xs[first], xs[last - 1] + widths[last - 1]
        _rect(ax, left, top, right - left, band_h, kind, lw=0.8, round_=0.1)
        owns = " and ".join(k for k, _ in _KINDS[first:last])
        _text(ax, (left + right) / 2, top - 0.14, name, bold=True, ha="center")
        _text(ax, (left + right) / 2, top - 0.3, f"owns {owns}", size=TINY, ha="center",
              color=MUTED)
    box_top = top - band_h - 0.12
    for x, rows, kind, box_w in zip(xs, columns, _BOX_KIND, widths, strict=True):
        _rect(ax, x, box_top, box_w, box_h, kind)
        for i, (text, bold, color, style) in enumerate(rows):
            y = box_top - PAD - LINE / 2 - i * LINE
            size = HEAD_FONT + 1 if i == 0 else TINY if style in ("italic", "label") else FONT
            _text(ax, x + PAD, y, text, bold=bold, color=color, size=size,
                  italic=style == "italic")
    y = box_top - 0.18
    for (a, b), label in zip(((1, 0), (2, 1), (2, 3)), _REFS, strict=True):
        start = xs[a] if b < a else xs[a] + widths[a]
        end = xs[b] + widths[b] if b < a else xs[b]
        _arrow(ax, (start, y), (end, y), lw=1.3)
        _text(ax, (start + end) / 2, y + 0.1, label, size=TINY, ha="center", color=TEXT)
    for i, line in enumerate(caption):
        _text(ax, x0, box_top - box_h - 0.2 - i * LINE, line, size=TINY + 0.5, color=MUTED)
    return canvas.finish()


# ---------------------------------------------------------------------------- one Gateway
#: x and width of each column, in inches: within ``MAX_WIDTH``.
_COLS = {"gateway": (0.1, 1.25), "listener": (1.55, 1.35), "route": (3.1, 2.55),
         "service": (6.05, 1.4), "pod": (7.65, 1.6)}
MAX_PODS = 4
GAP = 0.14  # between boxes in a column


def _listener_rows(view: StoreView, gw: Gateway, lst: Listener,
                   status: dict[str, Any]) -> list[Row]:
    w = _COLS["listener"][1] - 2 * PAD
    rows: list[Row] = [(_fit(lst.name, FONT, w, True), True, TEXT, None),
                       (f"{lst.protocol}:{lst.port}", False, TEXT, None),
                       (_fit(lst.hostname or "any hostname", FONT, w), False,
                        TEXT if lst.hostname else MUTED, None),
                       (f"attachedRoutes: {status.get('attachedRoutes', 0)}", False, TEXT,
                        None)]
    for cond in status.get("conditions", []):
        bad = (cond["type"] == "Conflicted") == (cond["status"] == "True")
        if bad and cond["type"] != "Programmed":
            rows.append((_fit(f"{cond['type']} {cond['status']}: {cond['reason']}", TINY, w),
                         False, BAD_TEXT, None))
    return rows


def _route_rows(view: StoreView, route: Any, accepted: bool, reason: str) -> list[Row]:
    """The lines of a route's box; a backendRef's line carries its check as its key."""
    w = _COLS["route"][1] - 2 * PAD
    grey = not accepted
    ink, soft = (GREY_TEXT, GREY_TEXT) if grey else (TEXT, MUTED)
    kind = type(route).__name__
    rows: list[Row] = [(_fit(f"{kind} {route.ref}", FONT, w, True), True, ink, None)]
    hosts = ", ".join(route.hostnames) or "any (the listener's)"
    rows += [(line, False, soft, None) for line in _wrap(f"hostnames: {hosts}", FONT, w, 2)]
    if grey:
        rows += [(line, False, BAD_TEXT, None)
                 for line in _wrap(f"not attached, Accepted False: {reason}", FONT, w, 2)]
    checks = backend_checks(view, route)
    for r, rule in enumerate(route.rules):
        label = f"rule {r}" + (f" ({rule.name})" if getattr(rule, "name", None) else "")
        matches = " or ".join(match_text(m) for m in rule.matches) if rule.matches else (
            "every request")
        rows += [(line, False, ink, None)
                 for line in _wrap(f"{label}: {matches}", FONT, w, 2)]
        if rule.filters:
            text = "filters: " + "; ".join(filter_text(f) for f in rule.filters)
            rows += [(line, False, soft, None) for line in _wrap(text, TINY + 0.5, w - 0.12, 3)]
        mine = [b for b in checks if b.rule == r]
        total = sum(b.ref.weight for b in mine)
        for b in mine:
            share = (f"weight {b.ref.weight} ({100 * b.ref.weight / total:.0f}%)"
                     if total and len(mine) > 1 else "weight 0" if not b.ref.weight
                     else "the only backend")
            name = b.ref.name if b.namespace == route.namespace else f"{b.namespace}/{b.ref.name}"
            port = f":{b.ref.port}" if b.ref.port is not None else ""
            extra = (" +" + "; ".join(filter_text(f) for f in b.ref.filters)
                     if b.ref.filters else "")
            text = f"→ {name}{port}  " + (b.reason if b.reason else share) + extra
            color = GREY_TEXT if grey else BAD_TEXT if b.reason else TEXT
            rows.append((_fit(text, FONT, w - 0.1), False, color, None if grey else b))
        if not mine:
            redirect = any(f.type == "RequestRedirect" for f in rule.filters)
            rows.append(("→ no backend: Envoy answers itself" if redirect else
                         "→ no backendRefs: Envoy answers 500", False,
                         GREY_TEXT if grey else BAD_TEXT, None))
    return rows


def _service_rows(view: StoreView, check: Any) -> tuple[list[Row], list[Any]]:
    """A backend's box lines and the pods behind it (ready endpoints of its port)."""
    w = _COLS["service"][1] - 2 * PAD
    ref = f"{check.namespace}/{check.ref.name}"
    if check.reason is not None:
        rows: list[Row] = [(_fit(check.ref.name, FONT, w, True), True, TEXT, None),
                           (_fit(f"ns {check.namespace}", TINY, w), False, MUTED, None),
                           (check.reason, True, BAD_TEXT, None)]
        msg = check.message.split(": ", 1)[-1]
        rows += [(line, False, BAD_TEXT, None) for line in _wrap(msg, TINY, w, 4)]
        return rows, []
    svc = view.service(ref)
    ports = [p for p in svc.ports if check.ref.port is None or p.port == check.ref.port]
    pods: list[Any] = []
    for sp in ports[:1]:
        for ip, port, node, target in service_endpoints(view, svc, sp):
            if target.startswith("Pod ") and target[4:] not in [p[0] for p in pods]:
                pods.append((target[4:], ip, port, node))
    rows = [(_fit(svc.name, FONT, w, True), True, TEXT, None),
            (_fit(f"ns {svc.namespace}", TINY, w), False, MUTED, None),
            (_fit(f"{svc.cluster_ip or 'no cluster IP'}"
                  + (f" :{check.ref.port}" if check.ref.port else ""), TINY, w), False, MUTED,
             None),
            (f"{len(pods)} ready endpoint" + "s" * (len(pods) != 1), False,
             TEXT if pods else BAD_TEXT, None)]
    return rows, pods


def _pick_gateway(view: StoreView, gateway: str | None) -> Gateway:
    gateways = sorted(view.objects("Gateway"), key=lambda g: g.ref)
    if gateway is None:
        if not gateways:
            raise NotFoundError("draw_gateway", "gateway", None, "there is no Gateway",
                                fix="apply a Gateway first")
        return gateways[0]
    ref = gateway if "/" in gateway else f"default/{gateway}"
    found = view.find("Gateway", ref)
    if found is None:
        raise NotFoundError("draw_gateway", "gateway", gateway, "is not a Gateway",
                            fix="Gateways are: " + (", ".join(g.ref for g in gateways)
                                                    or "none"))
    return found


@checked
def draw_gateway(cluster: Cluster | StoreView, gateway: str | None = None,
                 ax: Axes | None = None) -> Figure:
    """One Gateway and where it sends requests, left to right: the Gateway (class,
    address, ``Programmed``), its listeners (name, protocol:port, hostname and
    ``attachedRoutes`` from its status), the routes attached to each listener (name,
    hostnames, each rule's matches, filters and backendRefs with their weights), the
    backend Services and the pods behind them (their ready endpoints, the addresses
    Envoy proxies to).

    A route that names the Gateway but is not attached (``Accepted`` False) is drawn
    greyed at the bottom, with its reason (``NotAllowedByListeners``,
    ``NoMatchingListenerHostname``, ``NoMatchingParent``); its rules carry no traffic. A
    backendRef that fails ``ResolvedRefs`` (``RefNotPermitted``, ``BackendNotFound``,
    ``PortNotFound``, ``InvalidKind``) is drawn red, its line dashed, with the reason:
    its share of requests gets 500.

    Parameters
    ----------
    cluster : Cluster or StoreView
    gateway : str, optional
        ``"namespace/name"`` of the Gateway (a bare name is in ``default``); by default
        the first Gateway.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new figure (text and lines shrink with it).

    Raises
    ------
    NotFoundError
        No such Gateway.

    Examples
    --------
    >>> c = kl.Cluster(workers=1)
    >>> _ = c.add_gateway_controller(); c.add_cloud_load_balancer()
    >>> _ = c.add_pod("default/web", labels={"app": "web"})
    >>> _ = c.add_service("default/web", selector={"app": "web"}, ports=[80])
    >>> _ = c.apply({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
    ...     "metadata": {"name": "gw"}, "spec": {"gatewayClassName": "eg", "listeners": [
    ...         {"name": "http", "port": 80, "protocol": "HTTP"}]}})
    >>> _ = c.apply({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
    ...     "metadata": {"name": "web"}, "spec": {"parentRefs": [{"name": "gw"}],
    ...         "rules": [{"matches": [{"path": {"value": "/api"}}],
    ...                    "backendRefs": [{"name": "web", "port": 80}]}]}})
    >>> texts = [t.get_text() for t in kl.draw_gateway(c, "default/gw").axes[0].texts]
    >>> [t for t in texts if t.startswith(("attachedRoutes", "rule", "→"))]
    ['attachedRoutes: 1', 'rule 0: PathPrefix /api', '→ web:80  the only backend']
    """
    view = cluster.snapshot()
    gw = _pick_gateway(view, gateway)
    status = gateway_status(view, gw)
    by_name = {s["name"]: s for s in status.get("listeners", [])}

    # which routes go in which listener's band (a route once, in its first listener's)
    band: dict[str, list[tuple[Any, set[str]]]] = {lst.name: [] for lst in gw.listeners}
    detached: list[tuple[Any, str]] = []
    for rt in routes(view):
        mine = [a for a in attachments(view, rt) if a.gateway.ref == gw.ref]
        names = {lst.name for a in mine for lst, _ in a.listeners}
        if names:
            first = next(lst.name for lst in gw.listeners if lst.name in names)
            band[first].append((rt, names))
        elif mine:
            detached.append((rt, mine[0].reason))

    # layout, top to bottom
    top0 = -0.62
    gx, gw_w = _COLS["gateway"]
    lx, lw = _COLS["listener"]
    rx, rw = _COLS["route"]
    sx, sw = _COLS["service"]
    px, pw = _COLS["pod"]
    listener_boxes: dict[str, tuple[float, list[Row]]] = {}
    route_boxes: list[tuple[Any, float, list[Row], set[str], bool]] = []
    y = top0
    for lst in gw.listeners:
        rows = _listener_rows(view, gw, lst, by_name.get(lst.name, {}))
        listener_boxes[lst.name] = (y, rows)
        ry = y
        for rt, names in band[lst.name]:
            rrows = _route_rows(view, rt, True, "")
            route_boxes.append((rt, ry, rrows, names, True))
            ry -= _height(rrows) + GAP
        y = min(y - _height(rows) - GAP, ry) - 0.08
    detached_top = y - 0.12 if detached else y
    ry = detached_top - 0.22 if detached else y
    for rt, reason in detached:
        rrows = _route_rows(view, rt, False, reason)
        route_boxes.append((rt, ry, rrows, set(), False))
        ry -= _height(rrows) + GAP
    routes_bottom = ry

    # backends in the order the routes name them
    backends: dict[Any, tuple[Any, list[Row], list[Any]]] = {}
    for _, _, rows, _, ok in route_boxes:
        for *_, b in rows:
            if ok and b is not None:
                key = (b.namespace, b.ref.name, b.ref.port, b.reason)
                if key not in backends:
                    backends[key] = (b, *_service_rows(view, b))
    first_anchor: dict[Any, float] = {}
    for _, rtop, rows, _, ok in route_boxes:
        for i, (*_, b) in enumerate(rows):
            if ok and b is not None:
                key = (b.namespace, b.ref.name, b.ref.port, b.reason)
                first_anchor.setdefault(key, rtop - PAD - LINE / 2 - i * LINE)
    service_tops: dict[Any, float] = {}
    y = top0
    for key, (_, rows, pods) in backends.items():
        y = min(y, first_anchor[key] + 0.16)  # level with the first line that names it
        service_tops[key] = y
        shown = min(len(pods), MAX_PODS) + (len(pods) > MAX_PODS)
        y -= max(_height(rows), shown * 0.4 - 0.06) + GAP + 0.06
    bottom = min(routes_bottom, y, -1.9) - 0.05

    canvas = make_canvas(ax, 0, px + pw + 0.1, bottom, 0.05)
    ax = canvas.ax
    address = (status.get("addresses") or [{}])[0].get("value")
    title = f"Gateway {gw.ref}" + (f" at {address}" if address else "") + (
        ": listeners → routes → backend Services → pods")
    _text(ax, gx, -0.17, _fit(title, TITLE, px + pw - gx, True), size=TITLE, bold=True)
    for name, (x, _) in _COLS.items():
        head = {"gateway": "Gateway", "listener": "listeners", "route": "routes",
                "service": "backend Services", "pod": "pods (endpoints)"}[name]
        _text(ax, x, -0.44, head, size=TINY + 0.5, color=MUTED, italic=True)

    # the Gateway
    conds = {k["type"]: k for k in status.get("conditions", [])}
    prog = conds.get("Programmed", {})
    gwrows: list[Row] = [(_fit(gw.name, FONT, gw_w - 2 * PAD, True), True, TEXT, None),
                         (_fit(f"ns {gw.namespace}", TINY, gw_w - 2 * PAD), False, MUTED,
                          None),
                         (_fit(f"class {gw.gateway_class_name}", FONT, gw_w - 2 * PAD), False,
                          TEXT, None),
                         (address or "no address", False, TEXT if address else BAD_TEXT, None),
                         (_fit(f"Programmed {prog.get('status', '?')}", FONT, gw_w - 2 * PAD),
                          False, TEXT if prog.get("status") == "True" else BAD_TEXT, None)]
    if prog.get("status") not in (None, "True"):
        gwrows.append((_fit(prog.get("reason", ""), TINY, gw_w - 2 * PAD), False, BAD_TEXT, None))
    gh = _height(gwrows)
    _rect(ax, gx, top0, gw_w, gh, "cloud")
    _draw_rows(ax, gx, top0, gwrows)
    gmid = top0 - gh / 2

    # listeners
    lmid: dict[str, float] = {}
    for lst in gw.listeners:
        ly, rows = listener_boxes[lst.name]
        h = _height(rows)
        bad = any(color == BAD_TEXT for _, _, color, _ in rows)
        _rect(ax, lx, ly, lw, h, "crash" if bad else "network")
        _draw_rows(ax, lx, ly, rows)
        lmid[lst.name] = ly - h / 2
        draw_line(ax, [(gx + gw_w, gmid), (gx + gw_w + 0.2, gmid),
                       (lx - 0.2, lmid[lst.name]), (lx, lmid[lst.name])], lw=1.0)
    if not gw.listeners:
        _text(ax, lx, top0 - 0.2, "no listeners", color=MUTED)

    # routes and their edges: each backend Service has a lane of its own in the gap
    step = min(0.09, (sx - rx - rw - 0.2) / max(1, len(backends)))
    lanes = {key: rx + rw + 0.1 + i * step for i, key in enumerate(backends)}
    if detached:
        _text(ax, rx, detached_top - 0.06, "not attached to this Gateway:", size=TINY + 0.5,
              color=MUTED, italic=True)
    for _, top, rows, names, ok in route_boxes:
        h = _height(rows)
        _rect(ax, rx, top, rw, h, "overlay" if ok else "pause", ls="-" if ok else "--")
        ys = _draw_rows(ax, rx, top, rows)
        anchor = top - PAD - LINE / 2
        if ok:
            for name in names:
                draw_line(ax, [(lx + lw, lmid[name]), (lx + lw + 0.1, lmid[name]),
                               (rx - 0.1, anchor), (rx, anchor)], lw=1.0)
        else:
            draw_line(ax, [(gx + gw_w / 2, top0 - gh), (gx + gw_w / 2, anchor), (rx, anchor)],
                      color=GREY_TEXT, lw=1.0, ls="--")
        for (_, _, _, b), by in zip(rows, ys, strict=True):
            if b is None:
                continue
            key = (b.namespace, b.ref.name, b.ref.port, b.reason)
            stop = service_tops[key] - 0.16
            lane = lanes[key]
            draw_line(ax, [(rx + rw, by), (lane, by), (lane, stop), (sx, stop)],
                      color=BAD if b.reason else WIRE, lw=1.0 if b.ref.weight else 0.6,
                      ls="--" if b.reason or not b.ref.weight else "-")

    # backend Services and pods
    for key, (b, rows, pods) in backends.items():
        top = service_tops[key]
        _rect(ax, sx, top, sw, _height(rows), "crash" if b.reason else "bridge")
        _draw_rows(ax, sx, top, rows)
        for i, (ref, ip, port, node) in enumerate(pods[:MAX_PODS]):
            ptop = top - i * 0.4
            _rect(ax, px, ptop, pw, 0.34, "pod", lw=0.9)
            _text(ax, px + PAD, ptop - 0.1, fit(ref.split("/", 1)[1], TINY + 0.5,
                                                      pw - 2 * PAD), size=TINY + 0.5)
            _text(ax, px + PAD, ptop - 0.245, _fit(f"{ip}:{port} · {node}", TINY,
                                                   pw - 2 * PAD), size=TINY, color=MUTED)
            draw_line(ax, [(sx + sw, top - 0.16), (sx + sw + 0.1, top - 0.16),
                           (px - 0.1, ptop - 0.17), (px, ptop - 0.17)], lw=0.8)
        if len(pods) > MAX_PODS:
            _text(ax, px + PAD, top - MAX_PODS * 0.4 - 0.12,
                  f"… {len(pods) - MAX_PODS} more pods", size=TINY, color=MUTED)
    return canvas.finish()


# ---------------------------------------------------------------------------- canary
@checked
def draw_canary(cluster: Cluster, src: str, url: str, requests: int = 500,
                headers: Mapping[str, str] | None = None, *, method: str = "GET",
                ax: Axes | None = None) -> Figure:
    """Send ``requests`` HTTP requests from ``src`` to ``url`` and draw, for each
    backend Service of the HTTPRoute rule they match, the share of requests Envoy sent
    it (bars, with the count) against the share its weight asks for (dashed line): a
    canary's split, e.g. 90/10, measured. The title names the route and rule, the
    weights and the counts (``HTTPRoute default/web rule 1: 90/10 → measured 449/51``).
    The requests are counted on a fork of the kernels' state (``Cluster.http_spread``):
    drawing changes nothing. A backendRef that does not resolve is drawn red (its share
    gets 500).

    Examples
    --------
    >>> c = kl.Cluster(workers=1)
    >>> _ = c.add_gateway_controller(); c.add_cloud_load_balancer()
    >>> for v in ("v1", "v2"):
    ...     _ = c.add_pod(f"default/web-{v}", labels={"app": v})
    ...     _ = c.add_service(f"default/web-{v}", selector={"app": v}, ports=[80])
    >>> _ = c.apply({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
    ...     "metadata": {"name": "gw"}, "spec": {"gatewayClassName": "eg", "listeners": [
    ...         {"name": "http", "port": 80, "protocol": "HTTP"}]}})
    >>> _ = c.apply({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
    ...     "metadata": {"name": "web"}, "spec": {"parentRefs": [{"name": "gw"}],
    ...         "rules": [{"backendRefs": [{"name": "web-v1", "port": 80, "weight": 90},
    ...                                    {"name": "web-v2", "port": 80, "weight": 10}]}]}})
    >>> fig = kl.draw_canary(c, "internet", "http://198.51.100.10/")
    >>> fig.texts[0].get_text()
    'HTTPRoute default/web rule 0: 90/10 → measured 448/52'
    """
    from kubenet_lab.analysis.load_balancing import MAX_HTTP_REQUESTS, http_rule

    check_count("draw_canary", "requests", requests, 1, MAX_HTTP_REQUESTS)
    counts = cluster.http_spread(src, url, requests, method=method, headers=headers)
    gateway, decision = http_rule(cluster.dataplane(), src, url, method, headers)
    view = cluster.snapshot()
    weights: dict[str, int] = {}
    reasons: dict[str, str] = {}
    if decision is not None and decision.route is not None and decision.rule is not None:
        for b in backend_checks(view, decision.route):
            if b.rule == decision.rule:
                key = f"{b.namespace}/{b.ref.name}"
                weights[key] = weights.get(key, 0) + b.ref.weight
                if b.reason:
                    reasons[key] = b.reason
        head = f"{type(decision.route).__name__} {decision.route.ref} rule {decision.rule}"
        listener = decision.listener.name if decision.listener else "?"
        where = f"Gateway {gateway.ref} listener {listener}" if gateway else ""
    elif decision is not None:
        head, where = f"no route rule matches: Envoy answers {decision.status}", (
            f"Gateway {gateway.ref}" if gateway else "")
    else:
        head, where = "the request does not reach the Gateway", ""
    keys = list(weights) + [k for k in counts if k not in weights]
    total_w = sum(weights.values())
    measured = [counts.get(k, 0) for k in keys]
    if len(weights) > 1:
        head += (": " + "/".join(str(weights[k]) for k in weights) + " → measured "
                 + "/".join(str(counts.get(k, 0)) for k in weights))
    elif weights:
        head += f": one backend → measured {measured[0]}/{requests}"
    others = [k for k in keys if k not in weights and counts.get(k)]
    if others:
        head += " (" + ", ".join(f"{k}: {counts[k]}" for k in others) + ")"
    host = next((v for k, v in (headers or {}).items() if k.lower() == "host"), None)
    sub = f"{requests} × {method} {url}" + (f" (Host: {host})" if host else "") + (
        f" from {src}" + (f" via {where}" if where else ""))

    if ax is None:
        from matplotlib.figure import Figure

        show_figures_in_notebooks()
        fig = Figure(figsize=(9.0, 3.6), dpi=100)
        ax = fig.add_axes((0.08, 0.22, 0.9, 0.6))
        fig.text(0.015, 0.955, _fit(head, TITLE, 8.8, True), fontsize=TITLE,
                 fontweight="bold", color=TEXT, va="center")
        fig.text(0.015, 0.89, _fit(sub, FONT, 8.8), fontsize=FONT, color=MUTED, va="center")
        fig.text(0.015, 0.03, "bars: the requests Envoy sent each backend Service · dashed: "
                 "the share its weight asks for", fontsize=TINY, color=MUTED, va="center")
    else:
        fig = ax.figure
        ax.set_title(head + "\n" + sub, loc="left", fontsize=FONT, color=TEXT)
    colors = [PALETTE["pod"], PALETTE["bridge"], PALETTE["overlay"], PALETTE["network"],
              PALETTE["cloud"]]
    for i, k in enumerate(keys):
        face, edge = (PALETTE["crash"] if k in reasons else PALETTE["pause"]
                      if k not in weights else colors[i % len(colors)])
        share = measured[i] / requests
        ax.bar(i, share, width=0.5, color=face, edgecolor=edge, linewidth=1.2,
               hatch="//" if k in reasons else None)
        want = weights[k] / total_w if k in weights and total_w else 0.0
        ax.text(i, max(share, want) + 0.03, f"{measured[i]} ({100 * share:.1f}%)",
                ha="center", va="bottom", fontsize=FONT, color=TEXT)  # above the dashes
        if k in weights:
            ax.plot([i - 0.35, i + 0.35], [want, want], color=TEXT, linestyle="--",
                    linewidth=1.3)
            ax.text(i + 0.37, want, f"weight {weights[k]}\n({100 * want:.0f}%)", ha="left",
                    va="center", fontsize=TINY, color=TEXT)
    labels = []
    for k in keys:
        ns, _, name = k.partition("/")
        label = name if name else k
        label = _fit(label, FONT, max(1.0, 7.5 / max(1, len(keys))))
        if k in reasons:
            label += f"\n{reasons[k]} → 500"
        elif name:
            label += f"\n{_fit(ns, TINY, max(1.0, 7.5 / max(1, len(keys))))}"
        labels.append(label)
    ax.set_xticks(range(len(keys)), labels, fontsize=FONT)
    slots = max(len(keys), 4)
    ax.set_xlim(-0.5 - (slots - len(keys)) / 2, len(keys) - 0.5 + (slots - len(keys)) / 2)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("share of requests", fontsize=FONT)
    ax.tick_params(labelsize=TINY + 0.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig
