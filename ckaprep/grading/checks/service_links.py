"""Check kinds about the environment variables Kubernetes injects for Services."""

from __future__ import annotations

from ckaprep.catalogue.templating import env_name
from ckaprep.grading.checks.base import Outcome, check_kind, find_service_port
from ckaprep.grading.context import Fail, GradingContext, created_at, parse_env


@check_kind("env_vars")
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
