"""In a notebook an error of the lab reads in a few lines: its message, its fix and the
learner's line that caused it (``KubenetLabError._render_traceback_``, the hook IPython's
``InteractiveShell.showtraceback`` calls); plain Python keeps the whole traceback."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import kubenet_lab as kl

TYPO = "x = 1\nc.add_pod('default/a', node='node-9')"


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def test_a_typo_in_a_cell_shows_the_message_the_fix_and_the_line(shell, capsys):
    shell.run_cell("import kubenet_lab as kl\nc = kl.Cluster(workers=2)")
    capsys.readouterr()
    result = shell.run_cell(TYPO)
    out = capsys.readouterr()
    shown = (out.out + out.err).strip().splitlines()
    assert isinstance(result.error_in_exec, kl.NotFoundError)
    assert 2 <= len(shown) <= 4, shown
    assert shown[0].startswith("NotFoundError: Pod default/a: spec.nodeName: 'node-9' ")
    assert any(line.startswith("  fix: did you mean ") for line in shown), shown
    assert shown[-1] == "  in your cell, line 2: c.add_pod('default/a', node='node-9')"
    assert not any("kubenet_lab/" in line or "Traceback" in line for line in shown), shown


def test_an_error_of_python_itself_keeps_ipythons_traceback(shell, capsys):
    """Only the lab's own errors are cut short: a learner's TypeError stays as it is."""
    shell.run_cell("def f():\n    return 1 + 'a'\nf()")
    out = capsys.readouterr()
    shown = re.sub(r"\x1b\[[0-9;]*m", "", out.out + out.err)  # IPython's colours
    assert "TypeError" in shown and "return 1 + 'a'" in shown and "f()" in shown


def test_a_notebook_kernel_sends_the_short_traceback_and_the_same_ename_evalue():
    """Through ipykernel (what nbval and JupyterLab talk to): ``ename`` and ``evalue``,
    which nbval compares in a raises-exception cell, are the class name and ``str(err)``;
    the traceback is the few short lines."""
    pytest.importorskip("ipykernel")
    manager = pytest.importorskip("jupyter_client.manager")
    km, kc = manager.start_new_kernel(kernel_name="python3")
    errors: list[dict] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] == "error":
            errors.append(msg["content"])

    try:
        kc.execute_interactive("import kubenet_lab as kl\nc = kl.Cluster(workers=2)",
                               timeout=120)
        kc.execute_interactive(TYPO, output_hook=hook, timeout=120)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    [error] = errors
    with pytest.raises(kl.NotFoundError) as expected:
        kl.Cluster(workers=2).add_pod("default/a", node="node-9")
    assert error["ename"] == "NotFoundError" and error["evalue"] == str(expected.value)
    assert len(error["traceback"]) <= 4
    assert error["traceback"][-1] == "  in your cell, line 2: c.add_pod('default/a', node='node-9')"
    assert not any("kubenet_lab/" in line for line in error["traceback"])


def test_plain_python_prints_the_whole_traceback(tmp_path):
    script = tmp_path / "typo.py"
    script.write_text("import kubenet_lab as kl\nc = kl.Cluster(workers=2)\n" + TYPO + "\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.startswith("Traceback (most recent call last):")
    assert "kubenet_lab/" in run.stderr and "did you mean" in run.stderr


def test_the_call_site_is_the_line_that_called_into_the_package():
    """Walking from the outermost frame, the last one before the package's code; a test
    module (outside the package) is named by its file."""
    def helper(c):
        return c.add_pod("default/a", node="node-9")

    with pytest.raises(kl.NotFoundError) as err:
        helper(kl.Cluster(workers=2))
    site = err.value._render_traceback_()[-1]
    assert site.startswith("  in test_notebook_errors.py, line ")
    assert site.endswith('return c.add_pod("default/a", node="node-9")')


def test_an_error_never_raised_renders_its_message_and_fix_only():
    err = kl.ConflictError("Pod x/a", None, "x/a", "already exists", fix="pick another name")
    assert err._render_traceback_() == ["ConflictError: Pod x/a: 'x/a' already exists",
                                        "  fix: pick another name"]
