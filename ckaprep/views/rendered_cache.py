"""Terminal output of study notes, kept between runs like man's formatted pages.

Rendering Markdown needs markdown-it and pygments, which take longer to import than
the rest of `explain`. The output depends only on the page, the learner's note and the
terminal (width, colours), so it is stored under a hash of all of them and written
atomically. A missing or unreadable entry is rendered again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from ckaprep import __version__
from ckaprep.parsed_cache import cache_dir

KEEP_ENTRIES = 200  # widths and notes vary; older pages are removed beyond this many


class RenderedCache:
    def __init__(self, directory: Path | None):
        self.directory = directory

    @classmethod
    def for_environ(cls, environ: Mapping[str, str]) -> RenderedCache:
        return cls(cache_dir(environ) / "rendered")

    @staticmethod
    def key(*parts: object) -> str:
        digest = hashlib.sha256(__version__.encode())
        for part in parts:
            digest.update(b"\x00" + repr(part).encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def get(self, key: str) -> str | None:
        if self.directory is None:
            return None
        try:
            return (self.directory / key).read_text(encoding="utf-8")
        except (OSError, ValueError):
            return None

    def put(self, key: str, text: str) -> None:
        if self.directory is None:
            return
        with contextlib.suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True)
            import tempfile  # only when writing: reading, on the way to a kept page, must start fast

            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(text)
                os.replace(temporary, self.directory / key)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            _prune(self.directory)


def _prune(directory: Path) -> None:
    entries = [p for p in directory.iterdir() if not p.name.startswith(".")]
    if len(entries) <= KEEP_ENTRIES:
        return
    entries.sort(key=lambda p: p.stat().st_mtime)
    for old in entries[: len(entries) - KEEP_ENTRIES]:
        with contextlib.suppress(OSError):
            old.unlink()
