"""Each topic ends with the kubernetes.io pages worth opening in the exam, and what to search
for there; every URL is one of the pages listed in tests/kubernetes-docs-pages.txt (no network)."""

import re
from pathlib import Path

import pytest

from ckaprep.study.notes import all_topics

LIST = Path(__file__).parents[1] / "kubernetes-docs-pages.txt"
HEADING = "## In the Kubernetes docs"
URL = re.compile(r"https?://[^\s)>\]]+")


def _known() -> set[str]:
    lines = [line for line in LIST.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return {line.split()[0] for line in lines}


def test_the_list_holds_kubernetes_docs_pages_only():
    known = _known()
    assert known
    for url in known:
        assert re.fullmatch(r"https://kubernetes\.io/docs/[a-z0-9/_-]+/", url), url


@pytest.mark.parametrize("topic", sorted(all_topics()))
def test_every_topic_ends_with_docs_to_open_and_what_to_search(topic):
    body = all_topics()[topic].body
    assert HEADING in body, f"{topic}: no '{HEADING}' section"
    section = body.split(HEADING, 1)[1]
    assert not re.search(r"^#", section, re.M), f"{topic}: the docs section must be the last one"
    items = [line for line in section.splitlines() if line.startswith("- ")]
    assert items, topic
    for item in items:
        assert "search for" in item, item
    urls = URL.findall(section)
    assert len(urls) == len(items)
    unknown = set(urls) - _known()
    assert not unknown, f"{topic}: pages not in {LIST.name}: {unknown}"


def test_no_note_names_a_page_outside_the_list():
    for topic in all_topics().values():
        for url in URL.findall(topic.body):
            if "kubernetes.io" in url:
                assert url in _known(), (topic.id, url)
