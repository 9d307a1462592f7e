"""Every exercise against the simulated cluster: the reference solution passes, an empty answer fails."""

import pytest

from ckaprep.catalogue.loading import load_catalogue
from tests.helpers import apply_solution, failed, grade_now, start_on

EXERCISES = sorted(load_catalogue())


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_reference_solution_passes(fake, exercise_id):
    exercise, attempt = start_on(fake, exercise_id)
    apply_solution(fake, exercise, attempt)
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == set(), [c for c in report.checks if c.status != "pass"]
    assert report.score == 100.0


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_nothing_done_fails(fake, exercise_id):
    exercise, attempt = start_on(fake, exercise_id)
    report = grade_now(exercise, attempt, fake)
    assert not report.passed
    assert report.score < 100.0


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_seeds_vary_names_and_replay(exercise_id):
    exercise = load_catalogue()[exercise_id]
    assert exercise.choose_params(1) == exercise.choose_params(1)
    assert len({str(exercise.choose_params(seed)) for seed in range(6)}) > 1
