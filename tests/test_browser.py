"""Real-browser test: a lesson's widgets render in JupyterLab, in headless Chromium.

nbval has no front end, so it cannot see a widget that fails to display ("Error displaying
widget"). This test starts ``jupyter lab`` from the same Python environment, opens a lesson
with Playwright in Debian's Chromium, runs all cells and checks that a widget control appears.

Skipped when Playwright or Chromium is missing, unless ``KUBENET_REQUIRE_BROWSER=1`` (set by
``.ci/run``), in which case it fails. ``KUBENET_CHROMIUM`` overrides the browser path
(default ``/usr/bin/chromium``). A screenshot for humans goes to ``tests/_artifacts/``.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
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
ARTIFACTS = ROOT / "tests" / "_artifacts"
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

_JS_RUN_ALL = f"""(path) => {{
    const app = window.jupyterapp;
    const panel = ({_JS_PANEL})(path);
    window.__klRunAll = {{done: false, ok: null, error: null}};
    app.shell.activateById(panel.id);
    app.commands.execute('notebook:run-all-cells').then(
        (ok) => {{ window.__klRunAll = {{done: true, ok: ok !== false, error: null}}; }},
        (err) => {{ window.__klRunAll = {{done: true, ok: false, error: String(err)}}; }},
    );
}}"""

_JS_FINISHED = """() => {
    if (!window.__klRunAll || !window.__klRunAll.done) return false;
    const bar = document.querySelector('#jp-main-statusbar');
    if (!bar || !bar.textContent.includes('| Idle')) return false;
    for (const p of document.querySelectorAll('.jp-InputArea-prompt')) {
        if (p.textContent.includes('[*]')) return false;
    }
    return true;
}"""

_JS_DIAGNOSTICS = """() => {
    const text = (sel) => Array.from(document.querySelectorAll(sel), (e) => e.textContent.trim());
    const bar = document.querySelector('#jp-main-statusbar');
    return {
        statusbar: bar ? bar.textContent : null,
        dialogs: text('.jp-Dialog'),
        busy_prompts: text('.jp-InputArea-prompt').filter((t) => t.includes('[*]')).length,
        errors: text('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            .map((t) => t.slice(0, 800)),
        run_all: window.__klRunAll || null,
    };
}"""


@dataclass
class BrowserRun:
    widget_count: int
    has_error_text: bool
    error_widgets: int
    still_loading: bool
    run_all: dict
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)
    console: list[str] = field(default_factory=list)


def run_notebook_in_browser(
    root_dir: Path,
    notebook: str,
    screenshot: Path,
    work_dir: Path,
    widget_selector: str = ".widget-dropdown",
) -> BrowserRun:
    """Open ``notebook`` (a path relative to ``root_dir``) in JupyterLab, run all cells.

    Returns what the page showed; raises AssertionError with diagnostics when a step times out.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        timings[name] = round(time.monotonic() - started, 1)

    console: list[str] = []
    with jupyter_lab(root_dir, work_dir) as server, sync_playwright() as pw:
        lap("server_up")
        browser = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=PAGE_TIMEOUT_S * 1000,
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(PAGE_TIMEOUT_S * 1000)
            page.on("console", lambda m: m.type == "error" and console.append(m.text))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))

            def step(what: str, js: str, arg=None, timeout_s: float = PAGE_TIMEOUT_S) -> None:
                try:
                    page.wait_for_function(js, arg=arg, timeout=timeout_s * 1000, polling=200)
                except PlaywrightError as exc:
                    with contextlib.suppress(Exception):
                        page.screenshot(path=str(screenshot))
                    diag = {}
                    with contextlib.suppress(Exception):
                        diag = page.evaluate(_JS_DIAGNOSTICS)
                    raise AssertionError(
                        f"browser test: timed out after {timeout_s:.0f} s waiting for {what}\n"
                        f"page: {json.dumps(diag, indent=1)}\n"
                        f"console errors: {console[-10:]}\n"
                        f"server log:\n{server.log_tail()}\n({exc.__class__.__name__})"
                    ) from None

            url_path = urllib.parse.quote(notebook)
            page.goto(
                f"{server.base_url}/lab/tree/{url_path}?token={server.token}",
                wait_until="domcontentloaded",
            )
            step("the notebook to open with an idle kernel (status bar '| Idle')",
                 _JS_READY, notebook)  # fmt: skip
            lap("kernel_idle")
            page.evaluate(_JS_RUN_ALL, notebook)
            step("Run All Cells to finish", _JS_FINISHED, timeout_s=RUN_ALL_TIMEOUT_S)
            lap("run_all_done")
            # Widget views render asynchronously after the outputs arrive.
            with contextlib.suppress(PlaywrightError):
                page.wait_for_function(
                    "([sel, errSel, err, loading]) => (!!document.querySelector(sel)"
                    " || !!document.querySelector(errSel)"
                    " || document.body.textContent.includes(err))"
                    " && !document.body.textContent.includes(loading)",
                    arg=[widget_selector, ERROR_WIDGET_SELECTOR, ERROR_TEXT, LOADING_TEXT],
                    timeout=WIDGET_TIMEOUT_S * 1000,
                    polling=200,
                )
            page.wait_for_timeout(500)  # let any other widget views settle
            lap("widgets_shown")
            widgets = page.locator(widget_selector)
            count = widgets.count()
            if count:
                with contextlib.suppress(PlaywrightError):
                    widgets.first.scroll_into_view_if_needed(timeout=5000)
            page.screenshot(path=str(screenshot))
            has_error = page.evaluate(
                "(err) => document.body.textContent.includes(err)", ERROR_TEXT
            )
            error_widgets = page.locator(ERROR_WIDGET_SELECTOR).count()
            still_loading = page.evaluate(
                "(t) => document.body.textContent.includes(t)", LOADING_TEXT
            )
            diagnostics = page.evaluate(_JS_DIAGNOSTICS)
        finally:
            browser.close()
    lap("server_stopped")
    return BrowserRun(
        widget_count=count,
        has_error_text=has_error,
        error_widgets=error_widgets,
        still_loading=still_loading,
        run_all=diagnostics.get("run_all") or {},
        seconds=time.monotonic() - started,
        timings=timings,
        diagnostics=diagnostics,
        console=console,
    )


def check_lesson_widgets(
    notebook: str,
    screenshot_name: str,
    work_dir: Path,
    widget_selector: str = ".widget-dropdown",
    root_dir: Path = ROOT,
) -> BrowserRun:
    """The whole check for one lesson: skip/fail rules, run, then the assertions."""
    require_playwright()
    chromium_path()
    lesson = root_dir / notebook
    assert lesson.is_file(), f"{notebook} is missing: the browser test opens this lesson"
    before = lesson.read_bytes()
    try:
        run = run_notebook_in_browser(
            root_dir, notebook, ARTIFACTS / screenshot_name, work_dir, widget_selector
        )
    finally:
        if lesson.read_bytes() != before:  # autosave is off; never keep browser edits
            lesson.write_bytes(before)
            pytest.fail(f"the browser session modified {notebook}; restored it")
    where = f"(screenshot: {ARTIFACTS / screenshot_name})"
    details = f"page: {json.dumps(run.diagnostics, indent=1)}\nconsole errors: {run.console[-10:]}"
    assert not run.has_error_text, f"{ERROR_TEXT!r} is shown in {notebook} {where}\n{details}"
    assert not run.error_widgets, (
        f"{run.error_widgets} widget(s) failed to load in {notebook} ({ERROR_WIDGET_SELECTOR};"
        f" are ipywidgets and jupyterlab_widgets in step?) {where}\n{details}"
    )
    assert not run.still_loading, f"{LOADING_TEXT!r} never went away in {notebook} {where}"
    assert run.widget_count > 0, (
        f"no {widget_selector} element in {notebook} after Run All Cells {where}\n{details}"
    )
    return run


def test_lesson01_widgets_render_in_browser(tmp_path: Path) -> None:
    check_lesson_widgets(
        "notebooks/01-pod-networking.ipynb", "browser-lesson01.png", tmp_path, ".widget-dropdown"
    )


def test_lesson07_playground_renders_in_browser(tmp_path: Path) -> None:
    check_lesson_widgets(
        "notebooks/07-network-policies.ipynb", "browser-lesson07.png", tmp_path,
        ".widget-textarea",
    )
