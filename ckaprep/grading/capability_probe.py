"""Finding out what a cluster offers, by trying it: the cluster side of `requires`.

- Schedulable nodes: Ready, not cordoned, and without a NoSchedule or NoExecute taint that a
  plain Pod does not tolerate (read from the API; no Pod needed).
- Whether a Service answers a Pod on another node: with two schedulable nodes or more, a
  server Pod is pinned to one node and a client Pod to another (`nodeName`), and the client
  asks the server's Service by its ClusterIP.
- Whether NetworkPolicy is enforced: the client reaches the server, then a deny-all ingress
  policy is applied and the client must stop getting through within a short, bounded time.
- Whether dual-stack Services exist: a Service asking for `RequireDualStack` is accepted.

The Pods run in a scratch namespace labelled as ckaprep's own, deleted again before this
returns (Ctrl-C included). Plain library code: progress goes to the waiter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ckaprep.catalogue.capabilities import DUAL_STACK, NETWORK_POLICY, NODES, Capabilities
from ckaprep.cluster import Cluster
from ckaprep.cluster.images import BUSYBOX_IMAGE, CURL_IMAGE
from ckaprep.cluster.scratch import scratch_name, scratch_namespace
from ckaprep.cluster.waiting import Waiter, ready_and_running
from ckaprep.errors import CkaprepError, PermissionDenied, Refused
from ckaprep.grading.probes import curl_argv, parse_curl_output

CAPABILITIES_ROLE = "capabilities"
CROSS_NODE = "cross-node"
EVERYTHING = frozenset({NODES, NETWORK_POLICY, DUAL_STACK, CROSS_NODE})
POD_START_TIMEOUT_S = 90
REACH_TIMEOUT_S = 20  # kube-proxy programs a new Service a moment after its endpoints are ready
# How long a deny-all policy may take to stop a connection: implementations program their
# rules a moment after the policy is created. A connection still open after this is not blocked.
POLICY_TIMEOUT_S = 15
CURL_TIMEOUT_S = 3  # each try; a connection a policy drops times out
WEB_PORT, SERVICE_PORT = 8080, 80
SERVER_LABELS = {"app": "ckaprep-capability-server"}
# Taints a plain Pod tolerates: the admission controller adds tolerations for these (for 300 s).
TOLERATED_BY_DEFAULT = {("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute")}


@dataclass(frozen=True)
class CapabilityFinding:
    """One line of `doctor`: what was found, and what to do about it."""

    id: str
    title: str
    status: str  # pass, warn, fail or skip, as doctor's findings
    detail: str
    fix: str = ""


@dataclass
class Probed:
    capabilities: Capabilities
    findings: list[CapabilityFinding] = field(default_factory=list)
    namespace: str | None = None  # the scratch namespace, when one was made


# What to do about each missing capability, for the usual practice clusters.
MORE_NODES_FIX = (
    "Exercises that require 2 nodes are left out. For a cluster with 2: kind with a config of two "
    "nodes (kind: Cluster, apiVersion: kind.x-k8s.io/v1alpha4, nodes: [{role: control-plane}, {role: worker}]; "
    "kind create cluster --config FILE), minikube start --nodes 2, or k3d cluster create cka --agents 1."
)
NETWORK_POLICY_FIX = (
    "Exercises that require network-policy are left out. kind enforces NetworkPolicy from v0.24 on "
    "(kindnet; use kind v0.24 or newer, with a multi-node config for the cross-node exercises); "
    "minikube: minikube start --nodes 2 --cni calico; k3s and k3d enforce it by default."
)
CROSS_NODE_FIX = (
    "Pods on different nodes cannot reach each other through a Service: check the CNI plugin "
    "and kube-proxy on every node (kubectl -n kube-system get pods -o wide)."
)
DUAL_STACK_FIX = (
    "Exercises that require dual-stack are left out. kind: networking: {ipFamily: dual} in its "
    "config; minikube and k3s need dual-stack CIDRs given at creation."
)


def schedulable(node: dict) -> bool:
    """Ready, not cordoned, and no taint a plain Pod would not tolerate keeps Pods off it."""
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    spec = node.get("spec") or {}
    taints = [
        t
        for t in spec.get("taints") or []
        if t.get("effect") in ("NoSchedule", "NoExecute")
        and (t.get("key"), t.get("effect")) not in TOLERATED_BY_DEFAULT
    ]
    return ready and not spec.get("unschedulable") and not taints


def find_capabilities(
    cluster: Cluster,
    *,
    want: frozenset[str] | set[str] = EVERYTHING,
    busybox_image: str = BUSYBOX_IMAGE,
    curl_image: str = CURL_IMAGE,
    waiter: Waiter = Waiter(),
    namespace: str | None = None,
) -> Probed:
    """Find out the capabilities in `want` (nodes, network-policy, dual-stack, cross-node)."""
    probed = Probed(Capabilities())
    nodes = _nodes(cluster, probed)
    if DUAL_STACK in want or NETWORK_POLICY in want or (CROSS_NODE in want and len(nodes) >= 2):
        namespace = namespace or scratch_name("ckaprep-capabilities-")
        probed.namespace = namespace
        with scratch_namespace(cluster, namespace, CAPABILITIES_ROLE, waiter.progress):
            if DUAL_STACK in want:
                _dual_stack(cluster, probed, namespace)
            if NETWORK_POLICY in want or (CROSS_NODE in want and len(nodes) >= 2):
                _traffic(cluster, probed, namespace, nodes, want, busybox_image, curl_image, waiter)
    return probed


def _add(probed: Probed, *finding) -> None:
    probed.findings.append(CapabilityFinding(*finding))


def _set(probed: Probed, **values) -> None:
    probed.capabilities = probed.capabilities.merged(Capabilities(**values))


# -- nodes ---------------------------------------------------------------------------------------
def _nodes(cluster: Cluster, probed: Probed) -> list[str]:
    """The schedulable nodes' names (sorted); a finding in every case."""
    title = "Schedulable nodes"
    try:
        nodes = cluster.list("Node", None)
    except PermissionDenied as exc:
        _add(
            probed,
            NODES,
            title,
            "warn",
            f"nodes unknown: {exc.message}",
            "Listing nodes needs a cluster-wide right (an admin context has it).",
        )
        return []
    names = sorted(n["metadata"]["name"] for n in nodes if schedulable(n))
    _set(probed, nodes=len(names))
    others = len(nodes) - len(names)
    aside = f"; {others} more not schedulable (not Ready, cordoned or tainted)" if others else ""
    if len(names) >= 2:
        _add(probed, NODES, title, "pass", f"{len(names)} nodes are schedulable ({', '.join(names)}){aside}")
    elif names:
        _add(probed, NODES, title, "warn", f"one node is schedulable ({names[0]}){aside}", MORE_NODES_FIX)
    else:
        _add(
            probed,
            NODES,
            title,
            "fail",
            f"no node is schedulable{aside}",
            "Uncordon a node (kubectl uncordon NODE) or remove its NoSchedule taint.",
        )
    return names


# -- dual-stack ------------------------------------------------------------------------------------
def _dual_stack(cluster: Cluster, probed: Probed, namespace: str) -> None:
    title = "Dual-stack (IPv4 and IPv6) Services"
    try:
        service = cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "dual-stack", "namespace": namespace},
                "spec": {"ipFamilyPolicy": "RequireDualStack", "ports": [{"port": SERVICE_PORT}]},
            }
        )
    except Refused:  # refused (HTTP 422): a single-stack cluster
        _set(probed, dual_stack=False)
        _add(
            probed, DUAL_STACK, title, "warn", "dual-stack: no (a RequireDualStack Service is refused)", DUAL_STACK_FIX
        )
        return
    addresses = ((service or {}).get("spec") or {}).get("clusterIPs") or []
    dual = len(addresses) >= 2
    _set(probed, dual_stack=dual)
    got = ", ".join(addresses) or "no address"
    _add(
        probed,
        DUAL_STACK,
        title,
        "pass" if dual else "warn",
        f"dual-stack: {'yes' if dual else 'no'} (a RequireDualStack Service got {got})",
        "" if dual else DUAL_STACK_FIX,
    )


# -- traffic: across nodes, and through a deny-all policy ------------------------------------------
def _server_pod(namespace: str, image: str, node: str | None) -> dict:
    serve = f"mkdir -p /www && hostname > /www/index.html && exec httpd -f -p {WEB_PORT} -h /www"
    spec = {
        "terminationGracePeriodSeconds": 1,
        "automountServiceAccountToken": False,
        "containers": [
            {
                "name": "web",
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", serve],
                "ports": [{"containerPort": WEB_PORT}],
                "readinessProbe": {"tcpSocket": {"port": WEB_PORT}, "periodSeconds": 1},
            }
        ],
    }
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "server", "namespace": namespace, "labels": dict(SERVER_LABELS)},
        "spec": spec,
    }


def _client_pod(namespace: str, image: str, node: str | None) -> dict:
    spec = {
        "terminationGracePeriodSeconds": 1,
        "automountServiceAccountToken": False,
        "containers": [
            {
                "name": "client",
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
            }
        ],
    }
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": namespace}, "spec": spec}


def _deny_all_ingress(namespace: str) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny-all-ingress", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }


def _traffic(
    cluster, probed: Probed, namespace: str, nodes: list[str], want, busybox_image, curl_image, waiter: Waiter
) -> None:
    two = len(nodes) >= 2
    server_node, client_node = (nodes[0], nodes[1]) if two else (None, None)
    cluster.create(_server_pod(namespace, busybox_image, server_node))
    service = cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "server", "namespace": namespace},
            "spec": {"selector": dict(SERVER_LABELS), "ports": [{"port": SERVICE_PORT, "targetPort": WEB_PORT}]},
        }
    )
    cluster.create(_client_pod(namespace, curl_image, client_node))
    cluster_ip = ((service or {}).get("spec") or {}).get("clusterIP") or (
        cluster.get("Service", namespace, "server") or {}
    ).get("spec", {}).get("clusterIP")
    url = f"http://{cluster_ip}:{SERVICE_PORT}/"

    started = ready_and_running(cluster, namespace, "server", "client")
    where = f" on {server_node} and {client_node}" if two else ""
    try:
        waiter.until(started, timeout_s=POD_START_TIMEOUT_S, what=f"starting a server and a client Pod{where}")
    except CkaprepError as exc:  # an image that cannot be pulled, or Pods that did not start in time
        text = exc.message
        for finding_id, title in ((CROSS_NODE, "Service across nodes"), (NETWORK_POLICY, "NetworkPolicy enforced")):
            if finding_id in want and (finding_id != CROSS_NODE or two):
                _add(
                    probed,
                    finding_id,
                    title,
                    "warn",
                    f"not tried: {text}",
                    "Run ckaprep doctor for the images and Pods.",
                )
        return
    waiter.progress(f"a client asks the server's Service {url}" + (f" from {client_node}" if two else ""))
    reached, why = _reach(cluster, namespace, url, waiter, until=True, timeout_s=REACH_TIMEOUT_S)
    if two:
        _set(probed, cross_node=reached)
        path = f"a Pod on {client_node} {{}} a backend on {server_node} through its ClusterIP"
        if reached:
            _add(
                probed, CROSS_NODE, "Service across nodes", "pass", f"cross-node Service: ok ({path.format('reached')})"
            )
        else:
            _add(
                probed,
                CROSS_NODE,
                "Service across nodes",
                "fail",
                f"cross-node Service: fails ({path.format('asked')}: {why})",
                CROSS_NODE_FIX,
            )
    if NETWORK_POLICY not in want:
        return
    title = "NetworkPolicy enforced"
    if not reached:
        _add(
            probed,
            NETWORK_POLICY,
            title,
            "warn",
            f"not judged: the client never reached the server ({why})",
            "Fix the Service traffic first (see the rows above).",
        )
        return
    cluster.create(_deny_all_ingress(namespace))
    waiter.progress(f"waiting up to {POLICY_TIMEOUT_S}s for a deny-all ingress policy to stop the connection")
    still_open, _ = _reach(cluster, namespace, url, waiter, until=False, timeout_s=POLICY_TIMEOUT_S)
    _set(probed, network_policy=not still_open)
    if still_open:
        _add(
            probed,
            NETWORK_POLICY,
            title,
            "warn",
            f"NetworkPolicy not enforced: a deny-all ingress policy left the connection open for {POLICY_TIMEOUT_S}s",
            NETWORK_POLICY_FIX,
        )
    else:
        _add(
            probed,
            NETWORK_POLICY,
            title,
            "pass",
            "NetworkPolicy enforced: a deny-all ingress policy stopped the connection (twice in a row)",
        )


def _reach(cluster, namespace: str, url: str, waiter: Waiter, *, until: bool, timeout_s: float) -> tuple[bool, str]:
    """Ask `url` from the client once a second until it answers (`until=True`) or stops
    answering twice in a row (`until=False`), for at most `timeout_s`. Returns (whether it
    answers, as that judges it; why the last request was not answered)."""
    deadline = waiter.clock.monotonic() + timeout_s
    refused_in_a_row = 0
    while True:
        done = cluster.exec(namespace, "client", curl_argv([url], timeout_s=CURL_TIMEOUT_S), timeout=CURL_TIMEOUT_S + 6)
        [result] = parse_curl_output([url], done.returncode, done.stdout, done.stderr)
        answered = result.exit_code == 0 and result.http_status == 200 and result.answered_by == "server"
        refused_in_a_row = 0 if answered else refused_in_a_row + 1
        # Stopped means twice in a row: one lost connection on a busy node proves no policy.
        done_waiting = answered if until else refused_in_a_row >= 2
        if done_waiting or waiter.clock.monotonic() >= deadline:
            still = answered if until else refused_in_a_row < 2
            return still, "" if answered else result.cause
        waiter.clock.sleep(1.0)
