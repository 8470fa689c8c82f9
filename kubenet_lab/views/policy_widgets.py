"""The policy playground: edit a policy (YAML), see the truth table and its heatmap change.

Display-only, like the trace widgets (``kubenet_lab.views.widgets``): it only sets the
values of its child widgets (no ``Output``, no ``display()``), so nbval sees one output,
whose ``text/plain`` is a short line that reads as an instruction, and whose bundle also
carries the heatmap as ``image/png`` (``StaticFallback``) for a page without a kernel.
Lessons show a static fallback beside it (``Reachability`` text or ``draw_reachability``).

The playground works on its own copy of the cluster: each edit applies the YAML on top of
the policies the cluster already has, computes the table, and puts the copy back as it was,
so the lesson's cluster never changes. Give it a cluster without policies to see one policy
alone.
"""

from __future__ import annotations

import copy
import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from kubenet_lab.exceptions import KubenetLabError
from kubenet_lab.model.arguments import checked
from kubenet_lab.views.policy import draw_reachability, reachability_html
from kubenet_lab.views.widgets import StaticFallback, figure_png, init_box

if TYPE_CHECKING:
    from kubenet_lab.cluster import Cluster
    from kubenet_lab.model.networkpolicy import Reachability

__all__ = ["PolicyPlayground"]

_WIDE = {"description_width": "initial"}
#: What the status line says above a picture left from an earlier policy.
_STALE = ("Not updated: this YAML does not apply, so the heatmap and table below are still "
          "those of the last valid policy")
_STALE_STYLE = ("font-family:sans-serif;font-weight:bold;color:#1f2328;background:#fff8c5;"
                "border:1px solid #d4a72c;padding:2px 6px")


class PolicyPlayground(StaticFallback, widgets.VBox):
    """Pick or edit policies (YAML) and see the truth table and heatmap follow.

    Parameters
    ----------
    cluster : Cluster
        The cluster to try policies on (it is copied; the original never changes).
        Use one that enforces policies (``network_policy="kube-network-policies"``),
        or the table shows that nothing is enforced.
    presets : dict of str to str, optional
        Named YAML texts for the dropdown. The first one is shown at the start.
    port : int
    protocol : {"TCP", "UDP", "SCTP"}
    namespaces : list of str, optional
        The namespaces whose pods the table shows (by default all but kube-system).

    Attributes
    ----------
    reachability : Reachability or None
        The current table (None when the YAML could not be applied; the status line
        says why).
    stale : bool
        True while the picture and table shown are of an earlier policy because the text
        in the box does not apply: they stay (so the learner keeps the last result in
        view) and the status line says so above them, on a yellow band, before the
        error.

    Examples
    --------
    >>> c = kl.Cluster(workers=1, network_policy="kube-network-policies")
    >>> _ = c.add_pod("default/a"); _ = c.add_pod("default/b", labels={"app": "b"})
    >>> deny = '''
    ... apiVersion: networking.k8s.io/v1
    ... kind: NetworkPolicy
    ... metadata: {name: deny-b}
    ... spec: {podSelector: {matchLabels: {app: b}}}
    ... '''
    >>> pg = PolicyPlayground(c, presets={"deny b": deny, "nothing": ""})
    >>> pg
    Policy playground: run this cell to edit the policy (2 pods, TCP/80: 3 allowed, 1 blocked)
    >>> pg.edit("kind: Pod")
    >>> pg.reachability is None, "apiVersion" in pg.status, pg.stale
    (True, True, True)
    >>> pg.select("nothing")
    >>> pg
    Policy playground: run this cell to edit the policy (2 pods, TCP/80: 4 allowed, 0 blocked)
    """

    @checked
    def __init__(self, cluster: Cluster, presets: dict[str, str] | None = None,
                 port: int = 80, protocol: str = "TCP",
                 namespaces: list[str] | None = None, **kwargs: Any) -> None:
        self._cluster = copy.deepcopy(cluster)
        self._presets = dict(presets or {"(empty)": ""})
        self._port, self._protocol = port, protocol
        self._namespaces = namespaces
        self.reachability: Reachability | None = None
        self.status = ""
        self.stale = False
        self._shown = ""  # the status of the policy the picture shows
        first = next(iter(self._presets))
        self._choice = widgets.Dropdown(options=list(self._presets), value=first,
                                        description="policy", style=_WIDE)
        self._yaml = widgets.Textarea(value=self._presets[first], rows=14,
                                      layout=widgets.Layout(width="100%"))
        self._status = widgets.HTML()
        self._image = widgets.Image(format="png")
        self._table = widgets.HTML()
        self._choice.observe(lambda change: self.select(change["new"]), names="value")
        self._yaml.observe(lambda change: self._update(change["new"]), names="value")
        init_box(self, [self._choice, self._yaml, self._status,
                        widgets.HBox([self._image, self._table])], kwargs)
        self._update(self._yaml.value)

    def select(self, name: str) -> None:
        """Show the preset ``name`` (as picking it in the dropdown does)."""
        if self._choice.value != name:
            self._choice.value = name  # the observer calls select again
            return
        if self._yaml.value == self._presets[name]:
            self._update(self._presets[name])
        else:
            self._yaml.value = self._presets[name]

    def edit(self, text: str) -> None:
        """Replace the YAML (as typing in the box does)."""
        if self._yaml.value == text:
            self._update(text)
        else:
            self._yaml.value = text

    def _update(self, text: str) -> None:
        c = self._cluster
        try:
            with c.store.transaction(rollback=True):  # a "what if": always undone
                applied = c.apply(text) if text.strip() else []
                r = c.reachability(self._port, self._protocol, namespaces=self._namespaces)
        except KubenetLabError as err:
            self.reachability = None
            self.status = str(err)
            self.stale = bool(self._image.value)  # the last valid policy's picture stays
            notice = (f'<div style="{_STALE_STYLE}">{html.escape(_STALE)} '
                      f"({html.escape(self._shown)})</div>" if self.stale else "")
            self._status.value = (f'{notice}<div style="color:#cf222e;font-family:sans-serif">'
                                  f"{html.escape(self.status)}</div>")
            return
        self.reachability = r
        kinds = ", ".join(f"{type(o).__name__} {getattr(o, 'ref', '')}" for o in applied)
        self.status = f"applied: {kinds}" if kinds else "no policy"
        self._shown = self.status
        self._status.value = f'<div style="font-family:sans-serif">{html.escape(self.status)}</div>'
        self._image.value = figure_png(draw_reachability(r))
        self.stale = False
        self._table.value = reachability_html(r)

    def __repr__(self) -> str:
        r = self.reachability
        if r is None:
            return "Policy playground: run this cell to edit the policy (the YAML is not applied)"
        yes, no = r.count()
        return (f"Policy playground: run this cell to edit the policy ({len(r.pods)} pods, "
                f"{r.protocol}/{r.port}: {yes} allowed, {no} blocked)")
