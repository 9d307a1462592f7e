"""The built-in exercises as parsed when ckaprep was built (`exercises/parsed.json`), by file
name with the SHA-256 of the text they were parsed from: a first run (no cache yet) skips the
slow pure-Python parser for them. An edited file no longer matches its digest and is parsed as
any other. `python -m ckaprep.catalogue.ship_parsed` writes it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ckaprep.catalogue import locations
from ckaprep.parsed_cache import fits_json

SHIPPED_FILE = "parsed.json"


def shipped_parse(file: Path, text: str) -> Any:
    """The shipped parse of a built-in exercise file with exactly this text, else None."""
    if file.parent.resolve() != locations.exercises_dir().resolve():
        return None
    entry = _shipped().get(file.name)
    if not isinstance(entry, dict) or entry.get("sha256") != text_digest(text):
        return None
    return copy.deepcopy(entry.get("data"))


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


@functools.cache
def _shipped() -> dict:
    try:
        document = json.loads((locations.exercises_dir() / SHIPPED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def write_shipped_parse(parse: Callable[[str], Any]) -> Path:
    """Parse every built-in exercise file and write what `shipped_parse` reads (after an edit
    of an exercise: `python -m ckaprep.catalogue.ship_parsed`)."""
    directory = locations.exercises_dir()
    entries = {}
    for file in locations.exercise_files(directory):
        text = file.read_text(encoding="utf-8")
        data = parse(text)
        if fits_json(data):
            entries[file.name] = {"sha256": text_digest(text), "data": data}
    target = directory / SHIPPED_FILE
    target.write_text(json.dumps(entries, separators=(",", ":")) + "\n", encoding="utf-8")
    _shipped.cache_clear()
    return target
