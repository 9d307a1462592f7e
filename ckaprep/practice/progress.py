"""What the history says: progress per exercise and topic, exam results, and what to do next.

The rule for `ckaprep next` (a Leitner scheme):

- Every exercise sits in a box. One never tried is *new*. An attempt that reaches 100% without
  the solution having been shown moves it up one box (at most 5); any other attempt puts it
  back in box 1.
- An exercise is *due* when the days since it was last practised reach its box's interval:
  box 1 at once, box 2 after 1 day, box 3 after 3, box 4 after 7, box 5 after 14. New ones are
  always due.
- Of the due exercises, the one whose weakest topic has the lowest mastery comes first; then
  failed ones (box 1) before new ones, and new ones before those already mastered (box 2 and
  up, lowest box first); then the one practised longest ago.
- When nothing is due, the exercise that comes due soonest.
- Any tie is broken by the study path (`ckaprep.catalogue.study_path`): on a fresh history,
  `next` starts the path at its beginning and walks it.

Mastery of a topic is the mean, over the catalogue's exercises with that topic, of the best
score of each exercise's latest attempt (0 for an exercise never tried).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ckaprep.catalogue.exercise import Exercise
from ckaprep.catalogue.study_path import PATH, STAGE_OF, step
from ckaprep.practice.history import CHECK, EXAM, EXAM_TASK, Record

INTERVAL_DAYS = {1: 0, 2: 1, 3: 3, 4: 7, 5: 14}
TOP_BOX = max(INTERVAL_DAYS)
NEW = 0


@dataclass
class AttemptSummary:
    key: str
    exercise: str
    first_time: datetime
    last_time: datetime
    best: float = 0.0
    last: float = 0.0
    hints: int = 0
    solved: bool = False  # reached 100% without the solution shown
    time_to_full_s: float | None = None


@dataclass
class ExerciseProgress:
    exercise: str
    topics: list[str]
    attempts: list[AttemptSummary] = field(default_factory=list)
    box: int = NEW

    @property
    def best(self) -> float | None:
        return max((a.best for a in self.attempts), default=None)

    @property
    def last(self) -> float | None:
        return self.attempts[-1].last if self.attempts else None

    @property
    def mastery(self) -> float:
        return self.attempts[-1].best if self.attempts else 0.0

    @property
    def last_practised(self) -> datetime | None:
        return max((a.last_time for a in self.attempts), default=None)

    @property
    def failures(self) -> int:
        return sum(not a.solved for a in self.attempts)

    @property
    def hints(self) -> int:
        return sum(a.hints for a in self.attempts)

    @property
    def time_to_first_full_s(self) -> float | None:
        return next((a.time_to_full_s for a in self.attempts if a.time_to_full_s is not None), None)

    def due_in_days(self, now: datetime) -> float:
        if self.box == NEW or self.last_practised is None:
            return 0.0
        return INTERVAL_DAYS[self.box] - (now - self.last_practised).total_seconds() / 86400


def _time(record: Record) -> datetime:
    return datetime.fromisoformat(record.time)


def _attempts(records: list[Record]) -> dict[str, list[AttemptSummary]]:
    """Per exercise, its attempts in the order they began."""
    by_key: dict[str, AttemptSummary] = {}
    for record in sorted((r for r in records if r.kind in (CHECK, EXAM_TASK)), key=_time):
        key = record.attempt or f"{record.exercise}@{record.seed}"
        when = _time(record)
        summary = by_key.setdefault(key, AttemptSummary(key, record.exercise, when, when))
        summary.last_time, summary.last = when, record.score
        summary.best = max(summary.best, record.score)
        summary.hints = max(summary.hints, record.hints)
        if record.score >= 100 and summary.time_to_full_s is None:
            summary.time_to_full_s = record.elapsed_s
            summary.solved = not record.solution_shown
    result: dict[str, list[AttemptSummary]] = {}
    for summary in sorted(by_key.values(), key=lambda a: a.first_time):
        result.setdefault(summary.exercise, []).append(summary)
    return result


def exercise_progress(records: list[Record], catalogue: dict[str, Exercise]) -> dict[str, ExerciseProgress]:
    attempts = _attempts(records)
    progress = {}
    for exercise_id in list(catalogue) + sorted(set(attempts) - set(catalogue)):
        known = catalogue.get(exercise_id)
        item = ExerciseProgress(exercise_id, list(known.topics) if known else [], attempts.get(exercise_id, []))
        for attempt in item.attempts:
            item.box = min(max(item.box, 1) + 1, TOP_BOX) if attempt.solved else 1
        progress[exercise_id] = item
    return progress


def topic_mastery(progress: dict[str, ExerciseProgress], catalogue: dict[str, Exercise]) -> dict[str, dict]:
    topics: dict[str, list[ExerciseProgress]] = {}
    for exercise_id in catalogue:
        for topic in progress[exercise_id].topics:
            topics.setdefault(topic, []).append(progress[exercise_id])
    result = {}
    for topic, items in sorted(topics.items()):
        practised = [i.last_practised for i in items if i.last_practised]
        result[topic] = {
            "mastery": round(sum(i.mastery for i in items) / len(items), 1),
            "last_practised": max(practised).isoformat() if practised else None,
            "exercises": len(items),
        }
    return result


def summarize(records: list[Record], catalogue: dict[str, Exercise]) -> dict:
    """Everything `ckaprep progress --json` prints."""
    progress = exercise_progress(records, catalogue)
    exercises = []
    for item in progress.values():
        first_full = item.time_to_first_full_s
        exercises.append(
            {
                "exercise": item.exercise,
                "topics": item.topics,
                "attempts": len(item.attempts),
                "best": item.best,
                "last": item.last,
                "time_to_first_100_s": None if first_full is None else round(first_full, 1),
                "hints": item.hints,
                "box": item.box,
                "last_practised": item.last_practised.isoformat() if item.last_practised else None,
            }
        )
    exams = [
        {"time": r.time, "exam": r.exam, "score": r.score, "passed": r.passed, "practice": r.practice}
        for r in sorted((r for r in records if r.kind == EXAM), key=_time)
    ]
    return {"exercises": exercises, "topics": topic_mastery(progress, catalogue), "exams": exams}


@dataclass(frozen=True)
class Suggestion:
    exercise: str
    reason: str
    box: int
    due: bool


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _ago(now: datetime, then: datetime | None) -> str:
    if then is None:
        return "never practised"
    days = int((now - then).total_seconds() // 86400)
    if days < 1:
        return "practised today"
    return f"not practised for {days} day{'s' if days != 1 else ''}"


def next_exercise(records: list[Record], catalogue: dict[str, Exercise], now: datetime) -> Suggestion:
    """The exercise to practise now, by the rule in this module's docstring."""
    progress = exercise_progress(records, catalogue)
    mastery = topic_mastery(progress, catalogue)
    items = [progress[e] for e in sorted(catalogue)]

    def weakest(item: ExerciseProgress) -> tuple[float, str]:
        return min(((mastery[t]["mastery"], t) for t in item.topics), default=(0.0, "(none)"))

    def rank(item: ExerciseProgress) -> int:
        return {1: 0, NEW: 1}.get(item.box, item.box)

    def since(item: ExerciseProgress) -> float:
        last = item.last_practised
        return -(now - last).total_seconds() if last else float("-inf")

    due = [i for i in items if i.due_in_days(now) <= 0]
    if due:
        pick = min(due, key=lambda i: (weakest(i)[0], rank(i), since(i), step(i.exercise), i.exercise))
    else:
        pick = min(items, key=lambda i: (i.due_in_days(now), weakest(i)[0], step(i.exercise), i.exercise))
    score, topic = weakest(pick)
    if pick.box == NEW:
        what = "new"
    elif pick.box == 1:
        what = f"failed {_times(pick.failures)}, last score {pick.last:.0f}%"
    else:
        what = f"solved, box {pick.box} of {TOP_BOX}"
    parts = [what, _ago(now, pick.last_practised), f"topic {topic} at {score:.0f}% mastery"]
    if pick.box == NEW and pick.exercise in STAGE_OF:
        parts.append(f"step {step(pick.exercise)} of {len(PATH)} of the study path ({STAGE_OF[pick.exercise]})")
    if not due:
        parts.insert(0, f"nothing is due; comes up again in {pick.due_in_days(now):.1f} days")
    return Suggestion(pick.exercise, f"{pick.exercise}: " + ", ".join(parts), pick.box, bool(due))
