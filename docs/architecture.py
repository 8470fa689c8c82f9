"""Draw docs/architecture.png: the package's layers, the modules of each, and how many
imports go from each layer to the layers before it, read from the source (the same
reading as tests/test_layers.py).

Run:  python docs/architecture.py
"""

from __future__ import annotations

import sys
import textwrap
from collections import Counter
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_layers import IMPORTS, LAYERS, PACKAGE, _layer, _module  # noqa: E402

#: What each layer mirrors in a real cluster.
MIRRORS = {
    "exceptions": "the errors, named after what went wrong",
    "model": "etcd and the informer cache: records, Store, Snapshot",
    "api": "kube-apiserver: decoding, validation, defaulting, allocation",
    "controllers": "controller-manager, scheduler, cloud and ingress controllers, kubeadm",
    "dataplane": "what each node installed: devices, routes, rules; the kernels' Runtime",
    "walk": "the kernel and the wire: one loop over device handlers",
    "analysis": "questions over many packets: truth tables, the network model, traffic",
    "tools": "the node's command line: ip, iptables-save, ping, curl, kubectl, ...",
    "cluster": "the facade a learner drives: kubectl and the cluster",
    "views": "pictures, widgets, HTML and text",
    "linux": "the real kernel: namespaces, veths, iptables-restore, real connections",
    "scenarios": "ready-made clusters for the lessons, and clusters at scale",
    "capstone": "lesson 09's broken shop and the checks that find its faults",
    "exercises": "the lessons' checked exercises",
    "course": "the environment check",
    "site": "the course as an offline static site (build-site)",
    "__main__": "python -m kubenet_lab: teaching-solutions, build-site, linux-check",
}
COLOURS = ("#e8eef7", "#f4ecf7", "#fdf0e0", "#e8f5e9")


def modules_by_layer() -> dict[str, list[str]]:
    """The modules of each layer, as paths under kubenet_lab/ without ``.py``."""
    out: dict[str, list[str]] = {layer: [] for layer in LAYERS}
    for path in IMPORTS:
        layer = _layer(_module(path))
        if layer is not None and path.name != "__init__.py":
            out[LAYERS[layer]].append(str(path.relative_to(PACKAGE).with_suffix("")))
    return {k: sorted(v) for k, v in out.items()}


def imports_between_layers() -> Counter:
    """(from layer, to layer) -> number of import statements, other layers only."""
    counts: Counter = Counter()
    for path, found in IMPORTS.items():
        here = _layer(_module(path))
        for name, _, _ in found:
            there = _layer(name)
            if here is not None and there is not None and there != here:
                counts[(LAYERS[here], LAYERS[there])] += 1
    return counts


def draw() -> Figure:
    mods = modules_by_layer()
    counts = imports_between_layers()
    width, row = 11.0, 0.62
    fig = Figure(figsize=(width, row * len(LAYERS) + 0.9))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(-row * len(LAYERS) - 0.5, 0.5)
    ax.axis("off")
    ax.text(0.2, 0.22, "kubenet_lab: each layer imports only the layers above it",
            fontsize=12, fontweight="bold", va="center")
    for i, layer in enumerate(LAYERS):
        y = -i * row - 0.35
        ax.add_patch(FancyBboxPatch((0.2, y - 0.24), width - 1.1, 0.48,
                                    boxstyle="round,pad=0.02,rounding_size=0.08",
                                    facecolor=COLOURS[i % len(COLOURS)],
                                    edgecolor="#5b6573", linewidth=1))
        ax.text(0.35, y + 0.09, layer + ("/" if mods[layer][1:] or "/" in "".join(
            mods[layer]) else ".py"), fontsize=10, fontweight="bold", va="center")
        ax.text(0.35, y - 0.11, MIRRORS[layer], fontsize=8, va="center", color="#333333")
        names = [m.split("/", 1)[1] for m in mods[layer] if "/" in m]
        lines = textwrap.wrap(", ".join(names), 78)
        ax.text(4.75, y, "\n".join(lines), fontsize=7.5, va="center", color="#1f1f1f",
                family="monospace", linespacing=1.25)
        used = sum(n for (a, _), n in counts.items() if a == layer)
        if i:
            ax.add_patch(FancyArrowPatch((width - 0.55, y + 0.22), (width - 0.55, y + row - 0.22),
                                         arrowstyle="-|>", mutation_scale=10, color="#c2185b"))
            ax.text(width - 0.45, y + row / 2, f"{used}", fontsize=7, va="center",
                    color="#c2185b")
    ax.text(width - 0.85, 0.22, "imports\nupward", fontsize=7, ha="left", va="center",
            color="#c2185b")
    return fig


if __name__ == "__main__":
    draw().savefig(ROOT / "docs" / "architecture.png", dpi=110, metadata={"Software": None})
