"""The trainer's tables: seats, status, a class exam, grades and the report, for the terminal.

Every column folds instead of cutting, so a long learner name, namespace or kubeconfig path is
shown in full at any width; whatever came from a seat is shown with control characters escaped.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ckaprep.errors import one_line


def _table(*columns: str) -> Table:
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def minutes(seconds) -> str:
    """`4:07` as a clock reads; from an hour on, as everywhere else (`1h35m07s`)."""
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds >= 3600:
        from ckaprep.views.render import minutes_and_seconds

        return minutes_and_seconds(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def score(value) -> str:
    return "-" if value is None else f"{value:.0f}%"


def name(learner: str | None) -> Text:
    """A learner's name as text, never as terminal codes."""
    return Text(one_line(learner) if learner else "-")


def seats_table(created) -> Table:
    table = _table("seat", "learner", "namespaces", "kubeconfig", "token expires")
    for c in created:
        table.add_row(
            c.seat.id,
            name(c.seat.learner),
            ", ".join(c.seat.namespaces),
            Text(one_line(c.kubeconfig)),
            c.expires or "-",
        )
    return table


def status_table(rows: list[dict]) -> Table:
    table = _table("seat", "learner", "exercise", "exam", "time", "last score")
    for row in rows:
        by = f" ({row['last_score_by']})" if row["last_score_by"] == "learner" else ""
        table.add_row(
            row["seat"],
            name(row["learner"]),
            Text(one_line(row["exercise"] or "-")),
            row["exam"] or "-",
            minutes(row["elapsed_s"]),
            score(row["last_score"]) + by,
        )
    return table


def class_exam_table(started: dict) -> Table:
    table = _table("seat", "learner", "tasks", "minutes")
    for seat in started["seats"]:
        table.add_row(seat["seat"], name(seat["learner"]), ", ".join(seat["tasks"]), str(seat["minutes"]))
    return table


def grades_table(result: dict) -> Table:
    table = _table("seat", "learner", "exercise", "score", "time", "failed checks")
    for seat in result["seats"]:
        if seat["score"] is None:
            table.add_row(
                seat["seat"],
                name(seat["learner"]),
                Text(one_line(seat["exercise"] or "-")),
                "-",
                "-",
                Text(one_line(seat["problem"])),
            )
        elif seat.get("exam"):  # a class exam: each task's score, then the verdict
            tasks = ", ".join(f"{t['number']}. {t['exercise']} {score(t['score'])}" for t in seat["tasks"])
            table.add_row(
                seat["seat"],
                name(seat["learner"]),
                Text(f"exam: {tasks}"),
                f"{score(seat['score'])} {seat['verdict']}",
                minutes(seat.get("elapsed_s")),
                Text(", ".join(seat["failed"]) or "-"),
            )
        else:
            table.add_row(
                seat["seat"],
                name(seat["learner"]),
                seat["exercise"],
                score(seat["score"]),
                minutes(seat.get("elapsed_s")),
                Text(", ".join(seat["failed"]) or "-"),
            )
    return table


def report_view(report: dict) -> Group:
    exercises = [e["id"] for e in report["exercises"]]
    table = _table("seat", "learner", *exercises, "average")
    own = False
    for row in report["learners"]:
        cells = []
        for cell in row["exercises"].values():
            own = own or bool(cell and cell["graded_by"] == "learner")
            cells.append(score(cell["score"]) + ("*" if cell["graded_by"] == "learner" else "") if cell else "-")
        table.add_row(row["seat"], name(row["learner"]), *cells, score(row["average"]))
    parts: list = [table]
    if own:
        parts.append(
            Text("* the learner's own check, not graded by the trainer: counted in no average or mastery", style="dim")
        )
    busy = sorted((r for r in report["learners"] if r.get("current")), key=lambda r: -(r.get("current_elapsed_s") or 0))
    for index, row in enumerate(busy):
        failing = ", ".join(row.get("current_failed") or []) or "nothing graded failing"
        stuck = " (stuck longest)" if index == 0 and len(busy) > 1 else ""
        parts.append(
            Text(
                f"{row['seat']} works on {row['current']} for {minutes(row.get('current_elapsed_s'))}: {failing}{stuck}"
            )
        )
    for item in report["most_failed"]:
        parts.append(Text(f"failed by {item['seats']} seat(s): {item['exercise']} / {item['check']} {item['title']}"))
    if report.get("most_failed_more"):
        parts.append(Text(f"and {report['most_failed_more']} more failed check(s) (see --json)"))
    for topic in report["topics"]:
        parts.append(Text(f"topic {topic['topic']}: {topic['mastery']:.0f}% mastery over {topic['results']} result(s)"))
    return Group(*parts)
