"""Check kinds that send HTTP requests from a probe pod through a Service."""

from __future__ import annotations

import re

from ckaprep.catalogue.templating import env_name
from ckaprep.cluster.labels import matches, parse_selector, selector_string
from ckaprep.cluster.waiting import pod_is_ready
from ckaprep.grading.checks.base import (
    PROBE_ADVISORS,
    Outcome,
    backend_pods,
    check_kind,
    container_port_named,
    find_service_port,
    identity_labels,
    labels_of,
    live_pods,
    pinning_labels,
    port_label,
    protocol_mismatch,
    why_pinned,
)
from ckaprep.grading.checks.endpoints import manual_endpoint_sets
from ckaprep.grading.context import Fail, GradingContext, Placement

# How a report says what each `via` asked for, in the learner's words.
PROBE_VIA_WORDS = {
    "short": "by the Service's short name",
    "namespaced": "by <service>.<namespace>",
    "fqdn": "by the Service's full DNS name",
    "clusterip": "by the ClusterIP",
    "env": "through the Service's environment variables",
    "configmap": "through the URL in the ConfigMap",
}


def _probe_hosts(ctx: GradingContext, spec: dict, service: dict) -> str:
    name, ns = service["metadata"]["name"], service["metadata"]["namespace"]
    via = spec["via"]
    if via == "short":
        return name
    if via == "namespaced":
        return f"{name}.{ns}"
    if via == "fqdn":
        return f"{name}.{ns}.svc.{ctx.cluster_domain(spec.get('from_namespace'))}"
    if via == "clusterip":
        return service["spec"]["clusterIP"]
    raise ValueError(via)


def _port_entries(service: dict, wanted: list | None) -> list[dict]:
    ports = service["spec"].get("ports") or []
    if not wanted:
        return ports
    chosen = []
    for item in wanted:
        entry = (
            find_service_port(service, name=item) if isinstance(item, str) else (find_service_port(service, port=item))
        )
        if entry is None:
            listing = ", ".join(port_label(p) for p in ports) or "none"
            raise Fail(
                f"the Service answers on port {item!r}",
                f"no such port on the Service (its ports: {listing})",
                "The task names this port, and clients use it.",
            )
        chosen.append(entry)
    return chosen


def _network_advice(ctx: GradingContext, service: dict, failed, source_ns: str) -> str:
    """NetworkPolicy and internalTrafficPolicy (ckaprep.grading.checks.placement adds it)."""
    return next((text for advise in PROBE_ADVISORS if (text := advise(ctx, service, failed, source_ns))), "")


def _judge_probe(result, backends: set[str], expect_body: str | None) -> str | None:
    """None when the answer is right, else the reason it is not."""
    if result.exit_code != 0:
        return f"{result.url}: {result.cause}"
    if result.http_status != 200:
        return f"{result.url}: HTTP {result.http_status}"
    if backends and result.answered_by not in backends:
        return f"{result.url}: answered by {result.answered_by or 'an empty page'!r}, not a backend pod"
    if expect_body is not None and expect_body not in result.body:
        reply = " ".join(result.body.split())[:60]
        return (
            f"{result.url}: reached the wrong port of {result.answered_by} (reply {reply!r}, expected {expect_body!r})"
        )
    return None


@check_kind("http_probe", settles=True)
def http_probe(ctx: GradingContext, spec: dict) -> Outcome:
    """curl from a probe pod reaches a backend through the Service.

    With `via: configmap`, `holds` says what the task puts under the key: a URL (the default)
    or an address alone, which the client uses as http://<address>:<port>.
    """
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    source_ns = spec.get("from_namespace") or ctx.namespace
    if spec.get("expect") == "dns-failure":
        return _expect_dns_failure(ctx, spec, service, source_ns)
    urls = _probe_urls(ctx, spec, service, source_ns)
    backends = {p["metadata"]["name"] for p in backend_pods(ctx, spec)} if spec.get("backends") else set()
    # Repeats spread requests over the endpoints, catching backends that only some pods serve.
    urls = urls * int(spec.get("repeat", 1))
    # A client on every node (ckaprep.grading.checks.placement); with one node, or credentials that
    # may not list Nodes, one plain client asks the same question.
    nodes = [n["metadata"]["name"] for n in ctx.nodes_if_readable() or []] if spec.get("from_each_node") else []
    if len(nodes) > 1:
        results, verdicts = [], []
        for node in nodes:
            batch = ctx.curl_many(urls, source_ns, placement=Placement.of({}, node))
            results += batch
            verdicts += [
                f"from node {node}: {v}" if v else None
                for v in (_judge_probe(r, backends, spec.get("expect_body")) for r in batch)
            ]
    else:
        results = ctx.curl_many(urls, source_ns)
        verdicts = [_judge_probe(r, backends, spec.get("expect_body")) for r in results]
    problems = list(dict.fromkeys(v for v in verdicts if v))
    if problems and len(results) > 1:
        problems.insert(0, f"{sum(map(bool, verdicts))} of {len(results)} requests failed")
    expected = f"HTTP 200 from a backend, {_via_words(spec, service)}" + (
        f", from namespace {source_ns}" if spec.get("from_namespace") else ""
    )
    if spec.get("expect_body"):
        expected += f", page containing {spec['expect_body']!r}"
    if spec.get("through_selector"):
        expected += ", through the Service's selector"
    if problems:
        failed = [r for r, v in zip(results, verdicts) if v]
        advice = (
            _recorded_address_advice(spec, service, failed)
            or _external_name_advice(failed, service)
            or _network_advice(ctx, service, failed, source_ns)
            or _dns_cache_advice(ctx, failed, service, source_ns)
            or _service_port_advice(failed, service)
            or service_diagnosis(ctx, service, failed)
            or _probe_advice(failed, backends)
        )
        raise Fail(expected, "; ".join(problems), advice)
    answered = ", ".join(sorted({f"{r.url} → {r.answered_by}" for r in results}))
    selector = (service.get("spec") or {}).get("selector") or {}
    name = service["metadata"]["name"]
    if spec.get("through_selector") and not selector:
        # It answers today, from endpoints someone wrote; the next Pod replacement breaks it.
        raise Fail(
            expected,
            f"{answered}, but Service {name} has no selector",
            f"Its endpoints were written by hand: they go stale as soon as the Pods are replaced. "
            f"Give Service {name} a selector that picks the Pods, and let the control plane keep "
            "the endpoints.",
        )
    asked = parse_selector(spec.get("backends") or "")
    pinned = pinning_labels(selector, asked) if spec.get("through_selector") else []
    if pinned:
        # It answers today, from the Pods of one ReplicaSet (or one Pod); the next rollout breaks it.
        key, value = pinned[0]
        raise Fail(
            expected,
            f"{answered}, but Service {name}'s selector names {key}={value}",
            why_pinned(
                ctx,
                pinned[0],
                backend_pods(ctx, spec) if spec.get("backends") else [],
                service["metadata"]["namespace"],
            ),
        )
    return Outcome(expected, answered)


def _configmap_port(spec: dict, service: dict) -> int:
    """The port a client adds to an address it reads: the one the task names."""
    wanted = [p for p in spec.get("ports") or [] if isinstance(p, int)]
    return wanted[0] if wanted else (service["spec"].get("ports") or [{}])[0].get("port", 80)


def _via_words(spec: dict, service: dict) -> str:
    """How the report says what the probe asked for, in the task's words."""
    if spec["via"] == "configmap" and spec.get("holds") == "address":
        key = spec["key"]
        return (
            f"for curl http://<{key}>:{_configmap_port(spec, service)}, {key} being the address "
            f"in ConfigMap {spec['configmap']}"
        )
    return PROBE_VIA_WORDS[spec["via"]]


def _probe_urls(ctx: GradingContext, spec: dict, service: dict, source_ns: str) -> list[str]:
    via = spec["via"]
    if via == "configmap":
        cm = ctx.get("ConfigMap", spec["configmap"], source_ns)
        value = ((cm or {}).get("data") or {}).get(spec["key"])
        if not value:
            what = (
                (f"the address of Service {service['metadata']['name']} (just the address, no port and no scheme)")
                if spec.get("holds") == "address"
                else "a URL"
            )
            raise Fail(
                f"ConfigMap {spec['configmap']} key {spec['key']!r} holds {what}",
                "ConfigMap missing" if cm is None else f"key {spec['key']!r} missing or empty",
            )
        value = value.strip()
        if "://" not in value:  # a bare address: use the port the task names
            port = _configmap_port(spec, service)
            value = f"http://{value if ':' in value else f'{value}:{port}'}/"
        return [value]
    ports = _port_entries(service, spec.get("ports"))
    if via == "env":
        return _env_urls(ctx, service, ports, source_ns)
    host = _probe_hosts(ctx, spec, service)
    return [f"http://{host}:{p['port']}/" for p in ports]


def _env_urls(ctx: GradingContext, service: dict, ports: list[dict], source_ns: str) -> list[str]:
    env = ctx.probe_env(service, source_ns)
    prefix = env_name(service["metadata"]["name"])
    host = env.get(f"{prefix}_SERVICE_HOST")
    if not host:
        raise Fail(
            f"{prefix}_SERVICE_HOST in a pod started after the Service",
            "variable not set",
            "Service links are injected only for Services in the pod's own namespace.",
        )
    urls = []
    for entry in ports:
        key = f"{prefix}_SERVICE_PORT" + (f"_{env_name(entry['name'])}" if entry.get("name") else "")
        port = env.get(key) or env.get(f"{prefix}_SERVICE_PORT")
        urls.append(f"http://{host}:{port}/")
    return urls


def _recorded_address_advice(spec: dict, service: dict, failed) -> str:
    """When the address a task has recorded in a ConfigMap is another IP than the Service's
    ClusterIP, the request never went through the Service: that is the cause."""
    from urllib.parse import urlsplit

    if spec["via"] != "configmap" or spec.get("holds") != "address":
        return ""
    cluster_ip = service["spec"].get("clusterIP")
    for result in failed:
        try:
            host = urlsplit(result.url).hostname or ""
        except ValueError:
            continue
        if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host) and host != cluster_ip:
            return (
                f"{spec['key']} holds {host}, which is not the ClusterIP of Service "
                f"{service['metadata']['name']} ({cluster_ip}), so the request does not go through "
                "the Service."
            )
    return ""


def _external_name_advice(failed, service: dict) -> str:
    """An ExternalName Service is only a DNS alias: when the name it stands for does not
    resolve, that is why, whatever selector and ports it carries."""
    if service["spec"].get("type") != "ExternalName" or not any(r.exit_code == 6 for r in failed):
        return ""
    name, target = service["metadata"]["name"], service["spec"].get("externalName") or "nothing"
    return (
        f"Service {name} is of type ExternalName, a DNS alias for {target}, which does not "
        "resolve; an alias has no ClusterIP and sends nothing to the Pods its selector names. "
        "A Service in front of Pods is of type ClusterIP (kubectl patch: type ClusterIP, "
        "externalName null)."
    )


def _dns_cache_advice(ctx: GradingContext, failed, service: dict, source_ns: str) -> str:
    """A ClusterIP Service's own name always resolves in cluster DNS, so when it did not, DNS
    answered from its cache: what the name was before (no Service yet, or an ExternalName alias)."""
    from urllib.parse import urlsplit

    spec = service["spec"]
    if spec.get("type") == "ExternalName" or spec.get("clusterIP") in (None, "", "None"):
        return ""
    name, ns = service["metadata"]["name"], service["metadata"]["namespace"]
    names = {f"{name}.{ns}", f"{name}.{ns}.svc"} | ({name} if source_ns == ns else set())
    # The full name only in the domain the probe pod's resolv.conf named (another is simply wrong).
    names |= {f"{name}.{ns}.svc.{domain}" for domain in ctx.known_domains().values()}
    for result in failed:
        try:
            host = (urlsplit(result.url).hostname or "").rstrip(".")
        except ValueError:
            continue
        if result.exit_code == 6 and host in names:
            return (
                f"Service {name} exists now, yet {host} did not resolve: cluster DNS still answers "
                "from its cache what the name was before (no Service, or an ExternalName alias), "
                "for up to its TTL (30 s in the usual setup). Check again in a minute."
            )
    return ""


def _service_port_advice(failed, service: dict) -> str:
    """When a request goes to a port the Service no longer has, or one it serves over UDP, that
    is the cause, whatever curl saw on the way (a refusal, or a timeout)."""
    from urllib.parse import urlsplit

    name = service["metadata"]["name"]
    ports = {p.get("port"): p for p in service["spec"].get("ports") or []}
    listing = ", ".join(port_label(p) for p in ports.values()) or "none"
    for result in failed:
        if result.exit_code in (0, 6):  # answered, or the name did not resolve: not a port problem
            continue
        try:
            port = urlsplit(result.url).port or 80
        except ValueError:
            continue
        entry = ports.get(port)
        if entry is None:
            return (
                f"Service {name} has no port {port} (its ports: {listing}); clients use {port}, "
                "so the Service port must stay as the task gives it."
            )
        if entry.get("protocol", "TCP") != "TCP":
            return (
                f"Service {name} serves port {port} over {entry['protocol']}; HTTP needs TCP "
                "(set the port's protocol to TCP, or leave it out)."
            )
    return ""


def service_diagnosis(ctx: GradingContext, service: dict, failed) -> str:
    """The first thing wrong on the way to the pods, in the order one debugs a Service: does the
    selector pick pods, are they Ready (and if not, why), does the targetPort name their port."""
    if not any(r.exit_code not in (0, 6) for r in failed):
        return ""  # answered, or a DNS failure: that advice is clearer
    selector = service["spec"].get("selector") or {}
    ns, name = service["metadata"]["namespace"], service["metadata"]["name"]
    if not selector:
        return _selectorless_diagnosis(ctx, service)
    pods = [p for p in live_pods(ctx, ns) if matches(selector, labels_of(p))]
    if not pods:
        shown = "; ".join(sorted({selector_string(identity_labels(p)) for p in live_pods(ctx, ns)})) or "no pods"
        return f"Service {name}'s selector {selector_string(selector)} matches no pod (the pods there: {shown})."
    if not any(pod_is_ready(p) for p in pods):
        return f"Service {name} selects {len(pods)} pod(s), none Ready: {_not_ready_reason(pods[0])}"
    for entry in service["spec"].get("ports") or []:
        target = entry.get("targetPort", entry.get("port"))
        protocol = entry.get("protocol") or "TCP"
        if isinstance(target, str) and all(container_port_named(p, target, protocol) is None for p in pods):
            mismatch = protocol_mismatch(pods, target, protocol)
            if mismatch:
                return f"Service {name}'s port {port_label(entry)} has targetPort {target!r}. {mismatch}"
            return (
                f"Service {name}'s targetPort {target!r} names no container port of the pods it "
                "selects, so they get no traffic on it."
            )
        declared = {
            e.get("containerPort")
            for p in pods
            for c in p["spec"].get("containers") or []
            for e in c.get("ports") or []
        }
        if isinstance(target, int) and declared and target not in declared:
            listing = ", ".join(str(d) for d in sorted(declared, key=str))
            return (
                f"Service {name}'s targetPort {target} is not a port the selected pods declare "
                f"({listing}); traffic to it is refused."
            )
    return ""


def _selectorless_diagnosis(ctx: GradingContext, service: dict) -> str:
    """A Service without a selector sends traffic only where its hand-written Endpoints (or
    EndpointSlices) say, and nothing updates them when Pods come and go: name the address
    that no Pod has, or the port the Pod there does not declare."""
    ns, name = service["metadata"]["namespace"], service["metadata"]["name"]
    pods = {}
    for namespace in dict.fromkeys([ns, *ctx.attempt.namespaces]):
        for pod in live_pods(ctx, namespace):
            ip = (pod.get("status") or {}).get("podIP")
            if ip:
                pods[ip] = pod
    fix = (
        f"Give Service {name} a selector that picks the Pods (kubectl set selector), so the "
        "controller keeps its endpoints current, or correct the hand-written endpoints."
    )
    sets = manual_endpoint_sets(ctx, name, ns)
    if not sets:
        return f"Service {name} has no selector and no Endpoints or EndpointSlice of its own, so no endpoints. {fix}"
    for source, ips, ports in sets:
        numbers = sorted({p.get("port") for p in ports if p.get("port") is not None}, key=str)
        shown = ", ".join(str(n) for n in numbers) or "no port"
        for ip in sorted(ips):
            pod = pods.get(ip)
            if pod is None:
                return (
                    f"Service {name} has no selector, so its endpoints are what was written by hand: "
                    f"{source} points at {ip} (port {shown}), and no Pod has that address now. {fix}"
                )
            declared = {
                e.get("containerPort") for c in pod["spec"].get("containers") or [] for e in c.get("ports") or []
            }
            wrong = [n for n in numbers if declared and n not in declared]
            if wrong:
                listing = ", ".join(str(d) for d in sorted(declared, key=str))
                return (
                    f"Service {name} has no selector, so its endpoints are what was written by hand: "
                    f"{source} sends port {wrong[0]} to Pod {pod['metadata']['name']} ({ip}), which "
                    f"declares {listing}. {fix}"
                )
    return ""


def _not_ready_reason(pod: dict) -> str:
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            detail = f" ({waiting['message']})" if waiting.get("message") else ""
            return f"{pod['metadata']['name']} is waiting: {waiting['reason']}{detail}."
    if status.get("phase") == "Running":
        return f"{pod['metadata']['name']} runs, but its readiness probe fails (kubectl describe pod shows why)."
    return f"{pod['metadata']['name']} is {status.get('phase') or 'not started'}."


def _probe_advice(failed, backends: set[str]) -> str:
    codes = {r.exit_code for r in failed}
    if 6 in codes:
        return "The name does not resolve: check the Service name, and use <svc>.<namespace> from another namespace."
    if 7 in codes:
        return "Nothing accepted the connection: check the Service port, the targetPort and the endpoints."
    if 28 in codes:
        return "No answer in time: the Service may have no ready endpoints, or the targetPort is wrong."
    if codes - {0}:
        return "The request failed on the way; the cause is given for each URL."
    if any(r.http_status != 200 for r in failed):
        return "Something answered with an error status instead of the backend's page."
    if backends and all(r.answered_by in backends for r in failed):
        return "A backend answered, but on the wrong container port: check this Service port's targetPort."
    return "Something answered, but not a backend: check which pods the selector picks."


def _expect_dns_failure(ctx: GradingContext, spec: dict, service: dict, source_ns: str) -> Outcome:
    name = service["metadata"]["name"]
    port = (service["spec"].get("ports") or [{}])[0].get("port", 80)
    result = ctx.curl(f"http://{name}:{port}/", source_ns)
    expected = f"the short name {name!r} does not resolve from namespace {source_ns}"
    why = (
        f"A pod's search path starts with {source_ns}.svc.<domain>, so a bare name is looked up in the "
        f"pod's own namespace; across namespaces use {name}.{service['metadata']['namespace']}."
    )
    if result.exit_code == 6:
        return Outcome(expected, f"{result.cause}", why)
    raise Fail(expected, f"{result.url}: {result.cause}", f"Is there a Service {name!r} in {source_ns} too? {why}")
