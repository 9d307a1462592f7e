"""Check kinds about objects the task says to keep as they are."""

from __future__ import annotations

import hashlib
import json
import re

from ckaprep.cluster.images import normalized_image, same_image
from ckaprep.grading.checks.base import NODE_TOPOLOGY_LABELS, Outcome, check_kind, identity_labels, is_terminating
from ckaprep.grading.context import Fail, GradingContext


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


@check_kind("deployment_unchanged")
def deployment_unchanged(ctx: GradingContext, spec: dict) -> Outcome:
    """A setup Deployment keeps its labels, selector and pod template."""
    name = spec["deployment"]
    expected = f"Deployment {name} unchanged (labels, selector, pod template)"
    deployment = _require_deployment(ctx, spec, expected)
    recorded = ctx.attempt.fingerprints.get(f"Deployment/{name}")
    if recorded is None:
        raise Fail(expected, "no record of the Deployment at start", "Run `ckaprep reset` and start again.")
    if fingerprint(deployment) != recorded:
        raise Fail(
            expected, "the Deployment was changed", "The task is to fix the Service and leave the Deployment as it was."
        )
    return Outcome(expected, "unchanged")


@check_kind("readiness_probe_present")
def readiness_probe_present(ctx: GradingContext, spec: dict) -> Outcome:
    """The Deployment's containers keep a readiness probe (fixed, not removed). With `path` and
    `port` (what the task says the server reports readiness at), each probe must be an HTTP GET
    of that path on that port, written as the number or as the name of a container port."""
    name = spec["deployment"]
    path, port = spec.get("path"), spec.get("port")
    expected = f"every container of Deployment {name} has a readinessProbe"
    if path is not None:
        expected = f"every container of Deployment {name} has a readinessProbe: HTTP GET {path} on port {port}"
    deployment = _require_deployment(ctx, spec, expected)
    containers = deployment["spec"]["template"]["spec"].get("containers") or []
    without = [c["name"] for c in containers if not c.get("readinessProbe")]
    if without:
        raise Fail(
            expected,
            f"no readinessProbe on: {', '.join(without)}",
            "Removing the probe makes the Pods Ready, but traffic then reaches Pods that cannot serve it.",
        )
    if path is None:
        return Outcome(expected, "present")
    found = []
    for container in containers:
        problem = _probe_problem(container, str(path), int(port))
        if problem:
            raise Fail(expected, f"container {container['name']}: {problem[0]}", problem[1])
        found.append(_probe_words(container["readinessProbe"]))
    return Outcome(expected, "; ".join(dict.fromkeys(found)))


def _probe_words(probe: dict) -> str:
    if "httpGet" in probe:
        get = probe["httpGet"] or {}
        return f"HTTP GET {get.get('path') or '/'} on port {get.get('port')}"
    if "tcpSocket" in probe:
        return f"a TCP connection to port {(probe['tcpSocket'] or {}).get('port')}"
    if "exec" in probe:
        return f"the command {' '.join(map(str, (probe['exec'] or {}).get('command') or []))!r}"
    if "grpc" in probe:
        return f"a gRPC health check on port {(probe['grpc'] or {}).get('port')}"
    return "a probe of no known kind"


def _probe_problem(container: dict, path: str, port: int) -> tuple[str, str] | None:
    """What is wrong with a container's readiness probe, as (found, why); None when it asks the
    path the task names on its port."""
    probe = container["readinessProbe"]
    words = _probe_words(probe)
    if "httpGet" not in probe:
        return (
            f"the readinessProbe is {words}",
            f"The server reports its readiness at {path}; only an HTTP GET of that path asks it. "
            f"{'A command that always succeeds' if 'exec' in probe else 'Another kind of probe'} can call "
            "a Pod Ready that cannot serve yet.",
        )
    get = probe["httpGet"] or {}
    asked = get.get("port")
    named = {p.get("name"): p.get("containerPort") for p in container.get("ports") or [] if p.get("name")}
    number = named.get(asked) if isinstance(asked, str) and not asked.isdigit() else int(asked) if asked else None
    if isinstance(asked, str) and not asked.isdigit() and number is None:
        return (
            f"the readinessProbe asks port {asked!r}, which names no port of the container",
            f"Name the port in the container's ports, or give the number {port}.",
        )
    if number != port:
        return (f"the readinessProbe is {words}", f"The web server listens on port {port}; the probe must ask there.")
    if (get.get("path") or "/") != path:
        return (
            f"the readinessProbe is {words}",
            f"The server reports its readiness at {path}; another path may answer while the Pod cannot "
            "serve yet (a page at / is there from the start).",
        )
    return None


# -- pod_labels_kept: a Deployment's Pods carry the labels its template gives them ----------
POD_TEMPLATE_HASH = "pod-template-hash"  # added by the Deployment controller, one per template


def _template_labels(deployment_spec: dict) -> dict:
    return dict(((deployment_spec.get("template") or {}).get("metadata") or {}).get("labels") or {})


def pods_of_deployment(ctx: GradingContext, name: str, namespace: str) -> list[dict]:
    """The live Pods a Deployment made: owned by one of its ReplicaSets (`<name>-<hash>`), or
    released by it (a Pod relabelled out of its ReplicaSet's selector loses the owner but keeps
    its `<name>-<hash>-` name)."""
    found = []
    for pod in ctx.pods(namespace):
        if is_terminating(pod):
            continue
        meta = pod["metadata"]
        owners = [o for o in meta.get("ownerReferences") or [] if o.get("controller")]
        owned = any(o.get("kind") == "ReplicaSet" and str(o.get("name", "")).startswith(f"{name}-") for o in owners)
        pod_hash = (meta.get("labels") or {}).get(POD_TEMPLATE_HASH)
        released = not owners and bool(pod_hash) and meta["name"].startswith(f"{name}-{pod_hash}-")
        if owned or released:
            found.append(pod)
    return found


def _label_changes(have: dict, given: dict) -> list[str]:
    changes = []
    for key in sorted(set(have) | set(given)):
        if key not in given:
            changes.append(f"{key}={have[key]} added")
        elif key not in have:
            changes.append(f"{key} removed (the template gives {key}={given[key]})")
        elif have[key] != given[key]:
            changes.append(f"{key}={have[key]} where the template gives {key}={given[key]}")
    return changes


@check_kind("pod_labels_kept")
def pod_labels_kept(ctx: GradingContext, spec: dict) -> Outcome:
    """A Deployment's Pods carry exactly the labels its pod template gives them (none relabelled)."""
    name = spec["deployment"]
    ns = spec.get("namespace") or ctx.namespace
    expected = f"the Pods of Deployment {name} carry the labels its pod template gives them"
    deployment = _require_deployment(ctx, spec, expected)
    given = _template_labels(deployment.get("spec") or {})
    allowed = [given]
    recorded = ctx.attempt.records.get(record_key("Deployment", ns, name))
    if recorded is not None:  # during a rollout, Pods of the template at start are still live
        allowed.append(_template_labels((recorded.get("content") or {}).get("spec") or {}))
    pods = pods_of_deployment(ctx, name, ns)
    relabelled = [p for p in pods if identity_labels(p) not in allowed]
    if relabelled:
        first = relabelled[0]
        found = f"Pod {first['metadata']['name']} was relabelled by hand: " + "; ".join(
            _label_changes(identity_labels(first), given)
        )
        if len(relabelled) > 1:
            found += f" (and {len(relabelled) - 1} more Pod(s) of {name})"
        raise Fail(
            expected,
            found,
            f"The task keeps the labels Deployment {name} gives its Pods. A label set on a Pod by "
            "hand is gone when the Pod is replaced (a restart, a rollout, an eviction), so change "
            f"what selects the Pods (a Service's selector) instead; `kubectl rollout restart "
            f"deployment {name}` brings back Pods labelled as the template says.",
        )
    return Outcome(expected, f"{len(pods)} Pod(s), each labelled as the template says")


@check_kind("pod_containers")
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
    # One image may be written several ways (busybox:1.36.1, docker.io/library/busybox:1.36.1).
    same = [i for i, image in enumerate(images) if same_image(str(image or ""), want_image)]
    if not same:
        raise Fail(
            expected,
            f"image {', '.join(map(str, images))}",
            f"The task says to recreate the Pod with the same image, {want_image} (that is "
            f"{normalized_image(want_image)} however it is written); "
            "`kubectl get pod -o yaml | kubectl replace --force -f -` keeps it.",
        )
    if want_command is not None:
        container = containers[same[0]]
        got = (container.get("command") or []) + (container.get("args") or [])
        if got != list(want_command):
            raise Fail(
                expected,
                f"command {json.dumps(got)}",
                "The task says to recreate the Pod with the same command.",
            )
    shown = images[same[0]]
    return Outcome(expected, f"image {shown}" + (", same command" if want_command is not None else ""))


# -- object_unchanged: "keep X as it is" means the whole object ---------------------------
# What the server fills in, and so differs between two equal answers: the allocated address
# (immutable for the object's life, so a change shows as a new uid first) and the defaults it
# writes when a field is left out. Absent and default compare equal.
SERVER_FILLED = {
    "Service": ("spec.clusterIP", "spec.clusterIPs", "spec.ipFamilies", "spec.ipFamilyPolicy"),
    "Pod": ("spec.nodeName",),  # the scheduler writes it after the create answered
}
SERVICE_DEFAULTS = {"type": "ClusterIP", "sessionAffinity": "None", "internalTrafficPolicy": "Cluster"}
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # `kubectl rollout restart` changes nothing that matters


def record_of(obj: dict) -> dict:
    """What `start` keeps of a setup object to tell later whether it was kept: its uid, its
    labels and its content (spec, or data / subsets for the kinds without a spec)."""
    content = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}
    content = {k: v for k, v in content.items() if not k.startswith("_")}  # the fake's bookkeeping
    return {
        "uid": (obj.get("metadata") or {}).get("uid") or "",
        "labels": (obj.get("metadata") or {}).get("labels") or {},
        "content": json.loads(json.dumps(content)),
    }


def record_key(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind}/{namespace or ''}/{name}"


def _normalized(kind: str, record: dict) -> dict:
    material = json.loads(json.dumps({"metadata": {"labels": record["labels"]}, **record["content"]}))
    for path in SERVER_FILLED.get(kind, ()):
        parent, _, last = path.rpartition(".")
        holder = material
        for part in parent.split("."):
            holder = holder.get(part) or {}
        holder.pop(last, None)
    if kind == "Pod":  # copied from the Node when the Pod is placed, after start recorded it
        for key in NODE_TOPOLOGY_LABELS:
            material["metadata"]["labels"].pop(key, None)
    spec = material.get("spec")
    if kind == "Service" and isinstance(spec, dict):
        for key, default in SERVICE_DEFAULTS.items():
            spec.setdefault(key, default)
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
    if isinstance(spec, dict):  # one image written two ways (busybox:1.36.1) is the same image
        pod_spec = spec if kind == "Pod" else (spec.get("template") or {}).get("spec")
        for container in ((pod_spec or {}).get("containers") or []) + ((pod_spec or {}).get("initContainers") or []):
            if isinstance(container, dict) and isinstance(container.get("image"), str):
                container["image"] = normalized_image(container["image"])
    if kind == "Deployment" and isinstance(spec, dict):
        meta = (spec.get("template") or {}).get("metadata") or {}
        meta.pop("creationTimestamp", None)
        annotations = meta.get("annotations") or {}
        annotations.pop(RESTARTED_AT, None)
        if not annotations:
            meta.pop("annotations", None)
    return material


def _list_key(item) -> str | None:
    """Lists of named things (ports, containers, env) are compared by name, in any order."""
    if isinstance(item, dict):
        if item.get("name"):
            return str(item["name"])
        if "port" in item:
            return str(item["port"])
    return None


class _Absent:
    def __repr__(self):
        return "absent"


_ABSENT = _Absent()
ANY_ITEM = "[*]"


def differences(old, new, path: tuple = ()) -> list[tuple[tuple, object, object]]:
    """(path, before, after) for every leaf that differs. A path is a tuple of keys; a list
    item is "[key]", keyed by its name (or port) where every item has one, else by position."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new), key=str):
            sub = (*path, str(key))
            if key not in old:
                found.append((sub, _ABSENT, new[key]))
            elif key not in new:
                found.append((sub, old[key], _ABSENT))
            else:
                found += differences(old[key], new[key], sub)
        return found
    if isinstance(old, list) and isinstance(new, list):
        old_keys, new_keys = [_list_key(i) for i in old], [_list_key(i) for i in new]
        keyed = None not in old_keys + new_keys
        if keyed and len(set(old_keys)) == len(old) and len(set(new_keys)) == len(new):
            before, after = dict(zip(old_keys, old)), dict(zip(new_keys, new))
        elif len(old) == len(new):
            before, after = dict(enumerate(old)), dict(enumerate(new))
        else:
            return [(path, old, new)]
        found = []
        for key in list(before) + [k for k in after if k not in before]:
            sub = (*path, f"[{key}]")
            if key not in after:
                found.append((sub, before[key], _ABSENT))
            elif key not in before:
                found.append((sub, _ABSENT, after[key]))
            else:
                found += differences(before[key], after[key], sub)
        return found
    return [] if old == new else [(path, old, new)]


def parse_path(text: str) -> tuple:
    """ "spec.ports[*].targetPort" -> ("spec", "ports", "[*]", "targetPort")."""
    return tuple(p for p in re.split(r"\.|(\[[^\]]*\])", text) if p)


def _allowed(path: tuple, allow: list[str]) -> bool:
    for pattern in map(parse_path, allow):
        if len(pattern) <= len(path) and all(
            w == p or (w == ANY_ITEM and p.startswith("[")) for w, p in zip(pattern, path)
        ):
            return True
    return False


def shown_path(path: tuple) -> str:
    return "".join(p if p.startswith("[") or i == 0 else f".{p}" for i, p in enumerate(path))


def _shown_value(value) -> str:
    if value is _ABSENT:
        return "absent"
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 40 else text[:37] + "..."


def describe_changes(changes: list[tuple[tuple, object, object]], limit: int = 3) -> str:
    parts = [f"{shown_path(p)} {_shown_value(a)} → {_shown_value(b)}" for p, a, b in changes[:limit]]
    if len(changes) > limit:
        parts.append(f"and {len(changes) - limit} more change(s)")
    return "; ".join(parts)


@check_kind("object_unchanged")
def object_unchanged(ctx: GradingContext, spec: dict) -> Outcome:
    """A setup object is kept: the same object as at start, its spec unchanged but for what the
    task allows (`allow`: field paths such as spec.selector or spec.ports[*].targetPort)."""
    kind, _, name = str(spec["object"]).partition("/")
    ns = spec.get("namespace") or ctx.namespace
    allow = [str(a) for a in spec.get("allow") or []]
    expected = f"{kind} {name} kept as it was at start"
    if allow:
        expected += f" (only {', '.join(allow)} may change)"
    recorded = ctx.attempt.records.get(record_key(kind, ns, name))
    if recorded is None:
        raise Fail(
            expected,
            f"no record of {kind} {name} from start",
            "This attempt was started by an older ckaprep, or the object is not part of the "
            "exercise's setup; run `ckaprep reset` and start the exercise again.",
        )
    live = ctx.get(kind, name, ns)
    if live is None:
        raise Fail(expected, f"{kind} {name} is gone", f"The task says to keep {kind} {name}; it was deleted.")
    now = record_of(live)
    if recorded["uid"] and now["uid"] and now["uid"] != recorded["uid"]:
        extra = " and a new ClusterIP" if kind == "Service" else ""
        raise Fail(
            expected,
            f"deleted and recreated: new uid {now['uid']} (was {recorded['uid']})",
            f"The task keeps {kind} {name} itself; a recreated object is another object, with a "
            f"new uid{extra}. Edit it in place (kubectl edit, patch or apply) instead.",
        )
    changes = [c for c in differences(_normalized(kind, recorded), _normalized(kind, now)) if not _allowed(c[0], allow)]
    if changes:
        raise Fail(
            expected,
            f"changed: {describe_changes(changes)}",
            f"The task says to keep {kind} {name} as it is"
            + (f", apart from {', '.join(allow)}" if allow else "")
            + "; change it back.",
        )
    return Outcome(expected, "same object, unchanged" + (f" apart from {', '.join(allow)}" if allow else ""))
