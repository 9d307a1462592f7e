"""A class on one shared cluster: seats for learners, and the trainer's grade and report.

A *seat* is a few namespaces (CLASS-03-a, CLASS-03-b, ...), a ServiceAccount CLASS-03 with the
built-in `edit` ClusterRole bound in those namespaces only, and a ConfigMap in its home namespace
(the first one) that holds the learner's state: the active exercise or exam and the results the
learner's own `check` recorded. The ServiceAccounts live in the class's accounts namespace
(CLASS-seats), where no seat has any right: a learner cannot mint a longer-lived token for their
seat, nor delete its account. Everything carries ckaprep's ownership label and the class label;
`delete_class` removes exactly the namespaces that carry both.

Trust: what the trainer decides lives where no seat can write, and the trainer's commands read it
from there (ckaprep.classroom.roster): which namespaces are a seat's (the labels of the
namespaces, which a seat may not change), its learner (an annotation on its ServiceAccount),
a class exam and its deadline, and the trainer's grades (both in the results namespace,
CLASS-results). The seat ConfigMap is the learner's, so it is input only.

A seat cannot reach the node or share itself: its namespaces enforce the `baseline` Pod Security
standard, a ResourceQuota and a LimitRange bound what it may run (and refuse NodePort and
LoadBalancer Services), and `edit` grants no RBAC rights, so it cannot bind its rights to anyone.

Plain functions over the cluster seam: no terminal, progress goes to a callback.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ckaprep.attempts import Attempt, Exam, attempt_from_json, exam_from_json
from ckaprep.catalogue.exercise import Exercise
from ckaprep.cluster import Cluster
from ckaprep.cluster.labels import (
    ACCOUNTS_SUFFIX,
    CLASS_NAME,
    OWNER_LABEL,
    OWNER_VALUE,
    ROLE_LABEL,
    is_probe_pod,
    seat_of_account,
)
from ckaprep.cluster.waiting import Progress, Waiter, no_progress
from ckaprep.errors import (
    CkaprepError,
    Conflict,
    CredentialsRejected,
    PermissionDenied,
    StateError,
    UsageError,
    WaitTimeout,
    one_line,
)
from ckaprep.practice.history import Record
from ckaprep.practice.state import StateStore

CLASS_LABEL = "ckaprep.io/class"
SEAT_LABEL = "ckaprep.io/seat"
SEAT_ROLE, RESULTS_ROLE, RESULT_ROLE, ACCOUNTS_ROLE = "seat", "results", "result", "accounts"
SEAT_CONFIGMAP = "ckaprep-seat"
SEAT_BINDING = "ckaprep-seat-edit"
OLD_SEAT_BINDING = "ckaprep-seat-admin"
LEARNER_ANNOTATION = "ckaprep.io/learner"
# Enforced on every namespace a seat works in: no privileged, host-network, host-path or
# host-PID Pods (what the exercises run needs none of them).
POD_SECURITY_LABELS = {
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/enforce-version": "latest",
}
SEAT_QUOTA = "ckaprep-seat-quota"
SEAT_LIMITS = "ckaprep-seat-limits"
# Room for the largest exercise with its wrong answers and probe pods, no more; no node ports.
SEAT_QUOTA_HARD = {
    "pods": "40",
    "services": "20",
    "services.nodeports": "0",
    "services.loadbalancers": "0",
    "configmaps": "40",
    "secrets": "20",
    "persistentvolumeclaims": "0",
    "requests.cpu": "4",
    "requests.memory": "4Gi",
    "limits.memory": "8Gi",
}
# What a container gets when it asks for nothing (the exercises' containers ask for nothing).
SEAT_CONTAINER_DEFAULTS = {
    "type": "Container",
    "defaultRequest": {"cpu": "10m", "memory": "16Mi"},
    "default": {"memory": "256Mi"},
    "max": {"memory": "1Gi"},
}
# `admin` has not written Endpoints or EndpointSlices since Kubernetes 1.22, and the selectorless
# exercise has learners write both: a Role in each seat namespace grants just that.
ENDPOINTS_ROLE = "ckaprep-seat-endpoints"
ENDPOINTS_RULES = [
    {"apiGroups": [""], "resources": ["endpoints"], "verbs": ["create", "update", "patch", "delete"]},
    {
        "apiGroups": ["discovery.k8s.io"],
        "resources": ["endpointslices"],
        "verbs": ["create", "update", "patch", "delete"],
    },
]
# Built in: read and write the namespace's objects, but no Roles or RoleBindings (`admin` has
# those, and a seat could bind its rights to anyone), nor the namespace itself.
SEAT_CLUSTER_ROLE = "edit"
ATTEMPT_KEY, EXAM_KEY, RESULTS_KEY = "attempt.json", "exam.json", "results.jsonl"
EXAM_ROLE = "exam"  # a class exam's task namespaces
LETTER_SUFFIX = re.compile(r"-([a-z])$")
SEAT_RESULTS_KEPT = 200  # a ConfigMap holds at most 1 MiB; the latest results are enough
MIN_VALID_S = 600  # the TokenRequest API's shortest lifetime
MAX_VALID_S = 366 * 86400
MAX_LEARNERS_BYTES = 256 * 1024  # far more than 999 names
MAX_SEATS = 999
DEFAULT_PARALLEL = 8
DELETE_TIMEOUT_S = 180
EMPTY_TIMEOUT_S = 120
# What an exercise or a learner makes in a seat's namespaces, removed between attempts.
# Controllers first, or they make their Pods again while those are deleted.
EMPTIED_KINDS = (
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "Pod",
    "Service",
    "Endpoints",
    "EndpointSlice",
    "ConfigMap",
    "NetworkPolicy",
)  # a default deny left behind would block the next attempt
KEPT_CONFIGMAPS = {"kube-root-ca.crt"}


# -- names ------------------------------------------------------------------------------------
def check_class_name(name: str) -> str:
    if not CLASS_NAME.fullmatch(name or ""):
        raise UsageError(
            f"{name!r} is not a class name: lower-case letters, digits and dashes, starting with a "
            "letter, at most 40 characters"
        )
    return name


def seat_id(class_name: str, number: int) -> str:
    return f"{class_name}-{number:02d}"


def seat_namespaces(class_name: str, number: int, count: int) -> list[str]:
    return [f"{seat_id(class_name, number)}-{chr(ord('a') + i)}" for i in range(count)]


def results_namespace(class_name: str) -> str:
    return f"{class_name}-results"


def accounts_namespace(class_name: str) -> str:
    return f"{class_name}{ACCOUNTS_SUFFIX}"


def class_selector(class_name: str, role: str | None = None) -> str:
    selector = f"{OWNER_LABEL}={OWNER_VALUE},{CLASS_LABEL}={class_name}"
    return f"{selector},{ROLE_LABEL}={role}" if role else selector


def namespaces_needed(catalogue: dict[str, Exercise]) -> int:
    """Enough namespaces for every exercise of the catalogue."""
    return max([len(ex.namespaces) for ex in catalogue.values()] + [1])


def parse_duration(text: str) -> int:
    """'8h', '90m', '2h30m', '1d' or plain seconds, as seconds."""
    match = re.fullmatch(r"\s*(?:(\d{1,9})d)?\s*(?:(\d{1,9})h)?\s*(?:(\d{1,9})m)?\s*(?:(\d{1,9})s?)?\s*", text or "")
    if not match or not any(match.groups()):
        raise UsageError(f"{text!r} is not a duration such as 8h, 90m or 2h30m")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total > MAX_VALID_S:
        raise UsageError(f"{text!r} is longer than a class runs (at most {MAX_VALID_S // 86400} days)")
    return total


def read_learners(path: Path) -> list[str]:
    """One learner a line; blank lines and lines starting with # are skipped."""
    try:
        with path.open("rb") as file:  # read a bounded amount: the path may be a device or a pipe
            data = file.read(MAX_LEARNERS_BYTES + 1)
        if len(data) > MAX_LEARNERS_BYTES:
            raise UsageError(f"learners file {path} is larger than {MAX_LEARNERS_BYTES // 1024} KiB")
        text = data.decode("utf-8")
    except OSError as exc:
        raise UsageError(f"learners file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"learners file {path} is not UTF-8 text") from None
    names = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    for name in names:
        if len(name) > 100 or not name.isprintable():
            raise UsageError(f"learners file {path}: {name[:40]!r} is not a printable name of at most 100 characters")
    return names


# -- seats ------------------------------------------------------------------------------------
@dataclass
class Seat:
    class_name: str
    number: int
    namespaces: list[str]
    learner: str = ""

    @property
    def id(self) -> str:
        return seat_id(self.class_name, self.number)

    @property
    def home(self) -> str:
        return self.namespaces[0]

    @property
    def label(self) -> str:
        return f"{self.id} ({self.learner})" if self.learner else self.id

    def labels(self, role: str) -> dict[str, str]:
        return {OWNER_LABEL: OWNER_VALUE, CLASS_LABEL: self.class_name, SEAT_LABEL: self.id, ROLE_LABEL: role}


def seat_from_configmap(configmap: dict) -> Seat | None:
    """The seat a seat ConfigMap describes, or None when it is not one."""
    meta = configmap.get("metadata") or {}
    labels = meta.get("labels") or {}
    data = configmap.get("data") or {}
    if labels.get(OWNER_LABEL) != OWNER_VALUE or labels.get(ROLE_LABEL) != SEAT_ROLE:
        return None
    try:
        namespaces = json.loads(data.get("namespaces", "[]"))
        number = int(data.get("number", ""))
    except ValueError:
        return None
    if not (isinstance(namespaces, list) and namespaces and all(isinstance(n, str) for n in namespaces)):
        return None
    return Seat(labels.get(CLASS_LABEL, ""), number, namespaces, str(data.get("learner", "")))


def detect_seat(cluster: Cluster) -> Seat | None:
    """The seat these credentials belong to: a seat's ServiceAccount token, and the seat
    ConfigMap in its namespace. Anything else is not a seat, and costs no request."""
    account = cluster.service_account()
    home = seat_of_account(*account) if account else None
    if home is None:
        return None
    try:
        configmap = cluster.get("ConfigMap", home, SEAT_CONFIGMAP)
    except PermissionDenied:
        raise seat_revoked(*account) from None
    seat = seat_from_configmap(configmap) if configmap else None
    return seat if seat is not None and seat.id == account[1] else None


def seat_revoked(namespace: str, name: str) -> CredentialsRejected:
    """A seat's token refused its own seat ConfigMap. The API server answers 401 once it notices
    the ServiceAccount is gone and 403 while only the RoleBindings are: the learner hears one
    thing either way."""
    return CredentialsRejected(
        f"the seat's token (ServiceAccount {one_line(namespace)}/{one_line(name)}) was refused its own "
        "seat: the seat or its class was deleted, or its rights were revoked; ask the trainer for a "
        "new kubeconfig"
    )


# -- the seat's state, kept in the cluster -------------------------------------------------------
class SeatStore(StateStore):
    """The active exercise and exam live in the seat ConfigMap, where the learner's ckaprep and the
    trainer's both read them. History stays local too; results are also written to the seat."""

    def __init__(self, directory: Path, cluster: Cluster, seat: Seat):
        super().__init__(directory)
        self.cluster, self.seat = cluster, seat
        where = f"ConfigMap {seat.home}/{SEAT_CONFIGMAP}"
        self.path = Path(f"{where} key {ATTEMPT_KEY}")
        self.exam_path = Path(f"{where} key {EXAM_KEY}")

    def _configmap(self) -> dict:
        try:
            configmap = self.cluster.get("ConfigMap", self.seat.home, SEAT_CONFIGMAP)
        except PermissionDenied:
            raise seat_revoked(accounts_namespace(self.seat.class_name), self.seat.id) from None
        if configmap is None:
            raise StateError(
                f"seat {self.seat.id}: ConfigMap {self.seat.home}/{SEAT_CONFIGMAP} is gone; ask the trainer "
                "to run `ckaprep classroom create` again"
            )
        return configmap

    def _key(self, key: str):
        text = (self._configmap().get("data") or {}).get(key)
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise StateError(f"seat {self.seat.id}: key {key} is not valid JSON ({exc})") from None

    def _change(self, change: Callable[[dict], None]) -> None:
        """Read, change and write the ConfigMap; a concurrent write is retried on fresh data."""
        for attempt in range(5):
            configmap = self._configmap()
            data = configmap.setdefault("data", {})
            change(data)
            try:
                self.cluster.replace(configmap)
                return
            except Conflict:
                if attempt == 4:
                    raise

    def load(self) -> Attempt | None:
        data = self._key(ATTEMPT_KEY)
        return None if data is None else attempt_from_json(self.path, data)

    def load_exam(self) -> Exam | None:
        data = self._key(EXAM_KEY)
        return None if data is None else exam_from_json(self.exam_path, data)

    def save(self, attempt: Attempt) -> None:
        text = json.dumps(asdict(attempt), sort_keys=True)
        self._change(lambda data: data.__setitem__(ATTEMPT_KEY, text))

    def save_exam(self, exam: Exam) -> None:
        text = json.dumps(asdict(exam), sort_keys=True)
        self._change(lambda data: data.__setitem__(EXAM_KEY, text))

    def clear(self) -> None:
        self._change(lambda data: data.pop(ATTEMPT_KEY, None))

    def clear_exam(self) -> None:
        self._change(lambda data: data.pop(EXAM_KEY, None))

    def remember(self, *records: Record) -> None:
        super().remember(*records)
        lines = [json.dumps(asdict(r), sort_keys=True) for r in records]

        def append(data: dict) -> None:
            kept = (data.get(RESULTS_KEY) or "").splitlines() + lines
            data[RESULTS_KEY] = "\n".join(kept[-SEAT_RESULTS_KEPT:]) + "\n"

        self._change(append)


class SeatWorkspace:
    """A classroom seat as the place an attempt runs: the exercise's namespaces are the seat's,
    emptied before and after, never created or deleted; the state is kept in the seat ConfigMap."""

    def __init__(self, seat: Seat, store: StateStore | None = None):
        self.seat, self.store = seat, store

    @property
    def seat_id(self) -> str:
        return self.seat.id

    def place(self, exercise: Exercise, seed: int, *, faults=None, params=None):
        return seat_params(exercise, self.seat, seed, faults=faults)

    def prepare(self, cluster: Cluster, namespaces: list[str], *, waiter: Waiter) -> None:
        empty_namespaces(cluster, namespaces, waiter=waiter)

    def clear(self, cluster: Cluster, namespaces: list[str], *, waiter: Waiter) -> None:
        empty_namespaces(cluster, namespaces, waiter=waiter)


def seat_workspace(local: StateStore, cluster: Cluster) -> SeatWorkspace | None:
    """The workspace of the seat these credentials belong to, its state kept in the cluster."""
    seat = detect_seat(cluster)
    return SeatWorkspace(seat, SeatStore(local.directory, cluster, seat)) if seat else None


def not_for_seats(exercise: Exercise) -> str:
    """Why an exercise cannot run in a seat, or "" when it can."""
    if None in exercise.namespace_params():
        return (
            f"exercise {exercise.id} builds a namespace name from several parts, so it cannot run in a "
            "classroom seat (its namespaces entries must each name one parameter)"
        )
    if exercise.requires:
        wants = ", ".join(r.text for r in exercise.requires)
        return (
            f"exercise {exercise.id} requires {wants}, which a classroom seat's credentials can neither find "
            "out nor grade (they may not list Nodes); practise it on a cluster of your own"
        )
    if any("service_cidr_offset" in spec for spec in exercise.params.values()):
        return (
            f"exercise {exercise.id} reads the cluster's Service range (ServiceCIDR, IPAddress), which "
            "a classroom seat may not read; practise it on a cluster of your own"
        )
    return ""


def seat_params(exercise: Exercise, seat: Seat, seed: int, faults: list[str] | None = None) -> tuple[dict, list[str]]:
    """The exercise's parameters with its namespaces placed in the seat's, and those namespaces."""
    problem = not_for_seats(exercise)
    if problem:
        raise UsageError(problem)
    names = exercise.namespace_params()
    if len(names) > len(seat.namespaces):
        raise UsageError(
            f"exercise {exercise.id} needs {len(names)} namespaces and seat {seat.id} has "
            f"{len(seat.namespaces)}; ask the trainer to run `ckaprep classroom create` again"
        )
    fixed = dict(zip(names, seat.namespaces))
    if faults is None:  # a seat draws no fault that requires more of the cluster (see not_for_seats)
        from ckaprep.catalogue.capabilities import fault_draw

        faults = fault_draw(exercise.faults, seed, None)
    params = exercise.choose_params(seed, faults=faults, fixed=fixed)
    return params, exercise.namespaces_for(params)


def _kept(kind: str, obj: dict) -> bool:
    """Seat objects, the CA bundle and ckaprep's probe pods stay; controller-made slices are not
    deleted by hand (see `_goes_with_its_service`)."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    if CLASS_LABEL in labels and labels.get(OWNER_LABEL) == OWNER_VALUE:
        return True
    if kind == "ConfigMap" and meta.get("name") in KEPT_CONFIGMAPS:
        return True
    if kind == "Pod" and is_probe_pod(obj) and labels.get(OWNER_LABEL) == OWNER_VALUE:
        return True
    return _goes_with_its_service(kind, obj)


def _goes_with_its_service(kind: str, obj: dict) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return kind == "EndpointSlice" and labels.get("endpointslice.kubernetes.io/managed-by", "").endswith(".k8s.io")


def leftovers(cluster: Cluster, namespaces: list[str]) -> list[str]:
    """What an attempt left in the seat's namespaces, as Kind ns/name. A controller's EndpointSlice
    counts until the garbage collector has removed it with its Service: one left behind would
    give a Service of the same name in the next attempt the old Pods' addresses (kube-proxy and
    the grader read slices by the Service's name)."""
    found = []
    for ns in namespaces:
        for kind in EMPTIED_KINDS:
            for obj in cluster.list(kind, ns):
                if not _kept(kind, obj) or _goes_with_its_service(kind, obj):
                    found.append(f"{kind} {ns}/{obj['metadata']['name']}")
    return found


def empty_namespaces(
    cluster: Cluster, namespaces: list[str], *, waiter: Waiter = Waiter(), timeout_s: float = EMPTY_TIMEOUT_S
) -> None:
    """Delete what exercises and learners made in a seat's namespaces, never the namespaces or
    the seat itself, and wait until it is gone."""
    for ns in namespaces:
        for kind in EMPTIED_KINDS:
            for obj in cluster.list(kind, ns):
                meta = obj["metadata"]
                if not _kept(kind, obj) and not meta.get("deletionTimestamp"):
                    waiter.progress(f"deleting {kind} {ns}/{meta['name']}")
                    cluster.delete(kind, ns, meta["name"])
    try:
        waiter.until(
            lambda: not leftovers(cluster, namespaces),
            timeout_s=timeout_s,
            what=f"emptying namespace(s) {', '.join(namespaces)}",
        )
    except WaitTimeout:
        left = leftovers(cluster, namespaces)
        raise WaitTimeout(
            f"still in the seat's namespaces after {timeout_s:.0f}s: {', '.join(left[:3])}"
            + (f" and {len(left) - 3} more" if len(left) > 3 else "")
        ) from None


# -- create ---------------------------------------------------------------------------------------
@dataclass
class CreatedSeat:
    seat: Seat
    kubeconfig: str
    expires: str | None
    new: bool


def create_or_keep(cluster: Cluster, manifest: dict) -> bool:
    """Create the object; one that already exists (a seat set up before) is kept. True if created."""
    meta = manifest["metadata"]
    try:
        cluster.create(manifest)
        return True
    except CkaprepError:
        if cluster.get(manifest["kind"], meta.get("namespace"), meta["name"]) is None:
            raise
        return False


def seat_objects(seat: Seat) -> list[dict]:
    """Everything a seat is made of, in the order it is created."""
    labels = seat.labels(SEAT_ROLE)
    objects = [seat_namespace(ns, labels) for ns in seat.namespaces]
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": seat.id,
                "namespace": accounts_namespace(seat.class_name),
                "labels": dict(labels),
                "annotations": {LEARNER_ANNOTATION: seat.learner},
            },
            "automountServiceAccountToken": False,
        }
    )
    objects += seat_rights(seat, seat.namespaces, labels)
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": SEAT_CONFIGMAP, "namespace": seat.home, "labels": dict(labels)},
            "data": {
                "class": seat.class_name,
                "seat": seat.id,
                "number": str(seat.number),
                "learner": seat.learner,
                "namespaces": json.dumps(seat.namespaces),
            },
        }
    )
    return objects


def seat_namespace(name: str, labels: dict[str, str]) -> dict:
    """A namespace a seat works in, under the `baseline` Pod Security standard."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": dict(labels) | POD_SECURITY_LABELS},
    }


def seat_rights(seat: Seat, namespaces: list[str], labels: dict[str, str]) -> list[dict]:
    """The seat's rights in these namespaces (`edit`, and writing Endpoints and EndpointSlices),
    and the bounds of what it may run there (a ResourceQuota and a LimitRange)."""
    objects: list[dict] = []
    subjects = [{"kind": "ServiceAccount", "name": seat.id, "namespace": accounts_namespace(seat.class_name)}]
    for ns in namespaces:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": SEAT_QUOTA, "namespace": ns, "labels": dict(labels)},
                "spec": {"hard": dict(SEAT_QUOTA_HARD)},
            }
        )
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": {"name": SEAT_LIMITS, "namespace": ns, "labels": dict(labels)},
                "spec": {"limits": [dict(SEAT_CONTAINER_DEFAULTS)]},
            }
        )
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": SEAT_BINDING, "namespace": ns, "labels": dict(labels)},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": SEAT_CLUSTER_ROLE},
                "subjects": subjects,
            }
        )
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": ENDPOINTS_ROLE, "namespace": ns, "labels": dict(labels)},
                "rules": ENDPOINTS_RULES,
            }
        )
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": ENDPOINTS_ROLE, "namespace": ns, "labels": dict(labels)},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ENDPOINTS_ROLE},
                "subjects": subjects,
            }
        )
    return objects


def kubeconfig_text(seat: Seat, endpoint: dict, token: str) -> str:
    """A kubeconfig for the seat: its token, and its home namespace as the context's namespace."""
    import base64

    cluster: dict = {"server": endpoint["server"]}
    if endpoint.get("ca_pem"):
        cluster["certificate-authority-data"] = base64.b64encode(endpoint["ca_pem"].encode()).decode()
    elif endpoint.get("insecure"):
        cluster["insecure-skip-tls-verify"] = True
    name = f"ckaprep-{seat.id}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": name,
        "clusters": [{"name": f"ckaprep-{seat.class_name}", "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [
            {"name": name, "context": {"cluster": f"ckaprep-{seat.class_name}", "user": name, "namespace": seat.home}}
        ],
    }
    return json.dumps(config, indent=2) + "\n"  # JSON is YAML: kubectl reads it as it is


def _write_private(path: Path, text: str) -> None:
    """A kubeconfig holds a credential: readable by its owner only, written whole."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when an earlier file of that name was left with other rights
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def create_class(
    cluster: Cluster,
    class_name: str,
    *,
    seats: int,
    namespaces: int,
    valid_s: int,
    out_dir: Path,
    learners: list[str] = (),
    parallel: int = DEFAULT_PARALLEL,
    progress: Progress = no_progress,
    rename: bool = False,
) -> list[CreatedSeat]:
    """Set up (or top up) the class's seats and write a kubeconfig for each, with a fresh token.

    Seats that exist are kept as they are, with their state. Learners are matched to seats by name,
    never by line: a name that has a seat keeps it, a new name takes a seat without a learner or a
    new one. A seat whose learner is gone from the list keeps its name unless `rename`, when the new
    names fill those seats in order. Every kubeconfig written revokes the seat's earlier tokens
    (its ServiceAccount is made anew, and tokens are bound to the account they were issued for).
    """
    check_class_name(class_name)
    duplicates = sorted({name for name in learners if name and list(learners).count(name) > 1})
    if duplicates:
        raise UsageError(
            f"--learners: {one_line(duplicates[0])!r} is listed more than once; each learner needs one "
            "seat, so make the names differ"
        )
    if valid_s < MIN_VALID_S:
        raise UsageError("--valid must be at least 10m (the shortest token the TokenRequest API issues)")
    try:
        existing = {view.seat.number: view.seat for view in class_roster(cluster, class_name)}
    except UsageError:
        existing = {}
    plan = _place_learners(existing, list(learners), rename)
    count = max([seats, *plan.keys(), *existing.keys()])
    if not 1 <= count <= MAX_SEATS:
        raise UsageError(f"--seats must be between 1 and {MAX_SEATS}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out_dir}: {exc.strerror or exc}") from None
    endpoint = cluster.endpoint()
    for name, role in ((results_namespace(class_name), RESULTS_ROLE), (accounts_namespace(class_name), ACCOUNTS_ROLE)):
        create_or_keep(
            cluster,
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": name,
                    "labels": {OWNER_LABEL: OWNER_VALUE, CLASS_LABEL: class_name, ROLE_LABEL: role},
                },
            },
        )
    done = [0]
    guard = threading.Lock()

    def one(number: int) -> CreatedSeat:
        before = existing.get(number)
        wanted = max(namespaces, len(before.namespaces) if before else 0)
        learner = plan.get(number, before.learner if before else "")
        seat = Seat(class_name, number, seat_namespaces(class_name, number, wanted), learner)
        for manifest in seat_objects(seat):
            kind = manifest["kind"]
            if before is not None and kind == "ServiceAccount":
                cluster.delete(kind, manifest["metadata"]["namespace"], seat.id)  # revokes its tokens
                for ns in before.namespaces:  # a seat made when seats had `admin`: it goes
                    cluster.delete("RoleBinding", ns, OLD_SEAT_BINDING)
            if not create_or_keep(cluster, manifest) and kind == "ConfigMap":
                _update_seat_configmap(cluster, seat)
        token = cluster.request_token(accounts_namespace(class_name), seat.id, valid_s)
        path = out_dir / f"{seat.id}.kubeconfig"
        _write_private(path, kubeconfig_text(seat, endpoint, token["token"]))
        with guard:
            done[0] += 1
            progress(f"{done[0]}/{count} seats ready")
        return CreatedSeat(seat, str(path), token.get("expiration"), before is None)

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(one, range(1, count + 1)))


def _place_learners(existing: dict[int, Seat], learners: list[str], rename: bool) -> dict[int, str]:
    """Seat number → learner: names that have a seat keep it, the others fill free seats in order."""
    plan: dict[int, str] = {}
    by_name = {seat.learner: number for number, seat in existing.items() if seat.learner}
    waiting = []
    for name in learners:
        if name in by_name:
            plan[by_name[name]] = name
        else:
            waiting.append(name)
    free = [n for n, seat in sorted(existing.items()) if not seat.learner]
    if rename:
        free += [n for n, seat in sorted(existing.items()) if seat.learner and seat.learner not in learners]
    number = max(existing, default=0)
    for name in waiting:
        if free:
            plan[free.pop(0)] = name
        else:
            number += 1
            plan[number] = name
    return plan


def _update_seat_configmap(cluster: Cluster, seat: Seat) -> None:
    """A seat given a learner's name or more namespaces later: its state keys stay."""
    current = cluster.get("ConfigMap", seat.home, SEAT_CONFIGMAP)
    wanted = next(m for m in seat_objects(seat) if m["kind"] == "ConfigMap")
    if current is None:
        return
    current["data"] = {**(current.get("data") or {}), **wanted["data"]}
    current["metadata"]["labels"] = wanted["metadata"]["labels"]
    cluster.replace(current)


# -- the roster, as the trainer knows it ----------------------------------------------------------
@dataclass
class SeatView:
    """A seat as the trainer knows it, and the learner's ConfigMap (None when it is gone)."""

    seat: Seat
    configmap: dict | None
    exam_namespaces: list[str] = field(default_factory=list)

    @property
    def data(self) -> dict:
        data = (self.configmap or {}).get("data")
        return data if isinstance(data, dict) else {}


def class_roster(cluster: Cluster, class_name: str) -> list[SeatView]:
    """Every seat of the class, from the objects only the trainer can write. Three requests."""
    namespaces = cluster.list("Namespace", None, class_selector(class_name))
    by_seat: dict[str, dict[str, list[str]]] = {}
    for namespace in namespaces:
        meta = namespace.get("metadata") or {}
        labels = meta.get("labels") or {}
        owner, role = labels.get(SEAT_LABEL, ""), labels.get(ROLE_LABEL)
        number = _seat_number(class_name, owner)
        if number is None or role not in (SEAT_ROLE, EXAM_ROLE) or meta.get("deletionTimestamp"):
            continue
        by_seat.setdefault(owner, {SEAT_ROLE: [], EXAM_ROLE: []})[role].append(meta["name"])
    learners = {}
    for account in cluster.list("ServiceAccount", accounts_namespace(class_name), class_selector(class_name)):
        meta = account.get("metadata") or {}
        learners[meta.get("name")] = str((meta.get("annotations") or {}).get(LEARNER_ANNOTATION) or "")
    configmaps = {}
    for configmap in cluster.list("ConfigMap", None, class_selector(class_name, SEAT_ROLE)):
        meta = configmap.get("metadata") or {}
        if meta.get("name") == SEAT_CONFIGMAP:
            configmaps[meta.get("namespace")] = configmap
    views = []
    for owner, roles in by_seat.items():
        number = _seat_number(class_name, owner)
        own = sorted(n for n in roles[SEAT_ROLE] if n.startswith(owner + "-") and LETTER_SUFFIX.search(n))
        if number is None or not own or own[0] != f"{owner}-a":
            continue  # exam namespaces left from a seat that is gone, or a half-made seat
        seat = Seat(class_name, number, own, learners.get(owner, ""))
        exam = sorted(n for n in roles[EXAM_ROLE] if n.startswith(owner + "-e"))
        views.append(SeatView(seat, configmaps.get(seat.home), exam))
    if not views:
        raise UsageError(f"no class {class_name!r} on this cluster (create it with `ckaprep classroom create`)")
    return sorted(views, key=lambda view: view.seat.number)


def _seat_number(class_name: str, owner: str) -> int | None:
    prefix = class_name + "-"
    number = owner[len(prefix) :] if owner.startswith(prefix) else ""
    if not (number.isdigit() and len(number) <= 3 and seat_id(class_name, int(number)) == owner):
        return None
    return int(number)


def missing_configmap(view: SeatView) -> str:
    return (
        f"its seat ConfigMap {view.seat.home}/{SEAT_CONFIGMAP} is gone; run `ckaprep classroom create "
        f"{view.seat.class_name}` again to restore it"
    )


def json_key(configmap: dict, key: str):
    text = (configmap.get("data") or {}).get(key)
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


# -- delete ----------------------------------------------------------------------------------------
def delete_class(
    cluster: Cluster, class_name: str, *, waiter: Waiter = Waiter(), timeout_s: float = DELETE_TIMEOUT_S
) -> list[str]:
    """Delete every namespace carrying ckaprep's label and the class's, and wait until they are gone.
    Seats, their accounts, bindings, state and the trainer's results all live inside them."""
    check_class_name(class_name)
    namespaces = sorted(n["metadata"]["name"] for n in cluster.list("Namespace", None, class_selector(class_name)))
    for name in namespaces:
        waiter.progress(f"deleting namespace {name}")
        cluster.delete("Namespace", None, name)

    def remaining() -> list[str]:
        return [n["metadata"]["name"] for n in cluster.list("Namespace", None, class_selector(class_name))]

    try:
        waiter.until(
            lambda: not remaining(),
            timeout_s=timeout_s,
            what=f"deleting {len(namespaces)} namespace(s) of class {class_name}",
        )
    except WaitTimeout:
        stuck = remaining()
        raise WaitTimeout(
            f"namespace(s) {', '.join(stuck[:3])} still terminating after {timeout_s:.0f}s; "
            f"see `kubectl get namespace {stuck[0]} -o yaml`"
        ) from None
    return namespaces
