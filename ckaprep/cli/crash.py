"""The last resort: an exception nobody expected is a bug in ckaprep, reported in one line.

The full traceback goes to a file (the state directory, else the temp directory) so the
one line can say where it is; CKAPREP_DEBUG=1 prints it on stderr as well.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from collections.abc import Mapping
from pathlib import Path

from ckaprep.errors import one_line, shorten

TRACEBACK_FILE = "last-traceback.txt"


def bug_report(exc: BaseException, environ: Mapping[str, str]) -> str:
    """Save the traceback and return the line to print."""
    details = "".join(traceback.format_exception(exc))
    where = save_traceback(details, environ)
    summary = shorten(f"{type(exc).__name__}: {exc}", 300)
    if environ.get("CKAPREP_DEBUG") == "1":
        hint = "traceback above" + (f" and in {one_line(where)}" if where else "")
    elif where:
        hint = f"traceback in {one_line(where)}; CKAPREP_DEBUG=1 shows it"
    else:
        hint = "run again with CKAPREP_DEBUG=1 to see the traceback"
    return f"this is a bug in ckaprep: {summary} ({hint}; please report it)"


def save_traceback(details: str, environ: Mapping[str, str]) -> str | None:
    """The path the traceback was written to, or None when no directory would take it."""
    for directory in _candidate_dirs(environ):
        tmp = None
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".traceback-", suffix=".tmp")
            _write(fd, details)
            target = directory / TRACEBACK_FILE
            os.replace(tmp, target)
            return str(target)
        except (OSError, ValueError):
            if tmp:
                Path(tmp).unlink(missing_ok=True)
    try:  # the shared temp directory: a fresh, private file rather than a fixed name
        fd, path = tempfile.mkstemp(prefix="ckaprep-traceback-", suffix=".txt")
        _write(fd, details)
        return path
    except OSError:
        return None


def _write(fd: int, text: str) -> None:
    with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
        handle.write(text)


def _candidate_dirs(environ: Mapping[str, str]) -> list[Path]:
    try:
        from ckaprep.practice.state import state_dir

        return [state_dir(environ)]
    except Exception:  # the state directory itself may be what is broken
        return []
