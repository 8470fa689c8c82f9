"""The property suite's settings: few examples in an ordinary run (CI), many with
``--slow`` (``pytest tests/properties --slow``); and, at the end, what the examples
came to (``fuzz.STATS``)."""

from __future__ import annotations

import fuzz
import pytest
from hypothesis import HealthCheck, settings

#: Examples per test: an ordinary run, and ``--slow`` (about 10,000 calls in all).
EXAMPLES = {"ci": 60, "slow": 1000}

for _name, _count in EXAMPLES.items():
    settings.register_profile(
        _name, max_examples=_count, deadline=None, database=None,
        derandomize=_name == "ci", print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
    )
settings.load_profile("ci")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--slow", default=False):
        settings.load_profile("slow")


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's hook
    if fuzz.STATS:
        s = fuzz.STATS
        terminalreporter.write_line(
            f"property suite: {s['examples']:,} calls, {s['rejected cleanly']:,} rejected "
            f"cleanly, {s['accepted']:,} accepted, {s['foreign exceptions']} foreign "
            f"exceptions, {s['state changes']} state changes, {s['slow']} slow")
