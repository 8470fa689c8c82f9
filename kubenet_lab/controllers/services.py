"""Services once the API server accepted them: stored with their allocations, and, with
the cloud's load-balancer controller running, given a cloud load balancer.

>>> c = kl.Cluster()
>>> [s.ref for s in c.services]
['default/kubernetes', 'kube-system/kube-dns']
"""

from __future__ import annotations

from ipaddress import ip_network
from typing import TYPE_CHECKING, Any

from kubenet_lab.api.service import APISERVER_PORT
from kubenet_lab.controllers.cloud import CLOUD_LOAD_BALANCER, provision_load_balancer
from kubenet_lab.model.service import Service, ServicePort

if TYPE_CHECKING:
    from kubenet_lab.model.store import Store, StoreView

__all__ = ["KUBERNETES_SERVICE", "add_cloud_load_balancer", "api_server_service",
           "delete_service", "service_status", "store_service"]

#: The Service of the API server, which kube-apiserver keeps in existence.
KUBERNETES_SERVICE = "default/kubernetes"


def api_server_service(view: StoreView) -> Service:
    """``default/kubernetes``, as kube-apiserver creates it (pkg/controlplane/controller/
    kubernetesservice): the first address of the service CIDR, port ``https`` 443 to the
    API server's 6443, no selector (the API server keeps its endpoint itself).

    >>> api_server_service(kl.Cluster().store).cluster_ip
    '10.96.0.1'
    """
    return Service("default", "kubernetes", "ClusterIP", str(ip_network(view.service_cidr)[1]),
                   (ServicePort(443, APISERVER_PORT, "TCP", "https"),), None,
                   {"component": "apiserver", "provider": "kubernetes"})


def _drop(store: Store, svc: Service) -> None:
    lb = store.load_balancer(svc.ref)
    if lb is not None:
        store.remove(lb)
    store.remove(svc)


def store_service(store: Store, svc: Service) -> Service:
    """Create or replace a Service (validated by ``api.service.build_service``)."""
    old = store.service(svc.ref) if store.has_service(svc.ref) else None
    lb = store.load_balancer(svc.ref) if old is not None else None
    if lb is not None:
        store.remove(lb)  # provisioned again below: a changed Service gets a fresh one
    if svc.type == "LoadBalancer" and store.has_addon(CLOUD_LOAD_BALANCER):
        svc = provision_load_balancer(store, svc, old)
    return store.put(svc)


def delete_service(store: Store, ref: str) -> None:
    """Delete a Service; its cluster IP, node ports and load balancer become free.
    ``default/kubernetes`` comes back at once, as kube-apiserver's kubernetes-service
    controller re-creates it."""
    svc = store.service(ref)
    _drop(store, svc)
    if svc.ref == KUBERNETES_SERVICE:
        store_service(store, api_server_service(store))


def service_status(view: StoreView, svc: Service) -> dict[str, Any]:
    """``status.loadBalancer``: empty, or for a LoadBalancer Service with an address (the
    cloud's load balancer, or one a manifest gave) ``ingress[0].ip`` with ``ipMode: VIP``,
    which the API server fills in (pkg/apis/core/v1/defaults.go, LoadBalancerIPMode).

    >>> service_status(None, kl.Cluster().service("default/kubernetes"))
    {'loadBalancer': {}}
    """
    if svc.type == "LoadBalancer" and svc.load_balancer_ip is not None:
        return {"loadBalancer": {"ingress": [{"ip": svc.load_balancer_ip, "ipMode": "VIP"}]}}
    return {"loadBalancer": {}}


def add_cloud_load_balancer(store: Store) -> None:
    """Start the cloud's load-balancer controller: every LoadBalancer Service, now and
    later, gets a cloud load balancer (see ``Cluster.add_cloud_load_balancer``)."""
    if store.has_addon(CLOUD_LOAD_BALANCER):
        return
    store.add_addon(CLOUD_LOAD_BALANCER)
    for svc in sorted(store.services, key=lambda s: s.ref):
        if svc.type == "LoadBalancer" and svc.load_balancer_ip is None:
            store_service(store, svc)
