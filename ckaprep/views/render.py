"""Terminal presentation with rich. Only the CLI imports this.

Text from exercise files, the state file or the cluster goes in as `Text`, never as a
string rich would read as markup.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ckaprep.grading.report import FAIL, PASS, Report

if TYPE_CHECKING:  # the catalogue and state are the callers' business; `list` stays light
    from ckaprep.attempts import Attempt
    from ckaprep.catalogue.exercise import Exercise

STATUS_STYLE = {PASS: ("PASS", "green"), FAIL: ("FAIL", "red"), "error": ("ERROR", "yellow")}


def minutes_and_seconds(seconds: float) -> str:
    """`4m07s`; from an hour on, `1h35m07s` (not `95m07s`)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours}h{rest // 60:02d}m{rest % 60:02d}s"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def time_used(elapsed_s: float, minutes: int) -> str:
    """The time used against the suggested minutes, as the learner reads a clock."""
    over = elapsed_s - minutes * 60
    extra = f" ({minutes_and_seconds(over)} over)" if over > 0 else ""
    return f"{minutes_and_seconds(elapsed_s)} of {minutes} min suggested{extra}"


class hint_view:  # noqa: N801 (used as the function it was)
    """Each hint wrapped under its own column, as Markdown (no backticks shown); a command in a
    hint goes on a line of its own, broken only with ` \\` where a paste still works, and a word
    longer than the column runs past it, whole (a table cell would cut it)."""

    def __init__(self, hints: list[str], total: int):
        self.hints, self.total = hints, total

    def __rich_console__(self, console, options):
        from rich.segment import Segment
        from rich.style import Style

        from ckaprep.views.wrapping import commands_apart, literal_angles, notes

        for number, text in enumerate(self.hints, start=1):
            label = f"Hint {number}/{self.total}: "
            width = max(20, options.max_width - len(label))
            lines = list(
                Segment.split_lines(
                    console.render(notes(commands_apart(literal_angles(text))), options.update_width(width))
                )
            )
            while lines and not "".join(segment.text for segment in lines[-1]).strip():
                lines.pop()  # the blank line Markdown ends a paragraph with
            for index, line in enumerate(lines):
                yield Segment(label, Style(bold=True)) if index == 0 else Segment(" " * len(label))
                yield from line
                yield Segment.line()


def topic_list(topics) -> Table:
    """Topic names, each summary wrapped under its own column."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    for topic in topics:
        grid.add_row(Text(topic.id), Text(topic.summary))
    return grid


class catalogue_table:  # noqa: N801 (used as the function it was)
    """The id, then the title with difficulty, suggested minutes and topics under it: the title
    gets the width the id leaves, at any terminal width. When an id is too long to leave the
    titles room (ids may have 63 characters), the ids are not a column: each exercise is its
    id, whole, and under it its title."""

    TITLES_AT_LEAST = 30  # columns

    def __init__(self, exercises: list[Exercise], stages: dict[str, str] | None = None):
        self.exercises = exercises
        self.stages = stages  # exercise id -> stage of the study path, to show it (in this order)

    def __rich_console__(self, console, options):
        longest = max((len(ex.id) for ex in self.exercises), default=0)
        title = "ckaprep exercises" + (": the study path" if self.stages else "")
        if longest + 7 + self.TITLES_AT_LEAST <= options.max_width:  # 7: the table's borders and padding
            table = Table(title=title, title_justify="left")
            table.add_column("id", no_wrap=True)
            table.add_column("exercise", overflow="fold")
            for ex, stage in self._with_stages():
                if stage:
                    if table.row_count:
                        table.add_section()
                    table.add_row(Text(stage, style="bold underline"), "")
                table.add_row(Text(ex.id), self._described(ex))
            yield table
            return
        yield Text(title, style="italic")
        for ex, stage in self._with_stages():
            if stage:
                yield Text.assemble("\n", (stage, "bold underline"))
            yield Text("")
            yield Text(ex.id, style="bold", no_wrap=True, overflow="ignore")  # whole, even past the edge
            yield Text.assemble("  ", ex.title)
            yield Text.assemble("  ", self._about(ex))

    def _with_stages(self):
        """Each exercise, with the stage of the path it begins (or None)."""
        shown = None
        for ex in self.exercises:
            stage = (self.stages or {}).get(ex.id)
            yield ex, (stage if self.stages and stage != shown else None)
            shown = stage

    @staticmethod
    def _about(ex: Exercise) -> Text:
        return Text(f"{ex.difficulty} · {ex.minutes} min · {', '.join(ex.topics)}", style="dim")

    def _described(self, ex: Exercise) -> Text:
        return Text.assemble(Text(ex.title, style="bold"), "\n", self._about(ex))


def task_panel(exercise: Exercise, attempt: Attempt):
    namespaces = attempt.namespaces
    header = Text.assemble(
        ("Weight: ", "bold"),
        f"{exercise.weight}%   ",
        ("Suggested time: ", "bold"),
        f"{exercise.minutes} min   ",
        ("Difficulty: ", "bold"),
        exercise.difficulty,
    )
    where = Text.assemble(("Namespace: ", "bold"), ", ".join(namespaces))
    from ckaprep.views.wrapping import Boxed, ShellCommand, notes

    switch = ShellCommand(f"kubectl config set-context --current --namespace={attempt.namespace}", style="dim")

    body = notes(exercise.task_for(attempt.params))
    pages = ", ".join(f"ckaprep explain {t}" for t in exercise.topics)  # a topic is its page
    footer = Text.assemble(("When done, run: ckaprep check", "bold cyan"), "\n", (f"Study notes: {pages}", "dim"))
    return Boxed(
        Group(header, where, switch, Text(""), body, Text(""), footer),
        title=f"Task · {exercise.title}",
        subtitle=exercise.id,
    )


def _weight(check) -> str:
    return f"-{check.weight}" if check.constraint else str(check.weight)


def report_view(report: Report, elapsed_s: float, minutes: int) -> Group:
    """A table of every check, then each failed check in full: nothing is cut at 80 columns."""
    table = Table(show_lines=False, expand=True)
    table.add_column("", no_wrap=True, width=5)
    table.add_column("check", ratio=3, overflow="fold")
    table.add_column("wt", justify="right", width=3, no_wrap=True)
    table.add_column("found", ratio=2, overflow="fold")
    for check in report.checks:
        label, style = STATUS_STYLE[check.status]
        found = Text(check.found) if check.status == PASS else Text("see below", style="dim")
        table.add_row(Text(label, style=f"bold {style}"), Text(check.title), _weight(check), found)
    style = "green" if report.passed else "red"
    over = "  (over the suggested time)" if elapsed_s > minutes * 60 else ""
    summary = Text.assemble(
        ("Score: ", "bold"),
        (f"{report.score:.1f}%", f"bold {style}"),
        f"  ({report.earned}/{report.total} weight)   ",
        ("Time taken: ", "bold"),
        f"{minutes_and_seconds(elapsed_s)} of {minutes} min{over}   ",
        (f"graded in {report.grading_s:.1f}s", "dim"),
    )
    parts = [table]
    by_id = {check.id: check for check in report.checks}
    for group, _, _ in failure_causes([asdict(check) for check in report.checks]):
        failed = [by_id[check["id"]] for check in group]
        parts.append(failure_detail(failed[0]) if len(failed) == 1 else shared_failure(failed))
    if any(c.constraint for c in report.checks):
        parts.append(Text("wt -N: a constraint the task sets; it earns nothing and costs N when broken.", style="dim"))
    parts += [Text(""), summary]
    parts += [Text("note: " + note, style="dim") for note in report.notes]
    return Group(*parts)


def failure_causes(checks: list[dict]) -> list[tuple[list[dict], str, str]]:
    """The failed checks grouped by cause (what was found, and why), in their order: one
    missing Service fails every check of a task, and is said once."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for check in checks:
        if check["status"] != "pass":
            groups.setdefault((check["found"], check["message"]), []).append(check)
    return [(group, found, message) for (found, message), group in groups.items()]


def shared_failure(checks) -> Group:
    """Failed checks with one cause (what was found, and why): each named, the cause said once."""
    headings = []
    for check in checks:
        label, style = STATUS_STYLE[check.status]
        headings.append(Text.assemble((label, f"bold {style}"), " ", (check.id, "bold"), ": ", check.title))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, width=11)
    grid.add_column(overflow="fold")
    expected = {check.expected for check in checks}
    rows = [
        ("expected", expected.pop() if len(expected) == 1 else ""),
        ("found", checks[0].found),
        ("why", checks[0].message),
    ]
    rows += [("hint", hint) for hint in dict.fromkeys(check.hint for check in checks if check.hint)]
    for name, value in rows:
        if value:
            grid.add_row(
                Text(f"  {name}:", style="cyan" if name == "hint" else "bold"),
                Text(value, style="cyan" if name == "hint" else ""),
            )
    cause = Text(f"  all {len(checks)} for one cause:", style="bold")
    return Group(Text(""), *headings, cause, grid)


def failure_detail(check) -> Group:
    """One failed check in full, values wrapped under their own column."""
    label, style = STATUS_STYLE[check.status]
    heading = Text.assemble("\n", (label, f"bold {style}"), " ", (check.id, "bold"), ": ", check.title)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, width=11)
    grid.add_column(overflow="fold")
    rows = [("expected", check.expected), ("found", check.found), ("why", check.message)]
    if check.hint:
        rows.append(("hint", check.hint))
    for name, value in rows:
        if value:
            grid.add_row(
                Text(f"  {name}:", style="cyan" if name == "hint" else "bold"),
                Text(value, style="cyan" if name == "hint" else ""),
            )
    return Group(heading, grid)


def proof_table(verdicts, elapsed_s: float, not_run: int) -> Group:
    table = Table(expand=True)
    table.add_column("", no_wrap=True, width=4)
    table.add_column("exercise", no_wrap=True)
    table.add_column("proof", overflow="fold")
    table.add_column("wants", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("s", justify="right", no_wrap=True)
    for v in verdicts:
        mark = Text("ok", style="green") if v.ok else Text("DIFF", style="bold red")
        score = "" if v.score is None else f"{v.score:.1f}%"
        table.add_row(mark, v.exercise, v.proof, v.declared, score, f"{v.seconds:.0f}")
    parts = [table]
    for v in verdicts:
        if not v.ok:
            detail = Text.assemble("\n", ("DIFF", "bold red"), f" {v.exercise} {v.proof} (seed {v.seed}):")
            for problem in v.problems:
                detail.append(f"\n  - {problem}")
            parts.append(detail)
    wrong = sum(not v.ok for v in verdicts)
    summary = f"{len(verdicts) - wrong} of {len(verdicts)} proofs as declared"
    if not_run:
        summary += f"; {not_run} not run (stopped at the first difference; --keep-going runs all)"
    parts.append(
        Text(
            f"\n{summary}, in {minutes_and_seconds(elapsed_s)}",
            style="bold green" if not wrong and not not_run else "bold red",
        )
    )
    return Group(*parts)


def solution_view(exercise: Exercise, attempt: Attempt) -> Group:
    solution = exercise.solution_for(attempt.params)
    return Group(*solution_parts(solution))


def solution_parts(solution: dict) -> list:
    """The kubectl commands broken only with ` \\`, and the YAML unwrapped: both paste as printed."""
    from ckaprep.views.wrapping import ShellCommand

    return [
        Text("Imperative (kubectl)", style="bold"),
        ShellCommand(solution["kubectl"].strip(), style="cyan"),
        Text(""),
        Text("Declarative (YAML, apply with kubectl apply -f -)", style="bold"),
        *(Text(line, no_wrap=True, overflow="ignore") for line in solution["yaml"].strip().splitlines()),
    ]


def topic_view(body: str, personal: str) -> Group:
    from ckaprep.views.wrapping import Boxed, commands_apart, literal_angles, notes

    parts = [notes(body)]
    if personal:
        parts.append(Boxed(notes(commands_apart(literal_angles(personal))), title="In your current exercise"))
    return Group(*parts)


DOCTOR_STYLE = {"pass": ("PASS", "green"), "warn": ("WARN", "yellow"), "fail": ("FAIL", "red"), "skip": ("SKIP", "dim")}


def doctor_view(diagnosis) -> Group:
    """One row per finding; the fix goes on its own line under a row that needs one."""
    table = Table(title=f"ckaprep doctor: {diagnosis.server}", title_justify="left", show_lines=False)
    table.add_column("", no_wrap=True)
    table.add_column("check", overflow="fold")
    table.add_column("found", overflow="fold")  # names and URLs in full, never cut
    for finding in diagnosis.findings:
        label, style = DOCTOR_STYLE[finding.status]
        found = Text(finding.detail)
        if finding.fix and finding.status != "pass":
            found.append("\nfix: ", style="bold").append(finding.fix)
        table.add_row(Text(label, style=style), Text(finding.title), found)
    verdict = (
        Text("This cluster can run ckaprep.", style="green")
        if diagnosis.failure_status is None
        else Text("This cluster cannot run every exercise yet; see the fixes above.", style="red")
    )
    if not diagnosis.practice_clusters:
        return Group(table, verdict)
    from ckaprep.views.wrapping import ShellCommand

    parts = [table, Text("No cluster yet. Get a practice cluster with one of these, then run ckaprep doctor again:")]
    for what, command in diagnosis.practice_clusters:
        parts += [Text(""), Text(f"  {what}:", style="bold"), ShellCommand(command, style="cyan", indent="    ")]
    return Group(*parts)
