"""Thin wrappers around iproute2, iptables-restore and nft, each run inside one of the
lab's network namespaces, and the names of those namespaces and devices.

Every command goes through ``ip netns exec NS ...`` or ``ip -n NS ...`` with a
namespace whose name starts with ``kln-`` (a node, the VPC subnet, an outside client)
or ``klp-`` (a pod): nothing here changes the host's own namespace, its devices, routes
or tables. Only ``ip netns add`` / ``ip netns del`` touch the host, and only the
``/run/netns/kln-*`` and ``klp-*`` entries they create (iproute2 ip/ipnetns.c).

Names. A network namespace's name is a file name under ``/run/netns`` (up to 255
bytes, ``NAME_MAX``); an interface's name is at most 15 characters (``IFNAMSIZ`` 16
with its NUL, include/uapi/linux/if.h; ``dev_valid_name`` in net/core/dev.c refuses
longer ones). ``short_name`` keeps a name that fits and otherwise cuts it and appends
8 hex digits of its SHA-256, so the same long name always gets the same short one and
two long names sharing a prefix stay distinct.

>>> short_name("veth1a2b3c4d")
'veth1a2b3c4d'
>>> short_name("vpc-a-very-long-node-name"), len(short_name("vpc-a-very-long-node-name"))
('vpc-a--75589192', 15)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

from kubenet_lab.exceptions import LinuxUnavailableError

__all__ = ["IFNAMSIZ", "NETNS_MAX", "NODE_PREFIX", "POD_PREFIX", "TOOLS", "Runner",
           "cleanup", "lab_namespaces", "node_netns", "pod_netns", "require", "short_name"]

#: Interface names: 15 characters at most (IFNAMSIZ - 1).
IFNAMSIZ = 15
#: Namespace names: a file name in /run/netns.
NETNS_MAX = 255
NODE_PREFIX, POD_PREFIX = "kln-", "klp-"
#: What ``realize`` runs, and the Debian package that brings each.
TOOLS = {"ip": "iproute2", "iptables-restore": "iptables", "nft": "nftables"}
#: How long one command may take before the lab gives up on it (seconds).
COMMAND_TIMEOUT = 20


def short_name(name: str, limit: int = IFNAMSIZ) -> str:
    """``name`` if it has at most ``limit`` characters, else its first ``limit - 9``
    characters, ``-`` and 8 hex digits of its SHA-256 (stable and distinct)."""
    if len(name) <= limit:
        return name
    tag = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:limit - 9]}-{tag}"


def node_netns(node: str) -> str:
    """``kln-<node>``: a node's network namespace (also ``kln-vpc``, ``kln-outside``)."""
    return short_name(NODE_PREFIX + node, NETNS_MAX)


def pod_netns(namespace: str, pod: str) -> str:
    """``klp-<namespace>-<pod>``: a pod's network namespace (its sandbox)."""
    return short_name(f"{POD_PREFIX}{namespace}-{pod}", NETNS_MAX)


def require() -> None:
    """Raise ``LinuxUnavailableError`` unless this is Linux, we are root and the tools
    are installed."""
    if not sys.platform.startswith("linux"):
        raise LinuxUnavailableError(
            "kubenet_lab.linux", None, sys.platform,
            "is not Linux: real network namespaces, veth pairs and bridges need a Linux "
            "kernel", fix="run it on a Linux machine (a VM or CI runner); the lessons never "
            "need it")
    if os.geteuid() != 0:
        raise LinuxUnavailableError(
            "kubenet_lab.linux", None, f"uid {os.geteuid()}",
            "is not root: creating network namespaces and devices needs CAP_SYS_ADMIN "
            "and CAP_NET_ADMIN", fix="run it as root, e.g. sudo .venv/bin/python -m "
            "kubenet_lab linux-check")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        packages = " ".join(sorted({TOOLS[t] for t in missing}))
        raise LinuxUnavailableError(
            "kubenet_lab.linux", None, ", ".join(missing),
            "not found on PATH", fix=f"install them: apt-get install -y {packages}")


def lab_namespaces() -> list[str]:
    """The network namespaces named ``kln-*`` or ``klp-*`` that exist now."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                         timeout=COMMAND_TIMEOUT, check=False).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    return [n for n in names if n.startswith((NODE_PREFIX, POD_PREFIX))]


def _kill_processes(ns: str) -> None:
    """End the processes still running in the namespace ``ns`` (``ip netns pids``):
    a namespace with a process in it outlives ``ip netns del``."""
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                         timeout=COMMAND_TIMEOUT, check=False).stdout
    for pid in out.split():
        try:
            os.kill(int(pid), 9)
        except (ProcessLookupError, ValueError, PermissionError):
            pass


def cleanup(names: Sequence[str] | None = None) -> list[str]:
    """Delete the lab's namespaces (by default every ``kln-*``/``klp-*`` one), ending
    the processes left in them; returns the names deleted. Deleting a namespace
    destroys its devices (a veth pair goes with either end)."""
    names = lab_namespaces() if names is None else list(names)
    done = []
    for ns in names:
        if not ns.startswith((NODE_PREFIX, POD_PREFIX)):
            continue  # never anything but the lab's own
        _kill_processes(ns)
        result = subprocess.run(["ip", "netns", "del", ns], capture_output=True, text=True,
                                timeout=COMMAND_TIMEOUT, check=False)
        if result.returncode == 0:
            done.append(ns)
    return done


class Runner:
    """Runs commands in the lab's namespaces, raising ``LinuxUnavailableError`` with
    the command and the tool's error when one fails; ``log`` keeps every command."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def run(self, ns: str, argv: Sequence[str], *, stdin: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """``ip netns exec NS argv...``."""
        if not ns.startswith((NODE_PREFIX, POD_PREFIX)):
            raise LinuxUnavailableError("kubenet_lab.linux", None, ns,
                                        "is not one of the lab's namespaces")
        return self._run(["ip", "netns", "exec", ns, *argv], stdin=stdin, check=check)

    def add_netns(self, ns: str) -> None:
        if not ns.startswith((NODE_PREFIX, POD_PREFIX)):
            raise LinuxUnavailableError("kubenet_lab.linux", None, ns,
                                        "is not one of the lab's namespaces")
        self._run(["ip", "netns", "add", ns])

    def _run(self, argv: list[str], *, stdin: str | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:
        self.log.append(" ".join(argv))
        try:
            result = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                                    timeout=COMMAND_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise LinuxUnavailableError("kubenet_lab.linux", None, " ".join(argv),
                                        f"could not run: {err}") from err
        if check and result.returncode != 0:
            raise LinuxUnavailableError(
                "kubenet_lab.linux", None, " ".join(argv)[-200:],
                f"failed (exit {result.returncode}): {result.stderr.strip()[-200:]}")
        return result
