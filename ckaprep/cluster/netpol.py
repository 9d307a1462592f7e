"""NetworkPolicy semantics as plain functions over API objects (dicts).

Whether a connection from one Pod to another is allowed by the NetworkPolicy objects, as an
enforcing network plugin decides it: a Pod selected by no policy of a direction is open in
that direction; once some policy of that direction selects it, only what one of their rules
allows gets through (policies add up, none denies). The simulated cluster enforces with it,
and the check kinds use it to say which rule lets through what it should not, or which rule
misses what it should allow. Only what grading needs: matchLabels and matchExpressions,
podSelector and namespaceSelector peers, ipBlock, ports by number or by name, endPort.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # every namespace carries it (since 1.22)


@dataclass(frozen=True)
class Peer:
    """One end of a connection as policies see it: a Pod's labels, its namespace, its IP and
    the ports its containers declare (to resolve a named port)."""

    namespace: str
    labels: dict = field(default_factory=dict, hash=False)
    namespace_labels: dict = field(default_factory=dict, hash=False)
    ip: str = ""
    named_ports: dict = field(default_factory=dict, hash=False)  # (name, protocol) -> number

    @staticmethod
    def of_pod(pod: dict, namespace_labels: dict | None = None) -> "Peer":
        ns = pod["metadata"].get("namespace", "")
        ports = {}
        for container in (pod.get("spec") or {}).get("containers") or []:
            for entry in container.get("ports") or []:
                if entry.get("name"):
                    ports[(entry["name"], entry.get("protocol") or "TCP")] = int(entry["containerPort"])
        return Peer(
            namespace=ns,
            labels=dict(pod["metadata"].get("labels") or {}),
            namespace_labels={NAMESPACE_NAME_LABEL: ns} | dict(namespace_labels or {}),
            ip=((pod.get("status") or {}).get("podIP") or ""),
            named_ports=ports,
        )


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """A LabelSelector as the API reads it: an empty (or absent) selector matches everything."""
    selector = selector or {}
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), [str(v) for v in expr.get("values") or []]
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def policy_types(policy: dict) -> list[str]:
    """spec.policyTypes, or what the API server assumes when it is left out: Ingress, and Egress
    when the policy has egress rules."""
    spec = policy.get("spec") or {}
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def selects(policy: dict, pod: Peer, direction: str) -> bool:
    """Whether the policy isolates this Pod in the direction ("Ingress" or "Egress")."""
    if policy["metadata"].get("namespace") != pod.namespace:
        return False
    return direction in policy_types(policy) and selector_matches(policy["spec"].get("podSelector"), pod.labels)


def peer_matches(rule_peer: dict, peer: Peer, policy_namespace: str) -> bool:
    if "ipBlock" in rule_peer:
        block = rule_peer["ipBlock"] or {}
        if not peer.ip:
            return False
        try:
            address = ipaddress.ip_address(peer.ip)
            if address not in ipaddress.ip_network(block.get("cidr", ""), strict=False):
                return False
            return not any(address in ipaddress.ip_network(x, strict=False) for x in block.get("except") or [])
        except ValueError:
            return False
    has_ns, has_pod = "namespaceSelector" in rule_peer, "podSelector" in rule_peer
    if not has_ns and not has_pod:  # {}: an empty peer selects no one in the API; treat as nothing
        return False
    if has_ns:
        if not selector_matches(rule_peer.get("namespaceSelector"), peer.namespace_labels):
            return False
    elif peer.namespace != policy_namespace:
        return False  # a podSelector alone picks Pods in the policy's own namespace
    return not has_pod or selector_matches(rule_peer.get("podSelector"), peer.labels)


def port_matches(rule_port: dict, port: int, protocol: str, destination: Peer) -> bool:
    if (rule_port.get("protocol") or "TCP") != protocol:
        return False
    wanted = rule_port.get("port")
    if wanted is None:
        return True  # every port of that protocol
    if isinstance(wanted, str) and not wanted.isdigit():
        number = destination.named_ports.get((wanted, protocol))
        return number == port
    low, high = int(wanted), int(rule_port.get("endPort") or wanted)
    return low <= port <= high


def rule_allows(
    rule: dict, other: Peer, port: int, protocol: str, destination: Peer, policy_namespace: str, peers_key: str
) -> bool:
    """An ingress rule (peers_key "from") or egress rule ("to"): no peers means every peer,
    no ports means every port."""
    peers = rule.get(peers_key)
    if peers and not any(peer_matches(p, other, policy_namespace) for p in peers):
        return False
    ports = rule.get("ports")
    return not ports or any(port_matches(p, port, protocol, destination) for p in ports)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    isolating: tuple[str, ...] = ()  # the policies that select the Pod in that direction
    allowing: tuple[str, ...] = ()  # those of them with a rule that lets this connection through


def ingress(policies: list[dict], source: Peer, destination: Peer, port: int, protocol: str = "TCP") -> Verdict:
    return _judge(policies, destination, "Ingress", "ingress", "from", source, port, protocol, destination)


def egress(policies: list[dict], source: Peer, destination: Peer, port: int, protocol: str = "TCP") -> Verdict:
    return _judge(policies, source, "Egress", "egress", "to", destination, port, protocol, destination)


def _judge(policies, subject, direction, rules_key, peers_key, other, port, protocol, destination) -> Verdict:
    isolating = [p for p in policies if selects(p, subject, direction)]
    allowing = [
        p
        for p in isolating
        if any(
            rule_allows(r or {}, other, port, protocol, destination, p["metadata"]["namespace"], peers_key)
            for r in (p.get("spec") or {}).get(rules_key) or []
        )
    ]
    names = tuple(p["metadata"]["name"] for p in isolating)
    return Verdict(not isolating or bool(allowing), names, tuple(p["metadata"]["name"] for p in allowing))


def connection(policies: list[dict], source: Peer, destination: Peer, port: int, protocol: str = "TCP") -> str:
    """ "" when the connection is allowed, else why not, in a few words."""
    out = egress(policies, source, destination, port, protocol)
    if not out.allowed:
        return f"egress from the client denied (policies {', '.join(out.isolating)} select it; none allows this)"
    into = ingress(policies, source, destination, port, protocol)
    if not into.allowed:
        return f"ingress to the Pod denied (policies {', '.join(into.isolating)} select it; none allows this)"
    return ""
