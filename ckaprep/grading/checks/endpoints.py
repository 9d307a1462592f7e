"""Check kinds about a Service's endpoints and the pods behind them."""

from __future__ import annotations

import json

from ckaprep.cluster.labels import matches
from ckaprep.cluster.waiting import pod_is_ready
from ckaprep.grading.checks.base import (
    Outcome,
    backend_pods,
    check_kind,
    labels_of,
    live_pods,
    names_of,
    protocol_mismatch,
)
from ckaprep.grading.context import Fail, GradingContext


def _slices(ctx: GradingContext, service: str, namespace: str | None) -> list[dict]:
    return ctx.list("EndpointSlice", namespace, f"kubernetes.io/service-name={service}")


def _covers_service_ports(item: dict, service: dict) -> bool:
    slice_ports = {p.get("name") or "": p.get("port") for p in item.get("ports") or []}
    wanted = [p.get("name") or "" for p in service["spec"].get("ports") or []]
    return all(slice_ports.get(name) is not None for name in wanted)


def _slice_addresses(slices: list[dict]) -> tuple[set[str], set[str]]:
    ready: set[str] = set()
    not_ready: set[str] = set()
    for item in slices:
        for endpoint in item.get("endpoints") or []:
            # A missing "ready" condition means ready, per the EndpointSlice API;
            # a terminating endpoint gets no new traffic whatever it says.
            conditions = endpoint.get("conditions") or {}
            is_ready = conditions.get("ready") is not False and not conditions.get("terminating")
            (ready if is_ready else not_ready).update(endpoint.get("addresses") or [])
    return ready, not_ready


@check_kind("ready_endpoints", settles=True)
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
            _protocol_mismatch_of(ctx, service)
            or "The targetPort names a port that the selected pods do not declare, so they get no traffic.",
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


def _protocol_mismatch_of(ctx: GradingContext, service: dict) -> str:
    """Why a named targetPort resolves to nothing when the Pods declare that name under another
    protocol; "" otherwise."""
    selector = service["spec"].get("selector") or {}
    pods = [p for p in live_pods(ctx, service["metadata"]["namespace"]) if matches(selector, labels_of(p))]
    for entry in service["spec"].get("ports") or []:
        target = entry.get("targetPort")
        if isinstance(target, str) and pods:
            mismatch = protocol_mismatch(pods, target, entry.get("protocol") or "TCP")
            if mismatch:
                return mismatch
    return ""


@check_kind("manual_endpoints", settles=True)
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
    candidates = manual_endpoint_sets(ctx, name, ns)
    if not candidates:
        others = names_of(ctx.list("Endpoints", ns)) + names_of(
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
                f"{source} lists {stale}, not the server's current IP {want_ip}" + (" (a stale IP?)" if ips else "")
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
                "leaves its port unnamed"
                if not any(got_names)
                else f"names its port {', '.join(repr(n) for n in got_names if n)}"
            )
            problems.append(f"{source} {described}; it must match the Service port name {want_name!r}")
            continue
        return Outcome(expected, f"{source}: {want_ip}:{want_port}")
    raise Fail(expected, "; ".join(problems))


def _is_manual_slice(item: dict) -> bool:
    return labels_of(item).get("endpointslice.kubernetes.io/managed-by") != ("endpointslice-controller.k8s.io")


def manual_endpoint_sets(ctx: GradingContext, service: str, ns: str | None):
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


@check_kind("pods_ready", settles=True)
def pods_ready(ctx: GradingContext, spec: dict) -> Outcome:
    """The backend pods are Ready, so they receive traffic."""
    pods = [p for p in backend_pods(ctx, spec) if not p["metadata"].get("deletionTimestamp")]
    ready = [p for p in pods if pod_is_ready(p)]
    expected = f"{spec['count']} Ready pod(s) labelled {spec['backends']}"
    found = f"{len(ready)} of {len(pods)} Ready"
    if len(ready) == spec["count"] and len(pods) == spec["count"]:
        return Outcome(expected, found)
    probes = {
        json.dumps(c.get("readinessProbe"), sort_keys=True)
        for p in pods
        for c in p["spec"].get("containers") or []
        if c.get("readinessProbe")
    }
    message = "A pod that is not Ready is kept out of the Service's endpoints, so it gets no traffic."
    if probes and len(ready) < len(pods):
        message += f" Its readiness probe: {', '.join(sorted(probes))}."
    raise Fail(expected, found, message)
