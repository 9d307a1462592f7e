"""The parsed-YAML cache: used while a file is unchanged, never wrong, never in the way."""

import json
import os

import pytest

from ckaprep.catalogue.loading import Catalogue, exercises_dir, parse_yaml
from ckaprep.errors import ExerciseFileError
from ckaprep.parsed_cache import ParsedYamlCache, cache_dir


class CountingParser:
    def __init__(self):
        self.calls = 0

    def __call__(self, text):
        self.calls += 1
        return parse_yaml(text)


def test_an_unchanged_file_is_parsed_once_across_runs(tmp_path):
    source = tmp_path / "data.yaml"
    source.write_text("a: 1\nb: [x, y]\n")
    parse = CountingParser()
    first = ParsedYamlCache(tmp_path / "cache.json")
    assert first.parsed(source, parse) == {"a": 1, "b": ["x", "y"]}
    first.save()
    second = ParsedYamlCache(tmp_path / "cache.json")  # the next command
    assert second.parsed(source, parse) == {"a": 1, "b": ["x", "y"]}
    assert parse.calls == 1


def test_an_edited_file_is_parsed_again_even_with_the_same_size_and_mtime(tmp_path):
    source = tmp_path / "data.yaml"
    source.write_text("a: 1\n")
    stat = source.stat()
    cache = ParsedYamlCache(tmp_path / "cache.json")
    cache.parsed(source, parse_yaml)
    cache.save()
    source.write_text("a: 2\n")
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    assert ParsedYamlCache(tmp_path / "cache.json").parsed(source, parse_yaml) == {"a": 2}


def test_a_corrupt_or_foreign_cache_file_is_ignored(tmp_path):
    source = tmp_path / "data.yaml"
    source.write_text("a: 1\n")
    for junk in ("{not json", json.dumps({"format": 999, "entries": {}}), json.dumps([1, 2]), "\x00\xff"):
        (tmp_path / "cache.json").write_text(junk)
        parse = CountingParser()
        assert ParsedYamlCache(tmp_path / "cache.json").parsed(source, parse) == {"a": 1}
        assert parse.calls == 1


def test_data_that_json_would_change_is_not_cached(tmp_path):
    source = tmp_path / "data.yaml"
    source.write_text("80: http\nwhen: 2026-01-01\n")  # an int key and a date
    cache = ParsedYamlCache(tmp_path / "cache.json")
    data = cache.parsed(source, parse_yaml)
    cache.save()
    assert 80 in data
    assert not (tmp_path / "cache.json").exists()


def test_saving_is_atomic_and_an_unwritable_place_is_no_error(tmp_path):
    source = tmp_path / "data.yaml"
    source.write_text("a: 1\n")
    cache = ParsedYamlCache(tmp_path / "cache.json")
    cache.parsed(source, parse_yaml)
    cache.save()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.json", "data.yaml"]  # no temporary left
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    nowhere = ParsedYamlCache(blocked / "cache.json")
    assert nowhere.parsed(source, parse_yaml) == {"a": 1}
    nowhere.save()  # cannot write there: the command still works


def test_the_caller_cannot_change_what_the_cache_holds(tmp_path):
    source = tmp_path / "data.yaml"
    source.write_text("a: [1]\n")
    cache = ParsedYamlCache(tmp_path / "cache.json")
    cache.parsed(source, parse_yaml)["a"].append(2)
    assert cache.parsed(source, parse_yaml) == {"a": [1]}


def test_the_catalogue_from_the_cache_equals_the_catalogue_parsed(tmp_path):
    cache_file = tmp_path / "cache.json"
    parsed, _ = Catalogue(exercises_dir()).load()
    Catalogue(exercises_dir(), cache=ParsedYamlCache(cache_file)).load()
    cached, _ = Catalogue(exercises_dir(), cache=ParsedYamlCache(cache_file)).load()
    assert cached == parsed and len(cached) >= 9


def test_a_syntax_error_is_reported_as_before_and_not_cached(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n")
    cache = ParsedYamlCache(tmp_path / "cache.json")
    for _ in range(2):
        with pytest.raises(ExerciseFileError, match=r"line 2, column 1: YAML syntax"):
            Catalogue(tmp_path, cache=cache).load()


def test_the_cache_lives_in_ckaprep_home_or_the_xdg_cache():
    assert str(cache_dir({"CKAPREP_HOME": "/h"})) == "/h/cache"
    assert str(cache_dir({"XDG_CACHE_HOME": "/x", "HOME": "/home/u"})) == "/x/ckaprep"
    assert str(cache_dir({"HOME": "/home/u"})) == "/home/u/.cache/ckaprep"


def test_the_shipped_parse_of_the_built_in_exercises_is_current():
    """After editing an exercise: python -m ckaprep.catalogue.ship_parsed"""
    from ckaprep.catalogue.locations import exercise_files
    from ckaprep.catalogue.shipped import SHIPPED_FILE, text_digest

    shipped = json.loads((exercises_dir() / SHIPPED_FILE).read_text())
    files = exercise_files(exercises_dir())
    assert sorted(shipped) == sorted(f.name for f in files)
    for file in files:
        text = file.read_text()
        assert shipped[file.name]["sha256"] == text_digest(text), (
            f"{file.name}: run python -m ckaprep.catalogue.ship_parsed"
        )
        assert shipped[file.name]["data"] == parse_yaml(text), file.name


def test_a_first_run_takes_the_built_in_exercises_from_the_shipped_parse(tmp_path, monkeypatch):
    from ckaprep.catalogue import loading, shipped

    parse = CountingParser()
    monkeypatch.setattr(loading, "parse_yaml", parse)
    exercises, _ = Catalogue(cache=ParsedYamlCache(tmp_path / "cache.json")).load()
    assert parse.calls == 0 and len(exercises) == len(list(exercises_dir().glob("*.yaml")))
    edited = tmp_path / "exercises"
    edited.mkdir()
    for file in exercises_dir().glob("*.yaml"):
        (edited / file.name).write_text(file.read_text())
    (edited / "parsed.json").write_text((exercises_dir() / "parsed.json").read_text())
    (edited / "env-vars.yaml").write_text(
        (edited / "env-vars.yaml").read_text().replace("title: ", "title: Edited ", 1)
    )
    monkeypatch.setattr("ckaprep.catalogue.locations.exercises_dir", lambda: edited)
    shipped._shipped.cache_clear()
    try:
        again = Catalogue(builtin=edited, cache=ParsedYamlCache(tmp_path / "other.json")).load()[0]
    finally:
        shipped._shipped.cache_clear()
    assert parse.calls == 1 and again["env-vars"].title.startswith("Edited ")  # an edit is parsed, never stale
