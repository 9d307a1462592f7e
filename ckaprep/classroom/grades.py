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

from ckaprep.attempts import new_id
from ckaprep.catalogue.exercise import Exercise
from ckaprep.classroom.exams import grade_seat_exam
from ckaprep.classroom.roster import (
    SeatTrouble,
    exam_active,
    exam_records,
    learner_attempt,
    learner_results,
    submitted_at,
    trusted_attempt,
)
from ckaprep.classroom.seats import (
    DEFAULT_PARALLEL,
    RESULT_ROLE,
    Seat,
    SeatView,
    class_roster,
    class_selector,
    json_key,
    missing_configmap,
    results_namespace,
)
from ckaprep.cluster import Cluster
from ckaprep.cluster.waiting import no_progress
from ckaprep.errors import ImagePullError, StateError, WaitTimeout, one_line
from ckaprep.grading.options import GradingOptions

MOST_FAILED_SHOWN = 10


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
        if (
            namespace is None
            or namespace not in self._namespaces
            or not self._first_time((kind, namespace, label_selector))
        ):
            return self._cluster.list(kind, namespace, label_selector)
        from ckaprep.cluster.labels import matches, parse_selector

        items = self._snapshot(kind).get(namespace, [])
        if label_selector:
            wanted = parse_selector(label_selector)
            items = [o for o in items if matches(wanted, (o.get("metadata") or {}).get("labels"))]
        return sorted(items, key=lambda o: o["metadata"]["name"])


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
    from ckaprep.practice.history import CHECK
    from ckaprep.practice.results import grade_task

    progress, clock = options.waiter.progress, options.waiter.clock

    views = class_roster(cluster, class_name)
    exams = exam_records(cluster, class_name)
    namespaces = {ns for view in views for ns in view.seat.namespaces}
    namespaces |= {ns for exam in exams.values() for ns in exam.namespaces}
    shared = SharedReads(cluster, namespaces)
    round_id = new_id()
    started = clock.monotonic()
    guard = threading.Lock()
    graded = [0]
    quiet = options.with_progress(no_progress)  # seats report as a whole, below

    def one(view: SeatView) -> dict:
        seat = view.seat
        entry = {
            "seat": seat.id,
            "learner": seat.learner,
            "exercise": None,
            "attempt": None,
            "score": None,
            "passed": False,
            "problem": "",
        }
        try:
            if view.configmap is None:
                entry["problem"] = missing_configmap(view)
                return entry
            try:
                found = trusted_attempt(view, catalogue)
            except SeatTrouble as exc:
                entry["problem"] = exc.message
                return entry
            exam = exams.get(seat.id) if found is None else None
            if exam is not None:
                exam.submitted_at = submitted_at(view, exam)
                entry |= {"attempt": exam.id, "graded_at": now.isoformat(), "round": round_id}
                entry |= grade_seat_exam(exam, catalogue, shared, now=now, options=quiet)
                if record and entry["score"] is not None:
                    _record_result(cluster, class_name, seat, entry)
                return entry
            if found is None:
                entry["problem"] = "no active exercise"
                return entry
            attempt, exercise = found
            entry |= {"exercise": attempt.exercise, "attempt": attempt.id or round_id}
            try:
                result = grade_task(exercise, attempt, shared, quiet)
            except (StateError, ImagePullError, WaitTimeout) as exc:  # this seat's problem, not the round's
                entry["problem"] = exc.message
                return entry
            report = result.report
            kept = result.record(kind=CHECK, time=now, elapsed_s=max(0.0, attempt.elapsed_s(now)), practice=False)
            entry |= {
                "score": kept.score,
                "passed": kept.passed,
                "earned": report.earned,
                "total": report.total,
                "elapsed_s": kept.elapsed_s,
                "started_at": attempt.started_at,
                "graded_at": kept.time,
                "round": round_id,
                "topics": list(exercise.topics),
                "hints": kept.hints,
                "solution_shown": kept.solution_shown,
                "failed": kept.failed,
                "failed_titles": {c.id: c.title for c in result.failed},
                "checks": [asdict(c) for c in report.checks],
            }
            if record:
                _record_result(cluster, class_name, seat, entry)
            return entry
        finally:
            with guard:
                graded[0] += 1
                progress(f"graded {graded[0]}/{len(views)} seats")

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        results = list(pool.map(one, views))
    return {
        "class": class_name,
        "round": round_id,
        "graded_at": now.isoformat(),
        "seconds": round(clock.monotonic() - started, 2),
        "seats": results,
        "shared_lists": dict(shared.requests),
    }


def _record_result(cluster: Cluster, class_name: str, seat: Seat, entry: dict) -> None:
    labels = seat.labels(RESULT_ROLE) | (
        {"ckaprep.io/exam": entry["exam"]} if entry.get("exam") else {"ckaprep.io/exercise": entry["exercise"]}
    )
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"{seat.id}-{entry['attempt']}-{entry['round']}",
                "namespace": results_namespace(class_name),
                "labels": labels,
            },
            "data": {"result.json": json.dumps(entry, sort_keys=True)},
        }
    )


# -- status and report -------------------------------------------------------------------------------
def _trainer_results(cluster: Cluster, class_name: str) -> list[dict]:
    results = []
    for configmap in cluster.list("ConfigMap", results_namespace(class_name), class_selector(class_name, RESULT_ROLE)):
        entry = json_key(configmap, "result.json")
        if isinstance(entry, dict) and isinstance(entry.get("score"), (int, float)):
            results.append(entry)
    return results


def class_status(cluster: Cluster, class_name: str, now: datetime, catalogue: dict[str, Exercise]) -> list[dict]:
    """Each seat: learner, active exercise or exam, time on it, and the last score: the trainer's,
    else the learner's own (said to be so). A seat whose state cannot be read says why."""
    views = class_roster(cluster, class_name)
    exams = exam_records(cluster, class_name)
    latest: dict[str, dict] = {}
    for entry in sorted(_trainer_results(cluster, class_name), key=lambda e: e.get("graded_at", "")):
        latest[entry["seat"]] = entry
    rows = []
    for view in views:
        seat, problem, attempt = view.seat, "", None
        if view.configmap is None:
            problem = missing_configmap(view)
        else:
            try:
                attempt = learner_attempt(view)
            except SeatTrouble as exc:
                problem = exc.message
            if attempt is not None and attempt.exercise not in catalogue:
                problem = f"no exercise {one_line(attempt.exercise)!r} in the trainer's catalogue"
        own = learner_results(view, catalogue) if view.configmap is not None else []
        last = latest.get(seat.id)
        exam = exams.get(seat.id)
        rows.append(
            {
                "seat": seat.id,
                "learner": seat.learner,
                "namespaces": seat.namespaces,
                "exercise": one_line(attempt.exercise) if attempt else None,
                "exam": exam.id if exam and exam_active(view, exam) else None,
                "elapsed_s": round(max(0.0, attempt.elapsed_s(now)), 1) if attempt else None,
                "last_score": last["score"] if last else (own[-1]["score"] if own else None),
                "last_score_by": "trainer" if last else ("learner" if own else None),
                "problem": problem,
            }
        )
    return rows


def class_report(
    cluster: Cluster, class_name: str, catalogue: dict[str, Exercise], now: datetime | None = None
) -> dict:
    """Learners × exercises: the latest trainer grade of each (seat, exercise), with time used, the
    checks failed most often and each topic's mastery. A learner's own latest check shows where the
    trainer has not graded, marked as the learner's, and counts in no average, mastery or list."""
    views = class_roster(cluster, class_name)
    cells: dict[tuple[str, str], dict] = {}
    exams: dict[str, dict] = {}
    for entry in sorted(_trainer_results(cluster, class_name), key=lambda e: e.get("graded_at", "")):
        if entry.get("exam"):  # an exam's tasks are cells too, the exam's total a column of its own
            exams[entry["seat"]] = {
                "exam": entry["exam"],
                "score": entry["score"],
                "verdict": entry.get("verdict"),
                "elapsed_s": entry.get("elapsed_s"),
                "tasks": [
                    {
                        "number": t.get("number"),
                        "exercise": t.get("exercise"),
                        "score": t.get("score"),
                        "passed": t.get("passed"),
                    }
                    for t in entry.get("tasks") or []
                ],
            }
            for task in entry.get("tasks") or []:
                cells[(entry["seat"], task["exercise"])] = task | {"elapsed_s": entry.get("elapsed_s"), "by": "trainer"}
        elif entry.get("exercise"):
            cells[(entry["seat"], entry["exercise"])] = entry | {"by": "trainer"}
    problems: dict[str, str] = {}
    current: dict[str, str | None] = {}
    on_it: dict[str, float] = {}
    for view in views:
        seat = view.seat
        if view.configmap is None:
            problems[seat.id] = missing_configmap(view)
            continue
        try:
            attempt = learner_attempt(view)
            current[seat.id] = attempt.exercise if attempt and attempt.exercise in catalogue else None
            if current[seat.id] and now is not None:
                on_it[seat.id] = round(max(0.0, attempt.elapsed_s(now)), 1)
        except SeatTrouble as exc:
            problems[seat.id] = exc.message
        for record in learner_results(view, catalogue):
            key = (seat.id, record["exercise"])
            if key in cells and cells[key]["by"] == "trainer":
                continue
            exercise = catalogue[record["exercise"]]
            cells[key] = record | {
                "seat": seat.id,
                "failed_titles": {},
                "topics": list(exercise.topics),
                "by": "learner",
            }
    exercises = sorted({exercise for (_, exercise) in cells})
    failed = Counter()
    titles = {}
    topic_scores: dict[str, list[float]] = {}
    for (_, exercise), cell in cells.items():
        if cell["by"] != "trainer":
            continue  # what a learner wrote is theirs to see, never the class's figures
        for check_id in cell.get("failed") or []:
            failed[(exercise, check_id)] += 1
            titles[(exercise, check_id)] = (cell.get("failed_titles") or {}).get(check_id, "")
        for topic in cell.get("topics") or []:
            topic_scores.setdefault(topic, []).append(float(cell["score"]))
    learners = []
    for view in views:
        seat = view.seat
        row = {e: _cell_json(cells.get((seat.id, e))) for e in exercises}
        scores = [c["score"] for c in row.values() if c and c["graded_by"] == "trainer"]
        exercise_now = current.get(seat.id)
        now_cell = row.get(exercise_now) if exercise_now else None
        learners.append(
            {
                "seat": seat.id,
                "learner": seat.learner,
                "exercises": row,
                "average": round(sum(scores) / len(scores), 1) if scores else None,
                "exam": exams.get(seat.id),
                "current": exercise_now,
                "current_failed": list(now_cell["failed"]) if now_cell else [],
                "current_elapsed_s": on_it.get(seat.id),
                "problem": problems.get(seat.id, ""),
            }
        )
    ranked = sorted(failed.items(), key=lambda item: (-item[1], item[0]))
    return {
        "class": class_name,
        "exercises": [
            {
                "id": e,
                "title": catalogue[e].title if e in catalogue else e,
                "topics": list(catalogue[e].topics) if e in catalogue else [],
            }
            for e in exercises
        ],
        "learners": learners,
        "most_failed": [
            {"exercise": e, "check": c, "title": titles[(e, c)], "seats": n} for (e, c), n in ranked[:MOST_FAILED_SHOWN]
        ],
        "most_failed_more": max(0, len(ranked) - MOST_FAILED_SHOWN),
        "topics": [
            {"topic": t, "mastery": round(sum(s) / len(s), 1), "results": len(s)}
            for t, s in sorted(topic_scores.items())
        ],
    }


def _cell_json(cell: dict | None) -> dict | None:
    if cell is None:
        return None
    return {
        "score": cell["score"],
        "passed": bool(cell.get("passed")),
        "elapsed_s": cell.get("elapsed_s"),
        "failed": list(cell.get("failed") or []),
        "graded_by": cell["by"],
    }
