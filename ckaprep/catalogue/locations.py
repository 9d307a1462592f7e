"""Where exercise files are, without loading them (completion and cached listings need only this)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_EXERCISES = "CKAPREP_EXERCISES"
SUFFIXES = (".yaml", ".yml")  # an exercise file's names: its id, then one of these


def exercise_files(directory: Path) -> list[Path]:
    """The exercise files in a directory, by name (`x.yaml` and `x.yml` alike)."""
    return sorted(path for suffix in SUFFIXES for path in directory.glob(f"*{suffix}"))


def exercises_dir() -> Path:
    """Inside an installed wheel the data sits in the package; in a checkout, beside it."""
    package = Path(__file__).parents[1]  # ckaprep/
    packaged = package / "exercises"
    return packaged if packaged.is_dir() else package.parent / "exercises"


def exercise_dirs_from(value: str | None) -> list[Path]:
    """A path list such as $CKAPREP_EXERCISES (colon-separated on POSIX)."""
    return [Path(item) for item in (value or "").split(os.pathsep) if item]


def exercise_files_stamp(directories: list[Path]) -> list:
    """Each exercise file with its size and times: equal stamps mean an unchanged catalogue."""
    stamp = []
    for directory in directories:
        try:
            paths = exercise_files(directory)
        except OSError:
            paths = []
        stamp.append([str(directory), directory.is_dir()])
        for path in paths:
            try:
                info = path.stat()
            except OSError:
                continue
            stamp.append([str(path), info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino])
    return stamp
