"""Shared test helpers: running exercises against the fake cluster."""

from __future__ import annotations

from datetime import datetime, timezone

from ruamel.yaml import YAML

from ckaprep.catalogue import find_exercise
from ckaprep.cluster.fake import FakeCluster
from ckaprep.grading.engine import grade
from ckaprep.lifecycle import start_attempt

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def start_on(cluster, exercise_id: str, seed: int = 7):
    exercise = find_exercise(exercise_id)
    attempt = start_attempt(exercise, cluster, seed=seed, now=NOW, record=lambda a: None)
    return exercise, attempt


def solution_manifests(exercise, attempt) -> list[dict]:
    text = exercise.render(exercise.solution["yaml"], attempt.params)
    return [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc]


def apply_solution(fake: FakeCluster, exercise, attempt) -> None:
    for manifest in solution_manifests(exercise, attempt):
        fake.apply(manifest)


def grade_now(exercise, attempt, cluster, **kw):
    report, _ = grade(exercise, attempt, cluster, sleep=lambda s: None, **kw)
    return report


def statuses(report) -> dict[str, str]:
    return {c.id: c.status for c in report.checks}


def failed(report) -> set[str]:
    return {c.id for c in report.checks if c.status != "pass"}
