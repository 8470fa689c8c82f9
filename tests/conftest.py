"""pytest setup for the tests: figures are drawn headless (Agg), in this process only."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
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
