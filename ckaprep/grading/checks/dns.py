"""Check kinds about cluster DNS: headless Services, per-pod names, A and SRV records, and
answers the learner found by DNS.

Records are looked up from the probe pod at grading time (`GradingContext.dns_lookup`), in
the cluster domain that pod's resolv.conf names, so a lab with another domain grades the same.
"""

from __future__ import annotations

from ckaprep.cluster.labels import matches, parse_selector, selector_string
from ckaprep.cluster.waiting import pod_is_ready
from ckaprep.grading.checks.base import Outcome, backend_pods, check_kind, identity_labels, labels_of, live_pods
from ckaprep.grading.context import Fail, GradingContext
from ckaprep.grading.dns_probes import ERROR, NXDOMAIN, OK, DnsAnswer, dashed, plain

TTL_NOTE = "cluster DNS may still hold an older answer for up to 30 s (its TTL)"
RECREATE = "clusterIP cannot be changed in place: delete the Service and create it again"


def _is_headless(service: dict) -> bool:
    return service["spec"].get("clusterIP") == "None"


def _ip(pod: dict) -> str | None:
    return (pod.get("status") or {}).get("podIP")


def _statefulset_pods(ctx: GradingContext, name: str, namespace: str) -> list[dict]:
    owned = [
        p
        for p in live_pods(ctx, namespace)
        if any(
            o.get("kind") == "StatefulSet" and o.get("name") == name for o in p["metadata"].get("ownerReferences") or []
        )
    ]
    return sorted(owned, key=lambda p: p["metadata"]["name"])


def _require_service(ctx: GradingContext, spec: dict, expected: str) -> dict:
    """The Service the task names; when it is missing and a StatefulSet is involved, say that
    its pods' names hang on the StatefulSet's serviceName."""
    ns = spec.get("namespace") or ctx.namespace
    service = ctx.get("Service", spec["service"], ns)
    if service is not None:
        return service
    others = sorted(s["metadata"]["name"] for s in ctx.list("Service", ns))
    found = f"no Service named {spec['service']!r} in namespace {ns}"
    if others:
        found += f" (Services there: {', '.join(others)})"
    message = ""
    if spec.get("statefulset"):
        sts = ctx.get("StatefulSet", spec["statefulset"], ns)
        service_name = ((sts or {}).get("spec") or {}).get("serviceName") or spec["service"]
        message = (
            f"StatefulSet {spec['statefulset']} names serviceName {service_name!r}: its Pods get "
            f"DNS names only under a headless Service of exactly that name."
        )
        if others:
            message += f" A Service with another name ({', '.join(others)}) does not give them names."
    raise Fail(expected, found, message)


# -- the Service itself -------------------------------------------------------------------------
@check_kind("headless_service")
def headless_service(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service exists without a virtual IP (clusterIP: None), so DNS lists its pods."""
    expected = f"Service {spec['service']!r} of type ClusterIP with clusterIP: None (headless)"
    service = _require_service(ctx, spec, expected)
    kind = service["spec"].get("type", "ClusterIP")
    if kind != "ClusterIP":
        raise Fail(expected, f"type {kind}", "A headless Service is of type ClusterIP, with clusterIP: None.")
    cluster_ip = service["spec"].get("clusterIP")
    if not _is_headless(service):
        raise Fail(
            expected,
            f"clusterIP {cluster_ip} (a virtual IP)",
            "With a virtual IP, DNS answers the Service's name with that one address, not with "
            f"the Pods' addresses. {RECREATE} with clusterIP: None.",
        )
    return Outcome(expected, "clusterIP None")


# -- A records ---------------------------------------------------------------------------------
@check_kind("dns_a_record", settles=True)
def dns_a_record(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service's name resolves to exactly the Ready pods' IPs (headless) or its ClusterIP.

    With `only_ready: true` (the task says a Pod that is not Ready is never listed), a Service
    with publishNotReadyAddresses: true fails even while every Pod happens to be Ready.
    """
    ns = spec.get("namespace") or ctx.namespace
    expect = spec.get("expect", "ready-pods")
    domain = ctx.cluster_domain()
    name = f"{spec['service']}.{ns}.svc.{domain}"
    if expect == "ready-pods":
        if not spec.get("backends"):
            raise ValueError("dns_a_record with expect: ready-pods needs backends")
        pods = backend_pods(ctx, {**spec, "backends_namespace": ns})
        ready = sorted(ip for p in pods if pod_is_ready(p) and (ip := _ip(p)))
        expected = f"{name} → the {len(ready)} Ready pod IP(s) labelled {spec['backends']}"
        if ready:
            expected += f": {', '.join(ready)}"
    service = ctx.require_service(spec["service"], ns)
    if expect == "cluster-ip":
        ready = [service["spec"].get("clusterIP")]
        expected = f"{name} → the ClusterIP {ready[0]}"
    only_ready = expect == "ready-pods" and spec.get("only_ready") is True
    if only_ready:
        expected += ", and never a Pod that is not Ready"
    answer = ctx.dns_lookup(name, "A")
    found = f"{name} → {answer.cause}"
    right_now = answer.status == OK and set(answer.addresses) == set(ready)
    if expect == "ready-pods" and not ready and answer.status == NXDOMAIN and _is_headless(service):
        right_now = True  # no Ready pod, so no record: what the task asks for
    if right_now and only_ready and service["spec"].get("publishNotReadyAddresses"):
        raise Fail(
            expected,
            f"{found}, but Service {spec['service']} sets publishNotReadyAddresses: true",
            "The answer is right only because no selected Pod is unready at this moment. With "
            "publishNotReadyAddresses: true, DNS lists every selected Pod as soon as it has an IP, "
            "Ready or not, so the next Pod that starts or fails its readiness probe is listed "
            "too. The task asks for the Ready Pods only: remove the field (false is the default).",
        )
    if right_now:
        return Outcome(expected, found)
    if expect == "cluster-ip":
        if _is_headless(service):
            why = "The Service is headless (clusterIP: None): its name lists Pods, not one virtual IP."
        else:
            why = f"A Service with a ClusterIP resolves to that address; {TTL_NOTE}."
        raise Fail(expected, found, _lookup_trouble(answer) or why)
    raise Fail(expected, found, _why_not_ready_pods(ctx, spec, service, answer, set(ready), ns))


def _lookup_trouble(answer: DnsAnswer) -> str:
    """A reason when the lookup itself failed, rather than returning an answer."""
    if answer.status == ERROR:
        return f"The lookup itself failed ({answer.detail}); is cluster DNS running?"
    return ""


def _why_not_ready_pods(
    ctx: GradingContext, spec: dict, service: dict, answer: DnsAnswer, ready: set[str], ns: str
) -> str:
    if trouble := _lookup_trouble(answer):
        return trouble
    got = set(answer.addresses)
    cluster_ip = service["spec"].get("clusterIP")
    if not _is_headless(service):
        message = (
            f"Service {spec['service']} has the virtual IP {cluster_ip}, and DNS answers its name "
            f"with that address alone. Only a headless Service (clusterIP: None) lists the Pods. "
            f"{RECREATE} with clusterIP: None."
        )
        if got and got != {cluster_ip}:
            message += f" (The answer found is older than the Service: {TTL_NOTE}.)"
        return message
    selector = service["spec"].get("selector") or {}
    everyone = {ip: p for p in live_pods(ctx, ns) if (ip := _ip(p))}
    backends = parse_selector(spec["backends"])
    reasons = []
    for ip in sorted(got - ready):
        pod = everyone.get(ip)
        if pod is None:
            reasons.append(f"{ip} is no running pod's address ({TTL_NOTE})")
        elif not matches(backends, labels_of(pod)):
            reasons.append(
                f"{ip} is Pod {pod['metadata']['name']} ({selector_string(identity_labels(pod))}), not one "
                f"of the pods labelled {spec['backends']}: the selector "
                f"{selector_string(selector)} picks it"
            )
        elif service["spec"].get("publishNotReadyAddresses"):
            reasons.append(
                f"{ip} is Pod {pod['metadata']['name']}, which is not Ready: publishNotReadyAddresses: "
                "true publishes Pods before they are Ready; leave it out (false is the default)"
            )
        else:
            reasons.append(f"{ip} is Pod {pod['metadata']['name']}, which is not Ready ({TTL_NOTE})")
    for ip in sorted(ready - got):
        pod = everyone[ip]
        if not selector:
            reasons.append(f"Ready Pod {pod['metadata']['name']} is missing: the Service has no selector")
        elif not matches(selector, labels_of(pod)):
            reasons.append(
                f"Ready Pod {pod['metadata']['name']} is missing: the selector {selector_string(selector)} "
                f"does not pick it (its labels: {selector_string(identity_labels(pod))})"
            )
        else:
            reasons.append(f"Ready Pod {pod['metadata']['name']} is missing ({TTL_NOTE})")
    if not reasons and answer.status == NXDOMAIN:
        return "No Ready pod is an endpoint of the Service, so its name has no records."
    return "; ".join(reasons) + "." if reasons else ""


# -- per-pod names --------------------------------------------------------------------------------
@check_kind("dns_pod_names", settles=True)
def dns_pod_names(ctx: GradingContext, spec: dict) -> Outcome:
    """Every pod of a StatefulSet has <pod>.<service>.<ns>.svc.<domain>, which resolves to it
    and answers on the port."""
    ns = spec.get("namespace") or ctx.namespace
    service_name, sts, port = spec["service"], spec["statefulset"], spec["port"]
    expected = (
        f"<pod>.{service_name}.{ns}.svc.<domain> resolves to that Pod and answers on port {port}, "
        f"for every Pod of StatefulSet {sts}"
    )
    service = _require_service(ctx, spec, expected)
    pods = _statefulset_pods(ctx, sts, ns)
    if not pods:
        raise Fail(expected, f"StatefulSet {sts} has no Pods", "The task needs the StatefulSet's Pods in place.")
    domain = ctx.cluster_domain()
    names = [f"{(p['spec'].get('hostname') or p['metadata']['name'])}.{service_name}.{ns}.svc.{domain}" for p in pods]
    answers = ctx.dns_lookup_many([("A", n) for n in names])
    unresolved = [
        f"{n} → {a.cause}"
        for n, a, p in zip(names, answers, pods)
        if not (a.status == OK and list(a.addresses) == [_ip(p)])
    ]
    if unresolved:
        raise Fail(expected, "; ".join(unresolved), _why_no_pod_names(ctx, spec, service, pods, answers))
    urls = [f"http://{n}:{port}/" for n in names]
    results = ctx.curl_many(urls)
    wrong = []
    for pod, result in zip(pods, results):
        if result.exit_code != 0:
            wrong.append(f"{result.url}: {result.cause}")
        elif result.answered_by != pod["metadata"]["name"]:
            wrong.append(f"{result.url}: answered by {result.answered_by or 'something else'}")
    if wrong:
        raise Fail(
            expected,
            "; ".join(wrong),
            f"The names resolve to the Pods, but the Pods do not answer on port {port}.",
        )
    shown = ", ".join(n.split(".")[0] for n in names)
    return Outcome(expected, f"{len(names)} names resolve to their Pods and answer ({shown})")


def _why_no_pod_names(
    ctx: GradingContext, spec: dict, service: dict, pods: list[dict], answers: list[DnsAnswer]
) -> str:
    trouble = next((t for a in answers if (t := _lookup_trouble(a))), "")
    if trouble:
        return trouble
    selector = service["spec"].get("selector") or {}
    picked = [p for p in pods if selector and matches(selector, labels_of(p))]
    if not picked:
        labels = "; ".join(sorted({selector_string(identity_labels(p)) for p in pods}))
        shown = selector_string(selector) if selector else "none"
        return (
            f"The Service's selector ({shown}) picks none of the StatefulSet's Pods (labelled {labels}), "
            "so they are not its endpoints and get no names."
        )
    subdomains = {p["spec"].get("subdomain") for p in pods}
    if subdomains != {spec["service"]}:
        return (
            f"The Pods' subdomain (the StatefulSet's serviceName) is {', '.join(map(str, subdomains))}, "
            f"not {spec['service']}: names exist only under the Service of that name."
        )
    not_ready = [p["metadata"]["name"] for p in picked if not pod_is_ready(p)]
    if not_ready and not service["spec"].get("publishNotReadyAddresses"):
        return f"Pods that are not Ready get no name: {', '.join(not_ready)}."
    if not _is_headless(service):
        return (
            f"Service {spec['service']} has a virtual IP ({service['spec'].get('clusterIP')}); Kubernetes "
            f"DNS gives each Pod its own name under a headless Service (clusterIP: None). {RECREATE}."
        )
    return f"The Service looks right; {TTL_NOTE}."


# -- answers written into a ConfigMap, compared with live DNS ------------------------------------


@check_kind("dns_answer")
def dns_answer(ctx: GradingContext, spec: dict) -> Outcome:
    """A ConfigMap key holds a fact that cluster DNS serves, looked up when grading.

    Names compare without case; a trailing dot is accepted unless `trailing_dot: false` (the
    task says to write names without one).
    """
    ns = spec.get("namespace") or ctx.namespace
    key, record = spec["key"], spec["record"]
    asked = _asked(spec, ns)
    expected = f"{key} = {asked}"
    cm = ctx.get("ConfigMap", spec["configmap"], ns)
    if cm is None:
        raise Fail(expected, f"no ConfigMap {spec['configmap']!r} in namespace {ns}")
    data = cm.get("data") or {}
    if key not in data:
        raise Fail(
            expected, f"no key {key!r} in ConfigMap {spec['configmap']} (keys: {', '.join(sorted(data)) or 'none'})"
        )
    value = str(data[key]).strip()
    want, served = _served(ctx, spec, ns)
    expected = f"{key} = {want} ({asked}, as DNS serves it: {served})"
    got = value if record == "srv-port" else plain(value)
    if got == want and record != "srv-port" and spec.get("trailing_dot") is False and value.endswith("."):
        raise Fail(
            expected,
            repr(value),
            f"The task asks for names without a trailing dot; write {value.rstrip('.')} (the same "
            "name, without the dot at the end).",
        )
    if got == want:
        return Outcome(expected, repr(value))
    raise Fail(expected, repr(value), _why_not(ctx, spec, value, want, ns))


def _asked(spec: dict, ns: str) -> str:
    record = spec["record"]
    svc_ns = spec.get("service_namespace") or ns
    if record == "service-fqdn":
        return f"the full DNS name of Service {svc_ns}/{spec['service']}"
    if record in ("srv-name", "srv-port"):
        what = "name of the SRV record" if record == "srv-name" else "port in the SRV record"
        return f"the {what} of port {spec['port_name']!r} of Service {svc_ns}/{spec['service']}"
    return f"the name of Pod {spec.get('pod_namespace') or ns}/{spec['pod']}'s A record"


def _served(ctx: GradingContext, spec: dict, ns: str) -> tuple[str, str]:
    """The right answer, worked out from the cluster now, and what DNS returns for it."""
    record = spec["record"]
    domain = ctx.cluster_domain(ns)
    svc_ns = spec.get("service_namespace") or ns
    expected = f"{spec['key']} = {_asked(spec, ns)}"
    if record == "pod-a-record":
        pod_ns = spec.get("pod_namespace") or ns
        pod = ctx.get("Pod", spec["pod"], pod_ns)
        if pod is None or not _ip(pod):
            raise Fail(expected, f"Pod {pod_ns}/{spec['pod']} is gone or has no IP", "The task needs it in place.")
        name = f"{dashed(_ip(pod))}.{pod_ns}.pod.{domain}"
        answer = ctx.dns_lookup(name, "A", ns)
        if answer.status != OK or _ip(pod) not in answer.addresses:
            _not_served(expected, name, answer)
        return name, f"{name} → {answer.cause}"
    service = ctx.require_service(spec["service"], svc_ns)
    base = f"{spec['service']}.{svc_ns}.svc.{domain}"
    if record == "service-fqdn":
        answer = ctx.dns_lookup(base, "A", ns)
        if answer.status != OK:
            _not_served(expected, base, answer)
        return base, f"{base} → {answer.cause}"
    protocol = (spec.get("protocol") or "TCP").lower()
    name = f"_{spec['port_name']}._{protocol}.{base}"
    answer = ctx.dns_lookup(name, "SRV", ns)
    if answer.status != OK:
        _not_served(expected, name, answer)
    if record == "srv-name":
        return name, f"{name} → {answer.cause}"
    ports = sorted({r.port for r in answer.srv})
    del service  # only required to exist: its SRV record is what counts
    return ",".join(map(str, ports)), f"{name} → {answer.cause}"


def _not_served(expected: str, name: str, answer: DnsAnswer):
    raise Fail(
        expected,
        f"cluster DNS does not serve {name}: {answer.cause}",
        "The record the task asks about is missing, so the answer cannot be graded; "
        "run `ckaprep reset` and start again, or check cluster DNS with `ckaprep doctor`.",
    )


def _why_not(ctx: GradingContext, spec: dict, value: str, want: str, ns: str) -> str:
    record, got = spec["record"], plain(value)
    if not got:
        return "The value is empty."
    if "://" in got or ":" in got:
        return "Write the bare name or number, without a scheme or a port."
    if record == "srv-port":
        return _why_not_port(ctx, spec, value, ns)
    for sep in (".svc.", ".pod."):
        if sep in got and sep in want:
            got_domain, domain = got.split(sep, 1)[1], want.split(sep, 1)[1]
            if got_domain != domain and got.split(sep, 1)[0] == want.split(sep, 1)[0]:
                return (
                    f"This cluster's domain is {domain}, not {got_domain}: read it from the search "
                    "line of a Pod's /etc/resolv.conf."
                )
    if want.startswith(got + "."):
        return (
            f"That short form works through a Pod's search path, but the full name ends with the "
            f"cluster domain: {want}."
        )
    if record == "pod-a-record":
        ip = want.split(".", 1)[0].replace("-", ".")
        if got.startswith(ip + "."):
            return f"A Pod's record name has its IP with dashes, not dots: {want}."
        for pod in live_pods(ctx, spec.get("pod_namespace") or ns):
            if _ip(pod) and got.startswith(dashed(_ip(pod)) + ".") and pod["metadata"]["name"] != spec["pod"]:
                return f"That is the record of Pod {pod['metadata']['name']}, not of {spec['pod']}."
        labels, pod_ns = got.split("."), spec.get("pod_namespace") or ns
        if len(labels) > 2 and labels[0] == dashed(ip) and labels[1] != pod_ns:
            return f"Pod {spec['pod']} is in namespace {pod_ns}, and its record names the Pod's own namespace."
        return "A Pod's A record is <IP with dashes>.<namespace>.pod.<cluster domain>."
    if record == "srv-name":
        if not got.startswith("_"):
            return (
                "An SRV name starts with an underscore before the port's name and another before "
                "the protocol: _<port name>._<protocol>.<service>.<namespace>.svc.<domain>."
            )
        return "An SRV name is _<port name>._<protocol>.<service>.<namespace>.svc.<cluster domain>."
    return "A Service's full name is <service>.<namespace>.svc.<cluster domain>."


def _why_not_port(ctx: GradingContext, spec: dict, value: str, ns: str) -> str:
    service = ctx.get("Service", spec["service"], spec.get("service_namespace") or ns) or {"spec": {}}
    for entry in service["spec"].get("ports") or []:
        if str(entry.get("targetPort")) == value and entry.get("name") == spec["port_name"]:
            return (
                f"{value} is the targetPort, where the Pods listen; the SRV record of a Service with "
                "a ClusterIP carries the Service's port."
            )
        if str(entry.get("port")) == value and entry.get("name") != spec["port_name"]:
            return f"{value} is the Service's port named {entry.get('name')!r}, not {spec['port_name']!r}."
    if not value.isdigit():
        return "Write the port number alone."
    return "Look the SRV record up from a Pod: nslookup -type=srv <name>."
