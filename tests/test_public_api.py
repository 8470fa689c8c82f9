"""The public surface: one flat namespace, sorted and complete; the library never prints;
lessons use only the public API. (The layers are checked in test_layers.py.)"""

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


def test_every_name_a_module_exports_is_in_the_flat_namespace():
    """Each module named in ``kl._EXPORTS`` gives kl the names of its ``__all__``."""
    import importlib

    exported = {n for names in kl._EXPORTS.values() for n in names}
    for module in kl._EXPORTS:
        mod = importlib.import_module(f"kubenet_lab.{module}")
        assert set(getattr(mod, "__all__", ())) <= exported, module
        for name in kl._EXPORTS[module]:
            assert name in vars(mod), f"{module} has no {name}"


def test_importing_the_package_loads_nothing_heavy():
    """``import kubenet_lab`` is quick: the layers load on first use."""
    import subprocess
    import sys

    code = ("import sys, kubenet_lab as kl; print(sorted(m for m in sys.modules "
            "if m.startswith(('kubenet_lab.', 'matplotlib', 'yaml', 'ipywidgets'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


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
