"""A small shell on a node or in a pod: the networking tools, in their real output format.

Every answer is computed from the dataplane (devices, routes, rules, traces), in the
format of the real tool on a current Linux (iproute2 6.x, iptables 1.8 nf_tables, iputils
ping and traceroute, BIND's nslookup, curl 8, tcpdump 4.99, kubectl 1.35), one module per
tool; each renders the tables it reads and never parses another tool's text. Where the
real tool prints something the lab cannot know, the tool's module says what it prints
instead. Anything else answers as a shell does (``command not found``, a usage line),
never with a Python error.

``ip route add`` / ``ip route del`` on a node change that node's routes (runtime state);
in a pod they answer ``RTNETLINK answers: Operation not permitted`` (a pod has no
CAP_NET_ADMIN).

The line is split into words as ``shlex.split`` does (quotes, backslashes), in linear
time (``shlex`` itself is quadratic in the length of a word). Every tool is an external
program, so the kernel's limits of ``execve`` apply (fs/exec.c): one argument of 128 KiB
or more (``MAX_ARG_STRLEN``, with its NUL) or a command line of more than 2 MiB (a
quarter of the 8 MiB stack; the environment's strings are not counted) is refused with
``E2BIG``, which bash reports with the program's path (``bash: /usr/bin/ping: Argument
list too long``) and dash with its name (``sh: 1: ping: Argument list too long``).

Examples
--------
>>> from kubenet_lab.dataplane.tables import Dataplane
>>> c = kl.Cluster(workers=1)
>>> print(run(Dataplane(c.store.snapshot(), c.runtime), "node-1", "ipconfig"))
bash: ipconfig: command not found
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.dns import node_resolv_conf, resolv_conf
from kubenet_lab.tools.bridge import bridge
from kubenet_lab.tools.conntrack import conntrack
from kubenet_lab.tools.context import Context
from kubenet_lab.tools.crictl import crictl
from kubenet_lab.tools.curl import curl
from kubenet_lab.tools.dig import dig
from kubenet_lab.tools.ip import ip
from kubenet_lab.tools.iptables import iptables
from kubenet_lab.tools.iptables_save import iptables_save
from kubenet_lab.tools.kubectl import kubectl_command
from kubenet_lab.tools.nft import nft
from kubenet_lab.tools.nslookup import nslookup
from kubenet_lab.tools.options import getopt
from kubenet_lab.tools.ping import ping
from kubenet_lab.tools.ss import ss
from kubenet_lab.tools.sysctl import modprobe, sysctl
from kubenet_lab.tools.tcpdump import tcpdump
from kubenet_lab.tools.traceroute import traceroute

if TYPE_CHECKING:
    from kubenet_lab.dataplane.tables import Dataplane

__all__ = ["COMMANDS", "run"]


def run(dp: Dataplane, where: str, command: str) -> str:
    """See ``Cluster.exec``."""
    ctx = Context(dp, where)
    if not isinstance(command, str):
        return ctx.not_found(str(command))
    argv = split_words(command)
    if argv is None:
        return f"{ctx.shell}: Syntax error: Unterminated quoted string" if ctx.pod else (
            "bash: unexpected EOF while looking for matching quote")
    if not argv:
        return ""
    name, args = argv[0], argv[1:]
    if ctx.pod and name == "sudo" or name not in _PATHS or (
            name == "kubectl" and ctx.node is None):
        return ctx.not_found(name)
    if _too_long(argv):
        return (f"{ctx.shell}: {name}: Argument list too long" if ctx.pod else
                f"bash: {_PATHS[name]}: Argument list too long")
    while name == "sudo":  # sudo runs the command as root, as the node's user already is
        args = _sudo_options(args)
        if not args:
            return "usage: sudo -h | -K | -k | -V"
        name, args = args[0], args[1:]
        if name not in _PATHS:
            return f"sudo: {name}: command not found"
    if name == "kubectl":
        return kubectl_command(ctx.view, args)
    return COMMANDS[name](ctx, args)


def _sudo_options(args: list[str]) -> list[str]:
    """The command after sudo's options: the flags that change nothing here
    (``-ABbEHkNnPS``) and ``-u root`` are skipped; any other option leaves no command,
    which sudo answers with its usage."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        arg = args[i]
        if arg == "--":
            return args[i + 1:]
        if arg in ("-u", "--user") and args[i + 1:i + 2] == ["root"]:
            i += 2
        elif arg in ("-uroot", "--user=root") or all(c in "ABbEHkNnPS" for c in arg[1:]):
            i += 1
        else:
            return []
    return args[i:]


_WORD = r"""(?:[^ \t\r\n'"\\]+|'[^']*'|"(?:[^"\\]|\\.)*"|\\.)+"""
_TOKEN = re.compile(rf"[ \t\r\n]+|(?P<word>{_WORD})", re.S)
_PIECE = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)|([^'"\\]+)""", re.S)
_QUOTED_ESCAPE = re.compile(r'\\([\\"])')
_BLANK = " \t\r\n"
_BLANKS = re.compile(r"[ \t\r\n]+")


def split_words(line: str) -> list[str] | None:
    """The words of ``line`` as ``shlex.split`` finds them (POSIX quoting, no comments),
    or None for an unterminated quote or a trailing backslash."""
    if not any(c in line for c in "'\"\\"):
        return _BLANKS.split(line.strip(_BLANK)) if line.strip(_BLANK) else []
    words: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(line):
        if match.start() != pos:  # an unterminated quote or a lone backslash in between
            return None
        pos = match.end()
        word = match.group("word")
        if word is None:
            continue
        if any(c in word for c in "'\"\\"):
            word = "".join(_unquote(piece) for piece in _PIECE.finditer(word))
        words.append(word)
    return words if pos == len(line) else None


def _unquote(piece: re.Match[str]) -> str:
    single, double, escaped, plain = piece.groups()
    if double is not None:  # in double quotes, a backslash escapes only " and itself
        return _QUOTED_ESCAPE.sub(r"\1", double)
    return next(p for p in (single, escaped, plain) if p is not None)


#: execve's limits (fs/exec.c, include/uapi/linux/binfmts.h): MAX_ARG_STRLEN, and a
#: quarter of the default 8 MiB stack for all the strings and their pointers.
_MAX_ARG_STRLEN = 32 * 4096
_ARG_MAX = 2 * 1024 * 1024


def _too_long(argv: list[str]) -> bool:
    """Would ``execve`` refuse this argument list with ``E2BIG``? (Each string counts its
    UTF-8 bytes, its NUL and its pointer.)"""
    if 4 * max(map(len, argv)) < _MAX_ARG_STRLEN and (
            4 * sum(map(len, argv)) + 9 * len(argv) <= _ARG_MAX):
        return False  # short enough whatever the characters
    sizes = [len(arg.encode("utf-8", "surrogatepass")) + 1 for arg in argv]
    return max(sizes) > _MAX_ARG_STRLEN or sum(sizes) + 8 * len(sizes) > _ARG_MAX


def hostname(ctx: Context, args: list[str]) -> str:
    """``hostname [-s|-f|-i|-I|-d|-a|-A|-y|-V]`` (Debian's hostname 3.23): the pod's name,
    or the node's, or its address. Setting a name is refused in a pod (no
    CAP_SYS_ADMIN), and the lab's nodes keep theirs."""
    parsed = getopt(args, "aAbdfF:hiIsyV", _HOSTNAME_LONGOPTS)
    if isinstance(parsed, str):
        return f"hostname: {parsed}\n{_HOSTNAME_USAGE}"
    opts, operands = parsed
    name = ctx.pod.name if ctx.pod else ctx.where
    address = ctx.pod.ip if ctx.pod else ctx.host.ip
    answer = name
    for opt, _ in opts:
        opt = _HOSTNAME_SHORT.get(opt, opt)
        if opt == "h":
            return _HOSTNAME_USAGE
        if opt == "V":
            return "hostname 3.23"
        answer = {"i": address, "I": f"{address} ", "d": "", "a": "", "A": "",
                  "y": "hostname: Local domain name not set"}.get(opt, answer)
    if operands or any(opt in ("F", "file") for opt, _ in opts):
        return ("hostname: you must be root to change the host name" if ctx.pod else
                "hostname: the lab's nodes keep their names")
    return answer


_HOSTNAME_LONGOPTS = {"alias": False, "all-fqdns": False, "boot": False, "domain": False,
                      "fqdn": False, "long": False, "file": True, "help": False,
                      "ip-address": False, "all-ip-addresses": False, "short": False,
                      "yp": False, "nis": False, "version": False}
_HOSTNAME_SHORT = {"alias": "a", "all-fqdns": "A", "domain": "d", "fqdn": "f", "long": "f",
                   "help": "h", "ip-address": "i", "all-ip-addresses": "I", "short": "s",
                   "yp": "y", "nis": "y", "version": "V"}
#: hostname.c usage() (Debian's hostname 3.23).
_HOSTNAME_USAGE = """Usage: hostname [-b] {hostname|-F file}         set host name (from file)
       hostname [-a|-A|-d|-f|-i|-I|-s|-y]       display formatted name
       hostname                                 display host name

       {yp,nis,}domainname {nisdomain|-F file}  set NIS domain name (from file)
       {yp,nis,}domainname                      display NIS domain name

       dnsdomainname                            display dns domain name

       hostname -V|--version|-h|--help          print info and exit

Program name:
       {yp,nis,}domainname=hostname -y
       dnsdomainname=hostname -d

Program options:
    -a, --alias            alias names
    -A, --all-fqdns        all long host names (FQDNs)
    -b, --boot             set default hostname if none available
    -d, --domain           DNS domain name
    -f, --fqdn, --long     long host name (FQDN)
    -F, --file             read host name or NIS domain name from given file
    -i, --ip-address       addresses for the host name
    -I, --all-ip-addresses all addresses for the host
    -s, --short            short host name
    -y, --yp, --nis        NIS/YP domain name

Description:
   This command can get or set the host name or the NIS domain name. You can
   also get the DNS domain or the FQDN (fully qualified domain name).
   Unless you are using bind or NIS for host lookups you can change the
   FQDN (Fully Qualified Domain Name) and the DNS domain name (which is
   part of the FQDN) in the /etc/hosts file."""


def cat(ctx: Context, args: list[str]) -> str:
    """``cat FILE...`` (coreutils): /etc/resolv.conf and /etc/hostname; other files do not
    exist (a few directories do). Its options are accepted and change nothing; without
    a file it reads its standard input, which is empty."""
    parsed = getopt(args, "AbeEnstTuv", _CAT_LONGOPTS)
    if isinstance(parsed, str):
        return f"cat: {parsed}\nTry 'cat --help' for more information."
    out = []
    for path in parsed[1]:
        if path == "/etc/resolv.conf":
            out.append(resolv_conf(ctx.view, ctx.pod.ref) if ctx.pod else node_resolv_conf())
        elif path == "/etc/hostname":
            out.append(hostname(ctx, []))
        elif path == "-":
            continue
        elif path and (path.rstrip("/") or "/") in _DIRECTORIES:
            out.append(f"cat: {_quote(path)}: Is a directory")
        else:
            out.append(f"cat: {_quote(path)}: No such file or directory")
    return "\n".join(out)


_CAT_LONGOPTS = {"show-all": False, "number-nonblank": False, "show-ends": False,
                 "number": False, "squeeze-blank": False, "show-tabs": False,
                 "show-nonprinting": False, "help": False, "version": False}
_DIRECTORIES = {"/", "/etc", "/proc", "/sys", "/usr", "/var", "/tmp", "/root", "/dev", "/run",
                "/bin", "/sbin", "/lib", "/home", "/opt", "/srv", "/mnt", "/boot"}
_SAFE = re.compile(r"[A-Za-z0-9%+,\-./:=@_^\u0080-\U0010ffff]+")


def _quote(name: str) -> str:
    """A file name as coreutils' quotef (shell-escape quoting) prints it."""
    if _SAFE.fullmatch(name) and name.isprintable():
        return name
    if "'" in name and not any(c in name for c in '"$`\\!'):
        return f'"{name}"'
    return "'" + name.replace("'", "'\\''") + "'"


#: Where each program is on an Ubuntu 24.04 node (the first match on bash's PATH).
_PATHS = {
    "bridge": "/usr/sbin/bridge", "cat": "/usr/bin/cat", "crictl": "/usr/local/bin/crictl",
    "curl": "/usr/bin/curl",
    "conntrack": "/usr/sbin/conntrack", "dig": "/usr/bin/dig", "ss": "/usr/bin/ss",
    "sysctl": "/usr/sbin/sysctl", "modprobe": "/usr/sbin/modprobe",
    "hostname": "/usr/bin/hostname", "ip": "/usr/sbin/ip",
    "iptables": "/usr/sbin/iptables", "iptables-save": "/usr/sbin/iptables-save",
    "kubectl": "/usr/bin/kubectl",
    "nft": "/usr/sbin/nft",
    "nslookup": "/usr/bin/nslookup", "ping": "/usr/bin/ping", "sudo": "/usr/bin/sudo",
    "tcpdump": "/usr/bin/tcpdump", "traceroute": "/usr/sbin/traceroute",
}

#: The commands the shell knows, by name.
COMMANDS: dict[str, Callable[[Context, list[str]], str]] = {
    "bridge": bridge,
    "cat": cat,
    "conntrack": conntrack,
    "crictl": crictl,
    "curl": curl,
    "dig": dig,
    "hostname": hostname,
    "ip": ip,
    "iptables": iptables,
    "iptables-save": iptables_save,
    "nft": nft,
    "modprobe": modprobe,
    "nslookup": nslookup,
    "ping": ping,
    "ss": ss,
    "sysctl": sysctl,
    "tcpdump": tcpdump,
    "traceroute": traceroute,
}
