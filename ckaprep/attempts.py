"""The attempt and exam model, and their JSON form.

An Attempt is one exercise set up in a cluster (its parameters, namespaces and seed); an Exam is
a set of them with a deadline. Both are strictly validated when read back: a file that parses
but holds a wrong type is a one-line error naming the file and the field.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ckaprep.clock import SYSTEM_CLOCK
from ckaprep.errors import StateError


def new_id() -> str:
    """A short random id, valid as a label value."""
    return secrets.token_hex(5)


def new_seed(given: int | None = None) -> int:
    """The seed given, or a fresh random one. A seed replays an attempt's names and ports, or an
    exam's draw; `start`, `exam start`, a class exam and `prove` all take theirs from here."""
    return given if given is not None else secrets.randbelow(10**6 - 1) + 1


@dataclass
class Attempt:
    exercise: str
    params: dict[str, Any]
    namespaces: list[str]
    started_at: str  # ISO 8601, UTC
    seed: int
    hints_shown: int = 0
    # Hashes of setup objects the learner must leave alone, keyed "Kind/name".
    fingerprints: dict[str, str] = field(default_factory=dict)
    # What each setup object was at start (uid, labels, spec), keyed "Kind/namespace/name",
    # so that "keep it as it is" can be graded against the whole object.
    records: dict[str, dict] = field(default_factory=dict)
    cluster_domain: str | None = None
    context: str | None = None
    # None only in state files written before attempts had ids; their namespaces carry no
    # attempt label, and that absence is what they are matched by.
    id: str | None = None
    exam: str | None = None
    solution_shown: bool = False
    # The classroom seat the attempt runs in: its namespaces are the seat's, emptied, never deleted.
    seat: str | None = None
    # False from the moment the attempt is recorded until its setup has settled, so that a start
    # cut short (the API server gone, Ctrl-C) can be finished by running the same start again.
    # State files from before this field held only attempts whose start had ended.
    set_up_done: bool = True

    @property
    def namespace(self) -> str:
        return self.namespaces[0]

    def elapsed_s(self, now: datetime | None = None) -> float:
        started = datetime.fromisoformat(self.started_at)
        return ((now or SYSTEM_CLOCK.now()) - started).total_seconds()


@dataclass
class Exam:
    id: str
    seed: int
    started_at: str
    deadline: str
    minutes: int
    practice: bool
    tasks: list[Attempt]
    weights: list[int]
    flagged: list[int] = field(default_factory=list)  # task numbers, from 1
    current: int = 1  # the task that practice-mode hint, solution and check act on
    submitted_at: str | None = None
    auto_submitted: bool = False
    result: dict | None = None
    context: str | None = None

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def namespaces(self) -> list[str]:
        return [ns for task in self.tasks for ns in task.namespaces]

    @property
    def set_up_done(self) -> bool:
        """Whether every task was set up: false for an exam whose start was cut short."""
        return all(task.set_up_done for task in self.tasks)

    def task(self, number: int) -> Attempt:
        if not 1 <= number <= len(self.tasks):
            raise StateError(f"no task {number}: the exam has tasks 1 to {len(self.tasks)}")
        return self.tasks[number - 1]

    def time_left_s(self, now: datetime) -> float:
        return (datetime.fromisoformat(self.deadline) - now).total_seconds()


# -- strict validation --------------------------------------------------------------------
def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_time(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _is_str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "text": (lambda v: isinstance(v, str) and bool(v), "non-empty text"),
    "text?": (lambda v: v is None or isinstance(v, str), "text or null"),
    "int": (_is_int, "a whole number"),
    "count": (lambda v: _is_int(v) and v >= 0, "a whole number, 0 or more"),
    "positive": (lambda v: _is_int(v) and v > 0, "a positive whole number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "time": (_is_time, "an ISO 8601 time with a time zone"),
    "time?": (lambda v: v is None or _is_time(v), "an ISO 8601 time or null"),
    "mapping": (lambda v: isinstance(v, dict), "a mapping"),
    "mapping?": (lambda v: v is None or isinstance(v, dict), "a mapping or null"),
    "str-map": (lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()), "a mapping of text"),
    "namespaces": (lambda v: _is_str_list(v) and bool(v), "a non-empty list of names"),
    "ints": (lambda v: isinstance(v, list) and all(_is_int(x) for x in v), "a list of whole numbers"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "records": (
        lambda v: (
            isinstance(v, dict)
            and all(
                isinstance(x, dict)
                and isinstance(x.get("uid"), str)
                and isinstance(x.get("labels"), dict)
                and isinstance(x.get("content"), dict)
                for x in v.values()
            )
        ),
        "a mapping of records (uid, labels, content)",
    ),
}

ATTEMPT_FIELDS = {
    "exercise": "text",
    "params": "mapping",
    "namespaces": "namespaces",
    "started_at": "time",
    "seed": "int",
    "hints_shown": "count",
    "fingerprints": "str-map",
    "cluster_domain": "text?",
    "context": "text?",
    "id": "text?",
    "exam": "text?",
    "solution_shown": "bool",
    "seat": "text?",
    "records": "records",
    "set_up_done": "bool",
}
ATTEMPT_REQUIRED = ("exercise", "params", "namespaces", "started_at", "seed")
EXAM_FIELDS = {
    "id": "text",
    "seed": "int",
    "started_at": "time",
    "deadline": "time",
    "minutes": "positive",
    "practice": "bool",
    "tasks": "list",
    "weights": "ints",
    "flagged": "ints",
    "current": "positive",
    "submitted_at": "time?",
    "auto_submitted": "bool",
    "result": "mapping?",
    "context": "text?",
}
EXAM_REQUIRED = ("id", "seed", "started_at", "deadline", "minutes", "practice", "tasks", "weights")


def _validate(path: Path, where: str, data: Any, spec: dict[str, str], required) -> dict:
    prefix = f"{where}." if where else ""
    if not isinstance(data, dict):
        raise StateError(f"state file {path}: {where or 'top level'}: must be a mapping; remove the file to start over")
    for key in required:
        if key not in data:
            raise StateError(f"state file {path}: field {prefix}{key}: missing; remove the file to start over")
    for key, value in data.items():
        if key not in spec:
            raise StateError(f"state file {path}: field {prefix}{key}: unknown; remove the file to start over")
        check, wanted = _CHECKS[spec[key]]
        if not check(value):
            raise StateError(
                f"state file {path}: field {prefix}{key}: must be {wanted}, not {json.dumps(value)[:40]}; "
                "remove the file to start over"
            )
    return data


def attempt_from_json(path: Path, data: Any, where: str = "") -> Attempt:
    return Attempt(**_validate(path, where, data, ATTEMPT_FIELDS, ATTEMPT_REQUIRED))


def exam_from_json(path: Path, data: Any) -> Exam:
    _validate(path, "", data, EXAM_FIELDS, EXAM_REQUIRED)
    tasks = [attempt_from_json(path, t, f"tasks[{i}]") for i, t in enumerate(data["tasks"])]
    if not tasks or len(data["weights"]) != len(tasks):
        raise StateError(f"state file {path}: field weights: needs one weight per task; remove the file to start over")
    return Exam(**{**data, "tasks": tasks})


def require_params(path: Path, attempt: Attempt, names, where: str = "") -> None:
    """An attempt's params must hold every parameter its exercise defines."""
    missing = [name for name in names if name not in attempt.params]
    if missing:
        prefix = f"{where}." if where else ""
        raise StateError(
            f"state file {path}: field {prefix}params: lacks {', '.join(missing)} for exercise "
            f"{attempt.exercise}; remove the file to start over"
        )
