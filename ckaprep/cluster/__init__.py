"""The one seam through which ckaprep reaches a cluster.

Objects cross it as plain dicts in the API's JSON form (camelCase keys), so the
grading engine can be exercised against `FakeCluster` exactly as against a
real API server.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ExecResult:
    returncode: int | None  # None when the exit code could not be read
    stdout: str
    stderr: str
    truncated: bool = False


# kind -> (API group path, plural, namespaced)
KINDS: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("/api/v1", "namespaces", False),
    "Pod": ("/api/v1", "pods", True),
    "Service": ("/api/v1", "services", True),
    "Endpoints": ("/api/v1", "endpoints", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "Deployment": ("/apis/apps/v1", "deployments", True),
    "StatefulSet": ("/apis/apps/v1", "statefulsets", True),
    "ReplicaSet": ("/apis/apps/v1", "replicasets", True),
    "EndpointSlice": ("/apis/discovery.k8s.io/v1", "endpointslices", True),
    # Cluster-wide and read only: the Service range and the ClusterIPs in use.
    "ServiceCIDR": ("/apis/networking.k8s.io/v1", "servicecidrs", False),
    "IPAddress": ("/apis/networking.k8s.io/v1", "ipaddresses", False),
    # NetworkPolicies an exercise sets up or grades, and the Nodes probes are placed on (read only).
    "NetworkPolicy": ("/apis/networking.k8s.io/v1", "networkpolicies", True),
    "Node": ("/api/v1", "nodes", False),
}
# Kinds only a classroom's seats are made of; exercises never create them.
SEAT_KINDS: dict[str, tuple[str, str, bool]] = {
    "ServiceAccount": ("/api/v1", "serviceaccounts", True),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "ResourceQuota": ("/api/v1", "resourcequotas", True),
    "LimitRange": ("/api/v1", "limitranges", True),
}
# Kinds only finding out what the cluster offers reads or makes (ckaprep.grading.capability_probe):
# the nodes, and a deny-all NetworkPolicy in a scratch namespace of its own.
PROBE_KINDS: dict[str, tuple[str, str, bool]] = {
    "Node": ("/api/v1", "nodes", False),
    "NetworkPolicy": ("/apis/networking.k8s.io/v1", "networkpolicies", True),
}
ALL_KINDS = {**PROBE_KINDS, **KINDS, **SEAT_KINDS}


class Cluster(Protocol):
    def get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        """The object, or None when it does not exist."""

    def list(self, kind: str, namespace: str | None, label_selector: str = "") -> list[dict]:
        """Objects of a kind; a namespaced kind with namespace None is listed in every namespace."""

    def replace(self, manifest: dict) -> dict:
        """Write an existing object whole; its metadata.resourceVersion, when given, must be current."""

    def create(self, manifest: dict) -> dict: ...

    def delete(self, kind: str, namespace: str | None, name: str) -> None:
        """Delete if present; a missing object is not an error."""

    # builtins.list: inside the class, `list` is the method above.
    def exec(self, namespace: str, pod: str, argv: builtins.list[str], timeout: float) -> ExecResult: ...

    def describe(self) -> str:
        """Where this cluster is, for messages (context and server)."""

    def version(self) -> dict:
        """The API server's /version document (gitVersion, major, minor)."""

    def server_time(self) -> datetime:
        """The API server's clock now, to judge how long ago something changed."""

    def request_token(self, namespace: str, service_account: str, seconds: int) -> dict:
        """A token for the ServiceAccount from the TokenRequest API: {"token", "expiration"}."""

    def endpoint(self) -> dict:
        """How a kubeconfig reaches this API server: {"server", "ca_pem" or None, "insecure"}."""

    def service_account(self) -> tuple[str, str] | None:
        """(namespace, name) when the credentials are a ServiceAccount's token; read from the
        token itself, without a request."""

    def can_i(self, verb: str, group: str, resource: str, subresource: str = "", *, namespace: str | None) -> bool:
        """Whether the current user may do this, asked with a SelfSubjectAccessReview."""
