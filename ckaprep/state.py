"""The active attempt, kept in one JSON file that is only ever replaced whole."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from ckaprep.errors import StateError

ACTIVE_FILE = "attempt.json"


def state_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("CKAPREP_HOME"):
        return Path(environ["CKAPREP_HOME"])
    base = environ.get("XDG_STATE_HOME") or os.path.join(
        environ.get("HOME") or str(Path.home()), ".local", "state"
    )
    return Path(base) / "ckaprep"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


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
    cluster_domain: str | None = None
    context: str | None = None

    @property
    def namespace(self) -> str:
        return self.namespaces[0]

    def elapsed_s(self, now: datetime | None = None) -> float:
        started = datetime.fromisoformat(self.started_at)
        return ((now or utc_now()) - started).total_seconds()


class StateStore:
    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / ACTIVE_FILE

    def load(self) -> Attempt | None:
        try:
            data = json.loads(self.path.read_text())
            return Attempt(**data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise StateError(
                f"state file {self.path} is unreadable ({exc}); remove it to start over"
            ) from None

    def require(self) -> Attempt:
        attempt = self.load()
        if attempt is None:
            raise StateError("no active exercise: run `ckaprep list`, then `ckaprep start <id>`")
        return attempt

    def save(self, attempt: Attempt) -> None:
        """Write to a temporary file and rename it, so an interruption never leaves half a file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".attempt-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(asdict(attempt), handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
