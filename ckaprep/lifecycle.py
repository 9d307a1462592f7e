"""Setting an exercise up in the cluster and taking it down again.

Only namespaces labelled as ckaprep's own are ever deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ckaprep.catalogue import Exercise
from ckaprep.cluster import Cluster
from ckaprep.errors import NotOwnedError, StateError, WaitTimeout
from ckaprep.grading.checks import fingerprint
from ckaprep.labels import EXERCISE_LABEL, OWNER_LABEL, OWNER_VALUE, is_owned, matches
from ckaprep.state import Attempt
from ckaprep.waiting import Waiter, pod_is_ready, pod_is_running, raise_if_image_pull_failed

SETUP_TIMEOUT_S = 180
DELETE_TIMEOUT_S = 120


def start_attempt(
    exercise: Exercise,
    cluster: Cluster,
    *,
    seed: int,
    now: datetime,
    record: Callable[[Attempt], None],
    force: bool = False,
    context: str | None = None,
    waiter: Waiter = Waiter(),
    timeout_s: float = SETUP_TIMEOUT_S,
) -> Attempt:
    """Create the namespaces and setup objects, recording the attempt before anything is created
    so that an interrupted start can always be reset."""
    params = exercise.choose_params(seed)
    namespaces = exercise.namespaces_for(params)
    _clear_the_way(cluster, namespaces, force=force, waiter=waiter)
    attempt = Attempt(
        exercise=exercise.id,
        params=params,
        namespaces=namespaces,
        started_at=now.isoformat(),
        seed=seed,
        context=context,
    )
    record(attempt)
    for ns in namespaces:
        waiter.progress(f"creating namespace {ns}")
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "labels": {OWNER_LABEL: OWNER_VALUE, EXERCISE_LABEL: exercise.id}},
            }
        )
    manifests = exercise.setup_for(params)
    for manifest in manifests:
        meta = manifest["metadata"]
        waiter.progress(f"creating {manifest['kind']} {meta.get('namespace', '')}/{meta['name']}")
        cluster.create(manifest)
    wait_for_setup(cluster, manifests, namespaces, exercise.setup_wait, waiter, timeout_s)
    for manifest in manifests:
        if manifest["kind"] == "Deployment":
            meta = manifest["metadata"]
            live = cluster.get("Deployment", meta["namespace"], meta["name"])
            attempt.fingerprints[f"Deployment/{meta['name']}"] = fingerprint(live)
    record(attempt)
    return attempt


def _clear_the_way(cluster: Cluster, namespaces: list[str], *, force: bool, waiter: Waiter):
    for ns in namespaces:
        existing = cluster.get("Namespace", None, ns)
        if existing is None:
            continue
        if not is_owned(existing):
            raise NotOwnedError(
                f"namespace {ns} already exists and was not created by ckaprep; it will not be touched "
                "(start again with another --seed)"
            )
        if not force:
            raise StateError(
                f"namespace {ns} is left over from an earlier attempt; run `ckaprep reset` or use --force"
            )
    if force:
        delete_namespaces(cluster, namespaces, waiter=waiter)


def _setup_is_settled(cluster: Cluster, manifests: list[dict], namespaces: list[str], mode: str) -> bool:
    pods = [p for ns in namespaces for p in cluster.list("Pod", ns)]
    for pod in pods:
        raise_if_image_pull_failed(pod)
    pod_ok = pod_is_ready if mode == "ready" else pod_is_running
    for manifest in manifests:
        meta = manifest["metadata"]
        if manifest["kind"] == "Pod":
            if not pod_ok(cluster.get("Pod", meta["namespace"], meta["name"])):
                return False
        elif manifest["kind"] == "Deployment":
            selector = manifest["spec"]["selector"]["matchLabels"]
            owned = [
                p for p in pods
                if p["metadata"]["namespace"] == meta["namespace"]
                and matches(selector, p["metadata"].get("labels"))
                and not p["metadata"].get("deletionTimestamp")
            ]  # fmt: skip
            if sum(map(pod_ok, owned)) < manifest["spec"].get("replicas", 1):
                return False
    return True


def wait_for_setup(cluster, manifests, namespaces, mode, waiter: Waiter, timeout_s) -> None:
    waiter.until(
        lambda: _setup_is_settled(cluster, manifests, namespaces, mode),
        timeout_s=timeout_s,
        what="waiting for the exercise's pods to be " + ("ready" if mode == "ready" else "running"),
    )


def delete_namespaces(
    cluster: Cluster,
    namespaces: list[str],
    *,
    waiter: Waiter = Waiter(),
    timeout_s: float = DELETE_TIMEOUT_S,
) -> list[str]:
    """Delete the namespaces ckaprep owns and wait until they are gone. Returns what was left alone."""
    left_alone, deleting = [], []
    for ns in namespaces:
        existing = cluster.get("Namespace", None, ns)
        if existing is None:
            continue
        if not is_owned(existing):
            left_alone.append(ns)
            continue
        if not existing["metadata"].get("deletionTimestamp"):
            cluster.delete("Namespace", None, ns)
        deleting.append(ns)
    try:
        waiter.until(
            lambda: all(cluster.get("Namespace", None, ns) is None for ns in deleting),
            timeout_s=timeout_s,
            what=f"deleting namespace(s) {', '.join(deleting)}",
        )
    except WaitTimeout:
        stuck = [ns for ns in deleting if cluster.get("Namespace", None, ns) is not None]
        raise WaitTimeout(
            f"namespace(s) {', '.join(stuck)} still terminating after {timeout_s:.0f}s; "
            f"see `kubectl get namespace {stuck[0]} -o yaml` for finalizers or stuck resources"
        ) from None
    return left_alone
