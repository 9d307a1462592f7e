"""The simulated cluster's nodes and what NetworkPolicy and a Service's traffic fields do
to a connection. A mixin of `FakeCluster`, kept apart from the rest of the simulation:

- Nodes: `nodes`, Node objects (one Ready, schedulable node by default; `set_nodes(N)` makes N,
  each in a zone of its own, as `topology.kubernetes.io/zone` says, a label binding copies onto
  the Pod; a test may cordon, taint or unready them after). A Pod is bound at creation, as the
  scheduler would: `nodeName` as given, else a
  `kubernetes.io/hostname` nodeSelector, required pod affinity and anti-affinity on that key
  (to the Pods that exist then), a hostname topology spread constraint (as maxSkew 1), and
  otherwise the node with the fewest Pods of the same labels.
  A Pod that fits no node stays Pending, unscheduled.
- NetworkPolicy is stored always and enforced only with `enforces_network_policy = True` (a
  cluster whose network plugin does not enforce it accepts the objects and ignores them).
  Enforced, it decides every connection a Pod opens (`ckaprep.cluster.netpol`):
  egress from the client, ingress into the Pod that answers, after kube-proxy picked it.
  A connection denied either way is rejected at once, as the third test cluster does (curl: connection
  refused), or with `policy_drops` dropped, as other plugins do (curl waits out its time). A
  lookup in cluster DNS is a connection too: to the CoreDNS Pods (kube-system,
  `k8s-app=kube-dns`) on UDP 53, so a client whose egress does not allow that cannot resolve
  a name (rejected: "Could not resolve host"; dropped: curl waits out its time resolving). A TCP connection to the DNS server's address on port 53 is judged the
  same way, over TCP.
- `internalTrafficPolicy: Local` leaves a client only the endpoints on its own node (none:
  the connection times out); `trafficDistribution` prefers them (PreferSameNode) or those in
  its zone (PreferSameZone, and its older name PreferClose), and falls back to all.
- `cross_node = False` makes connections between Pods on different nodes time out (a broken
  overlay network).
- `dual_stack = True` accepts Services with `ipFamilyPolicy: RequireDualStack`; otherwise the
  API server refuses them, as a single-stack cluster's does.
"""

from __future__ import annotations

import copy

from ckaprep.cluster import netpol
from ckaprep.errors import Refused

ZONE_LABEL = "topology.kubernetes.io/zone"
HOSTNAME_LABEL = "kubernetes.io/hostname"
DNS_SERVER_IP = "10.96.0.10"  # what the fake's resolv.conf names
DNS_POD = {  # the CoreDNS Pod the DNS server's address leads to
    "metadata": {"name": "coredns-fake", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
    "spec": {
        "containers": [
            {
                "name": "coredns",
                "ports": [
                    {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                    {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                ],
            }
        ]
    },
    "status": {"podIP": "10.244.0.2"},
}
RESOLVE_TIMEOUT = (28, "", "Resolving timed out after 4000 milliseconds")
DROPPED = (28, "", "Connection timed out after 4001 milliseconds")
REJECTED = (7, "", "Failed to connect: Connection refused")


def fake_node(
    name: str,
    *,
    ready: bool = True,
    unschedulable: bool = False,
    taints: list[dict] | None = None,
    zone: str | None = None,
) -> dict:
    zone = zone or f"zone-{name.rsplit('-', 1)[-1]}"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {HOSTNAME_LABEL: name, ZONE_LABEL: zone}},
        "spec": {"unschedulable": unschedulable} | ({"taints": taints} if taints else {}),
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


class NodesAndPolicies:
    def _network_init(self) -> None:
        self.nodes: list[dict] = [fake_node("fake-node-a")]
        self.unschedulable_nodes: set[str] = set()  # by name, on top of the nodes' own spec
        self.enforces_network_policy = False
        self.cross_node = True
        self.dual_stack = False
        self.policy_drops = False  # True: a denied connection is dropped (times out), not rejected
        self._client: dict | None = None  # the Pod a curl runs in, while it runs

    # -- nodes -------------------------------------------------------------------------------
    def set_nodes(self, count: int, **node) -> None:
        """`count` Ready, schedulable nodes (fake-node-a, -b, ...) in zones of their own."""
        self.nodes = [fake_node(f"fake-node-{chr(ord('a') + i)}", **node) for i in range(count)]

    def meet(self, requires) -> None:
        """Offer what an exercise requires (`Requirement` items): nodes, enforced policies."""
        for requirement in requires:
            if requirement.capability == "nodes" and len(self.nodes) < requirement.count:
                self.set_nodes(requirement.count)
            elif requirement.capability == "network-policy":
                self.enforces_network_policy = True
            elif requirement.capability == "dual-stack":
                self.dual_stack = True

    @property
    def node_names(self) -> list[str]:
        return [n["metadata"]["name"] for n in self.nodes]

    @node_names.setter
    def node_names(self, names: list[str]) -> None:
        self.nodes = [fake_node(name) for name in names]

    def _zone(self, node: str) -> str:
        found = next((n for n in self.nodes if n["metadata"]["name"] == node), None)
        return (found["metadata"]["labels"].get(ZONE_LABEL) if found else None) or f"zone-{node.rsplit('-', 1)[-1]}"

    def _node_objects(self) -> list[dict]:
        nodes = copy.deepcopy(self.nodes)
        for node in nodes:
            if node["metadata"]["name"] in self.unschedulable_nodes:
                node["spec"]["unschedulable"] = True
        return nodes

    _list_nodes = _node_objects

    def _schedulable(self, name: str) -> bool:
        node = next(n for n in self._node_objects() if n["metadata"]["name"] == name)
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (node.get("status") or {}).get("conditions") or []
        )
        tainted = any(t.get("effect") in ("NoSchedule", "NoExecute") for t in node["spec"].get("taints") or [])
        return ready and not node["spec"].get("unschedulable") and not tainted

    def _schedule(self, pod: dict) -> bool:
        """Bind the Pod to a node; False when none fits (the Pod stays Pending)."""
        spec = pod.setdefault("spec", {})
        if spec.get("nodeName"):
            return spec["nodeName"] in self.node_names
        ns = pod["metadata"]["namespace"]
        candidates = [n for n in self.node_names if self._schedulable(n)]
        wanted = (spec.get("nodeSelector") or {}).get(HOSTNAME_LABEL)
        if wanted:
            candidates = [n for n in candidates if n == wanted]
        others = [
            p
            for p in self._pods(ns)
            if p is not pod and not p["metadata"].get("deletionTimestamp") and (p.get("spec") or {}).get("nodeName")
        ]
        affinity = spec.get("affinity") or {}
        for kind, keep in (("podAffinity", True), ("podAntiAffinity", False)):
            terms = (affinity.get(kind) or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or []
            for term in terms:
                if term.get("topologyKey") not in (HOSTNAME_LABEL, ZONE_LABEL):
                    continue
                by_zone = term["topologyKey"] == ZONE_LABEL
                matching = [
                    p for p in others if netpol.selector_matches(term.get("labelSelector"), p["metadata"].get("labels"))
                ]
                places = {self._zone(p["spec"]["nodeName"]) if by_zone else p["spec"]["nodeName"] for p in matching}
                if (
                    keep
                    and not matching
                    and netpol.selector_matches(term.get("labelSelector"), pod["metadata"].get("labels"))
                ):
                    continue  # the first Pod of a group that keeps together goes anywhere
                candidates = [n for n in candidates if ((self._zone(n) if by_zone else n) in places) == keep]
        for constraint in spec.get("topologySpreadConstraints") or []:
            if constraint.get("topologyKey") == HOSTNAME_LABEL and candidates:
                matching = [
                    p["spec"]["nodeName"]
                    for p in others
                    if netpol.selector_matches(constraint.get("labelSelector"), p["metadata"].get("labels"))
                ]
                fewest = min(matching.count(n) for n in candidates)
                candidates = [n for n in candidates if matching.count(n) == fewest]  # maxSkew 1
        if not candidates:
            return False

        def own(labels):
            return {k: v for k, v in (labels or {}).items() if k != ZONE_LABEL}

        same = [
            p["spec"]["nodeName"]
            for p in others
            if own(p["metadata"].get("labels")) == own(pod["metadata"].get("labels"))
        ]
        spec["nodeName"] = min(candidates, key=lambda n: (same.count(n), self.node_names.index(n)))
        # Binding copies the node's zone onto the Pod (the PodTopologyLabels admission).
        pod["metadata"].setdefault("labels", {})[ZONE_LABEL] = self._zone(spec["nodeName"])
        return True

    @staticmethod
    def _unscheduled_status() -> dict:
        return {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"},
                {"type": "Ready", "status": "False"},
            ],
        }

    # -- traffic fields of a Service -----------------------------------------------------------
    def _route(self, svc: dict, endpoints: list) -> list:
        """The (pod, port) endpoints kube-proxy on the client's node uses for this Service."""
        client_node = ((self._client or {}).get("spec") or {}).get("nodeName")
        if not client_node:
            return endpoints
        spec = svc["spec"]
        on_node = [e for e in endpoints if e[0]["spec"].get("nodeName") == client_node]
        if spec.get("internalTrafficPolicy") == "Local":
            return on_node
        wanted = spec.get("trafficDistribution")
        if wanted == "PreferSameNode" and on_node:
            return on_node
        if wanted in ("PreferSameZone", "PreferClose", "PreferSameNode"):
            zone = self._zone(client_node)
            in_zone = [e for e in endpoints if self._zone(e[0]["spec"].get("nodeName") or "") == zone]
            return in_zone or endpoints
        return endpoints

    # -- NetworkPolicy ---------------------------------------------------------------------------
    def _peer(self, pod: dict) -> netpol.Peer:
        ns = pod["metadata"].get("namespace", "")
        namespace = self.objects.get(("Namespace", None, ns)) or {}
        return netpol.Peer.of_pod(pod, (namespace.get("metadata") or {}).get("labels"))

    def _policies(self) -> list[dict]:
        return [o for (k, _, _), o in self.objects.items() if k == "NetworkPolicy"]

    def _blocked(self, destination: dict, port: int, protocol: str = "TCP") -> str:
        """Why the client's connection is dropped ("" when it is not, or when no Pod runs it)."""
        if self._client is None or not self.enforces_network_policy:
            return ""
        return netpol.connection(
            self._policies(), self._peer(self._client), self._peer(destination), int(port), protocol
        )

    def _dns_blocked(self) -> bool:
        return bool(self._blocked(DNS_POD, 53, "UDP"))

    def _network_answer(self, host: str, port: int) -> tuple[int, str, str] | None:
        """The outcome policies decide before a Service is looked for; None to go on."""
        is_ip = all(part.isdigit() for part in host.split(".")) and host.count(".") == 3
        if host == DNS_SERVER_IP and port == 53:  # a TCP connection to the DNS server
            return self._denied() if self._blocked(DNS_POD, 53, "TCP") else (52, "", "Empty reply from server")
        if not is_ip and self._client is not None and self._dns_blocked():
            return RESOLVE_TIMEOUT if self.policy_drops else (6, "", f"Could not resolve host: {host}")
        return None

    def _denied(self) -> tuple[int, str, str]:
        """What curl gets for a connection a policy denies."""
        return DROPPED if self.policy_drops else REJECTED

    def _in_pod(self, pod: dict | None, run):
        """Run `run()` as a command inside `pod`: its node and labels decide routing and policy."""
        self._client = pod
        try:
            return run()
        finally:
            self._client = None

    def _network_blocks(self, target: dict, port) -> tuple[int, str, str] | None:
        """curl's failure when the network stops this connection to `target`, else None."""
        if self._client is None or port is None:
            return None
        client_node = (self._client.get("spec") or {}).get("nodeName")
        target_node = (target.get("spec") or {}).get("nodeName")
        if not self.cross_node and client_node and target_node and client_node != target_node:
            return DROPPED
        if self._blocked(target, int(port)):  # NetworkPolicy denies it
            return self._denied()
        return None

    def _admit_networkpolicy(self, obj: dict) -> None:
        obj.setdefault("spec", {}).setdefault("podSelector", {})

    def _admit_address_families(self, spec: dict) -> None:
        """A RequireDualStack Service: refused on a single-stack cluster, two addresses otherwise."""
        if spec.get("ipFamilyPolicy") != "RequireDualStack":
            return
        if not self.dual_stack:
            raise Refused(
                "the cluster refused POST Service: spec.ipFamilyPolicy: Invalid value: "
                '"RequireDualStack": this cluster is not configured for dual-stack services'
            )
        spec["ipFamilies"] = ["IPv4", "IPv6"]
        if spec.get("clusterIP") not in (None, "", "None"):
            spec["clusterIPs"] = [spec["clusterIP"], f"fd00:10:96::{spec['clusterIP'].rsplit('.', 1)[-1]}"]
