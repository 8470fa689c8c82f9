"""Real-browser tests: every lesson as a learner runs it in JupyterLab, and a RISE slideshow.

nbval has no front end, so it cannot see a widget that fails to display ("Error displaying
widget") or a control that does nothing when clicked. These tests start one ``jupyter lab``
from the same Python environment (module-scoped: one server and one headless Chromium for
every test here, driven by Playwright), on a throwaway copy of ``notebooks/`` so that nothing
the browser does can change the lessons in the work tree. For each lesson
(``notebooks/0*.ipynb``, globbed when the tests are collected, so a new lesson is covered
without a change here):

1. open it; the stored outputs must show no widget error before anything runs;
2. Kernel > "Restart Kernel and Run All Cells…", accepting the confirmation dialog, as a
   learner does; then no cell may hold an error or a stderr output, every widget output must
   render (no "Error displaying widget", no ipywidgets error element, no "Loading widget...");
3. one interaction per widget, as a learner would: TraceStepper "Next" (the hop label, the
   picture and the hop panel change), TraceExplorer a new destination in its dropdown (the
   picture and the hop table change), PolicyPlayground another preset (the heatmap changes)
   and an edit of the YAML (the status line changes). A widget with controls that is none of
   these fails the test: add its interaction here;
4. screenshots for humans in ``tests/_artifacts/`` (gitignored; the folder to keep as CI's
   artifact): the lesson as opened (``-1-opened``), after the interactions (``-2-used``), its
   end with the exercises (``-3-end``) and each widget whole (``-widgetN``); with
   ``browser-report.json``: per lesson its timings, widgets, their sizes and interactions;
5. Run > "Run All Cells" a second time in the same kernel: every code cell runs again (the
   exercise cells are idempotent) with no error.

No page may request anything but the local server (the course runs offline).

The slideshow test (issue 15) opens a copy of a lesson, adds ``slideshow.slide_type``
metadata where the lesson has none yet (a slide per heading cell), starts jupyterlab-rise's
"Render as Reveal Slideshow" with its shortcut Alt+R, checks that reveal.js slides render and
that the next-slide control moves to another slide, without any request off the machine.

Skipped when Playwright or Chromium is missing, unless ``KUBENET_REQUIRE_BROWSER=1`` (set by
``.ci/run``), in which case they fail. ``KUBENET_CHROMIUM`` overrides the browser path
(default ``/usr/bin/chromium``); ``KUBENET_BROWSER_ARTIFACTS`` the screenshots' folder.

Upstream behaviour relied on (JupyterLab 4, ipywidgets 8, jupyterlab-rise 0.43):

- "Restart Kernel and Run All Cells…" (``notebook:restart-run-all``) asks for confirmation,
  then runs the cells and resolves with False when a cell fails
  (jupyterlab ``packages/notebook-extension/src/index.ts``, ``NotebookActions.runCells``).
- ipywidgets 8's renderer shows "Error displaying widget" when a view or model is missing and
  a ``.jupyter-widgets-error-widget`` element when a model class cannot load
  (jupyter-widgets/ipywidgets ``python/jupyterlab_widgets/src/renderer.ts``).
- jupyterlab-rise binds Alt+R on a focused notebook to ``RISE:preview`` and renders in an
  iframe served from ``/rise/<path>``; each slide is a ``<section>`` of ``.reveal .slides``,
  the shown one has class ``present``; notebook metadata ``rise`` overrides the settings
  (jupyterlab-contrib/rise ``packages/lab/schema/plugin.json``, ``packages/lab/src/index.ts``,
  ``packages/application/src/plugins/rise.ts``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Screenshots and the JSON report; KUBENET_BROWSER_ARTIFACTS puts them elsewhere.
ARTIFACTS = Path(os.environ.get("KUBENET_BROWSER_ARTIFACTS") or ROOT / "tests" / "_artifacts")
DEFAULT_CHROMIUM = "/usr/bin/chromium"

# Without the background-networking flags Chromium keeps trying to reach Google's hosts, which
# the closed network of the project's machines refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SERVER_START_TIMEOUT_S = 90.0
PAGE_TIMEOUT_S = 90.0  # page load, app restored, notebook open, kernel idle
RUN_ALL_TIMEOUT_S = float(os.environ.get("KUBENET_BROWSER_RUN_TIMEOUT", "240"))
WIDGET_TIMEOUT_S = 30.0  # after execution: widget views render asynchronously
SERVER_STOP_TIMEOUT_S = 15.0

# How ipywidgets 8 shows a widget it cannot display: this text when the view or the model is
# missing ("Error displaying widget: model not found"), an error-widget element when the
# model class cannot load (e.g. ipywidgets and jupyterlab_widgets out of step), and this
# placeholder left in place when the widget manager never answers.
ERROR_TEXT = "Error displaying widget"
ERROR_WIDGET_SELECTOR = ".jupyter-widgets-error-widget"
LOADING_TEXT = "Loading widget..."

# JupyterLab user settings for the test server (a throwaway settings directory):
# no autosave (the lesson in the work tree must never be overwritten with browser outputs),
# every cell attached to the DOM (with windowing, off-screen cells may be missing), and no
# news or update checks (offline machines).
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _browser_unavailable(reason: str) -> None:
    if os.environ.get("KUBENET_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (and KUBENET_REQUIRE_BROWSER=1 forbids skipping)", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str:
    """Path of the Chromium to drive; skips (or fails, if required) when there is none."""
    path = os.environ.get("KUBENET_CHROMIUM") or DEFAULT_CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        _browser_unavailable(
            f"no Chromium at {path} (on Debian: apt-get install chromium; or set KUBENET_CHROMIUM)"
        )
    return path


def require_playwright() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _browser_unavailable("playwright is not installed (pip install -e '.[test]')")


# --------------------------------------------------------------------------- the server


@dataclass
class LabServer:
    proc: subprocess.Popen
    port: int
    token: str
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "\n".join(lines[-n:])

    def request(self, path: str, method: str = "GET", timeout: float = 5.0) -> int:
        req = urllib.request.Request(
            self.base_url + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method == "POST" else None,
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child, before exec (Linux only)
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _descendants(pid: int) -> dict[int, bytes]:
    """Live descendants of ``pid`` (Linux /proc), with their command lines."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, bytes] = {}
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        with contextlib.suppress(OSError):
            found[child] = Path(f"/proc/{child}/cmdline").read_bytes()
        todo.extend(children.get(child, []))
    return found


def _wait_exit(proc: subprocess.Popen, timeout: float) -> bool:
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def _stop_server(server: LabServer) -> None:
    """Stop the server and its kernels by PID; never leave them running."""
    proc = server.proc
    kids = _descendants(proc.pid)
    if proc.poll() is None:
        # Clean shutdown first: the server then shuts its kernels down itself.
        with contextlib.suppress(Exception):
            server.request("/api/shutdown", method="POST")
        if not _wait_exit(proc, SERVER_STOP_TIMEOUT_S):
            proc.send_signal(signal.SIGTERM)
            if not _wait_exit(proc, SERVER_STOP_TIMEOUT_S):
                proc.kill()
                proc.wait(timeout=SERVER_STOP_TIMEOUT_S)
    # Kernels (or anything else the server started) that outlived it: kill by PID, checking the
    # command line so that a recycled PID is left alone.
    deadline = time.monotonic() + 5
    for pid, cmdline in kids.items():
        while time.monotonic() < deadline:
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes() != cmdline:
                    break
            except OSError:
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/cmdline").read_bytes() == cmdline:
                    os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def jupyter_lab(root_dir: Path, work_dir: Path) -> Iterator[LabServer]:
    """Run ``jupyter lab`` on 127.0.0.1 with ``root_dir`` as its cwd; stop it on exit."""
    port, token = _free_port(), secrets.token_hex(16)
    settings_dir = work_dir / "lab-settings"
    for rel, values in LAB_SETTINGS.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    (work_dir / "workspaces").mkdir(exist_ok=True)
    (work_dir / "runtime").mkdir(exist_ok=True)
    log_path = work_dir / "jupyter-lab.log"

    env = dict(os.environ)
    env["JUPYTER_RUNTIME_DIR"] = str(work_dir / "runtime")  # connection files, jpserver-*.json
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    # The learner's Jupyter data directory (kl.progress() keeps its file there): a fresh one,
    # so the test starts with no exercise solved and leaves the user's own alone.
    env["JUPYTER_DATA_DIR"] = str(work_dir / "jupyter-data")
    env.pop("MPLBACKEND", None)  # show figures as a learner would see them
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",  # ServerApp.token is deprecated in 2.x
        "--allow-root",
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.ip=127.0.0.1",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={work_dir / 'workspaces'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=root_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C on pytest reaches us, not the server
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    server = LabServer(proc, port, token, log_path)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"jupyter lab exited with code {proc.returncode}:\n{server.log_tail()}"
                )
            with contextlib.suppress(OSError, urllib.error.URLError):
                if server.request("/api/status", timeout=2) == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"jupyter lab did not answer within {SERVER_START_TIMEOUT_S:.0f} s:\n"
                    + server.log_tail()
                )
            time.sleep(0.25)
        yield server
    finally:
        _stop_server(server)




# --------------------------------------------------------------------------- the browser

LESSONS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("0*.ipynb"))
SLIDES_LESSON = "notebooks/01-pod-networking.ipynb"  # the slideshow test's lesson (or the first)

VIEWPORT = {"width": 1400, "height": 1000}
INTERACTION_TIMEOUT_S = 20.0  # a click to a changed picture (a trace is re-walked and drawn)
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# The top-level view of each widget output (a child widget sits deeper, inside its box).
WIDGET_ROOTS = ".jp-OutputArea-output > .jupyter-widgets"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
# reveal.js themes whose fonts come with reveal.js or the system. The others (the default
# "simple" among them) @import Google Fonts: reveal.js css/theme/source/*.scss, e.g.
# simple.scss imports News Cycle and Lato from fonts.googleapis.com; white.scss and
# black.scss import the bundled Source Sans Pro; serif.scss uses Palatino, a system font.
OFFLINE_REVEAL_THEMES = ("white", "black", "serif")

_JS_PANEL = """(path) => {
    const app = window.jupyterapp;
    if (!app || !app.shell) return null;
    for (const w of app.shell.widgets('main')) {
        if (w.context && w.context.path === path && w.sessionContext) return w;
    }
    return null;
}"""

_JS_READY = f"""(path) => {{
    const panel = ({_JS_PANEL})(path);
    if (!panel || !panel.context.isReady || !panel.sessionContext.isReady) return false;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    if (!kernel || kernel.status !== 'idle') return false;
    const bar = document.querySelector('#jp-main-statusbar');
    return !!bar && bar.textContent.includes('| Idle');
}}"""

# Start a notebook command; its promise's result lands in window.__klRun. The two "run all"
# commands resolve once every cell ran, with false when a cell failed.
_JS_COMMAND = f"""([path, command]) => {{
    const app = window.jupyterapp;
    const panel = ({_JS_PANEL})(path);
    window.__klRun = {{command, done: false, ok: null, error: null}};
    app.shell.activateById(panel.id);
    app.commands.execute(command).then(
        (ok) => {{ window.__klRun = {{command, done: true, ok: ok !== false, error: null}}; }},
        (err) => {{ window.__klRun = {{command, done: true, ok: false, error: String(err)}}; }},
    );
}}"""

_JS_FINISHED = """() => {
    if (!window.__klRun || !window.__klRun.done) return false;
    const bar = document.querySelector('#jp-main-statusbar');
    if (!bar || !bar.textContent.includes('| Idle')) return false;
    for (const p of document.querySelectorAll('.jp-InputArea-prompt')) {
        if (p.textContent.includes('[*]')) return false;
    }
    return true;
}"""

# What the notebook holds (its model: errors, stderr, execution counts, widget outputs) and
# what the page shows (widget views rendered, widget errors, placeholders).
_JS_NOTEBOOK_STATE = f"""([path, errorText, errorSel, loadingText, roots]) => {{
    const panel = ({_JS_PANEL})(path);
    const out = {{code_cells: 0, counts: [], errors: [], stderr: [], widget_outputs: 0}};
    panel.content.widgets.forEach((cell, i) => {{
        if (cell.model.type !== 'code') return;
        out.code_cells += 1;
        out.counts.push(cell.model.executionCount);
        const outputs = cell.model.outputs;
        for (let k = 0; k < outputs.length; k++) {{
            const o = outputs.get(k).toJSON();
            if (o.output_type === 'error') {{
                const evalue = String(o.evalue).slice(0, 800);
                out.errors.push({{cell: i, ename: o.ename, evalue}});
            }} else if (o.output_type === 'stream' && o.name === 'stderr') {{
                const text = Array.isArray(o.text) ? o.text.join('') : String(o.text);
                out.stderr.push({{cell: i, text: text.slice(0, 800)}});
            }} else if (o.data && o.data['{WIDGET_MIME}']) {{
                out.widget_outputs += 1;
            }}
        }}
    }});
    const node = panel.content.node;
    // Outputs only: a lesson's text may well name the error it tells learners about.
    const text = Array.from(node.querySelectorAll('.jp-OutputArea-output'),
        (e) => e.textContent).join(' ');
    out.error_text = text.includes(errorText);
    out.error_widgets = node.querySelectorAll(errorSel).length;
    out.loading = text.includes(loadingText);
    out.rendered = node.querySelectorAll(roots).length;
    out.run = window.__klRun || null;
    const bar = document.querySelector('#jp-main-statusbar');
    out.statusbar = bar ? bar.textContent : null;
    out.dialogs = Array.from(document.querySelectorAll('.jp-Dialog'), (d) => d.textContent.trim());
    return out;
}}"""

# The state of one widget view, to see that a click changed it: a digest of each picture's
# bytes (a blob: URL is new at every update, even for the same picture), of each HTML panel,
# the labels, dropdowns, buttons and text areas; and whether it overflows its output area.
_JS_WIDGET_STATE = """async (root) => {
    const fnv = (codes) => {
        let h = 2166136261 >>> 0;
        for (const c of codes) { h ^= c; h = Math.imul(h, 16777619) >>> 0; }
        return h.toString(16);
    };
    const ofText = (s) => fnv(Array.from(s, (ch) => ch.charCodeAt(0)));
    const images = [];
    for (const img of root.querySelectorAll('img.widget-image')) {
        if (!img.getAttribute('src')) { images.push(''); continue; }
        try {
            const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
            images.push(bytes.length + ':' + fnv(bytes));
        } catch (err) { images.push('unreadable: ' + err); }
    }
    const area = root.closest('.jp-OutputArea-child') || root.parentElement;
    const wide = Array.from(root.querySelectorAll('*')).filter(
        (e) => e.getBoundingClientRect().right > area.getBoundingClientRect().right + 1);
    return {
        images,
        image_sizes: Array.from(root.querySelectorAll('img.widget-image'),
            (i) => [i.naturalWidth, i.clientWidth]),
        htmls: Array.from(root.querySelectorAll('.widget-html-content'),
            (e) => ofText(e.innerHTML)),
        labels: Array.from(root.querySelectorAll('.widget-label'), (e) => e.textContent.trim()),
        selects: Array.from(root.querySelectorAll('.widget-dropdown'), (d) => {
            const l = d.querySelector('label'); const s = d.querySelector('select');
            return {label: l ? l.textContent.trim() : '', value: s ? s.value : null,
                    options: s ? Array.from(s.options, (o) => o.value) : []};
        }),
        buttons: Array.from(root.querySelectorAll('button'),
            (b) => ({text: b.textContent.trim(), disabled: b.disabled})),
        textareas: Array.from(root.querySelectorAll('.widget-textarea textarea'), (t) => t.value),
        sliders: root.querySelectorAll('.widget-slider').length,
        inputs: root.querySelectorAll('input').length,
        status: Array.from(root.querySelectorAll(':scope > .widget-html'),
            (e) => e.textContent.trim()),
        size: [Math.round(root.getBoundingClientRect().width),
               Math.round(root.getBoundingClientRect().height)],
        overflowing: wide.length,
    };
}"""


# Scroll to the first cell whose outputs hold a widget view; return that output's text.
_JS_SHOW_FIRST_WIDGET_OUTPUT = f"""(path) => {{
    const panel = ({_JS_PANEL})(path);
    for (const cell of panel.content.widgets) {{
        if (cell.model.type !== 'code') continue;
        const outputs = cell.model.outputs;
        for (let k = 0; k < outputs.length; k++) {{
            const o = outputs.get(k).toJSON();
            if (o.data && o.data['{WIDGET_MIME}']) {{
                cell.node.scrollIntoView({{block: 'center'}});
                const node = cell.node.querySelector('.jp-OutputArea');
                return node ? node.textContent.trim().slice(0, 300) : null;
            }}
        }}
    }}
    return null;
}}"""


_JS_SCROLL_TO_END = f"""(path) => {{
    const panel = ({_JS_PANEL})(path);
    const cells = panel.content.widgets;
    if (cells.length) cells[cells.length - 1].node.scrollIntoView({{block: 'end'}});
}}"""


def _is_local(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-extension", "devtools"):
        return True
    return parts.hostname in {h.strip("[]") for h in LOCAL_HOSTS}


@dataclass
class Lab:
    """The module's JupyterLab server and browser, on a copy of the course."""

    server: LabServer
    browser: object  # playwright Browser
    context: object  # playwright BrowserContext: one cache for every page
    root: Path  # the copy the server serves; notebooks/ inside it
    report: dict = field(default_factory=dict)

    def page(self, notebook: str) -> NotebookPage:
        return NotebookPage(self, notebook)


class NotebookPage:
    """One notebook open in its own browser tab; ``close()`` shuts its kernel down."""

    def __init__(self, lab: Lab, notebook: str) -> None:
        self.lab, self.notebook = lab, notebook
        self.stem = Path(notebook).stem
        for old in ARTIFACTS.glob(f"browser-{self.stem}-*.png"):  # an earlier run's
            old.unlink()
        self.console: list[str] = []
        self.external: list[str] = []
        self.timings: dict[str, float] = {}
        self._started = time.monotonic()
        self.page = lab.context.new_page()
        self.page.set_default_timeout(PAGE_TIMEOUT_S * 1000)
        self.page.on("console", lambda m: m.type == "error" and self.console.append(m.text))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("request", self._on_request)

    def _on_request(self, request) -> None:
        if not _is_local(request.url):
            self.external.append(request.url)

    def lap(self, name: str) -> None:
        self.timings[name] = round(time.monotonic() - self._started, 1)

    def shot(self, name: str) -> Path:
        path = ARTIFACTS / f"browser-{self.stem}{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            self.page.screenshot(path=str(path))
        return path

    def widget_shot(self, root, name: str) -> None:
        """A screenshot of one widget view, whole: the window grows to fit it if need be."""
        size = dict(self.page.viewport_size or VIEWPORT)
        try:
            box = root.bounding_box() or {"height": 0}
            need = int(box["height"]) + 250  # menus, toolbar and status bar around the notebook
            if need > size["height"]:
                self.page.set_viewport_size({"width": size["width"], "height": need})
            root.evaluate("(e) => e.scrollIntoView({block: 'start'})")
            self.page.wait_for_timeout(300)  # JupyterLab lays the panels out again
            root.screenshot(path=str(ARTIFACTS / f"browser-{self.stem}{name}.png"))
        except Exception:  # a picture for humans: never the reason to fail
            pass
        finally:
            self.page.set_viewport_size(size)

    def fail(self, message: str, details: object = None) -> None:
        shot = self.shot("-failed")
        extra = f"\n{json.dumps(details, default=str)[:4000]}" if details else ""
        raise AssertionError(
            f"{self.notebook}: {message} (screenshot: {shot}){extra}\n"
            f"console errors: {self.console[-8:]}\nserver log:\n{self.lab.server.log_tail(15)}"
        )

    def wait(self, what: str, js: str, arg=None, timeout_s: float = PAGE_TIMEOUT_S) -> None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            self.page.wait_for_function(js, arg=arg, timeout=timeout_s * 1000, polling=200)
        except PlaywrightError as exc:
            details = None
            with contextlib.suppress(Exception):
                details = self.state()
            self.fail(f"timed out after {timeout_s:.0f} s waiting for {what}"
                      f" ({exc.__class__.__name__})", details)

    # ------------------------------------------------------------------ the notebook
    def open(self) -> None:
        # A workspace of its own: the default one would reopen every notebook an earlier
        # test opened (each tab starting a kernel again).
        url_path = urllib.parse.quote(self.notebook)
        workspace = urllib.parse.quote(self.stem)
        self.page.goto(f"{self.lab.server.base_url}/lab/workspaces/{workspace}/tree/{url_path}"
                       f"?token={self.lab.server.token}", wait_until="domcontentloaded")
        self.wait("the notebook to open with an idle kernel (status bar '| Idle')",
                  _JS_READY, self.notebook)
        self.lap("opened")

    def state(self) -> dict:
        return self.page.evaluate(_JS_NOTEBOOK_STATE, [
            self.notebook, ERROR_TEXT, ERROR_WIDGET_SELECTOR, LOADING_TEXT, WIDGET_ROOTS])

    def restart_and_run_all(self) -> None:
        """Kernel > Restart Kernel and Run All Cells…, then "Restart" in the dialog."""
        self.page.evaluate(_JS_COMMAND, [self.notebook, "notebook:restart-run-all"])
        from playwright.sync_api import Error as PlaywrightError

        accept = self.page.locator(".jp-Dialog .jp-mod-accept")
        try:
            accept.wait_for(state="visible", timeout=30_000)
        except PlaywrightError:
            self.fail("no 'Restart kernel?' dialog after Restart Kernel and Run All Cells")
        accept.click()
        self.wait("Restart Kernel and Run All Cells to finish", _JS_FINISHED,
                  timeout_s=RUN_ALL_TIMEOUT_S)
        self.lap("restart_run_all")

    def run_all(self) -> None:
        """Run > Run All Cells, in the kernel as it is."""
        self.page.evaluate(_JS_COMMAND, [self.notebook, "notebook:run-all-cells"])
        self.wait("Run All Cells to finish", _JS_FINISHED, timeout_s=RUN_ALL_TIMEOUT_S)
        self.lap("run_all_again")

    def check_clean(self, when: str, first_count: int | None = None) -> dict:
        """No error anywhere; every widget output rendered. Returns the notebook state."""
        deadline = time.monotonic() + WIDGET_TIMEOUT_S
        while True:  # widget views render after their outputs arrive
            state = self.state()
            if state["rendered"] >= state["widget_outputs"] and not state["loading"]:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        problems = []
        run = state["run"] or {}
        if not run.get("ok"):
            problems.append(f"the run did not complete: {run}")
        if state["errors"]:
            problems.append(f"cells with an error: {state['errors']}")
        if state["stderr"]:
            problems.append(f"cells that wrote to stderr: {state['stderr']}")
        if state["error_text"]:
            problems.append(f"{ERROR_TEXT!r} is shown")
        if state["error_widgets"]:
            problems.append(f"{state['error_widgets']} widget(s) failed to load "
                            f"({ERROR_WIDGET_SELECTOR}: are ipywidgets and jupyterlab_widgets "
                            "in step?)")
        if state["loading"]:
            problems.append(f"{LOADING_TEXT!r} never went away")
        if state["rendered"] != state["widget_outputs"]:
            problems.append(f"{state['widget_outputs']} widget outputs but "
                            f"{state['rendered']} widget views rendered")
        counts = state["counts"]
        if None in counts:
            problems.append(f"code cells not executed: {counts.count(None)} of {len(counts)}")
        elif first_count is not None:
            # Run All in the same kernel: the kernel's counter goes on from the first run.
            expected = list(range(first_count + 1, first_count + 1 + len(counts)))
            if counts != expected:
                problems.append(f"the second Run All did not run every code cell in order: "
                                f"execution counts {counts}, expected {expected}")
        if problems:
            self.fail(f"after {when}: " + "; ".join(problems), state)
        return state

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.page.evaluate(f"""async (path) => {{
                const panel = ({_JS_PANEL})(path);
                if (panel) await panel.sessionContext.shutdown();
            }}""", self.notebook)
        with contextlib.suppress(Exception):
            self.page.close()

    # ------------------------------------------------------------------ the widgets
    def widget_roots(self):
        return self.page.locator(WIDGET_ROOTS)

    def widget_state(self, root) -> dict:
        return root.evaluate(_JS_WIDGET_STATE)

    def wait_change(self, root, what: str, changed) -> dict:
        """Poll the widget until ``changed(state)``; fail with the last state if it never is."""
        deadline = time.monotonic() + INTERACTION_TIMEOUT_S
        while True:
            state = self.widget_state(root)
            if changed(state):
                return state
            if time.monotonic() > deadline:
                self.fail(f"{what}: nothing changed within {INTERACTION_TIMEOUT_S:.0f} s", state)
            time.sleep(0.25)


def widget_kind(state: dict) -> str:
    """Which of the course's widgets a view is, from its controls."""
    if state["textareas"]:
        return "PolicyPlayground"
    if any(b["text"].startswith("Next") for b in state["buttons"]):
        return "TraceStepper"
    if any(s["label"] == "destination" for s in state["selects"]):
        return "TraceExplorer"
    if state["selects"] or state["buttons"] or state["sliders"] or state["inputs"]:
        return "unknown (has controls)"
    return "display only"


_HOP = re.compile(r"^hop (\d+) of (\d+)$")


def step_trace_stepper(nb: NotebookPage, root, before: dict) -> str:
    """Click "Next": the hop label, the picture and the hop panel move on; Back comes alive."""
    hop = next((m for m in map(_HOP.match, before["labels"]) if m), None)
    if hop is None:
        nb.fail("TraceStepper: no 'hop i of n' label", before)
    i, n = int(hop.group(1)), int(hop.group(2))
    if n < 2:
        nb.fail(f"TraceStepper: a trace of {n} hop(s) has nothing to step through", before)
    if i >= n:  # already at the end (a lesson may show the last hop): step back instead
        root.locator("button", has_text="Back").click()
        target = f"hop {i - 1} of {n}"
    else:
        root.locator("button", has_text="Next").click()
        target = f"hop {i + 1} of {n}"
    after = nb.wait_change(root, f"TraceStepper: click to {target}", lambda s: (
        target in s["labels"] and s["images"] != before["images"]
        and s["htmls"] != before["htmls"]))
    now = int(_HOP.match(target).group(1))
    enabled = {b["text"]: not b["disabled"] for b in after["buttons"]}
    want = {"Back": now > 1, "Next": now < n}  # disabled at the ends only
    got = {name: next(v for t, v in enabled.items() if name in t) for name in want}
    if got != want:
        nb.fail(f"TraceStepper at {target}: buttons enabled {got}, expected {want}", after)
    return f"hop {i} of {n} -> {target}"


def pick_explorer_destination(nb: NotebookPage, root, before: dict) -> str:
    """Pick another destination: the picture and the hop table follow."""
    dst = next(s for s in before["selects"] if s["label"] == "destination")
    src = next((s["value"] for s in before["selects"] if s["label"] == "source"), None)
    options = dst["options"]
    start = options.index(dst["value"]) if dst["value"] in options else -1
    # The next destination in the list that is another pod (a pod name has a namespace).
    ordered = options[start + 1:] + options[:start + 1]
    choice = next((o for o in ordered if "/" in o and o not in (dst["value"], src)),
                  next((o for o in ordered if o != dst["value"]), None))
    if choice is None:
        nb.fail("TraceExplorer: the destination dropdown has a single entry", before)
    select = root.locator(".widget-dropdown").filter(
        has=nb.page.locator("label", has_text=re.compile(r"^\s*destination\s*$"))
    ).locator("select")
    select.select_option(value=choice)
    nb.wait_change(root, f"TraceExplorer: destination {choice}", lambda s: (
        any(x["label"] == "destination" and x["value"] == choice for x in s["selects"])
        and s["images"] != before["images"] and s["htmls"] != before["htmls"]))
    return f"destination {dst['value']} -> {choice}"


def try_policy_playground(nb: NotebookPage, root, before: dict) -> str:
    """Pick presets until the heatmap changes; then edit the YAML: the status line follows."""
    choice = before["selects"][0]
    select = root.locator(".widget-dropdown select").first
    heatmap_before = before["images"][0] if before["images"] else None
    picked = None
    for option in [o for o in choice["options"] if o != choice["value"]]:
        select.select_option(value=option)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            state = nb.widget_state(root)
            if state["images"] and state["images"][0] != heatmap_before:
                picked = option
                break
            time.sleep(0.25)
        if picked:
            break
    if picked is None:
        nb.fail(f"PolicyPlayground: no preset of {choice['options']} changed the heatmap",
                nb.widget_state(root))
    after_pick = nb.widget_state(root)
    if after_pick["textareas"][0] == before["textareas"][0]:
        nb.fail(f"PolicyPlayground: preset {picked!r} left the YAML box as it was", after_pick)
    # A learner's edit that cannot apply: the status line must say so.
    root.locator(".widget-textarea textarea").fill("kind: NetworkPolicy\nspec: [\n")
    nb.wait_change(root, "PolicyPlayground: an edit of the YAML",
                   lambda s: s["status"] != after_pick["status"])
    return f"preset {choice['value']!r} -> {picked!r} (heatmap changed); YAML edited"


INTERACTIONS = {
    "TraceStepper": step_trace_stepper,
    "TraceExplorer": pick_explorer_destination,
    "PolicyPlayground": try_policy_playground,
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One JupyterLab server and one Chromium for the module, on a copy of notebooks/."""
    require_playwright()
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    work = tmp_path_factory.mktemp("browser")
    root = work / "course"
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    with jupyter_lab(root, work) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True,
                                     args=CHROMIUM_ARGS, timeout=PAGE_TIMEOUT_S * 1000)
        lab = Lab(server, browser, browser.new_context(viewport=VIEWPORT), root)
        try:
            yield lab
        finally:
            browser.close()
            # What each lesson took and showed, for the CI artifact and for humans.
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "browser-report.json").write_text(
                json.dumps(lab.report, indent=1, default=str))


@pytest.mark.parametrize("lesson", LESSONS, ids=[Path(p).stem for p in LESSONS])
def test_lesson_in_browser(lab: Lab, lesson: str) -> None:
    """A learner's path through one lesson: open, restart and run all, use every widget,
    run all again."""
    assert (lab.root / lesson).is_file(), f"{lesson} was not copied for the browser"
    nb = lab.page(lesson)
    entry: dict = {"widgets": []}
    lab.report[Path(lesson).stem] = entry
    try:
        nb.open()
        opened = nb.state()
        if opened["error_text"] or opened["error_widgets"]:
            nb.fail(f"the lesson as opened (stored outputs) shows {ERROR_TEXT!r}", opened)
        # What a learner sees before running anything: the first widget's stored output.
        entry["stored_widget_text"] = nb.page.evaluate(_JS_SHOW_FIRST_WIDGET_OUTPUT, lesson)
        nb.shot("-1-opened")

        nb.restart_and_run_all()
        first = nb.check_clean("Restart Kernel and Run All Cells")
        entry["code_cells"] = first["code_cells"]

        roots = nb.widget_roots()
        count = roots.count()
        for k in range(count):
            root = roots.nth(k)
            root.evaluate("(e) => e.scrollIntoView({block: 'start'})")
            before = nb.widget_state(root)
            kind = widget_kind(before)
            record = {"kind": kind, "size": before["size"],
                      "images": before["image_sizes"], "overflowing": before["overflowing"]}
            entry["widgets"].append(record)
            if kind == "unknown (has controls)":
                nb.fail(f"widget {k + 1} has controls but is none of {sorted(INTERACTIONS)}:"
                        " add its interaction to tests/test_browser.py", before)
            if kind in INTERACTIONS:
                record["interaction"] = INTERACTIONS[kind](nb, root, before)
            nb.widget_shot(root, f"-widget{k + 1}")
        nb.lap("interactions")
        if count:  # the lesson as the learner left it, the first widget at the top
            roots.first.evaluate("(e) => e.scrollIntoView({block: 'start'})")
            nb.page.wait_for_timeout(200)
        nb.shot("-2-used")
        if count:
            nb.check_clean("using the widgets")
        nb.page.evaluate(_JS_SCROLL_TO_END, lesson)  # the exercises, as run
        nb.page.wait_for_timeout(200)
        nb.shot("-3-end")

        nb.run_all()
        last = max(c for c in first["counts"] if c is not None) if first["counts"] else 0
        nb.check_clean("a second Run All Cells in the same kernel", first_count=last)
        if nb.external:
            nb.fail(f"requests off the machine: {sorted(set(nb.external))[:10]}")
    finally:
        nb.lap("done")
        entry["seconds"] = nb.timings
        entry["console_errors"] = nb.console[:10]
        nb.close()


# --------------------------------------------------------------------------- slides


def _slideshow_copy(lab: Lab, lesson: str) -> tuple[str, int]:
    """A copy of ``lesson`` beside it, with slide metadata; returns its path and slide count.

    Cells keep the ``slideshow.slide_type`` they have. A lesson without any (today's) gets a
    slide per heading cell, the rest ``-`` (part of the slide before). The reveal.js theme is
    the lesson's own ``metadata.rise.theme`` when it sets one; otherwise an offline one.
    """
    import nbformat

    source = lab.root / lesson
    nb = nbformat.read(source, as_version=4)
    types = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    if not any(types):
        for cell in nb.cells:
            heading = cell.cell_type == "markdown" and cell.source.lstrip().startswith("#")
            cell.metadata["slideshow"] = {"slide_type": "slide" if heading else "-"}
        types = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
    rise = nb.metadata.setdefault("rise", {})
    rise.setdefault("theme", OFFLINE_REVEAL_THEMES[0])
    copy = source.with_name(f"slides-{source.name}")
    nbformat.write(nb, copy)
    return copy.relative_to(lab.root).as_posix(), types.count("slide")


_JS_PRESENT = """() => {
    const all = document.querySelectorAll('.reveal .slides section.present');
    const inner = all.length ? all[all.length - 1] : null;
    return {
        slides: document.querySelectorAll('.reveal .slides > section').length,
        present: inner ? (inner.id || '') + ' ' + inner.textContent.trim().slice(0, 80) : null,
        hash: location.hash,
        error_text: Array.from(document.querySelectorAll('.jp-OutputArea-output'),
            (e) => e.textContent).join(' ').includes('Error displaying widget'),
    };
}"""


def test_slideshow_in_browser(lab: Lab) -> None:
    """jupyterlab-rise renders a lesson as reveal.js slides, offline, and the next slide
    control moves on."""
    from playwright.sync_api import Error as PlaywrightError

    lesson = SLIDES_LESSON if SLIDES_LESSON in LESSONS else LESSONS[0]
    path, slide_cells = _slideshow_copy(lab, lesson)
    assert slide_cells >= 2, f"{lesson}: fewer than two slides to move between"
    nb = lab.page(path)
    lab.report["slideshow"] = entry = {"lesson": lesson, "slide_cells": slide_cells}
    try:
        nb.open()
        # Alt+R on the focused notebook (command mode): "Render as Reveal Slideshow".
        nb.page.locator(".jp-Notebook:visible").first.click(position={"x": 4, "y": 4})
        nb.page.keyboard.press("Escape")
        nb.page.keyboard.press("Alt+r")
        iframe = nb.page.locator("iframe[src*='/rise/']").first
        try:
            iframe.wait_for(timeout=30_000)
        except PlaywrightError:
            nb.fail("Alt+R opened no RISE slideshow (is jupyterlab-rise installed and enabled?"
                    " `jupyter labextension list`)")
        nb.lap("rise_opened")
        frame = iframe.element_handle().content_frame()
        if frame is None:
            nb.fail("the RISE panel's iframe has no document")
        try:
            frame.wait_for_selector(".reveal .slides section.present", timeout=60_000)
        except PlaywrightError:
            nb.fail("reveal.js rendered no slide (.reveal .slides section.present)")
        nb.page.wait_for_timeout(1000)  # the transition and RISE's own layout pass
        first = frame.evaluate(_JS_PRESENT)
        entry["first"] = first
        nb.shot("-slide1")
        if first["slides"] < 2:
            nb.fail(f"{first['slides']} slide(s) rendered from {slide_cells} slide cells", first)
        frame.locator(".reveal .controls .navigate-right").first.click()
        deadline = time.monotonic() + INTERACTION_TIMEOUT_S
        second = frame.evaluate(_JS_PRESENT)
        while second["present"] == first["present"] and time.monotonic() < deadline:
            time.sleep(0.25)
            second = frame.evaluate(_JS_PRESENT)
        entry["second"] = second
        nb.lap("next_slide")
        nb.page.wait_for_timeout(1500)  # the slide transition
        nb.shot("-slide2")
        if second["present"] == first["present"] or second["hash"] == first["hash"]:
            nb.fail("the next-slide control did not move to another slide", [first, second])
        if first["error_text"] or second["error_text"]:
            nb.fail(f"the slides show {ERROR_TEXT!r}", [first, second])
        nb.page.wait_for_timeout(500)
        if nb.external:
            nb.fail("the slideshow requested files off the machine (a reveal.js theme that"
                    f" imports web fonts?): {sorted(set(nb.external))[:10]}")
    finally:
        nb.lap("done")
        entry["seconds"] = nb.timings
        entry["console_errors"] = nb.console[:10]
        nb.close()


def test_lessons_with_slides_use_an_offline_reveal_theme() -> None:
    """A lesson that has slides names a reveal.js theme that loads no web font.

    jupyterlab-rise's default theme is "simple" (``packages/lab/schema/plugin.json``), which
    imports Google Fonts; a class without network would wait on them. The theme goes in the
    notebook's ``metadata.rise.theme`` (RISE reads it over its settings).
    """
    import nbformat

    wrong = {}
    for lesson in LESSONS:
        nb = nbformat.read(ROOT / lesson, as_version=4)
        if not any(c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells):
            continue  # no slides yet
        theme = nb.metadata.get("rise", {}).get("theme")
        if theme not in OFFLINE_REVEAL_THEMES:
            wrong[lesson] = theme
    assert not wrong, (
        f"lessons with slides whose metadata.rise.theme is not one of {OFFLINE_REVEAL_THEMES}"
        f" (None: RISE's default 'simple', which loads Google Fonts): {wrong}"
    )
