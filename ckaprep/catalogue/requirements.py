"""The sentences of a task, and which checks grade each one.

An exercise maps its task text to its checks in data:

    requirements:
      - says: "of type ClusterIP"            # a phrase of the task, as written (before rendering)
        checks: [service-type]
    context: ["runs ${replicas} web servers"] # sentences that only describe the setup

`ckaprep validate` holds the mapping to three rules, each decided here without a cluster:

- every `says` and `context` phrase lies within exactly one sentence of the task;
- every check is named by some requirement: the task asks for everything that is graded;
- every sentence that states a requirement holds a `says` phrase (or, when it only describes
  the setup, a `context` phrase). A sentence states a requirement when it belongs to a list
  item, or holds one of REQUIREMENT_WORDS.

Phrases and sentences compare after `normalised`: Markdown's emphasis and code marks (`*`,
backticks) are left out and every run of white space reads as one space, so a phrase is written
as the learner reads it and may cross a line break of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that make a sentence a requirement, matched as whole words in any case. The imperative
# verbs a task gives orders with, the modal words, the words that bound an answer, and
# "done means", which states the outcome the checks grade.
REQUIREMENT_WORDS = (
    "must",
    "should",
    "need",
    "needs",
    "required",
    "requires",
    "create",
    "make",
    "makes",
    "keep",
    "keeps",
    "leave",
    "ensure",
    "make sure",
    "fix",
    "set",
    "change",
    "configure",
    "switch",
    "scale",
    "write",
    "find",
    "add",
    "remove",
    "delete",
    "use",
    "do not",
    "don't",
    "never",
    "so that",
    "only",
    "exactly",
    "every",
    "all",
    "none",
    "done means",
)
_LONGEST_FIRST = sorted(REQUIREMENT_WORDS, key=len, reverse=True)  # "make sure" before "make"
_WORDS = re.compile(r"\b(?:" + "|".join(map(re.escape, _LONGEST_FIRST)) + r")\b", re.IGNORECASE)
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|[\s:|-]+\|\s*$")
# A sentence ends at . ! or ? (perhaps closing a parenthesis) before white space and a capital,
# a digit, an opening parenthesis or a parameter: "e.g. a" and "10.0.0.5" do not end one.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?]\)))\s+(?=[A-Z0-9($\"])")


def normalised(text: str) -> str:
    """Text as the learner reads it: no emphasis or code marks, white space as single spaces."""
    return " ".join(text.replace("`", "").replace("*", "").split())


@dataclass(frozen=True)
class Sentence:
    text: str  # normalised
    in_item: bool  # part of a list item (bulleted or numbered)

    @property
    def states_requirement(self) -> bool:
        return self.in_item or requirement_words(self.text) != []


def requirement_words(text: str) -> list[str]:
    return [m.group(0).lower() for m in _WORDS.finditer(text)]


def sentences(task: str) -> list[Sentence]:
    """The task's sentences, in order. A blank line ends a paragraph; a list item (`- `, `* `,
    `1. `) starts a new one, which its indented lines continue; each row of a table is one;
    fenced code blocks and table rules are not sentences."""
    blocks: list[tuple[list[str], bool]] = []
    fenced = False
    current: list[str] | None = None
    for line in task.splitlines():
        if line.strip().startswith("```"):
            fenced, current = not fenced, None
            continue
        if fenced or not line.strip() or _TABLE_RULE.match(line):
            current = None
            continue
        if line.strip().startswith("|"):
            blocks.append(([line.strip().strip("|").replace("|", " ")], False))
            current = None
            continue
        item = _ITEM.match(line)
        if item or current is None:
            current = [line[item.end() :] if item else line]
            blocks.append((current, bool(item)))
        else:
            current.append(line)
    result = []
    for lines, in_item in blocks:
        text = normalised(" ".join(lines))
        result += [Sentence(part, in_item) for part in _SENTENCE_END.split(text) if part.strip()]
    return result


def phrase_problem(task: str, phrase: str) -> str | None:
    """Why a `says` or `context` phrase does not name one sentence of the task, or None."""
    wanted = normalised(phrase)
    if not wanted:
        return "is empty"
    every = sentences(task)
    holding = [s for s in every if wanted in s.text]
    if len(holding) == 1:
        return None
    if not holding:
        if wanted in " ".join(s.text for s in every):
            return f"{phrase!r} runs over the end of a sentence of the task; quote a phrase within one sentence"
        return f"{phrase!r} is not in the task text (phrases are quoted as written, ${{param}} included)"
    return f"{phrase!r} is in {len(holding)} sentences of the task; quote a longer phrase that names one"


def uncovered(task: str, phrases: list[str]) -> list[Sentence]:
    """The sentences that state a requirement and hold none of the phrases."""
    wanted = [normalised(p) for p in phrases if normalised(p)]
    return [s for s in sentences(task) if s.states_requirement and not any(p in s.text for p in wanted)]
