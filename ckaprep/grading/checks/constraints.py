"""Check kinds about objects the task says to keep as they are."""

from __future__ import annotations

import hashlib
import json

from ckaprep.grading.checks.base import Outcome, check_kind
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


@check_kind("deployment_unchanged", required={"deployment"}, optional={"namespace"})
def deployment_unchanged(ctx: GradingContext, spec: dict) -> Outcome:
    """A setup Deployment keeps its labels, selector and pod template."""
    name = spec["deployment"]
    expected = f"Deployment {name} unchanged (labels, selector, pod template)"
    deployment = _require_deployment(ctx, spec, expected)
    recorded = ctx.attempt.fingerprints.get(f"Deployment/{name}")
    if recorded is None:
        raise Fail(expected, "no record of the Deployment at start", "Run `ckaprep reset` and start again.")
    if fingerprint(deployment) != recorded:
        raise Fail(expected, "the Deployment was changed", "The task is to fix the Service and leave the Deployment as it was.")
    return Outcome(expected, "unchanged")


@check_kind("readiness_probe_present", required={"deployment"}, optional={"namespace"})
def readiness_probe_present(ctx: GradingContext, spec: dict) -> Outcome:
    """The Deployment's containers keep a readiness probe (fixed, not removed)."""
    name = spec["deployment"]
    expected = f"every container of Deployment {name} has a readinessProbe"
    deployment = _require_deployment(ctx, spec, expected)
    containers = deployment["spec"]["template"]["spec"].get("containers") or []
    without = [c["name"] for c in containers if not c.get("readinessProbe")]
    if without:
        raise Fail(
            expected,
            f"no readinessProbe on: {', '.join(without)}",
            "Removing the probe makes the Pods Ready, but traffic then reaches Pods that cannot serve it.",
        )
    return Outcome(expected, "present")


@check_kind("pod_containers", required={"pod", "image"}, optional={"command", "namespace"})
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
    if want_image not in images:
        raise Fail(
            expected,
            f"image {', '.join(map(str, images))}",
            "The task says to recreate the Pod with the same image; "
            "`kubectl get pod -o yaml | kubectl replace --force -f -` keeps it.",
        )
    if want_command is not None:
        container = containers[images.index(want_image)]
        got = (container.get("command") or []) + (container.get("args") or [])
        if got != list(want_command):
            raise Fail(
                expected,
                f"command {json.dumps(got)}",
                "The task says to recreate the Pod with the same command.",
            )
    return Outcome(expected, f"image {want_image}" + (", same command" if want_command is not None else ""))
