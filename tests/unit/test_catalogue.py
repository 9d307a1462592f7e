"""Exercise files are validated whole, with errors that name file, field and problem."""

import shutil

import pytest

from ckaprep.catalogue.exercise import exercises_dir, load_catalogue, load_exercise
from ckaprep.errors import ExerciseFileError
from ckaprep.catalogue.templating import render
from ckaprep.study.vocabulary import topic_names

SOURCE = exercises_dir() / "clusterip-create.yaml"


def _broken(tmp_path, old: str, new: str):
    text = SOURCE.read_text()
    assert old in text
    path = tmp_path / "clusterip-create.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    "old, new, field, problem",
    [
        ("difficulty: easy", "difficulty: trivial", "difficulty", "must be one of"),
        ("topics: [clusterip, kubectl]", "topics: [clusterip, networking]", "topics[1]", "unknown topic"),
        ("kind: service_selector", "kind: service_selektor", "checks[1].kind", "unknown kind"),
        ("    backends: app=${app},tier=backend\n    hint", "    hint", "checks[1].backends", "required"),
        ("minutes: 6", "minutes: six", "minutes", "must be an integer, not text"),
        ("title: Service ${service} exists", "title: Service ${servcie} exists", "checks", "unknown parameter"),
        ("id: probe-clusterip", "id: probe-short", "checks[5].id", "duplicate"),
        ("  port: {pick: [80, 8080, 8000, 9000]}\n", "  port: {pick: []}\n", "params.port.pick", "non-empty"),
        ("weight: 4\n", "weight: 4\ncolour: blue\n", "colour", "unknown field"),
        ("via: clusterip", "via: carrier-pigeon", "checks[5].via", "must be one of"),
    ],
)
def test_malformed_files_name_the_field(tmp_path, old, new, field, problem):
    path = _broken(tmp_path, old, new)
    with pytest.raises(ExerciseFileError) as info:
        load_exercise(path)
    assert info.value.source.endswith("clusterip-create.yaml")
    assert info.value.field == field
    assert problem in info.value.problem


def test_yaml_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "clusterip-create.yaml"
    path.write_text("id: x\ntitle: [unclosed\n")
    with pytest.raises(ExerciseFileError) as info:
        load_exercise(path)
    message = info.value.message
    assert message.startswith(f"{path}, line 3, column 1: YAML syntax: while parsing a flow sequence"), message
    assert "unicode string" not in message and "^" not in message


def test_one_bad_file_stops_the_whole_catalogue(tmp_path):
    for path in exercises_dir().glob("*.yaml"):
        shutil.copy(path, tmp_path)
    (tmp_path / "zz-broken.yaml").write_text("id: zz-broken\n")
    with pytest.raises(ExerciseFileError, match="zz-broken.yaml"):
        load_catalogue(tmp_path)


def test_every_exercise_topic_is_in_the_vocabulary():
    for exercise in load_catalogue().values():
        assert set(exercise.topics) <= set(topic_names())


def test_templates_keep_numbers_and_shell_variables():
    params = {"port": 80, "service": "web-api"}
    assert render({"port": "${port}"}, params) == {"port": 80}
    assert render("curl $WEB_API_SERVICE_HOST:${port}", params) == "curl $WEB_API_SERVICE_HOST:80"
    assert render("${service|env}_SERVICE_HOST", params) == "WEB_API_SERVICE_HOST"
    assert render("${UPPER_CASE}", params) == "${UPPER_CASE}"


def test_every_exercise_has_two_right_styles_and_three_wrong_answers():
    for exercise in load_catalogue().values():
        right = [p for p in exercise.proofs if p.is_right]
        wrong = [p for p in exercise.proofs if not p.is_right]
        assert len(right) >= 2 and len({p.style for p in right}) >= 2 and len(wrong) >= 3, exercise.id


@pytest.mark.parametrize("seed", [1, 7])
def test_no_solution_has_a_sed_that_changes_nothing(seed):
    import re

    from ckaprep.catalogue.exercise import load_catalogue

    for exercise in load_catalogue().values():
        params = exercise.choose_params(seed)
        script = exercise.solution_for(params)["kubectl"]
        for before, after in re.findall(r"s/([^/]*)/([^/]*)/", script):
            assert before != after, (exercise.id, before)
