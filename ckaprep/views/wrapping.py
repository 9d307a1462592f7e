"""Text that stays whole at any terminal width: commands that paste as printed, tables that
fold long words instead of cutting them.

Rich wraps a long line at spaces, which turns one shell command into two that fail when
pasted, and cuts a word longer than its table column with "…". Here a command is broken only
at a space outside quotes, each broken line ends in ` \\`, and a word that does not fit is
printed whole (the terminal wraps it, and a copy keeps it one line). Only the CLI imports this.
"""

from __future__ import annotations

import re
from functools import cache

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

SHELL_LANGUAGES = {"bash", "sh", "shell", "console", "shell-session"}
CONTINUATION_INDENT = "    "


def _scan(line: str, quote: str | None) -> tuple[list[int], str | None, int]:
    """Spaces outside quotes where `line` may break, the quote still open at its end, and
    where a trailing comment starts (len(line) when there is none)."""
    breaks, escaped = [], False
    for i, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote is not None:
            if char == quote:
                quote = None
        elif char == "#" and (i == 0 or line[i - 1] in " \t"):
            return breaks, None, i
        elif char in "'\"":
            quote = char
        elif char == " " and i and line[i - 1] != " ":
            breaks.append(i)
    return breaks, quote, len(line)


def break_command(line: str, width: int, quote: str | None = None) -> list[str]:
    """One shell line as lines of at most `width` columns where possible, each but the last
    ending in ` \\`. A trailing comment that does not fit goes on a line of its own above the
    command. A line that starts inside a quote, or a word too long for any line, is left whole."""
    if len(line) <= width or quote is not None:
        return [line]
    breaks, _, comment_at = _scan(line, quote)
    indent = line[: len(line) - len(line.lstrip())]
    code, comment = line[:comment_at].rstrip(), line[comment_at:]
    if comment and code:
        return [*break_command(f"{indent}{comment}", width), *break_command(code, width)]
    if comment:  # a comment line: its words go on as comment lines
        return [indent + piece for piece in _wrap_comment(comment, width - len(indent))]
    if not code or not breaks:
        return [line]
    words, start = [], 0
    for point in breaks:
        words.append(line[start:point])
        start = point + 1
    words.append(line[start:])
    continued = words[-1] == "\\"  # the line already goes on: its ` \` stays at its end
    if continued:
        words.pop()
    lines, current = [], words[0]
    for word in words[1:]:
        if not word:
            continue
        if len(current) + 1 + len(word) + 2 <= width:
            current += " " + word
        else:
            lines.append(current + " \\")
            current = indent + CONTINUATION_INDENT + word.lstrip()
    lines.append(current + " \\" if continued else current)
    return lines


def _wrap_comment(comment: str, width: int) -> list[str]:
    words, lines, current = comment.lstrip("#").split(), [], "#"
    for word in words:
        if len(current) > 1 and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = "#"
        current += " " + word
    return [*lines, current]


HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)")


class ShellCommand:
    """Shell commands, broken with ` \\` to fit the width, never cut."""

    def __init__(self, script: str, style: str = "", indent: str = ""):
        self.script, self.style, self.indent = script.strip("\n"), style, indent

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(20, options.max_width - len(self.indent))
        quote, heredoc = None, None
        for line in self.script.splitlines():
            if heredoc is not None:  # a here-document's text is data: printed as it is
                pieces, heredoc = [line], (None if line.strip() == heredoc else heredoc)
            else:
                pieces = break_command(line, width, quote)
                _, quote, comment_at = _scan(line, quote)
                opened = HEREDOC.search(line[:comment_at])
                heredoc = opened.group(1) if opened else None
            for piece in pieces:
                yield Text(self.indent + piece, style=self.style, no_wrap=True, overflow="ignore")


def notes(markdown: str):
    """Markdown whose tables fold long words rather than cut them, and whose shell code
    blocks are `ShellCommand`s."""
    return _notes_class()(markdown)


@cache
def _notes_class():
    from rich import markdown as md  # markdown-it is slow to import; only some views need it

    class FoldingTable(md.TableElement):
        def __rich_console__(self, console, options):
            for table in super().__rich_console__(console, options):
                for column in table.columns:
                    column.overflow = "fold"
                yield table

    class CommandBlock(md.CodeBlock):
        def __rich_console__(self, console, options):
            if self.lexer_name not in SHELL_LANGUAGES:
                yield from super().__rich_console__(console, options)
                return
            yield ShellCommand(str(self.text).rstrip(), style="cyan", indent=" ")

    class Notes(md.Markdown):
        elements = {**md.Markdown.elements, "table_open": FoldingTable, "fence": CommandBlock,
                    "code_block": CommandBlock}  # fmt: skip

    return Notes


def commands_apart(markdown: str) -> str:
    """Markdown whose `kubectl …` and `curl …` code spans are moved out of their sentence into a
    shell block of their own, one command a line, so that they are broken only where a paste
    still works; the sentence goes on after the block. A command named in passing (`kubectl
    expose deployment`: no option, three words at most) stays in its sentence."""
    span = re.compile(r"`((?:kubectl|curl) [^`]+)`")
    parts: list[str] = []
    for line in markdown.strip().splitlines():
        pieces = span.split(line)  # prose, command, prose, command, ..., prose
        prose, commands = "", []
        for index, piece in enumerate(pieces):
            if index % 2 and (len(piece.split()) > 3 or " -" in piece):  # a command to run
                if prose.strip():
                    parts.append(prose.strip())
                prose = ""
                commands.append(piece)
                continue
            text = f"`{piece}`" if index % 2 else piece
            if commands:
                text = text.strip().lstrip(",;").strip()
                if not text.rstrip(".").strip():  # nothing but the full stop after a command
                    continue
                parts.append("```bash\n" + "\n".join(commands) + "\n```")
                commands = []
            prose += text
        if commands:
            parts.append("```bash\n" + "\n".join(commands) + "\n```")
        if prose.strip():
            parts.append(prose.strip() if len(pieces) > 1 else line)
    return "\n\n".join(parts)
