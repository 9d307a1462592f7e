"""A class report as one self-contained HTML page: a table of learners × exercises coloured as a
heat map, the checks failed most often, and a bar per topic. No scripts, fonts or images are
fetched: the page is the file."""

from __future__ import annotations

from datetime import datetime
from html import escape


def _heat(score: float) -> str:
    """Red at 0%, amber at 50%, green at 100%."""
    hue = max(0.0, min(100.0, float(score))) * 1.2
    return f"hsl({hue:.0f}, 70%, 78%)"


def _time(seconds) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; background: #fff; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bbb; padding: 0.35em 0.7em; text-align: center; }
th.learner, td.learner { text-align: left; }
td.cell { min-width: 5em; font-weight: 600; }
td.cell small { display: block; font-weight: 400; color: #444; }
td.empty { background: #f2f2f2; color: #999; }
.bar { display: flex; align-items: center; margin: 0.3em 0; }
.bar .name { width: 12em; }
.bar .track { width: 24em; height: 1.1em; background: #eee; border: 1px solid #ccc; }
.bar .fill { height: 100%; }
.bar .value { margin-left: 0.6em; }
p.note { color: #555; font-size: 0.9em; }
"""


def _working(learners: list[dict]) -> str:
    """Who works on what now, longest first: the first has been stuck longest."""
    busy = [row for row in learners if row.get("current")]
    if not busy:
        return '<p id="working">nobody has an exercise open</p>'
    busy.sort(key=lambda row: -(row.get("current_elapsed_s") or 0))
    items = []
    for index, row in enumerate(busy):
        failed = ", ".join(row.get("current_failed") or []) or "not graded yet, or nothing failed"
        flag = ' <strong class="stuck">stuck longest</strong>' if index == 0 and len(busy) > 1 else ""
        items.append(
            f'<li class="working" data-seat="{escape(row["seat"])}">{escape(row["seat"])} '
            f"{escape(row.get('learner') or '')}: {escape(row['current'])} for "
            f"{escape(_time(row.get('current_elapsed_s')) or '?')}; failing: {escape(failed)}{flag}</li>"
        )
    problems = "".join(
        f'<li class="problem">{escape(row["seat"])}: {escape(row["problem"])}</li>'
        for row in learners
        if row.get("problem")
    )
    return f'<ul id="working">{"".join(items)}{problems}</ul>'


def report_html(report: dict, now: datetime) -> str:
    exercises = report["exercises"]
    head = "".join(f'<th title="{escape(e["title"])}">{escape(e["id"])}</th>' for e in exercises)
    with_exam = any(learner.get("exam") for learner in report["learners"])
    head += "<th>exam</th>" if with_exam else ""
    rows = []
    for learner in report["learners"]:
        cells = []
        for exercise in exercises:
            cell = learner["exercises"].get(exercise["id"])
            if cell is None:
                cells.append('<td class="cell empty">–</td>')
                continue
            mark = "" if cell["graded_by"] == "trainer" else "*"
            cells.append(
                f'<td class="cell" data-score="{cell["score"]}" style="background:{_heat(cell["score"])}">'
                f"{cell['score']:.0f}%{mark}<small>{escape(_time(cell['elapsed_s']))}</small></td>"
            )
        average = "–" if learner["average"] is None else f"{learner['average']:.0f}%"
        if with_exam:
            exam = learner.get("exam")
            cells.append(
                '<td class="cell empty">–</td>'
                if exam is None
                else f'<td class="cell exam" data-score="{exam["score"]}" style="background:{_heat(exam["score"])}">'
                f"{exam['score']:.0f}% {escape(exam.get('verdict') or '')}"
                f"<small>{escape(_time(exam.get('elapsed_s')))}</small></td>"
            )
        rows.append(
            f'<tr class="learner-row" data-seat="{escape(learner["seat"])}">'
            f'<td class="learner">{escape(learner["seat"])}</td><td class="learner">{escape(learner["learner"] or "")}</td>'
            f"{''.join(cells)}<td>{average}</td></tr>"
        )
    failed = (
        "".join(
            f"<li>{escape(item['exercise'])} / <code>{escape(item['check'])}</code> {escape(item['title'])}: "
            f"{item['seats']} seat(s)</li>"
            for item in report["most_failed"]
        )
        or "<li>none</li>"
    )
    if report.get("most_failed_more"):
        failed += f"<li>and {report['most_failed_more']} more</li>"
    working = _working(report["learners"])
    bars = (
        "".join(
            f'<div class="bar topic" data-topic="{escape(t["topic"])}"><span class="name">{escape(t["topic"])}</span>'
            f'<span class="track"><span class="fill" style="display:block;width:{t["mastery"]:.0f}%;'
            f'background:{_heat(t["mastery"])}"></span></span><span class="value">{t["mastery"]:.0f}%</span></div>'
            for t in report["topics"]
        )
        or "<p>no results yet</p>"
    )
    title = f"Class {report['class']}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="note">Report of {escape(now.strftime("%Y-%m-%d %H:%M UTC"))}. Each cell: score and time used;
* marks a learner's own check the trainer has not graded: it counts in no average, list or mastery.</p>
<table id="scores">
<thead><tr><th class="learner">seat</th><th class="learner">learner</th>{head}<th>average</th></tr></thead>
<tbody>
{"".join(rows)}
</tbody></table>
<h2>Working now</h2>
{working}
<h2>Checks failed most often</h2>
<ul id="failed">{failed}</ul>
<h2>Topic mastery</h2>
<div id="topics">{bars}</div>
</body></html>
"""
