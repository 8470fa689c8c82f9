"""``sysctl`` (procps-ng 4.0.4, Ubuntu 24.04's) over the kernel settings the lab models,
and ``modprobe [-r] br_netfilter``.

``sysctl NAME...`` prints ``NAME = VALUE``; ``-n`` the value only, ``-N`` the name only;
``-a`` every modelled key (a bounded list, not the thousand keys of a real kernel),
sorted as /proc/sys lists them; a directory key (``sysctl net.bridge``) lists what is
under it; ``-w NAME=VALUE`` and ``NAME=VALUE`` write, echoing ``NAME = VALUE`` (``-q``
not). A write changes the node's runtime state, a copy-on-fork mapping like the route
edits, and changes behaviour where the walk reads it:

- ``net.bridge.bridge-nf-call-iptables`` (present only while br_netfilter is loaded; 1,
  the module's default, on every lab node, as flannel requires): at 0, frames bridged
  on the node's cni0 skip iptables and conntrack (``walk.bridge``,
  ``walk.conntrack``): the reply of a same-node endpoint to a client pod that connected
  to a ClusterIP is not un-DNATed and the connection fails;
- ``net.ipv4.ip_forward`` (1: kubeadm's preflight requires it): at 0 the node stops
  forwarding (``walk.stack.ip_input``): its pods' traffic to other nodes, traffic to
  its pods from elsewhere, and a ClusterIP whose endpoint is local;
- the ``net.netfilter.nf_conntrack_*_timeout_*`` keys: the timeouts new conntrack
  entries get.

The others are shown and kept, and change nothing else: ``net.ipv4.conf.all.rp_filter``
(2, Ubuntu's /etc/sysctl.d/10-network-security.conf; 0 under Cilium, whose agent
writes it), ``net.ipv4.conf.all.route_localnet`` (1 where kube-proxy runs in iptables
mode, for NodePorts on 127.0.0.1; 0 in nftables mode and without kube-proxy),
``net.netfilter.nf_conntrack_max`` (kube-proxy's ``conntrack.min`` 131072 for a
2-vCPU node, else the kernel's 262144), ``net.ipv4.ip_local_port_range`` (32768 60999,
tab-separated as the kernel prints it). ``net.netfilter.nf_conntrack_count`` is the
size of the node's table, read-only. IPVS is not loaded: ``net.ipv4.vs.*`` does not
exist.

Messages, as procps-ng's src/sysctl.c prints them: an unknown key ``sysctl: cannot
stat /proc/sys/net/foo: No such file or directory``; a read-only key ``sysctl: setting
key "net.netfilter.nf_conntrack_count": Operation not permitted``; in a pod, whose
/proc/sys is mounted read-only (runc), every write ``sysctl: permission denied on key
"net.ipv4.ip_forward"`` (the wording of the real message in containers:
``sysctl: permission denied on key "vm.max_map_count"``); ``-w`` without ``=``
``sysctl: command line(0): invalid syntax, continuing...``; no argument: the usage on
stderr. A pod reads the keys of its own network namespace (ip_forward and the conf/all
settings inherited from the node when it was created, the rest at their defaults).

``modprobe br_netfilter`` loads the module again (its keys back at their defaults, 1);
``modprobe -r br_netfilter`` unloads it. Other module names: the modules a node has
loaded are accepted and change nothing; others answer as kmod does (``modprobe: FATAL:
Module foo not found in directory /lib/modules/6.8.0-51-generic``). In a pod modprobe
fails as it does without CAP_SYS_MODULE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.model.node import KERNEL_VERSION
from kubenet_lab.tools.context import Context
from kubenet_lab.tools.options import getopt, strtol
from kubenet_lab.walk.conntrack import conntrack_sysctls

if TYPE_CHECKING:
    from kubenet_lab.dataplane.tables import Dataplane

__all__ = ["BRIDGE_KEYS", "modprobe", "node_sysctls", "sysctl"]

VERSION = "sysctl from procps-ng 4.0.4"
#: br_netfilter's keys, at the module's defaults.
BRIDGE_KEYS = {"net.bridge.bridge-nf-call-arptables": "1",
               "net.bridge.bridge-nf-call-ip6tables": "1",
               "net.bridge.bridge-nf-call-iptables": "1"}
#: Keys that cannot be written (mode 0444).
_READ_ONLY = {"net.netfilter.nf_conntrack_count"}
#: Keys that hold one integer (the kernel's proc_dointvec), and their bounds.
_BOOLEAN = {"net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding",
            "net.ipv4.conf.all.route_localnet", *BRIDGE_KEYS}
_USAGE = """
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
      --dry-run        Print the key and values but do not write
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8)."""
_LONGOPTS = {"all": False, "deprecated": False, "dry-run": False, "binary": False,
             "ignore": False, "names": False, "values": False, "load": False,
             "quiet": False, "write": False, "system": False, "pattern": True,
             "help": False, "version": False}
_SHORT = {"all": "a", "binary": "b", "ignore": "e", "names": "N", "values": "n",
          "load": "p", "quiet": "q", "write": "w", "pattern": "r", "help": "h",
          "version": "V"}


def _kube_proxy_mode(dp: Dataplane) -> str | None:
    """kube-proxy's mode, or None where a CNI plugin replaces it."""
    if dp.plugin.replaces_kube_proxy:
        return None
    return str(getattr(dp.view.config, "kube_proxy_mode", "iptables"))


def node_sysctls(dp: Dataplane, node: str) -> dict[str, str]:
    """Every key the lab models on ``node`` and its value (see the module docstring)."""
    rt = dp.runtime
    mode = _kube_proxy_mode(dp)
    values = {
        "net.core.somaxconn": "4096",
        "net.ipv4.conf.all.route_localnet": "1" if mode == "iptables" else "0",
        "net.ipv4.conf.all.rp_filter": "0" if dp.view.cni == "cilium" else "2",
        "net.ipv4.conf.default.rp_filter": "2",
        "net.ipv4.ip_forward": "1",
        "net.ipv4.ip_local_port_range": "32768\t60999",
        "net.netfilter.nf_conntrack_count": str(len(rt.conntrack(node))),
    }
    if rt.module_loaded(node, "br_netfilter"):
        values.update(BRIDGE_KEYS)
    for key in values:
        written = rt.sysctl(node, key)
        if written is not None:
            values[key] = written
    values["net.ipv4.conf.all.forwarding"] = values["net.ipv4.ip_forward"]
    values.update(conntrack_sysctls(dp, node))
    values["net.nf_conntrack_max"] = values["net.netfilter.nf_conntrack_max"]
    return dict(sorted(values.items(), key=lambda kv: kv[0].split(".")))


def _pod_sysctls(dp: Dataplane, node: str) -> dict[str, str]:
    """What a pod's network namespace shows: ip_forward and conf/all inherited from the
    node (devconf_inherit_init_net 0), the others at a new namespace's defaults."""
    host = node_sysctls(dp, node)
    values = {k: v for k, v in host.items() if not k.startswith("net.netfilter.")}
    values["net.core.somaxconn"] = "4096"
    values["net.ipv4.ip_local_port_range"] = "32768\t60999"
    values.update({k: v for k, v in host.items() if k in (
        "net.netfilter.nf_conntrack_max", "net.netfilter.nf_conntrack_count")})
    values["net.netfilter.nf_conntrack_count"] = "0"
    values.pop("net.nf_conntrack_max", None)  # only in the initial namespace
    return dict(sorted(values.items(), key=lambda kv: kv[0].split(".")))


def _path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def _normalise(key: str, value: str) -> str | None:
    """The value as the kernel stores it, or None when it refuses it (EINVAL)."""
    if key == "net.ipv4.ip_local_port_range":
        parts = value.split()
        numbers = [strtol(p) for p in parts]
        if len(parts) != 2 or any(n.end < len(p) for n, p in zip(numbers, parts, strict=True)):
            return None
        low, high = numbers[0].value, numbers[1].value
        if not 1 <= low <= high <= 65535:
            return None
        return f"{low}\t{high}"
    number = strtol(value.strip())
    if not value.strip() or number.end < len(value.strip()) or number.overflow:
        return None
    if key in BRIDGE_KEYS:
        return "1" if number.value else "0"
    if not -(2**31) <= number.value < 2**31:
        return None
    return str(number.value)


def sysctl(ctx: Context, args: list[str]) -> str:
    """``sysctl [-a] [-n] [-N] [-q] [-w] NAME[=VALUE]...`` (see the module docstring)."""
    if not args:
        return _USAGE
    parsed = getopt(args, "bneNwfp::qoxaAXr:Vdh", _LONGOPTS)
    if isinstance(parsed, str):
        return f"sysctl: {parsed}\n{_USAGE}"
    opts, operands = parsed
    flags = {_SHORT.get(o, o) for o, _ in opts}
    if flags & {"h", "d", "?"}:
        return _USAGE
    if "V" in flags:
        return VERSION
    dp = ctx.dp
    node = ctx.host.name
    values = _pod_sysctls(dp, node) if ctx.pod else node_sysctls(dp, node)
    names_only, values_only = "N" in flags, bool(flags & {"n", "b"})
    pattern = next((v for o, v in opts if _SHORT.get(o, o) == "r"), None)

    def show(key: str) -> str:
        if names_only:
            return key
        return values[key] if values_only else f"{key} = {values[key]}"

    if flags & {"a", "A", "X"}:
        return "\n".join(show(k) for k in values if pattern is None or pattern in k)
    if flags & {"p", "f", "system"}:
        return ("sysctl: the lab keeps no /etc/sysctl.conf to load: set keys with "
                "sysctl -w NAME=VALUE")
    if not operands:
        return ("sysctl: no variables specified\n"
                "Try `sysctl --help' for more information.")
    if names_only and "q" in flags:
        return ("sysctl: options -N and -q cannot coexist\n"
                "Try `sysctl --help' for more information.")
    out: list[str] = []
    for operand in operands:
        if "w" in flags or "=" in operand:
            out += _write(ctx, values, operand, flags)
            continue
        key = operand.replace("/", ".").strip(".")
        under = [k for k in values if k.startswith(key + ".")]
        if key in values:
            out.append(show(key))
        elif under:
            out += [show(k) for k in under]
        else:
            out.append(f"sysctl: cannot stat {_path(key)}: No such file or directory")
    return "\n".join(out)


def _write(ctx: Context, values: dict[str, str], operand: str, flags: set[str]) -> list[str]:
    """One ``NAME=VALUE`` (WriteSetting)."""
    key, eq, value = operand.partition("=")
    key, value = key.strip().replace("/", ".").strip("."), value.strip()
    if not eq:
        return ["sysctl: command line(0): invalid syntax, continuing..."]
    under = [k for k in values if k.startswith(key + ".")]
    if key not in values:
        if under:
            return [f'sysctl: setting key "{key}": Is a directory']
        return [f"sysctl: cannot stat {_path(key)}: No such file or directory"]
    if key in _READ_ONLY:
        return [f'sysctl: setting key "{key}": Operation not permitted']
    if ctx.pod:
        return [f'sysctl: permission denied on key "{key}"']
    stored = _normalise(key, value)
    if stored is None:
        return [f'sysctl: setting key "{key}": Invalid argument']
    if "dry-run" not in flags:
        target = "net.ipv4.ip_forward" if key == "net.ipv4.conf.all.forwarding" else (
            "net.netfilter.nf_conntrack_max" if key == "net.nf_conntrack_max" else key)
        ctx.runtime.set_sysctl(ctx.host.name, target, stored)
    if "q" in flags:
        return []
    if "N" in flags:
        return [key]
    return [value if flags & {"n", "b"} else f"{key} = {value}"]


#: Modules a kubeadm node with the lab's CNI plugins has loaded.
_MODULES = {"br_netfilter", "overlay", "nf_conntrack", "nf_nat", "iptable_nat",
            "iptable_filter", "ip_tables", "nf_tables", "nfnetlink", "x_tables",
            "xt_conntrack", "xt_MASQUERADE", "xt_comment", "xt_mark", "xt_addrtype",
            "xt_statistic", "xt_recent", "vxlan", "veth", "bridge", "ipip", "tunnel4",
            "ip_tunnel", "nf_defrag_ipv4", "nfnetlink_queue", "nft_chain_nat"}


def modprobe(ctx: Context, args: list[str]) -> str:
    """``modprobe [-r] MODULE`` (kmod 31): load or unload a module (br_netfilter changes
    the walk; see the module docstring)."""
    parsed = getopt(args, "aCcDfhinqrRsSvV", {"remove": False, "all": False,
                                              "quiet": False, "verbose": False,
                                              "version": False, "help": False,
                                              "dry-run": False, "first-time": False})
    if isinstance(parsed, str):
        return f"modprobe: {parsed}"
    opts, operands = parsed
    names = {o for o, _ in opts}
    if names & {"V", "version"}:
        return "kmod version 31\n+ZSTD +XZ -ZLIB +LIBCRYPTO -EXPERIMENTAL"
    if not operands:
        return "modprobe: ERROR: missing parameters. See -h."
    remove = bool(names & {"r", "remove"})
    modules = operands if remove or names & {"a", "all"} else operands[:1]
    out = []
    for module in modules:
        module = module.replace("-", "_")
        if ctx.pod:
            out.append(f"modprobe: FATAL: Module {module} not found in directory "
                       f"/lib/modules/{KERNEL_VERSION}")
            continue
        if module not in _MODULES:
            out.append(f"modprobe: FATAL: Module {module} not found in directory "
                       f"/lib/modules/{KERNEL_VERSION}")
            continue
        if module == "br_netfilter" and not names & {"n", "dry-run"}:
            loaded = ctx.runtime.module_loaded(ctx.host.name, module)
            if loaded != (not remove):
                ctx.runtime.set_module(ctx.host.name, module, not remove)
    return "\n".join(out)

