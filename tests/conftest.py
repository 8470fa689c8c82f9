"""pytest setup for the tests: figures are drawn headless (Agg), in this process only;
exercise progress goes to temporary files, never the learner's (``kl.progress()``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest


class _FreshProgressPerNotebook:
    """A global plugin (a conftest's own hooks only see the items under its directory):
    before nbval starts a notebook's kernel (in the notebook's collector setup, which runs
    after this hook), point ``KUBENET_LAB_PROGRESS`` at a new, empty file, so whatever ran
    earlier (another lesson, the browser test's Run All) has solved nothing there, and
    lesson 00's ``kl.progress()`` table shows zeros, as stored."""

    def __init__(self, record: Path) -> None:
        self.record, self.notebook = record, None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if item.path.suffix == ".ipynb" and item.path != self.notebook:
            self.notebook = item.path
            os.environ["KUBENET_LAB_PROGRESS"] = str(self.record / f"{item.path.stem}.json")


def pytest_configure(config: pytest.Config) -> None:
    # Every kernel the tests start (nbval, the browser test's JupyterLab) inherits a
    # temporary record, never the learner's (jupyter --data-dir).
    record = Path(tempfile.mkdtemp(prefix="kubenet-lab-progress-"))
    os.environ["KUBENET_LAB_PROGRESS"] = str(record / "progress.json")
    config.add_cleanup(lambda: shutil.rmtree(record, ignore_errors=True))
    config.pluginmanager.register(_FreshProgressPerNotebook(record), "kubenet-lab-progress")
    import matplotlib

    matplotlib.use("Agg")
    # nbval opens the sanitize file relative to the current directory; make pyproject's
    # relative path work when pytest is started from another directory too.
    path = getattr(config.option, "nbval_sanitize_with", None)
    if path and not Path(path).is_absolute() and not Path(path).exists():
        candidate = Path(config.rootpath, path)
        if candidate.exists():
            config.option.nbval_sanitize_with = str(candidate)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False,
                     help="run the property suite (tests/properties) with many examples")


@pytest.fixture(autouse=True)
def _progress_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test records solved exercises in its own file, not the notebooks' record."""
    monkeypatch.setenv("KUBENET_LAB_PROGRESS", str(tmp_path / "progress.json"))
