"""The package's layers import one way (design.md), with no import cycle, and no module
reads or writes another object's private attributes.

Every import is read from the source, function-level ones included (an import inside
``if TYPE_CHECKING:`` only feeds annotations and is left out). The one exception to the
order: a result record's presentation methods (``__str__``, ``__repr__``,
``_repr_html_``, ``draw``, and ``text``, which is ``__str__`` with a choice of table) may
import a view.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kubenet_lab"

#: The layers, first to last: each may import only itself and the layers before it.
LAYERS = ("exceptions", "model", "api", "controllers", "dataplane", "walk", "analysis",
          "tools", "cluster", "views", "linux", "scenarios", "capstone", "exercises", "course",
          "site", "__main__")
PRESENTATION = {"__str__", "__repr__", "_repr_html_", "draw", "text"}
#: Private names other libraries define for everyone to use (IPython, Jupyter).
FOREIGN_PROTOCOLS = {"_repr_html_", "_repr_mimebundle_", "_render_traceback_"}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int | None:
    """The layer of ``kubenet_lab.<top>...``; None for the package's own ``__init__``."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "conftest":
        return None
    return LAYERS.index(parts[1])


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


class _Imports(ast.NodeVisitor):
    """Every ``kubenet_lab`` import of a module with the function it sits in."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.module, self.is_package = module, is_package
        self.found: list[tuple[str, str | None, int]] = []
        self.function: list[str] = []

    def visit_If(self, node: ast.If) -> None:
        if not _type_checking(node):
            self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.function.append(node.name)
        self.generic_visit(node)
        self.function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.module if self.is_package else self.module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        self._add(base, node.lineno)
        for alias in node.names:  # "from kubenet_lab.walk import stack" imports a module
            if (PACKAGE / Path(*base.split(".")[1:]) / f"{alias.name}.py").exists():
                self._add(f"{base}.{alias.name}", node.lineno)

    def _add(self, name: str, line: int) -> None:
        if name == "kubenet_lab" or name.startswith("kubenet_lab."):
            self.found.append((name, self.function[-1] if self.function else None, line))


def _imports() -> dict[Path, list[tuple[str, str | None, int]]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        visitor = _Imports(_module(path), path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text()))
        out[path] = visitor.found
    return out


IMPORTS = _imports()


def test_the_layer_list_covers_every_part_of_the_package():
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in IMPORTS}
    assert tops - {"__init__", "conftest"} == set(LAYERS)


@pytest.mark.parametrize("path", list(IMPORTS), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_one_way(path):
    here = _layer(_module(path))
    if here is None:
        return
    wrong = []
    for name, function, line in IMPORTS[path]:
        there = _layer(name)
        if there is None:
            wrong.append(f"line {line}: {name} (the package root re-exports everything)")
        elif there > here and not (function in PRESENTATION and LAYERS[there] == "views"):
            wrong.append(f"line {line}: {LAYERS[here]} imports {name} ({LAYERS[there]})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    graph = nx.DiGraph()
    for path, found in IMPORTS.items():
        here = _module(path)
        graph.add_node(here)
        for name, _, _ in found:
            if "kubenet_lab" not in (name, here) and name != here:
                graph.add_edge(here, name)
    # a package's __init__ that imports its own modules is no cycle through them
    graph.remove_edges_from([(a, b) for a, b in list(graph.edges) if b.startswith(a + ".")])
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, cycles[:3]


def _private_uses(path: Path) -> list[str]:
    """``obj._name`` where ``obj`` is not ``self`` or ``cls``, and imports of ``_name``
    from another module."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = node.attr
            private = name.startswith("_") and not name.startswith("__")
            if private and name not in FOREIGN_PROTOCOLS and not (
                    isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
    return found


@pytest.mark.parametrize("path", list(IMPORTS), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_touches_another_objects_private_attributes(path):
    found = _private_uses(path)
    assert not found, "\n".join(found)


def test_the_checks_catch_what_they_look_for(tmp_path):
    """The checks themselves: a backward import inside a function, and a private read."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f(c):\n    from kubenet_lab.views import text\n    return c._pods\n")
    visitor = _Imports("kubenet_lab.model.bad", False)
    visitor.visit(ast.parse(bad.read_text()))
    assert visitor.found == [("kubenet_lab.views", "f", 2), ("kubenet_lab.views.text", "f", 2)]
    assert _private_uses(bad) == ["line 3: c._pods"]


def test_the_architecture_note_names_every_module_of_the_middle_layers():
    """docs/architecture.md says where each concept lives: a module it does not name is
    one a newcomer will not find."""
    note = (ROOT / "docs" / "architecture.md").read_text()
    missing = []
    for layer in ("api", "controllers", "dataplane", "walk", "analysis", "tools"):
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            if path.name != "__init__.py" and path.stem not in note:
                missing.append(str(path.relative_to(PACKAGE)))
    assert not missing, missing
    assert (ROOT / "docs" / "architecture.png").stat().st_size > 10_000


def test_the_architecture_picture_describes_every_layer():
    """docs/architecture.py draws one row per layer with what it mirrors: a layer added
    without its line would stop the picture from being redrawn."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("architecture", ROOT / "docs" / "architecture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.MIRRORS) == set(LAYERS)
