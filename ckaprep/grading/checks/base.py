"""The check registry, and helpers that several check kinds share.

Each kind is a function from the grading context and the check's rendered
fields to an `Outcome`, or raises `Fail` with a reason. Kinds marked
`settles` depend on the cluster converging and are polled while they fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ckaprep.grading.context import GradingContext
from ckaprep.cluster.labels import matches, parse_selector


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


def identity_labels(pod: dict) -> dict:
    """A pod's labels without the hash the Deployment controller adds."""
    return {k: v for k, v in labels_of(pod).items() if k != "pod-template-hash"}


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


def container_port_named(pod: dict, name: str) -> int | None:
    for container in pod["spec"].get("containers") or []:
        for entry in container.get("ports") or []:
            if entry.get("name") == name:
                return entry.get("containerPort")
    return None


def container_port_names(pod: dict, number: int) -> list[str]:
    return [
        entry["name"]
        for container in pod["spec"].get("containers") or []
        for entry in container.get("ports") or []
        if entry.get("containerPort") == number and entry.get("name")
    ]


def describe_target(target) -> str:
    return f"named port {target!r}" if isinstance(target, str) else f"port {target}"
