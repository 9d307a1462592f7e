"""`ckaprep check` as one library step: find the attempt it acts on, grade it by the one scoring
rule (the same engine and rule `exam submit` uses for each task), and record the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ckaprep.attempts import Attempt, Exam, require_params
from ckaprep.catalogue.exercise import Exercise
from ckaprep.clock import Clock
from ckaprep.cluster import Cluster
from ckaprep.errors import CkaprepError
from ckaprep.grading.options import GradingOptions
from ckaprep.grading.report import Report
from ckaprep.practice.exam import current_attempt, save_current
from ckaprep.practice.history import CHECK
from ckaprep.practice.results import TaskResult, grade_task
from ckaprep.practice.state import StateStore


def active_attempt(
    store: StateStore, find_exercise: Callable[[str], Exercise], command: str
) -> tuple[Attempt, Exercise, Exam | None]:
    """The attempt `command` acts on (the single exercise, or a practice exam's current task), its
    exercise, and the exam it belongs to if any; a state error when its parameters no longer fit."""
    attempt, exam = current_attempt(store, command)
    exercise = find_exercise(attempt.exercise)
    where = f"tasks[{exam.current - 1}]" if exam else ""
    require_params(store.exam_path if exam else store.path, attempt, exercise.params, where=where)
    return attempt, exercise, exam


@dataclass(frozen=True)
class Checked:
    exercise: Exercise
    attempt: Attempt
    report: Report
    elapsed_s: float
    result: TaskResult
    # Remembering is secondary: a state directory that cannot be written costs a warning, not the grade.
    warnings: list[str] = field(default_factory=list)


def check_and_record(
    store: StateStore,
    find_exercise: Callable[[str], Exercise],
    cluster_for: Callable[[str | None], Cluster],
    options: GradingOptions,
    *,
    clock: Clock,
) -> Checked:
    """Grade the active attempt on its cluster, learn the cluster's DNS domain for the notes,
    and append the result to the history."""
    attempt, exercise, exam = active_attempt(store, find_exercise, "check")
    options.waiter.progress("grading")
    result = grade_task(exercise, attempt, cluster_for(attempt.context), options)
    elapsed = attempt.elapsed_s(clock.now())
    warnings = []
    try:
        domain = next(iter(result.context.known_domains().values()), None)
        if domain and domain != attempt.cluster_domain:
            with store.locked():
                fresh, _, current_exam = active_attempt(store, find_exercise, "check")
                if fresh.id == attempt.id:
                    fresh.cluster_domain = domain
                    save_current(store, fresh, current_exam)
        store.remember(result.record(kind=CHECK, time=clock.now(), elapsed_s=elapsed, practice=exam is not None))
    except CkaprepError as exc:
        warnings.append(exc.message)
    return Checked(exercise, attempt, result.report, elapsed, result, warnings)
