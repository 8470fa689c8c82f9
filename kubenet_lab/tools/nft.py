"""``nft`` (nftables 1.0.x): the listing commands on a node.

- ``nft list ruleset``: every table the node has in nftables. The lab writes one
  natively, kube-proxy's ``table ip kube-proxy`` in nftables mode (the policy agent's
  table and iptables-nft's ``ip filter`` / ``ip nat`` tables, which a real node would
  also list, are not rendered: the lab models the former as a verdict and the latter
  only as ``iptables-save`` text). In iptables mode the list is empty.
- ``nft list tables``; ``nft list table [ip] kube-proxy``; ``nft list chain [ip]
  kube-proxy CHAIN``; ``nft list set|map [ip] kube-proxy NAME`` (one object inside its
  ``table ... { }``), from ``kubenet_lab.dataplane.kube_proxy_nftables``. The elements
  of the affinity sets are the client addresses the runtime remembers.
- Errors as nft prints them: a missing table, chain, set or map is ``Error: No such
  file or directory`` followed by the command and carets under the name; an unknown
  word is a ``syntax error`` with carets. nft's "did you mean" suggestions and the
  exact wording of its syntax errors (which depend on the bison version) are not
  reproduced; in a pod (no CAP_NET_ADMIN) the answer is ``Operation not permitted``.
"""

from __future__ import annotations

from kubenet_lab.dataplane.kube_proxy_nftables import nft_list
from kubenet_lab.tools.context import Context

__all__ = ["NFT_VERSION", "nft"]

NFT_VERSION = "nftables v1.0.9 (Old Doc Yak #3)"
_FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")
_USAGE = """Usage: nft [ options ] [ cmds... ]

Options (general):
  -h, --help                      Show this help
  -v, --version                   Show version information
  -V                              Show extended version information

Options (ruleset input handling):
  -f, --file <filename>           Read input from <filename>
  -D, --define <name=value>       Define variable, e.g. --define foo=1.2.3.4
  -i, --interactive               Read input from interactive CLI
  -I, --includepath <directory>   Add <directory> to the paths searched for include files. Default is: /etc
  -c, --check                     Check commands validity without actually applying the changes.
  -o, --optimize                  Optimize ruleset

Options (ruleset list format):
  -a, --handle                    Output rule handle.
  -s, --stateless                 Omit stateful information of ruleset.
  -t, --terse                     Omit contents of sets.
  -S, --service                   Translate ports to service names as described in /etc/services.
  -N, --reversedns                Translate IP addresses to names.
  -u, --guid                      Print UID/GID as defined in /etc/passwd and /etc/group.
  -n, --numeric                   Print fully numerical output.
  -y, --numeric-priority          Print chain priority numerically.
  -p, --numeric-protocol          Print layer 4 protocols numerically.
  -T, --numeric-time              Print time values numerically.

Options (command output format):
  -e, --echo                      Echo what has been added, inserted or replaced.
  -j, --json                      Format output in JSON
  -d, --debug <level [,level...]> Specify debugging level (scanner, parser, eval, netlink, mnl, proto-ctx, segtree, all)"""  # noqa: E501


def _error(message: str, words: list[str], at: int) -> str:
    """nft's error: the message, the command line, carets under word ``at``."""
    words = [w for w in words if w]
    line = " ".join(words)
    start = len(" ".join(words[:at])) + (1 if at else 0)
    width = len(words[at]) if at < len(words) else 1  # the end of the line
    return f"Error: {message}\n{line}\n{' ' * start}{'^' * width}"


def nft(ctx: Context, args: list[str]) -> str:
    """``nft [-n|-s|-a|-y] list ...`` on a node."""
    words = []
    for arg in args:
        if arg in ("-v", "--version"):
            return NFT_VERSION
        if arg in ("-h", "--help"):
            return _USAGE
        if arg in ("-n", "--numeric", "-s", "--stateless", "-a", "--handle", "-y",
                   "--numeric-priority", "-N", "-S", "-u", "-p", "-T"):
            continue  # the lab's listing has no counters, handles or names to resolve
        if arg.startswith("-") and not words:
            return f"nft: invalid option -- '{arg.lstrip('-')[:1]}'\n{_USAGE}"
        words.extend(arg.split())
    if not words:
        return ""
    if ctx.pod:
        return "Error: cache initialization failed: Operation not permitted"
    if words[0] != "list":
        return _error("syntax error, unexpected string", words, 0) if words[0] not in (
            "add", "create", "insert", "replace", "delete", "destroy", "flush", "reset",
            "rename", "monitor", "describe", "get") else (
            "Error: Could not process rule: Operation not permitted\n"
            "the lab's nftables tables are written by their agents only")
    return _list(ctx, words)


def _list(ctx: Context, words: list[str]) -> str:
    mode = ctx.view.config.kube_proxy_mode
    has_table = mode == "nftables" and not ctx.dp.plugin.replaces_kube_proxy
    if len(words) < 2:
        return _error("syntax error, unexpected end of file", words + [""], 1)
    what = words[1]
    if what == "ruleset":
        if len(words) > 2 and words[2] not in _FAMILIES:
            return _error("syntax error, unexpected string", words, 2)
        if not has_table or (len(words) > 2 and words[2] != "ip"):
            return ""
        return _render(ctx, "table").rstrip("\n")
    if what == "tables":
        if not has_table or (len(words) > 2 and words[2] != "ip"):
            return ""
        return "table ip kube-proxy"
    if what not in ("table", "chain", "set", "map"):
        return _error("syntax error, unexpected string", words, 1)
    rest = words[2:]
    family_given = bool(rest) and rest[0] in _FAMILIES
    family = rest[0] if family_given else "ip"
    names = rest[1:] if family_given else rest
    need = 1 if what == "table" else 2
    if len(names) < need:
        return _error("syntax error, unexpected end of file", words + [""], len(words))
    if len(names) > need:
        return _error("syntax error, unexpected string", words, len(words) - len(names) + need)
    table_at = 2 + int(family_given)
    if not has_table or family != "ip" or names[0] != "kube-proxy":
        return _error("No such file or directory", words, table_at)
    if what == "table":
        return _render(ctx, "table").rstrip("\n")
    text = _render(ctx, what, names[1])
    if text is None:
        return _error("No such file or directory", words, table_at + 1)
    return text.rstrip("\n")


def _render(ctx: Context, what: str, name: str | None = None) -> str | None:
    members = ctx.runtime.recent_members(ctx.host.name)
    affinity = {k: v for k, v in members.items() if k.startswith("affinity-")}
    return nft_list(ctx.view, ctx.host, affinity, what, name)
