"""The cluster: nodes, namespaces and pods, and the indexes that find them fast.

``Cluster`` is the one mutable object of the lab. Every record it holds (``Node``,
``Pod``, ...) is a frozen dataclass; edits go through the cluster's verbs, which
validate first and then replace records and update the indexes.

A new ``Cluster()`` looks like a fresh kubeadm cluster with flannel:

- one node, ``control-plane``, tainted ``node-role.kubernetes.io/control-plane:NoSchedule``
  so ordinary pods go to workers;
- the namespaces kubeadm creates (``default``, ``kube-system``, ``kube-public``,
  ``kube-node-lease``);
- the CoreDNS Deployment in ``kube-system`` (two replicas, which tolerate the
  control-plane taint and so land on the control-plane node);
- cluster CIDR 10.244.0.0/16 (flannel's default ``Network``), a /24 podCIDR per node,
  service CIDR 10.96.0.0/12 (kubeadm's ``serviceSubnet``), at most 110 pods per node
  (kubelet's ``maxPods``);
- nodes in the VPC subnet 10.0.1.0/24 (see ``kubenet_lab.model.cloud``).

Pods that use the node's own network (``hostNetwork: true``: kube-proxy, flannel, the
control-plane components) are not modelled as pods; the nodes' listening ports stand
for them (``NODE_PORTS``).

Names follow Kubernetes: pods are ``"namespace/name"``; listings use a natural sort, so
``node-2`` comes before ``node-10``.
"""

from __future__ import annotations

import difflib
import hashlib
import random
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from ipaddress import IPv4Address, ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.exceptions import (
    ConflictError,
    ManifestError,
    NotFoundError,
    UnschedulableError,
)
from kubenet_lab.model.cloud import LoadBalancer, NatGateway, Subnet, Vpc
from kubenet_lab.model.deployment import Deployment
from kubenet_lab.model.ingress import Ingress, IngressClass
from kubenet_lab.model.namespace import Namespace
from kubenet_lab.model.networkpolicy import (
    AdminPolicy,
    Explanation,
    NetworkPolicy,
    Reachability,
)
from kubenet_lab.model.node import CONTROL_PLANE_TAINT, Node
from kubenet_lab.model.pod import Container, ContainerPort, Pod, Toleration
from kubenet_lab.model.service import EndpointSlice, Service, ServicePort

if TYPE_CHECKING:
    from kubenet_lab.model.trace import Trace
    from kubenet_lab.model.traffic import TrafficReport
    from kubenet_lab.model.verification import NetworkModelReport

__all__ = ["CNI_PLUGINS", "NETWORK_POLICY_AGENTS", "NODE_PORTS", "Cluster", "natural_key"]

#: The CNI plugins the lab models.
CNI_PLUGINS = ("bridge", "calico", "cilium", "flannel")

#: CNI plugins that enforce NetworkPolicy themselves (flannel does not).

#: Policy agents that can run beside the CNI plugin and enforce policies
#: (see ``kubenet_lab.engines.policy.ENFORCERS``).
NETWORK_POLICY_AGENTS = ("kube-network-policies",)

#: TCP ports that host-network processes listen on, on every node and on the
#: control plane (kubelet 10250, kube-proxy health 10256, sshd 22; kube-apiserver 6443,
#: etcd 2379-2380). Source: kubernetes.io/docs/reference/networking/ports-and-protocols/
NODE_PORTS: dict[str, dict[int, str]] = {
    "worker": {22: "sshd", 10250: "kubelet", 10256: "kube-proxy"},
    "control-plane": {
        22: "sshd", 2379: "etcd", 2380: "etcd", 6443: "kube-apiserver",
        10250: "kubelet", 10256: "kube-proxy",
    },
}

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand
_KUBEADM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


@lru_cache(maxsize=65536)
def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key that orders embedded numbers by value: ``node-2`` before ``node-10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def _safe_encode(text: str) -> str:
    """apimachinery's ``rand.SafeEncodeString``: map each byte into a vowel-free alphabet."""
    return "".join(_SAFE_ALPHABET[b % len(_SAFE_ALPHABET)] for b in text.encode())


class Cluster:
    """A simulated Kubernetes cluster with kubeadm and flannel defaults.

    Parameters
    ----------
    workers : int
        Worker nodes to add at once (``node-1``, ``node-2``, ...).
    cni : str
        The CNI plugin: ``"flannel"`` (VXLAN overlay, the default), ``"bridge"`` (the
        reference bridge plugin with host routes, as in Kubernetes the Hard Way),
        ``"calico"`` (routed, BGP, /26 blocks of 192.168.0.0/16) or ``"cilium"`` (eBPF,
        VXLAN tunnel, replaces kube-proxy).
    cni_config : dict, optional
        The plugin's own settings, named as in its real configuration:
        ``{"ipipMode": "Always"}`` for Calico's IP-in-IP, ``{"ipMasq": True}`` for the
        bridge plugin's masquerading (as Kubernetes the Hard Way sets it).
    seed : int
        Seed of the cluster's random generator (used where a real cluster draws at
        random, such as load balancing).
    cluster_cidr : str, optional
        The pod network (kubeadm ``podSubnet``, flannel ``Network``); by default the
        plugin's own (10.244.0.0/16; Calico's pool 192.168.0.0/16).
    node_cidr_mask : int, optional
        Prefix length of each node's podCIDR (``--node-cidr-mask-size-ipv4``, 24); for
        Calico, its block size (26).
    network_policy : str, optional
        A policy agent to run beside the CNI plugin. flannel does not implement
        NetworkPolicy: "the API exists but it will have no effect" (kubernetes.io,
        services-networking). ``"kube-network-policies"`` adds the SIG Network agent
        (sigs.k8s.io/kube-network-policies, which kind's kindnet embeds): a DaemonSet that
        keeps flannel's datapath and enforces NetworkPolicy, AdminNetworkPolicy,
        BaselineAdminNetworkPolicy and ClusterNetworkPolicy from nftables' POSTROUTING
        hook on each node.

    Examples
    --------
    >>> c = kl.Cluster(workers=2)
    >>> c
    <Cluster 3 nodes, 2 pods, cni=flannel>
    >>> [(n.name, n.ip, n.pod_cidr) for n in c.nodes]  # doctest: +NORMALIZE_WHITESPACE
    [('control-plane', '10.0.1.4', '10.244.0.0/24'),
     ('node-1', '10.0.1.5', '10.244.1.0/24'),
     ('node-2', '10.0.1.6', '10.244.2.0/24')]
    >>> c.add_pod("default/web", node="node-1").ip
    '10.244.1.2'
    """

    def __init__(
        self,
        *,
        workers: int = 0,
        cni: str = "flannel",
        seed: int = 0,
        cluster_cidr: str | None = None,
        node_cidr_mask: int | None = None,
        cni_config: Mapping[str, Any] | None = None,
        network_policy: str | None = None,
    ) -> None:
        from kubenet_lab.engines.cni import PLUGINS, make_plugin
        from kubenet_lab.engines.validation import check_cidr

        if not isinstance(cni, str) or cni not in CNI_PLUGINS:
            raise ManifestError(
                "Cluster", "cni", cni, "is not a CNI plugin the lab models",
                fix=f"use one of {', '.join(CNI_PLUGINS)}",
            )
        if network_policy is not None and network_policy not in NETWORK_POLICY_AGENTS:
            raise ManifestError(
                "Cluster", "network_policy", network_policy,
                "is not a network policy agent the lab models",
                fix=f"use None or one of {', '.join(NETWORK_POLICY_AGENTS)}",
            )
        kind = PLUGINS[cni]
        for key, value in dict(cni_config or {}).items():
            if key not in kind.options or value not in kind.options[key]:
                known = "; ".join(f"{k}: {', '.join(map(repr, v))}"
                                  for k, v in kind.options.items()) or "none"
                raise ManifestError(
                    "Cluster", f"cni_config.{key}", value,
                    f"is not a setting of the {cni} plugin the lab models",
                    fix=f"settings of {cni}: {known}",
                )
        cluster_cidr = kind.default_cluster_cidr if cluster_cidr is None else cluster_cidr
        if node_cidr_mask is None:
            node_cidr_mask = kind.default_node_cidr_mask
        net = check_cidr("Cluster", "cluster_cidr", cluster_cidr)
        if not isinstance(node_cidr_mask, int) or not net.prefixlen <= node_cidr_mask <= 30:
            raise ManifestError(
                "Cluster", "node_cidr_mask", node_cidr_mask,
                f"must be between the cluster CIDR's /{net.prefixlen} and /30",
                fix="use 24, the kube-controller-manager default",
            )
        self.cni = cni
        self.network_policy = network_policy
        self.cni_config = dict(sorted(dict(cni_config or {}).items()))
        self._cni_plugin = make_plugin(cni, self.cni_config)
        self._route_edits: dict[str, tuple[tuple[str, Any], ...]] = {}
        self._captures: dict[str, tuple[Any, ...]] = {}
        self.seed = seed
        self.rng = random.Random(seed)
        self.cluster_cidr = str(net)
        self.node_cidr_mask = node_cidr_mask
        self.service_cidr = "10.96.0.0/12"
        self.cluster_domain = "cluster.local"
        self.max_pods = 110
        self.vpc = Vpc("10.0.0.0/16", (Subnet("private", "10.0.1.0/24", "10.0.1.1"),))
        self._nodes: dict[str, Node] = {}
        self._namespaces: dict[str, Namespace] = {}
        self._pods: dict[str, Pod] = {}
        self._deployments: dict[str, Deployment] = {}
        self._network_policies: dict[str, NetworkPolicy] = {}
        self._admin_policies: dict[str, AdminPolicy] = {}
        self._pods_by_node: dict[str, dict[str, None]] = {}
        self._ip_owner: dict[int, str] = {}
        self._last_pod_ip: dict[str, int] = {}
        self._replica_counter: dict[str, int] = {}
        self._cache: dict[Any, Any] = {}
        self._node_order: list[Node] | None = None
        self._services: dict[str, Service] = {}
        self._service_ips: dict[int, str] = {}
        self._node_ports: dict[int, str] = {}
        self._recent: dict[tuple[str, str, str], None] = {}
        self._nat_gateways: dict[str, NatGateway] = {}
        self._load_balancers: dict[str, LoadBalancer] = {}
        self._config_maps: dict[str, dict[str, Any]] = {}
        self._addons: dict[str, None] = {}
        self._ingresses: dict[str, Ingress] = {}
        self._ingress_classes: dict[str, IngressClass] = {}
        for name in _KUBEADM_NAMESPACES:
            self.add_namespace(name)
        self.add_node("control-plane", control_plane=True)
        self._add_coredns()
        self._add_kubeadm_services()
        for i in range(1, workers + 1):
            self.add_node(f"node-{i}")

    # ------------------------------------------------------------------ listing
    def __repr__(self) -> str:
        agent = f", network_policy={self.network_policy}" if self.network_policy else ""
        return (f"<Cluster {len(self._nodes)} nodes, {len(self._pods)} pods, "
                f"cni={self.cni}{agent}>")

    @property
    def network_policy_enforced(self) -> bool:
        """Does anything on this cluster enforce network policies?

        False with flannel alone: flannel does not implement NetworkPolicy, so the API
        server accepts policies and they have no effect (facts sheet section 6 item 3).
        True with ``network_policy="kube-network-policies"`` (or a CNI plugin that
        enforces policies itself).

        >>> kl.Cluster().network_policy_enforced
        False
        >>> kl.Cluster(network_policy="kube-network-policies").network_policy_enforced
        True
        """
        return self.network_policy is not None or self._cni_plugin.enforces_network_policy

    @property
    def network_policies(self) -> list[NetworkPolicy]:
        """The NetworkPolicies, by namespace and name."""
        return self._memo("network_policies", lambda: [
            self._network_policies[k] for k in sorted(self._network_policies)])

    @property
    def admin_network_policies(self) -> list[AdminPolicy]:
        """The admin-tier policies (ClusterNetworkPolicy, AdminNetworkPolicy,
        BaselineAdminNetworkPolicy): Admin tier first, then by priority and name."""
        return sorted(self._admin_policies.values(),
                      key=lambda p: (p.tier != "Admin", p.order, p.kind))

    @property
    def nodes(self) -> list[Node]:
        """All nodes, control plane first, then in natural name order."""
        if self._node_order is None:
            self._node_order = sorted(
                self._nodes.values(), key=lambda n: (not n.control_plane, natural_key(n.name))
            )
        return list(self._node_order)

    @property
    def pods(self) -> list[Pod]:
        """All pods, by namespace and natural name order."""
        return self._memo(
            "pods",
            lambda: sorted(
                self._pods.values(), key=lambda p: (p.namespace, natural_key(p.name))
            ),
        )

    @property
    def namespaces(self) -> list[Namespace]:
        """All namespaces, by name."""
        return sorted(self._namespaces.values(), key=lambda n: n.name)

    @property
    def deployments(self) -> list[Deployment]:
        """All Deployments, by namespace and name."""
        return sorted(self._deployments.values(), key=lambda d: (d.namespace, d.name))

    def node(self, name: str) -> Node:
        """The node called ``name``.

        Raises
        ------
        NotFoundError
            If there is no such node; the message lists the nodes there are.
        """
        try:
            return self._nodes[name]
        except (KeyError, TypeError):
            raise NotFoundError(
                f"Node {name}", None, name, "does not exist",
                fix=_suggest(str(name), [n.name for n in self.nodes], "nodes"),
            ) from None

    def pod(self, ref: str) -> Pod:
        """The pod ``"namespace/name"`` (a bare ``"name"`` means namespace ``default``).

        Raises
        ------
        NotFoundError
            If there is no such pod; the message suggests close names.
        """
        return _lookup(self._pods, ref, "Pod", "pods")

    def namespace(self, name: str) -> Namespace:
        """The namespace called ``name``."""
        try:
            return self._namespaces[name]
        except (KeyError, TypeError):
            raise NotFoundError(
                f"Namespace {name}", None, name, "does not exist",
                fix=f"create it first with add_namespace({name!r}) or a Namespace manifest",
            ) from None

    def deployment(self, ref: str) -> Deployment:
        """The Deployment ``"namespace/name"``."""
        key = ref if "/" in ref else f"default/{ref}"
        try:
            return self._deployments[key]
        except KeyError:
            raise NotFoundError(
                f"Deployment {key}", None, ref, "does not exist",
                fix=_suggest(key, list(self._deployments), "deployments"),
            ) from None

    def pods_on(self, node: str) -> list[Pod]:
        """The pods on a node, in the order they were created there."""
        return [self._pods[k] for k in self._pods_by_node.get(node, {})]

    def subnet_of(self, node: Node) -> Subnet:
        """The VPC subnet a node is in."""
        return self.vpc.subnet(node.subnet)

    def owner_of(self, ip: str) -> str | None:
        """Who holds an address: ``"Pod ns/name"``, ``"Node name"`` or None.

        >>> c = kl.Cluster()
        >>> c.owner_of("10.0.1.4"), c.owner_of("10.9.9.9")
        ('Node control-plane', None)
        """
        try:
            return self._ip_owner.get(int(IPv4Address(ip)))
        except ValueError:
            return None

    # ------------------------------------------------------------------ verbs
    def add_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> Namespace:
        """Create a namespace, or update the labels of an existing one.

        The label ``kubernetes.io/metadata.name`` is always set to the name.
        """
        from kubenet_lab.engines.validation import check_dns_label, check_labels

        check_dns_label(f"Namespace {name}", "metadata.name", name)
        labels = check_labels(f"Namespace {name}", "metadata.labels", dict(labels or {}))
        labels["kubernetes.io/metadata.name"] = name
        ns = Namespace(name, dict(sorted(labels.items())))
        self._namespaces[name] = ns
        return ns

    def add_node(
        self,
        name: str,
        *,
        ip: str | None = None,
        pod_cidr: str | None = None,
        public_ip: str | None = None,
        labels: Mapping[str, str] | None = None,
        control_plane: bool = False,
    ) -> Node:
        """Add a node: it gets the next free VPC address and the next free podCIDR.

        Parameters
        ----------
        name : str
        ip : str, optional
            The node's InternalIP; by default the next free address of the subnet.
        pod_cidr : str, optional
            ``spec.podCIDR``; by default the next free block of the cluster CIDR.
        public_ip : str, optional
            An ExternalIP: the node goes into the VPC's public subnet (10.0.0.0/24), whose
            route table sends internet traffic to the internet gateway, and the internet
            gateway maps the node's InternalIP one to one to this address. Without it the
            node is in the private subnet 10.0.1.0/24.
        labels : dict, optional
        control_plane : bool
            Give the node kubeadm's control-plane label and taint.

        Raises
        ------
        ConflictError
            The name, the IP or the podCIDR is already taken.
        AddressExhaustedError
            The cluster CIDR has no free block (a /16 holds 256 /24s).
        ManifestError
            A malformed name, address or CIDR.
        """
        from kubenet_lab.engines.ipam import next_node_ip, next_pod_cidr
        from kubenet_lab.engines.validation import (
            check_cidr,
            check_dns_subdomain,
            check_ip,
            check_labels,
        )

        obj = f"Node {name}"
        check_dns_subdomain(obj, "metadata.name", name)
        if name in self._nodes:
            raise ConflictError(obj, "metadata.name", name, "already exists",
                                fix="choose another name")
        subnet = self.vpc.subnets[0] if public_ip is None else self._public_subnet()
        subnet_net = ip_network(subnet.cidr)
        if ip is None:
            addr = next_node_ip(subnet_net, self._ip_owner)
        else:
            addr = check_ip(obj, "status.addresses[InternalIP]", ip)
            first, last = int(subnet_net.network_address) + 4, int(subnet_net.broadcast_address) - 1
            if not first <= int(addr) <= last:
                raise ManifestError(
                    obj, "status.addresses[InternalIP]", ip,
                    f"is not a usable address of the VPC subnet {subnet.cidr}",
                    fix=f"use an address from {IPv4Address(first)} to {IPv4Address(last)}",
                )
            self._check_ip_free(obj, "status.addresses[InternalIP]", addr)
        cluster_net = ip_network(self.cluster_cidr)
        used = [ip_network(n.pod_cidr) for n in self._nodes.values()]
        if pod_cidr is None:
            block = next_pod_cidr(cluster_net, self.node_cidr_mask, used)
        else:
            block = check_cidr(obj, "spec.podCIDR", pod_cidr)
            if not block.subnet_of(cluster_net):
                raise ManifestError(
                    obj, "spec.podCIDR", pod_cidr,
                    f"is not inside the cluster CIDR {self.cluster_cidr}",
                    fix="choose a block of the cluster CIDR, or leave it out to get the next "
                    "free one",
                )
            if block.prefixlen > 30:
                raise ManifestError(obj, "spec.podCIDR", pod_cidr,
                                    "is too small to allocate pod IPs from",
                                    fix="use a /30 or larger block")
            for other in self._nodes.values():
                if ip_network(other.pod_cidr).overlaps(block):
                    raise ConflictError(
                        obj, "spec.podCIDR", pod_cidr,
                        f"overlaps node {other.name}'s podCIDR {other.pod_cidr}",
                        fix="give each node its own block; overlapping podCIDRs make two "
                        "nodes claim the same pod IPs",
                    )
        if public_ip is not None:
            from kubenet_lab.engines.cloud import check_public_ip

            check_public_ip(self, obj, "status.addresses[ExternalIP]", public_ip)
        all_labels = {
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            **check_labels(obj, "metadata.labels", dict(labels or {})),
        }
        taints: tuple = ()
        if control_plane:
            # kubeadm's mark-control-plane phase sets both labels and the taint
            all_labels["node-role.kubernetes.io/control-plane"] = ""
            all_labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            taints = (CONTROL_PLANE_TAINT,)
        node = Node(
            name=name, ip=str(addr), pod_cidr=str(block), subnet=subnet.name,
            public_ip=public_ip, labels=dict(sorted(all_labels.items())), taints=taints,
        )
        if subnet not in self.vpc.subnets:
            self.vpc = Vpc(self.vpc.cidr, self.vpc.subnets + (subnet,))
        self._nodes[name] = node
        self._pods_by_node[name] = {}
        self._ip_owner[int(addr)] = f"Node {name}"
        self._node_order = None
        if public_ip is not None:
            self._ip_owner[int(IPv4Address(public_ip))] = f"Node {name}"
        self._changed()
        return node

    def _public_subnet(self) -> Subnet:
        from kubenet_lab.engines.cloud import PUBLIC_SUBNET

        return next((s for s in self.vpc.subnets if s.public), PUBLIC_SUBNET)

    def add_nat_gateway(self, public_ip: str | None = None, *, name: str = "nat-gw") -> NatGateway:
        """Add a public NAT gateway in the public subnet with the Elastic IP ``public_ip``;
        the private subnet's route table then sends ``0.0.0.0/0`` to it.

        Pods and nodes in the private subnet reach the internet through it and are seen
        there as ``public_ip``; the internet cannot open connections through it (facts
        sheet §4.2).

        Raises
        ------
        ManifestError
            No public IP, or a malformed or private one.
        ConflictError
            The public IP or the name is already used.

        Examples
        --------
        >>> c = kl.Cluster(workers=1)
        >>> gw = c.add_nat_gateway(public_ip="198.51.100.20")
        >>> gw.private_ip, gw.subnet
        ('10.0.0.4', 'public')
        >>> _ = c.add_pod("default/a", node="node-1")
        >>> c.trace("default/a", "93.184.216.34").source_ip_seen
        '198.51.100.20'
        """
        from kubenet_lab.engines.cloud import check_public_ip
        from kubenet_lab.engines.ipam import next_node_ip
        from kubenet_lab.engines.validation import check_dns_subdomain

        obj = f"NatGateway {name}"
        check_dns_subdomain(obj, "name", name)
        if name in self._nat_gateways:
            raise ConflictError(obj, "name", name, "already exists", fix="choose another name")
        if self._nat_gateways:
            raise ConflictError(obj, "name", name,
                                "the private subnet's route table already sends 0.0.0.0/0 to "
                                f"{next(iter(self._nat_gateways))}",
                                fix="one NAT gateway is enough for the lab's one private subnet")
        if public_ip is None:
            raise ManifestError(obj, "public_ip", None,
                                "Required value: a public NAT gateway needs an Elastic IP",
                                fix="pass public_ip='198.51.100.20' (any public address)")
        check_public_ip(self, obj, "public_ip", public_ip)
        subnet = self._public_subnet()
        private = next_node_ip(ip_network(subnet.cidr), self._ip_owner)
        gw = NatGateway(name, str(private), public_ip, subnet.name)
        if subnet not in self.vpc.subnets:
            self.vpc = Vpc(self.vpc.cidr, self.vpc.subnets + (subnet,))
        self._nat_gateways[name] = gw
        self._ip_owner[int(private)] = f"NatGateway {name}"
        self._ip_owner[int(IPv4Address(public_ip))] = f"NatGateway {name}"
        self._changed()
        return gw

    @property
    def nat_gateways(self) -> list[NatGateway]:
        """The VPC's NAT gateways."""
        return list(self._nat_gateways.values())

    @property
    def load_balancers(self) -> list[LoadBalancer]:
        """The cloud load balancers provisioned for LoadBalancer Services."""
        return [self._load_balancers[k] for k in sorted(self._load_balancers)]

    def route_table(self, subnet: str) -> list[tuple[str, str]]:
        """The VPC route table of ``subnet`` (``"private"`` or ``"public"``) as
        (destination, target) pairs.

        Examples
        --------
        >>> c = kl.Cluster()
        >>> c.route_table("private")
        [('10.0.0.0/16', 'local')]
        >>> _ = c.add_nat_gateway(public_ip="198.51.100.20")
        >>> c.route_table("private")
        [('10.0.0.0/16', 'local'), ('0.0.0.0/0', 'nat-gw')]
        >>> c.route_table("public")
        [('10.0.0.0/16', 'local'), ('0.0.0.0/0', 'igw')]
        """
        from kubenet_lab.engines.cloud import route_table

        try:
            return route_table(self, subnet)
        except KeyError:
            raise NotFoundError("Vpc", "subnets", subnet, "is not a subnet of the VPC",
                                fix="subnets are: " + ", ".join(
                                    s.name for s in self.vpc.subnets)) from None

    def add_cloud_load_balancer(self) -> None:
        """Run the cloud's load-balancer controller (the service controller of a
        cloud-controller-manager): every ``type: LoadBalancer`` Service, now and later,
        gets a cloud load balancer with a public address in
        ``status.loadBalancer.ingress``. Without it (plain kubeadm) such Services stay
        ``<pending>``.

        Examples
        --------
        >>> c = kl.Cluster(workers=1)
        >>> c.add_cloud_load_balancer()
        >>> c.add_service("default/web", type="LoadBalancer", selector={"app": "web"},
        ...               ports=[80]).load_balancer_ip
        '198.51.100.10'
        """
        if "cloud-load-balancer" in self._addons:
            return
        self._addons["cloud-load-balancer"] = None
        for ref in sorted(self._services):
            svc = self._services[ref]
            if svc.type == "LoadBalancer" and svc.load_balancer_ip is None:
                self._store_service(svc)
        self._changed()

    def add_ingress_controller(self, replicas: int = 2) -> None:
        """Deploy an ingress-nginx-like controller: namespace ``ingress-nginx``, its
        Deployment, its LoadBalancer Service ``ingress-nginx-controller``
        (``externalTrafficPolicy: Local``, as ingress-nginx's cloud manifest sets it; the
        cloud load balancer controller is started for it) and the default IngressClass
        ``nginx``. ``trace(src, "http://host/path")`` then sends HTTP requests to it.

        Examples
        --------
        >>> c = kl.Cluster(workers=2)
        >>> c.add_ingress_controller()
        >>> c.service("ingress-nginx/ingress-nginx-controller").load_balancer_ip
        '198.51.100.10'
        >>> [(k.name, k.default) for k in c.ingress_classes]
        [('nginx', True)]
        >>> c.trace("internet", "http://shop.example.com/").http_status
        404
        """
        from kubenet_lab.engines.ingress import add_controller

        add_controller(self, replicas)

    @property
    def ingresses(self) -> list[Ingress]:
        """The Ingress objects, in the order they were applied."""
        return list(self._ingresses.values())

    @property
    def ingress_classes(self) -> list[IngressClass]:
        """The IngressClasses."""
        return [self._ingress_classes[k] for k in sorted(self._ingress_classes)]

    def delete_ingress(self, ref: str) -> None:
        """Delete an Ingress (``"ns/name"``)."""
        ing = _lookup(self._ingresses, ref, "Ingress", "Ingresses")
        del self._ingresses[ing.ref]
        self._changed()

    def add_ip_masq_agent(self) -> None:
        """Deploy ip-masq-agent (a DaemonSet in kube-system): its ``IP-MASQ-AGENT`` chain
        masquerades pod traffic to anything outside its non-masquerade CIDRs. The
        ``kube-system/ip-masq-agent`` ConfigMap (``apply`` it) replaces the defaults
        key by key (facts sheet §4.1).

        Examples
        --------
        >>> c = kl.Cluster(cni="bridge", workers=1)
        >>> c.add_ip_masq_agent()
        >>> "-A IP-MASQ-AGENT -d 10.0.0.0/8" in c.exec("node-1", "iptables-save -t nat")
        True
        """
        self._addons["ip-masq-agent"] = None
        self._changed()

    @property
    def _ip_masq_agent(self) -> bool:
        return "ip-masq-agent" in self._addons

    def add_pod(
        self,
        ref: str,
        *,
        node: str | None = None,
        labels: Mapping[str, str] | None = None,
        containers: Iterable[Container | Mapping[str, Any]] | None = None,
        ip: str | None = None,
        ready: bool = True,
        tolerations: Iterable[Toleration] = (),
    ) -> Pod:
        """Create a pod and give it an IP from its node's podCIDR.

        Parameters
        ----------
        ref : str
            ``"namespace/name"`` (the namespace must exist) or ``"name"`` for ``default``.
        node : str, optional
            ``spec.nodeName``. By default the scheduler picks the schedulable node with
            the fewest pods (a real scheduler scores more than that).
        labels : dict, optional
        containers : list of Container, optional
            By default one container named after the pod, running ``nginx:1.27`` and
            listening on TCP port 80.
        ip : str, optional
            ``status.podIP``; it must be a free pod address of the node's podCIDR.
        ready : bool
            The ``Ready`` condition.

        Raises
        ------
        ManifestError, ConflictError, NotFoundError, AddressExhaustedError, UnschedulableError

        Examples
        --------
        >>> c = kl.Cluster(workers=1)
        >>> pod = c.add_pod("default/two", containers=[kl.Container("web", ports=[80]),
        ...                                            kl.Container("sidecar", ports=[9090])])
        >>> pod.node, pod.ip, [ct.name for ct in pod.containers]
        ('node-1', '10.244.1.2', ['web', 'sidecar'])
        """
        return self._create_pod(
            ref, node=node, labels=labels, containers=containers, ip=ip, ready=ready,
            tolerations=tuple(tolerations), owner=None,
        )

    def delete_pod(self, ref: str) -> Pod | None:
        """Delete a pod. If a Deployment owns it, its ReplicaSet creates a replacement
        at once, with a new name and (host-local does not reuse the freed address right
        away) a new IP; that replacement is returned.

        >>> c = kl.Cluster(workers=1)
        >>> old = c.pod(c.pods[0].ref)          # a CoreDNS pod
        >>> new = c.delete_pod(old.ref)
        >>> new.name != old.name, new.ip != old.ip
        (True, True)
        """
        pod = self.pod(ref)
        self._remove_pod(pod)
        self._changed()
        if pod.owner and pod.owner.startswith("Deployment "):
            dep = self._deployments[pod.owner.split(" ", 1)[1]]
            return self._create_replica(dep)
        return None

    def apply(self, src: Any) -> list[Any]:
        """Apply Kubernetes manifests, all or nothing.

        ``src`` is YAML text, a path to a YAML file, a dict, or a list of those.
        Multi-document YAML and ``kind: List`` (what ``kubectl get -o yaml`` prints)
        both work. Supported kinds: Namespace, Node, Pod, Deployment, Service,
        NetworkPolicy, ClusterNetworkPolicy (v1alpha2), AdminNetworkPolicy and
        BaselineAdminNetworkPolicy (v1alpha1).

        Returns the objects applied, in order. If any document is invalid, nothing is
        applied and the cluster is unchanged.

        Raises
        ------
        ManifestError
            Malformed YAML, a missing or invalid field (the message names it).
        UnsupportedKindError
            A kind the lab does not model; the message lists the supported ones.

        Examples
        --------
        >>> c = kl.Cluster(workers=1)
        >>> [pod] = c.apply('''
        ... apiVersion: v1
        ... kind: Pod
        ... metadata: {name: web, labels: {app: web}}
        ... spec:
        ...   containers:
        ...   - name: nginx
        ...     image: nginx:1.27
        ...     ports: [{containerPort: 80, name: http}]
        ... ''')
        >>> pod.ref, pod.ip
        ('default/web', '10.244.1.2')
        """
        from kubenet_lab.engines.manifests import apply_manifests

        snapshot = self._snapshot()
        try:
            return apply_manifests(self, src)
        except BaseException:
            self._restore(snapshot)
            raise

    def delete_network_policy(self, ref: str) -> None:
        """Delete a NetworkPolicy ``"namespace/name"`` or an admin policy ``"Kind/name"``
        (e.g. ``"AdminNetworkPolicy/deny-db"``).

        Raises
        ------
        NotFoundError
            No such policy.
        """
        for store in (self._network_policies, self._admin_policies):
            if ref in store:
                del store[ref]
                self._changed()
                return
        raise NotFoundError(f"NetworkPolicy {ref}", None, ref, "does not exist",
                            fix=_suggest(ref, [*self._network_policies, *self._admin_policies],
                                         "policies"))

    def reachability(self, port: int = 80, protocol: str = "TCP", *,
                     pods: Iterable[str] | None = None,
                     namespaces: Iterable[str] | None = None) -> Reachability:
        """The truth table of pod-to-pod connections on ``port``/``protocol``.

        Rows are sources, columns destinations (``.`` allowed, ``X`` blocked), as the
        upstream e2e tests and Cyclonus print them. By default the table covers every
        pod outside ``kube-system``; pass ``pods`` or ``namespaces`` to choose.

        With flannel alone nothing enforces policies, so every entry is allowed and the
        table says so.

        Examples
        --------
        >>> c = kl.Cluster(workers=1, network_policy="kube-network-policies")
        >>> for n in "ab":
        ...     _ = c.add_pod(f"default/{n}", labels={"app": n})
        >>> _ = c.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        ...              "metadata": {"name": "deny-b"},
        ...              "spec": {"podSelector": {"matchLabels": {"app": "b"}}}})
        >>> r = c.reachability(port=80)
        >>> r.allowed("default/a", "default/b"), r.allowed("default/b", "default/a")
        (False, True)
        """
        from kubenet_lab.engines.policy import reachability

        return reachability(self, port, protocol, pods=pods, namespaces=namespaces)

    def explain(self, src: str, dst: str, port: int = 80, protocol: str = "TCP") -> Explanation:
        """Which tier, policies and rules allow or deny one connection, in words.

        ``src`` and ``dst`` are pods (``"ns/name"``), node names or IPs.

        Examples
        --------
        >>> c = kl.Cluster(workers=1, network_policy="kube-network-policies")
        >>> _ = c.add_pod("default/a"); _ = c.add_pod("default/b")
        >>> print(c.explain("default/a", "default/b"))  # doctest: +NORMALIZE_WHITESPACE
        default/a -> default/b TCP/80: allowed
          egress : allow [default] No policy decides egress from pod default/a to pod
          default/b on TCP/80: Kubernetes allows it by default.
          ingress: allow [default] No policy decides ingress to pod default/b from pod
          default/a on TCP/80: Kubernetes allows it by default.
          replies of this connection are allowed too: connection tracking marks them
          established, and they are not checked again.
        """
        from kubenet_lab.engines.policy import explain

        return explain(self, src, dst, port, protocol)

    def trace(self, src: str, dst: str, port: int = 80, protocol: str = "TCP") -> Trace:
        """Walk one packet (the first packet of a connection) from ``src`` to ``dst``.

        ``src``: ``"ns/pod"``, ``"ns/pod/container"``, a node name, an IP of a pod or
        node, or any other IP outside the pod and service networks: an outside client,
        a host in the nodes' own subnet that reaches node addresses directly.
        ``dst``: ``"ns/pod"``, a node name, an IP (a cluster IP or load-balancer IP goes
        through kube-proxy's rules), ``"ip:port"`` (e.g. a node IP and a NodePort),
        ``"localhost"`` / ``"127.0.0.1"`` (inside the source pod), or a DNS name such as
        ``"web"`` or ``"web.default"``, resolved with the source pod's resolv.conf (the
        lookup is the first hop).

        Returns a ``Trace``; a dropped or refused packet is a result, not an error.

        Raises
        ------
        NotFoundError
            An unknown pod or node.
        ManifestError
            A port outside 1-65535, an unknown protocol, a malformed address.

        Examples
        --------
        >>> c = kl.Cluster(workers=2)
        >>> a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
        >>> t = c.trace("default/a", "default/b", port=80)
        >>> t.delivered, t.destination_pod, t.source_ip_seen
        (True, 'default/b', '10.244.1.2')
        >>> t.nodes
        ('node-1', 'node-2')
        """
        if isinstance(dst, str) and dst.startswith(("http://", "https://")):
            from kubenet_lab.engines.ingress import trace_http

            return trace_http(self, src, dst)
        from kubenet_lab.engines.datapath import trace

        return trace(self, src, dst, port=port, protocol=protocol)

    def verify_network_model(self) -> NetworkModelReport:
        """Check the Kubernetes network model on the cluster as it stands.

        The rules (kubernetes.io, "Services, Load Balancing, and Networking"): every pod
        has a unique cluster-wide IP; every pod reaches every other pod, on any node,
        with its source IP unchanged (no NAT); the agents on a node reach every pod on
        that node. Equivalent pods are grouped, so a healthy cluster needs a few traces
        whatever its size (see the report's ``note``).

        Returns a ``NetworkModelReport``: ``.ok``, ``.problems`` (each names the pair and
        the hop where the packet was lost or rewritten), text, HTML and ``.draw()``.

        Examples
        --------
        >>> c = kl.Cluster(workers=2)
        >>> a = c.add_pod("default/a", node="node-1"); b = c.add_pod("default/b", node="node-2")
        >>> r = c.verify_network_model()
        >>> r.ok, [rule.ok for rule in r.rules]
        (True, [True, True, True])
        >>> c.exec("node-1", "ip route del 10.244.2.0/24")
        ''
        >>> r = c.verify_network_model()
        >>> r.ok, r.problems[0].src, r.problems[0].dst, r.problems[0].where
        (False, 'default/a', 'default/b', 'network 10.0.1.0/24')
        """
        from kubenet_lab.engines.verify import verify_network_model

        return verify_network_model(self)

    def traffic(self, flows: Iterable[Any] | None = None, *, requests: int = 50,
                seed: int | None = None) -> TrafficReport:
        """What a set of flows puts on the cluster's links: node-to-node bytes on the
        wire, the overlay's share, pod-to-pod payload. Without ``flows``, ``requests``
        random flows between pods, drawn from ``seed`` (the cluster's seed by default).

        ``str(report)`` is a table, ``report.draw()`` a picture with widths by volume.

        >>> c = kl.Cluster(workers=2)
        >>> for i in range(6): _ = c.add_pod(f"default/p{i}")
        >>> r = c.traffic(requests=20, seed=7)
        >>> r.overlay_total > 0, r == c.traffic(requests=20, seed=7)
        (True, True)
        """
        from kubenet_lab.engines.traffic import traffic

        return traffic(self, flows, requests=requests, seed=seed)

    def exec(self, where: str, command: str) -> str:
        """Run a command in a pod (``"ns/pod"``) or on a node (its name), like
        ``kubectl exec`` or ``ssh``, and return what the real tool prints.

        Supported: ``ip addr``, ``ip route`` (and ``ip route add|del`` on a node, which
        really changes that node's routes), ``ip neigh``, ``bridge fdb``,
        ``iptables-save``, ``cat /etc/resolv.conf``, ``ping -c N``, ``traceroute -n``,
        ``nslookup``, ``curl``, ``tcpdump -n -i IFACE``, ``hostname`` and, on a node,
        ``kubectl get pods|nodes|svc|ingress [-A] [-o wide]``. Anything else answers as a shell
        does (``command not found``, a usage line), never with a Python error.

        Raises
        ------
        NotFoundError
            ``where`` is neither a pod nor a node of this cluster.

        Examples
        --------
        >>> c = kl.Cluster(workers=1)
        >>> print(c.exec("node-1", "ip route"))
        default via 10.0.1.1 dev eth0
        10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.5
        10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink
        >>> print(c.exec("node-1", "ipconfig"))
        bash: ipconfig: command not found
        """
        from kubenet_lab.engines.shell import run
        from kubenet_lab.views.text import kubectl_command

        return run(self, where, command, kubectl=kubectl_command)

    # ------------------------------------------------------------------ services
    @property
    def services(self) -> list[Service]:
        """All Services, by namespace and name."""
        return sorted(self._services.values(), key=lambda s: (s.namespace, s.name))

    def service(self, ref: str) -> Service:
        """The Service ``"namespace/name"`` (a bare name means namespace ``default``).

        >>> kl.Cluster().service("kube-system/kube-dns").cluster_ip
        '10.96.0.10'

        Raises
        ------
        NotFoundError
            If there is no such Service; the message suggests close names.
        """
        return _lookup(self._services, ref, "Service", "services")

    def add_service(
        self,
        ref: str,
        *,
        ports: Iterable[ServicePort | Mapping[str, Any] | int],
        selector: Mapping[str, str] | None = None,
        type: str = "ClusterIP",  # noqa: A002 - the API's field name
        cluster_ip: str | None = None,
        session_affinity: str = "None",
        external_traffic_policy: str | None = None,
        internal_traffic_policy: str = "Cluster",
        labels: Mapping[str, str] | None = None,
    ) -> Service:
        """Create (or update) a Service, allocating its cluster IP and node ports as the
        API server does (see ``kubenet_lab.engines.services``).

        ``ports`` holds port numbers, ``ServicePort`` objects or manifest-style dicts
        (``{"name": "http", "port": 80, "targetPort": 8080}``). ``cluster_ip="None"``
        makes a headless Service.

        Raises
        ------
        ManifestError
            An invalid field (the message names it), e.g. a ``clusterIP`` outside the
            service CIDR, a ``nodePort`` outside 30000-32767, an unnamed port of a
            multi-port Service.
        ConflictError
            The cluster IP or node port is already allocated.

        Examples
        --------
        >>> c = kl.Cluster(workers=1)
        >>> svc = c.add_service("default/web", selector={"app": "web"}, ports=[80],
        ...                     cluster_ip="10.96.45.10")
        >>> svc.cluster_ip, svc.ports[0].target_port
        ('10.96.45.10', 80)
        """
        from kubenet_lab.engines.services import build_service

        svc = build_service(
            self, ref, type=type, ports=list(ports), selector=selector, cluster_ip=cluster_ip,
            session_affinity=session_affinity, external_traffic_policy=external_traffic_policy,
            internal_traffic_policy=internal_traffic_policy, labels=labels,
        )
        self._store_service(svc)
        return self._services[svc.ref]

    def delete_service(self, ref: str) -> None:
        """Delete a Service; its cluster IP and node ports become free."""
        svc = self.service(ref)
        self._drop_service(svc)
        self._changed()

    def endpoint_slices(self, ref: str) -> list[EndpointSlice]:
        """The EndpointSlices of a Service, as the EndpointSlice controller makes them.

        >>> c = kl.Cluster()
        >>> [e.address for s in c.endpoint_slices("kube-system/kube-dns") for e in s.endpoints]
        ['10.244.0.2', '10.244.0.3']
        """
        from kubenet_lab.engines.services import endpoint_slices

        return endpoint_slices(self, self.service(ref))

    def iptables_save(self, node: str) -> str:
        """What ``iptables-save`` prints on ``node`` for the filter and nat chains
        kube-proxy (iptables mode) owns; a pure function of the cluster's state.

        Examples
        --------
        >>> c = kl.Cluster()
        >>> text = c.iptables_save("control-plane")
        >>> [l for l in text.splitlines() if l.startswith("-A KUBE-SERVICES")][0]
        '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https \
cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y'
        """
        from kubenet_lab.engines.kube_proxy import iptables_save

        return iptables_save(self, node)

    def resolve(self, name: str, from_pod: str | None = None) -> list[str]:
        """The addresses CoreDNS gives for ``name`` (A records; an ExternalName's
        CNAME is followed as far as the cluster can). With ``from_pod``, the pod's
        ``resolv.conf`` applies: its search path and ``ndots:5``. An unknown name
        (NXDOMAIN) gives an empty list.

        >>> c = kl.Cluster()
        >>> c.resolve("kubernetes.default.svc.cluster.local")
        ['10.96.0.1']
        """
        from kubenet_lab.engines.dns import resolve

        return resolve(self, name, from_pod)

    def resolv_conf(self, pod: str) -> str:
        """The ``/etc/resolv.conf`` kubelet writes into a pod (dnsPolicy ClusterFirst).

        >>> c = kl.Cluster(workers=1)
        >>> print(c.resolv_conf(c.add_pod("default/a").ref))
        search default.svc.cluster.local svc.cluster.local cluster.local
        nameserver 10.96.0.10
        options ndots:5
        """
        from kubenet_lab.engines.dns import resolv_conf

        return resolv_conf(self, pod)

    def _store_service(self, svc: Service) -> None:
        old = self._services.get(svc.ref)
        if old is not None:
            self._drop_service(old)
        if svc.type == "LoadBalancer" and "cloud-load-balancer" in self._addons:
            from kubenet_lab.engines.cloud import provision_load_balancer

            svc = provision_load_balancer(self, svc, old)
        self._services[svc.ref] = svc
        if svc.cluster_ip:
            self._service_ips[int(IPv4Address(svc.cluster_ip))] = svc.ref
        for p in svc.ports:
            if p.node_port is not None:
                self._node_ports[p.node_port] = svc.ref
        if svc.health_check_node_port:
            self._node_ports[svc.health_check_node_port] = svc.ref
        self._changed()

    def _drop_service(self, svc: Service) -> None:
        del self._services[svc.ref]
        lb = self._load_balancers.pop(svc.ref, None)
        if lb is not None:
            self._ip_owner.pop(int(IPv4Address(lb.public_ip)), None)
        if svc.cluster_ip:
            self._service_ips.pop(int(IPv4Address(svc.cluster_ip)), None)
        for p in svc.ports:
            if p.node_port is not None:
                self._node_ports.pop(p.node_port, None)
        if svc.health_check_node_port:
            self._node_ports.pop(svc.health_check_node_port, None)

    def _add_kubeadm_services(self) -> None:
        """The Services a kubeadm cluster starts with (facts sheet §2.1): the API
        server's ``default/kubernetes`` at the first IP of the service CIDR and CoreDNS's
        ``kube-system/kube-dns`` at the tenth."""
        from kubenet_lab.engines.services import APISERVER_PORT

        self._store_service(Service(
            "default", "kubernetes", "ClusterIP", "10.96.0.1",
            (ServicePort(443, APISERVER_PORT, "TCP", "https"),), None,
            {"component": "apiserver", "provider": "kubernetes"},
        ))
        self._store_service(Service(
            "kube-system", "kube-dns", "ClusterIP", "10.96.0.10",
            (ServicePort(53, 53, "UDP", "dns"), ServicePort(53, 53, "TCP", "dns-tcp"),
             ServicePort(9153, 9153, "TCP", "metrics")),
            {"k8s-app": "kube-dns"},
            {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
             "kubernetes.io/name": "CoreDNS"},
        ))

    # ------------------------------------------------------------------ internals
    def _memo(self, key: Any, factory: Any) -> Any:
        """Cache ``factory()`` until the cluster next changes (engines use this too)."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = factory()
            return value

    def _edit_routes(self, node: str, *edits: tuple[str, Any]) -> None:
        """Record ``ip route add/del`` on a node (engines.shell validates them first)."""
        self._route_edits[node] = self._route_edits.get(node, ()) + tuple(edits)
        self._changed()

    def _changed(self) -> None:
        self._cache.clear()

    def _snapshot(self) -> dict[str, Any]:
        state = {k: (v.copy() if isinstance(v, dict) else v) for k, v in vars(self).items()}
        state["_pods_by_node"] = {k: v.copy() for k, v in self._pods_by_node.items()}
        state["rng"] = self.rng.getstate()
        return state

    def _restore(self, state: dict[str, Any]) -> None:
        rng_state = state.pop("rng")
        vars(self).update(state)
        self.rng.setstate(rng_state)
        self._changed()

    def _check_ip_free(self, obj: str, field: str, addr: IPv4Address) -> None:
        owner = self._ip_owner.get(int(addr))
        if owner is not None:
            raise ConflictError(obj, field, str(addr), f"is already used by {owner}",
                                fix="leave the address out to get a free one")

    def _schedule(self, obj: str, tolerations: tuple[Toleration, ...]) -> str:
        """The schedulable node with the fewest pods (natural name order breaks ties)."""
        best, best_load = None, self.max_pods
        for node in self.nodes:
            if node.taints and not self._tolerated(node, tolerations):
                continue
            load = len(self._pods_by_node[node.name])
            if load < best_load:
                best, best_load = node.name, load
        if best is not None:
            return best
        reasons: dict[str, int] = {}
        for node in self.nodes:
            if node.taints and not self._tolerated(node, tolerations):
                taint = node.taints[0]
                text = f"had untolerated taint {{{taint.key}: {taint.value}}}"
            else:
                text = "Too many pods"
            reasons[text] = reasons.get(text, 0) + 1
        detail = ", ".join(f"{n} node(s) {r}" for r, n in sorted(reasons.items()))
        raise UnschedulableError(
            obj, "spec.nodeName", None,
            f"cannot be scheduled: 0/{len(self._nodes)} nodes are available: {detail}",
            fix="add a worker node with add_node(), or set the node explicitly",
        )

    @staticmethod
    def _tolerated(node: Node, tolerations: tuple[Toleration, ...]) -> bool:
        return all(any(tol.tolerates(t) for tol in tolerations) for t in node.taints)

    def _create_pod(
        self,
        ref: str,
        *,
        node: str | None,
        labels: Mapping[str, str] | None,
        containers: Iterable[Container | Mapping[str, Any]] | None,
        ip: str | None,
        ready: bool,
        tolerations: tuple[Toleration, ...],
        owner: str | None,
    ) -> Pod:
        from kubenet_lab.engines.ipam import next_pod_ip, pod_ip_range
        from kubenet_lab.engines.validation import (
            check_containers,
            check_dns_subdomain,
            check_ip,
            check_labels,
        )

        namespace, _, name = ref.rpartition("/") if "/" in str(ref) else ("default", "", ref)
        obj = f"Pod {namespace}/{name}"
        check_dns_subdomain(obj, "metadata.name", name)
        self.namespace(namespace)
        key = f"{namespace}/{name}"
        if key in self._pods:
            raise ConflictError(obj, "metadata.name", name, "already exists",
                                fix="choose another name, or delete_pod() the old one first")
        labels = check_labels(obj, "metadata.labels", dict(labels or {}))
        if containers is None:
            containers = [Container(name, ports=(ContainerPort(80),))]
        conts, crashing, warnings = check_containers(obj, list(containers))
        if node is None:
            node = self._schedule(obj, tolerations)
        host = self._nodes.get(node)
        if host is None:
            raise NotFoundError(
                obj, "spec.nodeName", node, "is not a node of this cluster",
                fix=_suggest(str(node), [n.name for n in self.nodes], "nodes"),
            )
        if len(self._pods_by_node[node]) >= self.max_pods:
            raise UnschedulableError(
                obj, "spec.nodeName", node,
                f"already runs {self.max_pods} pods (kubelet maxPods); the kubelet rejects "
                "the pod with OutOfpods",
                fix="put the pod on another node",
            )
        cidr = ip_network(host.pod_cidr)
        if ip is None:
            # _ip_owner holds every address in use; only this node's pods fall in its podCIDR
            addr = next_pod_ip(cidr, self._ip_owner, self._last_pod_ip.get(node))
        else:
            addr = check_ip(obj, "status.podIP", ip)
            first, last = pod_ip_range(cidr)
            if not first <= int(addr) <= last:
                raise ManifestError(
                    obj, "status.podIP", ip,
                    f"is not a pod address of node {node}'s podCIDR {host.pod_cidr}",
                    fix=f"use an address from {IPv4Address(first)} to {IPv4Address(last)} "
                    "(the .1 belongs to the cni0 bridge), or leave it out",
                )
            self._check_ip_free(obj, "status.podIP", addr)
        pod = Pod(
            namespace=namespace, name=name, node=node, ip=str(addr),
            labels=dict(sorted(labels.items())), containers=conts, owner=owner,
            ready=ready and not crashing, crashing=crashing, warnings=warnings,
            tolerations=tolerations,
        )
        self._pods[key] = pod
        self._pods_by_node[node][key] = None
        self._ip_owner[int(addr)] = f"Pod {key}"
        self._last_pod_ip[node] = int(addr)
        self._changed()
        return pod

    def _remove_pod(self, pod: Pod) -> None:
        del self._pods[pod.ref]
        del self._pods_by_node[pod.node][pod.ref]
        del self._ip_owner[int(IPv4Address(pod.ip))]

    def _set_policy(self, policy: NetworkPolicy | AdminPolicy) -> NetworkPolicy | AdminPolicy:
        """Create or replace a policy (the engines validated it)."""
        if isinstance(policy, NetworkPolicy):
            self._network_policies[policy.ref] = policy
        else:
            self._admin_policies[policy.ref] = policy
        self._changed()
        return policy

    def _create_replica(self, dep: Deployment) -> Pod:
        """Create one more pod of a Deployment, named as its ReplicaSet would."""
        count = self._replica_counter.get(dep.ref, 0)
        self._replica_counter[dep.ref] = count + 1
        rs = f"{dep.name}-{dep.template_hash}"
        digest = hashlib.sha256(f"{dep.namespace}/{rs}#{count}".encode()).digest()
        suffix = "".join(_SAFE_ALPHABET[b % len(_SAFE_ALPHABET)] for b in digest[:5])
        labels = {**dep.template_labels, "pod-template-hash": dep.template_hash}
        return self._create_pod(
            f"{dep.namespace}/{rs}-{suffix}", node=None, labels=labels,
            containers=dep.containers, ip=None, ready=True, tolerations=dep.tolerations,
            owner=f"Deployment {dep.ref}",
        )

    def _set_deployment(self, dep: Deployment) -> list[Pod]:
        """Create or update a Deployment and converge its pods to the desired state."""
        template = repr((sorted(dep.template_labels.items()), dep.containers, dep.tolerations))
        fnv = 0x811C9DC5
        for byte in template.encode():  # FNV-32a, the hash ReplicaSets are named with
            fnv = ((fnv ^ byte) * 0x01000193) & 0xFFFFFFFF
        dep = _replace(dep, template_hash=_safe_encode(str(fnv))[:10])
        self._deployments[dep.ref] = dep
        owner = f"Deployment {dep.ref}"
        current = [p for p in self._pods.values() if p.owner == owner]
        for pod in current:
            if pod.labels.get("pod-template-hash") != dep.template_hash:
                self._remove_pod(pod)
        current = [p for p in current if p.ref in self._pods]
        while len(current) > dep.replicas:
            self._remove_pod(current.pop())
        while len(current) < dep.replicas:
            current.append(self._create_replica(dep))
        self._changed()
        return current

    def _add_coredns(self) -> None:
        dns = Container(
            "coredns", "registry.k8s.io/coredns/coredns:v1.11.3",
            (ContainerPort(53, "dns", "UDP"), ContainerPort(53, "dns-tcp", "TCP"),
             ContainerPort(9153, "metrics", "TCP")),
        )
        self._set_deployment(Deployment(
            "kube-system", "coredns", 2, {"k8s-app": "kube-dns"}, {"k8s-app": "kube-dns"},
            (dns,),
            (Toleration("CriticalAddonsOnly", "Exists"),
             Toleration("node-role.kubernetes.io/control-plane", effect="NoSchedule")),
        ))


def _replace(obj: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(obj, **changes)


def _lookup(table: dict[str, Any], ref: str, kind: str, what: str) -> Any:
    """``table["namespace/name"]`` (a bare name means ``default``), or NotFoundError."""
    key = ref if "/" in str(ref) else f"default/{ref}"
    try:
        return table[key]
    except (KeyError, TypeError):
        raise NotFoundError(
            f"{kind} {key}", None, ref, "does not exist",
            fix=_suggest(key, list(table), what),
        ) from None


def _suggest(wanted: str, names: list[str], what: str) -> str:
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(repr(n) for n in close) + "?"
    if not names:
        return f"there are no {what} yet"
    shown = sorted(names, key=natural_key)
    more = f", ... ({len(shown)} in all)" if len(shown) > 8 else ""
    return f"{what} are: " + ", ".join(shown[:8]) + more
