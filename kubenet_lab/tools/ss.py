"""``ss`` (iproute2 6.1, Ubuntu 24.04's): the listening sockets of a node's processes or
of a pod's containers, as ``ss -tlnpu`` prints them.

The sockets are the model's, not a scan:

- a node: sshd (22, socket-activated by systemd on Ubuntu 24.04), systemd-resolved's stub
  (127.0.0.53%lo:53 and 127.0.0.54:53, TCP and UDP), kubelet (10250 on every address,
  healthz 127.0.0.1:10248), kube-proxy (metrics 127.0.0.1:10249, healthz 10256: the
  KubeProxyConfiguration defaults ``metricsBindAddress: 127.0.0.1:10249``,
  ``healthzBindAddress: 0.0.0.0:10256``), containerd's CRI streaming server on
  127.0.0.1; on the control plane the static pods kubeadm writes: kube-apiserver (6443),
  etcd (2379 on the node IP and 127.0.0.1, 2380 on the node IP, metrics 127.0.0.1:2381),
  kube-controller-manager (127.0.0.1:10257) and kube-scheduler (127.0.0.1:10259)
  (kubernetes.io "Ports and Protocols"; ``model.node.NODE_PORTS``); the CNI's: the
  kernel's VXLAN socket (UDP 0.0.0.0:8472, no process: flannel, Cilium), Calico's BIRD
  (BGP, 0.0.0.0:179) and Felix's health port (127.0.0.1:9099), Cilium's health port
  (4240);
- a pod: each running container's declared ports (``Pod.listener``; a container that
  declares none listens on its Services' target ports,
  ``controllers.endpointslice.listening_container``), on 0.0.0.0. The command runs in
  the pod's first container, which has its own PID namespace: ``-p`` names the
  process (pid 1) only for that container's sockets, as ss inside a container does.

Go programs listen with the backlog ``somaxconn`` (4096, the Send-Q of a LISTEN socket),
nginx with 511, sshd with 128. The nodes run with IPv6 disabled, so a Go listener on
``:PORT`` is bound to 0.0.0.0 (not ``*``). Pids and fds are derived from the node and
process names (stable, not real; each socket of a process has its own fd, as a
process's descriptors are distinct); the lab keeps no open connections after a command
(curl and the other tools close theirs), so without ``-l``/``-a`` only the header is
printed, and there are no UNIX sockets (``ss`` alone shows none).

Format: misc/ss.c ``render_calc_width`` and ``render``: the columns Netid (only when
more than one table is shown), State, Recv-Q, Send-Q, ``Local Address:`` (right
aligned) and Port, ``Peer Address:`` and Port, Process, sized to their contents and
the spare room of an 80-column line (ss's width when stdout is no terminal) shared out,
UDP before TCP. Without ``-n`` well-known ports show their /etc/services names (ssh,
domain, http, https, bgp). A real sample (harvester/harvester#3133, ``ss -plntu``)::

    udp   UNCONN 0      0      0.0.0.0:8472   0.0.0.0:*
    tcp   LISTEN 0      4096   127.0.0.1:10256   0.0.0.0:*   users:(("kube-proxy",pid=10968,fd=10))
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kubenet_lab.controllers.endpointslice import listening_container
from kubenet_lab.tools.context import Context
from kubenet_lab.tools.options import getopt

__all__ = ["Socket", "node_sockets", "pod_sockets", "ss"]

SCREEN_WIDTH = 80
_SERVICES = {22: "ssh", 53: "domain", 80: "http", 443: "https", 179: "bgp"}
_OPTSTRING = "dhalBetuwxnro460spTbEf:mMiA:D:F:vVzZN:KHQSO"
_LONGOPTS = {"numeric": False, "resolve": False, "all": False, "listening": False,
             "tcp": False, "udp": False, "raw": False, "unix": False, "udplite": False,
             "packet": False, "ipv4": False, "ipv6": False, "processes": False,
             "info": False, "memory": False, "extended": False, "options": False,
             "summary": False, "help": False, "version": False, "family": True,
             "query": True, "socket": True, "filter": True, "no-header": False,
             "oneline": False, "kill": False, "events": False, "contexts": False,
             "context": False, "threads": False, "cgroup": False, "net": True,
             "sctp": False, "vsock": False, "tipc": False, "xdp": False, "mptcp": False,
             "dccp": False, "bpf": False, "tos": False, "inet-sockopt": False}
_SHORT = {"numeric": "n", "all": "a", "listening": "l", "tcp": "t", "udp": "u",
          "processes": "p", "help": "h", "version": "V", "ipv4": "4", "ipv6": "6",
          "no-header": "H", "raw": "w", "unix": "x", "packet": "0", "sctp": "S"}
#: misc/ss.c usage() (iproute2 6.1), its first lines.
_USAGE = """Usage: ss [ OPTIONS ]
       ss [ OPTIONS ] [ FILTER ]
   -h, --help          this message
   -V, --version       output version information
   -n, --numeric       don't resolve service names
   -r, --resolve       resolve host names
   -a, --all           display all sockets
   -l, --listening     display listening sockets
   -o, --options       show timer information
   -e, --extended      show detailed socket information
   -m, --memory        show socket memory usage
   -p, --processes     show process using socket
   -i, --info          show internal TCP information
   -s, --summary       show socket usage summary
   -4, --ipv4          display only IP version 4 sockets
   -6, --ipv6          display only IP version 6 sockets
   -t, --tcp           display only TCP sockets
   -u, --udp           display only UDP sockets
   -w, --raw           display only RAW sockets
   -x, --unix          display only Unix domain sockets
   -H, --no-header     Suppress header line"""


@dataclass(frozen=True, slots=True)
class Socket:
    """A listening socket: protocol, address, port, process (None: the kernel's) and
    the listen backlog."""

    protocol: str
    address: str
    port: int
    process: str | None
    backlog: int = 4096


def _pid(*key: str) -> tuple[int, int]:
    raw = int.from_bytes(hashlib.sha256("/".join(key).encode()).digest()[:4], "big")
    return 300 + raw % 30000, 3 + raw // 30000 % 20


def node_sockets(ctx: Context) -> list[Socket]:
    """The listening sockets of the node's processes (see the module docstring)."""
    node = ctx.host
    out = [Socket("TCP", "0.0.0.0", 22, "sshd", 128),
           Socket("TCP", "127.0.0.53%lo", 53, "systemd-resolve"),
           Socket("TCP", "127.0.0.54", 53, "systemd-resolve"),
           Socket("UDP", "127.0.0.53%lo", 53, "systemd-resolve", 0),
           Socket("UDP", "127.0.0.54", 53, "systemd-resolve", 0),
           Socket("TCP", "127.0.0.1", 10248, "kubelet"),
           Socket("TCP", "0.0.0.0", 10250, "kubelet"),
           Socket("TCP", "127.0.0.1", 10249, "kube-proxy"),
           Socket("TCP", "0.0.0.0", 10256, "kube-proxy"),
           Socket("TCP", "127.0.0.1", 30000 + _pid(node.name, "cri")[0] % 30000,
                  "containerd")]
    if ctx.dp.plugin.replaces_kube_proxy:
        out = [s for s in out if s.process != "kube-proxy"]
    if node.control_plane:
        out += [Socket("TCP", "0.0.0.0", 6443, "kube-apiserver"),
                Socket("TCP", node.ip, 2379, "etcd"), Socket("TCP", "127.0.0.1", 2379, "etcd"),
                Socket("TCP", node.ip, 2380, "etcd"), Socket("TCP", "127.0.0.1", 2381, "etcd"),
                Socket("TCP", "127.0.0.1", 10257, "kube-controller"),
                Socket("TCP", "127.0.0.1", 10259, "kube-scheduler")]
    cni = ctx.view.cni
    if ctx.dp.plugin.tunnel_port:
        out.append(Socket("UDP", "0.0.0.0", ctx.dp.plugin.tunnel_port, None, 0))
    if cni == "calico":
        out += [Socket("TCP", "0.0.0.0", 179, "bird", 8),
                Socket("TCP", "127.0.0.1", 9099, "calico-node")]
    if cni == "cilium":
        out.append(Socket("TCP", "0.0.0.0", 4240, "cilium-agent"))
    return out


def pod_sockets(ctx: Context) -> list[tuple[Socket, bool]]:
    """The sockets the pod's running containers listen on, and whether each belongs to
    the container the command runs in (the first)."""
    pod = ctx.pod
    assert pod is not None
    out: list[tuple[Socket, bool]] = []
    first = pod.containers[0].name if pod.containers else None
    ports = sorted({(p.protocol, p.container_port) for c in pod.containers for p in c.ports}
                   | {(sp.protocol, sp.target_port) for svc in ctx.view.services
                      for sp in svc.ports if isinstance(sp.target_port, int)
                      and svc.namespace == pod.namespace})
    for protocol, port in ports:
        if protocol not in ("TCP", "UDP"):
            continue
        container = listening_container(ctx.view, pod, port, protocol)
        if container is None:
            continue
        image = pod.container(container).image.rsplit("/", 1)[-1].split(":")[0]
        process = image[:15] or container
        out.append((Socket(protocol, "0.0.0.0", port, process,
                           511 if image == "nginx" else 4096), container == first))
    return out


def ss(ctx: Context, args: list[str]) -> str:
    """``ss [-t] [-u] [-l] [-a] [-n] [-p] [-H]`` (see the module docstring)."""
    parsed = getopt(args, _OPTSTRING, _LONGOPTS)
    if isinstance(parsed, str):
        return f"ss: {parsed}\n{_USAGE}"
    opts, operands = parsed
    flags = {_SHORT.get(o, o) for o, _ in opts}
    if "h" in flags:
        return _USAGE
    if "V" in flags:
        return "ss utility, iproute2-6.1.0, libbpf 1.3.0"
    tables = [t for t in ("u", "t") if t in flags] or (
        [] if flags & {"x", "w", "0", "S"} else ["u", "t"])
    listening = "l" in flags or "a" in flags
    if "6" in flags and "4" not in flags:
        listening = False  # IPv6 is disabled: no IPv6 sockets
    numeric = "n" in flags
    rows: list[list[str]] = []
    header = ["Netid", "State", "Recv-Q", "Send-Q", "Local Address:", "Port",
              "Peer Address:", "Port", "Process"]
    if ctx.pod:
        sockets = pod_sockets(ctx)
        users = {}
        opened: dict[str, int] = {}  # a process's next fd: each socket has its own
        for s, mine in sockets:
            fd = _pid(ctx.pod.ref, s.process or "")[1] + opened.get(s.process or "", 0)
            opened[s.process or ""] = opened.get(s.process or "", 0) + 1
            users[s] = f'users:(("{s.process}",pid=1,fd={fd}))' if mine else ""
        found = [s for s, _ in sockets]
    else:
        found = node_sockets(ctx)
        users = {}
        opened = {}
        for s in found:
            if s.process is None:
                users[s] = ""
                continue
            pid, fd = _pid(ctx.where, s.process)
            fd += opened.get(s.process, 0)
            opened[s.process] = opened.get(s.process, 0) + 1
            users[s] = f'users:(("{s.process}",pid={pid},fd={fd}))'
    if listening and not operands:
        for table in tables:
            protocol = "UDP" if table == "u" else "TCP"
            chosen = sorted((s for s in found if s.protocol == protocol),
                            key=lambda s: (s.port, s.address))
            for s in chosen:
                port = str(s.port) if numeric else _SERVICES.get(s.port, str(s.port))
                rows.append(["udp" if table == "u" else "tcp",
                             "UNCONN" if table == "u" else "LISTEN", "0",
                             str(s.backlog if table == "t" else 0), f"{s.address}:", port,
                             "0.0.0.0:", "*", users[s] if "p" in flags else ""])
    show_netid = len(tables) > 1
    cols = list(range(9)) if show_netid else list(range(1, 9))
    lines = ([] if "H" in flags else [header]) + rows
    return _render([[line[c] for c in cols] for line in lines],
                   [header[c] for c in cols])


def _render(lines: list[list[str]], header: list[str]) -> str:
    """misc/ss.c render_calc_width and render, for an 80-column line."""
    right = {i for i, name in enumerate(header) if name.endswith("Address:")}
    # the left delimiters of ss.c's columns: none for Port and Process
    delims = ["" if i == 0 or name in ("Port", "Process") else " "
              for i, name in enumerate(header)]
    max_len = [max(len(line[i]) for line in lines) if lines else len(header[i])
               for i in range(len(header))]
    widths = []
    for i, length in enumerate(max_len):
        width = length + len(delims[i]) if i and length else length
        widths.append(min(width, SCREEN_WIDTH))
    total, start, count = 0, 0, 0
    for i, width in enumerate(widths):
        if not width:
            continue
        count += 1
        total += width
        nxt = next((j for j in range(i + 1, len(widths)) if widths[j]), None)
        if nxt is not None and total + widths[nxt] <= SCREEN_WIDTH:
            continue
        pad = SCREEN_WIDTH - total
        spacing, rem = divmod(pad, count) if pad > 0 else (0, 0)
        for j in range(i, start - 1, -1):
            if not widths[j]:
                continue
            widths[j] += spacing
            if rem:
                widths[j] += 1
                rem -= 1
        start, total, count = i + 1, 0, 0
    out = []
    for line in lines:
        text = ""
        for i, cell in enumerate(line):
            printed = len(delims[i]) if i else 0
            text += delims[i] if i else ""
            if i in right:
                spaces = widths[i] - len(cell) - printed
                if spaces > 0:
                    text += " " * spaces
                    printed += spaces
            text += cell
            printed += len(cell)
            if i not in right and widths[i] - printed > 0:
                text += " " * (widths[i] - printed)
        out.append(text)
    return "\n".join(out)
