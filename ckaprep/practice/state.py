"""What ckaprep remembers between commands, in the state directory:

- attempt.json: the active single exercise (an Attempt);
- exam.json: the active exam, its tasks (Attempts) and, once submitted, its result;
- history.jsonl: every graded run (see ckaprep.practice.history);
- .lock: held while a command reads, changes and writes the state, so concurrent
  commands wait for each other instead of losing or orphaning an attempt.

State files are only ever replaced whole, and strictly validated on load: a file that
parses but holds a wrong type is a one-line error naming the file and the field.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from ckaprep.errors import StateError

ACTIVE_FILE = "attempt.json"
EXAM_FILE = "exam.json"
HISTORY_FILE = "history.jsonl"
LOCK_FILE = ".lock"
LOCK_WAIT_S = 300.0


def state_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("CKAPREP_HOME"):
        return Path(environ["CKAPREP_HOME"])
    base = environ.get("XDG_STATE_HOME") or os.path.join(
        environ.get("HOME") or str(Path.home()), ".local", "state"
    )
    return Path(base) / "ckaprep"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


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
        return ((now or utc_now()) - started).total_seconds()


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
    "str-map": (lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
                "a mapping of text"),
    "namespaces": (lambda v: _is_str_list(v) and bool(v), "a non-empty list of names"),
    "ints": (lambda v: isinstance(v, list) and all(_is_int(x) for x in v), "a list of whole numbers"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "records": (lambda v: isinstance(v, dict) and all(isinstance(x, dict) and isinstance(x.get("uid"), str)
                                                      and isinstance(x.get("labels"), dict)
                                                      and isinstance(x.get("content"), dict) for x in v.values()),
                "a mapping of records (uid, labels, content)"),
}  # fmt: skip

ATTEMPT_FIELDS = {
    "exercise": "text", "params": "mapping", "namespaces": "namespaces", "started_at": "time",
    "seed": "int", "hints_shown": "count", "fingerprints": "str-map", "cluster_domain": "text?",
    "context": "text?", "id": "text?", "exam": "text?", "solution_shown": "bool", "seat": "text?",
    "records": "records", "set_up_done": "bool",
}  # fmt: skip
ATTEMPT_REQUIRED = ("exercise", "params", "namespaces", "started_at", "seed")
EXAM_FIELDS = {
    "id": "text", "seed": "int", "started_at": "time", "deadline": "time", "minutes": "positive",
    "practice": "bool", "tasks": "list", "weights": "ints", "flagged": "ints", "current": "positive",
    "submitted_at": "time?", "auto_submitted": "bool", "result": "mapping?", "context": "text?",
}  # fmt: skip
EXAM_REQUIRED = ("id", "seed", "started_at", "deadline", "minutes", "practice", "tasks", "weights")


def _validate(path: Path, where: str, data: Any, spec: dict[str, str], required) -> dict:
    prefix = f"{where}." if where else ""
    if not isinstance(data, dict):
        raise StateError(
            f"state file {path}: {where or 'top level'}: must be a mapping; remove the file to start over"
        )
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
        raise StateError(
            f"state file {path}: field weights: needs one weight per task; remove the file to start over"
        )
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


class StateStore:
    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / ACTIVE_FILE
        self.exam_path = directory / EXAM_FILE
        self.history_path = directory / HISTORY_FILE
        self.lock_path = directory / LOCK_FILE

    # -- reading ---------------------------------------------------------------------
    def _read(self, path: Path) -> Any | None:
        if self.directory.exists() and not self.directory.is_dir():
            raise StateError(f"state directory {self.directory} is not a directory (check CKAPREP_HOME)")
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise StateError(f"state file {path} is a directory; remove it to start over") from None
        except PermissionError:
            raise StateError(f"state file {path} cannot be read: permission denied") from None
        except OSError as exc:
            raise StateError(f"state file {path} cannot be read: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise StateError(f"state file {path} is not valid JSON ({exc}); remove it to start over") from None

    def load(self) -> Attempt | None:
        data = self._read(self.path)
        return None if data is None else attempt_from_json(self.path, data)

    def require(self) -> Attempt:
        attempt = self.load()
        if attempt is None:
            if self.load_exam() is not None:
                raise StateError("an exam is active, not a single exercise: see `ckaprep exam status`")
            raise StateError("no active exercise: run `ckaprep list`, then `ckaprep start <id>`")
        return attempt

    def require_something(self) -> None:
        """The "no active exercise" error, before any lock is taken: where no lock file can be
        made (a read-only home), that is still what the learner is told."""
        if self.load() is None and self.load_exam() is None:
            self.require()

    def load_exam(self) -> Exam | None:
        data = self._read(self.exam_path)
        return None if data is None else exam_from_json(self.exam_path, data)

    def require_exam(self) -> Exam:
        exam = self.load_exam()
        if exam is None:
            raise StateError("no exam: start one with `ckaprep exam start`")
        return exam

    # -- writing ---------------------------------------------------------------------
    def _make_directory(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise StateError(f"state directory {self.directory} is not a directory (check CKAPREP_HOME)") from None
        except PermissionError:
            raise StateError(f"state directory {self.directory} cannot be created: permission denied") from None
        except NotADirectoryError:
            raise StateError(
                f"state directory {self.directory} lies under a regular file (check CKAPREP_HOME)"
            ) from None
        if not self.directory.is_dir():
            raise StateError(f"state directory {self.directory} is not a directory (check CKAPREP_HOME)")

    def _write(self, path: Path, data: dict) -> None:
        """Write to a temporary file and rename it, so an interruption never leaves half a file."""
        self._make_directory()
        if path.is_dir():
            raise StateError(f"state file {path} is a directory; remove it to start over")
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.stem}-", suffix=".tmp")
        except PermissionError:
            raise StateError(f"state directory {self.directory} is not writable: permission denied") from None
        except OSError as exc:
            raise StateError(f"state directory {self.directory} is not writable: {exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StateError(f"state file {path} cannot be written: {exc.strerror or exc}") from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def save(self, attempt: Attempt) -> None:
        self._write(self.path, asdict(attempt))

    def save_exam(self, exam: Exam) -> None:
        self._write(self.exam_path, asdict(exam))

    def clear(self) -> None:
        self._remove(self.path)

    def remember(self, *records) -> None:
        """Add graded runs to the history (a classroom seat also keeps them in the cluster)."""
        from ckaprep.practice.history import History

        History(self.history_path).append(*records)

    def clear_exam(self) -> None:
        self._remove(self.exam_path)

    def _remove(self, path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except IsADirectoryError:
            raise StateError(f"state file {path} is a directory; remove it to start over") from None
        except OSError as exc:
            raise StateError(f"state file {path} cannot be removed: {exc.strerror or exc}") from None

    # -- the lock --------------------------------------------------------------------
    @contextmanager
    def locked(
        self,
        *,
        wait_s: float = LOCK_WAIT_S,
        progress: Callable[[str], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Iterator[None]:
        """Hold the state lock: another command holding it is waited for, up to `wait_s`.

        flock locks belong to the open file, so they are released when the process ends,
        even when it is killed; a stale lock file is harmless.
        """
        self._make_directory()
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except IsADirectoryError:
            raise StateError(f"lock file {self.lock_path} is a directory; remove it") from None
        except PermissionError:
            raise StateError(f"state directory {self.directory} is not writable: permission denied") from None
        except OSError as exc:
            raise StateError(f"lock file {self.lock_path} cannot be opened: {exc.strerror or exc}") from None
        try:
            deadline = clock() + wait_s
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise StateError(f"lock file {self.lock_path} cannot be locked: {exc.strerror}") from None
                if clock() >= deadline:
                    raise StateError(
                        f"another ckaprep command still holds {self.lock_path} after {wait_s:.0f}s; "
                        "try again when it has finished"
                    )
                if not told:
                    progress("waiting for another ckaprep command to finish")
                    told = True
                sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
