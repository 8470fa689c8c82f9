"""``iptables -S`` (iptables 1.8.10, nf_tables): the rules of one chain, or of a whole
table, in ``iptables-save``'s format, from the node's tables as every agent wrote them
(``kubenet_lab.dataplane.iptables``, the tables ``iptables-save`` prints).

``iptables [-t TABLE] -S [CHAIN [RULENUM]]`` prints, as ``nft_rule_list_save`` does
(netfilter iptables ``iptables/nft.c``):

- with a CHAIN, its policy line (``-P CHAIN ACCEPT``) for a built-in chain or ``-N
  CHAIN`` for a user chain, then its rules (``-A CHAIN ...``), in the order the kernel
  evaluates them; with a RULENUM (1 is the first), that one rule alone, and nothing when
  the chain has fewer rules;
- without one, first the policies of the built-in chains and a ``-N`` line for every
  user chain, in ``iptables-save``'s order, then every rule.

The command line is read as iptables reads it (``do_parse`` in ``iptables/xshared.c``):
``-t``/``--table``, ``-S``/``--list-rules`` with the chain attached (``-SINPUT``) or as
the next word not starting with ``-``, ``-w``/``--wait`` and ``-W`` (the lab has no
xtables lock to wait for), ``-n`` and ``-x`` (no effect on ``-S``), ``-V``. Its errors
are iptables' own: ``iptables: No chain/target/match by that name.`` (``nft_strerror``,
ENOENT) for a chain the table does not have, ``table 'X' does not exist`` with
"Perhaps iptables or your kernel needs to be upgraded." (VERSION_PROBLEM), and the
parameter problems with their "Try `iptables -h'" line (``basic_exit_err`` in
``libxtables/xtables.c``): ``unknown option``, ``Invalid rule number``, ``Bad
argument``, ``no command specified``.

What the lab does not model is said as such: the mangle, raw and security tables (the
lab keeps the filter and nat tables, as its ``iptables-save`` does), ``-L``'s table
layout, ``-v``'s counters, and the commands that change rules (``-A``, ``-I``, ``-D``,
``-F``, ...): the lab's rules are what kube-proxy, the kubelet, the CNI plugin and
ip-masq-agent write. In a pod (no CAP_NET_ADMIN) the answer is iptables' "Permission
denied (you must be root)".

Examples
--------
>>> from kubenet_lab.dataplane.tables import Dataplane
>>> c = kl.Cluster(workers=1)
>>> print(iptables(Context(Dataplane(c.store.snapshot(), c.runtime), "node-1"),
...                ["-t", "nat", "-S", "POSTROUTING"]))  # doctest: +ELLIPSIS
-P POSTROUTING ACCEPT
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
"""

from __future__ import annotations

from kubenet_lab.dataplane.iptables import node_tables
from kubenet_lab.tools.context import Context
from kubenet_lab.tools.iptables_save import IPTABLES_VERSION
from kubenet_lab.tools.options import strtoul

__all__ = ["iptables"]

_PROGRAM = f"iptables {IPTABLES_VERSION}"
_TRY = "Try `iptables -h' or 'iptables --help' for more information."
#: The built-in tables of iptables-nft that the lab does not render.
_UNMODELLED_TABLES = ("mangle", "raw", "security")
#: The commands (short and long) that change rules, or list them in -L's layout.
_OTHER_COMMANDS = {
    "A": "append", "C": "check", "D": "delete", "E": "rename-chain", "F": "flush",
    "I": "insert", "L": "list", "N": "new-chain", "P": "policy", "R": "replace",
    "X": "delete-chain", "Z": "zero",
}
#: The options iptables knows (IPT_OPTSTRING, iptables/xshared.h) and its long options
#: (original_opts, iptables/xtables.c): the ones the lab does not read are named as such.
_OPTSTRING = "ACDEFILMNPRSVXZcdijopstvW46fghmnwx"
_LONG_OPTIONS = (*_OTHER_COMMANDS.values(), "list-rules", "source", "destination", "src",
                 "dst", "protocol", "in-interface", "jump", "table", "match", "numeric",
                 "out-interface", "verbose", "wait", "wait-interval", "exact", "fragments",
                 "version", "help", "line-numbers", "modprobe", "set-counters", "goto",
                 "ipv4", "ipv6")
_LAB_ONLY = ("iptables: the lab lists rules with -S only (iptables -t TABLE -S [CHAIN]); "
             "its rules are the ones kube-proxy, the kubelet, the CNI plugin and "
             "ip-masq-agent write")


def _problem(message: str) -> str:
    """A PARAMETER_PROBLEM as ``basic_exit_err`` prints it."""
    return f"{_PROGRAM}: {message}\n{_TRY}"


def _has_arg(args: list[str], i: int) -> bool:
    """iptables' ``xs_has_arg``: is there a next word that is no option (nor ``!``)?"""
    return i < len(args) and not args[i].startswith(("-", "!"))


def _rule_number(text: str) -> int | None:
    """``xtables_strtoui(text, NULL, &n, 1, INT_MAX)``: base 0, the whole word, no sign."""
    if text.lstrip(" \t\n\v\f\r").startswith("-"):
        return None
    number = strtoul(text, base=0)
    if number.end == 0 or number.end != len(text) or number.overflow:
        return None
    return number.value if 1 <= number.value <= 2**31 - 1 else None


def _parse(args: list[str]) -> tuple[str, str | None, int] | str:
    """(table, chain, rule number) of ``-S``, or what iptables prints instead."""
    table, command, chain, rulenum = "filter", False, None, 0
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-t", "--table") or arg.startswith(("--table=", "-t")):
            if arg in ("-t", "--table"):
                if i >= len(args):
                    return _problem(f'option "{arg}" requires an argument')
                table, i = args[i], i + 1
            else:
                table = arg.split("=", 1)[1] if arg.startswith("--") else arg[2:]
        elif arg in ("-S", "--list-rules") or arg.startswith(("-S", "--list-rules=")):
            if command:
                return _problem("Cannot use -S with -S")
            command = True
            attached = arg.split("=", 1)[1] if arg.startswith("--") else arg[2:]
            if attached:
                chain = attached
            elif _has_arg(args, i):
                chain, i = args[i], i + 1
            if chain is not None and _has_arg(args, i):
                rulenum = _rule_number(args[i]) or 0
                if not rulenum:
                    return _problem(f"Invalid rule number `{args[i]}'")
                i += 1
        elif arg in ("-w", "--wait", "-W", "--wait-interval") or arg.startswith(
                ("--wait=", "--wait-interval=")) or (arg[:2] in ("-w", "-W") and
                                                     len(arg) > 2):
            if arg in ("-w", "--wait", "-W", "--wait-interval") and _has_arg(args, i):
                i += 1  # the seconds (or microseconds) to wait for the lock
        elif arg in ("-n", "--numeric", "-x", "--exact", "-4", "--ipv4"):
            continue
        elif arg in ("-V", "--version"):
            return f"iptables {IPTABLES_VERSION}"
        elif arg.startswith("--") and arg[2:].split("=", 1)[0] in _LONG_OPTIONS:
            return _LAB_ONLY
        elif arg.startswith("-") and not arg.startswith("--") and arg[1:2] in _OPTSTRING:
            return _LAB_ONLY  # an option the lab does not read, or several in one word
        elif arg.startswith("-") and arg != "-":
            shown = arg[:2] if not arg.startswith("--") else arg
            return _problem(f'unknown option "{shown}"')
        else:
            return f"Bad argument `{arg}'\n{_TRY}"
    if not command:
        return _problem("no command specified")
    return table, chain, rulenum


def iptables(ctx: Context, args: list[str]) -> str:
    """``iptables [-t TABLE] -S [CHAIN [RULENUM]]`` on a node."""
    if ctx.pod:
        return (f"{_PROGRAM}: Could not fetch rule set generation id: Permission denied "
                "(you must be root)")
    parsed = _parse(args)
    if isinstance(parsed, str):
        return parsed
    name, chain, rulenum = parsed
    tables = {t.name: t for t in node_tables(ctx.view, ctx.host)}
    if name in _UNMODELLED_TABLES:
        return f"iptables: the lab models the filter and nat tables only, not {name}"
    if name not in tables:
        return (f"{_PROGRAM}: table '{name}' does not exist\n"
                "Perhaps iptables or your kernel needs to be upgraded.")
    table = tables[name]
    # A declaration is ":NAME POLICY [packets:bytes]"; a user chain's policy is "-".
    heads = {decl[1:].split(" ", 1)[0]: decl.split(" ")[1] for decl in table.chains}
    lines = [f"-P {c} {policy}" if policy != "-" else f"-N {c}"
             for c, policy in heads.items()]
    if chain is None:
        return "\n".join(lines + list(table.rules))
    if chain not in heads:
        return "iptables: No chain/target/match by that name."
    rules = [r for r in table.rules if r.split(" ", 2)[1] == chain]
    if rulenum:
        return rules[rulenum - 1] if rulenum <= len(rules) else ""
    return "\n".join([lines[list(heads).index(chain)], *rules])
