"""`ckaprep task`: the task again, as `start` printed it, with the time used; `status` in minutes."""

import json
from datetime import timedelta

import pytest

from ckaprep.exit_status import ExitStatus

pytestmark = pytest.mark.usefixtures("clock")  # every test on the same wall clock


def test_task_prints_what_start_printed_and_the_time_used(run, clock):
    started = run("start", "clusterip-create", "--seed", "5")
    assert started.exit_code == 0, started.output
    clock[0] += timedelta(minutes=3, seconds=5)
    again = run("task")
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(started.stdout)
    assert again.stdout[len(started.stdout) :].strip() == "Time used: 3m05s of 6 min suggested"
    clock[0] += timedelta(minutes=5)
    assert "8m05s of 6 min suggested (2m05s over)" in run("task").stdout


def test_task_json_is_start_json_with_the_time(run, clock):
    started = json.loads(run("start", "clusterip-create", "--seed", "5", "--json").stdout)
    clock[0] += timedelta(seconds=90)
    again = json.loads(run("task", "--json").stdout)
    assert again == started | {"elapsed_s": 90.0, "minutes": 6}


def test_task_without_an_exercise_is_a_state_error(run):
    result = run("task")
    assert result.exit_code == ExitStatus.USAGE and "no active exercise" in result.stderr
    run("start", "clusterip-create", "--seed", "5")
    numbered = run("task", "2")
    assert numbered.exit_code == ExitStatus.USAGE and "exam" in numbered.stderr


def test_during_an_exam_task_is_exam_task(run, env):
    assert run("exam", "start", "--tasks", "3", "--seed", "2").exit_code == 0
    for args in (["2"], ["2", "--json"]):
        assert run("task", *args).stdout == run("exam", "task", *args).stdout
    assert run("task").stdout == run("exam", "task", "2").stdout  # the one last shown
    assert run("task", "4").exit_code == ExitStatus.USAGE


def test_status_shows_minutes_against_the_suggestion_not_a_timestamp(run, clock):
    run("start", "clusterip-create", "--seed", "5")
    clock[0] += timedelta(minutes=2)
    status = run("status")
    assert status.exit_code == 0
    assert "time used:  2m00s of 6 min suggested" in status.stdout
    assert "2026-" not in status.stdout
    assert json.loads(run("status", "--json").stdout)["minutes"] == 6
