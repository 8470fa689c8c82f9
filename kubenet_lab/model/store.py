"""The Store: every object of the cluster and the indexes that find them, as etcd and
an informer cache hold them.

- **Objects** are the frozen records of ``kubenet_lab.model`` (``Pod``, ``Node``,
  ``Service``, ...), one table per kind, keyed by ``"namespace/name"`` (or the name, for
  cluster-scoped kinds).
- **Indexes** follow the objects: the pods of each node (in the order they were created
  there), who holds each address (pods, nodes, load balancers, NAT gateways), the
  cluster IPs and node ports of the Services.
- **Mutators** (``put``, ``remove``, ...) are the only way to change anything; each one
  bumps the ``generation``. ``cached(key, fn)`` keeps ``fn()`` until the next change, as
  networkx's graphs keep their cached views.
- ``transaction()`` makes a group of changes all-or-nothing (``Cluster.apply``);
  ``transaction(rollback=True)`` always undoes them (a "what if" computation). Undo is a
  journal of the changes, so it costs what the changes cost, not the size of the store.
- ``snapshot()`` is a read-only copy of one generation, with the same queries. A packet
  walk reads one snapshot, so a ``Trace`` keeps the cluster as it was when it was traced;
  derived tables (routes, iptables rules, DNS records) are cached on the snapshot.

Examples
--------
>>> from kubenet_lab.model.node import Node
>>> store = Store(ClusterConfig())
>>> _ = store.put(Node("node-1", "10.0.1.5", "10.244.1.0/24", "private"))
>>> store.owner_of("10.0.1.5"), store.generation
('Node node-1', 1)
>>> with store.transaction(rollback=True):
...     _ = store.put(Node("node-2", "10.0.1.6", "10.244.2.0/24", "private"))
...     [n.name for n in store.nodes]
['node-1', 'node-2']
>>> [n.name for n in store.nodes], store.owner_of("10.0.1.6")
(['node-1'], None)
>>> snap = store.snapshot()
>>> _ = store.put(Node("node-3", "10.0.1.7", "10.244.3.0/24", "private"))
>>> len(snap.nodes), len(store.nodes)
(1, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from ipaddress import IPv4Address, ip_network
from types import MappingProxyType
from typing import Any, TypeVar

from kubenet_lab.exceptions import NotFoundError
from kubenet_lab.model.cloud import ConfigMap, LoadBalancer, NatGateway, Subnet, Vpc
from kubenet_lab.model.config import ClusterConfig
from kubenet_lab.model.deployment import Deployment
from kubenet_lab.model.gateway import Gateway, GatewayClass, GRPCRoute, HTTPRoute, ReferenceGrant
from kubenet_lab.model.ingress import Ingress, IngressClass
from kubenet_lab.model.names import natural_key, suggest
from kubenet_lab.model.namespace import Namespace
from kubenet_lab.model.networkpolicy import AdminPolicy, NetworkPolicy
from kubenet_lab.model.node import Node
from kubenet_lab.model.pod import Pod
from kubenet_lab.model.secret import Secret
from kubenet_lab.model.service import Service

__all__ = ["Snapshot", "Store", "StoreView"]

T = TypeVar("T")

#: The record type of each table, by the table's name.
KINDS: dict[str, type] = {
    "Namespace": Namespace, "Node": Node, "Pod": Pod, "Deployment": Deployment,
    "Service": Service, "NetworkPolicy": NetworkPolicy, "AdminPolicy": AdminPolicy,
    "Ingress": Ingress, "IngressClass": IngressClass, "ConfigMap": ConfigMap,
    "NatGateway": NatGateway, "LoadBalancer": LoadBalancer, "Secret": Secret,
    "GatewayClass": GatewayClass, "Gateway": Gateway, "HTTPRoute": HTTPRoute,
    "GRPCRoute": GRPCRoute, "ReferenceGrant": ReferenceGrant,
}
_KIND_OF = {cls: kind for kind, cls in KINDS.items()}
#: The VPC of a new cluster: its private subnet (kubenet_lab.model.cloud).
DEFAULT_VPC = Vpc("10.0.0.0/16", (Subnet("private", "10.0.1.0/24", "10.0.1.1"),))
_MISSING = object()


def vpc_of(config: ClusterConfig) -> Vpc:
    """The VPC of a new cluster with ``config``: its CIDR and the private subnet, whose
    VPC router is the subnet's .1 (AWS VPC user guide, "Subnet CIDR blocks")."""
    net = ip_network(config.private_subnet)
    return Vpc(config.vpc_cidr, (Subnet("private", str(net), str(net.network_address + 1)),))


def _key(obj: Any) -> str:
    if isinstance(obj, LoadBalancer):
        return obj.service
    if isinstance(obj, (Namespace, Node, IngressClass, NatGateway, GatewayClass)):
        return obj.name
    return obj.ref


def _ip(text: str) -> int:
    return int(IPv4Address(text))


class StoreView:
    """The queries the Store and its snapshots share (all read-only)."""

    config: ClusterConfig
    _objects: dict[str, dict[str, Any]]
    _pods_by_node: dict[str, dict[str, None]]
    _pods_by_owner: dict[str, dict[str, None]]
    _ip_owner: dict[int, str]
    _service_ips: dict[int, str]
    _node_ports: dict[int, str]
    _state: dict[str, Any]

    def cached(self, key: Any, fn: Callable[[], T]) -> T:  # pragma: no cover - abstract
        raise NotImplementedError

    def cached_for(self, kind: str, key: Any, fn: Callable[[], T]) -> T:
        """``fn()``, computed once while the objects of ``kind`` do not change (a listing
        of nodes survives the creation of a pod)."""
        return self.cached(key, fn)  # a snapshot never changes

    # ------------------------------------------------------------------ settings
    @property
    def cni(self) -> str:
        """The CNI plugin's name."""
        return self.config.cni

    @property
    def cni_config(self) -> dict[str, Any]:
        """The CNI plugin's own settings."""
        return self.config.cni_config

    @property
    def network_policy(self) -> str | None:
        """The policy agent running beside the CNI plugin, if any."""
        return self.config.network_policy

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def cluster_cidr(self) -> str:
        return self.config.cluster_cidr

    @property
    def node_cidr_mask(self) -> int:
        return self.config.node_cidr_mask

    @property
    def service_cidr(self) -> str:
        return self.config.service_cidr

    @property
    def cluster_domain(self) -> str:
        return self.config.cluster_domain

    @property
    def max_pods(self) -> int:
        return self.config.max_pods

    @property
    def vpc(self) -> Vpc:
        """The VPC the nodes are in."""
        return self._state["vpc"]

    # ------------------------------------------------------------------ nodes
    @property
    def nodes(self) -> list[Node]:
        """All nodes, control plane first, then in natural name order."""
        return list(self.cached_for("Node", "nodes", lambda: sorted(
            self._objects["Node"].values(),
            key=lambda n: (not n.control_plane, natural_key(n.name)))))

    def control_plane(self) -> Node:
        """The first control-plane node (kubeadm's ``init`` node)."""
        return self.cached_for("Node", "control-plane", lambda: next(
            n for n in self.nodes if n.control_plane))

    def node_at(self, ip: str) -> Node | None:
        """The node holding ``ip`` (its private or public address), or None; one lookup,
        not a scan of the nodes."""
        owner = self.owner_of(ip)
        if owner is None or not owner.startswith("Node "):
            return None
        return self._objects["Node"].get(owner[5:])

    def pod_cidr_owners(self, ip: str) -> tuple[Node, ...]:
        """The nodes whose podCIDR contains ``ip``, in ``nodes`` order: one, or none, as
        kube-controller-manager's allocator hands each podCIDR out once (a cluster
        broken on purpose may give two nodes the same); an index by network address,
        built once while the nodes do not change, not a scan of the nodes."""
        index: dict[int, dict[int, tuple[Node, ...]]] = self.cached_for(
            "Node", "pod-cidr-index", self._pod_cidr_index)
        try:
            addr = int(IPv4Address(ip))
        except ValueError:
            return ()
        found: tuple[Node, ...] = ()
        for length, nets in index.items():
            found += nets.get(addr & ((0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF), ())
        return found

    def _pod_cidr_index(self) -> dict[int, dict[int, tuple[Node, ...]]]:
        index: dict[int, dict[int, tuple[Node, ...]]] = {}
        for node in self.nodes:
            if node.pod_cidr:
                net, _, length = node.pod_cidr.partition("/")
                nets = index.setdefault(int(length), {})
                nets[_ip(net)] = (*nets.get(_ip(net), ()), node)
        return index

    @property
    def pod_removals(self) -> int:
        """How many times a pod has left a node (deleted or moved) in this Store: a
        derived table that assumes loads only grow (the scheduler's queue) is rebuilt
        when this changes."""
        return self._state.get("pod-removals", 0)

    def node_count(self) -> int:
        """How many nodes there are, without listing them in order."""
        return len(self._objects["Node"])

    def has_node(self, name: object) -> bool:
        return isinstance(name, str) and name in self._objects["Node"]

    def node(self, name: str) -> Node:
        """The node called ``name``; NotFoundError lists the nodes there are."""
        try:
            return self._objects["Node"][name]
        except (KeyError, TypeError):
            raise NotFoundError(
                f"Node {name}", None, name, "does not exist",
                fix=suggest(str(name), [n.name for n in self.nodes], "nodes"),
            ) from None

    def subnet_of(self, node: Node) -> Subnet:
        """The VPC subnet a node is in."""
        return self.vpc.subnet(node.subnet)

    # ------------------------------------------------------------------ pods
    @property
    def pods(self) -> list[Pod]:
        """All pods, by namespace and natural name order."""
        return self.cached("pods", lambda: sorted(
            self._objects["Pod"].values(), key=lambda p: (p.namespace, natural_key(p.name))))

    def has_pod(self, ref: object) -> bool:
        return isinstance(ref, str) and ref in self._objects["Pod"]

    def pod(self, ref: str) -> Pod:
        """The pod ``"namespace/name"`` (a bare ``"name"`` means ``default``)."""
        return self._lookup("Pod", ref, "Pod", "pods")

    def pods_on(self, node: str) -> list[Pod]:
        """The pods on a node, in the order they were created there."""
        pods = self._objects["Pod"]
        return [pods[k] for k in self._pods_by_node.get(node, {})]

    def pods_owned_by(self, owner: str) -> list[Pod]:
        """The pods whose ``owner`` is ``owner`` (``"Deployment ns/name"``), oldest first."""
        pods = self._objects["Pod"]
        return [pods[k] for k in self._pods_by_owner.get(owner, {})]

    def pod_count(self, node: str) -> int:
        """How many pods run on ``node``."""
        return len(self._pods_by_node.get(node, ()))

    def pod_counts(self) -> dict[str, int]:
        """How many pods run on each node."""
        return {node: len(pods) for node, pods in self._pods_by_node.items()}

    # ------------------------------------------------------------------ namespaces
    @property
    def namespaces(self) -> list[Namespace]:
        """All namespaces, by name."""
        return sorted(self._objects["Namespace"].values(), key=lambda n: n.name)

    def namespace(self, name: str) -> Namespace:
        """The namespace called ``name``."""
        try:
            return self._objects["Namespace"][name]
        except (KeyError, TypeError):
            raise NotFoundError(
                f"Namespace {name}", None, name, "does not exist",
                fix=f"create it first with add_namespace({name!r}) or a Namespace manifest",
            ) from None

    # ------------------------------------------------------------------ workloads
    @property
    def deployments(self) -> list[Deployment]:
        """All Deployments, by namespace and name."""
        return sorted(self._objects["Deployment"].values(), key=lambda d: (d.namespace, d.name))

    def deployment(self, ref: str) -> Deployment:
        """The Deployment ``"namespace/name"``."""
        key = ref if "/" in ref else f"default/{ref}"
        try:
            return self._objects["Deployment"][key]
        except KeyError:
            raise NotFoundError(
                f"Deployment {key}", None, ref, "does not exist",
                fix=suggest(key, list(self._objects["Deployment"]), "deployments"),
            ) from None

    def replica_count(self, deployment: str) -> int:
        """How many pods the Deployment's ReplicaSet has created so far (names them)."""
        return self._state["replicas"].get(deployment, 0)

    def last_pod_ip(self, node: str) -> int | None:
        """host-local's last reserved address on ``node`` (as an integer), or None."""
        return self._state["last-pod-ip"].get(node)

    # ------------------------------------------------------------------ services
    @property
    def services(self) -> list[Service]:
        """All Services, by namespace and name."""
        return self.cached_for("Service", "services", lambda: sorted(
            self._objects["Service"].values(), key=lambda s: (s.namespace, s.name)))

    def service(self, ref: str) -> Service:
        """The Service ``"namespace/name"`` (a bare name means ``default``)."""
        return self._lookup("Service", ref, "Service", "services")

    def has_service(self, ref: object) -> bool:
        return isinstance(ref, str) and ref in self._objects["Service"]

    def service_ip_owners(self) -> Mapping[int, str]:
        """Allocated cluster IPs (as integers) and the Service holding each."""
        return MappingProxyType(self._service_ips)

    def node_port_owners(self) -> Mapping[int, str]:
        """Allocated node ports and the Service holding each."""
        return MappingProxyType(self._node_ports)

    # ------------------------------------------------------------------ policies
    @property
    def network_policies(self) -> list[NetworkPolicy]:
        """The NetworkPolicies, by namespace and name."""
        table = self._objects["NetworkPolicy"]
        return self.cached_for("NetworkPolicy", "network_policies",
                               lambda: [table[k] for k in sorted(table)])

    @property
    def admin_network_policies(self) -> list[AdminPolicy]:
        """The admin-tier policies: Admin tier first, then by priority and name."""
        return sorted(self._objects["AdminPolicy"].values(),
                      key=lambda p: (p.tier != "Admin", p.order, p.kind))

    def policy(self, ref: str) -> NetworkPolicy | AdminPolicy | None:
        """A NetworkPolicy ``"ns/name"`` or an admin policy ``"Kind/name"``, or None."""
        return self._objects["NetworkPolicy"].get(ref) or self._objects["AdminPolicy"].get(ref)

    @property
    def policy_refs(self) -> list[str]:
        return [*self._objects["NetworkPolicy"], *self._objects["AdminPolicy"]]

    # ------------------------------------------------------------------ ingress
    @property
    def ingresses(self) -> list[Ingress]:
        """The Ingress objects, in the order they were applied."""
        return list(self._objects["Ingress"].values())

    def ingress(self, ref: str) -> Ingress:
        return self._lookup("Ingress", ref, "Ingress", "Ingresses")

    @property
    def ingress_classes(self) -> list[IngressClass]:
        """The IngressClasses, by name."""
        table = self._objects["IngressClass"]
        return [table[k] for k in sorted(table)]

    def ingress_class(self, name: object) -> IngressClass | None:
        return self._objects["IngressClass"].get(name) if isinstance(name, str) else None

    def config_map(self, ref: str) -> ConfigMap | None:
        return self._objects["ConfigMap"].get(ref)

    # ------------------------------------------------------------------ any kind
    def objects(self, kind: str) -> list[Any]:
        """Every object of a table of ``KINDS`` (``"HTTPRoute"``, ``"Secret"``...), by
        ``namespace/name`` (or name)."""
        table = self._objects[kind]
        return [table[k] for k in sorted(table)]

    def find(self, kind: str, key: object) -> Any | None:
        """The object ``key`` (``"ns/name"``, or a name for cluster-scoped kinds) of
        table ``kind``, or None."""
        return self._objects[kind].get(key) if isinstance(key, str) else None

    def created(self, obj: Any) -> int:
        """When ``obj`` (a stored record) was created, by the cluster's ``clock``."""
        return self._state["meta"][(_KIND_OF[type(obj)], _key(obj))][0]

    def generation_of(self, obj: Any) -> int:
        """``metadata.generation`` of ``obj``: 1, plus one for each change to it."""
        return self._state["meta"][(_KIND_OF[type(obj)], _key(obj))][1]

    def revision_of(self, obj: Any) -> int:
        """The Store's ``generation`` just after ``obj`` was last written (created or
        changed): the lab's etcd ``mod_revision``, which ``metadata.resourceVersion``
        shows. A put that changes nothing writes nothing, as the API server skips it."""
        return self._state["meta"][(_KIND_OF[type(obj)], _key(obj))][2]

    @property
    def clock(self) -> int:
        """The cluster's clock: seconds since it was created (each API request made to
        it takes one second), the ``creationTimestamp`` of what is created now."""
        return self._state["clock"]

    # ------------------------------------------------------------------ the cloud
    @property
    def nat_gateways(self) -> list[NatGateway]:
        """The VPC's NAT gateways."""
        return list(self._objects["NatGateway"].values())

    @property
    def load_balancers(self) -> list[LoadBalancer]:
        """The cloud load balancers of LoadBalancer Services, by Service."""
        table = self._objects["LoadBalancer"]
        return [table[k] for k in sorted(table)]

    def load_balancer(self, service: str) -> LoadBalancer | None:
        return self._objects["LoadBalancer"].get(service)

    def has_addon(self, name: str) -> bool:
        """Is the add-on ``name`` running (``ip-masq-agent``, ``cloud-load-balancer``,
        ``ingress-nginx``)?"""
        return name in self._state["addons"]

    # ------------------------------------------------------------------ addresses
    def owner_of(self, ip: str) -> str | None:
        """Who holds an address: ``"Pod ns/name"``, ``"Node name"``, ... or None."""
        try:
            return self._ip_owner.get(int(IPv4Address(ip)))
        except ValueError:
            return None

    def address_owners(self) -> Mapping[int, str]:
        """Every address in use (as an integer) and who holds it."""
        return MappingProxyType(self._ip_owner)

    # ------------------------------------------------------------------ helpers
    def _lookup(self, table: str, ref: str, kind: str, what: str) -> Any:
        objects = self._objects[table]
        key = ref if "/" in str(ref) else f"default/{ref}"
        try:
            return objects[key]
        except (KeyError, TypeError):
            raise NotFoundError(
                f"{kind} {key}", None, ref, "does not exist",
                fix=suggest(key, list(objects), what),
            ) from None


class Snapshot(StoreView):
    """One generation of a Store, read-only; derived tables are cached on it for good."""

    def __init__(self, config: ClusterConfig, generation: int,
                 tables: tuple[dict, dict, dict, dict, dict, dict, dict]) -> None:
        """A copy of ``tables``: the objects, the pods of each node and of each owner, the
        address owners, the cluster IPs, the node ports and the other state (``Store.snapshot``)."""
        objects, pods_by_node, pods_by_owner, ip_owner, service_ips, node_ports, state = tables
        self.config = config
        self.generation = generation
        self._objects = {kind: dict(table) for kind, table in objects.items()}
        self._pods_by_node = {node: dict(pods) for node, pods in pods_by_node.items()}
        self._pods_by_owner = {owner: dict(pods) for owner, pods in pods_by_owner.items()}
        self._ip_owner = dict(ip_owner)
        self._service_ips = dict(service_ips)
        self._node_ports = dict(node_ports)
        self._state = {k: (dict(v) if isinstance(v, dict) else v) for k, v in state.items()}
        self._cache: dict[Any, Any] = {}

    def cached(self, key: Any, fn: Callable[[], T]) -> T:
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = fn()
            return value

    def snapshot(self) -> Snapshot:
        """A snapshot is its own snapshot."""
        return self

    def __repr__(self) -> str:
        return (f"<Snapshot generation {self.generation}: {len(self._objects['Node'])} nodes, "
                f"{len(self._objects['Pod'])} pods>")


class Store(StoreView):
    """The objects of one cluster, their indexes, and the mutators that change them."""

    def __init__(self, config: ClusterConfig, vpc: Vpc | None = None) -> None:
        if vpc is None:
            vpc = DEFAULT_VPC if config.private_subnet == DEFAULT_VPC.subnets[0].cidr and (
                config.vpc_cidr == DEFAULT_VPC.cidr) else vpc_of(config)
        self.config = config
        self.generation = 0
        self._objects = {kind: {} for kind in KINDS}
        self._pods_by_node = {}
        self._pods_by_owner = {}
        self._ip_owner = {}
        self._service_ips = {}
        self._node_ports = {}
        self._state = {"vpc": vpc, "addons": {}, "replicas": {}, "last-pod-ip": {},
                       "clock": 0, "meta": {}}
        self._cache: dict[Any, Any] = {}
        self._kind_cache: dict[str, dict[Any, Any]] = {}
        self._journal: list[tuple[Any, ...]] | None = None
        self._copied: dict[int, int] = {}  # tables copied in the transaction: journal index

    def __repr__(self) -> str:
        return (f"<Store generation {self.generation}: {len(self._objects['Node'])} nodes, "
                f"{len(self._objects['Pod'])} pods>")

    def cached(self, key: Any, fn: Callable[[], T]) -> T:
        """``fn()``, computed once per generation."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = fn()
            return value

    def cached_for(self, kind: str, key: Any, fn: Callable[[], T]) -> T:
        """``fn()``, computed once while the objects of ``kind`` do not change."""
        cache = self._kind_cache.setdefault(kind, {})
        try:
            return cache[key]
        except KeyError:
            value = cache[key] = fn()
            return value

    def snapshot(self) -> Snapshot:
        """The current generation, read-only (one copy per generation)."""
        return self.cached("snapshot", lambda: Snapshot(self.config, self.generation, (
            self._objects, self._pods_by_node, self._pods_by_owner, self._ip_owner,
            self._service_ips, self._node_ports, self._state)))

    # ------------------------------------------------------------------ mutators
    def put(self, obj: T) -> T:
        """Create or replace a record (its table from its type); returns it."""
        kind = _KIND_OF[type(obj)]
        key = _key(obj)
        table = self._objects[kind]
        old = table.get(key)
        self._changed(kind)
        if old is not None:
            if kind == "Pod" and old.node != obj.node:
                self._count_pod_removal()
            self._unindex(old, obj)
        self._set(table, key, obj)
        self._index(obj, old)
        meta = self._state["meta"]
        if old is None:
            self._set(meta, (kind, key), (self._state["clock"], 1, self.generation))
        elif old != obj:
            created, generation, _ = meta[(kind, key)]
            self._set(meta, (kind, key), (created, generation + 1, self.generation))
        return obj

    def remove(self, obj: Any) -> None:
        """Delete a record (and its index entries)."""
        kind = _KIND_OF[type(obj)]
        key = _key(obj)
        table = self._objects[kind]
        old = table[key]
        self._changed(kind)
        if kind == "Pod":
            self._count_pod_removal()
        self._unindex(old, None)
        self._delete(table, key)
        self._delete(self._state["meta"], (kind, key))

    def set_vpc(self, vpc: Vpc) -> None:
        self._changed()
        self._set(self._state, "vpc", vpc)

    def add_addon(self, name: str) -> None:
        """Record that the add-on ``name`` runs."""
        self._changed()
        self._set(self._state["addons"], name, None)

    def tick(self) -> int:
        """Advance the clock by one second (one API request); the new time."""
        self._changed()
        self._set(self._state, "clock", self._state["clock"] + 1)
        return self._state["clock"]

    def set_last_pod_ip(self, node: str, ip: int) -> None:
        self._changed()
        self._set(self._state["last-pod-ip"], node, ip)

    def next_replica_index(self, deployment: str) -> int:
        """The index of the next pod the Deployment's ReplicaSet creates (0, 1, ...)."""
        count = self.replica_count(deployment)
        self._changed()
        self._set(self._state["replicas"], deployment, count + 1)
        return count

    @contextmanager
    def transaction(self, *, rollback: bool = False) -> Iterator[Store]:
        """All or nothing: an exception inside undoes every change made inside (and is
        raised again); with ``rollback=True`` the changes are always undone. Transactions
        nest: an inner one undoes only its own changes. The outermost one is one API
        request: it advances the ``clock`` by a second."""
        outermost = self._journal is None
        if outermost:
            self._journal = []
            self._copied = {}
        mark = len(self._journal)
        saved = self._cache
        try:
            if outermost:
                self.tick()  # one API request: the clock moves on by a second
            yield self
        except BaseException:
            self._undo(mark, saved)
            raise
        else:
            if rollback:
                self._undo(mark, saved)
        finally:
            if outermost:
                self._journal = None
                self._copied = {}

    # ------------------------------------------------------------------ internals
    def _count_pod_removal(self) -> None:
        self._set(self._state, "pod-removals", self._state.get("pod-removals", 0) + 1)

    def _changed(self, kind: str | None = None) -> None:
        self.generation += 1
        self._cache = {}
        if kind is not None:
            self._kind_cache.pop(kind, None)

    def _set(self, table: dict, key: Any, value: Any) -> None:
        if self._journal is not None:
            self._journal.append(("set", table, key, table.get(key, _MISSING)))
        table[key] = value

    def _delete(self, table: dict, key: Any) -> None:
        # A deleted key comes back at its old position only from a copy of the table,
        # taken before its first deletion in the transaction (later lists keep order).
        if self._journal is not None and id(table) not in self._copied:
            self._copied[id(table)] = len(self._journal)
            self._journal.append(("copy", table, dict(table)))
        del table[key]

    def _undo(self, mark: int, cache: dict) -> None:
        journal = self._journal or []
        for entry in reversed(journal[mark:]):
            if entry[0] == "copy":
                table, copy = entry[1], entry[2]
                table.clear()
                table.update(copy)
                continue
            _, table, key, old = entry
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old
        del journal[mark:]
        self._copied = {k: i for k, i in self._copied.items() if i < mark}
        # the state is the one the saved cache was made for; the generation moves on
        self.generation += 1
        self._cache = cache
        self._kind_cache = {}

    def _entries(self, obj: Any) -> list[tuple[dict, Any, Any]]:
        """The index entries a record has: ``(index, key, value)``."""
        if isinstance(obj, Pod):
            owned = [(self._pods_by_owner.get(obj.owner, {}), obj.ref, None)] if obj.owner else []
            return [(self._pods_by_node.get(obj.node, {}), obj.ref, None), *owned,
                    (self._ip_owner, _ip(obj.ip), f"Pod {obj.ref}")]
        if isinstance(obj, Node):
            out = [(self._pods_by_node, obj.name, self._pods_by_node.get(obj.name, {})),
                   (self._ip_owner, _ip(obj.ip), f"Node {obj.name}")]
            if obj.public_ip is not None:
                out.append((self._ip_owner, _ip(obj.public_ip), f"Node {obj.name}"))
            return out
        if isinstance(obj, Service):
            out = [(self._node_ports, port, obj.ref) for port in _service_node_ports(obj)]
            if obj.cluster_ip:
                out.append((self._service_ips, _ip(obj.cluster_ip), obj.ref))
            return out
        if isinstance(obj, LoadBalancer):
            return [(self._ip_owner, _ip(obj.public_ip), f"LoadBalancer {obj.service}")]
        if isinstance(obj, NatGateway):
            return [(self._ip_owner, _ip(ip), f"NatGateway {obj.name}")
                    for ip in (obj.private_ip, obj.public_ip)]
        return []

    def _index(self, obj: Any, old: Any) -> None:
        if isinstance(obj, Pod):
            if obj.node not in self._pods_by_node:
                self._set(self._pods_by_node, obj.node, {})
            if obj.owner and obj.owner not in self._pods_by_owner:
                self._set(self._pods_by_owner, obj.owner, {})
        for table, key, value in self._entries(obj):
            if table.get(key, _MISSING) is not value and table.get(key, _MISSING) != value:
                self._set(table, key, value)

    def _unindex(self, old: Any, new: Any) -> None:
        """Drop the index entries of ``old`` that ``new`` (None: nothing) does not keep."""
        kept = {(id(t), k) for t, k, _ in self._entries(new)} if new is not None else set()
        for table, key, value in self._entries(old):
            if (id(table), key) not in kept and table.get(key, _MISSING) == value:
                self._delete(table, key)


def _service_node_ports(svc: Service) -> list[int]:
    ports = [p.node_port for p in svc.ports if p.node_port is not None]
    if svc.health_check_node_port:
        ports.append(svc.health_check_node_port)
    return ports
