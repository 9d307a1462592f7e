"""Check kinds about a Service's own spec: type, selector, ports."""

from __future__ import annotations

from ckaprep.cluster.labels import matches, parse_selector, selector_string
from ckaprep.grading.checks.base import (
    Outcome,
    backend_pods,
    check_kind,
    container_port_named,
    container_port_names,
    describe_target,
    find_service_port,
    identity_labels,
    labels_of,
    live_pods,
    names_of,
    pinning_labels,
    port_label,
    protocol_mismatch,
    template_labels,
    why_pinned,
    workloads_of,
)
from ckaprep.grading.context import Fail, GradingContext

# What a Service of another type does beyond a ClusterIP Service, said when the task asks for ClusterIP.
TYPE_EFFECTS = {
    "NodePort": "it also opens a port on every node, reachable from outside the cluster",
    "LoadBalancer": "it also opens a port on every node and asks for a load balancer outside the cluster",
    "ExternalName": "a DNS alias for another name, with no address and no endpoints of its own",
}


@check_kind("service_type")
def service_type(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service exists with the expected type and a virtual IP."""
    want = spec.get("type", "ClusterIP")
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    got = service["spec"].get("type", "ClusterIP")
    expected = f"Service {spec['service']!r} of type {want}"
    if got != want:
        effect = TYPE_EFFECTS.get(got, "") if want == "ClusterIP" else ""
        raise Fail(
            expected,
            f"type {got}",
            f"The task asks for type {want}, and Service {spec['service']} is of type {got}"
            + (f": {effect}" if effect else "")
            + f". Change spec.type to {want} (kubectl edit or patch), or delete the Service and "
            "create it again.",
        )
    cluster_ip = service["spec"].get("clusterIP")
    if want == "ClusterIP" and cluster_ip in (None, "", "None"):
        raise Fail(
            expected,
            "a headless Service (clusterIP: None)",
            "A headless Service has no virtual IP; DNS returns pod IPs instead. Remove clusterIP: None.",
        )
    return Outcome(expected, f"type {got}, ClusterIP {cluster_ip}")


@check_kind("service_selector")
def service_selector(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service's selector picks exactly the intended pods, and no decoys."""
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    wanted = backend_pods(ctx, spec)
    expected = f"selects exactly the {len(wanted)} backend pod(s) labelled {spec['backends']}"
    selector = service["spec"].get("selector") or {}
    if not selector:
        manual = (
            "; Endpoints written by hand go stale when the Pods are replaced"
            if ctx.get("Endpoints", spec["service"], spec.get("namespace"))
            else ""
        )
        raise Fail(
            expected, "the Service has no selector", f"Without a selector nothing keeps its endpoints current{manual}."
        )
    selected = [p for p in live_pods(ctx, spec.get("namespace")) if matches(selector, labels_of(p))]
    found = f"selector {selector_string(selector)} selects {len(selected)} pod(s)"
    asked = parse_selector(spec["backends"])  # a label the task itself names never pins
    pinned = pinning_labels(selector, asked)
    if pinned:
        raise Fail(expected, found, why_pinned(ctx, pinned[0], wanted, spec.get("namespace")))
    wanted_names = {p["metadata"]["name"] for p in wanted}
    selected_names = {p["metadata"]["name"] for p in selected}
    extra = [p for p in selected if p["metadata"]["name"] not in wanted_names]
    missing = [p for p in wanted if p["metadata"]["name"] not in selected_names]
    labels = "; ".join(sorted({selector_string(identity_labels(p)) for p in wanted})) or "nothing"
    if not selected:
        raise Fail(expected, found, f"No pod carries {selector_string(selector)}; the backends are labelled {labels}.")
    described = ", ".join(f"{p['metadata']['name']} ({selector_string(identity_labels(p))})" for p in extra)
    if extra and len(missing) == len(wanted):
        raise Fail(
            expected,
            found,
            f"It selects only pods that are not backends: {described}; it misses every backend (labelled {labels}).",
        )
    if extra and missing:
        raise Fail(
            expected,
            found,
            f"It selects pods that are not backends: {described}; and misses backend pods: "
            f"{', '.join(names_of(missing))}.",
        )
    if extra:
        raise Fail(expected, found, f"It also selects pods that are not backends: {described}.")
    if missing:
        raise Fail(expected, found, f"It misses backend pods: {', '.join(names_of(missing))}.")
    # Today's Pods match; the Pods the workloads make next carry their templates' labels only.
    for workload in workloads_of(ctx, wanted, spec.get("namespace")):
        given = template_labels(workload)
        lacking = {k: v for k, v in selector.items() if given.get(k) != v and asked.get(k) != v}
        if lacking:
            key, value = next(iter(lacking.items()))
            kind, name = workload["kind"], workload["metadata"]["name"]
            raise Fail(
                expected,
                f"{found}; {key}={value} is not a label of {kind} {name}'s pod template",
                f"The selector includes {key}={value}, which {kind} {name}'s pod template does not "
                f"give its Pods (its labels: {selector_string(given) or 'none'}): today's Pods carry "
                f"it, but the Pods {name} makes next (a rollout, a restart, a replaced Pod) do not, "
                "and the Service loses them. Select on labels of the pod template.",
            )
    return Outcome(expected, found)


@check_kind("service_port")
def service_port(ctx: GradingContext, spec: dict) -> Outcome:
    """A Service port, found by name or number, forwards to the right container port."""
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    want_name, want_port = spec.get("name"), spec["port"]
    want_target, want_protocol = spec.get("target_port"), spec.get("protocol", "TCP")
    label = f"port {want_port}" + (f" named {want_name!r}" if want_name else "")
    expected = f"{label} ({want_protocol})"
    if want_target is not None:
        expected = f"{label} → {describe_target(want_target)} ({want_protocol})"
    ports = service["spec"].get("ports") or []
    listing = ", ".join(port_label(p) for p in ports) or "no ports"
    entry = find_service_port(service, port=want_port, name=want_name)
    if entry is not None and want_name is None and entry.get("protocol", "TCP") != want_protocol:
        # One number may carry TCP and UDP (two ports, like kube-dns): take the task's protocol.
        entry = next(
            (p for p in ports if p.get("port") == want_port and p.get("protocol", "TCP") == want_protocol), entry
        )
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
                if len(ports) > 1
                else f"The task asks for the port name {want_name!r}.",
            )
        raise Fail(expected, f"Service ports: {listing}")
    if entry.get("port") != want_port:
        raise Fail(expected, f"port named {want_name!r} is {entry.get('port')}")
    if entry.get("protocol", "TCP") != want_protocol:
        raise Fail(
            expected,
            f"{port_label(entry)}",
            f"A Service port is TCP unless it says otherwise; the task's port carries {want_protocol} "
            f"(protocol: {want_protocol}, or --protocol={want_protocol} with kubectl expose).",
        )
    got_target = entry.get("targetPort", entry["port"])
    found = f"{port_label(entry)} → {describe_target(got_target)}"
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
        pods = backend_pods(ctx, spec) if spec.get("backends") else []
        protocol = entry.get("protocol", "TCP")
        resolved = {container_port_named(p, got_target, protocol) for p in pods}
        if not pods:
            raise Fail(expected, found, "A named targetPort needs backend pods to resolve it.")
        if resolved != {want_target}:
            shown = ", ".join(
                str(r) if r else f"nothing (no {protocol} port of that name)" for r in sorted(resolved, key=str)
            )
            right_names = sorted({n for p in pods for n in container_port_names(p, want_target, protocol)})
            if None in resolved:
                mismatch = protocol_mismatch(pods, got_target, protocol)
                message = (
                    (
                        mismatch.removesuffix(".")
                        if mismatch
                        else f"No container port of the backends is named {got_target!r}"
                    )
                    + f"; the backends listen on {want_target}"
                    + (f" over {protocol}" if protocol != "TCP" else "")
                )
            else:
                message = f"The name {got_target!r} is the backends' port {shown}, not the task's port {want_target}"
            message += f" (named {' or '.join(map(repr, right_names))})." if right_names else "."
            raise Fail(expected, f"{found}, which the backend pods resolve to: {shown}", message)
        return Outcome(expected, f"{found} (= {want_target} in the pods)")
    if got_target != want_target:
        pods = backend_pods(ctx, spec) if spec.get("backends") else []
        declared = {
            e.get("containerPort")
            for p in pods
            for c in p["spec"].get("containers") or []
            for e in c.get("ports") or []
        }
        if got_target in declared:
            message = f"{got_target} is another port of the backends; the task's port forwards to {want_target}."
        else:
            message = f"The backends listen on {want_target}; traffic to {got_target} is refused."
        raise Fail(expected, found, message)
    return Outcome(expected, found)


@check_kind("no_selector")
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
