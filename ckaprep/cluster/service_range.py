"""The cluster's Service range, and addresses counted from its base.

Since Kubernetes 1.33 (ServiceCIDR GA) the range lives in ServiceCIDR objects
(networking.k8s.io/v1); the one named `kubernetes` is made from the API server's
--service-cluster-ip-range. Every ClusterIP in use has an IPAddress object of
the same name. Older clusters have neither: there the range is known only by its
first address, which the `kubernetes` Service in `default` always holds.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ckaprep.cluster import Cluster
from ckaprep.errors import CkaprepError

DEFAULT_SERVICE_CIDR = "kubernetes"


class NoServiceRange(CkaprepError):
    """The cluster shows no Service range at all."""


@dataclass(frozen=True)
class ServiceRange:
    base: ipaddress.IPv4Address | ipaddress.IPv6Address
    cidr: str | None  # None when only the base is known (a cluster without ServiceCIDR)

    @property
    def text(self) -> str:
        return self.cidr or f"the range that starts at {self.base}"

    def address(self, offset: int) -> str:
        """The address `offset` places above the base (the base itself is offset 0)."""
        return str(self.base + offset)

    def offset_of(self, address: str) -> int | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        if ip.version != self.base.version:
            return None
        return int(ip) - int(self.base)

    def holds(self, address: str) -> bool:
        if self.cidr is None:
            return (self.offset_of(address) or -1) >= 0
        try:
            return ipaddress.ip_address(address) in ipaddress.ip_network(self.cidr)
        except ValueError:
            return False


def service_range(cluster: Cluster) -> ServiceRange:
    """The primary Service range: the first IPv4 block of ServiceCIDR `kubernetes` (else the first
    block of any ServiceCIDR), or, on a cluster without ServiceCIDR, the range that starts just
    below the `kubernetes` Service's address."""
    objects = sorted(
        cluster.list("ServiceCIDR", None),
        key=lambda o: (o["metadata"]["name"] != DEFAULT_SERVICE_CIDR, o["metadata"]["name"]),
    )
    blocks = [ipaddress.ip_network(c, strict=False) for o in objects for c in (o.get("spec") or {}).get("cidrs") or []]
    if blocks:
        block = next((b for b in blocks if b.version == 4), blocks[0])
        return ServiceRange(block.network_address, str(block))
    service = cluster.get("Service", "default", "kubernetes")
    address = ((service or {}).get("spec") or {}).get("clusterIP")
    if not address:
        raise NoServiceRange(
            "cannot find the cluster's Service range: no ServiceCIDR objects and no Service "
            "default/kubernetes (see `kubectl get servicecidr`)"
        )
    return ServiceRange(ipaddress.ip_address(address) - 1, None)


def address_in_use(cluster: Cluster, address: str) -> bool:
    """Whether a Service holds this ClusterIP, by its IPAddress object (networking.k8s.io/v1)."""
    return cluster.get("IPAddress", None, address) is not None


# Addresses an attempt was given at start, written on its namespaces: two attempts that start
# at the same time (prove --jobs, an exam) must not be handed the same free address, though
# neither has created its Service yet.
CLAIMS_ANNOTATION = "ckaprep.io/claimed-addresses"


def claimed_addresses(cluster: Cluster) -> set[str]:
    """Addresses claimed by the namespaces of ckaprep's live attempts."""
    from ckaprep.cluster.labels import OWNER_LABEL, OWNER_VALUE

    claimed: set[str] = set()
    for namespace in cluster.list("Namespace", None, f"{OWNER_LABEL}={OWNER_VALUE}"):
        text = (namespace["metadata"].get("annotations") or {}).get(CLAIMS_ANNOTATION, "")
        claimed.update(a for a in text.split(",") if a)
    return claimed
