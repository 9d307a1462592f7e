"""Finding and loading exercise files: the catalogue of built-in exercises and trainers'
directories. Every file is validated whole on load; a malformed one is an error naming the
file, the field and the problem, and nothing of it is used.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ckaprep.catalogue.exercise import NAME, Exercise
from ckaprep.catalogue.locations import SUFFIXES, exercise_files, exercises_dir
from ckaprep.catalogue.shipped import shipped_parse
from ckaprep.catalogue.validation import _Validator, line_of
from ckaprep.errors import ExerciseFileError, UsageError, one_line
from ckaprep.parsed_cache import ParsedYamlCache


class _YamlSyntaxError(Exception):
    def __init__(self, problem: str, line: int | None = None, column: int | None = None):
        super().__init__(problem)
        self.line, self.column = line, column


def parse_yaml(text: str) -> Any:
    """ruamel's safe loader, imported only when a file is not in the parsed cache."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        words = [getattr(exc, "context", None), getattr(exc, "problem", None)]
        problem = ": ".join(w for w in words if w) or " ".join(str(exc).split())
        raise _YamlSyntaxError(problem, mark.line + 1 if mark else None, mark.column + 1 if mark else None) from None


def load_exercise(path: Path, cache: ParsedYamlCache | None = None) -> Exercise:
    source = str(path) if path.parent != exercises_dir() else path.name
    try:
        data = (cache or ParsedYamlCache(None)).parsed(path, parse_yaml, known=shipped_parse)
    except UnicodeDecodeError as exc:
        raise ExerciseFileError(source, "(encoding)", f"not UTF-8 text (byte {exc.start})") from None
    except _YamlSyntaxError as exc:
        raise ExerciseFileError(source, "YAML syntax", str(exc), exc.line, exc.column) from None
    except IsADirectoryError:
        raise ExerciseFileError(
            source, "(file)", "is a directory; give the exercise files in it (DIR/*.yaml)"
        ) from None
    except OSError as exc:
        raise ExerciseFileError(source, "(file)", exc.strerror or str(exc)) from None
    try:
        exercise = _Validator(source).exercise(data)
    except ExerciseFileError as exc:
        first, *more = [problem.at(line_of(path, problem.field)) for problem in (exc, *exc.more)]
        raise first.with_more(more) from None
    if exercise.id != path.stem:
        raise ExerciseFileError(source, "id", f"must match the file name ({path.stem!r})")
    return exercise


def check_name(exercise_id: str) -> str:
    """Exercise ids are names, never paths; refuse anything else before touching a file."""
    if not NAME.fullmatch(exercise_id):
        shown = one_line(exercise_id if len(exercise_id) <= 70 else exercise_id[:60] + "…")
        raise UsageError(
            f"'{shown}' is not an exercise id: ids are lower-case letters, digits and dashes "
            "(at most 63 characters); see `ckaprep list`"
        )
    return exercise_id


class Catalogue:
    """The built-in exercises plus trainers' directories.

    A broken file in a trainer's directory is reported and skipped when listing;
    one in the built-in directory is an error. An id found twice is an error
    naming both files.
    """

    def __init__(self, builtin: Path | None = None, extra: Sequence[Path] = (), cache: ParsedYamlCache | None = None):
        self.builtin = builtin or exercises_dir()
        self.extra = [Path(d) for d in extra]
        self.cache = cache or ParsedYamlCache(None)

    @property
    def dirs(self) -> list[Path]:
        return [self.builtin, *self.extra]

    def _files(self) -> dict[str, list[Path]]:
        files: dict[str, list[Path]] = {}
        seen: set[Path] = set()  # a directory given twice (or the built-in one again) is read once
        for directory in self.dirs:
            if directory != self.builtin and directory.is_file():
                raise UsageError(
                    f"--exercises takes a directory, and {directory} is a file (its directory: {directory.parent})"
                )
            if directory != self.builtin and not directory.is_dir():
                raise UsageError(f"exercise directory {directory} does not exist")
            for path in exercise_files(directory):
                if path.resolve() not in seen:
                    seen.add(path.resolve())
                    files.setdefault(path.stem, []).append(path)
        return files

    @staticmethod
    def _clash(exercise_id: str, paths: list[Path]) -> UsageError:
        return UsageError(f"exercise id {exercise_id!r} is defined twice: {paths[0]} and {paths[1]}")

    def _builtin_first(self, paths: list[Path], skipped: list[ExerciseFileError] | None = None) -> list[Path]:
        """A trainer's file with a built-in exercise's id is skipped (and said why), as other
        broken trainer files are; the built-in one is used."""
        if len(paths) > 1 and paths[0].parent == self.builtin:
            for path in paths[1:]:
                if skipped is not None:
                    skipped.append(builtin_clash(path))
            return paths[:1]
        return paths

    def load(self) -> tuple[dict[str, Exercise], list[ExerciseFileError]]:
        """Every exercise, and the problems of the trainers' files that were skipped."""
        exercises: dict[str, Exercise] = {}
        skipped: list[ExerciseFileError] = []
        for exercise_id, paths in sorted(self._files().items()):
            paths = self._builtin_first(paths, skipped)
            if len(paths) > 1:
                raise self._clash(exercise_id, paths)
            try:
                exercises[exercise_id] = load_exercise(paths[0], self.cache)
            except ExerciseFileError as exc:
                if paths[0].parent == self.builtin:
                    raise
                skipped.append(exc)
        self.cache.save()
        return exercises, skipped

    def find(self, exercise_id: str) -> Exercise:
        """An exercise by id, in any case (ids are lower-case: `Clusterip-Create` is
        clusterip-create); an unknown id is an error with the ids closest to it."""
        if NAME.fullmatch(exercise_id.lower()):
            exercise_id = exercise_id.lower()
        check_name(exercise_id)
        paths = [
            d / f"{exercise_id}{suffix}"
            for d in self.dirs
            for suffix in SUFFIXES
            if (d / f"{exercise_id}{suffix}").is_file()
        ]
        unique: dict[Path, Path] = {}
        for path in paths:  # the same file through two names of its directory counts once
            unique.setdefault(path.resolve(), path)
        paths = self._builtin_first(list(unique.values()))
        if len(paths) > 1:
            raise self._clash(exercise_id, paths)
        if not paths:
            known = sorted(self._files())
            close = difflib.get_close_matches(exercise_id, known, n=3, cutoff=0.6)
            if close:
                raise UsageError(
                    f"no exercise {exercise_id!r}; did you mean {' or '.join(close)}? (see `ckaprep list`)"
                )
            raise UsageError(f"no exercise {exercise_id!r} (try one of: {', '.join(known)})")
        exercise = load_exercise(paths[0], self.cache)
        self.cache.save()
        return exercise


def builtin_clash(path: Path) -> ExerciseFileError:
    return ExerciseFileError(str(path), "id", f"{path.stem!r} is the id of a built-in exercise; rename the file")


def builtin_twin(path: Path) -> tuple[Path, bool] | None:
    """The built-in exercise file a file's id shadows, and whether the two hold the same bytes;
    None when no built-in exercise has that id, or the file is the built-in one itself."""
    builtin = exercises_dir() / f"{path.stem}.yaml"
    try:
        if not builtin.is_file() or path.resolve() == builtin.resolve():
            return None
        return builtin, path.read_bytes() == builtin.read_bytes()
    except OSError:
        return None


def builtin_shadow(path: Path) -> str:
    return (
        f"{path}: id {path.stem!r} shadows a built-in exercise: validated as an edit of it, but list and "
        "start would skip this file for the built-in one (rename the file and its id to use it)"
    )


def trainer_twins(path: Path, directories: Sequence[Path]) -> list[Path]:
    """The other files in trainers' exercise directories with the same id as `path` (the same
    file reached through another name counts once)."""
    try:
        own = path.resolve()
        found = {
            other.resolve(): other
            for directory in directories
            if directory.is_dir()
            for suffix in SUFFIXES
            for other in [directory / f"{path.stem}{suffix}"]
            if other.is_file()
        }
    except OSError:
        return []
    return [other for resolved, other in found.items() if resolved != own]


def trainer_clash(path: Path, others: list[Path]) -> str:
    return (
        f"{path}: id {path.stem!r} is also the id of {', '.join(map(str, others))}, in your exercise "
        "directories: list and start refuse an id defined twice (rename the file and its id, or the other)"
    )


def load_catalogue(directory: Path | None = None) -> dict[str, Exercise]:
    return Catalogue(directory).load()[0]


def find_exercise(exercise_id: str, directory: Path | None = None) -> Exercise:
    return Catalogue(directory).find(exercise_id)
