"""The fake cluster's nodes, NetworkPolicy and address families: a part of `FakeCluster` kept
in a module of its own (it is mixed into the class in ckaprep/cluster/fake.py).

- Nodes: one Ready, schedulable node by default (`set_nodes` makes others: cordoned, not
  Ready, tainted). A Pod runs on the node its `spec.nodeName` names, else on the first node.
- NetworkPolicy is stored always and enforced only with `enforces_network_policy = True`, as
  a cluster whose network plugin does not enforce it accepts the objects and ignores them.
  Enforced, a Pod selected by an Ingress policy accepts a connection only when a rule of one
  of those policies allows it (an empty `from` allows any source; `podSelector` picks Pods of
  the policy's namespace, `namespaceSelector` namespaces by label; `ports` name the Pod's port);
  a blocked connection times out, as with a real policy that drops packets.
- `cross_node = False` makes connections between Pods on different nodes time out (a broken
  overlay network).
- `dual_stack = True` accepts Services with `ipFamilyPolicy: RequireDualStack`; otherwise the
  API server refuses them, as a single-stack cluster's does.
"""

from __future__ import annotations

import copy

from ckaprep.errors import UsageError

TIMED_OUT = (28, "", "Connection timed out")


def fake_node(name: str, *, ready: bool = True, unschedulable: bool = False, taints: list[dict] | None = None,
              zone: str = "zone-a") -> dict:  # fmt: skip
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone}},
        "spec": {"unschedulable": unschedulable} | ({"taints": taints} if taints else {}),
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }  # fmt: skip


class _NodesAndNetworkPolicy:
    def _init_network(self) -> None:
        self.nodes: list[dict] = [fake_node("fake-node-1")]
        self.enforces_network_policy = False
        self.cross_node = True
        self.dual_stack = False
        self._exec_source: dict | None = None  # the Pod a command runs in, while it runs

    def set_nodes(self, count: int, **node) -> None:
        """`count` Ready, schedulable nodes in zones of their own (a test changes them after)."""
        self.nodes = [fake_node(f"fake-node-{i}", zone=f"zone-{chr(ord('a') + i - 1)}", **node)
                      for i in range(1, count + 1)]  # fmt: skip

    def _list_nodes(self) -> list[dict]:
        return copy.deepcopy(self.nodes)

    def _node_of(self, pod: dict) -> str:
        return (pod.get("spec") or {}).get("nodeName") or (self.nodes[0]["metadata"]["name"] if self.nodes else "")

    def _in_pod(self, pod: dict | None, run):
        """Run `run()` as a command inside `pod`: the connections it opens come from that Pod."""
        self._exec_source = pod
        try:
            return run()
        finally:
            self._exec_source = None

    def _network_blocks(self, target: dict, port) -> tuple[int, str, str] | None:
        """curl's failure when the network stops this connection to `target`, else None."""
        source = self._exec_source
        if source is None or port is None:
            return None
        if not self.cross_node and self._node_of(source) != self._node_of(target):
            return TIMED_OUT
        if self.enforces_network_policy and not self._ingress_allowed(source, target, int(port)):
            return TIMED_OUT
        return None

    def _ingress_allowed(self, source: dict, target: dict, port: int) -> bool:
        ns = target["metadata"]["namespace"]
        labels = target["metadata"].get("labels") or {}
        policies = [
            p for (kind, pns, _), p in self.objects.items()
            if kind == "NetworkPolicy" and pns == ns and "Ingress" in _policy_types(p)
            and _selects((p["spec"].get("podSelector") or {}).get("matchLabels") or {}, labels)
        ]  # fmt: skip
        if not policies:
            return True
        return any(self._rule_allows(rule, ns, source, target, port)
                   for policy in policies for rule in policy["spec"].get("ingress") or [])  # fmt: skip

    def _rule_allows(self, rule: dict, ns: str, source: dict, target: dict, port: int) -> bool:
        ports = rule.get("ports") or []
        if ports and not any(self._port_matches(entry, target, port) for entry in ports):
            return False
        peers = rule.get("from") or []
        return not peers or any(self._peer_matches(peer, ns, source) for peer in peers)

    def _port_matches(self, entry: dict, target: dict, port: int) -> bool:
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str) and not wanted.isdigit():  # a named port of the target Pod
            wanted = self._resolve_target(target, wanted, entry.get("protocol") or "TCP")
        return wanted is not None and int(wanted) == port

    def _peer_matches(self, peer: dict, ns: str, source: dict) -> bool:
        source_ns = source["metadata"]["namespace"]
        namespaces = peer.get("namespaceSelector")
        if namespaces is not None:
            namespace = self.objects.get(("Namespace", None, source_ns)) or {"metadata": {}}
            ns_labels = (namespace["metadata"].get("labels") or {}) | {"kubernetes.io/metadata.name": source_ns}
            if not _selects(namespaces.get("matchLabels") or {}, ns_labels):
                return False
        elif source_ns != ns:
            return False
        pods = peer.get("podSelector")
        if pods is not None and not _selects(pods.get("matchLabels") or {}, source["metadata"].get("labels") or {}):
            return False
        return namespaces is not None or pods is not None

    def _admit_networkpolicy(self, obj: dict) -> None:
        obj.setdefault("spec", {}).setdefault("podSelector", {})

    def _admit_address_families(self, spec: dict) -> None:
        """A RequireDualStack Service: refused on a single-stack cluster, two addresses otherwise."""
        if spec.get("ipFamilyPolicy") != "RequireDualStack":
            return
        if not self.dual_stack:
            raise UsageError('the cluster refused POST Service: spec.ipFamilyPolicy: Invalid value: '
                             '"RequireDualStack": this cluster is not configured for dual-stack services')  # fmt: skip
        spec["ipFamilies"] = ["IPv4", "IPv6"]
        if spec.get("clusterIP") not in (None, "", "None"):
            spec["clusterIPs"] = [spec["clusterIP"], f"fd00:10:96::{spec['clusterIP'].rsplit('.', 1)[-1]}"]


def _policy_types(policy: dict) -> list[str]:
    spec = policy.get("spec") or {}
    return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if spec.get("egress") else []))


def _selects(selector: dict, labels: dict) -> bool:
    """A NetworkPolicy's label selector: an empty one selects everything."""
    return all(labels.get(key) == value for key, value in (selector or {}).items())
