"""``nslookup`` (BIND 9): from a pod, a query to the cluster DNS (kube-dns's cluster IP,
which kube-proxy balances over the CoreDNS pods), answered from CoreDNS's records; on a
node, the systemd-resolved stub, which knows no cluster names."""

from __future__ import annotations

from ipaddress import IPv4Address

from kubenet_lab.tools.context import Context
from kubenet_lab.tools.resolver import dns_lookup, pod_record, search_names, service_records

__all__ = ["CLUSTER_DNS", "nslookup"]

#: kubeadm's clusterDNS: the 10th address of the service CIDR 10.96.0.0/12.
CLUSTER_DNS = "10.96.0.10"


def nslookup(ctx: Context, args: list[str]) -> str:
    names = [a for a in args if not a.startswith("-")]
    if not names:
        return "Usage: nslookup [-opt ...] host [server]"
    name = names[0]
    server = CLUSTER_DNS if ctx.pod else "127.0.0.53"
    head = f"Server:\t\t{server}\nAddress:\t{server}#53\n"
    if ctx.pod:
        if ctx.view.services:
            t = ctx.send(CLUSTER_DNS, 53, "UDP")
            ctx.remember([("dns", t)])
            if not t.delivered:
                return ";; connection timed out; no servers could be reached\n"
    try:
        addr = IPv4Address(name)
    except ValueError:
        addr = None
    if addr is not None:
        rev = ".".join(reversed(name.split("."))) + ".in-addr.arpa"
        return f"{head}\n** server can't find {rev}: NXDOMAIN\n"
    answer = dns_lookup(ctx, name)
    if not answer:
        return f"{head}\n** server can't find {name}: NXDOMAIN\n"
    fqdn = next(n for n in search_names(ctx, name)
                if pod_record(ctx.view, n) or service_records(ctx.view, n))
    body = "".join(f"Name:\t{fqdn}\nAddress: {ip}\n" for ip in answer)
    return f"{head}\n{body}"
