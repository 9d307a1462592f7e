"""The typed check kinds that exercise files use.

Each kind is a function from the grading context and the check's rendered
fields to an `Outcome`, or raises `Fail` with a reason. Kinds marked
`settles` depend on the cluster converging and are polled while they fail.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ckaprep.grading.context import Fail, GradingContext, created_at, parse_env
from ckaprep.labels import matches, parse_selector, selector_string
from ckaprep.templating import env_name
from ckaprep.waiting import pod_is_ready


@dataclass(frozen=True)
class Outcome:
    expected: str
    found: str
    message: str = ""


@dataclass(frozen=True)
class CheckKind:
    name: str
    run: Callable[[GradingContext, dict], Outcome]
    required: frozenset[str]
    optional: frozenset[str]
    settles: bool
    summary: str
    choices: dict[str, tuple] = field(default_factory=dict)  # fields with a fixed set of values


KINDS: dict[str, CheckKind] = {}
COMMON_FIELDS = {"id", "kind", "title", "weight", "hint", "constraint"}


def check_kind(name: str, *, required=(), optional=(), settles=False, choices=None):
    def register(func):
        KINDS[name] = CheckKind(
            name, func, frozenset(required), frozenset(optional), settles,
            (func.__doc__ or "").strip().splitlines()[0], choices or {},
        )  # fmt: skip
        return func

    return register


# -- shared helpers ------------------------------------------------------------
def _names(objs: list[dict]) -> list[str]:
    return sorted(o["metadata"]["name"] for o in objs)


def _labels(obj: dict) -> dict:
    return obj["metadata"].get("labels") or {}


def _terminating(pod: dict) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def _live_pods(ctx: GradingContext, namespace: str | None) -> list[dict]:
    """Pods that can be backends: a terminating pod never receives new traffic."""
    return [p for p in ctx.pods(namespace) if not _terminating(p)]


def _backend_pods(ctx: GradingContext, spec: dict, field: str = "backends") -> list[dict]:
    selector = parse_selector(spec[field])
    namespace = spec.get("backends_namespace")
    return [p for p in _live_pods(ctx, namespace) if matches(selector, _labels(p))]


def _identity_labels(pod: dict) -> dict:
    """A pod's labels without the hash the Deployment controller adds."""
    return {k: v for k, v in _labels(pod).items() if k != "pod-template-hash"}


def _port_label(port: dict) -> str:
    name = f" ({port['name']})" if port.get("name") else ""
    return f"{port['port']}/{port.get('protocol', 'TCP')}{name}"


def find_service_port(service: dict, *, port=None, name=None) -> dict | None:
    """Ports are matched by name when one is asked for, else by number; never by position."""
    for entry in service["spec"].get("ports") or []:
        if name is not None:
            if entry.get("name") == name:
                return entry
        elif entry.get("port") == port:
            return entry
    return None


def container_port_named(pod: dict, name: str) -> int | None:
    for container in pod["spec"].get("containers") or []:
        for entry in container.get("ports") or []:
            if entry.get("name") == name:
                return entry.get("containerPort")
    return None


def _container_port_names(pod: dict, number: int) -> list[str]:
    return [
        entry["name"]
        for container in pod["spec"].get("containers") or []
        for entry in container.get("ports") or []
        if entry.get("containerPort") == number and entry.get("name")
    ]


def _describe_target(target) -> str:
    return f"named port {target!r}" if isinstance(target, str) else f"port {target}"


# -- Service shape ---------------------------------------------------------------
@check_kind("service_type", required={"service"}, optional={"type", "namespace"})
def service_type(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service exists with the expected type and a virtual IP."""
    want = spec.get("type", "ClusterIP")
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    got = service["spec"].get("type", "ClusterIP")
    expected = f"Service {spec['service']!r} of type {want}"
    if got != want:
        raise Fail(expected, f"type {got}", f"The task asks for {want}; recreate or edit the Service.")
    cluster_ip = service["spec"].get("clusterIP")
    if want == "ClusterIP" and cluster_ip in (None, "", "None"):
        raise Fail(
            expected,
            "a headless Service (clusterIP: None)",
            "A headless Service has no virtual IP; DNS returns pod IPs instead. Remove clusterIP: None.",
        )
    return Outcome(expected, f"type {got}, ClusterIP {cluster_ip}")


@check_kind("service_selector", required={"service", "backends"}, optional={"namespace"})
def service_selector(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service's selector picks exactly the intended pods, and no decoys."""
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    wanted = _backend_pods(ctx, spec)
    expected = f"selects exactly the {len(wanted)} backend pod(s) labelled {spec['backends']}"
    selector = service["spec"].get("selector") or {}
    if not selector:
        raise Fail(expected, "the Service has no selector", "Without a selector no pod receives traffic.")
    selected = [p for p in _live_pods(ctx, spec.get("namespace")) if matches(selector, _labels(p))]
    found = f"selector {selector_string(selector)} selects {len(selected)} pod(s)"
    wanted_names = {p["metadata"]["name"] for p in wanted}
    selected_names = {p["metadata"]["name"] for p in selected}
    extra = [p for p in selected if p["metadata"]["name"] not in wanted_names]
    missing = [p for p in wanted if p["metadata"]["name"] not in selected_names]
    labels = "; ".join(sorted({selector_string(_identity_labels(p)) for p in wanted})) or "nothing"
    if not selected:
        raise Fail(expected, found, f"No pod carries {selector_string(selector)}; the backends are labelled {labels}.")
    described = ", ".join(f"{p['metadata']['name']} ({selector_string(_identity_labels(p))})" for p in extra)
    if extra and len(missing) == len(wanted):
        raise Fail(
            expected,
            found,
            f"It selects only pods that are not backends: {described}; it misses every backend "
            f"(labelled {labels}).",
        )
    if extra and missing:
        raise Fail(
            expected,
            found,
            f"It selects pods that are not backends: {described}; and misses backend pods: "
            f"{', '.join(_names(missing))}.",
        )
    if extra:
        raise Fail(expected, found, f"It also selects pods that are not backends: {described}.")
    if missing:
        raise Fail(expected, found, f"It misses backend pods: {', '.join(_names(missing))}.")
    return Outcome(expected, found)


@check_kind(
    "service_port",
    required={"service", "port"},
    optional={"name", "target_port", "protocol", "backends", "namespace"},
)
def service_port(ctx: GradingContext, spec: dict) -> Outcome:
    """A Service port, found by name or number, forwards to the right container port."""
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    want_name, want_port = spec.get("name"), spec["port"]
    want_target, want_protocol = spec.get("target_port"), spec.get("protocol", "TCP")
    label = f"port {want_port}" + (f" named {want_name!r}" if want_name else "")
    expected = f"{label} ({want_protocol})"
    if want_target is not None:
        expected = f"{label} → {_describe_target(want_target)} ({want_protocol})"
    ports = service["spec"].get("ports") or []
    listing = ", ".join(_port_label(p) for p in ports) or "no ports"
    entry = find_service_port(service, port=want_port, name=want_name)
    if entry is None:
        by_number = find_service_port(service, port=want_port)
        if want_name and by_number is not None:
            got_name = by_number.get("name")
            if got_name:
                raise Fail(
                    expected,
                    f"port {want_port} is named {got_name!r}",
                    f"The task names this port {want_name!r}; clients and SRV records use the name.",
                )
            raise Fail(
                expected,
                f"port {want_port} has no name",
                f"Multi-port Services need a name on every port; the task names this one {want_name!r}."
                if len(ports) > 1 else f"The task asks for the port name {want_name!r}.",
            )
        raise Fail(expected, f"Service ports: {listing}")
    if entry.get("port") != want_port:
        raise Fail(expected, f"port named {want_name!r} is {entry.get('port')}")
    if entry.get("protocol", "TCP") != want_protocol:
        raise Fail(expected, f"protocol {entry.get('protocol')}")
    got_target = entry.get("targetPort", entry["port"])
    found = f"{_port_label(entry)} → {_describe_target(got_target)}"
    if want_target is None:  # e.g. selectorless: the endpoints carry the real port
        return Outcome(expected, found)
    if isinstance(want_target, str):
        if got_target == want_target:
            return Outcome(expected, found)
        message = f"The task asks the Service to target the container port by its name {want_target!r}."
        if isinstance(got_target, int):
            message += " A number works only while the container keeps that port; the name follows it."
        raise Fail(expected, found, message)
    if isinstance(got_target, str):
        pods = _backend_pods(ctx, spec) if spec.get("backends") else []
        resolved = {container_port_named(p, got_target) for p in pods}
        if not pods:
            raise Fail(expected, found, "A named targetPort needs backend pods to resolve it.")
        if resolved != {want_target}:
            shown = ", ".join(str(r) if r else "no such name" for r in sorted(resolved, key=str))
            right_names = sorted({n for p in pods for n in _container_port_names(p, want_target)})
            if None in resolved:
                message = (
                    f"No container port of the backends is named {got_target!r}; "
                    f"the backends listen on {want_target}"
                )
            else:
                message = (
                    f"The name {got_target!r} is the backends' port {shown}, not the task's port "
                    f"{want_target}"
                )
            message += f" (named {' or '.join(map(repr, right_names))})." if right_names else "."
            raise Fail(expected, f"{found}, which the backend pods resolve to: {shown}", message)
        return Outcome(expected, f"{found} (= {want_target} in the pods)")
    if got_target != want_target:
        pods = _backend_pods(ctx, spec) if spec.get("backends") else []
        declared = {e.get("containerPort") for p in pods for c in p["spec"].get("containers") or []
                    for e in c.get("ports") or []}  # fmt: skip
        if got_target in declared:
            message = (
                f"{got_target} is another port of the backends; the task's port forwards to "
                f"{want_target}."
            )
        else:
            message = f"The backends listen on {want_target}; traffic to {got_target} is refused."
        raise Fail(expected, found, message)
    return Outcome(expected, found)


@check_kind("no_selector", required={"service"}, optional={"namespace"})
def no_selector(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service has no selector, so its endpoints are managed by hand."""
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    selector = service["spec"].get("selector")
    expected = f"Service {spec['service']!r} without a selector"
    if selector:
        raise Fail(
            expected,
            f"selector {selector_string(selector)}",
            "With a selector, Kubernetes manages the endpoints itself and ignores manual ones.",
        )
    return Outcome(expected, "no selector")


# -- endpoints ------------------------------------------------------------------------
def _slices(ctx: GradingContext, service: str, namespace: str | None) -> list[dict]:
    return ctx.list("EndpointSlice", namespace, f"kubernetes.io/service-name={service}")


def _covers_service_ports(item: dict, service: dict) -> bool:
    slice_ports = {p.get("name") or "": p.get("port") for p in item.get("ports") or []}
    wanted = [p.get("name") or "" for p in service["spec"].get("ports") or []]
    return all(slice_ports.get(name) is not None for name in wanted)


def _slice_addresses(slices: list[dict]) -> tuple[set[str], set[str]]:
    ready, not_ready = set(), set()
    for item in slices:
        for endpoint in item.get("endpoints") or []:
            # A missing "ready" condition means ready, per the EndpointSlice API;
            # a terminating endpoint gets no new traffic whatever it says.
            conditions = endpoint.get("conditions") or {}
            is_ready = conditions.get("ready") is not False and not conditions.get("terminating")
            (ready if is_ready else not_ready).update(endpoint.get("addresses") or [])
    return ready, not_ready


@check_kind("ready_endpoints", required={"service", "count"}, optional={"namespace"}, settles=True)
def ready_endpoints(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service has the expected number of ready endpoints in its EndpointSlices."""
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    slices = _slices(ctx, spec["service"], spec.get("namespace"))
    # A slice whose ports do not cover the Service's ports (an unresolved named
    # targetPort leaves `ports` empty) lists pods that kube-proxy cannot use.
    usable = [s for s in slices if _covers_service_ports(s, service)]
    ready, not_ready = _slice_addresses(usable)
    expected = f"{spec['count']} ready endpoint(s)"
    found = f"{len(ready)} ready, {len(not_ready - ready)} not ready"
    if len(ready) == spec["count"]:
        return Outcome(expected, found)
    if not slices:
        raise Fail(expected, "no EndpointSlice for this Service", "The selector matches no pod.")
    unusable, _ = _slice_addresses([s for s in slices if s not in usable])
    if unusable:
        raise Fail(
            expected,
            f"{found}; {len(unusable)} selected pod(s) without a usable port",
            "The targetPort names a port that the selected pods do not declare, so they get no traffic.",
        )
    if not ready and not not_ready:
        raise Fail(expected, found, "No pod matches the selector (or its targetPort), so there are no endpoints.")
    if not_ready and len(ready) < spec["count"]:
        raise Fail(
            expected,
            found,
            "Pods that are not Ready stay in the EndpointSlice as not ready and get no traffic.",
        )
    raise Fail(expected, found, "Check which pods the selector picks: kubectl get pods --show-labels.")


@check_kind(
    "manual_endpoints",
    required={"service", "target_pod", "port"},
    optional={"port_name", "target_namespace", "namespace"},
    settles=True,
)
def manual_endpoints(ctx: GradingContext, spec: dict) -> Outcome:
    """Hand-made Endpoints or an EndpointSlice point the Service at the right IP and port."""
    ns = spec.get("namespace")
    name = spec["service"]
    ctx.require_service(name, ns)
    target = ctx.get("Pod", spec["target_pod"], spec.get("target_namespace"))
    if target is None or not (target.get("status") or {}).get("podIP"):
        raise Fail("the target server is running", f"pod {spec['target_pod']} has no IP")
    want_ip, want_port, want_name = target["status"]["podIP"], spec["port"], spec.get("port_name")
    expected = f"endpoint {want_ip}:{want_port}" + (f" on port name {want_name!r}" if want_name else "")
    candidates = _manual_endpoint_sets(ctx, name, ns)
    if not candidates:
        others = _names(ctx.list("Endpoints", ns)) + _names(
            [s for s in ctx.list("EndpointSlice", ns) if _is_manual_slice(s)]
        )
        hint = ""
        if others:
            hint = (
                f"Found {', '.join(others)}, but Endpoints must be named exactly like the Service "
                f"({name!r}), and an EndpointSlice needs the label kubernetes.io/service-name={name}."
            )
        raise Fail(expected, f"no Endpoints or EndpointSlice for Service {name!r}", hint)
    problems = []
    for source, ips, ports in candidates:
        if want_ip not in ips:
            stale = ", ".join(sorted(ips)) or "no addresses"
            problems.append(
                f"{source} lists {stale}, not the server's current IP {want_ip}"
                + (" (a stale IP?)" if ips else "")
            )
            continue
        matching = [p for p in ports if p.get("port") == want_port]
        if not matching:
            got = ", ".join(str(p.get("port")) for p in ports) or "no port"
            problems.append(f"{source} uses port {got}, not {want_port}")
            continue
        if want_name is not None and not any(p.get("name") == want_name for p in matching):
            got_names = [p.get("name") for p in matching]
            described = (
                "leaves its port unnamed" if not any(got_names)
                else f"names its port {', '.join(repr(n) for n in got_names if n)}"
            )
            problems.append(f"{source} {described}; it must match the Service port name {want_name!r}")
            continue
        return Outcome(expected, f"{source}: {want_ip}:{want_port}")
    raise Fail(expected, "; ".join(problems))


def _is_manual_slice(item: dict) -> bool:
    return _labels(item).get("endpointslice.kubernetes.io/managed-by") != (
        "endpointslice-controller.k8s.io"
    )


def _manual_endpoint_sets(ctx: GradingContext, service: str, ns: str | None):
    """(source, addresses, ports) from the v1 Endpoints object and from hand-made slices."""
    found = []
    endpoints = ctx.get("Endpoints", service, ns)
    if endpoints is not None:
        for subset in endpoints.get("subsets") or []:
            ips = {a.get("ip") for a in subset.get("addresses") or []}
            ips |= {a.get("ip") for a in subset.get("notReadyAddresses") or []}
            found.append((f"Endpoints {service}", ips, subset.get("ports") or []))
    for item in _slices(ctx, service, ns):
        if not _is_manual_slice(item):
            continue
        ips = {ip for e in item.get("endpoints") or [] for ip in e.get("addresses") or []}
        found.append((f"EndpointSlice {item['metadata']['name']}", ips, item.get("ports") or []))
    return found


# -- probes ------------------------------------------------------------------------------
PROBE_VIAS = ("short", "namespaced", "fqdn", "clusterip", "env", "configmap")
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
        entry = find_service_port(service, name=item) if isinstance(item, str) else (
            find_service_port(service, port=item)
        )
        if entry is None:
            listing = ", ".join(_port_label(p) for p in ports) or "none"
            raise Fail(
                f"the Service answers on port {item!r}",
                f"no such port on the Service (its ports: {listing})",
                "The task names this port, and clients use it.",
            )
        chosen.append(entry)
    return chosen


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
        return f"{result.url}: reached the wrong port of {result.answered_by} (reply {reply!r}, expected {expect_body!r})"
    return None


@check_kind(
    "http_probe",
    required={"service", "via"},
    optional={"ports", "backends", "backends_namespace", "namespace", "from_namespace",
              "expect", "expect_body", "configmap", "key", "repeat"},
    settles=True,
    choices={"via": PROBE_VIAS, "expect": ("reach", "dns-failure")},
)  # fmt: skip
def http_probe(ctx: GradingContext, spec: dict) -> Outcome:
    """curl from a probe pod reaches a backend through the Service."""
    via = spec["via"]
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    source_ns = spec.get("from_namespace") or ctx.namespace
    if spec.get("expect") == "dns-failure":
        return _expect_dns_failure(ctx, spec, service, source_ns)
    urls = _probe_urls(ctx, spec, service, source_ns)
    backends = {p["metadata"]["name"] for p in _backend_pods(ctx, spec)} if spec.get("backends") else set()
    # Repeats spread requests over the endpoints, catching backends that only some pods serve.
    urls = urls * int(spec.get("repeat", 1))
    results = ctx.curl_many(urls, source_ns)
    verdicts = [_judge_probe(r, backends, spec.get("expect_body")) for r in results]
    problems = list(dict.fromkeys(v for v in verdicts if v))
    if problems and len(results) > 1:
        problems.insert(0, f"{sum(map(bool, verdicts))} of {len(results)} requests failed")
    expected = f"HTTP 200 from a backend, {PROBE_VIA_WORDS[via]}" + (
        f", from namespace {source_ns}" if spec.get("from_namespace") else ""
    )
    if spec.get("expect_body"):
        expected += f", page containing {spec['expect_body']!r}"
    if problems:
        failed = [r for r, v in zip(results, verdicts) if v]
        raise Fail(expected, "; ".join(problems), _probe_advice(failed, backends))
    answered = ", ".join(sorted({f"{r.url} → {r.answered_by}" for r in results}))
    return Outcome(expected, answered)


def _probe_urls(ctx: GradingContext, spec: dict, service: dict, source_ns: str) -> list[str]:
    via = spec["via"]
    if via == "configmap":
        cm = ctx.get("ConfigMap", spec["configmap"], source_ns)
        value = ((cm or {}).get("data") or {}).get(spec["key"])
        if not value:
            raise Fail(
                f"ConfigMap {spec['configmap']} key {spec['key']!r} holds a URL",
                "ConfigMap missing" if cm is None else f"key {spec['key']!r} missing or empty",
            )
        value = value.strip()
        if "://" not in value:  # a bare address: use the port the task names
            wanted = [p for p in spec.get("ports") or [] if isinstance(p, int)]
            port = wanted[0] if wanted else (service["spec"].get("ports") or [{}])[0].get("port", 80)
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


# -- environment variables ---------------------------------------------------------------
@check_kind("env_vars", required={"service", "pod"}, optional={"namespace", "port_name"})
def env_vars(ctx: GradingContext, spec: dict) -> Outcome:
    """A pod sees the Service's injected environment variables, with the right values."""
    ns = spec.get("namespace")
    service = ctx.require_service(spec["service"], ns)
    prefix = env_name(spec["service"])
    ports = service["spec"].get("ports") or []
    wanted = {f"{prefix}_SERVICE_HOST": service["spec"].get("clusterIP")}
    if ports:
        wanted[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
    for entry in ports:
        if entry.get("name"):
            wanted[f"{prefix}_SERVICE_PORT_{env_name(entry['name'])}"] = str(entry["port"])
    if spec.get("port_name"):
        # The task names the port, so its variable must exist even if the Service forgot the name.
        named = find_service_port(service, name=spec["port_name"]) or (ports[0] if ports else {"port": "?"})
        wanted[f"{prefix}_SERVICE_PORT_{env_name(spec['port_name'])}"] = str(named["port"])
    expected = ", ".join(f"{k}={v}" for k, v in wanted.items())
    pod = ctx.get("Pod", spec["pod"], ns)
    if pod is None:
        raise Fail(expected, f"no pod named {spec['pod']!r}")
    pod_ns = pod["metadata"]["namespace"]
    if pod["spec"].get("enableServiceLinks") is False:
        raise Fail(expected, "the pod sets enableServiceLinks: false", "That switch turns the variables off.")
    argv = ["env"]
    result = ctx.cluster.exec(pod_ns, spec["pod"], argv, timeout=10)
    if result.returncode != 0:
        raise Fail(expected, f"cannot read the pod's environment (exit {result.returncode}): {result.stderr.strip()}")
    env = parse_env(result.stdout)
    missing = [k for k in wanted if k not in env]
    if missing:
        pod_time, svc_time = created_at(pod), created_at(service)
        if pod_time and svc_time and pod_time <= svc_time:
            raise Fail(
                expected,
                f"{', '.join(missing)} not set",
                f"Pod {spec['pod']} was created at {pod_time:%H:%M:%S}, before Service {spec['service']} "
                f"({svc_time:%H:%M:%S}); variables are only injected when a pod starts. Recreate the pod.",
            )
        unnamed = spec.get("port_name") and not find_service_port(service, name=spec["port_name"])
        raise Fail(
            expected,
            f"{', '.join(missing)} not set",
            f"That variable exists only when the Service port is named {spec['port_name']!r}." if unnamed else "",
        )
    wrong = [f"{k}={env[k]}" for k, v in wanted.items() if env[k] != v]
    if wrong:
        raise Fail(expected, ", ".join(wrong), "The values come from the Service; recreate the pod after changing it.")
    return Outcome(expected, "all set and correct")


# -- objects the learner writes or must leave alone ------------------------------------------
@check_kind(
    "configmap_value",
    required={"configmap", "key"},
    optional={"namespace", "equals", "matches", "equals_cluster_ip_of"},
)
def configmap_value(ctx: GradingContext, spec: dict) -> Outcome:
    """A ConfigMap key holds the expected value."""
    ns = spec.get("namespace")
    cm = ctx.get("ConfigMap", spec["configmap"], ns)
    value = ((cm or {}).get("data") or {}).get(spec["key"])
    if spec.get("equals_cluster_ip_of"):
        service = ctx.require_service(spec["equals_cluster_ip_of"], ns)
        want = service["spec"].get("clusterIP")
        expected = f"{spec['key']} = {want} (the live ClusterIP of {spec['equals_cluster_ip_of']})"
    elif "equals" in spec:
        want = str(spec["equals"])
        expected = f"{spec['key']} = {want}"
    else:
        want = None
        expected = f"{spec['key']} matches {spec['matches']}"
    if cm is None:
        raise Fail(expected, f"no ConfigMap {spec['configmap']!r}")
    if value is None:
        raise Fail(expected, f"no key {spec['key']!r} (keys: {', '.join(sorted((cm.get('data') or {}))) or 'none'})")
    value = value.strip()
    ok = value == want if want is not None else re.fullmatch(spec["matches"], value) is not None
    if not ok:
        message = _why_not_cluster_ip(ctx, value, ns) if spec.get("equals_cluster_ip_of") else ""
        raise Fail(expected, repr(value), message)
    return Outcome(expected, repr(value))


IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def _why_not_cluster_ip(ctx: GradingContext, value: str, ns: str | None) -> str:
    """Name what the recorded value is instead of the live ClusterIP."""
    read_again = "read it with kubectl get svc"
    if "://" in value:
        return f"That is a URL; the task asks for the bare address, without scheme or port ({read_again})."
    host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    if port:
        return f"That is an address with a port; the task asks for the address alone, without :{port}."
    if not value:
        return f"The value is empty; {read_again}."
    if not IPV4.fullmatch(value):
        return f"That is a name, not an IP address; the legacy client cannot use DNS ({read_again})."
    for pod in ctx.list("Pod", ns):
        if (pod.get("status") or {}).get("podIP") == value:
            return (
                f"That is the IP of Pod {pod['metadata']['name']}; Pod IPs change whenever a Pod is "
                f"replaced. Use the Service's ClusterIP ({read_again})."
            )
    for service in ctx.list("Service", ns):
        if service["spec"].get("clusterIP") == value:
            return f"That is the ClusterIP of Service {service['metadata']['name']}, another Service."
    return f"A ClusterIP changes when the Service is recreated; {read_again} again."


def fingerprint(obj: dict) -> str:
    """A hash of what a learner must not change in a Deployment: labels, selector, pod template."""
    spec = obj.get("spec") or {}
    template = json.loads(json.dumps(spec.get("template") or {}))
    metadata = template.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    annotations.pop("kubectl.kubernetes.io/restartedAt", None)  # a rollout restart is harmless
    if not annotations:  # an emptied map must hash like no map at all
        metadata.pop("annotations", None)
    material = {
        "labels": obj["metadata"].get("labels") or {},
        "selector": spec.get("selector"),
        "template": template,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _require_deployment(ctx: GradingContext, spec: dict, expected: str) -> dict:
    deployment = ctx.get("Deployment", spec["deployment"], spec.get("namespace"))
    if deployment is None:
        raise Fail(expected, f"Deployment {spec['deployment']} is gone", "The task needs it in place.")
    return deployment


@check_kind("deployment_unchanged", required={"deployment"}, optional={"namespace"})
def deployment_unchanged(ctx: GradingContext, spec: dict) -> Outcome:
    """A setup Deployment keeps its labels, selector and pod template."""
    name = spec["deployment"]
    expected = f"Deployment {name} unchanged (labels, selector, pod template)"
    deployment = _require_deployment(ctx, spec, expected)
    recorded = ctx.attempt.fingerprints.get(f"Deployment/{name}")
    if recorded is None:
        raise Fail(expected, "no record of the Deployment at start", "Run `ckaprep reset` and start again.")
    if fingerprint(deployment) != recorded:
        raise Fail(expected, "the Deployment was changed", "The task is to fix the Service and leave the Deployment as it was.")
    return Outcome(expected, "unchanged")


@check_kind("pods_ready", required={"backends", "count"}, optional={"backends_namespace"}, settles=True)
def pods_ready(ctx: GradingContext, spec: dict) -> Outcome:
    """The backend pods are Ready, so they receive traffic."""
    pods = [p for p in _backend_pods(ctx, spec) if not p["metadata"].get("deletionTimestamp")]
    ready = [p for p in pods if pod_is_ready(p)]
    expected = f"{spec['count']} Ready pod(s) labelled {spec['backends']}"
    found = f"{len(ready)} of {len(pods)} Ready"
    if len(ready) == spec["count"] and len(pods) == spec["count"]:
        return Outcome(expected, found)
    probes = {
        json.dumps(c.get("readinessProbe"), sort_keys=True)
        for p in pods for c in p["spec"].get("containers") or [] if c.get("readinessProbe")
    }
    message = "A pod that is not Ready is kept out of the Service's endpoints, so it gets no traffic."
    if probes and len(ready) < len(pods):
        message += f" Its readiness probe: {', '.join(sorted(probes))}."
    raise Fail(expected, found, message)


@check_kind("readiness_probe_present", required={"deployment"}, optional={"namespace"})
def readiness_probe_present(ctx: GradingContext, spec: dict) -> Outcome:
    """The Deployment's containers keep a readiness probe (fixed, not removed)."""
    name = spec["deployment"]
    expected = f"every container of Deployment {name} has a readinessProbe"
    deployment = _require_deployment(ctx, spec, expected)
    containers = deployment["spec"]["template"]["spec"].get("containers") or []
    without = [c["name"] for c in containers if not c.get("readinessProbe")]
    if without:
        raise Fail(
            expected,
            f"no readinessProbe on: {', '.join(without)}",
            "Removing the probe makes the Pods Ready, but traffic then reaches Pods that cannot serve it.",
        )
    return Outcome(expected, "present")


@check_kind("pod_containers", required={"pod", "image"}, optional={"command", "namespace"})
def pod_containers(ctx: GradingContext, spec: dict) -> Outcome:
    """A Pod runs the image and command the task names (e.g. after being recreated)."""
    want_image, want_command = spec["image"], spec.get("command")
    expected = f"Pod {spec['pod']} runs {want_image}"
    if want_command is not None:
        expected += f" with command {json.dumps(want_command)}"
    pod = ctx.get("Pod", spec["pod"], spec.get("namespace"))
    if pod is None:
        raise Fail(expected, f"no Pod named {spec['pod']!r}", "The task keeps the Pod's name.")
    containers = pod["spec"].get("containers") or []
    images = [c.get("image") for c in containers]
    if want_image not in images:
        raise Fail(
            expected,
            f"image {', '.join(map(str, images))}",
            "The task says to recreate the Pod with the same image; "
            "`kubectl get pod -o yaml | kubectl replace --force -f -` keeps it.",
        )
    if want_command is not None:
        container = containers[images.index(want_image)]
        got = (container.get("command") or []) + (container.get("args") or [])
        if got != list(want_command):
            raise Fail(
                expected,
                f"command {json.dumps(got)}",
                "The task says to recreate the Pod with the same command.",
            )
    return Outcome(expected, f"image {want_image}" + (", same command" if want_command is not None else ""))
