"""One topic vocabulary: a topic is the name of its study page, the same word everywhere."""

import json
from pathlib import Path

import pytest

from ckaprep.catalogue.loading import load_catalogue, load_exercise
from ckaprep.errors import ExerciseFileError, UsageError
from ckaprep.exit_status import ExitStatus
from ckaprep.study.vocabulary import ALIASES, TOPICS_DIR, canonical, resolve, topic_names

OLD_NAMES = {
    "cluster-ip": "clusterip",
    "named-ports": "ports",
    "readiness": "selectors-and-endpoints",
    "clusterip": "clusterip",
    "ports": "ports",
    "create": "clusterip",
}


def test_every_exercise_topic_is_a_page():
    for exercise in load_catalogue().values():
        for topic in exercise.topics:
            assert (TOPICS_DIR / f"{topic}.md").is_file(), f"{exercise.id}: topic {topic!r} has no page"


def test_every_alias_names_a_page_and_no_alias_hides_a_page():
    pages = set(topic_names())
    assert set(ALIASES.values()) <= pages
    assert not set(ALIASES) & pages


@pytest.mark.parametrize("old, topic", sorted(OLD_NAMES.items()))
def test_old_names_and_any_case_still_work(old, topic):
    assert canonical(old) == topic
    assert canonical(old.upper()) == topic
    assert resolve(old.title()) == topic


def test_a_new_page_is_a_new_topic(tmp_path):
    (tmp_path / "headless.md").write_text("---\nsummary: x\n---\nbody\n")
    assert canonical("Headless", tmp_path) == "headless"
    with pytest.raises(UsageError, match="did you mean headless"):
        resolve("headles", tmp_path)


def test_suggestions_come_from_topics_and_aliases():
    with pytest.raises(UsageError, match="did you mean selectors-and-endpoints"):
        resolve("readines")
    with pytest.raises(UsageError, match="did you mean clusterip"):
        resolve("cluster_ip")


def test_an_exercise_file_may_name_a_topic_by_its_alias(tmp_path):
    source = Path(__file__).parents[2] / "exercises" / "named-targetport.yaml"
    text = source.read_text().replace("topics: [ports]", "topics: [Named-Ports, ports]")
    (tmp_path / "named-targetport.yaml").write_text(text)
    assert load_exercise(tmp_path / "named-targetport.yaml").topics == ("ports",)
    (tmp_path / "named-targetport.yaml").write_text(text.replace("Named-Ports", "networking"))
    with pytest.raises(ExerciseFileError, match="unknown topic 'networking'"):
        load_exercise(tmp_path / "named-targetport.yaml")


def test_the_same_words_in_list_exam_progress_and_explain(run, fake):
    fake.set_nodes(2)  # every topic's exercises can be drawn
    fake.enforces_network_policy = True
    listed = {t for item in json.loads(run("list", "--json").stdout) for t in item["topics"]}
    explained = {item["topic"] for item in json.loads(run("explain", "--json").stdout)}
    progress = set(json.loads(run("progress", "--json").stdout)["topics"])
    assert listed <= explained and progress == listed
    for topic in listed:
        started = run("exam", "start", "--topic", topic.upper(), "--tasks", "1", "--seed", "3", "--json")
        assert started.exit_code == 0, started.output
        assert run("exam", "reset").exit_code == 0


@pytest.mark.parametrize("word", ["cluster-ip", "DNS", "readiness", "Named-Ports"])
def test_explain_and_exam_accept_old_names_in_any_case(run, word):
    page = run("explain", word, "--json")
    assert page.exit_code == 0, page.output
    assert json.loads(page.stdout)["topic"] == canonical(word)
    exam = run("exam", "start", "--topic", word, "--tasks", "1", "--seed", "3", "--json")
    assert exam.exit_code == 0, exam.output
    drawn = json.loads(exam.stdout)["tasks"][0]["exercise"]
    assert canonical(word) in load_catalogue()[drawn].topics


def test_an_unknown_topic_gets_suggestions_from_the_one_list(run):
    for args in (["explain", "clusterp"], ["exam", "start", "--topic", "clusterp"]):
        result = run(*args)
        assert result.exit_code == ExitStatus.USAGE
        assert "did you mean clusterip" in result.stderr, result.stderr
    page_only = run("exam", "start", "--topic", "best-practices")
    assert page_only.exit_code == ExitStatus.USAGE and "no exercise covers topic" in page_only.stderr
