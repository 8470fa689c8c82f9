"""Display-only ipywidgets for notebooks: pick a packet's path, or step through one.

- ``TraceExplorer``: choose source, destination, port and protocol; the picture
  (``draw_trace``) and the hop table (``trace_html``) follow.
- ``TraceStepper``: Packet Tracer's simulation mode: one hop at a time, with the picture
  highlighting that hop and a panel (``hop_html``) showing its headers and what changed.

Both widgets only set the values of their child widgets: no ``Output`` widget, no
``interact`` and no ``display()`` call, so a notebook cell that builds one gets a single
output (the widget) and nbval has nothing extra to compare. Their ``repr`` (the widget's
``text/plain``, which nbval does compare, and what JupyterLab shows in its place when the
notebook is opened without running it) reads as an instruction: what the widget is, that
running the cell brings it to life, and what it shows now. Their display bundle also
carries an ``image/png`` of what the widget shows (``StaticFallback``), so a static page
or a PDF shows that picture (nbval does not compare images). Pictures
are rendered to PNG with matplotlib's Agg renderer and each figure is closed at once, so
none leaks into pyplot's list of open figures (where the inline backend would show it
again).

Every lesson that uses a widget also shows a static fallback in an ordinary cell
(``trace_text``, ``trace_html`` or a picture), which nbval compares.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kubenet_lab.api.fields import check_port, check_protocol
from kubenet_lab.exceptions import KubenetLabError, ManifestError
from kubenet_lab.model.arguments import checked
from kubenet_lab.views.html import hop_html, trace_html
from kubenet_lab.views.pictures import draw_trace
from kubenet_lab.walk.endpoints import resolve_destination, resolve_source

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from kubenet_lab.cluster import Cluster
    from kubenet_lab.model.trace import Trace

__all__ = ["TraceExplorer", "TraceStepper"]

#: Resolution of the widgets' pictures.
PNG_DPI = 100
#: The protocols the explorer offers.
PROTOCOLS = ("TCP", "UDP", "SCTP")
_WIDE = {"description_width": "initial"}


def figure_png(fig: Figure, *, dpi: int = PNG_DPI) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or matplotlib.axes.Axes
        The picture (an Axes stands for its figure).
    dpi : int, optional

    Returns
    -------
    bytes
        The PNG file (no ``Software`` metadata, so the bytes depend only on the picture).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> figure_png(Figure(figsize=(1, 1)))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        fig = fig.figure
    buf = BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:  # a figure made through pyplot is registered there
            pyplot.close(fig)
    return buf.getvalue()


def init_box(box: widgets.Box, children: list[widgets.Widget], options: dict[str, Any]) -> None:
    """``VBox.__init__`` of a lab widget, with the learner's ``options`` (``layout``, say)
    checked: an unknown name or a value traitlets refuses is a ``ManifestError``."""
    owner = type(box).__name__
    known = set(widgets.VBox.class_trait_names()) - {"children"}
    for name, value in options.items():
        if name not in known or name.startswith("_"):
            raise ManifestError(owner, name, value, "is not an option of ipywidgets.VBox",
                                fix="leave it out, or give layout=widgets.Layout(...)")
    try:
        widgets.VBox.__init__(box, children=children, **options)
    except Exception as err:
        if not type(err).__module__.startswith("traitlets"):  # ipywidgets' trait checks
            raise
        raise ManifestError(owner, ", ".join(options), err, "— ipywidgets refuses it",
                            fix="leave these options out") from None


class StaticFallback:
    """Mixin for the lab's widgets: the display bundle also holds the widget's picture.

    ipywidgets' bundle is the widget view and ``text/plain`` (the ``repr``). JupyterLab
    renders the view; until the model exists it writes the ``text/plain`` in its place,
    and "Model not found for this kernel: <text/plain>" when no kernel runs
    (jupyterlab_widgets, ``src/renderer.ts``, ipywidgets 8), so the ``repr`` reads as an
    instruction. nbconvert (HTML, PDF) skips a widget view whose state the notebook does
    not store (``nbconvert/filters/widgetsdatatypefilter.py``) and takes the next format
    of its priority list, ``image/png`` before ``text/plain``: a static page or a
    projector's PDF shows the picture the widget showed. nbval does not compare
    ``image/png`` (its ``skip_compare``), so the bundle stays deterministic for it. The
    class using the mixin keeps its picture in ``self._image`` (an ``ipywidgets.Image``);
    its ``repr`` is short, and the bundle gives it whole (``Widget._repr_mimebundle_``
    cuts ``text/plain`` at 110 characters, which would drop the end of a sentence).
    """

    _image: widgets.Image

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        if bundle is None:  # the widget was closed
            return None
        bundle["text/plain"] = repr(self)  # whole: ipywidgets cuts it at 110 characters
        if self._image.value:
            bundle["image/png"] = base64.b64encode(self._image.value).decode("ascii")
        return bundle


def _trace_png(cluster: Cluster, trace: Trace, step: int | None = None) -> bytes:
    return figure_png(draw_trace(cluster, trace, step=step))


def _show_png(image: widgets.Image, png: bytes) -> None:
    """Show ``png`` at its own size (a stretched flex child would blow it up), never wider
    than the notebook."""
    image.value = png
    image.width = str(int.from_bytes(png[16:20], "big"))  # IHDR width, pixels


def _source_options(cluster: Cluster) -> list[str]:
    """Every pod (and each container of a multi-container pod), then every node."""
    options: list[str] = []
    for pod in cluster.pods:
        options.append(pod.ref)
        if len(pod.containers) > 1:
            options += [f"{pod.ref}/{c.name}" for c in pod.containers]
    options += [node.name for node in cluster.nodes]
    return options


def _destination_options(cluster: Cluster) -> list[str]:
    """Every pod, every node, and ``localhost``."""
    return [p.ref for p in cluster.pods] + [n.name for n in cluster.nodes] + ["localhost"]


def _default_source(cluster: Cluster) -> str:
    for pod in cluster.pods:
        if pod.namespace != "kube-system":
            return pod.ref
    return (cluster.pods[0].ref if cluster.pods else cluster.nodes[0].name)


def _default_destination(cluster: Cluster, src: str) -> str:
    own = "/".join(src.split("/")[:2])
    pods = [p.ref for p in cluster.pods if p.ref != own]
    user = [p for p in pods if not p.startswith("kube-system/")]
    others = [n.name for n in cluster.nodes if n.name != src]
    return (user + pods + others + ["localhost"])[0]


def _error_html(err: Exception) -> str:
    import html

    return ('<div style="color:#cf222e;font-family:sans-serif;font-size:13px">'
            f"{html.escape(str(err))}</div>")


class TraceExplorer(StaticFallback, widgets.VBox):
    """Pick a source, destination, port and protocol; see the packet's path.

    Dropdowns list the sources (every pod, each container of a multi-container pod as
    ``ns/pod/container``, and the nodes) and the destinations (pods, nodes and
    ``localhost``); a box takes the port (1-65535) and a dropdown the protocol. Below
    them, the picture of the trace (``draw_trace``) and its hop table (``trace_html``).
    Changing any control traces again and updates both.

    Parameters
    ----------
    cluster : Cluster
    src, dst : str, optional
        The first source and destination. By default the first pod outside
        ``kube-system`` and another pod (or a node). A value that is not in the lists
        (an IP, say) is added to them.
    port : int, optional
    protocol : {"TCP", "UDP", "SCTP"}, optional
    **kwargs
        Passed on to ``ipywidgets.VBox`` (``layout``, for instance).

    Attributes
    ----------
    cluster : Cluster
    trace : Trace or None
        The current trace (None if the last choice could not be traced; the HTML then
        shows why).

    Raises
    ------
    NotFoundError, ManifestError
        An unknown pod or node, a port outside 1-65535, an unknown protocol.

    See Also
    --------
    TraceStepper : one hop at a time.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
    >>> explorer = TraceExplorer(c)
    >>> explorer
    Trace explorer: run this cell to use it (default/a -> default/b:80/TCP delivered)
    >>> explorer.select(port=81)
    >>> explorer.trace.reason
    'Connection refused: nothing in pod default/b listens on TCP port 81.'
    """

    @checked
    def __init__(
        self,
        cluster: Cluster,
        src: str | None = None,
        dst: str | None = None,
        port: int = 80,
        protocol: str = "TCP",
        **kwargs: Any,
    ) -> None:
        self.cluster = cluster
        self._trace: Trace | None = None
        self._holding = 0
        src = _default_source(cluster) if src is None else src
        dst = _default_destination(cluster, src) if dst is None else dst
        self._check(src=src, dst=dst, port=port, protocol=protocol)  # before any widget
        self._src = widgets.Dropdown(options=_source_options(cluster), description="source",
                                     style=_WIDE)
        self._dst = widgets.Dropdown(options=_destination_options(cluster),
                                     description="destination", style=_WIDE)
        self._port = widgets.BoundedIntText(value=80, min=1, max=65535, description="port",
                                            style=_WIDE, layout=widgets.Layout(width="140px"))
        self._protocol = widgets.Dropdown(options=PROTOCOLS, value="TCP",
                                          description="protocol", style=_WIDE,
                                          layout=widgets.Layout(width="160px"))
        self._image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self._html = widgets.HTML()
        controls = widgets.HBox([self._src, self._dst, self._port, self._protocol],
                                layout=widgets.Layout(flex_flow="row wrap"))
        init_box(self, [controls, self._image, self._html], kwargs)
        self._set(src=src, dst=dst, port=port, protocol=protocol)
        for control in (self._src, self._dst, self._port, self._protocol):
            control.observe(self._on_change, names="value")
        self._refresh()

    # ------------------------------------------------------------------ public
    @property
    def trace(self) -> Trace | None:
        """The trace the widget shows now."""
        return self._trace

    def select(
        self,
        src: str | None = None,
        dst: str | None = None,
        port: int | None = None,
        protocol: str | None = None,
    ) -> None:
        """Set some of the controls, as a user would, and trace once.

        Parameters
        ----------
        src, dst : str, optional
            A source / destination; one not in the dropdown yet is added to it.
        port : int, optional
        protocol : {"TCP", "UDP", "SCTP"}, optional

        Raises
        ------
        NotFoundError, ManifestError
            An unknown pod or node, a port outside 1-65535, an unknown protocol. The
            controls are left as they were.
        """
        with self._hold():
            self._set(src=src, dst=dst, port=port, protocol=protocol)
        self._refresh()

    def __repr__(self) -> str:
        if self._trace is None:
            shown = f"{self._src.value} -> {self._dst.value} not traced"
        else:
            shown = f"{self._trace.src} -> {self._trace.target} {self._trace.outcome}"
        return f"Trace explorer: run this cell to use it ({shown})"

    # ------------------------------------------------------------------ internals
    @contextmanager
    def _hold(self) -> Iterator[None]:
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1

    def _check(self, *, src: str | None, dst: str | None, port: int | None,
               protocol: str | None) -> None:
        """Raise the package's error for a value the trace would refuse."""
        view = self.cluster.snapshot()
        if src is not None:
            resolve_source(view, src)
        if dst is not None:
            resolve_destination(view, dst, 80)
        if port is not None:
            check_port("TraceExplorer", "port", port)
        if protocol is not None:
            check_protocol("TraceExplorer", "protocol", protocol)

    def _set(self, *, src: str | None, dst: str | None, port: int | None,
             protocol: str | None) -> None:
        """Check every value first, then set the controls (all or nothing)."""
        self._check(src=src, dst=dst, port=port, protocol=protocol)
        with self._hold():
            for control, value in ((self._src, src), (self._dst, dst)):
                if value is None:
                    continue
                if value not in control.options:
                    control.options = (*control.options, value)
                control.value = value
            if port is not None:
                self._port.value = port
            if protocol is not None:
                self._protocol.value = protocol

    def _on_change(self, change: dict[str, Any]) -> None:
        if not self._holding:
            self._refresh()

    def _refresh(self) -> None:
        try:
            trace = self.cluster.trace(self._src.value, self._dst.value,
                                       port=self._port.value, protocol=self._protocol.value)
        except KubenetLabError as err:
            self._trace = None
            self._image.value = b""
            self._html.value = _error_html(err)
            return
        self._trace = trace
        _show_png(self._image, _trace_png(self.cluster, trace))
        self._html.value = trace_html(trace)


class TraceStepper(StaticFallback, widgets.VBox):
    """Step through a trace hop by hop, like Packet Tracer's simulation mode.

    "◀ Back" and "Next ▶" buttons and a slider choose the hop; a label says "hop i of
    n". The picture (``draw_trace(cluster, trace, step=i)``) highlights that hop, and a
    panel (``hop_html``) shows where it is, what happened, the headers there and what
    changed since the previous hop (NAT, TTL, encapsulation marked). The buttons are
    disabled at the ends.

    Parameters
    ----------
    cluster : Cluster
        The cluster the trace was made in. The picture draws it as it was when the
        packet walked (``trace.snapshot``), so later changes to the cluster do not
        show up in it.
    trace : Trace
    **kwargs
        Passed on to ``ipywidgets.VBox``.

    Attributes
    ----------
    cluster : Cluster
    trace : Trace
        The trace shown (read-only).

    See Also
    --------
    TraceExplorer : choose what to trace.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
    >>> stepper = TraceStepper(c, c.trace("default/a", "default/b"))
    >>> stepper
    Trace stepper: run this cell to step through it (default/a -> default/b:80/TCP, hop 1 of 11:
    send at pod default/a eth0)
    >>> stepper.go(4); stepper.step
    4
    >>> stepper.next(); stepper
    Trace stepper: run this cell to step through it (default/a -> default/b:80/TCP, hop 5 of 11:
    transmit at node node-1 eth0)
    """

    @checked
    def __init__(self, cluster: Cluster, trace: Trace, **kwargs: Any) -> None:
        self.cluster = cluster
        self._trace = trace
        n = len(trace.hops)
        self._back = widgets.Button(description="◀ Back", layout=widgets.Layout(width="90px"))
        self._next = widgets.Button(description="Next ▶", layout=widgets.Layout(width="90px"))
        self._slider = widgets.IntSlider(value=1, min=1, max=max(n, 1), description="hop",
                                         continuous_update=False, readout=False)
        self._label = widgets.Label()
        self._image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self._html = widgets.HTML()
        controls = widgets.HBox([self._back, self._next, self._slider, self._label])
        init_box(self, [controls, self._image, self._html], kwargs)
        self._back.on_click(lambda _button: self.back())
        self._next.on_click(lambda _button: self.next())
        self._slider.observe(self._on_change, names="value")
        self._show()

    @property
    def trace(self) -> Trace:
        """The trace being stepped through."""
        return self._trace

    @property
    def step(self) -> int:
        """The hop shown now, from 1."""
        return int(self._slider.value)

    @step.setter
    def step(self, value: int) -> None:
        self.go(value)

    def go(self, step: int) -> None:
        """Show hop ``step`` (clamped to 1..number of hops)."""
        self._slider.value = min(max(int(step), 1), len(self.trace.hops))

    def next(self) -> None:
        """Show the next hop (stays on the last one)."""
        self.go(self.step + 1)

    def back(self) -> None:
        """Show the previous hop (stays on the first one)."""
        self.go(self.step - 1)

    def __repr__(self) -> str:
        t = self.trace
        hop = t.hops[self.step - 1]
        return (f"Trace stepper: run this cell to step through it ({t.src} -> {t.target}, "
                f"hop {self.step} of {len(t.hops)}: {hop.action} at {hop.location})")

    def _on_change(self, change: dict[str, Any]) -> None:
        self._show()

    def _show(self) -> None:
        i, n = self.step, len(self.trace.hops)
        self._label.value = f"hop {i} of {n}"
        self._back.disabled = i <= 1
        self._next.disabled = i >= n
        _show_png(self._image, _trace_png(self.cluster, self.trace, step=i))
        self._html.value = hop_html(self.trace, i)
