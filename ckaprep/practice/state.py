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
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping

from ckaprep.attempts import Attempt, Exam, attempt_from_json, exam_from_json
from ckaprep.clock import SYSTEM_CLOCK, Clock
from ckaprep.errors import StateError

ACTIVE_FILE = "attempt.json"
EXAM_FILE = "exam.json"
HISTORY_FILE = "history.jsonl"
LOCK_FILE = ".lock"
LOCK_WAIT_S = 300.0


def state_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("CKAPREP_HOME"):
        return Path(environ["CKAPREP_HOME"])
    base = environ.get("XDG_STATE_HOME") or os.path.join(environ.get("HOME") or str(Path.home()), ".local", "state")
    return Path(base) / "ckaprep"


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
        clock: Clock = SYSTEM_CLOCK,
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
            deadline = clock.monotonic() + wait_s
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise StateError(f"lock file {self.lock_path} cannot be locked: {exc.strerror}") from None
                if clock.monotonic() >= deadline:
                    raise StateError(
                        f"another ckaprep command still holds {self.lock_path} after {wait_s:.0f}s; "
                        "try again when it has finished"
                    )
                if not told:
                    progress("waiting for another ckaprep command to finish")
                    told = True
                clock.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
