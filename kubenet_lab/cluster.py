"""The cluster, as a learner drives it: ``Cluster`` is the facade over the layers
(``kubenet_lab.model`` → ``api`` → ``controllers`` → ``dataplane`` → ``walk`` →
``analysis`` → ``tools``). Each public method is a few lines that call one function
below; the state lives in the ``Store`` (the objects, as etcd holds them) and the
``Runtime`` (what the nodes' kernels remember). The walk, the analyses and the shell are
imported on first use, so that ``import kubenet_lab`` stays fast.

A new ``Cluster()`` looks like a fresh kubeadm cluster with flannel
(``kubenet_lab.controllers.kubeadm``):

- one node, ``control-plane``, tainted ``node-role.kubernetes.io/control-plane:NoSchedule``
  so ordinary pods go to workers;
- the namespaces kubeadm creates (``default``, ``kube-system``, ``kube-public``,
  ``kube-node-lease``);
- the CoreDNS Deployment in ``kube-system`` (two replicas, which tolerate the
  control-plane taint and so land on the control-plane node);
- cluster CIDR 10.244.0.0/16 (flannel's default ``Network``), a /24 podCIDR per node,
  service CIDR 10.96.0.0/12 (kubeadm's ``serviceSubnet``), at most 110 pods per node
  (kubelet's ``maxPods``);
- nodes in the VPC subnet 10.0.1.0/24 of the VPC 10.0.0.0/16, a public subnet 10.0.0.0/24
  added on first use (``private_subnet``, ``vpc_cidr``, ``public_subnet``; see
  ``kubenet_lab.model.cloud``).

Pods that use the node's own network (``hostNetwork: true``: kube-proxy, flannel, the
control-plane components) are not modelled as pods; the nodes' listening ports stand
for them (``NODE_PORTS``).

Names follow Kubernetes: pods are ``"namespace/name"``; listings use a natural sort, so
``node-2`` comes before ``node-10``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from kubenet_lab.api.service import build_service
from kubenet_lab.api.workloads import build_namespace
from kubenet_lab.controllers import apply as applying
from kubenet_lab.controllers import (
    cloud,
    gateway,
    ingress,
    kubeadm,
    objects,
    replicaset,
    services,
)
from kubenet_lab.controllers.endpointslice import endpoint_slices
from kubenet_lab.controllers.pods import create_pod
from kubenet_lab.dataplane import dns, ip_masq_agent, kube_proxy, policy
from kubenet_lab.dataplane.cni import CNI_PLUGINS
from kubenet_lab.dataplane.install import NETWORK_POLICY_AGENTS, cluster_config
from kubenet_lab.dataplane.runtime import Runtime
from kubenet_lab.dataplane.tables import Dataplane
from kubenet_lab.dataplane.topology import topology
from kubenet_lab.model.arguments import checked
from kubenet_lab.model.store import Snapshot, Store

if TYPE_CHECKING:
    import networkx as nx

    from kubenet_lab.model.cloud import LoadBalancer, NatGateway, Subnet, Vpc
    from kubenet_lab.model.deployment import Deployment
    from kubenet_lab.model.gateway import GatewayClass
    from kubenet_lab.model.ingress import Ingress, IngressClass
    from kubenet_lab.model.namespace import Namespace
    from kubenet_lab.model.networkpolicy import (
        AdminPolicy,
        Explanation,
        NetworkPolicy,
        Reachability,
    )
    from kubenet_lab.model.node import Node
    from kubenet_lab.model.pod import Container, Pod, Toleration
    from kubenet_lab.model.service import EndpointSlice, Service, ServicePort
    from kubenet_lab.model.trace import Trace
    from kubenet_lab.model.traffic import TrafficReport
    from kubenet_lab.model.verification import NetworkModelReport

__all__ = ["CNI_PLUGINS", "NETWORK_POLICY_AGENTS", "Cluster"]



class Cluster:
    """A simulated Kubernetes cluster with kubeadm and flannel defaults.

    Parameters
    ----------
    workers : int
        Worker nodes to add at once (``node-1``, ``node-2``, ...).
    cni : str
        The CNI plugin: ``"flannel"`` (VXLAN overlay, the default), ``"bridge"`` (the
        reference bridge plugin with host routes, as in Kubernetes the Hard Way),
        ``"calico"`` (Calico v3.30 from the tigera-operator quickstart: /26 blocks of
        192.168.0.0/16, VXLANCrossSubnet: routed over BGP within a subnet, VXLAN across)
        or ``"cilium"`` (eBPF, VXLAN tunnel; kube-proxy kept, as on kubeadm by default).
    cni_config : dict, optional
        The plugin's own settings, named as in its real configuration:
        ``{"install": "manifest"}`` for Calico's manifest install (IP-in-IP Always),
        ``{"kubeProxyReplacement": True}`` (and ``{"bpf.masquerade": True}``) for
        Cilium's Helm values, ``{"ipMasq": True}`` for the bridge plugin's masquerading
        (as Kubernetes the Hard Way sets it).
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
    kube_proxy_mode : str
        kube-proxy's ``mode``: ``"iptables"`` (the default; kubeadm writes ``mode:
        iptables`` explicitly from 1.37) or ``"nftables"`` (GA since 1.33, KEP-3866; one
        table ``ip kube-proxy`` per node with verdict maps, modelled on kube-proxy v1.35:
        see ``kubenet_lab.dataplane.kube_proxy_nftables``). In nftables mode kube-proxy
        writes no KUBE-* iptables rules; traffic to an unallocated address of the
        Service CIDR is dropped, to an unused port of a ClusterIP rejected, and NodePorts
        answer only on the node's primary IP (never on 127.0.0.1). With Cilium's
        ``kubeProxyReplacement`` kube-proxy does not run and the mode changes nothing.
    private_subnet : str
        The VPC subnet the nodes are in (10.0.1.0/24). AWS reserves five addresses of
        every subnet (network, .1 VPC router, .2 DNS, .3, broadcast: AWS VPC user guide,
        "Subnet CIDR blocks"), so a /24 holds 251 nodes and a /19 8,187.
    public_subnet : str
        The public subnet, added on first use for nodes with an ExternalIP and NAT
        gateways (10.0.0.0/24); inside the VPC, not overlapping the private subnet.
    vpc_cidr : str
        The VPC's block (10.0.0.0/16); AWS allows /16 to /28. The pod network
        (``cluster_cidr``) must overlap neither the VPC nor the Service CIDR.

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

    @checked
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
        kube_proxy_mode: Literal["iptables", "nftables"] = "iptables",
        private_subnet: str = "10.0.1.0/24",
        public_subnet: str = "10.0.0.0/24",
        vpc_cidr: str = "10.0.0.0/16",
    ) -> None:
        config = cluster_config(
            cni=cni, seed=seed, cluster_cidr=cluster_cidr, node_cidr_mask=node_cidr_mask,
            cni_config=cni_config, network_policy=network_policy, vpc_cidr=vpc_cidr,
            private_subnet=private_subnet, public_subnet=public_subnet)
        self.store = Store(dataclasses.replace(config, kube_proxy_mode=kube_proxy_mode))
        self.runtime = Runtime(seed)
        with self.store.transaction():
            kubeadm.init(self.store, workers)

    def __repr__(self) -> str:
        agent = f", network_policy={self.network_policy}" if self.network_policy else ""
        if self.kube_proxy_mode != "iptables":
            agent += f", kube_proxy_mode={self.kube_proxy_mode}"
        return (f"<Cluster {len(self.nodes)} nodes, {len(self.pods)} pods, "
                f"cni={self.cni}{agent}>")

    @checked
    def snapshot(self) -> Snapshot:
        """The cluster as it is now, read-only (what a ``Trace`` keeps of it)."""
        return self.store.snapshot()

    @checked
    def dataplane(self) -> Dataplane:
        """What every node has installed now, with the kernels' runtime state."""
        return Dataplane(self.store.snapshot(), self.runtime)

    # ------------------------------------------------------------------ settings
    @property
    def cni(self) -> str:
        """The CNI plugin: ``flannel``, ``bridge``, ``calico`` or ``cilium``."""
        return self.store.cni

    @property
    def cni_config(self) -> dict[str, Any]:
        """The CNI plugin's own settings."""
        return self.store.cni_config

    @property
    def network_policy(self) -> str | None:
        """The policy agent beside the CNI plugin, or None."""
        return self.store.network_policy

    @property
    def kube_proxy_mode(self) -> str:
        """kube-proxy's mode: ``iptables`` or ``nftables``.

        >>> kl.Cluster(kube_proxy_mode="nftables").kube_proxy_mode
        'nftables'
        """
        return self.store.config.kube_proxy_mode

    @property
    def seed(self) -> int:
        """The seed of the kernels' random choices."""
        return self.store.seed

    @property
    def cluster_cidr(self) -> str:
        """The pod network (kubeadm ``podSubnet``)."""
        return self.store.cluster_cidr

    @property
    def node_cidr_mask(self) -> int:
        """The prefix length of each node's podCIDR."""
        return self.store.node_cidr_mask

    @property
    def service_cidr(self) -> str:
        """kubeadm's ``serviceSubnet``."""
        return self.store.service_cidr

    @property
    def cluster_domain(self) -> str:
        """kubelet's ``clusterDomain``."""
        return self.store.cluster_domain

    @property
    def max_pods(self) -> int:
        """kubelet's ``maxPods``."""
        return self.store.max_pods

    @property
    def vpc(self) -> Vpc:
        """The VPC the nodes are in."""
        return self.store.vpc

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
        return policy.enforced(self.store)

    # ------------------------------------------------------------------ listing
    @property
    def nodes(self) -> list[Node]:
        """All nodes, control plane first, then in natural name order."""
        return self.store.nodes

    @property
    def pods(self) -> list[Pod]:
        """All pods, by namespace and natural name order."""
        return self.store.pods

    @property
    def namespaces(self) -> list[Namespace]:
        """All namespaces, by name."""
        return self.store.namespaces

    @property
    def deployments(self) -> list[Deployment]:
        """All Deployments, by namespace and name."""
        return self.store.deployments

    @property
    def network_policies(self) -> list[NetworkPolicy]:
        """The NetworkPolicies, by namespace and name."""
        return self.store.network_policies

    @property
    def admin_network_policies(self) -> list[AdminPolicy]:
        """The admin-tier policies (ClusterNetworkPolicy, AdminNetworkPolicy,
        BaselineAdminNetworkPolicy): Admin tier first, then by priority and name."""
        return self.store.admin_network_policies

    @property
    def services(self) -> list[Service]:
        """All Services, by namespace and name."""
        return self.store.services

    @property
    def ingresses(self) -> list[Ingress]:
        """The Ingress objects, in the order they were applied."""
        return self.store.ingresses

    @property
    def ingress_classes(self) -> list[IngressClass]:
        """The IngressClasses."""
        return self.store.ingress_classes

    @property
    def nat_gateways(self) -> list[NatGateway]:
        """The VPC's NAT gateways."""
        return self.store.nat_gateways

    @property
    def load_balancers(self) -> list[LoadBalancer]:
        """The cloud load balancers provisioned for LoadBalancer Services."""
        return self.store.load_balancers

    @checked
    def node(self, name: str) -> Node:
        """The node called ``name``.

        Raises
        ------
        NotFoundError
            If there is no such node; the message lists the nodes there are.
        """
        return self.store.node(name)

    @checked
    def pod(self, ref: str) -> Pod:
        """The pod ``"namespace/name"`` (a bare ``"name"`` means namespace ``default``).

        Raises
        ------
        NotFoundError
            If there is no such pod; the message suggests close names.
        """
        return self.store.pod(ref)

    @checked
    def namespace(self, name: str) -> Namespace:
        """The namespace called ``name``."""
        return self.store.namespace(name)

    @checked
    def deployment(self, ref: str) -> Deployment:
        """The Deployment ``"namespace/name"``."""
        return self.store.deployment(ref)

    @checked
    def service(self, ref: str) -> Service:
        """The Service ``"namespace/name"`` (a bare name means namespace ``default``).

        >>> kl.Cluster().service("kube-system/kube-dns").cluster_ip
        '10.96.0.10'

        Raises
        ------
        NotFoundError
            If there is no such Service; the message suggests close names.
        """
        return self.store.service(ref)

    @checked
    def pods_on(self, node: str) -> list[Pod]:
        """The pods on a node, in the order they were created there."""
        return self.store.pods_on(node)

    @checked
    def subnet_of(self, node: Node) -> Subnet:
        """The VPC subnet a node is in."""
        return self.store.subnet_of(node)

    @checked
    def owner_of(self, ip: str) -> str | None:
        """Who holds an address: ``"Pod ns/name"``, ``"Node name"`` or None.

        >>> c = kl.Cluster()
        >>> c.owner_of("10.0.1.4"), c.owner_of("10.9.9.9")
        ('Node control-plane', None)
        """
        return self.store.owner_of(ip)

    @checked
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
        return cloud.route_table(self.store, subnet)

    @checked
    def set_source_dest_check(self, node: str, enabled: bool) -> None:
        """Set the EC2 instance attribute ``sourceDestCheck`` of ``node`` (true by
        default), as ``aws ec2 modify-instance-attribute --instance-id <node>
        --no-source-dest-check`` does for ``enabled=False``.

        With the check on, EC2 drops every packet the node's network interface sends
        whose source is not the node's address, and every packet it would receive whose
        destination is not: unmasqueraded pod traffic between nodes (the bridge plugin's
        host routes, Calico's unencapsulated routes) needs it off on the sending and the
        receiving node. Overlays (flannel VXLAN, Calico VXLAN/IPIP) do not: their outer
        packet goes from node to node. Sources: AWS EC2 API ``ModifyInstanceAttribute``;
        https://docs.aws.amazon.com/vpc/latest/userguide/VPC_NAT_Instance.html; Calico's
        AWS guide (https://docs.tigera.io/calico/latest/reference/public-cloud/AWS).

        Raises
        ------
        NotFoundError
            No such node.

        Examples
        --------
        >>> c = kl.Cluster(cni="bridge", workers=2)
        >>> _ = c.add_pod("default/a", node="node-1"); _ = c.add_pod("default/b", node="node-2")
        >>> c.trace("default/a", "default/b").delivered
        False
        >>> for n in c.nodes:
        ...     c.set_source_dest_check(n.name, False)
        >>> c.trace("default/a", "default/b").delivered
        True
        """
        with self.store.transaction():
            cloud.set_source_dest_check(self.store, node, enabled)

    @checked
    def add_vpc_route(self, cidr: str, node: str, *,
                      subnet: str | None = None) -> list[tuple[str, str]]:
        """Add a route to a VPC route table: ``cidr`` goes to the instance ``node`` (as
        ``aws ec2 create-route --destination-cidr-block <cidr> --instance-id <node>``);
        the table of ``subnet``, by default the node's own subnet. Returns that table.

        The VPC router uses it for a packet sent to it (a host of the subnet that has no
        route of its own to the pods, a node in another subnet): with a route for each
        podCIDR, the VPC carries pod addresses. The receiving node still needs its
        source/destination check off (``set_source_dest_check``).

        Raises
        ------
        ManifestError
            A malformed CIDR, or one inside the VPC's range.
        NotFoundError
            No such node or subnet.
        ConflictError
            The table already has a route for ``cidr`` (AWS: RouteAlreadyExists).

        Examples
        --------
        >>> c = kl.Cluster(cni="bridge", workers=1)
        >>> c.add_vpc_route("10.244.1.0/24", "node-1")
        [('10.0.0.0/16', 'local'), ('10.244.1.0/24', 'node-1')]
        >>> c.add_vpc_route("10.0.1.0/24", "node-1")
        Traceback (most recent call last):
        kubenet_lab.exceptions.ManifestError: VpcRoute: destination: '10.0.1.0/24' is inside...
        """
        with self.store.transaction():
            route = cloud.add_vpc_route(self.store, cidr, node, subnet)
            return cloud.route_table(self.store, route.subnet)

    @checked
    def graph(self) -> nx.Graph:
        """The cluster's topology as a (read-only) networkx graph: nodes, pods, their
        devices, and the links between them (veth pairs, bridge ports, the subnet, the
        cloud's routers), named as a ``Location`` names places. The pictures draw from it.

        >>> c = kl.Cluster(workers=1)
        >>> _ = c.add_pod("default/a", node="node-1")
        >>> g = c.graph()
        >>> import networkx as nx
        >>> nx.shortest_path(g, "default/a", "control-plane")  # doctest: +NORMALIZE_WHITESPACE
        ['default/a', 'default/a:eth0', 'node-1:veth9efb3611', 'node-1:cni0', 'node-1',
         'node-1:eth0', '10.0.1.0/24', 'control-plane:eth0', 'control-plane']
        """
        return topology(self.store.snapshot())

    @checked
    def endpoint_slices(self, ref: str) -> list[EndpointSlice]:
        """The EndpointSlices of a Service, as the EndpointSlice controller makes them.

        >>> c = kl.Cluster()
        >>> [e.address for s in c.endpoint_slices("kube-system/kube-dns") for e in s.endpoints]
        ['10.244.0.2', '10.244.0.3']
        """
        return endpoint_slices(self.store, self.store.service(ref))

    # ------------------------------------------------------------------ verbs
    @checked
    def add_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> Namespace:
        """Create a namespace, or update the labels of an existing one.

        The label ``kubernetes.io/metadata.name`` is always set to the name.
        """
        with self.store.transaction():
            return self.store.put(build_namespace(name, labels))

    @checked
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
        with self.store.transaction():
            return kubeadm.add_node(self.store, name, ip=ip, pod_cidr=pod_cidr,
                                    public_ip=public_ip, labels=labels,
                                    control_plane=control_plane)

    @checked
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
        with self.store.transaction():
            return create_pod(self.store, ref, node=node, labels=labels, containers=containers,
                              ip=ip, ready=ready, tolerations=tuple(tolerations))

    @checked
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
        with self.store.transaction():
            return replicaset.delete_pod(self.store, ref)

    @checked
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
        API server does (see ``kubenet_lab.api.allocators``).

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
        svc = build_service(
            self.store, ref, type=type, ports=list(ports), selector=selector,
            cluster_ip=cluster_ip, session_affinity=session_affinity,
            external_traffic_policy=external_traffic_policy,
            internal_traffic_policy=internal_traffic_policy, labels=labels,
        )
        with self.store.transaction():
            return services.store_service(self.store, svc)

    @checked
    def delete_service(self, ref: str) -> None:
        """Delete a Service; its cluster IP and node ports become free."""
        with self.store.transaction():
            services.delete_service(self.store, ref)

    @checked
    def apply(self, src: Any) -> list[Any]:
        """Apply Kubernetes manifests, all or nothing.

        ``src`` is YAML text, a path to a YAML file, a dict, or a list of those.
        Multi-document YAML and ``kind: List`` (what ``kubectl get -o yaml`` prints)
        both work. Supported kinds: Namespace, Node, Pod, Deployment, Service,
        ConfigMap, Secret, NetworkPolicy, ClusterNetworkPolicy (v1alpha2),
        AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1), Ingress,
        IngressClass, and the Gateway API's GatewayClass, Gateway, HTTPRoute, GRPCRoute
        and ReferenceGrant (``gateway.networking.k8s.io/v1``; v1beta1 too), checked as
        their CRDs' schemas and CEL rules check them (``kubenet_lab.api.gateway``).

        Returns the objects applied, in order. If any document is invalid, nothing is
        applied and the cluster is unchanged. Input is limited as kube-apiserver limits a
        request (``kubenet_lab.api.load``): at most 3 MiB, go-yaml's rule against alias
        bombs, and (the lab's own limits) 100 levels of nesting and 50,000 values.

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
        return applying.apply(self.store, src)

    @checked
    def get(self, kind: str, ref: str) -> dict[str, Any]:
        """Any object, as ``kubectl get KIND NAME -o yaml`` prints it: a dict with
        ``apiVersion``, ``kind``, ``metadata`` (uid, creationTimestamp on the cluster's
        clock, resourceVersion, generation), the spec as the API server stores it after
        defaulting, and the ``status`` its controller writes now (see
        ``kubenet_lab.controllers.objects``).

        ``kind`` is a kind or any name kubectl takes for it (``"svc"``, ``"httproutes"``,
        ``"gtw"``); ``ref`` is ``"namespace/name"`` (a bare name is in ``default``) or
        a cluster-scoped object's name.

        Raises
        ------
        NotFoundError
            No such kind or object (the message lists what there is).

        Examples
        --------
        >>> c = kl.Cluster(workers=1)
        >>> gc = c.get("GatewayClass", c.add_gateway_controller().name)
        >>> gc["spec"], gc["status"]["conditions"][0]["reason"]
        ({'controllerName': 'gateway.envoyproxy.io/gatewayclass-controller'}, 'Accepted')
        """
        return objects.get(self.store, kind, ref)

    @checked
    def delete(self, kind: str, ref: str) -> None:
        """Delete any object, as ``kubectl delete KIND NAME`` does, and let the
        controllers converge: a Deployment takes its pods with it, a deleted pod of a
        Deployment is replaced, a Node's pods are re-created on the others, a Namespace
        takes everything in it (``default``, ``kube-system`` and ``kube-public`` may
        not be deleted), Envoy Gateway removes a deleted Gateway's data plane.

        Raises
        ------
        NotFoundError
            No such kind or object.
        ConflictError
            A namespace that may not be deleted, or one an add-on of the lab runs in.

        Examples
        --------
        >>> c = kl.Cluster(workers=1)
        >>> _ = c.add_pod("default/a")
        >>> c.delete("pod", "default/a")
        >>> [p.ref for p in c.pods if p.namespace == "default"]
        []
        """
        with self.store.transaction():
            objects.delete(self.store, kind, ref)

    @checked
    def delete_network_policy(self, ref: str) -> None:
        """Delete a NetworkPolicy ``"namespace/name"`` or an admin policy ``"Kind/name"``
        (e.g. ``"AdminNetworkPolicy/deny-db"``).

        Raises
        ------
        NotFoundError
            No such policy.
        """
        with self.store.transaction():
            applying.delete_network_policy(self.store, ref)

    @checked
    def delete_ingress(self, ref: str) -> None:
        """Delete an Ingress (``"ns/name"``)."""
        with self.store.transaction():
            applying.delete_ingress(self.store, ref)

    # ------------------------------------------------------------------ add-ons and cloud
    @checked
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
        with self.store.transaction():
            return cloud.add_nat_gateway(self.store, public_ip, name)

    @checked
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
        with self.store.transaction():
            services.add_cloud_load_balancer(self.store)

    @checked
    def add_ingress_controller(self, replicas: int = 2) -> None:
        """Deploy an ingress controller modelled on ingress-nginx v1.15.1 (retired in
        March 2026: no more releases or security fixes; Gateway API is the successor):
        namespace ``ingress-nginx``, its Deployment, its LoadBalancer Service
        ``ingress-nginx-controller`` (``externalTrafficPolicy: Local``, as ingress-nginx's
        cloud manifest sets it; the cloud load balancer controller is started for it) and
        the IngressClass ``nginx``, which is **not** the default class (as the Helm
        chart's ``controller.ingressClassResource.default: false``): give Ingresses
        ``ingressClassName: nginx``; one without a class is ignored. ``trace(src,
        "http://host/path")`` then sends HTTP requests to it.

        Examples
        --------
        >>> c = kl.Cluster(workers=2)
        >>> c.add_ingress_controller()
        >>> c.service("ingress-nginx/ingress-nginx-controller").load_balancer_ip
        '198.51.100.10'
        >>> [(k.name, k.default) for k in c.ingress_classes]
        [('nginx', False)]
        >>> c.trace("internet", "http://shop.example.com/").http_status
        404
        """
        with self.store.transaction():
            ingress.add_controller(self.store, replicas)

    @checked
    def add_gateway_controller(self) -> GatewayClass:
        """Install a Gateway API implementation, Envoy Gateway v1.9 (namespace
        ``envoy-gateway-system``), and return its GatewayClass ``eg``. Each Gateway of
        that class gets an Envoy Deployment and a LoadBalancer Service; with a cloud
        load balancer (``add_cloud_load_balancer``) the Gateway gets an address and is
        ``Programmed`` (see ``kubenet_lab.controllers.gateway``).

        Examples
        --------
        >>> c = kl.Cluster(workers=1)
        >>> gc = c.add_gateway_controller()
        >>> gc.name, gc.controller_name
        ('eg', 'gateway.envoyproxy.io/gatewayclass-controller')
        """
        with self.store.transaction():
            return gateway.add_controller(self.store)

    @checked
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
        with self.store.transaction():
            self.store.add_addon(ip_masq_agent.ADDON)

    # ------------------------------------------------------------------ questions
    @checked
    def trace(self, src: str, dst: str, port: int = 80, protocol: str = "TCP",
              method: str = "GET", headers: Mapping[str, str] | None = None) -> Trace:
        """Walk one packet (the first packet of a connection) from ``src`` to ``dst``.

        ``src``: ``"ns/pod"``, ``"ns/pod/container"``, a node name, an IP of a pod or
        node, or any other IP outside the pod and service networks: an outside client,
        a host in the nodes' own subnet that reaches node addresses directly.
        ``dst``: ``"ns/pod"``, a node name, an IP (a cluster IP or load-balancer IP goes
        through kube-proxy's rules), ``"ip:port"`` (e.g. a node IP and a NodePort),
        ``"localhost"`` / ``"127.0.0.1"`` (inside the source pod), or a DNS name such as
        ``"web"`` or ``"web.default"``, resolved with the source pod's resolv.conf (the
        lookup is the first hop; the pod's UDP query to the cluster DNS Service is walked
        first, policies included, and a dropped query fails the trace; the lab leaves that
        query's entry out of the nodes' conntrack tables, where a real node keeps it for
        30 s); or an HTTP request, ``"http(s)://host[:port]/path?query"``
        to a Gateway's address (or a hostname one of its listeners has) or the ingress
        controller's, sent with ``method`` and ``headers`` (``{"Host": ...}`` overrides
        the URL's host): the proxy's decision and both connections are hops, and
        ``http_status`` is what the client gets (see ``kubenet_lab.walk.http``).

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
        from kubenet_lab.walk.trace import trace

        return trace(self.dataplane(), src, dst, port=port, protocol=protocol, method=method,
                     headers=None if headers is None else dict(headers))

    @checked
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
        from kubenet_lab.analysis.reachability import reachability

        return reachability(self.store.snapshot(), port, protocol, pods=pods,
                            namespaces=namespaces)

    @checked
    def explain(self, src: str, dst: str, port: int = 80, protocol: str = "TCP") -> Explanation:
        """Which tier, policies and rules allow or deny one connection, in words.

        ``src`` and ``dst`` are pods (``"ns/name"``), node names or IPs; ``dst`` may also
        be a Service's cluster IP or load-balancer IP, or a DNS name (resolved with the
        source pod's search path, as ``trace`` does). A Service is judged as its
        endpoint pods on their target port: the policy agent sees the packet after
        kube-proxy's DNAT (kube-network-policies hooks postrouting at priority
        ``srcnat - 5``: kubernetes-sigs/kube-network-policies pkg/dataplane/controller.go),
        so ``explain`` and ``trace`` agree. ``.via`` says which endpoint(s) the DNAT can
        pick and ``.endpoints`` judges each one.

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
        return policy.explain(self.store.snapshot(), src, dst, port, protocol)

    @checked
    def verify_network_model(self) -> NetworkModelReport:
        """Check the Kubernetes network model on the cluster as it stands.

        The rules (kubernetes.io, "Services, Load Balancing, and Networking"): every pod
        has a unique cluster-wide IP; every pod reaches every other pod, on any node,
        with its source IP unchanged (no NAT); the agents on a node reach every pod on
        that node; the last two "barring intentional network segmentation", so the
        traces set network policies aside (``explain`` and ``reachability`` judge them).
        Equivalent pods are grouped, so a healthy cluster needs a few traces
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
        from kubenet_lab.analysis.verify import verify_network_model

        return verify_network_model(self.dataplane())

    @checked
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
        from kubenet_lab.analysis.traffic import traffic

        return traffic(self.dataplane(), flows, requests=requests, seed=seed)

    @checked
    def spread(self, src: str, service: str, requests: int = 1000, port: int | None = None,
               protocol: str | None = None) -> dict[str, int]:
        """How ``requests`` new connections from pod ``src`` to a Service's cluster IP
        spread over its endpoints, through kube-proxy's ``statistic`` rules (counted on
        a fork of the kernels' state: asking changes nothing).

        >>> c = kl.Cluster()
        >>> counts = c.spread(c.pods[0].ref, "kube-system/kube-dns", 100, 53, "UDP")
        >>> len(counts), sum(counts.values())
        (2, 100)
        """
        from kubenet_lab.analysis import load_balancing

        return load_balancing.spread(self.dataplane(), src, service, requests, port, protocol)

    @checked
    def http_spread(self, src: str, url: str, requests: int = 500, *, method: str = "GET",
                    headers: Mapping[str, str] | None = None) -> dict[str, int]:
        """How ``requests`` HTTP requests from ``src`` to ``url`` (sent as ``trace``
        sends them) spread over the matched HTTPRoute rule's weighted backendRefs:
        counts per backend Service ``"ns/name"``, every backendRef of the rule listed
        (weight 0 ones with 0); requests Envoy answers without a backend count as
        ``"HTTP 404"``, ``"HTTP 500"``, ... (see
        ``kubenet_lab.analysis.load_balancing.http_spread``). Counted on a fork of the
        kernels' state: asking changes nothing, the next ``trace`` draws as before.

        >>> c = kl.Cluster(workers=1)
        >>> _ = c.add_gateway_controller(); c.add_cloud_load_balancer()
        >>> _ = c.add_pod("default/web", labels={"app": "web"})
        >>> _ = c.add_service("default/web", selector={"app": "web"}, ports=[80])
        >>> _ = c.apply({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        ...     "metadata": {"name": "gw"}, "spec": {"gatewayClassName": "eg", "listeners": [
        ...         {"name": "http", "port": 80, "protocol": "HTTP"}]}})
        >>> _ = c.apply({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        ...     "metadata": {"name": "web"}, "spec": {"parentRefs": [{"name": "gw"}],
        ...         "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]}})
        >>> c.http_spread("internet", "http://198.51.100.10/", 50)
        {'default/web': 50}
        """
        from kubenet_lab.analysis import load_balancing

        return load_balancing.http_spread(self.dataplane(), src, url, requests, method,
                                          headers)

    @checked
    def internet_spread(self, service: str, clients: int = 60,
                        port: int | None = None) -> dict[str, Any]:
        """``clients`` internet hosts each open one connection to a LoadBalancer
        Service: which node the load balancer picked, which pod answered, how many kept
        their client IP (see ``kubenet_lab.analysis.load_balancing``)."""
        from kubenet_lab.analysis import load_balancing

        return load_balancing.internet_spread(self.dataplane(), service, clients, port)

    @checked
    def exec(self, where: str, command: str) -> str:
        """Run a command in a pod (``"ns/pod"``) or on a node (its name), like
        ``kubectl exec`` or ``ssh``, and return what the real tool prints.

        Supported: ``ip addr``, ``ip [-d] link``, ``ip route`` (and ``ip route
        add|del|replace|change`` on a node, which really changes that node's routes),
        ``ip neigh``, ``bridge fdb``, ``iptables-save``, ``nft list ruleset|table|chain|
        set|map`` (kube-proxy's table in nftables mode), ``conntrack -L`` (the connections
        traced so far, NAT visible in the reply tuple), ``ss -tlnpu``, ``sysctl`` (``-w``
        changes the node: ``net.bridge.bridge-nf-call-iptables=0`` breaks a ClusterIP
        whose endpoint is on the client's node), ``modprobe [-r] br_netfilter``, ``cat
        /etc/resolv.conf``, ``ping -c N [-q] [-s SIZE] [-i INTERVAL] [-W TIMEOUT]``,
        ``traceroute -n [-m MAX] [-f FIRST] [-q N]``, ``nslookup``, ``dig [+short]
        [+search]``, ``curl``, ``tcpdump -n -i IFACE [-c N]``, ``hostname`` and, on a
        node, ``kubectl get pods|nodes|svc|ingress|endpointslices|gateway|httproute|...
        [NAME] [-A] [-l SELECTOR] [-o wide|yaml]`` and ``kubectl describe``. Anything else answers
        as the shell or the tool does (``command not found``, its usage line or error text,
        ``Argument list too long``), never with a Python error. The nodes run with IPv6
        disabled, as the lab models IPv4 only: an IPv6 route is refused as the kernel
        refuses it (``tools/ip.py``).

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
        from kubenet_lab.tools.shell import run

        return run(self.dataplane(), where, command)

    @checked
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
        return kube_proxy.iptables_save(self.store.snapshot(), self.store.node(node))

    @checked
    def resolve(self, name: str, from_pod: str | None = None) -> list[str]:
        """The addresses CoreDNS gives for ``name`` (A records; an ExternalName's
        CNAME is followed as far as the cluster can). With ``from_pod``, the pod's
        ``resolv.conf`` applies: its search path and ``ndots:5``. An unknown name
        (NXDOMAIN) gives an empty list.

        >>> c = kl.Cluster()
        >>> c.resolve("kubernetes.default.svc.cluster.local")
        ['10.96.0.1']
        """
        return dns.resolve(self.store.snapshot(), name, from_pod)

    @checked
    def resolv_conf(self, pod: str) -> str:
        """The ``/etc/resolv.conf`` kubelet writes into a pod (dnsPolicy ClusterFirst).

        >>> c = kl.Cluster(workers=1)
        >>> print(c.resolv_conf(c.add_pod("default/a").ref))
        search default.svc.cluster.local svc.cluster.local cluster.local eu-west-1.compute.internal
        nameserver 10.96.0.10
        options ndots:5
        """
        return dns.resolv_conf(self.store.snapshot(), pod)
