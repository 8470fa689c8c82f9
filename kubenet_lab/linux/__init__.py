"""The lab against the real Linux kernel (Linux and root only; the lessons never need it).

``with realize(cluster) as lab:`` builds the cluster from network namespaces, veth
pairs, bridges, a VXLAN device and the nodes' iptables and nftables rules, all from the
cluster's own dataplane records (``realize``); ``lab.probe(src, dst, port, protocol)``
makes a real TCP connection, UDP exchange or ping (``probe``); ``compare(cluster)``
answers the standard probes with ``Cluster.trace`` and with the kernel, side by side
(``compare``); ``check()`` is ``python -m kubenet_lab linux-check`` (``check``).
Anywhere but Linux as root with ``ip``, ``iptables-restore`` and ``nft`` installed,
each raises ``kl.LinuxUnavailableError`` saying what is needed.
"""

from __future__ import annotations

from kubenet_lab.linux.check import check, standard_clusters
from kubenet_lab.linux.compare import CompareReport, Comparison, Probe, compare, default_probes
from kubenet_lab.linux.netns import cleanup, require, short_name
from kubenet_lab.linux.probe import ProbeResult
from kubenet_lab.linux.realize import LinuxLab, realize

__all__ = ["CompareReport", "Comparison", "LinuxLab", "Probe", "ProbeResult", "check",
           "cleanup", "compare", "default_probes", "realize", "require", "short_name",
           "standard_clusters"]
