"""One cluster state, graded by `check`, `exam submit` and `classroom grade`, gets one score and
one record: the three go through the same grading step and the same record builder."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from ckaprep.attempts import Exam
from ckaprep.catalogue.loading import find_exercise, load_catalogue
from ckaprep.classroom.grades import grade_class
from ckaprep.classroom.seats import create_class, namespaces_needed
from ckaprep.practice.exam import submit_exam
from ckaprep.practice.history import CHECK, EXAM_TASK, History
from ckaprep.practice.state import StateStore
from tests.conftest import FakeTime
from tests.helpers import NOW, options, solution_manifests
from tests.unit.test_classroom import CLASS, run, seat_env

# What a task's record says of the answer, whichever command graded it.
SAME = ("score", "failed", "passed", "exercise", "attempt", "seed", "hints", "solution_shown")


def test_check_exam_submit_and_classroom_grade_give_one_score_and_record(fake, tmp_path):
    create_class(
        fake,
        CLASS,
        seats=1,
        namespaces=namespaces_needed(load_catalogue()),
        valid_s=3600,
        out_dir=tmp_path / "kubeconfigs",
    )
    learner = seat_env(tmp_path, fake, f"{CLASS}-01-a")
    started = run(learner, "start", "multi-port-named", "--seed", "3", "--json")
    assert started.exit_code == 0, started.output
    attempt = learner.state.load()
    exercise = find_exercise("multi-port-named")
    assert run(learner, "hint").exit_code == 0
    attempt = learner.state.load()
    # A half-right answer: the Service's metrics port on the wrong number.
    for manifest in solution_manifests(exercise, attempt, fake):
        if manifest["kind"] == "Service":
            manifest["spec"]["ports"][1]["port"] += 1
        fake.create(manifest)

    checked = run(learner, "check", "--json")
    assert checked.exit_code in (0, 1), checked.output
    check_record = [r for r in History(learner.state.history_path).read()[0] if r.kind == CHECK][-1]

    # The trainer's first round reads a snapshot of the class; a settling check is read again live.
    clock = FakeTime()
    graded = grade_class(
        fake,
        CLASS,
        {exercise.id: exercise},
        now=NOW,
        options=options(wait_s=10, clock=clock),
    )
    entry = graded["seats"][0]

    store = StateStore(tmp_path / "exam-state")
    task = dataclasses.replace(attempt, exam="e1")
    store.save_exam(
        Exam(
            id="e1",
            seed=1,
            started_at=NOW.isoformat(),
            deadline=(NOW + timedelta(hours=2)).isoformat(),
            minutes=120,
            practice=False,
            tasks=[task],
            weights=[exercise.weight],
        )
    )
    submit_exam(store, {exercise.id: exercise}, lambda context: fake, now=NOW, options=options())
    exam_record = [r for r in History(store.history_path).read()[0] if r.kind == EXAM_TASK][-1]

    assert 0 < check_record.score < 100
    assert json.loads(checked.stdout)["score"] == check_record.score
    assert {k: getattr(exam_record, k) for k in SAME} == {k: getattr(check_record, k) for k in SAME}
    assert {k: entry[k] for k in ("score", "failed", "passed", "hints", "solution_shown")} == {
        k: getattr(check_record, k) for k in ("score", "failed", "passed", "hints", "solution_shown")
    }
    assert check_record.hints == 1
