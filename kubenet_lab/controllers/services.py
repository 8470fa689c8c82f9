"""Services once the API server accepted them: stored with their allocations, and, with
the cloud's load-balancer controller running, given a cloud load balancer.

>>> c = kl.Cluster()
>>> [s.ref for s in c.services]
['default/kubernetes', 'kube-system/kube-dns']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubenet_lab.controllers.cloud import CLOUD_LOAD_BALANCER, provision_load_balancer

if TYPE_CHECKING:
    from kubenet_lab.model.service import Service
    from kubenet_lab.model.store import Store

__all__ = ["add_cloud_load_balancer", "delete_service", "store_service"]


def _drop(store: Store, svc: Service) -> None:
    lb = store.load_balancer(svc.ref)
    if lb is not None:
        store.remove(lb)
    store.remove(svc)


def store_service(store: Store, svc: Service) -> Service:
    """Create or replace a Service (validated by ``api.service.build_service``)."""
    old = store.service(svc.ref) if store.has_service(svc.ref) else None
    if old is not None:
        _drop(store, old)
    if svc.type == "LoadBalancer" and store.has_addon(CLOUD_LOAD_BALANCER):
        svc = provision_load_balancer(store, svc, old)
    return store.put(svc)


def delete_service(store: Store, ref: str) -> None:
    """Delete a Service; its cluster IP, node ports and load balancer become free."""
    _drop(store, store.service(ref))


def add_cloud_load_balancer(store: Store) -> None:
    """Start the cloud's load-balancer controller: every LoadBalancer Service, now and
    later, gets a cloud load balancer (see ``Cluster.add_cloud_load_balancer``)."""
    if store.has_addon(CLOUD_LOAD_BALANCER):
        return
    store.add_addon(CLOUD_LOAD_BALANCER)
    for svc in sorted(store.services, key=lambda s: s.ref):
        if svc.type == "LoadBalancer" and svc.load_balancer_ip is None:
            store_service(store, svc)
