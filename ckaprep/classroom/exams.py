"""A class exam: the same mock exam set up in every seat, with one deadline for everyone.

Plain functions over the cluster seam: no terminal, progress goes to a callback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from ckaprep.attempts import Exam, new_id
from ckaprep.catalogue.exercise import Exercise
from ckaprep.classroom.roster import exam_records, has_learner_state, save_exam_record
from ckaprep.classroom.seats import (
    DEFAULT_PARALLEL,
    EXAM_ROLE,
    Seat,
    SeatStore,
    SeatView,
    SeatWorkspace,
    class_roster,
    create_or_keep,
    empty_namespaces,
    missing_configmap,
    not_for_seats,
    seat_namespace,
    seat_rights,
)
from ckaprep.clock import SYSTEM_CLOCK, Clock
from ckaprep.cluster import Cluster
from ckaprep.cluster.waiting import Progress, Waiter, no_progress
from ckaprep.errors import StateError
from ckaprep.grading.options import GradingOptions

# -- a class exam ------------------------------------------------------------------------------------


def exam_namespaces(seat: Seat, task: int, count: int) -> list[str]:
    """A task's own namespaces in the seat, made by the trainer for the exam: k8s101-03-e2-a."""
    return [f"{seat.id}-e{task}-{chr(ord('a') + i)}" for i in range(count)]


def start_class_exam(
    cluster: Cluster,
    class_name: str,
    catalogue: dict[str, Exercise],
    *,
    state_dir: Path,
    seed: int,
    clock: Clock = SYSTEM_CLOCK,
    tasks: int | None = None,
    topics: list[str] | tuple[str, ...] = (),
    minutes: int | None = None,
    per_seat: bool = False,
    force: bool = False,
    parallel: int = DEFAULT_PARALLEL,
    progress: Progress = no_progress,
) -> dict:
    """The same mock exam in every seat (or a draw per seat), set up by the trainer in namespaces
    of its own per task, with one clock for everyone: it starts once every seat is ready.
    The learners then use `ckaprep exam status|task|submit` as usual."""

    from ckaprep.practice.exam import draw_exam, plan_exam, set_up_exam, start_clock

    views = class_roster(cluster, class_name)
    gone = [view for view in views if view.configmap is None]
    if gone:
        raise StateError(f"seat {gone[0].seat.id}: {missing_configmap(gone[0])}")
    exam_id = new_id()
    stores = {view.seat.id: SeatStore(state_dir, cluster, view.seat) for view in views}
    busy = [view.seat.id for view in views if has_learner_state(view)] if not force else []
    if busy:
        raise StateError(
            f"seat(s) {', '.join(busy[:5])} have an active exercise or exam; start the exam with --force "
            "to replace it (what the seat made is deleted)"
        )
    catalogue = {key: ex for key, ex in catalogue.items() if not not_for_seats(ex)}
    draws = {
        view.seat.id: draw_exam(
            catalogue, seed=seed + (view.seat.number if per_seat else 0), tasks=tasks, topics=topics, minutes=minutes
        )
        for view in views
    }
    done, guard = [0], threading.Lock()

    def one(view: SeatView) -> Exam:
        seat = view.seat
        store, draw = stores[seat.id], draws[seat.id]
        # Only the namespaces the class labelled as this seat's are emptied: whatever the
        # learner's state names, the trainer's rights act on nothing else.
        if has_learner_state(view) or view.exam_namespaces:
            empty_namespaces(cluster, seat.namespaces + view.exam_namespaces, waiter=Waiter(clock=clock))
            store.clear()
            store.clear_exam()
        task_seats = []
        for number, exercise in enumerate(draw.exercises, start=1):
            task_seat = Seat(
                class_name, seat.number, exam_namespaces(seat, number, len(exercise.namespaces)), seat.learner
            )
            labels = seat.labels(EXAM_ROLE)
            for ns in task_seat.namespaces:
                create_or_keep(cluster, seat_namespace(ns, labels))
            for manifest in seat_rights(seat, task_seat.namespaces, labels):
                create_or_keep(cluster, manifest)
            task_seats.append(task_seat)
        exam = plan_exam(
            draw,
            seed=seed + (seat.number if per_seat else 0),
            now=clock.now(),
            exam_id=exam_id,
            workspace_of=lambda number: SeatWorkspace(task_seats[number - 1]),
        )
        store.save_exam(exam)
        set_up_exam(exam, draw.exercises, cluster, record=store.save_exam, clock=clock)
        with guard:
            done[0] += 1
            progress(f"{done[0]}/{len(views)} seats set up")
        return exam

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        exams = list(pool.map(one, views))
    started = clock.now()
    seats = [view.seat for view in views]
    for seat, exam in zip(seats, exams):  # one clock for the whole class, from now
        start_clock(exam, started)
        save_exam_record(cluster, seat, exam)  # what the trainer grades, out of the learner's reach
        stores[seat.id].save_exam(exam)
    return {
        "class": class_name,
        "exam": exam_id,
        "draw": "per-seat" if per_seat else "same",
        "started_at": started.isoformat(),
        "deadline": max(e.deadline for e in exams),
        "seats": [
            {
                "seat": seat.id,
                "learner": seat.learner,
                "tasks": [t.exercise for t in exam.tasks],
                "namespaces": exam.namespaces,
                "minutes": exam.minutes,
            }
            for seat, exam in zip(seats, exams)
        ],
    }


def class_exam_deadline(cluster: Cluster, class_name: str) -> datetime | None:
    """The latest deadline of the class exam, as the trainer set it: no seat can move it."""
    class_roster(cluster, class_name)  # a class that does not exist is an error, not "no deadline"
    deadlines = [datetime.fromisoformat(exam.deadline) for exam in exam_records(cluster, class_name).values()]
    return max(deadlines) if deadlines else None


def wait_for_deadline(
    deadline: datetime | None,
    *,
    clock: Clock,
    waiting: Callable[[float], None] = lambda seconds_left: None,
) -> None:
    """Return once `deadline` has passed (at once when there is none), telling `waiting` the
    seconds left about once a second."""
    while deadline is not None and (left := (deadline - clock.now()).total_seconds()) > 0:
        waiting(left)
        clock.sleep(min(left, 1.0))


def grade_seat_exam(exam: Exam, catalogue, cluster, *, now: datetime, options: GradingOptions) -> dict:
    """A seat's exam graded by the trainer with the same engine as `exam submit`, each task
    scored by `check`'s rule and weighted into the total against the pass line."""
    from ckaprep.practice.exam import grade_exam

    exercises = [catalogue.get(t.exercise) for t in exam.tasks]
    missing = [t.exercise for t, e in zip(exam.tasks, exercises) if e is None]
    if missing:
        return {"problem": f"no exercise {missing[0]!r} in the trainer's catalogue"}
    end = min(now, datetime.fromisoformat(exam.deadline))
    result = grade_exam(exam, exercises, cluster, now=end, options=options)
    failed = [f"{t['exercise']}/{c['id']}" for t in result["tasks"] for c in t["checks"] if c["status"] != "pass"]
    return {
        "exam": exam.id,
        "score": result["score"],
        "passed": result["passed"],
        "verdict": result["verdict"],
        "elapsed_s": result["time_used_s"],
        "deadline": exam.deadline,
        "deadline_passed": now >= datetime.fromisoformat(exam.deadline),
        "submitted": exam.submitted,
        "tasks": [
            {
                "number": t["number"],
                "exercise": t["exercise"],
                "score": t["score"],
                "passed": t["passed"],
                "topics": t["topics"],
                "failed": [c["id"] for c in t["checks"] if c["status"] != "pass"],
                "failed_titles": {c["id"]: c["title"] for c in t["checks"] if c["status"] != "pass"},
            }
            for t in result["tasks"]
        ],
        "failed": failed,
        "topics": sorted({topic for t in result["tasks"] for topic in t["topics"]}),
    }
