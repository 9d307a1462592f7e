"""Setting an exercise up in the cluster and taking it down again.

Only namespaces labelled as ckaprep's own and as the attempt's are ever deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ckaprep.attempts import Attempt, new_id
from ckaprep.catalogue.exercise import Exercise
from ckaprep.cluster import Cluster
from ckaprep.cluster.labels import (
    ATTEMPT_LABEL,
    EXAM_LABEL,
    EXERCISE_LABEL,
    OWNER_LABEL,
    OWNER_VALUE,
    belongs_to,
    matches,
)
from ckaprep.cluster.service_range import CLAIMS_ANNOTATION
from ckaprep.cluster.waiting import Waiter, pod_is_ready, pod_is_running, pod_is_stuck, raise_if_image_pull_failed
from ckaprep.errors import (
    CkaprepError,
    ClusterError,
    ImagePullError,
    Interrupted,
    PermissionDenied,
    StateError,
    WaitTimeout,
)
from ckaprep.grading.checks import fingerprint
from ckaprep.grading.checks.constraints import record_key, record_of
from ckaprep.practice.state import StateStore
from ckaprep.practice.workspace import (  # noqa: F401 (OwnCluster, ensure_namespaces_free: part of this API)
    OWN_CLUSTER,
    OwnCluster,
    Workspace,
    ensure_namespaces_free,
)

SETUP_TIMEOUT_S = 180
DELETE_TIMEOUT_S = 120


def plan_attempt(
    exercise: Exercise,
    *,
    seed: int,
    now: datetime,
    context: str | None = None,
    exam: str | None = None,
    faults: list[str] | None = None,
    workspace: Workspace | None = None,
    params: dict | None = None,
) -> Attempt:
    """The attempt's id, parameters and namespaces; nothing is created yet. `faults` pins the
    draw of an exercise with a fault pool (a proof does). The workspace places the exercise's
    namespaces (a classroom seat's are the seat's). `params` are the seed's parameters when the
    caller drew them already (an exam's draw does), never drawn twice."""
    workspace = workspace or OWN_CLUSTER
    params, namespaces = workspace.place(exercise, seed, faults=faults, params=params)
    return Attempt(
        exercise=exercise.id,
        params=params,
        namespaces=namespaces,
        started_at=now.isoformat(),
        seed=seed,
        context=context,
        id=new_id(),
        exam=exam,
        set_up_done=False,
        seat=workspace.seat_id,
    )


def start_attempt(
    exercise: Exercise,
    cluster: Cluster,
    *,
    seed: int,
    now: datetime,
    record: Callable[[Attempt], None],
    context: str | None = None,
    waiter: Waiter = Waiter(),
    timeout_s: float = SETUP_TIMEOUT_S,
    faults: list[str] | None = None,
    workspace: Workspace | None = None,
) -> Attempt:
    """Create the namespaces and setup objects, recording the attempt before anything is created
    so that an interrupted start can always be reset. A seat's namespaces are emptied instead."""
    workspace = workspace or OWN_CLUSTER
    attempt = plan_attempt(exercise, seed=seed, now=now, context=context, faults=faults, workspace=workspace)
    workspace.prepare(cluster, attempt.namespaces, waiter=waiter)
    record(attempt)
    set_up(exercise, attempt, cluster, record=record, waiter=waiter, timeout_s=timeout_s)
    return attempt


def set_up(
    exercise: Exercise,
    attempt: Attempt,
    cluster: Cluster,
    *,
    record: Callable[[Attempt], None],
    waiter: Waiter = Waiter(),
    timeout_s: float = SETUP_TIMEOUT_S,
    resume: bool = False,
) -> None:
    """Create an already recorded attempt's namespaces and objects and wait until they settle.
    `resume` finishes a setup that was cut short: what this attempt already created is kept."""
    params = exercise.resolve_cluster_params(attempt.params, cluster)
    if params != attempt.params:  # read from the cluster (e.g. a free address in the Service range)
        attempt.params = params
        record(attempt)
    labels = {OWNER_LABEL: OWNER_VALUE, EXERCISE_LABEL: exercise.id}
    if attempt.id:
        labels[ATTEMPT_LABEL] = attempt.id
    if attempt.exam:
        labels[EXAM_LABEL] = attempt.exam
    claims = exercise.cluster_addresses(attempt.params)
    annotations = {CLAIMS_ANNOTATION: ",".join(claims)} if claims else {}
    for ns in [] if attempt.seat else attempt.namespaces:  # a seat's namespaces exist already
        if resume and _created_by(cluster, ns, attempt):
            continue
        waiter.progress(f"creating namespace {ns}")
        metadata = {"name": ns, "labels": dict(labels)} | ({"annotations": dict(annotations)} if annotations else {})
        cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
    manifests = exercise.setup_for(attempt.params)
    created = []
    for manifest in manifests:
        meta = manifest["metadata"]
        live = cluster.get(manifest["kind"], meta.get("namespace"), meta["name"]) if resume else None
        if live is not None:  # in this attempt's own namespaces: made by its first start
            created.append(live)
            continue
        waiter.progress(f"creating {manifest['kind']} {meta.get('namespace', '')}/{meta['name']}")
        created.append(create_once_admitted(cluster, manifest, waiter))
    # Kept before the wait, so that a setup that times out still has them for `check`.
    # A resumed setup keeps what its first start recorded of the objects it made then.
    attempt.records = records_at_start(cluster, manifests, created) | (attempt.records if resume else {})
    record(attempt)
    wait_for_setup(cluster, manifests, attempt.namespaces, exercise.setup_wait, waiter, timeout_s)
    fingerprints = dict(attempt.fingerprints)
    for manifest in manifests:
        if manifest["kind"] == "Deployment":
            meta = manifest["metadata"]
            live = cluster.get("Deployment", meta["namespace"], meta["name"])
            fingerprints[f"Deployment/{meta['name']}"] = fingerprint(live)
    # Replaced whole, never changed in place: an exam's other tasks may be saving it right now.
    attempt.fingerprints = fingerprints
    attempt.set_up_done = True
    record(attempt)


def _created_by(cluster: Cluster, namespace: str, attempt: Attempt) -> bool:
    """Whether the namespace exists as this attempt made it; one that exists otherwise is refused."""
    found = cluster.get("Namespace", None, namespace)
    if found is None:
        return False
    labels = found["metadata"].get("labels") or {}
    if labels.get(OWNER_LABEL) != OWNER_VALUE or (attempt.id and labels.get(ATTEMPT_LABEL) != attempt.id):
        ensure_namespaces_free(cluster, [namespace])  # says whose it is
    return True


NO_DEFAULT_ACCOUNT = 'serviceaccount "default" not found'
ACCOUNT_WAIT_S = 60.0


def create_once_admitted(cluster: Cluster, manifest: dict, waiter: Waiter) -> dict:
    """Create the object; a Pod refused because its new namespace has no `default`
    ServiceAccount yet is created again once the controller has made it. (A namespace is
    without one for a moment, longer while kube-controller-manager reconnects after an API
    server restart.)"""
    created: list[dict] = []

    def attempt() -> bool:
        try:
            created.append(cluster.create(manifest))
            return True
        except PermissionDenied as exc:
            if NO_DEFAULT_ACCOUNT not in exc.message:
                raise
            return False

    if not attempt():
        ns = manifest["metadata"].get("namespace", "")
        waiter.until(
            attempt,
            timeout_s=ACCOUNT_WAIT_S,
            what=f"the default ServiceAccount of namespace {ns} (made by the cluster's controllers)",
        )
    return created[0]


def records_at_start(cluster: Cluster, manifests: list[dict], created: list) -> dict[str, dict]:
    """What each setup object is as the server stored it (uid, labels, spec with the server's
    defaults), so that `object_unchanged` compares like with like. Read from the create
    response, or read back when a response lacks the uid."""
    records = {}
    for manifest, response in zip(manifests, created):
        meta = manifest["metadata"]
        namespace = meta.get("namespace")
        stored = response if isinstance(response, dict) and (response.get("metadata") or {}).get("uid") else None
        stored = stored or cluster.get(manifest["kind"], namespace, meta["name"])
        if stored is not None:
            records[record_key(manifest["kind"], namespace, meta["name"])] = record_of(stored)
    return records


def _setup_is_settled(cluster: Cluster, manifests: list[dict], namespaces: list[str], mode: str) -> bool:
    pods = [p for ns in namespaces for p in cluster.list("Pod", ns)]
    if mode != "started":  # "started" sets faults up on purpose, a pod that cannot pull among them
        for pod in pods:
            raise_if_image_pull_failed(pod)
    pod_ok = {"ready": pod_is_ready, "running": pod_is_running}.get(
        mode, lambda pod: pod_is_running(pod) or pod_is_stuck(pod)
    )
    for manifest in manifests:
        meta = manifest["metadata"]
        if manifest["kind"] == "Pod":
            if not pod_ok(cluster.get("Pod", meta["namespace"], meta["name"])):
                return False
        elif manifest["kind"] in ("Deployment", "StatefulSet"):
            selector = manifest["spec"]["selector"]["matchLabels"]
            owned = [
                p
                for p in pods
                if p["metadata"]["namespace"] == meta["namespace"]
                and matches(selector, p["metadata"].get("labels"))
                and not p["metadata"].get("deletionTimestamp")
            ]
            if sum(map(pod_ok, owned)) < manifest["spec"].get("replicas", 1):
                return False
    return True


def wait_for_setup(cluster, manifests, namespaces, mode, waiter: Waiter, timeout_s) -> None:
    waiter.until(
        lambda: _setup_is_settled(cluster, manifests, namespaces, mode),
        timeout_s=timeout_s,
        what="waiting for the exercise's pods to be "
        + {"ready": "ready", "running": "running"}.get(mode, "running or stuck"),
    )


def delete_attempts(
    cluster: Cluster,
    attempts: list[Attempt],
    *,
    waiter: Waiter = Waiter(),
    timeout_s: float = DELETE_TIMEOUT_S,
    deleting_out: list[str] | None = None,
    workspace: Workspace | None = None,
) -> list[str]:
    """Delete the attempts' namespaces and wait until they are gone. A namespace is deleted only
    when it carries both ckaprep's ownership label and the attempt's id. Returns what was left alone.

    With `deleting_out`, the namespaces being deleted are appended to it and nothing waits:
    the caller waits for them later (see `wait_for_deletion`)."""
    left_alone, deleting = [], []
    seated = [ns for attempt in attempts if attempt.seat for ns in attempt.namespaces]
    if seated:  # a classroom seat keeps its namespaces: only what was made in them goes
        (workspace or OWN_CLUSTER).clear(cluster, seated, waiter=waiter)
    for attempt in attempts:
        for ns in [] if attempt.seat else attempt.namespaces:
            existing = cluster.get("Namespace", None, ns)
            if existing is None:
                continue
            if not belongs_to(existing, attempt.id):
                left_alone.append(ns)
                continue
            if not existing["metadata"].get("deletionTimestamp"):
                cluster.delete("Namespace", None, ns)
            deleting.append(ns)
    if deleting_out is not None:
        deleting_out.extend(deleting)
        return left_alone
    wait_for_deletion(cluster, deleting, waiter=waiter, timeout_s=timeout_s)
    return left_alone


def wait_for_deletion(
    cluster: Cluster, deleting: list[str], *, waiter: Waiter = Waiter(), timeout_s: float = DELETE_TIMEOUT_S
) -> None:
    """Wait until every namespace in `deleting` is gone."""
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


def start_drill(
    workspace: Workspace,
    exercise: Exercise,
    cluster: Cluster,
    *,
    seed: int,
    now: datetime,
    force: bool = False,
    context: str | None = None,
    waiter: Waiter = Waiter(),
    timeout_s: float = SETUP_TIMEOUT_S,
    faults: list[str] | None = None,
) -> Attempt:
    """`ckaprep start`: the whole read-check-create runs under the state lock, so a second
    start waits and then finds this attempt active instead of orphaning either one. `faults`
    pins the draw of a fault pool (to the faults the cluster supports)."""
    store = workspace.store
    with rescued_start(store.load, what="exercise", reset_command="ckaprep reset"):
        with store.locked(progress=waiter.progress):
            exam = store.load_exam()
            if exam is not None:
                raise StateError(
                    f"exam {exam.id} is active; finish it with `ckaprep exam submit`, "
                    "then remove it with `ckaprep exam reset`"
                )
            active = store.load()
            if active is not None and not force and active.exercise == exercise.id and not active.set_up_done:
                # The same start, run again after it was cut short: finish what it began.
                waiter.progress(f"finishing the setup of {exercise.id}, started at {active.started_at[:19]}")
                set_up(exercise, active, cluster, record=store.save, waiter=waiter, timeout_s=timeout_s, resume=True)
                return active
            if active is not None:
                if not force:
                    raise StateError(
                        f"exercise {active.exercise} is active in namespace {active.namespace}; "
                        "run `ckaprep reset` first, or start with --force to replace it"
                    )
                delete_attempts(cluster, [active], waiter=waiter, workspace=workspace)
                store.clear()
            return start_attempt(
                exercise,
                cluster,
                seed=seed,
                now=now,
                record=store.save,
                context=context,
                waiter=waiter,
                timeout_s=timeout_s,
                workspace=workspace,
                faults=faults,
            )


@contextmanager
def rescued_start(load_active: Callable[[], object], *, what: str, reset_command: str) -> Iterator[None]:
    """Around `start` and `exam start`. When setting up fails or is interrupted after the new
    attempt (or exam) was recorded, the one-line error also says that it is only partly set up
    and which command removes it; a cluster that lacks something is pointed at `ckaprep doctor`."""
    before, _ = _recorded(load_active)
    try:
        yield
    except (CkaprepError, KeyboardInterrupt) as exc:
        if isinstance(exc, (ClusterError, ImagePullError, WaitTimeout)):
            exc.message += " (`ckaprep doctor` checks what this cluster is missing)"
        after, unfinished = _recorded(load_active)
        if after is None or (after == before and not unfinished):
            raise  # nothing new was recorded: nothing to clean up
        partly = f"the {what} was only partly set up: `{reset_command}` removes it"
        if unfinished:
            again = "ckaprep start" if what == "exercise" else "ckaprep exam start"
            partly = (
                f"the {what} was only partly set up: run the same `{again}` again to "
                f"finish it, or `{reset_command}` to remove it"
            )
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted(f"interrupted; {partly}") from None
        exc.message = f"{exc.message}; {partly}"
        raise


def _recorded(load: Callable[[], object]) -> tuple[str | None, bool]:
    """The id of what is recorded as active, and whether its setup is unfinished (read once)."""
    try:
        recorded = load()
    except CkaprepError:  # a state file that cannot be read records nothing to clean up
        return None, False
    return getattr(recorded, "id", None), getattr(recorded, "set_up_done", True) is False


@dataclass(frozen=True)
class UnreadableRecord:
    """A state file `reset --forget` dropped without being able to read it."""

    path: Path
    problem: str
    namespaces: tuple[str, ...] = ()


def forget_active(store: StateStore):
    """`ckaprep reset --forget`: drop the local record of the active exercise or exam without
    asking the cluster (which may be gone for good). Returns what was forgotten: an Attempt, an
    Exam, or an UnreadableRecord for a state file that cannot be read (a damaged file must not
    stand in the way of forgetting it)."""
    if not store.path.is_file() and not store.exam_path.is_file():  # nothing here (a seat keeps it elsewhere)
        store.require_something()
    with store.locked():
        for path, load, clear in (
            (store.path, store.load, store.clear),
            (store.exam_path, store.load_exam, store.clear_exam),
        ):
            try:
                found = load()
            except StateError as exc:
                if not path.is_file():
                    raise
                clear()
                return UnreadableRecord(path, exc.message)
            if found is not None:
                clear()
                return found
        return store.require()


def reset_drill(workspace: Workspace, cluster_for: Callable[[str | None], Cluster], *, waiter: Waiter = Waiter()):
    """`ckaprep reset` of a single exercise. Returns the attempt and the namespaces left alone."""
    store = workspace.store
    with store.locked(progress=waiter.progress):
        attempt = store.require()
        left_alone = delete_attempts(cluster_for(attempt.context), [attempt], waiter=waiter, workspace=workspace)
        store.clear()
    return attempt, left_alone
