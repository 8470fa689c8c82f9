"""``crictl`` (cri-tools v1.35, the release of the cluster's minor that kubeadm's package
repository installs, against the node's containerd 2.2): the pod sandboxes of the node,
so that a sandbox id in ``iptables-save`` (the bridge plugin's ``name: "bridge" id:
"<64 hex>"`` comments, ``CNI-`` chains) can be mapped to its pod. What the lab prints is
the same in v1.33.0 and v1.35.0 (``git diff v1.33.0 v1.35.0 -- cmd/crictl/sandbox.go``
changes only getters and contexts).

- ``crictl pods [--name NAME] [--namespace NS] [-q|--quiet] [--no-trunc]``: the columns
  of cri-tools cmd/crictl/sandbox.go (``POD ID  CREATED  STATE  NAME  NAMESPACE  ATTEMPT
  RUNTIME``), laid out by Go's tabwriter as crictl sets it up (minimum cell width 20,
  padding 3); ids cut to 13 characters without ``--no-trunc`` (``truncatedIDLen``);
  CREATED as docker/go-units ``HumanDuration`` + " ago", by the cluster's clock;
  RUNTIME ``(default)`` (no runtime handler); newest first, as crictl sorts them.
- ``crictl inspectp ID``: the sandbox's status as JSON (``status.id``,
  ``status.metadata.{attempt,name,namespace,uid}``, ``status.state``,
  ``status.createdAt``, ``status.network.ip``, ``status.labels``); an id prefix is
  accepted, as crictl accepts a unique prefix. The ``info`` object containerd adds
  (its runtime spec, the CNI result) is left out.

The sandbox id is ``dataplane.cni.base.sandbox_id`` (containerd draws it at random; the
lab derives it from the pod's uid). crictl talks to the node's containerd: inside a pod
there is none (``not found``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kubenet_lab.api.meta import uid
from kubenet_lab.dataplane.cni.base import sandbox_id
from kubenet_lab.model.names import timestamp
from kubenet_lab.tools.options import getopt

if TYPE_CHECKING:
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.tools.context import Context

__all__ = ["crictl", "human_duration"]

TRUNCATED_ID_LEN = 13
_MIN_WIDTH, _PADDING = 20, 3
_HEADER = ("POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME")
_USAGE = """NAME:
   crictl - client for CRI

USAGE:
   crictl [global options] command [command options]

COMMANDS (the lab's):
   inspectp  Display the status of one or more pods
   pods      List pods"""


def human_duration(seconds: int) -> str:
    """docker/go-units ``HumanDuration``.

    >>> human_duration(0), human_duration(30), human_duration(61), human_duration(7200)
    ('Less than a second', '30 seconds', 'About a minute', '2 hours')
    """
    if seconds < 1:
        return "Less than a second"
    if seconds == 1:
        return "1 second"
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = round(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    return f"{hours // (24 * 7)} weeks"


def _table(rows: list[tuple[str, ...]]) -> str:
    """Go's text/tabwriter with crictl's settings (minwidth 20, padding 3, spaces)."""
    widths = [max(_MIN_WIDTH, max(len(r[i]) for r in rows) + _PADDING)
              for i in range(len(rows[0]) - 1)]
    return "\n".join("".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)) + r[-1]
                     for r in rows)


def _sandboxes(ctx: Context) -> list[Pod]:
    view = ctx.view
    pods = view.pods_on(ctx.node.name)  # type: ignore[union-attr]
    return sorted(pods, key=lambda p: -view.created(p))


def _pods(ctx: Context, args: list[str]) -> str:
    parsed = getopt(args, "qvo:", {"quiet": False, "no-trunc": False, "name": True,
                                   "namespace": True, "verbose": False, "output": True})
    if isinstance(parsed, str):
        return f"crictl pods: {parsed}"
    opts, _ = parsed
    flags = {o for o, _ in opts}
    name = next((v for o, v in opts if o == "name"), None)
    namespace = next((v for o, v in opts if o == "namespace"), None)
    full = "no-trunc" in flags
    pods = [p for p in _sandboxes(ctx)
            if (name is None or name in p.name) and (namespace is None or namespace in
                                                     p.namespace)]
    ids = [sandbox_id(p) if full else sandbox_id(p)[:TRUNCATED_ID_LEN] for p in pods]
    if flags & {"q", "quiet"}:
        return "\n".join(ids)
    now = ctx.view.clock
    rows = [_HEADER] + [
        (sid, f"{human_duration(now - ctx.view.created(p))} ago", "Ready", p.name,
         p.namespace, "0", "(default)") for sid, p in zip(ids, pods, strict=True)]
    return _table(rows)


def _inspectp(ctx: Context, args: list[str]) -> str:
    parsed = getopt(args, "o:", {"output": True})
    if isinstance(parsed, str):
        return f"crictl inspectp: {parsed}"
    _, operands = parsed
    if not operands:
        return 'FATA[0000] ID cannot be empty'
    out = []
    for prefix in operands:
        found = [p for p in _sandboxes(ctx) if sandbox_id(p).startswith(prefix.lower())]
        if len(found) != 1:
            return (f'FATA[0000] getting the pod sandbox status for "{prefix}": rpc error: '
                    f'code = NotFound desc = an error occurred when try to find sandbox '
                    f'"{prefix}": not found')
        pod = found[0]
        status = {
            "id": sandbox_id(pod),
            "metadata": {"attempt": 0, "name": pod.name, "namespace": pod.namespace,
                         "uid": uid("Pod", pod.name, pod.namespace)},
            "state": "SANDBOX_READY",
            "createdAt": timestamp(ctx.view.created(pod)).replace("Z", ".000000000Z"),
            "network": {"additionalIps": [], "ip": pod.ip},
            "labels": {**pod.labels, "io.kubernetes.pod.name": pod.name,
                       "io.kubernetes.pod.namespace": pod.namespace,
                       "io.kubernetes.pod.uid": uid("Pod", pod.name, pod.namespace)},
            "annotations": {},
            "runtimeHandler": "",
        }
        out.append(json.dumps({"status": status}, indent=2, sort_keys=False))
    return "\n".join(out)


def crictl(ctx: Context, args: list[str]) -> str:
    """``crictl pods`` and ``crictl inspectp`` on a node."""
    if ctx.pod is not None:
        return ctx.not_found("crictl")
    if not args or args[0] in ("-h", "--help", "help"):
        return _USAGE
    command, rest = args[0], args[1:]
    if command == "pods":
        return _pods(ctx, rest)
    if command == "inspectp":
        return _inspectp(ctx, rest)
    return (f'No help topic for \'{command}\'\n(the lab\'s crictl knows "pods" and '
            '"inspectp")')
