"""What a candidate copies is never broken across lines, at 60, 80 and 120 columns: a URL, a
line of YAML, a command, a DNS name, a variable name. Where one does not fit, it overflows the
line (or a table prints it under itself, in full); a command may only be broken with ` \\`.
Every topic, every solution, every hint and every personal panel is rendered; the YAML a
candidate copies from them parses to what the source says."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pytest
from rich.console import Console
from ruamel.yaml import YAML

from ckaprep.catalogue.loading import load_catalogue
from ckaprep.practice.lifecycle import plan_attempt
from ckaprep.study.notes import all_topics, personal_note
from ckaprep.views.render import hint_view, solution_parts, topic_view

WIDTHS = (60, 80, 120)
CATALOGUE = load_catalogue()
TOPICS = all_topics()
SHELL = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
CODE_SPAN = re.compile(r"`([^`]+)`")  # a span may go on over a line break
URL = re.compile(r"https?://[^\s)>\]`]+")
DNS_NAME = re.compile(r"[\w<>{}-]+(?:\.[\w<>{}-]+)*\.svc(?:\.[\w<>{}-]+)*")
VARIABLE = re.compile(r"\$?\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
BOX = "│╭╮╰╯─┃"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _render(renderable, width: int) -> str:
    console = Console(
        file=io.StringIO(), width=width, color_system=None, highlight=False, markup=False, emoji=False, soft_wrap=False
    )
    console.print(renderable, crop=False)  # as `ckaprep.cli.base.rendered` prints
    return console.file.getvalue()


def _logical_lines(printed: str) -> list[str]:
    """The lines a reader copies: box borders taken off, a line ending in ` \\` joined to the
    next (as a shell does), runs of spaces as one."""
    lines, pending = [], ""
    for line in printed.splitlines():
        line = line.strip().strip(BOX).strip()
        if line.endswith(" \\"):
            pending += line[:-2] + " "
            continue
        lines.append(" ".join((pending + line).split()))
        pending = ""
    return lines


def _code_of(command: str) -> str:
    """A shell line without its trailing comment."""
    quote = None
    for i, char in enumerate(command):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or command[i - 1] == " "):
            return command[:i].strip()
    return command.strip()


def _copyables(markdown: str) -> tuple[list[str], list[list[str]]]:
    """What a reader copies from Markdown: single-line pieces (commands, code spans, URLs, DNS
    and variable names), and the code blocks that are not shell, as lines."""
    pieces, blocks = [], []
    for language, body in FENCE.findall(markdown):
        if language in SHELL:
            joined = re.sub(r"\\\n\s*", " ", body)
            pieces += [_code_of(line) for line in joined.splitlines()]
        else:
            blocks.append(body.rstrip("\n").splitlines())
    prose = FENCE.sub("", markdown)
    spans = CODE_SPAN.findall(prose)
    pieces += spans
    prose = CODE_SPAN.sub(" ", prose)
    pieces += URL.findall(prose) + DNS_NAME.findall(prose) + VARIABLE.findall(prose)
    return [" ".join(p.split()) for p in pieces if p.strip()], blocks


def _parsed(lines: list[str]):
    try:
        return YAML(typ="safe", pure=True).load("\n".join(lines))
    except Exception as exc:  # noqa: BLE001 (any parse error is the failure this reports)
        return f"does not parse: {exc}"


def _broken(markdown: str, printed: str) -> list[str]:
    """Every copied piece that is not whole on one line of what was printed."""
    logical = _logical_lines(printed)
    pieces, blocks = _copyables(markdown)
    problems = [f"broken: {piece!r}" for piece in pieces if not any(piece in line for line in logical)]
    raw = [line.rstrip() for line in printed.splitlines()]
    for block in blocks:
        for line in block:
            if line.strip() and not any(line.strip() in printed_line for printed_line in raw):
                problems.append(f"code line broken: {line!r}")
        source = _parsed(block)
        if isinstance(source, (dict, list)):  # YAML: what is copied from the screen must parse to it
            problems += _yaml_problems(block, source, raw)
    return problems


def _yaml_problems(block: list[str], source, raw: list[str]) -> list[str]:
    """A reader copies the block down to the blank line that ends it: whatever the layout
    added (a comment wrapped onto a line of its own) is copied too."""
    first = block[0].strip()
    starts = [i for i, line in enumerate(raw) if line.strip() == first]
    for start in starts:
        end = start + len(block)
        while end < len(raw) and raw[end].strip():
            end += 1
        copied = raw[start:end]
        indent = min(len(line) - len(line.lstrip()) for line in copied if line.strip())
        if _parsed([line[indent:] for line in copied]) == source:
            return []
    return [f"copied YAML does not parse as written: {first!r}..."]


def _solution_markdown(solution: dict) -> str:
    return f"```bash\n{solution['kubectl'].strip()}\n```\n\n```yaml\n{solution['yaml'].strip()}\n```\n"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_topic_notes_break_nothing_a_reader_copies(topic, width):
    body = TOPICS[topic].body
    assert _broken(body, _render(topic_view(body, ""), width)) == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("exercise_id", sorted(CATALOGUE))
def test_solutions_hints_and_personal_panels_break_nothing_a_reader_copies(exercise_id, width):
    exercise = CATALOGUE[exercise_id]
    attempt = plan_attempt(exercise, seed=3, now=NOW)
    solution = exercise.solution_for(attempt.params)
    problems = _broken(_solution_markdown(solution), _render_group(solution_parts(solution), width))
    hints = exercise.render(exercise.hints, attempt.params)
    problems += _broken("\n\n".join(hints), _render(hint_view(hints, len(hints)), width))
    for topic in TOPICS.values():
        note = personal_note(topic, attempt)
        if note:
            problems += [f"{topic.id}: {p}" for p in _broken(note, _render(topic_view("", note), width))]
    assert problems == []


def _render_group(parts: list, width: int) -> str:
    from rich.console import Group

    return _render(Group(*parts), width)


def test_this_test_sees_a_broken_url_a_folded_name_and_yaml_that_no_longer_parses():
    markdown = (
        "See https://kubernetes.io/docs/concepts/services-networking/service/ and `web.shop.svc.cluster.local`.\n\n"
        "```yaml\nmetadata:\n  name: web   # a comment\n```\n"
    )
    whole = "See https://kubernetes.io/docs/concepts/services-networking/service/ and\nweb.shop.svc.cluster.local.\n\nmetadata:\n  name: web   # a comment\n"
    assert _broken(markdown, whole) == []
    split_url = whole.replace("services-networking/", "services-networking/\n")
    folded_name = whole.replace("shop.svc", "shop.s\nvc")
    wrapped_comment = whole.replace("# a comment", "# a\ncomment")
    for printed in (split_url, folded_name, wrapped_comment):
        assert _broken(markdown, printed), printed
    assert any("YAML" in p for p in _broken(markdown, wrapped_comment))
