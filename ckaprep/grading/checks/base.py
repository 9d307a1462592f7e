"""The check registry, and helpers that several check kinds share.

Each kind is a function from the grading context and the check's rendered
fields to an `Outcome`, or raises `Fail` with a reason. Kinds marked
`settles` depend on the cluster converging and are polled while they fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ckaprep.catalogue.check_fields import CHECK_FIELDS, COMMON_FIELDS  # noqa: F401 (COMMON_FIELDS: part of this API)
from ckaprep.cluster.labels import matches, parse_selector, selector_string
from ckaprep.grading.context import GradingContext


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
# More reasons http_probe may give for a failed request, each (ctx, service, failed results,
# source namespace) -> text or "": kinds of other modules add theirs (NetworkPolicy, traffic
# policy), so that http_probe needs no import of them.
PROBE_ADVISORS: list = []


def check_kind(name: str, *, settles=False):
    """Register the implementation of a check kind; its fields are those the exercise file
    format gives it (`ckaprep.catalogue.check_fields`)."""
    fields = CHECK_FIELDS[name]  # a kind the file format does not know is a KeyError at import

    def register(func):
        KINDS[name] = CheckKind(
            name,
            func,
            fields.required,
            fields.optional,
            settles,
            (func.__doc__ or "").strip().splitlines()[0],
            fields.choices,
        )
        return func

    return register


def names_of(objs: list[dict]) -> list[str]:
    return sorted(o["metadata"]["name"] for o in objs)


def labels_of(obj: dict) -> dict:
    return obj["metadata"].get("labels") or {}


def is_terminating(pod: dict) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def live_pods(ctx: GradingContext, namespace: str | None) -> list[dict]:
    """Pods that can be backends: a terminating pod never receives new traffic."""
    return [p for p in ctx.pods(namespace) if not is_terminating(p)]


def backend_pods(ctx: GradingContext, spec: dict, field: str = "backends") -> list[dict]:
    selector = parse_selector(spec[field])
    namespace = spec.get("backends_namespace")
    return [p for p in live_pods(ctx, namespace) if matches(selector, labels_of(p))]


# Labels a controller adds to the Pods it makes, beyond those of the pod template: the
# Deployment's ReplicaSet hash, and a StatefulSet's revision, Pod name and index.
CONTROLLER_LABELS = (
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
)


# Labels the API server copies onto a Pod from the Node it is bound to (the PodTopologyLabels
# admission, seen on the test cluster's Kubernetes 1.37): a Pod placed in a zone carries that
# zone. No learner sets them, and they are not the template's.
NODE_TOPOLOGY_LABELS = ("topology.kubernetes.io/zone", "topology.kubernetes.io/region")


def identity_labels(pod: dict) -> dict:
    """A pod's labels without those its controller adds (the template's labels, for a Pod of a
    Deployment or StatefulSet) and those copied from its Node."""
    return {k: v for k, v in labels_of(pod).items() if k not in CONTROLLER_LABELS + NODE_TOPOLOGY_LABELS}


def port_label(port: dict) -> str:
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


def _container_ports(pod: dict) -> list[dict]:
    return [entry for container in pod["spec"].get("containers") or [] for entry in container.get("ports") or []]


def container_port_named(pod: dict, name: str, protocol: str = "TCP") -> int | None:
    """The number a named targetPort resolves to on this Pod, as the EndpointSlice controller
    resolves it: by name and protocol (a UDP Service port never resolves to a TCP container port)."""
    for entry in _container_ports(pod):
        if entry.get("name") == name and (entry.get("protocol") or "TCP") == protocol:
            return entry.get("containerPort")
    return None


def container_port_protocols(pod: dict, name: str) -> set[str]:
    """The protocols of the Pod's container ports of that name."""
    return {entry.get("protocol") or "TCP" for entry in _container_ports(pod) if entry.get("name") == name}


def container_port_names(pod: dict, number: int, protocol: str = "TCP") -> list[str]:
    return [
        entry["name"]
        for entry in _container_ports(pod)
        if entry.get("containerPort") == number and entry.get("name") and (entry.get("protocol") or "TCP") == protocol
    ]


def protocol_mismatch(pods: list[dict], name: str, protocol: str) -> str:
    """When a named targetPort resolves on none of these Pods only because their port of that
    name carries another protocol, why; else ""."""
    if any(container_port_named(p, name, protocol) is not None for p in pods):
        return ""
    others = sorted({pr for p in pods for pr in container_port_protocols(p, name)} - {protocol})
    if not others:
        return ""
    return (
        f"The container port named {name!r} carries {' and '.join(others)}, and a {protocol} "
        f"Service port resolves a name only among the {protocol} container ports (the "
        "EndpointSlice controller matches name and protocol), so it resolves to nothing and "
        f"the Pods get no {protocol} traffic through it."
    )


def describe_target(target) -> str:
    return f"named port {target!r}" if isinstance(target, str) else f"port {target}"


# -- selectors that hold across rollouts ---------------------------------------------------------
# Labels a controller gives only one Pod, or only the Pods of one revision of a template: a
# selector that names one picks today's Pods and none (or one) of those made later.
PINNING_LABELS = {
    "pod-template-hash": "the Deployment controller gives only the Pods of one ReplicaSet, "
    "those of one version of the pod template",
    "controller-revision-hash": "the StatefulSet controller gives only the Pods of one revision of its pod template",
    "statefulset.kubernetes.io/pod-name": "the StatefulSet controller gives one Pod alone",
    "apps.kubernetes.io/pod-index": "the StatefulSet controller gives one Pod alone",
    "topology.kubernetes.io/zone": "the API server copies onto a Pod from the Node it is placed on",
    "topology.kubernetes.io/region": "the API server copies onto a Pod from the Node it is placed on",
}


def pinning_labels(selector: dict, asked: dict) -> list[tuple[str, str]]:
    """The selector's labels that pin it to today's Pods; a label the task names (`asked`,
    the check's backends) never does."""
    return [(k, v) for k, v in selector.items() if k in PINNING_LABELS and asked.get(k) != v]


def template_labels(workload: dict) -> dict:
    return dict((((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {})


def workloads_of(ctx: GradingContext, pods: list[dict], namespace: str | None) -> list[dict]:
    """The Deployments and StatefulSets that make these Pods, each with its `kind`; a kind is
    read only when one of the Pods says a controller of it owns the Pod."""
    owners = {o.get("kind") for p in pods for o in p["metadata"].get("ownerReferences") or [] if o.get("controller")}
    found = []
    for owner_kind, kind in (("ReplicaSet", "Deployment"), ("StatefulSet", "StatefulSet")):
        if owner_kind not in owners:
            continue
        for workload in ctx.list(kind, namespace):
            wanted = parse_selector(((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
            if any(matches(wanted, labels_of(p)) for p in pods):
                found.append({**workload, "kind": kind})
    return found


def why_pinned(ctx: GradingContext, label: tuple[str, str], pods: list[dict], namespace: str | None) -> str:
    """Why a selector that names `label` stops finding the Pods, and what to select on instead."""
    key, value = label
    shown = "; ".join(
        f"{w['kind']} {w['metadata']['name']}: {selector_string(template_labels(w))}"
        for w in workloads_of(ctx, pods, namespace)
    )
    instead = (
        f"Select on the labels of the pod template instead ({shown})."
        if shown
        else "Select on the labels the backend Pods share instead."
    )
    said = f"The selector includes {key}={value}, a label {PINNING_LABELS[key]}."
    if key in ("pod-template-hash", "controller-revision-hash"):
        said += (
            " It selects today's Pods, but the next rollout (a new image, a changed template, "
            "kubectl rollout restart) makes Pods with another hash, and leaves the Service with "
            "no endpoints."
        )
        if key == "pod-template-hash":
            said += " kubectl expose pod copies it into the selector; kubectl expose deployment does not."
    elif key in NODE_TOPOLOGY_LABELS:
        said += (
            " The Service reaches only the Pods the scheduler happened to place there; Pods "
            "made later in another zone get no traffic. kubectl expose pod copies it into the "
            "selector."
        )
    else:
        said += " The Service sends everything to that one Pod, and none to the others."
    return f"{said} {instead}"
