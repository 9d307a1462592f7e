"""Mock exams: drawing tasks, setting them all up at once, and grading them against the pass line.

Plain library code: progress goes to a callback, time comes from the caller.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from ckaprep.attempts import Attempt, Exam, new_id, require_params
from ckaprep.catalogue.exercise import Exercise
from ckaprep.clock import SYSTEM_CLOCK, Clock
from ckaprep.cluster import Cluster
from ckaprep.cluster.waiting import Progress, Waiter, no_progress
from ckaprep.errors import StateError, UsageError
from ckaprep.grading.options import GradingOptions
from ckaprep.practice.history import EXAM, EXAM_TASK, Record
from ckaprep.practice.lifecycle import (
    SETUP_TIMEOUT_S,
    delete_attempts,
    ensure_namespaces_free,
    plan_attempt,
    rescued_start,
    set_up,
)
from ckaprep.practice.results import TaskResult, grade_task, percent
from ckaprep.practice.state import StateStore
from ckaprep.practice.workspace import Workspace
from ckaprep.study.vocabulary import resolve

PASS_LINE = 66  # percent, as in the CKA
MAX_PARALLEL_SETUP = 5
MAX_PARALLEL_GRADING = 3
SUBMIT_WAIT_S = 10.0


@dataclass(frozen=True)
class Draw:
    exercises: list[Exercise]
    seeds: list[int]
    params: list[dict]  # each task's parameters, drawn from its seed once, here
    minutes: int


def draw_exam(
    catalogue: dict[str, Exercise],
    *,
    seed: int,
    tasks: int | None = None,
    topics: list[str] | tuple[str, ...] = (),
    minutes: int | None = None,
    capabilities=None,
) -> Draw:
    """Draw distinct exercises: first one for each topic not yet covered, in an order shuffled
    by the seed, then the rest. Without `tasks`, just enough to cover every topic once.
    The same seed and options always give the same exam. A fault pool draws only the faults
    `capabilities` (what the cluster offers, see ckaprep.catalogue.capabilities) support."""
    from ckaprep.catalogue.capabilities import fault_draw

    with_exercises = sorted({t for ex in catalogue.values() for t in ex.topics})
    topics = list(dict.fromkeys(resolve(topic, among=with_exercises) for topic in topics))
    candidates = [ex for _, ex in sorted(catalogue.items()) if not topics or set(topics) & set(ex.topics)]
    if not candidates:
        raise UsageError(f"no exercise covers topic(s) {', '.join(topics)}")
    rng = random.Random(seed)
    rng.shuffle(candidates)
    covering, covered = [], set()
    for exercise in candidates:
        wanted = set(exercise.topics) & set(topics) if topics else set(exercise.topics)
        if wanted - covered:
            covering.append(exercise)
            covered |= wanted
    ordered = covering + [ex for ex in candidates if ex not in covering]
    count = len(covering) if tasks is None else tasks
    if not 1 <= count <= len(candidates):
        if count >= 1 and topics:
            fit = f"{len(candidates)} exercise" + (" has" if len(candidates) == 1 else "s have")
            raise UsageError(
                f"--tasks {count}: only {fit} topic {' or '.join(topics)}, so the exam has at most "
                f"{len(candidates)} task" + ("" if len(candidates) == 1 else "s")
            )
        raise UsageError(f"--tasks must be between 1 and {len(candidates)} (the exercises that fit)")
    chosen = ordered[:count]
    seeds, params, taken = [], [], set()
    for exercise in chosen:
        while True:
            task_seed = rng.randrange(1, 10**6)
            task_params = exercise.choose_params(task_seed, faults=fault_draw(exercise.faults, task_seed, capabilities))
            namespaces = set(exercise.namespaces_for(task_params))
            if not namespaces & taken:
                break
        taken |= namespaces
        seeds.append(task_seed)
        params.append(task_params)
    total = minutes if minutes is not None else sum(ex.minutes for ex in chosen)
    if total <= 0:
        raise UsageError("--minutes must be positive")
    return Draw(chosen, seeds, params, total)


def plan_exam(
    draw: Draw,
    *,
    seed: int,
    now: datetime,
    practice: bool = False,
    context: str | None = None,
    exam_id: str | None = None,
    workspace_of: Callable[[int], Workspace | None] = lambda number: None,
) -> Exam:
    """The exam and its tasks; nothing is created yet. `workspace_of` gives task N (from 1) the
    place it runs in (a class exam's seat); `exam_id` is shared by a class's exams."""
    exam_id = exam_id or new_id()
    tasks = [
        plan_attempt(ex, seed=s, now=now, context=context, exam=exam_id, params=p, workspace=workspace_of(number))
        for number, (ex, s, p) in enumerate(zip(draw.exercises, draw.seeds, draw.params), start=1)
    ]
    return Exam(
        id=exam_id,
        seed=seed,
        started_at=now.isoformat(),
        deadline=(now + timedelta(minutes=draw.minutes)).isoformat(),
        minutes=draw.minutes,
        practice=practice,
        tasks=tasks,
        weights=[ex.weight for ex in draw.exercises],
        context=context,
    )


class _Cancelled(Exception):
    pass


class _CancellableClock(Clock):
    """A task's clock in an exam's setup: once another task has failed, its next sleep ends it."""

    def __init__(self, clock: Clock, cancelled: threading.Event):
        self._clock, self._cancelled = clock, cancelled

    def now(self) -> datetime:
        return self._clock.now()

    def monotonic(self) -> float:
        return self._clock.monotonic()

    def sleep(self, seconds: float) -> None:
        if self._cancelled.is_set():
            raise _Cancelled()
        self._clock.sleep(seconds)


def set_up_exam(
    exam: Exam,
    exercises: list[Exercise],
    cluster: Cluster,
    *,
    record: Callable[[Exam], None],
    progress: Progress = no_progress,
    clock: Clock = SYSTEM_CLOCK,
    timeout_s: float = SETUP_TIMEOUT_S,
    parallel: int = MAX_PARALLEL_SETUP,
    resume: bool = False,
) -> None:
    """Set every task up at once; progress is one line summing all of them up.
    The first failure (or Ctrl-C) stops the other tasks at their next wait. `resume` finishes
    an exam whose start was cut short: tasks already set up are kept, the others finished."""
    guard = threading.Lock()
    status = {n: "ready" if resume and task.set_up_done else "queued" for n, task in enumerate(exam.tasks, start=1)}
    cancelled = threading.Event()

    def summary(number: int) -> str:
        ready = sum(s == "ready" for s in status.values())
        return f"{ready}/{len(status)} tasks ready · task {number}: {status[number]}"

    def one(number: int, exercise: Exercise, attempt: Attempt) -> None:
        def task_progress(message: str) -> None:
            with guard:
                status[number] = message
                progress(summary(number))

        def save(_: Attempt) -> None:
            with guard:
                record(exam)

        if resume and attempt.set_up_done:
            return
        waiter = Waiter(progress=task_progress, clock=_CancellableClock(clock, cancelled))
        set_up(exercise, attempt, cluster, record=save, waiter=waiter, timeout_s=timeout_s, resume=resume)
        task_progress("ready")

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = [
            pool.submit(one, n, ex, attempt) for n, (ex, attempt) in enumerate(zip(exercises, exam.tasks), start=1)
        ]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        finally:  # a failed task or Ctrl-C: the others stop at their next wait
            if not all(f.done() for f in futures):
                cancelled.set()
                for future in futures:
                    future.cancel()
    errors = [f.exception() for f in futures if not f.cancelled() and f.exception() is not None]
    real = [e for e in errors if not isinstance(e, _Cancelled)]
    if real:
        raise real[0]


def start_exam(
    workspace: Workspace,
    cluster: Cluster,
    draw: Draw,
    *,
    seed: int,
    practice: bool = False,
    force: bool = False,
    context: str | None = None,
    waiter: Waiter = Waiter(),
    timeout_s: float = SETUP_TIMEOUT_S,
    catalogue: Mapping[str, Exercise] | None = None,
) -> Exam:
    """`ckaprep exam start`, under the state lock: refuse or replace what is active, record the
    exam before creating anything (so `exam reset` can always clean up), then set it up.
    The clock starts when the sheet can be shown, not while the tasks are being set up.
    An exam whose start was cut short is finished instead of drawn again (its own tasks, found
    in `catalogue`), unless `force` replaces it."""
    if workspace.seat_id is not None:
        raise StateError("in a classroom seat, the trainer starts exams (`ckaprep classroom exam`)")
    store = workspace.store
    with rescued_start(store.load_exam, what="exam", reset_command="ckaprep exam reset"):
        with store.locked(progress=waiter.progress):
            active = store.load()
            if active is not None:
                raise StateError(f"exercise {active.exercise} is active; run `ckaprep reset` before starting an exam")
            old = store.load_exam()
            if old is not None and not force and not old.submitted and not old.set_up_done:
                # The same start, run again after it was cut short: finish what it began.
                exercises = check_exam(
                    store, old, catalogue if catalogue is not None else {ex.id: ex for ex in draw.exercises}
                )
                waiter.progress(f"finishing the setup of exam {old.id}")
                set_up_exam(
                    old,
                    exercises,
                    cluster,
                    record=store.save_exam,
                    progress=waiter.progress,
                    clock=waiter.clock,
                    timeout_s=timeout_s,
                    resume=True,
                )
                start_clock(old, waiter.clock.now())
                store.save_exam(old)
                return old
            if old is not None:
                if not force:
                    state = "submitted" if old.submitted else "in progress"
                    raise StateError(
                        f"exam {old.id} is {state}; remove it with `ckaprep exam reset`, "
                        "or start with --force to replace it"
                    )
                delete_attempts(cluster, old.tasks, waiter=waiter, workspace=workspace)
                store.clear_exam()
            exam = plan_exam(draw, seed=seed, now=waiter.clock.now(), practice=practice, context=context)
            for attempt in exam.tasks:
                ensure_namespaces_free(cluster, attempt.namespaces)
            store.save_exam(exam)
            set_up_exam(
                exam,
                draw.exercises,
                cluster,
                record=store.save_exam,
                progress=waiter.progress,
                clock=waiter.clock,
                timeout_s=timeout_s,
            )
            start_clock(exam, waiter.clock.now())
            store.save_exam(exam)
            return exam


def start_clock(exam: Exam, started: datetime) -> None:
    """The exam's time runs from `started`: once its tasks are set up, not while they are."""
    exam.started_at = started.isoformat()
    exam.deadline = (started + timedelta(minutes=exam.minutes)).isoformat()
    for attempt in exam.tasks:
        attempt.started_at = exam.started_at


def check_exam(store: StateStore, exam: Exam, catalogue: Mapping[str, Exercise]) -> list[Exercise]:
    """The exercise of each task; a task whose exercise or params no longer fit is a state error."""
    exercises = []
    for i, attempt in enumerate(exam.tasks):
        exercise = catalogue.get(attempt.exercise)
        if exercise is None:
            raise StateError(
                f"state file {store.exam_path}: field tasks[{i}].exercise: no exercise "
                f"{attempt.exercise!r}; run `ckaprep exam reset`"
            )
        require_params(store.exam_path, attempt, exercise.params, where=f"tasks[{i}]")
        exercises.append(exercise)
    return exercises


# -- grading ------------------------------------------------------------------------------
def weighted_total(parts: list[tuple[Fraction, int]]) -> Fraction:
    """Each task's earned fraction weighted by the task's weight, as a fraction of 1."""
    total_weight = sum(weight for _, weight in parts)
    if not total_weight:
        return Fraction(0)
    return sum((fraction * weight for fraction, weight in parts), Fraction(0)) / total_weight


def verdict(total: Fraction) -> bool:
    """Exact arithmetic, so exactly 66% passes and 65.99…% does not."""
    return total >= Fraction(PASS_LINE, 100)


def grade_tasks(exam: Exam, exercises: list[Exercise], cluster: Cluster, options: GradingOptions) -> list[TaskResult]:
    """Every task through the one grading step `check` uses, a few at a time; a task that cannot
    be graded (its namespace was deleted by hand) earns nothing and says why."""
    progress = options.waiter.progress
    guard = threading.Lock()
    graded = [0]

    def one(number: int) -> TaskResult:
        exercise, attempt = exercises[number - 1], exam.tasks[number - 1]

        def task_progress(message: str) -> None:
            with guard:
                progress(f"grading: {graded[0]}/{len(exam.tasks)} tasks graded · task {number}: {message}")

        try:
            return grade_task(exercise, attempt, cluster, options.with_progress(task_progress))
        except StateError as exc:  # e.g. the task's namespace was deleted by hand
            return TaskResult(exercise, attempt, None, exc.message)
        finally:
            with guard:
                graded[0] += 1

    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_GRADING) as pool:
        return list(pool.map(one, range(1, len(exam.tasks) + 1)))


def exam_result(exam: Exam, graded: list[TaskResult], *, now: datetime, auto: bool = False) -> dict:
    """The exam's result as it is kept and shown: each task, the weighted total against the pass
    line, and the score by topic."""
    tasks, parts = [], []
    for number, (result, weight) in enumerate(zip(graded, exam.weights), start=1):
        parts.append((result.fraction, weight))
        tasks.append(
            {
                "number": number,
                "exercise": result.exercise.id,
                "title": result.exercise.title,
                "weight": weight,
                "topics": list(result.exercise.topics),
                "namespaces": result.attempt.namespaces,
                "score": result.score,
                "passed": result.passed,
                "flagged": number in exam.flagged,
                "problem": result.problem,
                "checks": [asdict(c) for c in result.report.checks] if result.report else [],
            }
        )
    total = weighted_total(parts)
    topics = {}
    for task, part in zip(tasks, parts):
        for topic in task["topics"]:
            topics.setdefault(topic, []).append(part)
    started = datetime.fromisoformat(exam.started_at)
    ended = min(now, datetime.fromisoformat(exam.deadline))
    return {
        "exam": exam.id,
        "seed": exam.seed,
        "practice": exam.practice,
        "started_at": exam.started_at,
        "submitted_at": now.isoformat(),
        "auto_submitted": auto,
        "minutes": exam.minutes,
        "time_used_s": round(max(0.0, (ended - started).total_seconds()), 1),
        "score": percent(total),
        "pass_line": PASS_LINE,
        "passed": verdict(total),
        "verdict": "PASS" if verdict(total) else "FAIL",
        "tasks": tasks,
        "topics": [
            {"topic": t, "score": percent(weighted_total(p)), "tasks": len(p)} for t, p in sorted(topics.items())
        ],
    }


def grade_exam(
    exam: Exam,
    exercises: list[Exercise],
    cluster: Cluster,
    *,
    now: datetime,
    auto: bool = False,
    options: GradingOptions = GradingOptions(wait_s=SUBMIT_WAIT_S),
) -> dict:
    """Grade every task with the same step and scoring rule as `check`, and total them against
    the pass line."""
    return exam_result(exam, grade_tasks(exam, exercises, cluster, options), now=now, auto=auto)


def history_records(exam: Exam, graded: list[TaskResult], result: dict) -> list[Record]:
    """A record per task (built as `check` builds its own), then the exam's total."""
    time = datetime.fromisoformat(result["submitted_at"])
    records = [
        task.record(kind=EXAM_TASK, time=time, elapsed_s=result["time_used_s"], practice=exam.practice)
        for task in graded
    ]
    records.append(
        Record(
            kind=EXAM,
            time=result["submitted_at"],
            score=result["score"],
            exam=exam.id,
            seed=exam.seed,
            failed=[str(t["number"]) for t in result["tasks"] if not t["passed"]],
            hints=sum(a.hints_shown for a in exam.tasks),
            solution_shown=any(a.solution_shown for a in exam.tasks),
            elapsed_s=result["time_used_s"],
            passed=result["passed"],
            practice=exam.practice,
        )
    )
    return records


def submit_exam(
    store: StateStore,
    catalogue: dict[str, Exercise],
    cluster_for: Callable[[str | None], Cluster],
    *,
    now: datetime,
    auto: bool = False,
    options: GradingOptions = GradingOptions(wait_s=SUBMIT_WAIT_S),
) -> Exam:
    """Grade, keep the result in the exam and append it to the history, under the state lock.
    An exam already submitted is returned as it is."""
    with store.locked(progress=options.waiter.progress):
        exam = store.require_exam()
        if exam.submitted:
            return exam
        exercises = check_exam(store, exam, catalogue)
        graded = grade_tasks(exam, exercises, cluster_for(exam.context), options)
        result = exam_result(exam, graded, now=now, auto=auto)
        exam.result, exam.submitted_at, exam.auto_submitted = result, result["submitted_at"], auto
        store.save_exam(exam)
        store.remember(*history_records(exam, graded, result))
        return exam


def is_overdue(exam: Exam, now: datetime) -> bool:
    return not exam.submitted and exam.time_left_s(now) <= 0


def load_exam(
    store: StateStore,
    catalogue: dict[str, Exercise],
    *,
    clock: Clock,
    submit_overdue: Callable[[], Exam],
) -> tuple[Exam, list[Exercise], bool]:
    """The active exam and its exercises. An exam past its deadline is submitted first (by
    `submit_overdue`, which grades and records it), so a learner who walked away still gets the
    result. Returns (exam, exercises, submitted_just_now)."""
    exam = store.require_exam()
    exercises = check_exam(store, exam, catalogue)
    if not is_overdue(exam, clock.now()):
        return exam, exercises, False
    return submit_overdue(), exercises, True


def reset_exam(workspace: Workspace, cluster_for: Callable[[str | None], Cluster], *, waiter: Waiter = Waiter()):
    """Delete every namespace of the exam that carries its attempt's labels (a seat's are emptied),
    then forget the exam."""
    store = workspace.store
    with store.locked(progress=waiter.progress):
        exam = store.require_exam()
        left_alone = delete_attempts(cluster_for(exam.context), exam.tasks, waiter=waiter, workspace=workspace)
        store.clear_exam()
    return exam, left_alone


def update_exam(store: StateStore, change: Callable[[Exam], None]) -> Exam:
    """A small read-modify-write of the exam (flag, current task) under the lock."""
    with store.locked():
        exam = store.require_exam()
        change(exam)
        store.save_exam(exam)
        return exam


# -- the single-exercise commands during an exam ------------------------------------------
def current_attempt(store: StateStore, command: str) -> tuple[Attempt, Exam | None]:
    """The attempt `hint`, `solution` and `check` act on: the single exercise, or in a practice
    exam the current task. During a real exam they are refused, as in the CKA."""
    attempt = store.load()
    if attempt is not None:
        return attempt, None
    exam = store.load_exam()
    if exam is None:
        return store.require(), None
    if exam.submitted:
        raise StateError(
            f"exam {exam.id} is over: `ckaprep exam review` shows each task's solution; `ckaprep exam reset` removes it"
        )
    if not exam.practice:
        raise StateError(
            f"`ckaprep {command}` is not available during an exam, as in the real one; "
            "`ckaprep exam submit` ends it (exams started with --practice allow it)"
        )
    return exam.task(exam.current), exam


def save_current(store: StateStore, attempt: Attempt, exam: Exam | None) -> None:
    if exam is None:
        store.save(attempt)
    else:
        exam.tasks[exam.current - 1] = attempt
        store.save_exam(exam)
