"""CNI plugins: the devices, addresses, routes and rules that connect pods.

One class per plugin, each behind the interface of ``CNIPlugin`` (``base.py``):

- ``"flannel"`` (the default): bridge ``cni0`` + VXLAN overlay ``flannel.1`` (``flannel.py``);
- ``"bridge"``: the reference bridge plugin with host routes, as in Kubernetes the Hard
  Way (``bridge.py``);
- ``"calico"``: cali* veths with /32 routes and proxy-ARP, BGP-learned routes per /26
  block, VXLAN to other subnets (the operator quickstart) or IP-in-IP (the manifest
  install) (``calico.py``);
- ``"cilium"``: the eBPF datapath with lxc* veths, cilium_host and a VXLAN tunnel, beside
  kube-proxy unless its kube-proxy replacement is chosen (``cilium.py``).

A plugin here is what it *installs*; how packets move through those devices is the
walk's business (``kubenet_lab.walk``), which asks each plugin for the handler of its
devices.

Examples
--------
>>> plugin(kl.Cluster().store).name, plugin(kl.Cluster(cni="calico").store).mtu
('flannel', 1450)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from kubenet_lab.dataplane.cni.base import (
    BRIDGE,
    LINK_MTU,
    BridgeFamily,
    CNIPlugin,
    mac_address,
    sort_routes,
)
from kubenet_lab.dataplane.cni.bridge import Bridge
from kubenet_lab.dataplane.cni.calico import Calico
from kubenet_lab.dataplane.cni.cilium import Cilium
from kubenet_lab.dataplane.cni.flannel import (
    VXLAN_DEVICE,
    VXLAN_OVERHEAD,
    VXLAN_PORT,
    VXLAN_VNI,
    Flannel,
    flannel_masquerade,
    vtep_ip,
)
from kubenet_lab.exceptions import ManifestError

if TYPE_CHECKING:
    from kubenet_lab.model.store import StoreView

__all__ = [
    "BRIDGE",
    "CNI_PLUGINS",
    "LINK_MTU",
    "PLUGINS",
    "VXLAN_DEVICE",
    "VXLAN_MTU",
    "VXLAN_OVERHEAD",
    "VXLAN_PORT",
    "VXLAN_VNI",
    "Bridge",
    "BridgeFamily",
    "CNIPlugin",
    "Calico",
    "Cilium",
    "Flannel",
    "check_cni",
    "flannel_masquerade",
    "mac_address",
    "make_plugin",
    "plugin",
    "sort_routes",
    "vtep_ip",
]

VXLAN_MTU = LINK_MTU - VXLAN_OVERHEAD
PLUGINS: dict[str, type[CNIPlugin]] = {
    "bridge": Bridge, "calico": Calico, "cilium": Cilium, "flannel": Flannel,
}
#: The CNI plugins the lab models.
CNI_PLUGINS = tuple(sorted(PLUGINS))


def check_cni(cni: object, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check a plugin name and its settings (``Cluster(cni=..., cni_config=...)``);
    returns the settings, sorted."""
    if not isinstance(cni, str) or cni not in PLUGINS:
        raise ManifestError(
            "Cluster", "cni", cni, "is not a CNI plugin the lab models",
            fix=f"use one of {', '.join(CNI_PLUGINS)}",
        )
    kind = PLUGINS[cni]
    settings = dict(config or {})
    for key, value in settings.items():
        if key not in kind.options or value not in kind.options[key]:
            known = "; ".join(f"{k}: {', '.join(map(repr, v))}"
                              for k, v in kind.options.items()) or "none"
            raise ManifestError(
                "Cluster", f"cni_config.{key}", value,
                f"is not a setting of the {cni} plugin the lab models",
                fix=f"settings of {cni}: {known}",
            )
    return dict(sorted(settings.items()))


@lru_cache(maxsize=64)
def _plugin(name: str, config: tuple[tuple[str, Any], ...]) -> CNIPlugin:
    return PLUGINS[name](dict(config))


def make_plugin(name: str, config: Mapping[str, Any] | None = None) -> CNIPlugin:
    """The plugin object for ``name`` (checked by ``check_cni``) with its settings."""
    return _plugin(name, tuple(sorted(dict(config or {}).items())))


def plugin(view: StoreView) -> CNIPlugin:
    """The cluster's CNI plugin."""
    return make_plugin(view.cni, view.cni_config)
