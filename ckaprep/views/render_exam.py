"""Terminal views of exams and progress, with rich. Only the CLI imports this."""

from __future__ import annotations

from datetime import datetime

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ckaprep.attempts import Exam
from ckaprep.catalogue.exercise import Exercise
from ckaprep.views.render import failure_causes, minutes_and_seconds, solution_parts
from ckaprep.views.wrapping import Boxed, ShellCommand, notes

CHART_WIDTH = 40


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")


def task_view(exam: Exam, number: int, exercise: Exercise) -> Boxed:
    attempt = exam.task(number)
    header = Text.assemble(
        ("Weight: ", "bold"),
        f"{exam.weights[number - 1]}%   ",  # as a single exercise's, and the exam's
        ("Namespace: ", "bold"),
        ", ".join(attempt.namespaces),
        ("   flagged" if number in exam.flagged else "", "yellow"),
    )
    switch = ShellCommand(f"kubectl config set-context --current --namespace={attempt.namespace}", style="dim")
    body = notes(exercise.task_for(attempt.params))
    return Boxed(Group(header, switch, Text(""), body), title=f"Task {number} · {exercise.title}")


def exam_sheet(exam: Exam, exercises: list[Exercise]) -> Group:
    mode = "practice exam (hints, solutions and check allowed)" if exam.practice else "exam"
    intro = Text.assemble(
        (f"ckaprep {mode} {exam.id}", "bold"),
        f" · {len(exam.tasks)} tasks · {exam.minutes} min · ",
        ("deadline ", "bold"),
        _when(exam.deadline),
    )
    parts = [intro, Text("")]
    parts += [task_view(exam, n, ex) for n, ex in enumerate(exercises, start=1)]
    parts.append(
        Text(
            "See a task again: ckaprep exam task N · time left: ckaprep exam status · when done: ckaprep exam submit",
            style="bold cyan",
        )
    )
    return Group(*parts)


def status_view(exam: Exam, exercises: list[Exercise], now: datetime) -> Group:
    if exam.submitted:
        result = exam.result or {}
        head = Text.assemble(
            (f"exam {exam.id} submitted ", "bold"),
            _when(exam.submitted_at),
            " · score ",
            (f"{result.get('score', 0):.1f}% {result.get('verdict', '')}", "bold"),
            " · details: ckaprep exam review",
        )
    else:
        head = Text.assemble(
            (f"exam {exam.id}", "bold"),
            " · time left ",
            (minutes_and_seconds(exam.time_left_s(now)), "bold"),
            f" of {exam.minutes} min · deadline {_when(exam.deadline)}",
            (" · practice" if exam.practice else "", "dim"),
        )
    table = Table(show_edge=False)
    for column in ("task", "title", "weight", "namespace", "flagged"):
        table.add_column(column, justify="right" if column in ("task", "weight") else "left", overflow="fold")
    for number, exercise in enumerate(exercises, start=1):
        table.add_row(
            str(number),
            exercise.title,
            str(exam.weights[number - 1]),
            exam.task(number).namespace,
            "yes" if number in exam.flagged else "",
        )
    return Group(head, table)


def result_view(result: dict) -> Group:
    table = Table(show_lines=True, expand=True)
    table.add_column("task", justify="right", width=4)
    table.add_column("title", ratio=2, overflow="fold")
    table.add_column("wt", justify="right", width=3)
    table.add_column("score", justify="right", width=6)
    table.add_column("what failed, and why", ratio=4, overflow="fold")
    for task in result["tasks"]:
        failed = Text()
        if task["problem"]:
            failed.append(task["problem"], style="red")
        for checks, found, message in failure_causes(task["checks"]):
            for check in checks:
                failed.append(("\n" if failed else "") + "✗ " + check["title"], style="bold")
            failed.append(f"\n  found: {found}" if len(checks) == 1 else f"\n  all {len(checks)}, found: {found}")
            if message:
                failed.append(f"; {message}", style="italic")
        style = "green" if task["passed"] else ("yellow" if task["score"] else "red")
        table.add_row(
            str(task["number"]) + (" *" if task["flagged"] else ""),
            task["title"],
            str(task["weight"]),
            Text(f"{task['score']:.1f}%", style=style),
            failed,
        )
    topics = Table(title="by topic", title_justify="left", show_edge=False)
    topics.add_column("topic", overflow="fold")
    topics.add_column("score", justify="right")
    topics.add_column("tasks", justify="right")
    for topic in result["topics"]:
        topics.add_row(topic["topic"], f"{topic['score']:.1f}%", str(topic["tasks"]))
    verdict_style = "bold green" if result["passed"] else "bold red"
    summary = Text.assemble(
        ("Total: ", "bold"),
        (f"{result['score']:.1f}% ", verdict_style),
        (result["verdict"], verdict_style),
        f" (pass line {result['pass_line']}%)   ",
        ("Time used: ", "bold"),
        f"{minutes_and_seconds(result['time_used_s'])} of {result['minutes']} min",
    )
    parts = [table, topics, summary]
    if result["auto_submitted"]:
        parts.append(Text("The time ran out: the exam was submitted automatically.", style="yellow"))
    if result["practice"]:
        parts.append(Text("This was a practice exam: hints, solutions and checks were allowed.", style="yellow"))
    parts.append(Text("Solutions next to your answers: ckaprep exam review", style="dim"))
    return Group(*parts)


def review_view(exam: Exam, exercises: list[Exercise]) -> Group:
    parts = []
    for task, exercise, attempt in zip(exam.result["tasks"], exercises, exam.tasks):
        lines = [Text.assemble((f"score {task['score']:.1f}% of weight {task['weight']}", "bold"))]
        if task["problem"]:
            lines.append(Text(task["problem"], style="red"))
        for check in task["checks"]:
            if check["status"] != "pass":
                lines.append(Text.assemble(("✗ ", "red"), check["title"]))
                lines.append(
                    Text(
                        f"    expected: {check['expected']}\n    found: {check['found']}"
                        + (f"\n    {check['message']}" if check["message"] else "")
                    )
                )
        if task["passed"]:
            lines.append(Text("✓ every check passed", style="green"))
        lines += solution_parts(exercise.solution_for(attempt.params))
        # No frame: a solution's lines are printed whole, as they must be pasted.
        heading = Text(f"── Task {task['number']} · {exercise.title} ", style="bold")
        parts += [heading, *lines, Text("")]
    return Group(*parts)


def _bar(score: float, passed: bool) -> Text:
    filled = round(score / 100 * CHART_WIDTH)
    line_at = round(0.66 * CHART_WIDTH)
    bar = Text()
    for column in range(CHART_WIDTH + 1):
        if column == line_at:
            bar.append("│", style="bold")
        elif column < filled:
            bar.append("█", style="green" if passed else "red")
        else:
            bar.append(" ")
    return bar


def progress_view(summary: dict, now: datetime) -> Group:
    parts = []
    # An id is never split (`blue-gre` / `en`): the numbers' headers take two lines at 60 columns.
    table = Table(
        title="exercises",
        title_justify="left",
        show_edge=False,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("exercise", no_wrap=True)
    for column in ("tries", "best", "last", "first 100%", "hints", "box"):
        table.add_column(column, justify="right", min_width=max(map(len, column.split())))
    for item in summary["exercises"]:
        if not item["attempts"]:
            table.add_row(item["exercise"], "0", "", "", "", "", "new", style="dim")
            continue
        first = item["time_to_first_100_s"]
        table.add_row(
            item["exercise"],
            str(item["attempts"]),
            f"{item['best']:.0f}%",
            f"{item['last']:.0f}%",
            minutes_and_seconds(first) if first is not None else "-",
            str(item["hints"]),
            str(item["box"]),
        )
    parts.append(table)
    topics = Table(title="topics", title_justify="left", show_edge=False)
    for column in ("topic", "mastery", "last practised"):
        topics.add_column(column, justify="right" if column == "mastery" else "left", overflow="fold")
    for topic, item in summary["topics"].items():
        when = item["last_practised"]
        days = "never"
        if when:
            count = int((now - datetime.fromisoformat(when)).total_seconds() // 86400)
            days = "today" if count < 1 else f"{count} day{'s' if count > 1 else ''} ago"
        topics.add_row(topic, f"{item['mastery']:.0f}%", days)
    parts += [Text(""), topics, Text("")]
    if summary["exams"]:
        parts.append(Text("exams (│ marks the 66% pass line)", style="bold"))
        for exam in summary["exams"][-12:]:
            parts.append(
                Text.assemble(
                    _when(exam["time"]) + "  ",
                    _bar(exam["score"], exam["passed"]),
                    f" {exam['score']:5.1f}% ",
                    ("PASS", "green") if exam["passed"] else ("FAIL", "red"),
                    (" practice" if exam["practice"] else "", "dim"),
                )
            )
    else:
        parts.append(Text("no exams yet: ckaprep exam start", style="dim"))
    return Group(*parts)
