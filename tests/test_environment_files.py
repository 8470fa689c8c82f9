"""Keep environment.yml (Binder/conda), pyproject.toml, README.md and .ci/run in step.

conda channels are not reachable from the project's machines, so nothing else would notice
when environment.yml drifts from pyproject.toml.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_HEADING = "Run the tests"
OPEN_HEADING = "Open the course"


def _load_toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 only
        try:
            import tomli as tomllib
        except ImportError:
            pytest.skip("reading pyproject.toml on Python 3.10 needs 'tomli' (pip install tomli)")
    with path.open("rb") as f:
        return tomllib.load(f)


def _load_environment() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def _split_requirement(req: str) -> tuple[str, str]:
    """``'PyYAML >= 6'`` -> ``('pyyaml', '>=6')`` (name normalised, spaces dropped)."""
    req = req.split(";", 1)[0].strip()  # drop environment markers
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$", req)
    assert m, f"cannot parse requirement {req!r}"
    name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
    return name, m.group(2).replace(" ", "")


def _conda_and_pip_entries() -> tuple[dict[str, str], list[str]]:
    env = _load_environment()
    conda: dict[str, str] = {}
    pip: list[str] = []
    for dep in env.get("dependencies") or []:
        if isinstance(dep, str):
            name, spec = _split_requirement(dep)
            conda[name] = spec
        elif isinstance(dep, dict) and "pip" in dep:
            entries = dep["pip"]
            assert isinstance(entries, list), "the '- pip:' entry of environment.yml must be a list"
            pip.extend(str(e) for e in entries)
    return conda, pip


def test_environment_yml_has_every_pyproject_dependency() -> None:
    project = _load_toml(ROOT / "pyproject.toml")["project"]
    conda, _ = _conda_and_pip_entries()
    missing, different = [], []
    for req in project["dependencies"]:
        name, spec = _split_requirement(req)
        if name not in conda:
            missing.append(req)
        elif conda[name] and conda[name] != spec:
            different.append(f"{name}: pyproject {spec!r}, environment.yml {conda[name]!r}")
    assert not missing, f"in pyproject.toml dependencies but not in environment.yml: {missing}"
    assert not different, f"version bounds differ: {different}"


def test_environment_yml_python_and_pip() -> None:
    project = _load_toml(ROOT / "pyproject.toml")["project"]
    conda, pip = _conda_and_pip_entries()
    assert "python" in conda, "environment.yml must list python"
    assert conda["python"] == project["requires-python"].replace(" ", "")
    assert "pip" in conda, "environment.yml must list pip, or conda ignores the '- pip:' entries"
    # Binder only installs the course package through this entry.
    assert "-e ." in [p.strip() for p in pip], "environment.yml needs '- pip: [\"-e .\"]'"


def _readme_command(heading: str) -> str:
    """The single command in the first fenced block after the README heading naming it."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("#") and heading in line]
    assert starts, f"README.md has no heading containing {heading!r}"
    i = starts[0] + 1
    while i < len(lines) and not lines[i].lstrip().startswith("```"):
        assert not lines[i].startswith("#"), f"no fenced block under {heading!r} in README.md"
        i += 1
    assert i < len(lines), f"no fenced block under {heading!r} in README.md"
    block = []
    for line in lines[i + 1 :]:
        if line.lstrip().startswith("```"):
            break
        block.append(line)
    commands = [c.strip() for c in block if c.strip() and not c.strip().startswith("#")]
    assert len(commands) == 1, f"README {heading!r} block must hold one command line: {commands}"
    return commands[0]


def test_readme_open_command_is_one_line() -> None:
    assert _readme_command(OPEN_HEADING)


def test_ci_runs_the_readme_test_command() -> None:
    command = _readme_command(TEST_HEADING)
    ci = ROOT / ".ci" / "run"
    assert ci.is_file(), ".ci/run is missing"
    assert os.access(ci, os.X_OK), ".ci/run must be executable (chmod +x .ci/run)"
    text = ci.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    lines = [line.strip() for line in text.splitlines()]
    assert command in lines, f".ci/run must run the README test command exactly:\n{command}"
