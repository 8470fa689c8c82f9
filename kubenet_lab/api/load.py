"""Manifests in, documents out: YAML text, a path, a dict or a list of those; multi-document
YAML and ``kind: List`` (what ``kubectl get ... -o yaml`` prints) both work.

YAML is read with ``yaml.safe_load_all``, so object tags (``!!python/...``) are refused
without running anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubenet_lab.exceptions import ManifestError

__all__ = ["load_documents"]


def load_documents(src: Any) -> list[dict[str, Any]]:
    """Every object in ``src`` as a dict, ``kind: List`` unpacked, empty documents skipped.

    >>> [d["kind"] for d in load_documents("kind: Namespace\\n---\\nkind: Pod\\n")]
    ['Namespace', 'Pod']
    """
    docs: list[Any] = []
    if isinstance(src, (list, tuple)):
        for item in src:
            docs.extend(load_documents(item))
        return docs
    if isinstance(src, Mapping):
        docs = [dict(src)]
    elif isinstance(src, Path) or (
        isinstance(src, str) and "\n" not in src and src.endswith((".yaml", ".yml", ".json"))
    ):
        path = Path(src)
        if not path.is_file():
            raise ManifestError("manifest", None, str(src), "is not a file",
                                fix="check the path, or pass the YAML text itself")
        docs = _parse_yaml(path.read_text(), str(path))
    elif isinstance(src, str):
        docs = _parse_yaml(src, "manifest")
    else:
        raise ManifestError("manifest", None, type(src).__name__, "is not a manifest",
                            fix="pass YAML text, a path, a dict or a list of those")
    out: list[dict[str, Any]] = []
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            raise ManifestError(f"document {i + 1}", None, doc, "is not a mapping",
                                fix="each YAML document must be an object with apiVersion and kind")
        if doc.get("kind") == "List":
            items = doc.get("items")
            if not isinstance(items, list):
                raise ManifestError("List", "items", items, "is not a list")
            out.extend(load_documents(items))
        else:
            out.append(dict(doc))
    return out


def _parse_yaml(text: str, where: str) -> list[Any]:
    import yaml  # on first use: ``import kubenet_lab`` stays fast

    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "cannot be parsed"
        raise ManifestError(
            where, None, f"YAML{at}", f"is malformed: {problem}",
            fix="check the indentation and the ':' after each key",
        ) from err
