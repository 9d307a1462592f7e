"""The trainer's side of a class: grading every seat at once, the class status and its report.

Plain functions over the cluster seam: no terminal, progress goes to a callback.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime

from ckaprep.catalogue.exercise import Exercise
from ckaprep.cluster import Cluster
from ckaprep.grading.options import GradingOptions
from ckaprep.errors import ImagePullError, StateError, WaitTimeout
from ckaprep.practice.state import new_id
from ckaprep.cluster.waiting import no_progress
from ckaprep.classroom.exams import grade_seat_exam, seat_exam
from ckaprep.classroom.seats import (
    DEFAULT_PARALLEL, EXAM_KEY, RESULT_ROLE, Seat, class_seats, class_selector, json_key, results_namespace,
    seat_attempt, seat_records,
)  # fmt: skip




# -- grading ---------------------------------------------------------------------------------------
class SharedReads:
    """The cluster, with each kind listed once across the cluster for the first grading round of
    every seat; later rounds (a seat still settling) read their own namespaces live."""

    def __init__(self, cluster: Cluster, namespaces: set[str]):
        self._cluster, self._namespaces = cluster, namespaces
        self._lock = threading.Lock()
        self._snapshots: dict[str, Future] = {}
        self._served: set[tuple] = set()
        self.requests = Counter()

    def __getattr__(self, name):
        return getattr(self._cluster, name)

    def _snapshot(self, kind: str) -> dict[str, list[dict]]:
        with self._lock:
            pending = self._snapshots.get(kind)
            loading = pending is None
            if loading:
                pending = self._snapshots[kind] = Future()
        if loading:
            try:
                self.requests["list " + kind] += 1
                grouped: dict[str, list[dict]] = {}
                for obj in self._cluster.list(kind, None):
                    ns = obj["metadata"].get("namespace") if kind != "Namespace" else None
                    if kind == "Namespace" or ns in self._namespaces:
                        grouped.setdefault(ns, []).append(obj)
                pending.set_result(grouped)
            except BaseException as exc:
                pending.set_exception(exc)
        return pending.result()

    def _first_time(self, key: tuple) -> bool:
        with self._lock:
            if key in self._served:
                return False
            self._served.add(key)
            return True

    def get(self, kind, namespace, name):
        if kind == "Namespace":
            return next((n for n in self._snapshot("Namespace").get(None, []) if n["metadata"]["name"] == name), None)
        return self._cluster.get(kind, namespace, name)

    def list(self, kind, namespace, label_selector=""):
        if namespace is None or namespace not in self._namespaces or not self._first_time((kind, namespace, label_selector)):
            return self._cluster.list(kind, namespace, label_selector)
        from ckaprep.cluster.labels import matches, parse_selector

        items = self._snapshot(kind).get(namespace, [])
        if label_selector:
            wanted = parse_selector(label_selector)
            items = [o for o in items if matches(wanted, (o.get("metadata") or {}).get("labels"))]
        return sorted(items, key=lambda o: o["metadata"]["name"])


def score_parts(report) -> tuple[int, int]:
    """(earned, total) by the same rule as `check`."""
    return report.earned, report.total


def grade_class(
    cluster: Cluster,
    class_name: str,
    catalogue: dict[str, Exercise],
    *,
    now: datetime,
    options: GradingOptions = GradingOptions(wait_s=10.0),
    parallel: int = DEFAULT_PARALLEL,
    record: bool = True,
) -> dict:
    """Grade every seat's active exercise with these (the trainer's) credentials, seats in
    parallel, and record each result in the class's results namespace."""
    from ckaprep.grading.engine import grade

    progress, clock = options.waiter.progress, options.waiter.clock

    seats = class_seats(cluster, class_name)
    namespaces = {ns for seat, _ in seats for ns in seat.namespaces}
    namespaces |= {ns for _, configmap in seats for ns in getattr(seat_exam(configmap), "namespaces", [])}
    shared = SharedReads(cluster, namespaces)
    round_id = new_id()
    started = clock()
    guard = threading.Lock()
    graded = [0]
    quiet = options.with_progress(no_progress)  # seats report as a whole, below

    def one(item: tuple[Seat, dict]) -> dict:
        seat, configmap = item
        attempt = seat_attempt(configmap)
        entry = {"seat": seat.id, "learner": seat.learner, "exercise": None, "attempt": None,
                 "score": None, "passed": False, "problem": ""}  # fmt: skip
        try:
            exam = seat_exam(configmap) if attempt is None else None
            if exam is not None:
                entry |= {"attempt": exam.id, "graded_at": now.isoformat(), "round": round_id}
                entry |= grade_seat_exam(exam, catalogue, shared, now=now, options=quiet)
                if record and entry["score"] is not None:
                    _record_result(cluster, class_name, seat, entry)
                return entry
            if attempt is None:
                entry["problem"] = "no active exercise"
                return entry
            exercise = catalogue.get(attempt.exercise)
            entry |= {"exercise": attempt.exercise, "attempt": attempt.id}
            if exercise is None:
                entry["problem"] = f"no exercise {attempt.exercise!r} in the trainer's catalogue"
                return entry
            try:
                report, _ = grade(exercise, attempt, shared, quiet)
            except (StateError, ImagePullError, WaitTimeout) as exc:  # this seat's problem, not the round's
                entry["problem"] = exc.message
                return entry
            failed = [c for c in report.checks if c.status != "pass"]
            entry |= {
                "score": report.score, "passed": report.passed, "earned": report.earned, "total": report.total,
                "elapsed_s": round(attempt.elapsed_s(now), 1), "started_at": attempt.started_at,
                "graded_at": now.isoformat(), "round": round_id, "topics": list(exercise.topics),
                "hints": attempt.hints_shown, "solution_shown": attempt.solution_shown,
                "failed": [c.id for c in failed],
                "failed_titles": {c.id: c.title for c in failed},
                "checks": [asdict(c) for c in report.checks],
            }  # fmt: skip
            if record:
                _record_result(cluster, class_name, seat, entry)
            return entry
        finally:
            with guard:
                graded[0] += 1
                progress(f"graded {graded[0]}/{len(seats)} seats")

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        results = list(pool.map(one, seats))
    return {
        "class": class_name, "round": round_id, "graded_at": now.isoformat(),
        "seconds": round(clock() - started, 2), "seats": results,
        "shared_lists": dict(shared.requests),
    }  # fmt: skip


def _record_result(cluster: Cluster, class_name: str, seat: Seat, entry: dict) -> None:
    labels = seat.labels(RESULT_ROLE) | (
        {"ckaprep.io/exam": entry["exam"]} if entry.get("exam") else {"ckaprep.io/exercise": entry["exercise"]}
    )
    cluster.create({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": f"{seat.id}-{entry['attempt']}-{entry['round']}",
                     "namespace": results_namespace(class_name), "labels": labels},
        "data": {"result.json": json.dumps(entry, sort_keys=True)},
    })  # fmt: skip


# -- status and report -------------------------------------------------------------------------------
def _trainer_results(cluster: Cluster, class_name: str) -> list[dict]:
    results = []
    for configmap in cluster.list("ConfigMap", results_namespace(class_name), class_selector(class_name, RESULT_ROLE)):
        entry = json_key(configmap, "result.json")
        if isinstance(entry, dict) and isinstance(entry.get("score"), (int, float)):
            results.append(entry)
    return results


def class_status(cluster: Cluster, class_name: str, now: datetime) -> list[dict]:
    """Each seat: learner, active exercise or exam, time on it, last score (trainer's, else own)."""
    seats = class_seats(cluster, class_name)
    latest: dict[str, dict] = {}
    for entry in sorted(_trainer_results(cluster, class_name), key=lambda e: e.get("graded_at", "")):
        latest[entry["seat"]] = entry
    rows = []
    for seat, configmap in seats:
        attempt = seat_attempt(configmap)
        exam = json_key(configmap, EXAM_KEY)
        own = seat_records(configmap)
        last = latest.get(seat.id)
        rows.append({
            "seat": seat.id, "learner": seat.learner, "namespaces": seat.namespaces,
            "exercise": attempt.exercise if attempt else None,
            "exam": exam.get("id") if isinstance(exam, dict) else None,
            "elapsed_s": round(attempt.elapsed_s(now), 1) if attempt else None,
            "last_score": last["score"] if last else (own[-1]["score"] if own else None),
            "last_score_by": "trainer" if last else ("learner" if own else None),
        })  # fmt: skip
    return rows


def class_report(cluster: Cluster, class_name: str, catalogue: dict[str, Exercise]) -> dict:
    """Learners × exercises: the latest trainer grade of each (seat, exercise), else the learner's
    own latest check, with time used, the checks failed most often and each topic's mastery."""
    seats = class_seats(cluster, class_name)
    cells: dict[tuple[str, str], dict] = {}
    exams: dict[str, dict] = {}
    for entry in sorted(_trainer_results(cluster, class_name), key=lambda e: e.get("graded_at", "")):
        if entry.get("exam"):  # an exam's tasks are cells too, the exam's total a column of its own
            exams[entry["seat"]] = {"exam": entry["exam"], "score": entry["score"], "verdict": entry.get("verdict"),
                                    "elapsed_s": entry.get("elapsed_s")}  # fmt: skip
            for task in entry.get("tasks") or []:
                cells[(entry["seat"], task["exercise"])] = task | {"elapsed_s": entry.get("elapsed_s"), "by": "trainer"}
        elif entry.get("exercise"):
            cells[(entry["seat"], entry["exercise"])] = entry | {"by": "trainer"}
    for seat, configmap in seats:
        for record in seat_records(configmap):
            key = (seat.id, record.get("exercise"))
            if record.get("kind") == "check" and record.get("exercise") and key not in cells:
                exercise = catalogue.get(record["exercise"])
                cells[key] = {
                    "seat": seat.id, "exercise": record["exercise"], "score": record["score"],
                    "passed": record.get("passed", False), "elapsed_s": record.get("elapsed_s"),
                    "failed": record.get("failed", []), "failed_titles": {},
                    "topics": list(exercise.topics) if exercise else [], "by": "learner", "own": True,
                }  # fmt: skip
            elif record.get("kind") == "check" and key in cells and cells[key].get("own"):
                cells[key] |= {"score": record["score"], "elapsed_s": record.get("elapsed_s"),
                               "failed": record.get("failed", []), "passed": record.get("passed", False)}
    exercises = sorted({exercise for (_, exercise) in cells})
    failed = Counter()
    titles = {}
    topic_scores: dict[str, list[float]] = {}
    for (seat, exercise), cell in cells.items():
        for check_id in cell.get("failed") or []:
            failed[(exercise, check_id)] += 1
            titles[(exercise, check_id)] = (cell.get("failed_titles") or {}).get(check_id, "")
        for topic in cell.get("topics") or []:
            topic_scores.setdefault(topic, []).append(float(cell["score"]))
    learners = []
    for seat, _ in seats:
        row = {e: _cell_json(cells.get((seat.id, e))) for e in exercises}
        scores = [c["score"] for c in row.values() if c]
        learners.append({
            "seat": seat.id, "learner": seat.learner, "exercises": row,
            "average": round(sum(scores) / len(scores), 1) if scores else None, "exam": exams.get(seat.id),
        })  # fmt: skip
    return {
        "class": class_name,
        "exercises": [{"id": e, "title": catalogue[e].title if e in catalogue else e,
                       "topics": list(catalogue[e].topics) if e in catalogue else []} for e in exercises],
        "learners": learners,
        "most_failed": [
            {"exercise": e, "check": c, "title": titles[(e, c)], "seats": n}
            for (e, c), n in sorted(failed.items(), key=lambda item: (-item[1], item[0]))[:10]
        ],
        "topics": [
            {"topic": t, "mastery": round(sum(s) / len(s), 1), "results": len(s)}
            for t, s in sorted(topic_scores.items())
        ],
    }  # fmt: skip


def _cell_json(cell: dict | None) -> dict | None:
    if cell is None:
        return None
    return {"score": cell["score"], "passed": bool(cell.get("passed")), "elapsed_s": cell.get("elapsed_s"),
            "failed": list(cell.get("failed") or []), "graded_by": cell["by"]}  # fmt: skip


