"""Check kinds graded from where a client stands: NetworkPolicy judged by real traffic from
probe pods the grader places (with given labels, in a given namespace, on each node), the
policy objects read for a clear reason, and which backend (on which node) answered, for
`internalTrafficPolicy` and `trafficDistribution`.

A connection that must be refused is tried twice, each time for at most
`BLOCKED_TIMEOUT_S`; one answer is enough to fail the check, so a retry can only catch an
allowed connection, never turn a blocked one into a pass. A connection that must pass is
tried again once when it fails, which a block never survives either.
"""

from __future__ import annotations

from collections import Counter

from ckaprep.cluster import netpol
from ckaprep.cluster.labels import parse_selector, selector_string
from ckaprep.cluster.waiting import pod_is_ready
from ckaprep.grading.checks.base import (
    PROBE_ADVISORS,
    Outcome,
    check_kind,
    find_service_port,
    labels_of,
    live_pods,
    port_label,
)
from ckaprep.grading.checks.http_probes import service_diagnosis  # the same advice as http_probe
from ckaprep.grading.context import Fail, GradingContext, Placement

BLOCKED_TIMEOUT_S = 3  # per try of a connection that must be refused: curl connects for 2 s at most
BLOCKED_TRIES = 2
PASS_TRIES = 2
NODE_REQUESTS = 8  # per node, for which backend answers
# curl exit codes after which a TCP connection was open: an answer, or a server that spoke
# no HTTP (the DNS server on TCP 53 closes an HTTP request without a reply).
CONNECTED = {0, 1, 8, 52, 56}
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
DNS_NAMESPACE = "kube-system"


# -- shared helpers --------------------------------------------------------------------------
def _labels(spec: dict, key: str = "from_labels") -> dict:
    return parse_selector(spec[key]) if spec.get(key) else {}


def _namespace_labels(ctx: GradingContext, ns: str) -> dict:
    namespace = ctx._cached(("namespace", ns), lambda: ctx.cluster.get("Namespace", None, ns)) or {}
    return (namespace.get("metadata") or {}).get("labels") or {}


def _virtual_peer(ctx: GradingContext, ns: str, labels: dict) -> netpol.Peer:
    return netpol.Peer(ns, dict(labels), {netpol.NAMESPACE_NAME_LABEL: ns} | _namespace_labels(ctx, ns))


def _peer(ctx: GradingContext, pod: dict) -> netpol.Peer:
    return netpol.Peer.of_pod(pod, _namespace_labels(ctx, pod["metadata"]["namespace"]))


def _policies(ctx: GradingContext, *namespaces: str) -> list[dict]:
    return [p for ns in dict.fromkeys(namespaces) for p in ctx.list("NetworkPolicy", ns)]


def _client_words(placement: Placement | None, ns: str) -> str:
    where = placement.describe() if placement else "unplaced"
    return f"a Pod in {ns}" + ("" if where == "unplaced" else f" {where}")


def _node_of(pod: dict) -> str:
    return (pod.get("spec") or {}).get("nodeName") or "?"


def _ready_backends(ctx: GradingContext, service: dict) -> list[dict]:
    """The live Pods behind the Service's ready endpoints."""
    ns, name = service["metadata"]["namespace"], service["metadata"]["name"]
    by_name = {p["metadata"]["name"]: p for p in live_pods(ctx, ns)}
    found = {}
    for item in ctx.list("EndpointSlice", ns, f"kubernetes.io/service-name={name}"):
        if not item.get("ports") and service["spec"].get("ports"):
            continue
        for endpoint in item.get("endpoints") or []:
            conditions = endpoint.get("conditions") or {}
            if conditions.get("ready") is False or conditions.get("terminating"):
                continue
            pod = by_name.get((endpoint.get("targetRef") or {}).get("name"))
            if pod is not None:
                found[pod["metadata"]["name"]] = pod
    return [found[n] for n in sorted(found)]


def _target_port(service: dict, entry: dict, pod: dict) -> int | None:
    target = entry.get("targetPort", entry["port"])
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    peer = netpol.Peer.of_pod(pod)
    return peer.named_ports.get((target, entry.get("protocol") or "TCP"))


def _require_port(service: dict, port) -> dict:
    entry = find_service_port(service, port=port)
    if entry is None:
        listing = ", ".join(port_label(p) for p in service["spec"].get("ports") or []) or "none"
        raise Fail(
            f"Service {service['metadata']['name']} has port {port}",
            f"no such port (its ports: {listing})",
            "The task names this port, and clients use it.",
        )
    return entry


def _host(ctx: GradingContext, service: dict, via: str, source_ns: str) -> str:
    name, ns = service["metadata"]["name"], service["metadata"]["namespace"]
    if via == "short":
        return name
    if via == "namespaced":
        return f"{name}.{ns}"
    if via == "fqdn":
        return f"{name}.{ns}.svc.{ctx.cluster_domain(source_ns)}"
    return service["spec"].get("clusterIP") or "None"


def _placements(ctx: GradingContext, spec: dict) -> list[Placement | None]:
    labels = _labels(spec)
    if spec.get("from_each_node"):
        nodes = [n["metadata"]["name"] for n in ctx.nodes()]
        if not nodes:
            raise Fail(
                "a client on each node",
                "no node a Pod can be placed on",
                "Every node is cordoned or tainted NoSchedule.",
            )
        return [Placement.of(labels, n) for n in nodes]
    return [Placement.of(labels)] if labels else [None]


def _dns_server(ctx: GradingContext, ns: str, placement: Placement | None) -> str:
    argv = ["cat", "/etc/resolv.conf"]
    done = ctx.exec_in_probe(argv, ns, placement=placement) if placement else ctx.exec_in_probe(argv, ns)
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            return fields[1]
    raise Fail("the cluster DNS server's address", "no nameserver in the probe pod's resolv.conf")


# -- traffic probes ------------------------------------------------------------------------------
@check_kind("traffic_probe", settles=True)
def traffic_probe(ctx: GradingContext, spec: dict) -> Outcome:
    """A connection from a client placed as the task says (labels, namespace, node) must pass, or
    must be refused, as the NetworkPolicies decide it.

    The target is a Service (`service`, `port`, `via`), a Pod's IP (`pod`, `port`), or the
    cluster DNS server over TCP port 53 (`cluster_dns: true`). A refusal is judged only against
    a target that answers someone: a Service with ready endpoints, a Ready Pod.
    """
    source_ns = spec.get("from_namespace") or ctx.namespace
    target_ns = spec.get("namespace") or ctx.namespace
    expect = spec["expect"]
    placements = _placements(ctx, spec)
    service = pod = None
    if spec.get("cluster_dns"):
        what = "the cluster DNS server over TCP port 53"
    elif spec.get("service"):
        service = ctx.require_service(spec["service"], target_ns)
        _require_port(service, spec["port"])
        what = f"Service {service['metadata']['name']} on port {spec['port']}"
        if expect == "blocked" and not _ready_backends(ctx, service):
            raise Fail(
                f"{what} refuses the client",
                f"Service {spec['service']} has no ready endpoints",
                "A refusal proves nothing while nothing could answer: the Service's Pods must be Ready and selected.",
            )
    else:
        pod = ctx.get("Pod", spec["pod"], target_ns)
        what = f"Pod {spec['pod']} on port {spec['port']}"
        if pod is None or not pod_is_ready(pod):
            raise Fail(
                f"{what} is reachable as the task says",
                f"Pod {spec['pod']} is missing or not Ready",
                "The Pod must run and be Ready before its traffic can be judged.",
            )
    backends = set()
    if spec.get("backends"):
        wanted = parse_selector(spec["backends"])
        backends = {
            p["metadata"]["name"]
            for p in live_pods(ctx, target_ns)
            if all(labels_of(p).get(k) == v for k, v in wanted.items())
        }
    clients = " and ".join(_client_words(p, source_ns) for p in placements)
    if expect == "pass":
        expected = f"{clients} {'each ' if len(placements) > 1 else ''}reaches {what}"
    else:
        expected = f"{clients} gets no answer from {what} ({BLOCKED_TRIES} tries, {BLOCKED_TIMEOUT_S} s each)"
    problems, seen = [], []
    for placement in placements:
        url = _url(ctx, spec, service, pod, source_ns, placement)
        answered, result = _try(ctx, url, source_ns, placement, expect, backends, bool(spec.get("cluster_dns")))
        where = _client_words(placement, source_ns)
        if expect == "pass" and not answered:
            problems.append((placement, f"from {where}: {url}: {_cause(result)}", result))
        elif expect == "blocked" and answered:
            by = f" by {result.answered_by}" if result.answered_by and not spec.get("cluster_dns") else ""
            problems.append((placement, f"from {where}: {url} was answered{by}", result))
        else:
            seen.append(f"{where}: {_cause(result) if expect == 'blocked' else 'answered'}")
    if problems:
        found = "; ".join(p[1] for p in problems)
        raise Fail(expected, found, _why(ctx, spec, expect, service, pod, source_ns, problems[0]))
    return Outcome(expected, "; ".join(seen))


def _url(ctx, spec, service, pod, source_ns, placement) -> str:
    if spec.get("cluster_dns"):
        return f"http://{_dns_server(ctx, source_ns, placement)}:53/"
    if service is not None:
        via = spec.get("via") or "short"
        return f"http://{_host(ctx, service, via, source_ns)}:{spec['port']}/"
    return f"http://{(pod.get('status') or {}).get('podIP')}:{spec['port']}/"


def _try(ctx, url, ns, placement, expect, backends, connect_only):
    """(answered, the last result): a must-pass connection is tried until it is answered, a
    must-fail one every time, stopping at the first answer."""
    tries = PASS_TRIES if expect == "pass" else BLOCKED_TRIES
    timeout = None if expect == "pass" else BLOCKED_TIMEOUT_S
    result = None
    for _ in range(tries):
        kwargs = {"placement": placement} if placement is not None else {}
        if timeout is not None:
            kwargs["timeout_s"] = timeout
        result = ctx.curl_many([url], ns, **kwargs)[0]
        if connect_only:
            # Connected, then no HTTP reply in time (a DNS server reads the request as a query
            # and waits for the rest): curl says "Operation timed out", not "Connection timed out".
            late = result.exit_code == 28 and "operation timed out" in (result.stderr or "").lower()
            answered = result.exit_code in CONNECTED or late
        else:
            answered = result.exit_code == 0 and (not backends or expect == "blocked" or result.answered_by in backends)
        if answered:
            return True, result
    return False, result


def _cause(result) -> str:
    if result.exit_code == 0 and result.answered_by:
        return f"answered by {result.answered_by}, not a backend Pod"
    if result.exit_code == 28 and "resolv" not in (result.stderr or "").lower():
        return "no answer: timed out (curl exit 28)"
    return result.cause


def _why(ctx, spec, expect, service, pod, source_ns, problem) -> str:
    placement, _, result = problem
    labels = dict(placement.labels) if placement else {}
    client = _virtual_peer(ctx, source_ns, labels)
    shown = selector_string(labels) if labels else "no labels of the task's"
    if spec.get("cluster_dns"):
        return _why_dns(ctx, client, shown, expect, "TCP")
    if result is not None and (result.exit_code == 6 or "resolv" in (result.stderr or "").lower()):
        dns = _why_dns(ctx, client, shown, "pass", "UDP")
        return dns or "The Service's name did not resolve: check its name and namespace."
    targets = [pod] if pod is not None else _ready_backends(ctx, service)
    if not targets:
        return "The Service has no ready endpoints."
    destination = targets[0]
    if service is not None:
        port = _target_port(service, _require_port(service, spec["port"]), destination) or spec["port"]
    else:
        port = int(spec["port"])
    policies = _policies(ctx, source_ns, destination["metadata"]["namespace"])
    out = netpol.egress(policies, client, _peer(ctx, destination), int(port))
    into = netpol.ingress(policies, client, _peer(ctx, destination), int(port))
    name = destination["metadata"]["name"]
    hop = (
        (f"Policies judge the connection after kube-proxy has sent it to a Pod: {name}, port {port}.")
        if service is not None
        else ""
    )
    if expect == "pass":
        if not out.allowed:
            return (
                f"The client ({shown}) is selected for egress by {', '.join(out.isolating)}, and no "
                f"egress rule allows it to {name} on port {port}. {hop}"
            ).strip()
        if not into.allowed:
            return (
                f"{name} is selected for ingress by {', '.join(into.isolating)}, and no ingress rule "
                f"allows a client labelled {shown} on port {port}. {hop}"
            ).strip()
        diagnosis = service_diagnosis(ctx, service, [result]) if service is not None and result is not None else ""
        return diagnosis or f"The policies allow this connection, yet it failed: {_cause(result)}."
    reasons = []
    if out.isolating:  # the client's own egress policies let it out: they are what to narrow
        reasons.append(
            f"its egress to {name} on port {port} is allowed by {', '.join(out.allowing)}"
            + _too_wide(policies, out.allowing, "egress")
        )
    if into.isolating:
        reasons.append(
            f"ingress to {name} is allowed by {', '.join(into.allowing)}"
            + _too_wide(policies, into.allowing, "ingress")
        )
    elif not out.isolating:
        reasons.append(f"no NetworkPolicy selects the client for egress, nor {name} for ingress")
    else:
        reasons.append(f"no NetworkPolicy selects {name} for ingress")
    text = "; ".join(reasons)
    return (f"A client labelled {shown} must not get through, but {text}. {hop}").strip()


def _too_wide(policies: list[dict], names, key: str) -> str:
    peers_key = "from" if key == "ingress" else "to"
    for policy in policies:
        if policy["metadata"]["name"] not in names:
            continue
        for rule in (policy.get("spec") or {}).get(key) or []:
            peers = (rule or {}).get(peers_key)
            if not peers:
                return f" ({policy['metadata']['name']} has a rule with no {peers_key!r}: it allows every source)"
            if any(p == {"podSelector": {}} or p == {"namespaceSelector": {}} for p in peers):
                return f" ({policy['metadata']['name']} has a rule whose selector is empty: it picks every Pod)"
    return ""


def _why_dns(ctx, client: netpol.Peer, shown: str, expect: str, protocol: str) -> str:
    policies = _policies(ctx, client.namespace)
    dns_pod = _dns_peer(ctx)
    verdict = netpol.egress(policies, client, dns_pod, 53, protocol)
    effect = (
        "every name lookup goes unanswered"
        if protocol == "UDP"
        else "a lookup whose answer is too large for UDP, retried over TCP, goes unanswered"
    )
    if expect == "pass" and not verdict.allowed:
        return (
            f"The client ({shown}) is selected for egress by {', '.join(verdict.isolating)}, and no "
            f"rule allows {protocol} port 53 to the cluster DNS Pods ({selector_string(DNS_POD_LABELS)} "
            f"in {DNS_NAMESPACE}): {effect}."
        )
    if expect == "pass":
        return ""
    return f"Egress to the DNS server over {protocol} is allowed, and the task says it must not be."


def _dns_peer(ctx: GradingContext) -> netpol.Peer:
    return netpol.Peer(
        DNS_NAMESPACE,
        dict(DNS_POD_LABELS),
        {netpol.NAMESPACE_NAME_LABEL: DNS_NAMESPACE},
        named_ports={("dns", "UDP"): 53, ("dns-tcp", "TCP"): 53, ("metrics", "TCP"): 9153},
    )


# -- the policy objects ---------------------------------------------------------------------------
@check_kind("policy_allows_port")
def policy_allows_port(ctx: GradingContext, spec: dict) -> Outcome:
    """A NetworkPolicy lets the clients into the backend Pods on the Pods' own port (the
    Service's targetPort, by number or by the container port's name), not the Service's port."""
    ns = spec.get("namespace") or ctx.namespace
    source_ns = spec.get("from_namespace") or ns
    protocol = spec.get("protocol") or "TCP"
    port, service_port = int(spec["port"]), int(spec["service_port"])
    labels = _labels(spec)
    wanted = parse_selector(spec["backends"])
    pods = [p for p in live_pods(ctx, ns) if all(labels_of(p).get(k) == v for k, v in wanted.items())]
    expected = (
        f"an ingress rule lets Pods labelled {spec['from_labels']} into the {spec['backends']} Pods "
        f"on port {port} (the Pods' port)"
    )
    if not pods:
        raise Fail(expected, f"no Pod labelled {spec['backends']}", "The backend Pods must exist to be judged.")
    client = _virtual_peer(ctx, source_ns, labels)
    backend = _peer(ctx, pods[0])
    policies = _policies(ctx, ns, source_ns)
    verdict = netpol.ingress(policies, client, backend, port, protocol)
    if verdict.isolating and verdict.allowing:
        return Outcome(expected, f"allowed by {', '.join(verdict.allowing)}")
    if not verdict.isolating:
        raise Fail(
            expected,
            f"no NetworkPolicy selects the {spec['backends']} Pods for ingress",
            "Without a policy that selects them the Pods take traffic from everyone; the task "
            "keeps them isolated and lets only the named clients in.",
        )
    on_service_port = netpol.ingress(policies, client, backend, service_port, protocol)
    if port != service_port and on_service_port.allowing:
        raise Fail(
            expected,
            f"{', '.join(on_service_port.allowing)} allows port {service_port}, the Service's port",
            f"A policy sees the connection after kube-proxy has translated the Service's address and "
            f"port {service_port} to a Pod and its port {port}: the rule must name {port} (the "
            f"targetPort), or the container port's name.",
        )
    raise Fail(
        expected,
        f"no rule of {', '.join(verdict.isolating)} allows it",
        f"Add an ingress rule from Pods labelled {spec['from_labels']} on port {port}.",
    )


@check_kind("dns_egress_allowed")
def dns_egress_allowed(ctx: GradingContext, spec: dict) -> Outcome:
    """The client's egress policies allow DNS to the cluster DNS Pods, over UDP and TCP port
    53, and to no other Pod."""
    ns = spec.get("namespace") or ctx.namespace
    shown = spec["client"]
    client = _virtual_peer(ctx, ns, parse_selector(shown))
    policies = _policies(ctx, ns)
    expected = (
        f"Pods labelled {shown} may send DNS (UDP and TCP 53) to the cluster DNS Pods "
        f"({selector_string(DNS_POD_LABELS)} in {DNS_NAMESPACE}) and to no other Pod"
    )
    dns = _dns_peer(ctx)
    udp = netpol.egress(policies, client, dns, 53, "UDP")
    tcp = netpol.egress(policies, client, dns, 53, "TCP")
    if not udp.isolating:
        raise Fail(
            expected,
            f"no NetworkPolicy selects the Pods labelled {shown} for egress",
            "The client's egress must stay restricted; add DNS to its policy rather than removing the policy.",
        )
    strangers = [
        netpol.Peer(ns, {"ckaprep.io/any": "pod"}, {netpol.NAMESPACE_NAME_LABEL: ns}),
        netpol.Peer(DNS_NAMESPACE, {"k8s-app": "not-dns"}, {netpol.NAMESPACE_NAME_LABEL: DNS_NAMESPACE}),
        netpol.Peer("ckaprep-elsewhere", {"k8s-app": "kube-dns"}, {netpol.NAMESPACE_NAME_LABEL: "ckaprep-elsewhere"}),
    ]
    for stranger, words in zip(
        strangers,
        (
            "a Pod in its own namespace",
            f"another Pod in {DNS_NAMESPACE}",
            f"a Pod labelled {selector_string(DNS_POD_LABELS)} in another namespace",
        ),
    ):
        for protocol in ("UDP", "TCP"):
            wide = netpol.egress(policies, client, stranger, 53, protocol)
            if wide.allowing:
                raise Fail(
                    expected,
                    f"port 53 ({protocol}) is open to {words} too (by {', '.join(wide.allowing)})",
                    "The rule allows DNS to more than the cluster DNS Pods: name them with a "
                    f"namespaceSelector ({netpol.NAMESPACE_NAME_LABEL}: {DNS_NAMESPACE}) and a "
                    f"podSelector ({selector_string(DNS_POD_LABELS)}) in the same `to` entry.",
                )
    if udp.allowing and tcp.allowing:
        return Outcome(expected, f"UDP by {', '.join(udp.allowing)}, TCP by {', '.join(tcp.allowing)}")
    if udp.allowing:
        raise Fail(
            expected,
            "UDP 53 allowed, TCP 53 not",
            "DNS also runs over TCP: an answer too large for UDP comes back truncated and is asked "
            "again over TCP. Allow port 53 with protocol TCP as well.",
        )
    if tcp.allowing:
        raise Fail(
            expected,
            "TCP 53 allowed, UDP 53 not",
            "A port without a protocol means TCP, but lookups go over UDP first: add port 53 with protocol UDP.",
        )
    raise Fail(
        expected,
        "neither UDP nor TCP port 53 is allowed to the cluster DNS Pods",
        f"The egress policies ({', '.join(udp.isolating)}) allow no DNS, so no name resolves.",
    )


# -- which backend answers, per node ----------------------------------------------------------
@check_kind("node_traffic", settles=True)
def node_traffic(ctx: GradingContext, spec: dict) -> Outcome:
    """From a client on each node, which backend answers: only one on the client's node
    (`local`; a node without one gets no answer, which fails), one on the client's node
    whenever there is one and any other when there is none (`prefer-local`), or any, as long
    as every node is answered (`answered`)."""
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    ns = service["metadata"]["namespace"]
    port = spec["port"]
    _require_port(service, port)
    count = int(spec.get("requests", NODE_REQUESTS))
    expect = spec["expect"]
    nodes = [n["metadata"]["name"] for n in ctx.nodes()]
    expected = {
        "local": "from a client on every node, every answer comes from a backend on that node",
        "prefer-local": "from a client on every node, answers come from a backend on that node when "
        "it has one, and from another node's backend when it has none",
        "answered": "a client on every node is answered by a backend, wherever it runs",
    }[expect]
    if len(nodes) < 2:
        raise Fail(
            expected, f"{len(nodes)} node(s) Pods can be placed on", "This needs a cluster with two schedulable nodes."
        )
    backends = _ready_backends(ctx, service)
    if not backends:
        raise Fail(
            expected,
            f"Service {spec['service']} has no ready endpoints",
            "Its Pods must be Ready and selected before traffic can be judged.",
        )
    where = {p["metadata"]["name"]: _node_of(p) for p in backends}
    url = f"http://{service['spec'].get('clusterIP')}:{port}/"
    found, problems = [], []
    for node in nodes:
        local = sorted(n for n, at in where.items() if at == node)
        results = ctx.curl_many([url] * count, ns, placement=Placement.of({}, node))
        answers = Counter(r.answered_by for r in results if r.exit_code == 0)
        failed = [r for r in results if r.exit_code != 0]
        remote = {pod: n for pod, n in answers.items() if where.get(pod, "?") != node}
        shown = ", ".join(f"{pod} on {where.get(pod, 'an unknown node')} ({n})" for pod, n in answers.most_common())
        line = f"{node}: " + (shown or "no answer") + (f"; {len(failed)} failed ({failed[0].cause})" if failed else "")
        found.append(line)
        if expect == "answered":
            if failed or not answers:
                problems.append(
                    f"{node}: {len(failed)} of {count} request(s) got no answer"
                    + ("" if local else f", and {node} runs no backend of {spec['service']}")
                )
            continue
        if local and (remote or failed):
            problems.append(
                f"{node} has {len(local)} local backend(s), yet "
                + (
                    f"{sum(remote.values())} of {count} answers came from another node"
                    if remote
                    else f"{len(failed)} request(s) failed"
                )
            )
        elif not local and expect == "local":
            problems.append(
                f"{node} runs no backend of {spec['service']}, so its clients "
                + ("are answered from another node" if answers else "get no answer")
            )
        elif not local and (failed or not answers):
            problems.append(f"{node} runs no backend, and its clients got no answer ({len(failed)} of {count} failed)")
    if problems:
        raise Fail(expected, "; ".join(found), _why_node(service, expect, problems))
    return Outcome(expected, "; ".join(found))


def _why_node(service: dict, expect: str, problems: list[str]) -> str:
    spec = service["spec"]
    itp = spec.get("internalTrafficPolicy") or "Cluster"
    dist = spec.get("trafficDistribution")
    first = problems[0]
    said = f"internalTrafficPolicy: {itp}" + (f", trafficDistribution: {dist}" if dist else "")
    if "answers came from another node" in first:
        return (
            f"{first}. The Service has {said}: kube-proxy spreads each client's connections over "
            "endpoints on every node."
        )
    if "get no answer" in first or "got no answer" in first or "request(s) got no answer" in first:
        if itp == "Local":
            return (
                f"{first}. With internalTrafficPolicy: Local, kube-proxy sends a client's traffic only "
                "to endpoints on the client's own node and turns it away when there is none; it never "
                "falls back to another node."
                + (" A preference (trafficDistribution) falls back." if expect == "prefer-local" else "")
            )
        return f"{first}. The Service has {said}."
    if "answered from another node" in first:
        return (
            f"{first}: every node needs a Ready backend of its own (with Local the traffic would be "
            "turned away instead)."
        )
    return f"{first}. The Service has {said}."


@check_kind("traffic_field")
def traffic_field(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service's internalTrafficPolicy or trafficDistribution holds the value the task names."""
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    field, want = spec["field"], str(spec["value"])
    got = service["spec"].get(field) or ("Cluster" if field == "internalTrafficPolicy" else None)
    expected = f"spec.{field}: {want}"
    found = f"spec.{field}: {got if got is not None else 'unset'}"
    if got == want:
        return Outcome(expected, found)
    other = service["spec"]
    if field == "trafficDistribution" and got == "PreferClose":
        why = f"PreferClose is the older name of PreferSameZone (same zone, not same node); the task asks for {want}."
    elif field == "trafficDistribution" and other.get("internalTrafficPolicy") == "Local":
        why = (
            "internalTrafficPolicy: Local is no preference: it turns away traffic from a node without a "
            f"local backend. trafficDistribution: {want} prefers close backends and falls back."
        )
    elif field == "internalTrafficPolicy" and other.get("externalTrafficPolicy") == "Local":
        why = (
            "externalTrafficPolicy governs traffic from outside the cluster (NodePort, LoadBalancer); "
            "clients inside the cluster follow internalTrafficPolicy."
        )
    elif field == "internalTrafficPolicy" and other.get("trafficDistribution"):
        why = (
            f"trafficDistribution: {other['trafficDistribution']} is a preference that falls back to "
            "other nodes; the task asks for internalTrafficPolicy, which never does."
        )
    else:
        why = f"Set spec.{field}: {want} on Service {spec['service']}."
    raise Fail(expected, found, why)


# -- where a Pod runs ---------------------------------------------------------------------------
@check_kind("node_answer")
def node_answer(ctx: GradingContext, spec: dict) -> Outcome:
    """A ConfigMap key holds the name of the node the selected Pods run on (several nodes:
    their names, separated by commas or spaces, in any order)."""
    ns = spec.get("namespace") or ctx.namespace
    wanted = parse_selector(spec["pods"])
    pods = [
        p
        for p in live_pods(ctx, spec.get("pods_namespace") or ns)
        if all(labels_of(p).get(k) == v for k, v in wanted.items())
    ]
    nodes = sorted({_node_of(p) for p in pods})
    expected = f"{spec['key']} = the node the {spec['pods']} Pods run on ({', '.join(nodes) or 'none'})"
    if not pods:
        raise Fail(expected, f"no Pod labelled {spec['pods']}", "The Pods must exist to be judged.")
    cm = ctx.get("ConfigMap", spec["configmap"], ns)
    if cm is None:
        raise Fail(expected, f"no ConfigMap {spec['configmap']!r} in {ns}")
    value = (cm.get("data") or {}).get(spec["key"])
    if value is None:
        keys = ", ".join(sorted(cm.get("data") or {})) or "none"
        raise Fail(expected, f"no key {spec['key']!r} (keys: {keys})")
    given = sorted({v for v in value.replace(",", " ").split() if v})
    if given == nodes:
        return Outcome(expected, repr(value.strip()))
    everything = [p for p in live_pods(ctx, spec.get("pods_namespace") or ns)]
    names = {p["metadata"]["name"]: p for p in everything}
    ips = {(p.get("status") or {}).get("podIP"): p for p in everything}
    all_nodes = {n["metadata"]["name"] for n in ctx.nodes_if_readable() or []}
    if any(v in names for v in given):
        why = "That is a Pod's name; the task asks for the node it runs on (NODE in kubectl get pods -o wide)."
    elif any(v in ips for v in given):
        why = "That is a Pod's IP address; the task asks for the name of its node (kubectl get pods -o wide)."
    elif set(given) & all_nodes:
        why = (
            f"That node does not run the {spec['pods']} Pods: they run on {', '.join(nodes)} "
            "(kubectl get pods -o wide, column NODE)."
        )
    else:
        why = "That is no node of this cluster: read the NODE column of kubectl get pods -o wide."
    raise Fail(expected, repr(value.strip()), why)


# -- advice for http_probe ------------------------------------------------------------------------
def network_advice(ctx: GradingContext, service: dict, failed, source_ns: str) -> str:
    """Why a plain probe's request timed out, when NetworkPolicy or internalTrafficPolicy say:
    its DNS lookup blocked by an egress policy, a policy keeping it out of the Pods or in its
    own namespace, or Local with no endpoint on its node. "" when neither explains it."""
    from ckaprep.cluster.labels import OWNER_LABEL, OWNER_VALUE, PROBE_ROLE, ROLE_LABEL

    probe_labels = {OWNER_LABEL: OWNER_VALUE, ROLE_LABEL: PROBE_ROLE}
    client = _virtual_peer(ctx, source_ns, probe_labels)
    if any(r.exit_code == 6 or "resolv" in (r.stderr or "").lower() for r in failed):
        return _why_dns(ctx, client, f"any Pod of {source_ns}", "pass", "UDP")
    if not any(r.exit_code in (7, 28) for r in failed):  # a policy rejects it (some plugins) or drops it
        return ""
    backends = _ready_backends(ctx, service)
    if not backends:
        return ""
    entry = next(iter(service["spec"].get("ports") or []), None)
    if entry is None:
        return ""
    port = _target_port(service, entry, backends[0]) or entry["port"]
    policies = _policies(ctx, source_ns, backends[0]["metadata"]["namespace"])
    name = backends[0]["metadata"]["name"]
    out = netpol.egress(policies, client, _peer(ctx, backends[0]), int(port))
    if not out.allowed:
        return (
            f"NetworkPolicy {', '.join(out.isolating)} in {source_ns} limits the Pods' egress, and no rule "
            f"lets them reach {name} on port {port} (the Pods' port, after kube-proxy)."
        )
    into = netpol.ingress(policies, client, _peer(ctx, backends[0]), int(port))
    if not into.allowed:
        on_service_port = netpol.ingress(policies, client, _peer(ctx, backends[0]), int(entry["port"]))
        said = (
            (
                f" {', '.join(on_service_port.allowing)} names port {entry['port']}, the Service's port; a policy "
                f"sees the Pods' port {port}."
            )
            if on_service_port.allowing and entry["port"] != port
            else ""
        )
        return (
            f"NetworkPolicy {', '.join(into.isolating)} selects {name} for ingress, and no rule lets this "
            f"client in on port {port}.{said}"
        )
    nodes_with = {_node_of(p) for p in backends}
    bare = [n["metadata"]["name"] for n in ctx.nodes_if_readable() or [] if n["metadata"]["name"] not in nodes_with]
    if service["spec"].get("internalTrafficPolicy") == "Local" and bare:
        nodes = sorted({_node_of(p) for p in backends})
        return (
            f"Service {service['metadata']['name']} has internalTrafficPolicy: Local, and its ready Pods run "
            f"only on {', '.join(nodes)}: a client on another node has no local endpoint, and kube-proxy "
            "turns its traffic away (refused or dropped) instead of sending it to another node."
        )
    return ""


PROBE_ADVISORS.append(network_advice)
