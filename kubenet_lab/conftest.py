"""pytest setup for the docstring examples (``--doctest-modules``): ``kl`` is in scope.

Like networkx's own conftest, this file sits in the package so that it reaches the
doctests collected from ``kubenet_lab/``; a ``tests/conftest.py`` would not.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Examples draw figures headless. Set for this process only: an MPLBACKEND variable
    # would be inherited by nbval's kernels, which would then stop displaying figures.
    import matplotlib

    matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _kl_in_doctests(doctest_namespace: dict, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kubenet_lab

    doctest_namespace["kl"] = kubenet_lab
    # each example keeps its exercise progress in a file of its own, never the learner's
    monkeypatch.setenv("KUBENET_LAB_PROGRESS", str(tmp_path / "progress.json"))
