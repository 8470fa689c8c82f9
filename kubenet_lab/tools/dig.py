"""``dig`` (BIND 9.18, Ubuntu 24.04's ``9.18.39-0ubuntu0.24.04.1``): one query to the
cluster DNS (from a pod: the ``nameserver`` of its resolv.conf, kube-dns's cluster IP)
or to the node's systemd-resolved stub (127.0.0.53, which knows no cluster names), or
to ``@server``, answered from CoreDNS's records (``dataplane.dns``).

The point to show: **without** ``+search`` dig does not use the search list, so ``dig
web`` asks for ``web.`` (CoreDNS forwards it upstream: NXDOMAIN), while ``dig +search
web`` tries ``web.<ns>.svc.cluster.local`` first (ndots:5) and answers; ``nslookup``,
``curl`` and ``ping`` always search (kubernetes/kubernetes#16744: "nslookup can find
service with short name but dig cannot").

Options: ``@server``, ``+short``, ``+search``/``+nosearch``, ``+noall``, ``+answer``,
``+cmd``/``+nocmd``, ``+comments``/``+nocomments``, ``+question``, ``+stats``,
``+tcp``/``+notcp``, ``-t TYPE`` or a bare type (A, AAAA, SRV, PTR, CNAME, SOA, NS,
ANY), ``-x ADDR`` (PTR: CoreDNS answers a Service's cluster IP with its name and an
endpoint's address with ``a-b-c-d.<svc>.<ns>.svc.<zone>``), ``-p 53``, ``-4``. An
unknown ``+option`` answers as dig does (``Invalid option: +foo`` and the short usage).

Output, as in real 9.18 answers from CoreDNS (for example ``dig -t A
myapp.default.svc.cluster.local @10.96.0.10`` on a kubeadm node: ``;; WARNING: .local is
reserved for Multicast DNS``, ``flags: qr aa rd``, ``;; WARNING: recursion requested but
not available``, ``; EDNS: version: 0, flags:; udp: 1232``, ``; COOKIE: ... (echoed)``,
``myapp.default.svc.cluster.local. 30 IN\\tA\\t10.100.179.119``, ``;; SERVER:
10.96.0.10#53(10.96.0.10) (UDP)``, ``;; MSG SIZE  rcvd: 119``): the sections with
dig's tab stops (name to column 24, TTL 32, class 40, type 48; a question's class at
32), the message size computed from the wire format as CoreDNS sends it (no name
compression, the client's 8-byte cookie echoed: 119 bytes for that answer, as the
sample). ``;; WHEN:`` is the cluster's clock (``model.names.EPOCH`` plus the seconds of
its API requests) in UTC; the id and the cookie are derived from the query, the query
time from the path (0-1 ms): deterministic, not measured. The query is a real UDP
packet from the pod (``Context.send``): it enters the conntrack tables and
``tcpdump``'s capture; when it is lost dig prints ``;; communications error to ...:
timed out`` three times and ``;; no servers could be reached``. Names outside the
cluster zone are forwarded by CoreDNS to an upstream the lab does not model, which
answers NXDOMAIN from the root (``a.root-servers.net.`` SOA).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from ipaddress import IPv4Address

from kubenet_lab.dataplane.dns import DNS_SERVICE, lookup, search_path
from kubenet_lab.model.names import EPOCH
from kubenet_lab.tools.context import Context, rtt_ms

__all__ = ["VERSION", "dig"]

VERSION = "9.18.39-0ubuntu0.24.04.1-Ubuntu"
_TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
          "AAAA": 28, "SRV": 33, "ANY": 255}
_USAGE = """Usage:  dig [@global-server] [domain] [q-type] [q-class] {q-opt}
            {global-d-opt} host [@local-server] {local-d-opt}
            [ host [@local-server] {local-d-opt} [...]]

Use "dig -h" (or "dig -h | more") for complete list of options"""
_BOOL_OPTS = {"short", "search", "all", "answer", "cmd", "comments", "question", "stats",
              "tcp", "vc", "additional", "authority", "recurse", "cookie", "edns",
              "identify", "ttlid", "class", "multiline", "showsearch"}
_ROOT_SOA = "a.root-servers.net. nstld.verisign-grs.com. 2026120100 1800 900 604800 86400"


def _wire(name: str) -> int:
    """The length of ``name`` in the wire format (uncompressed)."""
    labels = [label for label in name.rstrip(".").split(".") if label]
    return sum(len(label) + 1 for label in labels) + 1


def _pad(text: str, column: int) -> str:
    """dig's tab stops: tabs to ``column``, or one space when already past it."""
    if len(text.expandtabs()) >= column:
        return text + " "
    while len(text.expandtabs()) < column:
        text += "\t"
    return text


def _rr(name: str, rtype: str, value: str) -> str:
    line = _pad(name, 24) + "30"
    line = _pad(line, 32) + "IN"
    line = _pad(line, 40) + rtype
    return _pad(line, 48) + value


def _rdlen(rtype: str, value: str) -> int:
    if rtype == "A":
        return 4
    if rtype == "SRV":
        return 6 + _wire(value.split()[-1])
    if rtype == "SOA":
        mname, rname = value.split()[:2]
        return _wire(mname) + _wire(rname) + 20
    return _wire(value)


def _ptr(ctx: Context, address: str) -> str | None:
    """CoreDNS's PTR answer for ``address``: a Service's name, or an endpoint's."""
    zone = ctx.view.cluster_domain
    for svc in ctx.view.services:
        if svc.cluster_ip == address:
            return f"{svc.name}.{svc.namespace}.svc.{zone}."
    for svc in ctx.view.services:
        if svc.selector and svc.cluster_ip is not None:
            for pod in ctx.view.pods:
                if pod.ip == address and pod.namespace == svc.namespace and all(
                        pod.labels.get(k) == v for k, v in svc.selector.items()):
                    return f"{address.replace('.', '-')}.{svc.name}.{svc.namespace}.svc.{zone}."
    return None


def _cluster_servers(ctx: Context) -> set[str]:
    """The addresses that answer with CoreDNS's records: kube-dns and its pods."""
    view = ctx.view
    try:
        svc = view.service(DNS_SERVICE)
    except Exception:  # noqa: BLE001 - a cluster without kube-dns
        return set()
    servers = {svc.cluster_ip} if svc.cluster_ip else set()
    servers |= {p.ip for p in view.pods if p.namespace == "kube-system"
                and p.labels.get("k8s-app") == "kube-dns"}
    return servers


def dig(ctx: Context, args: list[str]) -> str:
    """``dig [@server] NAME [TYPE] [+short] [+search]`` (see the module docstring)."""
    server = None
    name = None
    qtype = None
    opts = {"cmd": True, "comments": True, "question": True, "answer": True,
            "authority": True, "additional": True, "stats": True, "short": False,
            "search": False, "tcp": False}
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg.startswith("@"):
            server = arg[1:]
        elif arg.startswith("+"):
            word = arg[1:].split("=", 1)[0].lower()
            on = not word.startswith("no")
            base = word[2:] if not on else word
            full = next((o for o in sorted(_BOOL_OPTS) if o.startswith(base) and base), None)
            if full is None:
                return f"Invalid option: {arg}\n{_USAGE}"
            if full == "all":
                for key in ("cmd", "comments", "question", "answer", "authority",
                            "additional", "stats"):
                    opts[key] = on
            elif full == "vc":
                opts["tcp"] = on
            else:
                opts[full] = on
            if full == "short" and on:
                for key in ("cmd", "comments", "question", "authority", "additional",
                            "stats"):
                    opts[key] = False
                opts["answer"] = True
        elif arg in ("-h",):
            return _USAGE
        elif arg == "-v":
            return f"DiG {VERSION}"
        elif arg in ("-t", "-x", "-p", "-c", "-q", "-b", "-k", "-y", "-f"):
            if i >= len(args):
                return f"dig: option requires an argument -- '{arg[1]}'\n{_USAGE}"
            value = args[i]
            i += 1
            if arg == "-t":
                if value.upper() not in _TYPES:
                    return f";; Warning, ignoring invalid type {value}"
                qtype = value.upper()
            elif arg == "-x":
                try:
                    IPv4Address(value)
                except ValueError:
                    return f"dig: '{value}' is not a legal IPv4 address"
                name = ".".join(reversed(value.split("."))) + ".in-addr.arpa."
                qtype = qtype or "PTR"
            elif arg == "-q":
                name = value
        elif arg in ("-4", "-6", "-m", "-u", "-r", "-i"):
            continue
        elif arg.upper() in _TYPES and name is not None:
            qtype = arg.upper()
        elif arg.upper() == "IN" and name is not None:
            continue
        elif name is None:
            name = arg
        else:
            name = arg  # dig starts another lookup; the lab keeps the last
    name = name or "."
    qtype = qtype or ("NS" if name == "." else "A")
    return _query(ctx, args, server, name, qtype, opts)


def _query(ctx: Context, args: list[str], server: str | None, name: str, qtype: str,
           opts: dict[str, bool]) -> str:
    view = ctx.view
    explicit = server is not None
    if server is None:
        server = (view.service(DNS_SERVICE).cluster_ip or "10.96.0.10") if ctx.pod else (
            "127.0.0.53")
    try:
        IPv4Address(server)
    except ValueError:
        return f"dig: couldn't get address for '{server}': not found"
    head = [""] if opts["cmd"] else []
    if opts["cmd"]:
        head.append(f"; <<>> DiG {VERSION} <<>> {' '.join(args)}")
        if explicit:
            head.append("; (1 server found)")
        head.append(";; global options: +cmd")
    cluster = server in _cluster_servers(ctx)
    stub = server.startswith("127.") and not ctx.pod
    if not stub:
        t = ctx.send(server, 53, "TCP" if opts["tcp"] else "UDP")
        ctx.remember([("dns", t)])
        if not t.delivered:
            error = [f";; communications error to {server}#53: timed out"] * 3
            if opts["short"]:
                return "\n".join(error + [";; no servers could be reached"])
            return "\n".join(error + head + [";; no servers could be reached"])
    fqdn = name if name.endswith(".") else name + "."
    candidates = [fqdn]
    if opts["search"] and ctx.pod and not name.endswith("."):
        searched = [f"{name}.{d}." for d in search_path(view, ctx.pod.namespace)]
        candidates = searched + [fqdn] if name.count(".") < 5 else [fqdn] + searched
    zone = view.cluster_domain + "."
    status, asked, answer, authority, additional = "NXDOMAIN", fqdn, [], [], []
    for candidate in candidates:
        asked = candidate
        status, answer, authority, additional = _answer(ctx, candidate, qtype, cluster,
                                                        zone)
        if status == "NOERROR":
            break
    authoritative = cluster and (asked.lower().endswith(zone.lower()) or (
        asked.endswith(".in-addr.arpa.") and status == "NOERROR"))
    if opts["short"]:
        return "\n".join(value for _, _, value in answer)
    digest = hashlib.sha256(f"{ctx.where}|{server}|{asked}|{qtype}".encode()).digest()
    ident = int.from_bytes(digest[:2], "big")
    lines = head
    if opts["comments"]:
        lines.append(";; Got answer:")
        if asked.lower().endswith(".local."):
            lines += [";; WARNING: .local is reserved for Multicast DNS",
                      ";; You are currently testing what happens when an mDNS query is "
                      "leaked to DNS"]
        flags = "qr aa rd" if authoritative else "qr rd ra"
        lines += [f";; ->>HEADER<<- opcode: QUERY, status: {status}, id: {ident}",
                  f";; flags: {flags}; QUERY: 1, ANSWER: {len(answer)}, AUTHORITY: "
                  f"{len(authority)}, ADDITIONAL: {len(additional) + 1}"]
        if authoritative:
            lines.append(";; WARNING: recursion requested but not available")
        lines += ["", ";; OPT PSEUDOSECTION:",
                  f"; EDNS: version: 0, flags:; udp: {65494 if stub else 1232}"]
        if not stub:
            lines.append(f"; COOKIE: {digest[2:10].hex()} (echoed)")
    if opts["question"]:
        if opts["comments"]:
            lines.append(";; QUESTION SECTION:")
        lines.append(_pad(_pad(";" + asked, 32) + "IN", 40) + qtype)
        lines.append("")
    for title, records, wanted in (("ANSWER", answer, opts["answer"]),
                                   ("AUTHORITY", authority, opts["authority"]),
                                   ("ADDITIONAL", additional, opts["additional"])):
        if records and wanted:
            if opts["comments"]:
                lines.append(f";; {title} SECTION:")
            lines += [_rr(n, rtype, value) for n, rtype, value in records]
            lines.append("")
    if opts["stats"]:
        size = 12 + _wire(asked) + 4 + sum(
            _wire(n) + 10 + _rdlen(rtype, value)
            for n, rtype, value in answer + authority + additional) + (11 if stub else 23)
        when = EPOCH + timedelta(seconds=int(getattr(view, "clock", 0) or 0))
        ms = 0 if stub else int(rtt_ms(ctx.where, server, base=0.9))
        proto = "TCP" if opts["tcp"] else "UDP"
        lines += [f";; Query time: {ms} msec", f";; SERVER: {server}#53({server}) ({proto})",
                  f";; WHEN: {when.strftime('%a %b %d %H:%M:%S UTC %Y')}",
                  f";; MSG SIZE  rcvd: {size}"]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines)


def _answer(ctx: Context, fqdn: str, qtype: str, cluster: bool, zone: str
            ) -> tuple[str, list[tuple[str, str, str]], list[tuple[str, str, str]],
                       list[tuple[str, str, str]]]:
    """Status and the answer, authority and additional records for one name."""
    view = ctx.view
    in_zone = fqdn.lower().endswith(zone.lower())
    zone_soa = (zone, "SOA", f"ns.dns.{zone} hostmaster.{zone} "
                f"{int(EPOCH.timestamp())} 7200 1800 86400 30")
    if not cluster:  # the node's stub, or a server the lab does not model: no cluster names
        return "NXDOMAIN", [], [(".", "SOA", _ROOT_SOA)], []
    if fqdn.endswith(".in-addr.arpa."):
        address = ".".join(reversed(fqdn[: -len(".in-addr.arpa.")].split(".")))
        target = _ptr(ctx, address) if qtype in ("PTR", "ANY") else None
        if target is not None:
            return "NOERROR", [(fqdn, "PTR", target)], [], []
        return "NXDOMAIN", [], [("in-addr.arpa.", "SOA", "b.in-addr-servers.arpa. "
                                 "nstld.iana.org. 2022091848 1800 900 604800 3600")], []
    if not in_zone:
        return "NXDOMAIN", [], [(".", "SOA", _ROOT_SOA)], []
    if fqdn.lower() == zone.lower() and qtype in ("SOA", "NS"):
        if qtype == "SOA":
            return "NOERROR", [zone_soa], [], []
        return "NOERROR", [(zone, "NS", f"ns.dns.{zone}")], [], []
    found, records = lookup(view, fqdn, "A")
    typed = lookup(view, fqdn, qtype)[1] if qtype not in ("A", "ANY") else records
    exists = bool(found and (records or lookup(view, fqdn, "SRV")[1]
                             or lookup(view, fqdn, "CNAME")[1]))
    if not exists:
        return "NXDOMAIN", [], [zone_soa], []
    if not typed:
        return "NOERROR", [], [zone_soa], []
    answer = [(r.name, r.type, r.value) for r in typed]
    additional = []
    if qtype == "SRV":
        for r in typed:
            target = r.value.split()[-1]
            additional += [(a.name, "A", a.value) for a in lookup(view, target, "A")[1]]
    return "NOERROR", answer, [], additional
