"""The public surface: one flat namespace, sorted and complete; imports flow one way."""

import ast
import json
from pathlib import Path

import kubenet_lab as kl

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kubenet_lab"


def test_all_is_sorted_and_complete():
    assert kl.__all__ == sorted(kl.__all__)
    for name in kl.__all__:
        assert hasattr(kl, name), name
    public = {n for n in vars(kl) if not n.startswith("_") and n[0].isupper()}
    public -= {"KUBERNETES_VERSION"}
    missing = {n for n in public if n not in kl.__all__}
    assert not missing, f"public names not in __all__: {sorted(missing)}"


def _module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_model_never_imports_engines_or_views_at_module_level():
    for path in (PACKAGE / "model").glob("*.py"):
        for module in _module_level_imports(path):
            assert not module.startswith(("kubenet_lab.engines", "kubenet_lab.views")), (
                f"{path.name} imports {module}")


def test_engines_never_import_views():
    for path in (PACKAGE / "engines").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("kubenet_lab.views"), path.name


def test_the_library_never_prints():
    for path in PACKAGE.rglob("*.py"):
        if path.name == "conftest.py":
            continue
        tree = ast.parse(path.read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id == "print"]
        assert not calls, f"print() in {path.relative_to(ROOT)}"


def test_lessons_use_only_the_public_api():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            assert "kubenet_lab." not in source, f"{path.name} reaches into a submodule"
            assert "._" not in source.replace("._repr", ""), f"{path.name} uses a private name"
