"""Whether the cluster can still change the outcome of a failing check.

A failing check is polled again only while something that could make it pass
is still moving. The cluster is *in flux* while, in the attempt's namespaces:

- a pod is starting (Pending, not stuck on its image, its config or scheduling);
- a pod is terminating;
- a running pod is not Ready and its readiness (or startup) probe has not yet
  had the time to pass once: initialDelaySeconds + periodSeconds x
  successThreshold after the container started, plus a little slack;
- a Service's EndpointSlices do not yet list the pods its selector picks, with
  their readiness and the ports the Service resolves to;
- a Deployment, ReplicaSet or StatefulSet has not caught up with its spec:
  its controller has not yet seen the latest change (observedGeneration), or
  it runs more or fewer Pods than it is told to; or a Deployment's ReplicaSet
  holds another replica count than the Deployment wants (scaled by hand: the
  Deployment controller is about to scale it back);
- a Service, EndpointSlice, Endpoints or Deployment changed less than
  `SETTLE_AFTER_CHANGE_S` ago (a pod change that matters reaches the
  EndpointSlices). kube-proxy and cluster DNS apply a change a
  moment after the API shows it, and nothing in the API tells when.

Otherwise the cluster has settled: a verdict, passing or failing, is final. No
check passes while the cluster is in flux, since a controller may be about to
undo the answer. Times are compared on the API server's clock, so a skewed
local clock does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ckaprep.cluster.labels import is_probe_pod, matches
from ckaprep.cluster.waiting import pod_is_ready

SETTLE_AFTER_CHANGE_S = 8.0
PROBE_SLACK_S = 2.0

# Container states that do not get better by waiting.
STUCK_REASONS = {
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
}
CONTROLLER_MANAGED_BY = "endpointslice-controller.k8s.io"


@dataclass(frozen=True)
class NamespaceView:
    """What one polling round read of a namespace."""

    name: str
    pods: list[dict]
    services: list[dict]
    endpoint_slices: list[dict]
    endpoints: list[dict]
    deployments: list[dict]
    replica_sets: list[dict] = ()
    stateful_sets: list[dict] = ()
    # Read only for an exercise whose checks judge traffic against NetworkPolicies: the network
    # plugin enforces a new or changed policy a moment after the API shows it.
    network_policies: list[dict] = ()


def reasons_in_flux(views: Iterable[NamespaceView], now: datetime) -> list[str]:
    """Why the cluster may still change, in plain words; empty when it has settled."""
    reasons: list[str] = []
    for view in views:
        pods = [p for p in view.pods if not is_probe_pod(p)]
        for pod in pods:
            reasons += _pod_in_flux(pod, now)
        for service in view.services:
            reasons += _slices_behind(service, pods, view.endpoint_slices)
        # Pods are left out: a pod change that matters shows in the EndpointSlices, and the
        # kubelet rewrites pod status for reasons that change no verdict.
        objects = [("Service", o) for o in view.services]
        objects += [("EndpointSlice", o) for o in view.endpoint_slices]
        objects += [("Endpoints", o) for o in view.endpoints] + [("Deployment", o) for o in view.deployments]
        objects += [("NetworkPolicy", o) for o in view.network_policies]
        reasons += _recent_changes(objects, now)
        reasons += _controllers_behind(view)
    return list(dict.fromkeys(reasons))


# -- controllers -------------------------------------------------------------------------
def _controllers_behind(view: NamespaceView) -> list[str]:
    reasons = []
    workloads = [("Deployment", o) for o in view.deployments] + [("ReplicaSet", o) for o in view.replica_sets]
    workloads += [("StatefulSet", o) for o in view.stateful_sets]
    for kind, obj in workloads:
        meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
        name = f"{kind} {meta.get('name')}"
        if meta.get("deletionTimestamp") or "observedGeneration" not in status:
            continue  # status not written yet: its creation a moment ago keeps the cluster in flux
        generation, observed = meta.get("generation"), status.get("observedGeneration")
        if isinstance(generation, int) and isinstance(observed, int) and observed < generation:
            reasons.append(f"{name} has a change its controller has not acted on yet")
            continue
        wanted, running = spec.get("replicas", 1), status.get("replicas", 0)
        if kind == "Deployment" and spec.get("paused"):
            continue
        if isinstance(wanted, int) and isinstance(running, int) and running != wanted:
            reasons.append(f"{name} runs {running} Pod(s) and is told to run {wanted}")
    reasons += _replica_sets_against_their_deployment(view)
    return reasons


def _replica_sets_against_their_deployment(view: NamespaceView) -> list[str]:
    """A Deployment's only live ReplicaSet must hold the Deployment's replica count; one scaled by
    hand is scaled back by the Deployment controller in a moment."""
    deployments = {(d.get("metadata") or {}).get("uid"): d for d in view.deployments}
    live: dict[str, list[dict]] = {}
    for replica_set in view.replica_sets:
        owner = next(
            (
                r
                for r in (replica_set.get("metadata") or {}).get("ownerReferences") or []
                if r.get("kind") == "Deployment" and r.get("controller")
            ),
            None,
        )
        if owner and owner.get("uid") in deployments and (replica_set.get("spec") or {}).get("replicas"):
            live.setdefault(owner["uid"], []).append(replica_set)
    reasons = []
    for uid, sets in live.items():
        deployment = deployments[uid]
        wanted = (deployment.get("spec") or {}).get("replicas", 1)
        if len(sets) == 1 and not (deployment.get("spec") or {}).get("paused"):
            held = (sets[0].get("spec") or {}).get("replicas")
            if isinstance(wanted, int) and held != wanted:
                reasons.append(
                    f"ReplicaSet {sets[0]['metadata']['name']} holds {held} replica(s) where Deployment "
                    f"{deployment['metadata']['name']} wants {wanted}: the Deployment controller sets it back"
                )
    return reasons


# -- pods ------------------------------------------------------------------------------
def _pod_in_flux(pod: dict, now: datetime) -> list[str]:
    meta, status = pod["metadata"], pod.get("status") or {}
    name = f"pod {meta['name']}"
    if meta.get("deletionTimestamp"):
        return [f"{name} is terminating"]
    phase = status.get("phase")
    if phase in ("Succeeded", "Failed"):
        return []
    stuck = _stuck_reason(status)
    if stuck:
        return []
    if phase != "Running":
        if _unschedulable(status):
            return []
        waiting = _first_waiting_reason(status)
        return [f"{name} is starting ({waiting or phase or 'Pending'})"]
    if pod_is_ready(pod):
        return []
    containers = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
    for container_status in status.get("containerStatuses") or []:
        if container_status.get("ready"):
            continue
        spec = containers.get(container_status.get("name")) or {}
        started = _parse_time(((container_status.get("state") or {}).get("running") or {}).get("startedAt"))
        if started is None:
            continue
        probe, kind = _pending_probe(spec, container_status)
        if probe is None:
            continue
        due = _probe_due_s(probe, kind)
        age = (now - started).total_seconds()
        if age < due:
            return [f"{name} is not Ready yet, and its {kind} probe has until {due:.0f} s after the start to pass"]
    return []


def _pending_probe(spec: dict, container_status: dict) -> tuple[dict | None, str]:
    if spec.get("startupProbe") and not container_status.get("started"):
        return spec["startupProbe"], "startup"
    if spec.get("readinessProbe"):
        return spec["readinessProbe"], "readiness"
    return None, ""


def _probe_due_s(probe: dict, kind: str) -> float:
    """How long after the container starts the probe has had its chance to pass."""
    period = probe.get("periodSeconds") or 10
    # A startup probe may fail up to failureThreshold times before it must pass.
    tries = (probe.get("failureThreshold") or 3) if kind == "startup" else (probe.get("successThreshold") or 1)
    return (probe.get("initialDelaySeconds") or 0) + period * tries + PROBE_SLACK_S


def _stuck_reason(status: dict) -> str | None:
    for container in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        reason = ((container.get("state") or {}).get("waiting") or {}).get("reason")
        if reason in STUCK_REASONS:
            return reason
    return None


def _first_waiting_reason(status: dict) -> str | None:
    for container in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        reason = ((container.get("state") or {}).get("waiting") or {}).get("reason")
        if reason:
            return reason
    return None


def _unschedulable(status: dict) -> bool:
    return any(
        c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable"
        for c in status.get("conditions") or []
    )


# -- EndpointSlices ---------------------------------------------------------------------
def _slices_behind(service: dict, pods: list[dict], slices: list[dict]) -> list[str]:
    """The controller has not yet written what the Service's selector and ports call for."""
    spec = service.get("spec") or {}
    if not spec.get("selector") or spec.get("type") == "ExternalName":
        return []
    name = service["metadata"]["name"]
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    wanted: dict[str, tuple[bool, frozenset]] = {}
    for pod in pods:
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or pod["metadata"].get("deletionTimestamp") or not matches(spec["selector"], _labels(pod)):
            continue
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        wanted[ip] = (publish_not_ready or pod_is_ready(pod), _resolved_ports(spec.get("ports") or [], pod))
    listed: dict[str, tuple[bool, frozenset]] = {}
    uid = service["metadata"].get("uid")
    for item in slices:
        labels = _labels(item)
        if (
            labels.get("kubernetes.io/service-name") != name
            or labels.get("endpointslice.kubernetes.io/managed-by") != CONTROLLER_MANAGED_BY
        ):
            continue
        owners = {
            r["uid"]
            for r in (item.get("metadata") or {}).get("ownerReferences") or []
            if r.get("kind") == "Service" and r.get("uid")
        }
        if uid and owners and uid not in owners:
            # A deleted Service of the same name: its slices go with it in a moment, and until
            # then kube-proxy still sends some requests to its old Pods' addresses.
            return [f"an EndpointSlice of an earlier Service named {name} is still being removed"]
        ports = frozenset((p.get("name") or "", p.get("port")) for p in item.get("ports") or [])
        for endpoint in item.get("endpoints") or []:
            conditions = endpoint.get("conditions") or {}
            if conditions.get("terminating"):
                continue
            for address in endpoint.get("addresses") or []:
                listed[address] = (conditions.get("ready") is not False, ports)
    if wanted == listed:
        return []
    return [f"the EndpointSlices of Service {name} do not yet match the pods it selects"]


def _resolved_ports(service_ports: list[dict], pod: dict) -> frozenset:
    """(name, port) per Service port, as the controller resolves targetPort for this pod."""
    resolved = set()
    for entry in service_ports:
        target = entry.get("targetPort", entry.get("port"))
        if isinstance(target, str) and not target.isdigit():
            target = _container_port(pod, target, entry.get("protocol") or "TCP")
            if target is None:
                continue  # the controller leaves out a port the pod does not declare
        resolved.add((entry.get("name") or "", int(target)))
    return frozenset(resolved)


def _container_port(pod: dict, name: str, protocol: str) -> int | None:
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == name and (port.get("protocol") or "TCP") == protocol:
                return port.get("containerPort")
    return None


# -- recent changes ---------------------------------------------------------------------
def _recent_changes(objects: list[tuple[str, dict]], now: datetime) -> list[str]:
    recent = []
    for kind, obj in objects:
        changed = _last_change(obj)
        if changed is None:
            continue
        age = (now - changed).total_seconds()
        if age < SETTLE_AFTER_CHANGE_S:
            recent.append((age, f"{kind} {obj['metadata']['name']}"))
    if not recent:
        return []
    recent.sort()
    names = [name for _, name in recent]
    shown = ", ".join(names[:2]) + (f" and {len(names) - 2} more" if len(names) > 2 else "")
    return [
        f"{shown} changed less than {SETTLE_AFTER_CHANGE_S:.0f} s ago (kube-proxy and DNS apply a change "
        "a moment after the API shows it)"
    ]


def _last_change(obj: dict) -> datetime | None:
    meta = obj.get("metadata") or {}
    stamps = [meta.get("creationTimestamp")] + [f.get("time") for f in meta.get("managedFields") or []]
    times = [t for t in map(_parse_time, stamps) if t is not None]
    return max(times) if times else None


def _parse_time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None


def _labels(obj: dict) -> dict:
    return (obj.get("metadata") or {}).get("labels") or {}
