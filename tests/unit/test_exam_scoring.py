"""An exam task scores exactly what `check` gives for the same cluster state: one scoring rule."""

import copy

import pytest

from ckaprep.catalogue.loading import find_exercise
from ckaprep.practice.exam import Draw, grade_exam, plan_exam, set_up_exam
from ckaprep.views.render_exam import result_view
from tests.conftest import FakeTime
from tests.helpers import NOW, apply_solution, grade_now, options

# Exercises with constraints (checks that earn nothing and deduct when broken).
EXERCISES = ("readiness-probe", "clusterip-direct", "troubleshoot-broken")


@pytest.fixture
def exam(fake):
    exercises = [find_exercise(e) for e in EXERCISES]
    draw = Draw(exercises, [11, 12, 13], [ex.choose_params(s) for ex, s in zip(exercises, [11, 12, 13])], 30)
    planned = plan_exam(draw, seed=5, now=NOW, practice=True)
    set_up_exam(planned, exercises, fake, record=lambda e: None, clock=FakeTime())
    return planned, exercises


def _exam_and_check_scores(fake, exam):
    planned, exercises = exam
    result = grade_exam(planned, exercises, fake, now=NOW, options=options(wait_s=10))
    checked = [grade_now(ex, attempt, fake).score for ex, attempt in zip(exercises, planned.tasks)]
    return [task["score"] for task in result["tasks"]], checked, result


def test_a_fresh_exam_scores_0_percent_like_check(fake, exam):
    scores, checked, result = _exam_and_check_scores(fake, exam)
    assert scores == checked == [0.0, 0.0, 0.0]
    assert result["score"] == 0.0
    assert all(t["score"] == 0.0 for t in result["topics"])


def test_a_right_answer_scores_100_percent_like_check(fake, exam):
    planned, exercises = exam
    for exercise, attempt in zip(exercises, planned.tasks):
        apply_solution(fake, exercise, attempt)
    scores, checked, result = _exam_and_check_scores(fake, exam)
    assert scores == checked == [100.0, 100.0, 100.0]
    assert result["passed"]


def _break_service_port(fake, attempt):
    service = copy.deepcopy(fake.get("Service", attempt.namespace, attempt.params["service"]))
    service["spec"]["ports"][0]["port"] += 1
    fake.apply(service)


def test_a_broken_constraint_deducts_as_in_check(fake, exam):
    planned, exercises = exam
    apply_solution(fake, exercises[0], planned.tasks[0])  # the probe fixed...
    _break_service_port(fake, planned.tasks[0])  # ...but the Service's port changed
    scores, checked, _ = _exam_and_check_scores(fake, exam)
    assert scores == checked
    # pods-ready 3 + probe-fixed 2 + endpoints 2 earned, service-kept 2 deducted, of 3 + 2 + 2 + 2 earnable.
    assert scores[0] == round(100 * (3 + 2 + 2 - 2) / 9, 1)


def test_a_partial_answer_scores_as_in_check(fake, exam):
    planned, exercises = exam
    attempt = planned.tasks[0]
    apply_solution(fake, exercises[0], attempt)
    fake.delete("Service", attempt.namespace, attempt.params["service"])  # constraints broken too
    apply_solution(fake, exercises[1], planned.tasks[1])
    service = next(s for s in fake.list("Service", planned.tasks[1].namespace))
    fake.delete("Service", planned.tasks[1].namespace, service["metadata"]["name"])
    scores, checked, _ = _exam_and_check_scores(fake, exam)
    assert scores == checked
    assert 0 < scores[0] < 100


def _text(renderable, width=400) -> str:
    import io

    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def test_one_cause_of_every_failure_is_said_once(fake, exam):
    planned, exercises = exam
    attempt = planned.tasks[0]
    fake.delete("Service", attempt.namespace, attempt.params["service"])
    _, _, result = _exam_and_check_scores(fake, exam)
    text = " ".join(_text(result_view(result)).split())
    cause = f"no Service named '{attempt.params['service']}'"
    assert text.count(cause) == 1, text
    assert "via short" not in text
