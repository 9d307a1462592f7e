"""The history of graded runs: one JSON object a line in $CKAPREP_HOME/history.jsonl.

Each line is written with a single append and fsynced, so a crash loses at most the line
being written; a corrupt or truncated line is skipped with a warning and never costs the others.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from ckaprep.errors import StateError

CHECK, EXAM_TASK, EXAM = "check", "exam-task", "exam"
KINDS = (CHECK, EXAM_TASK, EXAM)


@dataclass
class Record:
    kind: str  # check, exam-task or exam
    time: str  # ISO 8601, UTC: when it was graded
    score: float  # percent
    exercise: str | None = None  # None for an exam total
    attempt: str | None = None
    exam: str | None = None
    seed: int | None = None
    failed: list[str] = field(default_factory=list)  # ids of the checks that did not pass
    hints: int = 0
    solution_shown: bool = False
    elapsed_s: float | None = None  # since the attempt (or exam) started
    passed: bool = False  # 100% for a task, the pass line for an exam
    practice: bool = False


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_time(value) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _valid(data) -> bool:
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        return False
    text_or_none = (str, type(None))
    return (
        _is_time(data.get("time"))
        and _is_number(data.get("score"))
        and (isinstance(data.get("exercise"), str) or (data["kind"] == EXAM and data.get("exercise") is None))
        and isinstance(data.get("attempt"), text_or_none)
        and isinstance(data.get("exam"), text_or_none)
        and (data.get("seed") is None or isinstance(data.get("seed"), int))
        and isinstance(data.get("failed", []), list)
        and isinstance(data.get("hints", 0), int)
        and not isinstance(data.get("hints", 0), bool)
        and (data.get("elapsed_s") is None or _is_number(data.get("elapsed_s")))
        and all(isinstance(data.get(k, False), bool) for k in ("solution_shown", "passed", "practice"))
    )


class History:
    def __init__(self, path: Path):
        self.path = path

    def _check_directory(self) -> None:
        directory = self.path.parent
        if directory.exists() and not directory.is_dir():
            raise StateError(f"state directory {directory} is not a directory (check CKAPREP_HOME)")
        if self.path.is_dir():
            raise StateError(f"history file {self.path} is a directory; remove it")

    def append(self, *records: Record) -> None:
        self._check_directory()
        lines = "".join(json.dumps(asdict(r), sort_keys=True) + "\n" for r in records).encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateError(f"history file {self.path} cannot be written: {exc.strerror or exc}") from None
        try:
            # A line cut short by an earlier crash would swallow this one: start on a fresh line.
            if os.fstat(fd).st_size and not self._ends_with_newline():
                lines = b"\n" + lines
            os.write(fd, lines)
            os.fsync(fd)
        except OSError as exc:
            raise StateError(f"history file {self.path} cannot be written: {exc.strerror or exc}") from None
        finally:
            os.close(fd)

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"

    def read(self) -> tuple[list[Record], list[str]]:
        """The records in file order, and a warning for every line that was skipped."""
        self._check_directory()
        try:
            text = self.path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return [], []
        except OSError as exc:
            raise StateError(f"history file {self.path} cannot be read: {exc.strerror or exc}") from None
        records, warnings = [], []
        known = set(Record.__dataclass_fields__)
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                warnings.append(f"{self.path} line {number} is not valid JSON; skipped")
                continue
            if not _valid(data):
                warnings.append(f"{self.path} line {number} is not a history record; skipped")
                continue
            records.append(Record(**{k: v for k, v in data.items() if k in known}))
        return records, warnings

    def exists(self) -> bool:
        """Whether there is a history file; a state directory that is missing, or not a
        directory at all, holds none."""
        try:
            self.path.lstat()
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise StateError(f"history file {self.path} cannot be read: {exc.strerror or exc}") from None
        return True

    def clear(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise StateError(f"history file {self.path} cannot be removed: {exc.strerror or exc}") from None
