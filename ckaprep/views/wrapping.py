"""Text that stays whole at any terminal width: commands that paste as printed, and nothing
a reader copies (a URL, a line of YAML, a DNS name, a variable name) broken across lines.

Rich wraps a long line at spaces, which turns one shell command into two that fail when
pasted; it folds a word longer than the line (a URL split in two), wraps code blocks back to
column 1 (YAML that no longer parses), and cuts what is wider than a panel. Here a command is
broken only at a space outside quotes, each broken line ends in ` \\`, and a word or a line
that does not fit is printed whole (the terminal wraps it, and a copy keeps it one line).
Only the CLI imports this.
"""

from __future__ import annotations

import re
from functools import cache

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text

SHELL_LANGUAGES = {"bash", "sh", "shell", "console", "shell-session"}
CONTINUATION_INDENT = "    "


def _scan(line: str, quote: str | None) -> tuple[list[int], str | None, int]:
    """Spaces outside quotes where `line` may break, the quote still open at its end, and
    where a trailing comment starts (len(line) when there is none)."""
    breaks: list[int] = []
    escaped = False
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


# Spaces inside a code span (`kubectl get svc -A`, `web.shop.svc`) stand in as this while
# the notes are laid out, so no line is broken inside one; they are spaces again on output.
KEEP_TOGETHER = "\ue000"
MOVED = f"see{KEEP_TOGETHER}"  # a table cell printed under the table: `see [1]`


def _line_starts(plain: str, width: int) -> list[int]:
    """Where the lines of `plain` start when it is wrapped at spaces only: a word wider than
    `width` gets a line of its own and runs past the edge, whole."""
    starts, column = [], 0
    for match in re.finditer(r"\S+\s*", plain):
        word = cell_len(match.group().rstrip())
        if column and match.start() and column + word > width:
            starts.append(match.start())
            column = 0
        column += cell_len(match.group())
    return starts


class WholeWords:
    """Text wrapped at spaces, never inside a word: a URL, a DNS name or a code span wider than
    the line is printed whole and overflows it (the terminal wraps it; a copy keeps it one line)."""

    def __init__(self, text: Text):
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.text.split(allow_blank=True):
            for piece in line.divide(_line_starts(line.plain, options.max_width)):
                piece.rstrip()
                yield from piece.render(console)
                yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.text)


def uncropped_lines(console: Console, renderable, options: ConsoleOptions, style=None, pad: bool = True):
    """Like `console.render_lines`, but a line wider than the width keeps its end: containers
    (list items, panels) built on this never cut what overflows."""
    segments = console.render(renderable, options)
    if style is not None:
        segments = Segment.apply_style(segments, style)
    lines = []
    for line in Segment.split_lines(segments):
        length = Segment.get_line_length(line)
        if pad and length < options.max_width:
            line = [*line, Segment(" " * (options.max_width - length), style)]
        lines.append(line)
    return lines


class Boxed:
    """A rounded box like rich's `Panel(expand=False)`, except that a line too wide for it (a
    command that no break shortens) runs past its right edge instead of being cut."""

    def __init__(self, renderable, title: str = "", subtitle: str = ""):
        self.renderable, self.title, self.subtitle = renderable, title, subtitle

    @staticmethod
    def _rule(left: str, label: str, right: str, width: int) -> RenderResult:
        label = f" {label} " if label else ""
        before = max(0, (width - cell_len(label)) // 2)
        yield Segment(f"{left}{'─' * before}{label}{'─' * (width - before - cell_len(label))}{right}")
        yield Segment.line()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        inner = max(1, options.max_width - 4)
        title, subtitle = (label if cell_len(label) + 4 <= inner else "" for label in (self.title, self.subtitle))
        content = self.renderable
        if self.title and not title:  # a title too long for the top edge heads the content, whole
            from rich.console import Group

            content = Group(Text(self.title, style="bold"), content)
        lines = [[*line] for line in uncropped_lines(console, content, options.update_width(inner), pad=False)]
        for line in lines:  # the content's own padding up to the width is not content
            while line and not line[-1].text.strip() and not line[-1].control:
                line.pop()
        lengths = [Segment.get_line_length(line) for line in lines]
        width = max([length for length in lengths if length <= inner] + [cell_len(title) + 4, cell_len(subtitle) + 4])
        yield from self._rule("╭", title, "╮", width + 2)
        for line, length in zip(lines, lengths):
            yield Segment("│ ")
            yield from line
            if length <= width:
                yield Segment(" " * (width - length) + " │")
            yield Segment.line()
        yield from self._rule("╰", subtitle, "╯", width + 2)


def notes(markdown: str):
    """Markdown laid out so that nothing a reader copies is broken across lines: paragraphs
    and list items wrap at spaces only (a long URL or code span overflows the line), code
    blocks keep their lines whole, shell blocks are `ShellCommand`s, and a table whose cells
    cannot fit whole gives way: such a cell is printed in full under the table."""
    return _notes_class()(markdown)


def _longest_word(text: Text) -> int:
    return max((cell_len(word) for word in text.plain.split()), default=0)


def _widest_line(text: Text) -> int:
    return max((cell_len(line) for line in text.plain.splitlines()), default=0)


def fitted_widths(columns: list[list[Text]], room: int) -> list[int] | None:
    """Column widths that hold every word of every cell whole within `room` columns (each
    column at least its longest word, the rest shared by what the columns would still take),
    or None when the longest words alone do not fit."""
    least = [max(map(_longest_word, cells), default=1) or 1 for cells in columns]
    most = [max(max(map(_widest_line, cells), default=1), low) for cells, low in zip(columns, least)]
    if sum(least) > room:
        return None
    widths, spare = list(least), room - sum(least)
    wants = [high - low for high, low in zip(most, least)]
    if sum(wants) <= spare:
        return most
    for index, want in enumerate(wants):
        widths[index] += want * spare // sum(wants)
    return widths


def _columns(header: list[Text], rows: list[list[Text]]) -> list[list[Text]]:
    return [[heading, *(row[i] for row in rows if i < len(row))] for i, heading in enumerate(header)]


def _least_without(header: list[Text], rows: list[list[Text]], at: tuple[int, int]) -> int:
    """The narrowest the table's columns can be once the cell `at` (row, column) gives way."""
    r, c = at
    rows = [[Text("") if (i, j) == (r, c) else cell for j, cell in enumerate(row)] for i, row in enumerate(rows)]
    return sum(max(map(_longest_word, cells), default=1) for cells in _columns(header, rows))


@cache
def _notes_class():
    from rich import markdown as md  # markdown-it is slow to import; only some views need it
    from rich.box import SIMPLE
    from rich.table import Table

    class WrappedParagraph(md.Paragraph):
        def __rich_console__(self, console, options):
            yield WholeWords(self.text)

    class GivingWayTable(md.TableElement):
        def __rich_console__(self, console, options):
            header = [cell.content for cell in self.header.row.cells] if self.header and self.header.row else []
            rows = [[cell.content for cell in row.cells] for row in (self.body.rows if self.body else [])]
            overhead = 2 * max(1, len(header))  # SIMPLE box edges and one space between columns
            below: list[Text] = []  # the cells that give way, printed under the table, once each
            room = options.max_width - overhead
            while True:
                widths = fitted_widths(_columns(header, rows), room)
                movable = [
                    (r, c)
                    for r, row in enumerate(rows)
                    for c, cell in enumerate(row)
                    if cell.plain and not cell.plain.startswith(MOVED)
                ]
                if widths is not None or not movable:
                    break
                # the cell whose leaving makes the narrowest table, the longest of those
                r, c = min(
                    movable, key=lambda at: (_least_without(header, rows, at), -_longest_word(rows[at[0]][at[1]]))
                )
                if rows[r][c].plain not in [cell.plain for cell in below]:
                    below.append(rows[r][c])
                number = [cell.plain for cell in below].index(rows[r][c].plain) + 1
                rows[r][c] = Text(f"{MOVED}[{number}]", style="dim")
            table = Table(
                box=SIMPLE, pad_edge=False, style="markdown.table.border", show_edge=True, collapse_padding=True
            )
            for index, heading in enumerate(header):
                heading = heading.copy()
                heading.stylize("markdown.table.header")
                table.add_column(heading, width=widths[index] if widths else None, overflow="fold")
            for row in rows:
                table.add_row(*row)
            yield table
            for number, cell in enumerate(below, start=1):
                label = f"[{number}] "
                lines = uncropped_lines(
                    console, WholeWords(cell), options.update_width(options.max_width - len(label)), pad=False
                )
                for index, line in enumerate(lines):
                    yield Segment(label if index == 0 else " " * len(label), console.get_style("dim"))
                    yield from line
                    yield Segment.line()

    class CommandBlock(md.CodeBlock):
        def __rich_console__(self, console, options):
            code = str(self.text).rstrip()
            if self.lexer_name in SHELL_LANGUAGES:
                yield ShellCommand(code, style="cyan", indent=" ")
                return
            for line in code.splitlines():  # YAML and the like: a wrapped line would not parse
                yield Text(" " + line, no_wrap=True, overflow="ignore")

    class WholeListItem(md.ListItem):
        def render_bullet(self, console, options):
            lines = uncropped_lines(console, self.elements, options.update(width=options.max_width - 3), self.style)
            for index, line in enumerate(lines):
                yield Segment(" • " if index == 0 else "   ", console.get_style("markdown.item.bullet", default="none"))
                yield from line
                yield Segment.line()

        def render_number(self, console, options, number, last_number):
            number_width = len(str(last_number)) + 2
            lines = uncropped_lines(
                console, self.elements, options.update(width=options.max_width - number_width), self.style
            )
            style = console.get_style("markdown.item.number", default="none")
            for index, line in enumerate(lines):
                label = f"{number}".rjust(number_width - 1) + " " if index == 0 else " " * number_width
                yield Segment(label, style)
                yield from line
                yield Segment.line()

    class Notes(md.Markdown):
        elements = {
            **md.Markdown.elements,
            "paragraph_open": WrappedParagraph,
            "table_open": GivingWayTable,
            "fence": CommandBlock,
            "code_block": CommandBlock,
            "list_item_open": WholeListItem,
        }

        def _flatten_tokens(self, tokens):
            for token in super()._flatten_tokens(tokens):
                if token.type == "code_inline":
                    token.content = token.content.replace(" ", KEEP_TOGETHER)
                yield token

        def __rich_console__(self, console, options):
            for segment in super().__rich_console__(console, options):
                if KEEP_TOGETHER in segment.text:
                    segment = Segment(segment.text.replace(KEEP_TOGETHER, " "), segment.style, segment.control)
                yield segment

    return Notes


def literal_angles(markdown: str) -> str:
    """Text from a file as Markdown that shows `<service>` rather than reading it as HTML
    (which Markdown drops); code spans are left as they are."""
    pieces = re.split(r"(`[^`]*`)", markdown)
    return "".join(piece if index % 2 else piece.replace("<", "\\<") for index, piece in enumerate(pieces))


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
