"""Exercise files are validated whole, with errors that name file, field and problem."""

import shutil

import pytest

from ckaprep.catalogue.loading import exercises_dir, load_catalogue, load_exercise
from ckaprep.catalogue.requirements import phrase_problem, requirement_words, sentences
from ckaprep.catalogue.templating import render
from ckaprep.catalogue.validation import requirement_problems
from ckaprep.errors import ExerciseFileError
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


# -- requirements: which checks grade each sentence of the task ------------------------------
TASK = """\
In namespace `${namespace}`, Deployment `${app}` runs web servers (e.g. two) on 10.0.0.5.
Nothing else runs there.

Create a Service **`${service}`** that:

- selects the Pods;
- listens on port
  **${port}**.

| what | port |
|------|------|
| web  | ${port} |

```
kubectl must not count here
```

Done means: it answers. Leave the rest.
"""


def test_a_task_reads_as_sentences_list_items_and_table_rows():
    found = [(s.text, s.in_item, s.states_requirement) for s in sentences(TASK)]
    assert found == [
        ("In namespace ${namespace}, Deployment ${app} runs web servers (e.g. two) on 10.0.0.5.", False, False),
        ("Nothing else runs there.", False, False),
        ("Create a Service ${service} that:", False, True),
        ("selects the Pods;", True, True),
        ("listens on port ${port}.", True, True),
        ("what port", False, False),
        ("web ${port}", False, False),
        ("Done means: it answers.", False, True),
        ("Leave the rest.", False, True),
    ]


def test_a_sentence_may_end_in_a_parenthesis():
    found = [s.text for s in sentences("One (as in 10.0.0.5.) Two, e.g. three.")]
    assert found == ["One (as in 10.0.0.5.)", "Two, e.g. three."]


def test_requirement_words_are_whole_words_in_any_case():
    found = requirement_words("Do NOT change it; make sure it keeps running")
    assert found == ["do not", "change", "make sure", "keeps"]
    assert requirement_words("a remake, unsettled, mustard") == []


def test_a_phrase_names_one_sentence():
    assert phrase_problem(TASK, "selects the Pods") is None
    assert phrase_problem(TASK, "listens on **`port ${port}`**") is None  # marks and line breaks do not count
    assert "not in the task text" in phrase_problem(TASK, "selects the pods")
    assert "in 2 sentences" in phrase_problem(TASK, "${port}")
    assert "runs over the end of a sentence" in phrase_problem(TASK, "runs there. Create a Service")


def test_every_exercise_maps_its_task_to_its_checks():
    for exercise in load_catalogue().values():
        assert requirement_problems(exercise) == [], exercise.id


def _problems(tmp_path, old: str, new: str) -> list[str]:
    path = _broken(tmp_path, old, new)
    return [p.message.removeprefix(f"{path}: ") for p in requirement_problems(load_exercise(path))]


def test_a_requirement_sentence_that_no_requirement_quotes_is_named(tmp_path):
    mapping = '  - says: "listens on port ${port} and forwards to the containers\' port ${target_port}"\n'
    problems = _problems(tmp_path, mapping + "    checks: [port]\n", "")
    assert problems == [
        "checks #3: check 'port' is named by no requirement: quote the sentence of the "
        "task that asks for it (requirements: says), or say it in the task; a check the task does not ask for "
        "grades what the learner was never told",
        "task: the sentence \"listens on port ${port} and forwards to the containers' "
        'port ${target_port}." states a requirement (it is a list item) that no requirement quotes: add '
        "{says: <a phrase of it>, checks: [<the checks that grade it>]} to requirements, or, if it only "
        "describes the setup, the phrase to context",
    ]


def test_a_sentence_with_a_requirement_word_needs_a_requirement_or_context(tmp_path):
    old = "runs ${replicas} web servers that listen on\n  port **${target_port}**."
    new = old + " Keep them running."
    problems = _problems(tmp_path, old, new)
    assert len(problems) == 1
    assert "the sentence 'Keep them running.' states a requirement (it says 'keep')" in problems[0]
    # The same sentence, marked as one that only describes the setup, needs no requirement.
    path = _broken(tmp_path, "\nhints:\n", '\ncontext: ["Keep them running."]\nhints:\n')
    path.write_text(path.read_text().replace(old, new, 1))
    assert requirement_problems(load_exercise(path)) == []


@pytest.mark.parametrize(
    "old, new, field, problem",
    [
        ('says: "of type ClusterIP"', 'says: "of type NodePort"', "requirements[1].says", "is not in the task text"),
        ('says: "of type ClusterIP"', 'says: "${port}"', "requirements[1].says", "is in 2 sentences"),
        (
            'says: "of type ClusterIP"',
            'says: "of type ClusterIP that: sends traffic"',
            "requirements[1].says",
            "runs over the end of a sentence",
        ),
        ("\nhints:\n", '\ncontext: ["a Pod that is not there"]\nhints:\n', "context[0]", "is not in the task text"),
    ],
)
def test_a_phrase_that_names_no_single_sentence_is_refused(tmp_path, old, new, field, problem):
    exercise = load_exercise(_broken(tmp_path, old, new))
    problems = [(p.field, p.problem) for p in requirement_problems(exercise)]
    assert [f for f, _ in problems] == [field] and problem in problems[0][1], problems


def test_an_exercise_without_requirements_is_told_what_to_write(tmp_path):
    text = SOURCE.read_text()
    start, end = text.index("requirements:\n"), text.index("\nhints:\n")
    path = tmp_path / "clusterip-create.yaml"
    path.write_text(text[:start] + text[end:])
    problems = requirement_problems(load_exercise(path))
    assert [(p.field, p.problem.split(":")[0]) for p in problems] == [("requirements", "is required")]


@pytest.mark.parametrize(
    "old, new, field, problem",
    [
        ("checks: [port]\n", "checks: [ports]\n", "requirements[3].checks", "no check 'ports'"),
        ("checks: [port]\n", "checks: []\n", "requirements[3].checks", "must list the ids"),
        ('  - says: "of type ClusterIP"', '  - said: "of type ClusterIP"', "requirements[1].said", "unknown field"),
        ('  - says: "of type ClusterIP"', '  - says: ""', "requirements[1].says", "is required"),
        ("\nhints:\n", "\ncontext: [42]\nhints:\n", "context[0]", "must be a phrase"),
    ],
)
def test_requirements_are_typed_at_load(tmp_path, old, new, field, problem):
    with pytest.raises(ExerciseFileError) as info:
        load_exercise(_broken(tmp_path, old, new))
    assert (info.value.field, problem in info.value.problem) == (field, True), info.value.message


@pytest.mark.parametrize("seed", [1, 7])
def test_no_solution_has_a_sed_that_changes_nothing(seed):
    import re

    from ckaprep.catalogue.loading import load_catalogue

    for exercise in load_catalogue().values():
        params = exercise.choose_params(seed)
        script = exercise.solution_for(params)["kubectl"]
        for before, after in re.findall(r"s/([^/]*)/([^/]*)/", script):
            assert before != after, (exercise.id, before)


def test_every_check_kind_of_the_file_format_has_one_implementation():
    """The file format names the kinds and their fields; grading implements exactly those."""
    from ckaprep.catalogue.check_fields import CHECK_FIELDS
    from ckaprep.grading.checks import KINDS

    assert list(KINDS) == list(CHECK_FIELDS)
    assert all(KINDS[name].required == fields.required for name, fields in CHECK_FIELDS.items())
