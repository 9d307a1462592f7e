"""Study notes: one Markdown file per topic with a small front matter.

Never needs the cluster: personal notes are filled from the saved attempt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ckaprep.attempts import Attempt
from ckaprep.errors import one_line
from ckaprep.parsed_cache import ParsedYamlCache
from ckaprep.study.vocabulary import TOPICS_DIR, resolve, topic_names  # noqa: F401 (part of this API)

PRACTICE_LINE = re.compile(r"^Practice: (.+)$", re.MULTILINE)
DEFAULT_DOMAIN = "cluster.local"


@dataclass(frozen=True)
class Topic:
    id: str
    summary: str
    body: str
    personal: str = ""

    @property
    def practice(self) -> list[str]:
        match = PRACTICE_LINE.search(self.body)
        return [item.strip() for item in match.group(1).split(",")] if match else []


def _split_front_matter(text: str) -> dict:
    from ruamel.yaml import YAML  # only when the topic is not in the parsed cache

    _, front, body = text.split("---\n", 2)
    meta = YAML(typ="safe", pure=True).load(front) or {}
    return {"summary": meta["summary"], "personal": meta.get("personal", ""), "body": body.strip()}


def _parse(path: Path, cache: ParsedYamlCache | None = None) -> Topic:
    parsed = (cache or ParsedYamlCache(None)).parsed(path, _split_front_matter)
    return Topic(id=path.stem, summary=parsed["summary"], body=parsed["body"], personal=parsed["personal"])


def all_topics(directory: Path = TOPICS_DIR, cache: ParsedYamlCache | None = None) -> dict[str, Topic]:
    topics = {p.stem: _parse(p, cache) for p in sorted(directory.glob("*.md"), key=lambda p: p.stem)}  # dns first
    if cache is not None:
        cache.save()
    return topics


def find_topic(name: str, directory: Path = TOPICS_DIR, cache: ParsedYamlCache | None = None) -> Topic:
    """A topic by name or alias, in any case. The name is looked up among the topics, never
    used as a path."""
    topic = _parse(directory / f"{resolve(name, directory)}.md", cache)
    if cache is not None:
        cache.save()
    return topic


def personal_values(attempt: Attempt) -> dict[str, Any]:
    params = attempt.params
    return {
        "namespace": attempt.namespace,
        "service": params.get("service"),
        "port": params.get("port"),
        "domain": attempt.cluster_domain or DEFAULT_DOMAIN,
    }


def optional_values(attempt: Attempt) -> dict[str, str]:
    """Names a note fills in when the exercise has them, and leaves as a placeholder otherwise."""
    params = attempt.params
    return {
        "pod": str(params.get("client") or "<pod>"),
        "client_namespace": str(params.get("client_ns") or "<client-ns>"),
    }


def personal_note(topic: Topic, attempt: Attempt | None) -> str:
    """The topic's notes for the learner's own exercise, or "" when they would not apply."""
    if attempt is None or not topic.personal:
        return ""
    values = personal_values(attempt)
    if any(value is None for value in values.values()):
        return ""
    # Values come from exercise files and the state file: a control character is shown escaped.
    shown = {key: one_line(str(value)) for key, value in (values | optional_values(attempt)).items()}
    return topic.personal.format_map(shown).strip()
