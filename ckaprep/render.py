"""Terminal presentation with rich. Only the CLI imports this.

Text from exercise files, the state file or the cluster goes in as `Text`, never as a
string rich would read as markup.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ckaprep.catalogue import Exercise
from ckaprep.grading.report import FAIL, PASS, Report
from ckaprep.state import Attempt

STATUS_STYLE = {PASS: ("PASS", "green"), FAIL: ("FAIL", "red"), "error": ("ERROR", "yellow")}


def minutes_and_seconds(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s"


def catalogue_table(exercises: list[Exercise]) -> Table:
    table = Table(title="ckaprep exercises", title_justify="left")
    for column in ("id", "title", "difficulty", "minutes", "topics"):
        table.add_column(column, no_wrap=column in ("id", "minutes"))
    for ex in exercises:
        table.add_row(*map(Text, (ex.id, ex.title, ex.difficulty, str(ex.minutes), ", ".join(ex.topics))))
    return table


def task_panel(exercise: Exercise, attempt: Attempt) -> Panel:
    namespaces = attempt.namespaces
    header = Text.assemble(
        ("Weight: ", "bold"), f"{exercise.weight}%   ",
        ("Suggested time: ", "bold"), f"{exercise.minutes} min   ",
        ("Difficulty: ", "bold"), exercise.difficulty,
    )  # fmt: skip
    where = Text.assemble(("Namespace: ", "bold"), ", ".join(namespaces))
    switch = Text(
        f"kubectl config set-context --current --namespace={attempt.namespace}", style="dim"
    )
    body = Markdown(exercise.render(exercise.task, attempt.params))
    from ckaprep.catalogue import TOPICS

    pages = ", ".join(dict.fromkeys(f"ckaprep explain {TOPICS[t]}" for t in exercise.topics))
    footer = Text.assemble(
        ("When done, run: ckaprep check", "bold cyan"), "\n", (f"Study notes: {pages}", "dim")
    )
    return Panel(
        Group(header, where, switch, Text(""), body, Text(""), footer),
        title=Text(f"Task · {exercise.title}"),
        subtitle=Text(exercise.id),
        expand=False,
    )


def report_view(report: Report, elapsed_s: float, minutes: int) -> Group:
    table = Table(show_lines=True, expand=True)
    table.add_column("", no_wrap=True, width=5)
    table.add_column("check", ratio=2)
    table.add_column("wt", justify="right", width=3)
    table.add_column("expected", ratio=3)
    table.add_column("found", ratio=3)
    for check in report.checks:
        label, style = STATUS_STYLE[check.status]
        found = Text(check.found)
        if check.message:
            found.append("\n" + check.message, style="italic")
        if check.status != PASS and check.hint:
            found.append("\nhint: " + check.hint, style="cyan")
        table.add_row(
            Text(label, style=f"bold {style}"), Text(check.title), str(check.weight), Text(check.expected), found
        )
    earned = sum(c.weight for c in report.checks if c.status == PASS)
    total = sum(c.weight for c in report.checks)
    style = "green" if report.passed else "red"
    over = "  (over the suggested time)" if elapsed_s > minutes * 60 else ""
    summary = Text.assemble(
        ("Score: ", "bold"), (f"{report.score:.1f}%", f"bold {style}"), f"  ({earned}/{total} weight)   ",
        ("Time taken: ", "bold"), f"{minutes_and_seconds(elapsed_s)} of {minutes} min{over}   ",
        (f"graded in {report.grading_s:.1f}s", "dim"),
    )  # fmt: skip
    parts = [table, summary]
    parts += [Text("note: " + note, style="dim") for note in report.notes]
    return Group(*parts)


def solution_view(exercise: Exercise, attempt: Attempt) -> Group:
    solution = exercise.render(exercise.solution, attempt.params)
    return Group(
        Text("Imperative (kubectl)", style="bold"),
        Syntax(solution["kubectl"].strip(), "bash", word_wrap=True),
        Text(""),
        Text("Declarative (YAML, apply with kubectl apply -f -)", style="bold"),
        Syntax(solution["yaml"].strip(), "yaml"),
    )


def topic_view(body: str, personal: str) -> Group:
    parts = [Markdown(body)]
    if personal:
        parts.append(Panel(Markdown(personal), title="In your current exercise", expand=False))
    return Group(*parts)


def stderr_console() -> Console:
    return Console(stderr=True)


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
    return Group(table, verdict)
