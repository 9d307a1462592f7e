"""Parsed YAML of data files, kept between runs so that commands can skip the slow parser.

One JSON file maps each data file's path to its size, times and parsed content. An entry
is used only while the file still has the same size and times; anything else is parsed
again. The cache file is written atomically, and one that cannot be read or written is
ignored: the cache can make a command faster, never wrong or failing.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ckaprep import __version__

FORMAT = 1
CACHE_FILE = "parsed-yaml.json"


def cache_dir(environ: Mapping[str, str]) -> Path:
    """Inside $CKAPREP_HOME when set (so tests and trainers keep it apart), else the XDG cache."""
    if environ.get("CKAPREP_HOME"):
        return Path(environ["CKAPREP_HOME"]) / "cache"
    base = environ.get("XDG_CACHE_HOME") or os.path.join(environ.get("HOME") or str(Path.home()), ".cache")
    return Path(base) / "ckaprep"


class ParsedYamlCache:
    def __init__(self, path: Path | None):
        self.path = path
        self._entries: dict[str, dict] | None = None
        self._changed = False

    @classmethod
    def for_environ(cls, environ: Mapping[str, str]) -> ParsedYamlCache:
        return cls(cache_dir(environ) / CACHE_FILE)

    def parsed(self, file: Path, parse: Callable[[str], Any], known: Callable[[Path, str], Any] | None = None) -> Any:
        """The parsed content of `file`, from the cache when the file is unchanged. `known`
        gives a parse already made of a file with this text (the built-in exercises' shipped
        parse), or None; `parse` is called only when it has none.

        Read and parse errors reach the caller as they would without a cache.
        """
        stamp = _stamp(file)
        key = str(file.resolve())
        entries = self._load()
        entry = entries.get(key)
        if entry is not None and entry.get("stamp") == stamp:
            return copy.deepcopy(entry["data"])
        text = file.read_text(encoding="utf-8")
        data = known(file, text) if known is not None else None
        if data is None:
            data = parse(text)
        if stamp is not None and fits_json(data):
            entries[key] = {"stamp": stamp, "data": copy.deepcopy(data)}
            self._changed = True
        return data

    def save(self) -> None:
        if not self._changed or self.path is None or self._entries is None:
            return
        document = {"format": FORMAT, "ckaprep": __version__, "entries": self._entries}
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            import tempfile  # only when writing: reading, on the way to a kept page, must start fast

            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".parsed-yaml.")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(document, out)
                os.replace(temporary, self.path)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
        self._changed = False

    def _load(self) -> dict[str, dict]:
        if self._entries is None:
            self._entries = {}
            if self.path is not None:
                with contextlib.suppress(OSError, ValueError):
                    document = json.loads(self.path.read_text(encoding="utf-8"))
                    if (
                        isinstance(document, dict)
                        and document.get("format") == FORMAT
                        and document.get("ckaprep") == __version__
                        and isinstance(document.get("entries"), dict)
                    ):
                        self._entries = {
                            k: v for k, v in document["entries"].items() if isinstance(v, dict) and "data" in v
                        }
        return self._entries


def _stamp(file: Path) -> list[int] | None:
    """What tells an edited file apart: size, modification and change times in nanoseconds."""
    try:
        info = file.stat()
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def fits_json(data: Any) -> bool:
    """Whether JSON gives back exactly this data (no dates, no non-string keys)."""
    if data is None or isinstance(data, (str, bool, int, float)):
        return True
    if isinstance(data, list):
        return all(fits_json(item) for item in data)
    if isinstance(data, dict):
        return all(isinstance(k, str) and fits_json(v) for k, v in data.items())
    return False
