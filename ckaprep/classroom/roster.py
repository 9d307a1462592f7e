"""What the trainer's commands believe about a class, and where each fact comes from.

A seat's learner can write everything in the seat ConfigMap, so the trainer's side takes nothing
from it as authority:

- which seats there are, and each seat's namespaces: the class's labelled namespaces, which a
  seat may not change;
- each seat's learner: an annotation on the seat's ServiceAccount, in the accounts namespace;
- a class exam, its tasks and deadline: the trainer's copy in the results namespace;
- grades: the trainer's own, in the results namespace.

From the seat ConfigMap the trainer takes only the learner's *choices*, each checked before use:
which exercise and seed the active attempt has (its parameters and namespaces are worked out
again from them), and the learner's own results, kept apart from the trainer's. A seat whose
state cannot be read is one line of trouble about that seat; the rest of the class goes on.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from ckaprep.attempts import Attempt, Exam, attempt_from_json, exam_from_json
from ckaprep.catalogue.exercise import Exercise
from ckaprep.classroom.seats import (
    ATTEMPT_KEY,
    EXAM_KEY,
    RESULTS_KEY,
    SEAT_LABEL,
    Seat,
    SeatView,
    class_selector,
    not_for_seats,
    results_namespace,
    seat_params,
)
from ckaprep.cluster import Cluster
from ckaprep.errors import StateError, UsageError, one_line

EXAM_RECORD_ROLE = "exam-record"  # the trainer's copy of a seat's class exam
EXAM_RECORD_KEY = "exam.json"
ID_PATTERN = re.compile(r"[a-z0-9]{1,32}")
MAX_SEED = 2**53


class SeatTrouble(Exception):
    """A seat whose state the trainer cannot use; the message is about that seat alone."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# -- the learner's choices, checked -------------------------------------------------------------
def _learner_json(view: SeatView, key: str):
    text = view.data.get(key)
    if not text:
        return None
    if not isinstance(text, str):
        raise SeatTrouble(f"its state is unreadable: {key} is not text")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SeatTrouble(f"its state is unreadable: {key} is not valid JSON ({one_line(str(exc))})") from None


def learner_attempt(view: SeatView) -> Attempt | None:
    """The attempt as the learner's ConfigMap holds it, types checked; nothing in it is trusted."""
    data = _learner_json(view, ATTEMPT_KEY)
    if data is None:
        return None
    try:
        return attempt_from_json(Path(ATTEMPT_KEY), data)
    except StateError as exc:
        raise SeatTrouble(f"its state is unreadable: {_state_problem(exc.message)}") from None


def has_learner_state(view: SeatView) -> bool:
    return bool(view.data.get(ATTEMPT_KEY) or view.data.get(EXAM_KEY))


def trusted_attempt(view: SeatView, catalogue: dict[str, Exercise]) -> tuple[Attempt, Exercise] | None:
    """The seat's active attempt as the trainer grades it: the learner's exercise and seed, with the
    parameters and namespaces worked out again in the seat's own namespaces. Raises SeatTrouble."""
    claimed = learner_attempt(view)
    if claimed is None:
        return None
    exercise = catalogue.get(claimed.exercise)
    if exercise is None:
        raise SeatTrouble(f"no exercise {one_line(claimed.exercise)!r} in the trainer's catalogue")
    problem = not_for_seats(exercise)
    if problem:
        raise SeatTrouble(problem)
    if not abs(claimed.seed) <= MAX_SEED:
        raise SeatTrouble("its state is unreadable: the attempt's seed is out of range")
    if claimed.id is not None and not ID_PATTERN.fullmatch(claimed.id):
        raise SeatTrouble("its state is unreadable: the attempt's id is not one ckaprep makes")
    try:
        params, namespaces = seat_params(exercise, view.seat, claimed.seed)
    except UsageError as exc:
        raise SeatTrouble(exc.message) from None
    manifests = exercise.setup_for(params)
    records = _checked_records(claimed.records, manifests)
    attempt = Attempt(
        exercise=exercise.id,
        params=params,
        namespaces=namespaces,
        started_at=claimed.started_at,
        seed=claimed.seed,
        hints_shown=claimed.hints_shown,
        records=records,
        id=claimed.id,
        solution_shown=claimed.solution_shown,
        seat=view.seat.id,
    )
    return attempt, exercise


def _checked_records(claimed: dict[str, dict], manifests: list[dict]) -> dict[str, dict]:
    """The learner's records of the setup objects at start, each of which must agree with what the
    setup made: a record edited to match a changed object is a forged one."""
    from ckaprep.grading.checks.constraints import record_key

    made = {}
    for manifest in manifests:
        meta = manifest.get("metadata") or {}
        made[record_key(manifest["kind"], meta.get("namespace"), meta["name"])] = manifest
    checked = {}
    for key, record in claimed.items():
        manifest = made.get(key)
        if manifest is None:
            continue  # not a setup object of this attempt: no check reads it
        content = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind", "metadata")}
        labels = (manifest.get("metadata") or {}).get("labels") or {}
        if not (_within(labels, record.get("labels")) and _within(content, record.get("content"))):
            kind, _, name = key.split("/", 2)
            raise SeatTrouble(
                f"its state was altered: the record of {kind} {one_line(name)} does not match what the "
                "exercise's setup made"
            )
        checked[key] = record
    return checked


def _within(expected, actual) -> bool:
    """Every value the setup gave is in the record (the API server adds defaults around them)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(_within(v, actual.get(k)) for k, v in expected.items())
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_within(e, a) for e, a in zip(expected, actual))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected == actual
    return str(expected) == str(actual)


def _state_problem(message: str) -> str:
    return one_line(message.replace("state file ", "").replace("; remove the file to start over", ""))


# -- a class exam: the trainer's copy ------------------------------------------------------------
def exam_record_name(seat: Seat) -> str:
    return f"{seat.id}-exam"


def save_exam_record(cluster: Cluster, seat: Seat, exam: Exam) -> None:
    """The trainer's copy of a seat's class exam, where no seat can write."""
    text = json.dumps(asdict(exam), sort_keys=True)
    namespace, name = results_namespace(seat.class_name), exam_record_name(seat)
    current = cluster.get("ConfigMap", namespace, name)
    if current is not None:
        current["data"] = {EXAM_RECORD_KEY: text}
        cluster.replace(current)
        return
    labels = seat.labels(EXAM_RECORD_ROLE)
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "data": {EXAM_RECORD_KEY: text},
        }
    )


def exam_records(cluster: Cluster, class_name: str) -> dict[str, Exam]:
    """Each seat's class exam as the trainer started it, by seat id."""
    found = {}
    selector = class_selector(class_name, EXAM_RECORD_ROLE)
    for configmap in cluster.list("ConfigMap", results_namespace(class_name), selector):
        labels = (configmap.get("metadata") or {}).get("labels") or {}
        try:
            data = json.loads((configmap.get("data") or {}).get(EXAM_RECORD_KEY) or "")
            exam = exam_from_json(Path(EXAM_RECORD_KEY), data)
        except (ValueError, StateError):
            continue  # only the trainer writes these; one that does not parse is not an exam
        found[labels.get(SEAT_LABEL, "")] = exam
    return found


def _learner_copy(view: SeatView, exam: Exam | None) -> dict | None:
    """The seat's own copy of the trainer's exam, when it still holds that exam."""
    if exam is None:
        return None
    try:
        data = _learner_json(view, EXAM_KEY)
    except SeatTrouble:
        return None
    return data if isinstance(data, dict) and data.get("id") == exam.id else None


def exam_active(view: SeatView, exam: Exam | None) -> bool:
    """Whether the seat still holds the trainer's exam (a learner may reset it away)."""
    return _learner_copy(view, exam) is not None


def submitted_at(view: SeatView, exam: Exam) -> str | None:
    """When the learner submitted the trainer's exam, if they say they did, checked."""
    stamp = (_learner_copy(view, exam) or {}).get("submitted_at")
    try:
        when = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        return None
    if when is None or when.tzinfo is None:
        return None
    return stamp if when <= datetime.fromisoformat(exam.deadline) else exam.deadline


# -- the learner's own results --------------------------------------------------------------------
def learner_results(view: SeatView, catalogue: dict[str, Exercise]) -> list[dict]:
    """What the learner's own `check` recorded in the seat: never the trainer's grade, and kept only
    where every value is of the right type and range."""
    text = view.data.get(RESULTS_KEY)
    results = []
    for line in (text if isinstance(text, str) else "").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("kind") != "check":
            continue
        score, elapsed = record.get("score"), record.get("elapsed_s")
        failed = record.get("failed") or []
        if record.get("exercise") not in catalogue or not _percent(score):
            continue
        if not (isinstance(failed, list) and all(isinstance(f, str) for f in failed)):
            continue
        results.append(
            {
                "exercise": record["exercise"],
                "score": float(score),
                "passed": record.get("passed") is True,
                "elapsed_s": float(elapsed) if _seconds(elapsed) else None,
                "failed": [one_line(f) for f in failed][:50],
            }
        )
    return results


def _percent(value) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 100
    )


def _seconds(value) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 10 * 365 * 86400
    )
