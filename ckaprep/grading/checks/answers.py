"""Check kinds about answers the learner writes into the cluster."""

from __future__ import annotations

import re

from ckaprep.grading.checks.base import Outcome, check_kind
from ckaprep.grading.context import Fail, GradingContext


@check_kind("configmap_value")
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
