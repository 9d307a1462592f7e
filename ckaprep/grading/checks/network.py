"""Check kinds about Service networking beyond HTTP: ExternalName aliases, UDP, the Service range."""

from __future__ import annotations

import ipaddress
import re

from ckaprep.cluster.labels import selector_string
from ckaprep.cluster.service_range import service_range
from ckaprep.grading.checks.base import (
    Outcome,
    backend_pods,
    check_kind,
    find_service_port,
    port_label,
    protocol_mismatch,
)
from ckaprep.grading.checks.http_probes import _judge_probe
from ckaprep.grading.context import Fail, GradingContext

# -- ExternalName ------------------------------------------------------------------------


def _fqdn(service: str, namespace: str, domain: str) -> str:
    return f"{service}.{namespace}.svc.{domain}"


@check_kind("external_name")
def external_name(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service is an ExternalName alias whose externalName is the target Service's FQDN."""
    ns = spec.get("namespace") or ctx.namespace
    alias = ctx.require_service(spec["service"], ns)
    target, target_ns = spec["target_service"], spec["target_namespace"]
    domain = ctx.cluster_domain(ns)
    want = _fqdn(target, target_ns, domain)
    expected = f"type ExternalName, externalName {want}"
    kind = alias["spec"].get("type", "ClusterIP")
    if kind != "ExternalName":
        selector = alias["spec"].get("selector")
        found = f"type {kind}" + (f", selector {selector_string(selector)}" if selector else ", no selector")
        raise Fail(
            expected,
            found,
            "An alias is a Service of type ExternalName: cluster DNS answers its name with a CNAME "
            f"to {want}. A {kind} Service gets its own address and needs endpoints of its own; "
            "the type cannot be edited into ExternalName while it keeps a clusterIP, so delete "
            "and recreate it.",
        )
    got = (alias["spec"].get("externalName") or "").rstrip(".")
    found = f"externalName {got or '(empty)'}"
    if got.lower() == want.lower():
        return Outcome(expected, found)
    raise Fail(expected, found, _why_not_fqdn(got.lower(), target, target_ns, domain, want))


def _why_not_fqdn(got: str, target: str, target_ns: str, domain: str, want: str) -> str:
    absolute = (
        "DNS looks a CNAME's target up exactly as written, without the pod's search path, "
        f"so only the full name works: {want}."
    )
    if got in (target, f"{target}.{target_ns}", f"{target}.{target_ns}.svc"):
        return f"{got} is not a fully qualified name. {absolute}"
    parts = got.split(".")
    if len(parts) >= 4 and parts[2] == "svc":
        name, namespace, other_domain = parts[0], parts[1], ".".join(parts[3:])
        if other_domain != domain:
            return (
                f"This cluster's domain is {domain}, not {other_domain} (see the search line of a "
                f"pod's /etc/resolv.conf); the name must be {want}."
            )
        if namespace != target_ns:
            return (
                f"That names a Service in namespace {namespace}; the task's Service {target} is in "
                f"namespace {target_ns}."
            )
        if name != target:
            return f"That names Service {name}; the task's Service is {target} (in {target_ns})."
    return f"The alias must point at {want}. {absolute}"


@check_kind("external_name_probe", settles=True)
def external_name_probe(ctx: GradingContext, spec: dict) -> Outcome:
    """curl by the alias's short name, from its own namespace, reaches a backend behind the alias."""
    ns = spec.get("namespace") or ctx.namespace
    alias = ctx.require_service(spec["service"], ns)
    url = f"http://{spec['service']}:{spec['port']}/"
    expected = f"HTTP 200 from a backend at {url}, from namespace {ns}"
    backends = {p["metadata"]["name"] for p in backend_pods(ctx, spec)} if spec.get("backends") else set()
    result = ctx.curl(url, ns)
    problem = _judge_probe(result, backends, None)
    if problem is None:
        return Outcome(expected, f"{url} → {result.answered_by}")
    kind = alias["spec"].get("type", "ClusterIP")
    if kind == "ExternalName":
        target = alias["spec"].get("externalName") or "(empty)"
        if result.exit_code == 6:
            why = f"The alias answers with a CNAME to {target}, and that name does not resolve."
        else:
            why = (
                f"The alias points at {target}, which answers on port {spec['port']} with "
                "something else: is it the task's Service?"
            )
    else:
        selector = alias["spec"].get("selector")
        picks = f"its selector {selector_string(selector)} picks no pod in {ns}" if selector else "it has no selector"
        why = (
            f"{spec['service']} is a {kind} Service with an address of its own, and {picks}, so it has "
            "no endpoints and nothing answers there. An ExternalName alias needs none: DNS sends the "
            "client to the real Service."
        )
    raise Fail(expected, problem, why)


# -- UDP ---------------------------------------------------------------------------------

NSLOOKUP_TIMEOUT_S = 6
PROBE_NAME = "udp-probe.ckaprep.test"
_ADDRESS = re.compile(r"^Address(?: \d+)?:\s*(\S+)\s*$")


def nslookup_argv(server: str, port: int) -> list[str]:
    """A DNS query for an A record over UDP, with busybox nslookup (in the busybox and curl images)."""
    return ["timeout", str(NSLOOKUP_TIMEOUT_S), "nslookup", "-type=a", PROBE_NAME, f"{server}:{port}"]


def answered_addresses(output: str) -> list[str]:
    """The addresses of the answer section: those printed after the `Name:` line."""
    seen_name, found = False, []
    for line in output.splitlines():
        if line.startswith("Name:"):
            seen_name = True
        match = _ADDRESS.match(line.strip())
        if seen_name and match:
            found.append(match.group(1))
    return found


@check_kind("udp_dns_probe", settles=True)
def udp_dns_probe(ctx: GradingContext, spec: dict) -> Outcome:
    """A DNS query over UDP to the Service's ClusterIP and port is answered by a backend pod.

    The backends are DNS servers that answer every A query with their own pod IP, so the
    answer names the pod that served it.
    """
    ns = spec.get("namespace") or ctx.namespace
    service = ctx.require_service(spec["service"], ns)
    port = spec["port"]
    cluster_ip = service["spec"].get("clusterIP")
    expected = f"a DNS answer over UDP from a backend at {spec['service']}:{port}"
    if cluster_ip in (None, "", "None"):
        raise Fail(expected, "the Service has no ClusterIP", "The task asks for a ClusterIP Service.")
    result = ctx.exec_in_probe(nslookup_argv(cluster_ip, port), ns, timeout=NSLOOKUP_TIMEOUT_S + 6)
    pods = backend_pods(ctx, spec) if spec.get("backends") else []
    by_ip = {(p.get("status") or {}).get("podIP"): p["metadata"]["name"] for p in pods}
    answers = answered_addresses(result.stdout)
    target = f"{cluster_ip}:{port}/UDP"
    if answers and (not pods or any(a in by_ip for a in answers)):
        who = ", ".join(by_ip.get(a, a) for a in answers)
        return Outcome(expected, f"{target} answered by {who}")
    if answers:
        raise Fail(expected, f"{target} answered {', '.join(answers)}", "That is not one of the backend pods.")
    said = " ".join((result.stdout + " " + result.stderr).split())[-120:] or f"exit {result.returncode}"
    raise Fail(expected, f"no answer from {target} ({said})", _why_no_udp_answer(ctx, service, port, pods))


def _why_no_udp_answer(ctx: GradingContext, service: dict, port: int, pods: list[dict]) -> str:
    ports = service["spec"].get("ports") or []
    udp = next((p for p in ports if p.get("port") == port and p.get("protocol", "TCP") == "UDP"), None)
    if udp is None:
        same = find_service_port(service, port=port)
        if same is not None:
            return (
                f"Port {port} is {same.get('protocol', 'TCP')}: a port's protocol is TCP unless it says "
                "otherwise, and kube-proxy forwards only that protocol. Set protocol: UDP."
            )
        listing = ", ".join(port_label(p) for p in ports) or "none"
        return f"The Service has no port {port}/UDP (its ports: {listing})."
    target = udp.get("targetPort", port)
    listening = {
        (e.get("name"), e.get("containerPort"))
        for p in pods
        for c in p["spec"].get("containers") or []
        for e in c.get("ports") or []
        if e.get("protocol", "TCP") == "UDP"
    }
    if pods and not any(target in (name, number) for name, number in listening):
        shown = ", ".join(sorted(f"{n} ({name})" if name else str(n) for name, n in listening)) or "none"
        mismatch = protocol_mismatch(pods, target, "UDP") if isinstance(target, str) else ""
        if mismatch:
            return f"{mismatch.removesuffix('.')} (their UDP ports: {shown})."
        return f"The targetPort {target!r} is not where the backends listen over UDP (their UDP ports: {shown})."
    if not service["spec"].get("selector"):
        return "The Service has no selector, so no pod stands behind it."
    return "No backend answered: check that the selector picks the Ready backend pods."


# -- the Service range -------------------------------------------------------------------


@check_kind("static_cluster_ip")
def static_cluster_ip(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service's clusterIP is the address `offset` places above the base of the Service range."""
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    found_range = service_range(ctx.cluster)
    offset = int(spec["offset"])
    want = found_range.address(offset)
    expected = f"clusterIP {want} ({offset} above {found_range.base}, the base of {found_range.text})"
    got = service["spec"].get("clusterIP")
    if got == want:
        return Outcome(expected, f"clusterIP {got}")
    if got in (None, "", "None"):
        raise Fail(expected, f"clusterIP {got or 'unset'}", "The task asks for a ClusterIP Service with that address.")
    got_offset = found_range.offset_of(got)
    recreate = "clusterIP cannot be changed: delete the Service and create it again with spec.clusterIP set."
    if got_offset == offset + 1:
        why = (
            f"That is {offset} above {found_range.address(1)}, the first address handed out (the "
            f"kubernetes Service's); the base of the range is {found_range.base}. {recreate}"
        )
    elif got_offset == offset - 1:
        why = f"That is {offset - 1} above the base, one short. {recreate}"
    else:
        why = f"Without spec.clusterIP Kubernetes picks a free address itself. {recreate}"
    raise Fail(expected, f"clusterIP {got}", why)


@check_kind("service_cidr_answer")
def service_cidr_answer(ctx: GradingContext, spec: dict) -> Outcome:
    """A ConfigMap key holds the cluster's Service range in CIDR notation, as the cluster has it."""
    found_range = service_range(ctx.cluster)
    expected = f"{spec['key']} = {found_range.cidr or found_range.text}"
    cm = ctx.get("ConfigMap", spec["configmap"], spec.get("namespace"))
    if cm is None:
        raise Fail(expected, f"no ConfigMap {spec['configmap']!r}")
    value = ((cm.get("data") or {}).get(spec["key"]) or "").strip()
    if not value:
        keys = ", ".join(sorted(cm.get("data") or {})) or "none"
        raise Fail(expected, f"no value under {spec['key']!r} (keys: {keys})")
    where = (
        "ServiceCIDR kubernetes holds it (kubectl get servicecidr), as does the kube-apiserver "
        "flag --service-cluster-ip-range."
    )
    try:
        loose = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise Fail(
            expected, repr(value), f"The answer is a range in CIDR notation, such as 10.0.0.0/16. {where}"
        ) from None
    if "/" not in value:
        why = f"{value} is an address; a range also needs its prefix length (/16, /12 …). {where}"
        raise Fail(expected, repr(value), why)
    address, _, suffix = value.partition("/")
    if not suffix.isdigit():
        why = (
            f"{value} writes a mask after the slash; CIDR notation, as the task asks, writes the "
            f"prefix length there: the mask {suffix} is /{loose.prefixlen}, so "
            f"{address}/{loose.prefixlen}. {where}"
        )
        raise Fail(expected, repr(value), why)
    if str(loose.network_address) != value.split("/")[0]:
        why = f"{value} is an address with a prefix length; a range is written from its base. {where}"
        raise Fail(expected, repr(value), why)
    if found_range.cidr is None:
        if loose.network_address == found_range.base:
            return Outcome(expected, repr(value))
    elif loose == ipaddress.ip_network(found_range.cidr):
        return Outcome(expected, repr(value))
    if found_range.cidr and loose.overlaps(ipaddress.ip_network(found_range.cidr)):
        why = f"{value} overlaps the Service range but is not it (another prefix length). {where}"
    else:
        why = f"{value} is not the Service range (the pod range is another one). {where}"
    raise Fail(expected, repr(value), why)
