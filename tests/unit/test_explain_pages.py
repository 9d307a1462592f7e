"""The study notes: every topic renders, practice ids exist, every exercise topic has a page."""

import io

import pytest
from rich.console import Console

from ckaprep.attempts import Attempt
from ckaprep.catalogue.loading import load_catalogue
from ckaprep.study.notes import all_topics, personal_note
from ckaprep.views.render import topic_view

REQUIRED_PAGES = {
    "clusterip",
    "ports",
    "multi-port",
    "selectors-and-endpoints",
    "selectorless",
    "dns",
    "env-vars",
    "troubleshooting",
    "kubectl",
    "best-practices",
}


def test_required_pages_exist():
    assert REQUIRED_PAGES <= set(all_topics())


@pytest.mark.parametrize("topic", sorted(all_topics()))
def test_topic_renders_and_ends_with_practice(topic):
    page = all_topics()[topic]
    console = Console(file=io.StringIO(), width=100)
    console.print(topic_view(page.body, ""))
    assert len(console.file.getvalue()) > 500
    assert page.body.rstrip().splitlines()[-1].startswith("Practice: ")
    assert set(page.practice) <= set(load_catalogue()), page.practice


def test_every_exercise_topic_has_a_page():
    pages = all_topics()
    for exercise in load_catalogue().values():
        for topic in exercise.topics:
            assert topic in pages, f"{exercise.id} names topic {topic!r}, which has no page in ckaprep/study/topics/"


def test_personal_notes_fill_in_the_attempt():
    attempt = Attempt(
        exercise="clusterip-create",
        params={"service": "cart", "port": 8080},
        namespaces=["shop-abcde"],
        started_at="2026-01-01T00:00:00+00:00",
        seed=1,
        cluster_domain="corp.example",
    )
    note = personal_note(all_topics()["dns"], attempt)
    assert "cart.shop-abcde.svc.corp.example" in note
    assert personal_note(all_topics()["dns"], None) == ""


def test_the_personal_panel_fills_in_the_exercise_names_and_never_advises_losing_a_bare_pod():
    from datetime import datetime, timezone

    from ckaprep.catalogue.loading import find_exercise
    from ckaprep.practice.lifecycle import plan_attempt

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    env_vars = plan_attempt(find_exercise("env-vars"), seed=3, now=now)
    note = personal_note(all_topics()["env-vars"], env_vars)
    client = env_vars.params["client"]
    assert f"kubectl exec -n {env_vars.namespace} {client} -- env" in note
    assert (
        "delete pod" not in note
        and f"kubectl get pod {client} -n {env_vars.namespace} -o yaml | kubectl replace --force -f -" in note
    )
    cross = plan_attempt(find_exercise("dns-cross-namespace"), seed=3, now=now)
    assert f"kubectl run dnstest -n {cross.params['client_ns']} " in personal_note(all_topics()["dns"], cross)
    other = plan_attempt(find_exercise("clusterip-create"), seed=3, now=now)
    assert "-n <client-ns>" in personal_note(all_topics()["dns"], other)  # no client namespace there


def test_the_personal_panel_shows_control_characters_in_values_escaped():
    attempt = Attempt(
        exercise="clusterip-create",
        params={"service": "cart\x1b]0;pwned\x07", "port": "80\x1b[31m"},
        namespaces=["shop-abcde"],
        started_at="2026-01-01T00:00:00+00:00",
        seed=1,
    )
    note = personal_note(all_topics()["dns"], attempt)
    assert "\x1b" not in note and "\x07" not in note
    assert "cart\\x1b]0;pwned\\x07.shop-abcde" in note and "80\\x1b[31m" in note
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(topic_view("", note))
    assert "\x1b" not in console.file.getvalue()
