"""A progress bar for long work: building thousands of nodes, applying a hundred
thousand pods, rendering kube-proxy's rules for 10,000 Services.

In a Jupyter kernel it is ipywidgets' ``IntProgress`` with a label; in a terminal one line
on standard error, rewritten in place (``\\r``), as tqdm draws it; when standard error is
a file or a pipe (a CI log), one line when the work ends. Whether a bar
appears depends on the size of the work, never on the time it takes, so a notebook's
stored outputs stay the same from run to run (nbval compares them); small work, every
lesson's cluster, shows none.

>>> with ProgressBar("joining nodes", 3, unit="nodes") as bar:   # too small: no bar
...     for _ in range(3):
...         bar.advance()
>>> bar.shown
False
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

__all__ = ["SHOW_FROM", "ProgressBar"]

#: The work (in units of about 100 microseconds: a pod created, a node joined, an
#: endpoint's rules rendered) from which a bar is shown: about two seconds.
SHOW_FROM = 20_000


def _in_kernel() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()  # type: ignore[attr-defined]
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


class _Shown:
    """A widget whose text stand-in (a static page, a notebook opened without its
    kernel, nbval's comparison) names the work instead of ``HBox(children=...)``."""

    def __init__(self, widget: Any, text: str) -> None:
        self.widget, self.text = widget, text

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = self.text
        return bundle


class ProgressBar:
    """``with ProgressBar(what, total, unit=...) as bar: ... bar.advance(n)``; shown
    when ``work`` (by default ``total``) reaches ``SHOW_FROM``."""

    def __init__(self, description: str, total: int, *, unit: str = "",
                 work: int | None = None) -> None:
        self.description = description
        self.total = max(int(total), 0)
        self.unit = unit
        self.done = 0
        self.shown = (self.total if work is None else work) >= SHOW_FROM
        self._widget: Any = None
        self._label: Any = None
        self._terminal = False
        self._step = max(self.total // 100, 1)  # redraw at most about 100 times
        self._next = 0

    def __enter__(self) -> ProgressBar:
        if self.shown:
            if _in_kernel():
                import ipywidgets
                from IPython.display import display

                self._widget = ipywidgets.IntProgress(value=0, max=self.total,
                                                      description=self.description[:20])
                self._label = ipywidgets.Label(self._text())
                display(_Shown(ipywidgets.HBox([self._widget, self._label]),
                               f"{self.description}: {self.total:,} {self.unit}".rstrip()))
            else:
                isatty = getattr(sys.stderr, "isatty", None)
                self._terminal = bool(isatty and isatty())
                self._draw()
        return self

    def _text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.done:,}/{self.total:,}{unit}"

    def _draw(self) -> None:
        if self._widget is not None:
            self._widget.value = self.done
            self._label.value = self._text()
            return
        if not self._terminal:
            return
        width = 30
        filled = width * self.done // self.total if self.total else width
        sys.stderr.write(f"\r{self.description}: [{'#' * filled}{'.' * (width - filled)}] "
                         f"{self._text()}")
        sys.stderr.flush()

    def advance(self, n: int = 1) -> None:
        """``n`` more units of the work are done."""
        self.done = min(self.done + n, self.total)
        if self.shown and (self.done >= self._next or self.done == self.total):
            self._next = self.done + self._step
            self._draw()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.shown:
            return
        if kind is None:
            self.done = self.total
        self._draw()
        if self._widget is not None:
            self._widget.bar_style = "success" if kind is None else "danger"
            return
        if not self._terminal:
            sys.stderr.write(f"{self.description}: {self._text()}")
        sys.stderr.write("\n" if kind is None else " (stopped)\n")
        sys.stderr.flush()
