"""Build a lab cluster from real kernel objects: ``with realize(cluster) as lab:``.

Everything comes from the cluster's own dataplane records (``Cluster.dataplane()``:
``node_interfaces``, ``pod_interfaces``, ``node_routes``, ``pod_routes``,
``node_neighbours``, ``fdb``; ``dataplane.iptables.node_tables`` for the iptables rules
every agent wrote, ``dataplane.kube_proxy_nftables.nft_list`` for kube-proxy's nftables
table; ``tools.sysctl.node_sysctls``), never from the text ``Cluster.exec`` prints:

- ``kln-vpc``: one Linux bridge per VPC subnet (``vpc0``, ``vpc1``...) holding the VPC
  router's address (the subnet's .1, AWS's "VPC router"), standing for the subnet. EC2's
  source/destination check (on for every instance unless ``Cluster.
  set_source_dest_check(node, False)`` turned it off) is a ``bridge`` family nftables
  table there that drops frames a node sends from, or receives for, an address that is
  not its own (EC2 user guide, "Source/destination checking"). VPC route-table routes
  (``Cluster.add_vpc_route``) are routes of that namespace; anything else meets a
  ``blackhole`` default route, dropped without an ICMP error, as the VPC router drops
  a packet it has no route for (the lab's VPC has no internet gateway).
- ``kln-<node>``: the node's ``eth0`` (a veth whose other end is a port of the subnet's
  bridge), with its MAC, MTU and address; ``cni0`` (a bridge), the pods' host veths as
  its ports; flannel's ``flannel.1`` (``type vxlan id 1 dstport 8472 nolearning local
  <node IP> dev eth0``, flannel pkg/backend/vxlan/device.go ``newVXLANDevice``) with the
  permanent neighbour and fdb entries flanneld writes for every other node; every route
  of ``node_routes`` that is not the kernel's own (``proto kernel`` routes come with the
  addresses); the sysctls (ip_forward, rp_filter, route_localnet, bridge-nf-call-*:
  per network namespace since Linux 5.3's "netfilter: bridge: make sysctls per
  netns"); the nfacct counter kube-proxy creates (``ct_state_invalid_dropped_pkts``,
  kube-proxy pkg/proxy/iptables/proxier.go, through pkg/util/nfacct) and
  ``iptables-restore`` of the node's filter and nat tables; in nftables mode also
  ``nft -f`` of the ``ip kube-proxy`` table.
- ``klp-<namespace>-<pod>``: ``lo`` and ``eth0`` (the pod end of the veth pair) with the
  pod IP, and the routes the CNI plugin sets; a listener (``probe.LISTENER``) on the
  pod's listening ports. flannel's CNI configuration delegates to the bridge plugin with
  ``"hairpinMode": true`` (flannel Documentation/kube-flannel.yml, ``cni-conf.json``), so
  on a flannel node the veth ports have hairpin mode on; the bridge plugin's default
  (Kubernetes the Hard Way's ``10-bridge.conf``) leaves it off, and its
  ``hairpinMode: true`` turns it on.
- ``kln-outside``: a client on the nodes' subnet, at the subnet's last usable address
  (AWS reserves the broadcast address), for "from outside the cluster".

The iptables commands are Debian's ``iptables`` (the nf_tables backend, iptables-nft,
the alternative Debian installs by default): kube-proxy's and the plugins' rules load
through it as they are. Only calico and cilium are refused: their datapaths (BGP and
IP-in-IP, eBPF) are not Linux bridges and routes.

The namespaces are always deleted when the ``with`` block ends, after an error or
Ctrl-C too (``keep=True`` leaves them for inspection; ``netns.cleanup()`` or ``python -m
kubenet_lab linux-check --cleanup`` removes them).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from ipaddress import ip_network
from typing import TYPE_CHECKING

from kubenet_lab.dataplane.cni.flannel import VXLAN_PORT, VXLAN_VNI
from kubenet_lab.dataplane.iptables import node_tables
from kubenet_lab.dataplane.kube_proxy_nftables import nft_list
from kubenet_lab.exceptions import LinuxUnavailableError
from kubenet_lab.linux.netns import (
    Runner,
    cleanup,
    lab_namespaces,
    node_netns,
    pod_netns,
    require,
    short_name,
)
from kubenet_lab.linux.probe import CLIENT, LISTENER, ProbeResult, parse_client_output
from kubenet_lab.tools.context import Context
from kubenet_lab.tools.ss import pod_sockets
from kubenet_lab.tools.sysctl import node_sysctls

if TYPE_CHECKING:
    from kubenet_lab.cluster import Cluster
    from kubenet_lab.dataplane.tables import Dataplane
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Pod
    from kubenet_lab.model.route import Interface, Route
    from kubenet_lab.model.store import StoreView

__all__ = ["SUPPORTED_CNI", "LinuxLab", "realize"]

SUPPORTED_CNI = ("flannel", "bridge")
VPC_NETNS = node_netns("vpc")
OUTSIDE_NETNS = node_netns("outside")
#: The sysctls ``realize`` sets in a node's namespace (the others the lab shows are not
#: per namespace, or change nothing a probe sees).
NODE_SYSCTLS = ("net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding",
                "net.ipv4.conf.all.route_localnet", "net.ipv4.conf.all.rp_filter",
                "net.ipv4.conf.default.rp_filter", "net.bridge.bridge-nf-call-iptables",
                "net.bridge.bridge-nf-call-arptables", "net.bridge.bridge-nf-call-ip6tables")
#: kube-proxy's nfacct counters (pkg/proxy/metrics: ``ct_state_invalid_dropped_pkts``,
#: ``localhost_nps_accepted_pkts``), named in its rules' ``-m nfacct --nfacct-name``.
_NFACCT_NAME = re.compile(r"--nfacct-name\s+(\S+)")
_NFACCT = r"""
import socket, struct, sys
name = sys.argv[1].encode() + b"\0"
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
s.bind((0, 0))
alen = 4 + len(name)
attr = struct.pack("HH", alen, 1) + name + b"\0" * ((4 - alen % 4) % 4)  # NFACCT_NAME
body = struct.pack("BBH", 0, 0, 0) + attr  # nfgenmsg: AF_UNSPEC, NFNETLINK_V0
# NFNL_SUBSYS_ACCT (7) << 8 | NFNL_MSG_ACCT_NEW (0); NLM_F_REQUEST|NLM_F_ACK|NLM_F_CREATE
s.send(struct.pack("IHHII", 16 + len(body), 7 << 8, 1 | 4 | 0x400, 1, 0) + body)
err = struct.unpack("i", s.recv(4096)[16:20])[0]
sys.exit(0 if err in (0, -17) else 1)
"""


def _route_argv(route: Route) -> list[str]:
    """``ip route replace`` with the route as ``ip route`` prints it (``Route.__str__``:
    the same words ``ip route add`` takes, ``proto`` included)."""
    return ["ip", "route", "replace", *str(route).split()]


class LinuxLab:
    """A cluster built from real namespaces (see the module docstring); ``probe``
    makes real connections in it. Made by ``realize``."""

    def __init__(self, cluster: Cluster, *, python: str | None = None) -> None:
        self.cluster = cluster
        self.python = python or sys.executable
        self.runner = Runner()
        self.namespaces: dict[str, str] = {}  # the lab's place -> netns
        self.listeners: list[subprocess.Popen[str]] = []
        self.outside_ip: str | None = None
        self.build_seconds = 0.0
        self._sdc_table = False

    def __repr__(self) -> str:
        return f"<LinuxLab {len(self.namespaces)} namespaces for {self.cluster!r}>"

    # ------------------------------------------------------------------ build
    def build(self) -> None:
        start = time.perf_counter()
        dp = self.cluster.dataplane()
        view = dp.view
        if dp.plugin.name not in SUPPORTED_CNI:
            raise LinuxUnavailableError(
                "kubenet_lab.linux", "cni", dp.plugin.name,
                "is not built on the kernel: its datapath is not Linux bridges and routes",
                fix=f"use one of {', '.join(SUPPORTED_CNI)}")
        existing = set(lab_namespaces())
        wanted = [VPC_NETNS, OUTSIDE_NETNS, *(node_netns(n.name) for n in view.nodes),
                  *(pod_netns(p.namespace, p.name) for p in view.pods)]
        clash = sorted(existing & set(wanted))
        if clash:
            raise LinuxUnavailableError(
                "kubenet_lab.linux", None, clash[0],
                "already exists (a lab kept with --keep, or one that was interrupted)",
                fix="remove them with: python -m kubenet_lab linux-check --cleanup")
        self._vpc(view)
        for node in view.nodes:
            self._node(dp, node)
        for pod in view.pods:
            self._pod(dp, pod)
        for node in view.nodes:
            self._node_tables(dp, node)
        self._outside(view)
        self._start_listeners(dp)
        self.build_seconds = time.perf_counter() - start

    def _add_ns(self, place: str, ns: str) -> str:
        self.runner.add_netns(ns)
        self.namespaces[place] = ns
        self.runner.run(ns, ["ip", "link", "set", "lo", "up"])
        return ns

    def _subnet_bridge(self, view: StoreView, cidr: str) -> str:
        cidrs = [s.cidr for s in view.vpc.subnets]
        return f"vpc{cidrs.index(cidr)}"

    def _vpc(self, view: StoreView) -> None:
        ns = self._add_ns("vpc", VPC_NETNS)
        run = self.runner.run
        for subnet in view.vpc.subnets:
            br = self._subnet_bridge(view, subnet.cidr)
            prefix = ip_network(subnet.cidr).prefixlen
            run(ns, ["ip", "link", "add", br, "type", "bridge"])
            run(ns, ["ip", "addr", "add", f"{subnet.router}/{prefix}", "dev", br])
            run(ns, ["ip", "link", "set", br, "up"])
        run(ns, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        run(ns, ["sysctl", "-qw", "net.ipv4.icmp_ratelimit=0"])
        # the VPC router drops what it has no route for, silently (no ICMP unreachable)
        run(ns, ["ip", "route", "add", "blackhole", "default"])
        for route in view.vpc.routes:
            target = view.node(route.target)
            run(ns, ["ip", "route", "replace", route.destination, "via", target.ip])
        # the bridge's frames must not pass this namespace's (empty) iptables
        run(ns, ["sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0"])

    def _vpc_port(self, node_name: str) -> str:
        return short_name(f"vpc-{node_name}")

    def _node(self, dp: Dataplane, node: Node) -> None:
        run = self.runner.run
        view = dp.view
        ns = self._add_ns(node.name, node_netns(node.name))
        subnet = view.subnet_of(node)
        port = self._vpc_port(node.name)
        run(VPC_NETNS, ["ip", "link", "add", port, "type", "veth", "peer", "name", "eth0",
                        "netns", ns])
        run(VPC_NETNS, ["ip", "link", "set", port, "master",
                        self._subnet_bridge(view, subnet.cidr), "up"])
        for iface in dp.node_interfaces(node):
            self._node_device(ns, node, iface)
        sysctls = node_sysctls(dp, node.name)
        for key in NODE_SYSCTLS:
            if key in sysctls:
                run(ns, ["sysctl", "-qw", f"{key}={sysctls[key]}"])
        # The kernel sends at most one ICMP error a second to a host (a burst of 6;
        # net.ipv4.icmp_ratelimit, 1000 ms): probes repeated in quick succession would
        # meet the limit, which a node's single connection never does.
        run(ns, ["sysctl", "-qw", "net.ipv4.icmp_ratelimit=0"])
        if not dp.runtime.module_loaded(node.name, "br_netfilter"):
            # modprobe -r cannot unload a module for one namespace: its sysctl does it
            run(ns, ["sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0"])

    def _node_device(self, ns: str, node: Node, iface: Interface) -> None:
        run = self.runner.run
        if iface.kind == "loopback":
            return
        if iface.kind == "ether":  # eth0: the veth from the VPC's bridge
            run(ns, ["ip", "link", "set", iface.name, "address", iface.mac,
                     "mtu", str(iface.mtu)])
        elif iface.kind == "vxlan":
            run(ns, ["ip", "link", "add", iface.name, "address", iface.mac, "mtu",
                     str(iface.mtu), "type", "vxlan", "id", str(VXLAN_VNI), "dstport",
                     str(VXLAN_PORT), "nolearning", "local", node.ip,
                     "dev", "eth0"])
        elif iface.kind == "bridge":
            run(ns, ["ip", "link", "add", iface.name, "address", iface.mac, "mtu",
                     str(iface.mtu), "type", "bridge"])
        elif iface.kind == "veth":
            return  # a pod's host end: made with the pod
        else:
            raise LinuxUnavailableError("kubenet_lab.linux", "interface", iface.name,
                                        f"is a {iface.kind} device, which is not built")
        if iface.address:
            run(ns, ["ip", "addr", "add", iface.address, "dev", iface.name])
        run(ns, ["ip", "link", "set", iface.name, "up"])

    def _pod(self, dp: Dataplane, pod: Pod) -> None:
        run = self.runner.run
        node_ns = self.namespaces[pod.node]
        ns = self._add_ns(pod.ref, pod_netns(pod.namespace, pod.name))
        ifaces = {i.name: i for i in dp.pod_interfaces(pod)}
        eth0 = ifaces["eth0"]
        host = next(i for i in dp.node_interfaces(dp.view.node(pod.node))
                    if i.kind == "veth" and i.peer == f"{pod.ref}:eth0")
        run(node_ns, ["ip", "link", "add", host.name, "address", host.mac, "mtu",
                      str(host.mtu), "type", "veth", "peer", "name", "eth0", "address",
                      eth0.mac, "mtu", str(eth0.mtu), "netns", ns])
        if host.master:
            run(node_ns, ["ip", "link", "set", host.name, "master", host.master])
            if getattr(dp.plugin, "hairpin", False):  # the bridge family's hairpinMode
                run(node_ns, ["ip", "link", "set", host.name, "type", "bridge_slave",
                              "hairpin", "on"])
        run(node_ns, ["ip", "link", "set", host.name, "up"])
        run(ns, ["ip", "addr", "add", eth0.address, "dev", "eth0"])
        run(ns, ["ip", "link", "set", "eth0", "up"])
        for route in dp.pod_routes(pod):
            if route.proto != "kernel":
                run(ns, _route_argv(route))

    def _node_tables(self, dp: Dataplane, node: Node) -> None:
        """Routes, neighbours, fdb and netfilter, once every device exists."""
        run = self.runner.run
        view = dp.view
        ns = self.namespaces[node.name]
        for route in dp.node_routes(node):
            if route.proto != "kernel":
                run(ns, _route_argv(route))
        for ip, dev, mac, state in dp.node_neighbours(node):
            if state == "PERMANENT":
                run(ns, ["ip", "neigh", "replace", ip, "dev", dev, "lladdr", mac,
                         "nud", "permanent"])
        for entry in dp.fdb(node):
            words = entry.split()
            if "dst" in words:  # flanneld's entries; the bridge learns the others
                run(ns, ["bridge", "fdb", "append", *words])
        tables = node_tables(view, node)
        text = []
        for table in tables:
            text += [f"*{table.name}", *table.chains, *table.rules, "COMMIT"]
        counters = sorted({m.group(1) for table in tables for rule in table.rules
                           for m in _NFACCT_NAME.finditer(rule)})
        for counter in counters:  # kube-proxy creates them before it writes its rules
            run(ns, [self.python, "-I", "-S", "-c", _NFACCT, counter])
        run(ns, ["iptables-restore"], stdin="\n".join(text) + "\n")
        if view.config.kube_proxy_mode == "nftables" and not dp.plugin.replaces_kube_proxy:
            ruleset = nft_list(view, node)
            if ruleset:
                run(ns, ["nft", "-f", "-"], stdin=ruleset + "\n")
        self._source_dest_check(view, node)

    def _source_dest_check(self, view: StoreView, node: Node) -> None:
        """EC2's source/destination check of one instance, on its port of the subnet's
        bridge: frames from the node must come from its address, frames to it must be
        for its address (ARP passes)."""
        if node.name in view.vpc.source_dest_check_off:
            return
        port = self._vpc_port(node.name)
        run = self.runner.run
        if not self._sdc_table:
            run(VPC_NETNS, ["nft", "add", "table", "bridge", "vpc"])
            run(VPC_NETNS, ["nft", "add chain bridge vpc forward "
                            "{ type filter hook forward priority 0; policy accept; }"])
            self._sdc_table = True
        ip = node.ip
        run(VPC_NETNS, ["nft", f"add rule bridge vpc forward iifname {port} ether type ip "
                        f"ip saddr != {ip} drop comment \"source check of {node.name}\""])
        run(VPC_NETNS, ["nft", f"add rule bridge vpc forward oifname {port} ether type ip "
                        f"ip daddr != {ip} drop comment \"destination check of {node.name}\""])

    def _outside(self, view: StoreView) -> None:
        node = view.nodes[0]
        subnet = view.subnet_of(node)
        net = ip_network(subnet.cidr)
        ip = next(str(a) for a in reversed(list(net.hosts()))
                  if view.owner_of(str(a)) is None and str(a) != subnet.router)
        ns = self._add_ns("outside", OUTSIDE_NETNS)
        port = self._vpc_port("outside")
        run = self.runner.run
        run(VPC_NETNS, ["ip", "link", "add", port, "type", "veth", "peer", "name", "eth0",
                        "netns", ns])
        run(VPC_NETNS, ["ip", "link", "set", port, "master",
                        self._subnet_bridge(view, subnet.cidr), "up"])
        run(ns, ["ip", "addr", "add", f"{ip}/{net.prefixlen}", "dev", "eth0"])
        run(ns, ["ip", "link", "set", "eth0", "up"])
        run(ns, ["ip", "route", "replace", "default", "via", subnet.router, "dev", "eth0"])
        self.outside_ip = ip

    def listening_ports(self, dp: Dataplane, pod: Pod) -> list[tuple[str, int]]:
        """The (protocol, port) pairs the pod listens on in the lab (``ss -tlnu``)."""
        ctx = Context(dp, pod.ref)
        return sorted({(s.protocol, s.port) for s, _ in pod_sockets(ctx)})

    def _start_listeners(self, dp: Dataplane) -> None:
        pending = []
        for pod in dp.view.pods:
            ports = self.listening_ports(dp, pod)
            if not ports:
                continue
            argv = ["ip", "netns", "exec", self.namespaces[pod.ref], self.python, "-I", "-S",
                    "-u", "-c", LISTENER, pod.ref, json.dumps(ports)]
            self.runner.log.append(" ".join(argv[:5]) + " <listener> " + pod.ref)
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            self.listeners.append(proc)
            pending.append((pod.ref, proc))
        for ref, proc in pending:
            line = proc.stdout.readline() if proc.stdout else ""
            if line.strip() != "ready":
                err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
                raise LinuxUnavailableError("kubenet_lab.linux", "listener", ref,
                                            f"did not start: {err.strip()[-200:]}")

    # ------------------------------------------------------------------ probes
    def netns_of(self, where: str) -> str:
        """The namespace of a pod (``ns/pod`` or ``ns/pod/container``), a node, or
        ``"outside"`` (also the outside client's address)."""
        if where in self.namespaces:
            return self.namespaces[where]
        if where == self.outside_ip:
            return self.namespaces["outside"]
        if where.count("/") == 2 and where.rsplit("/", 1)[0] in self.namespaces:
            return self.namespaces[where.rsplit("/", 1)[0]]
        raise LinuxUnavailableError("kubenet_lab.linux", "src", where,
                                    "is no pod, node or 'outside' of this lab")

    def address_of(self, where: str) -> str:
        """The address a probe connects to: a pod's or node's IP, ``localhost``, or an
        address as it is."""
        if where == "localhost":
            return "127.0.0.1"
        if self.cluster.store.snapshot().has_node(where):
            return self.cluster.node(where).ip
        if "/" in where:
            return self.cluster.pod(where).ip
        return where

    def probe(self, src: str, dst: str, port: int = 80, protocol: str = "TCP",
              timeout: float = 1.0) -> ProbeResult:
        """One real connection from ``src`` to ``dst`` (see ``probe.CLIENT``)."""
        protocol = protocol.upper()
        if protocol not in ("TCP", "UDP", "ICMP"):
            raise LinuxUnavailableError("kubenet_lab.linux", "protocol", protocol,
                                        "is not probed", fix="use TCP, UDP or ICMP")
        ns = self.netns_of(src)
        ip = self.address_of(dst)
        result = self.runner.run(ns, [self.python, "-I", "-S", "-c", CLIENT, protocol, ip,
                                      str(port), str(timeout)], check=False)
        return parse_client_output(src, dst, port, protocol, result.stdout, result.stderr)

    # ------------------------------------------------------------------ teardown
    def close(self) -> list[str]:
        """End the listeners this lab started and delete its namespaces."""
        for proc in self.listeners:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(Exception):
                proc.communicate(timeout=5)
        self.listeners = []
        names = list(self.namespaces.values())
        self.namespaces = {}
        # pods first: their veths go with them, then nodes, then the VPC
        names.sort(key=lambda n: (not n.startswith("klp-"), n == VPC_NETNS))
        return cleanup(names)


@contextlib.contextmanager
def realize(cluster: Cluster, *, keep: bool = False) -> Iterator[LinuxLab]:
    """Build ``cluster`` from real namespaces for the ``with`` block; tear it down at
    the end, after an error or Ctrl-C as well, unless ``keep`` (the namespaces then stay
    for ``ip netns exec kln-node-1 ...``; the listeners are ended either way).

    Raises ``LinuxUnavailableError`` when this is not Linux, not root, or a tool is
    missing, before anything is made."""
    require()
    lab = LinuxLab(cluster)
    try:
        lab.build()
        yield lab
    finally:
        if keep:
            for proc in lab.listeners:
                if proc.poll() is None:
                    proc.kill()
        else:
            lab.close()
