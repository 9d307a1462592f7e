"""The topic vocabulary: one word per topic, and it is the name of the topic's study notes.

A topic is a page, `ckaprep/topics/<topic>.md`; `list`, `exam start --topic`, `progress`,
`explain` and the exercise files all use that word. Adding a topic is adding its page. Other
words for a topic (older names, the spelling a learner may try) are aliases, kept here and
nowhere else. Matching ignores case.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from ckaprep.errors import UsageError, shorten

TOPICS_DIR = Path(__file__).parent / "topics"

# alias -> topic (a page's name)
ALIASES = {
    "create": "clusterip",
    "cluster-ip": "clusterip",
    "named-ports": "ports",
    "named-port": "ports",
    "targetport": "ports",
    "readiness": "selectors-and-endpoints",
    "selectors": "selectors-and-endpoints",
    "endpoints": "selectors-and-endpoints",
    "endpointslices": "selectors-and-endpoints",
    "environment": "env-vars",
    "troubleshoot": "troubleshooting",
    "headless-service": "headless",
    "statefulset": "headless",
    "srv": "dns-records",
    "external-name": "externalname",
    "affinity": "session-affinity",
    "sessionaffinity": "session-affinity",
    "canary": "traffic-splitting",
    "blue-green": "traffic-splitting",
    "cidr": "service-cidr",
    "service-range": "service-cidr",
    "debug": "debug-services",
    "debugging": "debug-services",
}


def topic_names(directory: Path = TOPICS_DIR) -> list[str]:
    """Every topic: the study pages' names."""
    return sorted(p.stem for p in directory.glob("*.md"))


def canonical(word: str, directory: Path = TOPICS_DIR) -> str | None:
    """The topic a word names (a page's name, or an alias of one, in any case), else None."""
    names = topic_names(directory)
    lowered = word.lower()
    if lowered in names:
        return lowered
    target = ALIASES.get(lowered)
    return target if target in names else None


def resolve(word: str, directory: Path = TOPICS_DIR, *, among: list[str] | None = None) -> str:
    """The topic a word names, or a usage error with suggestions drawn from the one vocabulary.
    `among` narrows what is accepted (e.g. the topics some exercise covers)."""
    topic = canonical(word, directory)
    names = topic_names(directory) if among is None else sorted(among)
    if topic is not None and topic in names:
        return topic
    if topic is not None:
        raise UsageError(f"no exercise covers topic {topic!r} (topics with exercises: {', '.join(names)})")
    raise UsageError(f"no topic '{shorten(word)}'{suggest(word, names)}")


def suggest(word: str, names: list[str]) -> str:
    """ "; did you mean …?" from the topics and their aliases, or the list of topics."""
    words = {name: name for name in names} | {a: t for a, t in ALIASES.items() if t in names}
    lowered = word.lower()
    close = difflib.get_close_matches(lowered, list(words), n=6, cutoff=0.5) if len(word) <= 100 else []
    parts = [w for w in words if w in lowered.split("-")]  # `udp-services` holds the topic `udp`
    topics = list(dict.fromkeys(words[c] for c in parts + close))[:3]
    return f"; did you mean {' or '.join(topics)}?" if topics else f"; topics: {', '.join(names)}"
