"""Mock exams on the fake cluster, with an injected clock."""

import json
from datetime import timedelta
from fractions import Fraction

import pytest

from ckaprep.catalogue.loading import find_exercise, load_catalogue
from ckaprep.cluster.images import BUSYBOX_IMAGE
from ckaprep.cluster.labels import ATTEMPT_LABEL, EXAM_LABEL
from ckaprep.cluster.waiting import Waiter
from ckaprep.errors import UsageError
from ckaprep.exit_status import ExitStatus
from ckaprep.practice.exam import draw_exam, plan_exam, set_up_exam, verdict, weighted_total
from ckaprep.practice.history import EXAM, EXAM_TASK, History
from tests.conftest import FakeTime
from tests.helpers import NOW, apply_solution

pytestmark = pytest.mark.usefixtures("clock")  # every test on the same wall clock


def start(run, *args):
    result = run("exam", "start", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def solve(env, fake, numbers):
    exam = env.state.load_exam()
    for number in numbers:
        attempt = exam.task(number)
        apply_solution(fake, find_exercise(attempt.exercise), attempt)


# -- the draw -----------------------------------------------------------------------------
def test_the_same_seed_draws_the_same_exam():
    catalogue = load_catalogue()
    first, again = draw_exam(catalogue, seed=12, tasks=4), draw_exam(catalogue, seed=12, tasks=4)
    assert [e.id for e in first.exercises] == [e.id for e in again.exercises]
    assert first.seeds == again.seeds
    others = {tuple(e.id for e in draw_exam(catalogue, seed=s, tasks=4).exercises) for s in range(1, 30)}
    assert len(others) > 1  # the seed matters


def test_the_default_draw_covers_every_topic_with_distinct_exercises():
    catalogue = load_catalogue()
    for seed in range(20):
        draw = draw_exam(catalogue, seed=seed)
        ids = [e.id for e in draw.exercises]
        assert len(ids) == len(set(ids))
        assert {t for e in draw.exercises for t in e.topics} == {t for e in catalogue.values() for t in e.topics}
        assert draw.minutes == sum(e.minutes for e in draw.exercises)
        namespaces = [ns for e, s in zip(draw.exercises, draw.seeds) for ns in e.namespaces_for(e.choose_params(s))]
        assert len(namespaces) == len(set(namespaces))


def test_topic_restricts_the_draw_and_bad_options_are_usage_errors():
    catalogue = load_catalogue()
    draw = draw_exam(catalogue, seed=3, topics=["named-ports"], tasks=2, minutes=30)  # an alias of ports
    assert all("ports" in e.topics for e in draw.exercises) and draw.minutes == 30
    with pytest.raises(UsageError, match="no topic 'nodeport'"):
        draw_exam(catalogue, seed=3, topics=["nodeport"])
    with pytest.raises(UsageError, match="--tasks must be between 1 and"):
        draw_exam(catalogue, seed=3, tasks=len(catalogue) + 1)


# -- scoring ------------------------------------------------------------------------------
def test_weighted_total_and_the_pass_line_at_exactly_66_percent():
    exactly = weighted_total([(Fraction(1), 33), (Fraction(0), 17)])
    assert exactly == Fraction(66, 100) and verdict(exactly)
    assert not verdict(weighted_total([(Fraction(1), 65), (Fraction(0), 34)]))  # 65.66%
    # Partial credit, weighted: (1*4 + 1/2*6 + 0*2) / 12 = 7/12
    assert weighted_total([(Fraction(1), 4), (Fraction(1, 2), 6), (Fraction(0), 2)]) == Fraction(7, 12)
    # 0.66 as a float sum would be 0.6599999…; exact fractions pass it.
    thirds = weighted_total([(Fraction(2, 3), 1), (Fraction(33, 50) * 2 - Fraction(2, 3), 1)])
    assert thirds == Fraction(66, 100) and verdict(thirds)


# -- the exam on the command line ---------------------------------------------------------
def test_start_sets_every_task_up_with_labelled_namespaces(run, env, fake):
    sheet = start(run, "--tasks", "3", "--seed", "5")
    assert [t["number"] for t in sheet["tasks"]] == [1, 2, 3]
    exam = env.state.load_exam()
    for task, attempt in zip(sheet["tasks"], exam.tasks):
        assert task["weight"] == find_exercise(task["exercise"]).weight
        assert attempt.params["namespace"] in task["task"] or task["namespace"] in task["task"]
        for ns in attempt.namespaces:
            labels = fake.get("Namespace", None, ns)["metadata"]["labels"]
            assert labels[ATTEMPT_LABEL] == attempt.id and labels[EXAM_LABEL] == exam.id
    assert sheet["deadline"] == (NOW + timedelta(minutes=sheet["minutes"])).isoformat()


def test_the_seed_replays_the_exam(run, env):
    first = start(run, "--tasks", "3", "--seed", "21")
    assert run("exam", "reset").exit_code == 0
    again = start(run, "--tasks", "3", "--seed", "21")
    assert [(t["exercise"], t["params"]) for t in first["tasks"]] == [
        (t["exercise"], t["params"]) for t in again["tasks"]
    ]


def test_hint_solution_and_check_are_refused_during_an_exam(run, env):
    start(run, "--tasks", "2", "--seed", "5")
    for command in ("hint", "solution", "check"):
        result = run(command)
        assert result.exit_code == ExitStatus.USAGE
        assert "not available during an exam" in result.stderr
    assert env.state.load_exam().tasks[0].hints_shown == 0


def test_a_practice_exam_allows_them_on_the_current_task(run, env):
    sheet = start(run, "--tasks", "2", "--seed", "5", "--practice")
    assert run("exam", "task", "2").exit_code == 0
    hint = run("hint", "--json")
    assert hint.exit_code == 0
    solution = json.loads(run("solution", "--json").stdout)
    assert sheet["tasks"][1]["namespace"] in solution["yaml"] + solution["kubectl"]
    exam = env.state.load_exam()
    assert (exam.tasks[1].hints_shown, exam.tasks[1].solution_shown) == (1, True)
    assert exam.tasks[0].hints_shown == 0
    assert run("check", "--wait", "0").exit_code in (0, 1)
    result = json.loads(run("exam", "submit", "--json").stdout)
    assert result["practice"] is True


def test_submit_grades_every_task_with_weights_and_verdict(run, env, fake, clock):
    sheet = start(run, "--tasks", "3", "--seed", "8")
    solve(env, fake, [1, 2])
    clock[0] += timedelta(minutes=5)
    submitted = run("exam", "submit", "--json")
    result = json.loads(submitted.stdout)
    scores = [t["score"] for t in result["tasks"]]
    assert scores[:2] == [100.0, 100.0] and scores[2] < 100
    weights = [t["weight"] for t in sheet["tasks"]]
    expected = sum(s * w for s, w in zip(scores, weights)) / sum(weights)
    assert result["score"] == pytest.approx(expected, abs=0.1)
    assert result["passed"] == (expected >= 66) and result["verdict"] == ("PASS" if result["passed"] else "FAIL")
    assert submitted.exit_code == (ExitStatus.OK if result["passed"] else ExitStatus.CHECKS_FAILED)
    assert result["time_used_s"] == 300.0
    failed = [c for c in result["tasks"][2]["checks"] if c["status"] != "pass"]
    assert failed and all(c["found"] or c["message"] for c in failed)
    covered = {t for task in result["tasks"] for t in task["topics"]}
    assert {t["topic"] for t in result["topics"]} == covered
    records, _ = History(env.state.history_path).read()
    assert [r.kind for r in records] == [EXAM_TASK] * 3 + [EXAM]
    assert records[-1].score == result["score"]


def test_all_solved_passes_with_exit_0_and_nothing_solved_fails_with_exit_1(run, env, fake):
    start(run, "--tasks", "2", "--seed", "9")
    solve(env, fake, [1, 2])
    passed = run("exam", "submit")
    assert passed.exit_code == ExitStatus.OK and "PASS" in passed.stdout
    assert run("exam", "reset").exit_code == 0
    start(run, "--tasks", "2", "--seed", "9", "--force")
    failed = run("exam", "submit")
    assert failed.exit_code == ExitStatus.CHECKS_FAILED and "FAIL" in failed.stdout


def test_the_deadline_submits_on_the_next_exam_command(run, env, clock):
    sheet = start(run, "--tasks", "2", "--seed", "4", "--minutes", "20")
    clock[0] += timedelta(minutes=19)
    status = json.loads(run("exam", "status", "--json").stdout)
    assert status["submitted"] is False and status["time_left_s"] == 60.0
    clock[0] += timedelta(minutes=45)  # the learner walked away
    late = run("exam", "status", "--json")
    assert "time is up" in late.stderr
    assert late.exit_code == ExitStatus.CHECKS_FAILED
    result = json.loads(late.stdout)
    assert result["auto_submitted"] is True and result["time_used_s"] == 20 * 60
    exam = env.state.load_exam()
    assert exam.submitted and exam.result["exam"] == sheet["exam"]
    again = run("exam", "submit", "--json")  # the result stays, it is not graded twice
    assert json.loads(again.stdout)["submitted_at"] == result["submitted_at"]


def test_status_task_flag_and_review(run, env, fake):
    sheet = start(run, "--tasks", "3", "--seed", "2")
    assert run("exam", "flag", "2").exit_code == 0
    status = json.loads(run("exam", "status", "--json").stdout)
    assert [t["flagged"] for t in status["tasks"]] == [False, True, False]
    assert {"number", "title", "weight"} <= set(status["tasks"][0])
    task = json.loads(run("exam", "task", "3", "--json").stdout)
    assert task["task"] == sheet["tasks"][2]["task"]
    assert run("exam", "task", "4").exit_code == ExitStatus.USAGE
    early = run("exam", "review")
    assert early.exit_code == ExitStatus.USAGE and "exam submit" in early.stderr
    run("exam", "submit")
    review = json.loads(run("exam", "review", "--json").stdout)
    first = review["tasks"][0]
    assert sheet["tasks"][0]["namespace"] in first["solution"]["kubectl"] + first["solution"]["yaml"]
    assert run("exam", "review").exit_code == 0


def test_reset_removes_every_namespace_of_the_exam(run, env, fake):
    start(run, "--tasks", "3", "--seed", "13")
    namespaces = env.state.load_exam().namespaces
    assert all(fake.get("Namespace", None, ns) for ns in namespaces)
    result = json.loads(run("reset", "--json").stdout)  # the plain reset works on an exam too
    assert sorted(result["deleted"]) == sorted(namespaces)
    assert all(fake.get("Namespace", None, ns) is None for ns in namespaces)
    assert env.state.load_exam() is None


def test_an_exam_and_a_single_exercise_exclude_each_other(run, env):
    assert run("start", "clusterip-create", "--seed", "1").exit_code == 0
    refused = run("exam", "start")
    assert refused.exit_code == ExitStatus.USAGE and "ckaprep reset" in refused.stderr
    assert run("reset").exit_code == 0
    start(run, "--tasks", "2", "--seed", "1")
    refused = run("start", "clusterip-create")
    assert refused.exit_code == ExitStatus.USAGE and "exam" in refused.stderr
    again = run("exam", "start")
    assert again.exit_code == ExitStatus.USAGE and "--force" in again.stderr


def test_setup_runs_tasks_concurrently_with_one_progress_line(fake, tmp_path):
    catalogue = {k: ex for k, ex in load_catalogue().items() if not ex.requires}  # the fake has one node
    draw = draw_exam(catalogue, seed=6, tasks=4)
    exam = plan_exam(draw, seed=6, now=NOW)
    lines, saved = [], []
    set_up_exam(
        exam,
        draw.exercises,
        fake,
        record=lambda e: saved.append(len(e.tasks)),
        progress=lines.append,
        clock=FakeTime(),
    )
    assert lines[-1].startswith("4/4 tasks ready")
    assert all("tasks ready · task" in line for line in lines)
    assert all(
        attempt.fingerprints or not any(m["kind"] == "Deployment" for m in ex.setup)
        for attempt, ex in zip(exam.tasks, draw.exercises)
    )


def test_a_failing_task_stops_the_exam_setup_and_can_be_reset(run, env, fake):
    fake.unpullable = {BUSYBOX_IMAGE}
    result = run("exam", "start", "--tasks", "3", "--seed", "3")
    assert result.exit_code == ExitStatus.IMAGE_PULL
    assert "exam reset" in result.stderr
    fake.unpullable = set()
    assert run("exam", "reset").exit_code == 0
    assert fake.list("Namespace", None) == []


def test_the_clock_starts_once_the_tasks_are_set_up(fake, tmp_path):
    from ckaprep.practice.exam import start_exam
    from ckaprep.practice.lifecycle import OwnCluster
    from ckaprep.practice.state import StateStore

    times = iter([NOW, NOW + timedelta(minutes=2)])  # setup took two minutes

    class SetUpInTwoMinutes(FakeTime):
        def now(self):
            return next(times)

    draw = draw_exam(load_catalogue(), seed=4, tasks=2, minutes=30)
    waiter = Waiter(clock=SetUpInTwoMinutes())
    exam = start_exam(OwnCluster(StateStore(tmp_path)), fake, draw, seed=4, waiter=waiter)
    assert exam.started_at == (NOW + timedelta(minutes=2)).isoformat()
    assert exam.deadline == (NOW + timedelta(minutes=32)).isoformat()
    assert StateStore(tmp_path).load_exam().deadline == exam.deadline


def test_exam_task_gives_the_weight_in_percent_and_the_time_left(run, env, clock):
    from datetime import timedelta

    assert run("exam", "start", "--tasks", "2", "--seed", "3", "--minutes", "30").exit_code == 0
    clock[0] += timedelta(minutes=4, seconds=30)
    shown = run("exam", "task", "1").stdout
    assert "Weight: " in shown and "%" in shown.split("Weight: ", 1)[1].split()[0]
    assert "Time left: 25m30s of 30 min" in shown
