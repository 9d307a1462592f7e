"""History file, progress aggregation and the Leitner rule of `ckaprep next`."""

import json
from datetime import timedelta

from typer.testing import CliRunner

from ckaprep.catalogue.loading import load_catalogue
from ckaprep.cli.application import app
from ckaprep.exit_status import ExitStatus
from ckaprep.practice.history import CHECK, EXAM, EXAM_TASK, History, Record
from ckaprep.practice.progress import exercise_progress, next_exercise, summarize, topic_mastery
from tests.helpers import NOW

CATALOGUE = load_catalogue()


def rec(exercise, day, score, attempt, *, kind=CHECK, hints=0, solution=False, elapsed=60.0, hour=0):
    when = NOW + timedelta(days=day, hours=hour)
    return Record(
        kind=kind,
        time=when.isoformat(),
        score=score,
        exercise=exercise,
        attempt=attempt,
        seed=1,
        hints=hints,
        solution_shown=solution,
        elapsed_s=elapsed,
        passed=score >= 100,
    )


# -- the file -----------------------------------------------------------------------------
def test_records_round_trip(tmp_path):
    history = History(tmp_path / "history.jsonl")
    history.append(rec("env-vars", 0, 40.0, "a1"), rec("env-vars", 0, 100.0, "a1", hour=1))
    records, warnings = history.read()
    assert warnings == [] and [r.score for r in records] == [40.0, 100.0]


def test_a_corrupt_line_is_skipped_with_a_warning_and_costs_nothing_else(tmp_path):
    path = tmp_path / "history.jsonl"
    history = History(path)
    history.append(rec("env-vars", 0, 40.0, "a1"))
    with open(path, "a") as handle:
        handle.write('{"kind": "check", "score": "high"}\n')  # parses, wrong types
        handle.write('{"kind": "check", "time": "yesterday", "score": 5, "exercise": "env-vars"}\n')
        handle.write("not json at all\n")
        handle.write('{"kind": "check", "time": "2026-01-0')  # truncated by a crash, no newline
    history.append(rec("dns-cross-namespace", 1, 100.0, "b1"))
    records, warnings = history.read()
    assert [r.exercise for r in records] == ["env-vars", "dns-cross-namespace"]
    assert len(warnings) == 4
    assert all(str(path) in w and "skipped" in w for w in warnings)
    assert [w.split(" line ")[1].split()[0] for w in warnings] == ["2", "3", "4", "5"]


def test_progress_warns_about_a_corrupt_line_and_still_reports(env):
    path = env.state.history_path
    path.parent.mkdir(parents=True)
    History(path).append(rec("env-vars", 0, 100.0, "a1"))
    with open(path, "a") as handle:
        handle.write("{oops\n")
    result = CliRunner().invoke(app, ["progress", "--json"], obj=env)
    assert result.exit_code == 0
    assert "line 2 is not valid JSON; skipped" in result.stderr
    env_vars = next(e for e in json.loads(result.stdout)["exercises"] if e["exercise"] == "env-vars")
    assert env_vars["attempts"] == 1 and env_vars["best"] == 100.0


# -- aggregation --------------------------------------------------------------------------
def test_per_exercise_and_per_topic_figures():
    records = [
        rec("env-vars", 0, 20.0, "a1", hints=1),
        rec("env-vars", 0, 100.0, "a1", hints=2, elapsed=400.0, hour=1),
        rec("env-vars", 3, 60.0, "a2", hints=0),
        rec("dns-cross-namespace", 1, 50.0, "b1", kind=EXAM_TASK),
    ]
    summary = summarize(records, CATALOGUE)
    env_vars = next(e for e in summary["exercises"] if e["exercise"] == "env-vars")
    assert (env_vars["attempts"], env_vars["best"], env_vars["last"]) == (2, 100.0, 60.0)
    assert env_vars["time_to_first_100_s"] == 400.0
    assert env_vars["hints"] == 2  # the most shown within each attempt, summed over attempts
    untried = next(e for e in summary["exercises"] if e["exercise"] == "clusterip-create")
    assert untried["attempts"] == 0 and untried["best"] is None
    # env-vars is the only exercise of its topic: mastery is its latest attempt's best score.
    assert summary["topics"]["env-vars"]["mastery"] == 60.0
    assert summary["topics"]["env-vars"]["last_practised"] == (NOW + timedelta(days=3)).isoformat()
    dns = [e for e in CATALOGUE.values() if "dns" in e.topics]
    assert summary["topics"]["dns"]["mastery"] == round(50.0 / len(dns), 1)


def test_exam_totals_over_time():
    records = [
        Record(kind=EXAM, time=(NOW + timedelta(days=d)).isoformat(), score=s, exam=f"e{d}", passed=s >= 66)
        for d, s in ((2, 70.0), (0, 40.0))
    ]
    exams = summarize(records, CATALOGUE)["exams"]
    assert [(e["score"], e["passed"]) for e in exams] == [(40.0, False), (70.0, True)]


# -- Leitner ------------------------------------------------------------------------------
def test_boxes_move_up_on_success_and_back_to_one_on_failure():
    records = [
        rec("env-vars", 0, 100.0, "a1"),
        rec("env-vars", 2, 100.0, "a2"),
        rec("env-vars", 5, 100.0, "a3", solution=True),  # solved with the solution shown: no credit
        rec("clusterip-create", 0, 100.0, "c1"),
        rec("clusterip-create", 1, 100.0, "c2"),
    ]
    progress = exercise_progress(records, CATALOGUE)
    assert progress["env-vars"].box == 1
    assert progress["clusterip-create"].box == 3
    assert progress["dns-cross-namespace"].box == 0


def test_next_prefers_the_weakest_topic_and_says_why():
    everything_solved = [rec(ex, 0, 100.0, f"{ex}-1") for ex in CATALOGUE]
    records = everything_solved + [rec("env-vars", 1, 30.0, "e2"), rec("env-vars", 2, 45.0, "e3")]
    suggestion = next_exercise(records, CATALOGUE, NOW + timedelta(days=8))
    assert suggestion.exercise == "env-vars"
    assert suggestion.reason == (
        "env-vars: failed twice, last score 45%, not practised for 6 days, topic env-vars at 45% mastery"
    )


def test_new_exercises_come_before_mastered_ones():
    solved = sorted(CATALOGUE)[:-1]
    records = [rec(ex, 0, 100.0, f"{ex}-1") for ex in solved]
    suggestion = next_exercise(records, CATALOGUE, NOW + timedelta(days=30))
    assert suggestion.exercise == sorted(CATALOGUE)[-1]
    assert suggestion.reason.split(": ")[1].startswith("new, never practised")


def test_a_failed_exercise_comes_before_a_new_one_of_an_equally_weak_topic():
    catalogue = {k: CATALOGUE[k] for k in ("named-targetport", "multi-port-named")}  # both named-ports
    records = [rec("named-targetport", 0, 0.0, "n1")]
    suggestion = next_exercise(records, catalogue, NOW + timedelta(hours=2))
    assert suggestion.exercise == "named-targetport"
    assert "failed once" in suggestion.reason


def test_nothing_due_names_what_comes_up_soonest():
    records = [rec(ex, 0, 100.0, f"{ex}-1") for ex in CATALOGUE]
    records += [rec("dns-cross-namespace", 0, 100.0, "d2", hour=5)]  # box 3: due after 3 days
    suggestion = next_exercise(records, CATALOGUE, NOW + timedelta(hours=12))
    assert not suggestion.due
    assert suggestion.exercise != "dns-cross-namespace"
    assert "nothing is due" in suggestion.reason


def test_topic_mastery_counts_untried_exercises_as_zero():
    progress = exercise_progress([], CATALOGUE)
    assert all(item["mastery"] == 0 for item in topic_mastery(progress, CATALOGUE).values())


# -- the commands -------------------------------------------------------------------------
def test_check_appends_to_the_history_and_next_uses_it(run, env):
    env.clock.wall = [NOW]
    assert run("start", "env-vars", "--seed", "3").exit_code == 0
    run("hint")
    assert run("check", "--wait", "0").exit_code == ExitStatus.CHECKS_FAILED
    records, _ = History(env.state.history_path).read()
    assert len(records) == 1
    record = records[0]
    assert (record.kind, record.exercise, record.seed, record.hints) == (CHECK, "env-vars", 3, 1)
    assert record.attempt == env.state.load().id and record.failed and record.score < 100
    progress = json.loads(run("progress", "--json").stdout)
    assert next(e for e in progress["exercises"] if e["exercise"] == "env-vars")["attempts"] == 1
    suggestion = json.loads(run("next", "--json").stdout)
    assert set(suggestion) == {"exercise", "reason", "box", "due"}
    table = run("progress")
    assert table.exit_code == 0 and "env-vars" in table.stdout


def test_progress_chart_shows_exams_against_the_pass_line(run, env):
    History(env.state.history_path).append(
        Record(kind=EXAM, time=NOW.isoformat(), score=72.5, exam="e1", passed=True),
        Record(kind=EXAM, time=(NOW + timedelta(days=1)).isoformat(), score=30.0, exam="e2"),
    )
    env.clock.wall = [NOW + timedelta(days=2)]
    result = run("progress")
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if "PASS" in line or "FAIL" in line]
    assert len(lines) == 2 and "PASS" in lines[0] and "FAIL" in lines[1]
    assert lines[0].index("│") == lines[1].index("│")  # the 66% line is in the same column


def test_progress_reset_asks_first(run, env, monkeypatch):
    History(env.state.history_path).append(rec("env-vars", 0, 10.0, "a"))
    no_terminal = run("progress", "--reset")  # nobody to ask: a one-line usage error, not "interrupted"
    assert no_terminal.exit_code == 2 and env.state.history_path.exists()
    assert no_terminal.stderr.strip() == (
        "error: progress --reset asks before deleting the history; without a terminal, add --yes"
    )
    monkeypatch.setattr("ckaprep.cli.study.stdin_is_terminal", lambda: True)
    declined = run("progress", "--reset", input="n\n")
    assert declined.exit_code == 0 and "history kept" in declined.stdout and env.state.history_path.exists()
    assert run("progress", "--reset", "--yes").exit_code == 0
    assert not env.state.history_path.exists()


def test_start_next_starts_the_suggested_exercise(run, env):
    env.clock.wall = [NOW]
    History(env.state.history_path).append(
        *[rec(ex, 0, 100.0, f"{ex}-1") for ex in CATALOGUE if ex != "dns-cross-namespace"]
    )
    started = run("start", "--next", "--json")
    assert started.exit_code == 0, started.output
    assert json.loads(started.stdout)["id"] == "dns-cross-namespace"
    assert "next: dns-cross-namespace: new" in started.stderr
    assert run("start").exit_code == ExitStatus.USAGE
    assert run("start", "env-vars", "--next").exit_code == ExitStatus.USAGE


# -- the study path -------------------------------------------------------------------------
def test_every_built_in_exercise_is_on_the_study_path_once():
    from ckaprep.catalogue.study_path import PATH, STAGES

    assert sorted(PATH) == sorted(CATALOGUE) and len(PATH) == len(set(PATH))
    assert [stage for stage, _ in STAGES] == ["basics", "advanced", "troubleshooting"]


def test_next_on_a_fresh_history_starts_the_study_path_and_walks_it(run, env):
    from ckaprep.catalogue.study_path import PATH

    env.clock.wall = [NOW]
    suggestion = json.loads(run("next", "--json").stdout)
    assert suggestion["exercise"] == PATH[0] == "clusterip-create"
    assert "step 1 of 24 of the study path (basics)" in suggestion["reason"]
    started = run("start", "--next", "--json")
    assert json.loads(started.stdout)["id"] == "clusterip-create", started.output
    walked = [rec("clusterip-create", 0, 100.0, "c1")]
    assert next_exercise(walked, CATALOGUE, NOW + timedelta(hours=1)).exercise == "multi-port-named"  # topic first


def test_list_shows_the_study_path(run):
    from ckaprep.catalogue.study_path import PATH

    listed = json.loads(run("list", "--path", "--json").stdout)
    assert [e["id"] for e in listed] == list(PATH)
    assert [(e["stage"], e["step"]) for e in listed][:2] == [("basics", 1), ("basics", 2)]
    assert listed[-1]["stage"] == "troubleshooting"
    shown = run("list", "--path").stdout
    lines = [line.split("│")[1].strip() for line in shown.splitlines() if line.startswith("│ ") and "│" in line[1:]]
    ids = [word for word in lines if word in CATALOGUE or word in ("basics", "advanced", "troubleshooting")]
    assert ids == ["basics", *PATH[:7], "advanced", *PATH[7:21], "troubleshooting", *PATH[21:]]
