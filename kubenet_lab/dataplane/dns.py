"""Cluster DNS as CoreDNS's ``kubernetes`` plugin answers it, and the pods' resolv.conf.

Source: the Kubernetes DNS-based service discovery specification
(kubernetes/dns ``docs/specification.md``) and kubelet's ``pkg/kubelet/network/dns``,
summarised in the facts sheet §2.6:

- ``<svc>.<ns>.svc.<zone>``: A record of the cluster IP; for a headless Service one A
  record per *ready* endpoint (NXDOMAIN if there is none); for ExternalName a CNAME.
- ``_<port>._<proto>.<svc>.<ns>.svc.<zone>``: SRV records, for named ports only.
- ``<a-b-c-d>.<ns>.pod.<zone>``: pod A records.
- ``resolv.conf`` of a ``ClusterFirst`` pod: ``search <ns>.svc.<zone> svc.<zone>
  <zone>`` followed by the node's own search domains, ``nameserver 10.96.0.10``,
  ``options ndots:5`` (pkg/kubelet/network/dns/dns.go ``getPodDNS``: for ClusterFirst
  ``generateSearchesForDNSClusterFirst`` puts the cluster's three domains before the
  host's search list, read from kubelet's ``--resolv-conf``, which kubeadm points at
  systemd-resolved's ``/run/systemd/resolve/resolv.conf``; the list is cut at
  ``MaxDNSSearchPaths``, 32 domains, and 2048 characters). The lab's nodes are EC2
  instances in eu-west-1 (``controllers.kubeadm.REGION``), whose DHCP option set gives
  the search domain ``eu-west-1.compute.internal``, so a pod has four search domains. A
  name with fewer than 5 dots is tried with each search domain first, then as it is;
  CoreDNS forwards ``*.compute.internal`` to the VPC resolver, which knows none of the
  lab's names (NXDOMAIN).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from kubenet_lab.controllers.endpointslice import endpoint_slices
from kubenet_lab.controllers.kubeadm import REGION

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = ["NODE_SEARCH", "DnsRecord", "lookup", "node_resolv_conf", "resolv_conf", "resolve",
           "search_path"]

NDOTS = 5
#: The nodes' search domains: the EC2 DHCP option set's ``domain-name`` of a region other
#: than us-east-1 (docs.aws.amazon.com/vpc/latest/userguide/DHCPOptionSetConcepts.html).
NODE_SEARCH = (f"{REGION}.compute.internal",)
#: kubelet's limits on a pod's search list (pkg/apis/core/validation ``MaxDNSSearchPaths``,
#: ``MaxDNSSearchListChars``).
MAX_SEARCH_PATHS, MAX_SEARCH_CHARS = 32, 2048
DNS_SERVICE = "kube-system/kube-dns"


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """One resource record: ``name`` (fully qualified, with the final dot), ``type``
    (A, CNAME, SRV) and ``value`` as ``dig`` prints it."""

    name: str
    type: str
    value: str

    def __str__(self) -> str:
        return f"{self.name}\t30\tIN\t{self.type}\t{self.value}"


def search_path(view: StoreView, namespace: str) -> tuple[str, ...]:
    """The search domains kubelet writes for a pod in ``namespace`` (ClusterFirst): the
    cluster's three, then the node's (dns.go ``generateSearchesForDNSClusterFirst``),
    without duplicates and within kubelet's limits (``formDNSSearchFitsLimits``).

    >>> search_path(kl.Cluster().store, "default")  # doctest: +NORMALIZE_WHITESPACE
    ('default.svc.cluster.local', 'svc.cluster.local', 'cluster.local',
     'eu-west-1.compute.internal')
    """
    zone = view.cluster_domain
    out: list[str] = []
    for domain in (f"{namespace}.svc.{zone}", f"svc.{zone}", zone, *NODE_SEARCH):
        if domain not in out:
            out.append(domain)
    out = out[:MAX_SEARCH_PATHS]
    while len(" ".join(out)) > MAX_SEARCH_CHARS:
        out.pop()
    return tuple(out)


def resolv_conf(view: StoreView, pod_ref: str) -> str:
    """The ``/etc/resolv.conf`` of a pod (dnsPolicy ClusterFirst): kubelet gives the
    runtime the cluster DNS address, the search path and ``ndots:5``; containerd writes
    them as ``search``, ``nameserver``, ``options`` lines, in that order
    (containerd pkg/cri ``parseDNSOptions``).

    >>> c = kl.Cluster()
    >>> print(resolv_conf(c.store, c.pods[0].ref))
    search kube-system.svc.cluster.local svc.cluster.local cluster.local eu-west-1.compute.internal
    nameserver 10.96.0.10
    options ndots:5
    """
    pod = view.pod(pod_ref)
    dns_ip = view.service(DNS_SERVICE).cluster_ip
    return (f"search {' '.join(search_path(view, pod.namespace))}\nnameserver {dns_ip}\n"
            f"options ndots:{NDOTS}")


def _records(view: StoreView) -> dict[str, list[DnsRecord]]:
    """Every record of the zone, by lower-case name (with the final dot)."""
    def build() -> dict[str, list[DnsRecord]]:
        zone = view.cluster_domain
        out: dict[str, list[DnsRecord]] = {}

        def add(name: str, rtype: str, value: str) -> None:
            out.setdefault(name.lower(), []).append(DnsRecord(name, rtype, value))

        for svc in view.services:
            fqdn = f"{svc.name}.{svc.namespace}.svc.{zone}."
            if svc.type == "ExternalName":
                add(fqdn, "CNAME", f"{svc.external_name}.")
                continue
            ready = [e for s in endpoint_slices(view, svc) for e in s.endpoints if e.ready]
            if svc.cluster_ip:
                add(fqdn, "A", svc.cluster_ip)
            else:
                for ip in sorted({e.address for e in ready}, key=lambda a: IPv4Address(a)):
                    add(fqdn, "A", ip)
            for sp in svc.ports:
                if not sp.name:
                    continue
                srv = f"_{sp.name}._{sp.protocol.lower()}.{fqdn}"
                if svc.cluster_ip:
                    add(srv, "SRV", f"0 100 {sp.port} {fqdn}")
                else:
                    for e in ready:
                        host = e.address.replace(".", "-")
                        add(srv, "SRV", f"0 100 {sp.port} {host}.{fqdn}")
                        add(f"{host}.{fqdn}", "A", e.address)
        for pod in view.pods:
            add(f"{pod.ip.replace('.', '-')}.{pod.namespace}.pod.{zone}.", "A", pod.ip)
        return out

    return view.cached("dns-records", build)


def lookup(view: StoreView, name: str, qtype: str = "A",
           from_pod: str | None = None) -> tuple[str, list[DnsRecord]]:
    """Resolve ``name`` as a pod's stub resolver would; returns the name that answered
    (``""`` for NXDOMAIN) and the answer records (CNAMEs first)."""
    candidates = _candidates(view, name, from_pod)
    records = _records(view)
    for fqdn in candidates:
        key = fqdn.lower()
        if key not in records:
            continue
        answer = list(records[key])
        if qtype == "A" and answer and answer[0].type == "CNAME":
            target = answer[0].value.lower()
            answer += [r for r in records.get(target, []) if r.type == "A"]
            return fqdn, answer
        wanted = [r for r in answer if r.type == qtype]
        if wanted or qtype == "A":
            return fqdn, wanted
    return "", []


def _candidates(view: StoreView, name: str, from_pod: str | None) -> list[str]:
    if name.endswith("."):
        return [name]
    if from_pod is None:
        return [name + "."]
    pod = view.pod(from_pod)
    searched = [f"{name}.{d}." for d in search_path(view, pod.namespace)]
    if name.count(".") >= NDOTS:
        return [name + "."] + searched
    return searched + [name + "."]


def resolve(view: StoreView, name: str, from_pod: str | None = None) -> list[str]:
    """The A-record addresses for ``name``; see ``Cluster.resolve``."""
    _, answer = lookup(view, name, "A", from_pod)
    return [r.value for r in answer if r.type == "A"]


def node_resolv_conf() -> str:
    """A node's ``/etc/resolv.conf``: the systemd-resolved stub of Ubuntu 24.04 (it knows
    no cluster names), with the search domain the VPC's DHCP options give
    (``NODE_SEARCH``)."""
    return ("# This is /run/systemd/resolve/stub-resolv.conf managed by "
            "man:systemd-resolved(8).\n# Do not edit.\n"
            f"nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch {' '.join(NODE_SEARCH)}")
